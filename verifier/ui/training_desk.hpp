// SPDX-License-Identifier: Apache-2.0
#pragma once

// A whole desk on simulated hardware: a store of its own in a temporary folder, the training
// union's lists in it, the simulated reader, the controller and the training card buttons.
// Used by --training, --self-test, --screenshot and the Qt Quick tests.

#include "tap_source.hpp"
#include "training_cards.hpp"
#include "training_union.hpp"
#include "verifier_controller.hpp"

#include <QString>
#include <QTemporaryDir>
#include <functional>
#include <memory>
#include <optional>

namespace unioncard::verifier::ui {

struct TrainingDesk {
    QTemporaryDir dir;
    std::optional<VerifierStore> store;
    std::unique_ptr<TrainingUnion> world;
    SimulatedTapSource* taps = nullptr; ///< owned by the controller
    std::unique_ptr<VerifierController> controller;
    std::unique_ptr<TrainingCards> trainer;

    /// `clock`: the desk's time (a fixed one makes screenshots repeatable); empty: the real one.
    static std::unique_ptr<TrainingDesk> create(Mode mode, std::function<card::Seconds()> clock,
                                                QString* error);
};

/// The card profile: $UNIONCARD_FIRMWARE_CONFIG/cards/union-desfire.toml, else the source tree's.
std::filesystem::path defaultProfileFile();

} // namespace unioncard::verifier::ui
