// SPDX-License-Identifier: Apache-2.0
#pragma once

// The vpcd bridge: puts a VirtualCard on a vsmartcard "vpcd" reader in pcscd, speaking vpcd's
// socket protocol (vsmartcard virtualsmartcard/src/vpcd/vpcd.c, 0.8 as shipped in Debian 12's
// vsmartcard-vpcd 3.3):
//   every message is a 2-byte big-endian length, then that many bytes;
//   a 1-byte message is a control code: 00 power off, 01 power on, 02 reset (no answer), and
//   04 get ATR (answered with the ATR);
//   a longer message is a command APDU, answered with the response APDU.
// vpcd asks for the ATR every time pcscd polls for the card, and treats a closed connection as
// the card taken off the reader.

#include <unioncard/sim/virtual_card.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace unioncard::sim::vpcd {

inline constexpr std::uint8_t kPowerOff = 0x00;
inline constexpr std::uint8_t kPowerOn = 0x01;
inline constexpr std::uint8_t kReset = 0x02;
inline constexpr std::uint8_t kGetAtr = 0x04;

/// The vpcd side of the conversation for one message: what to send back, if anything.
/// Never throws; a VirtualCard answers every APDU.
std::optional<Bytes> answer(VirtualCard& card, std::span<const std::uint8_t> message);

/// Frames one message (length prefix and payload in one buffer, so one write).
Bytes frame(std::span<const std::uint8_t> payload);

struct BridgeOptions {
    /// Set TCP_QUICKACK before every read. Debian's vpcd (before vsmartcard commit 76e2679,
    /// March 2023) sends the length and the payload in two writes; with Nagle on vpcd's side
    /// and delayed ACK on ours, the payload waits ~40 ms for the ACK of the length. Remove
    /// this once the vpcd in the toolchain floor sends both in one write.
    bool quickAck = true;
};

/// Serves one card over a connected stream socket until vpcd closes it or stop() is called.
class Bridge {
public:
    enum class End { PeerClosed, Stopped, Error };

    Bridge(VirtualCard& card, BridgeOptions options = {});
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    /// Runs the conversation on `socket` (not closed here). Powers the card off when vpcd goes.
    End serve(int socket);
    /// Makes serve() return End::Stopped. Async-signal-safe: a SIGTERM handler may call it.
    void stop();
    /// Why serve() ended with End::Error.
    const std::string& error() const { return m_error; }
    /// Messages handled so far (control codes and APDUs).
    std::uint64_t messages() const { return m_messages.load(); }

private:
    VirtualCard& m_card;
    BridgeOptions m_options;
    int m_wake[2] = {-1, -1}; // self-pipe: stop() writes, serve() polls
    std::string m_error;
    std::atomic<std::uint64_t> m_messages{0};
};

/// Connects a TCP socket to host:port (vpcd listening, "DEVICENAME /dev/null:PORT"), with
/// TCP_NODELAY. Returns the socket, or -1 with the reason in `error`.
int connectTcp(const std::string& host, std::uint16_t port, std::string& error);

/// Listens on 127.0.0.1:port only (vpcd connecting, "DEVICENAME 127.0.0.1:PORT"). Returns the
/// listening socket, or -1 with the reason in `error`.
int listenLoopback(std::uint16_t port, std::string& error);

} // namespace unioncard::sim::vpcd
