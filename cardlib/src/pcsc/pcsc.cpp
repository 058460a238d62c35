// SPDX-License-Identifier: Apache-2.0
// The only file in the project that includes <winscard.h> (docs/architecture.md, "The hardware
// seam"). PC/SC status codes are translated to FaultCode here with one switch.

#include <unioncard/card/pcsc/pcsc.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <winscard.h>

namespace unioncard::card::pcsc {

static_assert(sizeof(LONG) == sizeof(long), "pcsc-lite's LONG is long on this platform");

namespace {

FaultCode codeFor(LONG status) {
    switch (status) {
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
    case SCARD_F_COMM_ERROR: // the socket to pcscd broke mid-call
        return FaultCode::ServiceDown;
    case SCARD_E_NO_READERS_AVAILABLE:
    case SCARD_E_UNKNOWN_READER:
        return FaultCode::NoReader;
    case SCARD_E_READER_UNAVAILABLE:
        return FaultCode::ReaderRemoved;
    case SCARD_E_NO_SMARTCARD:
        return FaultCode::NoCard;
    case SCARD_W_REMOVED_CARD:
        return FaultCode::CardRemoved;
    case SCARD_W_UNPOWERED_CARD:
    case SCARD_W_UNRESPONSIVE_CARD:
    case SCARD_W_RESET_CARD:
    case SCARD_E_NOT_TRANSACTED:
        return FaultCode::CardUnpowered;
    case SCARD_E_SHARING_VIOLATION:
    case SCARD_E_SERVER_TOO_BUSY:
        return FaultCode::ReaderBusy;
    case SCARD_E_TIMEOUT:
    case SCARD_F_WAITED_TOO_LONG:
        return FaultCode::Timeout;
    case SCARD_E_CANCELLED:
    case SCARD_E_SYSTEM_CANCELLED:
    case SCARD_W_CANCELLED_BY_USER:
        return FaultCode::Cancelled;
    case SCARD_E_PROTO_MISMATCH:
    case SCARD_E_INVALID_ATR:
    case SCARD_W_UNSUPPORTED_CARD:
    case SCARD_E_CARD_UNSUPPORTED:
    case SCARD_E_COMM_DATA_LOST:
        return FaultCode::ProtocolError;
    default:
        return FaultCode::Unknown;
    }
}

Result<Bytes, Fault> statusWordFault(const Bytes& response) {
    return fail(
        Fault{FaultCode::CardError, fmt::format("the card answered {:02X} {:02X}",
                                                response[response.size() - 2], response.back())});
}

} // namespace

Fault faultFromStatus(long status, std::string_view during) {
    const auto code = static_cast<LONG>(status);
    return Fault{codeFor(code), fmt::format("{}: {} (0x{:08X})", during, pcsc_stringify_error(code),
                                            static_cast<std::uint32_t>(code))};
}

namespace detail {
struct ContextHandle {
    SCARDCONTEXT context = 0;
    ~ContextHandle() { SCardReleaseContext(context); }
};
} // namespace detail

namespace {

Result<std::shared_ptr<detail::ContextHandle>, Fault> establishHandle() {
    SCARDCONTEXT context = 0;
    const LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &context);
    if (rv != SCARD_S_SUCCESS) {
        return fail(faultFromStatus(rv, "SCardEstablishContext"));
    }
    auto handle = std::make_shared<detail::ContextHandle>();
    handle->context = context;
    return handle;
}

Result<std::vector<std::string>, Fault> listReaderNames(SCARDCONTEXT context) {
    // pcsc-lite allocates the multi-string (SCARD_AUTOALLOCATE), so a reader plugged in between
    // a size query and the real call cannot make the buffer too small.
    LPSTR names = nullptr;
    DWORD length = SCARD_AUTOALLOCATE;
    const LONG rv = SCardListReaders(context, nullptr, reinterpret_cast<LPSTR>(&names), &length);
    if (rv == SCARD_E_NO_READERS_AVAILABLE) {
        return std::vector<std::string>{};
    }
    if (rv != SCARD_S_SUCCESS) {
        return fail(faultFromStatus(rv, "SCardListReaders"));
    }
    std::vector<std::string> readers;
    for (const char* p = names; p < names + length && *p != '\0';
         p += std::string_view(p).size() + 1) {
        readers.emplace_back(p);
    }
    SCardFreeMemory(context, names);
    return readers;
}

class PcscConnection final : public CardConnection {
public:
    PcscConnection(std::shared_ptr<detail::ContextHandle> context, SCARDHANDLE card, DWORD protocol,
                   Bytes atr)
        : m_context(std::move(context)), m_card(card), m_protocol(protocol), m_atr(std::move(atr)) {
    }
    ~PcscConnection() override { SCardDisconnect(m_card, SCARD_LEAVE_CARD); }
    PcscConnection(const PcscConnection&) = delete;
    PcscConnection& operator=(const PcscConnection&) = delete;

    Result<Bytes, Fault> transmit(std::span<const std::uint8_t> command) override {
        auto first = transmitOnce(command);
        if (!first) {
            return first;
        }
        Bytes response = std::move(first).value();

        // 6Cxx: wrong Le; send the same command again with Le = xx (ISO/IEC 7816-4 §5.1.3).
        // T=0 readers do this themselves; some T=1 cards still answer 6Cxx.
        if (response.size() == 2 && response[0] == 0x6C && command.size() >= 4) {
            Bytes again(command.begin(), command.end());
            if (again.size() == 4 || (again.size() > 5 && again.size() == 5u + again[4])) {
                again.push_back(response[1]); // case 1 or case 3: add Le
            } else {
                again.back() = response[1]; // case 2 or case 4 short: replace Le
            }
            auto retried = transmitOnce(again);
            if (!retried) {
                return retried;
            }
            response = std::move(retried).value();
        }

        // 61xx: more data waiting; fetch it with GET RESPONSE (ISO/IEC 7816-4 §7.6.1), on the
        // command's logical channel (CLA bits 1-2, §5.4.1). The loop is bounded so that a card
        // that always answers 61xx cannot hang the station.
        Bytes data;
        for (int round = 0; response.size() >= 2 && response[response.size() - 2] == 0x61;
             ++round) {
            if (round == 256) {
                return fail(Fault{FaultCode::ProtocolError,
                                  "the card kept answering 61xx to GET RESPONSE"});
            }
            data.insert(data.end(), response.begin(), response.end() - 2);
            const std::uint8_t cla =
                (!command.empty() && (command[0] & 0x80) == 0) ? (command[0] & 0x03) : 0x00;
            const std::uint8_t getResponse[] = {cla, 0xC0, 0x00, 0x00, response.back()};
            auto next = transmitOnce(getResponse);
            if (!next) {
                return next;
            }
            response = std::move(next).value();
        }
        if (!data.empty()) {
            data.insert(data.end(), response.begin(), response.end());
            return data;
        }
        return response;
    }

    Bytes atr() const override { return m_atr; }

    // While this handle holds the transaction, pcscd refuses other handles' commands to the
    // card with SCARD_E_SHARING_VIOLATION (pcsc-lite readerfactory.c, RFCheckSharing).
    std::optional<Fault> hold() override {
        const LONG rv = SCardBeginTransaction(m_card);
        if (rv != SCARD_S_SUCCESS) {
            return refine(rv, "SCardBeginTransaction");
        }
        return std::nullopt;
    }
    void release() override { SCardEndTransaction(m_card, SCARD_LEAVE_CARD); }

private:
    Result<Bytes, Fault> transmitOnce(std::span<const std::uint8_t> command) {
        // Extended APDUs: up to 65536 bytes of data plus SW1 SW2 (ISO/IEC 7816-4 §5.1).
        Bytes response(MAX_BUFFER_SIZE_EXTENDED);
        DWORD length = static_cast<DWORD>(response.size());
        const SCARD_IO_REQUEST* pci = m_protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
        const LONG rv =
            SCardTransmit(m_card, pci, command.data(), static_cast<DWORD>(command.size()), nullptr,
                          response.data(), &length);
        if (rv != SCARD_S_SUCCESS) {
            return fail(refine(rv, "SCardTransmit"));
        }
        if (length < 2) {
            return fail(Fault{
                FaultCode::ProtocolError,
                fmt::format("the card answered {} byte(s), less than a status word", length)});
        }
        response.resize(length);
        return response;
    }

    // A card pulled during an APDU often shows as "transaction failed" (the driver's I/O
    // failed before pcscd's event thread saw the card go). Ask SCardStatus what the reader
    // sees now, so that the caller gets CardRemoved rather than a vague failure.
    Fault refine(LONG rv, std::string_view during) {
        if (codeFor(rv) != FaultCode::CardUnpowered && codeFor(rv) != FaultCode::Unknown) {
            return faultFromStatus(rv, during);
        }
        DWORD state = 0;
        DWORD protocol = 0;
        DWORD atrLength = 0;
        DWORD nameLength = 0;
        const LONG status =
            SCardStatus(m_card, nullptr, &nameLength, &state, &protocol, nullptr, &atrLength);
        if (status == SCARD_W_REMOVED_CARD || status == SCARD_E_NO_SMARTCARD ||
            status == SCARD_E_READER_UNAVAILABLE || status == SCARD_E_NO_SERVICE) {
            auto fault = faultFromStatus(status, during);
            fault.message += fmt::format(" (the transmit itself failed with 0x{:08X})",
                                         static_cast<std::uint32_t>(rv));
            return fault;
        }
        if (status == SCARD_S_SUCCESS && (state & SCARD_ABSENT) != 0) {
            return faultFromStatus(SCARD_W_REMOVED_CARD, during);
        }
        return faultFromStatus(rv, during);
    }

    std::shared_ptr<detail::ContextHandle> m_context;
    SCARDHANDLE m_card;
    DWORD m_protocol;
    Bytes m_atr;
};

} // namespace

PcscContext::PcscContext(std::shared_ptr<detail::ContextHandle> handle)
    : m_handle(std::move(handle)) {}

Result<PcscContext, Fault> PcscContext::establish() {
    auto handle = establishHandle();
    if (!handle) {
        return fail(handle.error());
    }
    return PcscContext(std::move(handle).value());
}

Result<std::vector<std::string>, Fault> PcscContext::listReaders() const {
    return listReaderNames(m_handle->context);
}

Result<std::unique_ptr<CardConnection>, Fault> PcscContext::connect(const std::string& reader,
                                                                    Protocol protocol) const {
    DWORD preferred = SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;
    if (protocol == Protocol::T0) {
        preferred = SCARD_PROTOCOL_T0;
    } else if (protocol == Protocol::T1) {
        preferred = SCARD_PROTOCOL_T1;
    }
    SCARDHANDLE card = 0;
    DWORD active = 0;
    LONG rv = SCardConnect(m_handle->context, reader.c_str(), SCARD_SHARE_SHARED, preferred, &card,
                           &active);
    if (rv != SCARD_S_SUCCESS) {
        auto fault = faultFromStatus(rv, "SCardConnect");
        fault.message += fmt::format(" [reader \"{}\"]", reader);
        return fail(std::move(fault));
    }
    Bytes atr(MAX_ATR_SIZE);
    DWORD atrLength = static_cast<DWORD>(atr.size());
    DWORD state = 0;
    DWORD nameLength = 0;
    rv = SCardStatus(card, nullptr, &nameLength, &state, &active, atr.data(), &atrLength);
    if (rv != SCARD_S_SUCCESS) {
        SCardDisconnect(card, SCARD_LEAVE_CARD);
        return fail(faultFromStatus(rv, "SCardStatus"));
    }
    atr.resize(atrLength);
    return std::unique_ptr<CardConnection>(
        std::make_unique<PcscConnection>(m_handle, card, active, std::move(atr)));
}

Result<Bytes, Fault> readUid(CardConnection& connection) {
    // PC/SC part 3 v2.02.00 §3.2.2.1.3: GET DATA, P1 = 00 (UID), Le = 00 (all of it).
    static constexpr std::uint8_t kGetUid[] = {0xFF, 0xCA, 0x00, 0x00, 0x00};
    auto response = connection.transmit(kGetUid);
    if (!response) {
        return response;
    }
    const Bytes& r = response.value();
    if (r[r.size() - 2] != 0x90 || r.back() != 0x00) {
        return statusWordFault(r);
    }
    if (r.size() == 2) {
        return fail(Fault{FaultCode::ProtocolError, "GET DATA answered 90 00 with no UID"});
    }
    // ISO/IEC 14443-3 §6.5.4: a UID is single (4 bytes), double (7) or triple (10) size.
    const std::size_t length = r.size() - 2;
    if (length != 4 && length != 7 && length != 10) {
        return fail(
            Fault{FaultCode::ProtocolError, "GET DATA answered a UID of " + std::to_string(length) +
                                                " bytes; an ISO/IEC 14443 UID has 4, 7 or 10"});
    }
    return Bytes(r.begin(), r.end() - 2);
}

// ---------------------------------------------------------------------------------------------

struct ReaderWatcher::Impl {
    std::shared_ptr<detail::ContextHandle> context;
    struct Known {
        std::string name;
        DWORD state = SCARD_STATE_UNAWARE;
        Bytes atr;
    };
    std::vector<Known> known; // guarded by being used from the waiting thread only
    mutable std::mutex mutex;
    std::condition_variable stopped;
    bool waiting = false;
    bool cancelRequested = false;
    std::vector<ReaderStatus> snapshot; // guarded by mutex

    static bool present(DWORD state) { return (state & SCARD_STATE_PRESENT) != 0; }

    // Re-lists the readers and reports the ones that came and went since the last look.
    Result<bool, Fault> syncReaderList(std::vector<ReaderEvent>& events) {
        auto names = listReaderNames(context->context);
        if (!names) {
            return fail(names.error());
        }
        const std::set<std::string> now(names->begin(), names->end());
        for (auto it = known.begin(); it != known.end();) {
            if (now.count(it->name) == 0) {
                if (present(it->state)) {
                    events.push_back({ReaderEvent::Kind::CardRemoved, it->name, {}});
                }
                events.push_back({ReaderEvent::Kind::ReaderRemoved, it->name, {}});
                it = known.erase(it);
            } else {
                ++it;
            }
        }
        for (const auto& name : *names) {
            const bool isKnown = std::any_of(known.begin(), known.end(),
                                             [&](const Known& k) { return k.name == name; });
            if (!isKnown) {
                events.push_back({ReaderEvent::Kind::ReaderAdded, name, {}});
                known.push_back({name, SCARD_STATE_UNAWARE, {}});
            }
        }
        return true;
    }

    // One SCardGetStatusChange over the known readers and the PnP pseudo-reader.
    Result<bool, Fault> waitOnce(DWORD timeoutMs, std::vector<ReaderEvent>& events) {
        std::vector<SCARD_READERSTATE> states(known.size() + 1);
        for (std::size_t i = 0; i < known.size(); ++i) {
            states[i].szReader = known[i].name.c_str();
            states[i].dwCurrentState = known[i].state;
        }
        const std::string pnp(kPnpNotificationReader);
        states.back().szReader = pnp.c_str();
        states.back().dwCurrentState = SCARD_STATE_UNAWARE;
        // pcsc-lite 1.9.9 signals the PnP pseudo-reader when the number of readers changes
        // during the call, whatever its current state, so it is always passed as UNAWARE.
        // (Known readers are never UNAWARE here: settleUnaware() ran after they were listed.)
        const LONG rv = SCardGetStatusChange(context->context, timeoutMs, states.data(),
                                             static_cast<DWORD>(states.size()));
        if (rv == SCARD_E_TIMEOUT) {
            return false;
        }
        if (rv != SCARD_S_SUCCESS) {
            return fail(faultFromStatus(rv, "SCardGetStatusChange"));
        }
        bool listChanged = (states.back().dwEventState & SCARD_STATE_CHANGED) != 0;
        for (std::size_t i = 0; i < known.size(); ++i) {
            const DWORD event = states[i].dwEventState;
            if ((event & SCARD_STATE_CHANGED) == 0) {
                continue;
            }
            if ((event & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE)) != 0) {
                listChanged = true; // the reader went away; the re-listing reports it
                continue;
            }
            const bool was = present(known[i].state);
            const bool is = present(event);
            Bytes atr(states[i].rgbAtr,
                      states[i].rgbAtr + std::min<DWORD>(states[i].cbAtr, MAX_ATR_SIZE));
            // pcsc-lite keeps a per-reader count of card insertions and removals in the high
            // word: a card swapped between two looks is present both times with a new count.
            const bool swapped = was && is && (known[i].state >> 16) != (event >> 16);
            if (was && (!is || swapped)) {
                events.push_back({ReaderEvent::Kind::CardRemoved, known[i].name, {}});
            }
            if (is && (!was || swapped)) {
                events.push_back({ReaderEvent::Kind::CardInserted, known[i].name, atr});
            }
            known[i].state = event & ~SCARD_STATE_CHANGED;
            known[i].atr = is ? atr : Bytes{};
        }
        if (listChanged) {
            auto synced = syncReaderList(events);
            if (!synced) {
                return fail(synced.error());
            }
        }
        return true;
    }

    // Reads the current state of newly listed readers without blocking; a card already on one
    // is reported as inserted, unless `events` is null (the starting point).
    Result<bool, Fault> settleUnaware(std::vector<ReaderEvent>* events) {
        std::vector<SCARD_READERSTATE> states;
        std::vector<std::size_t> index;
        for (std::size_t i = 0; i < known.size(); ++i) {
            if (known[i].state == SCARD_STATE_UNAWARE) {
                SCARD_READERSTATE s{};
                s.szReader = known[i].name.c_str();
                s.dwCurrentState = SCARD_STATE_UNAWARE;
                states.push_back(s);
                index.push_back(i);
            }
        }
        if (states.empty()) {
            return true;
        }
        const LONG rv = SCardGetStatusChange(context->context, 0, states.data(),
                                             static_cast<DWORD>(states.size()));
        if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
            return fail(faultFromStatus(rv, "SCardGetStatusChange"));
        }
        for (std::size_t j = 0; j < states.size(); ++j) {
            auto& k = known[index[j]];
            k.state = states[j].dwEventState & ~SCARD_STATE_CHANGED;
            if (present(k.state)) {
                k.atr.assign(states[j].rgbAtr,
                             states[j].rgbAtr + std::min<DWORD>(states[j].cbAtr, MAX_ATR_SIZE));
                if (events != nullptr) { // a reader plugged in with a card already on it
                    events->push_back({ReaderEvent::Kind::CardInserted, k.name, k.atr});
                }
            }
        }
        return true;
    }

    void publish() {
        std::vector<ReaderStatus> now;
        for (const auto& k : known) {
            now.push_back({k.name, present(k.state), k.atr});
        }
        std::lock_guard lock(mutex);
        snapshot = std::move(now);
    }
};

ReaderWatcher::ReaderWatcher(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ReaderWatcher::~ReaderWatcher() = default;

Result<std::unique_ptr<ReaderWatcher>, Fault> ReaderWatcher::create() {
    auto context = establishHandle();
    if (!context) {
        return fail(context.error());
    }
    auto impl = std::make_unique<Impl>();
    impl->context = std::move(context).value();
    std::vector<ReaderEvent> ignored; // what is there at the start is the baseline
    if (auto synced = impl->syncReaderList(ignored); !synced) {
        return fail(synced.error());
    }
    if (auto settled = impl->settleUnaware(nullptr); !settled) {
        return fail(settled.error());
    }
    impl->publish();
    return std::unique_ptr<ReaderWatcher>(new ReaderWatcher(std::move(impl)));
}

Result<std::vector<ReaderEvent>, Fault>
ReaderWatcher::wait(std::optional<std::chrono::milliseconds> timeout) {
    Impl& d = *m_impl;
    {
        std::lock_guard lock(d.mutex);
        if (d.cancelRequested) {
            d.cancelRequested = false;
            return fail(Fault{FaultCode::Cancelled, "the wait for readers was cancelled"});
        }
        d.waiting = true;
    }
    auto finish = [&d](Result<std::vector<ReaderEvent>, Fault> result)
        -> Result<std::vector<ReaderEvent>, Fault> {
        d.publish();
        std::lock_guard lock(d.mutex);
        d.waiting = false;
        if (d.cancelRequested) {
            d.cancelRequested = false;
            result = fail(Fault{FaultCode::Cancelled, "the wait for readers was cancelled"});
        }
        d.stopped.notify_all();
        return result;
    };

    const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                  : std::chrono::steady_clock::time_point::max();
    std::vector<ReaderEvent> events;
    // A reader may have come or gone since the last look, before pcsc-lite counted readers
    // for the PnP pseudo-reader in this call; look first.
    if (auto synced = d.syncReaderList(events); !synced) {
        return finish(fail(synced.error()));
    }
    while (events.empty()) {
        DWORD ms = INFINITE;
        if (timeout) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                break;
            }
            ms = static_cast<DWORD>(left.count());
        }
        auto changed = d.waitOnce(ms, events);
        if (!changed) {
            return finish(fail(changed.error()));
        }
        if (!*changed) {
            break; // timed out
        }
        {
            std::lock_guard lock(d.mutex);
            if (d.cancelRequested) {
                break;
            }
        }
    }
    if (auto settled = d.settleUnaware(&events); !settled) {
        return finish(fail(settled.error()));
    }
    return finish(std::move(events));
}

void ReaderWatcher::cancel() {
    Impl& d = *m_impl;
    std::unique_lock lock(d.mutex);
    d.cancelRequested = true;
    // SCardCancel only interrupts a call that is already blocking in pcscd; a wait() that is
    // between two calls misses it, so repeat until the wait has returned.
    while (d.waiting) {
        lock.unlock();
        SCardCancel(d.context->context);
        lock.lock();
        d.stopped.wait_for(lock, std::chrono::milliseconds(20), [&d] { return !d.waiting; });
    }
}

std::vector<ReaderStatus> ReaderWatcher::readers() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->snapshot;
}

Result<std::string, Fault> findReader(const PcscContext& context, const std::string& wanted) {
    auto readers = context.listReaders();
    if (!readers) {
        return fail(readers.error());
    }
    // "NAME NN SS": the reader without its slot number (two readers of one model differ in NN).
    auto base = [](const std::string& r) {
        return r.size() > 3 ? r.substr(0, r.size() - 3) : r;
    };
    std::string found;
    for (const auto& r : readers.value()) {
        if (r == wanted) {
            return r;
        }
        if (r.rfind(wanted, 0) == 0) {
            if (found.empty()) {
                found = r;
            } else if (base(found) != base(r)) {
                return fail(Fault{FaultCode::NoReader,
                                  fmt::format("\"{}\" could be \"{}\" or \"{}\": name the "
                                              "reader in full",
                                              wanted, found, r)});
            }
        }
    }
    if (found.empty()) {
        std::string known;
        for (const auto& r : readers.value()) {
            known += fmt::format("{}\"{}\"", known.empty() ? "" : ", ", r);
        }
        return fail(
            Fault{FaultCode::NoReader, fmt::format("no reader is called \"{}\" (readers: {})",
                                                   wanted, known.empty() ? "none" : known)});
    }
    return found;
}

} // namespace unioncard::card::pcsc
