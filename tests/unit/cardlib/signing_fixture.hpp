// SPDX-License-Identifier: Apache-2.0
#pragma once

// A union root, stations and a trust list made in memory for one test.

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/trust_list.hpp>

#include <gtest/gtest.h>

namespace unioncard::card::testing {

using namespace std::chrono;

inline Seconds at(int y, unsigned m, unsigned d) {
    return Seconds{sys_days{year{y} / month{m} / day{d}}};
}

inline Days day(int y, unsigned m, unsigned d) {
    return sys_days{year{y} / month{m} / std::chrono::day{d}};
}

template <class T, class E> T take(Result<T, E> r) {
    EXPECT_TRUE(r.ok());
    if (!r.ok()) {
        throw std::runtime_error("fixture step failed");
    }
    return std::move(r).value();
}

struct Signing {
    PrivateKey rootKey = take(PrivateKey::generate());
    Certificate root =
        take(makeRootCertificate(rootKey, "Test root", {at(2025, 1, 1), at(2045, 1, 1)}));

    StationSigner station(const char* id, Validity v = {at(2026, 1, 1), at(2029, 1, 1)}) const {
        PrivateKey key = take(PrivateKey::generate());
        Certificate cert = take(issueStationCertificate(rootKey, root, key.publicKey(), id, v));
        return {std::move(key), std::move(cert)};
    }

    TrustList trust(const std::vector<Certificate>& stations) const {
        const Bytes list = take(TrustList::build(rootKey, root, stations, 7, at(2026, 11, 1)));
        return take(TrustList::load(list, root.fingerprint()));
    }

    static CardRecord record(const char* stationId) {
        return CardRecord{take(CardNumber::compose(23, 1234)),
                          "M-23-0004711",
                          23,
                          100245,
                          1,
                          day(2026, 11, 22),
                          day(2031, 11, 30),
                          Bytes{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6},
                          stationId};
    }
};

} // namespace unioncard::card::testing
