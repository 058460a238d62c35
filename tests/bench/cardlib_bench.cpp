// SPDX-License-Identifier: Apache-2.0
// Figures for cardlib's hot paths: what a verifier does per tap (verify a record), what a
// station does per card (sign), and the sizes that must fit the chip. Read the figures; no
// test fails on them.
//   build/release/bin/cardlib_bench

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/cbor.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/trust_list.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>

using namespace unioncard::card;
using namespace std::chrono;

namespace {

template <class T, class E> T need(unioncard::Result<T, E> r) {
    if (!r) {
        std::abort();
    }
    return std::move(r).value();
}

Seconds at(int y, unsigned m, unsigned d) {
    return Seconds{sys_days{year{y} / month{m} / day{d}}};
}

struct World {
    PrivateKey rootKey = need(PrivateKey::generate());
    Certificate root =
        need(makeRootCertificate(rootKey, "Bench root", {at(2025, 1, 1), at(2045, 1, 1)}));
    std::vector<StationSigner> stations;
    Bytes trustBytes;
    std::optional<TrustList> trust;
    CardRecord record{need(CardNumber::compose(23, 1234)),
                      "M-23-0004711",
                      23,
                      100245,
                      1,
                      sys_days{year{2026} / 11 / 22},
                      sys_days{year{2031} / 11 / 30},
                      Bytes{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6},
                      "st-0"};
    Bytes signedRecord;

    // A trust list the size of the union's: one station for each of ~85 regions, and more.
    explicit World(int stationCount = 300) {
        std::vector<Certificate> certs;
        for (int i = 0; i < stationCount; ++i) {
            auto key = need(PrivateKey::generate());
            auto cert = need(issueStationCertificate(rootKey, root, key.publicKey(),
                                                     "st-" + std::to_string(i),
                                                     {at(2026, 1, 1), at(2029, 1, 1)}));
            certs.push_back(cert);
            stations.push_back({std::move(key), std::move(cert)});
        }
        trustBytes = need(TrustList::build(rootKey, root, certs, 1, at(2026, 11, 1)));
        trust = need(TrustList::load(trustBytes, root.fingerprint()));
        signedRecord = need(signRecord(stations.front(), record));
    }
};

World& world() {
    static World w;
    return w;
}

void BM_NumberParse(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(CardNumber::parse(" 9643 2300 0001 2341 "));
    }
}
BENCHMARK(BM_NumberParse);

void BM_PayloadDecode(benchmark::State& state) {
    const Bytes payload = encodePayload(world().record);
    for (auto _ : state) {
        benchmark::DoNotOptimize(decodePayload(payload));
    }
    state.counters["payload_bytes"] = static_cast<double>(payload.size());
}
BENCHMARK(BM_PayloadDecode);

void BM_RecordSign(benchmark::State& state) {
    World& w = world();
    for (auto _ : state) {
        benchmark::DoNotOptimize(signRecord(w.stations.front(), w.record));
    }
    state.counters["record_bytes"] = static_cast<double>(w.signedRecord.size());
}
BENCHMARK(BM_RecordSign)->Unit(benchmark::kMicrosecond);

// The verifier's whole offline check of one tap's record against a 300-station trust list.
void BM_RecordVerify(benchmark::State& state) {
    World& w = world();
    const Days today = sys_days{year{2027} / 6 / 1};
    for (auto _ : state) {
        const auto v = verifyRecord(w.signedRecord, *w.trust, today);
        if (v.verdict != Verdict::Valid) {
            state.SkipWithError("record did not verify");
        }
    }
    state.counters["record_bytes"] = static_cast<double>(w.signedRecord.size());
    state.counters["max_bytes"] = static_cast<double>(kMaxRecordSize);
}
BENCHMARK(BM_RecordVerify)->Unit(benchmark::kMicrosecond);

void BM_RecordRejectGarbage(benchmark::State& state) {
    World& w = world();
    Bytes junk = w.signedRecord;
    junk[0] = 0x00;
    const Days today = sys_days{year{2027} / 6 / 1};
    for (auto _ : state) {
        benchmark::DoNotOptimize(verifyRecord(junk, *w.trust, today));
    }
}
BENCHMARK(BM_RecordRejectGarbage);

// Loading (and checking every certificate of) the trust list, once per start of a verifier.
void BM_TrustListLoad(benchmark::State& state) {
    World& w = world();
    for (auto _ : state) {
        benchmark::DoNotOptimize(TrustList::load(w.trustBytes, w.root.fingerprint()));
    }
    state.counters["stations"] = static_cast<double>(w.stations.size());
    state.counters["list_bytes"] = static_cast<double>(w.trustBytes.size());
}
BENCHMARK(BM_TrustListLoad)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
