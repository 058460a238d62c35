// SPDX-License-Identifier: Apache-2.0
// The station kiosk's Qt Quick tests: each page against the real controllers on a whole station
// simulated in process (SimulatedStation: keys in memory, the Evolis printer simulator on
// loopback with virtual DESFire chips at its encoder, a desk reader the test puts cards on).
// Every test file gets an engine of its own and so a fresh station; QML reaches the station as
// `station`, the language as `language` and the simulated hardware as `harness`.

#include "sim_station.hpp"
#include "station_app.hpp"

#include <unioncard/ui/language_controller.hpp>
#include <unioncard/ui/page_host.hpp>

#include <QQmlContext>
#include <QQmlEngine>
#include <QTemporaryDir>
#include <QtQml/qqmlextensionplugin.h>
#include <QtQuickTest/quicktest.h>
#include <memory>

Q_IMPORT_QML_PLUGIN(UnionCard_UiPlugin)
Q_IMPORT_QML_PLUGIN(UnionCard_StationPlugin)

namespace {

using namespace unioncard::station::ui;

// The simulated hardware, for the QML cases.
class Harness : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString operatorId READ operatorId CONSTANT)
    Q_PROPERTY(QString operatorPin READ operatorPin CONSTANT)
    Q_PROPERTY(QString supervisorId READ supervisorId CONSTANT)
    Q_PROPERTY(QString supervisorPin READ supervisorPin CONSTANT)
    Q_PROPERTY(QString auditorId READ auditorId CONSTANT)
    Q_PROPERTY(QString auditorPin READ auditorPin CONSTANT)
    Q_PROPERTY(QString secondSupervisorId READ secondSupervisorId CONSTANT)
    Q_PROPERTY(QString secondSupervisorPin READ secondSupervisorPin CONSTANT)
    Q_PROPERTY(QString staffCardUid READ staffCardUid CONSTANT)

public:
    explicit Harness(SimulatedStation& sim) : m_sim(sim) {}
    QString operatorId() const { return SimulatedOperators::operatorId; }
    QString operatorPin() const { return SimulatedOperators::operatorPin; }
    QString supervisorId() const { return SimulatedOperators::supervisorId; }
    QString supervisorPin() const { return SimulatedOperators::supervisorPin; }
    QString auditorId() const { return SimulatedOperators::auditorId; }
    QString auditorPin() const { return SimulatedOperators::auditorPin; }
    QString secondSupervisorId() const { return SimulatedOperators::secondSupervisorId; }
    QString secondSupervisorPin() const { return SimulatedOperators::secondSupervisorPin; }
    QString staffCardUid() const { return SimulatedOperators::supervisorCardUid; }

    Q_INVOKABLE bool tapProducedCard(const QString& number) {
        return m_sim.tapProducedCard(number.toStdString());
    }
    Q_INVOKABLE void tapStaffCard(const QString& uid) { m_sim.tapStaffCard(uid.toStdString()); }
    Q_INVOKABLE void tapForeignCard() { m_sim.tapForeignCard(); }
    Q_INVOKABLE void removeCard() { m_sim.removeCard(); }
    Q_INVOKABLE QStringList producedNumbers() const {
        QStringList out;
        for (const auto& n : m_sim.producedNumbers()) {
            out << QString::fromStdString(n);
        }
        return out;
    }
    Q_INVOKABLE void openCover() { m_sim.printer()->openCover(); }
    Q_INVOKABLE void closeCover() { m_sim.printer()->closeCover(); }

private:
    SimulatedStation& m_sim;
};

// One station per engine (per test file).
struct Rig {
    QTemporaryDir folder;
    std::unique_ptr<SimulatedStation> sim;
    std::unique_ptr<StationApp> app;
    std::unique_ptr<unioncard::ui::LanguageController> language;
    std::unique_ptr<Harness> harness;
};

class Setup : public QObject {
    Q_OBJECT
public slots:
    void qmlEngineAvailable(QQmlEngine* engine) {
        unioncard::ui::prepareEngine(*engine);
        auto rig = std::make_unique<Rig>();
        std::string why;
        rig->sim = SimulatedStation::create(rig->folder.path().toStdString(), {}, &why);
        if (!rig->sim) {
            qFatal("harness: the simulated station: %s", why.c_str());
        }
        QString error;
        rig->app = StationApp::create(rig->sim->services(), &error);
        if (!rig->app) {
            qFatal("harness: %s", qPrintable(error));
        }
        rig->app->home()->setRefreshSeconds(0); // the tests refresh when they mean to
        rig->language = std::make_unique<unioncard::ui::LanguageController>(
            engine, QStringList{QStringLiteral("ui"), QStringLiteral("station")});
        rig->harness = std::make_unique<Harness>(*rig->sim);
        rig->app->install(*engine, rig->language.get());
        engine->rootContext()->setContextProperty("harness", rig->harness.get());
        // The engine goes before the next file's: keep the rig until then.
        QObject::connect(engine, &QObject::destroyed, this, [this, r = rig.get()] {
            std::erase_if(m_rigs, [r](const auto& p) { return p.get() == r; });
        });
        m_rigs.push_back(std::move(rig));
    }
    void cleanupTestCase() { m_rigs.clear(); }

private:
    std::vector<std::unique_ptr<Rig>> m_rigs;
};

} // namespace

QUICK_TEST_MAIN_WITH_SETUP(station_ui, Setup)

#include "tst_station_ui.moc"
