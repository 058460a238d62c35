// SPDX-License-Identifier: Apache-2.0
#include "training_union.hpp"

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/desfire.hpp>
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/trust_list.hpp>
#include <unioncard/registry/status_list.hpp>
#include <unioncard/sim/in_process_connection.hpp>
#include <unioncard/verifier/desk.hpp>

namespace unioncard::verifier::ui {

namespace {

using namespace std::chrono;
using R = Result<std::unique_ptr<TrainingUnion>, std::string>;

constexpr int kRegion = 23;
constexpr const char* kStationId = "st-23-training";

} // namespace

TrainingUnion::TrainingUnion(card::desfire::Profile profile, card::desfire::MasterKeys keys,
                             card::desfire::MasterKeys readKeys)
    : m_profile(std::move(profile)), m_keys(std::move(keys)), m_readKeys(std::move(readKeys)) {}

std::optional<TrainingCard> TrainingUnion::find(std::string_view id) const {
    for (const auto& c : m_cards) {
        if (c.id == id)
            return c.kind;
    }
    return std::nullopt;
}

R TrainingUnion::create(VerifierStore& store, const std::filesystem::path& profileFile,
                        card::Seconds now, Mode mode) {
    auto profile = card::desfire::loadProfile(profileFile);
    if (!profile)
        return R(fail(profile.error()));
    auto keys = card::desfire::MasterKeys::generate(profile->roles());
    auto readKeys = keys.only({"record-read"});
    if (!readKeys)
        return R(fail(readKeys.error().message));
    auto u = std::make_unique<TrainingUnion>(std::move(profile).value(), std::move(keys),
                                             std::move(readKeys).value());

    const card::Seconds yearAgo = now - days(365);
    auto rootKey = card::PrivateKey::generate();
    if (!rootKey)
        return R(fail(std::string("root key: ") + rootKey.error().message));
    auto root = card::makeRootCertificate(*rootKey, "Training union root",
                                          {now - days(3650), now + days(3650)});
    if (!root)
        return R(fail("root certificate: " + root.error().message));
    auto stationKey = card::PrivateKey::generate();
    if (!stationKey)
        return R(fail("station key: " + stationKey.error().message));
    auto stationCert = card::issueStationCertificate(
        *rootKey, *root, stationKey->publicKey(), kStationId, {now - days(3000), now + days(3000)});
    if (!stationCert)
        return R(fail("station certificate: " + stationCert.error().message));
    card::StationSigner station{std::move(stationKey).value(), std::move(stationCert).value()};
    auto trust = card::TrustList::build(*rootKey, *root, {station.certificate}, 1, now - hours(1));
    if (!trust)
        return R(fail("trust list: " + trust.error().message));
    auto statusKey = card::PrivateKey::generate();
    if (!statusKey)
        return R(fail("status key: " + statusKey.error().message));
    auto statusCert = card::issueStatusSignerCertificate(
        *rootKey, *root, statusKey->publicKey(), "training-status", {yearAgo, now + days(365)});
    if (!statusCert)
        return R(fail("status certificate: " + statusCert.error().message));

    // The status list was made 12 minutes ago: serials 1..1000 of the region, card 2 revoked.
    registry::StatusListContent content;
    content.version = 1;
    content.issuedAt = now - minutes(12);
    content.issuedUpTo = {{kRegion, 1000}};
    content.notValid = {{kRegion, 2, registry::Validity::Revoked}};
    auto statusList = registry::encodeSnapshot(content, *statusKey, *statusCert);
    if (!statusList)
        return R(fail("status list: " + statusList.error().message));

    u->m_rootFingerprint = root->fingerprint();
    const auto fingerprintText = card::formatFingerprint(u->m_rootFingerprint);
    for (auto [key, value] :
         std::vector<std::pair<std::string, std::string>>{{"root_fingerprint", fingerprintText},
                                                          {"desk", "training"},
                                                          {"mode", std::string(toString(mode))},
                                                          {"active_event", "training-event"}}) {
        if (auto e = store.setSetting(key, value))
            return R(fail(e->message));
    }
    if (auto e = store.saveTrustList({trust.value(), 1, now - hours(1)}))
        return R(fail(e->message));
    if (auto e = store.saveStatusSnapshot({statusList.value(), 1, content.issuedAt}))
        return R(fail(e->message));

    struct Spec {
        TrainingCard kind;
        const char* id;
        const char* label;
        std::uint64_t serial;
        card::Days issued;
        card::Days expires;
        bool copy;
        bool blank;
    };
    const card::Days today = localDate(now);
    const std::vector<Spec> specs = {
        {TrainingCard::Valid, "valid", "Valid card", 1, today - days(200), today + days(1600),
         false, false},
        {TrainingCard::Valid2, "valid2", "Another valid card", 7, today - days(30),
         today + days(1800), false, false},
        {TrainingCard::Revoked, "revoked", "Revoked card", 2, today - days(400), today + days(1400),
         false, false},
        {TrainingCard::Expired, "expired", "Expired card", 3, today - days(2000), today - days(10),
         false, false},
        {TrainingCard::Unconfirmed, "unconfirmed", "Card newer than the status list", 1500,
         today - days(1), today + days(1800), false, false},
        {TrainingCard::Copy, "copy", "Copied card", 4, today - days(100), today + days(1700), true,
         false},
        {TrainingCard::Blank, "blank", "Not a union card", 0, today, today, false, true},
    };
    std::vector<std::pair<card::CardNumber, std::string>> participants;
    for (const auto& spec : specs) {
        auto chip = std::make_unique<sim::VirtualDesfire>();
        TrainingCardInfo info{spec.kind, spec.id, spec.label, std::nullopt};
        if (!spec.blank) {
            auto number = card::CardNumber::compose(kRegion, spec.serial);
            if (!number)
                return R(fail(number.error().message));
            info.number = number.value();
            const auto uid = chip->realUid();
            card::CardRecord record{number.value(),
                                    "M-23-" + std::to_string(1000 + spec.serial),
                                    kRegion,
                                    100245,
                                    1,
                                    spec.issued,
                                    spec.expires,
                                    card::Bytes(uid.begin(), uid.end()),
                                    kStationId};
            auto bytes = card::signRecord(station, record);
            if (!bytes)
                return R(fail("record: " + bytes.error()));
            // A copy: the same record on a chip personalised with other keys.
            auto otherKeys = card::desfire::MasterKeys::generate(u->m_profile.roles());
            sim::InProcessConnection connection(*chip);
            card::desfire::Desfire desfire(connection);
            auto done = card::desfire::personalise(desfire, u->m_profile,
                                                   spec.copy ? otherKeys : u->m_keys, *bytes);
            if (!done)
                return R(fail("personalising the " + std::string(spec.id) + " card failed"));
            if (spec.kind == TrainingCard::Valid)
                participants.emplace_back(number.value(), "Иванова Мария Петровна");
            if (spec.kind == TrainingCard::Revoked)
                participants.emplace_back(number.value(), "Петров Сергей Иванович");
        }
        u->m_cards.push_back(info);
        u->m_chips.emplace(spec.kind, std::move(chip));
    }

    EventInfo event;
    event.id = "training-event";
    event.name = "Региональная конференция (учебная)";
    event.rule = CheckInRule::Once;
    event.endsOn = today + days(1);
    if (auto e = store.putEvent(event))
        return R(fail(e->message));
    EventInfo second;
    second.id = "training-festival";
    second.name = "Фестиваль педагогов (учебный, ежедневная отметка)";
    second.rule = CheckInRule::Daily;
    second.endsOn = today + days(3);
    if (auto e = store.putEvent(second))
        return R(fail(e->message));
    if (auto e = store.setParticipants(event.id, participants))
        return R(fail(e->message));
    return R(std::move(u));
}

} // namespace unioncard::verifier::ui
