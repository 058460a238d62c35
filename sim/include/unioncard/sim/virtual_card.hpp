// SPDX-License-Identifier: Apache-2.0
#pragma once

// A simulated contactless card as a reader sees it: power, answer to reset, and one response
// APDU per command APDU (ISO/IEC 7816-4). The vpcd bridge and the PN532 emulator put one of
// these on a reader; the card side shares no protocol code with cardlib (docs/architecture.md).

#include <cstdint>
#include <span>
#include <vector>

namespace unioncard::sim {

using Bytes = std::vector<std::uint8_t>;

class VirtualCard {
public:
    virtual ~VirtualCard() = default;
    /// The card enters the field: volatile state (sessions, uncommitted writes) starts fresh.
    virtual void powerOn() = 0;
    /// The card leaves the field or power is cut: whatever was not committed is lost.
    virtual void powerOff() = 0;
    virtual Bytes atr() const = 0;
    /// The UID a reader sees in anticollision (ISO/IEC 14443-3), which a PC/SC reader reports
    /// to GET DATA (FF CA 00 00 00) without asking the card.
    virtual Bytes uid() const = 0;
    /// One command APDU in, one response APDU (data || SW1 SW2) out. Never throws.
    virtual Bytes transmit(std::span<const std::uint8_t> command) = 0;
};

} // namespace unioncard::sim
