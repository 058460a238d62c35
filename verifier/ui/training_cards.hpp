// SPDX-License-Identifier: Apache-2.0
#pragma once

// The training screen's simulated cards: a button per card puts it on the simulated reader.

#include "tap_source.hpp"
#include "training_union.hpp"

#include <QObject>
#include <QStringList>

namespace unioncard::verifier::ui {

class TrainingCards : public QObject {
    Q_OBJECT
    /// The cards' ids: "valid", "revoked", ... (the screen names them).
    Q_PROPERTY(QStringList cards READ cards CONSTANT)

public:
    TrainingCards(TrainingUnion& world, SimulatedTapSource& taps, QObject* parent = nullptr)
        : QObject(parent), m_world(world), m_taps(taps) {}
    QStringList cards() const {
        QStringList out;
        for (const auto& c : m_world.cards())
            out.append(QString::fromStdString(c.id));
        return out;
    }
    /// Taps the card with this id on the simulated reader; false for an unknown id.
    Q_INVOKABLE bool present(const QString& id) {
        const auto kind = m_world.find(id.toStdString());
        if (!kind)
            return false;
        m_taps.present(m_world.chip(*kind));
        return true;
    }

private:
    TrainingUnion& m_world;
    SimulatedTapSource& m_taps;
};

} // namespace unioncard::verifier::ui
