// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_number.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace unioncard::card {

namespace {

NumberError error(NumberErrorCode code, std::string message) {
    return {code, std::move(message)};
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// Separators people type or paste between groups: space, tab, dash, and in UTF-8 the no-break
// space (C2 A0), en dash (E2 80 93) and the thin no-break space (E2 80 AF) that Russian
// locales put between groups of digits. Returns the separator's length in bytes, 0 if none.
std::size_t separatorAt(std::string_view s, std::size_t i) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '-' || c == '\r' || c == '\n') {
        return 1;
    }
    auto startsWith = [&](std::string_view seq) {
        return s.substr(i, seq.size()) == seq;
    };
    if (startsWith("\xC2\xA0")) {
        return 2;
    }
    if (startsWith("\xE2\x80\x93") || startsWith("\xE2\x80\xAF")) {
        return 3;
    }
    return 0;
}

Result<CardNumber, NumberError> failure(NumberErrorCode code, std::string message) {
    return fail(error(code, std::move(message)));
}

} // namespace

const NumberScheme& NumberScheme::standard() {
    static const NumberScheme scheme;
    return scheme;
}

std::string_view toString(NumberErrorCode code) {
    switch (code) {
    case NumberErrorCode::Empty:
        return "empty";
    case NumberErrorCode::InvalidCharacter:
        return "invalid_character";
    case NumberErrorCode::TooFewDigits:
        return "too_few_digits";
    case NumberErrorCode::TooManyDigits:
        return "too_many_digits";
    case NumberErrorCode::UnknownPrefix:
        return "unknown_prefix";
    case NumberErrorCode::RegionOutOfRange:
        return "region_out_of_range";
    case NumberErrorCode::CheckDigitMismatch:
        return "check_digit_mismatch";
    case NumberErrorCode::InvalidPart:
        return "invalid_part";
    }
    return "unknown";
}

int luhnCheckDigit(std::string_view digits) {
    // ISO/IEC 7812-1 Annex B: from the rightmost digit (the one next to the check digit), double
    // every other digit, subtract 9 from results above 9, and make the sum a multiple of 10.
    int sum = 0;
    bool doubleIt = true;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        int d = *it - '0';
        if (doubleIt) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        doubleIt = !doubleIt;
    }
    return (10 - sum % 10) % 10;
}

Result<CardNumber, NumberError> CardNumber::parse(std::string_view typed,
                                                  const NumberScheme& scheme) {
    std::string digits;
    std::size_t position = 0; // in characters, for the message
    for (std::size_t i = 0; i < typed.size();) {
        ++position;
        if (isDigit(typed[i])) {
            digits.push_back(typed[i]);
            ++i;
            continue;
        }
        if (std::size_t n = separatorAt(typed, i); n > 0) {
            i += n;
            continue;
        }
        const auto c = static_cast<unsigned char>(typed[i]);
        std::string shown = (c >= 0x20 && c < 0x7F) ? fmt::format("'{}'", typed[i])
                                                    : fmt::format("byte 0x{:02X}", c);
        return failure(NumberErrorCode::InvalidCharacter,
                       fmt::format("the number may hold only digits, spaces and dashes, but "
                                   "character {} is {}",
                                   position, shown));
    }
    if (digits.empty()) {
        return failure(NumberErrorCode::Empty, "no card number was entered");
    }
    if (digits.size() < kDigits) {
        return failure(NumberErrorCode::TooFewDigits,
                       fmt::format("a card number has 16 digits, but only {} were entered: a "
                                   "digit may be missing",
                                   digits.size()));
    }
    if (digits.size() > kDigits) {
        return failure(NumberErrorCode::TooManyDigits,
                       fmt::format("a card number has 16 digits, but {} were entered: a digit "
                                   "may have been typed twice",
                                   digits.size()));
    }
    const std::string_view prefix(digits.data(), 4);
    if (std::find(scheme.prefixes.begin(), scheme.prefixes.end(), prefix) ==
        scheme.prefixes.end()) {
        return failure(NumberErrorCode::UnknownPrefix,
                       fmt::format("{} is not the start of a union card number (union numbers "
                                   "start with {})",
                                   prefix,
                                   scheme.prefixes.empty() ? "?" : scheme.prefixes.front()));
    }
    const int region = (digits[4] - '0') * 10 + (digits[5] - '0');
    if (region < scheme.regionMin || region > scheme.regionMax) {
        return failure(NumberErrorCode::RegionOutOfRange,
                       fmt::format("digits 5 and 6 give region {:02}, but regions run from {:02} "
                                   "to {:02}: check those digits",
                                   region, scheme.regionMin, scheme.regionMax));
    }
    const int expected = luhnCheckDigit(std::string_view(digits).substr(0, kDigits - 1));
    if (digits.back() - '0' != expected) {
        return failure(NumberErrorCode::CheckDigitMismatch,
                       "the check digit does not match: did you mistype a digit?");
    }
    std::array<char, kDigits> out{};
    std::copy(digits.begin(), digits.end(), out.begin());
    return CardNumber(out);
}

Result<CardNumber, NumberError> CardNumber::compose(int region, std::uint64_t serial,
                                                    const NumberScheme& scheme) {
    if (scheme.prefixes.empty()) {
        return failure(NumberErrorCode::InvalidPart, "the number scheme names no prefix");
    }
    const std::string& prefix = scheme.prefixes.front();
    if (prefix.size() != 4 || !std::all_of(prefix.begin(), prefix.end(), isDigit)) {
        return failure(NumberErrorCode::InvalidPart,
                       fmt::format("the prefix '{}' is not four digits", prefix));
    }
    if (region < scheme.regionMin || region > scheme.regionMax) {
        return failure(NumberErrorCode::RegionOutOfRange,
                       fmt::format("region {} is outside {:02}-{:02}", region, scheme.regionMin,
                                   scheme.regionMax));
    }
    if (serial > kMaxSerial) {
        return failure(NumberErrorCode::InvalidPart,
                       fmt::format("serial {} has more than nine digits", serial));
    }
    std::string body = fmt::format("{}{:02}{:09}", prefix, region, serial);
    body.push_back(static_cast<char>('0' + luhnCheckDigit(body)));
    return parse(body, scheme);
}

std::string CardNumber::formatted() const {
    const std::string_view d(m_digits.data(), kDigits);
    return fmt::format("{} {} {} {}", d.substr(0, 4), d.substr(4, 4), d.substr(8, 4),
                       d.substr(12, 4));
}

std::string CardNumber::masked() const {
    return fmt::format("**** **** **** {}", std::string_view(m_digits.data() + 12, 4));
}

int CardNumber::region() const {
    return (m_digits[4] - '0') * 10 + (m_digits[5] - '0');
}

std::uint64_t CardNumber::serial() const {
    std::uint64_t v = 0;
    for (std::size_t i = 6; i < 15; ++i) {
        v = v * 10 + static_cast<std::uint64_t>(m_digits[i] - '0');
    }
    return v;
}

std::uint64_t CardNumber::toInteger() const {
    std::uint64_t v = 0;
    for (char c : m_digits) {
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

} // namespace unioncard::card
