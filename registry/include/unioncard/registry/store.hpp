// SPDX-License-Identifier: Apache-2.0
#pragma once

// The registry service's storage: one interface, one implementation over a small SQL seam with
// two adapters (SQLite for an office or a demo, PostgreSQL for the whole union). Every method is
// one transaction: it happens entirely or not at all. Safe to call from several threads; several
// service processes may share one PostgreSQL database.

#include <unioncard/registry/model.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace unioncard::registry {

/// One card's place in the status list: its region and serial, and what a verifier concludes.
struct CardValidity {
    int region = 0;
    std::uint64_t serial = 0;
    Validity validity = Validity::Valid;
};

/// A member as the seed command and the file import create them.
struct Member {
    std::string id;
    std::string fullName;
    int region = 0;
    std::uint32_t organisationCode = 0;
    MemberCategory category = MemberCategory::Unknown;
    bool consent = false;
};

struct Organisation {
    std::uint32_t code = 0;
    int region = 0;
    std::string name;
};

/// A card as the seed command loads it: its number, whose it is, and where it is in its life.
struct SeedCard {
    std::string cardNumber; ///< 16 digits
    std::string memberId;
    int cardSequence = 1;
    CardState state = CardState::HandedOver;
    Seconds at{};
    std::string station;
};

/// A status event as recorded, for export.
struct RecordedEvent {
    std::uint64_t sequence = 0;
    StatusEvent event;
    Seconds receivedAt{};
};

class Store {
public:
    virtual ~Store() = default;

    /// The schema version the database is at, and the one this build migrates to.
    virtual Result<int, StoreError> schemaVersion() = 0;
    static int latestSchemaVersion();

    // Applications
    virtual Result<ApplicationPage, StoreError> pendingApplications(const ApplicationFilter&) = 0;
    /// Adds applications (file import, tests). All or nothing; an id the registry has is a
    /// Conflict. The member and the organisation an application names are created if absent.
    virtual Result<int, StoreError> addApplications(const std::vector<Application>&) = 0;

    // Status events: checks the transition against the card's current state (nextState), records
    // the event and the new state together; the same idempotency key returns the first outcome
    // with duplicate = true; a key reused with different content is a Conflict. Keys are the
    // reporting device's own: another device's event with the same key is another event. A
    // "produced" event with an application id closes that application. Outside `scope`:
    // OutOfScope, and nothing is recorded.
    virtual Result<EventOutcome, StoreError>
    recordEvent(const StatusEvent&, std::string_view deviceId, const EventScope& scope = {}) = 0;
    /// Events with sequence > after, in order, at most limit (export, replication).
    virtual Result<std::vector<RecordedEvent>, StoreError> eventsAfter(std::uint64_t after,
                                                                       int limit) = 0;

    // Leases: the next `count` serials of the region, never overlapping another lease, even with
    // several service processes on one database. Refused (LeaseQuota) when the station's or the
    // region's unused leased serials would then pass `quota`.
    virtual Result<Lease, StoreError> leaseSerials(int region, std::uint32_t count,
                                                   std::string_view station,
                                                   const LeaseQuota& quota = {}) = 0;

    // Lookup by card number (16 digits, already validated by the caller).
    virtual Result<Lookup, StoreError> lookup(std::string_view cardNumber,
                                              bool withPersonalData) = 0;

    // The status list: every card that is not valid, ordered by (region, serial), and for each
    // region the highest serial of a card the registry knows (produced or spoiled). Streams, so
    // 3.1 million cards never sit in memory as rows. The store is busy while it streams: `visit`
    // must not call back into the same Store (it would wait for itself).
    virtual std::optional<StoreError>
    forEachNotValid(const std::function<void(const CardValidity&)>& visit) = 0;
    virtual Result<std::vector<std::pair<int, std::uint64_t>>, StoreError> highestSerials() = 0;
    /// The status list's input as one consistent snapshot (one read transaction): the event
    /// sequence it reflects and each region's highest serial go to `header` first (which may
    /// return false to stop), then the not-valid cards to `visit` as forEachNotValid gives them.
    /// Returns that sequence. `header` may be called again if the database asks for a retry.
    virtual Result<std::uint64_t, StoreError> statusSnapshot(
        const std::function<bool(std::uint64_t sequence,
                                 const std::vector<std::pair<int, std::uint64_t>>& highest)>&
            header,
        const std::function<void(const CardValidity&)>& visit) = 0;
    /// The global event sequence now: a status list built now has this version.
    virtual Result<std::uint64_t, StoreError> currentSequence() = 0;
    /// Published status lists (signed bytes) by version, kept so deltas can be computed.
    virtual std::optional<StoreError>
    saveStatusList(std::uint64_t version, const std::vector<std::uint8_t>& signedBytes) = 0;
    virtual Result<std::optional<std::vector<std::uint8_t>>, StoreError>
    statusList(std::uint64_t version) = 0;
    virtual Result<std::optional<std::uint64_t>, StoreError> latestStatusListVersion() = 0;
    /// Removes all but the `keepNewest` newest kept lists (at least 1); returns how many went.
    /// A desk holding a removed version is told to fetch the whole list (no delta from it).
    virtual Result<int, StoreError> pruneStatusLists(int keepNewest) = 0;

    // Events and their desks: an event's check-ins come from, and go to, only its desks.
    /// Registers an event (or renames it) and adds `desks` (device ids) to it; logged with `by`.
    virtual std::optional<StoreError> putEvent(std::string_view id, std::string_view name,
                                               const std::vector<std::string>& desks,
                                               std::string_view by) = 0;
    /// Whether the event is registered and `deviceId` is one of its desks.
    virtual Result<bool, StoreError> isEventDesk(std::string_view eventId,
                                                 std::string_view deviceId) = 0;

    // Check-ins: recorded once per nonce. Returns whether this call recorded it (false: a retry).
    virtual Result<bool, StoreError> recordCheckIn(const CheckIn&, std::string_view deviceId) = 0;
    /// An event's check-ins received after `after` (a sequence from an earlier answer, 0 for
    /// all), in received order, at most `limit` (1..10000).
    virtual Result<std::vector<RecordedCheckIn>, StoreError>
    checkInsAfter(std::string_view eventId, std::uint64_t after, int limit) = 0;

    // Devices and their credentials. Tokens are stored as SHA-256 hashes only (64 hex digits,
    // either case). putDevice inserts or replaces the device; with no token it keeps the token
    // stored before, so a device can be disabled or moved without touching its credential. A
    // token already held by another device is a Conflict; a station without a region is
    // InvalidArgument (it would act in every region).
    // Every put and change is logged with `by` (deviceAudit).
    virtual std::optional<StoreError> putDevice(const Device&,
                                                const std::optional<std::string>& tokenSha256Hex,
                                                std::string_view by = "admin") = 0;
    /// Disables, enables or rotates a device's credential. Rotate takes the new token's hash,
    /// or for a device pinned to a certificate the new certificate's; the old one stops at
    /// once. NotFound for an unknown id; InvalidArgument for a rotation without the new one.
    virtual Result<Device, StoreError> changeDevice(std::string_view id, DeviceAction action,
                                                    const std::optional<std::string>& newSha256Hex,
                                                    std::string_view by) = 0;
    /// Every device (by id), and the log of one device (empty id: of all), oldest first.
    virtual Result<std::vector<Device>, StoreError> devices() = 0;
    virtual Result<std::vector<DeviceAuditEntry>, StoreError>
    deviceAudit(std::string_view deviceId) = 0;
    virtual Result<std::optional<Device>, StoreError>
    deviceByToken(std::string_view tokenSha256Hex) = 0;
    virtual Result<std::optional<Device>, StoreError> deviceById(std::string_view id) = 0;

    // Bulk loading for the seed command and file import: streams rows in one transaction
    // (SQLite: prepared inserts; PostgreSQL: COPY), all or nothing. Rows must be new: a member
    // or card the registry has is a Conflict, a card of an unknown member InvalidArgument. Into
    // an empty registry, secondary indexes (and on PostgreSQL the cards' keys) are built after
    // the rows. Moves each region's serial counter past its highest loaded serial.
    virtual std::optional<StoreError> bulkLoad(const std::vector<Organisation>& organisations,
                                               const std::function<bool(Member&)>& nextMember,
                                               const std::function<bool(SeedCard&)>& nextCard) = 0;
};

/// Opens "sqlite:PATH" (created if absent; WAL) or "postgresql://..." / "postgres://..." (libpq
/// connection URI), and migrates the schema to the latest version (one transaction per
/// migration; safe when several processes start at once). A database whose schema is newer than
/// this build is refused (Internal, with a message saying so). One connection per Store; calls
/// from several threads take turns.
Result<std::unique_ptr<Store>, StoreError> openStore(std::string_view url);

} // namespace unioncard::registry
