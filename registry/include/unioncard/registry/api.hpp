// SPDX-License-Identifier: Apache-2.0
#pragma once

// The registry API's JSON forms: the model's values to JSON and back, strictly. What the service
// reads from the network and what the client reads from the service are untrusted bytes, so every
// parse here returns a value or an ApiError and never throws.
//
// Decisions a caller can rely on:
// - Field names are snake_case; an object with a field this version does not know is refused
//   ("unknown_field"), so a typo never silently drops data (answers with an open schema may be
//   read with UnknownFields::Ignore).
// - A key given twice in one object is refused ("malformed_json"): RFC 8259 §4 leaves duplicate
//   names undefined and parsers differ (nlohmann keeps the last, others the first), and two
//   components reading one body differently is how a check gets bypassed.
// - Nesting deeper than kMaxDepth is refused before any value is built ("malformed_json").
// - NaN, Infinity and numbers beyond a double's range are not JSON (RFC 8259 §6) and are refused
//   ("malformed_json"); an integer too large for its field is "invalid_value"; 3.0 where an
//   integer is expected is "wrong_type".
// - An optional field may be absent or null; both mean "not given". Output omits it.
// - Times are RFC 3339 (§5.6) date-times. Output is always UTC with seconds:
//   "2026-11-22T10:32:00Z". Input may carry an offset (+03:00) and fractional seconds (dropped,
//   rounding down). A leap second (:60) is refused: the model's clock has none.
// - Strings that people write (names, reasons) must be valid UTF-8 without control characters
//   (C0, DEL, C1) and at most kMaxNameBytes / kMaxReasonBytes bytes.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/result.hpp>
#include <unioncard/registry/model.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::registry {

/// An error body: {"error": code, "message": text}. The codes this file produces:
/// too_large, malformed_json, unknown_field, wrong_type, missing_field, invalid_value. The service
/// adds its own (unauthorized, forbidden, not_found, impossible_transition,
/// idempotency_conflict, unknown_base, ...).
struct ApiError {
    std::string code;    ///< machine-readable, snake_case
    std::string message; ///< in words: what is wrong, naming the field
};

namespace api {

inline constexpr std::size_t kMaxDepth = 16;      ///< our documents nest 3 deep
inline constexpr std::size_t kMaxNameBytes = 200; ///< full names, desks, operators
/// Organisation names in full ("Муниципальное бюджетное общеобразовательное учреждение ...")
/// run to a few hundred Cyrillic letters, two bytes each; a CSV field holds up to 1,024 bytes.
inline constexpr std::size_t kMaxOrganisationNameBytes = 1024;
inline constexpr std::size_t kMaxReasonBytes = 1000; ///< free-text reasons
inline constexpr std::size_t kMaxCheckInsPerBatch = 1000;
inline constexpr std::size_t kMaxApplicationsPerBatch = 1000;
inline constexpr std::uint32_t kMaxLeaseCount = 100000;
inline constexpr std::size_t kDefaultMaxBodyBytes = 1 << 20; ///< 1 MiB: 1000 check-ins fit

/// Reads a request or response body: refuses more than maxBytes ("too_large"), bytes that are not
/// one JSON value ("malformed_json", with the byte offset), duplicate keys and deep nesting.
Result<nlohmann::json, ApiError> parseBody(std::string_view body,
                                           std::size_t maxBytes = kDefaultMaxBodyBytes);

/// RFC 3339 date-time, see the top of this file.
std::string formatTime(Seconds at);
std::optional<Seconds> parseTime(std::string_view text);

/// Field rules, exposed so that the service checks path and query parameters the same way.
bool isValidIdempotencyKey(std::string_view key); ///< [A-Za-z0-9_-]{8,64}
bool isValidNonce(std::string_view nonce);        ///< [A-Za-z0-9_-]{16,64}
bool isValidMemberId(std::string_view id);        ///< 1..32 printable ASCII, no space
/// Valid UTF-8 (RFC 3629: no overlongs, no surrogates), no C0/DEL/C1 control characters.
bool isCleanText(std::string_view text);

} // namespace api

/// {"region": n, "count": n}: a station asks for a block of serials.
struct LeaseRequest {
    int region = 0;          ///< 1..89
    std::uint32_t count = 0; ///< 1..100000
};

/// The answer to a batch of check-ins.
struct CheckInReceipt {
    std::uint32_t recorded = 0;   ///< new check-ins recorded
    std::uint32_t duplicates = 0; ///< nonces seen before (retries)
};

// Model -> JSON. The values are assumed valid (they come from our own code); the parsers below are
// what enforce the rules.
nlohmann::json toJson(const Application& application);
nlohmann::json toJson(const ApplicationPage& page);
nlohmann::json toJson(const StatusEvent& event);
nlohmann::json toJson(const EventOutcome& outcome);
nlohmann::json toJson(const Lease& lease);
nlohmann::json toJson(const LeaseRequest& request);
nlohmann::json toJson(const Lookup& lookup);
nlohmann::json toJson(const CheckIn& checkIn);
/// {"check_ins": [...]}
nlohmann::json toJson(const std::vector<CheckIn>& checkIns);
nlohmann::json toJson(const CheckInReceipt& receipt);
nlohmann::json toJson(const ApiError& error);

/// What a parser does with a field it does not know. Requests are always read with Refuse. The
/// client reads answers whose schema in docs/registry-api.yaml is open (outcome, lease, lookup,
/// receipt, error) with Ignore, so a newer service may add fields without breaking older devices.
enum class UnknownFields { Refuse, Ignore };

// JSON -> model, strict. Card numbers are checked with cardlib's CardNumber::parse under `scheme`
// and normalised to their 16 digits; regions must be in the scheme's range.
Result<Application, ApiError>
parseApplication(const nlohmann::json& json,
                 const card::NumberScheme& scheme = card::NumberScheme::standard());
Result<ApplicationPage, ApiError>
parseApplicationPage(const nlohmann::json& json,
                     const card::NumberScheme& scheme = card::NumberScheme::standard());
/// {"applications": [...]}: what an administrator's import posts, 1..kMaxApplicationsPerBatch.
Result<std::vector<Application>, ApiError>
parseApplications(const nlohmann::json& json,
                  const card::NumberScheme& scheme = card::NumberScheme::standard());
Result<StatusEvent, ApiError>
parseStatusEvent(const nlohmann::json& json,
                 const card::NumberScheme& scheme = card::NumberScheme::standard());
Result<EventOutcome, ApiError> parseEventOutcome(const nlohmann::json& json,
                                                 UnknownFields unknown = UnknownFields::Refuse);
Result<Lease, ApiError>
parseLease(const nlohmann::json& json,
           const card::NumberScheme& scheme = card::NumberScheme::standard(),
           UnknownFields unknown = UnknownFields::Refuse);
Result<LeaseRequest, ApiError>
parseLeaseRequest(const nlohmann::json& json,
                  const card::NumberScheme& scheme = card::NumberScheme::standard());
Result<Lookup, ApiError> parseLookup(const nlohmann::json& json,
                                     UnknownFields unknown = UnknownFields::Refuse);
Result<CheckIn, ApiError>
parseCheckIn(const nlohmann::json& json,
             const card::NumberScheme& scheme = card::NumberScheme::standard());
/// {"check_ins": [...]}: 1..kMaxCheckInsPerBatch items.
Result<std::vector<CheckIn>, ApiError>
parseCheckIns(const nlohmann::json& json,
              const card::NumberScheme& scheme = card::NumberScheme::standard());
Result<CheckInReceipt, ApiError> parseCheckInReceipt(const nlohmann::json& json,
                                                     UnknownFields unknown = UnknownFields::Refuse);
Result<ApiError, ApiError> parseApiError(const nlohmann::json& json,
                                         UnknownFields unknown = UnknownFields::Refuse);

/// A card number as it appears in a path (/v1/cards/{number}): exactly 16 digits that pass
/// CardNumber::parse. Refusals are "invalid_value".
Result<card::CardNumber, ApiError>
parseCardNumberParam(std::string_view text,
                     const card::NumberScheme& scheme = card::NumberScheme::standard());

} // namespace unioncard::registry
