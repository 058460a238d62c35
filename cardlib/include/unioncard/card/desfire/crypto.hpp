// SPDX-License-Identifier: Apache-2.0
#pragma once

// The cryptography of MIFARE DESFire (EV1/EV2/EV3), host side, all through OpenSSL 3:
// block ciphers in the modes the card uses, CMAC, key diversification and session keys.
// Every function is pure and checked against published vectors (tests/unit/cardlib/desfire).
// Wrong key lengths, ragged blocks and the like are programming errors: they stop the program
// (assert, and abort in release builds too). The one exception thrown is std::runtime_error
// when OpenSSL itself fails (no provider, out of memory).

#include <unioncard/card/result.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace unioncard::card::desfire {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// Key types of DESFire (datasheet: key settings, "crypto method").
enum class KeyType {
    Des2K,  ///< 2-key 3DES, 16 bytes (single DES when both halves are equal)
    Des3K,  ///< 3-key 3DES, 24 bytes
    Aes128, ///< AES-128, 16 bytes
};

std::size_t keyLength(KeyType type);
std::size_t blockLength(KeyType type); ///< 8 for DES/3DES, 16 for AES

// --- Block ciphers (no padding: the input must be a whole number of blocks) -----------------
Bytes encryptCbc(KeyType type, ByteView key, ByteView iv, ByteView data);
Bytes decryptCbc(KeyType type, ByteView key, ByteView iv, ByteView data);
Bytes encryptEcb(KeyType type, ByteView key, ByteView data);
Bytes decryptEcb(KeyType type, ByteView key, ByteView data);

// --- CMAC (NIST SP 800-38B) over AES-128 or 3DES, the full block ---------------------------
Bytes cmac(KeyType type, ByteView key, ByteView data);
/// EV2 secure messaging truncates the 16-byte CMAC to its odd-indexed bytes
/// (S14 S12 ... : bytes 1, 3, 5, ..., 15), AN12196 §4.4 / AN12343.
Bytes truncateMac(ByteView fullMac);
/// The AES-CMAC subkeys K1, K2 of NIST SP 800-38B §6.1 (AN10922 §2.2 needs K2 by itself),
/// recovered from OpenSSL's CMAC rather than computed by hand.
struct CmacSubkeys {
    Bytes k1;
    Bytes k2;
};
CmacSubkeys cmacSubkeysAes128(ByteView key);

/// EV1 secure messaging's AES CMAC, whose CBC chain starts from the session's running IV
/// instead of zero (libfreefare `cmac`, DESFire EV1): the subkey tweak of SP 800-38B on the
/// last block, then AES-CBC under `iv` through OpenSSL. Returns the full 16 bytes, which are
/// also the next IV.
Bytes cmacChained(ByteView key, ByteView iv, ByteView data);

/// ISO/IEC 9797-1 padding method 2: 0x80 then zeros to a whole block (always adds).
Bytes padIso9797M2(ByteView data, std::size_t block);
/// CRC32 as DESFire EV1 uses it (JAMCRC: CRC-32/ISO-HDLC without the final inversion).
std::uint32_t crc32Desfire(ByteView data);

// --- AN10922 key diversification ----------------------------------------------------------
/// AES-128 diversification (AN10922 §2.2): CMAC over 0x01 || M with M the diversification
/// input (at most 31 bytes), padded to 32 bytes as the note says when shorter.
Bytes diversifyAes128(ByteView masterKey, ByteView diversificationInput);
/// The union's diversification input: UID (7 bytes) || AID (3 bytes, LSB first) || system
/// identifier, as AN10922 §2.2's example builds it.
Bytes diversificationInput(ByteView uid, std::uint32_t aid, ByteView systemIdentifier);

// --- Session keys ---------------------------------------------------------------------------
/// EV1 AuthenticateAES session key (DESFire EV1 datasheet): RndA[0..3] || RndB[0..3] ||
/// RndA[12..15] || RndB[12..15].
Bytes ev1AesSessionKey(ByteView rndA, ByteView rndB);
/// EV1 / legacy DES-family session key (libfreefare mifare_desfire_session_key_new):
/// Des2K, RndA and RndB 8 bytes each: RndA[0..3] || RndB[0..3] || RndA[4..7] || RndB[4..7];
/// Des3K, RndA and RndB 16 bytes each: RndA[0..3] || RndB[0..3] || RndA[6..9] || RndB[6..9] ||
/// RndA[12..15] || RndB[12..15].
/// A Des2K key whose halves are equal is single DES to the card, whose session key is then
/// ev1SingleDesSessionKey: check with isSingleDesKey first.
Bytes ev1DesSessionKey(KeyType type, ByteView rndA, ByteView rndB);
/// True when a 16-byte DES key has K1 == K2 (parity bits included), i.e. the card uses it as
/// single DES.
bool isSingleDesKey(ByteView key);
/// Single-DES session key: RndA[0..3] || RndB[0..3], twice (K1 == K2, 16 bytes for DES-EDE).
Bytes ev1SingleDesSessionKey(ByteView rndA, ByteView rndB);

/// EV2 session keys (AN12196 §4.3, AN12343): SV1 = A5 5A 00 01 00 80 || ..., SV2 =
/// 5A A5 00 01 00 80 || ..., each a CMAC under the authentication key.
struct Ev2SessionKeys {
    Bytes enc;
    Bytes mac;
};
Ev2SessionKeys ev2SessionKeys(ByteView key, ByteView rndA, ByteView rndB);
/// SV1 (macVector false) or SV2 (true), 32 bytes, bytes numbered MSB first as in the note:
/// label || 00 01 00 80 || RndA[15..14] || (RndA[13..8] ^ RndB[15..10]) || RndB[9..0] ||
/// RndA[7..0], where RndA[15] is the first byte of RndA.
Bytes ev2SessionVector(bool macVector, ByteView rndA, ByteView rndB);

/// EV2 IV for command (A5 5A) or response (5A A5) encryption:
/// E(KSesEnc, label || TI || CmdCtr (LSB first) || 00..00).
Bytes ev2Iv(ByteView sessionEncKey, bool forResponse, ByteView transactionId,
            std::uint16_t commandCounter);

/// Fresh random bytes from OpenSSL's CSPRNG.
Bytes randomBytes(std::size_t count);

/// Rotates left by one byte (RndB' in every DESFire authentication).
Bytes rotateLeft(ByteView data);

/// Wipes a buffer that holds key material when it goes out of scope, however the scope is left.
class Wiped {
public:
    explicit Wiped(Bytes& bytes) : m_bytes(bytes) {}
    ~Wiped();
    Wiped(const Wiped&) = delete;
    Wiped& operator=(const Wiped&) = delete;

private:
    Bytes& m_bytes;
};

} // namespace unioncard::card::desfire
