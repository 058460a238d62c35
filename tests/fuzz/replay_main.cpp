// SPDX-License-Identifier: Apache-2.0
// Drives a libFuzzer target without libFuzzer (for g++ and sanitizer builds): runs every file
// of the given corpus folders, then a fixed number of deterministic mutations of each (bit
// flips, truncations, insertions, random tails), so the regular suite exercises the decoder.
//   replay [--mutations N] DIR...

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
    std::size_t mutations = 2000;
    std::vector<std::vector<std::uint8_t>> seeds;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--mutations" && i + 1 < argc) {
            mutations = std::strtoul(argv[++i], nullptr, 10);
            continue;
        }
        for (const auto& entry : std::filesystem::directory_iterator(arg)) {
            std::ifstream in(entry.path(), std::ios::binary);
            seeds.emplace_back(std::istreambuf_iterator<char>(in),
                               std::istreambuf_iterator<char>());
        }
    }
    if (seeds.empty()) {
        std::fprintf(stderr, "replay: no corpus files given\n");
        return 2;
    }
    std::mt19937 rng(20261122);
    std::size_t runs = 0;
    for (const auto& seed : seeds) {
        LLVMFuzzerTestOneInput(seed.data(), seed.size());
        ++runs;
        for (std::size_t m = 0; m < mutations; ++m) {
            std::vector<std::uint8_t> x = seed;
            switch (rng() % 4) {
            case 0:
                if (!x.empty()) {
                    x[rng() % x.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
                }
                break;
            case 1:
                x.resize(x.empty() ? 0 : rng() % x.size());
                break;
            case 2:
                x.insert(x.begin() + static_cast<long>(x.empty() ? 0 : rng() % x.size()),
                         static_cast<std::uint8_t>(rng()));
                break;
            default:
                for (std::size_t k = x.empty() ? 0 : rng() % x.size(); k < x.size(); ++k) {
                    x[k] = static_cast<std::uint8_t>(rng());
                }
            }
            LLVMFuzzerTestOneInput(x.data(), x.size());
            ++runs;
        }
    }
    std::printf("replay: %zu inputs from %zu seeds, no crash\n", runs, seeds.size());
    return 0;
}
