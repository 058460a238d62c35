// SPDX-License-Identifier: Apache-2.0
#pragma once

// A union root and one station made in memory, for the benchmarks and fuzz targets (the unit
// tests have their GoogleTest fixture, tests/unit/cardlib/signing_fixture.hpp). Aborts if
// OpenSSL cannot make the keys: these programs have nothing to do without them.

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/keys.hpp>

#include <chrono>
#include <cstdlib>

namespace unioncard::card::testsupport {

struct TestSigning {
    PrivateKey rootKey;
    Certificate root;
    StationSigner station;

    /// Root valid 2025-2045, station `stationId` valid 2025-2030.
    static TestSigning make(const char* stationId) {
        using namespace std::chrono;
        const Seconds from{sys_days{year{2025} / 1 / 1}};
        auto rootKey = PrivateKey::generate();
        auto stationKey = PrivateKey::generate();
        if (!rootKey || !stationKey) {
            std::abort();
        }
        auto root = makeRootCertificate(*rootKey, "Test root", {from, from + years{20}});
        if (!root) {
            std::abort();
        }
        auto cert = issueStationCertificate(*rootKey, *root, stationKey->publicKey(), stationId,
                                            {from, from + years{5}});
        if (!cert) {
            std::abort();
        }
        return {*rootKey, *root, {*stationKey, *cert}};
    }
};

} // namespace unioncard::card::testsupport
