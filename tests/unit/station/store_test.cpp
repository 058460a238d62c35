// SPDX-License-Identifier: Apache-2.0
// The station's own file: numbers from leased blocks used once, a spoiled card's number voided
// for good, each state change with its registry event in one transaction, the rules of the
// registry's lifecycle applied before anything is queued, PINs, and the audit log, whose
// removed or edited entries are found.

#include <unioncard/station/store.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sqlite3.h>
#include <unistd.h>

namespace unioncard::station {
namespace {

namespace fs = std::filesystem;

registry::Application application(const std::string& id, bool consent = true) {
    registry::Application a;
    a.id = id;
    a.memberId = "M-" + id;
    a.fullName = "Иванова Мария Петровна";
    a.region = 23;
    a.organisationCode = 100;
    a.organisationName = "Школа № 5";
    a.consent = consent;
    return a;
}

class StationStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("station-store-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        store.emplace(StationStore::open(dir / "station.db").value());
        store->setAuditSigner([this](std::span<const std::uint8_t> m) { return key.signRaw(m); },
                              "st-23-01");
    }
    void TearDown() override {
        store.reset();
        fs::remove_all(dir);
    }
    registry::Lease lease(std::uint64_t first, std::uint32_t count) {
        return registry::Lease{"L-" + std::to_string(first), 23, first, count, "st-23-01", {}};
    }
    std::size_t waiting() { return store->outbox().status()->waiting; }

    card::PrivateKey key = card::PrivateKey::generate().value();
    fs::path dir;
    std::optional<StationStore> store;
    const card::NumberScheme& scheme = card::NumberScheme::standard();
};

TEST_F(StationStoreTest, ApplicationsWithoutConsentAreHeldWithTheReason) {
    auto added =
        store->addApplications({application("A1"), application("A2", false)}, "file", "op");
    ASSERT_TRUE(added.ok()) << added.error().message;
    EXPECT_EQ(added.value(), 2u);
    EXPECT_EQ(store->addApplications({application("A1")}, "registry", "op").value(), 0u);
    const auto held = store->applications("held").value();
    ASSERT_EQ(held.size(), 1u);
    EXPECT_NE(held[0].holdReason.find("consent"), std::string::npos);
    EXPECT_FALSE(store->startCard("A2", "op", scheme).ok());
}

TEST_F(StationStoreTest, NumbersComeFromTheBlockOnceAndSpoiledOnesAreNeverReused) {
    ASSERT_TRUE(store->addApplications({application("A1"), application("A2")}, "file", "op"));
    EXPECT_FALSE(store->startCard("A1", "op", scheme).ok()); // no block yet
    ASSERT_FALSE(store->addLease(lease(500, 3), "op"));
    EXPECT_EQ(store->serialsLeft(23).value(), 3u);
    auto first = store->startCard("A1", "op", scheme);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->cardNumber, card::CardNumber::compose(23, 500)->digits());
    EXPECT_EQ(store->application("A1").value()->state, "in_progress");
    ASSERT_FALSE(store->spoiled(first->id, "jam", "reject box", {}));
    EXPECT_EQ(store->application("A1").value()->state, "queued");
    auto second = store->startCard("A1", "op", scheme);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->cardNumber, card::CardNumber::compose(23, 501)->digits());
    ASSERT_FALSE(store->produced(second->id, {}));
    auto third = store->startCard("A2", "op", scheme);
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(store->serialsLeft(23).value(), 0u);
    std::set<std::string> numbers;
    const auto all = store->cards().value();
    for (const auto& c : all) {
        EXPECT_TRUE(numbers.insert(c.cardNumber).second) << c.cardNumber << " used twice";
    }
    EXPECT_EQ(numbers.size(), 3u);
    // spoiled, then produced: two events queued, one per card and kind.
    EXPECT_EQ(waiting(), 2u);
}

TEST_F(StationStoreTest, TheRegistrysNumberIsUsedOnceThenABlock) {
    auto a = application("A1");
    a.cardNumber = card::CardNumber::compose(23, 77)->digits();
    ASSERT_TRUE(store->addApplications({a}, "registry", "op"));
    ASSERT_FALSE(store->addLease(lease(900, 5), "op"));
    auto first = store->startCard("A1", "op", scheme);
    EXPECT_EQ(first->cardNumber, *a.cardNumber);
    ASSERT_FALSE(store->spoiled(first->id, "chip failed", "reject box", {}));
    auto second = store->startCard("A1", "op", scheme);
    EXPECT_EQ(second->cardNumber, card::CardNumber::compose(23, 900)->digits());
}

TEST_F(StationStoreTest, AfterProductionTheRegistrysRulesApply) {
    ASSERT_TRUE(store->addApplications({application("A1")}, "file", "op"));
    ASSERT_FALSE(store->addLease(lease(1, 10), "op"));
    auto c = store->startCard("A1", "op", scheme).value();
    // Still in the printer: nothing can be recorded about it yet.
    EXPECT_TRUE(store->record(c.cardNumber, registry::EventKind::HandedOver, "", "op", {}));
    ASSERT_FALSE(store->produced(c.id, {}));
    EXPECT_TRUE(store->record(c.cardNumber, registry::EventKind::Lost, "", "op", {}))
        << "a card never handed over cannot be lost";
    ASSERT_FALSE(store->record(c.cardNumber, registry::EventKind::HandedOver, "", "op", {}));
    EXPECT_EQ(store->cardByNumber(c.cardNumber).value()->state, CardState::HandedOver);
    EXPECT_TRUE(store->cardByNumber(c.cardNumber).value()->handedOverAt.has_value());
    EXPECT_TRUE(store->record(c.cardNumber, registry::EventKind::HandedOver, "", "op", {}))
        << "handed over twice";
    auto newId = store->replace(c.cardNumber, "damaged", "sup", {});
    ASSERT_TRUE(newId.ok()) << newId.error().message;
    EXPECT_EQ(store->cardByNumber(c.cardNumber).value()->state, CardState::Replaced);
    const auto replacement = store->application(newId.value()).value();
    ASSERT_TRUE(replacement);
    EXPECT_EQ(replacement->application.cardSequence, 2);
    EXPECT_EQ(replacement->state, "queued");
    EXPECT_EQ(waiting(), 3u); // produced, handed_over, replaced
}

TEST_F(StationStoreTest, OperatorsSignInWithTheirPinOnly) {
    ASSERT_FALSE(
        store->putOperator({"op1", "Петров", Role::Operator, std::nullopt}, "482193", "sup"));
    EXPECT_TRUE(store->signIn("op1", "482193").ok());
    EXPECT_FALSE(store->signIn("op1", "482190").ok());
    EXPECT_FALSE(store->signIn("nobody", "482193").ok());
    EXPECT_TRUE(store->putOperator({"op2", "x", Role::Operator, std::nullopt}, "12", "sup"))
        << "too short";
    EXPECT_TRUE(store->putOperator({"op2", "x", Role::Operator, std::nullopt}, "48219", "sup"))
        << "five digits are too few";
    // A staff card is a second factor, never the only one.
    EXPECT_TRUE(
        store->putOperator({"op3", "Сидорова", Role::Supervisor, "04AABBCCDDEEFF"}, "", "sup"))
        << "a new operator with a staff card and no PIN";
    ASSERT_FALSE(store->putOperator({"op3", "Сидорова", Role::Supervisor, "04AABBCCDDEEFF"},
                                    "731905", "sup"));
    EXPECT_EQ(store->signInByCard("04AABBCCDDEEFF", "731905")->id, "op3");
    EXPECT_FALSE(store->signInByCard("04000000000000", "731905").ok());
    // Changing the role keeps the PIN.
    ASSERT_FALSE(
        store->putOperator({"op3", "Сидорова", Role::Operator, "04AABBCCDDEEFF"}, "", "sup"));
    EXPECT_EQ(store->signIn("op3", "731905")->role, Role::Operator);
}

TEST_F(StationStoreTest, TheAuditLogFindsARemovedOrEditedEntry) {
    ASSERT_TRUE(store->addApplications({application("A1")}, "file", "op"));
    ASSERT_FALSE(store->addLease(lease(1, 10), "op"));
    auto c = store->startCard("A1", "op", scheme).value();
    ASSERT_FALSE(store->advance(c.id, CardState::Encoding));
    ASSERT_FALSE(store->produced(c.id, {}));
    const auto intact = store->verifyAudit(key.publicKey());
    EXPECT_FALSE(intact.firstBad) << intact.problem;
    EXPECT_EQ(intact.entries, 5u);
    // Another station's key does not vouch for it.
    EXPECT_TRUE(store->verifyAudit(card::PrivateKey::generate()->publicKey()).firstBad);

    auto tamper = [&](const char* sql) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((dir / "station.db").c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    };
    tamper("UPDATE audit SET details = replace(details, 'A1', 'A9') WHERE seq = 3");
    auto edited = store->verifyAudit(key.publicKey());
    EXPECT_EQ(edited.firstBad, 3);
    EXPECT_NE(edited.problem.find("edited"), std::string::npos) << edited.problem;
    tamper("UPDATE audit SET details = replace(details, 'A9', 'A1') WHERE seq = 3");
    EXPECT_FALSE(store->verifyAudit(key.publicKey()).firstBad);
    tamper("DELETE FROM audit WHERE seq = 2");
    EXPECT_EQ(store->verifyAudit(key.publicKey()).firstBad, 3);
}

TEST_F(StationStoreTest, WithoutTheStationKeyNothingIsWritten) {
    auto readOnly = StationStore::open(dir / "station.db");
    ASSERT_TRUE(readOnly.ok());
    auto refused = readOnly->addApplications({application("A1")}, "file", "op");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("key"), std::string::npos);
    EXPECT_TRUE(readOnly->applications()->empty()); // the transaction rolled back
}

} // namespace
} // namespace unioncard::station
