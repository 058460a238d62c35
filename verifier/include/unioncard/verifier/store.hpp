// SPDX-License-Identifier: Apache-2.0
#pragma once

// The verifier's own SQLite file: what it needs to answer offline (the trust list, the status
// list snapshot and the deltas since), events with their check-ins, and the outbox to the
// registry (registry/outbox.hpp, in the same file, so a check-in and its upload are queued in
// one transaction).
//
// Least personal data: card numbers only, except participants' names in event mode, which are
// kept only until the event's end plus the retention setting (purgeNames). In merchant mode
// nothing personal is written: a discount is kept with the masked number.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>
#include <unioncard/registry/model.hpp>
#include <unioncard/registry/outbox.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace unioncard::verifier {

struct StoreError {
    std::string message; ///< in words: what failed and on which file
};

enum class Mode { Event, Merchant };
std::string_view toString(Mode mode);
std::optional<Mode> parseMode(std::string_view text);

/// How often a card may check in to an event.
enum class CheckInRule {
    Once,  ///< once for the whole event
    Daily, ///< once a day (the desk's local date)
    Any,   ///< every tap counts
};
std::string_view toString(CheckInRule rule);
std::optional<CheckInRule> parseCheckInRule(std::string_view text);

struct EventInfo {
    std::string id; ///< shared by every desk of the event: their check-ins merge by it
    std::string name;
    CheckInRule rule = CheckInRule::Once;
    std::optional<card::Days> endsOn; ///< names are purged after this plus the retention
    std::uint64_t pulledUpTo = 0;     ///< the registry's check-in sequence fetched so far
};

/// A signed list as fetched: its bytes, version (trust list: sequence) and when it arrived.
struct StoredList {
    card::Bytes bytes;
    std::uint64_t version = 0;
    card::Seconds fetchedAt{};
};

struct StoredCheckIn {
    registry::CheckIn checkIn;
    bool local = true; ///< made at this desk; false: fetched from another desk
};

struct Discount {
    std::string maskedNumber;
    std::int64_t amountMinor = 0; ///< kopecks
    card::Seconds at{};
};

class VerifierStore {
public:
    /// Opens or creates the file (mode 0600, WAL) and brings its tables up to date.
    static Result<VerifierStore, StoreError> open(const std::filesystem::path& file);
    VerifierStore(VerifierStore&&) noexcept;
    VerifierStore& operator=(VerifierStore&&) noexcept;
    ~VerifierStore();

    std::optional<std::string> setting(std::string_view key);
    std::optional<StoreError> setSetting(std::string_view key, std::string_view value);

    std::optional<StoreError> saveTrustList(const StoredList& list);
    Result<std::optional<StoredList>, StoreError> trustList();

    /// A full status list: replaces the snapshot and drops the deltas held.
    std::optional<StoreError> saveStatusSnapshot(const StoredList& list);
    /// A delta on top of the snapshot and earlier deltas.
    std::optional<StoreError> addStatusDelta(const StoredList& delta);
    Result<std::optional<StoredList>, StoreError> statusSnapshot();
    Result<std::vector<StoredList>, StoreError> statusDeltas();

    std::optional<StoreError> putEvent(const EventInfo& event);
    Result<std::optional<EventInfo>, StoreError> event(std::string_view id);
    Result<std::vector<EventInfo>, StoreError> events();
    std::optional<StoreError> setPulledUpTo(std::string_view eventId, std::uint64_t sequence);

    /// Replaces the event's participant list (card number, full name).
    std::optional<StoreError>
    setParticipants(std::string_view eventId,
                    const std::vector<std::pair<card::CardNumber, std::string>>& participants);
    Result<std::optional<std::string>, StoreError> participantName(std::string_view eventId,
                                                                   const card::CardNumber& number);
    /// Forgets the names of events that ended before `before`; returns how many were dropped.
    Result<std::size_t, StoreError> purgeNames(card::Days before);

    /// The event's check-ins, oldest first (by time, then nonce), of one card if given.
    Result<std::vector<StoredCheckIn>, StoreError>
    checkIns(std::string_view eventId, const std::optional<card::CardNumber>& number = {});
    /// Records a check-in made here and queues it for the registry, in one transaction.
    std::optional<StoreError> addLocalCheckIn(const registry::CheckIn& checkIn);
    /// Records another desk's check-in; false if it was already here (by nonce).
    Result<bool, StoreError> addRemoteCheckIn(const registry::CheckIn& checkIn);

    std::optional<StoreError> addDiscount(const Discount& discount);
    Result<std::vector<Discount>, StoreError> discounts();

    registry::Outbox& outbox();

    struct Impl; ///< opaque (src/store.cpp)

private:
    explicit VerifierStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace unioncard::verifier
