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
};

TEST_F(PersonaliseSim, BlankCardIsPersonalisedAndReadBack) {
    SimConnection reader(card);
    Desfire d(reader);
    const auto report = personalise(d, profile, keys, record);
    ASSERT_TRUE(report.ok()) << report.error().message;
    const auto uid = card.realUid();
    EXPECT_EQ(report->uid, Bytes(uid.begin(), uid.end()));
    EXPECT_GT(report->apdus, report->readBackApdus);
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

TEST_F(PersonaliseSim, CloneOnAnotherChipFailsTheRead) {
    {
        SimConnection reader(card);
        Desfire d(reader);
        ASSERT_TRUE(personalise(d, profile, keys, record).ok());
    }
    // The forger copies the record, byte for byte, onto a blank chip of their own, with the
    // same application and keys of their own choosing: they do not have the union's.
    sim::VirtualDesfire clone;
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
        sim::VirtualDesfire probe;
        SimConnection reader(probe);
        Desfire d(reader);
        auto r = personalise(d, profile, keys, record);
        ASSERT_TRUE(r.ok());
        total = r->apdus;
    }
    for (std::size_t cut = 1; cut < total; ++cut) {
        sim::VirtualDesfire victim;
        {
            SimConnection reader(victim);
            reader.pullAfter(cut);
            Desfire d(reader);
            const auto r = personalise(d, profile, keys, record);
            ASSERT_FALSE(r.ok()) << "cut after " << cut;
            EXPECT_EQ(r.error().fault, FaultCode::CardRemoved) << r.error().message;
        }
        // Back on a reader: the record is either absent or the whole record, never a part.
        SimConnection reader(victim);
        Desfire v(reader);
        const auto read = readRecord(v, profile, verifierKeys());
        if (read.ok()) {
            EXPECT_EQ(read->record, record) << "cut after " << cut;
        }
    }
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
