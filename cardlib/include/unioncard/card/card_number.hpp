// SPDX-License-Identifier: Apache-2.0
#pragma once

// The union card's 16-digit number: prefix (4) + region (2) + serial (9) + Luhn check digit (1).
// See docs/card-number.md for the layout and the default prefix.

#include <unioncard/card/result.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::card {

/// Which numbers this deployment issues and accepts.
struct NumberScheme {
    /// Prefixes accepted as union numbers; the first is the one new numbers are issued under.
    std::vector<std::string> prefixes{"9643"};
    /// Region codes in use (the regional organisations); 00 is never valid.
    int regionMin = 1;
    int regionMax = 89;

    static const NumberScheme& standard();
};

enum class NumberErrorCode {
    Empty,              ///< nothing but blanks was given
    InvalidCharacter,   ///< a character other than a digit, a blank or a dash
    TooFewDigits,       ///< fewer than 16 digits
    TooManyDigits,      ///< more than 16 digits
    UnknownPrefix,      ///< the first four digits are not a union prefix
    RegionOutOfRange,   ///< digits 5-6 name no region in use
    CheckDigitMismatch, ///< the Luhn check digit does not match: a mistyped digit
    InvalidPart,        ///< compose() was given a prefix or serial that cannot be
};

struct NumberError {
    NumberErrorCode code;
    std::string message; ///< in words, for a person: what is wrong and what to do
};

std::string_view toString(NumberErrorCode code);

/// A valid union card number. There is no way to make one that failed validation: the only
/// constructors are parse() and compose(), and both check everything.
class CardNumber {
public:
    static constexpr std::size_t kDigits = 16;

    /// Reads a number as a person typed it: blanks, tabs, line breaks, no-break and thin
    /// no-break spaces, dashes and en dashes between digits are ignored.
    static Result<CardNumber, NumberError>
    parse(std::string_view typed, const NumberScheme& scheme = NumberScheme::standard());

    /// Builds the number for a region and serial under the scheme's issuing prefix, computing the
    /// check digit.
    static Result<CardNumber, NumberError>
    compose(int region, std::uint64_t serial,
            const NumberScheme& scheme = NumberScheme::standard());

    /// The 16 digits, no separators: "9643230000012341".
    std::string digits() const { return {m_digits.begin(), m_digits.end()}; }
    /// For print and screen: "9643 2300 0001 2341".
    std::string formatted() const;
    /// For a merchant's screen: "**** **** **** 2341".
    std::string masked() const;

    std::string prefix() const { return {m_digits.begin(), m_digits.begin() + 4}; }
    int region() const;
    std::uint64_t serial() const;
    int checkDigit() const { return m_digits[15] - '0'; }

    /// The number as an unsigned integer, as the signed card record carries it.
    std::uint64_t toInteger() const;

    auto operator<=>(const CardNumber&) const = default;

    static constexpr std::uint64_t kMaxSerial = 999'999'999;

private:
    explicit CardNumber(const std::array<char, kDigits>& digits) : m_digits(digits) {}
    std::array<char, kDigits> m_digits;
};

/// The Luhn check digit (ISO/IEC 7812-1 Annex B) for a string of decimal digits.
int luhnCheckDigit(std::string_view digitsWithoutCheck);

} // namespace unioncard::card
