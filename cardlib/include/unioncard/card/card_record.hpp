// SPDX-License-Identifier: Apache-2.0
#pragma once

// The signed card record: what the chip and the virtual card's QR carry. A CBOR map with small
// integer keys (docs/card-format.md), signed as COSE_Sign1 by the issuing station's key, and
// checkable offline with the trust list alone. It holds no name or other personal data.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>
#include <unioncard/card/trust_list.hpp>

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <span>
#include <string>

namespace unioncard::card {

/// The record must fit the 256-byte data file on the chip.
inline constexpr std::size_t kMaxRecordSize = 256;
inline constexpr std::uint64_t kRecordVersion = 1;
/// The longest a record may be valid: expiry at most 3653 days (ten years) after issue. It
/// bounds what a station key can still mint once its certificate has ended, since a record
/// must be issued while the certificate was valid.
inline constexpr std::chrono::days kMaxRecordLifetime{3653};

/// Payload keys (docs/card-format.md §Payload).
namespace record_key {
inline constexpr std::uint64_t kVersion = 1;
inline constexpr std::uint64_t kNumber = 2;
inline constexpr std::uint64_t kMember = 3;
inline constexpr std::uint64_t kRegion = 4;
inline constexpr std::uint64_t kOrganisation = 5;
inline constexpr std::uint64_t kSequence = 6;
inline constexpr std::uint64_t kIssued = 7;
inline constexpr std::uint64_t kExpires = 8;
inline constexpr std::uint64_t kChipUid = 9;
inline constexpr std::uint64_t kStation = 10;
} // namespace record_key

/// RFC 8943 §3: tag 100, a date as days since 1970-01-01.
inline constexpr std::uint64_t kTagDays = 100;

struct CardRecord {
    CardNumber number;
    std::string memberId;           ///< the registry's opaque id: 1-32 printable ASCII characters
    int region = 0;                 ///< the regional organisation; equals the number's region
    std::uint32_t organisation = 0; ///< the primary organisation's registry code
    std::uint32_t sequence = 1;     ///< 1 for the first card, +1 for each replacement (max 255)
    Days issued{};
    Days expires{};
    std::optional<Bytes> chipUid; ///< 4, 7 or 10 bytes (ISO/IEC 14443-3 UID sizes)
    std::string stationId;
    std::uint64_t version = kRecordVersion;
};

/// What is wrong with a record's fields, or nothing.
std::optional<std::string> checkRecord(const CardRecord& record);

/// The deterministic CBOR payload.
Bytes encodePayload(const CardRecord& record);
/// Reads a payload strictly: known keys only, right types, canonical encoding, valid fields.
Result<CardRecord, std::string>
decodePayload(std::span<const std::uint8_t> payload,
              const NumberScheme& scheme = NumberScheme::standard());

/// A station's signing identity: its key and the certificate the root issued for it.
struct StationSigner {
    PrivateKey key;
    Certificate certificate;
};

/// Signs a record. Refuses fields that do not check, a station id other than the
/// certificate's, a certificate not valid on the issue date, or a result over 256 bytes.
Result<Bytes, std::string> signRecord(const StationSigner& signer, const CardRecord& record);
/// The same with a key cardlib may not see (a PKCS#11 token's, through the station's key
/// store). Also refuses a key that is not the certificate's: a token can hold another key under
/// the same label, and its records would fail every verifier.
Result<Bytes, std::string> signRecord(const RecordSigningKey& key, const Certificate& certificate,
                                      const CardRecord& record);

enum class Verdict {
    Valid,
    NotYetValid,    ///< issued after today
    Expired,        ///< past its expiry date
    BadSignature,   ///< the signature does not verify: altered or forged
    UnknownIssuer,  ///< the key id is not on the trust list
    IssuerNotValid, ///< the station's certificate was not valid on the issue date
    NotUnionCard,   ///< not a union card record at all, or malformed
};

/// The verdict's name in JSON and logs: "valid", "not_yet_valid", ...
std::string_view toString(Verdict verdict);

struct RecordVerification {
    Verdict verdict;
    std::string reason;               ///< in words, for a person
    std::optional<CardRecord> record; ///< decoded fields, when they could be read
    Bytes kid;
    std::size_t size = 0;
};

/// The whole offline check: shape, issuer on the trust list, signature, fields, the issuer's
/// certificate on the issue date, and the validity dates against `today`.
RecordVerification verifyRecord(std::span<const std::uint8_t> bytes, const TrustList& trust,
                                Days today, const NumberScheme& scheme = NumberScheme::standard());

/// Decodes without verifying anything, for display (`unioncard record show`).
struct RecordView {
    Bytes kid;
    Bytes payload;
    Result<CardRecord, std::string> record;
};
Result<RecordView, std::string>
inspectRecord(std::span<const std::uint8_t> bytes,
              const NumberScheme& scheme = NumberScheme::standard());

/// Dates as ISO 8601 calendar dates ("2026-11-22").
std::string formatDate(Days day);
std::optional<Days> parseDate(std::string_view text);

/// The JSON form of the fields (the `fields` object of a test vector, the input of
/// `unioncard record sign`).
nlohmann::json toJson(const CardRecord& record);
Result<CardRecord, std::string>
recordFromJson(const nlohmann::json& fields, const NumberScheme& scheme = NumberScheme::standard());

std::string toHex(std::span<const std::uint8_t> bytes);
std::optional<Bytes> fromHex(std::string_view hex);

} // namespace unioncard::card
