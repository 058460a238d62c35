// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one seam between protocol code and a reader: a connected card that takes a command APDU
// and gives back the response APDU (ISO/IEC 7816-4 §5.1), with its ATR. PC/SC and libnfc
// adapters implement it; tests use scripted, recording and fault-injecting transports.

#include <unioncard/card/result.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::card {

using Bytes = std::vector<std::uint8_t>;

/// Faults from the environment, each with what the person at the reader should do.
enum class FaultCode {
    ServiceDown,   ///< the smart-card service (pcscd) is not running
    NoReader,      ///< the named reader is not connected
    ReaderRemoved, ///< the reader was unplugged while in use
    NoCard,        ///< no card on the reader
    CardRemoved,   ///< the card was taken away during the operation
    CardUnpowered, ///< the card does not answer (mute, or reset)
    ReaderBusy,    ///< another program holds the card exclusively
    Timeout,       ///< the reader gave up waiting
    Cancelled,     ///< the wait was cancelled on purpose
    ProtocolError, ///< the card answered with something the protocol does not allow
    CardError,     ///< the card refused the command (status word carried in the message)
    Unknown,       ///< anything else the reader stack reports
};

struct Fault {
    FaultCode code;
    std::string message; ///< what happened, in words
};

std::string_view toString(FaultCode code);
/// What the person at the reader should do about a fault, in words.
std::string_view actionFor(FaultCode code);

class CardConnection {
public:
    virtual ~CardConnection() = default;
    /// Sends one command APDU and returns the whole response including SW1 SW2.
    virtual Result<Bytes, Fault> transmit(std::span<const std::uint8_t> command) = 0;
    /// The card's answer to reset.
    virtual Bytes atr() const = 0;
    /// Holds the card for one conversation (an authentication and all it protects), so that no
    /// other program's APDU can come between: PC/SC SCardBeginTransaction, which waits while
    /// another program holds the card. A connection that is the card's only path (a PN532 on
    /// its serial line, a card in process) has nothing to hold and keeps this default.
    virtual std::optional<Fault> hold() { return std::nullopt; }
    /// Ends what hold() began.
    virtual void release() {}
};

/// hold() for the lifetime of a scope.
class CardHold {
public:
    explicit CardHold(CardConnection& connection)
        : m_connection(connection), m_fault(connection.hold()) {}
    ~CardHold() {
        if (!m_fault) {
            m_connection.release();
        }
    }
    CardHold(const CardHold&) = delete;
    CardHold& operator=(const CardHold&) = delete;
    /// Why the card could not be held, or nothing when it is.
    const std::optional<Fault>& fault() const { return m_fault; }

private:
    CardConnection& m_connection;
    std::optional<Fault> m_fault;
};

} // namespace unioncard::card
