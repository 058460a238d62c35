// SPDX-License-Identifier: Apache-2.0
#pragma once

// A CardConnection that replays an APDU transcript: each step names the command it expects and
// the response it gives. A command other than the expected one fails the test.

#include <unioncard/card/transport.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace unioncard::card::testing {

inline Bytes hexBytes(std::string_view hex) {
    Bytes out;
    int pending = -1;
    for (char c : hex) {
        int v = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (v < 0) {
            continue; // spaces and separators
        }
        if (pending < 0) {
            pending = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(pending * 16 + v));
            pending = -1;
        }
    }
    return out;
}

class ScriptedTransport : public CardConnection {
public:
    struct Step {
        Bytes command; ///< empty: accept any command
        Result<Bytes, Fault> response;
    };

    void expect(std::string_view command, std::string_view response) {
        m_steps.push_back({hexBytes(command), hexBytes(response)});
    }
    void fault(std::string_view command, FaultCode code) {
        m_steps.push_back({hexBytes(command), fail(Fault{code, "scripted fault"})});
    }

    Result<Bytes, Fault> transmit(std::span<const std::uint8_t> command) override {
        if (m_steps.empty()) {
            ADD_FAILURE() << "unexpected command after the end of the script";
            return fail(Fault{FaultCode::ProtocolError, "script ended"});
        }
        Step step = std::move(m_steps.front());
        m_steps.pop_front();
        if (!step.command.empty()) {
            EXPECT_EQ(Bytes(command.begin(), command.end()), step.command)
                << "command " << m_sent << " differs from the script";
        }
        ++m_sent;
        return step.response;
    }
    Bytes atr() const override { return hexBytes("3B 81 80 01 80 80"); }

    bool done() const { return m_steps.empty(); }

private:
    std::deque<Step> m_steps;
    int m_sent = 0;
};

} // namespace unioncard::card::testing
