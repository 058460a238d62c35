// SPDX-License-Identifier: Apache-2.0
// The card printer's figures: bytes sent to the printer per card (the Evolis driver against the
// simulator over loopback TCP, front YMCKO and back K+O, from the driver's own counters), and
// the time to turn a face into ribbon panels. Figures, not pass/fail.

#include <unioncard/printer/evolis.hpp>
#include <unioncard/sim/evolis_printer.hpp>

#include <benchmark/benchmark.h>

namespace ev = unioncard::printer::evolis;
namespace pr = unioncard::printer;
namespace sim = unioncard::sim::evolis;

namespace {

class Quiet final : public sim::PrinterEvents {
public:
    bool cardAtContactless(const std::string&, std::string&) override { return true; }
    void cardLeftContactless(const std::string&) override {}
    void cardLeft(const sim::CardOutcome&) override {}
};

pr::Raster photoLikeFace() {
    pr::Raster r{ev::kFaceWidth, ev::kFaceHeight, 300, {}};
    r.rgb.resize(static_cast<std::size_t>(r.width) * r.height * 3);
    for (int y = 0; y < r.height; ++y) {
        for (int x = 0; x < r.width; ++x) {
            const auto at = 3 * (static_cast<std::size_t>(y) * r.width + x);
            r.rgb[at] = static_cast<std::uint8_t>(x * 255 / r.width);
            r.rgb[at + 1] = static_cast<std::uint8_t>(y * 255 / r.height);
            r.rgb[at + 2] = static_cast<std::uint8_t>((x + y) % 256);
        }
    }
    return r;
}

void BM_PrintCardBothSides(benchmark::State& state) {
    Quiet events;
    sim::EvolisPrinterSim printer({.cards = 1 << 30, .ribbonPanels = 1 << 30}, events);
    sim::PrinterServer server(printer);
    std::string error;
    if (!server.start("127.0.0.1", 0, error)) {
        state.SkipWithError(error.c_str());
        return;
    }
    auto p = ev::openPrinter("tcp://127.0.0.1:" + std::to_string(server.port()));
    if (!p.ok()) {
        state.SkipWithError(p.error().message.c_str());
        return;
    }
    const auto front = photoLikeFace();
    const auto back = photoLikeFace();
    std::uint64_t cards = 0;
    std::uint64_t printBytes = 0;
    const auto before = (*p)->bytesSent();
    for (auto _ : state) {
        if (!(*p)->feedToContactless().ok()) {
            state.SkipWithError("feed failed");
            return;
        }
        auto printed = (*p)->printCard(front, back);
        if (!printed.ok()) {
            state.SkipWithError(printed.error().message.c_str());
            return;
        }
        printBytes += printed->bytesSent;
        ++cards;
    }
    const double total = static_cast<double>((*p)->bytesSent() - before);
    state.counters["bytes_per_card"] = total / static_cast<double>(cards);
    state.counters["print_bytes_per_card"] =
        static_cast<double>(printBytes) / static_cast<double>(cards);
}
BENCHMARK(BM_PrintCardBothSides)->Unit(benchmark::kMillisecond);

void BM_FacePanelsYmcko(benchmark::State& state) {
    const auto face = photoLikeFace();
    const auto layout = ev::ribbonLayout("ymcko");
    for (auto _ : state) {
        auto panels = ev::facePanels(face, layout->front);
        benchmark::DoNotOptimize(panels);
    }
}
BENCHMARK(BM_FacePanelsYmcko)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
