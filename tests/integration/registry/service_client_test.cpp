// SPDX-License-Identifier: Apache-2.0
// The registry's client and outbox against the real service over HTTPS on loopback, on the
// database the rig gives (UNIONCARD_TEST_DB: SQLite or PostgreSQL) with TLS files made by openssl
// (UNIONCARD_TEST_TLS): delivery through an outage with nothing lost or doubled, a lost answer,
// a restarted outbox, two service instances sharing one database, and the signed status list
// with its deltas as a verifier loads them.

#include <unioncard/registry/client.hpp>
#include <unioncard/registry/outbox.hpp>
#include <unioncard/registry/seed.hpp>
#include <unioncard/registry/service.hpp>
#include <unioncard/registry/status_list.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <httplib.h>
#include <set>
#include <thread>

namespace {

using namespace unioncard;
using namespace unioncard::registry;
namespace fs = std::filesystem;

Seconds now() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

// One service instance on the shared database, on its own port.
struct RunningService {
    std::unique_ptr<Service> service;
    std::thread thread;
    int port = 0;

    RunningService(const std::string& db, const fs::path& tls, std::optional<StatusSigner> signer,
                   int fixedPort = 0) {
        auto store = openStore(db);
        if (!store)
            throw std::runtime_error(store.error().message);
        ServiceConfig config;
        config.port = fixedPort;
        config.tls = TlsConfig{tls / "tls.pem", tls / "tls.key", card::Secret(), std::nullopt};
        config.statusSigner = std::move(signer);
        config.statusListInterval = std::chrono::seconds(0); // every change is published at once
        config.accessLog = false;
        config.threads = 4;
        service = std::make_unique<Service>(std::move(store).value(), std::move(config));
        if (auto error = service->bind())
            throw std::runtime_error(error->message);
        port = service->port();
        thread = std::thread([this] { service->run(); });
    }
    ~RunningService() {
        service->stop();
        thread.join();
    }
};

class ServiceClientTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        db = env("UNIONCARD_TEST_DB");
        tls = env("UNIONCARD_TEST_TLS");
        if (db.empty() || tls.empty())
            return;
        auto store = openStore(db);
        ASSERT_TRUE(store) << store.error().message;
        SeedOptions seed;
        seed.members = 3000;
        seed.now = now();
        auto seeded = seedUnion(*store.value(), seed);
        ASSERT_TRUE(seeded) << seeded.error().message;
        stationToken = newToken();
        verifierToken = newToken();
        const Seconds later = now() + std::chrono::days(1);
        ASSERT_FALSE(store.value()->putDevice({"st-23-01", Role::Station, 23, later, false},
                                              tokenDigest(stationToken)));
        ASSERT_FALSE(store.value()->putDevice({"vf-01", Role::Verifier, std::nullopt, later, false},
                                              tokenDigest(verifierToken)));
        auto page = store.value()->pendingApplications({23, std::nullopt, "", 10});
        ASSERT_TRUE(page && !page->items.empty());
        memberId = page->items.front().memberId;
        // The status signer, certified by a union root made here.
        auto rootKey = card::PrivateKey::generate();
        auto signerKey = card::PrivateKey::generate();
        ASSERT_TRUE(rootKey && signerKey);
        const Seconds from = now() - std::chrono::days(1);
        auto rootCert = card::makeRootCertificate(*rootKey, "Test root",
                                                  {from, from + std::chrono::days(3650)});
        ASSERT_TRUE(rootCert);
        auto signerCert = card::issueStatusSignerCertificate(*rootKey, *rootCert,
                                                             signerKey->publicKey(), "test-status",
                                                             {from, from + std::chrono::days(365)});
        ASSERT_TRUE(signerCert);
        signer = StatusSigner{*signerKey, *signerCert, *rootCert};
    }

    void SetUp() override {
        if (db.empty() || tls.empty())
            GTEST_SKIP() << "run through the registry rig (UNIONCARD_TEST_DB, UNIONCARD_TEST_TLS)";
        dir = fs::temp_directory_path() /
              ("uc-svc-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }

    RegistryClient client(int port, const std::string& token) {
        ClientConfig config;
        config.baseUrl = "https://127.0.0.1:" + std::to_string(port);
        config.caFile = (fs::path(tls) / "tls-ca.pem").string();
        config.bearerToken = token;
        config.connectTimeout = std::chrono::milliseconds(500);
        auto made = RegistryClient::create(config);
        if (!made)
            throw std::runtime_error(made.error().message);
        return std::move(made).value();
    }

    // A fresh block of serials, straight from the store (the station has it leased).
    std::vector<std::string> freshNumbers(std::uint32_t count) {
        auto store = openStore(db);
        auto lease = store.value()->leaseSerials(23, count, "st-23-01");
        EXPECT_TRUE(lease);
        std::vector<std::string> numbers;
        for (std::uint32_t i = 0; i < count; ++i)
            numbers.push_back(card::CardNumber::compose(23, lease->firstSerial + i)->digits());
        return numbers;
    }

    StatusEvent event(const std::string& number, EventKind kind, const std::string& key) {
        StatusEvent e;
        e.idempotencyKey = key;
        e.kind = kind;
        e.cardNumber = number;
        e.memberId = memberId;
        e.station = "st-23-01";
        e.operatorId = "op-1";
        e.at = now();
        e.cardSequence = 1;
        return e;
    }

    // Events the registry holds for these cards, straight from the store.
    std::size_t recordedFor(const std::set<std::string>& numbers) {
        auto store = openStore(db);
        std::size_t count = 0;
        std::uint64_t after = 0;
        while (true) {
            auto events = store.value()->eventsAfter(after, 1000);
            EXPECT_TRUE(events);
            if (!events || events->empty())
                return count;
            for (const RecordedEvent& e : events.value()) {
                count += numbers.count(e.event.cardNumber);
                after = e.sequence;
            }
        }
    }

    static inline std::string db, tls, stationToken, verifierToken, memberId;
    static inline std::optional<StatusSigner> signer;
    fs::path dir;
};

int freePort() {
    // Bind, read the port, close: the service binds it again a moment later.
    httplib::Server probe;
    return probe.bind_to_any_port("127.0.0.1");
}

TEST_F(ServiceClientTest, OutboxDeliversThroughAnOutageWithNothingLostOrDoubled) {
    const auto numbers = freshNumbers(20);
    auto outbox = Outbox::open(dir / "station.db");
    ASSERT_TRUE(outbox) << outbox.error().message;
    for (const auto& n : numbers) {
        ASSERT_TRUE(outbox->enqueue(event(n, EventKind::Produced, "p-" + n)));
        ASSERT_TRUE(outbox->enqueue(event(n, EventKind::HandedOver, "h-" + n)));
    }
    const int port = freePort();
    auto stationClient = client(port, stationToken);
    // The registry is away: nothing goes, nothing is lost.
    DeliveryReport report = outbox->deliver(stationClient);
    EXPECT_TRUE(report.backedOff);
    EXPECT_EQ(report.delivered, 0u);
    EXPECT_EQ(outbox->status()->waiting, 40u);

    // It comes back, and the station restarts: a new outbox on the same file carries on with
    // everything that was queued.
    RunningService service(db, tls, signer, port);
    OutboxOptions quick;
    quick.backoff = {std::chrono::milliseconds(1), std::chrono::milliseconds(1)};
    auto restarted = Outbox::open(dir / "station.db", quick);
    ASSERT_TRUE(restarted);
    // The first outbox's backoff (about a second) is kept in the file and honoured.
    for (int pass = 0; pass < 100 && restarted->status()->waiting > 0; ++pass) {
        restarted->deliver(stationClient);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(restarted->status()->waiting, 0u);
    EXPECT_EQ(restarted->status()->parked, 0u);
    EXPECT_EQ(recordedFor({numbers.begin(), numbers.end()}), 40u);
    auto store = openStore(db);
    for (const auto& n : numbers) {
        auto answer = store.value()->lookup(n, false);
        ASSERT_TRUE(answer);
        EXPECT_EQ(answer->state, CardState::HandedOver) << n;
    }
}

TEST_F(ServiceClientTest, AnAnswerLostOnTheWayIsNotDoubled) {
    const auto numbers = freshNumbers(1);
    RunningService service(db, tls, signer);
    auto stationClient = client(service.port, stationToken);
    // The registry recorded the event but the station never heard back: it retries.
    const StatusEvent produced =
        event(numbers[0], EventKind::Produced, "lost-answer-" + numbers[0]);
    ASSERT_TRUE(stationClient.postEvent(produced));
    auto outbox = Outbox::open(dir / "station.db");
    ASSERT_TRUE(outbox->enqueue(produced));
    const DeliveryReport report = outbox->deliver(stationClient);
    EXPECT_EQ(report.delivered, 1u);
    EXPECT_EQ(report.duplicates, 1u);
    EXPECT_EQ(recordedFor({numbers[0]}), 1u);
}

TEST_F(ServiceClientTest, AnImpossibleTransitionIsParkedWithTheRegistrysReason) {
    const auto numbers = freshNumbers(2);
    RunningService service(db, tls, signer);
    auto stationClient = client(service.port, stationToken);
    auto outbox = Outbox::open(dir / "station.db");
    ASSERT_TRUE(outbox->enqueue(event(numbers[0], EventKind::HandedOver, "never-produced-1")));
    ASSERT_TRUE(outbox->enqueue(event(numbers[1], EventKind::Produced, "fine-produced-1")));
    outbox->deliver(stationClient);
    auto parked = outbox->parked();
    ASSERT_TRUE(parked);
    ASSERT_EQ(parked->size(), 1u);
    EXPECT_EQ(parked->front().serverCode, "impossible_transition");
    EXPECT_NE(parked->front().reason.find("no record"), std::string::npos)
        << parked->front().reason;
    EXPECT_EQ(recordedFor({numbers[1]}), 1u);
}

TEST_F(ServiceClientTest, TwoServiceInstancesNeverLeaseOverlappingBlocks) {
    RunningService a(db, tls, signer);
    RunningService b(db, tls, signer);
    std::vector<Lease> leases;
    std::mutex mutex;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto c = client(t % 2 ? a.port : b.port, stationToken);
            for (int i = 0; i < 10; ++i) {
                auto lease = c.lease(23, 13);
                ASSERT_TRUE(lease) << lease.error().message;
                std::lock_guard lock(mutex);
                leases.push_back(lease.value());
            }
        });
    }
    for (auto& t : threads)
        t.join();
    ASSERT_EQ(leases.size(), 40u);
    std::sort(leases.begin(), leases.end(),
              [](const Lease& x, const Lease& y) { return x.firstSerial < y.firstSerial; });
    for (std::size_t i = 1; i < leases.size(); ++i)
        EXPECT_LE(leases[i - 1].firstSerial + leases[i - 1].count, leases[i].firstSerial);
}

TEST_F(ServiceClientTest, AVerifierFollowsTheSignedStatusListWithDeltas) {
    const auto numbers = freshNumbers(3);
    RunningService service(db, tls, signer);
    auto stationClient = client(service.port, stationToken);
    auto verifierClient = client(service.port, verifierToken);
    for (const auto& n : numbers) {
        ASSERT_TRUE(stationClient.postEvent(event(n, EventKind::Produced, "sl-p-" + n)));
        ASSERT_TRUE(stationClient.postEvent(event(n, EventKind::HandedOver, "sl-h-" + n)));
    }
    ASSERT_TRUE(
        stationClient.postEvent(event(numbers[0], EventKind::Revoked, "sl-r-" + numbers[0])));

    auto document = verifierClient.statusList();
    ASSERT_TRUE(document) << document.error().message;
    auto list = StatusList::load(document->bytes, signer->root, now());
    ASSERT_TRUE(list) << list.error().message;
    const auto first = card::CardNumber::parse(numbers[0]).value();
    const auto second = card::CardNumber::parse(numbers[1]).value();
    EXPECT_EQ(list->lookup(first), Validity::Revoked);
    EXPECT_EQ(list->lookup(second), Validity::Valid);

    // The second card is suspended; the verifier fetches only what changed.
    ASSERT_TRUE(
        stationClient.postEvent(event(numbers[1], EventKind::Suspended, "sl-s-" + numbers[1])));
    auto delta = verifierClient.statusListDelta(list->version());
    ASSERT_TRUE(delta) << delta.error().message;
    ASSERT_TRUE(delta->isDelta);
    EXPECT_LT(delta->bytes.size(), document->bytes.size());
    auto updated = list->applyDelta(delta->bytes, signer->root, now());
    ASSERT_TRUE(updated) << updated.error().message;
    EXPECT_EQ(updated->version(), delta->version);
    EXPECT_EQ(updated->lookup(first), Validity::Revoked);
    EXPECT_EQ(updated->lookup(second), Validity::Suspended);

    // The same delta again: the verifier is up to date.
    auto again = verifierClient.statusListDelta(updated->version());
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->bytes.empty());
    EXPECT_EQ(again->version, updated->version());
}

} // namespace
