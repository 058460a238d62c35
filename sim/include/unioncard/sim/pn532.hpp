// SPDX-License-Identifier: Apache-2.0
#pragma once

// A PN532 NFC controller on a pseudo-terminal, with a VirtualCard in its field, so that libnfc's
// own `pn532_uart` driver (and everything above it: nfc-list, libfreefare, cardlib's libnfc
// adapter) runs unchanged against the virtual DESFire. Debian's libnfc has no PC/SC driver, so
// this is how libnfc is tested without hardware.
//
// The wire format is the PN532 host interface over HSU (NXP PN532 User Manual UM0701-02 §6.2):
//   information frame  00 00 FF LEN LCS TFI PD0..PDn DCS 00   (LEN counts TFI and PD,
//                      LEN + LCS = 0, TFI + PD + DCS = 0 mod 256; TFI D4 host to chip, D5 back)
//   extended frame     00 00 FF FF FF LENM LENL LCS TFI PD.. DCS 00 (LENM + LENL + LCS = 0)
//   ACK                00 00 FF 00 FF 00
//   NACK               00 00 FF FF 00 00
//   error frame        00 00 FF 01 FF 7F 81 00 (an application-level error, §6.2.1.5)
// The chip ACKs every well-formed frame, then answers it. HSU wake-up (§7.2.11, "0x55 0x55 00
// 00 ...", which libnfc sends before the first command and after PowerDown) is simply skipped:
// everything before a start code 00 FF is preamble to the parser.
//
// The commands are those libnfc 1.8.0's pn532_uart driver and pn53x chip code send (traffic
// seen with LIBNFC_LOG_LEVEL=3 against this emulator, and libnfc/chips/pn53x.c): Diagnose 00
// (communication test), GetFirmwareVersion 02 (PN532 v1.6), GetGeneralStatus 04, ReadRegister
// 06 and WriteRegister 08 (several registers per frame, a register map with reset values),
// SetParameters 12, SAMConfiguration 14, PowerDown 16, RFConfiguration 32, InDataExchange 40,
// InCommunicateThru 42 (only the presence check libnfc sends), InDeselect 44, InListPassiveTarget
// 4A (ISO/IEC 14443 type A at 106 kbit/s, MaxTg 1-2, optional UID to select), InRelease 52.
//
// ISO/IEC 14443-4 is handled "by the chip", as a real PN532 does when SetParameters has
// fAutomaticRATS (bit 4) set, which libnfc's NP_AUTO_ISO14443_4 sets: InListPassiveTarget sends
// RATS and reports the ATS, and InDataExchange's data bytes are the card's APDUs (the chip does
// the block protocol). An answer longer than one frame comes in pieces with the MI bit (0x40)
// in the status byte; the host asks for the rest with an empty InDataExchange (UM0701-02 §7.3.8).
//
// Not implemented (the chip answers with the error frame, or a status saying no card): other
// modulations (type B, FeliCa, Jewel: InListPassiveTarget finds nothing), target mode (Tg*),
// DEP (InJumpForDEP, InATR, InPSL), InAutoPoll, GPIO, the ISO/IEC 14443-3 raw exchange of a
// card activated without RATS (InDataExchange then times out, status 01), baud-rate changes.
// Where the real chip would wait (InListPassiveTarget with infinite retries and no matching
// card), this one answers "no target" at once.

#include <unioncard/sim/virtual_card.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace unioncard::sim::pn532 {

/// Frame identifiers (UM0701-02 §6.2.1.1).
inline constexpr std::uint8_t kHostToChip = 0xD4;
inline constexpr std::uint8_t kChipToHost = 0xD5;

inline constexpr std::array<std::uint8_t, 6> kAck{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00};
inline constexpr std::array<std::uint8_t, 6> kNack{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00};
inline constexpr std::array<std::uint8_t, 8> kErrorFrame{0x00, 0x00, 0xFF, 0x01,
                                                         0xFF, 0x7F, 0x81, 0x00};

/// An information frame with `tfi` and `data` (command code and parameters): a normal frame up
/// to 254 data bytes, an extended one above.
Bytes encodeFrame(std::uint8_t tfi, std::span<const std::uint8_t> data);

/// What the parser made of the bytes from the host.
struct Frame {
    enum class Kind {
        Information, ///< a well-formed frame: `data` is TFI followed by the command
        Ack,         ///< the host's ACK: abort the running command
        Nack,        ///< the host's NACK: send the last answer again
        BadChecksum, ///< LCS or DCS did not add up: the frame is dropped
    };
    Kind kind;
    Bytes data;
};

/// Splits the byte stream from the host into frames. Bytes before a start code (00 FF) are
/// preamble or wake-up and are skipped. Never throws; garbage produces no frames.
class FrameParser {
public:
    /// Feeds bytes; returns the frames they completed, in order.
    std::vector<Frame> feed(std::span<const std::uint8_t> bytes);

private:
    enum class State { Seek, SeekFF, Len, Lcs, ExtLenM, ExtLenL, ExtLcs, Body, Dcs };
    State m_state = State::Seek;
    std::size_t m_length = 0;
    std::uint8_t m_len = 0;
    std::uint8_t m_lenM = 0;
    Bytes m_body;
};

/// The controller: the host's bytes in, the chip's bytes out. No I/O here (the Emulator below
/// puts it on a pseudo-terminal), so tests can drive it directly.
class Chip {
public:
    explicit Chip(VirtualCard& card);

    /// Everything the chip sends in answer to these bytes (ACKs, answers, NACKs), possibly
    /// nothing when no frame was completed.
    Bytes receive(std::span<const std::uint8_t> bytes);

    /// Runs one command (command code and parameters, without TFI) and returns the answer's
    /// command code and data, or nullopt for an application-level error (the error frame).
    std::optional<Bytes> execute(std::span<const std::uint8_t> command);

    /// Called with each command and answer, as "D4 4A 01 00" / "D5 4B 00" lines, when set.
    void setTrace(std::function<void(const std::string&)> trace) { m_trace = std::move(trace); }

    bool fieldOn() const { return m_field; }
    bool targetActive() const { return m_target; }
    std::uint8_t reg(std::uint16_t address) const;
    /// The ATS the chip reports for the card (without its length byte TL): DESFire's
    /// T0 = 75, TA = 77, TB = 81, TC = 02, then the historical bytes of the card's ATR.
    Bytes ats() const;

private:
    Bytes answerFrame(const Frame& frame);
    std::optional<Bytes> inListPassiveTarget(std::span<const std::uint8_t> params);
    std::optional<Bytes> inDataExchange(std::span<const std::uint8_t> params);
    std::optional<Bytes> inCommunicateThru(std::span<const std::uint8_t> params);
    void setField(bool on);
    void activate();

    VirtualCard& m_card;
    FrameParser m_parser;
    std::map<std::uint16_t, std::uint8_t> m_registers;
    std::function<void(const std::string&)> m_trace;
    Bytes m_lastAnswer; // for NACK
    Bytes m_pending;    // the rest of a long answer, sent with MI
    std::uint8_t m_parameters = 0;
    bool m_field = false;
    bool m_powered = false;
    bool m_target = false;
    bool m_iso14443_4 = false;
};

/// The chip on a pseudo-terminal: libnfc opens the slave side ("/dev/pts/N") as a serial port.
class Emulator {
public:
    enum class End { Stopped, Error };

    explicit Emulator(VirtualCard& card);
    ~Emulator();
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;

    /// Opens the pseudo-terminal (posix_openpt, grantpt, unlockpt; raw mode). False with the
    /// reason in `error`.
    bool open(std::string& error);
    /// The slave's path, e.g. "/dev/pts/3" (after open()).
    const std::string& devicePath() const { return m_path; }
    /// What libnfc takes: "pn532_uart:/dev/pts/3:115200" (the speed is ignored by a pty).
    std::string connstring() const { return "pn532_uart:" + m_path + ":115200"; }

    /// Answers the host until stop() is called. The card is powered off when it returns.
    End serve();
    /// Makes serve() return End::Stopped. Async-signal-safe.
    void stop();
    const std::string& error() const { return m_error; }
    std::uint64_t bytesIn() const { return m_bytesIn.load(); }

    Chip& chip() { return m_chip; }

private:
    Chip m_chip;
    int m_master = -1;
    int m_slave = -1; // held open so that the master never sees a hang-up between clients
    int m_wake[2] = {-1, -1};
    std::string m_path;
    std::string m_error;
    std::atomic<std::uint64_t> m_bytesIn{0};
};

} // namespace unioncard::sim::pn532
