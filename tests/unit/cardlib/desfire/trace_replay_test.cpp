// SPDX-License-Identifier: Apache-2.0
// cardlib's DESFire host against whole byte traces of NXP's published examples: every command
// APDU it sends must equal the published one, byte for byte, and it must accept the published
// answers (and refuse them altered). The examples cover each secure-messaging step that
// personalisation and the verifier's read take: AuthenticateEV2First and NonFirst, WriteData
// with ISO chaining (8D) in MAC, FULL and plain mode, ReadData with ISO chaining (AD) in MAC
// mode, ChangeKey of another key and of the session's own key. Where each value comes from:
// cardlib/desfire/README.md ("Byte traces").

#include "scripted_transport.hpp"

#include <unioncard/card/desfire/desfire.hpp>

#include <deque>

namespace unioncard::card::desfire {

// Declared a friend of Desfire: the published RndA instead of RAND_bytes, and a published
// session's keys where the example does not print the authentication that made them.
struct DesfireReplay {
    static void drawRandoms(Desfire& card, std::deque<Bytes> randoms) {
        card.m_random = [queue = std::move(randoms)](std::size_t n) mutable {
            if (queue.empty() || queue.front().size() != n) {
                ADD_FAILURE() << "the trace has no published random of " << n << " bytes left";
                return Bytes(n, 0);
            }
            Bytes next = std::move(queue.front());
            queue.pop_front();
            return next;
        };
    }
    static void enterSession(Desfire& card, Bytes macKey, Bytes transactionId,
                             std::uint16_t counter) {
        Desfire::Ev2Session s;
        s.encKey = Bytes(16, 0x00); // MAC-mode traces never use it
        s.macKey = std::move(macKey);
        s.transactionId = std::move(transactionId);
        s.counter = counter;
        card.m_session = std::move(s);
    }
};

namespace {

using testing::hexBytes;
using testing::ScriptedTransport;

const Bytes kZeroKey(16, 0x00);

std::string repeat(std::string_view hexByte, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += hexByte;
    }
    return out;
}

// --- AN12196, session A: AuthenticateEV2First with key 0, WriteData and ChangeFileSettings
//     in FULL mode. Rev. 2.0 §5.6 Table 14, §5.8.2 Table 17, §5.9 Table 18 (rev. 1.8: §6.6
//     Table 14, §6.8.2 Table 18, §6.9 Table 19). ----------------------------------------------

constexpr std::string_view kA_RndA = "13C5DB8A5930439FC3DEF9A4C675360F";
constexpr std::string_view kA_Challenge = "A04C124213C186F22399D33AC2A30215";
constexpr std::string_view kA_Token =
    "35C3E05A752E0144BAC0DE51C1F22C56 B34408A23D8AEA266CAB947EA8E0118D";
constexpr std::string_view kA_Answer =
    "3FA64DB5446D1F34CD6EA311167F5E49 85B89690C04A05F17FA7AB2F08120663";

void scriptSessionAAuthentication(ScriptedTransport& t, std::string_view answer = kA_Answer) {
    t.expect("90 71 00 00 02 00 00 00", std::string(kA_Challenge) + " 91 AF");
    t.expect("90 AF 00 00 20 " + std::string(kA_Token) + " 00", std::string(answer) + " 91 00");
}

// Table 17, step 7: an 83-byte NDEF record (an URL with SUN placeholders), zero-padded to 128.
Bytes sessionANdefFile() {
    Bytes data = hexBytes("0051D1014D550463686F6F73652E75726C2E636F6D2F6E7461673432343F653D"
                          "3030303030303030303030303030303030303030303030303030303030303030"
                          "26633D30303030303030303030303030303030");
    data.resize(128, 0x00);
    return data;
}

constexpr std::string_view kA_WriteCommand =
    "90 8D 00 00 9F 02 000000 800000"
    " 421C73A27D827658AF481FDFF20A5025B559D0E3AA21E58D347F343CFFC768BF"
    " E596C706BC00F2176781D4B0242642A0FF5A42C461AAF894D9A1284B8C76BCFA"
    " 658ACD40555D362E08DB15CF421B51283F9064BCBE20E96CAE545B407C9D651A"
    " 3315B27373772E5DA2367D2064AE054AF996C6F1F669170FA88CE8C4E3A4A7BB"
    " BEF0FD971FF532C3A802AF745660F2B4"
    " D1D9A8499661EBF3 00";

TEST(An12196Trace, SessionAAuthenticatesThenWritesAndChangesSettingsInFullMode) {
    ScriptedTransport t;
    scriptSessionAAuthentication(t);
    t.expect(kA_WriteCommand, "FC222E5F7A542452 91 00");
    t.expect("90 5F 00 00 19 02 61B6D97903566E84C3AE5274467E89EA D799B7C1A0EF7A04 00",
             "57BFF87B1241E93D 91 00");

    Desfire card(t);
    DesfireReplay::drawRandoms(card, {hexBytes(kA_RndA)});
    auto auth = card.authenticateEv2First(0, kZeroKey);
    ASSERT_TRUE(auth.ok()) << auth.error().message;
    auto write = card.writeData(2, 0, sessionANdefFile(), CommMode::Full);
    ASSERT_TRUE(write.ok()) << write.error().message;
    // ChangeFileSettings (NTAG 424 DNA layout): cardlib has no call for it, but its secure
    // messaging is the generic one run() applies, at CmdCtr 1.
    auto settings = card.run(Command{
        0x5F, {0x02}, hexBytes("4000E0C1F121200000430000430000"), CommMode::Full, CommMode::Mac});
    ASSERT_TRUE(settings.ok()) << settings.error().message;
    EXPECT_TRUE(settings->empty());
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(card.authenticated());
}

TEST(An12196Trace, AForgedAuthenticationAnswerIsRefused) {
    // The card's last answer with one bit flipped: its RndA' no longer matches.
    std::string forged(kA_Answer);
    forged[0] = '2'; // 3F -> 2F
    ScriptedTransport t;
    scriptSessionAAuthentication(t, forged);
    Desfire card(t);
    DesfireReplay::drawRandoms(card, {hexBytes(kA_RndA)});
    auto auth = card.authenticateEv2First(0, kZeroKey);
    ASSERT_FALSE(auth.ok());
    EXPECT_EQ(auth.error().code, ErrorCode::IntegrityError);
    EXPECT_FALSE(card.authenticated());
}

TEST(An12196Trace, AnAlteredResponseMacEndsTheSession) {
    ScriptedTransport t;
    scriptSessionAAuthentication(t);
    t.expect(kA_WriteCommand, "FC222E5F7A542453 91 00"); // last MAC bit flipped
    Desfire card(t);
    DesfireReplay::drawRandoms(card, {hexBytes(kA_RndA)});
    ASSERT_TRUE(card.authenticateEv2First(0, kZeroKey).ok());
    auto write = card.writeData(2, 0, sessionANdefFile(), CommMode::Full);
    ASSERT_FALSE(write.ok());
    EXPECT_EQ(write.error().code, ErrorCode::IntegrityError);
    EXPECT_FALSE(card.authenticated());
}

// --- AN12196, session B: AuthenticateEV2First with key 3 and a FULL WriteData, then
//     AuthenticateEV2NonFirst with key 0, a plain WriteData, and both ChangeKey cases.
//     Rev. 2.0 §5.10 Table 19, §5.12 Table 21, §5.14 Table 23, §5.8.1 / Table 24 (the CC file),
//     §5.16.1 Table 25, §5.16.2 Table 26 (rev. 1.8: Tables 20, 22, 24, 26, 27). -------------

TEST(An12196Trace, SessionBChangesAnotherKeyThenItsOwnAsPersonalisationDoes) {
    ScriptedTransport t;
    t.expect("90 71 00 00 02 03 00 00", "B875CEB0E66A6C5CD00898DC371F92D1 91 AF");
    t.expect("90 AF 00 00 20 FF0306E47DFBC50087C4D8A78E88E62DE1E8BE457AA477C707E2F0874916A8B1 00",
             "0CC9A8094A8EEA683ECAAC5C7BF20584206D0608D477110FC6B3D5D3F65C3A6A 91 00");
    // CmdCtr 0, key 3's session: 10 bytes to file 3 in FULL mode.
    t.expect("90 8D 00 00 1F 03 000000 0A0000 6B5E6804909962FC4E3FF5522CF0F843 6C0C53315B9C73AA 00",
             "C26D236E4A7C046D 91 00");
    // NonFirst with key 0: TI and CmdCtr (now 1) carry on.
    t.expect("90 77 00 00 01 00 00", "A6A2B3C572D06C097BB8DB70463E22DC 91 AF");
    t.expect("90 AF 00 00 20 BE7D45753F2CAB85F34BC60CE58B940763FE969658A532DF6D95EA2773F6E991 00",
             "B888349C24B315EAB5B589E279C8263E 91 00");
    // CmdCtr 1: the capability container in plain mode (no MAC either way; the counter counts).
    t.expect("90 8D 00 00 19 01 0E0000 120000 FF0506E1050080828300000000000000000000", "91 00");
    // CmdCtr 2: key 2, not the session's: (new XOR old) || version || CRC32(new), MAC'd answer.
    t.expect("90 C4 00 00 29 02"
             " 2CF362B7BF4311FF3BE1DAA295E8C68DE09050560D19B9E16C2393AE9CD1FAC7"
             " 5D0CE20BCD1D06E6 00",
             "203BB55D1089D587 91 00");
    // CmdCtr 3: key 0, the session's own: new || version; the card ends the session.
    t.expect("90 C4 00 00 29 00"
             " C0EB4DEEFEDDF0B513A03A95A75491818580503190D4D05053FF75668A01D6FD"
             " A6610234BDED6432 00",
             "91 00");

    Desfire card(t);
    DesfireReplay::drawRandoms(card, {hexBytes("B98F4C50CF1C2E084FD150E33992B048"),
                                      hexBytes("60BE759EDA560250AC57CDDC11743CF6")});
    auto first = card.authenticateEv2First(3, kZeroKey);
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto full = card.writeData(3, 0, hexBytes("0102030405060708090A"), CommMode::Full);
    ASSERT_TRUE(full.ok()) << full.error().message;
    auto nonFirst = card.authenticateEv2NonFirst(0, kZeroKey);
    ASSERT_TRUE(nonFirst.ok()) << nonFirst.error().message;
    auto plain =
        card.writeData(1, 14, hexBytes("FF0506E10500808283000000000000000000"), CommMode::Plain);
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    auto other =
        card.changeKey(2, hexBytes("F3847D627727ED3BC9C4CC050489B966"), 0x01, ByteView(kZeroKey));
    ASSERT_TRUE(other.ok()) << other.error().message;
    EXPECT_TRUE(card.authenticated());
    auto own = card.changeKey(0, hexBytes("5004BF991F408672B1EF00F08F9E8647"), 0x01);
    ASSERT_TRUE(own.ok()) << own.error().message;
    EXPECT_FALSE(card.authenticated()) << "the session's key changed: the session is over";
    EXPECT_TRUE(t.done());
}

TEST(Desfire, AnAbsentResponseMacToChangeKeyIsRefused) {
    // Changing another key answers with a MAC (Table 25); a card that drops it is refused.
    ScriptedTransport t;
    t.expect("", "91 00");
    Desfire card(t);
    DesfireReplay::enterSession(card, Bytes(16, 0x11), hexBytes("7614281A"), 2);
    auto other = card.changeKey(2, Bytes(16, 0x22), 0x01, ByteView(kZeroKey));
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().code, ErrorCode::IntegrityError);
}

// --- AN12343 p. 54 (MIFARE DESFire Light), as proxmark3 carries it in
//     client/src/mifare/desfiretest.c (TestEV2MAC): WriteData 8D and ReadData AD in MAC mode,
//     the union record's file mode; the verifier's read is the second half. The example prints
//     the session's MAC key and TI, not the authentication that made them. --------------------

constexpr std::string_view kL_MacKey = "9366FA195EB566F5BD2BAD4020B83002";
constexpr std::string_view kL_Ti = "E2D3AF69";

TEST(An12343Trace, MacModeWriteThenReadAsPersonalisationAndTheVerifierDo) {
    ScriptedTransport t;
    t.expect("90 8D 00 00 28 00 000000 190000 " + repeat("22", 25) + " 68F2C28C575A1628 00",
             "0820F68898C2A7F1 91 00");
    t.expect("90 AD 00 00 0F 00 000000 300000 0D9BE191D5960834 00",
             repeat("22", 25) + repeat("00", 23) + " A49A44222D926666 91 00");

    Desfire card(t);
    card.setFrameLimits(FrameLimits{54, Chaining::Iso});
    DesfireReplay::enterSession(card, hexBytes(kL_MacKey), hexBytes(kL_Ti), 0);
    auto write = card.writeData(0, 0, Bytes(25, 0x22), CommMode::Mac);
    ASSERT_TRUE(write.ok()) << write.error().message;
    auto read = card.readDataChained(0, 0, 0x30, CommMode::Mac);
    ASSERT_TRUE(read.ok()) << read.error().message;
    Bytes expected(25, 0x22);
    expected.resize(48, 0x00);
    EXPECT_EQ(*read, expected);
    EXPECT_TRUE(t.done());
}

TEST(An12343Trace, ARecordAlteredOnTheWayIsRefused) {
    // The published read answer with one data byte changed, its MAC kept: what a relay or a
    // cloned card with the wrong contents would give.
    ScriptedTransport t;
    t.expect("90 AD 00 00 0F 00 000000 300000 0D9BE191D5960834 00",
             "23" + repeat("22", 24) + repeat("00", 23) + " A49A44222D926666 91 00");
    Desfire card(t);
    DesfireReplay::enterSession(card, hexBytes(kL_MacKey), hexBytes(kL_Ti), 1);
    auto read = card.readDataChained(0, 0, 0x30, CommMode::Mac);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, ErrorCode::IntegrityError);
    EXPECT_FALSE(card.authenticated());
}

TEST(An12343Trace, AReplayedAnswerFromAnEarlierCommandIsRefused) {
    // The write's answer (valid at CmdCtr 1) played back for the read (CmdCtr 2): the counter
    // in the MAC input tells them apart.
    ScriptedTransport t;
    t.expect("90 AD 00 00 0F 00 000000 300000 0D9BE191D5960834 00", "0820F68898C2A7F1 91 00");
    Desfire card(t);
    DesfireReplay::enterSession(card, hexBytes(kL_MacKey), hexBytes(kL_Ti), 1);
    auto read = card.readDataChained(0, 0, 0x30, CommMode::Mac);
    ASSERT_FALSE(read.ok());
}

} // namespace
} // namespace unioncard::card::desfire
