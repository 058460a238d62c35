// SPDX-License-Identifier: Apache-2.0
#pragma once

// Where taps come from: a PC/SC reader watched for card events, or simulated cards put "on the
// reader" by a test or the training screen. Either runs on the controller's worker thread.

#include <unioncard/card/keys.hpp>
#include <unioncard/card/transport.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

namespace unioncard::sim {
class VirtualCard;
}

namespace unioncard::verifier::ui {

/// One card on the reader, for as long as the callback runs.
struct Tap {
    card::CardConnection& connection;
    std::optional<card::Bytes> uid; ///< from the reader, when it could tell
    std::size_t readerExchanges = 0;
};

class TapSource {
public:
    using OnTap = std::function<void(Tap&)>;
    /// A fault in words ("the reader was unplugged"), or empty once it works again.
    using OnProblem = std::function<void(const std::string&)>;

    virtual ~TapSource() = default;
    /// Blocks, calling onTap for each card tapped, until `stop` is requested.
    virtual void run(std::stop_token stop, const OnTap& onTap, const OnProblem& onProblem) = 0;
    /// Wakes run() up after a stop request (a blocking wait on the reader).
    virtual void interrupt() {}
};

/// A PC/SC reader (by its name or the start of it), watched with SCardGetStatusChange.
std::unique_ptr<TapSource> makePcscTapSource(std::string reader);

/// Cards presented by code: present() puts a card on the reader for one tap. The card must
/// outlive the tap; present() may be called from any thread.
class SimulatedTapSource final : public TapSource {
public:
    void present(sim::VirtualCard& card);
    void run(std::stop_token stop, const OnTap& onTap, const OnProblem& onProblem) override;
    void interrupt() override;

private:
    std::mutex m_mutex;
    std::condition_variable_any m_ready;
    std::deque<sim::VirtualCard*> m_queue;
};

} // namespace unioncard::verifier::ui
