// SPDX-License-Identifier: Apache-2.0
// The DESFire host protocol without a card: command bytes against the datasheet's layouts,
// frame chaining and status handling against scripted transcripts.

#include "scripted_transport.hpp"

#include <unioncard/card/desfire/desfire.hpp>

namespace unioncard::card::desfire {
namespace {

using testing::hexBytes;
using testing::ScriptedTransport;

Bytes wire(const Command& c) {
    Bytes out{c.ins};
    out.insert(out.end(), c.header.begin(), c.header.end());
    out.insert(out.end(), c.data.begin(), c.data.end());
    return out;
}

TEST(DesfireCommands, EncodeAsTheDatasheetLaysThemOut) {
    // DESFire EV2 datasheet §10: INS, then parameters least significant byte first.
    EXPECT_EQ(wire(cmd::selectApplication(0x554E01)), hexBytes("5A 01 4E 55"));
    EXPECT_EQ(wire(cmd::createApplication(0x554E01, 0x0B, 3, KeyType::Aes128)),
              hexBytes("CA 01 4E 55 0B 83"));
    EXPECT_EQ(wire(cmd::createApplication(0x000001, 0x0F, 14, KeyType::Des3K)),
              hexBytes("CA 01 00 00 0F 4E"));
    AccessRights rights{1, 2, 2, 0}; // read 1, write 2, read&write 2, change 0
    EXPECT_EQ(rights.encode(), hexBytes("20 12"));
    EXPECT_EQ(wire(cmd::createBackupDataFile(1, CommMode::Mac, rights, 256)),
              hexBytes("CB 01 01 20 12 00 01 00"));
    EXPECT_EQ(wire(cmd::createStdDataFile(2, CommMode::Full, {14, 14, 14, 14}, 32)),
              hexBytes("CD 02 03 EE EE 20 00 00"));
    EXPECT_EQ(wire(cmd::readData(1, 0x10, 0x80, CommMode::Mac)),
              hexBytes("BD 01 10 00 00 80 00 00"));
    const Bytes data{1, 2, 3};
    EXPECT_EQ(wire(cmd::writeData(1, 0, data, CommMode::Plain)),
              hexBytes("3D 01 00 00 00 03 00 00 01 02 03"));
    EXPECT_EQ(wire(cmd::getKeyVersion(2)), hexBytes("64 02"));
    EXPECT_EQ(wire(cmd::deleteApplication(0x123456)), hexBytes("DA 56 34 12"));
}

TEST(DesfireCommands, ModesFollowTheFile) {
    EXPECT_EQ(cmd::readData(1, 0, 1, CommMode::Full).responseMode, CommMode::Full);
    EXPECT_EQ(cmd::readData(1, 0, 1, CommMode::Full).commandMode, CommMode::Mac);
    EXPECT_EQ(cmd::readData(1, 0, 1, CommMode::Plain).commandMode, CommMode::Plain);
    EXPECT_EQ(cmd::writeData(1, 0, Bytes{1}, CommMode::Full).commandMode, CommMode::Full);
}

TEST(Desfire, GetVersionJoinsThreeFrames) {
    ScriptedTransport t;
    // Frames of a DESFire EV2 (hardware 04 01 01 12 00 1A 05: NXP, DESFire, EV2, 8 KB).
    t.expect("90 60 00 00 00", "04 01 01 12 00 1A 05 91 AF");
    t.expect("90 AF 00 00 00", "04 01 01 02 01 1A 05 91 AF");
    t.expect("90 AF 00 00 00", "04 78 2E 21 80 1D 80 BA 44 63 C1 20 29 18 91 00");
    Desfire card(t);
    const auto v = card.getVersion();
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->uid, hexBytes("04 78 2E 21 80 1D 80"));
    EXPECT_EQ(v->storageBytes(), 8192u);
    EXPECT_EQ(card.apduCount(), 3u);
    EXPECT_TRUE(t.done());
}

TEST(Desfire, CardStatusBecomesATypedError) {
    ScriptedTransport t;
    t.expect("90 5A 00 00 03 01 4E 55 00", "91 A0");
    Desfire card(t);
    const auto r = card.selectApplication(0x554E01);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::CardStatus);
    EXPECT_EQ(r.error().status, Status::ApplicationNotFound);
    EXPECT_NE(r.error().message.find("application not found"), std::string::npos);
}

TEST(Desfire, IsoStatusMeansNotADesfireCard) {
    ScriptedTransport t;
    t.expect("90 60 00 00 00", "6E 00");
    Desfire card(t);
    const auto r = card.getVersion();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::Malformed);
    EXPECT_NE(r.error().message.find("not a DESFire card"), std::string::npos);
}

TEST(Desfire, ReaderFaultsPassThroughWithTheirCode) {
    ScriptedTransport t;
    t.fault("90 6A 00 00 00", FaultCode::CardRemoved);
    Desfire card(t);
    const auto r = card.getApplicationIds();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::Transport);
    EXPECT_EQ(r.error().fault, FaultCode::CardRemoved);
}

TEST(Desfire, ShortOrEndlessAnswersAreMalformed) {
    ScriptedTransport t;
    t.expect("90 6A 00 00 00", "91");
    Desfire card(t);
    EXPECT_EQ(card.getApplicationIds().error().code, ErrorCode::Malformed);
    ScriptedTransport endless;
    for (int i = 0; i < 70; ++i) {
        endless.expect("", "01 91 AF");
    }
    Desfire card2(endless);
    EXPECT_EQ(card2.getFileIds().error().code, ErrorCode::Malformed);
}

TEST(Desfire, ApplicationIdsAreThreeBytesLsbFirst) {
    ScriptedTransport t;
    t.expect("90 6A 00 00 00", "01 4E 55 56 34 12 91 00");
    Desfire card(t);
    const auto ids = card.getApplicationIds();
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, (std::vector<std::uint32_t>{0x554E01, 0x123456}));
    ScriptedTransport bad;
    bad.expect("90 6A 00 00 00", "01 4E 91 00");
    Desfire card2(bad);
    EXPECT_FALSE(card2.getApplicationIds().ok());
}

TEST(Desfire, WrongKeyIsAnAuthenticationError) {
    ScriptedTransport t;
    t.expect("90 71 00 00 02 00 00 00", "91 AE");
    Desfire card(t);
    const auto r = card.authenticateEv2First(0, Bytes(16, 0));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().status, Status::AuthenticationError);
    EXPECT_FALSE(card.authenticated());
}

TEST(Desfire, AuthenticationAnswerOfTheWrongLengthIsMalformed) {
    ScriptedTransport t;
    t.expect("90 71 00 00 02 00 00 00", "00 11 22 33 91 AF");
    Desfire card(t);
    EXPECT_EQ(card.authenticateEv2First(0, Bytes(16, 0)).error().code, ErrorCode::Malformed);
}

TEST(Desfire, CommandsNeedingASessionSaySo) {
    ScriptedTransport t;
    Desfire card(t);
    EXPECT_EQ(card.getCardUid().error().code, ErrorCode::NotAuthenticated);
    EXPECT_EQ(card.changeKey(1, Bytes(16, 1), 1).error().code, ErrorCode::NotAuthenticated);
    EXPECT_EQ(card.authenticateEv2NonFirst(0, Bytes(16, 0)).error().code,
              ErrorCode::NotAuthenticated);
    EXPECT_EQ(t.done(), true);
}

TEST(Desfire, ReadsChainFramesAndWritesGoInOneIsoChainedApdu) {
    ScriptedTransport t;
    // A 200-byte read: one command, the answer in frames joined with AF.
    t.expect("90 BD 00 00 07 01 00 00 00 C8 00 00 00", std::string(59 * 2, '0') + " 91 AF");
    t.expect("90 AF 00 00 00", std::string(59 * 2, '0') + " 91 AF");
    t.expect("90 AF 00 00 00", std::string(59 * 2, '0') + " 91 AF");
    t.expect("90 AF 00 00 00", std::string(23 * 2, '0') + " 91 00");
    // A 200-byte write with ISO chaining (the default): one WriteData 8D of 207 bytes, which
    // the reader carries in I-blocks; no native frame exceeds the card's 54 bytes.
    t.expect("90 8D 00 00 CF 01 00 00 00 C8 00 00" + std::string(200 * 2, '1') + " 00", "91 00");
    Desfire card(t);
    const auto data = card.readData(1, 0, 200, CommMode::Plain);
    ASSERT_TRUE(data.ok()) << data.error().message;
    EXPECT_EQ(data->size(), 200u);
    EXPECT_TRUE(card.writeData(1, 0, Bytes(200, 0x11), CommMode::Plain).ok());
    EXPECT_EQ(card.apduCount(), 5u);
    EXPECT_TRUE(t.done());
}

TEST(Desfire, ANativeWriteSendsItsDataInFramesOf54Bytes) {
    // libfreefare write_data and proxmark3 DesfireExchangeISO: the command's code and its first
    // 54 bytes, then AF frames of 54, each answered 91 AF until the last.
    ScriptedTransport t;
    t.expect("90 3D 00 00 36 01 00 00 00 C8 00 00" + std::string(47 * 2, '1') + " 00", "91 AF");
    t.expect("90 AF 00 00 36" + std::string(54 * 2, '1') + " 00", "91 AF");
    t.expect("90 AF 00 00 36" + std::string(54 * 2, '1') + " 00", "91 AF");
    t.expect("90 AF 00 00 2D" + std::string(45 * 2, '1') + " 00", "91 00");
    Desfire card(t);
    card.setFrameLimits(FrameLimits{54, Chaining::Native});
    const auto written = card.writeData(1, 0, Bytes(200, 0x11), CommMode::Plain);
    EXPECT_TRUE(written.ok()) << written.error().message;
    EXPECT_EQ(card.apduCount(), 4u);
    EXPECT_TRUE(t.done());
}

TEST(Desfire, ACardThatAnswersBeforeTakingAllTheDataIsMalformed) {
    ScriptedTransport t;
    t.expect("90 3D 00 00 36 01 00 00 00 64 00 00" + std::string(47 * 2, '1') + " 00", "91 00");
    Desfire card(t);
    card.setFrameLimits(FrameLimits{54, Chaining::Native});
    const auto written = card.writeData(1, 0, Bytes(100, 0x11), CommMode::Plain);
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.error().code, ErrorCode::Malformed);
    EXPECT_NE(written.error().message.find("before taking them all"), std::string::npos);
}

TEST(Desfire, ReadOfTheWrongLengthIsMalformed) {
    ScriptedTransport t;
    t.expect("90 BD 00 00 07 01 00 00 00 10 00 00 00", "00 01 02 91 00");
    Desfire card(t);
    EXPECT_EQ(card.readData(1, 0, 16, CommMode::Plain).error().code, ErrorCode::Malformed);
}

} // namespace
} // namespace unioncard::card::desfire
