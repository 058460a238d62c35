// SPDX-License-Identifier: Apache-2.0
#pragma once

// A synthetic union for demos, tests and load figures: regions, primary organisations with
// Russian names, members with Russian full names, their cards and pending applications, in the
// proportions of the union's own figures as of late 2023 (3,098,599 members: 2,091,676 working,
// 823,990 students, 47,164 non-working pensioners, 135,767 unknown; 2,115,337 plastic cards,
// 72,324 virtual ones, 149,463 refusals), scaled to the size asked for.
//
// Deterministic: the same options give the same union, byte for byte, on any machine. The
// randomness is a seeded splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014), not OpenSSL's: this is test data, and it must be reproducible.
// Streams: members and cards are made one at a time while the store writes them, so 3.1
// million members never sit in memory as rows.

#include <unioncard/registry/store.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::registry {

struct SeedOptions {
    std::uint64_t members = 3'100'000;
    std::uint64_t randomSeed = 1;
    int regions = 85;           ///< 1..89; codes 1..89 less the vacant ones (see places_ru.inc)
    int organisations = 72'000; ///< at least 2 per region (each has a university and its students)
    /// Every date is before this. Left at the epoch, 2024-01-01T00:00:00Z is used, so that the
    /// default options give the same union every day.
    Seconds now{};
};

/// How far seeding has gone: stage is "members" (the store is writing members and cards) or
/// "applications".
struct SeedProgress {
    std::string_view stage;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
};
using SeedProgressCallback = std::function<void(const SeedProgress&)>;

struct SeedReport {
    std::uint64_t members = 0;
    std::uint64_t organisations = 0;
    int regions = 0;
    std::map<MemberCategory, std::uint64_t> membersByCategory;
    std::uint64_t withConsent = 0;
    std::uint64_t cards = 0;                         ///< card rows, all states
    std::map<CardState, std::uint64_t> cardsByState; ///< every state, zeros included
    std::uint64_t virtualCards = 0;                  ///< handed over in the mobile app
    std::uint64_t applications = 0;                  ///< pending
    std::chrono::milliseconds elapsed{};
};

/// One member as generated, with the member's cards (0, 1, or 2 when the first card was
/// replaced or spoiled) and pending application, if any.
struct SeedMember {
    Member member;
    std::vector<SeedCard> cards;
    std::optional<Application> application;
    /// The member's card is the mobile app's, not plastic: handed over, station "mobile-app".
    bool virtualCard = false;
};

/// The union's plan (regions, organisations, how many members each has) and a cursor over its
/// members. Copies share the plan and move on independently: the store can read the member
/// stream and the card stream in any order.
class SeedGenerator {
public:
    /// Checks the options and lays out regions and organisations (72,000 in well under a second).
    static Result<SeedGenerator, StoreError> create(const SeedOptions& options);

    const std::vector<Organisation>& organisations() const;
    /// The region codes in use, ascending.
    const std::vector<int>& regions() const;
    std::uint64_t memberCount() const;

    /// The next member in (region, organisation) order; false after the last.
    /// withNames = false leaves fullName empty and no application (for the card stream, which
    /// only needs ids and cards); everything else is the same as with names.
    bool next(SeedMember& out, bool withNames = true);

    struct Plan;

private:
    explicit SeedGenerator(std::shared_ptr<const Plan> plan);
    std::shared_ptr<const Plan> m_plan;
    std::uint64_t m_index = 0;      ///< members made so far
    std::size_t m_organisation = 0; ///< index into the plan's organisations
    std::uint64_t m_leftInOrganisation = 0;
    std::vector<std::uint32_t> m_memberCounter;      ///< per region code: members so far
    std::vector<std::uint64_t> m_serialCounter;      ///< per region code: last serial used
    std::vector<std::uint32_t> m_applicationCounter; ///< per region code
};

/// Russian feminine form of a masculine surname: Иванов -> Иванова, Ильин -> Ильина,
/// Вишневский -> Вишневская, Толстой -> Толстая; Шевченко, Черных, Ковальчук stay.
std::string feminineSurname(std::string_view masculine);

/// Fills the store with a synthetic union: organisations, members and cards in one bulkLoad,
/// then the pending applications with addApplications (in batches of 1,000).
Result<SeedReport, StoreError> seedUnion(Store& store, const SeedOptions& options,
                                         const SeedProgressCallback& progress = {});

} // namespace unioncard::registry
