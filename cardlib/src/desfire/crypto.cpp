// SPDX-License-Identifier: Apache-2.0
// Host-side DESFire cryptography. Every block cipher, CMAC and random byte comes from OpenSSL 3;
// this file only arranges bytes the way the NXP documents say (vectors:
// tests/unit/cardlib/desfire).

#include "openssl_util.hpp"

#include <unioncard/card/desfire/crypto.hpp>

#include <climits>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace unioncard::card::desfire {

Wiped::~Wiped() {
    OPENSSL_cleanse(m_bytes.data(), m_bytes.size());
}

namespace {

using Cipher = ossl::Ptr<EVP_CIPHER, EVP_CIPHER_free>;
using CipherCtx = ossl::Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using Mac = ossl::Ptr<EVP_MAC, EVP_MAC_free>;
using MacCtx = ossl::Ptr<EVP_MAC_CTX, EVP_MAC_CTX_free>;

// Programming errors (wrong key length, ragged data): assert in debug builds, and in release
// builds still stop rather than let OpenSSL or an index read past a short buffer.
void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "unioncard desfire crypto: bug: %s\n", what);
        assert(false && "see the message above");
        std::abort();
    }
}

// OpenSSL failing on well-formed input means a broken installation (no default provider, no
// memory): not the user's doing and not recoverable here. The message carries OpenSSL's reason,
// never data or keys.
[[noreturn]] void opensslFailed(const char* what) {
    throw std::runtime_error(std::string("OpenSSL ") + what + " failed: " + ossl::errors());
}

// 2K3DES is DES-EDE with K3 = K1 (16-byte key K1 || K2); a DESFire single-DES key is the same
// cipher with K1 == K2, so one name serves both (DESFire EV1 datasheet, key types).
const char* cipherName(KeyType type, bool cbc) {
    switch (type) {
    case KeyType::Des2K:
        return cbc ? "DES-EDE-CBC" : "DES-EDE-ECB";
    case KeyType::Des3K:
        return cbc ? "DES-EDE3-CBC" : "DES-EDE3-ECB";
    case KeyType::Aes128:
        return cbc ? "AES-128-CBC" : "AES-128-ECB";
    }
    require(false, "unknown KeyType");
    return "";
}

Cipher fetchCipher(KeyType type, bool cbc) {
    Cipher cipher(EVP_CIPHER_fetch(nullptr, cipherName(type, cbc), nullptr));
    if (!cipher) {
        opensslFailed("cipher fetch");
    }
    return cipher;
}

int intLength(std::size_t n) {
    require(n <= static_cast<std::size_t>(INT_MAX), "buffer too large for OpenSSL's int lengths");
    return static_cast<int>(n);
}

// One pass of a block cipher without padding. The callers assert the lengths; OpenSSL checks
// them again (a key of the wrong size makes EVP_CipherInit_ex2 fail).
Bytes runCipher(KeyType type, bool cbc, bool encrypt, ByteView key, ByteView iv, ByteView data) {
    require(key.size() == keyLength(type), "wrong key length for the key type");
    require(data.size() % blockLength(type) == 0, "data is not a whole number of blocks");
    require((!cbc || iv.size() == blockLength(type)), "IV must be one block");

    const Cipher cipher = fetchCipher(type, cbc);
    const CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        opensslFailed("cipher context");
    }
    if (EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), cbc ? iv.data() : nullptr,
                           encrypt ? 1 : 0, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
        opensslFailed("cipher init");
    }
    Bytes out(data.size() + blockLength(type));
    int written = 0;
    int tail = 0;
    if (EVP_CipherUpdate(ctx.get(), out.data(), &written, data.data(), intLength(data.size())) !=
            1 ||
        EVP_CipherFinal_ex(ctx.get(), out.data() + written, &tail) != 1) {
        OPENSSL_cleanse(out.data(), out.size());
        opensslFailed("cipher");
    }
    out.resize(static_cast<std::size_t>(written + tail));
    assert(out.size() == data.size());
    return out;
}

// Byte n of a value in the notation of AN12196 §4.3 / NT4H2421Gx §9.1.7, which numbers bytes
// from the most significant end: RndA[15] is the first byte on the wire, RndA[0] the last.
std::uint8_t be(ByteView value, std::size_t n) {
    return value[value.size() - 1 - n];
}

} // namespace

std::size_t keyLength(KeyType type) {
    switch (type) {
    case KeyType::Des2K:
        return 16;
    case KeyType::Des3K:
        return 24;
    case KeyType::Aes128:
        return 16;
    }
    require(false, "unknown KeyType");
    return 0;
}

std::size_t blockLength(KeyType type) {
    return type == KeyType::Aes128 ? 16 : 8;
}

Bytes encryptCbc(KeyType type, ByteView key, ByteView iv, ByteView data) {
    return runCipher(type, true, true, key, iv, data);
}

Bytes decryptCbc(KeyType type, ByteView key, ByteView iv, ByteView data) {
    return runCipher(type, true, false, key, iv, data);
}

Bytes encryptEcb(KeyType type, ByteView key, ByteView data) {
    return runCipher(type, false, true, key, {}, data);
}

Bytes decryptEcb(KeyType type, ByteView key, ByteView data) {
    return runCipher(type, false, false, key, {}, data);
}

Bytes cmac(KeyType type, ByteView key, ByteView data) {
    require(key.size() == keyLength(type), "wrong key length for the key type");

    // NIST SP 800-38B CMAC, OpenSSL's implementation; the cipher parameter picks the block
    // cipher (CMAC runs it in CBC mode internally, so the CBC names are the right ones).
    const Mac mac(EVP_MAC_fetch(nullptr, "CMAC", nullptr));
    if (!mac) {
        opensslFailed("CMAC fetch");
    }
    const MacCtx ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx) {
        opensslFailed("CMAC context");
    }
    // OSSL_PARAM wants a non-const char*; OpenSSL only reads it.
    std::string name = cipherName(type, true);
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, name.data(), 0),
        OSSL_PARAM_construct_end(),
    };
    Bytes out(blockLength(type));
    std::size_t written = 0;
    if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1) {
        opensslFailed("CMAC");
    }
    assert(written == out.size());
    return out;
}

Bytes truncateMac(ByteView fullMac) {
    // AN12196 §4.4 / NT4H2421Gx §9.1.3: MACt is the even-numbered bytes S14 S12 .. S0 in the
    // MSB-first notation, which are the bytes at odd offsets 1, 3, .., 15 from the front.
    require(fullMac.size() == 16, "EV2 secure messaging truncates an AES-CMAC");
    Bytes out;
    out.reserve(8);
    for (std::size_t i = 1; i < fullMac.size(); i += 2) {
        out.push_back(fullMac[i]);
    }
    return out;
}

Bytes padIso9797M2(ByteView data, std::size_t block) {
    require(block > 0, "padding to a zero-length block");
    Bytes out(data.begin(), data.end());
    out.push_back(0x80);
    out.resize((out.size() + block - 1) / block * block, 0x00);
    return out;
}

std::uint32_t crc32Desfire(ByteView data) {
    // CRC-32/JAMCRC: the IEEE 802.3 CRC (reflected polynomial 0xEDB88320, register preset to
    // all ones) without the final inversion, as DESFire EV1 appends it LSB first to enciphered
    // data (DESFire EV1 datasheet, "CRC32"). Not cryptography, so plain code is fine here.
    std::uint32_t crc = 0xFFFFFFFFu;
    for (const std::uint8_t byte : data) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1u) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
    }
    return crc;
}

CmacSubkeys cmacSubkeysAes128(ByteView key) {
    require(key.size() == 16, "CMAC subkeys of a key that is not AES-128");
    // OpenSSL does not hand out CMAC's subkeys, but they fall out of its own output: for one
    // complete block B, CMAC(K, B) = E(K, B ^ K1), so K1 = D(K, CMAC(K, 0^128)); for the empty
    // message, CMAC(K, "") = E(K, 80 00..00 ^ K2), so K2 = D(K, CMAC(K, "")) ^ 80 00..00
    // (NIST SP 800-38B §6.2). No GF(2^128) arithmetic of our own.
    const Bytes zeroBlock(16, 0x00);
    Bytes tag1 = cmac(KeyType::Aes128, key, zeroBlock);
    const Wiped wipe1(tag1);
    Bytes tag2 = cmac(KeyType::Aes128, key, {});
    const Wiped wipe2(tag2);
    CmacSubkeys subkeys{decryptEcb(KeyType::Aes128, key, tag1),
                        decryptEcb(KeyType::Aes128, key, tag2)};
    subkeys.k2[0] ^= 0x80;
    return subkeys;
}

Bytes diversifyAes128(ByteView masterKey, ByteView diversificationInput) {
    require(masterKey.size() == 16, "AN10922 §2.2 diversifies an AES-128 key");
    require(!diversificationInput.empty() && diversificationInput.size() <= 31,
            "AN10922 §2.2: M is 1 to 31 bytes");

    // AN10922 §2.2 steps: D = 0x01 || M; if D is shorter than 32 bytes, pad it with 80 00.. to
    // exactly 32 bytes and XOR K2 into the last block, otherwise XOR K1; then CBC-MAC.
    Bytes d;
    const Wiped wipeD(d);
    d.reserve(32);
    d.push_back(0x01);
    d.insert(d.end(), diversificationInput.begin(), diversificationInput.end());
    if (d.size() == 32) {
        // No padding: exactly what standard CMAC does with a whole number of blocks (K1).
        return cmac(KeyType::Aes128, masterKey, d);
    }
    // Padded: always to 32 bytes, even when 0x01 || M fits in one block, which is where AN10922
    // departs from plain CMAC. Standard CMAC over the same 32 bytes would use K1 instead of K2,
    // so swap the subkey into the last block: CMAC(K, D1 || (D2 ^ K1 ^ K2)) = AN10922's MAC.
    d.push_back(0x80);
    d.resize(32, 0x00);
    CmacSubkeys subkeys = cmacSubkeysAes128(masterKey);
    const Wiped wipeK1(subkeys.k1);
    const Wiped wipeK2(subkeys.k2);
    for (std::size_t i = 0; i < 16; ++i) {
        d[16 + i] ^= static_cast<std::uint8_t>(subkeys.k1[i] ^ subkeys.k2[i]);
    }
    return cmac(KeyType::Aes128, masterKey, d);
}

Bytes diversificationInput(ByteView uid, std::uint32_t aid, ByteView systemIdentifier) {
    require(uid.size() == 7, "AN10922 §2.2 example: 7-byte UID");
    require(aid <= 0xFFFFFFu, "a DESFire AID is 3 bytes");
    // AN10922 §2.2 example: M = UID || AID (LSB first, as DESFire sends AIDs) || system id;
    // AID 0xF54230 appears as 30 42 F5.
    Bytes m(uid.begin(), uid.end());
    m.push_back(static_cast<std::uint8_t>(aid & 0xFFu));
    m.push_back(static_cast<std::uint8_t>((aid >> 8) & 0xFFu));
    m.push_back(static_cast<std::uint8_t>((aid >> 16) & 0xFFu));
    m.insert(m.end(), systemIdentifier.begin(), systemIdentifier.end());
    require(m.size() <= 31, "AN10922 §2.2: M is at most 31 bytes");
    return m;
}

Bytes ev1AesSessionKey(ByteView rndA, ByteView rndB) {
    require(rndA.size() == 16 && rndB.size() == 16, "AES authentication uses 16-byte Rnd");
    Bytes key;
    key.reserve(16);
    key.insert(key.end(), rndA.begin(), rndA.begin() + 4);
    key.insert(key.end(), rndB.begin(), rndB.begin() + 4);
    key.insert(key.end(), rndA.begin() + 12, rndA.begin() + 16);
    key.insert(key.end(), rndB.begin() + 12, rndB.begin() + 16);
    return key;
}

Bytes ev1DesSessionKey(KeyType type, ByteView rndA, ByteView rndB) {
    // Layouts as libfreefare's mifare_desfire_session_key_new builds them (DESFire EV1).
    Bytes key;
    switch (type) {
    case KeyType::Des2K:
        require(rndA.size() == 8 && rndB.size() == 8, "2K3DES authentication uses 8-byte Rnd");
        key.reserve(16);
        key.insert(key.end(), rndA.begin(), rndA.begin() + 4);
        key.insert(key.end(), rndB.begin(), rndB.begin() + 4);
        key.insert(key.end(), rndA.begin() + 4, rndA.begin() + 8);
        key.insert(key.end(), rndB.begin() + 4, rndB.begin() + 8);
        return key;
    case KeyType::Des3K:
        require(rndA.size() == 16 && rndB.size() == 16, "3K3DES authentication uses 16-byte Rnd");
        key.reserve(24);
        key.insert(key.end(), rndA.begin(), rndA.begin() + 4);
        key.insert(key.end(), rndB.begin(), rndB.begin() + 4);
        key.insert(key.end(), rndA.begin() + 6, rndA.begin() + 10);
        key.insert(key.end(), rndB.begin() + 6, rndB.begin() + 10);
        key.insert(key.end(), rndA.begin() + 12, rndA.begin() + 16);
        key.insert(key.end(), rndB.begin() + 12, rndB.begin() + 16);
        return key;
    case KeyType::Aes128:
        break;
    }
    require(false, "ev1DesSessionKey is for DES keys; use ev1AesSessionKey");
    return key;
}

bool isSingleDesKey(ByteView key) {
    require(key.size() == 16, "a DES-family key of 16 bytes is expected");
    // The card treats a 2K3DES key as single DES only when both halves are identical, parity
    // (version) bits included (libfreefare mifare_desfire_key_set_version, after the DESFire
    // functional specification).
    return std::equal(key.begin(), key.begin() + 8, key.begin() + 8);
}

Bytes ev1SingleDesSessionKey(ByteView rndA, ByteView rndB) {
    require(rndA.size() == 8 && rndB.size() == 8, "DES authentication uses 8-byte Rnd");
    Bytes key;
    key.reserve(16);
    key.insert(key.end(), rndA.begin(), rndA.begin() + 4);
    key.insert(key.end(), rndB.begin(), rndB.begin() + 4);
    key.insert(key.end(), key.begin(), key.begin() + 8);
    return key;
}

Bytes ev2SessionVector(bool macVector, ByteView rndA, ByteView rndB) {
    require(rndA.size() == 16 && rndB.size() == 16, "EV2 authentication uses 16-byte Rnd");
    // AN12196 §4.3 (NT4H2421Gx §9.1.7), MSB-first byte numbering:
    // label || 00 01 00 80 || RndA[15..14] || (RndA[13..8] ^ RndB[15..10]) || RndB[9..0] ||
    // RndA[7..0]
    Bytes sv;
    sv.reserve(32);
    sv.push_back(macVector ? 0x5A : 0xA5);
    sv.push_back(macVector ? 0xA5 : 0x5A);
    for (const std::uint8_t b : {0x00, 0x01, 0x00, 0x80}) {
        sv.push_back(b);
    }
    sv.push_back(be(rndA, 15));
    sv.push_back(be(rndA, 14));
    for (std::size_t n = 13; n >= 8; --n) {
        sv.push_back(static_cast<std::uint8_t>(be(rndA, n) ^ be(rndB, n + 2)));
    }
    for (std::size_t n = 10; n-- > 0;) {
        sv.push_back(be(rndB, n));
    }
    for (std::size_t n = 8; n-- > 0;) {
        sv.push_back(be(rndA, n));
    }
    assert(sv.size() == 32);
    return sv;
}

Ev2SessionKeys ev2SessionKeys(ByteView key, ByteView rndA, ByteView rndB) {
    require(key.size() == 16, "EV2 secure messaging is AES-128");
    Bytes sv1 = ev2SessionVector(false, rndA, rndB);
    const Wiped wipe1(sv1);
    Bytes sv2 = ev2SessionVector(true, rndA, rndB);
    const Wiped wipe2(sv2);
    return Ev2SessionKeys{cmac(KeyType::Aes128, key, sv1), cmac(KeyType::Aes128, key, sv2)};
}

Bytes ev2Iv(ByteView sessionEncKey, bool forResponse, ByteView transactionId,
            std::uint16_t commandCounter) {
    require(sessionEncKey.size() == 16, "KSesAuthENC is an AES-128 key");
    require(transactionId.size() == 4, "TI is 4 bytes");
    // AN12196 §4.4 / NT4H2421Gx §9.1.4: IV = E(KSesAuthENC, label || TI || CmdCtr || 0^64), the
    // counter LSB first; A5 5A for commands, 5A A5 for responses.
    Bytes input;
    input.reserve(16);
    input.push_back(forResponse ? 0x5A : 0xA5);
    input.push_back(forResponse ? 0xA5 : 0x5A);
    input.insert(input.end(), transactionId.begin(), transactionId.end());
    input.push_back(static_cast<std::uint8_t>(commandCounter & 0xFFu));
    input.push_back(static_cast<std::uint8_t>(commandCounter >> 8));
    input.resize(16, 0x00);
    return encryptEcb(KeyType::Aes128, sessionEncKey, input);
}

Bytes randomBytes(std::size_t count) {
    Bytes out(count);
    if (count > 0 && RAND_bytes(out.data(), intLength(count)) != 1) {
        opensslFailed("RAND_bytes");
    }
    return out;
}

Bytes rotateLeft(ByteView data) {
    Bytes out(data.begin(), data.end());
    if (!out.empty()) {
        std::rotate(out.begin(), out.begin() + 1, out.end());
    }
    return out;
}

Bytes cmacChained(ByteView key, ByteView iv, ByteView data) {
    // SP 800-38B §6.2 with the chain's start value taken from `iv`: a complete last block is
    // XORed with K1, a partial (or empty) one padded 80 00.. and XORed with K2.
    CmacSubkeys sub = cmacSubkeysAes128(key);
    Bytes message(data.begin(), data.end());
    const bool complete = !message.empty() && message.size() % 16 == 0;
    if (!complete) {
        message.push_back(0x80);
        message.resize((message.size() + 15) / 16 * 16, 0x00);
    }
    const Bytes& tweak = complete ? sub.k1 : sub.k2;
    for (std::size_t i = 0; i < 16; ++i) {
        message[message.size() - 16 + i] ^= tweak[i];
    }
    const Bytes chain = encryptCbc(KeyType::Aes128, key, iv, message);
    OPENSSL_cleanse(sub.k1.data(), sub.k1.size());
    OPENSSL_cleanse(sub.k2.data(), sub.k2.size());
    OPENSSL_cleanse(message.data(), message.size());
    return Bytes(chain.end() - 16, chain.end());
}

} // namespace unioncard::card::desfire
