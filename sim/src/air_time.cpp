// SPDX-License-Identifier: Apache-2.0
#include <unioncard/sim/air_time.hpp>

#include <algorithm>

namespace unioncard::sim {

namespace {

constexpr double kFcMhz = 13.56;
constexpr double kFrameDelayUs = 1172 / kFcMhz; // ISO/IEC 14443-3: least FDT, 1172/fc
constexpr std::size_t kBlockOverhead = 3;       // PCB and CRC_A

double bitUs(unsigned kbps) {
    return 128.0 / (static_cast<double>(kbps) / 106.0) / kFcMhz;
}

// One frame of `bits` data bits (with parity), start and end of communication, after its delay.
AirTime frameOfBits(std::size_t bits, std::size_t bytes, unsigned kbps) {
    return AirTime{1, bytes, kFrameDelayUs + static_cast<double>(bits + 2) * bitUs(kbps)};
}

AirTime frame(std::size_t bytes, unsigned kbps) {
    return frameOfBits(9 * bytes, bytes, kbps);
}

// `data` bytes in I-blocks of at most `frameSize`, each but the last answered R(ACK).
AirTime chained(std::size_t data, std::size_t frameSize, unsigned kbps) {
    const std::size_t room = frameSize > kBlockOverhead ? frameSize - kBlockOverhead : 1;
    AirTime t;
    std::size_t left = data;
    do {
        const std::size_t n = std::min(left, room);
        left -= n;
        t += frame(n + kBlockOverhead, kbps);
        if (left > 0) {
            t += frame(kBlockOverhead, kbps); // R(ACK) from the other side
        }
    } while (left > 0);
    return t;
}

} // namespace

AirTime& AirTime::operator+=(const AirTime& other) {
    frames += other.frames;
    bytes += other.bytes;
    microseconds += other.microseconds;
    return *this;
}

AirTime exchangeAirTime(std::size_t commandBytes, std::size_t responseBytes, const AirLink& link) {
    AirTime t = chained(commandBytes, link.fsc, link.kbps);
    t += chained(responseBytes, link.fsd, link.kbps);
    return t;
}

AirTime activationAirTime(std::size_t uidLength, const AirLink& link) {
    constexpr unsigned kBase = 106;
    AirTime t = frameOfBits(7, 1, kBase); // REQA: a short frame, 7 bits without parity
    t += frame(2, kBase);                 // ATQA
    const std::size_t levels = uidLength <= 4 ? 1 : uidLength <= 7 ? 2 : 3;
    for (std::size_t i = 0; i < levels; ++i) {
        t += frame(2, kBase); // ANTICOLLISION: SEL, NVB
        t += frame(5, kBase); // UID CLn (or cascade tag and 3 bytes) and BCC
        t += frame(9, kBase); // SELECT: SEL, NVB, UID CLn, BCC, CRC_A
        t += frame(3, kBase); // SAK and CRC_A
    }
    t += frame(4, kBase); // RATS and CRC_A
    t += frame(8, kBase); // ATS (6 bytes) and CRC_A
    if (link.kbps > kBase) {
        t += frame(5, kBase); // PPS: PPSS, PPS0, PPS1, CRC_A
        t += frame(3, kBase); // its answer
    }
    return t;
}

} // namespace unioncard::sim
