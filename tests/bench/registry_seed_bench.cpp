// SPDX-License-Identifier: Apache-2.0
// How long the synthetic union takes: the generator alone (members with names, and the card
// stream), and seedUnion end to end into an SQLite store. Prints figures; never fails on time.
//
//   registry_seed_bench [--members N] [--organisations N] [--seed N] [--db PATH] [--keep]
//
// Without --db, a temporary file is used and removed afterwards.

#include <unioncard/registry/seed.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>

using namespace unioncard::registry;

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
    SeedOptions options;
    std::string db;
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                fmt::print(stderr, "{} needs a value\n", arg);
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--members")
            options.members = std::stoull(value());
        else if (arg == "--organisations")
            options.organisations = std::stoi(value());
        else if (arg == "--seed")
            options.randomSeed = std::stoull(value());
        else if (arg == "--db")
            db = value();
        else if (arg == "--keep")
            keep = true;
        else {
            fmt::print(stderr,
                       "usage: registry_seed_bench [--members N] [--organisations N] [--seed N] "
                       "[--db PATH] [--keep]\n");
            return 2;
        }
    }
    const bool temporary = db.empty();
    if (temporary)
        db = (std::filesystem::temp_directory_path() /
              fmt::format("unioncard-seed-bench-{}.db", ::getpid()))
                 .string();

    // The generator alone: the plan, then every member with names, then the card stream.
    auto start = std::chrono::steady_clock::now();
    auto generator = SeedGenerator::create(options);
    if (!generator) {
        fmt::print(stderr, "seed: {}\n", generator.error().message);
        return 1;
    }
    const double planSeconds = secondsSince(start);
    SeedGenerator names = generator.value(), cards = generator.value();
    SeedMember m;
    std::uint64_t members = 0, cardCount = 0, bytes = 0;
    start = std::chrono::steady_clock::now();
    while (names.next(m)) {
        ++members;
        bytes += m.member.fullName.size();
    }
    const double memberSeconds = secondsSince(start);
    start = std::chrono::steady_clock::now();
    while (cards.next(m, false))
        cardCount += m.cards.size();
    const double cardSeconds = secondsSince(start);
    fmt::print("plan: {} organisations in {} regions in {:.3f} s\n",
               generator->organisations().size(), generator->regions().size(), planSeconds);
    fmt::print("generator, members with names: {} in {:.3f} s ({:.0f} ns per member; names {} "
               "bytes)\n",
               members, memberSeconds, memberSeconds * 1e9 / static_cast<double>(members), bytes);
    fmt::print("generator, card stream: {} cards in {:.3f} s ({:.0f} ns per member)\n", cardCount,
               cardSeconds, cardSeconds * 1e9 / static_cast<double>(members));

    // End to end into SQLite.
    std::filesystem::remove(db);
    start = std::chrono::steady_clock::now();
    auto store = openStore("sqlite:" + db);
    if (!store) {
        fmt::print(stderr, "store: {}\n", store.error().message);
        return 1;
    }
    double lastPrint = 0;
    auto report = seedUnion(*store.value(), options, [&](const SeedProgress& p) {
        const double now = secondsSince(start);
        if (now - lastPrint >= 5 || p.done == p.total) {
            fmt::print(stderr, "  {} {}/{} at {:.1f} s\n", p.stage, p.done, p.total, now);
            lastPrint = now;
        }
    });
    const double seedSeconds = secondsSince(start);
    if (!report) {
        fmt::print(stderr, "seed: {}\n", report.error().message);
        return 1;
    }
    store.value().reset();
    const auto fileBytes = std::filesystem::file_size(db);
    fmt::print("seedUnion into SQLite: {} members, {} cards, {} pending applications in {:.1f} s "
               "(openStore to close; database {:.0f} MiB)\n",
               report->members, report->cards, report->applications, seedSeconds,
               static_cast<double>(fileBytes) / (1024.0 * 1024.0));
    for (const auto& [state, count] : report->cardsByState)
        fmt::print("  {}: {}\n", toString(state), count);
    fmt::print("  virtual cards: {}; members with consent: {}\n", report->virtualCards,
               report->withConsent);
    if (temporary && !keep) {
        std::filesystem::remove(db);
        std::filesystem::remove(db + "-wal");
        std::filesystem::remove(db + "-shm");
    }
    return 0;
}
