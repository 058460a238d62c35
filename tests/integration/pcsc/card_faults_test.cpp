// SPDX-License-Identifier: Apache-2.0
// What goes wrong at a real reader stack, with cardlib's DESFire client over the lab's pcscd:
// the card taken away in the middle of a personalisation (between the two writes of the
// record, before the commit), and an unknown reader. The card must keep its last committed
// state, and cardlib must say what happened.

#include "../../unit/cardlib/signing_fixture.hpp"

#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>

using namespace unioncard;
using namespace unioncard::card;
using namespace unioncard::card::desfire;

namespace {

const std::string kLabDir = UNIONCARD_LAB_DIR_FOR_TESTS;

int lab(const std::string& arguments) {
    const std::string command =
        std::string("'") + UNIONCARD_LAB + "' " + arguments + " --dir '" + kLabDir + "' >/dev/null";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Passes APDUs to the real connection and, after `pullAfter` of them, has the lab take the
// card off the reader: what follows meets pcscd's own "card removed".
class PullingConnection : public CardConnection {
public:
    PullingConnection(std::unique_ptr<CardConnection> inner, std::string reader, std::size_t after)
        : m_inner(std::move(inner)), m_reader(std::move(reader)), m_after(after) {}
    unioncard::Result<Bytes, Fault> transmit(std::span<const std::uint8_t> command) override {
        if (m_sent++ == m_after) {
            EXPECT_EQ(lab("remove '" + m_reader + "'"), 0);
        }
        return m_inner->transmit(command);
    }
    Bytes atr() const override { return m_inner->atr(); }

private:
    std::unique_ptr<CardConnection> m_inner;
    std::string m_reader;
    std::size_t m_after;
    std::size_t m_sent = 0;
};

std::unique_ptr<CardConnection> connect(const std::string& reader) {
    auto ctx = pcsc::PcscContext::establish();
    EXPECT_TRUE(ctx.ok());
    auto c = ctx->connect(reader + " 00 00");
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? std::move(c).value() : nullptr;
}

class CardFaults : public ::testing::Test {
protected:
    std::filesystem::path image = std::filesystem::path(kLabDir) / "test-cards" / "pulled.card";
    Profile profile = [] {
        auto p =
            loadProfile(std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) + "/cards/union-desfire.toml");
        EXPECT_TRUE(p.ok());
        return std::move(p).value();
    }();
    MasterKeys keys = MasterKeys::generate(profile.roles());
    card::testing::Signing signing;
    StationSigner station = signing.station("st-23-01");
    // A record bound to the chip on the other end of `connection`, as a station signs it.
    Bytes recordFor(CardConnection& connection) {
        auto uid = pcsc::readUid(connection);
        EXPECT_TRUE(uid.ok());
        auto fields = card::testing::Signing::record("st-23-01");
        fields.chipUid = uid.ok() ? uid.value() : Bytes{};
        return card::testing::take(signRecord(station, fields));
    }

    void SetUp() override {
        std::filesystem::create_directories(image.parent_path());
        std::filesystem::remove(image);
    }
    void TearDown() override { lab("remove 'Printer encoder'"); }
};

TEST_F(CardFaults, CardPulledBetweenTheRecordsTwoWritesKeepsNoHalfRecord) {
    ASSERT_EQ(lab("insert 'Printer encoder' '" + image.string() + "'"), 0);
    // Count a whole personalisation's APDUs on a first card, to know where the writes are.
    std::size_t firstWrite = 0;
    {
        auto probeImage = image.parent_path() / "probe.card";
        std::filesystem::remove(probeImage);
        ASSERT_EQ(lab("insert Verifier '" + probeImage.string() + "'"), 0);
        auto c = connect("Verifier");
        ASSERT_NE(c, nullptr);
        Desfire d(*c);
        const auto r = personalise(d, profile, keys, recordFor(*c));
        ASSERT_TRUE(r.ok()) << r.error().message;
        lab("remove Verifier");
        // The record's two WriteData commands and the commit come just before the read-back:
        // the first write is the APDU with this (0-based) index.
        firstWrite = r->apdus - r->readBackApdus - 3;
    }
    {
        auto inner = connect("Printer encoder");
        ASSERT_NE(inner, nullptr);
        const Bytes record = recordFor(*inner);
        auto c = std::make_unique<PullingConnection>(std::move(inner), "Printer encoder",
                                                     firstWrite + 1);
        Desfire d(*c);
        const auto r = personalise(d, profile, keys, record);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::Transport) << r.error().message;
        EXPECT_EQ(r.error().fault, FaultCode::CardRemoved) << r.error().message;
        EXPECT_NE(r.error().message.find("writing the record"), std::string::npos)
            << r.error().message;
    }
    // Back on the reader: the application is there, the record is not, not even half of it.
    ASSERT_EQ(lab("insert 'Printer encoder' '" + image.string() + "'"), 0);
    auto c = connect("Printer encoder");
    ASSERT_NE(c, nullptr);
    Desfire d(*c);
    const auto read = readRecord(d, profile, keys);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, ErrorCode::WrongCard) << read.error().message;
    EXPECT_NE(read.error().message.find("never written"), std::string::npos)
        << read.error().message;
}

// Passes APDUs to the real connection, holds and releases it as asked, and before the APDU
// with index `at` lets `meddle` run: another program on the same reader.
class MeddledConnection : public CardConnection {
public:
    MeddledConnection(CardConnection& inner, std::size_t at, std::function<void()> meddle)
        : m_inner(inner), m_at(at), m_meddle(std::move(meddle)) {}
    unioncard::Result<Bytes, Fault> transmit(std::span<const std::uint8_t> command) override {
        if (m_sent++ == m_at) {
            m_meddle();
        }
        return m_inner.transmit(command);
    }
    Bytes atr() const override { return m_inner.atr(); }
    std::optional<Fault> hold() override { return m_inner.hold(); }
    void release() override { m_inner.release(); }

private:
    CardConnection& m_inner;
    std::size_t m_at;
    std::function<void()> m_meddle;
    std::size_t m_sent = 0;
};

// Another PC/SC program sends GetVersion to the card between the verifier's authentication and
// its read (a second context on another thread, as a second process would have). The operation
// holds the card (SCardBeginTransaction): pcscd keeps the intruder waiting (pcsc-lite's client
// retries while the card is held) and the verification is untouched; when it is over, the
// other program gets the card. Without the hold, the intruder's GetVersion lands mid-session
// and the card drops the authentication.
TEST_F(CardFaults, AnotherProgramCannotSlipAnApduIntoAVerification) {
    ASSERT_EQ(lab("insert 'Printer encoder' '" + image.string() + "'"), 0);
    auto ours = connect("Printer encoder");
    auto theirs = connect("Printer encoder");
    ASSERT_NE(ours, nullptr);
    ASSERT_NE(theirs, nullptr);
    {
        Desfire d(*ours);
        const auto r = personalise(d, profile, keys, recordFor(*ours));
        ASSERT_TRUE(r.ok()) << r.error().message;
    }
    const Bytes getVersion{0x90, 0x60, 0x00, 0x00, 0x00};
    std::future<unioncard::Result<Bytes, Fault>> intruder;
    // Exchanges of the read: select, GetVersion (3), AuthenticateEV2First (2), ReadData: index
    // 5 is the second half of the authentication. The intruder gets 300 ms to slip in first.
    MeddledConnection meddled(*ours, 5, [&] {
        intruder = std::async(std::launch::async, [&] { return theirs->transmit(getVersion); });
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    });
    Desfire d(meddled);
    const auto read = readRecord(d, profile, keys);
    EXPECT_TRUE(read.ok()) << read.error().message;
    ASSERT_TRUE(intruder.valid());
    const auto after = intruder.get();
    ASSERT_TRUE(after.ok()) << after.error().message;
    EXPECT_EQ(after->back(), 0xAF) << "GetVersion's first frame, once the card is free";
}

TEST_F(CardFaults, UnknownReaderIsNamed) {
    auto ctx = pcsc::PcscContext::establish();
    ASSERT_TRUE(ctx.ok());
    const auto c = ctx->connect("Kitchen 00 00");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, FaultCode::NoReader) << c.error().message;
    EXPECT_FALSE(std::string(actionFor(c.error().code)).empty());
}

} // namespace
