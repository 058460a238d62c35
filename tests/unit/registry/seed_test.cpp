// SPDX-License-Identifier: Apache-2.0
// The synthetic union: deterministic, in the union's proportions, valid card numbers dense per
// region, well-formed Russian names with gender agreement; and loaded into a store, both a
// recording fake (to see what the store is handed, in either order of reading) and SQLite.

#include "../../support/refusing_store.hpp"

#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/seed.hpp>
#include <unioncard/registry/store.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace unioncard::registry {
namespace seeddata {
#include "names_ru.inc"
} // namespace seeddata

namespace {

using namespace std::chrono_literals;

// FNV-1a over everything a generator makes: equal digests, equal unions.
struct Digest {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    void add(std::string_view s) {
        for (char c : s)
            h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
        h = (h ^ 0xff) * 0x100000001b3ULL;
    }
    void add(std::int64_t v) { add(std::to_string(v)); }
};

std::uint64_t digestOf(const SeedOptions& options) {
    auto generator = SeedGenerator::create(options);
    EXPECT_TRUE(generator.ok());
    Digest d;
    for (const auto& o : generator->organisations()) {
        d.add(o.code);
        d.add(o.region);
        d.add(o.name);
    }
    SeedMember m;
    while (generator.value().next(m)) {
        d.add(m.member.id);
        d.add(m.member.fullName);
        d.add(m.member.region);
        d.add(m.member.organisationCode);
        d.add(static_cast<int>(m.member.category));
        d.add(m.member.consent);
        for (const auto& c : m.cards) {
            d.add(c.cardNumber);
            d.add(c.memberId);
            d.add(c.cardSequence);
            d.add(static_cast<int>(c.state));
            d.add(c.at.time_since_epoch().count());
            d.add(c.station);
        }
        if (m.application) {
            d.add(m.application->id);
            d.add(static_cast<int>(m.application->reason));
            d.add(m.application->cardSequence);
            d.add(m.application->createdAt.time_since_epoch().count());
        }
    }
    return d.h;
}

SeedOptions smallUnion(std::uint64_t members = 20'000, std::uint64_t seed = 1) {
    SeedOptions o;
    o.members = members;
    o.randomSeed = seed;
    o.organisations = 2'000;
    return o;
}

// Splits a UTF-8 string into code points.
std::vector<std::u32string::value_type> codePoints(std::string_view s) {
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        int length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        char32_t cp = length == 1 ? c : c & (0xFF >> (length + 1));
        for (int k = 1; k < length && i + static_cast<std::size_t>(k) < s.size(); ++k)
            cp =
                (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3F);
        out.push_back(cp);
        i += static_cast<std::size_t>(length);
    }
    return out;
}

bool isCyrillicUpper(char32_t c) {
    return (c >= 0x0410 && c <= 0x042F) || c == 0x0401;
}
bool isCyrillicLower(char32_t c) {
    return (c >= 0x0430 && c <= 0x044F) || c == 0x0451;
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto space = s.find(' ', start);
        out.push_back(s.substr(start, space - start));
        if (space == std::string::npos)
            return out;
        start = space + 1;
    }
}

bool endsWith(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

template <class T, std::size_t N> std::set<std::string> setOf(const T (&items)[N]) {
    std::set<std::string> out;
    for (const auto& i : items)
        out.insert(std::string(i));
    return out;
}

} // namespace

TEST(SeedGenerator, RefusesOptionsItCannotHonour) {
    SeedOptions o = smallUnion();
    o.regions = 0;
    EXPECT_EQ(SeedGenerator::create(o).error().code, StoreErrorCode::InvalidArgument);
    o.regions = 90;
    EXPECT_FALSE(SeedGenerator::create(o).ok());
    o = smallUnion();
    o.organisations = 169; // 85 regions need 170
    auto few = SeedGenerator::create(o);
    ASSERT_FALSE(few.ok());
    EXPECT_NE(few.error().message.find("too few"), std::string::npos) << few.error().message;
    o.organisations = 170;
    EXPECT_TRUE(SeedGenerator::create(o).ok());
}

TEST(SeedGenerator, IsDeterministicForASeed) {
    const auto a = digestOf(smallUnion(5'000, 7));
    const auto b = digestOf(smallUnion(5'000, 7));
    const auto c = digestOf(smallUnion(5'000, 8));
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    // "now" moves the dates and nothing else is random about it.
    SeedOptions later = smallUnion(5'000, 7);
    later.now = Seconds{std::chrono::seconds{1'800'000'000}};
    EXPECT_NE(digestOf(later), a);
}

TEST(SeedGenerator, CardStreamWithoutNamesMatchesTheMemberStream) {
    auto g = SeedGenerator::create(smallUnion(5'000));
    ASSERT_TRUE(g.ok());
    SeedGenerator withNames = g.value(), without = g.value();
    SeedMember a, b;
    std::uint64_t n = 0;
    while (withNames.next(a)) {
        ASSERT_TRUE(without.next(b, false));
        ASSERT_EQ(a.member.id, b.member.id);
        EXPECT_TRUE(b.member.fullName.empty());
        EXPECT_FALSE(b.application.has_value());
        EXPECT_EQ(a.member.category, b.member.category);
        EXPECT_EQ(a.member.consent, b.member.consent);
        ASSERT_EQ(a.cards.size(), b.cards.size());
        for (std::size_t i = 0; i < a.cards.size(); ++i) {
            EXPECT_EQ(a.cards[i].cardNumber, b.cards[i].cardNumber);
            EXPECT_EQ(a.cards[i].state, b.cards[i].state);
            EXPECT_EQ(a.cards[i].at, b.cards[i].at);
        }
        ++n;
    }
    EXPECT_FALSE(without.next(b, false));
    EXPECT_EQ(n, 5'000u);
}

TEST(SeedGenerator, OrganisationsAreSpreadOverRegionsWithRussianNames) {
    SeedOptions o = smallUnion(50'000);
    o.organisations = 7'200;
    auto g = SeedGenerator::create(o);
    ASSERT_TRUE(g.ok());
    const auto& regions = g->regions();
    ASSERT_EQ(regions.size(), 85u);
    for (int vacant : {80, 81, 82, 84})
        EXPECT_EQ(std::count(regions.begin(), regions.end(), vacant), 0) << vacant;
    EXPECT_TRUE(std::is_sorted(regions.begin(), regions.end()));

    const auto& orgs = g->organisations();
    ASSERT_EQ(orgs.size(), 7'200u);
    std::set<std::uint32_t> codes;
    std::map<int, int> perRegion, studentsPerRegion;
    for (const auto& org : orgs) {
        EXPECT_TRUE(codes.insert(org.code).second) << "duplicate code " << org.code;
        EXPECT_EQ(static_cast<int>(org.code / 100'000), org.region);
        EXPECT_TRUE(std::binary_search(regions.begin(), regions.end(), org.region));
        ASSERT_FALSE(org.name.empty());
        // Cyrillic, with at least one of the usual forms of a name.
        const auto cps = codePoints(org.name);
        EXPECT_TRUE(std::any_of(cps.begin(), cps.end(), [](char32_t c) {
            return isCyrillicUpper(c);
        })) << org.name;
        ++perRegion[org.region];
        if (org.name.rfind("Первичная профсоюзная организация студентов", 0) == 0)
            ++studentsPerRegion[org.region];
    }
    // Every region has students; big regions have more organisations (Moscow 77 over Chukotka 87).
    for (int r : regions)
        EXPECT_GE(studentsPerRegion[r], 1) << "region " << r;
    EXPECT_GT(perRegion[77], 10 * perRegion[87]);
    EXPECT_GT(perRegion[16], perRegion[1]);
    const auto kazanSchool = std::find_if(orgs.begin(), orgs.end(), [](const Organisation& org) {
        return org.region == 16 && org.name.rfind("МБОУ СОШ № ", 0) == 0;
    });
    ASSERT_NE(kazanSchool, orgs.end());
    EXPECT_NE(kazanSchool->name.find(" г. Казани"), std::string::npos) << kazanSchool->name;
}

TEST(SeedGenerator, MatchesTheUnionsProportions) {
    const std::uint64_t n = 300'000;
    SeedOptions o = smallUnion(n, 3);
    o.organisations = 7'200;
    auto g = SeedGenerator::create(o);
    ASSERT_TRUE(g.ok());
    std::map<MemberCategory, double> categories;
    std::map<CardState, double> states;
    double consent = 0, virtualCards = 0, applications = 0, members = 0, withCard = 0;
    std::map<int, double> perRegion;
    SeedMember m;
    while (g.value().next(m)) {
        ++members;
        ++categories[m.member.category];
        consent += m.member.consent ? 1 : 0;
        virtualCards += m.virtualCard ? 1 : 0;
        applications += m.application ? 1 : 0;
        withCard += m.cards.empty() ? 0 : 1;
        ++perRegion[m.member.region];
        for (const auto& c : m.cards)
            ++states[c.state];
        // A card or an application needs the member's consent.
        if (!m.cards.empty() || m.application) {
            EXPECT_TRUE(m.member.consent) << m.member.id;
        }
    }
    ASSERT_EQ(members, static_cast<double>(n));
    // Within four standard deviations of the expected count, or 0.1% of n for proportions that
    // are apportioned exactly.
    auto near = [&](double actual, double perUnion, const char* what) {
        const double p = perUnion / 3'098'599.0;
        const double expected = p * static_cast<double>(n);
        const double sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
        EXPECT_NEAR(actual, expected, std::max(4 * sd, 0.001 * static_cast<double>(n))) << what;
    };
    near(categories[MemberCategory::Student], 823'990, "students");
    near(categories[MemberCategory::Working], 2'091'676, "working");
    near(categories[MemberCategory::Pensioner], 47'164, "pensioners");
    near(categories[MemberCategory::Unknown], 135'767, "no status");
    // Plastic holders (including replacement and reprinted cards) and virtual ones.
    near(states[CardState::HandedOver] - virtualCards, 2'115'337, "plastic cards handed over");
    near(virtualCards, 72'324, "virtual cards");
    near(states[CardState::Refused], 149'463, "refused");
    near(states[CardState::Produced], 24'000, "produced, not handed over");
    near(states[CardState::Lost], 9'000, "lost");
    near(states[CardState::Revoked], 3'000, "revoked");
    near(states[CardState::Replaced], 6'000, "replaced");
    near(states[CardState::Spoiled], 4'000, "spoiled");
    near(applications, 44'500, "pending applications");
    near(consent, 0.97 * 3'098'599, "consent");
    EXPECT_EQ(states[CardState::Suspended], 0);
    // Moscow (13.0 million people) has far more members than Chukotka (48 thousand).
    // (Less than the population's 270 times: every region has at least a university.)
    EXPECT_GT(perRegion[77], 20 * perRegion[87]);
}

TEST(SeedGenerator, CardNumbersAreValidAndDensePerRegion) {
    auto g = SeedGenerator::create(smallUnion(30'000));
    ASSERT_TRUE(g.ok());
    std::map<int, std::vector<std::uint64_t>> serials;
    std::set<std::string> numbers;
    SeedMember m;
    while (g.value().next(m)) {
        for (const auto& c : m.cards) {
            auto parsed = card::CardNumber::parse(c.cardNumber);
            ASSERT_TRUE(parsed.ok()) << c.cardNumber << ": " << parsed.error().message;
            EXPECT_EQ(parsed->digits(), c.cardNumber);
            EXPECT_EQ(parsed->region(), m.member.region);
            EXPECT_EQ(c.memberId, m.member.id);
            EXPECT_TRUE(numbers.insert(c.cardNumber).second) << "twice: " << c.cardNumber;
            serials[parsed->region()].push_back(parsed->serial());
        }
        if (m.cards.size() == 2) {
            EXPECT_EQ(m.cards[0].cardSequence, 1);
            EXPECT_EQ(m.cards[1].cardSequence, 2);
            EXPECT_TRUE(m.cards[0].state == CardState::Replaced ||
                        m.cards[0].state == CardState::Spoiled);
            EXPECT_EQ(m.cards[1].state, CardState::HandedOver);
            EXPECT_LT(m.cards[0].at, m.cards[1].at);
        }
        // Member ids: "M-<region>-<7 digits>".
        ASSERT_EQ(m.member.id.size(), 12u) << m.member.id;
        EXPECT_EQ(m.member.id.substr(0, 2), "M-");
        EXPECT_EQ(std::stoi(m.member.id.substr(2, 2)), m.member.region);
    }
    for (const auto& [region, list] : serials) {
        for (std::size_t i = 0; i < list.size(); ++i)
            ASSERT_EQ(list[i], i + 1) << "region " << region << " is not dense from 1";
    }
}

TEST(SeedGenerator, DatesAreBeforeNow) {
    SeedOptions o = smallUnion(5'000);
    o.now = Seconds{std::chrono::seconds{1'750'000'000}};
    auto g = SeedGenerator::create(o);
    ASSERT_TRUE(g.ok());
    SeedMember m;
    while (g.value().next(m)) {
        for (const auto& c : m.cards) {
            EXPECT_LE(c.at, o.now);
            EXPECT_GT(c.at, o.now - std::chrono::hours(24 * 366 * 7));
        }
        if (m.application) {
            EXPECT_LE(m.application->createdAt, o.now);
            EXPECT_GE(m.application->createdAt, o.now - std::chrono::hours(24 * 61));
        }
    }
}

TEST(SeedNames, AreCyrillicAndAgreeInGender) {
    const auto maleSurnames = setOf(seeddata::kSurnames);
    std::set<std::string> femaleSurnames;
    for (const auto& s : maleSurnames)
        femaleSurnames.insert(feminineSurname(s));
    const auto femaleNames = setOf(seeddata::kFemaleNames);
    std::set<std::string> maleNames, malePatronymics, femalePatronymics;
    for (const auto& n : seeddata::kMaleNames) {
        maleNames.insert(std::string(n.name));
        malePatronymics.insert(std::string(n.patronymicMale));
        femalePatronymics.insert(std::string(n.patronymicFemale));
    }

    auto g = SeedGenerator::create(smallUnion(20'000));
    ASSERT_TRUE(g.ok());
    double women = 0, members = 0;
    SeedMember m;
    while (g.value().next(m)) {
        ++members;
        const auto w = words(m.member.fullName);
        ASSERT_EQ(w.size(), 3u) << m.member.fullName;
        for (const auto& word : w) {
            const auto cps = codePoints(word);
            ASSERT_GE(cps.size(), 2u) << m.member.fullName;
            EXPECT_TRUE(isCyrillicUpper(cps[0])) << m.member.fullName;
            for (std::size_t i = 1; i < cps.size(); ++i)
                EXPECT_TRUE(isCyrillicLower(cps[i]) || cps[i] == U'-') << m.member.fullName;
        }
        // Agreement by the endings themselves, not by feminineSurname: a woman's surname ends
        // in -а/-ая unless it is one that does not change (-ко, -ых, -их, -ук, -юк); a man's
        // never ends in -ова/-ева/-ина/-ая.
        const bool unchanging = endsWith(w[0], "ко") || endsWith(w[0], "ых") ||
                                endsWith(w[0], "их") || endsWith(w[0], "ук") ||
                                endsWith(w[0], "юк");
        if (femaleNames.count(w[1])) {
            ++women;
            EXPECT_TRUE(unchanging || endsWith(w[0], "а") || endsWith(w[0], "ая"))
                << m.member.fullName;
            EXPECT_TRUE(femaleSurnames.count(w[0])) << m.member.fullName;
            EXPECT_TRUE(femalePatronymics.count(w[2])) << m.member.fullName;
        } else {
            EXPECT_TRUE(maleNames.count(w[1])) << m.member.fullName;
            EXPECT_TRUE(maleSurnames.count(w[0])) << m.member.fullName;
            EXPECT_FALSE(endsWith(w[0], "ова") || endsWith(w[0], "ева") || endsWith(w[0], "ина") ||
                         endsWith(w[0], "ая"))
                << m.member.fullName;
            EXPECT_TRUE(malePatronymics.count(w[2])) << m.member.fullName;
        }
    }
    // About four in five staff and three in five students are women.
    EXPECT_GT(women / members, 0.70);
    EXPECT_LT(women / members, 0.85);
}

TEST(SeedNames, FeminineSurnamesFollowTheRules) {
    EXPECT_EQ(feminineSurname("Иванов"), "Иванова");
    EXPECT_EQ(feminineSurname("Соловьёв"), "Соловьёва");
    EXPECT_EQ(feminineSurname("Алексеев"), "Алексеева");
    EXPECT_EQ(feminineSurname("Ильин"), "Ильина");
    EXPECT_EQ(feminineSurname("Вишневский"), "Вишневская");
    EXPECT_EQ(feminineSurname("Троицкий"), "Троицкая");
    EXPECT_EQ(feminineSurname("Толстой"), "Толстая");
    EXPECT_EQ(feminineSurname("Шевченко"), "Шевченко");
    EXPECT_EQ(feminineSurname("Черных"), "Черных");
    EXPECT_EQ(feminineSurname("Долгих"), "Долгих");
    EXPECT_EQ(feminineSurname("Ковальчук"), "Ковальчук");
}

TEST(SeedNames, PatronymicsIncludingTheIrregularOnes) {
    std::map<std::string, std::pair<std::string, std::string>> table;
    for (const auto& n : seeddata::kMaleNames)
        table[std::string(n.name)] = {std::string(n.patronymicMale),
                                      std::string(n.patronymicFemale)};
    using P = std::pair<std::string, std::string>;
    EXPECT_EQ(table.at("Иван"), P("Иванович", "Ивановна"));
    EXPECT_EQ(table.at("Пётр"), P("Петрович", "Петровна"));
    EXPECT_EQ(table.at("Илья"), P("Ильич", "Ильинична"));
    EXPECT_EQ(table.at("Никита"), P("Никитич", "Никитична"));
    EXPECT_EQ(table.at("Лев"), P("Львович", "Львовна"));
    EXPECT_EQ(table.at("Михаил"), P("Михайлович", "Михайловна"));
    EXPECT_EQ(table.at("Сергей"), P("Сергеевич", "Сергеевна"));
    EXPECT_EQ(table.at("Юрий"), P("Юрьевич", "Юрьевна"));
    EXPECT_EQ(table.at("Яков"), P("Яковлевич", "Яковлевна"));
    EXPECT_EQ(table.at("Павел"), P("Павлович", "Павловна"));
    for (const auto& [name, forms] : table) {
        const auto& [male, female] = forms;
        // -ович/-евич pair with -овна/-евна (Иванович / Ивановна); the short -ич forms
        // (Ильич, Саввич) with -ична.
        if (endsWith(male, "ович") || endsWith(male, "евич"))
            EXPECT_EQ(female, male.substr(0, male.size() - std::string("ич").size()) + "на")
                << name;
        else
            EXPECT_TRUE(endsWith(male, "ич") && endsWith(female, "ична")) << name;
    }
}

TEST(SeedNames, ListsAreLargeEnoughAndHaveNoDuplicates) {
    const auto surnames = setOf(seeddata::kSurnames);
    const auto women = setOf(seeddata::kFemaleNames);
    std::set<std::string> men;
    for (const auto& n : seeddata::kMaleNames)
        men.insert(std::string(n.name));
    EXPECT_EQ(surnames.size(), std::size(seeddata::kSurnames));
    EXPECT_EQ(women.size(), std::size(seeddata::kFemaleNames));
    EXPECT_EQ(men.size(), std::size(seeddata::kMaleNames));
    EXPECT_GE(surnames.size(), 200u);
    EXPECT_GE(men.size(), 95u);
    EXPECT_GE(women.size(), 95u);
    for (const auto& w : women)
        EXPECT_EQ(men.count(w), 0u) << w << " is on both lists";
}

// --- loading into a store ---------------------------------------------------------------------

namespace {

// Records what seedUnion hands a store. bulkLoad reads members and cards either one stream
// after the other or interleaved, as a store might.
class RecordingStore : public testsupport::RefusingStore {
public:
    bool interleave = false;
    std::vector<Organisation> organisations;
    std::uint64_t members = 0, cards = 0;
    std::map<CardState, std::uint64_t> states;
    std::vector<std::size_t> batches;
    std::vector<Application> applications;
    Digest memberDigest, cardDigest;

    Result<int, StoreError> addApplications(const std::vector<Application>& apps) override {
        batches.push_back(apps.size());
        applications.insert(applications.end(), apps.begin(), apps.end());
        return static_cast<int>(apps.size());
    }
    std::optional<StoreError> bulkLoad(const std::vector<Organisation>& orgs,
                                       const std::function<bool(Member&)>& nextMember,
                                       const std::function<bool(SeedCard&)>& nextCard) override {
        organisations = orgs;
        Member m;
        SeedCard c;
        auto takeMember = [&] {
            if (!nextMember(m))
                return false;
            ++members;
            memberDigest.add(m.id);
            memberDigest.add(m.fullName);
            return true;
        };
        auto takeCard = [&] {
            if (!nextCard(c))
                return false;
            ++cards;
            ++states[c.state];
            cardDigest.add(c.cardNumber);
            cardDigest.add(c.memberId);
            return true;
        };
        if (interleave) {
            bool moreMembers = true, moreCards = true;
            while (moreMembers || moreCards) {
                if (moreMembers)
                    moreMembers = takeMember();
                if (moreCards)
                    moreCards = takeCard();
            }
        } else {
            while (takeMember()) {
            }
            while (takeCard()) {
            }
        }
        return std::nullopt;
    }
};

} // namespace

TEST(SeedUnion, HandsTheStoreTheSameUnionInEitherReadingOrder) {
    const SeedOptions o = smallUnion(20'000, 11);
    RecordingStore sequential, interleaved;
    interleaved.interleave = true;
    std::vector<SeedProgress> progress;
    auto a = seedUnion(sequential, o, [&](const SeedProgress& p) { progress.push_back(p); });
    auto b = seedUnion(interleaved, o);
    ASSERT_TRUE(a.ok()) << a.error().message;
    ASSERT_TRUE(b.ok()) << b.error().message;

    EXPECT_EQ(a->members, 20'000u);
    EXPECT_EQ(sequential.members, 20'000u);
    EXPECT_EQ(a->organisations, 2'000u);
    EXPECT_EQ(sequential.organisations.size(), 2'000u);
    EXPECT_EQ(a->regions, 85);
    EXPECT_EQ(sequential.cards, a->cards);
    for (const auto& [state, count] : a->cardsByState)
        EXPECT_EQ(sequential.states[state], count) << toString(state);
    std::uint64_t byCategory = 0;
    for (const auto& [category, count] : a->membersByCategory)
        byCategory += count;
    EXPECT_EQ(byCategory, a->members);
    EXPECT_EQ(a->applications, sequential.applications.size());
    EXPECT_GT(a->applications, 0u);
    for (auto size : sequential.batches)
        EXPECT_LE(size, 1'000u);

    // The same union whichever way the store reads the streams.
    EXPECT_EQ(sequential.memberDigest.h, interleaved.memberDigest.h);
    EXPECT_EQ(sequential.cardDigest.h, interleaved.cardDigest.h);
    EXPECT_EQ(a->cards, b->cards);
    EXPECT_EQ(a->applications, b->applications);

    // Applications name members that exist, with consent, and ids unique.
    std::set<std::string> ids;
    for (const auto& app : sequential.applications) {
        EXPECT_TRUE(ids.insert(app.id).second) << app.id;
        EXPECT_TRUE(app.consent);
        EXPECT_FALSE(app.fullName.empty());
        EXPECT_FALSE(app.organisationName.empty());
        EXPECT_EQ(app.cardSequence, app.reason == ApplicationReason::FirstCard ? 1 : 2);
    }
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back().stage, "applications");
    EXPECT_EQ(progress.back().done, a->applications);
}

TEST(SeedUnion, ReportsBadOptionsWithoutTouchingTheStore) {
    RecordingStore store;
    SeedOptions o = smallUnion();
    o.regions = 0;
    auto r = seedUnion(store, o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StoreErrorCode::InvalidArgument);
    EXPECT_EQ(store.members, 0u);
    EXPECT_TRUE(store.organisations.empty());
}

// The real store on an SQLite file: what the seed wrote is what the registry answers.
TEST(SeedUnion, LoadsIntoSqlite) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("unioncard-seed-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
        auto opened = openStore("sqlite:" + (dir / "registry.db").string());
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        Store& store = *opened.value();
        const SeedOptions o = smallUnion(20'000, 5);
        auto report = seedUnion(store, o);
        ASSERT_TRUE(report.ok()) << report.error().message;

        // Every pending application is there.
        std::uint64_t pending = 0;
        ApplicationFilter filter;
        filter.limit = 1000;
        for (;;) {
            auto page = store.pendingApplications(filter);
            ASSERT_TRUE(page.ok()) << page.error().message;
            pending += page->items.size();
            if (page->nextCursor.empty())
                break;
            filter.cursor = page->nextCursor;
        }
        EXPECT_EQ(pending, report->applications);

        // The highest serial of each region is the number of cards the seed made there.
        auto generator = SeedGenerator::create(o);
        ASSERT_TRUE(generator.ok());
        std::map<int, std::uint64_t> highest;
        std::vector<std::pair<std::string, CardState>> sample;
        SeedMember m;
        while (generator.value().next(m, false)) {
            for (const auto& c : m.cards) {
                highest[m.member.region] += 1;
                if (sample.size() < 200 && highest[m.member.region] % 37 == 0)
                    sample.emplace_back(c.cardNumber, c.state);
            }
        }
        auto serials = store.highestSerials();
        ASSERT_TRUE(serials.ok()) << serials.error().message;
        for (const auto& [region, serial] : serials.value())
            EXPECT_EQ(serial, highest[region]) << "region " << region;

        // Lookups answer with the state the seed gave.
        for (const auto& [number, state] : sample) {
            auto found = store.lookup(number, false);
            ASSERT_TRUE(found.ok()) << found.error().message;
            ASSERT_TRUE(found->state.has_value()) << number;
            EXPECT_EQ(*found->state, state) << number;
        }
    }
    std::filesystem::remove_all(dir);
}

} // namespace unioncard::registry
