// SPDX-License-Identifier: Apache-2.0
// The verifier kiosk's Qt Quick tests: each page against a controller on simulated hardware
// (a training desk: virtual DESFire cards personalised with cardlib, a store of its own).
// The QML cases get a `Harness` singleton that makes desks and taps their cards.

#include "training_desk.hpp"

#include <unioncard/ui/language_controller.hpp>
#include <unioncard/ui/page_host.hpp>

#include <QQmlEngine>
#include <QtQml/qqmlextensionplugin.h>
#include <QtQuickTest/quicktest.h>
#include <memory>
#include <vector>

Q_IMPORT_QML_PLUGIN(UnionCard_UiPlugin)
Q_IMPORT_QML_PLUGIN(UnionCard_VerifierPlugin)

namespace {

using namespace unioncard;
using namespace unioncard::verifier;
using namespace unioncard::verifier::ui;

class Harness : public QObject {
    Q_OBJECT
    Q_PROPERTY(QObject* language READ language CONSTANT)
    Q_PROPERTY(QObject* trainer READ trainer NOTIFY deskChanged)

public:
    explicit Harness(QQmlEngine* engine)
        : m_language(engine, {QStringLiteral("ui"), QStringLiteral("verifier")}) {}
    QObject* language() { return &m_language; }
    QObject* trainer() { return m_desks.empty() ? nullptr : m_desks.back()->trainer.get(); }

    /// A fresh desk ("event" or "merchant") at a fixed moment; returns its controller.
    Q_INVOKABLE QObject* newDesk(const QString& mode) {
        using namespace std::chrono;
        QString error;
        auto desk = TrainingDesk::create(
            parseMode(mode.toStdString()).value_or(Mode::Event),
            [] { return card::Seconds{sys_days{year{2026} / March / 2}} + hours(8); }, &error);
        if (!desk) {
            qWarning("harness: %s", qPrintable(error));
            return nullptr;
        }
        // The desk owns it: QML must not collect what an invokable hands it.
        QQmlEngine::setObjectOwnership(desk->controller.get(), QQmlEngine::CppOwnership);
        QQmlEngine::setObjectOwnership(desk->trainer.get(), QQmlEngine::CppOwnership);
        m_desks.push_back(std::move(desk));
        emit deskChanged();
        return m_desks.back()->controller.get();
    }
    /// Taps a training card on the newest desk's simulated reader.
    Q_INVOKABLE bool tap(const QString& card) {
        return !m_desks.empty() && m_desks.back()->trainer->present(card);
    }

signals:
    void deskChanged();

private:
    unioncard::ui::LanguageController m_language;
    std::vector<std::unique_ptr<TrainingDesk>> m_desks;
};

class Setup : public QObject {
    Q_OBJECT
public slots:
    void qmlEngineAvailable(QQmlEngine* engine) {
        unioncard::ui::prepareEngine(*engine);
        m_harness = std::make_unique<Harness>(engine);
        qmlRegisterSingletonInstance("UnionCardTest", 1, 0, "Harness", m_harness.get());
    }
    void cleanupTestCase() { m_harness.reset(); }

private:
    std::unique_ptr<Harness> m_harness;
};

} // namespace

QUICK_TEST_MAIN_WITH_SETUP(verifier_ui, Setup)

#include "tst_verifier_ui.moc"
