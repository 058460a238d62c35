// SPDX-License-Identifier: Apache-2.0
// The verdict pipeline in process: cardlib's client against sim's virtual DESFire, records
// signed by a test union, status lists signed by its status signer. Every verdict the verifier
// can give, and the rule that nothing unconfirmed is ever "valid". The same cases run through
// the real pcscd in tests/integration/verifier.

#include "../cardlib/signing_fixture.hpp"

#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/record_text.hpp>
#include <unioncard/sim/virtual_desfire.hpp>
#include <unioncard/verifier/verify.hpp>

namespace unioncard::verifier {
namespace {

using namespace std::chrono;
using card::Bytes;
using card::testing::at;
using card::testing::take;
namespace desfire = card::desfire;

class Reader : public card::CardConnection {
public:
    explicit Reader(sim::VirtualCard& card) : m_card(card) { m_card.powerOn(); }
    ~Reader() override { m_card.powerOff(); }
    Result<Bytes, card::Fault> transmit(std::span<const std::uint8_t> command) override {
        if (m_pulled) {
            return fail(card::Fault{card::FaultCode::CardRemoved, "the card was removed"});
        }
        return m_card.transmit(command);
    }
    Bytes atr() const override { return m_card.atr(); }
    void pull() { m_pulled = true; }

private:
    sim::VirtualCard& m_card;
    bool m_pulled = false;
};

struct Union {
    card::testing::Signing signing;
    card::StationSigner station = signing.station("st-23-01");
    card::TrustList trust = signing.trust({station.certificate});
    card::PrivateKey statusKey = take(card::PrivateKey::generate());
    card::Certificate statusCert = take(
        card::issueStatusSignerCertificate(signing.rootKey, signing.root, statusKey.publicKey(),
                                           "registry-status-1", {at(2026, 1, 1), at(2029, 1, 1)}));
    desfire::Profile profile = take(desfire::loadProfile(
        std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) + "/cards/union-desfire.toml"));
    desfire::MasterKeys keys = desfire::MasterKeys::generate(profile.roles());
    desfire::MasterKeys readKeys = take(keys.only({"record-read"}));

    registry::StatusList statusList(std::vector<registry::StatusEntry> notValid,
                                    card::Seconds issuedAt = at(2026, 12, 31)) const {
        registry::StatusListContent content;
        content.version = 7;
        content.issuedAt = issuedAt;
        content.issuedUpTo = {{23, 5000}};
        content.notValid = std::move(notValid);
        const Bytes signedList = take(registry::encodeSnapshot(content, statusKey, statusCert));
        return take(registry::StatusList::load(signedList, signing.root, issuedAt));
    }
};

const Union& theUnion() {
    static const Union u;
    return u;
}

const card::Seconds kNow = at(2027, 1, 1) + hours(10);

class VerifyTest : public ::testing::Test {
protected:
    const Union& u = theUnion();
    registry::StatusList clean = u.statusList({});
    Context context() const {
        Context c;
        c.trust = &u.trust;
        c.statusList = &clean;
        c.now = kNow;
        return c;
    }

    // A blank virtual card personalised with a record of these fields bound to its UID.
    Bytes personalised(sim::VirtualDesfire& chip, card::CardRecord fields,
                       const card::StationSigner* signer = nullptr) {
        const auto uid = chip.realUid();
        fields.chipUid = Bytes(uid.begin(), uid.end());
        const Bytes record = take(card::signRecord(signer ? *signer : u.station, fields));
        Reader reader(chip);
        desfire::Desfire d(reader);
        EXPECT_TRUE(desfire::personalise(d, u.profile, u.keys, record).ok());
        return record;
    }

    Verdict tap(sim::VirtualDesfire& chip, const Context& c, bool withReaderUid = true) {
        Reader reader(chip);
        desfire::Desfire d(reader);
        const auto uid = chip.realUid();
        return verifyChip(
            d, u.profile, u.readKeys,
            withReaderUid ? std::optional<Bytes>(Bytes(uid.begin(), uid.end())) : std::nullopt, c);
    }
};

TEST_F(VerifyTest, AGoodCardIsValidInFourCardExchanges) {
    sim::VirtualDesfire chip;
    personalised(chip, card::testing::Signing::record("st-23-01"));
    const Verdict v = tap(chip, context());
    EXPECT_EQ(v.code, VerdictCode::Valid) << v.reason;
    EXPECT_EQ(v.statusCheck, StatusCheck::StatusList);
    EXPECT_EQ(v.apdus, 4u);
    ASSERT_TRUE(v.number);
    EXPECT_EQ(v.maskedNumber(), v.number->masked());
    // Without the reader's UID the chip is asked for it (GetVersion, 3 frames).
    EXPECT_EQ(tap(chip, context(), false).apdus, 7u);
}

TEST_F(VerifyTest, RevokedAndSuspendedComeFromTheStatusList) {
    sim::VirtualDesfire chip;
    personalised(chip, card::testing::Signing::record("st-23-01"));
    const auto revoked = u.statusList({{23, 1234, registry::Validity::Revoked}});
    Context c = context();
    c.statusList = &revoked;
    EXPECT_EQ(tap(chip, c).code, VerdictCode::Revoked);
    const auto suspended = u.statusList({{23, 1234, registry::Validity::Suspended}});
    c.statusList = &suspended;
    EXPECT_EQ(tap(chip, c).code, VerdictCode::Suspended);
}

TEST_F(VerifyTest, AFlippedByteIsABadSignature) {
    sim::VirtualDesfire chip;
    const Bytes record = personalised(chip, card::testing::Signing::record("st-23-01"));
    for (std::size_t at : {record.size() - 1, record.size() / 2}) {
        Bytes altered = record;
        altered[at] ^= 0x01;
        const auto uid = chip.realUid();
        const Verdict v =
            verifyRecordBytes(altered, Source::Chip, Bytes(uid.begin(), uid.end()), context());
        EXPECT_TRUE(v.code == VerdictCode::BadSignature || v.code == VerdictCode::NotUnionCard)
            << "byte " << at << ": " << toString(v.code);
        EXPECT_NE(v.code, VerdictCode::Valid);
    }
    Bytes signatureFlipped = record;
    signatureFlipped[record.size() - 5] ^= 0x80;
    EXPECT_EQ(verifyRecordBytes(signatureFlipped, Source::Qr, std::nullopt, context()).code,
              VerdictCode::BadSignature);
}

TEST_F(VerifyTest, ACardOfAnotherUnionRootIsAnUnknownIssuer) {
    card::testing::Signing other;
    const card::StationSigner stranger = other.station("st-23-01");
    sim::VirtualDesfire chip;
    personalised(chip, card::testing::Signing::record("st-23-01"), &stranger);
    EXPECT_EQ(tap(chip, context()).code, VerdictCode::UnknownIssuer);
}

TEST_F(VerifyTest, TheDataCopiedOntoAnotherChipFailsChipAuthentication) {
    sim::VirtualDesfire original;
    const Bytes record = personalised(original, card::testing::Signing::record("st-23-01"));
    // The copier writes the same bytes onto a chip of their own, under keys of their choosing
    // (they do not have the union's).
    sim::VirtualDesfire::Options sameUid;
    sameUid.uid = original.realUid();
    sim::VirtualDesfire clone(sameUid); // even answering with the original's UID
    {
        Reader reader(clone);
        desfire::Desfire d(reader);
        ASSERT_TRUE(desfire::personalise(d, u.profile,
                                         desfire::MasterKeys::generate(u.profile.roles()), record)
                        .ok());
    }
    const Verdict v = tap(clone, context());
    EXPECT_EQ(v.code, VerdictCode::ChipAuthFailed) << v.reason;
    // And a genuine record read from a chip with another UID.
    sim::VirtualDesfire other;
    const auto copyUid = other.realUid();
    EXPECT_EQ(
        verifyRecordBytes(record, Source::Chip, Bytes(copyUid.begin(), copyUid.end()), context())
            .code,
        VerdictCode::ChipAuthFailed);
}

TEST_F(VerifyTest, DatesDecideExpiredAndNotYetValid) {
    sim::VirtualDesfire chip;
    personalised(chip, card::testing::Signing::record("st-23-01"));
    Context c = context();
    c.now = at(2031, 12, 1);
    EXPECT_EQ(tap(chip, c).code, VerdictCode::Expired);
    c.now = at(2026, 11, 21);
    EXPECT_EQ(tap(chip, c).code, VerdictCode::NotYetValid);
}

TEST_F(VerifyTest, ABlankCardAndAnotherSystemsCardAreNotUnionCards) {
    sim::VirtualDesfire blank;
    const Verdict v = tap(blank, context());
    EXPECT_EQ(v.code, VerdictCode::NotUnionCard) << v.reason;

    // A DESFire of another system: an application of its own, none of ours.
    sim::VirtualDesfire foreign;
    {
        Reader reader(foreign);
        desfire::Desfire d(reader);
        ASSERT_TRUE(d.authenticateLegacy(0, Bytes(16, 0)).ok());
        ASSERT_TRUE(
            d.run(desfire::cmd::createApplication(0xF48EF1, 0x0F, 1, desfire::KeyType::Aes128))
                .ok());
    }
    const Verdict f = tap(foreign, context());
    EXPECT_EQ(f.code, VerdictCode::NotUnionCard) << f.reason;
}

TEST_F(VerifyTest, ACardPulledAwayIsUnreadable) {
    sim::VirtualDesfire chip;
    personalised(chip, card::testing::Signing::record("st-23-01"));
    Reader reader(chip);
    reader.pull();
    desfire::Desfire d(reader);
    const Verdict v = verifyChip(d, u.profile, u.readKeys, std::nullopt, context());
    EXPECT_EQ(v.code, VerdictCode::Unreadable);
    EXPECT_NE(v.reason.find("try again"), std::string::npos);
}

TEST_F(VerifyTest, NeverValidWithoutAConfirmedStatus) {
    sim::VirtualDesfire chip;
    personalised(chip, card::testing::Signing::record("st-23-01"));
    Context c = context();
    c.statusList = nullptr;
    EXPECT_EQ(tap(chip, c).code, VerdictCode::CannotConfirmOffline);
    // A list too old.
    const auto old = u.statusList({}, at(2026, 12, 1));
    c.statusList = &old;
    const Verdict stale = tap(chip, c);
    EXPECT_EQ(stale.code, VerdictCode::CannotConfirmOffline);
    EXPECT_NE(stale.reason.find("old"), std::string::npos);
    // The same old list, which the registry confirmed as the newest an hour ago (nothing was
    // revoked since): it still answers.
    c.statusConfirmedAt = kNow - hours(1);
    EXPECT_EQ(tap(chip, c).code, VerdictCode::Valid);
    c.statusConfirmedAt = kNow - hours(100);
    EXPECT_EQ(tap(chip, c).code, VerdictCode::CannotConfirmOffline);
    // A card newer than the list (serial above what the list covers).
    auto fields = card::testing::Signing::record("st-23-01");
    fields.number = take(card::CardNumber::compose(23, 9000));
    sim::VirtualDesfire newer;
    personalised(newer, fields);
    EXPECT_EQ(tap(newer, context()).code, VerdictCode::CannotConfirmOffline);
    // No trust list at all: nobody is a known issuer.
    c = context();
    c.trust = nullptr;
    EXPECT_EQ(tap(chip, c).code, VerdictCode::UnknownIssuer);
}

TEST_F(VerifyTest, OnlineAnswersFirstAndTheListWhenOffline) {
    sim::VirtualDesfire chip;
    personalised(chip, card::testing::Signing::record("st-23-01"));
    Context c = context();
    int asked = 0;
    c.online = [&](const card::CardNumber&) -> Result<registry::Lookup, registry::ClientError> {
        ++asked;
        registry::Lookup l;
        l.verdict = registry::Lookup::Verdict::Revoked;
        l.reason = "reported lost";
        return l;
    };
    Verdict v = tap(chip, c);
    EXPECT_EQ(v.code, VerdictCode::Revoked);
    EXPECT_EQ(v.statusCheck, StatusCheck::Online);
    EXPECT_EQ(asked, 1);
    c.online = [](const card::CardNumber&) -> Result<registry::Lookup, registry::ClientError> {
        return fail(registry::ClientError{
            registry::ClientErrorCode::Unreachable, "connection refused", 0, {}, {}});
    };
    v = tap(chip, c);
    EXPECT_EQ(v.code, VerdictCode::Valid);
    EXPECT_EQ(v.statusCheck, StatusCheck::StatusList);
}

TEST_F(VerifyTest, ATypedNumberIsCheckedForItsDigitThenItsStatus) {
    const auto number = take(card::CardNumber::compose(23, 1234));
    std::string typed = number.formatted();
    // Offline, the list can say revoked or suspended, never valid: it names only the cards that
    // are not valid, so a number it does not name may never have been issued.
    Verdict v = verifyNumber(typed, context());
    EXPECT_EQ(v.code, VerdictCode::CannotConfirmOffline);
    EXPECT_NE(v.reason.find("only online"), std::string::npos);
    Context online = context();
    online.online = [](const card::CardNumber&) -> Result<registry::Lookup, registry::ClientError> {
        registry::Lookup l;
        l.verdict = registry::Lookup::Verdict::Valid;
        return l;
    };
    v = verifyNumber(typed, online);
    EXPECT_EQ(v.code, VerdictCode::Valid);
    EXPECT_NE(v.reason.find("number only"), std::string::npos);
    online.online = [](const card::CardNumber&) -> Result<registry::Lookup, registry::ClientError> {
        return registry::Lookup{}; // Unknown: never issued
    };
    EXPECT_EQ(verifyNumber(typed, online).code, VerdictCode::NotUnionCard);
    // One digit mistyped: caught by the check digit, before any lookup.
    typed[typed.size() - 1] = typed.back() == '0' ? '1' : '0';
    v = verifyNumber(typed, context());
    EXPECT_EQ(v.code, VerdictCode::NotUnionCard);
    const auto revoked = u.statusList({{23, 1234, registry::Validity::Revoked}});
    Context c = context();
    c.statusList = &revoked;
    EXPECT_EQ(verifyNumber(number.digits(), c).code, VerdictCode::Revoked);
}

TEST_F(VerifyTest, ASignedCardTheRegistryHasNotHeardOfIsNotCalledForeign) {
    // Produced while the station's "produced" event was still in its outbox.
    sim::VirtualDesfire chip;
    personalised(chip, card::testing::Signing::record("st-23-01"));
    Context c = context();
    c.online = [](const card::CardNumber&) -> Result<registry::Lookup, registry::ClientError> {
        return registry::Lookup{}; // Unknown
    };
    // Within the grace days after its issue date the list decides: it covers it, names it not.
    c.now = at(2026, 11, 23) + hours(18);
    const Verdict v = tap(chip, c);
    EXPECT_EQ(v.code, VerdictCode::Valid) << v.reason;
    c.statusList = nullptr;
    EXPECT_EQ(tap(chip, c).code, VerdictCode::CannotConfirmOffline);
    // Past them, a card nobody reported is not valid, whatever the list says
    // (tests/security: AStationKeyMisusedForAnUnreportedCardIsNeverValidOnline).
    c = context();
    c.online = [](const card::CardNumber&) -> Result<registry::Lookup, registry::ClientError> {
        return registry::Lookup{};
    };
    const Verdict late = tap(chip, c);
    EXPECT_EQ(late.code, VerdictCode::CannotConfirmOffline) << late.reason;
    EXPECT_NE(late.reason.find("no record of this card, issued on 2026-11-22"), std::string::npos)
        << late.reason;
}

TEST_F(VerifyTest, TheQrOfTheBackIsVerifiedLikeTheChip) {
    sim::VirtualDesfire chip;
    const Bytes record = personalised(chip, card::testing::Signing::record("st-23-01"));
    const std::string text = card::recordToText(record);
    EXPECT_EQ(verifyText(text, context()).code, VerdictCode::Valid);
    EXPECT_EQ(verifyText("https://example.org", context()).code, VerdictCode::NotUnionCard);
    std::string altered = text;
    altered[text.size() / 2] = altered[text.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_NE(verifyText(altered, context()).code, VerdictCode::Valid);
}

} // namespace
} // namespace unioncard::verifier
