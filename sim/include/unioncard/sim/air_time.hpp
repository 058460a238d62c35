// SPDX-License-Identifier: Apache-2.0
#pragma once

// What APDU exchanges would take over a real reader's air interface: ISO/IEC 14443 type A
// frames at 106, 212 or 424 kbit/s, with ISO/IEC 14443-4 block chaining. The lab's cards answer
// at once; this projects the same exchanges onto the air, from their sizes alone.
//
// The model (ISO/IEC 14443-2, -3 and -4):
//  - one bit lasts 128/fc at 106 kbit/s, 64/fc at 212, 32/fc at 424 (fc = 13.56 MHz);
//  - a standard frame of n bytes is 9n bits (8 data bits and parity each) plus start and end of
//    communication; REQA is a short frame of 7 bits;
//  - before every frame a delay of 1172/fc, the least frame delay time ISO/IEC 14443-3 allows;
//  - an APDU goes in I-blocks of at most FSC bytes (FSD for the card's answer), each with PCB
//    and CRC_A (no CID, no NAD); every block but the last is acknowledged with an R(ACK) of 3
//    bytes.
// Not modelled: the card's processing time (its crypto, EEPROM writes; S(WTX) extensions),
// which silicon adds on top, and the reader's own latency to the host.

#include <cstddef>

namespace unioncard::sim {

struct AirLink {
    unsigned kbps = 106;   ///< 106, 212 or 424
    std::size_t fsc = 64;  ///< the card's frame size; a DESFire's ATS has FSCI 5: 64 bytes
    std::size_t fsd = 256; ///< the reader's frame size (FSDI 8 on common PC/SC readers)
};

struct AirTime {
    std::size_t frames = 0;
    std::size_t bytes = 0; ///< on air, block headers and CRCs included
    double microseconds = 0;
    AirTime& operator+=(const AirTime& other);
};

/// One APDU of `commandBytes` and its answer of `responseBytes` (status word included).
AirTime exchangeAirTime(std::size_t commandBytes, std::size_t responseBytes, const AirLink& link);

/// Bringing a card into ISO/IEC 14443-4 at 106 kbit/s: REQA, ATQA, anticollision and select of
/// each cascade level (1, 2 or 3 for a 4-, 7- or 10-byte UID), RATS and a 6-byte ATS, and a PPS
/// when the link runs faster than 106 kbit/s.
AirTime activationAirTime(std::size_t uidLength, const AirLink& link);

} // namespace unioncard::sim
