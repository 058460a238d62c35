// SPDX-License-Identifier: Apache-2.0
// Fuzz target for the DESFire host layer: a hostile card (or a broken reader) answers every
// APDU of a personalisation and of a verifier's read with bytes taken from the fuzz input. The
// client must refuse what breaks the protocol with an error value: no crash, no hang, no read
// out of bounds, and never a "success" built from a forged answer.

#include "../support/test_signing.hpp"

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/transport.hpp>

#include <algorithm>
#include <cstdlib>

using namespace unioncard::card;
using namespace unioncard::card::desfire;

namespace {

// Each response: one length byte, then that many bytes (the last two are the status word).
class FuzzedCard : public CardConnection {
public:
    /// `scripted` answers come first (a real GetVersion, so personalisation gets past the UID
    /// and into the protocol), then the fuzz input's.
    FuzzedCard(const std::uint8_t* data, std::size_t size, std::vector<Bytes> scripted = {})
        : m_data(data), m_size(size), m_scripted(std::move(scripted)) {}
    unioncard::Result<Bytes, Fault> transmit(std::span<const std::uint8_t>) override {
        if (m_next < m_scripted.size()) {
            return m_scripted[m_next++];
        }
        if (m_at >= m_size) {
            return unioncard::fail(Fault{FaultCode::CardRemoved, "out of fuzz input"});
        }
        const std::size_t wanted = m_data[m_at];
        ++m_at;
        const std::size_t n = std::min(wanted, m_size - m_at);
        Bytes r(m_data + m_at, m_data + m_at + n);
        m_at += n;
        return r;
    }
    Bytes atr() const override { return {}; }

private:
    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_at = 0;
    std::vector<Bytes> m_scripted;
    std::size_t m_next = 0;
};

// GetVersion of a DESFire EV2 (three frames) with this UID.
const Bytes kUid{0x04, 0x78, 0x2E, 0x21, 0x80, 0x1D, 0x80};
std::vector<Bytes> getVersionFrames() {
    Bytes third = kUid;
    third.insert(third.end(), {0xBA, 0x44, 0x63, 0xC1, 0x20, 0x29, 0x18, 0x91, 0x00});
    return {{0x04, 0x01, 0x01, 0x12, 0x00, 0x1A, 0x05, 0x91, 0xAF},
            {0x04, 0x01, 0x01, 0x02, 0x01, 0x1A, 0x05, 0x91, 0xAF},
            third};
}

// A record signed for kUid by a station made at start-up.
const Bytes& recordForUid() {
    static const Bytes record = [] {
        using namespace std::chrono;
        const auto s = testsupport::TestSigning::make("st-fuzz");
        CardRecord r{
            *CardNumber::compose(23, 1234), "M-1", 23,       1, 1, sys_days{year{2026} / 11 / 22},
            sys_days{year{2029} / 11 / 22}, kUid,  "st-fuzz"};
        auto bytes = signRecord(s.station, r);
        if (!bytes) {
            std::abort();
        }
        return *bytes;
    }();
    return record;
}

const Profile& profile() {
    static const Profile p = [] {
        auto loaded = parseProfile(R"(
profile = "fuzz"
version = 1
[picc]
key_settings = 0x0B
random_uid = false
master_key = "picc-master"
[application]
aid = 0x554E01
key_type = "aes128"
key_settings = 0x0B
[[application.keys]]
number = 0
role = "app-master"
[[application.keys]]
number = 1
role = "record-read"
[[application.keys]]
number = 2
role = "record-write"
[[application.files]]
number = 1
name = "record"
type = "backup"
size = 256
comm_mode = "mac"
read = 1
write = 2
read_write = 2
change = 0
[diversification]
system_identifier = "554E494F4E43415244"
)");
        if (!loaded) {
            std::abort();
        }
        return std::move(loaded).value();
    }();
    return p;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const MasterKeys keys = MasterKeys::generate(profile().roles());
    const Bytes& record = recordForUid();
    {
        FuzzedCard card(data, size, getVersionFrames());
        Desfire d(card);
        // Random answers cannot forge the card's proof of the (random) keys: success would mean
        // the client accepted an authentication it did not check.
        if (personalise(d, profile(), keys, record).ok()) {
            std::abort();
        }
    }
    {
        FuzzedCard card(data, size);
        Desfire d(card);
        if (readRecord(d, profile(), keys).ok()) {
            std::abort();
        }
    }
    if (size > 0) {
        // The verifier's read with the UID the reader's anticollision reported: its length (0
        // to 15 bytes) and bytes come from the input too, as a hostile card chooses them.
        const std::size_t uidLength = std::min<std::size_t>(data[0] % 16, size - 1);
        ReadOptions options;
        options.uid = Bytes(data + 1, data + 1 + uidLength);
        FuzzedCard card(data + 1 + uidLength, size - 1 - uidLength);
        Desfire d(card);
        if (readRecord(d, profile(), keys, options).ok()) {
            std::abort();
        }
    }
    {
        FuzzedCard card(data, size);
        Desfire d(card);
        (void)d.getVersion();
        (void)d.getApplicationIds();
        (void)d.getKeySettings();
        (void)d.readData(1, 0, 300, CommMode::Plain);
    }
    return 0;
}
