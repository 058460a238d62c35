// SPDX-License-Identifier: Apache-2.0
#pragma once

// A union made up in memory for training and tests: its root, a station, the trust list and a
// status list written into a verifier's store, an event with participants, and virtual DESFire
// cards personalised with cardlib, one for each verdict a desk must learn to read. Nothing of
// it is trusted anywhere else: its root is new each time.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/desfire/profile.hpp>
#include <unioncard/sim/virtual_desfire.hpp>
#include <unioncard/verifier/store.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace unioncard::verifier::ui {

/// The cards of the training set, by what a tap on them shows.
enum class TrainingCard {
    Valid,       ///< a member in good standing (on the event's list)
    Valid2,      ///< another one, not on the list
    Revoked,     ///< on the status list as revoked
    Expired,     ///< past its expiry date
    Unconfirmed, ///< issued after the status list was made: cannot confirm offline
    Copy,        ///< the record copied to another chip: the chip's key is wrong
    Blank,       ///< a card that is not a union card
};

struct TrainingCardInfo {
    TrainingCard kind;
    std::string id;    ///< "valid", "revoked", ...
    std::string label; ///< English; the UI translates by id
    std::optional<card::CardNumber> number;
};

class TrainingUnion {
public:
    /// Makes the union and sets the store up as a desk of it (lists, settings, one event
    /// "training-event" with names for the first cards). `now`: the desk's clock.
    static Result<std::unique_ptr<TrainingUnion>, std::string>
    create(VerifierStore& store, const std::filesystem::path& profileFile, card::Seconds now,
           Mode mode);

    const card::desfire::Profile& profile() const { return m_profile; }
    const card::desfire::MasterKeys& readKeys() const { return m_readKeys; }
    const card::Bytes& rootFingerprint() const { return m_rootFingerprint; }
    const std::vector<TrainingCardInfo>& cards() const { return m_cards; }
    sim::VirtualDesfire& chip(TrainingCard kind) { return *m_chips.at(kind); }
    std::optional<TrainingCard> find(std::string_view id) const;

    TrainingUnion(card::desfire::Profile profile, card::desfire::MasterKeys keys,
                  card::desfire::MasterKeys readKeys);

private:
    card::desfire::Profile m_profile;
    card::desfire::MasterKeys m_keys;
    card::desfire::MasterKeys m_readKeys;
    card::Bytes m_rootFingerprint;
    std::vector<TrainingCardInfo> m_cards;
    std::map<TrainingCard, std::unique_ptr<sim::VirtualDesfire>> m_chips;
};

} // namespace unioncard::verifier::ui
