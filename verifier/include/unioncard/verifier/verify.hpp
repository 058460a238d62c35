// SPDX-License-Identifier: Apache-2.0
#pragma once

// The verdict: one pipeline for each way a card is shown (the chip on a reader, the printed
// number typed in, the QR of the printed back or the virtual card), one answer with a reason.
// Never a false "valid": whatever cannot be checked says so (cannot_confirm_offline), and
// whatever fails says what failed.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/desfire.hpp>
#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/desfire/profile.hpp>
#include <unioncard/card/trust_list.hpp>
#include <unioncard/registry/client.hpp>
#include <unioncard/registry/status_list.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace unioncard::verifier {

enum class VerdictCode {
    Valid,
    Revoked,
    Suspended,
    Expired,
    NotYetValid,
    BadSignature,
    UnknownIssuer,
    ChipAuthFailed,
    NotUnionCard,
    Unreadable,           ///< the card left the field or the reader failed: try again
    CannotConfirmOffline, ///< the card's own checks passed, its status is unknown here: check
                          ///< online
};
/// The JSON name: "valid", "revoked", ..., "cannot_confirm_offline" (a contract with scripts).
std::string_view toString(VerdictCode code);

/// How the card was shown.
enum class Source { Chip, Number, Qr };
std::string_view toString(Source source);

/// Which status check was made, so the screen can say it.
enum class StatusCheck {
    None,       ///< the verdict came before any status check (bad signature, expired, ...)
    Online,     ///< the registry answered a lookup just now
    StatusList, ///< the signed status list held on this device
};
std::string_view toString(StatusCheck check);

struct Verdict {
    VerdictCode code = VerdictCode::Unreadable;
    std::string reason; ///< in words, for the person at the desk
    Source source = Source::Chip;
    StatusCheck statusCheck = StatusCheck::None;
    std::optional<card::CardNumber> number; ///< when it could be read
    std::optional<card::CardRecord> record; ///< chip and QR, when the signature held
    std::size_t apdus = 0;                  ///< chip: exchanges with the reader and card
    /// A chip card's record read from its QR: the signature and status hold, but no chip
    /// answered with the card's key, so a photo or print of the card's back reads the same.
    /// Screens show "chip not checked" beside the verdict.
    bool chipNotChecked = false;

    bool valid() const { return code == VerdictCode::Valid; }
    /// "9643 •••• •••• 1234" style: what a merchant may see.
    std::string maskedNumber() const { return number ? number->masked() : std::string(); }
};

/// A signed record the registry answers "unknown" for is judged by the status list only on its
/// issue day and the day after (a station's "produced" may wait in its outbox); later it is
/// cannot_confirm_offline, never valid.
inline constexpr std::chrono::days kUnknownCardGrace{2};

/// An online lookup (the registry's GET /v1/cards/{number}); tests pass their own.
using OnlineLookup =
    std::function<Result<registry::Lookup, registry::ClientError>(const card::CardNumber&)>;

/// What the checks are made against. Pointers may be null: no trust list means no record can
/// be trusted (unknown issuer); no status list means no offline status answer.
struct Context {
    const card::TrustList* trust = nullptr;
    const registry::StatusList* statusList = nullptr;
    card::Seconds now{};
    /// Judge the record's dates as of this day instead of today ("will the card still be valid
    /// on the day of the event?"). The status is always today's.
    std::optional<card::Days> asOf;
    /// A status list older than this is not used for a "valid" (revocations may be missing);
    /// the answer is cannot_confirm_offline instead.
    std::chrono::seconds maxStatusAge = std::chrono::hours(72);
    /// When the registry last told this desk, over TLS, that its list is the newest (a 204 to a
    /// delta request, or a fetch): the list's age counts from the later of this and its own
    /// issue time, so a quiet weekend with no revocations does not age a desk out.
    std::optional<card::Seconds> statusConfirmedAt;
    /// When the registry said (503 status_list_stale) that it cannot publish a list of its
    /// current state: from then on the list held may miss revocations, so it never makes a
    /// "valid", however recent it is, until a sync takes a current list again.
    std::optional<card::Seconds> statusStaleAt;
    /// The latest issue time of a list this desk has taken (signed, so the real time is at
    /// least this). A clock more than registry::kStatusClockSkew behind it has been set back:
    /// no card is checked (its dates and its list's age would be judged on a false day), the
    /// answer is cannot_confirm_offline with the reason, until the clock is set right.
    std::optional<card::Seconds> clockHighWater;
    /// The desk's policy for a chip card's record arriving by QR (the QR on the card's back is
    /// the chip's record): true, judged and marked chipNotChecked; false, cannot_confirm_offline
    /// with "hold the card on the reader".
    bool qrWithoutChip = true;
    /// Tried first when set; on any failure the status list answers.
    OnlineLookup online;
    card::NumberScheme scheme = card::NumberScheme::standard();
};

/// The signed record's bytes (from a chip or a QR), checked in full: signature, issuer, dates,
/// then status. `chipUid`: the UID of the chip it was read from, which the record must name.
Verdict verifyRecordBytes(std::span<const std::uint8_t> bytes, Source source,
                          const std::optional<card::Bytes>& chipUid, const Context& context);

/// A union card on a reader: select, chip authentication with the card's read key, the record
/// read under MAC, then verifyRecordBytes. `readerUid`: the UID from the reader (PC/SC GET
/// DATA), which saves three exchanges. `readKeys`: the record-read master keys, in memory or on
/// a token (card/pkcs11.hpp). A chip keyed with a version the trust list retires is
/// chip_auth_failed, its reason saying so.
Verdict verifyChip(card::desfire::Desfire& card, const card::desfire::Profile& profile,
                   const card::desfire::CardKeySource& readKeys,
                   const std::optional<card::Bytes>& readerUid, const Context& context);

/// A typed number: its own check digit first, then the status (online, else the status list).
/// There is no record to check, so the reason says the card itself was not seen.
Verdict verifyNumber(std::string_view typed, const Context& context);

/// The text of a union QR ("UC1:..."), as a scanner types it.
Verdict verifyText(std::string_view text, const Context& context);

} // namespace unioncard::verifier
