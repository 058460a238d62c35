// SPDX-License-Identifier: Apache-2.0
#pragma once

// The station UI's root controller: built by main.cpp (or a test) from the services, it owns
// the controllers each screen binds to and puts itself in a QML engine as `station` (with the
// language controller as `language` and the card faces as image://cardface).

#include "batch_controller.hpp"
#include "handover_controller.hpp"
#include "home_controller.hpp"
#include "queue_controller.hpp"
#include "reports_controller.hpp"
#include "session_controller.hpp"
#include "station_context.hpp"

#include <QObject>
#include <memory>

class QQmlEngine;

namespace unioncard::ui {
class LanguageController;
}

namespace unioncard::station::ui {

class StationApp : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool training READ training CONSTANT)
    Q_PROPERTY(QString stationId READ stationId CONSTANT)
    Q_PROPERTY(SessionController* session READ session CONSTANT)
    Q_PROPERTY(HomeController* home READ home CONSTANT)
    Q_PROPERTY(QueueController* queue READ queue CONSTANT)
    Q_PROPERTY(BatchController* batch READ batch CONSTANT)
    Q_PROPERTY(HandoverController* handover READ handover CONSTANT)
    Q_PROPERTY(ReportsController* reports READ reports CONSTANT)
    /// The simulated desk's buttons in training on simulated hardware; null otherwise.
    Q_PROPERTY(QObject* trainer READ trainer CONSTANT)

public:
    /// Opens the UI's connection to the station's file; nullptr with the reason if it fails.
    static std::unique_ptr<StationApp> create(StationServices services, QString* error);
    ~StationApp() override;

    bool training() const { return m_context->services.training; }
    QString stationId() const { return qs(m_context->services.stationId); }
    SessionController* session() const { return m_session; }
    HomeController* home() const { return m_home; }
    QueueController* queue() const { return m_queue; }
    BatchController* batch() const { return m_batch; }
    HandoverController* handover() const { return m_handover; }
    ReportsController* reports() const { return m_reports; }
    StationContext& context() { return *m_context; }
    QObject* trainer() const { return m_trainer; }
    /// Before install(): the training desk's buttons (main.cpp, --simulated).
    void setTrainer(QObject* trainer) { m_trainer = trainer; }

    /// `station`, `language` and image://cardface in the engine's root context.
    void install(QQmlEngine& engine, unioncard::ui::LanguageController* language);

private:
    explicit StationApp(std::unique_ptr<StationContext> context);
    std::optional<printer::CardFields> fieldsOf(const QString& id);

    std::unique_ptr<StationContext> m_context;
    SessionController* m_session;
    HomeController* m_home;
    QueueController* m_queue;
    BatchController* m_batch;
    HandoverController* m_handover;
    ReportsController* m_reports;
    QObject* m_trainer = nullptr;
};

} // namespace unioncard::station::ui
