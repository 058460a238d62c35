// SPDX-License-Identifier: Apache-2.0
#pragma once

// The home screen: the queue, the printer (its state, the fault with the action to take, the
// ribbon), the blank cards in stock, today's counts and whether the registry has every status
// ("all statuses delivered" or "12 waiting, registry unreachable since 10:41"). The printer is
// asked and the outbox delivered on a worker; the station's file is read on the UI thread.

#include "station_context.hpp"
#include "worker.hpp"

#include <QDateTime>
#include <QObject>
#include <QTimer>

namespace unioncard::station::ui {

/// Today's counts and those waiting for their member (the reports screen uses them too).
struct DayCounts {
    int produced = 0;
    int handedOver = 0;
    int spoiled = 0;
    int refused = 0;
    int waitingForHandover = 0;
};
DayCounts countDay(const std::vector<CardRow>& cards, card::Seconds now);

class HomeController : public QObject {
    Q_OBJECT
    Q_PROPERTY(int queued READ queued NOTIFY changed)
    Q_PROPERTY(int held READ held NOTIFY changed)
    Q_PROPERTY(int producedToday READ producedToday NOTIFY changed)
    Q_PROPERTY(int handedOverToday READ handedOverToday NOTIFY changed)
    Q_PROPERTY(int spoiledToday READ spoiledToday NOTIFY changed)
    Q_PROPERTY(int waitingForHandover READ waitingForHandover NOTIFY changed)
    /// Blank cards the station counts in stock (the feeder and the cupboard).
    Q_PROPERTY(int blankCards READ blankCards NOTIFY changed)
    /// "unknown" until asked, then "ready", "busy", "fault", "offline".
    Q_PROPERTY(QString printerState READ printerState NOTIFY changed)
    /// The fault's stable name ("feeder_empty", "cover_open", ...) or "".
    Q_PROPERTY(QString printerFault READ printerFault NOTIFY changed)
    Q_PROPERTY(bool ribbonLow READ ribbonLow NOTIFY changed)
    /// Cards the mounted ribbon can still print; -1 if the printer does not say.
    Q_PROPERTY(int ribbonLeft READ ribbonLeft NOTIFY changed)
    Q_PROPERTY(QString printerModel READ printerModel NOTIFY changed)
    /// Statuses not yet in the registry.
    Q_PROPERTY(int registryWaiting READ registryWaiting NOTIFY changed)
    /// True when the last attempt to reach the registry failed (and nothing succeeded since).
    Q_PROPERTY(bool registryUnreachable READ registryUnreachable NOTIFY changed)
    /// Since when statuses wait (the oldest), for "unreachable since 10:41".
    Q_PROPERTY(QDateTime registryWaitingSince READ registryWaitingSince NOTIFY changed)
    Q_PROPERTY(bool registryConfigured READ registryConfigured CONSTANT)
    Q_PROPERTY(QString registryError READ registryError NOTIFY changed)
    /// Seconds between refreshes while the screen is shown; 0 stops them (tests).
    Q_PROPERTY(int refreshSeconds READ refreshSeconds WRITE setRefreshSeconds NOTIFY changed)

public:
    explicit HomeController(StationContext& context, QObject* parent = nullptr);

    int queued() const { return m_queued; }
    int held() const { return m_held; }
    int producedToday() const { return m_day.produced; }
    int handedOverToday() const { return m_day.handedOver; }
    int spoiledToday() const { return m_day.spoiled; }
    int waitingForHandover() const { return m_day.waitingForHandover; }
    int blankCards() const { return m_blankCards; }
    QString printerState() const { return m_printerState; }
    QString printerFault() const { return m_printerFault; }
    bool ribbonLow() const { return m_ribbonLow; }
    int ribbonLeft() const { return m_ribbonLeft; }
    QString printerModel() const { return m_printerModel; }
    int registryWaiting() const { return m_waiting; }
    bool registryUnreachable() const { return m_unreachable; }
    QDateTime registryWaitingSince() const { return m_waitingSince; }
    bool registryConfigured() const { return static_cast<bool>(m_context.services.openRegistry); }
    QString registryError() const { return m_registryError; }
    int refreshSeconds() const { return m_refreshSeconds; }
    void setRefreshSeconds(int seconds);

    /// Reads the station's file now; asks the printer and delivers waiting statuses on the
    /// worker (refreshed() when both answered).
    Q_INVOKABLE void refresh();

signals:
    void changed();
    void refreshed();

private:
    struct DeviceReport {
        QString printerState, printerFault, printerModel;
        bool ribbonLow = false;
        int ribbonLeft = -1;
        bool delivered = false; ///< a delivery was attempted
    };
    void readStore();
    void devicesAnswered(const DeviceReport& report);

    StationContext& m_context;
    int m_queued = 0, m_held = 0, m_blankCards = 0;
    DayCounts m_day;
    QString m_printerState = QStringLiteral("unknown");
    QString m_printerFault, m_printerModel, m_registryError;
    bool m_ribbonLow = false;
    int m_ribbonLeft = -1;
    int m_waiting = 0;
    bool m_unreachable = false;
    QDateTime m_waitingSince;
    int m_refreshSeconds = 10;
    bool m_again = false;
    QTimer m_timer;
    Worker m_worker;
};

} // namespace unioncard::station::ui
