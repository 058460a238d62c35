// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/seed.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>

namespace unioncard::registry {
namespace seeddata {
#include "names_ru.inc"
#include "places_ru.inc"
} // namespace seeddata

namespace {

using namespace std::chrono_literals;

// --- randomness -------------------------------------------------------------------------------

// splitmix64 (Steele, Lea, Flood, OOPSLA 2014; the constants are those of Vigna's reference
// implementation, https://prng.di.unimi.it/splitmix64.c). Fast, tiny, and the same everywhere,
// unlike std::*_distribution, whose output the standard leaves to each library.
constexpr std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next() { return mix(m_state += 0x9e3779b97f4a7c15ULL); }
    /// Uniform in [0, 1) with 53 bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform in [0, n) for n < 2^32 (multiply-shift; the bias, under 2^-32, is irrelevant here).
    std::uint64_t below(std::uint64_t n) { return ((next() >> 32) * n) >> 32; }
    /// Log-normal with median 1: the spread of organisation sizes (Box-Muller for the normal).
    double logNormal(double sigma) {
        const double u1 = 1.0 - uniform(); // (0, 1]: log(0) would be -inf
        const double u2 = uniform();
        const double normal = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        return std::exp(sigma * normal);
    }

private:
    std::uint64_t m_state;
};

// Independent streams: the plan's, and one per member (so that a member's draws do not depend on
// how many draws the members before it made, and the card stream can skip the names).
constexpr std::uint64_t kPlanStream = 0x706c616e00000000ULL;   // "plan"
constexpr std::uint64_t kMemberStream = 0x6d656d6200000000ULL; // "memb"

// --- the union's proportions (BRIEF.md, the union's figures as of late 2023) -----------------

constexpr double kUnionMembers = 3'098'599.0;
constexpr double kStudents = 823'990.0;
// Among the members who are not students (they sit in staff organisations):
constexpr double kWorking = 2'091'676.0;
constexpr double kPensioners = 47'164.0;
constexpr double kNoStatus = 135'767.0;

// What a member's cards look like. Counts per 3,098,599 members: the brief's figures where it
// has them (plastic 2,115,337 including replacements and reprints; virtual 72,324; refused
// 149,463), and plausible small shares for the rest: about five weeks of the 250,000 cards a
// year produced and not yet handed over, and about two months of applications pending.
enum class Profile {
    HandedOver,         // one plastic card in the member's hands
    ReplacedThenHanded, // card 1 replaced, card 2 in the member's hands
    SpoiledThenHanded,  // card 1 spoiled in production, card 2 in the member's hands
    Virtual,            // the mobile app's card
    Refused,            // produced, declined by the member ("Отказ"), kept in the office
    Produced,           // produced, not yet handed over
    LostApplied,        // card 1 lost, an application for card 2 pending
    Lost,               // card 1 lost
    Revoked,            // card 1 withdrawn by the union
    Applied,            // no card yet, a first-card application pending
    NoCard,             // no card, no application
};

struct ProfileShare {
    Profile profile;
    double count; // per kUnionMembers
};

constexpr ProfileShare kProfiles[] = {
    {Profile::HandedOver, 2'105'337},    {Profile::ReplacedThenHanded, 6'000},
    {Profile::SpoiledThenHanded, 4'000}, {Profile::Virtual, 72'324},
    {Profile::Refused, 149'463},         {Profile::Produced, 24'000},
    {Profile::LostApplied, 4'500},       {Profile::Lost, 4'500},
    {Profile::Revoked, 3'000},           {Profile::Applied, 40'000},
    {Profile::NoCard, 685'475},
};
static_assert(2'105'337 + 6'000 + 4'000 + 72'324 + 149'463 + 24'000 + 4'500 + 4'500 + 3'000 +
                      40'000 + 685'475 ==
                  3'098'599,
              "the profiles must add up to the union's members");

// Consent to personal-data processing: 97% of members. A member with a card or an application
// has consented (a card cannot be issued without it), so the 3% without consent are all among
// the members with no card and no application.
constexpr double kWithoutConsent = 0.03;
constexpr double kNoConsentAmongNoCard = kWithoutConsent * kUnionMembers / 685'475.0;

// Education is a women's profession: about four in five staff members, three in five students.
constexpr double kFemaleStaff = 0.82;
constexpr double kFemaleStudents = 0.62;

// --- organisations ------------------------------------------------------------------------------

enum class OrgKind {
    School,
    Gymnasium,
    Lyceum,
    RuralSchool,
    RuralBasicSchool,
    Kindergarten,
    RuralKindergarten,
    ChildrensCentre,
    College,
    University,
};

struct OrgKindShare {
    OrgKind kind;
    double share;  // of the organisations
    double weight; // typical members (staff), relative
};

constexpr OrgKindShare kOrgKinds[] = {
    {OrgKind::School, 0.36, 45},           {OrgKind::Gymnasium, 0.03, 70},
    {OrgKind::Lyceum, 0.02, 70},           {OrgKind::RuralSchool, 0.17, 18},
    {OrgKind::RuralBasicSchool, 0.05, 9},  {OrgKind::Kindergarten, 0.22, 20},
    {OrgKind::RuralKindergarten, 0.06, 7}, {OrgKind::ChildrensCentre, 0.03, 18},
    {OrgKind::College, 0.05, 110},         {OrgKind::University, 0.01, 500},
};

constexpr double kUniversityStudentsWeight = 1500;
constexpr double kCollegeStudentsWeight = 300;
constexpr double kCollegeHasStudentOrg = 0.35;
constexpr double kSizeSpread = 0.6; // sigma of the log-normal size factor

constexpr int kStationsPerRegion = 3;
constexpr std::string_view kVirtualStation = "mobile-app";

// 2024-01-01T00:00:00Z: the default "now", so that default options are reproducible.
constexpr Seconds kDefaultNow{std::chrono::seconds{1'704'067'200}};

template <class T, std::size_t N> constexpr std::size_t countOf(const T (&)[N]) {
    return N;
}

StoreError invalid(std::string message) {
    return StoreError{StoreErrorCode::InvalidArgument, std::move(message)};
}

// Counts proportional to weights that add up to exactly `total` (cumulative rounding: each
// count is the difference of two rounded-down prefix shares, so nothing is lost or invented).
std::vector<std::uint64_t> apportion(std::uint64_t total, const std::vector<double>& weights) {
    std::vector<std::uint64_t> counts(weights.size(), 0);
    double sum = 0;
    for (double w : weights)
        sum += w;
    if (weights.empty() || sum <= 0)
        return counts;
    double prefix = 0;
    std::uint64_t given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        prefix += weights[i];
        std::uint64_t upTo =
            i + 1 == weights.size()
                ? total
                : static_cast<std::uint64_t>(static_cast<long double>(total) * prefix / sum);
        upTo = std::clamp(upTo, given, total);
        counts[i] = upTo - given;
        given = upTo;
    }
    return counts;
}

// "M-16-0000123": a letter, the region (2 digits), a counter (7 digits). By hand, not fmt: it is
// made for every member.
void writeId(std::string& id, char letter, int region, std::uint32_t counter) {
    id.assign("X-00-0000000");
    id[0] = letter;
    id[2] = static_cast<char>('0' + region / 10);
    id[3] = static_cast<char>('0' + region % 10);
    for (std::size_t i = 11; i >= 5; --i, counter /= 10)
        id[i] = static_cast<char>('0' + counter % 10);
}

} // namespace

std::string feminineSurname(std::string_view m) {
    auto endsWith = [&](std::string_view tail) {
        return m.size() >= tail.size() && m.substr(m.size() - tail.size()) == tail;
    };
    // -ский, -цкий -> -ская, -цкая; -ой -> -ая (Толстой, Луговой): adjectival surnames.
    if (endsWith("ий") && (endsWith("ский") || endsWith("цкий")))
        return std::string(m.substr(0, m.size() - std::string_view("ий").size())) + "ая";
    if (endsWith("ой"))
        return std::string(m.substr(0, m.size() - std::string_view("ой").size())) + "ая";
    // -ов, -ев, -ёв, -ин, -ын: possessive surnames take -а.
    for (std::string_view tail : {"ов", "ев", "ёв", "ин", "ын"}) {
        if (endsWith(tail))
            return std::string(m) + "а";
    }
    // -ко, -ых, -их, -ук, -юк and the rest do not change.
    return std::string(m);
}

struct SeedGenerator::Plan {
    SeedOptions options;
    std::vector<int> regions;
    std::vector<Organisation> organisations;
    std::vector<std::uint64_t> memberCounts;                           // per organisation
    std::vector<bool> studentOrganisation;                             // per organisation
    std::vector<std::string> femaleSurnames;                           // parallel to kSurnames
    std::vector<std::array<std::string, kStationsPerRegion>> stations; // per region code
    std::uint64_t memberStreamKey = 0;
};

namespace {

using Plan = SeedGenerator::Plan;

const seeddata::RegionInfo& regionInfo(int code) {
    for (const auto& r : seeddata::kRegionInfo)
        if (r.code == code)
            return r;
    return seeddata::kRegionInfo[0]; // unreachable: codes come from the same table
}

// Lays out one region's organisations: a university with its students' organisation first
// (so every region has students), then kinds drawn by their shares.
void planRegion(Plan& plan, int code, std::uint64_t quota, SplitMix64& rng,
                std::vector<double>& weights) {
    const auto& info = regionInfo(code);
    std::uint32_t next = 1;
    std::array<std::uint32_t, countOf(kOrgKinds)> numbers{}; // per kind: how many so far
    auto add = [&](std::string name, double weight, bool students) {
        plan.organisations.push_back(Organisation{
            static_cast<std::uint32_t>(code) * 100'000u + next++, code, std::move(name)});
        plan.studentOrganisation.push_back(students);
        weights.push_back(weight * rng.logNormal(kSizeSpread));
    };
    auto village = [&] {
        return seeddata::kVillages[rng.below(countOf(seeddata::kVillages))];
    };

    std::uint64_t left = quota;
    bool first = true;
    while (left > 0) {
        std::size_t k = 0;
        if (first) {
            k = countOf(kOrgKinds) - 1; // University
            first = false;
        } else {
            double u = rng.uniform();
            for (k = 0; k + 1 < countOf(kOrgKinds); ++k) {
                if (u < kOrgKinds[k].share)
                    break;
                u -= kOrgKinds[k].share;
            }
        }
        const OrgKind kind = kOrgKinds[k].kind;
        const double weight = kOrgKinds[k].weight;
        const std::uint32_t n = ++numbers[k];
        switch (kind) {
        case OrgKind::School:
            add(fmt::format("МБОУ СОШ № {} {}", n, info.city), weight, false);
            break;
        case OrgKind::Gymnasium:
            add(fmt::format("МАОУ «Гимназия № {}» {}", n, info.city), weight, false);
            break;
        case OrgKind::Lyceum:
            add(fmt::format("МБОУ «Лицей № {}» {}", n, info.city), weight, false);
            break;
        case OrgKind::RuralSchool:
            add(fmt::format("МКОУ «СОШ с. {}»", village()), weight, false);
            break;
        case OrgKind::RuralBasicSchool:
            add(fmt::format("МКОУ «ООШ с. {}»", village()), weight, false);
            break;
        case OrgKind::Kindergarten:
            add(fmt::format("МБДОУ «Детский сад № {}» {}", n, info.city), weight, false);
            break;
        case OrgKind::RuralKindergarten:
            add(fmt::format("МКДОУ «Детский сад с. {}»", village()), weight, false);
            break;
        case OrgKind::ChildrensCentre:
            add(fmt::format("МБУ ДО «Центр детского творчества № {}» {}", n, info.city), weight,
                false);
            break;
        case OrgKind::College:
        case OrgKind::University: {
            const bool university = kind == OrgKind::University;
            const auto& profiles =
                university ? seeddata::kUniversityProfiles : seeddata::kCollegeProfiles;
            const std::size_t count = university ? countOf(seeddata::kUniversityProfiles)
                                                 : countOf(seeddata::kCollegeProfiles);
            const std::uint32_t round = (n - 1) / static_cast<std::uint32_t>(count);
            std::string name = university ? fmt::format("ФГБОУ ВО «{} государственный {}»",
                                                        info.adjective, profiles[(n - 1) % count])
                                          : fmt::format("ГБПОУ «{} {}»", info.adjective,
                                                        profiles[(n - 1) % count]);
            if (round > 0)
                name += fmt::format(" (филиал № {})", round);
            const bool withStudents =
                left >= 2 && (university || rng.uniform() < kCollegeHasStudentOrg);
            std::string students =
                withStudents ? "Первичная профсоюзная организация студентов " + name : "";
            add(std::move(name), weight, false);
            if (withStudents) {
                --left;
                add(std::move(students),
                    university ? kUniversityStudentsWeight : kCollegeStudentsWeight, true);
            }
            break;
        }
        }
        --left;
    }
}

Result<std::shared_ptr<Plan>, StoreError> makePlan(const SeedOptions& options) {
    using R = Result<std::shared_ptr<Plan>, StoreError>;
    if (options.regions < 1 || options.regions > 89)
        return R(fail(invalid(fmt::format(
            "the number of regions must be from 1 to 89 (codes 01-89), not {}", options.regions))));
    if (options.organisations < 2 * options.regions)
        return R(fail(invalid(fmt::format(
            "{} organisations are too few for {} regions: each region needs at least two (a "
            "university and its students' organisation)",
            options.organisations, options.regions))));
    if (options.organisations > 2'000'000)
        return R(fail(
            invalid(fmt::format("{} organisations are more than the seed makes (at most 2,000,000)",
                                options.organisations))));
    if (options.members > 200'000'000)
        return R(fail(invalid(fmt::format(
            "{} members are more than the seed makes (at most 200,000,000)", options.members))));

    auto plan = std::make_shared<Plan>();
    plan->options = options;
    if (plan->options.now == Seconds{})
        plan->options.now = kDefaultNow;
    plan->memberStreamKey = mix(options.randomSeed ^ kMemberStream);

    // Region codes: 1..89 less the vacant ones, and then less the highest, as needed.
    std::vector<int> codes;
    for (int c = 1; c <= 89; ++c)
        codes.push_back(c);
    for (int vacant : seeddata::kVacantFirst) {
        if (static_cast<int>(codes.size()) <= options.regions)
            break;
        codes.erase(std::find(codes.begin(), codes.end(), vacant));
    }
    codes.resize(static_cast<std::size_t>(options.regions));
    plan->regions = codes;

    plan->stations.resize(90);
    for (int code : codes)
        for (int s = 0; s < kStationsPerRegion; ++s)
            plan->stations[static_cast<std::size_t>(code)][static_cast<std::size_t>(s)] =
                fmt::format("ST-{:02}-{:02}", code, s + 1);

    // Organisations per region: two each, the rest by population.
    std::vector<double> regionWeights;
    for (int code : codes)
        regionWeights.push_back(regionInfo(code).weight);
    const auto extra = apportion(
        static_cast<std::uint64_t>(options.organisations - 2 * options.regions), regionWeights);

    SplitMix64 rng(mix(options.randomSeed ^ kPlanStream));
    std::vector<double> weights;
    plan->organisations.reserve(static_cast<std::size_t>(options.organisations));
    for (std::size_t i = 0; i < codes.size(); ++i) {
        const std::uint64_t quota = 2 + extra[i];
        if (quota > 99'999)
            return R(fail(invalid(fmt::format(
                "region {} would get {} organisations; organisation codes allow at most 99,999 "
                "per region",
                codes[i], quota))));
        planRegion(*plan, codes[i], quota, rng, weights);
    }

    // Members: students in the students' organisations, the rest in the staff ones, each pool
    // apportioned by the organisations' sizes.
    const auto students = static_cast<std::uint64_t>(
        std::llround(static_cast<long double>(options.members) * kStudents / kUnionMembers));
    std::vector<double> staffWeights(weights.size()), studentWeights(weights.size());
    for (std::size_t i = 0; i < weights.size(); ++i)
        (plan->studentOrganisation[i] ? studentWeights : staffWeights)[i] = weights[i];
    const auto staffCounts = apportion(options.members - students, staffWeights);
    const auto studentCounts = apportion(students, studentWeights);
    plan->memberCounts.resize(weights.size());
    std::vector<std::uint64_t> perRegion(90, 0);
    for (std::size_t i = 0; i < weights.size(); ++i) {
        plan->memberCounts[i] = staffCounts[i] + studentCounts[i];
        perRegion[static_cast<std::size_t>(plan->organisations[i].region)] += plan->memberCounts[i];
    }
    for (int code : codes) {
        if (perRegion[static_cast<std::size_t>(code)] > 9'999'999)
            return R(fail(invalid(fmt::format(
                "region {} would get {} members; member ids allow at most 9,999,999 per region",
                code, perRegion[static_cast<std::size_t>(code)]))));
    }

    for (auto s : seeddata::kSurnames)
        plan->femaleSurnames.push_back(feminineSurname(s));
    return plan;
}

Profile drawProfile(SplitMix64& rng) {
    double u = rng.uniform() * kUnionMembers;
    for (const auto& p : kProfiles) {
        if (u < p.count)
            return p.profile;
        u -= p.count;
    }
    return Profile::NoCard;
}

// A moment in [now - from, now - to).
Seconds before(SplitMix64& rng, Seconds now, std::chrono::seconds from, std::chrono::seconds to) {
    const auto span = static_cast<std::uint64_t>((from - to).count());
    return now - from + std::chrono::seconds{static_cast<std::int64_t>(rng.below(span))};
}

constexpr std::chrono::seconds kDay = 24h;

} // namespace

SeedGenerator::SeedGenerator(std::shared_ptr<const Plan> plan)
    : m_plan(std::move(plan)), m_memberCounter(90, 0), m_serialCounter(90, 0),
      m_applicationCounter(90, 0) {
    m_leftInOrganisation = m_plan->memberCounts.empty() ? 0 : m_plan->memberCounts[0];
}

Result<SeedGenerator, StoreError> SeedGenerator::create(const SeedOptions& options) {
    auto plan = makePlan(options);
    if (!plan)
        return fail(plan.error());
    return SeedGenerator(std::move(plan).value());
}

const std::vector<Organisation>& SeedGenerator::organisations() const {
    return m_plan->organisations;
}
const std::vector<int>& SeedGenerator::regions() const {
    return m_plan->regions;
}
std::uint64_t SeedGenerator::memberCount() const {
    return m_plan->options.members;
}

bool SeedGenerator::next(SeedMember& out, bool withNames) {
    const Plan& plan = *m_plan;
    const auto& orgs = plan.organisations;
    while (m_leftInOrganisation == 0) {
        if (m_organisation + 1 >= orgs.size()) {
            m_organisation = orgs.size();
            return false;
        }
        m_leftInOrganisation = plan.memberCounts[++m_organisation];
    }
    --m_leftInOrganisation;
    const Organisation& org = orgs[m_organisation];
    const int region = org.region;
    const auto r = static_cast<std::size_t>(region);
    const Seconds now = plan.options.now;
    SplitMix64 rng(mix(plan.memberStreamKey ^ mix(m_index + 1)));
    ++m_index;

    // Who: the order of draws is fixed, and names come last so that withNames changes nothing
    // else.
    Member& m = out.member;
    writeId(m.id, 'M', region, ++m_memberCounter[r]);
    m.region = region;
    m.organisationCode = org.code;
    const bool student = plan.studentOrganisation[m_organisation];
    if (student) {
        m.category = MemberCategory::Student;
        (void)rng.next(); // keep the draw count equal for both kinds of organisation
    } else {
        double u = rng.uniform() * (kWorking + kPensioners + kNoStatus);
        m.category = u < kWorking                 ? MemberCategory::Working
                     : u < kWorking + kPensioners ? MemberCategory::Pensioner
                                                  : MemberCategory::Unknown;
    }
    const bool female = rng.uniform() < (student ? kFemaleStudents : kFemaleStaff);
    const Profile profile = drawProfile(rng);
    const bool consentDraw = rng.uniform() >= kNoConsentAmongNoCard;
    m.consent = profile == Profile::NoCard ? consentDraw : true;

    // Cards: serials dense per region from 1, in member order.
    // The cards' strings are reused from the last member's (most members have one card).
    std::size_t cardCount = 0;
    out.virtualCard = profile == Profile::Virtual;
    auto card = [&](int sequence, CardState state, Seconds at, std::string_view station) {
        auto number = card::CardNumber::compose(region, ++m_serialCounter[r]);
        if (out.cards.size() <= cardCount)
            out.cards.emplace_back();
        SeedCard& c = out.cards[cardCount++];
        c.cardNumber = number ? number->digits() : std::string(); // compose cannot fail here
        c.memberId = m.id;
        c.cardSequence = sequence;
        c.state = state;
        c.at = at;
        c.station = station;
    };
    const std::string& station =
        plan.stations[r][static_cast<std::size_t>(rng.below(kStationsPerRegion))];
    const Seconds early = before(rng, now, 6 * 365 * kDay, 60 * kDay);
    const Seconds recent = before(rng, now, 45 * kDay, 1 * kDay);
    std::optional<ApplicationReason> applying;
    switch (profile) {
    case Profile::HandedOver:
        card(1, CardState::HandedOver, early, station);
        break;
    case Profile::ReplacedThenHanded:
        card(1, CardState::Replaced, early, station);
        card(2, CardState::HandedOver, early + 30 * kDay, station);
        break;
    case Profile::SpoiledThenHanded:
        card(1, CardState::Spoiled, early, station);
        card(2, CardState::HandedOver, early + 7 * kDay, station);
        break;
    case Profile::Virtual:
        card(1, CardState::HandedOver, early, kVirtualStation);
        break;
    case Profile::Refused:
        card(1, CardState::Refused, early, station);
        break;
    case Profile::Produced:
        card(1, CardState::Produced, recent, station);
        break;
    case Profile::LostApplied:
        card(1, CardState::Lost, recent, station);
        applying = ApplicationReason::Lost;
        break;
    case Profile::Lost:
        card(1, CardState::Lost, early + 30 * kDay, station);
        break;
    case Profile::Revoked:
        card(1, CardState::Revoked, early + 30 * kDay, station);
        break;
    case Profile::Applied:
        applying = ApplicationReason::FirstCard;
        break;
    case Profile::NoCard:
        break;
    }
    if (out.cards.size() > cardCount)
        out.cards.resize(cardCount);
    const Seconds appliedAt = before(rng, now, 60 * kDay, 0s);

    out.application.reset();
    if (!withNames) {
        m.fullName.clear();
        return true;
    }
    const auto surname = rng.below(countOf(seeddata::kSurnames));
    const auto& father = seeddata::kMaleNames[rng.below(countOf(seeddata::kMaleNames))];
    m.fullName.clear();
    if (female) {
        m.fullName += plan.femaleSurnames[surname];
        m.fullName += ' ';
        m.fullName += seeddata::kFemaleNames[rng.below(countOf(seeddata::kFemaleNames))];
        m.fullName += ' ';
        m.fullName += father.patronymicFemale;
    } else {
        m.fullName += seeddata::kSurnames[surname];
        m.fullName += ' ';
        m.fullName += seeddata::kMaleNames[rng.below(countOf(seeddata::kMaleNames))].name;
        m.fullName += ' ';
        m.fullName += father.patronymicMale;
    }

    if (applying) {
        Application& a = out.application.emplace();
        writeId(a.id, 'A', region, ++m_applicationCounter[r]);
        a.memberId = m.id;
        a.fullName = m.fullName;
        a.region = region;
        a.organisationCode = org.code;
        a.organisationName = org.name;
        a.category = m.category;
        a.reason = *applying;
        a.consent = true;
        a.cardSequence = *applying == ApplicationReason::FirstCard ? 1 : 2;
        a.createdAt = appliedAt;
    }
    return true;
}

Result<SeedReport, StoreError> seedUnion(Store& store, const SeedOptions& options,
                                         const SeedProgressCallback& progress) {
    const auto started = std::chrono::steady_clock::now();
    auto created = SeedGenerator::create(options);
    if (!created)
        return fail(created.error());
    // Two cursors over the same plan: the store may read members and cards in any order.
    SeedGenerator memberStream = created.value();
    SeedGenerator cardStream = created.value();

    SeedReport report;
    report.organisations = memberStream.organisations().size();
    report.regions = static_cast<int>(memberStream.regions().size());
    for (auto c : {MemberCategory::Working, MemberCategory::Student, MemberCategory::Pensioner,
                   MemberCategory::Unknown})
        report.membersByCategory[c] = 0;
    for (auto s :
         {CardState::Produced, CardState::HandedOver, CardState::Refused, CardState::Suspended,
          CardState::Spoiled, CardState::Lost, CardState::Revoked, CardState::Replaced})
        report.cardsByState[s] = 0;

    const std::uint64_t total = memberStream.memberCount();
    std::vector<Application> applications;
    SeedMember member;
    auto nextMember = [&](Member& out) {
        if (!memberStream.next(member))
            return false;
        std::swap(out, member.member); // hands over the strings; their buffers come back next time
        ++report.members;
        ++report.membersByCategory[out.category];
        report.withConsent += out.consent ? 1 : 0;
        if (member.application)
            applications.push_back(std::move(*member.application));
        if (progress && (report.members % 65'536 == 0 || report.members == total))
            progress(SeedProgress{"members", report.members, total});
        return true;
    };
    SeedMember owner;
    std::size_t nextOfOwner = 0;
    auto nextCard = [&](SeedCard& out) {
        while (nextOfOwner >= owner.cards.size()) {
            if (!cardStream.next(owner, false))
                return false;
            nextOfOwner = 0;
        }
        std::swap(out, owner.cards[nextOfOwner]);
        ++nextOfOwner;
        ++report.cards;
        ++report.cardsByState[out.state];
        report.virtualCards += out.station == kVirtualStation ? 1 : 0;
        return true;
    };
    if (auto error = store.bulkLoad(memberStream.organisations(), nextMember, nextCard))
        return fail(*error);

    // Pending applications: a few per cent of the members, so they fit in memory.
    constexpr std::size_t kBatch = 1'000;
    for (std::size_t i = 0; i < applications.size(); i += kBatch) {
        const auto end = std::min(applications.size(), i + kBatch);
        std::vector<Application> batch(
            std::make_move_iterator(applications.begin() + static_cast<std::ptrdiff_t>(i)),
            std::make_move_iterator(applications.begin() + static_cast<std::ptrdiff_t>(end)));
        auto added = store.addApplications(batch);
        if (!added)
            return fail(added.error());
        report.applications += batch.size();
        if (progress)
            progress(SeedProgress{"applications", report.applications, applications.size()});
    }
    report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return report;
}

} // namespace unioncard::registry
