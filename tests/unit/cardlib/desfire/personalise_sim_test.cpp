// SPDX-License-Identifier: Apache-2.0
// cardlib's DESFire client against the virtual card of sim/, in process: personalisation, the
// verifier's read, and what goes wrong (a clone, a wrong key, a card pulled mid-write). Two
// independent implementations of the protocol meet here; the same flows run over the real
// pcscd in tests/integration.

#include "../signing_fixture.hpp"

#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/sim/virtual_desfire.hpp>

#include <filesystem>

namespace unioncard::card::desfire {
namespace {

// A reader with the virtual card on it. `pullAfter` takes the card away after that many APDUs
// (the card loses power: what was not committed is gone).
class SimConnection : public CardConnection {
public:
    explicit SimConnection(sim::VirtualCard& card) : m_card(card) { m_card.powerOn(); }
    Result<Bytes, Fault> transmit(std::span<const std::uint8_t> command) override {
        if (m_pullAfter && m_sent >= *m_pullAfter) {
            if (m_present) {
                m_card.powerOff();
                m_present = false;
            }
            return fail(Fault{FaultCode::CardRemoved, "the card was removed"});
        }
        ++m_sent;
        return m_card.transmit(command);
    }
    Bytes atr() const override { return m_card.atr(); }
    void pullAfter(std::size_t apdus) { m_pullAfter = apdus; }

private:
    sim::VirtualCard& m_card;
    std::optional<std::size_t> m_pullAfter;
    std::size_t m_sent = 0;
    bool m_present = true;
};

class PersonaliseSim : public ::testing::Test {
protected:
    Profile profile = [] {
        auto p =
            loadProfile(std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) + "/cards/union-desfire.toml");
        EXPECT_TRUE(p.ok());
        return std::move(p).value();
    }();
    MasterKeys keys = MasterKeys::generate(profile.roles());
    sim::VirtualDesfire card;
    card::testing::Signing signing;
    StationSigner station = signing.station("st-23-01");
    Bytes record = [this] {
        auto fields = card::testing::Signing::record("st-23-01");
        const auto uid = card.realUid();
        fields.chipUid = Bytes(uid.begin(), uid.end());
        return card::testing::take(signRecord(station, fields));
    }();

    MasterKeys verifierKeys() const { return card::testing::take(keys.only({"record-read"})); }
    // Personalises `chip` with `with`, then reads it back as a verifier on a fresh power-up;
    // returns the personalisation's exchanges.
    std::size_t personaliseAndVerify(sim::VirtualDesfire& chip, const Profile& with) {
        std::size_t exchanges = 0;
        {
            SimConnection reader(chip);
            Desfire d(reader);
            const auto report = personalise(d, with, keys, record);
            EXPECT_TRUE(report.ok()) << report.error().message;
            exchanges = report.ok() ? report->apdus : 0;
        }
        chip.powerOff();
        SimConnection reader(chip);
        Desfire v(reader);
        const auto read = readRecord(v, with, verifierKeys());
        EXPECT_TRUE(read.ok()) << read.error().message;
        EXPECT_TRUE(read.ok() && read->record == record);
        return exchanges;
    }
    // Another virtual card answering with this card's UID (the record is bound to it).
    sim::VirtualDesfire::Options
    sameUid(sim::DesfireGeneration generation = sim::DesfireGeneration::Ev2) const {
        sim::VirtualDesfire::Options o;
        o.uid = card.realUid();
        o.generation = generation;
        return o;
    }
};

TEST_F(PersonaliseSim, BlankCardIsPersonalisedAndReadBack) {
    SimConnection reader(card);
    Desfire d(reader);
    const auto report = personalise(d, profile, keys, record);
    ASSERT_TRUE(report.ok()) << report.error().message;
    const auto uid = card.realUid();
    EXPECT_EQ(report->uid, Bytes(uid.begin(), uid.end()));
    EXPECT_GT(report->apdus, report->readBackApdus);
    // Within real frame limits (the virtual card refuses longer frames with 91 7E), in 25
    // exchanges or fewer: the step-by-step count is in docs/card-format.md.
    EXPECT_LE(report->apdus, 25u);
    std::cout << "personalisation: " << report->apdus << " APDUs, of which read-back "
              << report->readBackApdus << "\n";

    // A verifier with only the read key, on a fresh power-up.
    card.powerOff();
    SimConnection again(card);
    Desfire v(again);
    const auto read = readRecord(v, profile, verifierKeys());
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->record, record);
    const auto trust = signing.trust({station.certificate});
    EXPECT_EQ(verifyRecord(read->record, trust, card::testing::day(2027, 1, 1)).verdict,
              Verdict::Valid);
}

TEST_F(PersonaliseSim, PersonalisedCardRefusesAnotherPersonalisation) {
    {
        SimConnection reader(card);
        Desfire d(reader);
        ASSERT_TRUE(personalise(d, profile, keys, record).ok());
    }
    card.powerOff();
    SimConnection reader(card);
    Desfire d(reader);
    const auto again = personalise(d, profile, keys, record);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::WrongCard);
    EXPECT_NE(again.error().message.find("not blank"), std::string::npos) << again.error().message;
}

TEST_F(PersonaliseSim, VerifierWithOtherKeysFailsAuthentication) {
    {
        SimConnection reader(card);
        Desfire d(reader);
        ASSERT_TRUE(personalise(d, profile, keys, record).ok());
    }
    card.powerOff();
    SimConnection reader(card);
    Desfire d(reader);
    const auto strangers = MasterKeys::generate({"record-read"});
    const auto read = readRecord(d, profile, strangers);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().status, Status::AuthenticationError) << read.error().message;
}

TEST_F(PersonaliseSim, WithTheReadersUidTheReadTakesFourExchanges) {
    {
        SimConnection reader(card);
        Desfire d(reader);
        ASSERT_TRUE(personalise(d, profile, keys, record).ok());
    }
    card.powerOff();
    SimConnection again(card);
    Desfire v(again);
    const auto uid = card.realUid();
    const auto read = readRecord(v, profile, verifierKeys(), {Bytes(uid.begin(), uid.end())});
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->record, record);
    // SelectApplication, AuthenticateEV2First (2 exchanges), ReadData 0xAD.
    EXPECT_EQ(read->apdus, 4u);

    // A chip that claims another UID must hold that UID's key: it fails authentication.
    card.powerOff();
    SimConnection liar(card);
    Desfire l(liar);
    const auto other =
        readRecord(l, profile, verifierKeys(), {Bytes{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}});
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().status, Status::AuthenticationError);
}

// A hostile or foreign card: the reader's anticollision reports a 4- or 10-byte UID (a
// random-ID card, a Proxmark, a Chameleon) and the chip answers for the union's AID. The read
// names the UID's length as the reason, before any key is derived; it never aborts.
TEST_F(PersonaliseSim, AUidOfAnotherLengthIsNotAUnionCard) {
    {
        SimConnection reader(card);
        Desfire d(reader);
        ASSERT_TRUE(personalise(d, profile, keys, record).ok());
    }
    for (const Bytes& uid : {Bytes{0x08, 0x11, 0x22, 0x33}, Bytes(10, 0x5A), Bytes{}}) {
        card.powerOff();
        SimConnection reader(card);
        Desfire v(reader);
        const auto read = readRecord(v, profile, verifierKeys(), {uid});
        ASSERT_FALSE(read.ok()) << uid.size() << "-byte UID";
        EXPECT_EQ(read.error().code, ErrorCode::WrongCard);
        EXPECT_NE(read.error().message.find(std::to_string(uid.size()) + "-byte UID"),
                  std::string::npos)
            << read.error().message;
        EXPECT_FALSE(cardKey(profile, keys, "record-read", uid).ok());
    }
}

TEST_F(PersonaliseSim, CloneOnAnotherChipFailsTheRead) {
    {
        SimConnection reader(card);
        Desfire d(reader);
        ASSERT_TRUE(personalise(d, profile, keys, record).ok());
    }
    // The forger copies the record, byte for byte, onto a blank chip of their own that even
    // answers with the victim's UID, with the same application and keys of their own choosing:
    // they do not have the union's.
    sim::VirtualDesfire clone(sameUid());
    SimConnection forger(clone);
    Desfire f(forger);
    const auto forgerKeys = MasterKeys::generate(profile.roles());
    ASSERT_TRUE(personalise(f, profile, forgerKeys, record).ok());
    clone.powerOff();
    SimConnection verifier(clone);
    Desfire v(verifier);
    const auto read = readRecord(v, profile, verifierKeys());
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().status, Status::AuthenticationError);
}

TEST_F(PersonaliseSim, CardPulledAtAnyPointIsNeverHalfWritten) {
    // Count the APDUs of a whole personalisation, then pull the card after each one in turn.
    std::size_t total = 0;
    {
        sim::VirtualDesfire probe(sameUid());
        SimConnection reader(probe);
        Desfire d(reader);
        auto r = personalise(d, profile, keys, record);
        ASSERT_TRUE(r.ok());
        total = r->apdus;
    }
    for (std::size_t cut = 1; cut < total; ++cut) {
        sim::VirtualDesfire victim(sameUid());
        {
            SimConnection reader(victim);
            reader.pullAfter(cut);
            Desfire d(reader);
            const auto r = personalise(d, profile, keys, record);
            ASSERT_FALSE(r.ok()) << "cut after " << cut;
            EXPECT_EQ(r.error().fault, FaultCode::CardRemoved) << r.error().message;
        }
        // Back on a reader: the record is either absent or the whole record, never a part.
        {
            SimConnection reader(victim);
            Desfire v(reader);
            const auto read = readRecord(v, profile, verifierKeys());
            if (read.ok()) {
                EXPECT_EQ(read->record, record) << "cut after " << cut;
            }
        }
        // Whatever step it stopped at, `card format` erases it and it personalises again.
        victim.powerOff();
        SimConnection reader(victim);
        Desfire d(reader);
        const auto version = d.getVersion();
        ASSERT_TRUE(version.ok()) << version.error().message;
        const auto erased = eraseCard(d, profile, keys, version.value());
        ASSERT_TRUE(erased.ok()) << "cut after " << cut << ": " << erased.error().message;
        const auto again = personalise(d, profile, keys, record);
        ASSERT_TRUE(again.ok()) << "cut after " << cut << ": " << again.error().message;
    }
}

TEST_F(PersonaliseSim, EraseOpensAnEv1WithItsAesCardMasterKeyAndRefusesAStrangersCard) {
    sim::VirtualDesfire ev1(sameUid(sim::DesfireGeneration::Ev1));
    SimConnection reader(ev1);
    Desfire d(reader);
    // An EV1 whose card master key an older station set to the union's, with an application.
    const auto real = card.realUid();
    const Bytes uid(real.begin(), real.end());
    const Bytes piccKey = card::testing::take(cardKey(profile, keys, "picc-master", uid));
    ASSERT_TRUE(d.authenticateLegacy(0, Bytes(16, 0)).ok());
    ASSERT_TRUE(d.run(cmd::createApplication(profile.aid, 0x0B, 3, KeyType::Aes128)).ok());
    ASSERT_TRUE(d.changeKeyLegacy(0x80, piccKey, 1).ok());
    const auto version = d.getVersion();
    ASSERT_TRUE(version.ok());
    const auto erased = eraseCard(d, profile, keys, version.value());
    ASSERT_TRUE(erased.ok()) << erased.error().message;
    EXPECT_EQ(erased.value(), EraseKey::Union);
    ASSERT_TRUE(d.selectApplication(0).ok());
    const auto apps = d.getApplicationIds();
    ASSERT_TRUE(apps.ok());
    EXPECT_TRUE(apps->empty());

    // Another system's card: neither key opens it; it is refused and left alone.
    sim::VirtualDesfire stranger(sameUid());
    SimConnection theirs(stranger);
    Desfire s(theirs);
    ASSERT_TRUE(s.authenticateLegacy(0, Bytes(16, 0)).ok());
    ASSERT_TRUE(s.changeKeyLegacy(0x80, Bytes(16, 0x5A), 1).ok());
    const auto refused = eraseCard(s, profile, keys, card::testing::take(s.getVersion()));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::WrongCard);
    EXPECT_NE(refused.error().message.find("neither the union's nor the factory key"),
              std::string::npos)
        << refused.error().message;
}

TEST_F(PersonaliseSim, AnEv3CardIsPersonalisedAndVerified) {
    sim::VirtualDesfire ev3(sameUid(sim::DesfireGeneration::Ev3));
    EXPECT_GT(personaliseAndVerify(ev3, profile), 0u);
}

TEST_F(PersonaliseSim, AnEv1CardIsRefusedBeforeAnyKeyChanges) {
    sim::VirtualDesfire ev1(sameUid(sim::DesfireGeneration::Ev1));
    SimConnection reader(ev1);
    Desfire d(reader);
    const auto r = personalise(d, profile, keys, record);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::WrongCard);
    EXPECT_NE(r.error().message.find("unsupported card generation: this is a MIFARE DESFire EV1"),
              std::string::npos)
        << r.error().message;
    EXPECT_EQ(d.apduCount(), 4u) << "only SelectApplication and GetVersion's three frames";
    // Still factory-fresh: the zero DES key opens it and it holds no application.
    ASSERT_TRUE(d.selectApplication(0).ok());
    ASSERT_TRUE(d.authenticateLegacy(0, Bytes(16, 0)).ok());
    const auto apps = d.getApplicationIds();
    ASSERT_TRUE(apps.ok());
    EXPECT_TRUE(apps->empty());
    // An EV1 that holds the union's application: a verifier names the generation rather than
    // failing on an unknown command.
    ASSERT_TRUE(d.run(cmd::createApplication(profile.aid, 0x0B, 3, KeyType::Aes128)).ok());
    const auto read = readRecord(d, profile, verifierKeys());
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, ErrorCode::WrongCard);
    EXPECT_NE(read.error().message.find("EV1"), std::string::npos) << read.error().message;
}

TEST_F(PersonaliseSim, NativeChainingWorksOnEveryFrameAndTakesMoreExchanges) {
    Profile native = profile;
    native.frames.chaining = Chaining::Native;
    sim::VirtualDesfire probe(sameUid());
    const std::size_t isoExchanges = personaliseAndVerify(probe, profile);
    EXPECT_GT(personaliseAndVerify(card, native), isoExchanges);
}

TEST_F(PersonaliseSim, NotADesfireIsNamed) {
    class IsoOnly : public CardConnection {
    public:
        Result<Bytes, Fault> transmit(std::span<const std::uint8_t>) override {
            return Bytes{0x6E, 0x00};
        }
        Bytes atr() const override { return {}; }
    } iso;
    Desfire d(iso);
    const auto r = personalise(d, profile, keys, record);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("not a DESFire"), std::string::npos) << r.error().message;
}

TEST_F(PersonaliseSim, RecordOfAnotherChipIsNotWritten) {
    sim::VirtualDesfire other;
    SimConnection reader(other);
    Desfire d(reader);
    const auto r = personalise(d, profile, keys, record);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::WrongCard);
    EXPECT_NE(r.error().message.find("bound to chip"), std::string::npos) << r.error().message;
    auto apps = d.getApplicationIds();
    ASSERT_TRUE(apps.ok());
    EXPECT_TRUE(apps->empty()) << "the card was left untouched";
}

TEST_F(PersonaliseSim, RandomUidProfileIsRefused) {
    Profile random = profile;
    random.randomUid = true;
    SimConnection reader(card);
    Desfire d(reader);
    const auto r = personalise(d, random, keys, record);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::Configuration);
}

TEST_F(PersonaliseSim, MissingMasterKeyIsNamedBeforeTouchingTheCard) {
    SimConnection reader(card);
    Desfire d(reader);
    const auto partial = MasterKeys::generate({"record-read"});
    const auto r = personalise(d, profile, partial, record);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::Configuration);
    EXPECT_EQ(d.apduCount(), 0u);
}

} // namespace
} // namespace unioncard::card::desfire

namespace unioncard::card::desfire {
namespace {

// EV1 AuthenticateAES and its CMAC secure messaging against the virtual card: the way
// libfreefare and older systems talk to DESFire.
TEST(Ev1Sim, AuthenticateAesAndMacdFileRoundTrip) {
    sim::VirtualDesfire card;
    SimConnection reader(card);
    Desfire d(reader);
    const Bytes zero(16, 0);
    ASSERT_TRUE(d.selectApplication(0).ok());
    ASSERT_TRUE(d.authenticateLegacy(0, zero).ok());
    ASSERT_TRUE(d.changeKeyLegacy(0x80, zero, 0).ok()) << "PICC master key becomes AES zero";
    ASSERT_TRUE(d.authenticateAes(0, zero).ok());
    const auto created = d.run(cmd::createApplication(0x000123, 0x0F, 2, KeyType::Aes128));
    ASSERT_TRUE(created.ok()) << created.error().message;
    ASSERT_TRUE(d.selectApplication(0x000123).ok());
    const auto auth = d.authenticateAes(0, zero);
    ASSERT_TRUE(auth.ok()) << auth.error().message;
    ASSERT_TRUE(d.run(cmd::createStdDataFile(1, CommMode::Mac, {0, 0, 0, 0}, 32)).ok());
    const Bytes data{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const auto w = d.writeData(1, 4, data, CommMode::Mac);
    ASSERT_TRUE(w.ok()) << w.error().message;
    const auto r = d.readData(1, 4, 10, CommMode::Mac);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, data);
    const auto version = d.getKeyVersion(0);
    ASSERT_TRUE(version.ok()) << version.error().message;
    EXPECT_EQ(d.getCardUid().error().code, ErrorCode::Configuration) << "FULL needs EV2 here";
}

TEST(Ev1Sim, WrongAesKeyIsRefused) {
    sim::VirtualDesfire card;
    SimConnection reader(card);
    Desfire d(reader);
    const Bytes zero(16, 0);
    ASSERT_TRUE(d.authenticateLegacy(0, zero).ok());
    ASSERT_TRUE(d.changeKeyLegacy(0x80, zero, 0).ok());
    const auto r = d.authenticateAes(0, Bytes(16, 1));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().status, Status::AuthenticationError);
}

} // namespace
} // namespace unioncard::card::desfire
