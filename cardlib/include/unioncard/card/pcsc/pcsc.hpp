// SPDX-License-Identifier: Apache-2.0
#pragma once

// The PC/SC adapter: readers and cards through pcsc-lite's winscard API (PC/SC Workgroup
// specification v2.01.09, part 5). This header does not include <winscard.h>: the API's handles
// are kept as integers here and only src/pcsc/pcsc.cpp talks to the library, so nothing above
// cardlib ever sees a SCARD_* constant. Every PC/SC status becomes a typed Fault.

#include <unioncard/card/result.hpp>
#include <unioncard/card/transport.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::card::pcsc {

/// The name pcsc-lite gives the pseudo-reader whose state changes when a reader is plugged in
/// or out (pcsc-lite's SCardGetStatusChange documentation; the same name as Windows').
inline constexpr std::string_view kPnpNotificationReader = "\\\\?PnP?\\Notification";

/// A PC/SC status code (winscard's LONG) as a fault. `during` names the call that returned it,
/// for the message ("SCardConnect: Card was removed. (0x80100069)").
Fault faultFromStatus(long status, std::string_view during);

/// Transmission protocols to accept when connecting (ISO/IEC 7816-3 T=0 and T=1).
enum class Protocol { T0, T1, Any };

namespace detail {
struct ContextHandle;
}

/// An established PC/SC context (SCardEstablishContext, released with the last copy). Cheap to
/// copy: copies share one context, and connections keep it alive.
class PcscContext {
public:
    /// Connects to the smart-card service; ServiceDown if pcscd is not running.
    static Result<PcscContext, Fault> establish();

    /// The names of the readers pcscd knows, in its order; empty when there are none.
    Result<std::vector<std::string>, Fault> listReaders() const;

    /// Connects to the card on `reader` in shared mode. The connection disconnects with
    /// SCARD_LEAVE_CARD when destroyed, answers 61xx with GET RESPONSE and 6Cxx by sending the
    /// command again with the right Le (ISO/IEC 7816-4 §5.3.4 and §5.1.3 case rules).
    Result<std::unique_ptr<CardConnection>, Fault> connect(const std::string& reader,
                                                           Protocol protocol = Protocol::Any) const;

private:
    explicit PcscContext(std::shared_ptr<detail::ContextHandle> handle);
    std::shared_ptr<detail::ContextHandle> m_handle;
};

/// The card's UID through the reader's PC/SC part 3 pseudo-APDU GET DATA (FF CA 00 00 00,
/// PC/SC part 3 v2.02.00 §3.2.2.1.3). CardError with the status word if the reader or card
/// does not support it; ProtocolError for a UID that is not 4, 7 or 10 bytes long.
Result<Bytes, Fault> readUid(CardConnection& connection);

/// The reader a person means: its full PC/SC name, or the start of it ("Verifier" for
/// "Verifier 00 00"). pcsc-lite names each slot "NAME NN SS" (NN: the reader, SS: its slot);
/// of one reader's slots the first is taken. NoReader, listing the readers there are, when none
/// matches; NoReader too when the start matches two readers (two of one model differ in NN).
Result<std::string, Fault> findReader(const PcscContext& context, const std::string& wanted);

/// Something that happened at the readers.
struct ReaderEvent {
    enum class Kind { ReaderAdded, ReaderRemoved, CardInserted, CardRemoved };
    Kind kind;
    std::string reader;
    Bytes atr; ///< the card's ATR for CardInserted, empty otherwise
};

/// What the watcher knows about one reader.
struct ReaderStatus {
    std::string reader;
    bool cardPresent = false;
    Bytes atr;
};

/// Waits for cards to come and go and readers to be plugged in and out, with
/// SCardGetStatusChange on the known readers plus the PnP notification pseudo-reader. No
/// polling: a wait blocks inside pcscd until something changes, the timeout passes or
/// cancel() is called from another thread (SCardCancel). The watcher has its own context,
/// because SCardCancel cancels every blocking call on a context.
class ReaderWatcher {
public:
    /// Starts watching; the readers and cards present now are the starting point, not events.
    static Result<std::unique_ptr<ReaderWatcher>, Fault> create();
    ~ReaderWatcher();
    ReaderWatcher(const ReaderWatcher&) = delete;
    ReaderWatcher& operator=(const ReaderWatcher&) = delete;

    /// Blocks until at least one event happens and returns the events, in the order seen.
    /// Returns an empty list when the timeout passes first (nullopt waits without limit), and
    /// the Cancelled fault when cancel() interrupted it. Call from one thread at a time.
    Result<std::vector<ReaderEvent>, Fault>
    wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    /// Interrupts a wait() running on another thread and returns once it has stopped; safe from
    /// any thread. A cancel that arrives while no wait() runs makes the next wait() return
    /// Cancelled at once.
    void cancel();

    /// The readers as of the last wait() (or create()).
    std::vector<ReaderStatus> readers() const;

private:
    struct Impl;
    explicit ReaderWatcher(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace unioncard::card::pcsc
