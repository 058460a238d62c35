// SPDX-License-Identifier: Apache-2.0
#pragma once

// The registry's domain: members' card applications, the life of each card, number leases,
// devices and their roles, event check-ins. Plain values shared by the service, its stores and
// the client; the JSON forms are in api.hpp, the rules of a card's life in lifecycle.cpp.

#include <unioncard/card/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::registry {

using Seconds = std::chrono::sys_seconds;

/// Where a physical or virtual card is in its life. The registry keeps one per card number.
enum class CardState {
    Produced,   ///< personalised, checked and printed; in the office
    HandedOver, ///< in the member's hands ("Выдан")
    Refused,    ///< the member declined it ("Отказ"); the card stays in the office
    Suspended,  ///< membership suspended; may be reinstated
    Spoiled,    ///< failed or damaged in production; its number is void
    Lost,       ///< reported lost by the member
    Revoked,    ///< withdrawn by the union
    Replaced,   ///< superseded by a newer card of the same member
};

/// What a station (or the registry's own staff) reports about a card.
enum class EventKind {
    Produced,
    HandedOver,
    Refused,
    Spoiled,
    Lost,
    Revoked,
    Replaced,
    Suspended,
    Reinstated,
};

/// What a verifier may conclude from a card's state: the three values of the status list.
enum class Validity { Valid, Suspended, Revoked };

std::string_view toString(CardState state);
std::string_view toString(EventKind kind);
std::string_view toString(Validity validity);
std::optional<CardState> parseCardState(std::string_view text);
std::optional<EventKind> parseEventKind(std::string_view text);

/// Valid: produced, handed over. Suspended: suspended, refused (both reversible). Revoked:
/// spoiled, lost, revoked, replaced (final).
Validity validityOf(CardState state);

/// Whether a state admits no further event.
bool isFinal(CardState state);

struct TransitionError {
    std::string
        reason; ///< in words: "the card was revoked on 2026-11-20; it cannot be handed over"
};

/// The state after `kind` happens to a card in `current` (nullopt: the registry has never heard
/// of the card). Refuses impossible transitions, e.g. handing over a revoked card.
Result<CardState, TransitionError> nextState(std::optional<CardState> current, EventKind kind);

enum class MemberCategory { Working, Student, Pensioner, Unknown };
std::string_view toString(MemberCategory category);
std::optional<MemberCategory> parseMemberCategory(std::string_view text);

enum class ApplicationReason { FirstCard, Replacement, Lost };
std::string_view toString(ApplicationReason reason);
std::optional<ApplicationReason> parseApplicationReason(std::string_view text);

/// A pending card application, as a station receives it.
struct Application {
    std::string id;       ///< the registry's id of the application
    std::string memberId; ///< opaque, 1-32 printable ASCII (the card record's key 3)
    std::string fullName; ///< as printed on the card, Cyrillic
    int region = 0;       ///< 1..89
    std::uint32_t organisationCode = 0;
    std::string organisationName;
    MemberCategory category = MemberCategory::Unknown;
    ApplicationReason reason = ApplicationReason::FirstCard;
    bool consent = false;                  ///< personal-data processing consent recorded
    int cardSequence = 1;                  ///< 1 for a first card, +1 for each replacement
    std::optional<std::string> cardNumber; ///< set when the registry assigned the number
    Seconds createdAt{};
};

struct ApplicationFilter {
    std::optional<int> region;
    std::optional<std::uint32_t> organisationCode;
    std::string cursor; ///< empty: from the start; otherwise the previous page's nextCursor
    int limit = 100;    ///< 1..1000
};

struct ApplicationPage {
    std::vector<Application> items;
    std::string nextCursor; ///< empty on the last page
};

/// A card status event as a station sends it.
struct StatusEvent {
    std::string idempotencyKey; ///< 8..64 of [A-Za-z0-9_-]; the same key is recorded once
    EventKind kind = EventKind::Produced;
    std::string cardNumber; ///< 16 digits, a valid union number
    std::string memberId;
    std::string station; ///< station id
    std::string operatorId;
    Seconds at{};                             ///< when it happened at the station
    std::optional<std::string> applicationId; ///< for produced: the application it fulfils
    int cardSequence = 1;                     ///< for produced
    std::string reason;                       ///< free text (refusal, spoilage), may be empty
};

/// What the registry made of an event.
struct EventOutcome {
    bool duplicate = false; ///< this idempotency key was recorded before; nothing changed
    CardState state = CardState::Produced; ///< the card's state now
    std::uint64_t sequence = 0;            ///< the registry's global event order
};

enum class StoreErrorCode {
    InvalidArgument, ///< the request itself is wrong (bad number, unknown member)
    NotFound,
    Conflict, ///< an impossible transition, or the state forbids it (application fulfilled)
    IdempotencyConflict, ///< an idempotency key reused for a different event
    Exhausted,           ///< no serials left in the region
    LeaseQuota,          ///< a lease would leave more serials unused than the quota allows
    OutOfScope,          ///< a station acting on another region's card or another's serial
    Unavailable,         ///< the database is down, locked beyond the timeout, or full
    Internal,            ///< a bug or a damaged database
};

struct StoreError {
    StoreErrorCode code;
    std::string message; ///< in words, safe to show the caller
};
std::string_view toString(StoreErrorCode code);

/// What the device reporting an event may touch. Unset: anything (an admin, the file import).
/// A station's region: only cards of that region, and a card new to the registry only with a
/// serial from one of that device's own leases.
struct EventScope {
    std::optional<int> region;
};

/// How many leased serials may wait unused (leased, no card made with them yet) at one time.
/// A station needs only what its queue will take; the caps keep a stolen or faulty station
/// credential from pushing a region's numbers far past its cards.
struct LeaseQuota {
    std::uint64_t perStation = 20'000; ///< across all of one station's leases
    std::uint64_t perRegion = 100'000; ///< across every station of one region
};

/// A block of serials leased to a station: [firstSerial, firstSerial + count).
struct Lease {
    std::string id;
    int region = 0;
    std::uint64_t firstSerial = 0;
    std::uint32_t count = 0;
    std::string station;
    Seconds grantedAt{};
};

/// The answer to an online card lookup. Who the member is only for roles that may know, and a
/// merchant learns only valid or not valid (NotValid stands for every other verdict).
struct Lookup {
    enum class Verdict { Valid, Suspended, Revoked, Unknown, NotValid } verdict = Verdict::Unknown;
    std::optional<CardState> state; ///< absent for a number the registry never issued
    std::string reason;             ///< in words
    // Filled only when the caller's role allows personal data:
    std::optional<std::string> memberId;
    std::optional<std::string> fullName;
    std::optional<std::uint32_t> organisationCode;
};
std::string_view toString(Lookup::Verdict verdict);

/// The same answer cut to what a merchant may learn: valid, or not valid; no state, no date.
Lookup merchantView(const Lookup& full);

/// A verifier's record of a card shown at an event desk.
struct CheckIn {
    std::string nonce; ///< 16..64 of [A-Za-z0-9_-], unique per check-in: a retry counts once
    std::string eventId;
    std::string desk;
    std::string cardNumber;
    Seconds at{};
};

/// A check-in as the registry holds it, numbered in the order it was received.
struct RecordedCheckIn {
    std::uint64_t sequence = 0;
    CheckIn checkIn;
    std::string deviceId; ///< the desk device that uploaded it (empty when read by a client)
};

enum class Role {
    Station,  ///< applications, status events, leases, full lookup
    Verifier, ///< lookup (valid or not), status list, check-ins, events
    Merchant, ///< lookup (valid or not) only
    Admin,    ///< everything, including devices, import and export
};
std::string_view toString(Role role);
std::optional<Role> parseRole(std::string_view text);

/// A station's or verifier's credential.
struct Device {
    std::string id; ///< station or verifier id; for mutual TLS, its certificate's CN
    Role role = Role::Verifier;
    std::optional<int> region; ///< a station's region (required for a station)
    Seconds expiresAt{};
    bool disabled = false;
    /// The SHA-256 (lowercase hex, of the DER) of the one client certificate this device may
    /// use; unset: any certificate the union root issued with its id as CN.
    std::optional<std::string> certificateSha256 = {};
    bool hasToken = false; ///< read from the store: whether a bearer token is registered
};

/// What an administrator does to a registered device's credential. Each takes effect on the
/// device's next request, and is recorded with who did it.
enum class DeviceAction {
    Disable, ///< every request refused until enabled
    Enable,
    Rotate, ///< a new token replaces the old, which stops at once
    Pin,    ///< this certificate only from now on; any token the device had stops
};
std::string_view toString(DeviceAction action);

/// One line of a device's log.
struct DeviceAuditEntry {
    Seconds at{};
    std::string deviceId;
    std::string action; ///< "put", "disable", "enable", "rotate"
    std::string by;
};

/// What each role may do.
enum class Permission {
    ReadApplications,
    WriteEvents,
    LeaseNumbers,
    LookupStatus,   ///< valid or not, and why
    LookupPersonal, ///< who the member is
    ReadStatusList,
    WriteCheckIns,
    Administer,
};
bool allows(Role role, Permission permission);

} // namespace unioncard::registry
