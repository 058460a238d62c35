// SPDX-License-Identifier: Apache-2.0
#pragma once

// Handing a card to its member: the card is tapped on the desk reader and read as a verifier
// reads it (its own read key, the record, the number), the member is shown, the operator
// confirms; "handed over" is recorded and sent to the registry at once. The same screen
// records a refusal with its reason and, for supervisors, a lost card and a replacement (the
// card found by tapping it or by its typed number).

#include "station_context.hpp"
#include "worker.hpp"

#include <QObject>

namespace unioncard::station::ui {

class HandoverController : public QObject {
    Q_OBJECT
    /// "idle", "waiting" (for a tap), "found" (a card of this station), "recorded", "error".
    Q_PROPERTY(QString state READ state NOTIFY changed)
    Q_PROPERTY(QString number READ number NOTIFY changed)
    Q_PROPERTY(QString maskedNumber READ maskedNumber NOTIFY changed)
    Q_PROPERTY(QString memberName READ memberName NOTIFY changed)
    Q_PROPERTY(QString memberId READ memberId NOTIFY changed)
    Q_PROPERTY(QString organisation READ organisation NOTIFY changed)
    /// The card's state at the station: "produced", "handed_over", "refused", "lost", ...
    Q_PROPERTY(QString cardState READ cardState NOTIFY changed)
    Q_PROPERTY(QString cardFace READ cardFace NOTIFY changed)
    Q_PROPERTY(bool canHandOver READ canHandOver NOTIFY changed)
    Q_PROPERTY(bool canRefuse READ canRefuse NOTIFY changed)
    Q_PROPERTY(bool canReportLost READ canReportLost NOTIFY changed)
    Q_PROPERTY(bool canReplace READ canReplace NOTIFY changed)
    /// What was recorded last: "handed_over", "refused", "lost", "replaced".
    Q_PROPERTY(QString recorded READ recorded NOTIFY changed)
    /// "", "not_union_card", "not_ours", "bad_number", "reader", "refused_by_rules", "role",
    /// "second_person", "wrong_pin" (the second supervisor of a replacement).
    Q_PROPERTY(QString error READ error NOTIFY changed)
    Q_PROPERTY(QString errorDetail READ errorDetail NOTIFY changed)
    /// After recording: true once the registry has it, false while it waits in the outbox.
    Q_PROPERTY(bool registryDelivered READ registryDelivered NOTIFY changed)
    Q_PROPERTY(bool delivering READ delivering NOTIFY changed)

public:
    explicit HandoverController(StationContext& context, QObject* parent = nullptr);

    QString state() const { return m_state; }
    QString number() const;
    QString maskedNumber() const;
    QString memberName() const { return m_row ? m_memberName : QString(); }
    QString memberId() const { return m_row ? qs(m_row->memberId) : QString(); }
    QString organisation() const { return m_row ? m_organisation : QString(); }
    QString cardState() const {
        return m_row ? qs(std::string(toString(m_row->state))) : QString();
    }
    QString cardFace() const;
    bool canHandOver() const;
    bool canRefuse() const;
    bool canReportLost() const;
    bool canReplace() const;
    QString recorded() const { return m_recorded; }
    QString error() const { return m_error; }
    QString errorDetail() const { return m_errorDetail; }
    bool registryDelivered() const { return m_delivered; }
    bool delivering() const { return m_delivering; }

    /// Waits (off the UI thread) for a card on the desk reader.
    Q_INVOKABLE void waitForCard();
    Q_INVOKABLE void cancel();
    /// A card by its typed number (a lost card is not at hand).
    Q_INVOKABLE bool lookUp(const QString& number);
    Q_INVOKABLE bool confirmHandover();
    Q_INVOKABLE bool refuse(const QString& reason);
    Q_INVOKABLE bool reportLost();
    /// Replacing a card is a two-person act: a second supervisor signs in for it with their id
    /// and PIN (error "second_person" or "wrong_pin" when they do not).
    Q_INVOKABLE bool replace(const QString& reason, const QString& secondId,
                             const QString& secondPin);
    Q_INVOKABLE void reset();

signals:
    void changed();

private:
    void cardRead(const QString& digits, const QString& error, const QString& detail);
    bool show(const std::string& digits);
    bool recordEvent(registry::EventKind kind, const QString& reason);
    void deliver();
    void fail(const QString& code, const QString& detail);

    StationContext& m_context;
    QString m_state = QStringLiteral("idle");
    std::optional<CardRow> m_row;
    QString m_memberName, m_organisation, m_recorded, m_error, m_errorDetail;
    bool m_delivered = false, m_delivering = false;
    Worker m_desk;
    Worker m_registry;
};

} // namespace unioncard::station::ui
