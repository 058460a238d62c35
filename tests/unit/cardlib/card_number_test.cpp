// SPDX-License-Identifier: Apache-2.0
// The union card number: 4-digit prefix, 2-digit region, 9-digit serial and a Luhn check digit
// (ISO/IEC 7812-1 Annex B). See docs/card-number.md.

#include <unioncard/card/card_number.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace unioncard::card {
// Lets GoogleTest print error codes by name and numbers as digits when an expectation fails.
void PrintTo(NumberErrorCode code, std::ostream* os) {
    *os << toString(code);
}
void PrintTo(const CardNumber& number, std::ostream* os) {
    *os << number.digits();
}
} // namespace unioncard::card

namespace {

using unioncard::card::CardNumber;
using unioncard::card::luhnCheckDigit;
using unioncard::card::NumberErrorCode;
using unioncard::card::NumberScheme;

// 9643 (default prefix), region 23, serial 000000123, check digit 7.
constexpr std::string_view kValid = "9643230000001237";

// The digits of what parse() accepted, or nothing if it refused.
std::optional<std::string> digitsOf(std::string_view typed,
                                    const NumberScheme& scheme = NumberScheme::standard()) {
    auto r = CardNumber::parse(typed, scheme);
    if (!r.ok()) {
        return std::nullopt;
    }
    return r->digits();
}

// Why parse() refused, or nothing if it accepted.
std::optional<NumberErrorCode> errorOf(std::string_view typed,
                                       const NumberScheme& scheme = NumberScheme::standard()) {
    auto r = CardNumber::parse(typed, scheme);
    if (r.ok()) {
        return std::nullopt;
    }
    return r.error().code;
}

std::string messageOf(std::string_view typed) {
    auto r = CardNumber::parse(typed);
    return r.ok() ? std::string("(accepted)") : r.error().message;
}

// What parse() accepted; nothing (and a failed expectation) if it refused. Calling .value() on
// the result then throws, which fails the test cleanly instead of aborting the whole run.
std::optional<CardNumber> parsed(std::string_view typed,
                                 const NumberScheme& scheme = NumberScheme::standard()) {
    auto r = CardNumber::parse(typed, scheme);
    EXPECT_TRUE(r.ok()) << typed << ": " << r.error().message;
    if (!r.ok()) {
        return std::nullopt;
    }
    return std::move(r).value();
}

// The digits compose() gives, or an empty string (and a failed expectation).
std::string composed(int region, std::uint64_t serial,
                     const NumberScheme& scheme = NumberScheme::standard()) {
    auto r = CardNumber::compose(region, serial, scheme);
    EXPECT_TRUE(r.ok()) << "region " << region << ", serial " << serial << ": "
                        << r.error().message;
    return r.ok() ? r->digits() : std::string();
}

// A spread of valid numbers for the error-detection properties: every region of the standard
// scheme with serials from a fixed-seed generator (std::mt19937_64's output is fixed by the C++
// standard, so the set is the same on every machine), plus hand-picked serials full of 0s and 9s.
std::vector<std::string> sampleNumbers() {
    std::vector<std::string> out;
    std::mt19937_64 rng(7812);
    const std::uint64_t picked[] = {0, 9, 90, 909, 90909090, 999999999, 123456789};
    for (int region = 1; region <= 89; ++region) {
        for (std::uint64_t serial : picked) {
            out.push_back(composed(region, serial));
        }
        for (int k = 0; k < 4; ++k) {
            out.push_back(composed(region, rng() % (CardNumber::kMaxSerial + 1)));
        }
    }
    return out;
}

bool isZeroNinePair(char a, char b) {
    return (a == '0' && b == '9') || (a == '9' && b == '0');
}

// --- Accepting a valid number -----------------------------------------------------------------

TEST(CardNumber, ParsesValidNumberIntoItsParts) {
    const CardNumber n = parsed(kValid).value();
    EXPECT_EQ(n.digits(), kValid);
    EXPECT_EQ(n.prefix(), "9643");
    EXPECT_EQ(n.region(), 23);
    EXPECT_EQ(n.serial(), 123u);
    EXPECT_EQ(n.checkDigit(), 7);
}

TEST(CardNumber, AcceptsLowestAndHighestRegionOfStandardScheme) {
    EXPECT_EQ(digitsOf("9643010000000003"), "9643010000000003");
    EXPECT_EQ(digitsOf("9643899999999997"), "9643899999999997");
    EXPECT_EQ(parsed("9643010000000003").value().region(), 1);
    EXPECT_EQ(parsed("9643899999999997").value().region(), 89);
    EXPECT_EQ(parsed("9643899999999997").value().serial(), CardNumber::kMaxSerial);
}

// --- Reading typed input ----------------------------------------------------------------------

TEST(CardNumber, IgnoresSpacesBetweenGroups) {
    EXPECT_EQ(digitsOf("9643 2300 0000 1237"), kValid);
    EXPECT_EQ(digitsOf("9643  2300   0000 1237"), kValid);
    EXPECT_EQ(digitsOf("9 6 4 3 2 3 0 0 0 0 0 0 1 2 3 7"), kValid);
}

TEST(CardNumber, IgnoresDashesBetweenGroups) {
    EXPECT_EQ(digitsOf("9643-2300-0000-1237"), kValid);
    EXPECT_EQ(digitsOf("9643 - 2300 - 0000 - 1237"), kValid);
}

TEST(CardNumber, IgnoresTabsBetweenGroups) {
    EXPECT_EQ(digitsOf("9643\t2300\t0000\t1237"), kValid);
}

TEST(CardNumber, IgnoresLeadingAndTrailingBlanks) {
    EXPECT_EQ(digitsOf("   9643230000001237   "), kValid);
    EXPECT_EQ(digitsOf("\t9643 2300 0000 1237\t"), kValid);
    // A number pasted from a document often ends with a line break.
    EXPECT_EQ(digitsOf("9643 2300 0000 1237\n"), kValid);
    EXPECT_EQ(digitsOf("9643 2300 0000 1237\r\n"), kValid);
}

TEST(CardNumber, IgnoresUtf8NoBreakSpace) {
    // U+00A0 NO-BREAK SPACE is C2 A0 in UTF-8.
    EXPECT_EQ(digitsOf("9643\xC2\xA0"
                       "2300\xC2\xA0"
                       "0000\xC2\xA0"
                       "1237"),
              kValid);
}

TEST(CardNumber, IgnoresUtf8EnDash) {
    // U+2013 EN DASH is E2 80 93 in UTF-8; word processors turn typed dashes into it.
    EXPECT_EQ(digitsOf("9643\xE2\x80\x93"
                       "2300\xE2\x80\x93"
                       "0000\xE2\x80\x93"
                       "1237"),
              kValid);
}

TEST(CardNumber, IgnoresUtf8ThinNoBreakSpace) {
    // U+202F NARROW NO-BREAK SPACE is E2 80 AF in UTF-8; Russian locales group digits with it.
    EXPECT_EQ(digitsOf("9643\xE2\x80\xAF"
                       "2300\xE2\x80\xAF"
                       "0000\xE2\x80\xAF"
                       "1237"),
              kValid);
}

TEST(CardNumber, IgnoresMixedSeparators) {
    EXPECT_EQ(digitsOf(" 9643-2300\t0000\xC2\xA0"
                       "12\xE2\x80\xAF"
                       "3\xE2\x80\x93"
                       "7 "),
              kValid);
}

// --- Refusals, one per error code -------------------------------------------------------------

TEST(CardNumber, RejectsEmptyInput) {
    EXPECT_EQ(errorOf(""), NumberErrorCode::Empty);
}

TEST(CardNumber, RejectsInputOfOnlyBlanksAsEmpty) {
    EXPECT_EQ(errorOf("   "), NumberErrorCode::Empty);
    EXPECT_EQ(errorOf("\t \xC2\xA0 "), NumberErrorCode::Empty);
    EXPECT_EQ(errorOf(" - "), NumberErrorCode::Empty);
}

TEST(CardNumber, RejectsLetterAndSaysWhereItIs) {
    // The letter O typed for a zero, as the 7th character.
    EXPECT_EQ(errorOf("964323O000001237"), NumberErrorCode::InvalidCharacter);
    EXPECT_NE(messageOf("964323O000001237").find("character 7 is 'O'"), std::string::npos)
        << messageOf("964323O000001237");
}

TEST(CardNumber, CountsSeparatorsInInvalidCharacterPosition) {
    // "9643 2300 " is ten characters, so the x is the 11th.
    EXPECT_EQ(errorOf("9643 2300 x000 1237"), NumberErrorCode::InvalidCharacter);
    EXPECT_NE(messageOf("9643 2300 x000 1237").find("character 11 is 'x'"), std::string::npos)
        << messageOf("9643 2300 x000 1237");
}

TEST(CardNumber, CountsInvalidCharacterPositionInCharactersNotBytes) {
    // The no-break space is two bytes but one character: the x is the 6th character.
    const std::string typed = "9643\xC2\xA0x";
    EXPECT_EQ(errorOf(typed), NumberErrorCode::InvalidCharacter);
    EXPECT_NE(messageOf(typed).find("character 6 is 'x'"), std::string::npos) << messageOf(typed);
}

TEST(CardNumber, ShowsUnprintableInvalidCharacterAsHexByte) {
    EXPECT_EQ(errorOf("9643\x01"), NumberErrorCode::InvalidCharacter);
    EXPECT_NE(messageOf("9643\x01").find("character 5 is byte 0x01"), std::string::npos)
        << messageOf("9643\x01");
    // U+00E9 (C3 A9) is not a separator; the message names its first byte.
    EXPECT_EQ(errorOf("9643\xC3\xA9"), NumberErrorCode::InvalidCharacter);
    EXPECT_NE(messageOf("9643\xC3\xA9").find("character 5 is byte 0xC3"), std::string::npos)
        << messageOf("9643\xC3\xA9");
}

TEST(CardNumber, RejectsPunctuationOtherThanDashes) {
    EXPECT_EQ(errorOf("9643.2300.0000.1237"), NumberErrorCode::InvalidCharacter);
    EXPECT_EQ(errorOf("9643/2300/0000/1237"), NumberErrorCode::InvalidCharacter);
    EXPECT_EQ(errorOf("+9643230000001237"), NumberErrorCode::InvalidCharacter);
    EXPECT_EQ(errorOf("9643_2300_0000_1237"), NumberErrorCode::InvalidCharacter);
}

TEST(CardNumber, RejectsUnicodeSeparatorsNotInTheList) {
    // U+2003 EM SPACE (E2 80 83) and U+2014 EM DASH (E2 80 94) share a lead byte with the
    // accepted separators but are not among them.
    EXPECT_EQ(errorOf("9643\xE2\x80\x83"
                      "2300000001237"),
              NumberErrorCode::InvalidCharacter);
    EXPECT_EQ(errorOf("9643\xE2\x80\x94"
                      "2300000001237"),
              NumberErrorCode::InvalidCharacter);
    // A lone C2 without A0 is no separator either.
    EXPECT_EQ(errorOf("9643\xC2"), NumberErrorCode::InvalidCharacter);
}

TEST(CardNumber, ReportsInvalidCharacterBeforeCountingDigits) {
    EXPECT_EQ(errorOf("12a"), NumberErrorCode::InvalidCharacter);
}

TEST(CardNumber, RejectsFifteenDigits) {
    EXPECT_EQ(errorOf("964323000000123"), NumberErrorCode::TooFewDigits);
    EXPECT_NE(messageOf("964323000000123").find("only 15"), std::string::npos)
        << messageOf("964323000000123");
}

TEST(CardNumber, RejectsSingleDigit) {
    EXPECT_EQ(errorOf("7"), NumberErrorCode::TooFewDigits);
}

TEST(CardNumber, RejectsSeventeenDigits) {
    EXPECT_EQ(errorOf("96432300000001237"), NumberErrorCode::TooManyDigits);
    EXPECT_NE(messageOf("96432300000001237").find("17"), std::string::npos)
        << messageOf("96432300000001237");
}

TEST(CardNumber, RejectsValidNumberTypedTwice) {
    EXPECT_EQ(errorOf("9643230000001237 9643230000001237"), NumberErrorCode::TooManyDigits);
}

TEST(CardNumber, RejectsUnknownPrefix) {
    // A Luhn-correct payment card test number: only its prefix is wrong.
    EXPECT_EQ(errorOf("4111111111111111"), NumberErrorCode::UnknownPrefix);
    const std::string message = messageOf("4111 1111 1111 1111");
    EXPECT_NE(message.find("4111"), std::string::npos) << message;
    EXPECT_NE(message.find("9643"), std::string::npos) << message;
}

TEST(CardNumber, RejectsRegionZero) {
    // Region 00 with a correct check digit: only the region is wrong.
    EXPECT_EQ(errorOf("9643000000001234"), NumberErrorCode::RegionOutOfRange);
    EXPECT_NE(messageOf("9643000000001234").find("region 00"), std::string::npos)
        << messageOf("9643000000001234");
}

TEST(CardNumber, RejectsRegionAboveStandardRange) {
    EXPECT_EQ(errorOf("9643900000001235"), NumberErrorCode::RegionOutOfRange);
    EXPECT_NE(messageOf("9643900000001235").find("region 90"), std::string::npos)
        << messageOf("9643900000001235");
}

TEST(CardNumber, RejectsWrongCheckDigit) {
    EXPECT_EQ(errorOf("9643230000001236"), NumberErrorCode::CheckDigitMismatch);
}

TEST(CardNumber, RejectsEveryCheckDigitButTheRightOne) {
    for (char c = '0'; c <= '9'; ++c) {
        std::string typed(kValid);
        typed.back() = c;
        SCOPED_TRACE(typed);
        if (c == '7') {
            EXPECT_EQ(errorOf(typed), std::nullopt);
        } else {
            EXPECT_EQ(errorOf(typed), NumberErrorCode::CheckDigitMismatch);
        }
    }
}

TEST(CardNumber, ErrorCodesHaveStableNames) {
    EXPECT_EQ(toString(NumberErrorCode::Empty), "empty");
    EXPECT_EQ(toString(NumberErrorCode::InvalidCharacter), "invalid_character");
    EXPECT_EQ(toString(NumberErrorCode::TooFewDigits), "too_few_digits");
    EXPECT_EQ(toString(NumberErrorCode::TooManyDigits), "too_many_digits");
    EXPECT_EQ(toString(NumberErrorCode::UnknownPrefix), "unknown_prefix");
    EXPECT_EQ(toString(NumberErrorCode::RegionOutOfRange), "region_out_of_range");
    EXPECT_EQ(toString(NumberErrorCode::CheckDigitMismatch), "check_digit_mismatch");
    EXPECT_EQ(toString(NumberErrorCode::InvalidPart), "invalid_part");
}

// --- Presentation -----------------------------------------------------------------------------

TEST(CardNumber, FormatsInFourGroupsOfFour) {
    EXPECT_EQ(parsed(kValid).value().formatted(), "9643 2300 0000 1237");
    EXPECT_EQ(parsed("9643-2300-0000-1237").value().formatted(), "9643 2300 0000 1237");
}

TEST(CardNumber, MasksAllButLastFourDigits) {
    EXPECT_EQ(parsed(kValid).value().masked(), "**** **** **** 1237");
}

TEST(CardNumber, GivesRegionAndSerialAsNumbers) {
    const CardNumber n = parsed("9643 8912 3456 7895").value();
    EXPECT_EQ(n.region(), 89);
    EXPECT_EQ(n.serial(), 123456789u);
    EXPECT_EQ(n.checkDigit(), 5);
}

TEST(CardNumber, GivesWholeNumberAsInteger) {
    EXPECT_EQ(parsed(kValid).value().toInteger(), 9643230000001237u);
    EXPECT_EQ(parsed("9643899999999997").value().toInteger(), 9643899999999997u);
}

TEST(CardNumber, ComparesByDigits) {
    EXPECT_EQ(parsed(kValid), parsed("9643 2300 0000 1237"));
    EXPECT_LT(parsed("9643010000000003"), parsed(kValid));
    EXPECT_GT(parsed("9643899999999997"), parsed(kValid));
}

// --- compose() --------------------------------------------------------------------------------

TEST(CardNumber, ComposeComputesCheckDigit) {
    auto r = CardNumber::compose(23, 123);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->digits(), kValid);
}

TEST(CardNumber, ComposeRoundTripsThroughParse) {
    const std::pair<int, std::uint64_t> parts[] = {{1, 0},         {1, CardNumber::kMaxSerial},
                                                   {89, 0},        {89, CardNumber::kMaxSerial},
                                                   {23, 123},      {42, 987654321},
                                                   {7, 100000000}, {10, 1}};
    for (const auto& [region, serial] : parts) {
        SCOPED_TRACE(::testing::Message() << "region " << region << ", serial " << serial);
        auto made = CardNumber::compose(region, serial);
        ASSERT_TRUE(made.ok()) << made.error().message;
        EXPECT_EQ(made->region(), region);
        EXPECT_EQ(made->serial(), serial);
        EXPECT_EQ(made->prefix(), "9643");
        auto reparsed = CardNumber::parse(made->formatted());
        ASSERT_TRUE(reparsed.ok()) << reparsed.error().message;
        EXPECT_EQ(*reparsed, *made);
    }
}

TEST(CardNumber, ComposeRejectsSerialOfTenDigits) {
    auto r = CardNumber::compose(23, CardNumber::kMaxSerial + 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, NumberErrorCode::InvalidPart);
}

TEST(CardNumber, ComposeRejectsRegionOutsideScheme) {
    // card_number.hpp's comment on InvalidPart mentions a region, but compose() reports a bad
    // region with the more specific RegionOutOfRange, as parse() does.
    for (int region : {0, 90, 99, -1}) {
        SCOPED_TRACE(region);
        auto r = CardNumber::compose(region, 123);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, NumberErrorCode::RegionOutOfRange);
    }
}

TEST(CardNumber, ComposeRejectsSchemeWithoutPrefix) {
    NumberScheme scheme;
    scheme.prefixes.clear();
    auto r = CardNumber::compose(23, 123, scheme);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, NumberErrorCode::InvalidPart);
}

TEST(CardNumber, ComposeRejectsPrefixThatIsNotFourDigits) {
    for (const char* prefix : {"964", "96430", "96A3", "", "96 3"}) {
        SCOPED_TRACE(prefix);
        NumberScheme scheme;
        scheme.prefixes = {prefix};
        auto r = CardNumber::compose(23, 123, scheme);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, NumberErrorCode::InvalidPart);
    }
}

// --- Custom schemes ---------------------------------------------------------------------------

TEST(CardNumber, CustomSchemeAcceptsEveryListedPrefix) {
    NumberScheme scheme;
    scheme.prefixes = {"9644", "9643"};
    const std::string other = composed(23, 123, scheme);
    ASSERT_EQ(other.size(), CardNumber::kDigits);
    EXPECT_EQ(other.substr(0, 4), "9644");
    EXPECT_EQ(digitsOf(other, scheme), other);
    EXPECT_EQ(digitsOf(kValid, scheme), kValid);
    // The standard scheme knows only 9643.
    EXPECT_EQ(errorOf(other), NumberErrorCode::UnknownPrefix);
}

TEST(CardNumber, ComposeIssuesUnderFirstListedPrefix) {
    NumberScheme scheme;
    scheme.prefixes = {"1234", "9643"};
    auto r = CardNumber::compose(23, 123, scheme);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->prefix(), "1234");
}

TEST(CardNumber, CustomSchemeRejectsDefaultPrefixWhenNotListed) {
    NumberScheme scheme;
    scheme.prefixes = {"1234"};
    EXPECT_EQ(errorOf(kValid, scheme), NumberErrorCode::UnknownPrefix);
    auto r = CardNumber::parse(kValid, scheme);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("1234"), std::string::npos) << r.error().message;
}

TEST(CardNumber, SchemeWithoutPrefixesAcceptsNoNumber) {
    NumberScheme scheme;
    scheme.prefixes.clear();
    EXPECT_EQ(errorOf(kValid, scheme), NumberErrorCode::UnknownPrefix);
}

TEST(CardNumber, CustomSchemeNarrowsRegions) {
    NumberScheme scheme;
    scheme.regionMin = 20;
    scheme.regionMax = 29;
    EXPECT_EQ(digitsOf(kValid, scheme), kValid); // region 23
    EXPECT_EQ(errorOf("9643010000000003", scheme), NumberErrorCode::RegionOutOfRange);
    EXPECT_EQ(errorOf("9643899999999997", scheme), NumberErrorCode::RegionOutOfRange);
    auto r = CardNumber::compose(30, 1, scheme);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, NumberErrorCode::RegionOutOfRange);
}

TEST(CardNumber, CustomSchemeWidensRegions) {
    NumberScheme scheme;
    scheme.regionMin = 0;
    scheme.regionMax = 99;
    EXPECT_EQ(digitsOf("9643000000001234", scheme), "9643000000001234");
    EXPECT_EQ(digitsOf("9643900000001235", scheme), "9643900000001235");
    auto r = CardNumber::compose(99, CardNumber::kMaxSerial, scheme);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->region(), 99);
}

// --- What the check digit catches -------------------------------------------------------------

TEST(CardNumber, CatchesEverySingleDigitSubstitution) {
    for (const std::string& valid : sampleNumbers()) {
        for (std::size_t i = 0; i < valid.size(); ++i) {
            for (char c = '0'; c <= '9'; ++c) {
                if (c == valid[i]) {
                    continue;
                }
                std::string typo = valid;
                typo[i] = c;
                SCOPED_TRACE(typo);
                const auto code = errorOf(typo);
                ASSERT_TRUE(code.has_value()) << valid << " with digit " << i + 1 << " changed";
                // Outside the prefix and region the check digit alone must catch it.
                if (i >= 6) {
                    EXPECT_EQ(code, NumberErrorCode::CheckDigitMismatch);
                }
            }
        }
    }
}

TEST(CardNumber, CatchesEveryAdjacentTranspositionButZeroAndNine) {
    for (const std::string& valid : sampleNumbers()) {
        for (std::size_t i = 0; i + 1 < valid.size(); ++i) {
            if (valid[i] == valid[i + 1] || isZeroNinePair(valid[i], valid[i + 1])) {
                continue;
            }
            std::string typo = valid;
            std::swap(typo[i], typo[i + 1]);
            SCOPED_TRACE(typo);
            ASSERT_TRUE(errorOf(typo).has_value())
                << valid << " with digits " << i + 1 << " and " << i + 2 << " swapped";
        }
    }
}

TEST(CardNumber, CannotCatchSwappedZeroAndNine) {
    // A known limitation of the Luhn check (ISO/IEC 7812-1 Annex B): doubling 0 gives 0 and
    // doubling 9 gives 18 -> 9, so "09" and "90" add the same to the sum. Both numbers below are
    // valid; a mistyped one of them is read as the other.
    EXPECT_EQ(digitsOf("9643010000000904"), "9643010000000904");
    EXPECT_EQ(digitsOf("9643010000000094"), "9643010000000094");
    EXPECT_NE(parsed("9643010000000904"), parsed("9643010000000094"));

    // The same holds for every 0/9 neighbour in the serial and check digit of every sample.
    int swaps = 0;
    for (const std::string& valid : sampleNumbers()) {
        for (std::size_t i = 6; i + 1 < valid.size(); ++i) {
            if (!isZeroNinePair(valid[i], valid[i + 1])) {
                continue;
            }
            std::string typo = valid;
            std::swap(typo[i], typo[i + 1]);
            EXPECT_EQ(errorOf(typo), std::nullopt) << valid << " -> " << typo;
            ++swaps;
        }
    }
    EXPECT_GT(swaps, 0);
}

// --- The Luhn function ------------------------------------------------------------------------

TEST(CardNumberLuhn, GivesCheckDigitOfIso7812Example) {
    // The worked example of ISO/IEC 7812-1 Annex B as given in Wikipedia's "Luhn algorithm":
    // the account number 7992739871 has check digit 3.
    EXPECT_EQ(luhnCheckDigit("7992739871"), 3);
}

TEST(CardNumberLuhn, ValidatesWellKnownTestCardNumbers) {
    // Payment networks' published test numbers, all Luhn-correct: the last digit is the check
    // digit of the others.
    for (std::string_view number :
         {"4111111111111111", "4012888888881881", "5555555555554444", "5105105105105100",
          "378282246310005", "371449635398431", "6011111111111117", "3566002020360505",
          "30569309025904", "79927398713"}) {
        SCOPED_TRACE(number);
        EXPECT_EQ(luhnCheckDigit(number.substr(0, number.size() - 1)), number.back() - '0');
    }
}

TEST(CardNumberLuhn, GivesCheckDigitOfUnionNumbers) {
    EXPECT_EQ(luhnCheckDigit("964323000000123"), 7);
    EXPECT_EQ(luhnCheckDigit("964301000000000"), 3);
    EXPECT_EQ(luhnCheckDigit("964389999999999"), 7);
}

TEST(CardNumberLuhn, GivesZeroForAllZeros) {
    EXPECT_EQ(luhnCheckDigit("000000000000000"), 0);
    EXPECT_EQ(luhnCheckDigit("0"), 0);
}

TEST(CardNumberLuhn, ChangesWithEverySingleDigit) {
    // The property the substitution test relies on, at the level of the function: changing any
    // one digit of the body changes the check digit.
    const std::string body = "964323000000123";
    const int check = luhnCheckDigit(body);
    for (std::size_t i = 0; i < body.size(); ++i) {
        for (char c = '0'; c <= '9'; ++c) {
            if (c == body[i]) {
                continue;
            }
            std::string changed = body;
            changed[i] = c;
            EXPECT_NE(luhnCheckDigit(changed), check) << changed;
        }
    }
}

} // namespace
