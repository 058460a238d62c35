// SPDX-License-Identifier: Apache-2.0
#pragma once

// The card side's cryptographic primitives, built on OpenSSL 3 only. Nothing here is shared with
// cardlib (docs/architecture.md, "Why sim stands apart"): the simulator re-derives every protocol
// step from the public documents so that one misreading cannot pass on both sides.
//
// Internal header: the unit tests include it to check the primitives against published vectors.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace unioncard::sim::detail {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// The three DESFire key families. DES is a 2K3DES key whose halves are equal.
enum class Cipher : std::uint8_t { Tdes2k, Tdes3k, Aes };

std::size_t blockSize(Cipher cipher);
std::size_t keySize(Cipher cipher);

/// Raw block operations, no padding; `data` must be whole blocks.
Bytes ecb(Cipher cipher, ByteView key, ByteView data, bool encrypt);
Bytes cbc(Cipher cipher, ByteView key, ByteView iv, ByteView data, bool encrypt);

/// NIST SP 800-38B CMAC whose CBC starts from `iv` instead of zero: with a zero IV this is the
/// plain CMAC (RFC 4493 for AES); DESFire EV1 secure messaging chains the IV from one CMAC to the
/// next (MF3ICDx1 datasheet, "CMAC"; libfreefare mifare_desfire_crypto.c).
Bytes cmac(Cipher cipher, ByteView key, ByteView iv, ByteView data);

/// The same CMAC through OpenSSL's EVP_MAC, IV zero. Used for EV2 and to cross-check `cmac`.
Bytes cmacEvp(ByteView aesKey, ByteView data);

/// ISO/IEC 14443-3 CRC_A (init 0x6363, reflected polynomial 0x8408), as DESFire D40 uses it.
std::uint16_t crc16a(ByteView data);
/// DESFire's CRC32: IEEE 802.3 polynomial, init 0xFFFFFFFF, *no* final inversion (EV1 datasheet;
/// libfreefare desfire_crc32).
std::uint32_t crc32Desfire(ByteView data);

/// ISO/IEC 9797-1 padding method 2 (0x80 then zeros) to a whole number of blocks; a full extra
/// block when the data is already aligned (NT4H2421Gx §9.1.4).
Bytes padM2(ByteView data, std::size_t block);
/// Removes method-2 padding; false if it is malformed.
bool unpadM2(Bytes& data);

Bytes rotateLeft1(ByteView data);

/// AN12196 §4.3 / NT4H2421Gx §9.1.7: SV1 = A5 5A 00 01 00 80 || RndA[15..14] ||
/// (RndA[13..8] ^ RndB[15..10]) || RndB[9..0] || RndA[7..0], bytes numbered most significant
/// first, so RndA[15] is RndA's first byte. SV2 starts 5A A5.
Bytes ev2SessionVector(bool forEncKey, ByteView rndA, ByteView rndB);
/// The 8 odd-indexed bytes of a 16-byte CMAC (NT4H2421Gx §9.1.3 "MACt").
Bytes truncateMac(ByteView fullMac);
/// IV for EV2 CommMode.Full: E(SesAuthENC, label || TI || CmdCtr(LSB first) || 0*8), label A5 5A
/// for commands, 5A A5 for responses (NT4H2421Gx §9.1.4).
Bytes ev2Iv(ByteView sesEnc, bool forCommand, ByteView ti, std::uint16_t cmdCtr);
/// EV2 MACt over Cmd-or-RC || CmdCtr(LSB) || TI || data (NT4H2421Gx §9.1.9, AN12196 Table 18).
Bytes ev2Mac(ByteView sesMac, std::uint8_t cmdOrStatus, std::uint16_t cmdCtr, ByteView ti,
             ByteView data);

/// Constant-time comparison for MACs and cryptograms.
bool equalConstantTime(ByteView a, ByteView b);

} // namespace unioncard::sim::detail
