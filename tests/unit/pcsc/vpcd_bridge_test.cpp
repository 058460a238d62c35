// SPDX-License-Identifier: Apache-2.0
// The vpcd bridge against vpcd's framing (vsmartcard virtualsmartcard/src/vpcd/vpcd.c, 0.8):
// the test plays vpcd on one end of a socketpair, the bridge serves a trivial card on the other.

#include <unioncard/sim/vpcd.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace vpcd = unioncard::sim::vpcd;
using unioncard::sim::Bytes;

namespace {

// An ISO/IEC 7816-4 card that answers SELECT with 90 00 and echoes any other command's data.
class EchoCard : public unioncard::sim::VirtualCard {
public:
    int powerOns = 0;
    int powerOffs = 0;
    void powerOn() override { ++powerOns; }
    void powerOff() override { ++powerOffs; }
    Bytes atr() const override { return {0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}; }
    Bytes uid() const override { return {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}; }
    Bytes transmit(std::span<const std::uint8_t> c) override {
        if (c.size() >= 2 && c[1] == 0xA4) {
            return {0x90, 0x00};
        }
        Bytes r(c.size() > 5 ? c.begin() + 5 : c.end(), c.end());
        r.insert(r.end(), {0x90, 0x00});
        return r;
    }
};

// vpcd's side: Debian's vpcd writes the length and the payload with two send() calls.
void sendLikeVpcd(int fd, const Bytes& payload) {
    const std::uint8_t length[2] = {static_cast<std::uint8_t>(payload.size() >> 8),
                                    static_cast<std::uint8_t>(payload.size())};
    ASSERT_EQ(write(fd, length, 2), 2);
    ASSERT_EQ(write(fd, payload.data(), payload.size()), static_cast<ssize_t>(payload.size()));
}

Bytes receiveLikeVpcd(int fd) {
    std::uint8_t length[2];
    EXPECT_EQ(recv(fd, length, 2, MSG_WAITALL), 2);
    Bytes payload((length[0] << 8) | length[1]);
    if (!payload.empty()) {
        EXPECT_EQ(recv(fd, payload.data(), payload.size(), MSG_WAITALL),
                  static_cast<ssize_t>(payload.size()));
    }
    return payload;
}

struct Pair {
    int vpcdEnd = -1;
    int cardEnd = -1;
    Pair() {
        int fds[2];
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        vpcdEnd = fds[0];
        cardEnd = fds[1];
    }
    ~Pair() {
        if (vpcdEnd >= 0) {
            close(vpcdEnd);
        }
        close(cardEnd);
    }
};

} // namespace

TEST(VpcdFrame, PrefixesTheBigEndianLength) {
    const Bytes payload(0x0102, 0xAB);
    const Bytes framed = vpcd::frame(payload);
    ASSERT_EQ(framed.size(), 0x0104u);
    EXPECT_EQ(framed[0], 0x01);
    EXPECT_EQ(framed[1], 0x02);
    EXPECT_EQ(framed[2], 0xAB);
}

TEST(VpcdAnswer, ControlCodesPowerTheCardAndOnlyGetAtrIsAnswered) {
    EchoCard card;
    EXPECT_FALSE(vpcd::answer(card, Bytes{vpcd::kPowerOn}));
    EXPECT_EQ(card.powerOns, 1);
    EXPECT_FALSE(vpcd::answer(card, Bytes{vpcd::kPowerOff}));
    EXPECT_EQ(card.powerOffs, 1);
    EXPECT_FALSE(vpcd::answer(card, Bytes{vpcd::kReset}));
    EXPECT_EQ(card.powerOns, 2);
    EXPECT_EQ(vpcd::answer(card, Bytes{vpcd::kGetAtr}), card.atr());
    EXPECT_FALSE(vpcd::answer(card, Bytes{0x07}));
}

TEST(VpcdBridge, AnswersAtrAndApdusSentInTwoWritesThenEndsWhenVpcdCloses) {
    EchoCard card;
    Pair pair;
    vpcd::Bridge bridge(card);
    vpcd::Bridge::End end{};
    std::thread serving([&] { end = bridge.serve(pair.cardEnd); });

    sendLikeVpcd(pair.vpcdEnd, {vpcd::kPowerOn});
    sendLikeVpcd(pair.vpcdEnd, {vpcd::kGetAtr});
    EXPECT_EQ(receiveLikeVpcd(pair.vpcdEnd), card.atr());
    sendLikeVpcd(pair.vpcdEnd, {0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00});
    EXPECT_EQ(receiveLikeVpcd(pair.vpcdEnd), (Bytes{0x90, 0x00}));
    Bytes big{0x80, 0xEE, 0x00, 0x00, 0xFF};
    big.resize(5 + 255, 0x5A);
    Bytes expected(255, 0x5A);
    expected.insert(expected.end(), {0x90, 0x00});
    sendLikeVpcd(pair.vpcdEnd, big);
    EXPECT_EQ(receiveLikeVpcd(pair.vpcdEnd), expected);

    close(pair.vpcdEnd); // the card leaves the reader
    pair.vpcdEnd = -1;
    serving.join();
    EXPECT_EQ(end, vpcd::Bridge::End::PeerClosed);
    EXPECT_EQ(bridge.messages(), 4u);
    EXPECT_GE(card.powerOffs, 1) << "a card whose reader went away is unpowered";
}

TEST(VpcdBridge, StopEndsAServeThatIsWaitingForVpcd) {
    EchoCard card;
    Pair pair;
    vpcd::Bridge bridge(card);
    vpcd::Bridge::End end{};
    std::thread serving([&] { end = bridge.serve(pair.cardEnd); });
    sendLikeVpcd(pair.vpcdEnd, {vpcd::kGetAtr});
    EXPECT_EQ(receiveLikeVpcd(pair.vpcdEnd), card.atr());
    bridge.stop();
    serving.join();
    EXPECT_EQ(end, vpcd::Bridge::End::Stopped);
}

TEST(VpcdBridge, APartialMessageFollowedByCloseIsAPeerClose) {
    EchoCard card;
    Pair pair;
    vpcd::Bridge bridge(card);
    const std::uint8_t half[3] = {0x00, 0x05, 0x00};
    ASSERT_EQ(write(pair.vpcdEnd, half, 3), 3);
    close(pair.vpcdEnd);
    pair.vpcdEnd = -1;
    EXPECT_EQ(bridge.serve(pair.cardEnd), vpcd::Bridge::End::PeerClosed);
    EXPECT_EQ(bridge.messages(), 0u);
}
