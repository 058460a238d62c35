// SPDX-License-Identifier: Apache-2.0
// The signed status list (docs/status-list.md): round trips, lookups against a reference map on
// random data, deltas, and every refusal a verifier must make.

#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/registry/status_list.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <set>

namespace unioncard::registry {
namespace {

using namespace std::chrono;
using card::Certificate;
using card::PrivateKey;
namespace cbor = card::cbor;
namespace cose = card::cose;

Seconds at(int y, unsigned m, unsigned d, int h = 0) {
    return Seconds{sys_days{year{y} / month{m} / day{d}}} + hours{h};
}

template <class T, class E> T take(Result<T, E> r) {
    EXPECT_TRUE(r.ok());
    if (!r.ok()) {
        throw std::runtime_error("fixture step failed");
    }
    return std::move(r).value();
}

struct Signer {
    PrivateKey key;
    Certificate cert;
};

// A union root, its status signer, and what should not be able to sign a list.
struct Keys {
    PrivateKey rootKey = take(PrivateKey::generate());
    Certificate root =
        take(card::makeRootCertificate(rootKey, "Test root", {at(2025, 1, 1), at(2045, 1, 1)}));

    Signer statusSigner(const char* name = "registry-status-1") const {
        PrivateKey key = take(PrivateKey::generate());
        Certificate cert = take(card::issueStatusSignerCertificate(
            rootKey, root, key.publicKey(), name, {at(2026, 1, 1), at(2029, 1, 1)}));
        return {std::move(key), std::move(cert)};
    }
    Signer station(const char* id = "st-23-01") const {
        PrivateKey key = take(PrivateKey::generate());
        Certificate cert = take(card::issueStationCertificate(rootKey, root, key.publicKey(), id,
                                                              {at(2026, 1, 1), at(2029, 1, 1)}));
        return {std::move(key), std::move(cert)};
    }
};

const Seconds kIssued = at(2026, 11, 20, 3);
const Seconds kNow = at(2026, 11, 20, 9);

// One set of keys for the whole file: key generation is the slow part.
const Keys& keys() {
    static const Keys k;
    return k;
}
const Signer& signer() {
    static const Signer s = keys().statusSigner();
    return s;
}

StatusListContent smallContent() {
    StatusListContent c;
    c.version = 41;
    c.issuedAt = kIssued;
    c.issuedUpTo = {{1, 20}, {23, 1500}, {89, 0}};
    c.notValid = {{1, 0, Validity::Revoked},       {1, 3, Validity::Suspended},
                  {1, 20, Validity::Revoked},      {23, 1, Validity::Revoked},
                  {23, 77, Validity::Suspended},   {23, 78, Validity::Revoked},
                  {23, 1500, Validity::Suspended}, {89, 0, Validity::Revoked}};
    return c;
}

// Random content: `regions` regions of random size, each card not valid with probability
// `density`, a fifth of those suspended.
StatusListContent randomContent(std::mt19937_64& rng, int regions, std::uint64_t maxSize,
                                double density, std::uint64_t version) {
    StatusListContent c;
    c.version = version;
    c.issuedAt = kIssued;
    std::vector<int> all(89);
    for (int i = 0; i < 89; ++i) {
        all[static_cast<std::size_t>(i)] = i + 1;
    }
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(static_cast<std::size_t>(regions));
    std::sort(all.begin(), all.end());
    std::uniform_real_distribution<double> u(0, 1);
    for (int region : all) {
        const std::uint64_t upTo = std::uniform_int_distribution<std::uint64_t>(0, maxSize)(rng);
        c.issuedUpTo.emplace_back(region, upTo);
        for (std::uint64_t s = 0; s <= upTo; ++s) {
            if (u(rng) < density) {
                c.notValid.push_back(
                    {region, s, u(rng) < 0.2 ? Validity::Suspended : Validity::Revoked});
            }
        }
    }
    return c;
}

// `base` moved on: some cards change validity (to either other value), regions grow, perhaps a
// new region appears.
StatusListContent evolve(std::mt19937_64& rng, const StatusListContent& base, int changes,
                         bool newRegion) {
    std::map<std::pair<int, std::uint64_t>, Validity> cards;
    for (const auto& e : base.notValid) {
        cards[{e.region, e.serial}] = e.validity;
    }
    StatusListContent next;
    next.version = base.version + 1 + rng() % 1000;
    next.issuedAt = base.issuedAt + hours{24};
    std::set<int> used;
    for (auto [region, upTo] : base.issuedUpTo) {
        next.issuedUpTo.emplace_back(region, upTo + rng() % 40);
        used.insert(region);
    }
    if (newRegion) {
        for (int r = 1; r <= 89; ++r) {
            if (used.count(r) == 0) {
                next.issuedUpTo.emplace_back(r, 50 + rng() % 200);
                break;
            }
        }
        std::sort(next.issuedUpTo.begin(), next.issuedUpTo.end());
    }
    for (int i = 0; i < changes; ++i) {
        const auto& [region, upTo] = next.issuedUpTo[rng() % next.issuedUpTo.size()];
        const std::uint64_t serial = rng() % (upTo + 1);
        const auto it = cards.find({region, serial});
        const Validity old = it == cards.end() ? Validity::Valid : it->second;
        const int pick = static_cast<int>(rng() % 2);
        const Validity now =
            old == Validity::Valid       ? (pick ? Validity::Revoked : Validity::Suspended)
            : old == Validity::Suspended ? (pick ? Validity::Revoked : Validity::Valid)
                                         : (pick ? Validity::Suspended : Validity::Valid);
        if (now == Validity::Valid) {
            cards.erase({region, serial});
        } else {
            cards[{region, serial}] = now;
        }
    }
    for (const auto& [where, v] : cards) {
        next.notValid.push_back({where.first, where.second, v});
    }
    return next;
}

std::optional<Validity> reference(const StatusListContent& c, int region, std::uint64_t serial) {
    const auto table = std::find_if(c.issuedUpTo.begin(), c.issuedUpTo.end(),
                                    [&](const auto& p) { return p.first == region; });
    if (table == c.issuedUpTo.end() || serial > table->second) {
        return std::nullopt;
    }
    const auto e = std::lower_bound(
        c.notValid.begin(), c.notValid.end(), StatusEntry{region, serial, Validity::Valid},
        [](const StatusEntry& a, const StatusEntry& b) {
            return std::pair(a.region, a.serial) < std::pair(b.region, b.serial);
        });
    if (e != c.notValid.end() && e->region == region && e->serial == serial) {
        return e->validity;
    }
    return Validity::Valid;
}

Bytes encode(const StatusListContent& c, const Signer& s = signer()) {
    return take(encodeSnapshot(c, s.key, s.cert));
}

StatusList load(const Bytes& bytes) {
    return take(StatusList::load(bytes, keys().root, kNow));
}

StatusListErrorCode loadError(const Bytes& bytes, Seconds now = kNow) {
    auto r = StatusList::load(bytes, keys().root, now);
    EXPECT_FALSE(r.ok());
    return r.ok() ? StatusListErrorCode::InvalidArgument : r.error().code;
}

// Re-signs a list after `edit` changed its payload: tests what the verifier does with a list
// that is authentic but wrong inside.
Bytes resign(const Bytes& list, const std::function<void(cbor::Map&)>& edit,
             const Signer& s = signer()) {
    auto message = take(cose::decode(list, kMaxStatusListSize));
    auto payload = take(cbor::decode(message.payload));
    cbor::Map map = *payload.get<cbor::Map>();
    edit(map);
    std::sort(map.begin(), map.end(), [](const auto& a, const auto& b) {
        return *a.first.template get<std::uint64_t>() < *b.first.template get<std::uint64_t>();
    });
    return take(cose::sign(s.key, s.cert.keyId(), cbor::encode(cbor::Value(map))));
}

void put(cbor::Map& map, std::uint64_t key, cbor::Value value) {
    for (auto& [k, v] : map) {
        if (*k.get<std::uint64_t>() == key) {
            v = std::move(value);
            return;
        }
    }
    map.emplace_back(cbor::Value(key), std::move(value));
}

void drop(cbor::Map& map, std::uint64_t key) {
    std::erase_if(map,
                  [&](const auto& e) { return *e.first.template get<std::uint64_t>() == key; });
}

Bytes bitsOf(const Bytes& list, std::uint64_t key = 10) {
    auto message = take(cose::decode(list, kMaxStatusListSize));
    auto payload = take(cbor::decode(message.payload));
    const cbor::Value* v = payload.find(key);
    return v != nullptr && v->get<Bytes>() != nullptr ? *v->get<Bytes>() : Bytes{};
}

// ---------------------------------------------------------------------------------------------

TEST(StatusSignerCertificate, HasItsOwnUsage) {
    const Signer status = signer();
    const Signer station = keys().station();
    EXPECT_TRUE(status.cert.isStatusSigner());
    EXPECT_FALSE(status.cert.isRecordSigner());
    EXPECT_FALSE(station.cert.isStatusSigner());
    EXPECT_FALSE(keys().root.isStatusSigner());
    EXPECT_TRUE(status.cert.chainsTo(keys().root, kIssued).ok());
    EXPECT_EQ(status.cert.commonName(), "registry-status-1");
}

TEST(StatusSignerCertificate, RefusesBadRequests) {
    const PrivateKey key = take(PrivateKey::generate());
    EXPECT_FALSE(card::issueStatusSignerCertificate(keys().rootKey, keys().root, key.publicKey(),
                                                    "", {at(2026, 1, 1), at(2027, 1, 1)})
                     .ok());
    // Outliving the root.
    EXPECT_FALSE(card::issueStatusSignerCertificate(keys().rootKey, keys().root, key.publicKey(),
                                                    "s", {at(2026, 1, 1), at(2050, 1, 1)})
                     .ok());
    // Issued by something that is not a root.
    const Signer station = keys().station();
    EXPECT_FALSE(card::issueStatusSignerCertificate(station.key, station.cert, key.publicKey(), "s",
                                                    {at(2026, 1, 1), at(2027, 1, 1)})
                     .ok());
}

TEST(StatusList, SnapshotRoundTrip) {
    const StatusListContent c = smallContent();
    const StatusList list = load(encode(c));
    EXPECT_EQ(list.content(), c);
    EXPECT_EQ(list.version(), 41u);
    EXPECT_EQ(list.issuedAt(), kIssued);
    EXPECT_EQ(list.listedCount(), 8u);
    EXPECT_EQ(list.coveredCount(), 21u + 1501u + 1u);
    ASSERT_TRUE(list.signer().has_value());
    EXPECT_EQ(list.signer()->fingerprint(), signer().cert.fingerprint());

    EXPECT_EQ(list.lookup(1, 0), Validity::Revoked);
    EXPECT_EQ(list.lookup(1, 1), Validity::Valid);
    EXPECT_EQ(list.lookup(1, 3), Validity::Suspended);
    EXPECT_EQ(list.lookup(1, 20), Validity::Revoked);
    EXPECT_EQ(list.lookup(23, 1500), Validity::Suspended);
    EXPECT_EQ(list.lookup(89, 0), Validity::Revoked);
    // Not covered: above issuedUpTo, a region the list does not hold, no region at all.
    EXPECT_EQ(list.lookup(1, 21), std::nullopt);
    EXPECT_EQ(list.lookup(89, 1), std::nullopt);
    EXPECT_EQ(list.lookup(2, 0), std::nullopt);
    EXPECT_EQ(list.lookup(0, 0), std::nullopt);
    EXPECT_EQ(list.lookup(90, 0), std::nullopt);
    EXPECT_EQ(list.lookup(-1, 0), std::nullopt);
    EXPECT_EQ(list.lookup(23, kStatusMaxSerial), std::nullopt);
    EXPECT_EQ(list.issuedUpTo(23), 1500u);
    EXPECT_EQ(list.issuedUpTo(24), std::nullopt);

    const auto number = take(card::CardNumber::compose(23, 78));
    EXPECT_EQ(list.lookup(number), Validity::Revoked);
}

TEST(StatusList, EmptyListsRoundTrip) {
    StatusListContent none;
    none.version = 1;
    none.issuedAt = kIssued;
    EXPECT_EQ(load(encode(none)).content(), none);
    none.issuedUpTo = {{5, 1000}};
    const StatusList list = load(encode(none));
    EXPECT_EQ(list.content(), none);
    EXPECT_EQ(list.lookup(5, 1000), Validity::Valid);
    EXPECT_EQ(list.listedCount(), 0u);
}

TEST(StatusList, NoSuspendedCostsNothingButTheirCount) {
    StatusListContent c = smallContent();
    for (auto& e : c.notValid) {
        e.validity = Validity::Revoked;
    }
    EXPECT_TRUE(bitsOf(encode(c), 13).empty());
    EXPECT_EQ(load(encode(c)).content(), c);
}

TEST(StatusList, LookupsMatchAReferenceOnRandomData) {
    std::mt19937_64 rng(20261120);
    for (int round = 0; round < 6; ++round) {
        const double density = std::array{0.0005, 0.01, 0.1, 0.5, 0.9, 1.0}[round];
        const StatusListContent c = randomContent(rng, 1 + round * 10, 6000, density, 7);
        const StatusList list = load(encode(c));
        ASSERT_EQ(list.content(), c) << "density " << density;
        for (const auto& [region, upTo] : c.issuedUpTo) {
            for (std::uint64_t s = 0; s <= upTo + 2; ++s) {
                ASSERT_EQ(list.lookup(region, s), reference(c, region, s))
                    << region << "/" << s << " density " << density;
            }
        }
        for (int i = 0; i < 2000; ++i) {
            const int region = static_cast<int>(rng() % 92) - 1;
            const std::uint64_t serial = rng() % 7000;
            ASSERT_EQ(list.lookup(region, serial), reference(c, region, serial));
        }
    }
}

TEST(StatusList, BuilderStreamsTheSameBytesAsEncodeSnapshot) {
    const StatusListContent c = smallContent();
    auto builder = take(StatusListBuilder::create(c.version, c.issuedAt, c.issuedUpTo));
    for (const auto& e : c.notValid) {
        ASSERT_FALSE(builder.add(e).has_value());
    }
    EXPECT_EQ(builder.count(), c.notValid.size());
    const Bytes viaBuilder = take(builder.finish(signer().key, signer().cert));
    // ECDSA signatures differ each time; the payloads must not.
    EXPECT_EQ(take(cose::decode(viaBuilder, kMaxStatusListSize)).payload,
              take(cose::decode(encode(c), kMaxStatusListSize)).payload);
}

TEST(StatusList, EncoderRefusesWrongContent) {
    const auto refused = [](const StatusListContent& c) {
        auto r = encodeSnapshot(c, signer().key, signer().cert);
        return !r.ok() && r.error().code == StatusListErrorCode::InvalidArgument;
    };
    StatusListContent c = smallContent();
    std::swap(c.notValid[0], c.notValid[1]);
    EXPECT_TRUE(refused(c)) << "out of order";
    c = smallContent();
    c.notValid.insert(c.notValid.begin() + 1, c.notValid[0]);
    EXPECT_TRUE(refused(c)) << "listed twice";
    c = smallContent();
    c.notValid[2].validity = Validity::Valid;
    EXPECT_TRUE(refused(c)) << "a valid card listed";
    c = smallContent();
    c.notValid.back().serial = 1;
    EXPECT_TRUE(refused(c)) << "above issuedUpTo";
    c = smallContent();
    c.notValid.push_back({88, 0, Validity::Revoked});
    std::sort(c.notValid.begin(), c.notValid.end(),
              [](const auto& a, const auto& b) { return a.region < b.region; });
    EXPECT_TRUE(refused(c)) << "a region the table lacks";
    c = smallContent();
    std::swap(c.issuedUpTo[0], c.issuedUpTo[1]);
    EXPECT_TRUE(refused(c)) << "regions out of order";
    c = smallContent();
    c.issuedUpTo.push_back({90, 1});
    EXPECT_TRUE(refused(c)) << "region 90";
    c = smallContent();
    c.issuedUpTo[0].second = kStatusMaxSerial + 1;
    EXPECT_TRUE(refused(c)) << "a 10-digit serial";

    // Keys: a station's certificate, a key that is not the certificate's, a date outside it.
    const Signer station = keys().station();
    auto r = encodeSnapshot(smallContent(), station.key, station.cert);
    EXPECT_FALSE(r.ok());
    r = encodeSnapshot(smallContent(), station.key, signer().cert);
    EXPECT_FALSE(r.ok());
    c = smallContent();
    c.issuedAt = at(2030, 1, 1);
    r = encodeSnapshot(c, signer().key, signer().cert);
    EXPECT_FALSE(r.ok());
}

TEST(StatusList, CoversAtMostTheCap) {
    StatusListContent c;
    c.issuedAt = kIssued;
    for (int r = 1; r <= 89; ++r) {
        c.issuedUpTo.emplace_back(r, kStatusMaxSerial);
    }
    auto r = encodeSnapshot(c, signer().key, signer().cert);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StatusListErrorCode::TooLarge);
}

// ---------------------------------------------------------------------------------------------
// Refusals

TEST(StatusList, FitCoverageCutsOnlyTheOutsizedRegions) {
    using Table = std::vector<std::pair<int, std::uint64_t>>;
    const Table fits{{1, 10}, {23, 500}, {77, 40}};
    EXPECT_EQ(fitCoverage(fits, 553), fits); // 11 + 501 + 41 positions: exactly the budget
    // One region far past the rest: it alone is cut, to what the budget leaves.
    EXPECT_EQ(fitCoverage(fits, 300), (Table{{1, 10}, {23, 247}, {77, 40}}));
    // Two outsized regions share one ceiling.
    EXPECT_EQ(fitCoverage({{1, 10}, {23, 500}, {77, 900}}, 300),
              (Table{{1, 10}, {23, 143}, {77, 143}}));
    EXPECT_EQ(fitCoverage({}, 10), Table{});
    // At the real cap: a card at serial 999,999,999 leaves every other region whole.
    const auto real = fitCoverage({{5, 3'100'000}, {23, 999'999'999}});
    EXPECT_EQ(real.front(), (std::pair<int, std::uint64_t>{5, 3'100'000}));
    EXPECT_EQ(3'100'001 + real.back().second + 1, kMaxCoveredPositions);
    EXPECT_TRUE(StatusListBuilder::create(1, kIssued, real).ok());
}

TEST(StatusListRefuses, AnyFlippedByte) {
    const Bytes good = encode(smallContent());
    for (std::size_t i = 0; i < good.size(); ++i) {
        Bytes bad = good;
        bad[i] ^= 0x01;
        ASSERT_FALSE(StatusList::load(bad, keys().root, kNow).ok()) << "byte " << i;
    }
}

TEST(StatusListRefuses, AFlippedBitInTheCodedCardsAsABadSignature) {
    std::mt19937_64 rng(5);
    const Bytes good = encode(randomContent(rng, 3, 5000, 0.1, 9));
    Bytes bad = good;
    bad[bad.size() / 2] ^= 0x10; // inside the coded cards' byte string
    EXPECT_EQ(loadError(bad), StatusListErrorCode::BadSignature);
}

TEST(StatusListRefuses, ASignerNotCertifiedByThePinnedRoot) {
    const Keys other;
    const Signer stranger = other.statusSigner();
    const Bytes list = encode(smallContent(), stranger);
    EXPECT_EQ(loadError(list), StatusListErrorCode::UntrustedSigner);
    // ... and the right signer's list against another root.
    auto r = StatusList::load(encode(smallContent()), other.root, kNow);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StatusListErrorCode::UntrustedSigner);
}

TEST(StatusListRefuses, AStationCertificateAsSigner) {
    const Signer station = keys().station();
    const Bytes list = resign(
        encode(smallContent()),
        [&](cbor::Map& m) { put(m, 14, cbor::Value(station.cert.toDer())); }, station);
    EXPECT_EQ(loadError(list), StatusListErrorCode::NotStatusSigner);
}

TEST(StatusListRefuses, AKeyIdOrKeyOtherThanTheCertificates) {
    // Signed by another status signer while carrying the first one's certificate.
    const Signer second = keys().statusSigner("registry-status-2");
    const Bytes list = resign(
        encode(smallContent()), [](cbor::Map&) {}, second);
    EXPECT_EQ(loadError(list), StatusListErrorCode::BadSignature);
}

TEST(StatusListRefuses, ATruncatedBitString) {
    std::mt19937_64 rng(11);
    const Bytes good = encode(randomContent(rng, 4, 3000, 0.05, 3));
    Bytes bits = bitsOf(good);
    ASSERT_GT(bits.size(), 10u);
    bits.resize(bits.size() - 3);
    const Bytes list = resign(good, [&](cbor::Map& m) { put(m, 10, cbor::Value(bits)); });
    EXPECT_EQ(loadError(list), StatusListErrorCode::Damaged);
    // The message itself cut short.
    const Bytes cut(good.begin(), good.end() - 20);
    EXPECT_EQ(loadError(cut), StatusListErrorCode::Damaged);
}

TEST(StatusListRefuses, InconsistentCodedContent) {
    const Bytes good = encode(smallContent());
    const Bytes bits = bitsOf(good);
    struct Case {
        const char* what;
        std::function<void(cbor::Map&)> edit;
        StatusListErrorCode code;
    };
    const std::vector<Case> cases = {
        {"one more listed than coded",
         [](cbor::Map& m) { put(m, 8, cbor::Value(std::uint64_t{9})); },
         StatusListErrorCode::Damaged},
        {"one fewer listed than coded",
         [](cbor::Map& m) { put(m, 8, cbor::Value(std::uint64_t{7})); },
         StatusListErrorCode::Damaged},
        {"a trailing byte",
         [&](cbor::Map& m) {
             Bytes b = bits;
             b.push_back(0);
             put(m, 10, cbor::Value(b));
         },
         StatusListErrorCode::Damaged},
        {"all ones", [&](cbor::Map& m) { put(m, 10, cbor::Value(Bytes(bits.size(), 0xFF))); },
         StatusListErrorCode::Damaged},
        {"M zero", [](cbor::Map& m) { put(m, 9, cbor::Value(std::uint64_t{0})); },
         StatusListErrorCode::Damaged},
        {"more suspended than listed",
         [](cbor::Map& m) { put(m, 11, cbor::Value(std::uint64_t{9})); },
         StatusListErrorCode::Damaged},
        {"suspended count without its coding", [](cbor::Map& m) { drop(m, 13); },
         StatusListErrorCode::Damaged},
        {"no signer certificate", [](cbor::Map& m) { drop(m, 14); }, StatusListErrorCode::Damaged},
        {"an unknown field", [](cbor::Map& m) { put(m, 15, cbor::Value(std::uint64_t{1})); },
         StatusListErrorCode::Damaged},
        {"a delta's field", [](cbor::Map& m) { put(m, 4, cbor::Value(std::uint64_t{1})); },
         StatusListErrorCode::Damaged},
        {"format version 2", [](cbor::Map& m) { put(m, 1, cbor::Value(std::uint64_t{2})); },
         StatusListErrorCode::Unsupported},
        {"a region table entry out of range",
         [](cbor::Map& m) {
             put(m, 6,
                 cbor::Value(cbor::Array{cbor::Value(
                     cbor::Array{cbor::Value(std::uint64_t{90}), cbor::Value(std::uint64_t{5})})}));
         },
         StatusListErrorCode::Damaged},
        {"regions that shrank below the listed cards",
         [](cbor::Map& m) {
             put(m, 6,
                 cbor::Value(cbor::Array{cbor::Value(
                     cbor::Array{cbor::Value(std::uint64_t{1}), cbor::Value(std::uint64_t{3})})}));
         },
         StatusListErrorCode::Damaged},
        {"more positions than a verifier holds",
         [](cbor::Map& m) {
             cbor::Array table;
             for (std::uint64_t r = 1; r <= 89; ++r) {
                 table.emplace_back(
                     cbor::Array{cbor::Value(r), cbor::Value(std::uint64_t{kStatusMaxSerial})});
             }
             put(m, 6, cbor::Value(std::move(table)));
         },
         StatusListErrorCode::TooLarge},
        {"a kind that is neither", [](cbor::Map& m) { put(m, 2, cbor::Value(std::uint64_t{3})); },
         StatusListErrorCode::Damaged},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(loadError(resign(good, c.edit)), c.code) << c.what;
    }
}

TEST(StatusListRefuses, RandomCodedBytesWithoutCrashing) {
    // Authentic lists with garbage inside: refused or read, never a crash or an overrun (run
    // under the asan preset to see the latter).
    const Bytes good = encode(smallContent());
    std::mt19937_64 rng(77);
    int refused = 0;
    for (int i = 0; i < 300; ++i) {
        Bytes junk(1 + rng() % 12);
        for (auto& b : junk) {
            b = static_cast<std::uint8_t>(rng());
        }
        const bool suspendedToo = (i % 2) == 1;
        const Bytes list =
            resign(good, [&](cbor::Map& m) { put(m, suspendedToo ? 13 : 10, cbor::Value(junk)); });
        refused += StatusList::load(list, keys().root, kNow).ok() ? 0 : 1;
    }
    EXPECT_GT(refused, 250);
}

TEST(StatusListRefuses, OversizedInput) {
    Bytes huge(kMaxStatusListSize + 1, 0);
    EXPECT_EQ(loadError(huge), StatusListErrorCode::TooLarge);
}

TEST(StatusListRefuses, ADeltaAsASnapshotAndTheOtherWayRound) {
    const StatusList a = take(StatusList::fromContent(smallContent(), signer().cert));
    std::mt19937_64 rng(1);
    const StatusList b = take(StatusList::fromContent(evolve(rng, smallContent(), 3, false)));
    const Bytes delta = take(encodeDelta(a, b, signer().key, signer().cert));
    EXPECT_EQ(loadError(delta), StatusListErrorCode::WrongKind);
    auto r = a.applyDelta(encode(smallContent()), keys().root, kNow);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StatusListErrorCode::WrongKind);
}

TEST(StatusListRefuses, AListFromTheFuture) {
    EXPECT_EQ(loadError(encode(smallContent()), kIssued - hours{1}),
              StatusListErrorCode::FromFuture);
    // Within the allowed clock skew it is accepted.
    EXPECT_TRUE(StatusList::load(encode(smallContent()), keys().root, kIssued - minutes{5}).ok());
}

// ---------------------------------------------------------------------------------------------
// Deltas

TEST(StatusListDelta, RoundTripOnRandomData) {
    std::mt19937_64 rng(31);
    for (int round = 0; round < 5; ++round) {
        const StatusListContent a = randomContent(rng, 5 + round * 5, 4000, 0.05, 100);
        const StatusListContent b = evolve(rng, a, 1 + round * 300, round % 2 == 1);
        const StatusList held = load(encode(a));
        const StatusList from = take(StatusList::fromContent(a, signer().cert));
        const StatusList to = take(StatusList::fromContent(b, signer().cert));
        const Bytes delta = take(encodeDelta(from, to, signer().key, signer().cert));
        const StatusList updated = take(held.applyDelta(delta, keys().root, kNow + hours{24}));
        ASSERT_EQ(updated.content(), b) << "round " << round;
        EXPECT_EQ(updated.version(), b.version);
        EXPECT_EQ(updated.issuedAt(), b.issuedAt);
        EXPECT_EQ(updated.listedCount(), b.notValid.size());
        for (const auto& [region, upTo] : b.issuedUpTo) {
            for (std::uint64_t s = 0; s <= upTo + 1; s += 7) {
                ASSERT_EQ(updated.lookup(region, s), reference(b, region, s));
            }
        }
        // The list it was applied to is unchanged.
        EXPECT_EQ(held.content(), a);
    }
}

TEST(StatusListDelta, ChainEqualsADirectSnapshot) {
    std::mt19937_64 rng(42);
    std::vector<StatusListContent> versions{randomContent(rng, 30, 3000, 0.08, 1000)};
    for (int i = 0; i < 5; ++i) {
        versions.push_back(evolve(rng, versions.back(), 200, i == 2));
    }
    StatusList held = load(encode(versions.front()));
    Seconds now = kNow;
    for (std::size_t i = 1; i < versions.size(); ++i) {
        const StatusList from = take(StatusList::fromContent(versions[i - 1], signer().cert));
        const StatusList to = take(StatusList::fromContent(versions[i], signer().cert));
        now += hours{24};
        held = take(held.applyDelta(take(encodeDelta(from, to, signer().key, signer().cert)),
                                    keys().root, now));
    }
    const StatusList direct = take(StatusList::load(encode(versions.back()), keys().root, now));
    EXPECT_EQ(held.content(), direct.content());
    EXPECT_EQ(held.content(), versions.back());
    EXPECT_EQ(held.listedCount(), direct.listedCount());
    EXPECT_EQ(held.coveredCount(), direct.coveredCount());
}

TEST(StatusListDelta, LeavesOutTheCertificateTheVerifierHas) {
    std::mt19937_64 rng(8);
    const Seconds kLater = kNow + hours{24};
    const StatusListContent a = smallContent();
    const StatusListContent b = evolve(rng, a, 5, false);
    const StatusList to = take(StatusList::fromContent(b));
    const Bytes withCert =
        take(encodeDelta(take(StatusList::fromContent(a)), to, signer().key, signer().cert));
    const Bytes without = take(encodeDelta(take(StatusList::fromContent(a, signer().cert)), to,
                                           signer().key, signer().cert));
    EXPECT_LT(without.size() + signer().cert.toDer().size(), withCert.size() + 8);
    const StatusList held = load(encode(a));
    EXPECT_EQ(take(held.applyDelta(withCert, keys().root, kLater)).content(), b);
    EXPECT_EQ(take(held.applyDelta(without, keys().root, kLater)).content(), b);

    // A new signer's delta carries its certificate, and the list then holds that signer.
    const Signer next = keys().statusSigner("registry-status-2");
    const Bytes rotated =
        take(encodeDelta(take(StatusList::fromContent(a, signer().cert)), to, next.key, next.cert));
    const StatusList after = take(held.applyDelta(rotated, keys().root, kLater));
    EXPECT_EQ(after.content(), b);
    EXPECT_EQ(after.signer()->fingerprint(), next.cert.fingerprint());

    // A certificate-less delta from another key than the held list's is refused.
    const Bytes foreign =
        take(encodeDelta(take(StatusList::fromContent(a, next.cert)), to, next.key, next.cert));
    auto r = held.applyDelta(foreign, keys().root, kLater);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StatusListErrorCode::UntrustedSigner);
    // ... as is any delta for a list that has no signer to check it with.
    r = take(StatusList::fromContent(a)).applyDelta(without, keys().root, kLater);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StatusListErrorCode::UntrustedSigner);
}

TEST(StatusListDelta, RefusesAWrongBase) {
    std::mt19937_64 rng(3);
    const StatusListContent a = smallContent();
    const StatusListContent b = evolve(rng, a, 4, false);
    const StatusListContent c = evolve(rng, b, 4, false);
    const Bytes bToC = take(encodeDelta(take(StatusList::fromContent(b, signer().cert)),
                                        take(StatusList::fromContent(c, signer().cert)),
                                        signer().key, signer().cert));
    auto r = load(encode(a)).applyDelta(bToC, keys().root, kNow);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StatusListErrorCode::BaseMismatch);
    EXPECT_NE(r.error().message.find(std::to_string(b.version)), std::string::npos);
}

TEST(StatusListDelta, RefusesTamperingAndNonsense) {
    std::mt19937_64 rng(4);
    const StatusListContent a = randomContent(rng, 6, 2000, 0.1, 10);
    const StatusListContent b = evolve(rng, a, 50, true);
    const StatusList held = load(encode(a));
    const Bytes good = take(encodeDelta(take(StatusList::fromContent(a, signer().cert)),
                                        take(StatusList::fromContent(b, signer().cert)),
                                        signer().key, signer().cert));
    const auto code = [&](const Bytes& delta) {
        auto r = held.applyDelta(delta, keys().root, kNow + hours{24});
        EXPECT_FALSE(r.ok());
        return r.ok() ? StatusListErrorCode::InvalidArgument : r.error().code;
    };
    Bytes flipped = good;
    flipped[flipped.size() / 2] ^= 0x04;
    EXPECT_NE(code(flipped), StatusListErrorCode::InvalidArgument);
    EXPECT_EQ(code(resign(good, [](cbor::Map& m) { put(m, 7, cbor::Value(cbor::Array{})); })),
              StatusListErrorCode::Damaged)
        << "growth for fewer regions than the list has";
    EXPECT_EQ(code(resign(good, [](cbor::Map& m) { put(m, 3, cbor::Value(std::uint64_t{5})); })),
              StatusListErrorCode::Damaged)
        << "a version before its base";
    const Bytes bits = bitsOf(good);
    ASSERT_FALSE(bits.empty());
    EXPECT_EQ(code(resign(good,
                          [&](cbor::Map& m) {
                              put(m, 10, cbor::Value(Bytes(bits.begin(), bits.end() - 2)));
                          })),
              StatusListErrorCode::Damaged)
        << "truncated changes";
    EXPECT_EQ(code(resign(good, [](cbor::Map& m) { put(m, 11, cbor::Value(std::uint64_t{0})); })),
              StatusListErrorCode::Damaged)
        << "a snapshot's field";
    // The encoder refuses a delta that would go backwards or shrink a region.
    EXPECT_FALSE(encodeDelta(take(StatusList::fromContent(b)), take(StatusList::fromContent(a)),
                             signer().key, signer().cert)
                     .ok());
}

// ---------------------------------------------------------------------------------------------
// Age

TEST(StatusListAge, SaysWhenTheListIsTooOld) {
    const StatusList list = load(encode(smallContent()));
    EXPECT_FALSE(list.olderThan(hours{24}, kIssued + hours{24}));
    EXPECT_TRUE(list.olderThan(hours{24}, kIssued + hours{24} + seconds{1}));
    EXPECT_FALSE(list.stalenessWarning(hours{24}, kIssued + hours{2}).has_value());
    const auto warning = list.stalenessWarning(hours{24}, kIssued + hours{75});
    ASSERT_TRUE(warning.has_value());
    EXPECT_NE(warning->find("2026-11-20 03:00 UTC"), std::string::npos) << *warning;
    EXPECT_NE(warning->find("3 d 3 h"), std::string::npos) << *warning;
    EXPECT_NE(warning->find("1 d allowed"), std::string::npos) << *warning;

    // A delta brings the age back.
    std::mt19937_64 rng(9);
    StatusListContent b = evolve(rng, smallContent(), 2, false);
    b.issuedAt = kIssued + hours{74};
    const Bytes delta =
        take(encodeDelta(take(StatusList::fromContent(smallContent(), signer().cert)),
                         take(StatusList::fromContent(b)), signer().key, signer().cert));
    const StatusList fresh = take(list.applyDelta(delta, keys().root, kIssued + hours{75}));
    EXPECT_FALSE(fresh.olderThan(hours{24}, kIssued + hours{75}));
}

// ---------------------------------------------------------------------------------------------
// The worked example of docs/status-list.md §Golomb coding.

TEST(StatusListFormat, MatchesTheWorkedExample) {
    StatusListContent c;
    c.version = 1;
    c.issuedAt = kIssued;
    c.issuedUpTo = {{1, 9}, {2, 9}};
    c.notValid = {{1, 2, Validity::Revoked},
                  {1, 3, Validity::Suspended},
                  {1, 8, Validity::Revoked},
                  {2, 5, Validity::Revoked}};
    const Bytes list = encode(c);
    auto payload = take(cbor::decode(take(cose::decode(list, kMaxStatusListSize)).payload));
    EXPECT_EQ(*payload.find(9)->get<std::uint64_t>(), 3u);
    EXPECT_EQ(*payload.find(10)->get<Bytes>(), (Bytes{0x65, 0x60}));
    EXPECT_EQ(*payload.find(11)->get<std::uint64_t>(), 1u);
    EXPECT_EQ(*payload.find(12)->get<std::uint64_t>(), 1u);
    EXPECT_EQ(*payload.find(13)->get<Bytes>(), (Bytes{0x80}));
    EXPECT_EQ(load(list).content(), c);
}

TEST(StatusListFormat, MatchesTheDeltaWorkedExample) {
    StatusListContent from;
    from.version = 1;
    from.issuedAt = kIssued;
    from.issuedUpTo = {{1, 9}};
    from.notValid = {{1, 2, Validity::Revoked}, {1, 3, Validity::Suspended}};
    StatusListContent to;
    to.version = 2;
    to.issuedAt = kIssued + hours{1};
    to.issuedUpTo = {{1, 11}};
    to.notValid = {{1, 3, Validity::Revoked}, {1, 10, Validity::Suspended}};
    const Bytes delta =
        take(encodeDelta(take(StatusList::fromContent(from, signer().cert)),
                         take(StatusList::fromContent(to)), signer().key, signer().cert));
    auto payload = take(cbor::decode(take(cose::decode(delta, kMaxStatusListSize)).payload));
    EXPECT_EQ(*payload.find(4)->get<std::uint64_t>(), 1u);
    EXPECT_TRUE(payload.find(6)->get<cbor::Array>()->empty());
    ASSERT_EQ(payload.find(7)->get<cbor::Array>()->size(), 1u);
    EXPECT_EQ(*(*payload.find(7)->get<cbor::Array>())[0].get<std::uint64_t>(), 2u);
    EXPECT_EQ(*payload.find(8)->get<std::uint64_t>(), 3u);
    EXPECT_EQ(*payload.find(9)->get<std::uint64_t>(), 3u);
    EXPECT_EQ(*payload.find(10)->get<Bytes>(), (Bytes{0x63, 0x80}));
    EXPECT_EQ(payload.find(14), nullptr);
    EXPECT_EQ(take(load(encode(from)).applyDelta(delta, keys().root, kNow)).content(), to);
}

} // namespace
} // namespace unioncard::registry
