// SPDX-License-Identifier: Apache-2.0
// The verifier desk's own file and its event rules: check-ins once, daily or any; two desks
// offline admitting the same card and the merge when they meet; names kept only as long as the
// event needs them; the outbox queued with each check-in.

#include <unioncard/verifier/desk.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace unioncard::verifier {
namespace {

using namespace std::chrono;
namespace fs = std::filesystem;

card::Seconds at(int y, unsigned m, unsigned d, int h = 12) {
    return card::Seconds{sys_days{year{y} / month{m} / day{d}}} + hours{h};
}

card::CardNumber number(std::uint64_t serial) {
    return card::CardNumber::compose(23, serial).value();
}

class DeskTest : public ::testing::Test {
protected:
    void SetUp() override {
        setenv("TZ", "UTC", 1);
        dir = fs::temp_directory_path() /
              ("verifier-desk-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }

    VerifierStore open(const char* name) {
        auto s = VerifierStore::open(dir / name);
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        return std::move(s).value();
    }
    fs::path dir;
};

TEST_F(DeskTest, OnceMeansOnceAndSaysWhenAndWhere) {
    auto store = open("desk.db");
    const EventInfo event{"congress-2026", "Congress", CheckInRule::Once, {}, 0};
    ASSERT_FALSE(store.putEvent(event));
    auto first = admit(store, event, number(1), "desk 1", at(2026, 11, 22, 10));
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_TRUE(first->admitted);
    auto again = admit(store, event, number(1), "desk 2", at(2026, 11, 23, 9));
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->admitted);
    ASSERT_TRUE(again->earlier);
    EXPECT_EQ(again->earlier->desk, "desk 1");
    EXPECT_NE(again->message.find("10:00 at desk 1"), std::string::npos) << again->message;
    EXPECT_TRUE(admit(store, event, number(2), "desk 1", at(2026, 11, 22, 10))->admitted);
    // Each admitted check-in waits in the outbox for the registry.
    EXPECT_EQ(store.outbox().status()->waiting, 2u);
}

TEST_F(DeskTest, DailyAdmitsOncePerDayAndAnyEveryTime) {
    auto store = open("desk.db");
    const EventInfo daily{"school-2026", "Winter school", CheckInRule::Daily, {}, 0};
    const EventInfo any{"canteen", "Canteen", CheckInRule::Any, {}, 0};
    ASSERT_FALSE(store.putEvent(daily));
    ASSERT_FALSE(store.putEvent(any));
    EXPECT_TRUE(admit(store, daily, number(1), "d", at(2026, 11, 22, 9))->admitted);
    EXPECT_FALSE(admit(store, daily, number(1), "d", at(2026, 11, 22, 15))->admitted);
    EXPECT_TRUE(admit(store, daily, number(1), "d", at(2026, 11, 23, 9))->admitted);
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(admit(store, any, number(1), "d", at(2026, 11, 22, 9 + i))->admitted);
    }
    const auto report = attendance(store, daily);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->counted.size(), 2u);
    EXPECT_TRUE(report->duplicates.empty());
}

TEST_F(DeskTest, TwoOfflineDesksMergeWithoutDoubleCounting) {
    auto one = open("desk1.db");
    auto two = open("desk2.db");
    const EventInfo event{"forum", "Forum", CheckInRule::Once, {}, 0};
    ASSERT_FALSE(one.putEvent(event));
    ASSERT_FALSE(two.putEvent(event));
    // Offline, each desk admits the same card: neither knows of the other.
    auto a = admit(one, event, number(7), "desk 1", at(2026, 11, 22, 10));
    auto b = admit(two, event, number(7), "desk 2", at(2026, 11, 22, 11));
    ASSERT_TRUE(a->admitted);
    ASSERT_TRUE(b->admitted);
    EXPECT_NE(a->checkIn.nonce, b->checkIn.nonce);
    // Back online each receives the other's check-in (as sync does from the registry), twice.
    for (int round = 0; round < 2; ++round) {
        EXPECT_EQ(one.addRemoteCheckIn(b->checkIn).value(), round == 0);
        EXPECT_EQ(two.addRemoteCheckIn(a->checkIn).value(), round == 0);
    }
    for (VerifierStore* desk : {&one, &two}) {
        const auto report = attendance(*desk, event);
        ASSERT_TRUE(report.ok());
        ASSERT_EQ(report->counted.size(), 1u);
        ASSERT_EQ(report->duplicates.size(), 1u);
        EXPECT_EQ(report->counted[0].desk, "desk 1"); // the earlier one counts
        EXPECT_EQ(report->duplicates[0].desk, "desk 2");
    }
    // A third tap at desk 2 now knows of desk 1's.
    auto c = admit(two, event, number(7), "desk 2", at(2026, 11, 22, 12));
    EXPECT_FALSE(c->admitted);
    EXPECT_EQ(c->earlier->desk, "desk 1");
}

TEST_F(DeskTest, NamesLastOnlyAsLongAsTheEventNeedsThem) {
    auto store = open("desk.db");
    EventInfo event{"forum", "Forum", CheckInRule::Once, card::Days{sys_days{2026y / 11 / 23}}, 0};
    ASSERT_FALSE(store.putEvent(event));
    ASSERT_FALSE(store.setParticipants(event.id, {{number(1), "Иванова Мария Петровна"}}));
    auto a = admit(store, event, number(1), "desk 1", at(2026, 11, 22, 10));
    ASSERT_TRUE(a->name);
    EXPECT_EQ(*a->name, "Иванова Мария Петровна");
    EXPECT_EQ(store.purgeNames(sys_days{2026y / 11 / 23}).value(), 0u); // not ended yet
    EXPECT_EQ(store.purgeNames(sys_days{2026y / 11 / 24}).value(), 1u);
    EXPECT_FALSE(store.participantName(event.id, number(1)).value());
}

TEST_F(DeskTest, TheFileIsPrivateAndReopens) {
    {
        auto store = open("desk.db");
        ASSERT_FALSE(store.setSetting("desk", "desk 1"));
        ASSERT_FALSE(store.saveTrustList({{1, 2, 3}, 5, at(2026, 11, 22)}));
    }
    const auto perms = fs::status(dir / "desk.db").permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
    auto store = open("desk.db");
    EXPECT_EQ(store.setting("desk"), "desk 1");
    EXPECT_EQ(store.trustList().value()->version, 5u);
    ASSERT_FALSE(store.saveStatusSnapshot({{9}, 3, at(2026, 11, 22)}));
    ASSERT_FALSE(store.addStatusDelta({{8}, 4, at(2026, 11, 22)}));
    EXPECT_EQ(store.statusDeltas()->size(), 1u);
    ASSERT_FALSE(store.saveStatusSnapshot({{7}, 5, at(2026, 11, 23)}));
    EXPECT_TRUE(store.statusDeltas()->empty()); // a new snapshot replaces the deltas
}

} // namespace
} // namespace unioncard::verifier
