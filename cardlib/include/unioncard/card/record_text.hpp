// SPDX-License-Identifier: Apache-2.0
#pragma once

// The signed card record as text, for a QR code (the printed back and the virtual card):
// "UC1:" followed by the record's COSE_Sign1 bytes in Base45 (RFC 9285). Base45's alphabet is
// the QR alphanumeric set (ISO/IEC 18004 §7.4.4), so the whole text fits QR's alphanumeric mode
// at 5.5 bits a character: a 153-byte record is 234 characters, a version 9 symbol at level M.
// "UC1" names the form and its version, so a verifier can tell a union QR from any other.

#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <span>
#include <string>
#include <string_view>

namespace unioncard::card {

inline constexpr std::string_view kRecordTextPrefix = "UC1:";

/// RFC 9285 §4: two bytes become three characters, a last odd byte two.
std::string base45Encode(std::span<const std::uint8_t> bytes);
/// RFC 9285 §4.2: refuses characters outside the alphabet, a dangling single character, and
/// triplets or pairs whose value is too large for their bytes. Never throws.
Result<Bytes, std::string> base45Decode(std::string_view text);

/// "UC1:" + Base45 of the record's bytes.
std::string recordToText(std::span<const std::uint8_t> record);
/// The record's bytes from its text form; the message says what is wrong (not a union QR, bad
/// characters, too long). The bytes are not checked as a record here: verifyRecord does that.
Result<Bytes, std::string> recordFromText(std::string_view text);

} // namespace unioncard::card
