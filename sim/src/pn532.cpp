// SPDX-License-Identifier: Apache-2.0
// The PN532 emulator. Frame format: NXP PN532 User Manual UM0701-02 §6.2; commands: §7; which
// commands and in which order: libnfc 1.8.0 (libnfc/drivers/pn532_uart.c, libnfc/chips/pn53x.c)
// and its traffic at LIBNFC_LOG_LEVEL=3 against this emulator.

#include <unioncard/sim/pn532.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace unioncard::sim::pn532 {

namespace {

// Command codes (UM0701-02 §7, table 3).
constexpr std::uint8_t kDiagnose = 0x00;
constexpr std::uint8_t kGetFirmwareVersion = 0x02;
constexpr std::uint8_t kGetGeneralStatus = 0x04;
constexpr std::uint8_t kReadRegister = 0x06;
constexpr std::uint8_t kWriteRegister = 0x08;
constexpr std::uint8_t kSetParameters = 0x12;
constexpr std::uint8_t kSamConfiguration = 0x14;
constexpr std::uint8_t kPowerDown = 0x16;
constexpr std::uint8_t kRfConfiguration = 0x32;
constexpr std::uint8_t kInDataExchange = 0x40;
constexpr std::uint8_t kInCommunicateThru = 0x42;
constexpr std::uint8_t kInDeselect = 0x44;
constexpr std::uint8_t kInListPassiveTarget = 0x4A;
constexpr std::uint8_t kInRelease = 0x52;

// Status byte values (UM0701-02 §7.1, table 4).
constexpr std::uint8_t kStatusOk = 0x00;
constexpr std::uint8_t kStatusTimeout = 0x01;      // the target has not answered
constexpr std::uint8_t kStatusInvalidParam = 0x10; // invalid parameter (range, format)
constexpr std::uint8_t kStatusWrongContext = 0x27; // command not acceptable in this context
constexpr std::uint8_t kMoreInformation = 0x40;    // MI: more data to come

// SetParameters bit 4, fAutomaticRATS (UM0701-02 §7.2.9).
constexpr std::uint8_t kParamAutoRats = 0x10;

// A PN532 answers GetFirmwareVersion with IC 32, Ver 01, Rev 06 and Support 07 (ISO 14443
// type A and B, ISO 18092) (UM0701-02 §7.2.2): what a PN532 v1.6 board reports.
constexpr std::uint8_t kFirmware[] = {0x32, 0x01, 0x06, 0x07};

// Longest InDataExchange answer in one normal frame: LEN 255 = TFI + CC + status + 252.
constexpr std::size_t kMaxDataInFrame = 252;

std::string hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    char buffer[4];
    for (auto b : bytes) {
        std::snprintf(buffer, sizeof buffer, out.empty() ? "%02X" : " %02X", b);
        out += buffer;
    }
    return out;
}

// Reset values of the CIU registers (PN532 datasheet Rev. 3.2 §8.6.23, the PN512 family's
// contactless interface unit); registers not listed read 00. libnfc only ever changes single
// bits of these with a read-modify-write, so what matters is that a write is read back.
const std::map<std::uint16_t, std::uint8_t>& resetRegisters() {
    static const std::map<std::uint16_t, std::uint8_t> values{
        {0x6301, 0x3F}, // CIU_Mode
        {0x6302, 0x00}, // CIU_TxMode
        {0x6303, 0x00}, // CIU_RxMode
        {0x6304, 0x80}, // CIU_TxControl
        {0x6305, 0x00}, // CIU_TxAuto
        {0x6306, 0x10}, // CIU_TxSel
        {0x6307, 0x84}, // CIU_RxSel
        {0x6308, 0x84}, // CIU_RxThreshold
        {0x6309, 0x4D}, // CIU_Demod
        {0x630C, 0x62}, // CIU_MifNFC
        {0x630D, 0x00}, // CIU_ManualRCV
        {0x6311, 0xFF}, // CIU_CRCResultMSB
        {0x6312, 0xFF}, // CIU_CRCResultLSB
        {0x6313, 0x88}, // CIU_GsNOFF
        {0x6314, 0x26}, // CIU_ModWidth
        {0x6315, 0x87}, // CIU_TxBitPhase
        {0x6316, 0x48}, // CIU_RFCfg
        {0x6317, 0x88}, // CIU_GsNOn
        {0x6318, 0x20}, // CIU_CWGsP
        {0x6319, 0x20}, // CIU_ModGsP
        {0x6331, 0x20}, // CIU_Command
        {0x6332, 0x80}, // CIU_CommIEn
        {0x6334, 0x14}, // CIU_CommIrq
        {0x6337, 0x21}, // CIU_Status1
        {0x6338, 0x00}, // CIU_Status2
        {0x633B, 0x08}, // CIU_WaterLevel
        {0x633C, 0x10}, // CIU_Control
        {0x633D, 0x00}, // CIU_BitFraming
        {0x633E, 0x80}, // CIU_Coll
    };
    return values;
}

} // namespace

Bytes encodeFrame(std::uint8_t tfi, std::span<const std::uint8_t> data) {
    Bytes out{0x00, 0x00, 0xFF};
    const std::size_t length = data.size() + 1; // TFI counts
    if (length <= 0xFF) {
        out.push_back(static_cast<std::uint8_t>(length));
        out.push_back(static_cast<std::uint8_t>(0x100 - length));
    } else {
        const auto m = static_cast<std::uint8_t>(length >> 8);
        const auto l = static_cast<std::uint8_t>(length & 0xFF);
        out.insert(out.end(),
                   {0xFF, 0xFF, m, l, static_cast<std::uint8_t>(0x100 - ((m + l) & 0xFF))});
    }
    out.push_back(tfi);
    std::uint8_t sum = tfi;
    for (auto b : data) {
        out.push_back(b);
        sum = static_cast<std::uint8_t>(sum + b);
    }
    out.push_back(static_cast<std::uint8_t>(0x100 - sum));
    out.push_back(0x00);
    return out;
}

// ------------------------------------------------------------------------------ FrameParser

std::vector<Frame> FrameParser::feed(std::span<const std::uint8_t> bytes) {
    std::vector<Frame> frames;
    for (const std::uint8_t b : bytes) {
        switch (m_state) {
        case State::Seek:
            if (b == 0x00) {
                m_state = State::SeekFF;
            }
            break;
        case State::SeekFF:
            // Any number of 00 may come first (preamble, wake-up, the last postamble).
            m_state = b == 0xFF ? State::Len : b == 0x00 ? State::SeekFF : State::Seek;
            break;
        case State::Len:
            m_len = b;
            m_state = State::Lcs;
            break;
        case State::Lcs:
            if (m_len == 0x00 && b == 0xFF) {
                frames.push_back({Frame::Kind::Ack, {}});
                m_state = State::Seek;
            } else if (m_len == 0xFF && b == 0x00) {
                frames.push_back({Frame::Kind::Nack, {}});
                m_state = State::Seek;
            } else if (m_len == 0xFF && b == 0xFF) {
                m_state = State::ExtLenM;
            } else if (static_cast<std::uint8_t>(m_len + b) != 0 || m_len == 0) {
                frames.push_back({Frame::Kind::BadChecksum, {}});
                m_state = State::Seek;
            } else {
                m_length = m_len;
                m_body.clear();
                m_state = State::Body;
            }
            break;
        case State::ExtLenM:
            m_lenM = b;
            m_state = State::ExtLenL;
            break;
        case State::ExtLenL:
            m_len = b;
            m_state = State::ExtLcs;
            break;
        case State::ExtLcs:
            m_length = (static_cast<std::size_t>(m_lenM) << 8) | m_len;
            if (static_cast<std::uint8_t>(m_lenM + m_len + b) != 0 || m_length == 0) {
                frames.push_back({Frame::Kind::BadChecksum, {}});
                m_state = State::Seek;
            } else {
                m_body.clear();
                m_state = State::Body;
            }
            break;
        case State::Body:
            m_body.push_back(b);
            if (m_body.size() == m_length) {
                m_state = State::Dcs;
            }
            break;
        case State::Dcs: {
            std::uint8_t sum = b;
            for (auto x : m_body) {
                sum = static_cast<std::uint8_t>(sum + x);
            }
            if (sum == 0) {
                frames.push_back({Frame::Kind::Information, std::move(m_body)});
            } else {
                frames.push_back({Frame::Kind::BadChecksum, {}});
            }
            m_body.clear();
            m_state = State::Seek; // the postamble 00 is taken as the next preamble
            break;
        }
        }
    }
    return frames;
}

// ------------------------------------------------------------------------------------ Chip

Chip::Chip(VirtualCard& card) : m_card(card), m_registers(resetRegisters()) {}

std::uint8_t Chip::reg(std::uint16_t address) const {
    auto it = m_registers.find(address);
    return it == m_registers.end() ? 0x00 : it->second;
}

Bytes Chip::ats() const {
    Bytes ats{0x75, 0x77, 0x81, 0x02};
    // The ATR a PC/SC reader builds is 3B 8n 80 01 + the n historical bytes + TCK (PC/SC part 3
    // §3.1.3.2.3.1); take the card's historical bytes back out of it, so that both readers
    // report the same thing.
    const Bytes atr = m_card.atr();
    const std::size_t n = atr.size() >= 2 ? (atr[1] & 0x0F) : 0;
    if (atr.size() == 5 + n && atr[0] == 0x3B && atr[2] == 0x80 && atr[3] == 0x01) {
        ats.insert(ats.end(), atr.begin() + 4, atr.begin() + 4 + static_cast<std::ptrdiff_t>(n));
    } else {
        ats.push_back(0x80);
    }
    return ats;
}

Bytes Chip::receive(std::span<const std::uint8_t> bytes) {
    Bytes out;
    for (const auto& frame : m_parser.feed(bytes)) {
        const Bytes answer = answerFrame(frame);
        out.insert(out.end(), answer.begin(), answer.end());
    }
    return out;
}

Bytes Chip::answerFrame(const Frame& frame) {
    switch (frame.kind) {
    case Frame::Kind::Ack:
        // The host aborts the running command; commands here finish before the next byte is
        // read, so there is nothing to abort and nothing to answer (UM0701-02 §6.2.1.3).
        return {};
    case Frame::Kind::Nack:
        // The host asks for the last answer again (§6.2.1.4).
        return m_lastAnswer;
    case Frame::Kind::BadChecksum:
        // A frame whose LCS or DCS does not add up is not acknowledged; the NACK asks the host
        // to send it again.
        return Bytes(kNack.begin(), kNack.end());
    case Frame::Kind::Information:
        break;
    }
    Bytes out(kAck.begin(), kAck.end());
    std::optional<Bytes> answer;
    if (frame.data.size() >= 2 && frame.data[0] == kHostToChip) {
        const std::span<const std::uint8_t> command(frame.data.data() + 1, frame.data.size() - 1);
        if (m_trace) {
            m_trace("> D4 " + hex(command));
        }
        answer = execute(command);
    }
    if (answer) {
        if (m_trace) {
            m_trace("< D5 " + hex(*answer));
        }
        m_lastAnswer = encodeFrame(kChipToHost, *answer);
    } else {
        if (m_trace) {
            m_trace("< error frame");
        }
        m_lastAnswer.assign(kErrorFrame.begin(), kErrorFrame.end());
    }
    out.insert(out.end(), m_lastAnswer.begin(), m_lastAnswer.end());
    return out;
}

void Chip::setField(bool on) {
    m_field = on;
    if (!on) {
        // The card leaves the (switched-off) field: it loses power and what was not committed.
        if (m_powered) {
            m_card.powerOff();
            m_powered = false;
        }
        m_target = false;
        m_pending.clear();
    }
}

void Chip::activate() {
    // REQA/WUPA, anticollision and SELECT (ISO/IEC 14443-3), then RATS: the card starts from
    // its power-on state, as a DESFire does after being halted and woken (no session, PICC level
    // selected). The field is switched on for the activation if it was off.
    if (m_powered) {
        m_card.powerOff();
    }
    m_field = true;
    m_card.powerOn();
    m_powered = true;
    m_target = true;
    m_iso14443_4 = (m_parameters & kParamAutoRats) != 0;
    m_pending.clear();
}

std::optional<Bytes> Chip::execute(std::span<const std::uint8_t> command) {
    if (command.empty()) {
        return std::nullopt;
    }
    const std::uint8_t code = command[0];
    const auto params = command.subspan(1);
    Bytes answer{static_cast<std::uint8_t>(code + 1)};
    switch (code) {
    case kDiagnose:
        // NumTst 00, communication line test: the parameters come back as sent (§7.2.1);
        // libnfc's pn53x_check_communication sends 00 "libnfc".
        if (params.empty()) {
            return std::nullopt;
        }
        if (params[0] == 0x00) {
            answer.insert(answer.end(), params.begin(), params.end());
            return answer;
        }
        if (params[0] == 0x06) {
            // Card presence (PN533 only in libnfc; answered as a PN532 would): 00 present.
            answer.push_back(m_target ? kStatusOk : kStatusTimeout);
            return answer;
        }
        return std::nullopt;
    case kGetFirmwareVersion:
        answer.insert(answer.end(), std::begin(kFirmware), std::end(kFirmware));
        return answer;
    case kGetGeneralStatus:
        // Err, Field, NbTg, per target (Tg, BrRx, BrTx, Type), SAM status (§7.2.3).
        answer.insert(answer.end(), {0x00, static_cast<std::uint8_t>(m_field ? 1 : 0),
                                     static_cast<std::uint8_t>(m_target ? 1 : 0)});
        if (m_target) {
            answer.insert(answer.end(), {0x01, 0x00, 0x00, 0x00});
        }
        answer.push_back(0x00);
        return answer;
    case kReadRegister:
        // Any number of 16-bit addresses, big endian; one value each (§7.2.4).
        if (params.empty() || params.size() % 2 != 0) {
            return std::nullopt;
        }
        for (std::size_t i = 0; i < params.size(); i += 2) {
            answer.push_back(reg(static_cast<std::uint16_t>((params[i] << 8) | params[i + 1])));
        }
        return answer;
    case kWriteRegister:
        // Triples of address (big endian) and value (§7.2.5).
        if (params.empty() || params.size() % 3 != 0) {
            return std::nullopt;
        }
        for (std::size_t i = 0; i < params.size(); i += 3) {
            m_registers[static_cast<std::uint16_t>((params[i] << 8) | params[i + 1])] =
                params[i + 2];
        }
        return answer;
    case kSetParameters:
        if (params.size() != 1) {
            return std::nullopt;
        }
        m_parameters = params[0];
        return answer;
    case kSamConfiguration:
        // Mode 01 normal (no SAM), 02 virtual card, 03 wired card, 04 dual card; optional
        // timeout and IRQ (§7.2.10). There is no SAM here: every mode is accepted and changes
        // nothing for the contactless side.
        if (params.empty() || params.size() > 3 || params[0] < 0x01 || params[0] > 0x04) {
            return std::nullopt;
        }
        return answer;
    case kPowerDown:
        // WakeUpEnable, optional GenerateIRQ (§7.2.11); the answer's status is 00. The host
        // wakes the chip with 55 55 00 00 ... before its next command, which the parser skips.
        if (params.empty() || params.size() > 2) {
            return std::nullopt;
        }
        answer.push_back(kStatusOk);
        return answer;
    case kRfConfiguration:
        // CfgItem 01 is the RF field (bit 0 on, bit 1 auto RFCA); 02 timings, 04 MaxRtyCOM,
        // 05 retries, 0A-0D analog settings are accepted and stored nowhere (§7.3.1).
        if (params.empty()) {
            return std::nullopt;
        }
        if (params[0] == 0x01) {
            if (params.size() != 2) {
                return std::nullopt;
            }
            setField((params[1] & 0x01) != 0);
        }
        return answer;
    case kInListPassiveTarget:
        return inListPassiveTarget(params);
    case kInDataExchange:
        return inDataExchange(params);
    case kInCommunicateThru:
        return inCommunicateThru(params);
    case kInDeselect:
    case kInRelease:
        // Tg 00 means all targets (§7.3.10, §7.3.11). The card gets S(DESELECT) and halts.
        if (params.size() != 1) {
            return std::nullopt;
        }
        if (params[0] == 0x00 || params[0] == 0x01) {
            m_target = false;
            m_pending.clear();
        }
        answer.push_back(kStatusOk);
        return answer;
    default:
        return std::nullopt;
    }
}

std::optional<Bytes> Chip::inListPassiveTarget(std::span<const std::uint8_t> params) {
    // MaxTg (1 or 2), BrTy, InitiatorData (§7.3.5). BrTy 00 is ISO/IEC 14443 type A at
    // 106 kbit/s; for it, InitiatorData is the UID of the card to select (libfreefare's
    // mifare_desfire_connect sends it). Other types find nothing in this field.
    if (params.size() < 2 || params[0] < 1 || params[0] > 2) {
        return std::nullopt;
    }
    Bytes answer{kInListPassiveTarget + 1};
    const Bytes uid = m_card.uid();
    const auto wanted = params.subspan(2);
    const bool match = wanted.empty() || (wanted.size() == uid.size() &&
                                          std::equal(wanted.begin(), wanted.end(), uid.begin()));
    if (params[1] != 0x00 || !match) {
        answer.push_back(0x00); // NbTg
        return answer;
    }
    activate();
    // NbTg, then Tg, SENS_RES (2 bytes, as received: 03 44 for a DESFire with a 7-byte UID,
    // 03 04 with a 4-byte random ID: ATQA bits 7-8 give the UID size, ISO/IEC 14443-3 §6.5.2),
    // SEL_RES 20 (ISO/IEC 14443-4 compliant), NFCIDLength, NFCID1, and with automatic RATS the
    // ATS with its length byte (§7.3.5, "106 kbps type A").
    answer.insert(answer.end(),
                  {0x01, 0x01, 0x03, static_cast<std::uint8_t>(uid.size() == 4 ? 0x04 : 0x44), 0x20,
                   static_cast<std::uint8_t>(uid.size())});
    answer.insert(answer.end(), uid.begin(), uid.end());
    if (m_iso14443_4) {
        const Bytes ats = this->ats();
        answer.push_back(static_cast<std::uint8_t>(ats.size() + 1));
        answer.insert(answer.end(), ats.begin(), ats.end());
    }
    return answer;
}

std::optional<Bytes> Chip::inDataExchange(std::span<const std::uint8_t> params) {
    // Tg, DataOut (§7.3.8). The status byte's bit 6 (MI) says more of the answer follows; the
    // host fetches it with InDataExchange Tg and no data.
    if (params.empty()) {
        return std::nullopt;
    }
    Bytes answer{kInDataExchange + 1};
    if ((params[0] & 0x0F) != 0x01 || !m_target) {
        answer.push_back(kStatusWrongContext);
        return answer;
    }
    const auto data = params.subspan(1);
    Bytes response;
    if (data.empty() && !m_pending.empty()) {
        response = std::move(m_pending);
        m_pending.clear();
    } else if (!m_iso14443_4) {
        // Activated without RATS: the card is in ISO/IEC 14443-3 state and does not answer an
        // APDU. (The raw 14443-3/-4 exchange is not emulated.)
        answer.push_back(kStatusTimeout);
        return answer;
    } else if (data.empty()) {
        answer.push_back(kStatusInvalidParam);
        return answer;
    } else {
        response = m_card.transmit(data);
    }
    if (response.size() > kMaxDataInFrame) {
        m_pending.assign(response.begin() + kMaxDataInFrame, response.end());
        response.resize(kMaxDataInFrame);
        answer.push_back(kStatusOk | kMoreInformation);
    } else {
        answer.push_back(kStatusOk);
    }
    answer.insert(answer.end(), response.begin(), response.end());
    return answer;
}

std::optional<Bytes> Chip::inCommunicateThru(std::span<const std::uint8_t> params) {
    // DataOut goes to the card as it is (§7.3.9). libnfc sends one thing this way to a PN532:
    // its ISO 14443-4 presence check, R(NAK) B2/B3 with easy framing off
    // (pn53x_ISO14443A_4_is_present). An active card answers R(ACK) with its block number
    // (ISO/IEC 14443-4 §7.5.4.2, rule 12: A2/A3); nothing else is emulated.
    Bytes answer{kInCommunicateThru + 1};
    if (params.size() == 1 && m_target && m_iso14443_4 && (params[0] & 0xFE) == 0xB2) {
        answer.insert(answer.end(), {kStatusOk, static_cast<std::uint8_t>(0xA2 | (params[0] & 1))});
        return answer;
    }
    answer.push_back(kStatusTimeout);
    return answer;
}

// -------------------------------------------------------------------------------- Emulator

Emulator::Emulator(VirtualCard& card) : m_chip(card) {
    if (pipe2(m_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        m_wake[0] = m_wake[1] = -1;
    }
}

Emulator::~Emulator() {
    for (int fd : {m_master, m_slave, m_wake[0], m_wake[1]}) {
        if (fd >= 0) {
            close(fd);
        }
    }
}

bool Emulator::open(std::string& error) {
    auto fail = [&](const char* what) {
        error = std::string(what) + ": " + std::strerror(errno);
        return false;
    };
    if (m_wake[0] < 0) {
        error = "cannot create the stop pipe";
        return false;
    }
    m_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m_master < 0) {
        return fail("posix_openpt");
    }
    if (grantpt(m_master) != 0) {
        return fail("grantpt");
    }
    if (unlockpt(m_master) != 0) {
        return fail("unlockpt");
    }
    char name[128];
    if (ptsname_r(m_master, name, sizeof name) != 0) {
        return fail("ptsname_r");
    }
    m_path = name;
    // Hold the slave open: without it the master reads EIO (a hang-up) whenever no client has
    // the port open, e.g. between two libnfc programs. Raw mode (no echo, no line editing, no
    // CR/LF translation): libnfc sets the same when it opens the port, this covers the time
    // before and any client that does not.
    m_slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m_slave < 0) {
        return fail(name);
    }
    termios tio{};
    if (tcgetattr(m_slave, &tio) != 0) {
        return fail("tcgetattr");
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    if (tcsetattr(m_slave, TCSANOW, &tio) != 0) {
        return fail("tcsetattr");
    }
    return true;
}

void Emulator::stop() {
    const std::uint8_t byte = 1;
    if (m_wake[1] >= 0) {
        (void)!write(m_wake[1], &byte, 1);
    }
}

Emulator::End Emulator::serve() {
    if (m_master < 0) {
        m_error = "the pseudo-terminal is not open";
        return End::Error;
    }
    std::uint8_t buffer[4096];
    for (;;) {
        pollfd fds[2] = {{m_master, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            m_error = std::string("poll: ") + std::strerror(errno);
            break;
        }
        if ((fds[1].revents & POLLIN) != 0) {
            m_chip.execute(std::array<std::uint8_t, 3>{kRfConfiguration, 0x01, 0x00});
            return End::Stopped;
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
            continue;
        }
        const ssize_t n = read(m_master, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            m_error = std::string("read: ") + std::strerror(errno);
            break;
        }
        if (n == 0) {
            continue;
        }
        m_bytesIn += static_cast<std::uint64_t>(n);
        const Bytes out = m_chip.receive(std::span(buffer, static_cast<std::size_t>(n)));
        std::size_t sent = 0;
        while (sent < out.size()) {
            const ssize_t w = write(m_master, out.data() + sent, out.size() - sent);
            if (w < 0) {
                if (errno == EINTR || errno == EAGAIN) {
                    continue;
                }
                m_error = std::string("write: ") + std::strerror(errno);
                m_chip.execute(std::array<std::uint8_t, 3>{kRfConfiguration, 0x01, 0x00});
                return End::Error;
            }
            sent += static_cast<std::size_t>(w);
        }
    }
    m_chip.execute(std::array<std::uint8_t, 3>{kRfConfiguration, 0x01, 0x00});
    return End::Error;
}

} // namespace unioncard::sim::pn532
