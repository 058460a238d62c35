// SPDX-License-Identifier: Apache-2.0
#pragma once

// The batch run: the chosen applications go through the printer on a thread of their own
// (Issuer over the batch's own connection to the station's file and to the printer). The
// screen shows the progress, the time left, the current card's face and step (read from the
// station's file, where each step is written before it starts), the spoiled cards with their
// reasons, and a printer fault with what to do; the batch resumes by itself once the fault is
// cleared. Pause takes effect between cards; cancel stops before the next card.

#include "station_context.hpp"

#include <QObject>
#include <QTimer>
#include <QVariantList>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace unioncard::station::ui {

class BatchController : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool running READ running NOTIFY changed)
    Q_PROPERTY(bool paused READ paused NOTIFY changed)
    Q_PROPERTY(bool finished READ finished NOTIFY changed)
    Q_PROPERTY(bool cancelled READ cancelled NOTIFY changed)
    Q_PROPERTY(int total READ total NOTIFY changed)
    Q_PROPERTY(int done READ done NOTIFY changed)
    Q_PROPERTY(int spoiled READ spoiled NOTIFY changed)
    Q_PROPERTY(int left READ left NOTIFY changed)
    /// From the measured rate; -1 until the first card is out.
    Q_PROPERTY(int secondsLeft READ secondsLeft NOTIFY changed)
    /// 0..1
    Q_PROPERTY(double fraction READ fraction NOTIFY changed)
    /// The printer fault the batch waits on ("feeder_empty", "cover_open", ...) or "".
    Q_PROPERTY(QString fault READ fault NOTIFY changed)
    /// The library's words for the operator's action (English), beside the translated one.
    Q_PROPERTY(QString faultDetail READ faultDetail NOTIFY changed)
    /// The card in the printer: its number (grouped by four), its holder and its step
    /// ("feeding", "encoding", "verifying", "printing"); "" between cards.
    Q_PROPERTY(QString currentNumber READ currentNumber NOTIFY stepChanged)
    Q_PROPERTY(QString currentName READ currentName NOTIFY stepChanged)
    Q_PROPERTY(QString currentStep READ currentStep NOTIFY stepChanged)
    Q_PROPERTY(QString currentFace READ currentFace NOTIFY stepChanged)
    /// [{number, reason, fate}] of the cards spoiled in this batch.
    Q_PROPERTY(QVariantList spoiledCards READ spoiledCards NOTIFY changed)
    /// Why the batch could not start or stopped early ("", "no_printer", "keys", "store", ...).
    Q_PROPERTY(QString error READ error NOTIFY changed)
    Q_PROPERTY(QString errorDetail READ errorDetail NOTIFY changed)

public:
    explicit BatchController(StationContext& context, QObject* parent = nullptr);
    ~BatchController() override;

    bool running() const { return m_running; }
    bool paused() const { return m_paused; }
    bool finished() const { return m_finished; }
    bool cancelled() const { return m_cancelled; }
    int total() const { return m_total; }
    int done() const { return m_done; }
    int spoiled() const { return m_spoiled; }
    int left() const { return m_left; }
    int secondsLeft() const { return m_secondsLeft; }
    double fraction() const;
    QString fault() const { return m_fault; }
    QString faultDetail() const { return m_faultDetail; }
    QString currentNumber() const { return m_currentNumber; }
    QString currentName() const { return m_currentName; }
    QString currentStep() const { return m_currentStep; }
    QString currentFace() const;
    QVariantList spoiledCards() const { return m_spoiledCards; }
    QString error() const { return m_error; }
    QString errorDetail() const { return m_errorDetail; }

    /// Starts a batch of these applications; false if one runs or nobody may issue.
    Q_INVOKABLE bool start(const QStringList& applicationIds);
    Q_INVOKABLE void pause();
    Q_INVOKABLE void resume();
    Q_INVOKABLE void cancel();
    /// Back to "no batch" after a finished one.
    Q_INVOKABLE void clear();

signals:
    void changed();
    void stepChanged();
    void batchFinished();

private:
    struct Update {
        Progress progress;
        bool end = false;
        BatchReport report;
        QString error, errorDetail;
    };
    void apply(const Update& update);
    void lookAtPrinter();
    void waitWhilePaused(std::stop_token stop);

    StationContext& m_context;
    bool m_running = false, m_paused = false, m_finished = false, m_cancelled = false;
    int m_total = 0, m_done = 0, m_spoiled = 0, m_left = 0, m_secondsLeft = -1;
    QString m_fault, m_faultDetail, m_currentNumber, m_currentName, m_currentStep;
    QString m_error, m_errorDetail;
    QVariantList m_spoiledCards;
    card::Seconds m_startedAt{};
    QTimer m_stepTimer;

    std::mutex m_pauseMutex;
    std::condition_variable_any m_pauseWake;
    bool m_pauseRequested = false;
    std::jthread m_thread; // last: joined before the members it uses go
};

} // namespace unioncard::station::ui
