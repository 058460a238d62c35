// SPDX-License-Identifier: Apache-2.0
#include "tap_source.hpp"

#include <unioncard/card/pcsc/pcsc.hpp>
#include <unioncard/sim/in_process_connection.hpp>
#include <unioncard/sim/virtual_card.hpp>

#include <chrono>
#include <thread>

namespace unioncard::verifier::ui {

namespace {

using namespace std::chrono_literals;

class PcscTapSource final : public TapSource {
public:
    explicit PcscTapSource(std::string reader) : m_wanted(std::move(reader)) {}

    void run(std::stop_token stop, const OnTap& onTap, const OnProblem& onProblem) override {
        while (!stop.stop_requested()) {
            std::string problem = watch(stop, onTap, onProblem);
            if (stop.stop_requested())
                return;
            onProblem(problem);
            // The service or the reader went away: try again in a moment.
            for (int i = 0; i < 20 && !stop.stop_requested(); ++i)
                std::this_thread::sleep_for(100ms);
        }
    }

    void interrupt() override {
        std::lock_guard lock(m_mutex);
        if (m_watcher != nullptr)
            m_watcher->cancel();
    }

private:
    // Watches until something fails; returns the problem in words.
    std::string watch(std::stop_token stop, const OnTap& onTap, const OnProblem& onProblem) {
        auto context = card::pcsc::PcscContext::establish();
        if (!context)
            return "the smart-card service: " + context.error().message;
        auto watcher = card::pcsc::ReaderWatcher::create();
        if (!watcher)
            return "the smart-card service: " + watcher.error().message;
        auto found = card::pcsc::findReader(*context, m_wanted);
        if (!found)
            return found.error().message;
        const std::string name = found.value();
        {
            std::lock_guard lock(m_mutex);
            m_watcher = watcher->get();
        }
        struct Forget {
            PcscTapSource* self;
            ~Forget() {
                std::lock_guard lock(self->m_mutex);
                self->m_watcher = nullptr;
            }
        } forget{this};
        onProblem({});
        bool cardHere = false;
        for (const auto& s : (*watcher)->readers())
            cardHere = cardHere || (s.reader == name && s.cardPresent);
        while (!stop.stop_requested()) {
            if (!cardHere) {
                auto events = (*watcher)->wait(500ms);
                if (!events) {
                    if (stop.stop_requested())
                        return {};
                    return events.error().message;
                }
                for (const auto& e : *events) {
                    if (e.reader == name && e.kind == card::pcsc::ReaderEvent::Kind::CardInserted)
                        cardHere = true;
                    if (e.reader == name && e.kind == card::pcsc::ReaderEvent::Kind::ReaderRemoved)
                        return "the reader " + name + " was unplugged: plug it in again";
                }
                if (!cardHere)
                    continue;
            }
            cardHere = false;
            auto connection = context->connect(name);
            if (!connection)
                continue; // the card left before it could be read: wait for the next tap
            auto uid = card::pcsc::readUid(**connection);
            Tap tap{**connection, uid ? std::optional<card::Bytes>(uid.value()) : std::nullopt, 1};
            onTap(tap);
        }
        return {};
    }

    std::string m_wanted;
    std::mutex m_mutex;
    card::pcsc::ReaderWatcher* m_watcher = nullptr;
};

} // namespace

std::unique_ptr<TapSource> makePcscTapSource(std::string reader) {
    return std::make_unique<PcscTapSource>(std::move(reader));
}

void SimulatedTapSource::present(sim::VirtualCard& card) {
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(&card);
    }
    m_ready.notify_all();
}

void SimulatedTapSource::run(std::stop_token stop, const OnTap& onTap, const OnProblem& onProblem) {
    onProblem({});
    while (!stop.stop_requested()) {
        sim::VirtualCard* card = nullptr;
        {
            std::unique_lock lock(m_mutex);
            if (!m_ready.wait(lock, stop, [this] { return !m_queue.empty(); }))
                return;
            card = m_queue.front();
            m_queue.pop_front();
        }
        sim::InProcessConnection connection(*card);
        // The UID as the reader saw it in anticollision (PC/SC GET DATA on a real reader).
        Tap tap{connection, card->uid(), 1};
        onTap(tap);
    }
}

void SimulatedTapSource::interrupt() {
    m_ready.notify_all();
}

} // namespace unioncard::verifier::ui
