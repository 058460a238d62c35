// SPDX-License-Identifier: Apache-2.0
// The air-time model of sim/air_time.hpp against figures worked out by hand from ISO/IEC 14443.
#include <unioncard/sim/air_time.hpp>

#include <gtest/gtest.h>

namespace {

using unioncard::sim::activationAirTime;
using unioncard::sim::AirLink;
using unioncard::sim::exchangeAirTime;

constexpr double kBitUs106 = 128 / 13.56; // 9.44 µs
constexpr double kDelayUs = 1172 / 13.56; // 86.43 µs

TEST(AirTime, OneShortExchangeIsTwoFrames) {
    // GetVersion: a 5-byte APDU in one I-block (8 bytes with PCB and CRC), its 9-byte answer
    // (12 bytes): 9 bits a byte plus start and end.
    const auto t = exchangeAirTime(5, 9, AirLink{});
    EXPECT_EQ(t.frames, 2u);
    EXPECT_EQ(t.bytes, 20u);
    EXPECT_NEAR(t.microseconds, 2 * kDelayUs + (74 + 110) * kBitUs106, 0.01);
}

TEST(AirTime, LongApdusGoInBlocksOfTheFrameSizeEachAcknowledged) {
    // 261 bytes into a 64-byte FSC: 61 + 61 + 61 + 61 + 17 in five I-blocks, four R(ACK)s; the
    // 10-byte answer in one block.
    const auto t = exchangeAirTime(261, 10, AirLink{});
    EXPECT_EQ(t.frames, 10u);
    EXPECT_EQ(t.bytes, 261u + 5 * 3 + 4 * 3 + 13);
    // A 234-byte answer fits one block of a 256-byte FSD, and takes four of a 64-byte one.
    EXPECT_EQ(exchangeAirTime(21, 234, AirLink{}).frames, 2u);
    EXPECT_EQ(exchangeAirTime(21, 234, AirLink{106, 64, 64}).frames, 1u + 4 + 3);
}

TEST(AirTime, FasterLinksShortenTheBitsNotTheDelays) {
    const auto slow = exchangeAirTime(5, 9, AirLink{106});
    const auto fast = exchangeAirTime(5, 9, AirLink{424});
    EXPECT_NEAR(fast.microseconds, 2 * kDelayUs + (74 + 110) * kBitUs106 / 4, 0.01);
    EXPECT_LT(fast.microseconds, slow.microseconds);
}

TEST(AirTime, ActivationHasOneCascadeLevelPerUidSize) {
    const auto four = activationAirTime(4, AirLink{});
    const auto seven = activationAirTime(7, AirLink{});
    const auto ten = activationAirTime(10, AirLink{});
    EXPECT_EQ(four.frames, 2u + 4 + 2);
    EXPECT_EQ(seven.frames, 2u + 8 + 2);
    EXPECT_EQ(ten.frames, 2u + 12 + 2);
    EXPECT_EQ(activationAirTime(7, AirLink{424}).frames, seven.frames + 2) << "PPS";
    // REQA is 7 bits without parity: 9 bits with start and end.
    const double reqa = kDelayUs + 9 * kBitUs106;
    EXPECT_NEAR(four.microseconds - reqa,
                7 * kDelayUs + (2 + 2 + 5 + 9 + 3 + 4 + 8) * 9 * kBitUs106 + 7 * 2 * kBitUs106,
                0.01);
}

} // namespace
