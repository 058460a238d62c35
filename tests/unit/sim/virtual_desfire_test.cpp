// SPDX-License-Identifier: Apache-2.0
// The virtual DESFire driven with raw APDUs. The host side of every protocol is written here,
// with OpenSSL directly (not with the card's helpers), and the strongest checks replay NXP's
// published EV2 worked examples (AN12196 rev. 2.0 §5.6 Table 14, §5.8.2 Table 17, §6.3
// Table 28; the same tables are §6.6 Table 14, §6.8.2 Table 18, §7.3 Table 29 in rev. 1.8)
// byte for byte, by scripting the card's random numbers.
#include "desfire_crypto.hpp"

#include <unioncard/sim/virtual_desfire.hpp>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace {

using unioncard::sim::Bytes;
using unioncard::sim::VirtualDesfire;

Bytes hex(std::string_view text) {
    Bytes out;
    std::string digits;
    for (char c : text)
        if (c != ' ')
            digits.push_back(c);
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    return out;
}

Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// ---- host-side cryptography, straight OpenSSL ---------------------------------------------

Bytes evp(const EVP_CIPHER* cipher, const Bytes& key, const Bytes& iv, const Bytes& data,
          bool enc) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes out(data.size() + 32);
    int len = 0;
    int total = 0;
    EVP_CipherInit_ex(ctx, cipher, nullptr, key.data(), iv.empty() ? nullptr : iv.data(),
                      enc ? 1 : 0);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    EVP_CipherUpdate(ctx, out.data(), &len, data.data(), static_cast<int>(data.size()));
    total = len;
    EVP_CipherFinal_ex(ctx, out.data() + total, &len);
    total += len;
    EVP_CIPHER_CTX_free(ctx);
    out.resize(static_cast<std::size_t>(total));
    return out;
}

Bytes aesCbc(const Bytes& key, const Bytes& iv, const Bytes& data, bool enc) {
    return evp(EVP_aes_128_cbc(), key, iv, data, enc);
}
Bytes aesEcb(const Bytes& key, const Bytes& data) {
    return evp(EVP_aes_128_ecb(), key, {}, data, true);
}
Bytes desEcb(const Bytes& key16, const Bytes& data, bool enc) {
    return evp(EVP_des_ede_ecb(), key16, {}, data, enc);
}

Bytes cmacAes(const Bytes& key, const Bytes& data) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    char name[] = "AES-128-CBC";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, name, 0),
                           OSSL_PARAM_construct_end()};
    Bytes out(16);
    std::size_t n = 0;
    EVP_MAC_init(ctx, key.data(), key.size(), params);
    EVP_MAC_update(ctx, data.data(), data.size());
    EVP_MAC_final(ctx, out.data(), &n, out.size());
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return out;
}

Bytes rol(const Bytes& b) {
    Bytes out(b.begin() + 1, b.end());
    out.push_back(b[0]);
    return out;
}

std::uint32_t crc32(const Bytes& data) // DESFire: no final inversion
{
    std::uint32_t crc = 0xFFFFFFFF;
    for (auto b : data) {
        crc ^= b;
        for (int i = 0; i < 8; ++i)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc;
}

std::uint16_t crc16(const Bytes& data) // ISO 14443-3 CRC_A
{
    std::uint16_t crc = 0x6363;
    for (auto b : data) {
        crc ^= b;
        for (int i = 0; i < 8; ++i)
            crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0x8408)
                            : static_cast<std::uint16_t>(crc >> 1);
    }
    return crc;
}

void putLe(Bytes& out, std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// ---- a scripted random source ----------------------------------------------------------------

struct Script {
    std::deque<std::uint8_t> bytes;
    void add(const Bytes& b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
    VirtualDesfire::RandomSource source() {
        return [this](std::span<std::uint8_t> out) {
            for (auto& b : out) {
                if (bytes.empty()) {
                    RAND_bytes(&b, 1);
                } else {
                    b = bytes.front();
                    bytes.pop_front();
                }
            }
        };
    }
};

// ---- APDU helpers ------------------------------------------------------------------------------

Bytes apdu(std::uint8_t ins, const Bytes& data = {}) {
    Bytes a{0x90, ins, 0x00, 0x00};
    if (!data.empty()) {
        a.push_back(static_cast<std::uint8_t>(data.size()));
        a.insert(a.end(), data.begin(), data.end());
    }
    a.push_back(0x00);
    return a;
}

struct Response {
    Bytes data;
    std::uint16_t sw = 0;
};

Response send(VirtualDesfire& card, std::uint8_t ins, const Bytes& data = {}) {
    Bytes r = card.transmit(apdu(ins, data));
    Response out;
    if (r.size() >= 2) {
        out.sw = static_cast<std::uint16_t>((r[r.size() - 2] << 8) | r.back());
        out.data.assign(r.begin(), r.end() - 2);
    }
    return out;
}

/// Sends a command and follows 91 AF frames, returning the concatenated data.
Response sendAll(VirtualDesfire& card, std::uint8_t ins, const Bytes& data = {}) {
    Response r = send(card, ins, data);
    Response all{r.data, r.sw};
    while (all.sw == 0x91AF) {
        r = send(card, 0xAF);
        all.data.insert(all.data.end(), r.data.begin(), r.data.end());
        all.sw = r.sw;
    }
    return all;
}

const Bytes kZero16(16, 0x00);
const Bytes kAid{0x01, 0x02, 0x03};

void createAesApp(VirtualDesfire& card, std::uint8_t keySettings = 0x0F, std::uint8_t keys = 3) {
    ASSERT_EQ(send(card, 0xCA, cat(kAid, {keySettings, static_cast<std::uint8_t>(0x80 | keys)})).sw,
              0x9100);
    ASSERT_EQ(send(card, 0x5A, kAid).sw, 0x9100);
}

Bytes fileSpec(std::uint8_t fileNo, std::uint8_t comm, std::uint16_t access, std::uint32_t size) {
    Bytes b{fileNo, comm, static_cast<std::uint8_t>(access),
            static_cast<std::uint8_t>(access >> 8)};
    putLe(b, size, 3);
    return b;
}

Bytes rw(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length) {
    Bytes b{fileNo};
    putLe(b, offset, 3);
    putLe(b, length, 3);
    return b;
}

// ---- the EV2 host ----------------------------------------------------------------------------

struct Ev2Host {
    Bytes ti, enc, mac;
    std::uint16_t ctr = 0;

    Bytes macT(std::uint8_t head, std::uint16_t counter, const Bytes& data) const {
        Bytes in{head, static_cast<std::uint8_t>(counter), static_cast<std::uint8_t>(counter >> 8)};
        in = cat(cat(in, ti), data);
        Bytes full = cmacAes(mac, in);
        Bytes t;
        for (std::size_t i = 1; i < 16; i += 2)
            t.push_back(full[i]);
        return t;
    }
    Bytes iv(bool command, std::uint16_t counter) const {
        Bytes in = command ? Bytes{0xA5, 0x5A} : Bytes{0x5A, 0xA5};
        in = cat(in, ti);
        in.push_back(static_cast<std::uint8_t>(counter));
        in.push_back(static_cast<std::uint8_t>(counter >> 8));
        in.resize(16, 0);
        return aesEcb(enc, in);
    }
    Bytes macCommand(std::uint8_t cmd, const Bytes& data) const {
        return cat(data, macT(cmd, ctr, data));
    }
    Bytes fullCommand(std::uint8_t cmd, const Bytes& header, const Bytes& plain) const {
        Bytes body = header;
        if (!plain.empty()) {
            Bytes padded = plain;
            padded.push_back(0x80);
            while (padded.size() % 16)
                padded.push_back(0);
            body = cat(body, aesCbc(enc, iv(true, ctr), padded, true));
        }
        return cat(body, macT(cmd, ctr, body));
    }
    /// Checks the response MAC, advances the counter, and returns the data (decrypted if asked).
    ::testing::AssertionResult accept(const Response& r, bool full, Bytes* plain = nullptr) {
        if (r.sw != 0x9100)
            return ::testing::AssertionFailure() << "status " << std::hex << r.sw;
        if (r.data.size() < 8)
            return ::testing::AssertionFailure() << "no MAC";
        const Bytes body(r.data.begin(), r.data.end() - 8);
        const Bytes got(r.data.end() - 8, r.data.end());
        ++ctr;
        if (macT(0x00, ctr, body) != got)
            return ::testing::AssertionFailure() << "response MAC mismatch";
        if (plain != nullptr) {
            *plain = body;
            if (full && !body.empty()) {
                *plain = aesCbc(enc, iv(false, ctr), body, false);
                while (!plain->empty() && plain->back() == 0)
                    plain->pop_back();
                if (plain->empty() || plain->back() != 0x80)
                    return ::testing::AssertionFailure() << "bad padding";
                plain->pop_back();
            }
        }
        return ::testing::AssertionSuccess();
    }
};

/// AuthenticateEV2First as a host does it (NT4H2421Gx §9.1.5).
::testing::AssertionResult authEv2(VirtualDesfire& card, std::uint8_t keyNo, const Bytes& key,
                                   Ev2Host& host, Bytes rndA = {}) {
    if (rndA.empty()) {
        rndA.resize(16);
        RAND_bytes(rndA.data(), 16);
    }
    Response r1 = send(card, 0x71, {keyNo, 0x00});
    if (r1.sw != 0x91AF || r1.data.size() != 16)
        return ::testing::AssertionFailure() << "part 1 status " << std::hex << r1.sw;
    const Bytes rndB = aesCbc(key, kZero16, r1.data, false);
    Response r2 = send(card, 0xAF, aesCbc(key, kZero16, cat(rndA, rol(rndB)), true));
    if (r2.sw != 0x9100 || r2.data.size() != 32)
        return ::testing::AssertionFailure() << "part 2 status " << std::hex << r2.sw;
    const Bytes p = aesCbc(key, kZero16, r2.data, false);
    if (Bytes(p.begin() + 4, p.begin() + 20) != rol(rndA))
        return ::testing::AssertionFailure() << "card did not prove RndA";
    Bytes sv1 = hex("A55A00010080");
    sv1.insert(sv1.end(), rndA.begin(), rndA.begin() + 2);
    for (int i = 0; i < 6; ++i)
        sv1.push_back(static_cast<std::uint8_t>(rndA[2 + i] ^ rndB[i]));
    sv1.insert(sv1.end(), rndB.begin() + 6, rndB.end());
    sv1.insert(sv1.end(), rndA.begin() + 8, rndA.end());
    Bytes sv2 = sv1;
    sv2[0] = 0x5A;
    sv2[1] = 0xA5;
    host.ti.assign(p.begin(), p.begin() + 4);
    host.enc = cmacAes(key, sv1);
    host.mac = cmacAes(key, sv2);
    host.ctr = 0;
    return ::testing::AssertionSuccess();
}

/// Legacy Authenticate (0A) with a 2K3DES key, as libfreefare's AS_LEGACY does it. Returns the
/// 16-byte session key (both halves equal for a single-DES key).
::testing::AssertionResult authLegacy(VirtualDesfire& card, std::uint8_t keyNo, const Bytes& key,
                                      Bytes& session) {
    Response r1 = send(card, 0x0A, {keyNo});
    if (r1.sw != 0x91AF || r1.data.size() != 8)
        return ::testing::AssertionFailure() << "part 1 status " << std::hex << r1.sw;
    const Bytes rndB = desEcb(key, r1.data, false);
    Bytes rndA(8);
    RAND_bytes(rndA.data(), 8);
    // send mode: C1 = D(RndA), C2 = D(RndB' ^ C1)
    const Bytes c1 = desEcb(key, rndA, false);
    Bytes x = rol(rndB);
    for (int i = 0; i < 8; ++i)
        x[i] ^= c1[i];
    const Bytes c2 = desEcb(key, x, false);
    Response r2 = send(card, 0xAF, cat(c1, c2));
    if (r2.sw != 0x9100 || desEcb(key, r2.data, false) != rol(rndA))
        return ::testing::AssertionFailure() << "part 2 status " << std::hex << r2.sw;
    session = {rndA[0], rndA[1], rndA[2], rndA[3], rndB[0], rndB[1], rndB[2], rndB[3]};
    session = cat(session, session);
    return ::testing::AssertionSuccess();
}

// ---- tests
// ----------------------------------------------------------------------------------------

TEST(VirtualDesfire, FactoryStateIsBlankWithZeroDesMasterKey) {
    VirtualDesfire card(
        VirtualDesfire::Options{{{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}}, 8192, {}});
    EXPECT_EQ(card.atr(), hex("3B 81 80 01 80 80"));
    EXPECT_EQ(card.uid(), hex("04 11 22 33 44 55 66"));

    Response v1 = send(card, 0x60);
    EXPECT_EQ(v1.sw, 0x91AF);
    EXPECT_EQ(v1.data, hex("04 01 01 12 00 1A 05"));
    Response v2 = send(card, 0xAF);
    EXPECT_EQ(v2.sw, 0x91AF);
    EXPECT_EQ(v2.data, hex("04 01 01 12 00 1A 05"));
    Response v3 = send(card, 0xAF);
    EXPECT_EQ(v3.sw, 0x9100);
    ASSERT_EQ(v3.data.size(), 14u);
    EXPECT_EQ(Bytes(v3.data.begin(), v3.data.begin() + 7), hex("04 11 22 33 44 55 66"));

    EXPECT_EQ(send(card, 0x6A).sw, 0x9100);
    EXPECT_TRUE(send(card, 0x6A).data.empty());
    Response ks = send(card, 0x45);
    EXPECT_EQ(ks.sw, 0x9100);
    EXPECT_EQ(ks.data, hex("0F 01")); // settings 0F, one key, DES/2K3DES
    EXPECT_EQ(send(card, 0x64, {0x00}).data, hex("00"));
    EXPECT_EQ(send(card, 0x64, {0x01}).sw, 0x9140);
    Response mem = send(card, 0x6E);
    EXPECT_EQ(mem.sw, 0x9100);
    EXPECT_EQ(mem.data, hex("00 1E 00")); // 7680 bytes

    VirtualDesfire random;
    EXPECT_EQ(random.uid().size(), 7u);
    EXPECT_EQ(random.uid()[0], 0x04);
}

TEST(VirtualDesfire, CreatesApplicationAndFileAndReadsBackPlainData) {
    VirtualDesfire card;
    createAesApp(card);
    EXPECT_EQ(send(card, 0xCD, fileSpec(1, 0x00, 0xEEEE, 100)).sw, 0x9100);
    EXPECT_EQ(send(card, 0xCD, fileSpec(1, 0x00, 0xEEEE, 100)).sw, 0x91DE);
    EXPECT_EQ(send(card, 0x6F).data, hex("01"));

    const Bytes payload = hex("DE AD BE EF 01 02 03 04 05 06");
    EXPECT_EQ(send(card, 0x3D, cat(rw(1, 5, 10), payload)).sw, 0x9100);
    Response part = send(card, 0xBD, rw(1, 5, 10));
    EXPECT_EQ(part.sw, 0x9100);
    EXPECT_EQ(part.data, payload);

    // The whole file comes in frames of at most 59 bytes.
    Response first = send(card, 0xBD, rw(1, 0, 0));
    EXPECT_EQ(first.sw, 0x91AF);
    EXPECT_EQ(first.data.size(), 59u);
    Response all = sendAll(card, 0xBD, rw(1, 0, 0));
    EXPECT_EQ(all.sw, 0x9100);
    ASSERT_EQ(all.data.size(), 100u);
    EXPECT_EQ(Bytes(all.data.begin() + 5, all.data.begin() + 15), payload);

    EXPECT_EQ(send(card, 0xBD, rw(1, 95, 10)).sw, 0x91BE);
    EXPECT_EQ(send(card, 0xBD, rw(7, 0, 1)).sw, 0x91F0);
    EXPECT_EQ(send(card, 0x5A, hex("AA BB CC")).sw, 0x91A0);

    // The application is listed at PICC level.
    EXPECT_EQ(send(card, 0x5A, hex("00 00 00")).sw, 0x9100);
    EXPECT_EQ(send(card, 0x6A).data, kAid);
}

// AN12196 rev. 2.0 §5.6 Table 14: AuthenticateEV2First with key 0x00 (all zero), RndB and TI
// scripted; then §5.8.2 Table 17: WriteData in CommMode.Full in that session.
TEST(VirtualDesfire, ReproducesAn12196AuthenticateEv2FirstAndFullWriteByteForByte) {
    Script script;
    VirtualDesfire card(VirtualDesfire::Options{{}, 8192, script.source()});
    createAesApp(card);
    // File 02, CommMode.Full, every right on key 0, 256 bytes.
    ASSERT_EQ(send(card, 0xCD, fileSpec(2, 0x03, 0x0000, 256)).sw, 0x9100);

    script.add(hex("B9E2FC789B64BF237CCCAA20EC7E6E48")); // RndB, step 9
    script.add(hex("9D00C4DF"));                         // TI, step 19
    Response r1 = send(card, 0x71, {0x00, 0x00});
    EXPECT_EQ(r1.sw, 0x91AF);
    EXPECT_EQ(r1.data, hex("A04C124213C186F22399D33AC2A30215")); // step 7
    Response r2 =
        send(card, 0xAF, hex("35C3E05A752E0144BAC0DE51C1F22C56B34408A23D8AEA266CAB947EA8E0118D"));
    EXPECT_EQ(r2.sw, 0x9100);
    EXPECT_EQ(r2.data,
              hex("3FA64DB5446D1F34CD6EA311167F5E4985B89690C04A05F17FA7AB2F08120663")); // step 16

    // Table 17, step 15: the C-APDU data, CmdHeader || E(data) || MACt, sent with INS 8D.
    const Bytes write =
        cat(cat(hex("02000000800000"),
                hex("421C73A27D827658AF481FDFF20A5025B559D0E3AA21E58D347F343CFFC768BF"
                    "E596C706BC00F2176781D4B0242642A0FF5A42C461AAF894D9A1284B8C76BCFA"
                    "658ACD40555D362E08DB15CF421B51283F9064BCBE20E96CAE545B407C9D651A"
                    "3315B27373772E5DA2367D2064AE054AF996C6F1F669170FA88CE8C4E3A4A7BB"
                    "BEF0FD971FF532C3A802AF745660F2B4")),
            hex("D1D9A8499661EBF3"));
    Response w = send(card, 0x8D, write);
    EXPECT_EQ(w.sw, 0x9100);
    EXPECT_EQ(w.data, hex("FC222E5F7A542452")); // steps 16-17: the response MACt

    // Read the plaintext back in CommMode.Full with the published session keys.
    Ev2Host host{hex("9D00C4DF"), hex("1309C877509E5A215007FF0ED19CA564"),
                 hex("4C6626F5E72EA694202139295C7A7FC7"), 1};
    Bytes plain;
    // 144 cryptogram bytes and the MAC come in 59-byte frames; the MAC covers them all.
    ASSERT_TRUE(
        host.accept(sendAll(card, 0xBD, host.fullCommand(0xBD, rw(2, 0, 128), {})), true, &plain));
    const Bytes expected = hex("0051D1014D550463686F6F73652E75726C2E636F6D2F6E7461673432343F653D"
                               "3030303030303030303030303030303030303030303030303030303030303030"
                               "26633D3030303030303030303030303030303000000000000000000000000000"
                               "0000000000000000000000000000000000000000000000000000000000000000");
    EXPECT_EQ(plain, expected);
}

// AN12196 rev. 2.0, the second session (rev. 1.8 Tables 20, 22, 24, 26, 27): AuthenticateEV2First
// with key 3 (§5.10 Table 19), WriteData in CommMode.Full under it (§5.12 Table 21),
// AuthenticateEV2NonFirst with key 0 (§5.14 Table 23), a plain WriteData that still counts
// (§5.8.1, the CC file), ChangeKey of key 2 (§5.16.1 Table 25) and of key 0, the session's own
// (§5.16.2 Table 26). The card's answers must be the published ones, and its keys must then be
// the new ones.
TEST(VirtualDesfire, ReproducesAn12196SecondSessionWithBothChangeKeyCasesByteForByte) {
    Script script;
    VirtualDesfire card(VirtualDesfire::Options{{}, 8192, script.source()});
    createAesApp(card, 0x0F, 5);
    // File 1: plain, free access, 32 bytes (the CC file). File 3: CommMode.Full, every right on
    // key 3, 128 bytes.
    ASSERT_EQ(send(card, 0xCD, fileSpec(1, 0x00, 0xEEEE, 32)).sw, 0x9100);
    ASSERT_EQ(send(card, 0xCD, fileSpec(3, 0x03, 0x3333, 128)).sw, 0x9100);

    script.add(hex("91517975190DCEA6104948EFA3085C1B")); // RndB of key 3's authentication
    script.add(hex("7614281A"));                         // TI
    Response a1 = send(card, 0x71, {0x03, 0x00});
    EXPECT_EQ(a1.sw, 0x91AF);
    EXPECT_EQ(a1.data, hex("B875CEB0E66A6C5CD00898DC371F92D1"));
    Response a2 =
        send(card, 0xAF, hex("FF0306E47DFBC50087C4D8A78E88E62DE1E8BE457AA477C707E2F0874916A8B1"));
    EXPECT_EQ(a2.sw, 0x9100);
    EXPECT_EQ(a2.data, hex("0CC9A8094A8EEA683ECAAC5C7BF20584206D0608D477110FC6B3D5D3F65C3A6A"));

    Response w3 =
        send(card, 0x8D, hex("03000000 0A0000 6B5E6804909962FC4E3FF5522CF0F843 6C0C53315B9C73AA"));
    EXPECT_EQ(w3.sw, 0x9100);
    EXPECT_EQ(w3.data, hex("C26D236E4A7C046D"));

    script.add(hex("6924E8D09722659A2E7DEC68E66312B8")); // RndB of key 0's NonFirst
    Response n1 = send(card, 0x77, {0x00});
    EXPECT_EQ(n1.sw, 0x91AF);
    EXPECT_EQ(n1.data, hex("A6A2B3C572D06C097BB8DB70463E22DC"));
    Response n2 =
        send(card, 0xAF, hex("BE7D45753F2CAB85F34BC60CE58B940763FE969658A532DF6D95EA2773F6E991"));
    EXPECT_EQ(n2.sw, 0x9100);
    EXPECT_EQ(n2.data, hex("B888349C24B315EAB5B589E279C8263E"));

    Response cc = send(card, 0x8D, hex("010E0000120000 FF0506E10500808283000000000000000000"));
    EXPECT_EQ(cc.sw, 0x9100);
    EXPECT_TRUE(cc.data.empty());

    Response k2 = send(card, 0xC4,
                       hex("02 2CF362B7BF4311FF3BE1DAA295E8C68DE09050560D19B9E16C2393AE9CD1FAC7"
                           " 5D0CE20BCD1D06E6"));
    EXPECT_EQ(k2.sw, 0x9100);
    EXPECT_EQ(k2.data, hex("203BB55D1089D587"));
    Response k0 = send(card, 0xC4,
                       hex("00 C0EB4DEEFEDDF0B513A03A95A75491818580503190D4D05053FF75668A01D6FD"
                           " A6610234BDED6432"));
    EXPECT_EQ(k0.sw, 0x9100);
    EXPECT_TRUE(k0.data.empty()); // the session's key changed: no MAC, the session is over

    EXPECT_EQ(send(card, 0x64, {0x02}).data, hex("01"));
    EXPECT_EQ(send(card, 0x64, {0x00}).data, hex("01"));
    Ev2Host host;
    EXPECT_TRUE(authEv2(card, 2, hex("F3847D627727ED3BC9C4CC050489B966"), host));
    EXPECT_TRUE(authEv2(card, 0, hex("5004BF991F408672B1EF00F08F9E8647"), host));
    EXPECT_FALSE(authEv2(card, 0, kZero16, host));
}

// AN12196 rev. 2.0 §6.3 Table 28 (GetCardUID, CommMode.Full): the card's EV2 primitives give the
// published response IV and cryptogram.
TEST(VirtualDesfireCrypto, ReproducesAn12196GetCardUidResponse) {
    using namespace unioncard::sim::detail;
    const Bytes enc = hex("2B4D963C014DC36F24F69A50A394F875");
    const Bytes mac = hex("379D32130CE61705DD5FD8C36B95D764");
    const Bytes ti = hex("DF055522");
    EXPECT_EQ(ev2Mac(mac, 0x51, 0, ti, {}), hex("8E2C155ADDA99BE3"));
    const Bytes iv = ev2Iv(enc, false, ti, 1);
    EXPECT_EQ(iv, hex("7F6BB0B278EA054CBD238C5D9E9E342B"));
    const Bytes cryptogram = cbc(Cipher::Aes, enc, iv, padM2(hex("04958CAA5C5E80"), 16), true);
    EXPECT_EQ(cryptogram, hex("70756055688505B52A5E26E59E329CD6"));
    EXPECT_EQ(ev2Mac(mac, 0x00, 1, ti, cryptogram), hex("595F672298EA41B7"));
    // AN12343 p. 33-34 session keys (also in proxmark3 desfiretest.c).
    const Bytes rndA = hex("B04D0787C93EE0CC8CACC8E86F16C6FE");
    const Bytes rndB = hex("FA659AD0DCA738DD65DC7DC38612AD81");
    EXPECT_EQ(cmac(Cipher::Aes, kZero16, kZero16, ev2SessionVector(true, rndA, rndB)),
              hex("63DC07286289A7A6C0334CA31C314A04"));
    EXPECT_EQ(cmac(Cipher::Aes, kZero16, kZero16, ev2SessionVector(false, rndA, rndB)),
              hex("774F26743ECE6AF5033B6AE8522946F6"));
    // RFC 4493 §4 and NIST SP 800-38B D.4 (2TDEA) for the chained CMAC with a zero IV.
    const Bytes k = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    EXPECT_EQ(cmac(Cipher::Aes, k, kZero16, {}), hex("BB1D6929E95937287FA37D129B756746"));
    const Bytes m40 =
        hex("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411");
    EXPECT_EQ(cmac(Cipher::Aes, k, kZero16, m40), hex("DFA66747DE9AE63030CA32611497C827"));
    EXPECT_EQ(cmacEvp(k, m40), hex("DFA66747DE9AE63030CA32611497C827"));
    const Bytes k2 = hex("0123456789ABCDEF23456789ABCDEF01");
    EXPECT_EQ(cmac(Cipher::Tdes2k, k2, Bytes(8, 0), hex("6BC1BEE22E409F96E93D7E117393172A")),
              hex("CC18A0B79AF2413B"));
}

TEST(VirtualDesfire, Ev2MacAndFullModesProtectReadsWritesAndUid) {
    VirtualDesfire card(
        VirtualDesfire::Options{{{0x04, 0x95, 0x8C, 0xAA, 0x5C, 0x5E, 0x80}}, 8192, {}});
    createAesApp(card);
    ASSERT_EQ(send(card, 0xCD, fileSpec(1, 0x01, 0x1111, 32)).sw, 0x9100); // MAC, key 1
    Ev2Host host;
    ASSERT_TRUE(authEv2(card, 1, kZero16, host));

    const Bytes data = hex("0102030405060708090A");
    ASSERT_TRUE(
        host.accept(send(card, 0x3D, host.macCommand(0x3D, cat(rw(1, 0, 10), data))), false));
    Bytes read;
    ASSERT_TRUE(host.accept(send(card, 0xBD, host.macCommand(0xBD, rw(1, 0, 10))), false, &read));
    EXPECT_EQ(read, data);

    // Management commands are MACed in an EV2 session.
    Bytes fileIds;
    ASSERT_TRUE(host.accept(send(card, 0x6F, host.macCommand(0x6F, {})), false, &fileIds));
    EXPECT_EQ(fileIds, hex("01"));

    // GetCardUID answers enciphered.
    Bytes uid;
    ASSERT_TRUE(host.accept(send(card, 0x51, host.macCommand(0x51, {})), true, &uid));
    EXPECT_EQ(uid, hex("04958CAA5C5E80"));

    // A wrong MAC is an integrity error and ends the session.
    Bytes bad = host.macCommand(0xBD, rw(1, 0, 10));
    bad.back() ^= 0x01;
    EXPECT_EQ(send(card, 0xBD, bad).sw, 0x911E);
    EXPECT_EQ(send(card, 0xBD, host.macCommand(0xBD, rw(1, 0, 10))).sw, 0x91AE);

    // GetCardUID needs an authentication.
    EXPECT_EQ(send(card, 0x51).sw, 0x91AE);
}

TEST(VirtualDesfire, Ev2ChangeKeyThenAuthenticatesWithTheNewKey) {
    VirtualDesfire card;
    createAesApp(card);
    Ev2Host host;
    ASSERT_TRUE(authEv2(card, 0, kZero16, host));
    const Bytes newKey1 = hex("F3847D627727ED3BC9C4CC050489B966");
    // Another key: (new ^ old) || version || CRC32(new)
    Bytes plain = newKey1; // old key is zero
    plain.push_back(0x07);
    putLe(plain, crc32(newKey1), 4);
    ASSERT_TRUE(host.accept(send(card, 0xC4, host.fullCommand(0xC4, {0x01}, plain)), false));
    // The authenticated key itself: new || version, and the answer has no MAC.
    const Bytes newKey0 = hex("00112233445566778899AABBCCDDEEFF");
    Response r = send(card, 0xC4, host.fullCommand(0xC4, {0x00}, cat(newKey0, {0x03})));
    EXPECT_EQ(r.sw, 0x9100);
    EXPECT_TRUE(r.data.empty());

    EXPECT_EQ(send(card, 0x64, {0x01}).data, hex("07"));
    EXPECT_EQ(send(card, 0x64, {0x00}).data, hex("03"));
    Ev2Host again;
    EXPECT_TRUE(authEv2(card, 1, newKey1, again));
    EXPECT_TRUE(authEv2(card, 0, newKey0, again));
}

TEST(VirtualDesfire, WrongKeyIsAnAuthenticationError) {
    VirtualDesfire card;
    createAesApp(card);
    Ev2Host host;
    EXPECT_FALSE(authEv2(card, 0, hex("000102030405060708090A0B0C0D0E0F"), host));
    // The card refused part 2 with 91 AE.
    Response r1 = send(card, 0x71, {0x00, 0x00});
    ASSERT_EQ(r1.sw, 0x91AF);
    EXPECT_EQ(send(card, 0xAF, Bytes(32, 0x55)).sw, 0x91AE);
    EXPECT_EQ(send(card, 0x71, {0x09, 0x00}).sw, 0x9140); // no such key
    EXPECT_EQ(send(card, 0x0A, {0x00}).sw, 0x91AE);       // DES authentication on an AES key
}

TEST(VirtualDesfire, AccessRightsGiveAuthenticationErrorOrPermissionDenied) {
    VirtualDesfire card;
    createAesApp(card, 0x0F, 3);
    ASSERT_EQ(send(card, 0xCD, fileSpec(1, 0x00, 0xFFFF, 16)).sw, 0x9100); // never
    ASSERT_EQ(send(card, 0xCD, fileSpec(2, 0x00, 0x2222, 16)).sw, 0x9100); // key 2
    EXPECT_EQ(send(card, 0xBD, rw(1, 0, 1)).sw, 0x919D);
    EXPECT_EQ(send(card, 0xBD, rw(2, 0, 1)).sw, 0x91AE);
    Ev2Host host;
    ASSERT_TRUE(authEv2(card, 1, kZero16, host));
    EXPECT_EQ(send(card, 0xBD, rw(2, 0, 1)).sw, 0x91AE); // authenticated, but with key 1

    // With key settings 0x09 (no free file creation) creating a file needs the master key.
    VirtualDesfire locked;
    createAesApp(locked, 0x09, 1);
    EXPECT_EQ(send(locked, 0xCD, fileSpec(1, 0x00, 0xEEEE, 16)).sw, 0x91AE);
    // Master key frozen: changing key 0 is denied even when authenticated with it.
    VirtualDesfire frozen;
    createAesApp(frozen, 0x0E, 1);
    ASSERT_TRUE(authEv2(frozen, 0, kZero16, host));
    EXPECT_EQ(send(frozen, 0xC4, host.fullCommand(0xC4, {0x00}, cat(kZero16, {0x01}))).sw, 0x919D);
}

TEST(VirtualDesfire, BackupFileChangesOnlyOnCommitAndSurvivesTearing) {
    VirtualDesfire card;
    createAesApp(card);
    ASSERT_EQ(send(card, 0xCB, fileSpec(3, 0x00, 0xEEEE, 8)).sw, 0x9100);
    const Bytes v1 = hex("1111111111111111");
    const Bytes v2 = hex("2222222222222222");

    ASSERT_EQ(send(card, 0x3D, cat(rw(3, 0, 8), v1)).sw, 0x9100);
    EXPECT_EQ(send(card, 0xBD, rw(3, 0, 8)).data, Bytes(8, 0x00)); // not committed yet
    ASSERT_EQ(send(card, 0xC7).sw, 0x9100);
    EXPECT_EQ(send(card, 0xBD, rw(3, 0, 8)).data, v1);

    ASSERT_EQ(send(card, 0x3D, cat(rw(3, 0, 8), v2)).sw, 0x9100);
    ASSERT_EQ(send(card, 0xA7).sw, 0x9100); // abort
    ASSERT_EQ(send(card, 0xC7).sw, 0x9100); // nothing left to commit
    EXPECT_EQ(send(card, 0xBD, rw(3, 0, 8)).data, v1);

    // Tearing: power lost before the commit leaves the last committed state.
    ASSERT_EQ(send(card, 0x3D, cat(rw(3, 0, 8), v2)).sw, 0x9100);
    card.powerOff();
    card.powerOn();
    ASSERT_EQ(send(card, 0x5A, kAid).sw, 0x9100);
    ASSERT_EQ(send(card, 0xC7).sw, 0x9100);
    EXPECT_EQ(send(card, 0xBD, rw(3, 0, 8)).data, v1);

    // Selecting an application discards the open transaction too.
    ASSERT_EQ(send(card, 0x3D, cat(rw(3, 0, 8), v2)).sw, 0x9100);
    ASSERT_EQ(send(card, 0x5A, kAid).sw, 0x9100);
    ASSERT_EQ(send(card, 0xC7).sw, 0x9100);
    EXPECT_EQ(send(card, 0xBD, rw(3, 0, 8)).data, v1);
}

TEST(VirtualDesfire, LegacyDesAuthenticationChangesFactoryMasterKeyToAes) {
    VirtualDesfire card;
    Bytes session;
    ASSERT_TRUE(authLegacy(card, 0, kZero16, session));
    // PICC master key to AES: key number 0x80, new key || version || CRC16 of both, zero
    // padded, "sent" with D() in CBC send mode (libfreefare mifare_desfire_change_key).
    const Bytes aesKey = hex("404142434445464748494A4B4C4D4E4F");
    Bytes plain = cat(aesKey, {0x05});
    const std::uint16_t crc = crc16(plain);
    putLe(plain, crc, 2);
    while (plain.size() % 8)
        plain.push_back(0);
    Bytes enc;
    Bytes prev(8, 0);
    for (std::size_t i = 0; i < plain.size(); i += 8) {
        Bytes block(plain.begin() + static_cast<std::ptrdiff_t>(i),
                    plain.begin() + static_cast<std::ptrdiff_t>(i + 8));
        for (int j = 0; j < 8; ++j)
            block[j] ^= prev[j];
        prev = desEcb(session, block, false);
        enc = cat(enc, prev);
    }
    Response r = send(card, 0xC4, cat({0x80}, enc));
    EXPECT_EQ(r.sw, 0x9100);
    EXPECT_EQ(send(card, 0x45).data, hex("0F 81")); // one AES key
    EXPECT_EQ(send(card, 0x64, {0x00}).data, hex("05"));
    Bytes unused;
    EXPECT_FALSE(authLegacy(card, 0, kZero16, unused));
    Ev2Host host;
    EXPECT_TRUE(authEv2(card, 0, aesKey, host));
}

TEST(VirtualDesfire, Ev1AesAuthenticationAndEncipheredUid) {
    VirtualDesfire card(
        VirtualDesfire::Options{{{0x04, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}}, 4096, {}});
    createAesApp(card);
    // AuthenticateAES (AA): the IV runs on through the three messages (libfreefare AS_NEW).
    Response r1 = send(card, 0xAA, {0x00});
    ASSERT_EQ(r1.sw, 0x91AF);
    const Bytes rndB = aesCbc(kZero16, kZero16, r1.data, false);
    Bytes rndA(16);
    RAND_bytes(rndA.data(), 16);
    const Bytes token = aesCbc(kZero16, r1.data, cat(rndA, rol(rndB)), true);
    Response r2 = send(card, 0xAF, token);
    ASSERT_EQ(r2.sw, 0x9100);
    EXPECT_EQ(aesCbc(kZero16, Bytes(token.end() - 16, token.end()), r2.data, false), rol(rndA));
    const Bytes sk{rndA[0],  rndA[1],  rndA[2],  rndA[3],  rndB[0],  rndB[1],  rndB[2],  rndB[3],
                   rndA[12], rndA[13], rndA[14], rndA[15], rndB[12], rndB[13], rndB[14], rndB[15]};
    // The card CMACs the command (IV zero after authentication), then enciphers UID || CRC32.
    Bytes iv = cmacAes(sk, {0x51});
    Response uid = send(card, 0x51);
    ASSERT_EQ(uid.sw, 0x9100);
    ASSERT_EQ(uid.data.size(), 16u);
    const Bytes plain = aesCbc(sk, iv, uid.data, false);
    EXPECT_EQ(Bytes(plain.begin(), plain.begin() + 7), hex("04010203040506"));
    Bytes crcIn = cat(hex("04010203040506"), {0x00});
    Bytes crc;
    putLe(crc, crc32(crcIn), 4);
    EXPECT_EQ(Bytes(plain.begin() + 7, plain.begin() + 11), crc);
}

TEST(VirtualDesfire, CardImageSurvivesRemovalAndReinsertion) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("unioncard-sim-" +
                       std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".img");
    const Bytes data = hex("CAFEBABE");
    {
        VirtualDesfire card(
            VirtualDesfire::Options{{{0x04, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5}}, 2048, {}});
        createAesApp(card);
        ASSERT_EQ(send(card, 0xCB, fileSpec(1, 0x00, 0xEEEE, 4)).sw, 0x9100);
        ASSERT_EQ(send(card, 0x3D, cat(rw(1, 0, 4), data)).sw, 0x9100);
        ASSERT_EQ(send(card, 0xC7).sw, 0x9100);
        Ev2Host host;
        ASSERT_TRUE(authEv2(card, 0, kZero16, host));
        const Bytes newKey = hex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");
        ASSERT_EQ(send(card, 0xC4, host.fullCommand(0xC4, {0x00}, cat(newKey, {0x02}))).sw, 0x9100);
        std::string error;
        ASSERT_TRUE(card.save(path, &error)) << error;
    }
    std::string error;
    auto card = VirtualDesfire::load(path, &error);
    ASSERT_TRUE(card) << error;
    EXPECT_EQ(card->uid(), hex("04A0A1A2A3A4A5"));
    ASSERT_EQ(send(*card, 0x5A, kAid).sw, 0x9100);
    EXPECT_EQ(send(*card, 0xBD, rw(1, 0, 4)).data, data);
    EXPECT_EQ(send(*card, 0x64, {0x00}).data, hex("02"));
    EXPECT_EQ(send(*card, 0x6E).data, hex("00 07 00")); // 2 KB: 1920 - 64 (app) - 2 * 32 (backup)
    Ev2Host host;
    EXPECT_TRUE(authEv2(*card, 0, hex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"), host));
    // In an EV2 session FreeMemory must carry a MAC.
    EXPECT_EQ(send(*card, 0x6E).sw, 0x917E);

    // A damaged image is refused with a reason.
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << "UCDESFIR\x01garbage";
    }
    EXPECT_FALSE(VirtualDesfire::load(path, &error));
    EXPECT_FALSE(error.empty());
    std::filesystem::remove(path);
    EXPECT_FALSE(VirtualDesfire::load(path, &error));
}

TEST(VirtualDesfire, MalformedApdusGetErrorStatusesAndNeverThrow) {
    VirtualDesfire card;
    EXPECT_EQ(card.transmit(hex("90")), hex("6700"));
    EXPECT_EQ(card.transmit(hex("")), hex("6700"));
    EXPECT_EQ(card.transmit(hex("90 6A 00 00 05 01 02")), hex("6700")); // Lc says 5, 2 come
    EXPECT_EQ(card.transmit(hex("90 6A 01 00 00")), hex("6A86"));       // P1 not 00
    EXPECT_EQ(card.transmit(hex("90 EE 00 00 00")), hex("911C"));       // unknown INS
    EXPECT_EQ(card.transmit(hex("00 A4 04 00 07 D2760000850101 00")), hex("6A82"));
    EXPECT_EQ(card.transmit(hex("00 B0 00 00 00")), hex("6D00"));
    EXPECT_EQ(card.transmit(hex("80 6A 00 00 00")), hex("6E00"));
    EXPECT_EQ(card.transmit(hex("90 6A 00 00 01 00 00")), hex("917E"));    // GetAppIDs with data
    EXPECT_EQ(card.transmit(hex("90 5A 00 00 02 01 02 00")), hex("917E")); // AID too short
    EXPECT_EQ(card.transmit(hex("90 AF 00 00 00")), hex("911C"));          // nothing to continue
    EXPECT_EQ(card.transmit(hex("90 6A 00 00")), hex("9100"));             // case 1 is fine
    // Fuzz-ish: every short INS with random bodies answers something and never throws.
    for (int ins = 0; ins < 256; ++ins) {
        Bytes body(static_cast<std::size_t>(ins % 40));
        RAND_bytes(body.data(), static_cast<int>(body.size()));
        Bytes a = apdu(static_cast<std::uint8_t>(ins), body);
        EXPECT_GE(card.transmit(a).size(), 2u);
    }
}

// Frame limits (docs/card-lab.md, "What the virtual card refuses"): a wrapped native command is
// at most 55 bytes with its code, so Lc 54; longer data go in AF frames or, on EV2 and later,
// in one ISO-chained WriteData 8D. The refusal is whole: the file keeps what it had.
TEST(VirtualDesfire, ANativeFrameLongerThan54BytesIsALengthErrorAndChangesNothing) {
    VirtualDesfire card;
    createAesApp(card);
    ASSERT_EQ(send(card, 0xCD, fileSpec(1, 0x00, 0xEEEE, 200)).sw, 0x9100);

    EXPECT_EQ(send(card, 0x3D, cat(rw(1, 0, 47), Bytes(47, 0x11))).sw, 0x9100); // Lc 54
    EXPECT_EQ(send(card, 0x3D, cat(rw(1, 0, 48), Bytes(48, 0x22))).sw, 0x917E); // Lc 55
    EXPECT_EQ(send(card, 0x3D, cat(rw(1, 0, 128), Bytes(128, 0x22))).sw, 0x917E);
    EXPECT_EQ(sendAll(card, 0xBD, rw(1, 0, 48)).data, cat(Bytes(47, 0x11), Bytes(1, 0x00)));

    // Native chaining: 54 bytes with the command, the rest after AF; each frame within 54.
    const Bytes data(100, 0x33);
    const Bytes command = cat(rw(1, 0, 100), data);
    EXPECT_EQ(send(card, 0x3D, Bytes(command.begin(), command.begin() + 54)).sw, 0x91AF);
    EXPECT_EQ(send(card, 0xAF, Bytes(command.begin() + 54, command.end())).sw, 0x9100);
    EXPECT_EQ(sendAll(card, 0xBD, rw(1, 0, 100)).data, data);
    // A continuation frame over the limit is refused too, and ends the command.
    EXPECT_EQ(send(card, 0x3D, Bytes(command.begin(), command.begin() + 40)).sw, 0x91AF);
    EXPECT_EQ(send(card, 0xAF, Bytes(67, 0x44)).sw, 0x917E);
    EXPECT_EQ(send(card, 0xAF, Bytes(10, 0x44)).sw, 0x911C); // nothing to continue now
    EXPECT_EQ(sendAll(card, 0xBD, rw(1, 0, 100)).data, data);

    // WriteData 8D: the reader's ISO/IEC 14443-4 chaining carries the whole command.
    const Bytes more(150, 0x55);
    EXPECT_EQ(send(card, 0x8D, cat(rw(1, 0, 150), more)).sw, 0x9100);
    EXPECT_EQ(sendAll(card, 0xBD, rw(1, 0, 150)).data, more);
}

TEST(VirtualDesfire, GetVersionNamesTheGenerationAndAnEv1KnowsNoEv2Commands) {
    using unioncard::sim::DesfireGeneration;
    const std::pair<DesfireGeneration, std::uint8_t> generations[] = {
        {DesfireGeneration::Ev1, 0x01},
        {DesfireGeneration::Ev2, 0x12},
        {DesfireGeneration::Ev3, 0x33}};
    for (const auto& [generation, major] : generations) {
        VirtualDesfire::Options options;
        options.generation = generation;
        VirtualDesfire card(options);
        const Bytes hw{0x04, 0x01, 0x01, major, 0x00, 0x1A, 0x05};
        Response v1 = send(card, 0x60);
        EXPECT_EQ(v1.data, hw);
        EXPECT_EQ(send(card, 0xAF).data, hw);
        EXPECT_EQ(send(card, 0xAF).sw, 0x9100);
    }
    VirtualDesfire::Options options;
    options.generation = DesfireGeneration::Ev1;
    VirtualDesfire ev1(options);
    createAesApp(ev1);
    ASSERT_EQ(send(ev1, 0xCD, fileSpec(1, 0x00, 0xEEEE, 100)).sw, 0x9100);
    EXPECT_EQ(send(ev1, 0x71, {0x00, 0x00}).sw, 0x911C); // AuthenticateEV2First
    EXPECT_EQ(send(ev1, 0x77, {0x00}).sw, 0x911C);       // AuthenticateEV2NonFirst
    EXPECT_EQ(send(ev1, 0xAD, rw(1, 0, 10)).sw, 0x911C); // ReadData, ISO chaining
    EXPECT_EQ(send(ev1, 0x8D, cat(rw(1, 0, 4), Bytes(4, 1))).sw, 0x911C);
    // ... and a long 8D is a frame too long for an EV1, before it is an unknown command.
    EXPECT_EQ(send(ev1, 0x8D, cat(rw(1, 0, 60), Bytes(60, 1))).sw, 0x917E);
    EXPECT_EQ(send(ev1, 0x3D, cat(rw(1, 0, 4), Bytes(4, 1))).sw, 0x9100);

    // The generation is part of the card image.
    const auto path = std::filesystem::temp_directory_path() /
                      ("unioncard-sim-ev1-" +
                       std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".img");
    std::string error;
    ASSERT_TRUE(ev1.save(path, &error)) << error;
    auto loaded = VirtualDesfire::load(path, &error);
    std::filesystem::remove(path);
    ASSERT_TRUE(loaded) << error;
    EXPECT_EQ(send(*loaded, 0x60).data[3], 0x01);
}

TEST(VirtualDesfire, UnpoweredCardDoesNotAnswer) {
    VirtualDesfire card;
    card.powerOff();
    EXPECT_EQ(card.transmit(apdu(0x60)), hex("6F00"));
    card.powerOn();
    EXPECT_EQ(send(card, 0x60).sw, 0x91AF);
}

} // namespace
