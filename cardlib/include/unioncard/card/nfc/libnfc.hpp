// SPDX-License-Identifier: Apache-2.0
#pragma once

// The libnfc adapter: PN53x readers (USB, or UART such as a PN532 board) through libnfc 1.8.
// This header does not include <nfc/nfc.h>: only src/nfc/libnfc.cpp talks to the library, so
// nothing above cardlib sees an NFC_* constant. Every libnfc error becomes a typed Fault.
//
// A connection is an ISO/IEC 14443-4 type A card at 106 kbit/s, with the reader chip doing the
// block protocol (libnfc's NP_AUTO_ISO14443_4 and NP_EASY_FRAMING: the PN53x sends RATS and
// wraps each APDU in I-blocks itself), so transmit() takes and returns whole APDUs, as a PC/SC
// connection does. Its atr() is the one a PC/SC reader builds from the ATS (PC/SC part 3
// v2.02.00 §3.1.3.2.3.1), so both adapters report the same ATR for the same card.

#include <unioncard/card/result.hpp>
#include <unioncard/card/transport.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::card::nfc {

/// A libnfc error code (NFC_EIO, NFC_ETIMEOUT, ...; negative) as a fault. `during` names the
/// call, `detail` is libnfc's own text when there is one.
Fault faultFromError(int error, std::string_view during, std::string_view detail = {});

/// The ATR a PC/SC reader builds for an ISO/IEC 14443-4 type A card from its ATS (without the
/// length byte TL): 3B 8n 80 01, the n historical bytes (what follows T0 and the TA, TB, TC
/// that T0 announces; at most 15), and TCK, the XOR of every byte after 3B.
Bytes atrFromAts(std::span<const std::uint8_t> ats);

/// A type A card in the field, as anticollision and RATS found it.
struct Target {
    Bytes uid;            ///< 4, 7 or 10 bytes (ISO/IEC 14443-3 NFCID1)
    Bytes atqa;           ///< SENS_RES, 2 bytes as received (DESFire: 03 44)
    std::uint8_t sak = 0; ///< SEL_RES (bit 6 set: ISO/IEC 14443-4 compliant)
    Bytes ats;            ///< the ATS without TL; empty for a card without ISO/IEC 14443-4
};

struct ConnectOptions {
    /// The card to connect to; the first one found when absent.
    std::optional<Bytes> uid;
    /// How long one APDU may take, reader and card together, before Timeout.
    std::chrono::milliseconds timeout{3000};
};

namespace detail {
struct ContextHandle;
struct DeviceHandle;
} // namespace detail

/// An open reader (nfc_open; closed with the last copy and the last connection on it). One
/// connection at a time: connecting again selects the card anew.
class NfcDevice {
public:
    /// libnfc's name for the reader, e.g. "pn532_uart:/dev/pts/3".
    std::string name() const;
    /// The connection string it was opened with.
    std::string connstring() const;

    /// The ISO/IEC 14443 type A cards in the field at 106 kbit/s (nfc_initiator_list_passive_
    /// targets). Empty when there is none.
    Result<std::vector<Target>, Fault> listTargets() const;

    /// Selects a card (the one with `options.uid`, or the first) and returns a connection to it;
    /// NoCard if there is none, ProtocolError if it does not speak ISO/IEC 14443-4. The
    /// connection deselects the card when destroyed.
    Result<std::unique_ptr<CardConnection>, Fault> connect(ConnectOptions options = {}) const;

private:
    friend class NfcContext;
    explicit NfcDevice(std::shared_ptr<detail::DeviceHandle> handle);
    std::shared_ptr<detail::DeviceHandle> m_handle;
};

/// libnfc's context (nfc_init, released with nfc_exit after the last copy, device and
/// connection). It reads /etc/nfc/libnfc.conf and the LIBNFC_DEVICE, LIBNFC_DEFAULT_DEVICE,
/// LIBNFC_AUTO_SCAN, LIBNFC_INTRUSIVE_SCAN and LIBNFC_LOG_LEVEL environment variables.
class NfcContext {
public:
    static Result<NfcContext, Fault> init();

    /// Connection strings of the readers libnfc finds: those configured, then those its drivers
    /// discover (nfc_list_devices). Empty when there is none.
    Result<std::vector<std::string>, Fault> listDevices() const;

    /// Opens a reader by connection string ("pn532_uart:/dev/ttyUSB0:115200",
    /// "pn53x_usb:002:004"); an empty string opens libnfc's default (the first it lists).
    /// The reader is put in initiator mode (nfc_initiator_init). NoReader if it cannot be
    /// opened.
    Result<NfcDevice, Fault> open(const std::string& connstring = {}) const;

private:
    explicit NfcContext(std::shared_ptr<detail::ContextHandle> handle);
    std::shared_ptr<detail::ContextHandle> m_handle;
};

/// The card's UID from anticollision, which the reader knows without asking the card (the
/// counterpart of PC/SC's GET DATA FF CA). ProtocolError if `connection` is not a libnfc one.
Result<Bytes, Fault> readUid(const CardConnection& connection);

} // namespace unioncard::card::nfc
