// SPDX-License-Identifier: Apache-2.0
// Status lists and verdicts: whatever the registry or the network does, a desk never answers
// "valid" for a card it cannot know is valid. The registry runs in process over HTTP on
// loopback on a SQLite file; the desk is the verifier library with its own file. Dates come
// from the test's clock, so the tests hold on any day.

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/trust_list.hpp>
#include <unioncard/registry/client.hpp>
#include <unioncard/registry/seed.hpp>
#include <unioncard/registry/service.hpp>
#include <unioncard/registry/status_list.hpp>
#include <unioncard/verifier/desk.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <httplib.h>
#include <thread>

namespace unioncard {
namespace {

using namespace std::chrono;
using registry::EventKind;
namespace fs = std::filesystem;

card::Seconds now() {
    return time_point_cast<seconds>(system_clock::now());
}

template <class T, class E> T take(Result<T, E> r) {
    if (!r.ok())
        throw std::runtime_error("fixture step failed");
    return std::move(r).value();
}

// The union's root, a station that signs records, and the registry's status signer, whose
// certificate ends `signerLife` from now.
struct Keys {
    card::PrivateKey rootKey = take(card::PrivateKey::generate());
    card::Certificate root = take(
        card::makeRootCertificate(rootKey, "Test root", {now() - days(90), now() + days(3650)}));
    card::PrivateKey stationKey = take(card::PrivateKey::generate());
    card::StationSigner station{stationKey, take(card::issueStationCertificate(
                                                rootKey, root, stationKey.publicKey(), "st-23-01",
                                                {now() - days(60), now() + days(1826)}))};
    card::Bytes trustList =
        take(card::TrustList::build(rootKey, root, {station.certificate}, 1, now()));

    registry::StatusSigner statusSigner(seconds signerLife) const {
        auto key = take(card::PrivateKey::generate());
        auto cert = take(card::issueStatusSignerCertificate(
            rootKey, root, key.publicKey(), "status-1", {now() - days(1), now() + signerLife}));
        return {std::move(key), std::move(cert), root};
    }
};

class StatusListAttack : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("uc-security-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        dbUrl = "sqlite:" + (dir / "registry.db").string();
        auto store = take(registry::openStore(dbUrl));
        registry::SeedOptions seed;
        seed.members = 50;
        seed.now = now();
        ASSERT_TRUE(registry::seedUnion(*store, seed));
        token = registry::newToken();
        ASSERT_FALSE(store->putDevice(
            {"vf-01", registry::Role::Verifier, std::nullopt, now() + days(1), false},
            registry::tokenDigest(token)));
        auto page = take(store->pendingApplications({std::nullopt, std::nullopt, "", 10}));
        ASSERT_FALSE(page.items.empty());
        memberId = page.items.front().memberId;
        // Three serials leased; the middle one is never used, so the list covers it.
        const auto lease = take(store->leaseSerials(23, 3, "st-23-01"));
        cards.push_back(take(card::CardNumber::compose(23, lease.firstSerial)));
        cards.push_back(take(card::CardNumber::compose(23, lease.firstSerial + 2)));
        unused = lease.firstSerial + 1;
        for (const auto& number : cards) {
            record(*store, number, EventKind::Produced);
            record(*store, number, EventKind::HandedOver);
        }
    }
    void TearDown() override {
        service.reset();
        fs::remove_all(dir);
    }

    void record(registry::Store& store, const card::CardNumber& number, EventKind kind) {
        registry::StatusEvent e;
        e.idempotencyKey = "ev-" + number.digits() + "-" + std::string(toString(kind));
        e.kind = kind;
        e.cardNumber = number.digits();
        e.memberId = memberId;
        e.station = "st-23-01";
        e.operatorId = "op-1";
        e.at = now();
        e.cardSequence = 1;
        ASSERT_TRUE(store.recordEvent(e, "st-23-01"));
    }

    // The signed record on card `number`'s chip, as a verifier reads it from the chip.
    card::Bytes signedRecord(const card::CardNumber& number) const {
        const auto today = floor<days>(now());
        return take(
            card::signRecord(keys.station, {number, memberId, 23, 100245, 1, today - days(1),
                                            today + days(1826), kUid, "st-23-01"}));
    }

    void startRegistry(registry::StatusSigner signer, seconds interval) {
        registry::ServiceConfig config;
        config.statusSigner = std::move(signer);
        config.statusListInterval = interval;
        config.accessLog = false;
        config.threads = 2;
        service = std::make_unique<Running>(take(registry::openStore(dbUrl)), std::move(config));
    }

    registry::RegistryClient client() const {
        registry::ClientConfig config;
        config.baseUrl = "http://127.0.0.1:" + std::to_string(service->port);
        config.bearerToken = token;
        return take(registry::RegistryClient::create(config));
    }

    verifier::VerifierStore desk() {
        auto store = take(verifier::VerifierStore::open(dir / "desk.db"));
        EXPECT_TRUE(
            verifier::acceptTrustList(store, keys.trustList, keys.root.fingerprint(), now()));
        return store;
    }

    verifier::Verdict verifyOffline(verifier::VerifierStore& store,
                                    const card::CardNumber& number) {
        const verifier::Lists lists = verifier::loadLists(store, keys.root.fingerprint(), now());
        verifier::Context context;
        verifier::useLists(context, lists);
        context.now = now();
        return verifier::verifyRecordBytes(signedRecord(number), verifier::Source::Chip, kUid,
                                           context);
    }

    struct Running {
        registry::Service service;
        std::thread thread;
        int port = 0;
        Running(std::unique_ptr<registry::Store> store, registry::ServiceConfig config)
            : service(std::move(store), std::move(config)) {
            if (auto e = service.bind())
                throw std::runtime_error(e->message);
            port = service.port();
            thread = std::thread([this] { service.run(); });
        }
        ~Running() {
            service.stop();
            thread.join();
        }
    };

    const card::Bytes kUid{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6};
    Keys keys;
    fs::path dir;
    std::string dbUrl, token, memberId;
    std::vector<card::CardNumber> cards; ///< produced and handed over
    std::uint64_t unused = 0;            ///< leased, never used
    std::unique_ptr<Running> service;
};

// The status signer's certificate ends during the run, and a card is revoked afterwards. The
// registry cannot sign a list of its new state; before the fix it went on serving the old list
// as current (204 to a delta), and the desk, confirmed "just now", called the revoked card valid.
TEST_F(StatusListAttack, ASignerCertificateThatRunsOutMidRunNeverLetsARevokedCardReadValid) {
    startRegistry(keys.statusSigner(seconds(2)), seconds(1));
    auto store = desk();
    auto registryClient = client();
    const auto first = verifier::sync(store, registryClient, keys.root.fingerprint(), now(), 30);
    ASSERT_TRUE(first.statusVersion) << (first.problems.empty() ? "" : first.problems.front());
    EXPECT_EQ(verifyOffline(store, cards[1]).code, verifier::VerdictCode::Valid);

    std::this_thread::sleep_for(milliseconds(3100)); // the signer's certificate has ended
    record(*take(registry::openStore(dbUrl)), cards[1], EventKind::Revoked);
    // Two syncs a moment apart: the second falls within the publisher's interval.
    for (int round = 0; round < 2; ++round) {
        const auto report =
            verifier::sync(store, registryClient, keys.root.fingerprint(), now(), 30);
        EXPECT_FALSE(report.statusVersion) << "round " << round;
        ASSERT_FALSE(report.problems.empty());
        EXPECT_NE(report.problems.back().find("cannot publish a status list"), std::string::npos)
            << report.problems.back();
    }
    for (const auto& number : cards) {
        const auto v = verifyOffline(store, number);
        EXPECT_EQ(v.code, verifier::VerdictCode::CannotConfirmOffline) << v.reason;
        EXPECT_NE(v.reason.find("cannot publish a current status list"), std::string::npos)
            << v.reason;
    }

    // The registry says so where its operators look.
    httplib::Client http("127.0.0.1", service->port);
    auto health = http.Get("/v1/health");
    ASSERT_TRUE(health);
    const auto body = nlohmann::json::parse(health->body);
    EXPECT_EQ(body["status"], "degraded");
    EXPECT_NE(body.value("status_list_error", "").find("certificate"), std::string::npos)
        << health->body;
}

// A registry (or someone in its place on the network) answers "up to date" naming another
// version than the one the desk holds. Before the fix the desk took that as confirmation.
TEST_F(StatusListAttack, AnUpToDateAnswerForAnotherVersionIsNoConfirmation) {
    startRegistry(keys.statusSigner(days(30)), seconds(0));
    auto store = desk();
    {
        auto registryClient = client();
        ASSERT_TRUE(verifier::sync(store, registryClient, keys.root.fingerprint(), now(), 30)
                        .statusVersion);
    }
    const auto confirmedBefore = store.setting("status_confirmed_at");
    ASSERT_TRUE(confirmedBefore);

    httplib::Server fake;
    fake.Get("/v1/status-list/delta", [](const httplib::Request&, httplib::Response& res) {
        res.set_header("X-Status-List-Version", "999999");
        res.status = 204;
    });
    fake.set_keep_alive_max_count(1); // else stop() waits out a kept-alive connection (5 s)
    const int port = fake.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { fake.listen_after_bind(); });
    registry::ClientConfig config;
    config.baseUrl = "http://127.0.0.1:" + std::to_string(port);
    config.bearerToken = token;
    auto fakeClient = take(registry::RegistryClient::create(config));
    std::this_thread::sleep_for(seconds(1)); // so that a new confirmation would differ
    const auto report = verifier::sync(store, fakeClient, keys.root.fingerprint(), now(), 30);
    fake.stop();
    serving.join();

    EXPECT_FALSE(report.statusVersion);
    bool named = false;
    for (const auto& p : report.problems)
        named = named || p.find("calls version 999999 current") != std::string::npos;
    EXPECT_TRUE(named);
    EXPECT_EQ(store.setting("status_confirmed_at"), confirmedBefore);
}

// Someone with a station's signing key (a stolen kiosk) signs a record for a number the
// registry never issued. The registry answers "unknown"; before the fix the status list, which
// names only cards that are not valid, overruled it and the card read valid.
TEST_F(StatusListAttack, AStationKeyMisusedForAnUnreportedCardIsNeverValidOnline) {
    startRegistry(keys.statusSigner(days(30)), seconds(0));
    auto store = desk();
    auto registryClient = client();
    ASSERT_TRUE(
        verifier::sync(store, registryClient, keys.root.fingerprint(), now(), 30).statusVersion);
    const verifier::Lists lists = verifier::loadLists(store, keys.root.fingerprint(), now());
    verifier::Context context;
    verifier::useLists(context, lists);
    context.now = now();
    context.online = [&](const card::CardNumber& n) {
        return registryClient.lookup(n);
    };
    // Leased but never reported: below the region's top, so the list covers it and does not
    // name it.
    const auto forged = take(card::CardNumber::compose(23, unused));
    const auto today = floor<days>(now());
    const auto bytes =
        take(card::signRecord(keys.station, {forged, memberId, 23, 100245, 1, today - days(30),
                                             today + days(1796), kUid, "st-23-01"}));
    const auto v = verifier::verifyRecordBytes(bytes, verifier::Source::Chip, kUid, context);
    EXPECT_EQ(v.code, verifier::VerdictCode::CannotConfirmOffline) << v.reason;
    EXPECT_NE(v.reason.find("no record of this card"), std::string::npos) << v.reason;
    // The genuine card next to it is valid, checked with the registry.
    const auto genuine =
        verifier::verifyRecordBytes(signedRecord(cards[0]), verifier::Source::Chip, kUid, context);
    EXPECT_EQ(genuine.code, verifier::VerdictCode::Valid) << genuine.reason;
}

} // namespace
} // namespace unioncard
