// SPDX-License-Identifier: Apache-2.0
// The outbox and the client against an in-process fake of the registry's routes on 127.0.0.1.
// The fake keeps an idempotency set and applies the lead's card lifecycle (nextState), so events
// sent out of order or twice would show; the real service is tested separately.

#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/client.hpp>
#include <unioncard/registry/outbox.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <httplib.h>
#include <map>
#include <mutex>
#include <set>
#include <sqlite3.h>
#include <thread>
#include <unistd.h>

using namespace unioncard;
using namespace unioncard::registry;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// ------------------------------------------------------------------------------ the fake registry

class FakeRegistry {
public:
    struct Recorded {
        std::string key;
        std::string cardNumber;
        EventKind kind;
    };

    ~FakeRegistry() { stop(); }

    /// Listens on 127.0.0.1: a free port the first time, the same port after a stop().
    void start() {
        m_server = std::make_unique<httplib::Server>();
        m_server->set_keep_alive_timeout(1);
        routes(*m_server);
        if (m_port == 0) {
            m_port = m_server->bind_to_any_port("127.0.0.1");
        } else {
            ASSERT_TRUE(m_server->bind_to_port("127.0.0.1", m_port)) << "port " << m_port;
        }
        ASSERT_GT(m_port, 0);
        m_thread = std::thread([server = m_server.get()] { server->listen_after_bind(); });
        // stop() does nothing before listen starts (httplib 0.11 has no wait_until_ready).
        while (!m_server->is_running())
            std::this_thread::sleep_for(1ms);
    }
    void stop() {
        if (!m_server)
            return;
        m_server->stop();
        m_thread.join();
        m_server.reset();
    }
    int port() const { return m_port; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

    // Faults, each for the next N event requests.
    std::atomic<int> loseResponseAfterRecording{0}; ///< record, then cut the connection
    std::atomic<int> failAfterRecording{0};         ///< record, then answer 500
    std::atomic<int> unavailable{0};                ///< 503 with Retry-After, nothing recorded
    std::atomic<bool> unauthorized{false};          ///< 401 for everything

    std::vector<Recorded> recorded() {
        std::lock_guard lock(m_mutex);
        return m_recorded;
    }
    std::vector<std::string> recordedKeysFor(const std::string& card) {
        std::vector<std::string> keys;
        for (const auto& r : recorded())
            if (r.cardNumber == card)
                keys.push_back(r.key);
        return keys;
    }
    int postsOf(const std::string& key) {
        std::lock_guard lock(m_mutex);
        return m_posts[key];
    }
    int eventRequests() {
        std::lock_guard lock(m_mutex);
        return m_eventRequests;
    }
    std::set<std::string> nonces() {
        std::lock_guard lock(m_mutex);
        return m_nonces;
    }
    int checkInRequests() {
        std::lock_guard lock(m_mutex);
        return m_checkInRequests;
    }
    void preloadNonce(const std::string& nonce) {
        std::lock_guard lock(m_mutex);
        m_nonces.insert(nonce);
    }

private:
    static void json(httplib::Response& res, int status, const nlohmann::json& body) {
        res.status = status;
        res.set_content(body.dump(), "application/json");
    }
    static void error(httplib::Response& res, int status, std::string code, std::string message) {
        json(res, status, toJson(ApiError{std::move(code), std::move(message)}));
    }

    void routes(httplib::Server& server) {
        server.Get("/v1/health", [](const httplib::Request&, httplib::Response& res) {
            json(res, 200, {{"status", "ok"}, {"version", "fake"}});
        });
        server.Post("/v1/events", [this](const httplib::Request& req, httplib::Response& res) {
            postEvent(req, res);
        });
        server.Post("/v1/check-ins", [this](const httplib::Request& req, httplib::Response& res) {
            postCheckIns(req, res);
        });
    }

    void postEvent(const httplib::Request& req, httplib::Response& res) {
        if (unauthorized)
            return error(res, 401, "unauthorized", "token expired");
        auto body = api::parseBody(req.body);
        auto event =
            body ? parseStatusEvent(*body) : Result<StatusEvent, ApiError>(fail(body.error()));
        if (!event)
            return error(res, 400, event.error().code, event.error().message);
        std::lock_guard lock(m_mutex);
        ++m_eventRequests;
        ++m_posts[event->idempotencyKey];
        if (unavailable > 0) {
            --unavailable;
            res.set_header("Retry-After", "120");
            return error(res, 503, "unavailable", "maintenance");
        }
        const std::string canonical = toJson(*event).dump();
        if (auto seen = m_byKey.find(event->idempotencyKey); seen != m_byKey.end()) {
            if (seen->second.first != canonical)
                return error(res, 409, "idempotency_conflict", "key reused for another event");
            return json(
                res, 200,
                toJson(EventOutcome{true, m_cards[event->cardNumber], seen->second.second}));
        }
        std::optional<CardState> current;
        if (auto it = m_cards.find(event->cardNumber); it != m_cards.end())
            current = it->second;
        auto next = nextState(current, event->kind);
        if (!next)
            return error(res, 409, "impossible_transition", next.error().reason);
        m_cards[event->cardNumber] = *next;
        m_byKey[event->idempotencyKey] = {canonical, ++m_sequence};
        m_recorded.push_back({event->idempotencyKey, event->cardNumber, event->kind});
        if (loseResponseAfterRecording > 0) {
            --loseResponseAfterRecording;
            // Promise 1000 bytes and send none: httplib closes the connection, the client reads
            // a cut response. The event is recorded; its answer is lost.
            res.set_content_provider(
                1000, "application/json",
                [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
            return;
        }
        if (failAfterRecording > 0) {
            --failAfterRecording;
            return error(res, 500, "internal", "the database went away after commit");
        }
        json(res, 201, toJson(EventOutcome{false, *next, m_sequence}));
    }

    void postCheckIns(const httplib::Request& req, httplib::Response& res) {
        auto body = api::parseBody(req.body);
        auto batch = body ? parseCheckIns(*body)
                          : Result<std::vector<CheckIn>, ApiError>(fail(body.error()));
        if (!batch)
            return error(res, 400, batch.error().code, batch.error().message);
        std::lock_guard lock(m_mutex);
        ++m_checkInRequests;
        for (const auto& c : *batch)
            if (c.desk == "closed-desk")
                return error(res, 400, "invalid_value", "desk closed-desk is not registered");
        CheckInReceipt receipt;
        for (const auto& c : *batch) {
            if (m_nonces.insert(c.nonce).second)
                ++receipt.recorded;
            else
                ++receipt.duplicates;
        }
        json(res, 200, toJson(receipt));
    }

    std::unique_ptr<httplib::Server> m_server;
    std::thread m_thread;
    int m_port = 0;

    std::mutex m_mutex;
    std::map<std::string, std::pair<std::string, std::uint64_t>> m_byKey;
    std::map<std::string, CardState> m_cards;
    std::vector<Recorded> m_recorded;
    std::map<std::string, int> m_posts;
    std::set<std::string> m_nonces;
    std::uint64_t m_sequence = 0;
    int m_eventRequests = 0;
    int m_checkInRequests = 0;
};

// ------------------------------------------------------------------------------ helpers

class FakeClock final : public OutboxClock {
public:
    TimePoint now() override {
        std::lock_guard lock(m_mutex);
        return m_now;
    }
    void sleepFor(milliseconds duration, std::stop_token) override {
        advance(duration);
        std::this_thread::sleep_for(1ms); // let other threads run; simulated time does the rest
    }
    void advance(milliseconds d) {
        std::lock_guard lock(m_mutex);
        m_now += d;
    }

private:
    std::mutex m_mutex;
    TimePoint m_now = TimePoint{} + std::chrono::hours{24 * 365 * 56};
};

std::string cardNumber(std::uint64_t serial) {
    return card::CardNumber::compose(23, serial)->digits();
}

StatusEvent event(std::string key, std::uint64_t serial, EventKind kind) {
    StatusEvent e;
    e.idempotencyKey = std::move(key);
    e.kind = kind;
    e.cardNumber = cardNumber(serial);
    e.memberId = "M-" + std::to_string(serial);
    e.station = "krasnodar-01";
    e.operatorId = "operator-1";
    e.at = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + std::chrono::hours{10};
    e.cardSequence = 1;
    return e;
}

CheckIn checkIn(int i, std::string desk = "desk-1") {
    CheckIn c;
    c.nonce = "nonce-checkin-" + std::to_string(1000 + i);
    c.eventId = "forum-2026";
    c.desk = std::move(desk);
    c.cardNumber = cardNumber(5000 + static_cast<std::uint64_t>(i));
    c.at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    return c;
}

class OutboxTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = std::filesystem::temp_directory_path() /
                ("unioncard-outbox-" + std::to_string(::getpid()) + "-" + info->name());
        std::filesystem::remove_all(m_dir);
        std::filesystem::create_directories(m_dir);
        m_clock = std::make_shared<FakeClock>();
    }
    void TearDown() override {
        m_registry.stop();
        std::filesystem::remove_all(m_dir);
    }

    std::filesystem::path file() const { return m_dir / "station.sqlite"; }

    OutboxOptions options(double jitter = 0.5) {
        OutboxOptions o;
        o.clock = m_clock;
        o.jitter = [jitter] {
            return jitter;
        };
        return o;
    }
    Outbox openOutbox(double jitter = 0.5) {
        auto outbox = Outbox::open(file(), options(jitter));
        EXPECT_TRUE(outbox.ok()) << outbox.error().message;
        return std::move(outbox).value();
    }
    RegistryClient client() {
        ClientConfig config;
        config.baseUrl = m_registry.url();
        config.connectTimeout = 1000ms;
        config.readTimeout = 2000ms;
        auto c = RegistryClient::create(config);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return std::move(c).value();
    }
    // A port that refuses connections: the fake's, with the fake stopped.
    void registryDown() {
        m_registry.start();
        m_registry.stop();
    }
    OutboxStatus status(Outbox& outbox) {
        auto s = outbox.status();
        EXPECT_TRUE(s.ok());
        return s.ok() ? *s : OutboxStatus{};
    }

    std::filesystem::path m_dir;
    std::shared_ptr<FakeClock> m_clock;
    FakeRegistry m_registry;
};

} // namespace

// ------------------------------------------------------------------------------ client

TEST_F(OutboxTest, ClientRefusesPlainHttpToAnotherMachineAndMissingCa) {
    ClientConfig config;
    config.baseUrl = "http://registry.example.org:8443";
    EXPECT_EQ(RegistryClient::create(config).error().code, ClientErrorCode::Configuration);
    config.baseUrl = "https://registry.example.org:8443";
    EXPECT_EQ(RegistryClient::create(config).error().code, ClientErrorCode::Configuration);
    config.caFile = (m_dir / "missing.pem").string();
    EXPECT_EQ(RegistryClient::create(config).error().code, ClientErrorCode::Configuration);
    config.baseUrl = "https://registry.example.org:8443/api";
    EXPECT_EQ(RegistryClient::create(config).error().code, ClientErrorCode::Configuration);
    config.baseUrl = "ftp://registry.example.org";
    EXPECT_EQ(RegistryClient::create(config).error().code, ClientErrorCode::Configuration);
    config.baseUrl = "http://localhost:1";
    EXPECT_TRUE(RegistryClient::create(config).ok());
}

TEST_F(OutboxTest, ClientMapsAnswersToTypedErrors) {
    registryDown();
    auto down = client();
    auto unreachable = down.health();
    ASSERT_FALSE(unreachable.ok());
    EXPECT_EQ(unreachable.error().code, ClientErrorCode::Unreachable);
    EXPECT_TRUE(isTransient(unreachable.error().code));

    m_registry.start();
    auto c = client();
    auto health = c.health();
    ASSERT_TRUE(health.ok()) << health.error().message;
    EXPECT_EQ(health->status, "ok");

    auto first = c.postEvent(event("key-produce-1", 1, EventKind::Produced));
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_FALSE(first->duplicate);
    EXPECT_EQ(first->state, CardState::Produced);
    auto again = c.postEvent(event("key-produce-1", 1, EventKind::Produced));
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->duplicate);

    auto impossible = c.postEvent(event("key-produce-2", 1, EventKind::Produced));
    ASSERT_FALSE(impossible.ok());
    EXPECT_EQ(impossible.error().code, ClientErrorCode::Rejected);
    EXPECT_EQ(impossible.error().httpStatus, 409);
    EXPECT_EQ(impossible.error().serverCode, "impossible_transition");
    EXPECT_NE(impossible.error().message.find("already produced"), std::string::npos);

    m_registry.unavailable = 1;
    auto busy = c.postEvent(event("key-produce-3", 3, EventKind::Produced));
    ASSERT_FALSE(busy.ok());
    EXPECT_EQ(busy.error().code, ClientErrorCode::ServerError);
    EXPECT_EQ(busy.error().retryAfter, std::chrono::seconds{120});

    m_registry.unauthorized = true;
    auto denied = c.postEvent(event("key-produce-4", 4, EventKind::Produced));
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error().code, ClientErrorCode::Unauthorized);

    auto missing = c.lookup(*card::CardNumber::compose(23, 1)); // the fake has no such route
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ClientErrorCode::Rejected);
    EXPECT_EQ(missing.error().httpStatus, 404);
}

TEST_F(OutboxTest, ClientSendsTheBearerTokenAndNeverPutsItInMessages) {
    const std::string token = "s3cr3t-token-value-0123456789";
    httplib::Server server;
    std::string seen;
    server.Get("/v1/health", [&](const httplib::Request& req, httplib::Response& res) {
        seen = req.get_header_value("Authorization");
        res.status = 401;
        res.set_content(R"({"error":"unauthorized","message":"expired"})", "application/json");
    });
    const int port = server.bind_to_any_port("127.0.0.1");
    std::thread thread([&] { server.listen_after_bind(); });
    while (!server.is_running())
        std::this_thread::sleep_for(1ms);
    ClientConfig config;
    config.baseUrl = "http://127.0.0.1:" + std::to_string(port);
    config.bearerToken = token;
    auto c = RegistryClient::create(config);
    ASSERT_TRUE(c.ok());
    auto r = c->health();
    server.stop();
    thread.join();
    EXPECT_EQ(seen, "Bearer " + token);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ClientErrorCode::Unauthorized);
    EXPECT_EQ(r.error().message.find(token), std::string::npos);
}

// ------------------------------------------------------------------------------ outbox

TEST_F(OutboxTest, QueuedWhileDownThenDeliveredInOrderPerCard) {
    registryDown();
    auto outbox = openOutbox();
    auto c = client();
    // Card 1 and card 2 interleaved; each card's events only make sense in this order.
    const std::vector<StatusEvent> events{
        event("c1-produced", 1, EventKind::Produced),
        event("c2-produced", 2, EventKind::Produced),
        event("c1-handed-over", 1, EventKind::HandedOver),
        event("c1-suspended", 1, EventKind::Suspended),
        event("c2-refused", 2, EventKind::Refused),
        event("c1-reinstated", 1, EventKind::Reinstated),
    };
    for (const auto& e : events)
        ASSERT_TRUE(outbox.enqueue(e).ok());

    auto report = outbox.deliver(c);
    EXPECT_TRUE(report.backedOff);
    EXPECT_EQ(report.delivered, 0u);
    ASSERT_TRUE(report.lastError.has_value());
    EXPECT_EQ(report.lastError->code, ClientErrorCode::Unreachable);
    auto st = status(outbox);
    EXPECT_EQ(st.waiting, 6u);
    EXPECT_EQ(st.consecutiveFailures, 1);
    EXPECT_EQ(st.lastErrorCode, ClientErrorCode::Unreachable);
    EXPECT_FALSE(st.lastSuccessAt.has_value());
    ASSERT_TRUE(st.oldestWaitingSince.has_value());
    EXPECT_EQ(*st.oldestWaitingSince, m_clock->now());

    m_registry.start();
    // Still inside the backoff: no request is made.
    report = outbox.deliver(c);
    EXPECT_TRUE(report.backedOff);
    EXPECT_EQ(report.requests, 0u);
    EXPECT_EQ(m_registry.eventRequests(), 0);

    m_clock->advance(5min);
    report = outbox.deliver(c);
    EXPECT_FALSE(report.backedOff);
    EXPECT_EQ(report.delivered, 6u);
    EXPECT_EQ(report.parked, 0u);
    EXPECT_EQ(m_registry.recordedKeysFor(cardNumber(1)),
              (std::vector<std::string>{"c1-produced", "c1-handed-over", "c1-suspended",
                                        "c1-reinstated"}));
    EXPECT_EQ(m_registry.recordedKeysFor(cardNumber(2)),
              (std::vector<std::string>{"c2-produced", "c2-refused"}));
    st = status(outbox);
    EXPECT_EQ(st.waiting, 0u);
    EXPECT_EQ(st.consecutiveFailures, 0);
    EXPECT_EQ(st.lastSuccessAt, m_clock->now());
    EXPECT_FALSE(st.oldestWaitingSince.has_value());
    EXPECT_FALSE(st.nextAttemptAt.has_value());

    // Nothing left: another pass sends nothing.
    EXPECT_EQ(outbox.deliver(c).requests, 0u);
}

TEST_F(OutboxTest, RetryNowEndsTheBackoffWhenAPersonAsks) {
    registryDown();
    auto outbox = openOutbox();
    auto c = client();
    ASSERT_TRUE(outbox.enqueue(event("c1-produced", 1, EventKind::Produced)).ok());
    EXPECT_TRUE(outbox.deliver(c).backedOff);
    m_registry.start();
    EXPECT_EQ(outbox.deliver(c).requests, 0u); // still backing off
    ASSERT_FALSE(outbox.retryNow());
    const auto report = outbox.deliver(c);
    EXPECT_FALSE(report.backedOff);
    EXPECT_EQ(report.delivered, 1u);
    EXPECT_EQ(status(outbox).waiting, 0u);
}

TEST_F(OutboxTest, LostResponseIsResentAndRecordedOnce) {
    m_registry.start();
    auto outbox = openOutbox();
    auto c = client();
    ASSERT_TRUE(outbox.enqueue(event("lost-answer-1", 7, EventKind::Produced)).ok());
    m_registry.loseResponseAfterRecording = 1;

    auto report = outbox.deliver(c);
    EXPECT_EQ(report.delivered, 0u);
    ASSERT_TRUE(report.lastError.has_value());
    EXPECT_EQ(report.lastError->code, ClientErrorCode::Unreachable) << report.lastError->message;
    EXPECT_EQ(m_registry.recorded().size(), 1u); // the registry has it; we do not know that
    EXPECT_EQ(status(outbox).waiting, 1u);

    m_clock->advance(5min);
    report = outbox.deliver(c);
    EXPECT_EQ(report.delivered, 1u);
    EXPECT_EQ(report.duplicates, 1u);
    EXPECT_EQ(m_registry.postsOf("lost-answer-1"), 2);
    EXPECT_EQ(m_registry.recorded().size(), 1u);
    EXPECT_EQ(status(outbox).waiting, 0u);
}

TEST_F(OutboxTest, ServerErrorAfterRecordingDefersOnlyThatCard) {
    m_registry.start();
    auto outbox = openOutbox();
    auto c = client();
    ASSERT_TRUE(outbox.enqueue(event("c10-produced", 10, EventKind::Produced)).ok());
    ASSERT_TRUE(outbox.enqueue(event("c11-produced", 11, EventKind::Produced)).ok());
    ASSERT_TRUE(outbox.enqueue(event("c10-handed", 10, EventKind::HandedOver)).ok());
    m_registry.failAfterRecording = 1; // hits c10-produced, the first sent

    auto report = outbox.deliver(c);
    EXPECT_FALSE(report.backedOff);
    EXPECT_EQ(report.deferred, 1u);
    EXPECT_EQ(report.delivered, 1u); // card 11 went on
    EXPECT_EQ(m_registry.recordedKeysFor(cardNumber(11)), std::vector<std::string>{"c11-produced"});
    EXPECT_EQ(m_registry.postsOf("c10-handed"), 0); // held behind its card's first event
    EXPECT_EQ(status(outbox).waiting, 2u);

    m_clock->advance(5min);
    report = outbox.deliver(c);
    EXPECT_EQ(report.delivered, 2u);
    EXPECT_EQ(report.duplicates, 1u);
    EXPECT_EQ(m_registry.recordedKeysFor(cardNumber(10)),
              (std::vector<std::string>{"c10-produced", "c10-handed"}));
    EXPECT_EQ(m_registry.postsOf("c10-produced"), 2);
}

TEST_F(OutboxTest, NewInstanceOnTheSameFileContinues) {
    registryDown();
    {
        auto first = openOutbox();
        auto c = client();
        ASSERT_TRUE(first.enqueue(event("r-produced", 20, EventKind::Produced)).ok());
        ASSERT_TRUE(first.enqueue(event("r-handed", 20, EventKind::HandedOver)).ok());
        ASSERT_TRUE(first.enqueue(checkIn(1)).ok());
        EXPECT_TRUE(first.deliver(c).backedOff);
    } // the process "dies" here

    m_registry.start();
    auto second = openOutbox();
    auto c = client();
    auto st = status(second);
    EXPECT_EQ(st.waiting, 3u);
    EXPECT_EQ(st.consecutiveFailures, 1); // the backoff survived too
    EXPECT_TRUE(second.deliver(c).backedOff);

    // Queuing the same key again is harmless; reusing it for another event is refused.
    auto again = second.enqueue(event("r-produced", 20, EventKind::Produced));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(status(second).waiting, 3u);
    auto reused = second.enqueue(event("r-produced", 21, EventKind::Produced));
    ASSERT_FALSE(reused.ok());
    EXPECT_EQ(reused.error().code, OutboxErrorCode::Conflict);

    m_clock->advance(5min);
    auto report = second.deliver(c);
    EXPECT_EQ(report.delivered, 3u);
    EXPECT_EQ(m_registry.recordedKeysFor(cardNumber(20)),
              (std::vector<std::string>{"r-produced", "r-handed"}));
    EXPECT_EQ(m_registry.nonces().count(checkIn(1).nonce), 1u);
    EXPECT_EQ(status(second).waiting, 0u);
}

TEST_F(OutboxTest, PermanentRefusalParksThatEventAndOthersGoOn) {
    m_registry.start();
    auto outbox = openOutbox();
    auto c = client();
    ASSERT_TRUE(outbox.enqueue(event("p-produced", 30, EventKind::Produced)).ok());
    // Handing over a card and then reporting it spoiled: the registry refuses the second.
    ASSERT_TRUE(outbox.enqueue(event("p-handed", 30, EventKind::HandedOver)).ok());
    ASSERT_TRUE(outbox.enqueue(event("p-spoiled", 30, EventKind::Spoiled)).ok());
    ASSERT_TRUE(outbox.enqueue(event("p-lost-1", 30, EventKind::Lost)).ok());
    ASSERT_TRUE(outbox.enqueue(event("q-produced", 31, EventKind::Produced)).ok());

    auto report = outbox.deliver(c);
    EXPECT_EQ(report.parked, 1u);
    EXPECT_EQ(report.delivered, 3u);
    EXPECT_FALSE(report.backedOff);
    EXPECT_EQ(m_registry.recordedKeysFor(cardNumber(31)), std::vector<std::string>{"q-produced"});
    EXPECT_EQ(m_registry.postsOf("p-lost-1"), 0); // held behind the parked event of its card

    auto parked = outbox.parked();
    ASSERT_TRUE(parked.ok());
    ASSERT_EQ(parked->size(), 1u);
    const ParkedItem& item = parked->front();
    EXPECT_EQ(item.key, "p-spoiled");
    EXPECT_EQ(item.kind, OutboxItemKind::Event);
    EXPECT_EQ(item.serverCode, "impossible_transition");
    EXPECT_NE(item.reason.find("handed over"), std::string::npos) << item.reason;
    ASSERT_TRUE(item.event.has_value());
    EXPECT_EQ(item.event->kind, EventKind::Spoiled);
    auto st = status(outbox);
    EXPECT_EQ(st.parked, 1u);
    EXPECT_EQ(st.waiting, 1u);

    // Nothing is retried on its own: a parked event is the operator's decision.
    m_clock->advance(1h);
    EXPECT_EQ(outbox.deliver(c).requests, 0u);
    EXPECT_EQ(m_registry.postsOf("p-spoiled"), 1);

    EXPECT_EQ(outbox.discardParked(item.id + 1000)->code, OutboxErrorCode::NotFound);
    EXPECT_FALSE(outbox.discardParked(item.id).has_value());
    report = outbox.deliver(c);
    EXPECT_EQ(report.delivered, 1u);
    EXPECT_EQ(m_registry.recordedKeysFor(cardNumber(30)),
              (std::vector<std::string>{"p-produced", "p-handed", "p-lost-1"}));
    EXPECT_EQ(status(outbox).parked, 0u);
}

TEST_F(OutboxTest, RetryParkedPutsItBackInLine) {
    m_registry.start();
    auto outbox = openOutbox();
    auto c = client();
    ASSERT_TRUE(outbox.enqueue(event("rp-handed", 40, EventKind::HandedOver)).ok());
    EXPECT_EQ(outbox.deliver(c).parked, 1u); // the registry never heard of card 40
    // Meanwhile the registry learns of the card by another way (another station).
    ASSERT_TRUE(c.postEvent(event("rp-produced-elsewhere", 40, EventKind::Produced)).ok());
    auto parked = outbox.parked();
    ASSERT_TRUE(parked.ok() && parked->size() == 1);
    EXPECT_FALSE(outbox.retryParked(parked->front().id).has_value());
    EXPECT_EQ(outbox.retryParked(parked->front().id)->code, OutboxErrorCode::NotFound);
    EXPECT_EQ(outbox.deliver(c).delivered, 1u);
    EXPECT_EQ(m_registry.recordedKeysFor(cardNumber(40)),
              (std::vector<std::string>{"rp-produced-elsewhere", "rp-handed"}));
}

TEST(Backoff, GrowsByDoublingUpToTheCapWithJitterInTheUpperHalf) {
    BackoffPolicy policy; // 1 s, cap 5 min
    EXPECT_EQ(backoffDelay(policy, 1, 0.0), 500ms);
    EXPECT_EQ(backoffDelay(policy, 1, 1.0), 1000ms);
    EXPECT_EQ(backoffDelay(policy, 2, 0.0), 1000ms);
    EXPECT_EQ(backoffDelay(policy, 4, 1.0), 8000ms);
    EXPECT_EQ(backoffDelay(policy, 9, 1.0), 256000ms);
    EXPECT_EQ(backoffDelay(policy, 10, 1.0), 300000ms); // 512 s capped at 5 min
    EXPECT_EQ(backoffDelay(policy, 10, 0.0), 150000ms);
    EXPECT_EQ(backoffDelay(policy, 1000000, 1.0), 300000ms);
    // Below the cap, the shortest next wait is at least the longest wait of this step.
    for (int n = 1; n <= 8; ++n)
        EXPECT_LE(backoffDelay(policy, n, 1.0), backoffDelay(policy, n + 1, 0.0)) << n;
}

TEST_F(OutboxTest, BackoffGrowsWhileTheRegistryStaysDown) {
    registryDown();
    auto outbox = openOutbox(/*jitter=*/1.0);
    auto c = client();
    ASSERT_TRUE(outbox.enqueue(event("bo-produced", 50, EventKind::Produced)).ok());
    std::vector<milliseconds> waits;
    for (int i = 0; i < 12; ++i) {
        auto report = outbox.deliver(c);
        ASSERT_EQ(report.requests, 1u) << "pass " << i;
        auto st = status(outbox);
        ASSERT_TRUE(st.nextAttemptAt.has_value());
        const auto wait =
            std::chrono::duration_cast<milliseconds>(*st.nextAttemptAt - m_clock->now());
        waits.push_back(wait);
        EXPECT_EQ(st.consecutiveFailures, i + 1);
        // Just before the time nothing is tried; at the time it is.
        m_clock->advance(wait - 1ms);
        EXPECT_EQ(outbox.deliver(c).requests, 0u);
        m_clock->advance(1ms);
    }
    const std::vector<milliseconds> expected{1s,  2s,   4s,   8s,   16s,  32s,
                                             64s, 128s, 256s, 300s, 300s, 300s};
    EXPECT_EQ(waits, expected);

    // With OpenSSL's jitter the waits stay within [step/2, step].
    auto random = Outbox::open(m_dir / "random.sqlite", [&] {
        OutboxOptions o;
        o.clock = m_clock;
        return o;
    }());
    ASSERT_TRUE(random.ok());
    ASSERT_TRUE(random->enqueue(event("bo-random", 51, EventKind::Produced)).ok());
    for (int n = 1; n <= 10; ++n) {
        random->deliver(c);
        auto st = random->status();
        ASSERT_TRUE(st.ok() && st->nextAttemptAt);
        const auto wait =
            std::chrono::duration_cast<milliseconds>(*st->nextAttemptAt - m_clock->now());
        EXPECT_GE(wait, backoffDelay(BackoffPolicy{}, n, 0.0)) << n;
        EXPECT_LE(wait, backoffDelay(BackoffPolicy{}, n, 1.0)) << n;
        m_clock->advance(wait);
    }
}

TEST_F(OutboxTest, RetryAfterIsHonoured) {
    m_registry.start();
    auto outbox = openOutbox();
    auto c = client();
    ASSERT_TRUE(outbox.enqueue(event("ra-produced", 60, EventKind::Produced)).ok());
    m_registry.unavailable = 1;
    auto report = outbox.deliver(c);
    EXPECT_TRUE(report.backedOff);
    m_clock->advance(119s);
    EXPECT_EQ(outbox.deliver(c).requests, 0u);
    m_clock->advance(1s);
    EXPECT_EQ(outbox.deliver(c).delivered, 1u);
}

TEST_F(OutboxTest, CredentialFaultsWaitAndAreNotParked) {
    m_registry.start();
    auto outbox = openOutbox();
    auto c = client();
    ASSERT_TRUE(outbox.enqueue(event("cred-produced", 70, EventKind::Produced)).ok());
    m_registry.unauthorized = true;
    auto report = outbox.deliver(c);
    EXPECT_TRUE(report.backedOff);
    EXPECT_EQ(report.parked, 0u);
    auto st = status(outbox);
    EXPECT_EQ(st.waiting, 1u);
    EXPECT_EQ(st.lastErrorCode, ClientErrorCode::Unauthorized);
    m_registry.unauthorized = false;
    m_clock->advance(5min);
    EXPECT_EQ(outbox.deliver(c).delivered, 1u);
}

TEST_F(OutboxTest, CheckInsGoInBatchesAndABadOneIsParkedAlone) {
    m_registry.start();
    auto options = this->options();
    options.checkInBatch = 3;
    auto outbox = Outbox::open(file(), options);
    ASSERT_TRUE(outbox.ok());
    auto c = client();
    for (int i = 0; i < 7; ++i)
        ASSERT_TRUE(outbox->enqueue(checkIn(i)).ok());
    m_registry.preloadNonce(checkIn(4).nonce); // the registry already has this one

    auto report = outbox->deliver(c);
    EXPECT_EQ(report.delivered, 7u);
    EXPECT_EQ(report.duplicates, 1u);
    EXPECT_EQ(m_registry.checkInRequests(), 3); // 3 + 3 + 1
    EXPECT_EQ(m_registry.nonces().size(), 7u);

    ASSERT_TRUE(outbox->enqueue(checkIn(10)).ok());
    ASSERT_TRUE(outbox->enqueue(checkIn(11, "closed-desk")).ok());
    ASSERT_TRUE(outbox->enqueue(checkIn(12)).ok());
    report = outbox->deliver(c);
    EXPECT_EQ(report.delivered, 2u);
    EXPECT_EQ(report.parked, 1u);
    auto parked = outbox->parked();
    ASSERT_TRUE(parked.ok());
    ASSERT_EQ(parked->size(), 1u);
    EXPECT_EQ(parked->front().kind, OutboxItemKind::CheckIn);
    ASSERT_TRUE(parked->front().checkIn.has_value());
    EXPECT_EQ(parked->front().checkIn->desk, "closed-desk");
    EXPECT_EQ(parked->front().serverCode, "invalid_value");
}

TEST_F(OutboxTest, RefusesItemsThatBreakTheApiRules) {
    auto outbox = openOutbox();
    StatusEvent bad = event("short", 80, EventKind::Produced); // key under 8 characters
    auto r = outbox.enqueue(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, OutboxErrorCode::InvalidItem);
    EXPECT_NE(r.error().message.find("idempotency_key"), std::string::npos);
    StatusEvent badName = event("bad-name-1", 80, EventKind::Produced);
    badName.operatorId = "op\xff";
    EXPECT_EQ(outbox.enqueue(badName).error().code, OutboxErrorCode::InvalidItem);
    EXPECT_EQ(status(outbox).waiting, 0u);
}

TEST_F(OutboxTest, SharesTheFileWithTheCallersTablesAndTransactions) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE cards (number TEXT PRIMARY KEY, state TEXT)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    {
        auto outbox = Outbox::attach(db, options());
        ASSERT_TRUE(outbox.ok()) << outbox.error().message;
        // The station's own change and the event commit or roll back together.
        ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, "INSERT INTO cards VALUES ('x', 'produced')", nullptr, nullptr,
                               nullptr),
                  SQLITE_OK);
        ASSERT_TRUE(outbox->enqueue(event("tx-produced", 90, EventKind::Produced)).ok());
        ASSERT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
        EXPECT_EQ(outbox->status()->waiting, 0u);
        ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
        ASSERT_TRUE(outbox->enqueue(event("tx-produced", 90, EventKind::Produced)).ok());
        ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
        EXPECT_EQ(outbox->status()->waiting, 1u);
    }
    sqlite3_close(db);
    // A second connection (the delivery thread's) sees the item.
    auto other = openOutbox();
    EXPECT_EQ(status(other).waiting, 1u);
}

TEST_F(OutboxTest, RunDeliversUntilStopped) {
    registryDown();
    auto outbox = openOutbox();
    auto c = client();
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(
            outbox.enqueue(event("run-produced-" + std::to_string(i), 100 + i, EventKind::Produced))
                .ok());
    m_registry.start();
    std::jthread runner([&](std::stop_token stop) { outbox.run(c, stop); });
    // The fake clock moves as run() sleeps; wait (real time, generously) for the registry to
    // have everything. Not a timing assertion: the bound only keeps a broken run() from hanging.
    for (int i = 0; i < 2000 && m_registry.recorded().size() < 5; ++i)
        std::this_thread::sleep_for(5ms);
    runner.request_stop();
    runner.join();
    EXPECT_EQ(m_registry.recorded().size(), 5u);
    auto st = status(outbox);
    EXPECT_EQ(st.waiting, 0u);
}
