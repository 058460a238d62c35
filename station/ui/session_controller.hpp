// SPDX-License-Identifier: Apache-2.0
#pragma once

// Signing in and out: an operator's id and PIN (StationStore::signIn) or the staff card tapped
// on the desk reader with its owner's PIN (signInByCard). The role decides what the screens offer.

#include "station_context.hpp"
#include "worker.hpp"

#include <QObject>
#include <QString>

namespace unioncard::station::ui {

class SessionController : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool signedIn READ signedIn NOTIFY changed)
    Q_PROPERTY(QString operatorId READ operatorId NOTIFY changed)
    Q_PROPERTY(QString operatorName READ operatorName NOTIFY changed)
    /// "operator", "supervisor" or "auditor".
    Q_PROPERTY(QString role READ role NOTIFY changed)
    Q_PROPERTY(bool supervisor READ supervisor NOTIFY changed)
    /// Operators and supervisors issue and hand over; auditors only read.
    Q_PROPERTY(bool canIssue READ canIssue NOTIFY changed)
    /// Why the last sign-in failed: "", "wrong_pin", "unknown_card", "no_card", "reader",
    /// "pin_first" (a staff card needs its owner's PIN typed first), "wait" (too many wrong
    /// PINs just now), "locked" (a supervisor must unlock the operator).
    Q_PROPERTY(QString error READ error NOTIFY changed)
    /// The library's words for it (English), for the log line under the message.
    Q_PROPERTY(QString errorDetail READ errorDetail NOTIFY changed)
    Q_PROPERTY(bool waitingForCard READ waitingForCard NOTIFY changed)

public:
    explicit SessionController(StationContext& context, QObject* parent = nullptr);

    bool signedIn() const { return m_context.who.has_value(); }
    QString operatorId() const { return m_context.who ? qs(m_context.who->id) : QString(); }
    QString operatorName() const { return m_context.who ? qs(m_context.who->name) : QString(); }
    QString role() const;
    bool supervisor() const { return m_context.who && m_context.who->role == Role::Supervisor; }
    bool canIssue() const { return m_context.who && m_context.who->role != Role::Auditor; }
    QString error() const { return m_error; }
    QString errorDetail() const { return m_errorDetail; }
    bool waitingForCard() const { return m_waiting; }

    Q_INVOKABLE bool signIn(const QString& operatorId, const QString& pin);
    /// Waits for a staff card on the desk reader (off the UI thread) and signs its owner in if
    /// `pin` is theirs: a card's UID can be copied, so the card alone is not enough.
    Q_INVOKABLE void signInWithCard(const QString& pin);
    Q_INVOKABLE void cancelCard();
    Q_INVOKABLE void signOut();

signals:
    void changed();

private:
    void cardRead(const QString& uidHex, const QString& fault);
    void setError(const QString& code, const QString& detail);

    StationContext& m_context;
    QString m_error;
    QString m_errorDetail;
    bool m_waiting = false;
    QString m_cardPin; ///< typed before the card was tapped; cleared once used
    Worker m_worker;   // last: stops before the members its jobs use
};

} // namespace unioncard::station::ui
