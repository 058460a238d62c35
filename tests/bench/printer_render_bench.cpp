// SPDX-License-Identifier: Apache-2.0
// Card faces: render time per face (front, back), PNG encoding time, and bytes per card (PNG
// front + back, the PDF sent over IPP). Figures, not pass/fail: docs/printing.md quotes them.

#include <unioncard/printer/card_fields.hpp>
#include <unioncard/printer/layout.hpp>
#include <unioncard/printer/renderer.hpp>

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace unioncard::printer;

namespace {

struct Fixture {
    CardRenderer renderer;
    CardFields fields;
};

Fixture& fixture() {
    static Fixture* f = [] {
        const std::filesystem::path config = UNIONCARD_FIRMWARE_CONFIG_DIR;
        auto layout = loadLayout(config / "layouts" / "union-card.toml");
        if (!layout) {
            std::cerr << layout.error().message << '\n';
            std::exit(1);
        }
        auto renderer = CardRenderer::create(std::move(layout).value());
        if (!renderer) {
            std::cerr << renderer.error().message << '\n';
            std::exit(1);
        }
        std::ifstream in(std::filesystem::path(UNIONCARD_GOLDEN_DIR) / "fields-sample.json");
        std::ostringstream text;
        text << in.rdbuf();
        auto fields = parseCardFields(text.str());
        if (!fields) {
            std::cerr << fields.error().message << '\n';
            std::exit(1);
        }
        return new Fixture{std::move(renderer).value(), std::move(fields).value()};
    }();
    return *f;
}

void renderFace(benchmark::State& state, Side side) {
    Fixture& f = fixture();
    for (auto _ : state) {
        auto face = f.renderer.render(side, f.fields);
        benchmark::DoNotOptimize(face);
    }
}

void BM_RenderFront(benchmark::State& state) {
    renderFace(state, Side::Front);
}
BENCHMARK(BM_RenderFront)->Unit(benchmark::kMillisecond);

void BM_RenderBack(benchmark::State& state) {
    renderFace(state, Side::Back);
}
BENCHMARK(BM_RenderBack)->Unit(benchmark::kMillisecond);

// PNG encoding of both faces; the counters are the bytes a card costs as PNG.
void BM_EncodePngCard(benchmark::State& state) {
    Fixture& f = fixture();
    auto card = f.renderer.renderCard(f.fields);
    std::size_t front = 0, back = 0;
    for (auto _ : state) {
        auto a = encodePng(card->front);
        auto b = encodePng(card->back);
        front = a->size();
        back = b->size();
    }
    state.counters["png_front_bytes"] = static_cast<double>(front);
    state.counters["png_back_bytes"] = static_cast<double>(back);
    state.counters["png_card_bytes"] = static_cast<double>(front + back);
}
BENCHMARK(BM_EncodePngCard)->Unit(benchmark::kMillisecond);

// The Raster hand-off to the drivers (the Evolis driver's input): the copy out of the QImage.
void BM_ToRaster(benchmark::State& state) {
    Fixture& f = fixture();
    auto face = f.renderer.render(Side::Front, f.fields);
    std::size_t bytes = 0;
    for (auto _ : state) {
        const Raster r = toRaster(face->image, 300);
        bytes = r.rgb.size();
        benchmark::DoNotOptimize(r);
    }
    state.counters["raster_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ToRaster)->Unit(benchmark::kMillisecond);

// Both faces drawn into the PDF for IPP; the counter is the bytes a card costs as PDF.
void BM_RenderPdfCard(benchmark::State& state) {
    Fixture& f = fixture();
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto pdf = f.renderer.renderPdf(f.fields);
        bytes = pdf->pdf.size();
    }
    state.counters["pdf_card_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderPdfCard)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
