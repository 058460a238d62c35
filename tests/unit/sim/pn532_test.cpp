// SPDX-License-Identifier: Apache-2.0
// The PN532 emulator against the host interface of NXP's PN532 User Manual UM0701-02 (§6.2
// frames, §7 commands): the test plays libnfc's side, byte for byte, first on the chip object
// and then over the pseudo-terminal, with the virtual DESFire in the field.

#include <unioncard/sim/pn532.hpp>
#include <unioncard/sim/virtual_desfire.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace pn532 = unioncard::sim::pn532;
using unioncard::sim::Bytes;

namespace {

// A card that answers every APDU with `answerSize` bytes of 0xA5 then 90 00, and counts power.
class FakeCard : public unioncard::sim::VirtualCard {
public:
    int powerOns = 0;
    int powerOffs = 0;
    std::size_t answerSize = 0;
    Bytes lastCommand;
    void powerOn() override { ++powerOns; }
    void powerOff() override { ++powerOffs; }
    Bytes atr() const override { return {0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}; }
    Bytes uid() const override { return {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}; }
    Bytes transmit(std::span<const std::uint8_t> c) override {
        lastCommand.assign(c.begin(), c.end());
        Bytes r(answerSize, 0xA5);
        r.insert(r.end(), {0x90, 0x00});
        return r;
    }
};

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

const Bytes kAck(pn532::kAck.begin(), pn532::kAck.end());
const Bytes kNack(pn532::kNack.begin(), pn532::kNack.end());
const Bytes kError(pn532::kErrorFrame.begin(), pn532::kErrorFrame.end());

Bytes command(Bytes data) {
    return pn532::encodeFrame(pn532::kHostToChip, data);
}
Bytes answer(Bytes data) {
    return cat({kAck, pn532::encodeFrame(pn532::kChipToHost, data)});
}

TEST(Pn532Frame, NormalFrameHasLengthAndDataChecksums) {
    // GetFirmwareVersion as libnfc sends it: LEN 02, LCS FE, D4 02, DCS 2A, postamble.
    EXPECT_EQ(command({0x02}), (Bytes{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}));
}

TEST(Pn532Frame, LongDataGoesInAnExtendedFrame) {
    const Bytes data(300, 0x01);
    const Bytes frame = pn532::encodeFrame(pn532::kChipToHost, data);
    ASSERT_EQ(frame.size(), 300u + 11u);
    // FF FF, LENM LENL = 301 = 0x012D, LCS with LENM + LENL + LCS = 0.
    EXPECT_EQ(Bytes(frame.begin(), frame.begin() + 9),
              (Bytes{0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x01, 0x2D, 0xD2, 0xD5}));
    std::uint8_t sum = 0;
    for (std::size_t i = 8; i < frame.size() - 1; ++i) {
        sum = static_cast<std::uint8_t>(sum + frame[i]);
    }
    EXPECT_EQ(sum, 0);
}

TEST(Pn532Frame, ParserSkipsTheWakeUpAndTakesFramesByteByByte) {
    pn532::FrameParser parser;
    const Bytes stream = cat({{0x55, 0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                               0x00, 0x00, 0x00, 0x00, 0x00},
                              command({0x14, 0x01}),
                              kAck,
                              kNack});
    std::vector<pn532::Frame> frames;
    for (auto b : stream) {
        for (auto& f : parser.feed(std::span(&b, 1))) {
            frames.push_back(std::move(f));
        }
    }
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].kind, pn532::Frame::Kind::Information);
    EXPECT_EQ(frames[0].data, (Bytes{0xD4, 0x14, 0x01}));
    EXPECT_EQ(frames[1].kind, pn532::Frame::Kind::Ack);
    EXPECT_EQ(frames[2].kind, pn532::Frame::Kind::Nack);
}

TEST(Pn532Chip, AcksThenAnswersGetFirmwareVersionAsAPn532V16) {
    FakeCard card;
    pn532::Chip chip(card);
    EXPECT_EQ(chip.receive(command({0x02})), answer({0x03, 0x32, 0x01, 0x06, 0x07}));
}

TEST(Pn532Chip, BadLengthChecksumIsNacked) {
    FakeCard card;
    pn532::Chip chip(card);
    Bytes frame = command({0x02});
    frame[4] ^= 0x01; // LCS
    EXPECT_EQ(chip.receive(frame), kNack);
    // The parser recovers: the next good frame is answered.
    EXPECT_EQ(chip.receive(command({0x02})), answer({0x03, 0x32, 0x01, 0x06, 0x07}));
}

TEST(Pn532Chip, BadDataChecksumIsNacked) {
    FakeCard card;
    pn532::Chip chip(card);
    Bytes frame = command({0x02});
    frame[7] ^= 0x01; // DCS
    EXPECT_EQ(chip.receive(frame), kNack);
}

TEST(Pn532Chip, NackRepeatsTheLastAnswerWithoutAck) {
    FakeCard card;
    pn532::Chip chip(card);
    (void)chip.receive(command({0x02}));
    EXPECT_EQ(chip.receive(kNack),
              pn532::encodeFrame(pn532::kChipToHost, Bytes{0x03, 0x32, 0x01, 0x06, 0x07}));
}

TEST(Pn532Chip, UnknownCommandOrBadParametersGetTheErrorFrame) {
    FakeCard card;
    pn532::Chip chip(card);
    EXPECT_EQ(chip.receive(command({0x7E})), cat({kAck, kError}));
    EXPECT_EQ(chip.receive(command({0x06, 0x63})), cat({kAck, kError})); // half an address
    // A frame with the chip's TFI (D5) from the host is an application-level error too.
    EXPECT_EQ(chip.receive(pn532::encodeFrame(0xD5, Bytes{0x02})), cat({kAck, kError}));
}

TEST(Pn532Chip, DiagnoseEchoesTheCommunicationTest) {
    FakeCard card;
    pn532::Chip chip(card);
    // libnfc's pn53x_check_communication: Diagnose 00 "libnfc".
    EXPECT_EQ(chip.receive(command({0x00, 0x00, 'l', 'i', 'b', 'n', 'f', 'c'})),
              answer({0x01, 0x00, 'l', 'i', 'b', 'n', 'f', 'c'}));
    // An extended frame in, an extended frame out.
    Bytes big{0x00, 0x00};
    big.resize(260, 0x5A);
    Bytes expected = big;
    expected[0] = 0x01;
    EXPECT_EQ(chip.receive(command(big)), answer(expected));
}

TEST(Pn532Chip, RegistersReadBackWhatWasWritten) {
    FakeCard card;
    pn532::Chip chip(card);
    // CIU_TxMode, CIU_RxMode, CIU_Control: reset values 00, 00, 10.
    EXPECT_EQ(chip.receive(command({0x06, 0x63, 0x02, 0x63, 0x03, 0x63, 0x3C})),
              answer({0x07, 0x00, 0x00, 0x10}));
    EXPECT_EQ(chip.receive(command({0x08, 0x63, 0x02, 0x80, 0x63, 0x03, 0x80})), answer({0x09}));
    EXPECT_EQ(chip.receive(command({0x06, 0x63, 0x02, 0x63, 0x03})), answer({0x07, 0x80, 0x80}));
}

TEST(Pn532Chip, ListsTheDesfireWithItsUidAndAts) {
    FakeCard card;
    pn532::Chip chip(card);
    ASSERT_EQ(chip.receive(command({0x12, 0x14})), answer({0x13})); // automatic RATS
    // NbTg 1, Tg 1, SENS_RES 03 44, SEL_RES 20, UID of 7, ATS 06 75 77 81 02 80.
    EXPECT_EQ(chip.receive(command({0x4A, 0x01, 0x00})),
              answer({0x4B, 0x01, 0x01, 0x03, 0x44, 0x20, 0x07, 0x04, 0x11, 0x22,
                      0x33, 0x44, 0x55, 0x66, 0x06, 0x75, 0x77, 0x81, 0x02, 0x80}));
    EXPECT_TRUE(chip.targetActive());
    EXPECT_EQ(card.powerOns, 1);
    // Selecting by UID (libfreefare's mifare_desfire_connect): the right one, then a stranger.
    EXPECT_EQ(chip.receive(command({0x4A, 0x01, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}))
                  .at(6 + 5 + 2), // NbTg, after the ACK, the header, D5 and 4B
              0x01);
    EXPECT_EQ(chip.receive(command({0x4A, 0x01, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x67})),
              answer({0x4B, 0x00}));
    // Type B, FeliCa: nothing in the field.
    EXPECT_EQ(chip.receive(command({0x4A, 0x01, 0x03, 0x00})), answer({0x4B, 0x00}));
}

TEST(Pn532Chip, WithoutAutomaticRatsThereIsNoAtsAndNoApduExchange) {
    FakeCard card;
    pn532::Chip chip(card);
    const Bytes listed = chip.receive(command({0x4A, 0x01, 0x00}));
    EXPECT_EQ(listed, answer({0x4B, 0x01, 0x01, 0x03, 0x44, 0x20, 0x07, 0x04, 0x11, 0x22, 0x33,
                              0x44, 0x55, 0x66}));
    EXPECT_EQ(chip.receive(command({0x40, 0x01, 0x90, 0x60, 0x00, 0x00, 0x00})),
              answer({0x41, 0x01})); // timeout
}

TEST(Pn532Chip, DataExchangeCarriesApdusAndNeedsATarget) {
    FakeCard card;
    pn532::Chip chip(card);
    EXPECT_EQ(chip.receive(command({0x40, 0x01, 0x90, 0x60, 0x00, 0x00, 0x00})),
              answer({0x41, 0x27})); // no target: not acceptable in this context
    (void)chip.receive(command({0x12, 0x14}));
    (void)chip.receive(command({0x4A, 0x01, 0x00}));
    card.answerSize = 3;
    EXPECT_EQ(chip.receive(command({0x40, 0x01, 0x90, 0x60, 0x00, 0x00, 0x00})),
              answer({0x41, 0x00, 0xA5, 0xA5, 0xA5, 0x90, 0x00}));
    EXPECT_EQ(card.lastCommand, (Bytes{0x90, 0x60, 0x00, 0x00, 0x00}));
    // InDeselect: the card is halted and no longer takes APDUs.
    EXPECT_EQ(chip.receive(command({0x44, 0x00})), answer({0x45, 0x00}));
    EXPECT_EQ(chip.receive(command({0x40, 0x01, 0x90, 0x60, 0x00, 0x00, 0x00})),
              answer({0x41, 0x27}));
}

TEST(Pn532Chip, LongAnswerComesInPiecesWithMoreInformation) {
    FakeCard card;
    pn532::Chip chip(card);
    (void)chip.receive(command({0x12, 0x14}));
    (void)chip.receive(command({0x4A, 0x01, 0x00}));
    card.answerSize = 300; // 302 bytes with SW1 SW2
    Bytes first{0x41, 0x40};
    first.insert(first.end(), 252, 0xA5);
    EXPECT_EQ(chip.receive(command({0x40, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x00})), answer(first));
    Bytes rest{0x41, 0x00};
    rest.insert(rest.end(), 48, 0xA5);
    rest.insert(rest.end(), {0x90, 0x00});
    EXPECT_EQ(chip.receive(command({0x40, 0x01})), answer(rest));
}

TEST(Pn532Chip, FieldOffPowersTheCardOff) {
    FakeCard card;
    pn532::Chip chip(card);
    (void)chip.receive(command({0x32, 0x01, 0x01}));
    EXPECT_TRUE(chip.fieldOn());
    (void)chip.receive(command({0x4A, 0x01, 0x00}));
    EXPECT_EQ(card.powerOns, 1);
    (void)chip.receive(command({0x32, 0x01, 0x00}));
    EXPECT_FALSE(chip.fieldOn());
    EXPECT_FALSE(chip.targetActive());
    EXPECT_EQ(card.powerOffs, 1);
}

// ------------------------------------------------------------------ over the pseudo-terminal

class Pn532Pty : public ::testing::Test {
protected:
    void SetUp() override {
        std::string error;
        ASSERT_TRUE(emulator.open(error)) << error;
        EXPECT_EQ(emulator.connstring(), "pn532_uart:" + emulator.devicePath() + ":115200");
        server = std::thread([this] { end = emulator.serve(); });
        host = ::open(emulator.devicePath().c_str(), O_RDWR | O_NOCTTY);
        ASSERT_GE(host, 0);
        termios tio{};
        ASSERT_EQ(tcgetattr(host, &tio), 0);
        cfmakeraw(&tio);
        ASSERT_EQ(tcsetattr(host, TCSANOW, &tio), 0);
    }
    void TearDown() override {
        emulator.stop();
        if (server.joinable()) {
            server.join();
        }
        if (host >= 0) {
            close(host);
        }
    }

    // Writes the frame and reads exactly `expect` bytes back (2 s at most).
    Bytes exchange(const Bytes& out, std::size_t expect) {
        EXPECT_EQ(write(host, out.data(), out.size()), static_cast<ssize_t>(out.size()));
        Bytes in;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (in.size() < expect && std::chrono::steady_clock::now() < deadline) {
            pollfd fd{host, POLLIN, 0};
            if (poll(&fd, 1, 100) <= 0) {
                continue;
            }
            std::uint8_t buffer[512];
            const ssize_t n = read(host, buffer, std::min(sizeof buffer, expect - in.size()));
            if (n > 0) {
                in.insert(in.end(), buffer, buffer + n);
            }
        }
        return in;
    }

    unioncard::sim::VirtualDesfire card;
    pn532::Emulator emulator{card};
    std::thread server;
    pn532::Emulator::End end = pn532::Emulator::End::Error;
    int host = -1;
};

TEST_F(Pn532Pty, ListsTheCardAndExchangesAnApdu) {
    // libnfc's opening: wake-up and SAMConfiguration normal mode, in two writes.
    const Bytes wakeUp{0x55, 0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    ASSERT_EQ(write(host, wakeUp.data(), wakeUp.size()), static_cast<ssize_t>(wakeUp.size()));
    const Bytes sam = answer({0x15});
    EXPECT_EQ(exchange(command({0x14, 0x01}), sam.size()), sam);
    const Bytes params = answer({0x13});
    EXPECT_EQ(exchange(command({0x12, 0x14}), params.size()), params);

    const Bytes uid = card.uid();
    Bytes listed{0x4B, 0x01, 0x01, 0x03, 0x44, 0x20, 0x07};
    listed.insert(listed.end(), uid.begin(), uid.end());
    listed.insert(listed.end(), {0x06, 0x75, 0x77, 0x81, 0x02, 0x80});
    const Bytes expectList = answer(listed);
    EXPECT_EQ(exchange(command({0x4A, 0x01, 0x00}), expectList.size()), expectList);

    // GetVersion, first frame (DESFire EV2: hardware vendor 04, type 01, 91 AF), wrapped
    // (`90 60 00 00 00`, datasheet §9.1).
    const Bytes reply = exchange(command({0x40, 0x01, 0x90, 0x60, 0x00, 0x00, 0x00}), 25);
    ASSERT_EQ(reply.size(), 25u); // ACK, header, D5 41 status, 7 bytes, SW1 SW2, DCS 00
    EXPECT_EQ(Bytes(reply.begin(), reply.begin() + 6), kAck);
    EXPECT_EQ(Bytes(reply.begin() + 6, reply.begin() + 11),
              (Bytes{0x00, 0x00, 0xFF, 0x0C, 0xF4})); // LEN 12: TFI, CC, status, 7 + SW
    EXPECT_EQ(reply[11], 0xD5);
    EXPECT_EQ(reply[12], 0x41);
    EXPECT_EQ(reply[13], 0x00);
    EXPECT_EQ(reply[14], 0x04);
    EXPECT_EQ(reply[21], 0x91);
    EXPECT_EQ(reply[22], 0xAF);

    // A corrupted frame over the wire is NACKed.
    Bytes bad = command({0x02});
    bad[7] ^= 0xFF;
    EXPECT_EQ(exchange(bad, kNack.size()), kNack);

    emulator.stop();
    server.join();
    EXPECT_EQ(end, pn532::Emulator::End::Stopped);
    EXPECT_GT(emulator.bytesIn(), 0u);
}

} // namespace
