// SPDX-License-Identifier: Apache-2.0
// The station kiosk end to end on real devices: the REAL services (realStation: the station's
// file, its keys, the printer simulator as the Evolis printer on the card lab's "Printer
// encoder", the lab's "Station desk" through pcscd, the registry over TLS) under the real
// StationApp. station_ui_e2e_test.sh sets the rig up and runs this with
//   UNIONCARD_STATION_DB            the station's file (init + sync done)
//   UNIONCARD_E2E_OPERATOR_ID/_PIN  who signs in
//   UNIONCARD_E2E_LAB, _LAB_DIR     unioncard-lab and the lab's folder
//   UNIONCARD_E2E_PRINTER_OUT       the printer simulator's --out folder (chips/<UID>.desfire)
// and the station's passphrases as for unioncard-station. QML reaches the station as
// `station` and the rig as `harness`.

#include "real_station.hpp"
#include "station_app.hpp"

#include <unioncard/ui/language_controller.hpp>
#include <unioncard/ui/page_host.hpp>

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QQmlContext>
#include <QQmlEngine>
#include <QtQml/qqmlextensionplugin.h>
#include <QtQuickTest/quicktest.h>
#include <memory>

Q_IMPORT_QML_PLUGIN(UnionCard_UiPlugin)
Q_IMPORT_QML_PLUGIN(UnionCard_StationPlugin)

namespace {

using namespace unioncard::station;
using namespace unioncard::station::ui;

QString need(const char* name) {
    const QString value = qEnvironmentVariable(name);
    if (value.isEmpty()) {
        qFatal("harness: set %s (station_ui_e2e_test.sh does)", name);
    }
    return value;
}

// The rig around the real station, for the QML case.
class Harness : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString operatorId READ operatorId CONSTANT)
    Q_PROPERTY(QString operatorPin READ operatorPin CONSTANT)

public:
    Harness()
        : m_db(need("UNIONCARD_STATION_DB")), m_operatorId(need("UNIONCARD_E2E_OPERATOR_ID")),
          m_operatorPin(need("UNIONCARD_E2E_OPERATOR_PIN")), m_lab(need("UNIONCARD_E2E_LAB")),
          m_labDir(need("UNIONCARD_E2E_LAB_DIR")), m_out(need("UNIONCARD_E2E_PRINTER_OUT")) {}
    QString operatorId() const { return m_operatorId; }
    QString operatorPin() const { return m_operatorPin; }

    /// The numbers of the cards the station's file says were produced, oldest first.
    Q_INVOKABLE QStringList producedNumbers() const {
        QStringList out;
        auto store = StationStore::open(m_db.toStdString());
        if (!store) {
            qWarning("harness: %s", store.error().message.c_str());
            return out;
        }
        auto cards = store->cards(CardState::Produced);
        if (!cards) {
            qWarning("harness: %s", cards.error().message.c_str());
            return out;
        }
        for (const auto& c : cards.value()) {
            out << QString::fromStdString(c.cardNumber);
        }
        return out;
    }

    /// Puts the chip of produced card `number` on the desk reader: the image the printer
    /// simulator kept of it (OUT/chips/<UID>.desfire), inserted with unioncard-lab.
    Q_INVOKABLE bool putProducedCardOnDesk(const QString& number) {
        auto store = StationStore::open(m_db.toStdString());
        if (!store) {
            qWarning("harness: %s", store.error().message.c_str());
            return false;
        }
        auto card = store->cardByNumber(number.toStdString());
        if (!card || !card.value() || card.value()->chipUid.empty()) {
            qWarning("harness: no produced card %s with a chip", qPrintable(number));
            return false;
        }
        const QString uid = QString::fromStdString(card.value()->chipUid).toUpper();
        const QString image = QDir(m_out).filePath(QStringLiteral("chips/%1.desfire").arg(uid));
        if (!QFileInfo::exists(image)) {
            qWarning("harness: the printer simulator kept no chip %s", qPrintable(image));
            return false;
        }
        return lab({QStringLiteral("insert"), QStringLiteral("Station desk"), image});
    }

    Q_INVOKABLE bool removeDeskCard() {
        return lab({QStringLiteral("remove"), QStringLiteral("Station desk")});
    }

private:
    bool lab(QStringList args) const {
        args << QStringLiteral("--dir") << m_labDir;
        QProcess p;
        p.start(m_lab, args);
        if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit ||
            p.exitCode() != 0) {
            qWarning("harness: unioncard-lab %s failed: %s", qPrintable(args.join(' ')),
                     p.readAllStandardError().constData());
            return false;
        }
        return true;
    }

    QString m_db, m_operatorId, m_operatorPin, m_lab, m_labDir, m_out;
};

class Setup : public QObject {
    Q_OBJECT
public slots:
    void qmlEngineAvailable(QQmlEngine* engine) {
        unioncard::ui::prepareEngine(*engine);
        m_harness = std::make_unique<Harness>();
        auto services = realStation(need("UNIONCARD_STATION_DB").toStdString(), "Station desk",
                                    /*training=*/false);
        if (!services) {
            qFatal("harness: the real station: %s", services.error().c_str());
        }
        QString error;
        m_app = StationApp::create(std::move(services).value(), &error);
        if (!m_app) {
            qFatal("harness: %s", qPrintable(error));
        }
        m_app->home()->setRefreshSeconds(0);
        m_language = std::make_unique<unioncard::ui::LanguageController>(
            engine, QStringList{QStringLiteral("ui"), QStringLiteral("station")});
        m_app->install(*engine, m_language.get());
        engine->rootContext()->setContextProperty("harness", m_harness.get());
    }
    void cleanupTestCase() {
        if (m_harness) {
            m_harness->removeDeskCard();
        }
    }

private:
    std::unique_ptr<Harness> m_harness;
    std::unique_ptr<StationApp> m_app;
    std::unique_ptr<unioncard::ui::LanguageController> m_language;
};

} // namespace

QUICK_TEST_MAIN_WITH_SETUP(station_ui_e2e, Setup)

#include "tst_station_ui_e2e.moc"
