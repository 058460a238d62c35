// SPDX-License-Identifier: Apache-2.0
// The QR text form of a record: Base45 against RFC 9285's own examples, and the "UC1:" frame.

#include <unioncard/card/record_text.hpp>

#include <gtest/gtest.h>

#include <string>

namespace unioncard::card {
namespace {

Bytes bytesOf(std::string_view s) {
    return Bytes(s.begin(), s.end());
}

// RFC 9285 §4.3 (encoding examples) and §4.4 (decoding example).
TEST(Base45, Rfc9285Examples) {
    EXPECT_EQ(base45Encode(bytesOf("AB")), "BB8");
    EXPECT_EQ(base45Encode(bytesOf("Hello!!")), "%69 VD92EX0");
    EXPECT_EQ(base45Encode(bytesOf("base-45")), "UJCLQE7W581");
    auto decoded = base45Decode("QED8WEX0");
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(decoded.value(), bytesOf("ietf!"));
}

TEST(Base45, RoundTripsEveryLengthAndByte) {
    Bytes bytes;
    for (int i = 0; i < 300; ++i) {
        auto text = base45Encode(bytes);
        auto back = base45Decode(text);
        ASSERT_TRUE(back.ok()) << back.error();
        ASSERT_EQ(back.value(), bytes) << "length " << bytes.size();
        bytes.push_back(static_cast<std::uint8_t>(255 - i * 7));
    }
    const Bytes extremes{0x00, 0x00, 0xFF, 0xFF, 0xFF};
    EXPECT_EQ(base45Decode(base45Encode(extremes)).value(), extremes);
}

TEST(Base45, RefusesWhatRfc9285Forbids) {
    // §6: a triplet over 65535 ("GGW" = 16 + 16*45 + 32*2025 = 65536), a pair over 255.
    auto tooLarge = base45Decode("GGW");
    ASSERT_FALSE(tooLarge.ok());
    EXPECT_NE(tooLarge.error().find("too large"), std::string::npos);
    EXPECT_FALSE(base45Decode("ZZ").ok());
    // Lowercase is not in the alphabet.
    auto lower = base45Decode("bb8");
    ASSERT_FALSE(lower.ok());
    EXPECT_NE(lower.error().find("'b' at position 1"), std::string::npos);
    // A single character left over.
    EXPECT_FALSE(base45Decode("BB8B").ok());
    EXPECT_FALSE(base45Decode(std::string("B\0"
                                          "8",
                                          3))
                     .ok());
}

TEST(RecordText, FramesAndUnframes) {
    const Bytes record{0xD2, 0x84, 0x43, 0xA1, 0x01, 0x26};
    const auto text = recordToText(record);
    EXPECT_EQ(text.substr(0, 4), "UC1:");
    auto back = recordFromText(text);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back.value(), record);
    EXPECT_TRUE(recordFromText(text + "\r\n").ok());
}

TEST(RecordText, RefusesOtherCodes) {
    auto other = recordFromText("HC1:6BFOXN%TS3DH0YOJ58S");
    ASSERT_FALSE(other.ok());
    EXPECT_NE(other.error().find("not a union card code"), std::string::npos);
    EXPECT_FALSE(recordFromText("UC1:").ok());
    EXPECT_FALSE(recordFromText("https://example.org/").ok());
    EXPECT_FALSE(recordFromText("UC1:" + std::string(400, 'A')).ok());
}

} // namespace
} // namespace unioncard::card
