// SPDX-License-Identifier: Apache-2.0
// Devices act only within what they are: a station within its region and its own leases, a
// merchant learning valid or not valid and nothing more. The registry runs in process over HTTP
// on loopback on a SQLite file; each attacker is a device with its own token, speaking the API
// as any client would. Dates come from the test's clock, so the tests hold on any day.

#include "registry_fixture.hpp"

#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/seed.hpp>
#include <unioncard/registry/service.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <httplib.h>
#include <sqlite3.h>
#include <thread>

namespace unioncard {
namespace {

using namespace std::chrono;
using registry::EventKind;
using registry::Role;
using Json = nlohmann::json;
namespace fs = std::filesystem;

using security::now;
using security::take;

class DeviceAttack : public ::testing::Test {
protected:
    void SetUp() override {
        auto store = take(registry::openStore(dbUrl));
        registry::SeedOptions seed;
        seed.members = 400;
        seed.now = now();
        ASSERT_TRUE(registry::seedUnion(*store, seed));
        // A member of region 23 and one of another region, each with a fresh card made by a
        // station of that region from its own lease (recorded by the registry's own import).
        home = application("home", "Петрова Мария Ивановна", 23, 2'300'001);
        away = application("away", "Иванова Анна Петровна", 50, 5'000'001);
        ASSERT_TRUE(store->addApplications({home, away}));
        stations["st-23-01"] = addDevice(*store, "st-23-01", Role::Station, 23);
        stations["st-23-02"] = addDevice(*store, "st-23-02", Role::Station, 23);
        const std::string awayStation = "st-away";
        stations[awayStation] = addDevice(*store, awayStation, Role::Station, away.region);
        merchant = addDevice(*store, "shop-1", Role::Merchant, std::nullopt);
        homeLease = take(store->leaseSerials(23, 4, "st-23-01"));
        otherLease = take(store->leaseSerials(23, 4, "st-23-02"));
        const auto awayLease = take(store->leaseSerials(away.region, 2, awayStation));
        awayCard = take(card::CardNumber::compose(away.region, awayLease.firstSerial));
        auto made =
            event(EventKind::Produced, *awayCard, away.memberId, awayStation, "away-produced");
        ASSERT_TRUE(store->recordEvent(made, awayStation));
        made.kind = EventKind::HandedOver;
        made.idempotencyKey = "away-handed-over";
        ASSERT_TRUE(store->recordEvent(made, awayStation));

        registry::ServiceConfig config;
        config.accessLog = false;
        config.threads = 2;
        service = std::make_unique<security::RunningRegistry>(take(registry::openStore(dbUrl)),
                                                              std::move(config));
    }

    static registry::Application application(const std::string& id, const std::string& name,
                                             int region, std::uint32_t organisation) {
        registry::Application a;
        a.id = "app-" + id;
        a.memberId = "member-" + id;
        a.fullName = name;
        a.region = region;
        a.organisationCode = organisation;
        a.organisationName = "Школа № 1";
        a.consent = true;
        a.createdAt = now();
        return a;
    }

    static std::string addDevice(registry::Store& store, const std::string& id, Role role,
                                 std::optional<int> region) {
        const auto token = registry::newToken();
        EXPECT_FALSE(store.putDevice({id, role, region, now() + days(1), false},
                                     registry::tokenDigest(token)));
        return token;
    }

    static registry::StatusEvent event(EventKind kind, const card::CardNumber& number,
                                       const std::string& memberId, const std::string& station,
                                       const std::string& key) {
        registry::StatusEvent e;
        e.idempotencyKey = key;
        e.kind = kind;
        e.cardNumber = number.digits();
        e.memberId = memberId;
        e.station = station;
        e.operatorId = "op-1";
        e.at = now();
        e.cardSequence = 1;
        return e;
    }

    httplib::Client http(const std::string& token) const {
        httplib::Client c("127.0.0.1", service->port);
        c.set_bearer_token_auth(token);
        return c;
    }

    // A station's POST /v1/events as it sends it: (HTTP status, answer).
    std::pair<int, Json> post(const std::string& station, const registry::StatusEvent& e) {
        auto c = http(stations.at(station));
        auto r = c.Post("/v1/events", registry::toJson(e).dump(), "application/json");
        if (!r)
            throw std::runtime_error("the registry did not answer");
        return {r->status, Json::parse(r->body)};
    }

    std::pair<int, Json> get(const std::string& token, const std::string& path) {
        auto c = http(token);
        auto r = c.Get(path);
        if (!r)
            throw std::runtime_error("the registry did not answer");
        return {r->status, r->body.empty() ? Json() : Json::parse(r->body)};
    }

    security::TestFolder folder{"uc-device-attack-"};
    const fs::path& dir = folder.dir;
    const std::string& dbUrl = folder.dbUrl;
    registry::Application home, away;
    std::map<std::string, std::string> stations; ///< id -> bearer token
    std::string merchant;
    registry::Lease homeLease, otherLease;
    std::optional<card::CardNumber> awayCard;
    std::unique_ptr<security::RunningRegistry> service;
};

TEST_F(DeviceAttack, AStationRevokingACardOfAnotherRegionIsRefused) {
    const auto [status, body] = post(
        "st-23-01", event(EventKind::Revoked, *awayCard, away.memberId, "st-23-01", "revoke-away"));
    EXPECT_EQ(status, 403) << body.dump();
    EXPECT_EQ(body.value("error", ""), "out_of_scope");
    // The card is as its own region's station left it.
    const auto [looked, answer] = get(stations.at("st-away"), "/v1/cards/" + awayCard->digits());
    EXPECT_EQ(looked, 200);
    EXPECT_EQ(answer.value("state", ""), "handed_over");
}

TEST_F(DeviceAttack, AStationMakingACardFromAnotherStationsLeaseIsRefused) {
    // st-23-02's serial, well inside region 23 and leased: still not st-23-01's to use.
    const auto theirs = take(card::CardNumber::compose(23, otherLease.firstSerial));
    const auto [status, body] = post(
        "st-23-01", event(EventKind::Produced, theirs, home.memberId, "st-23-01", "make-theirs"));
    EXPECT_EQ(status, 403) << body.dump();
    EXPECT_EQ(body.value("error", ""), "out_of_scope");
    // Its owner still can.
    const auto [owner, made] = post(
        "st-23-02", event(EventKind::Produced, theirs, home.memberId, "st-23-02", "make-mine"));
    EXPECT_EQ(owner, 201) << made.dump();
    // And from its own lease, st-23-01 can too.
    const auto mine = take(card::CardNumber::compose(23, homeLease.firstSerial));
    EXPECT_EQ(
        post("st-23-01", event(EventKind::Produced, mine, home.memberId, "st-23-01", "make-own"))
            .first,
        201);
}

TEST_F(DeviceAttack, AStationTakingAnotherStationsIdempotencyKeyFirstDoesNotStopIt) {
    // st-23-02 guesses the key st-23-01 will use for its next card and sends an event under it.
    const auto decoy = take(card::CardNumber::compose(23, otherLease.firstSerial));
    ASSERT_EQ(
        post("st-23-02", event(EventKind::Produced, decoy, home.memberId, "st-23-02", "st-000001"))
            .first,
        201);
    // st-23-01's own event under that key is recorded, not refused as a reused key.
    const auto mine = take(card::CardNumber::compose(23, homeLease.firstSerial));
    const auto [status, body] =
        post("st-23-01", event(EventKind::Produced, mine, home.memberId, "st-23-01", "st-000001"));
    EXPECT_EQ(status, 201) << body.dump();
    EXPECT_FALSE(body.value("duplicate", true));
    // A retry of it is still recognised as one.
    EXPECT_EQ(
        post("st-23-01", event(EventKind::Produced, mine, home.memberId, "st-23-01", "st-000001"))
            .first,
        200);
}

TEST_F(DeviceAttack, AStationWithoutARegionCannotBeRegisteredNorAct) {
    auto store = take(registry::openStore(dbUrl));
    const auto refused =
        store->putDevice({"st-any", Role::Station, std::nullopt, now() + days(1), false},
                         registry::tokenDigest(registry::newToken()));
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, registry::StoreErrorCode::InvalidArgument);
    EXPECT_NE(refused->message.find("region"), std::string::npos);
    // One registered before the rule (its region cleared in the database) is refused at once.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "registry.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE devices SET region = NULL WHERE id = 'st-23-01'", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto c = http(stations.at("st-23-01"));
    const auto lease = c.Post("/v1/leases", R"({"region": 50, "count": 10})", "application/json");
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->status, 403) << lease->body;
    const auto [listed, page] = get(stations.at("st-23-01"), "/v1/applications");
    EXPECT_EQ(listed, 403) << page.dump();
}

TEST_F(DeviceAttack, AStationListingAnotherRegionsApplicationsIsRefused) {
    const auto [asked, refusal] =
        get(stations.at("st-23-01"), "/v1/applications?region=" + std::to_string(away.region));
    EXPECT_EQ(asked, 403) << refusal.dump();
    EXPECT_EQ(refusal.value("error", ""), "out_of_scope");
    // Asking for no region gives its own region's applications only.
    const auto [status, page] = get(stations.at("st-23-01"), "/v1/applications?limit=1000");
    ASSERT_EQ(status, 200) << page.dump();
    ASSERT_FALSE(page.at("items").empty());
    for (const Json& item : page.at("items"))
        EXPECT_EQ(item.at("region").get<int>(), 23) << item.dump();
}

TEST_F(DeviceAttack, AStationLookingUpAnotherRegionsCardLearnsNotWhoseItIs) {
    const auto [status, answer] = get(stations.at("st-23-01"), "/v1/cards/" + awayCard->digits());
    ASSERT_EQ(status, 200) << answer.dump();
    EXPECT_EQ(answer.value("verdict", ""), "valid");
    EXPECT_FALSE(answer.contains("member_id")) << answer.dump();
    EXPECT_FALSE(answer.contains("full_name")) << answer.dump();
    EXPECT_FALSE(answer.contains("organisation_code")) << answer.dump();
    // Its own region's station does learn it.
    const auto [own, full] = get(stations.at("st-away"), "/v1/cards/" + awayCard->digits());
    ASSERT_EQ(own, 200);
    EXPECT_EQ(full.value("member_id", ""), away.memberId);
}

TEST_F(DeviceAttack, AMerchantLearnsValidOrNotValidAndNothingMore) {
    EXPECT_EQ(get(merchant, "/v1/cards/" + awayCard->digits()).second,
              (Json{{"verdict", "valid"}, {"reason", "valid"}}));
    ASSERT_EQ(
        post("st-away", event(EventKind::Lost, *awayCard, away.memberId, "st-away", "away-lost"))
            .first,
        201);
    // Not "lost", not "on DATE": a shop has no business knowing either.
    EXPECT_EQ(get(merchant, "/v1/cards/" + awayCard->digits()).second,
              (Json{{"verdict", "not_valid"}, {"reason", "not valid"}}));
    // A number the registry never issued is the same "not valid".
    const auto never = take(card::CardNumber::compose(away.region, 99'000));
    EXPECT_EQ(get(merchant, "/v1/cards/" + never.digits()).second,
              (Json{{"verdict", "not_valid"}, {"reason", "not valid"}}));
}

} // namespace
} // namespace unioncard

namespace unioncard {
namespace {

// A station PC stolen with its token: the administrator disables the device, or rotates its
// token, and the thief's next request is refused; nothing needs restarting. Before the fix
// there was no way to do either short of editing the database.
TEST_F(DeviceAttack, AStolenTokenStopsAtOnceWhenItsDeviceIsDisabledOrRotated) {
    const std::string stolen = stations.at("st-23-01");
    ASSERT_EQ(get(stolen, "/v1/applications").first, 200);
    auto store = take(registry::openStore(dbUrl));
    ASSERT_TRUE(
        store->changeDevice("st-23-01", registry::DeviceAction::Disable, std::nullopt, "admin-1"));
    EXPECT_EQ(get(stolen, "/v1/applications").first, 401);
    ASSERT_TRUE(
        store->changeDevice("st-23-01", registry::DeviceAction::Enable, std::nullopt, "admin-1"));
    EXPECT_EQ(get(stolen, "/v1/applications").first, 200);
    const std::string fresh = registry::newToken();
    ASSERT_TRUE(store->changeDevice("st-23-01", registry::DeviceAction::Rotate,
                                    registry::tokenDigest(fresh), "admin-2"));
    EXPECT_EQ(get(stolen, "/v1/applications").first, 401) << "the old token is over";
    EXPECT_EQ(get(fresh, "/v1/applications").first, 200);
    // A rotation needs the new credential, and the id must exist.
    EXPECT_FALSE(
        store->changeDevice("st-23-01", registry::DeviceAction::Rotate, std::nullopt, "admin-2"));
    EXPECT_EQ(
        store->changeDevice("nobody", registry::DeviceAction::Disable, std::nullopt, "admin-2")
            .error()
            .code,
        registry::StoreErrorCode::NotFound);
    // Who did what is kept.
    const auto log = take(store->deviceAudit("st-23-01"));
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log[0].action, "put");
    EXPECT_EQ(log[1].action, "disable");
    EXPECT_EQ(log[1].by, "admin-1");
    EXPECT_EQ(log[3].action, "rotate");
    EXPECT_EQ(log[3].by, "admin-2");
}

} // namespace
} // namespace unioncard

namespace unioncard {
namespace {

// Any verifier could post check-ins to any event id, and every other desk of that event imported
// them (a desk that was never at the forum filling its attendance), or read an event's list of
// who came. Before the fix both answered 200.
TEST_F(DeviceAttack, ADeskNotOnTheEventCannotPostOrReadItsCheckIns) {
    auto store = take(registry::openStore(dbUrl));
    const std::string forumDesk = addDevice(*store, "vf-forum", Role::Verifier, std::nullopt);
    const std::string otherDesk = addDevice(*store, "vf-other", Role::Verifier, std::nullopt);
    ASSERT_FALSE(store->putEvent("forum-2031", "Форум", {"vf-forum"}, "admin-1"));
    auto post = [&](const std::string& token, const std::string& event, const std::string& nonce) {
        registry::CheckIn c{nonce, event, "desk 1", awayCard->digits(), now()};
        auto http = this->http(token);
        auto r =
            http.Post("/v1/check-ins", registry::toJson(std::vector{c}).dump(), "application/json");
        return r ? r->status : 0;
    };
    EXPECT_EQ(post(otherDesk, "forum-2031", "nonce-from-the-other-desk"), 403);
    EXPECT_EQ(post(otherDesk, "never-registered", "nonce-for-no-event-at-all"), 403);
    EXPECT_EQ(post(forumDesk, "forum-2031", "nonce-from-the-forum-desk"), 200);
    EXPECT_EQ(get(otherDesk, "/v1/check-ins?event_id=forum-2031").first, 403);
    const auto [status, page] = get(forumDesk, "/v1/check-ins?event_id=forum-2031");
    ASSERT_EQ(status, 200) << page.dump();
    ASSERT_EQ(page.at("items").size(), 1u) << "the refused one was not recorded";
    EXPECT_EQ(page.at("items")[0].at("nonce"), "nonce-from-the-forum-desk");
    // An event names only registered devices.
    EXPECT_TRUE(store->putEvent("forum-2031", "Форум", {"vf-nobody"}, "admin-1"));
}

} // namespace
} // namespace unioncard

namespace unioncard {
namespace {

// A station makes a card from its own lease, but for another region's member: the card would
// be of its region, so its lookup would then tell it the member's name. Or it closes another
// region's application with a card of its own. Before the fix both were recorded, and the
// answers told which member ids exist anywhere.
TEST_F(DeviceAttack, AStationMakingACardForAnotherRegionsMemberLearnsNothing) {
    const auto mine = take(card::CardNumber::compose(23, homeLease.firstSerial + 1));
    const auto [status, body] = post(
        "st-23-01", event(EventKind::Produced, mine, away.memberId, "st-23-01", "make-for-away"));
    EXPECT_EQ(status, 403) << body.dump();
    EXPECT_EQ(body.value("error", ""), "out_of_scope");
    // The same words as for a member id that exists nowhere.
    const auto [none, nobody] = post(
        "st-23-01", event(EventKind::Produced, mine, "member-nobody", "st-23-01", "make-for-none"));
    EXPECT_EQ(none, 403);
    EXPECT_EQ(nobody.value("message", ""), body.value("message", "?"));
    EXPECT_EQ(
        get(stations.at("st-23-01"), "/v1/cards/" + mine.digits()).second.value("verdict", ""),
        "unknown");
    // Another region's application, with a member of its own.
    auto closing = event(EventKind::Produced, mine, home.memberId, "st-23-01", "close-away-app");
    closing.applicationId = away.id;
    EXPECT_EQ(post("st-23-01", closing).first, 403);
    const auto [listed, page] = get(stations.at("st-away"), "/v1/applications?limit=1000");
    ASSERT_EQ(listed, 200);
    bool stillPending = false;
    for (const Json& item : page.at("items"))
        stillPending = stillPending || item.at("id") == away.id;
    EXPECT_TRUE(stillPending) << "the other region's application is still to be made";
}

} // namespace
} // namespace unioncard
