// SPDX-License-Identifier: Apache-2.0
// The registry's store. One suite, two databases: SQLite (a file in a fresh directory per test;
// ctest label unit) and PostgreSQL (a fresh database per test in the throwaway cluster of
// tests/integration/registry/pg_rig.sh; label integration). The database comes from
//   UNIONCARD_TEST_DB_URL       postgresql://... (absent: SQLite)
//   UNIONCARD_TEST_DB_URL_FILE  a file holding that URL (the rig's DIR/uri)

#include "store/db.hpp"
#include "store/migrations.hpp"
#include "store/sql_store.hpp"

#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/store.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace unioncard::registry {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const Seconds kDay = std::chrono::sys_days{std::chrono::year{2026} / 11 / 20} + 10h;

std::string numberOf(int region, std::uint64_t serial) {
    auto n = card::CardNumber::compose(region, serial);
    EXPECT_TRUE(n.ok());
    return n->digits();
}

// The PostgreSQL server to test against, if any. nullopt + a reason: the run must skip.
struct Target {
    std::optional<std::string> postgresUrl;
    std::string skipReason;
};

Target target() {
    Target t;
    if (const char* url = std::getenv("UNIONCARD_TEST_DB_URL"); url && *url) {
        t.postgresUrl = url;
    } else if (const char* file = std::getenv("UNIONCARD_TEST_DB_URL_FILE"); file && *file) {
        std::ifstream in(file);
        std::string url;
        if (!std::getline(in, url) || url.empty())
            t.skipReason = std::string("no PostgreSQL test server: cannot read ") + file +
                           " (did the pg fixture skip?)";
        else
            t.postgresUrl = url;
    }
    return t;
}

// The same URL with another database name: postgresql://[auth@host]/NAME?params
std::string withDatabase(const std::string& url, const std::string& name) {
    const auto scheme = url.find("://");
    const auto slash = url.find('/', scheme + 3);
    if (slash == std::string::npos) {
        const auto q = url.find('?', scheme + 3);
        return q == std::string::npos ? url + "/" + name
                                      : url.substr(0, q) + "/" + name + url.substr(q);
    }
    const auto end = url.find('?', slash);
    return url.substr(0, slash + 1) + name + (end == std::string::npos ? "" : url.substr(end));
}

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        const Target t = target();
        if (!t.skipReason.empty())
            GTEST_SKIP() << t.skipReason;
        m_postgres = t.postgresUrl;
        if (m_postgres) {
            auto admin = sql::openPostgres(*m_postgres);
            ASSERT_TRUE(admin.ok()) << admin.error().message;
            m_admin = std::move(admin).value();
        } else {
            std::string pattern = (fs::temp_directory_path() / "uc-store-XXXXXX").string();
            ASSERT_NE(mkdtemp(pattern.data()), nullptr);
            m_dir = pattern;
        }
        m_url = newDatabase();
    }

    void TearDown() override {
        for (const auto& name : m_databases)
            (void)m_admin->script("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        if (!m_dir.empty())
            fs::remove_all(m_dir);
    }

    bool onPostgres() const { return m_postgres.has_value(); }

    // A new, empty database: its URL.
    std::string newDatabase() {
        static std::atomic<int> counter{0};
        const std::string name =
            "uc_store_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
        if (m_postgres) {
            auto e = m_admin->script("CREATE DATABASE " + name);
            EXPECT_FALSE(e) << e->message;
            m_databases.push_back(name);
            return withDatabase(*m_postgres, name);
        }
        return "sqlite:" + m_dir + "/" + name + ".db";
    }

    std::unique_ptr<Store> open(const std::string& url) {
        auto store = openStore(url);
        EXPECT_TRUE(store.ok()) << store.error().message;
        return store.ok() ? std::move(store).value() : nullptr;
    }
    std::unique_ptr<Store> open() { return open(m_url); }

    // Cards must come from leased serials: the tests' cards use serials below 10,000. One
    // station per region, as in an office (a station's quota is smaller than 89 such blocks).
    static void leaseForCards(Store& store) {
        for (int region = 1; region <= 89; ++region) {
            auto lease = store.leaseSerials(region, 10000, fmt::format("st-test-{:02}", region));
            ASSERT_TRUE(lease.ok()) << lease.error().message;
        }
    }

    // A second, raw connection to a database, for what the Store does not expose.
    std::unique_ptr<sql::Db> rawDb(const std::string& url, int busyTimeoutMs = 5000) {
        auto db = url.rfind("sqlite:", 0) == 0 ? sql::openSqlite(url.substr(7), busyTimeoutMs)
                                               : sql::openPostgres(url);
        EXPECT_TRUE(db.ok()) << db.error().message;
        return db.ok() ? std::move(db).value() : nullptr;
    }

    // The schema as the database describes it, one line per object.
    std::vector<std::string> schemaOf(const std::string& url) {
        auto db = rawDb(url);
        std::vector<std::string> out;
        std::vector<std::string> queries;
        if (db->dialect() == sql::Dialect::Sqlite) {
            queries = {"SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER "
                       "BY type, name"};
        } else {
            queries = {
                "SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, "
                "''), ordinal_position FROM information_schema.columns WHERE table_schema = "
                "current_schema() ORDER BY table_name, ordinal_position",
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "ORDER BY indexname",
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace "
                "= current_schema()::regnamespace ORDER BY conname"};
        }
        for (const auto& q : queries) {
            auto rows = db->query(q);
            EXPECT_TRUE(rows.ok()) << rows.error().message;
            if (!rows)
                continue;
            for (const auto& r : *rows) {
                std::string line;
                for (std::size_t i = 0; i < r.size(); ++i)
                    line += r.text(i) + " | ";
                out.push_back(line);
            }
        }
        return out;
    }

    // Members through the seed path, with no cards.
    void seedMembers(Store& store, const std::vector<Member>& members) {
        std::size_t next = 0;
        auto e = store.bulkLoad(
            {{501, 23, "School 1"}, {502, 23, "School 2"}, {701, 77, "College 7"}},
            [&](Member& m) {
                if (next == members.size())
                    return false;
                m = members[next++];
                return true;
            },
            [](SeedCard&) { return false; });
        ASSERT_FALSE(e) << e->message;
    }

    static Member member(std::string id, int region = 23, std::uint32_t org = 501) {
        return {std::move(id), "Иванова Мария Петровна", region,
                org,           MemberCategory::Working,  true};
    }

    static StatusEvent event(std::string key, EventKind kind, std::string number,
                             std::string memberId) {
        StatusEvent e;
        e.idempotencyKey = std::move(key);
        e.kind = kind;
        e.cardNumber = std::move(number);
        e.memberId = std::move(memberId);
        e.station = "st-23-01";
        e.operatorId = "op-7";
        e.at = kDay;
        return e;
    }

    static Application application(std::string id, std::string memberId, int region = 23,
                                   std::uint32_t org = 501) {
        Application a;
        a.id = std::move(id);
        a.memberId = std::move(memberId);
        a.fullName = "Петров Пётр";
        a.region = region;
        a.organisationCode = org;
        a.organisationName = "School";
        a.category = MemberCategory::Student;
        a.createdAt = kDay;
        return a;
    }

    std::optional<std::string> m_postgres;
    std::unique_ptr<sql::Db> m_admin;
    std::string m_dir;
    std::string m_url;
    std::vector<std::string> m_databases;
};

// ---- Schema and migrations ----

TEST_F(StoreTest, OpensAnEmptyDatabaseAtTheLatestSchema) {
    auto store = open();
    ASSERT_TRUE(store);
    EXPECT_GE(Store::latestSchemaVersion(), 2);
    auto v = store->schemaVersion();
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*v, Store::latestSchemaVersion());
    // Both dialects carry the same versions, numbered from 1.
    for (auto dialect : {sql::Dialect::Sqlite, sql::Dialect::Postgres}) {
        const auto all = sql::migrations(dialect);
        ASSERT_EQ(static_cast<int>(all.size()), Store::latestSchemaVersion());
        for (std::size_t i = 0; i < all.size(); ++i)
            EXPECT_EQ(all[i].version, static_cast<int>(i + 1)) << all[i].name;
    }
    // Opening again is a no-op.
    store.reset();
    store = open();
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->schemaVersion(), Store::latestSchemaVersion());
}

TEST_F(StoreTest, MigratesFromEveryEarlierVersionKeepingTheData) {
    const std::string fresh = newDatabase();
    ASSERT_TRUE(open(fresh));
    const auto expected = schemaOf(fresh);
    ASSERT_FALSE(expected.empty());

    for (int v = 0; v < Store::latestSchemaVersion(); ++v) {
        SCOPED_TRACE("from version " + std::to_string(v));
        const std::string url = newDatabase();
        {
            auto db = rawDb(url);
            ASSERT_TRUE(db);
            auto e = migrate(*db, v);
            ASSERT_FALSE(e) << e->message;
            EXPECT_EQ(*schemaVersionOf(*db), v);
            const sql::Params none;
            auto put = [&](const char* sql, const sql::Params& p) {
                auto r = db->exec(sql, p);
                ASSERT_TRUE(r.ok()) << r.error().message;
            };
            if (v >= 1) {
                put("INSERT INTO organisations (code, region, name) VALUES ($1, $2, $3)",
                    {std::int64_t{501}, std::int64_t{23}, std::string("School 1")});
                put("INSERT INTO members (id, full_name, region, organisation_code, category, "
                    "consent) VALUES ($1, $2, $3, $4, $5, $6)",
                    {std::string("m-1"), std::string("O'Brien"), std::int64_t{23},
                     std::int64_t{501}, std::string("working"), std::int64_t{1}});
                put("INSERT INTO applications (id, member_id, full_name, region, "
                    "organisation_code, organisation_name, category, reason, consent, "
                    "card_sequence, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                    "$11)",
                    {std::string("app-1"), std::string("m-1"), std::string("O'Brien"),
                     std::int64_t{23}, std::int64_t{501}, std::string("School 1"),
                     std::string("working"), std::string("first_card"), std::int64_t{1},
                     std::int64_t{1}, std::int64_t{1700000000}});
                put("INSERT INTO cards (number, region, serial, member_id, card_sequence, state, "
                    "updated_at, station) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    {numberOf(23, 42), std::int64_t{23}, std::int64_t{42}, std::string("m-1"),
                     std::int64_t{1}, std::string("revoked"), kDay.time_since_epoch().count(),
                     std::string("st-1")});
                put("INSERT INTO events (idempotency_key, content_hash, kind, card_number, "
                    "member_id, station, operator_id, at, received_at, card_sequence, reason, "
                    "device_id, state_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                    "$11, $12, $13)",
                    {std::string("key-00000001"), std::string("hash"), std::string("revoked"),
                     numberOf(23, 42), std::string("m-1"), std::string("st-1"), std::string("op-1"),
                     kDay.time_since_epoch().count(), kDay.time_since_epoch().count(),
                     std::int64_t{1}, std::string(), std::string("st-1"), std::string("revoked")});
            }
            if (v >= 2) {
                put("INSERT INTO devices (id, role, expires_at) VALUES ($1, $2, $3)",
                    {std::string("verifier-9"), std::string("verifier"), std::int64_t{1900000000}});
            }
        }
        auto store = open(url);
        ASSERT_TRUE(store);
        EXPECT_EQ(*store->schemaVersion(), Store::latestSchemaVersion());
        EXPECT_EQ(schemaOf(url), expected);
        if (v >= 1) {
            auto found = store->lookup(numberOf(23, 42), true);
            ASSERT_TRUE(found.ok()) << found.error().message;
            EXPECT_EQ(found->verdict, Lookup::Verdict::Revoked);
            EXPECT_EQ(found->fullName, "O'Brien");
            auto page = store->pendingApplications({});
            ASSERT_TRUE(page.ok());
            ASSERT_EQ(page->items.size(), 1u);
            EXPECT_EQ(page->items[0].id, "app-1");
            // The events, their keys and their sequence survive every rebuild of their table.
            auto events = store->eventsAfter(0, 10);
            ASSERT_TRUE(events.ok()) << events.error().message;
            ASSERT_EQ(events->size(), 1u);
            EXPECT_EQ(events->front().event.idempotencyKey, "key-00000001");
            EXPECT_EQ(events->front().sequence, 1u);
        }
        if (v >= 2) {
            auto d = store->deviceById("verifier-9");
            ASSERT_TRUE(d.ok());
            ASSERT_TRUE(d->has_value());
            EXPECT_EQ((*d)->role, Role::Verifier);
        }
    }
}

TEST_F(StoreTest, TwoProcessesStartingTogetherMigrateOnce) {
    std::vector<std::string> errors(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < errors.size(); ++i)
        threads.emplace_back([&, i] {
            auto store = openStore(m_url);
            if (!store)
                errors[i] = store.error().message;
        });
    for (auto& t : threads)
        t.join();
    for (const auto& e : errors)
        EXPECT_EQ(e, "");
    auto db = rawDb(m_url);
    auto rows = db->query("SELECT COUNT(*), MAX(version) FROM schema_version");
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    EXPECT_EQ(rows->front().integer(0), Store::latestSchemaVersion());
    EXPECT_EQ(rows->front().integer(1), Store::latestSchemaVersion());
}

TEST_F(StoreTest, RefusesADatabaseNewerThanTheBuild) {
    ASSERT_TRUE(open());
    {
        auto db = rawDb(m_url);
        auto r = db->exec("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                          {std::int64_t{Store::latestSchemaVersion() + 1}, std::int64_t{0}});
        ASSERT_TRUE(r.ok()) << r.error().message;
    }
    auto store = openStore(m_url);
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("newer than this build"), std::string::npos)
        << store.error().message;
}

// The registry's file holds every member's name: before the fix it took the process umask
// (0644 under the usual 022), readable by every user of the machine.
TEST_F(StoreTest, ANewSqliteFileIsTheOwnersAlone) {
    if (onPostgres())
        GTEST_SKIP() << "a SQLite file";
    const std::string path = m_dir + "/private.db";
    const mode_t before = ::umask(022);
    auto store = open("sqlite:" + path);
    ::umask(before);
    ASSERT_TRUE(store);
    seedMembers(*store, {member("m-1")}); // a write, so the -wal file exists too
    for (const std::string& file : {path, path + "-wal"}) {
        struct stat st {};
        ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
        EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
    }
}

TEST_F(StoreTest, RefusesAnUnknownUrl) {
    auto store = openStore("mysql://somewhere/db");
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, StoreErrorCode::InvalidArgument);
}

// ---- Status events ----

TEST_F(StoreTest, RecordsAProducedCardAndItsHandOver) {
    auto store = open();
    leaseForCards(*store);
    seedMembers(*store, {member("m-1")});
    const auto number = numberOf(23, 1001);

    auto produced =
        store->recordEvent(event("key-prod-1", EventKind::Produced, number, "m-1"), "st-23-01");
    ASSERT_TRUE(produced.ok()) << produced.error().message;
    EXPECT_FALSE(produced->duplicate);
    EXPECT_EQ(produced->state, CardState::Produced);

    auto handed =
        store->recordEvent(event("key-hand-1", EventKind::HandedOver, number, "m-1"), "st-23-01");
    ASSERT_TRUE(handed.ok()) << handed.error().message;
    EXPECT_EQ(handed->state, CardState::HandedOver);
    EXPECT_GT(handed->sequence, produced->sequence);
    EXPECT_EQ(*store->currentSequence(), handed->sequence);

    auto found = store->lookup(number, false);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->verdict, Lookup::Verdict::Valid);
    EXPECT_EQ(found->state, CardState::HandedOver);
    EXPECT_EQ(found->reason, "handed over on 2026-11-20");
    EXPECT_FALSE(found->memberId);
    EXPECT_FALSE(found->fullName);
    EXPECT_FALSE(found->organisationCode);

    auto personal = store->lookup(number, true);
    ASSERT_TRUE(personal.ok());
    EXPECT_EQ(personal->memberId, "m-1");
    EXPECT_EQ(personal->fullName, "Иванова Мария Петровна");
    EXPECT_EQ(personal->organisationCode, 501u);
}

TEST_F(StoreTest, TheSameKeyIsRecordedOnce) {
    auto store = open();
    leaseForCards(*store);
    seedMembers(*store, {member("m-1")});
    const auto e = event("key-dup-0001", EventKind::Produced, numberOf(23, 7), "m-1");
    auto first = store->recordEvent(e, "st-23-01");
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto again = store->recordEvent(e, "st-23-01");
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->sequence, first->sequence);
    EXPECT_EQ(again->state, CardState::Produced);
    EXPECT_EQ(store->eventsAfter(0, 100)->size(), 1u);

    // The same key for another event is refused, and changes nothing.
    auto other = e;
    other.kind = EventKind::Spoiled;
    auto reused = store->recordEvent(other, "st-23-01");
    ASSERT_FALSE(reused.ok());
    EXPECT_EQ(reused.error().code, StoreErrorCode::IdempotencyConflict);
    EXPECT_EQ(reused.error().message, "idempotency key reused for a different event");
    EXPECT_EQ(store->lookup(numberOf(23, 7), false)->state, CardState::Produced);
}

TEST_F(StoreTest, RefusesAnImpossibleTransitionWithItsReason) {
    auto store = open();
    leaseForCards(*store);
    seedMembers(*store, {member("m-1")});
    const auto number = numberOf(23, 8);
    ASSERT_TRUE(store->recordEvent(event("key-a-000001", EventKind::Produced, number, "m-1"), "d"));
    auto revoked = event("key-a-000002", EventKind::Revoked, number, "m-1");
    revoked.at = kDay + 24h * 30;
    ASSERT_TRUE(store->recordEvent(revoked, "d"));

    auto handed =
        store->recordEvent(event("key-a-000003", EventKind::HandedOver, number, "m-1"), "d");
    ASSERT_FALSE(handed.ok());
    EXPECT_EQ(handed.error().code, StoreErrorCode::Conflict);
    EXPECT_EQ(handed.error().message,
              nextState(CardState::Revoked, EventKind::HandedOver).error().reason);
    auto found = store->lookup(number, false);
    EXPECT_EQ(found->verdict, Lookup::Verdict::Revoked);
    EXPECT_EQ(found->reason, "revoked on 2026-12-20");
    EXPECT_EQ(store->eventsAfter(0, 100)->size(), 2u);

    // A card never produced cannot be handed over.
    auto unknown = store->recordEvent(
        event("key-a-000004", EventKind::HandedOver, numberOf(23, 9), "m-1"), "d");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, StoreErrorCode::Conflict);
}

TEST_F(StoreTest, ChecksTheEventBeforeRecordingIt) {
    auto store = open();
    leaseForCards(*store);
    seedMembers(*store, {member("m-1"), member("m-2")});
    const auto number = numberOf(23, 10);
    auto expectInvalid = [&](const StatusEvent& e, std::string_view words) {
        auto r = store->recordEvent(e, "d");
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, StoreErrorCode::InvalidArgument);
        EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
    };
    expectInvalid(event("short", EventKind::Produced, number, "m-1"), "idempotency key");
    expectInvalid(event("key with spaces", EventKind::Produced, number, "m-1"), "idempotency key");
    std::string typo = number;
    typo[15] = typo[15] == '9' ? '0' : static_cast<char>(typo[15] + 1);
    expectInvalid(event("key-b-000001", EventKind::Produced, typo, "m-1"), "card number");
    expectInvalid(event("key-b-000002", EventKind::Produced, number, "nobody"), "no member");
    // A serial no station was given: it would stretch the region in every status list.
    expectInvalid(event("key-b-000005", EventKind::Spoiled, numberOf(1, 200'000'000), "m-1"),
                  "never leased");

    ASSERT_TRUE(store->recordEvent(event("key-b-000003", EventKind::Produced, number, "m-1"), "d"));
    expectInvalid(event("key-b-000004", EventKind::HandedOver, number, "m-2"), "another member");
    EXPECT_EQ(store->eventsAfter(0, 100)->size(), 1u);
}

// Before the fix an application naming a member the registry has, under another name, kept
// the old member record without a word (a mistyped id, or a card printed for the wrong person).
TEST_F(StoreTest, AnApplicationUnderAnotherNameForAKnownMemberIsRefused) {
    auto store = open();
    ASSERT_TRUE(store->addApplications({application("app-1", "m-1")}));
    auto renamed = application("app-2", "m-1");
    renamed.fullName = "Сидорова Анна";
    auto r = store->addApplications({application("app-3", "m-2"), renamed});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StoreErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message.find("member m-1 is in the registry under another name"),
              std::string::npos)
        << r.error().message;
    // Nothing of the refused batch was kept; the same name again is a second application.
    auto page = store->pendingApplications({});
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->items.size(), 1u);
    EXPECT_TRUE(store->addApplications({application("app-4", "m-1")}).ok());
}

TEST_F(StoreTest, AProducedEventClosesItsApplication) {
    auto store = open();
    leaseForCards(*store);
    ASSERT_TRUE(store->addApplications({application("app-1", "m-1"), application("app-2", "m-2")}));
    auto e = event("key-c-000001", EventKind::Produced, numberOf(23, 11), "m-1");
    e.applicationId = "app-1";
    auto r = store->recordEvent(e, "d");
    ASSERT_TRUE(r.ok()) << r.error().message;
    auto page = store->pendingApplications({});
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].id, "app-2");

    // The same application cannot be fulfilled twice, nor someone else's.
    auto twice = event("key-c-000002", EventKind::Produced, numberOf(23, 12), "m-1");
    twice.applicationId = "app-1";
    EXPECT_EQ(store->recordEvent(twice, "d").error().code, StoreErrorCode::Conflict);
    auto foreign = event("key-c-000003", EventKind::Produced, numberOf(23, 13), "m-1");
    foreign.applicationId = "app-2";
    EXPECT_EQ(store->recordEvent(foreign, "d").error().code, StoreErrorCode::InvalidArgument);
    // Nothing of the refused events remains.
    EXPECT_EQ(store->lookup(numberOf(23, 12), false)->verdict, Lookup::Verdict::Unknown);
    EXPECT_EQ(store->pendingApplications({})->items.size(), 1u);
}

TEST_F(StoreTest, ExportsEventsInOrder) {
    auto store = open();
    leaseForCards(*store);
    seedMembers(*store, {member("m-1")});
    for (int i = 0; i < 5; ++i) {
        auto e = event("key-d-00000" + std::to_string(i), EventKind::Produced,
                       numberOf(23, 100 + static_cast<std::uint64_t>(i)), "m-1");
        e.station = "St'ation \"" + std::to_string(i) + "\"; --";
        e.reason = i == 3 ? "tab\there, newline\nthere, back\\slash" : "";
        e.applicationId = std::nullopt;
        ASSERT_TRUE(store->recordEvent(e, "d"));
    }
    auto all = store->eventsAfter(0, 100);
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 5u);
    for (std::size_t i = 1; i < all->size(); ++i)
        EXPECT_LT((*all)[i - 1].sequence, (*all)[i].sequence);
    EXPECT_EQ((*all)[2].event.station, "St'ation \"2\"; --");
    EXPECT_EQ((*all)[3].event.reason, "tab\there, newline\nthere, back\\slash");
    EXPECT_EQ((*all)[3].event.kind, EventKind::Produced);
    EXPECT_EQ((*all)[3].event.at, kDay);
    auto tail = store->eventsAfter((*all)[1].sequence, 2);
    ASSERT_TRUE(tail.ok());
    ASSERT_EQ(tail->size(), 2u);
    EXPECT_EQ((*tail)[0].sequence, (*all)[2].sequence);
    EXPECT_FALSE(store->eventsAfter(0, 0).ok());
}

TEST_F(StoreTest, HostileTextIsStoredAsText) {
    auto store = open();
    leaseForCards(*store);
    auto a = application("app-'; DROP TABLE applications;--", "O'Brien");
    a.fullName = "Robert'); DROP TABLE members;--";
    a.organisationName = "O'Brien & Sons \"Ltd\" \\ 100%";
    ASSERT_TRUE(store->addApplications({a}));
    auto page = store->pendingApplications({});
    ASSERT_TRUE(page.ok()) << page.error().message;
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].id, a.id);
    EXPECT_EQ(page->items[0].memberId, "O'Brien");
    EXPECT_EQ(page->items[0].fullName, "Robert'); DROP TABLE members;--");
    EXPECT_EQ(page->items[0].organisationName, a.organisationName);

    const auto number = numberOf(23, 5);
    auto e = event("key-e-000001", EventKind::Produced, number, "O'Brien");
    ASSERT_TRUE(store->recordEvent(e, "d"));
    auto found = store->lookup(number, true);
    ASSERT_TRUE(found.ok()) << found.error().message;
    EXPECT_EQ(found->memberId, "O'Brien");
    EXPECT_EQ(found->fullName, "Robert'); DROP TABLE members;--");
}

// ---- Applications ----

TEST_F(StoreTest, PagesThroughPendingApplicationsWithFilters) {
    auto store = open();
    std::vector<Application> apps;
    for (int i = 0; i < 25; ++i) {
        const int region = i % 5 == 0 ? 77 : 23;
        const std::uint32_t org = region == 77 ? 701 : (i % 2 ? 501 : 502);
        apps.push_back(
            application("app-" + std::to_string(100 + i), "m-" + std::to_string(i), region, org));
    }
    auto added = store->addApplications(apps);
    ASSERT_TRUE(added.ok()) << added.error().message;
    EXPECT_EQ(*added, 25);

    auto collect = [&](ApplicationFilter f) {
        std::vector<std::string> ids;
        int pages = 0;
        for (;;) {
            auto page = store->pendingApplications(f);
            EXPECT_TRUE(page.ok()) << page.error().message;
            if (!page)
                break;
            ++pages;
            for (const auto& a : page->items) {
                if (f.region) {
                    EXPECT_EQ(a.region, *f.region);
                }
                if (f.organisationCode) {
                    EXPECT_EQ(a.organisationCode, *f.organisationCode);
                }
                ids.push_back(a.id);
            }
            if (page->nextCursor.empty())
                break;
            f.cursor = page->nextCursor;
        }
        return std::make_pair(ids, pages);
    };
    ApplicationFilter f;
    f.limit = 10;
    auto [ids, pages] = collect(f);
    EXPECT_EQ(pages, 3);
    ASSERT_EQ(ids.size(), 25u);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 25u);

    f.region = 77;
    EXPECT_EQ(collect(f).first.size(), 5u);
    f.region = 23;
    f.organisationCode = 502;
    std::size_t expected502 = 0;
    for (const auto& a : apps)
        expected502 += a.organisationCode == 502;
    EXPECT_EQ(collect(f).first.size(), expected502);

    ApplicationFilter bad;
    bad.cursor = "not-a-cursor";
    EXPECT_EQ(store->pendingApplications(bad).error().code, StoreErrorCode::InvalidArgument);
    bad.cursor.clear();
    bad.limit = 0;
    EXPECT_EQ(store->pendingApplications(bad).error().code, StoreErrorCode::InvalidArgument);

    // Adding is all or nothing: a duplicate id refuses the whole batch.
    auto again = store->addApplications({application("zz-new", "m-x"), apps[0]});
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, StoreErrorCode::Conflict);
    EXPECT_EQ(collect(ApplicationFilter{}).first.size(), 25u);
}

// ---- Leases ----

TEST_F(StoreTest, LeasesFollowEachOtherAndRunOut) {
    auto store = open();
    auto a = store->leaseSerials(23, 100, "st-1");
    ASSERT_TRUE(a.ok()) << a.error().message;
    auto b = store->leaseSerials(23, 50, "st-2");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->firstSerial, a->firstSerial + 100);
    EXPECT_EQ(b->count, 50u);
    EXPECT_NE(a->id, b->id);
    auto other = store->leaseSerials(77, 10, "st-3");
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other->firstSerial, a->firstSerial); // regions count separately

    EXPECT_EQ(store->leaseSerials(23, 0, "st").error().code, StoreErrorCode::InvalidArgument);
    EXPECT_EQ(store->leaseSerials(23, 100001, "st").error().code, StoreErrorCode::InvalidArgument);
    EXPECT_EQ(store->leaseSerials(0, 1, "st").error().code, StoreErrorCode::InvalidArgument);

    // Near the end of the nine-digit serials.
    {
        auto db = rawDb(m_url);
        auto r = db->exec("UPDATE serial_counters SET next_serial = $1 WHERE region = 23",
                          {std::int64_t{999'999'990}});
        ASSERT_TRUE(r.ok()) << r.error().message;
    }
    auto tooMany = store->leaseSerials(23, 11, "st-1");
    ASSERT_FALSE(tooMany.ok());
    EXPECT_EQ(tooMany.error().code, StoreErrorCode::Exhausted);
    EXPECT_NE(tooMany.error().message.find("10 serial numbers left"), std::string::npos)
        << tooMany.error().message;
    auto last = store->leaseSerials(23, 10, "st-1");
    ASSERT_TRUE(last.ok()) << last.error().message;
    EXPECT_EQ(last->firstSerial, 999'999'990u);
    EXPECT_EQ(store->leaseSerials(23, 1, "st-1").error().code, StoreErrorCode::Exhausted);
}

// A stolen or faulty station credential leasing block after block would push the region's
// numbers far past its cards (and, unchecked, past what a status list can cover).
TEST_F(StoreTest, LeaseQuotasCountTheSerialsWithNoCardYet) {
    auto store = open();
    seedMembers(*store, {member("m-1")});
    const LeaseQuota quota{100, 150};
    auto a = store->leaseSerials(23, 100, "st-a", quota);
    ASSERT_TRUE(a.ok()) << a.error().message;
    auto over = store->leaseSerials(23, 1, "st-a", quota);
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error().code, StoreErrorCode::LeaseQuota);
    EXPECT_NE(over.error().message.find("station 'st-a' holds 100 leased serials"),
              std::string::npos)
        << over.error().message;
    // Another station of the region has the region's quota left, not its own.
    ASSERT_TRUE(store->leaseSerials(23, 50, "st-b", quota).ok());
    auto region = store->leaseSerials(23, 1, "st-b", quota);
    ASSERT_FALSE(region.ok());
    EXPECT_EQ(region.error().code, StoreErrorCode::LeaseQuota);
    EXPECT_NE(region.error().message.find("region 23 hold 150"), std::string::npos)
        << region.error().message;
    // Other regions are counted apart.
    EXPECT_TRUE(store->leaseSerials(77, 100, "st-c", quota).ok());
    // A card made with a leased serial uses it: room for one more.
    auto produced = store->recordEvent(
        event("key-quota-1", EventKind::Produced, numberOf(23, a->firstSerial), "m-1"), "st-a");
    ASSERT_TRUE(produced.ok()) << produced.error().message;
    EXPECT_TRUE(store->leaseSerials(23, 1, "st-a", quota).ok());
    EXPECT_EQ(store->leaseSerials(23, 1, "st-a", quota).error().code, StoreErrorCode::LeaseQuota);
    // A refused lease took nothing: the next one follows the last granted.
    auto c = store->leaseSerials(77, 1, "st-d", quota);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->firstSerial, 101u);
}

TEST_F(StoreTest, ConcurrentLeasesFromTwoConnectionsNeverOverlap) {
    auto one = open();
    auto two = open();
    ASSERT_TRUE(one && two);
    constexpr int kPerThread = 40;
    std::vector<Lease> leases[4];
    std::vector<std::string> errors[4];
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            Store& store = t % 2 ? *two : *one;
            for (int i = 0; i < kPerThread; ++i) {
                auto lease =
                    store.leaseSerials(23, static_cast<std::uint32_t>(1 + (i * 7 + t) % 13),
                                       "st-" + std::to_string(t));
                if (lease)
                    leases[t].push_back(*lease);
                else
                    errors[t].push_back(lease.error().message);
            }
        });
    }
    for (auto& th : threads)
        th.join();
    std::map<std::uint64_t, std::uint32_t> ranges;
    for (int t = 0; t < 4; ++t) {
        EXPECT_TRUE(errors[t].empty()) << errors[t].front();
        for (const auto& l : leases[t])
            EXPECT_TRUE(ranges.emplace(l.firstSerial, l.count).second);
    }
    ASSERT_EQ(ranges.size(), 4u * kPerThread);
    // Sorted by first serial, each lease starts exactly where the previous ended: no overlap, no
    // gap.
    std::uint64_t expected = ranges.begin()->first;
    for (const auto& [first, count] : ranges) {
        EXPECT_EQ(first, expected);
        expected = first + count;
    }
}

TEST_F(StoreTest, TheSameEventSentTwiceAtOnceIsRecordedOnce) {
    auto one = open();
    auto two = open();
    leaseForCards(*one);
    ASSERT_TRUE(one && two);
    std::vector<Member> members;
    for (int i = 0; i < 20; ++i)
        members.push_back(member("m-" + std::to_string(i)));
    seedMembers(*one, members);
    std::atomic<int> recorded{0}, duplicates{0}, failed{0};
    std::string firstError;
    for (int round = 0; round < 20; ++round) {
        const auto e = event("key-race-" + std::to_string(1000 + round), EventKind::Produced,
                             numberOf(23, 5000 + static_cast<std::uint64_t>(round)),
                             "m-" + std::to_string(round));
        std::atomic<bool> go{false};
        auto send = [&](Store& store) {
            while (!go)
                std::this_thread::yield();
            auto r = store.recordEvent(e, "d");
            if (!r) {
                if (failed++ == 0)
                    firstError = r.error().message;
            } else if (r->duplicate) {
                ++duplicates;
            } else {
                ++recorded;
            }
        };
        std::thread a(send, std::ref(*one)), b(send, std::ref(*two));
        go = true;
        a.join();
        b.join();
    }
    EXPECT_EQ(failed, 0) << firstError;
    EXPECT_EQ(recorded, 20);
    EXPECT_EQ(duplicates, 20);
    EXPECT_EQ(one->eventsAfter(0, 1000)->size(), 20u);
}

// ---- The status list ----

TEST_F(StoreTest, StreamsTheCardsThatAreNotValidInOrder) {
    auto store = open();
    leaseForCards(*store);
    seedMembers(*store, {member("m-1"), member("m-2", 77, 701)});
    struct Step {
        int region;
        std::uint64_t serial;
        std::vector<EventKind> kinds;
    };
    const std::vector<Step> steps = {
        {77, 3, {EventKind::Produced, EventKind::HandedOver, EventKind::Lost}},
        {23, 9, {EventKind::Produced, EventKind::HandedOver}},
        {23, 2, {EventKind::Produced, EventKind::Refused}},
        {23, 5, {EventKind::Spoiled}},
        {77, 1, {EventKind::Produced}},
        {23, 7, {EventKind::Produced, EventKind::HandedOver, EventKind::Suspended}},
        {23,
         40,
         {EventKind::Produced, EventKind::HandedOver, EventKind::Suspended, EventKind::Reinstated}},
    };
    int k = 0;
    std::map<std::pair<int, std::uint64_t>, Validity> expected;
    for (const auto& s : steps) {
        std::optional<CardState> state;
        for (auto kind : s.kinds) {
            auto r = store->recordEvent(event("key-s-" + std::to_string(100000 + k++), kind,
                                              numberOf(s.region, s.serial),
                                              s.region == 77 ? "m-2" : "m-1"),
                                        "d");
            ASSERT_TRUE(r.ok()) << r.error().message;
            state = r->state;
        }
        if (validityOf(*state) != Validity::Valid)
            expected[{s.region, s.serial}] = validityOf(*state);
    }
    std::vector<CardValidity> seen;
    auto e = store->forEachNotValid([&](const CardValidity& c) { seen.push_back(c); });
    ASSERT_FALSE(e) << e->message;
    ASSERT_EQ(seen.size(), expected.size());
    std::size_t i = 0;
    for (const auto& [key, validity] : expected) { // std::map: (region, serial) order
        EXPECT_EQ(seen[i].region, key.first);
        EXPECT_EQ(seen[i].serial, key.second);
        EXPECT_EQ(seen[i].validity, validity);
        ++i;
    }
    auto highest = store->highestSerials();
    ASSERT_TRUE(highest.ok());
    EXPECT_EQ(*highest, (std::vector<std::pair<int, std::uint64_t>>{{23, 40}, {77, 3}}));

    // The same, as the one snapshot the status list is built from, with its sequence.
    std::vector<CardValidity> snapshotCards;
    std::vector<std::pair<int, std::uint64_t>> snapshotTops;
    auto sequence = store->statusSnapshot(
        [&](std::uint64_t, const std::vector<std::pair<int, std::uint64_t>>& tops) {
            snapshotTops = tops;
            return true;
        },
        [&](const CardValidity& c) { snapshotCards.push_back(c); });
    ASSERT_TRUE(sequence.ok()) << sequence.error().message;
    EXPECT_EQ(*sequence, *store->currentSequence());
    EXPECT_EQ(snapshotTops, *highest);
    ASSERT_EQ(snapshotCards.size(), seen.size());
    for (std::size_t j = 0; j < seen.size(); ++j) {
        EXPECT_EQ(snapshotCards[j].serial, seen[j].serial);
        EXPECT_EQ(snapshotCards[j].validity, seen[j].validity);
    }
}

TEST_F(StoreTest, KeepsPublishedStatusLists) {
    auto store = open();
    EXPECT_FALSE(store->latestStatusListVersion()->has_value());
    std::vector<std::uint8_t> v5 = {0x00, 0xff, 0x5c, 0x27, 0x0a, 0x00, 0x01};
    std::vector<std::uint8_t> v9(70000);
    for (std::size_t i = 0; i < v9.size(); ++i)
        v9[i] = static_cast<std::uint8_t>(i * 31 + 7);
    ASSERT_FALSE(store->saveStatusList(5, v5));
    ASSERT_FALSE(store->saveStatusList(9, v9));
    ASSERT_FALSE(store->saveStatusList(5, v5)); // a retry
    // Another instance saving the same version a moment later: the first bytes stay.
    EXPECT_FALSE(store->saveStatusList(5, v9));
    EXPECT_EQ(*store->statusList(5), v5);
    EXPECT_EQ(*store->statusList(9), v9);
    EXPECT_FALSE(store->statusList(6)->has_value());
    EXPECT_EQ(*store->latestStatusListVersion(), 9u);
}

// ---- Check-ins and devices ----

TEST_F(StoreTest, ACheckInCountsOnce) {
    auto store = open();
    CheckIn c{"nonce-0123456789abcdef", "forum-2026", "desk-2", numberOf(23, 4), kDay};
    auto first = store->recordCheckIn(c, "verifier-1");
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_TRUE(*first);
    auto retry = store->recordCheckIn(c, "verifier-1");
    ASSERT_TRUE(retry.ok());
    EXPECT_FALSE(*retry);
    c.nonce = "short";
    EXPECT_EQ(store->recordCheckIn(c, "v").error().code, StoreErrorCode::InvalidArgument);
}

TEST_F(StoreTest, DesksFetchAnEventsCheckInsInReceivedOrder) {
    auto store = open();
    const CheckIn a{"nonce-aaaaaaaaaaaaaaaa", "forum-2026", "desk-1", numberOf(23, 4), kDay};
    const CheckIn b{"nonce-bbbbbbbbbbbbbbbb", "other-event", "desk-1", numberOf(23, 5), kDay};
    const CheckIn c{"nonce-cccccccccccccccc", "forum-2026", "desk-2", numberOf(23, 4), kDay - 60s};
    for (const CheckIn* x : {&a, &b, &c, &a}) {
        ASSERT_TRUE(store->recordCheckIn(*x, "verifier-1").ok());
    }
    auto all = store->checkInsAfter("forum-2026", 0, 100);
    ASSERT_TRUE(all.ok()) << all.error().message;
    ASSERT_EQ(all->size(), 2u); // the retry of a is not a row, other-event is not this event
    EXPECT_EQ((*all)[0].checkIn.nonce, a.nonce);
    EXPECT_EQ((*all)[1].checkIn.nonce, c.nonce);
    EXPECT_EQ((*all)[1].checkIn.at, c.at);
    EXPECT_EQ((*all)[1].checkIn.desk, "desk-2");
    EXPECT_EQ((*all)[1].deviceId, "verifier-1");
    EXPECT_LT((*all)[0].sequence, (*all)[1].sequence);
    auto rest = store->checkInsAfter("forum-2026", (*all)[0].sequence, 100);
    ASSERT_TRUE(rest.ok());
    ASSERT_EQ(rest->size(), 1u);
    EXPECT_EQ(rest->front().checkIn.nonce, c.nonce);
    EXPECT_TRUE(store->checkInsAfter("forum-2026", (*all)[1].sequence, 100)->empty());
    EXPECT_EQ(store->checkInsAfter("forum-2026", 0, 0).error().code,
              StoreErrorCode::InvalidArgument);
}

TEST_F(StoreTest, FindsDevicesByTokenHash) {
    auto store = open();
    const std::string hashA(64, 'a');
    const std::string hashB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    Device station{"st-23-01", Role::Station, 23, kDay + 24h * 365, false};
    ASSERT_FALSE(store->putDevice(station, hashA));
    auto byToken = store->deviceByToken(std::string(64, 'A')); // hex case does not matter
    ASSERT_TRUE(byToken.ok()) << byToken.error().message;
    ASSERT_TRUE(byToken->has_value());
    EXPECT_EQ((*byToken)->id, "st-23-01");
    EXPECT_EQ((*byToken)->role, Role::Station);
    EXPECT_EQ((*byToken)->region, 23);
    EXPECT_EQ((*byToken)->expiresAt, kDay + 24h * 365);

    // Disabling, or moving to another region, without a new token keeps the token.
    station.disabled = true;
    station.region = 50;
    ASSERT_FALSE(store->putDevice(station, std::nullopt));
    auto again = store->deviceByToken(hashA);
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(again->has_value());
    EXPECT_TRUE((*again)->disabled);
    EXPECT_EQ((*again)->region, 50);

    // A token belongs to one device.
    auto clash = store->putDevice({"verifier-1", Role::Verifier, {}, kDay, false}, hashA);
    ASSERT_TRUE(clash);
    EXPECT_EQ(clash->code, StoreErrorCode::Conflict);
    ASSERT_FALSE(store->putDevice({"verifier-1", Role::Verifier, {}, kDay, false}, hashB));
    EXPECT_EQ((*store->deviceById("verifier-1"))->role, Role::Verifier);
    EXPECT_FALSE(store->deviceByToken(std::string(64, 'c'))->has_value());
    EXPECT_FALSE(store->deviceById("nobody")->has_value());
    EXPECT_EQ(store->deviceByToken("xyz").error().code, StoreErrorCode::InvalidArgument);
    EXPECT_TRUE(store->putDevice(station, std::string("not-hex")));
}

// ---- Bulk loading ----

TEST_F(StoreTest, BulkLoadsMembersAndCardsAndMovesTheCounters) {
    const std::string fresh = newDatabase();
    ASSERT_TRUE(open(fresh));
    auto store = open();
    constexpr int kMembers = 3000;
    int m = 0, c = 0;
    auto e = store->bulkLoad(
        {{501, 23, "School 1"}, {701, 77, "College\t7 \\ \"x\""}},
        [&](Member& out) {
            if (m == kMembers)
                return false;
            out = member("bulk-" + std::to_string(m), m % 3 ? 23 : 77, m % 3 ? 501 : 701);
            out.fullName =
                m == 7 ? "Tab\there\nnewline \\N O'Brien" : "Member " + std::to_string(m);
            ++m;
            return true;
        },
        [&](SeedCard& out) {
            if (c == 2000)
                return false;
            const int region = c % 3 ? 23 : 77;
            out.cardNumber = numberOf(region, 10 + static_cast<std::uint64_t>(c) * 3);
            out.memberId = "bulk-" + std::to_string(c);
            out.state = c % 10 == 0 ? CardState::Revoked : CardState::HandedOver;
            out.at = kDay;
            out.station = "seed";
            ++c;
            return true;
        });
    ASSERT_FALSE(e) << e->message;
    EXPECT_EQ(schemaOf(m_url), schemaOf(fresh)); // the dropped indexes are back

    auto found = store->lookup(numberOf(23, 10 + 1 * 3), true);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->verdict, Lookup::Verdict::Valid);
    EXPECT_EQ(found->memberId, "bulk-1");
    auto odd = store->lookup(numberOf(23, 10 + 7 * 3), true);
    EXPECT_EQ(odd->fullName, "Tab\there\nnewline \\N O'Brien");

    std::size_t notValid = 0;
    ASSERT_FALSE(store->forEachNotValid([&](const CardValidity&) { ++notValid; }));
    EXPECT_EQ(notValid, 200u);
    // Leases start past the highest loaded serial of each region.
    auto highest = store->highestSerials();
    ASSERT_TRUE(highest.ok());
    ASSERT_EQ(highest->size(), 2u);
    for (const auto& [region, serial] : *highest) {
        auto lease = store->leaseSerials(region, 5, "st");
        ASSERT_TRUE(lease.ok());
        EXPECT_EQ(lease->firstSerial, serial + 1);
    }

    // A bad row refuses the whole load.
    const std::string other = newDatabase();
    auto second = open(other);
    int n = 0;
    auto bad = second->bulkLoad(
        {},
        [&](Member& out) {
            if (n == 10)
                return false;
            out = member("x-" + std::to_string(n++));
            return true;
        },
        [&, done = false](SeedCard& out) mutable {
            if (done)
                return false;
            done = true;
            out.cardNumber = "9643230000000000";
            out.memberId = "x-1";
            return true;
        });
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->code, StoreErrorCode::InvalidArgument);
    EXPECT_EQ(second->lookup(numberOf(23, 10), false)->verdict, Lookup::Verdict::Unknown);
    EXPECT_EQ(schemaOf(other), schemaOf(fresh));
    // ... and so does a card of a member the registry does not have.
    auto orphan = second->bulkLoad(
        {}, [](Member&) { return false; },
        [&, done = false](SeedCard& out) mutable {
            if (done)
                return false;
            done = true;
            out.cardNumber = numberOf(23, 10);
            out.memberId = "nobody";
            return true;
        });
    ASSERT_TRUE(orphan);
    EXPECT_EQ(orphan->code, StoreErrorCode::InvalidArgument);
}

// ---- Faults of the database ----

TEST_F(StoreTest, ALockedDatabaseIsUnavailable) {
    if (onPostgres())
        GTEST_SKIP() << "SQLite's database lock; PostgreSQL locks rows";
    ASSERT_TRUE(open());
    auto holder = rawDb(m_url);
    ASSERT_FALSE(holder->begin(sql::TxMode::Write));
    auto store = openStore(rawDb(m_url, 50));
    ASSERT_TRUE(store.ok()) << store.error().message; // nothing to migrate: reads only
    auto lease = (*store)->leaseSerials(23, 1, "st");
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.error().code, StoreErrorCode::Unavailable);
    EXPECT_NE(lease.error().message.find("locked"), std::string::npos) << lease.error().message;
    holder->rollback();
    EXPECT_TRUE((*store)->leaseSerials(23, 1, "st").ok());
}

TEST_F(StoreTest, AFullDiskIsUnavailable) {
    if (onPostgres())
        GTEST_SKIP() << "a full disk is simulated with SQLite's max_page_count";
    ASSERT_TRUE(open());
    auto db = rawDb(m_url);
    auto pages = db->query("PRAGMA page_count");
    ASSERT_TRUE(pages.ok());
    ASSERT_TRUE(
        db->exec("PRAGMA max_page_count = " + std::to_string(pages->front().integer(0) + 2)).ok());
    auto store = openStore(std::move(db));
    ASSERT_TRUE(store.ok());
    std::vector<Application> apps;
    for (int i = 0; i < 2000; ++i)
        apps.push_back(application("full-" + std::to_string(i), "m-" + std::to_string(i)));
    auto added = (*store)->addApplications(apps);
    ASSERT_FALSE(added.ok());
    EXPECT_EQ(added.error().code, StoreErrorCode::Unavailable);
    EXPECT_NE(added.error().message.find("full"), std::string::npos) << added.error().message;
}

TEST_F(StoreTest, ALostConnectionIsUnavailableAndThenRecovers) {
    if (!onPostgres())
        GTEST_SKIP() << "SQLite has no connection to lose";
    auto store = open();
    ASSERT_TRUE(store->leaseSerials(23, 1, "st").ok());
    const std::string name = m_databases.front();
    auto killed = m_admin->query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", {name});
    ASSERT_TRUE(killed.ok()) << killed.error().message;
    ASSERT_FALSE(killed->empty());
    auto lease = store->leaseSerials(23, 1, "st");
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.error().code, StoreErrorCode::Unavailable);
    EXPECT_NE(lease.error().message.find("PostgreSQL"), std::string::npos) << lease.error().message;
    auto after = store->leaseSerials(23, 1, "st");
    EXPECT_TRUE(after.ok()) << after.error().message;
}

TEST(StoreErrors, DatabaseFaultsMapToTypedCodes) {
    using sql::DbErrorCode;
    EXPECT_EQ(toStoreError({DbErrorCode::Busy, "locked"}).code, StoreErrorCode::Unavailable);
    EXPECT_EQ(toStoreError({DbErrorCode::Retry, "x"}).code, StoreErrorCode::Unavailable);
    EXPECT_EQ(toStoreError({DbErrorCode::Unavailable, "x"}).code, StoreErrorCode::Unavailable);
    EXPECT_EQ(toStoreError({DbErrorCode::UniqueViolation, "x"}).code, StoreErrorCode::Conflict);
    EXPECT_EQ(toStoreError({DbErrorCode::ConstraintViolation, "x"}).code,
              StoreErrorCode::InvalidArgument);
    EXPECT_EQ(toStoreError({DbErrorCode::Internal, "x"}).code, StoreErrorCode::Internal);
}

// ---- Scale (figures, not pass/fail on time) ----

// The seed's size: 3.1 million members and 2.3 million cards. Runs only when asked, e.g.
//   UNIONCARD_STORE_SCALE=1 build/release/bin/registry_store_tests --gtest_filter='*FullScale*'
TEST_F(StoreTest, BulkLoadFullScale) {
    const char* scale = std::getenv("UNIONCARD_STORE_SCALE");
    if (!scale || std::string_view(scale) != "1")
        GTEST_SKIP() << "set UNIONCARD_STORE_SCALE=1 to load 3.1M members and 2.3M cards";
    auto store = open();
    constexpr int kMembers = 3'100'000, kCards = 2'300'000;
    std::vector<Organisation> orgs;
    for (std::uint32_t o = 0; o < 72000; ++o)
        orgs.push_back(
            {100000 + o, static_cast<int>(1 + o % 85), "Организация " + std::to_string(o)});
    int m = 0, c = 0;
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpuStart = std::clock();
    auto e = store->bulkLoad(
        orgs,
        [&](Member& out) {
            if (m == kMembers)
                return false;
            out.id = "M" + std::to_string(10'000'000 + m);
            out.fullName = "Участник Профсоюза " + std::to_string(m);
            out.region = 1 + m % 85;
            out.organisationCode = 100000 + static_cast<std::uint32_t>(m % 72000);
            out.category = MemberCategory::Working;
            out.consent = true;
            ++m;
            return true;
        },
        [&](SeedCard& out) {
            if (c == kCards)
                return false;
            const int region = 1 + c % 85;
            out.cardNumber = numberOf(region, 1 + static_cast<std::uint64_t>(c / 85));
            out.memberId = "M" + std::to_string(10'000'000 + c);
            out.state = c % 16 == 0 ? CardState::Refused : CardState::HandedOver;
            out.at = kDay;
            out.station = "seed";
            ++c;
            return true;
        });
    const double loadSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // This process's CPU time (the server's, for PostgreSQL, is not in it): the wall clock of a
    // shared machine says as much about the neighbours as about the load.
    const double loadCpu = static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC;
    ASSERT_FALSE(e) << e->message;
    std::size_t notValid = 0;
    const auto scanStart = std::chrono::steady_clock::now();
    ASSERT_FALSE(store->forEachNotValid([&](const CardValidity&) { ++notValid; }));
    const double scanSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - scanStart).count();
    EXPECT_EQ(notValid, static_cast<std::size_t>((kCards + 15) / 16));
    std::printf("[ FIGURES  ] %s: bulkLoad %d members + %d cards: %.1f s (%.1f s CPU in this "
                "process); forEachNotValid %zu cards: %.2f s\n",
                onPostgres() ? "PostgreSQL" : "SQLite", kMembers, kCards, loadSeconds, loadCpu,
                notValid, scanSeconds);
}

} // namespace
} // namespace unioncard::registry
