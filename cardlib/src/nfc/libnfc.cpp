// SPDX-License-Identifier: Apache-2.0
// The only file in the project that includes <nfc/nfc.h> (docs/architecture.md, "The hardware
// seam"). libnfc's error codes (nfc.h, NFC_E*) are translated to FaultCode here with one switch.

#include <unioncard/card/nfc/libnfc.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nfc/nfc.h>

namespace unioncard::card::nfc {

namespace {

FaultCode codeFor(int error) {
    switch (error) {
    case NFC_ENOTSUCHDEV: // the device named does not exist (or no longer)
        return FaultCode::NoReader;
    case NFC_EIO: // the serial line or USB transfer failed: most often the reader went away
        return FaultCode::ReaderRemoved;
    case NFC_ETIMEOUT: // the reader did not answer in time
        return FaultCode::Timeout;
    case NFC_EOPABORTED: // nfc_abort_command
        return FaultCode::Cancelled;
    case NFC_ERFTRANS:    // the card did not answer over the air, or answered garbled
    case NFC_ETGRELEASED: // the chip lost the card (PN53x status 29, 2B)
        return FaultCode::CardRemoved;
    case NFC_EOVFLOW: // the card answered more than an APDU can hold
        return FaultCode::ProtocolError;
    case NFC_EMFCAUTHFAIL: // a MIFARE Classic authentication failed: the card refused
        return FaultCode::CardError;
    case NFC_EINVARG:     // the reader refused a parameter
    case NFC_EDEVNOTSUPP: // the reader cannot do this
    case NFC_ENOTIMPL:
    case NFC_ESOFT:
    case NFC_ECHIP: // the reader chip reported an internal error
    default:
        return FaultCode::Unknown;
    }
}

const char* errorName(int error) {
    switch (error) {
    case NFC_EIO:
        return "NFC_EIO";
    case NFC_EINVARG:
        return "NFC_EINVARG";
    case NFC_EDEVNOTSUPP:
        return "NFC_EDEVNOTSUPP";
    case NFC_ENOTSUCHDEV:
        return "NFC_ENOTSUCHDEV";
    case NFC_EOVFLOW:
        return "NFC_EOVFLOW";
    case NFC_ETIMEOUT:
        return "NFC_ETIMEOUT";
    case NFC_EOPABORTED:
        return "NFC_EOPABORTED";
    case NFC_ENOTIMPL:
        return "NFC_ENOTIMPL";
    case NFC_ETGRELEASED:
        return "NFC_ETGRELEASED";
    case NFC_ERFTRANS:
        return "NFC_ERFTRANS";
    case NFC_EMFCAUTHFAIL:
        return "NFC_EMFCAUTHFAIL";
    case NFC_ESOFT:
        return "NFC_ESOFT";
    case NFC_ECHIP:
        return "NFC_ECHIP";
    default:
        return "libnfc error";
    }
}

constexpr nfc_modulation kTypeA106{NMT_ISO14443A, NBR_106};

Target targetFrom(const nfc_iso14443a_info& info) {
    Target t;
    // libnfc packs this struct (#pragma pack(1)): read its size_t fields by value, never bind
    // a reference to them (misaligned).
    const std::size_t uidField = info.szUidLen;
    const std::size_t atsField = info.szAtsLen;
    const std::size_t uidLength = std::min(uidField, sizeof info.abtUid);
    const std::size_t atsLength = std::min(atsField, sizeof info.abtAts);
    t.uid.assign(info.abtUid, info.abtUid + uidLength);
    t.atqa.assign(info.abtAtqa, info.abtAtqa + 2);
    t.sak = info.btSak;
    t.ats.assign(info.abtAts, info.abtAts + atsLength);
    return t;
}

} // namespace

Fault faultFromError(int error, std::string_view during, std::string_view detail) {
    return Fault{codeFor(error),
                 fmt::format("{}: {} ({}, {})", during, detail.empty() ? "failed" : detail,
                             errorName(error), error)};
}

Bytes atrFromAts(std::span<const std::uint8_t> ats) {
    // ISO/IEC 14443-4 §5.2: T0 (format byte: bits 5-7 announce TA, TB, TC), then those, then
    // the historical bytes.
    std::span<const std::uint8_t> historical;
    if (!ats.empty()) {
        const std::uint8_t t0 = ats[0];
        std::size_t skip = 1;
        for (std::uint8_t bit : {0x10, 0x20, 0x40}) {
            if ((t0 & bit) != 0) {
                ++skip;
            }
        }
        if (skip < ats.size()) {
            historical = ats.subspan(skip);
        }
    }
    historical = historical.first(std::min<std::size_t>(historical.size(), 15));
    // Built byte by byte: g++ 12 at -O3 warns (-Warray-bounds, a false positive) on
    // vector::insert after a four-byte initializer list.
    Bytes atr;
    atr.reserve(5 + historical.size());
    for (std::uint8_t b : {std::uint8_t{0x3B}, static_cast<std::uint8_t>(0x80 | historical.size()),
                           std::uint8_t{0x80}, std::uint8_t{0x01}}) {
        atr.push_back(b);
    }
    for (std::uint8_t b : historical) {
        atr.push_back(b);
    }
    std::uint8_t tck = 0;
    for (std::size_t i = 1; i < atr.size(); ++i) {
        tck ^= atr[i];
    }
    atr.push_back(tck);
    return atr;
}

namespace detail {
struct ContextHandle {
    nfc_context* context = nullptr;
    ~ContextHandle() {
        if (context != nullptr) {
            nfc_exit(context);
        }
    }
};

struct DeviceHandle {
    std::shared_ptr<ContextHandle> context; // nfc_exit only after nfc_close
    nfc_device* device = nullptr;
    ~DeviceHandle() {
        if (device != nullptr) {
            nfc_close(device);
        }
    }

    Fault lastFault(int result, std::string_view during) const {
        return faultFromError(result, during, nfc_strerror(device));
    }
};
} // namespace detail

namespace {

class NfcConnection final : public CardConnection {
public:
    NfcConnection(std::shared_ptr<detail::DeviceHandle> device, Target target,
                  std::chrono::milliseconds timeout)
        : m_device(std::move(device)), m_target(std::move(target)), m_atr(atrFromAts(m_target.ats)),
          m_timeout(static_cast<int>(
              std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 1, 600000))) {}
    ~NfcConnection() override { nfc_initiator_deselect_target(m_device->device); }
    NfcConnection(const NfcConnection&) = delete;
    NfcConnection& operator=(const NfcConnection&) = delete;

    Result<Bytes, Fault> transmit(std::span<const std::uint8_t> command) override {
        // Short and extended APDUs fit (ISO/IEC 7816-4 §5.1); the PN53x itself takes up to 262
        // bytes a frame, which is more than any DESFire command or answer.
        Bytes response(65536 + 2);
        const int n =
            nfc_initiator_transceive_bytes(m_device->device, command.data(), command.size(),
                                           response.data(), response.size(), m_timeout);
        if (n < 0) {
            return fail(m_device->lastFault(n, "nfc_initiator_transceive_bytes"));
        }
        if (n < 2) {
            return fail(
                Fault{FaultCode::ProtocolError,
                      fmt::format("the card answered {} byte(s), less than a status word", n)});
        }
        response.resize(static_cast<std::size_t>(n));
        return response;
    }

    Bytes atr() const override { return m_atr; }
    const Bytes& uid() const { return m_target.uid; }

private:
    std::shared_ptr<detail::DeviceHandle> m_device;
    Target m_target;
    Bytes m_atr;
    int m_timeout;
};

} // namespace

// ---------------------------------------------------------------------------------- device

NfcDevice::NfcDevice(std::shared_ptr<detail::DeviceHandle> handle) : m_handle(std::move(handle)) {}

std::string NfcDevice::name() const {
    return nfc_device_get_name(m_handle->device);
}

std::string NfcDevice::connstring() const {
    return nfc_device_get_connstring(m_handle->device);
}

Result<std::vector<Target>, Fault> NfcDevice::listTargets() const {
    std::array<nfc_target, 8> found{};
    const int n =
        nfc_initiator_list_passive_targets(m_handle->device, kTypeA106, found.data(), found.size());
    if (n < 0) {
        return fail(m_handle->lastFault(n, "nfc_initiator_list_passive_targets"));
    }
    std::vector<Target> targets;
    for (int i = 0; i < n; ++i) {
        targets.push_back(targetFrom(found[static_cast<std::size_t>(i)].nti.nai));
    }
    return targets;
}

Result<std::unique_ptr<CardConnection>, Fault> NfcDevice::connect(ConnectOptions options) const {
    nfc_device* device = m_handle->device;
    // The chip does ISO/IEC 14443-4 (RATS, I-blocks, chaining, WTX) and the frames carry whole
    // APDUs; one attempt to find the card, not libnfc's default of waiting forever.
    struct Setting {
        nfc_property property;
        bool value;
        const char* name;
    };
    for (const Setting& s : {Setting{NP_AUTO_ISO14443_4, true, "NP_AUTO_ISO14443_4"},
                             Setting{NP_EASY_FRAMING, true, "NP_EASY_FRAMING"},
                             Setting{NP_INFINITE_SELECT, false, "NP_INFINITE_SELECT"}}) {
        const int rv = nfc_device_set_property_bool(device, s.property, s.value);
        if (rv < 0) {
            return fail(m_handle->lastFault(rv, fmt::format("setting {}", s.name)));
        }
    }
    nfc_target target{};
    const Bytes& uid = options.uid ? *options.uid : Bytes{};
    const int n = nfc_initiator_select_passive_target(
        device, kTypeA106, uid.empty() ? nullptr : uid.data(), uid.size(), &target);
    if (n < 0) {
        return fail(m_handle->lastFault(n, "nfc_initiator_select_passive_target"));
    }
    if (n == 0) {
        return fail(Fault{FaultCode::NoCard, options.uid ? "that card is not on the reader"
                                                         : "no card on the reader"});
    }
    Target t = targetFrom(target.nti.nai);
    if (t.ats.empty() || (t.sak & 0x20) == 0) {
        nfc_initiator_deselect_target(device);
        return fail(
            Fault{FaultCode::ProtocolError,
                  fmt::format("the card (SAK {:02X}) does not speak ISO/IEC 14443-4", t.sak)});
    }
    return std::unique_ptr<CardConnection>(
        std::make_unique<NfcConnection>(m_handle, std::move(t), options.timeout));
}

// --------------------------------------------------------------------------------- context

NfcContext::NfcContext(std::shared_ptr<detail::ContextHandle> handle)
    : m_handle(std::move(handle)) {}

Result<NfcContext, Fault> NfcContext::init() {
    auto handle = std::make_shared<detail::ContextHandle>();
    nfc_init(&handle->context);
    if (handle->context == nullptr) {
        return fail(Fault{FaultCode::Unknown, "nfc_init: libnfc could not start (out of memory)"});
    }
    return NfcContext(std::move(handle));
}

Result<std::vector<std::string>, Fault> NfcContext::listDevices() const {
    std::array<nfc_connstring, 16> found{};
    const std::size_t n = nfc_list_devices(m_handle->context, found.data(), found.size());
    std::vector<std::string> devices;
    for (std::size_t i = 0; i < n && i < found.size(); ++i) {
        devices.emplace_back(found[i]);
    }
    return devices;
}

Result<NfcDevice, Fault> NfcContext::open(const std::string& connstring) const {
    if (connstring.size() >= NFC_BUFSIZE_CONNSTRING) {
        return fail(Fault{FaultCode::NoReader, "the reader's connection string is too long"});
    }
    nfc_device* device =
        nfc_open(m_handle->context, connstring.empty() ? nullptr : connstring.c_str());
    if (device == nullptr) {
        return fail(
            Fault{FaultCode::NoReader,
                  connstring.empty()
                      ? std::string("nfc_open: libnfc found no reader")
                      : fmt::format("nfc_open: cannot open the reader \"{}\"", connstring)});
    }
    auto handle = std::make_shared<detail::DeviceHandle>();
    handle->context = m_handle;
    handle->device = device;
    const int rv = nfc_initiator_init(device);
    if (rv < 0) {
        return fail(handle->lastFault(rv, "nfc_initiator_init"));
    }
    return NfcDevice(std::move(handle));
}

Result<Bytes, Fault> readUid(const CardConnection& connection) {
    if (const auto* nfc = dynamic_cast<const NfcConnection*>(&connection)) {
        return nfc->uid();
    }
    return fail(Fault{FaultCode::ProtocolError, "not a connection through the libnfc adapter"});
}

} // namespace unioncard::card::nfc
