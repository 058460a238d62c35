// SPDX-License-Identifier: Apache-2.0
#pragma once

// A virtual card on a reader in the same process: cardlib's CardConnection over sim's
// VirtualCard, powered while the connection lives. For tests, benchmarks and training, where the
// real reader stack (pcscd + vpcd, or the PN532 emulator) is not wanted. The one place where
// the two sides meet in process: sim itself knows nothing of cardlib (target
// unioncard::sim_connection, header only).

#include <unioncard/card/transport.hpp>
#include <unioncard/sim/virtual_card.hpp>

namespace unioncard::sim {

class InProcessConnection final : public card::CardConnection {
public:
    explicit InProcessConnection(VirtualCard& card) : m_card(card) { m_card.powerOn(); }
    ~InProcessConnection() override { m_card.powerOff(); }
    InProcessConnection(const InProcessConnection&) = delete;
    InProcessConnection& operator=(const InProcessConnection&) = delete;

    Result<card::Bytes, card::Fault> transmit(std::span<const std::uint8_t> command) override {
        return m_card.transmit(command);
    }
    card::Bytes atr() const override { return m_card.atr(); }

private:
    VirtualCard& m_card;
};

} // namespace unioncard::sim
