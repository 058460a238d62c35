// SPDX-License-Identifier: Apache-2.0
#pragma once

// A verifier desk: the lists it answers with (loaded from its store), event check-ins with
// their rules and the merge of several desks, and the sync with the registry.

#include <unioncard/card/trust_list.hpp>
#include <unioncard/registry/client.hpp>
#include <unioncard/registry/status_list.hpp>
#include <unioncard/verifier/store.hpp>
#include <unioncard/verifier/verify.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace unioncard::verifier {

/// The desk's record-read keys, as its settings name them: "card_keys_store" = "file" (the
/// default: "card_keys", a key file, passphrase in UNIONCARD_CARD_KEYS_PASSPHRASE or
/// UNIONCARD_PASSPHRASE) or "pkcs11" ("pkcs11_module", "token_label", PIN in
/// UNIONCARD_TOKEN_PIN; the master stays on the token, docs/key-store.md §The verifier's card
/// keys). The message says what is missing or wrong.
Result<std::unique_ptr<card::desfire::CardKeySource>, std::string>
openCardKeys(const std::function<std::optional<std::string>(const std::string&)>& setting);

/// The trust list and status list as this device holds them, checked again on load.
struct Lists {
    std::optional<card::TrustList> trust;
    std::optional<registry::StatusList> status;
    std::optional<card::Seconds> trustFetchedAt;
    std::optional<card::Seconds> statusFetchedAt;
    std::vector<std::string> problems; ///< what could not be loaded, in words
    bool brokenDelta = false;          ///< a stored delta did not apply: fetch the whole list
    /// The held snapshot, or a held delta, was signed by a status signer the trust list
    /// withdraws: its version counts for nothing when a new list is offered.
    bool heldSignerWithdrawn = false;
    std::optional<card::Seconds> statusConfirmedAt; ///< see Context::statusConfirmedAt
    std::optional<card::Seconds> statusStaleAt;     ///< see Context::statusStaleAt
    std::optional<card::Seconds> clockHighWater;    ///< see Context::clockHighWater
    bool qrWithoutChip = true; ///< the desk's setting "qr": accept (default) or refuse
};

/// Loads and checks the stored lists: the trust list against the pinned root fingerprint, the
/// status list (snapshot, then each delta) against the trust list's root.
Lists loadLists(VerifierStore& store, const card::Bytes& rootFingerprint, card::Seconds now);

/// Points the context at the lists (which must outlive it), with when the registry last
/// confirmed them and whether it has said since that it cannot publish its current state.
void useLists(Context& context, const Lists& lists);

/// The answer to a tap at an event desk.
struct Admission {
    bool admitted = false;
    registry::CheckIn checkIn;                ///< the one recorded now (when admitted)
    std::optional<registry::CheckIn> earlier; ///< the check-in that makes this one a repeat
    std::optional<std::string> name;          ///< the participant's name, if the list has it
    std::string message;                      ///< in words: "already checked in at 10:32 at desk 2"
};

/// Checks the card in to the event under its rule, or says when and where it already was.
/// Only for cards whose verdict was valid: the caller decides that.
Result<Admission, StoreError> admit(VerifierStore& store, const EventInfo& event,
                                    const card::CardNumber& number, const std::string& desk,
                                    card::Seconds now);

/// Attendance after merging every desk's check-ins: under the event's rule, the first check-in
/// of a card (per day for "daily") counts, later ones from any desk are duplicates. Nothing is
/// dropped: duplicates are listed.
struct Attendance {
    std::vector<registry::CheckIn> counted;
    std::vector<registry::CheckIn> duplicates;
};
Result<Attendance, StoreError> attendance(VerifierStore& store, const EventInfo& event);

/// The desk's local calendar date of a moment (check-in days, the "daily" rule).
card::Days localDate(card::Seconds at);

/// Takes a trust list (from the registry, or a file carried to an offline desk): checked
/// against the pinned root, and never older than the one held (a rollback would bring back a
/// withdrawn station). Returns its sequence, or what is wrong.
Result<std::uint64_t, std::string> acceptTrustList(VerifierStore& store, const card::Bytes& bytes,
                                                   const card::Bytes& rootFingerprint,
                                                   card::Seconds now);
/// Takes a full status list: checked against the held trust list's root, never older than the
/// list held. Returns its version, or what is wrong.
Result<std::uint64_t, std::string> acceptStatusList(VerifierStore& store, const card::Bytes& bytes,
                                                    const card::Bytes& rootFingerprint,
                                                    card::Seconds now);

struct SyncReport {
    std::size_t delivered = 0; ///< outbox items the registry now has
    std::size_t waiting = 0;   ///< still in the outbox
    std::optional<std::uint64_t> trustSequence;
    std::optional<std::uint64_t> statusVersion;
    bool statusWasDelta = false;
    std::size_t checkInsFetched = 0;
    std::size_t namesPurged = 0;
    std::vector<std::string> problems; ///< each step that failed, in words; the rest still ran
};

/// One sync: push the outbox, fetch the trust list (refusing one older than held), the status
/// list (a delta when possible), other desks' check-ins of the events held, and purge names
/// past retention.
SyncReport sync(VerifierStore& store, registry::RegistryClient& client,
                const card::Bytes& rootFingerprint, card::Seconds now, int retentionDays);

} // namespace unioncard::verifier
