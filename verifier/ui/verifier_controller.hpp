// SPDX-License-Identifier: Apache-2.0
#pragma once

// The verifier desk's state for the QML screens: the verdict of the last card (tapped or
// typed), the event and its live count, online or offline and the age of the status list. The
// verdicts come from unioncard::verifier (verifyChip, verifyNumber, admit); the reader is
// watched and cards are read on a worker thread, results come back to the UI thread queued.

#include "tap_source.hpp"

#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/desfire/profile.hpp>
#include <unioncard/verifier/desk.hpp>
#include <unioncard/verifier/verify.hpp>

#include <QDate>
#include <QDateTime>
#include <QObject>
#include <QTimer>
#include <QVariantList>
#include <QVariantMap>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace unioncard::verifier::ui {

/// What the controller is built from (main.cpp or a test).
struct VerifierDeps {
    VerifierStore* store = nullptr; ///< outlives the controller; used on the UI thread only
    card::Bytes rootFingerprint;
    card::desfire::Profile profile;
    /// The record-read master keys: a key file's, or a token's (the master stays on it).
    std::unique_ptr<card::desfire::CardKeySource> readKeys;
    std::unique_ptr<TapSource> taps;
    OnlineLookup online; ///< empty: offline-only desk; called on worker threads
    std::function<card::Seconds()> clock;
    bool training = false;
    std::string desk;
    /// One sync with the registry (check-ins out; lists and other desks' check-ins in), run on
    /// a worker thread over a connection of its own; empty for a desk with no registry.
    std::function<SyncReport()> sync;
    std::chrono::seconds syncEvery{std::chrono::minutes(2)};
};

class VerifierController : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString mode READ mode NOTIFY modeChanged)
    Q_PROPERTY(QString desk READ desk CONSTANT)
    Q_PROPERTY(bool training READ training CONSTANT)
    // The connection and the lists.
    Q_PROPERTY(bool online READ online NOTIFY statusChanged)
    Q_PROPERTY(bool hasStatusList READ hasStatusList NOTIFY statusChanged)
    Q_PROPERTY(qint64 statusListAgeSeconds READ statusListAgeSeconds NOTIFY statusChanged)
    Q_PROPERTY(bool statusListStale READ statusListStale NOTIFY statusChanged)
    Q_PROPERTY(QString readerProblem READ readerProblem NOTIFY statusChanged)
    // The verdict on screen: "idle", "checking", "valid", "invalid" or "unknown" (amber).
    Q_PROPERTY(QString verdictClass READ verdictClass NOTIFY verdictChanged)
    Q_PROPERTY(QString verdictCode READ verdictCode NOTIFY verdictChanged)
    Q_PROPERTY(QString verdictSource READ verdictSource NOTIFY verdictChanged)
    Q_PROPERTY(bool verdictOnline READ verdictOnline NOTIFY verdictChanged)
    Q_PROPERTY(bool chipNotChecked READ chipNotChecked NOTIFY verdictChanged)
    Q_PROPERTY(QString maskedNumber READ maskedNumber NOTIFY verdictChanged)
    Q_PROPERTY(QString formattedNumber READ formattedNumber NOTIFY verdictChanged)
    Q_PROPERTY(QDate expires READ expires NOTIFY verdictChanged)
    Q_PROPERTY(int tapCount READ tapCount NOTIFY verdictChanged)
    // Event mode: the check-in of the card on screen.
    Q_PROPERTY(bool checkedIn READ checkedIn NOTIFY verdictChanged)
    Q_PROPERTY(bool duplicate READ duplicate NOTIFY verdictChanged)
    Q_PROPERTY(QString memberName READ memberName NOTIFY verdictChanged)
    Q_PROPERTY(QDateTime earlierAt READ earlierAt NOTIFY verdictChanged)
    Q_PROPERTY(QString earlierDesk READ earlierDesk NOTIFY verdictChanged)
    Q_PROPERTY(QString problem READ problem NOTIFY verdictChanged)
    // Events.
    Q_PROPERTY(QVariantList events READ events NOTIFY eventsChanged)
    Q_PROPERTY(QString eventId READ eventId NOTIFY eventsChanged)
    Q_PROPERTY(QString eventName READ eventName NOTIFY eventsChanged)
    Q_PROPERTY(int liveCount READ liveCount NOTIFY eventsChanged)
    Q_PROPERTY(int duplicateCount READ duplicateCount NOTIFY eventsChanged)

public:
    explicit VerifierController(VerifierDeps deps, QObject* parent = nullptr);
    ~VerifierController() override;

    QString mode() const;
    QString desk() const { return QString::fromStdString(m_deps.desk); }
    bool training() const { return m_deps.training; }
    bool online() const { return m_online; }
    bool hasStatusList() const;
    qint64 statusListAgeSeconds() const;
    bool statusListStale() const;
    QString readerProblem() const { return m_readerProblem; }
    QString verdictClass() const { return m_class; }
    QString verdictCode() const;
    QString verdictSource() const;
    bool verdictOnline() const;
    bool chipNotChecked() const;
    QString maskedNumber() const;
    QString formattedNumber() const;
    QDate expires() const;
    int tapCount() const { return m_tapCount; }
    bool checkedIn() const { return m_checkedIn; }
    bool duplicate() const { return m_duplicate; }
    QString memberName() const { return m_memberName; }
    QDateTime earlierAt() const { return m_earlierAt; }
    QString earlierDesk() const { return m_earlierDesk; }
    QString problem() const { return m_problem; }
    QVariantList events() const;
    QString eventId() const { return m_eventId; }
    QString eventName() const;
    int liveCount() const { return m_liveCount; }
    int duplicateCount() const { return m_duplicateCount; }

    /// Starts watching the reader (on the worker thread).
    Q_INVOKABLE void start();
    /// "event" or "merchant"; kept in the desk's settings.
    Q_INVOKABLE void setMode(const QString& mode);
    Q_INVOKABLE bool selectEvent(const QString& id);
    /// Back to "tap the card".
    Q_INVOKABLE void clearVerdict();

    /// Manual entry. The digits typed so far, grouped in fours ("9643 2300 01").
    Q_INVOKABLE QString formatTyped(const QString& digits) const;
    /// What is wrong with the digits typed, before anyone is asked: "" (a valid number),
    /// "incomplete", "check_digit", "prefix", "region" or "too_long".
    Q_INVOKABLE QString checkTyped(const QString& digits) const;
    /// Checks a typed number (on a worker thread); false, and nothing asked, when checkTyped
    /// finds it wrong.
    Q_INVOKABLE bool checkNumber(const QString& digits);

    /// The verdict of a card, as the worker hands it over (tests may call it directly).
    void showVerdict(const Verdict& verdict);

signals:
    void modeChanged();
    void statusChanged();
    void verdictChanged();
    void eventsChanged();
    /// A new verdict is on screen: "valid", "invalid" or "unknown" (for the sound).
    void verdictShown(const QString& verdictClass);

private:
    std::shared_ptr<const Lists> lists() const;
    Context context(const Lists& lists) const;
    void reloadLists();
    void refreshCount();
    void onTap(Tap& tap);

    VerifierDeps m_deps;
    Mode m_mode = Mode::Event;
    mutable std::mutex m_listsMutex;
    std::shared_ptr<const Lists> m_lists;
    std::chrono::seconds m_maxStatusAge{std::chrono::hours(72)};
    card::Seconds m_now{};
    QTimer m_clockTimer;
    QTimer m_idleTimer;
    bool m_online = false;
    QString m_readerProblem;
    QString m_class = QStringLiteral("idle");
    std::optional<Verdict> m_verdict;
    int m_tapCount = 0;
    bool m_checkedIn = false;
    bool m_duplicate = false;
    QString m_memberName;
    QDateTime m_earlierAt;
    QString m_earlierDesk;
    QString m_problem;
    QString m_eventId;
    std::vector<EventInfo> m_events;
    int m_liveCount = 0;
    int m_duplicateCount = 0;
    std::jthread m_watch;
    std::jthread m_lookup;
    QTimer m_syncTimer;
    std::jthread m_sync;
    bool m_syncing = false;
    void startSync();
};

} // namespace unioncard::verifier::ui
