// SPDX-License-Identifier: Apache-2.0
#include <unioncard/registry/model.hpp>

#include <fmt/format.h>

#include <array>
#include <utility>

namespace unioncard::registry {
namespace {

// One table per enum: the wire name is the only spelling, in both directions.
template <class E, std::size_t N> using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<CardState, 8> kCardStates{{
    {CardState::Produced, "produced"},
    {CardState::HandedOver, "handed_over"},
    {CardState::Refused, "refused"},
    {CardState::Suspended, "suspended"},
    {CardState::Spoiled, "spoiled"},
    {CardState::Lost, "lost"},
    {CardState::Revoked, "revoked"},
    {CardState::Replaced, "replaced"},
}};

constexpr Names<EventKind, 9> kEventKinds{{
    {EventKind::Produced, "produced"},
    {EventKind::HandedOver, "handed_over"},
    {EventKind::Refused, "refused"},
    {EventKind::Spoiled, "spoiled"},
    {EventKind::Lost, "lost"},
    {EventKind::Revoked, "revoked"},
    {EventKind::Replaced, "replaced"},
    {EventKind::Suspended, "suspended"},
    {EventKind::Reinstated, "reinstated"},
}};

constexpr Names<MemberCategory, 4> kCategories{{
    {MemberCategory::Working, "working"},
    {MemberCategory::Student, "student"},
    {MemberCategory::Pensioner, "pensioner"},
    {MemberCategory::Unknown, "unknown"},
}};

constexpr Names<ApplicationReason, 3> kReasons{{
    {ApplicationReason::FirstCard, "first_card"},
    {ApplicationReason::Replacement, "replacement"},
    {ApplicationReason::Lost, "lost"},
}};

constexpr Names<Role, 4> kRoles{{
    {Role::Station, "station"},
    {Role::Verifier, "verifier"},
    {Role::Merchant, "merchant"},
    {Role::Admin, "admin"},
}};

template <class E, std::size_t N> std::string_view nameOf(const Names<E, N>& names, E value) {
    for (const auto& [v, name] : names)
        if (v == value)
            return name;
    return "?";
}

template <class E, std::size_t N>
std::optional<E> valueOf(const Names<E, N>& names, std::string_view text) {
    for (const auto& [v, name] : names)
        if (name == text)
            return v;
    return std::nullopt;
}

// What a refused transition means, in the words an operator needs.
std::string describe(CardState state) {
    switch (state) {
    case CardState::Produced:
        return "the card is produced and not yet handed over";
    case CardState::HandedOver:
        return "the card was already handed over";
    case CardState::Refused:
        return "the member refused the card";
    case CardState::Suspended:
        return "the card is suspended";
    case CardState::Spoiled:
        return "the card was spoiled and its number voided";
    case CardState::Lost:
        return "the card was reported lost";
    case CardState::Revoked:
        return "the card was revoked";
    case CardState::Replaced:
        return "the card was replaced by a newer one";
    }
    return "?";
}

} // namespace

std::string_view toString(CardState state) {
    return nameOf(kCardStates, state);
}
std::string_view toString(EventKind kind) {
    return nameOf(kEventKinds, kind);
}
std::string_view toString(MemberCategory category) {
    return nameOf(kCategories, category);
}
std::string_view toString(ApplicationReason reason) {
    return nameOf(kReasons, reason);
}
std::string_view toString(Role role) {
    return nameOf(kRoles, role);
}

std::optional<CardState> parseCardState(std::string_view text) {
    return valueOf(kCardStates, text);
}
std::optional<EventKind> parseEventKind(std::string_view text) {
    return valueOf(kEventKinds, text);
}
std::optional<MemberCategory> parseMemberCategory(std::string_view text) {
    return valueOf(kCategories, text);
}
std::optional<ApplicationReason> parseApplicationReason(std::string_view text) {
    return valueOf(kReasons, text);
}
std::optional<Role> parseRole(std::string_view text) {
    return valueOf(kRoles, text);
}

std::string_view toString(Validity validity) {
    switch (validity) {
    case Validity::Valid:
        return "valid";
    case Validity::Suspended:
        return "suspended";
    case Validity::Revoked:
        return "revoked";
    }
    return "?";
}

std::string_view toString(Lookup::Verdict verdict) {
    switch (verdict) {
    case Lookup::Verdict::Valid:
        return "valid";
    case Lookup::Verdict::Suspended:
        return "suspended";
    case Lookup::Verdict::Revoked:
        return "revoked";
    case Lookup::Verdict::Unknown:
        return "unknown";
    case Lookup::Verdict::NotValid:
        return "not_valid";
    }
    return "?";
}

std::string_view toString(DeviceAction action) {
    switch (action) {
    case DeviceAction::Disable:
        return "disable";
    case DeviceAction::Enable:
        return "enable";
    case DeviceAction::Rotate:
        return "rotate";
    case DeviceAction::Pin:
        return "pin";
    }
    return "?";
}

Lookup merchantView(const Lookup& full) {
    Lookup out;
    const bool valid = full.verdict == Lookup::Verdict::Valid;
    out.verdict = valid ? Lookup::Verdict::Valid : Lookup::Verdict::NotValid;
    out.reason = valid ? "valid" : "not valid";
    return out;
}

std::string_view toString(StoreErrorCode code) {
    switch (code) {
    case StoreErrorCode::InvalidArgument:
        return "invalid_argument";
    case StoreErrorCode::NotFound:
        return "not_found";
    case StoreErrorCode::Conflict:
        return "conflict";
    case StoreErrorCode::IdempotencyConflict:
        return "idempotency_conflict";
    case StoreErrorCode::Exhausted:
        return "exhausted";
    case StoreErrorCode::LeaseQuota:
        return "lease_quota";
    case StoreErrorCode::OutOfScope:
        return "out_of_scope";
    case StoreErrorCode::Unavailable:
        return "unavailable";
    case StoreErrorCode::Internal:
        return "internal";
    }
    return "?";
}

Validity validityOf(CardState state) {
    switch (state) {
    case CardState::Produced:
    case CardState::HandedOver:
        return Validity::Valid;
    case CardState::Refused:
    case CardState::Suspended:
        return Validity::Suspended;
    case CardState::Spoiled:
    case CardState::Lost:
    case CardState::Revoked:
    case CardState::Replaced:
        return Validity::Revoked;
    }
    return Validity::Revoked;
}

bool isFinal(CardState state) {
    return validityOf(state) == Validity::Revoked;
}

Result<CardState, TransitionError> nextState(std::optional<CardState> current, EventKind kind) {
    auto refuse = [&](std::string why) -> Result<CardState, TransitionError> {
        return fail(TransitionError{fmt::format("cannot record '{}': {}", toString(kind), why)});
    };
    if (!current) {
        // A card the registry has not heard of: it is produced, or it failed in production.
        switch (kind) {
        case EventKind::Produced:
            return CardState::Produced;
        case EventKind::Spoiled:
            return CardState::Spoiled;
        default:
            return refuse("the registry has no record of this card being produced");
        }
    }
    const CardState s = *current;
    if (isFinal(s))
        return refuse(describe(s) + "; that is final");
    switch (kind) {
    case EventKind::Produced:
        return refuse("the card was already produced");
    case EventKind::HandedOver:
        if (s == CardState::Produced || s == CardState::Refused)
            return CardState::HandedOver;
        return refuse(describe(s));
    case EventKind::Refused:
        if (s == CardState::Produced)
            return CardState::Refused;
        return refuse(describe(s));
    case EventKind::Spoiled:
        // A card damaged before it reached the member; once handed over, it is lost or replaced.
        if (s == CardState::Produced || s == CardState::Refused)
            return CardState::Spoiled;
        return refuse(describe(s));
    case EventKind::Lost:
        if (s == CardState::HandedOver || s == CardState::Suspended)
            return CardState::Lost;
        return refuse(describe(s) + "; only a card in the member's hands can be lost");
    case EventKind::Revoked:
        return CardState::Revoked;
    case EventKind::Replaced:
        return CardState::Replaced;
    case EventKind::Suspended:
        if (s == CardState::HandedOver)
            return CardState::Suspended;
        return refuse(describe(s) + "; only a handed-over card can be suspended");
    case EventKind::Reinstated:
        if (s == CardState::Suspended)
            return CardState::HandedOver;
        return refuse(describe(s) + "; only a suspended card can be reinstated");
    }
    return refuse("unknown event");
}

bool allows(Role role, Permission permission) {
    switch (role) {
    case Role::Admin:
        return true;
    case Role::Station:
        return permission != Permission::Administer && permission != Permission::WriteCheckIns;
    case Role::Verifier:
        return permission == Permission::LookupStatus || permission == Permission::ReadStatusList ||
               permission == Permission::WriteCheckIns;
    case Role::Merchant:
        // The status and trust lists hold no personal data, and let a shop check offline.
        return permission == Permission::LookupStatus || permission == Permission::ReadStatusList;
    }
    return false;
}

} // namespace unioncard::registry
