// SPDX-License-Identifier: Apache-2.0
#pragma once

// COSE_Sign1 (RFC 9052 §4.2) with ES256 (RFC 9053 §2.1), in the one shape the union uses:
//   18([ << {1: -7, 4: kid} >>, {}, payload, r || s ])
// The algorithm and the key id sit in the protected header, so both are covered by the
// signature; the unprotected header is empty.

#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace unioncard::card::cose {

inline constexpr std::uint64_t kTagSign1 = 18; // RFC 9052 §2, COSE_Sign1_Tagged
inline constexpr std::uint64_t kHeaderAlg = 1; // RFC 9052 §3.1
inline constexpr std::uint64_t kHeaderKid = 4; // RFC 9052 §3.1
inline constexpr std::int64_t kAlgEs256 = -7;  // RFC 9053 §2.1
inline constexpr std::size_t kKidLength = 8;

struct Sign1 {
    Bytes protectedHeader; ///< the serialized protected header, as signed
    Bytes kid;
    Bytes payload;
    Bytes signature; ///< r || s
};

/// Sig_structure for COSE_Sign1 with no external data (RFC 9052 §4.4):
///   ["Signature1", protected, h'', payload]
Bytes sigStructure(std::span<const std::uint8_t> protectedHeader,
                   std::span<const std::uint8_t> payload);

/// Signs `payload` and returns the tagged COSE_Sign1 bytes.
Result<Bytes, KeyError> sign(const PrivateKey& key, std::span<const std::uint8_t> kid,
                             std::span<const std::uint8_t> payload);
/// The same with a key cardlib may not see (a PKCS#11 token's, through the station's key store).
Result<Bytes, KeyError> sign(const RecordSigningKey& key, std::span<const std::uint8_t> kid,
                             std::span<const std::uint8_t> payload);

/// Parses a COSE_Sign1 of the shape above; refuses anything else, never throws.
Result<Sign1, std::string> decode(std::span<const std::uint8_t> bytes, std::size_t maxSize);

/// Whether the signature verifies under `key`.
bool verify(const Sign1& message, const PublicKey& key);

} // namespace unioncard::card::cose
