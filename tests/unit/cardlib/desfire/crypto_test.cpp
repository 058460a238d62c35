// SPDX-License-Identifier: Apache-2.0
// DESFire host cryptography against published vectors. Every constant below is transcribed
// from the document named next to it (full list with pages: README.md in this folder); none was
// produced by the code under test. Where a behaviour has no published vector, the test says so
// and checks it against an independent construction instead.

#include <unioncard/card/desfire/crypto.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace unioncard::card::desfire;

Bytes hex(std::string_view text) {
    Bytes out;
    int high = -1;
    for (const char c : text) {
        int v = -1;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        } else {
            continue; // spaces as the documents print them
        }
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high * 16 + v));
            high = -1;
        }
    }
    EXPECT_LT(high, 0) << "odd number of hex digits in " << text;
    return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

Bytes bytesOf(std::string_view text) {
    return Bytes(text.begin(), text.end());
}

// The message the NIST CMAC examples share (SP 800-38B App. D, RFC 4493 §4), cut to length.
Bytes nistMessage(std::size_t length) {
    Bytes m = hex("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
                  "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710");
    m.resize(length);
    return m;
}

// --- Block ciphers ---------------------------------------------------------------------------

TEST(DesfireCipher, Aes128EcbMatchesSp80038aF11) {
    // NIST SP 800-38A App. F.1.1 (ECB-AES128.Encrypt), block 1.
    const Bytes key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    const Bytes plain = hex("6bc1bee22e409f96e93d7e117393172a");
    const Bytes cipher = hex("3ad77bb40d7a3660a89ecaf32466ef97");
    EXPECT_EQ(encryptEcb(KeyType::Aes128, key, plain), cipher);
    EXPECT_EQ(decryptEcb(KeyType::Aes128, key, cipher), plain);
}

TEST(DesfireCipher, Aes128CbcMatchesSp80038aF21) {
    // NIST SP 800-38A App. F.2.1 (CBC-AES128.Encrypt), blocks 1-2.
    const Bytes key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    const Bytes iv = hex("000102030405060708090a0b0c0d0e0f");
    const Bytes plain = nistMessage(32);
    const Bytes cipher = hex("7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2");
    EXPECT_EQ(encryptCbc(KeyType::Aes128, key, iv, plain), cipher);
    EXPECT_EQ(decryptCbc(KeyType::Aes128, key, iv, cipher), plain);
}

TEST(DesfireCipher, AesCbcMatchesAn12196AuthenticateEv2FirstTable14) {
    // AN12196 rev. 1.8 §6.6 Table 14, p. 29 (rev. 2.0 §5.6 Table 14): the card sends
    // E(K0, RndB), steps 7/9; the PCD answers E(K0, RndA || RndB'), steps 10-13. Zero IV.
    const Bytes k0(16, 0x00);
    const Bytes iv(16, 0x00);
    const Bytes rndB = hex("B9E2FC789B64BF237CCCAA20EC7E6E48");
    const Bytes rndA = hex("13C5DB8A5930439FC3DEF9A4C675360F");
    EXPECT_EQ(decryptCbc(KeyType::Aes128, k0, iv, hex("A04C124213C186F22399D33AC2A30215")), rndB);
    const Bytes rndBPrime = rotateLeft(rndB);
    EXPECT_EQ(rndBPrime, hex("E2FC789B64BF237CCCAA20EC7E6E48B9")); // step 11
    EXPECT_EQ(encryptCbc(KeyType::Aes128, k0, iv, concat({rndA, rndBPrime})),
              hex("35C3E05A752E0144BAC0DE51C1F22C56 B34408A23D8AEA266CAB947EA8E0118D"));
}

TEST(DesfireCipher, DesEdeCbcMatchesEv1IsoAuthenticationTrace) {
    // DESFire EV1 ISO authentication (1A) with the 16-byte all-zero key, from Elmue's
    // "Desfire EV1 communication examples" trace (Stack Overflow; README). ISO mode chains the
    // IV across the exchange: RndB_enc is decrypted with IV 0, then RndA || RndB' is encrypted
    // with RndB_enc as the IV.
    const Bytes key(16, 0x00);
    const Bytes rndBEnc = hex("B8 90 04 7F 2D C8 D6 8B");
    const Bytes rndB = hex("74 B8 43 5F CB A0 B6 75");
    EXPECT_EQ(decryptCbc(KeyType::Des2K, key, Bytes(8, 0x00), rndBEnc), rndB);
    const Bytes rndAB = concat({hex("92 31 34 8B 66 35 A8 AF"), rotateLeft(rndB)});
    EXPECT_EQ(rndAB, hex("92 31 34 8B 66 35 A8 AF B8 43 5F CB A0 B6 75 74"));
    const Bytes rndABEnc = hex("7C 84 6A 50 7B 9B 6E 68 64 BC 33 72 A3 06 A8 C1");
    EXPECT_EQ(encryptCbc(KeyType::Des2K, key, rndBEnc, rndAB), rndABEnc);
    EXPECT_EQ(decryptCbc(KeyType::Des2K, key, rndBEnc, rndABEnc), rndAB);
}

TEST(DesfireCipher, Des3KRoundTripsThroughCbcAndEcb) {
    // No published DES-EDE3-CBC vector in the DESFire documents; the 3K3DES cipher itself is
    // pinned by the SP 800-38B TDEA CMAC vectors below. This checks the mode plumbing.
    const Bytes key = hex("8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5");
    const Bytes iv = hex("0001020304050607");
    const Bytes plain = nistMessage(32);
    const Bytes cbc = encryptCbc(KeyType::Des3K, key, iv, plain);
    EXPECT_NE(cbc, plain);
    EXPECT_EQ(decryptCbc(KeyType::Des3K, key, iv, cbc), plain);
    EXPECT_EQ(decryptEcb(KeyType::Des3K, key, encryptEcb(KeyType::Des3K, key, plain)), plain);
}

TEST(DesfireCipher, LengthsFollowKeyType) {
    EXPECT_EQ(keyLength(KeyType::Des2K), 16u);
    EXPECT_EQ(keyLength(KeyType::Des3K), 24u);
    EXPECT_EQ(keyLength(KeyType::Aes128), 16u);
    EXPECT_EQ(blockLength(KeyType::Des2K), 8u);
    EXPECT_EQ(blockLength(KeyType::Des3K), 8u);
    EXPECT_EQ(blockLength(KeyType::Aes128), 16u);
}

// --- CMAC ------------------------------------------------------------------------------------

TEST(DesfireCmac, AesMatchesRfc4493Examples) {
    // RFC 4493 §4 (the same values as NIST SP 800-38B App. D.1, Examples 1-4).
    const Bytes key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    EXPECT_EQ(cmac(KeyType::Aes128, key, {}), hex("bb1d6929e95937287fa37d129b756746"));
    EXPECT_EQ(cmac(KeyType::Aes128, key, nistMessage(16)), hex("070a16b46b4d4144f79bdd9dd04a287c"));
    EXPECT_EQ(cmac(KeyType::Aes128, key, nistMessage(40)), hex("dfa66747de9ae63030ca32611497c827"));
    EXPECT_EQ(cmac(KeyType::Aes128, key, nistMessage(64)), hex("51f0bebf7e3b9d92fc49741779363cfe"));
}

TEST(DesfireCmac, AesSubkeysMatchRfc4493) {
    // RFC 4493 §4, "Subkey Generation".
    const CmacSubkeys sk = cmacSubkeysAes128(hex("2b7e151628aed2a6abf7158809cf4f3c"));
    EXPECT_EQ(sk.k1, hex("fbeed618357133667c85e08f7236a8de"));
    EXPECT_EQ(sk.k2, hex("f7ddac306ae266ccf90bc11ee46d513b"));
}

TEST(DesfireCmac, ThreeKeyTdeaMatchesSp80038bD4) {
    // NIST SP 800-38B (May 2005) App. D.4 "Three Key TDEA", Examples 13-16. Examples 14 and 15
    // are printed wrongly in the 2005 text; these are NIST's corrected values (CSRC "CMAC
    // examples", README).
    const Bytes key = hex("8aa83bf8cbda1062 0bc1bf19fbb6cd58 bc313d4a371ca8b5");
    EXPECT_EQ(cmac(KeyType::Des3K, key, {}), hex("b7a688e122ffaf95"));
    EXPECT_EQ(cmac(KeyType::Des3K, key, nistMessage(8)), hex("8e8f293136283797"));
    EXPECT_EQ(cmac(KeyType::Des3K, key, nistMessage(20)), hex("743ddbe0ce2dc2ed"));
    EXPECT_EQ(cmac(KeyType::Des3K, key, nistMessage(32)), hex("33e6b1092400eae5"));
}

TEST(DesfireCmac, TwoKeyTdeaMatchesSp80038bD5) {
    // NIST SP 800-38B (May 2005) App. D.5 "Two Key TDEA", Examples 17-20 (Key3 = Key1, which is
    // exactly OpenSSL's 16-byte DES-EDE). Examples 18 and 19 as corrected by NIST (README).
    const Bytes key = hex("4cf15134a2850dd5 8a3d10ba80570d38");
    EXPECT_EQ(cmac(KeyType::Des2K, key, {}), hex("bd2ebf9a3ba00361"));
    EXPECT_EQ(cmac(KeyType::Des2K, key, nistMessage(8)), hex("4ff2ab813c53ce83"));
    EXPECT_EQ(cmac(KeyType::Des2K, key, nistMessage(20)), hex("62dd1b471902bd4e"));
    EXPECT_EQ(cmac(KeyType::Des2K, key, nistMessage(32)), hex("31b1e431dabc4eb8"));
}

TEST(DesfireCmac, TdeaMatchesNistCsrcTdesCmacExamples) {
    // NIST CSRC "Examples with Intermediate Values", TDES_CMAC.pdf (the examples that replaced
    // SP 800-38B App. D), TDEA with 3 and 2 keys, Mlen = 0, 128, 160, 256 bits.
    const Bytes key3 = hex("0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123");
    EXPECT_EQ(cmac(KeyType::Des3K, key3, {}), hex("7DB0D37DF936C550"));
    EXPECT_EQ(cmac(KeyType::Des3K, key3, nistMessage(16)), hex("30239CF1F52E6609"));
    EXPECT_EQ(cmac(KeyType::Des3K, key3, nistMessage(20)), hex("6C9F3EE4923F6BE2"));
    EXPECT_EQ(cmac(KeyType::Des3K, key3, nistMessage(32)), hex("99429BD0BF7904E5"));

    const Bytes key2 = hex("0123456789ABCDEF 23456789ABCDEF01");
    EXPECT_EQ(cmac(KeyType::Des2K, key2, {}), hex("79CE52A7F786A960"));
    EXPECT_EQ(cmac(KeyType::Des2K, key2, nistMessage(16)), hex("CC18A0B79AF2413B"));
    EXPECT_EQ(cmac(KeyType::Des2K, key2, nistMessage(20)), hex("C06D377ECD101969"));
    EXPECT_EQ(cmac(KeyType::Des2K, key2, nistMessage(32)), hex("9CD33580F9B64DFB"));
}

TEST(DesfireCmac, TruncationMatchesAn12196GetCardUidResponse) {
    // AN12196 rev. 1.8 §7.3 Table 29, p. 45 (rev. 2.0 §6.3 Table 28, p. 42), GetCardUID in
    // CommMode.Full: the response MAC over RC || CmdCtr+1 (LSB first) || TI || ciphertext, the
    // full CMAC and the 8 bytes the card sends.
    const Bytes macKey = hex("379D32130CE61705DD5FD8C36B95D764");
    const Bytes ciphertext = hex("70756055688505B52A5E26E59E329CD6");
    const Bytes input = concat({hex("00 0100 DF055522"), ciphertext});
    const Bytes full = cmac(KeyType::Aes128, macKey, input);
    EXPECT_EQ(full, hex("F4593D5FAB671F225798C4EA894195B7"));
    EXPECT_EQ(truncateMac(full), hex("595F672298EA41B7"));
}

TEST(DesfireCmac, TruncatedCommandMacMatchesAn12196ChangeFileSettings) {
    // AN12196 rev. 1.8 §6.9 Table 19, p. 34 (rev. 2.0 §5.9 Table 18): MAC input of step 12
    // (Cmd || CmdCtr || TI || CmdHeader || E(data)) and the MACt of step 14.
    const Bytes macKey = hex("4C6626F5E72EA694202139295C7A7FC7");
    const Bytes input = hex("5F 0100 9D00C4DF 02 61B6D97903566E84C3AE5274467E89EA");
    EXPECT_EQ(truncateMac(cmac(KeyType::Aes128, macKey, input)), hex("D799B7C1A0EF7A04"));
}

TEST(DesfireCmac, TruncatedMacsMatchAn12343SecureMessagingExample) {
    // AN12343 (MIFARE DESFire Light features and hints) p. 54, a WriteData / ReadData exchange
    // in CommMode.MAC: MAC input Cmd-or-RC || CmdCtr (LSB first) || TI || data.
    const Bytes macKey = hex("9366FA195EB566F5BD2BAD4020B83002");
    const Bytes ti = hex("E2D3AF69");
    const auto macT = [&](std::uint8_t code, std::uint16_t ctr, const Bytes& data) {
        Bytes input{code, static_cast<std::uint8_t>(ctr & 0xFF),
                    static_cast<std::uint8_t>(ctr >> 8)};
        input.insert(input.end(), ti.begin(), ti.end());
        input.insert(input.end(), data.begin(), data.end());
        return truncateMac(cmac(KeyType::Aes128, macKey, input));
    };
    const Bytes twos25(25, 0x22);
    EXPECT_EQ(macT(0x8D, 0, concat({hex("00 000000 190000"), twos25})), hex("68F2C28C575A1628"));
    EXPECT_EQ(macT(0x00, 1, {}), hex("0820F68898C2A7F1"));
    EXPECT_EQ(macT(0xAD, 1, hex("00 000000 300000")), hex("0D9BE191D5960834"));
    EXPECT_EQ(macT(0x00, 2, concat({twos25, Bytes(23, 0x00)})), hex("A49A44222D926666"));
}

// --- Padding and CRC -------------------------------------------------------------------------

TEST(DesfirePadding, Iso9797Method2AlwaysAddsAByte) {
    // ISO/IEC 9797-1 padding method 2 as NT4H2421Gx §9.1.4 uses it: 80 then zeros; a whole
    // block gets a whole extra block. AN12196 rev. 1.8 §6.9 Table 19 step 8 pads the 15-byte
    // ChangeFileSettings data to one block.
    EXPECT_EQ(padIso9797M2(hex("4000E0C1F121200000430000430000"), 16),
              hex("4000E0C1F12120000043000043000080"));
    EXPECT_EQ(padIso9797M2({}, 8), hex("8000000000000000"));
    EXPECT_EQ(padIso9797M2(Bytes(16, 0x11), 16).size(), 32u);
    EXPECT_EQ(padIso9797M2(Bytes(7, 0x11), 8), hex("1111111111111180"));
}

TEST(DesfireCrc32, MatchesJamcrcCheckValue) {
    // CRC-32/JAMCRC check value (reveng CRC catalogue): CRC-32 of "123456789" = CBF43926,
    // without the final XOR = 340BC6D9.
    EXPECT_EQ(crc32Desfire(bytesOf("123456789")), 0x340BC6D9u);
    EXPECT_EQ(crc32Desfire({}), 0xFFFFFFFFu);
}

TEST(DesfireCrc32, MatchesEv1ChangeKeyTrace) {
    // Elmue's EV1 ChangeKey(KeyNo = 1) trace (Stack Overflow; README): "CRC Crypto" over
    // C4 01 || (new key XOR current key) and "CRC New Key" over the new key alone.
    const Bytes newKey = hex("00 10 20 31 40 50 60 70 80 90 A0 B0 B0 A0 90 80");
    EXPECT_EQ(crc32Desfire(concat({hex("C4 01"), newKey})), 0xD7A73486u);
    EXPECT_EQ(crc32Desfire(newKey), 0xC4EF3A3Au);
}

// --- AN10922 key diversification ------------------------------------------------------------

TEST(DesfireDiversification, InputMatchesAn10922Example) {
    // AN10922 rev. 2.0 §2.2.1: UID 04782E21801D80, AID 3042F5 as sent (LSB first), system
    // identifier "NXP Abu".
    EXPECT_EQ(diversificationInput(hex("04782E21801D80"), 0xF54230, bytesOf("NXP Abu")),
              hex("04782E21801D80 3042F5 4E585020416275"));
}

TEST(DesfireDiversification, SubkeysMatchAn10922Example) {
    // AN10922 rev. 2.0 §2.2.1 steps 3-4: K1 and K2 of the example master key.
    const CmacSubkeys sk = cmacSubkeysAes128(hex("00112233445566778899AABBCCDDEEFF"));
    EXPECT_EQ(sk.k1, hex("FBC9F75C9413C041DFEE452D3F0706D1"));
    EXPECT_EQ(sk.k2, hex("F793EEB928278083BFDC8A5A7E0E0D25"));
}

TEST(DesfireDiversification, PaddedInputMatchesAn10922Aes128Example) {
    // AN10922 rev. 2.0 §2.2.1: 17-byte M, so D = 01 || M || 80 00.. (32 bytes) and the K2
    // path; diversified key A8DD63A3B89D54B37CA802473FDA9175.
    const Bytes master = hex("00112233445566778899AABBCCDDEEFF");
    const Bytes m = diversificationInput(hex("04782E21801D80"), 0xF54230, bytesOf("NXP Abu"));
    EXPECT_EQ(diversifyAes128(master, m), hex("A8DD63A3B89D54B37CA802473FDA9175"));
}

// CBC-MAC with the last block already XORed with K1 or K2, built from encryptCbc: an independent
// spelling of AN10922 §2.2 steps 11-14 to hold the subkey swap in diversifyAes128 against.
Bytes an10922ByCbcMac(const Bytes& master, const Bytes& m) {
    Bytes d = concat({hex("01"), m});
    const CmacSubkeys sk = cmacSubkeysAes128(master);
    const bool padded = d.size() < 32;
    if (padded) {
        d.push_back(0x80);
        d.resize(32, 0x00);
    }
    for (std::size_t i = 0; i < 16; ++i) {
        d[16 + i] ^= padded ? sk.k2[i] : sk.k1[i];
    }
    const Bytes chain = encryptCbc(KeyType::Aes128, master, Bytes(16, 0x00), d);
    return Bytes(chain.end() - 16, chain.end());
}

TEST(DesfireDiversification, FullLengthInputTakesTheK1Path) {
    // No published vector has a 31-byte M (AN10922's examples all use the 17-byte one). With
    // 01 || M exactly 32 bytes there is no padding and the K1 subkey applies, which is plain
    // NIST CMAC (held to RFC 4493 above) and the CBC-MAC spelling.
    const Bytes master = hex("00112233445566778899AABBCCDDEEFF");
    Bytes m = diversificationInput(hex("04782E21801D80"), 0xF54230, bytesOf("NXP Abu"));
    m.resize(31, 0x5A);
    const Bytes k = diversifyAes128(master, m);
    EXPECT_EQ(k, cmac(KeyType::Aes128, master, concat({hex("01"), m})));
    EXPECT_EQ(k, an10922ByCbcMac(master, m));
}

TEST(DesfireDiversification, ShortInputIsPaddedToTwoBlocksNotOne) {
    // AN10922 pads D to 32 bytes even when 01 || M fits one block; plain CMAC would pad to 16.
    // No published vector for that length either: checked against the CBC-MAC spelling, and
    // shown to differ from plain CMAC, for every length from 1 to 30.
    const Bytes master = hex("00112233445566778899AABBCCDDEEFF");
    for (std::size_t len = 1; len <= 30; ++len) {
        Bytes m(len);
        for (std::size_t i = 0; i < len; ++i) {
            m[i] = static_cast<std::uint8_t>(0xA0 + i);
        }
        SCOPED_TRACE("M of " + std::to_string(len) + " bytes");
        const Bytes k = diversifyAes128(master, m);
        EXPECT_EQ(k, an10922ByCbcMac(master, m));
        if (len < 16) {
            EXPECT_NE(k, cmac(KeyType::Aes128, master, concat({hex("01"), m})));
        } else {
            // 17..31 bytes of D: CMAC's own padding reaches 32 bytes too, K2 either way.
            EXPECT_EQ(k, cmac(KeyType::Aes128, master, concat({hex("01"), m})));
        }
    }
}

// --- Session keys ----------------------------------------------------------------------------

TEST(DesfireSessionKeys, Ev2VectorsMatchAn12196Table14) {
    // AN12196 rev. 1.8 §6.6 Table 14, p. 29, steps 25-28. The byte numbering is MSB first:
    // RndA[15..14] is 13C5, the first two bytes of RndA.
    const Bytes rndA = hex("13C5DB8A5930439FC3DEF9A4C675360F");
    const Bytes rndB = hex("B9E2FC789B64BF237CCCAA20EC7E6E48");
    EXPECT_EQ(ev2SessionVector(false, rndA, rndB),
              hex("A55A00010080 13C5 6268A548D8FB BF237CCCAA20EC7E6E48 C3DEF9A4C675360F"));
    EXPECT_EQ(ev2SessionVector(true, rndA, rndB),
              hex("5AA500010080 13C5 6268A548D8FB BF237CCCAA20EC7E6E48 C3DEF9A4C675360F"));
    const Ev2SessionKeys keys = ev2SessionKeys(Bytes(16, 0x00), rndA, rndB);
    EXPECT_EQ(keys.enc, hex("1309C877509E5A215007FF0ED19CA564"));
    EXPECT_EQ(keys.mac, hex("4C6626F5E72EA694202139295C7A7FC7"));
}

TEST(DesfireSessionKeys, Ev2KeysMatchAn12196Table20Key3) {
    // AN12196 rev. 1.8 §6.10 Table 20, p. 35 (rev. 2.0 §5.10 Table 19, p. 32).
    const Bytes rndA = hex("B98F4C50CF1C2E084FD150E33992B048");
    const Bytes rndB = hex("91517975190DCEA6104948EFA3085C1B");
    EXPECT_EQ(ev2SessionVector(false, rndA, rndB),
              hex("A55A00010080 B98F DD01B6693705 CEA6104948EFA3085C1B 4FD150E33992B048"));
    const Ev2SessionKeys keys = ev2SessionKeys(Bytes(16, 0x00), rndA, rndB);
    EXPECT_EQ(keys.enc, hex("7A93D6571E4B180FCA6AC90C9A7488D4"));
    EXPECT_EQ(keys.mac, hex("FC4AF159B62E549B5812394CAB1918CC"));
}

TEST(DesfireSessionKeys, Ev2KeysMatchAn12196Table24NonFirst) {
    // AN12196 rev. 1.8 §6.14 Table 24, p. 39 (rev. 2.0 §5.14 Table 23, p. 36),
    // AuthenticateEV2NonFirst derives the keys the same way.
    const Bytes rndA = hex("60BE759EDA560250AC57CDDC11743CF6");
    const Bytes rndB = hex("6924E8D09722659A2E7DEC68E66312B8");
    const Ev2SessionKeys keys = ev2SessionKeys(Bytes(16, 0x00), rndA, rndB);
    EXPECT_EQ(keys.enc, hex("4CF3CB41A22583A61E89B158D252FC53"));
    EXPECT_EQ(keys.mac, hex("5529860B2FC5FB6154B7F28361D30BF9"));
}

TEST(DesfireSessionKeys, Ev2KeysMatchAn12343) {
    // AN12343 (MIFARE DESFire Light features and hints) pp. 33-34, AuthenticateEV2First.
    const Ev2SessionKeys keys =
        ev2SessionKeys(Bytes(16, 0x00), hex("B04D0787C93EE0CC8CACC8E86F16C6FE"),
                       hex("FA659AD0DCA738DD65DC7DC38612AD81"));
    EXPECT_EQ(keys.enc, hex("63DC07286289A7A6C0334CA31C314A04"));
    EXPECT_EQ(keys.mac, hex("774F26743ECE6AF5033B6AE8522946F6"));
}

TEST(DesfireSessionKeys, Ev1SingleDesMatchesIsoAuthenticationTrace) {
    // Elmue's EV1 ISO-authentication trace (README): all-zero 16-byte key, so K1 == K2 and the
    // card runs single DES; the trace prints "SessKey: 92 30 34 8A 74 B8 42 5E" twice. It prints
    // the key with its parity (version) bits cleared, which DES ignores: compare bits 7..1, and
    // show the two keys encrypt alike.
    const Bytes authKey(16, 0x00);
    ASSERT_TRUE(isSingleDesKey(authKey));
    const Bytes rndA = hex("92 31 34 8B 66 35 A8 AF");
    const Bytes rndB = hex("74 B8 43 5F CB A0 B6 75");
    const Bytes published = hex("92 30 34 8A 74 B8 42 5E 92 30 34 8A 74 B8 42 5E");
    const Bytes key = ev1SingleDesSessionKey(rndA, rndB);
    ASSERT_EQ(key.size(), published.size());
    for (std::size_t i = 0; i < key.size(); ++i) {
        EXPECT_EQ(key[i] & 0xFE, published[i]) << "byte " << i;
    }
    const Bytes block = hex("0011223344556677");
    EXPECT_EQ(encryptEcb(KeyType::Des2K, key, block), encryptEcb(KeyType::Des2K, published, block));
}

TEST(DesfireSessionKeys, SingleDesNeedsIdenticalHalvesParityIncluded) {
    EXPECT_TRUE(isSingleDesKey(hex("0011223344556677 0011223344556677")));
    EXPECT_FALSE(isSingleDesKey(hex("0011223344556677 0011223344556676")));
    EXPECT_FALSE(isSingleDesKey(hex("00112233445566778899AABBCCDDEEFF")));
}

// No published trace with RndA, RndB and the resulting key was found for EV1 AES, true 2K3DES
// (K1 != K2) or 3K3DES authentication (README). These pin the layouts of libfreefare's
// mifare_desfire_session_key_new (libfreefare/mifare_desfire_key.c) with randoms whose every
// byte is distinct, so any slip of an index shows.
Bytes counting(std::uint8_t first, std::size_t n) {
    Bytes out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::uint8_t>(first + i);
    }
    return out;
}

TEST(DesfireSessionKeys, Ev1AesLayoutFollowsLibfreefare) {
    const Bytes rndA = counting(0xA0, 16);
    const Bytes rndB = counting(0xB0, 16);
    EXPECT_EQ(ev1AesSessionKey(rndA, rndB), hex("A0A1A2A3 B0B1B2B3 ACADAEAF BCBDBEBF"));
}

TEST(DesfireSessionKeys, Ev1Des2KLayoutFollowsLibfreefare) {
    EXPECT_EQ(ev1DesSessionKey(KeyType::Des2K, counting(0xA0, 8), counting(0xB0, 8)),
              hex("A0A1A2A3 B0B1B2B3 A4A5A6A7 B4B5B6B7"));
}

TEST(DesfireSessionKeys, Ev1Des3KLayoutFollowsLibfreefare) {
    EXPECT_EQ(ev1DesSessionKey(KeyType::Des3K, counting(0xA0, 16), counting(0xB0, 16)),
              hex("A0A1A2A3 B0B1B2B3 A6A7A8A9 B6B7B8B9 ACADAEAF BCBDBEBF"));
}

// --- EV2 secure messaging IV -----------------------------------------------------------------

TEST(DesfireEv2Iv, CommandIvsMatchAn12196) {
    // IVc = E(KSesAuthENC, A5 5A || TI || CmdCtr (LSB first) || 0^64).
    const Bytes enc = hex("1309C877509E5A215007FF0ED19CA564");
    const Bytes ti = hex("9D00C4DF");
    // AN12196 rev. 1.8 §6.8.2 Table 18, p. 32 (WriteData, CmdCtr 0000), step 9.
    EXPECT_EQ(ev2Iv(enc, false, ti, 0), hex("D2CB7277A17841A06654A48188C1F8F5"));
    // AN12196 rev. 1.8 §6.9 Table 19, p. 34 (ChangeFileSettings, CmdCtr 0100), step 9.
    EXPECT_EQ(ev2Iv(enc, false, ti, 1), hex("3E27082AB2ACC1EF55C57547934E9962"));
    // AN12196 rev. 1.8 §6.16 Table 27, p. 41 (ChangeKey, CmdCtr 0300).
    EXPECT_EQ(ev2Iv(hex("4CF3CB41A22583A61E89B158D252FC53"), false, hex("7614281A"), 3),
              hex("01602D579423B2797BE8B478B0B4D27B"));
}

TEST(DesfireEv2Iv, ChangeFileSettingsCiphertextMatchesAn12196Table19) {
    // AN12196 rev. 1.8 §6.9 Table 19, p. 34, steps 7-11: pad, then AES-CBC under IVc.
    const Bytes enc = hex("1309C877509E5A215007FF0ED19CA564");
    const Bytes iv = ev2Iv(enc, false, hex("9D00C4DF"), 1);
    const Bytes plain = padIso9797M2(hex("4000E0C1F121200000430000430000"), 16);
    EXPECT_EQ(encryptCbc(KeyType::Aes128, enc, iv, plain), hex("61B6D97903566E84C3AE5274467E89EA"));
}

TEST(DesfireEv2Iv, ResponseIvMatchesAn12196GetCardUid) {
    // AN12196 rev. 1.8 §7.3 Table 29, p. 45 (rev. 2.0 §6.3 Table 28, p. 42): IVr with 5A A5 and
    // CmdCtr + 1, then the response decrypts to UID || 80 00..
    const Bytes enc = hex("2B4D963C014DC36F24F69A50A394F875");
    const Bytes iv = ev2Iv(enc, true, hex("DF055522"), 1);
    EXPECT_EQ(iv, hex("7F6BB0B278EA054CBD238C5D9E9E342B"));
    EXPECT_EQ(decryptCbc(KeyType::Aes128, enc, iv, hex("70756055688505B52A5E26E59E329CD6")),
              hex("04958CAA5C5E80800000000000000000"));
}

// --- Helpers ---------------------------------------------------------------------------------

TEST(DesfireHelpers, RotateLeftMovesTheFirstByteToTheEnd) {
    EXPECT_EQ(rotateLeft(hex("C5DB8A5930439FC3DEF9A4C675360F13")),
              hex("DB8A5930439FC3DEF9A4C675360F13C5"));
    EXPECT_EQ(rotateLeft({}), Bytes{});
}

TEST(DesfireHelpers, RandomBytesHaveTheLengthAsked) {
    EXPECT_EQ(randomBytes(0).size(), 0u);
    const Bytes a = randomBytes(16);
    const Bytes b = randomBytes(16);
    EXPECT_EQ(a.size(), 16u);
    EXPECT_NE(a, b); // 2^-128 to fail by chance
}

} // namespace
