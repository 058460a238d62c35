// SPDX-License-Identifier: Apache-2.0
// A verifier is stolen, with its card keys. Every card's keys are diversified from its UID, which
// is printed in its QR, so whoever holds the record-read master can make a chip that answers as
// any member's card. Two defences, one test each:
//  - the desk's master lives on a PKCS#11 token (SoftHSM2 here) and the per-card key is made
//    inside it: the thief who has the desk's disk has no master, and the token gives none;
//  - card keys have versions, and the trust list can retire a stolen one: a chip keyed with it
//    is never taken again, whatever version byte the thief writes on his copy.
// The chip is sim's virtual DESFire, in process; the token is a SoftHSM2 token made for the test.

#include "../unit/cardlib/signing_fixture.hpp"
#include "test_folder.hpp"

#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/pkcs11.hpp>
#include <unioncard/sim/in_process_connection.hpp>
#include <unioncard/sim/virtual_desfire.hpp>
#include <unioncard/verifier/verify.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace unioncard {
namespace {

namespace fs = std::filesystem;
using card::Bytes;
using card::desfire::MasterKeys;
using card::testing::at;
using card::testing::take;
using verifier::VerdictCode;

constexpr const char* kPin = "2468-desk";
constexpr const char* kRead = "record-read";

Bytes hex(std::string_view text) {
    return *card::fromHex(text);
}

class CardKeyAttack : public ::testing::Test {
protected:
    // A chip personalised by a station holding `keys`, its record signed for its own UID.
    void personalise(sim::VirtualDesfire& chip, const MasterKeys& keys) {
        auto fields = card::testing::Signing::record("st-23-01");
        const auto uid = chip.realUid();
        fields.chipUid = Bytes(uid.begin(), uid.end());
        const Bytes record = take(card::signRecord(station, fields));
        sim::InProcessConnection reader(chip);
        card::desfire::Desfire desfire(reader);
        const auto report = card::desfire::personalise(desfire, profile, keys, record);
        ASSERT_TRUE(report.ok()) << report.error().message;
    }

    // The desk's answer for the chip, with the trust list of these withdrawals.
    verifier::Verdict verify(sim::VirtualDesfire& chip, const card::desfire::CardKeySource& keys,
                             const card::Withdrawals& withdrawals = {}) {
        const Bytes bytes = take(card::TrustList::build(
            signing.rootKey, signing.root, {station.certificate}, 2, at(2026, 11, 1), withdrawals));
        const auto trust = take(card::TrustList::load(bytes, signing.root.fingerprint()));
        verifier::Context context;
        context.trust = &trust;
        context.now = at(2027, 1, 15);
        sim::InProcessConnection reader(chip);
        card::desfire::Desfire desfire(reader);
        return verifier::verifyChip(desfire, profile, keys, std::nullopt, context);
    }

    card::testing::Signing signing;
    card::StationSigner station = signing.station("st-23-01");
    card::desfire::Profile profile = take(card::desfire::loadProfile(
        std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) + "/cards/union-desfire.toml"));
};

// The card's own checks passed; no status list is held here, so that is as far as it goes.
void expectGenuine(const verifier::Verdict& v) {
    EXPECT_EQ(v.code, VerdictCode::CannotConfirmOffline) << v.reason;
    EXPECT_TRUE(v.record.has_value()) << v.reason;
}

// The union retires key version 1 (a desk holding it was stolen). Before the fix a chip keyed
// with version 1, the genuine card or the thief's copy, read as the card; now neither does, the
// reason says why, and the cards of version 2 read as before. A copy that claims version 2 in
// its key version byte still holds version 1's keys, and fails authentication as a copy.
TEST_F(CardKeyAttack, AChipKeyedWithARetiredVersionIsNeverTakenForTheCard) {
    const auto v1 = MasterKeys::generate(profile.roles(), 1);
    auto v2 = MasterKeys::generate(profile.roles(), 2);
    sim::VirtualDesfire old;
    personalise(old, v1);
    sim::VirtualDesfire current;
    personalise(current, v2);
    const auto readV1 = take(v1.only({kRead}));
    const auto readV2 = take(v2.only({kRead}));
    expectGenuine(verify(old, readV1));

    card::Withdrawals retire;
    retire.retiredCardKeyVersions = {1};
    const auto refused = verify(old, readV1, retire);
    EXPECT_EQ(refused.code, VerdictCode::ChipAuthFailed) << refused.reason;
    EXPECT_NE(refused.reason.find("version 1, which the union has retired"), std::string::npos)
        << refused.reason;

    const auto fresh = verify(current, readV2, retire);
    expectGenuine(fresh);
    EXPECT_EQ(fresh.apdus, 8u) << "GetVersion (3), select, GetKeyVersion, authenticate (2), read";

    // The thief's copy: version 1's keys under the version byte 2.
    auto disguised = take(v1.only(profile.roles()));
    disguised.setVersion(2);
    sim::VirtualDesfire copy;
    personalise(copy, disguised);
    const auto copied = verify(copy, readV2, retire);
    EXPECT_EQ(copied.code, VerdictCode::ChipAuthFailed) << copied.reason;
    EXPECT_EQ(copied.reason.find("retired"), std::string::npos) << copied.reason;

    // A desk that has no key of the card's version says so, rather than calling it a copy.
    const auto unknown = verify(current, readV1, retire);
    EXPECT_EQ(unknown.code, VerdictCode::Unreadable) << unknown.reason;
    EXPECT_NE(unknown.reason.find("no record-read key of version 2"), std::string::npos)
        << unknown.reason;
}

class TokenDesk : public CardKeyAttack {
protected:
    void SetUp() override {
        module = UNIONCARD_SOFTHSM2_MODULE;
        if (module.empty() || !fs::exists(module) || std::string(UNIONCARD_SOFTHSM2_UTIL).empty()) {
            GTEST_SKIP() << "SoftHSM2 is not installed (Debian: softhsm2)";
        }
        fs::create_directories(folder.dir / "tokens");
        std::ofstream(folder.dir / "softhsm2.conf")
            << "directories.tokendir = " << (folder.dir / "tokens").string()
            << "\nobjectstore.backend = file\nlog.level = ERROR\n";
        ASSERT_EQ(setenv("SOFTHSM2_CONF", (folder.dir / "softhsm2.conf").c_str(), 1), 0);
        const std::string init =
            fmt::format("'{}' --init-token --free --label desk-vf-01 --pin {} --so-pin 1357 "
                        ">/dev/null",
                        UNIONCARD_SOFTHSM2_UTIL, kPin);
        ASSERT_EQ(std::system(init.c_str()), 0);
    }

    std::shared_ptr<card::pkcs11::Session> session() const {
        return take(card::pkcs11::Session::open(module, "desk-vf-01", card::Secret(kPin)));
    }

    security::TestFolder folder{"unioncard-card-key-"};
    fs::path module;
};

// The desk's master goes onto the token and never comes out: the token makes each card's key
// (AN10922's own example through the token's CMAC, and the union's cards read through it), and
// asked for the master's value it refuses. Before the fix a desk's master was a file on its disk.
TEST_F(TokenDesk, AStolenDesksTokenGivesItsThiefNoMasterKey) {
    const auto station = MasterKeys::generate(profile.roles(), 1);
    {
        const auto s = session();
        const auto imported = card::pkcs11::importCardKey(*s, kRead, 1, *station.key(kRead));
        ASSERT_FALSE(imported) << imported->message;
        const auto again = card::pkcs11::importCardKey(*s, kRead, 1, *station.key(kRead));
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(again->code, card::pkcs11::ErrorCode::AlreadyExists);
        // AN10922 rev. 2.0 §2.2.1's example master, as another role.
        ASSERT_FALSE(
            card::pkcs11::importCardKey(*s, "an10922", 1, hex("00112233445566778899AABBCCDDEEFF")));
    }
    const auto keys = take(card::pkcs11::TokenCardKeys::open(
        module, "desk-vf-01", card::Secret(kPin), {kRead, "an10922"}));
    EXPECT_EQ(keys->versions(kRead), std::vector<std::uint8_t>{1});
    const Bytes m = card::desfire::diversificationInput(hex("04782E21801D80"), 0xF54230,
                                                        Bytes{'N', 'X', 'P', ' ', 'A', 'b', 'u'});
    EXPECT_EQ(take(keys->diversify("an10922", 1, m)), hex("A8DD63A3B89D54B37CA802473FDA9175"));
    const Bytes unionInput = card::desfire::diversificationInput(hex("04A1B2C3D4E5F6"), profile.aid,
                                                                 profile.systemIdentifier);
    EXPECT_EQ(take(keys->diversify(kRead, 1, unionInput)),
              take(station.diversify(kRead, 1, unionInput)));
    // Shorter inputs would need AN10922's own padding, which a token's CMAC does not do.
    EXPECT_FALSE(keys->diversify(kRead, 1, Bytes(15, 0x11)).ok());
    EXPECT_FALSE(keys->diversify(kRead, 1, Bytes(32, 0x11)).ok()) << "AN10922 allows 31";
    for (const std::size_t n : {16u, 31u}) {
        EXPECT_EQ(take(keys->diversify(kRead, 1, Bytes(n, 0x11))),
                  take(station.diversify(kRead, 1, Bytes(n, 0x11))))
            << n << " bytes";
    }

    sim::VirtualDesfire chip;
    personalise(chip, station);
    expectGenuine(verify(chip, *keys));

    // What the thief can ask the token for: not the value.
    const auto s = session();
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    const std::string label = card::pkcs11::cardKeyLabel(kRead, 1);
    const auto handle = take(s->findOne(
        {card::pkcs11::attribute(CKA_CLASS, cls), card::pkcs11::textAttribute(CKA_LABEL, label)},
        label));
    const auto value = s->attributeValue(handle, CKA_VALUE);
    ASSERT_FALSE(value.ok()) << "the token gave out the master";
    EXPECT_EQ(value.error(), static_cast<CK_RV>(CKR_ATTRIBUTE_SENSITIVE));
    EXPECT_EQ(s->flag(handle, CKA_EXTRACTABLE), false);
}

// A key put on the token so that it can leave it (extractable) is no better than a file: the
// desk refuses to open with it, and says which key.
TEST_F(TokenDesk, AMasterThatCouldLeaveTheTokenIsRefused) {
    const auto s = session();
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_BBOOL yes = CK_TRUE;
    Bytes value(16, 0x42);
    const std::string label = card::pkcs11::cardKeyLabel(kRead, 1);
    std::vector<CK_ATTRIBUTE> attributes = {
        card::pkcs11::attribute(CKA_CLASS, cls),
        card::pkcs11::attribute(CKA_KEY_TYPE, type),
        card::pkcs11::attribute(CKA_TOKEN, yes),
        card::pkcs11::attribute(CKA_SIGN, yes),
        card::pkcs11::attribute(CKA_EXTRACTABLE, yes),
        card::pkcs11::textAttribute(CKA_LABEL, label),
        card::pkcs11::bytesAttribute(CKA_VALUE, value.data(), value.size())};
    CK_OBJECT_HANDLE object = 0;
    ASSERT_EQ(s->f()->C_CreateObject(s->handle(), attributes.data(), attributes.size(), &object),
              CKR_OK);
    const auto keys = card::pkcs11::TokenCardKeys::open(module, "desk-vf-01", card::Secret(kPin));
    ASSERT_FALSE(keys.ok());
    EXPECT_EQ(keys.error().code, card::pkcs11::ErrorCode::Damaged);
    EXPECT_NE(keys.error().message.find(label), std::string::npos) << keys.error().message;
}

} // namespace
} // namespace unioncard
