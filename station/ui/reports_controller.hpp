// SPDX-License-Identifier: Apache-2.0
#pragma once

// Reports: today's cards by organisation (produced, handed over, spoiled, waiting for their
// member) and the cards produced but not handed over for more than N days.

#include "station_context.hpp"

#include <QObject>
#include <QVariantList>

namespace unioncard::station::ui {

class ReportsController : public QObject {
    Q_OBJECT
    Q_PROPERTY(int days READ days WRITE setDays NOTIFY changed)
    /// [{organisation, produced, handedOver, spoiled, waiting}], by organisation name.
    Q_PROPERTY(QVariantList byOrganisation READ byOrganisation NOTIFY changed)
    /// [{number, name, organisation, producedAt (date), days}] waiting longer than `days`.
    Q_PROPERTY(QVariantList notHandedOver READ notHandedOver NOTIFY changed)
    Q_PROPERTY(int producedToday READ producedToday NOTIFY changed)
    Q_PROPERTY(int handedOverToday READ handedOverToday NOTIFY changed)
    Q_PROPERTY(int waiting READ waiting NOTIFY changed)

public:
    explicit ReportsController(StationContext& context, QObject* parent = nullptr);

    int days() const { return m_days; }
    void setDays(int days);
    QVariantList byOrganisation() const { return m_byOrganisation; }
    QVariantList notHandedOver() const { return m_late; }
    int producedToday() const { return m_produced; }
    int handedOverToday() const { return m_handedOver; }
    int waiting() const { return m_waiting; }

    Q_INVOKABLE void refresh();

signals:
    void changed();

private:
    StationContext& m_context;
    int m_days = 14;
    QVariantList m_byOrganisation, m_late;
    int m_produced = 0, m_handedOver = 0, m_waiting = 0;
};

} // namespace unioncard::station::ui
