// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/record_text.hpp>
#include <unioncard/verifier/verify.hpp>

#include <fmt/format.h>

namespace unioncard::verifier {

using card::CardNumber;
using RecordVerdict = card::Verdict;
namespace desfire = card::desfire;

std::string_view toString(VerdictCode code) {
    switch (code) {
    case VerdictCode::Valid:
        return "valid";
    case VerdictCode::Revoked:
        return "revoked";
    case VerdictCode::Suspended:
        return "suspended";
    case VerdictCode::Expired:
        return "expired";
    case VerdictCode::NotYetValid:
        return "not_yet_valid";
    case VerdictCode::BadSignature:
        return "bad_signature";
    case VerdictCode::UnknownIssuer:
        return "unknown_issuer";
    case VerdictCode::ChipAuthFailed:
        return "chip_auth_failed";
    case VerdictCode::NotUnionCard:
        return "not_union_card";
    case VerdictCode::Unreadable:
        return "unreadable";
    case VerdictCode::CannotConfirmOffline:
        return "cannot_confirm_offline";
    }
    return "unreadable";
}

std::string_view toString(Source source) {
    switch (source) {
    case Source::Chip:
        return "chip";
    case Source::Number:
        return "number";
    case Source::Qr:
        return "qr";
    }
    return "chip";
}

std::string_view toString(StatusCheck check) {
    switch (check) {
    case StatusCheck::None:
        return "none";
    case StatusCheck::Online:
        return "online";
    case StatusCheck::StatusList:
        return "status_list";
    }
    return "none";
}

namespace {

Verdict verdictOf(VerdictCode code, std::string reason, Source source) {
    Verdict v;
    v.code = code;
    v.reason = std::move(reason);
    v.source = source;
    return v;
}

std::string timeOf(card::Seconds at) {
    return registry::api::formatTime(at);
}

// The card's status, once everything the card itself carries has checked out. `what` names
// what was seen ("the card's chip", "the printed number"), for the reason.
void decideStatus(Verdict& v, const CardNumber& number, const Context& c) {
    if (c.online) {
        auto answer = c.online(number);
        if (answer) {
            v.statusCheck = StatusCheck::Online;
            switch (answer->verdict) {
            case registry::Lookup::Verdict::Valid:
                v.code = VerdictCode::Valid;
                v.reason = "valid: checked with the registry just now";
                return;
            case registry::Lookup::Verdict::Suspended:
                v.code = VerdictCode::Suspended;
                v.reason = "suspended: " + answer->reason;
                return;
            case registry::Lookup::Verdict::Revoked:
                v.code = VerdictCode::Revoked;
                v.reason = "revoked: " + answer->reason;
                return;
            case registry::Lookup::Verdict::NotValid:
                // A merchant's credential learns no more than this (neither why nor since when).
                v.code = VerdictCode::Revoked;
                v.reason = "not valid: the registry says so just now";
                return;
            case registry::Lookup::Verdict::Unknown:
                if (v.source == Source::Number) {
                    v.code = VerdictCode::NotUnionCard;
                    v.reason = "the registry has never issued this number";
                    return;
                }
                // A signed record the registry has not heard of. A station reports "produced"
                // at once, but its outbox may hold the report through an outage: within the
                // grace days after the issue date the list decides. Later, a record nobody
                // reported is a card the registry cannot vouch for (a station's key misused),
                // and the list, which names only cards it knows, must not make it valid.
                if (v.record && c.now >= card::Seconds{v.record->issued + kUnknownCardGrace}) {
                    v.code = VerdictCode::CannotConfirmOffline;
                    v.reason = fmt::format("cannot confirm: the registry has no record of this "
                                           "card, issued on {}; ask the office that issued it",
                                           card::formatDate(v.record->issued));
                    return;
                }
                v.statusCheck = StatusCheck::None;
                break;
            }
        }
        // Unreachable or refused: fall through to what this device holds.
    }
    if (c.statusList == nullptr) {
        v.code = VerdictCode::CannotConfirmOffline;
        v.reason = "cannot confirm offline: this device holds no status list yet; check online";
        return;
    }
    if (c.statusStaleAt) {
        v.code = VerdictCode::CannotConfirmOffline;
        v.reason = fmt::format("cannot confirm offline: at {} the registry said it cannot publish "
                               "a current status list, so revocations since may be missing; check "
                               "online",
                               timeOf(*c.statusStaleAt));
        return;
    }
    const card::Seconds confirmed =
        std::max(c.statusList->issuedAt(), c.statusConfirmedAt.value_or(card::Seconds{}));
    if (c.now - confirmed > c.maxStatusAge) {
        v.code = VerdictCode::CannotConfirmOffline;
        v.reason = confirmed == c.statusList->issuedAt()
                       ? "cannot confirm offline: " +
                             c.statusList->stalenessWarning(c.maxStatusAge, c.now).value_or("")
                       : fmt::format("cannot confirm offline: the registry last confirmed this "
                                     "desk's status list at {}, longer ago than allowed; connect "
                                     "to the registry",
                                     timeOf(confirmed));
        return;
    }
    v.statusCheck = StatusCheck::StatusList;
    const auto validity = c.statusList->lookup(number.region(), number.serial());
    const std::string asOf = fmt::format("status list of {}", timeOf(c.statusList->issuedAt()));
    if (!validity) {
        v.code = VerdictCode::CannotConfirmOffline;
        v.reason = fmt::format("cannot confirm offline: the card is newer than the {}; check "
                               "online",
                               asOf);
        return;
    }
    switch (*validity) {
    case registry::Validity::Valid:
        if (v.source == Source::Number) {
            // The list names only cards that are not valid: a number it does not name may
            // never have been issued (a leased serial not yet used). Without a signed record
            // only the registry can say "valid".
            v.code = VerdictCode::CannotConfirmOffline;
            v.reason = fmt::format("cannot confirm offline: the {} does not list this number as "
                                   "revoked or suspended, but a typed number can be confirmed "
                                   "only online",
                                   asOf);
            return;
        }
        v.code = VerdictCode::Valid;
        v.reason = fmt::format("valid: checked offline against the {}", asOf);
        return;
    case registry::Validity::Suspended:
        v.code = VerdictCode::Suspended;
        v.reason = fmt::format("suspended, by the {}", asOf);
        return;
    case registry::Validity::Revoked:
        v.code = VerdictCode::Revoked;
        v.reason = fmt::format("revoked, by the {}", asOf);
        return;
    }
}

VerdictCode codeOf(RecordVerdict verdict) {
    switch (verdict) {
    case RecordVerdict::Valid:
        return VerdictCode::Valid;
    case RecordVerdict::NotYetValid:
        return VerdictCode::NotYetValid;
    case RecordVerdict::Expired:
        return VerdictCode::Expired;
    case RecordVerdict::BadSignature:
        return VerdictCode::BadSignature;
    // A station whose certificate did not cover the issue date is no issuer for that record.
    case RecordVerdict::UnknownIssuer:
    case RecordVerdict::IssuerNotValid:
        return VerdictCode::UnknownIssuer;
    case RecordVerdict::NotUnionCard:
        return VerdictCode::NotUnionCard;
    }
    return VerdictCode::NotUnionCard;
}

// Set when this device's clock is behind a time it has already seen signed: then nothing it
// judges by date (a card's validity, a list's age) can be trusted.
std::optional<std::string> clockSetBack(const Context& c) {
    if (!c.clockHighWater || c.now + registry::kStatusClockSkew >= *c.clockHighWater) {
        return std::nullopt;
    }
    return fmt::format("this device's clock reads {}, but it already holds a list the registry "
                       "signed at {}: the clock was set back. Set the date and time right; no "
                       "card is checked until then",
                       timeOf(c.now), timeOf(*c.clockHighWater));
}

} // namespace

Verdict verifyRecordBytes(std::span<const std::uint8_t> bytes, Source source,
                          const std::optional<card::Bytes>& chipUid, const Context& c) {
    if (c.trust == nullptr) {
        return verdictOf(VerdictCode::UnknownIssuer,
                         "this device holds no trust list yet, so no issuer is known: sync "
                         "with the registry",
                         source);
    }
    const auto today = c.asOf.value_or(std::chrono::floor<std::chrono::days>(c.now));
    const card::RecordVerification checked = card::verifyRecord(bytes, *c.trust, today, c.scheme);
    Verdict v = verdictOf(codeOf(checked.verdict), checked.reason, source);
    if (checked.verdict == RecordVerdict::Valid || checked.verdict == RecordVerdict::Expired ||
        checked.verdict == RecordVerdict::NotYetValid) {
        // The signature held: the fields are the issuer's.
        v.record = checked.record;
        if (checked.record) {
            v.number = checked.record->number;
        }
        // A forgery is named whatever the clock says; the dates and the status are not judged
        // on a day the device has already passed.
        if (auto wrong = clockSetBack(c)) {
            v.code = VerdictCode::CannotConfirmOffline;
            v.reason = *wrong;
            return v;
        }
    }
    if (checked.verdict != RecordVerdict::Valid) {
        return v;
    }
    if (source == Source::Qr && checked.record->chipUid) {
        // The QR is the chip's record, so it proves the record, not the card.
        if (!c.qrWithoutChip) {
            v.code = VerdictCode::CannotConfirmOffline;
            v.reason = "this desk checks a card's chip, not its QR (a photo of the card's back "
                       "reads the same): hold the card on the reader";
            return v;
        }
        v.chipNotChecked = true;
    }
    if (chipUid) {
        // The record names the chip it was written to; a record on another chip is a copy.
        if (!checked.record->chipUid || *checked.record->chipUid != *chipUid) {
            v.code = VerdictCode::ChipAuthFailed;
            v.reason =
                checked.record->chipUid
                    ? fmt::format("the record belongs to chip {}, not to this chip {}: a "
                                  "copy",
                                  card::toHex(*checked.record->chipUid), card::toHex(*chipUid))
                    : "the record names no chip, so it cannot be a chip's record: a copy";
            return v;
        }
    }
    decideStatus(v, checked.record->number, c);
    if (v.chipNotChecked) {
        v.reason += " (QR only: the chip was not checked, so this may be a photo or a print of "
                    "the card)";
    }
    return v;
}

Verdict verifyChip(desfire::Desfire& card, const desfire::Profile& profile,
                   const desfire::CardKeySource& readKeys,
                   const std::optional<card::Bytes>& readerUid, const Context& c) {
    const std::size_t before = card.apduCount();
    desfire::ReadOptions options;
    options.uid = readerUid;
    if (c.trust != nullptr) {
        options.retiredKeyVersions = c.trust->withdrawals().retiredCardKeyVersions;
    }
    auto read = desfire::readRecord(card, profile, readKeys, options);
    if (!read) {
        const desfire::Error& e = read.error();
        Verdict v;
        v.source = Source::Chip;
        v.apdus = card.apduCount() - before;
        if (e.code == desfire::ErrorCode::KeyRetired) {
            // The union retired the keys this chip was made with (they were stolen): a copy
            // made with them would answer as this card does, so the chip proves nothing.
            v.code = VerdictCode::ChipAuthFailed;
            v.reason = e.message + "; the printed number can still be checked";
        } else if (e.status == desfire::Status::AuthenticationError ||
                   e.code == desfire::ErrorCode::IntegrityError) {
            v.code = VerdictCode::ChipAuthFailed;
            v.reason = "the chip does not hold this card's key: a copy of a card, or a forgery";
        } else if (e.status == desfire::Status::ApplicationNotFound ||
                   e.code == desfire::ErrorCode::WrongCard ||
                   e.code == desfire::ErrorCode::Malformed ||
                   (e.code == desfire::ErrorCode::CardStatus && !e.status)) {
            v.code = VerdictCode::NotUnionCard;
            v.reason = e.status == desfire::Status::ApplicationNotFound
                           ? "not a union card: the chip has no union application (a blank card "
                             "or another system's card)"
                           : "not a union card: " + e.message;
        } else if (e.code == desfire::ErrorCode::Configuration) {
            v.code = VerdictCode::Unreadable;
            v.reason = "this verifier cannot read cards: " + e.message;
        } else {
            v.code = VerdictCode::Unreadable;
            v.reason = "the card could not be read (" + e.message +
                       "): hold it still on the reader and try again";
        }
        return v;
    }
    Verdict v = verifyRecordBytes(read->record, Source::Chip, read->uid, c);
    v.apdus = card.apduCount() - before;
    return v;
}

Verdict verifyNumber(std::string_view typed, const Context& c) {
    auto number = CardNumber::parse(typed, c.scheme);
    if (!number) {
        return verdictOf(VerdictCode::NotUnionCard,
                         "not a union card number: " + number.error().message, Source::Number);
    }
    Verdict v = verdictOf(VerdictCode::CannotConfirmOffline, {}, Source::Number);
    v.number = number.value();
    if (auto wrong = clockSetBack(c)) {
        v.reason = *wrong;
        return v;
    }
    decideStatus(v, number.value(), c);
    if (v.code == VerdictCode::Valid) {
        // A typed number proves no card is at hand, and carries no dates.
        v.reason += " (number only: the card itself was not checked)";
    }
    return v;
}

Verdict verifyText(std::string_view text, const Context& c) {
    auto bytes = card::recordFromText(text);
    if (!bytes) {
        return verdictOf(VerdictCode::NotUnionCard, bytes.error(), Source::Qr);
    }
    return verifyRecordBytes(bytes.value(), Source::Qr, std::nullopt, c);
}

} // namespace unioncard::verifier
