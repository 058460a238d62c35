// SPDX-License-Identifier: Apache-2.0
// Status lists and verdicts: whatever the registry or the network does, a desk never answers
// "valid" for a card it cannot know is valid. The registry runs in process over HTTP on
// loopback on a SQLite file; the desk is the verifier library with its own file. Dates come
// from the test's clock, so the tests hold on any day.

#include "registry_fixture.hpp"

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/record_text.hpp>
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
#include <set>
#include <sqlite3.h>
#include <thread>

namespace unioncard {
namespace {

using namespace std::chrono;
using registry::EventKind;
namespace fs = std::filesystem;

using security::now;
using security::take;

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

    registry::StatusSigner statusSigner(seconds signerLife, days age = days(1)) const {
        auto key = take(card::PrivateKey::generate());
        auto cert = take(card::issueStatusSignerCertificate(
            rootKey, root, key.publicKey(), "status-1", {now() - age, now() + signerLife}));
        return {std::move(key), std::move(cert), root};
    }
};

class StatusListAttack : public ::testing::Test {
protected:
    void SetUp() override {
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

    void startRegistry(registry::StatusSigner signer, seconds interval,
                       registry::LeaseQuota quota = {}, int listsKept = 288) {
        registry::ServiceConfig config;
        config.statusListsKept = listsKept;
        config.statusSigner = std::move(signer);
        config.statusListInterval = interval;
        config.leaseQuota = quota;
        config.accessLog = false;
        config.threads = 2;
        service = std::make_unique<security::RunningRegistry>(take(registry::openStore(dbUrl)),
                                                              std::move(config));
    }

    registry::RegistryClient client(const std::string& bearer = {}) const {
        registry::ClientConfig config;
        config.baseUrl = "http://127.0.0.1:" + std::to_string(service->port);
        config.bearerToken = bearer.empty() ? token : bearer;
        return take(registry::RegistryClient::create(config));
    }

    // A station of region 23 registered with the registry; returns its token.
    std::string addStation(const std::string& id) {
        const auto stationToken = registry::newToken();
        EXPECT_FALSE(take(registry::openStore(dbUrl))
                         ->putDevice({id, registry::Role::Station, 23, now() + days(1), false},
                                     registry::tokenDigest(stationToken)));
        return stationToken;
    }

    // SQL on the registry's file, for what no API lets anyone do (the attacker's result).
    void sql(const std::string& statement) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((dir / "registry.db").c_str(), &db), SQLITE_OK);
        char* error = nullptr;
        const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
        EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
        sqlite3_free(error);
        sqlite3_close(db);
    }

    verifier::VerifierStore desk() {
        auto store = take(verifier::VerifierStore::open(dir / "desk.db"));
        EXPECT_TRUE(
            verifier::acceptTrustList(store, keys.trustList, keys.root.fingerprint(), now()));
        return store;
    }

    // A chip's record checked by the desk at `at`, with the lists it holds then.
    verifier::Verdict verifyChipAt(verifier::VerifierStore& store, const card::Bytes& record,
                                   card::Seconds at) {
        const verifier::Lists lists = verifier::loadLists(store, keys.root.fingerprint(), at);
        verifier::Context context;
        verifier::useLists(context, lists);
        context.now = at;
        return verifier::verifyRecordBytes(record, verifier::Source::Chip, kUid, context);
    }

    verifier::Verdict verifyOffline(verifier::VerifierStore& store,
                                    const card::CardNumber& number) {
        return verifyChipAt(store, signedRecord(number), now());
    }

    verifier::SyncReport syncDesk(verifier::VerifierStore& store,
                                  registry::RegistryClient& registryClient,
                                  card::Seconds at = now()) {
        return verifier::sync(store, registryClient, keys.root.fingerprint(), at, 30);
    }

    const card::Bytes kUid{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6};
    Keys keys;
    security::TestFolder folder{"uc-security-"};
    const fs::path& dir = folder.dir;
    const std::string& dbUrl = folder.dbUrl;
    std::string token, memberId;
    std::vector<card::CardNumber> cards; ///< produced and handed over
    std::uint64_t unused = 0;            ///< leased, never used
    std::unique_ptr<security::RunningRegistry> service;
};

// The status signer's certificate ends during the run, and a card is revoked afterwards. The
// registry cannot sign a list of its new state; before the fix it went on serving the old list
// as current (204 to a delta), and the desk, confirmed "just now", called the revoked card valid.
TEST_F(StatusListAttack, ASignerCertificateThatRunsOutMidRunNeverLetsARevokedCardReadValid) {
    startRegistry(keys.statusSigner(seconds(2)), seconds(1));
    auto store = desk();
    auto registryClient = client();
    const auto first = syncDesk(store, registryClient);
    ASSERT_TRUE(first.statusVersion) << (first.problems.empty() ? "" : first.problems.front());
    EXPECT_EQ(verifyOffline(store, cards[1]).code, verifier::VerdictCode::Valid);

    std::this_thread::sleep_for(milliseconds(3100)); // the signer's certificate has ended
    record(*take(registry::openStore(dbUrl)), cards[1], EventKind::Revoked);
    // Two syncs a moment apart: the second falls within the publisher's interval.
    for (int round = 0; round < 2; ++round) {
        const auto report = syncDesk(store, registryClient);
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
    EXPECT_EQ(body["status"], "failing");                   // the union's verifiers are failed...
    EXPECT_EQ(body["problems"].size(), 2u) << health->body; // the list, and its signer
    EXPECT_EQ(health->status, 200); // ...but a load balancer keeps the lookups of every instance
    EXPECT_EQ(body["serving"], true);
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
        ASSERT_TRUE(syncDesk(store, registryClient).statusVersion);
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
    const auto report = syncDesk(store, fakeClient);
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
    ASSERT_TRUE(syncDesk(store, registryClient).statusVersion);
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

// A station credential (a stolen kiosk, or a faulty one) leases block after block. Before the
// fix nothing stopped it, and leasing past what a status list covers let one card stop
// publication for everyone (next test). Now its unused serials, and its region's, are capped.
TEST_F(StatusListAttack, AStationLeasingBlockAfterBlockIsStoppedByItsQuota) {
    startRegistry(keys.statusSigner(days(30)), seconds(0), {1000, 1500});
    auto kiosk = client(addStation("st-23-01"));
    // The fixture's lease left st-23-01 one unused serial.
    ASSERT_TRUE(kiosk.lease(23, 999).ok());
    auto refused = kiosk.lease(23, 1);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().httpStatus, 409);
    EXPECT_EQ(refused.error().serverCode, "lease_quota");
    EXPECT_NE(refused.error().message.find("quota of 1000"), std::string::npos)
        << refused.error().message;
    // A second credential of the same region gets the region's remainder, no more.
    auto other = client(addStation("st-23-02"));
    ASSERT_TRUE(other.lease(23, 500).ok());
    auto region = other.lease(23, 1);
    ASSERT_FALSE(region.ok());
    EXPECT_EQ(region.error().serverCode, "lease_quota");
    EXPECT_NE(region.error().message.find("region's quota of 1500"), std::string::npos)
        << region.error().message;
}

// However a region's numbers got far past the rest (leases granted before the quotas, a
// quota set too high, a database edited by hand), a card there is one card: before the fix a
// single event at such a serial made every build fail (more positions than a verifier holds),
// and every desk lost its status list. Now the region is cut, the list goes out, the revoked
// card below the cut reads revoked and the one above reads "cannot confirm", never valid.
TEST_F(StatusListAttack, OneCardFarPastItsRegionCannotStopPublication) {
    constexpr std::uint64_t kFar = 150'000'000;
    sql("INSERT INTO leases (id, region, first_serial, count, station, granted_at) VALUES "
        "('far', 23, " +
        std::to_string(kFar) + ", 1, 'st-23-01', 0); UPDATE serial_counters SET next_serial = " +
        std::to_string(kFar + 1) + " WHERE region = 23");
    const auto far = take(card::CardNumber::compose(23, kFar));
    {
        auto store = take(registry::openStore(dbUrl));
        record(*store, far, EventKind::Produced);
        record(*store, far, EventKind::HandedOver);
        record(*store, far, EventKind::Revoked);
        record(*store, cards[1], EventKind::Revoked);
    }
    startRegistry(keys.statusSigner(days(30)), seconds(0));
    auto store = desk();
    auto registryClient = client();
    const auto report = syncDesk(store, registryClient);
    ASSERT_TRUE(report.statusVersion) << (report.problems.empty() ? "" : report.problems.front());

    EXPECT_EQ(verifyOffline(store, cards[0]).code, verifier::VerdictCode::Valid);
    EXPECT_EQ(verifyOffline(store, cards[1]).code, verifier::VerdictCode::Revoked);
    const auto v = verifyOffline(store, far);
    EXPECT_EQ(v.code, verifier::VerdictCode::CannotConfirmOffline) << v.reason;

    httplib::Client http("127.0.0.1", service->port);
    auto health = http.Get("/v1/health");
    ASSERT_TRUE(health);
    const auto body = nlohmann::json::parse(health->body);
    EXPECT_EQ(body["status"], "degraded");
    const std::string warning = body.value("status_list_warning", "");
    EXPECT_NE(warning.find("region(s) 23 (cards up to serial 150000000"), std::string::npos)
        << health->body;
    EXPECT_NE(warning.find("1 not-valid card(s) above the cut"), std::string::npos) << warning;
}

// Someone at a desk sets its clock back three days and hands it a status list from before a
// revocation (genuine, kept from then). Before the fix the desk could not check the list it
// held at the false date ("from the future"), so it skipped the rollback check, took the old
// list, and the revoked card read valid; nothing remembered the real time. Now the versions
// stored are compared, and a clock behind a time the union already signed checks no card.
TEST_F(StatusListAttack, SettingTheClockBackNeitherBringsBackAnOldListNorMakesACardValid) {
    const auto real = now();
    const auto setBack = real - days(3) + hours(1);
    // The list of three days ago: nothing revoked yet.
    const auto oldSigner = keys.statusSigner(days(30), days(10));
    registry::StatusListContent before;
    before.version = 1;
    before.issuedAt = real - days(3);
    before.issuedUpTo = {{23, cards[1].serial()}};
    const auto oldList =
        take(registry::encodeSnapshot(before, oldSigner.key, oldSigner.certificate));

    record(*take(registry::openStore(dbUrl)), cards[1], EventKind::Revoked);
    startRegistry(keys.statusSigner(days(30)), seconds(0));
    auto store = desk();
    {
        auto registryClient = client();
        ASSERT_TRUE(syncDesk(store, registryClient, real).statusVersion);
    }
    const auto today = floor<days>(real);
    const auto chip =
        take(card::signRecord(keys.station, {cards[1], memberId, 23, 100245, 1, today - days(30),
                                             today + days(1796), kUid, "st-23-01"}));
    const auto verifyAt = [&](card::Seconds at) {
        return verifyChipAt(store, chip, at);
    };
    EXPECT_EQ(verifyAt(real).code, verifier::VerdictCode::Revoked);

    // The clock goes back; the old list is offered (`unioncard-verifier import-lists
    // --status-list`).
    const auto taken = verifier::acceptStatusList(store, oldList, keys.root.fingerprint(), setBack);
    ASSERT_FALSE(taken.ok()) << "the desk took list " << taken.value();
    EXPECT_NE(taken.error().find("older than the"), std::string::npos) << taken.error();
    const auto v = verifyAt(setBack);
    EXPECT_EQ(v.code, verifier::VerdictCode::CannotConfirmOffline) << v.reason;
    EXPECT_NE(v.reason.find("the clock was set back"), std::string::npos) << v.reason;
    // A forgery is still named a forgery at the false date.
    auto altered = chip;
    altered[altered.size() / 2] ^= 0x01;
    const auto forged = verifyChipAt(store, altered, setBack);
    EXPECT_NE(forged.code, verifier::VerdictCode::CannotConfirmOffline) << forged.reason;
    EXPECT_NE(forged.code, verifier::VerdictCode::Valid) << forged.reason;
    // Set right again, the desk answers as before.
    EXPECT_EQ(verifyAt(real).code, verifier::VerdictCode::Revoked);
}

// The registry's status-signing key is stolen while its certificate has years to run: the thief
// can sign a list that shows a revoked card as valid. Before the fix nothing but the
// certificate's end stopped that. Now the union names the signer's key withdrawn in its next
// trust list: a desk that takes it refuses every list made with that key, the one it holds
// included, under any certificate of the key (an ECDSA signature turned into another valid one
// gives a certificate of other bytes), and answers cannot_confirm_offline until a list from a
// new signer arrives, which the thief's list, numbered far ahead, does not keep out.
TEST_F(StatusListAttack, AStolenStatusSignerIsWithdrawnBeforeItsCertificateEnds) {
    const auto stolen = keys.statusSigner(days(1000));
    startRegistry(stolen, seconds(0));
    auto store = desk();
    {
        auto registryClient = client();
        ASSERT_TRUE(syncDesk(store, registryClient).statusVersion);
    }
    const auto chip = signedRecord(cards[0]);
    ASSERT_EQ(verifyChipAt(store, chip, now()).code, verifier::VerdictCode::Valid);

    // The thief's list, taken by the desk before the union knows: card 1 revoked in the
    // registry, valid in the list, and a version far ahead of the registry's.
    record(*take(registry::openStore(dbUrl)), cards[1], EventKind::Revoked);
    registry::StatusListContent forged;
    forged.version = 1000000;
    forged.issuedAt = now();
    forged.issuedUpTo = {{23, cards[1].serial()}};
    ASSERT_TRUE(verifier::acceptStatusList(
        store, take(registry::encodeSnapshot(forged, stolen.key, stolen.certificate)),
        keys.root.fingerprint(), now()));
    ASSERT_EQ(verifyChipAt(store, signedRecord(cards[1]), now()).code, verifier::VerdictCode::Valid)
        << "the attack as it stood";

    card::Withdrawals withdrawals;
    withdrawals.withdrawnStatusSigners = {stolen.certificate.publicKeyFingerprint()};
    const auto listFor = [&](const card::Withdrawals& w) {
        return take(card::TrustList::build(keys.rootKey, keys.root, {keys.station.certificate}, 2,
                                           now(), w));
    };
    ASSERT_TRUE(
        verifier::acceptTrustList(store, listFor(withdrawals), keys.root.fingerprint(), now()));
    // The list of that number without the withdrawal is not taken back.
    const auto swapped =
        verifier::acceptTrustList(store, listFor({}), keys.root.fingerprint(), now());
    EXPECT_FALSE(swapped.ok()) << "the desk took back a list without the withdrawal";

    const auto held = verifyChipAt(store, chip, now());
    EXPECT_EQ(held.code, verifier::VerdictCode::CannotConfirmOffline) << held.reason;
    EXPECT_NE(verifyChipAt(store, signedRecord(cards[1]), now()).code,
              verifier::VerdictCode::Valid);
    // Another certificate of the stolen key (what an altered certificate signature gives).
    const auto recertified =
        take(card::issueStatusSignerCertificate(keys.rootKey, keys.root, stolen.key.publicKey(),
                                                "status-1", {now() - days(2), now() + days(900)}));
    ASSERT_NE(recertified.fingerprint(), stolen.certificate.fingerprint());
    forged.version = 1000001;
    const auto taken = verifier::acceptStatusList(
        store, take(registry::encodeSnapshot(forged, stolen.key, recertified)),
        keys.root.fingerprint(), now());
    ASSERT_FALSE(taken.ok()) << "the desk took the thief's list " << taken.value();
    EXPECT_NE(taken.error().find("withdrawn"), std::string::npos) << taken.error();

    // A list from the union's new signer is taken, though its version is far below the
    // thief's, and answers again.
    service.reset();
    startRegistry(keys.statusSigner(days(30)), seconds(0));
    {
        auto registryClient = client();
        const auto report = syncDesk(store, registryClient);
        ASSERT_TRUE(report.statusVersion);
        EXPECT_LT(*report.statusVersion, 1000000u);
    }
    EXPECT_EQ(verifyChipAt(store, chip, now()).code, verifier::VerdictCode::Valid);
    EXPECT_EQ(verifyChipAt(store, signedRecord(cards[1]), now()).code,
              verifier::VerdictCode::Revoked);
}

// Someone photographs a member's card, back side up, and shows the photo at a desk. The QR is
// the chip's own signed record, so before the fix the desk answered a plain "valid", as for the
// card itself. Now the answer says the chip was not checked (the screen shows it), and a desk
// whose policy is chip-only does not take the QR at all.
TEST_F(StatusListAttack, APhotoOfACardsBackIsNeverTakenForTheCard) {
    startRegistry(keys.statusSigner(days(30)), seconds(0));
    auto store = desk();
    {
        auto registryClient = client();
        ASSERT_TRUE(syncDesk(store, registryClient).statusVersion);
    }
    const std::string photo = card::recordToText(signedRecord(cards[0]));
    const auto scanWith = [&](bool qrWithoutChip) {
        verifier::Lists lists = verifier::loadLists(store, keys.root.fingerprint(), now());
        lists.qrWithoutChip = qrWithoutChip;
        verifier::Context context;
        verifier::useLists(context, lists);
        context.now = now();
        return verifier::verifyText(photo, context);
    };
    const auto event = scanWith(true);
    EXPECT_EQ(event.code, verifier::VerdictCode::Valid) << event.reason;
    EXPECT_TRUE(event.chipNotChecked);
    EXPECT_NE(event.reason.find("the chip was not checked"), std::string::npos) << event.reason;
    const auto strict = scanWith(false);
    EXPECT_EQ(strict.code, verifier::VerdictCode::CannotConfirmOffline) << strict.reason;
    EXPECT_NE(strict.reason.find("hold the card on the reader"), std::string::npos)
        << strict.reason;
    // The card itself, on a reader, is checked in full and not marked.
    const auto chip = verifyOffline(store, cards[0]);
    EXPECT_EQ(chip.code, verifier::VerdictCode::Valid) << chip.reason;
    EXPECT_FALSE(chip.chipNotChecked);
}

} // namespace
} // namespace unioncard

namespace unioncard {
namespace {

// Any device that can make events (one station credential is enough) makes the registry sign
// a new list each interval. Before the fix every list was kept forever: about 800 KB for the
// whole union, each minute, until the disk was full and the registry stopped.
TEST_F(StatusListAttack, ListsPublishedEveryIntervalNeverFillTheRegistrysDisk) {
    startRegistry(keys.statusSigner(days(30)), seconds(0), {}, 2);
    httplib::Client http("127.0.0.1", service->port);
    http.set_bearer_token_auth(token);
    auto publish = [&] {
        auto r = http.Get("/v1/status-list");
        EXPECT_TRUE(r && r->status == 200);
        return r ? std::stoull(r->get_header_value("X-Status-List-Version")) : 0;
    };
    std::vector<std::uint64_t> versions{publish()};
    {
        auto store = take(registry::openStore(dbUrl));
        for (const auto& [card, kind] : {std::pair{0, EventKind::Suspended},
                                         {0, EventKind::Reinstated},
                                         {1, EventKind::Suspended},
                                         {1, EventKind::Reinstated}}) {
            record(*store, cards[static_cast<std::size_t>(card)], kind);
            versions.push_back(publish());
        }
    }
    ASSERT_EQ(std::set<std::uint64_t>(versions.begin(), versions.end()).size(), 5u);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "registry.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* count = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM status_lists", -1, &count, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(count, 0), 2) << "only the newest two are kept";
    sqlite3_finalize(count);
    sqlite3_close(db);
    // A desk holding a pruned version is told to fetch the whole list; a kept one gets a delta.
    auto old = http.Get("/v1/status-list/delta?since=" + std::to_string(versions.front()));
    ASSERT_TRUE(old);
    EXPECT_EQ(old->status, 404);
    EXPECT_NE(old->body.find("unknown_base"), std::string::npos);
    auto kept = http.Get("/v1/status-list/delta?since=" + std::to_string(versions[3]));
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->status, 200);
}

} // namespace
} // namespace unioncard
