// SPDX-License-Identifier: Apache-2.0
#pragma once

// The station's own SQLite file: applications, cards and their states, leased number blocks,
// stock, operators, the registry outbox (registry/outbox.hpp, same file) and the audit log.
//
// Every change of a card's state is one transaction that also writes its audit entry and, when
// the registry must know, queues the status event: the station's record and the registry's
// outbox never disagree, whatever moment the process dies at. A card's state is written before
// the physical step it starts (docs/station.md), so a restart knows where every card was.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>
#include <unioncard/registry/model.hpp>
#include <unioncard/registry/outbox.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace unioncard::station {

struct StoreError {
    std::string message; ///< in words: what failed, on which file, what to do
    /// For a refused sign-in: "locked" (a supervisor must unlock) or "wait" (too many wrong
    /// PINs just now); empty otherwise.
    std::string code = {};
};

/// A physical card's life at the station. The first four are in the printer.
enum class CardState {
    Feeding,    ///< the printer is taking a blank card to the encoder
    Encoding,   ///< the chip is being personalised
    Verifying,  ///< the chip is read back and checked as a verifier would
    Printing,   ///< the faces are being printed, then the card is ejected
    Produced,   ///< in the output hopper, checked, waiting for the member
    HandedOver, ///< in the member's hands
    Refused,    ///< the member refused it ("Отказ")
    Spoiled,    ///< failed in production or damaged: voided, never reused
    Lost,       ///< reported lost by the member
    Revoked,    ///< revoked by the union
    Replaced,   ///< replaced by a new card (sequence + 1)
};
std::string_view toString(CardState state);
std::optional<CardState> parseCardState(std::string_view text);
/// Feeding, Encoding, Verifying, Printing: the card is (or may be) in the printer.
bool inPrinter(CardState state);

enum class Role { Operator, Supervisor, Auditor };
std::string_view toString(Role role);
std::optional<Role> parseRole(std::string_view text);

/// Wrong PINs in a row that lock an operator until a supervisor unlocks them.
inline constexpr int kPinAttemptsBeforeLock = 5;
/// The wait before the try after the third wrong PIN in a row; it doubles with each more.
inline constexpr std::chrono::seconds kFirstPinDelay{30};
/// The shortest PIN a new or changed operator may get.
inline constexpr std::size_t kMinPinDigits = 6;

/// What no one person does alone at a station (the two-person rule): a second supervisor
/// signs in for it. Revoking or replacing a card ends one a member holds; making someone a
/// supervisor, or changing an operator's role, hands out the rights to do both.
enum class TwoPersonAct { Revoke, Replace, ChangeRole };
std::string_view toString(TwoPersonAct act);

/// The wall clock, to the second (the default time of a sign-in).
card::Seconds currentTime();

struct Operator {
    std::string id;
    std::string name;
    Role role = Role::Operator;
    std::optional<std::string> staffCardUid; ///< hex; signs in by tapping it
};

/// An application as the station holds it.
struct QueuedApplication {
    registry::Application application;
    std::string state; ///< queued, held, in_progress, done
    std::string holdReason;
};

struct CardRow {
    std::int64_t id = 0;
    std::string applicationId;
    std::string cardNumber;
    std::string memberId;
    int cardSequence = 1;
    CardState state = CardState::Feeding;
    std::string chipUid; ///< hex, once known
    std::string operatorId;
    std::string spoilReason;
    std::string cardFate; ///< where a spoiled card physically is ("reject box", ...)
    card::Seconds createdAt{};
    card::Seconds updatedAt{};
    std::optional<card::Seconds> producedAt;
    std::optional<card::Seconds> handedOverAt;
};

struct AuditEntry {
    std::int64_t seq = 0;
    card::Seconds at{};
    std::string operatorId;
    std::string action;
    std::string details; ///< JSON
    std::string prevHash;
    std::string hash;
    std::string signature; ///< hex r||s by the station key
};

/// What verifying the audit log found.
struct AuditCheck {
    std::size_t entries = 0;
    std::optional<std::int64_t> firstBad; ///< the first entry that does not check
    std::string problem;                  ///< in words
};

/// Signs audit entries (the station's record-signing key; a hash chain needs no other).
using AuditSigner =
    std::function<Result<card::Bytes, card::KeyError>(std::span<const std::uint8_t>)>;

class StationStore {
public:
    /// Opens or creates the file (mode 0600, WAL, synchronous FULL) and migrates it.
    static Result<StationStore, StoreError> open(const std::filesystem::path& file);
    StationStore(StationStore&&) noexcept;
    StationStore& operator=(StationStore&&) noexcept;
    ~StationStore();

    /// Writes from now on are audited and signed with this key; without it only reads work.
    void setAuditSigner(AuditSigner signer, std::string stationId);

    std::optional<std::string> setting(std::string_view key);
    std::optional<StoreError> setSetting(std::string_view key, std::string_view value);

    // ---- operators
    /// Adds or changes an operator. A new operator needs a PIN of kMinPinDigits to 12 digits
    /// (a staff card alone signs no one in); an empty PIN keeps the one stored.
    std::optional<StoreError> putOperator(const Operator& op, const std::string& pin,
                                          const std::string& by);
    /// The operator if the PIN matches. Each wrong PIN counts: from the third in a row the next
    /// try waits (kFirstPinDelay, doubling each time), and the kPinAttemptsBeforeLock-th locks
    /// the operator until a supervisor unlocks them; a right PIN clears the count. Tries while
    /// waiting or locked are refused without looking at the PIN.
    Result<Operator, StoreError> signIn(std::string_view id, std::string_view pin,
                                        card::Seconds at = currentTime());
    /// The operator whose staff card this is, if their PIN matches too: a copied UID alone
    /// signs no one in. Counts wrong PINs as signIn does.
    Result<Operator, StoreError> signInByCard(std::string_view uidHex, std::string_view pin,
                                              card::Seconds at = currentTime());
    /// A second supervisor's approval of `act` by `first`: signs `secondId` in with `pin`
    /// (counted as any sign-in), refuses the first person themself and anyone not a
    /// supervisor, and writes both into the audit log with `what` (JSON text). The act follows.
    /// A role change at a station with one supervisor only needs no second (the first makes
    /// the second); the log says so.
    std::optional<StoreError> approveBySecond(TwoPersonAct act, const std::string& first,
                                              std::string_view secondId, std::string_view pin,
                                              const std::string& what,
                                              card::Seconds at = currentTime());
    /// How many supervisors are enabled and not locked by wrong PINs.
    Result<int, StoreError> supervisorsWhoCanSignIn();
    /// An operator's role, if the station has that operator.
    Result<std::optional<Role>, StoreError> operatorRole(std::string_view id);
    /// Clears an operator's wrong-PIN count and lock (a supervisor's act, audited).
    std::optional<StoreError> unlockOperator(std::string_view id, const std::string& by);

    // ---- applications
    /// Adds applications; those already held are left as they are. Members without consent are
    /// held back with that reason. Returns how many were new.
    Result<std::size_t, StoreError> addApplications(const std::vector<registry::Application>& list,
                                                    std::string_view source,
                                                    const std::string& operatorId);
    Result<std::vector<QueuedApplication>, StoreError>
    applications(std::optional<std::string_view> state = std::nullopt);
    Result<std::optional<QueuedApplication>, StoreError> application(std::string_view id);

    // ---- number blocks
    std::optional<StoreError> addLease(const registry::Lease& lease, const std::string& operatorId);
    /// Serials left in the blocks of a region.
    Result<std::uint64_t, StoreError> serialsLeft(int region);

    // ---- cards through production
    /// Starts a card for a queued application: takes its number (the registry's, or the next
    /// serial of a leased block), writes the card as Feeding and the application as in
    /// progress, in one transaction.
    Result<CardRow, StoreError> startCard(std::string_view applicationId,
                                          const std::string& operatorId,
                                          const card::NumberScheme& scheme);
    /// Moves a card in production to its next step (Encoding, Verifying, Printing).
    std::optional<StoreError> advance(std::int64_t cardId, CardState next,
                                      const std::string& chipUidHex = {});
    /// The card is in the hopper, checked: Produced, the application done, stock taken, the
    /// "produced" event queued for the registry.
    std::optional<StoreError> produced(std::int64_t cardId, card::Seconds at);
    /// The card failed: Spoiled (its number voided for good), the application back in the
    /// queue, the "spoiled" event queued. `fate` says where the card physically is;
    /// `blankUsed` false when no blank left the feeder (it stays in stock).
    std::optional<StoreError> spoiled(std::int64_t cardId, const std::string& reason,
                                      const std::string& fate, card::Seconds at,
                                      bool blankUsed = true);
    /// Where a spoiled card turned out to be, once the printer said (recovery after a fault).
    std::optional<StoreError> setCardFate(std::int64_t cardId, const std::string& fate);

    // ---- after production
    /// HandedOver, Refused, Lost, Revoked: the state, its audit entry and the registry event,
    /// in one transaction. Refused if the transition is not allowed from the card's state.
    std::optional<StoreError> record(std::string_view cardNumber, registry::EventKind kind,
                                     const std::string& reason, const std::string& operatorId,
                                     card::Seconds at);
    /// Replacement: the old card is marked Replaced (event queued) and a new application with
    /// card sequence + 1 is queued, in one transaction. Returns the new application's id.
    Result<std::string, StoreError> replace(std::string_view cardNumber, const std::string& reason,
                                            const std::string& operatorId, card::Seconds at);

    Result<std::optional<CardRow>, StoreError> cardByNumber(std::string_view number);
    Result<std::vector<CardRow>, StoreError> cards(std::optional<CardState> state = std::nullopt);

    // ---- stock
    std::optional<StoreError> setStock(std::string_view item, std::int64_t count,
                                       const std::string& operatorId);
    Result<std::int64_t, StoreError> stock(std::string_view item);

    // ---- audit
    /// Appends an audit entry in its own transaction (for actions without a card).
    std::optional<StoreError> audit(const std::string& operatorId, std::string_view action,
                                    const std::string& detailsJson);
    Result<std::vector<AuditEntry>, StoreError> auditLog();
    /// Checks the chain (each entry's hash covers the previous one's) and every signature.
    AuditCheck verifyAudit(const card::PublicKey& stationKey);

    registry::Outbox& outbox();

    struct Impl; ///< opaque (src/store.cpp)

private:
    explicit StationStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace unioncard::station
