// SPDX-License-Identifier: Apache-2.0
// What a hostile card or reader answers, against the host's PC/SC code: an emulator (a
// Proxmark, a Chameleon) can answer GET DATA with any number of bytes.

#include <unioncard/card/pcsc/pcsc.hpp>

#include <gtest/gtest.h>

namespace unioncard::card {
namespace {

// A connection that answers every command with one scripted response.
class Answering : public CardConnection {
public:
    explicit Answering(Bytes response) : m_response(std::move(response)) {}
    Result<Bytes, Fault> transmit(std::span<const std::uint8_t>) override { return m_response; }
    Bytes atr() const override { return {0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}; }

private:
    Bytes m_response;
};

Bytes uidReply(std::size_t length) {
    Bytes r(length, 0x04);
    r.push_back(0x90);
    r.push_back(0x00);
    return r;
}

// Before the fix any reply of two bytes or more was a UID: one byte, or 250, went on to the
// key derivation and the record's chip binding.
TEST(HostileReader, AUidOfALengthNoCardHasIsAProtocolError) {
    for (std::size_t length : {1u, 3u, 5u, 8u, 11u, 250u}) {
        Answering card(uidReply(length));
        auto uid = pcsc::readUid(card);
        ASSERT_FALSE(uid.ok()) << length << " bytes taken as a UID";
        EXPECT_EQ(uid.error().code, FaultCode::ProtocolError);
        EXPECT_NE(uid.error().message.find(std::to_string(length) + " bytes"), std::string::npos)
            << uid.error().message;
    }
    for (std::size_t length : {4u, 7u, 10u}) {
        Answering card(uidReply(length));
        auto uid = pcsc::readUid(card);
        ASSERT_TRUE(uid.ok()) << uid.error().message;
        EXPECT_EQ(uid->size(), length);
    }
}

} // namespace
} // namespace unioncard::card
