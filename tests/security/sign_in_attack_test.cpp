// SPDX-License-Identifier: Apache-2.0
// People at the station: guessing a PIN, and signing in with a copy of a staff card's UID. The
// station's own file in a temporary folder; the times of the tries are the test's (from a
// fixed day), so the waits between tries need no sleeping and hold on any date.

#include "test_folder.hpp"

#include <unioncard/station/store.hpp>

#include <gtest/gtest.h>

namespace unioncard {
namespace {

using namespace std::chrono;
using station::Role;
using station::StationStore;

constexpr card::Seconds kDay{sys_days{year{2031} / 3 / 14}};
constexpr const char* kSupervisorCard = "04a1b2c3d4e5f6";

class SignInAttack : public ::testing::Test {
protected:
    void SetUp() override {
        store.emplace(StationStore::open(folder.dir / "station.db").value());
        store->setAuditSigner([this](std::span<const std::uint8_t> m) { return key.signRaw(m); },
                              "st-23-01");
        ASSERT_FALSE(store->putOperator({"op-01", "Иванов П. Н.", Role::Operator, std::nullopt},
                                        "583016", "setup"));
        ASSERT_FALSE(store->putOperator(
            {"sup-01", "Петрова М. И.", Role::Supervisor, kSupervisorCard}, "920417", "setup"));
    }
    void TearDown() override { store.reset(); }

    security::TestFolder folder{"uc-sign-in-"};
    card::PrivateKey key = card::PrivateKey::generate().value();
    std::optional<StationStore> store;
};

// Before the fix a PIN was 4 digits and could be tried without limit: 10,000 tries at most.
TEST_F(SignInAttack, GuessingAPinLocksTheOperatorUntilASupervisorUnlocks) {
    EXPECT_TRUE(store->putOperator({"op-02", "x", Role::Operator, std::nullopt}, "4821", "setup"))
        << "a 4-digit PIN is refused";
    card::Seconds at = kDay;
    // Two wrong PINs cost nothing more; from the third the next try must wait, doubling.
    for (int i = 1; i <= 2; ++i) {
        auto r = store->signIn("op-01", "000000", at);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, "");
    }
    ASSERT_FALSE(store->signIn("op-01", "000003", at));
    auto early = store->signIn("op-01", "583016", at + seconds(29));
    ASSERT_FALSE(early) << "the right PIN during the wait is not even looked at";
    EXPECT_EQ(early.error().code, "wait");
    at += seconds(30);
    ASSERT_FALSE(store->signIn("op-01", "000004", at));
    EXPECT_EQ(store->signIn("op-01", "583016", at + seconds(59)).error().code, "wait");
    at += seconds(60);
    auto fifth = store->signIn("op-01", "000005", at);
    ASSERT_FALSE(fifth);
    EXPECT_EQ(fifth.error().code, "locked");
    // Locked: the right PIN, however long after, does not sign in.
    auto later = store->signIn("op-01", "583016", at + hours(24 * 30));
    ASSERT_FALSE(later);
    EXPECT_EQ(later.error().code, "locked");
    EXPECT_NE(later.error().message.find("supervisor"), std::string::npos);
    // A supervisor unlocks; the count starts again.
    ASSERT_FALSE(store->unlockOperator("op-01", "sup-01"));
    EXPECT_TRUE(store->signIn("op-01", "583016", at + hours(1)));
    ASSERT_FALSE(store->signIn("op-01", "000000", at + hours(2)));
    ASSERT_FALSE(store->signIn("op-01", "000000", at + hours(2)));
    EXPECT_TRUE(store->signIn("op-01", "583016", at + hours(2)))
        << "two wrong PINs after a right one do not make a wait";
    EXPECT_TRUE(store->unlockOperator("nobody", "sup-01"));
    // Both are in the audit log, signed.
    const auto audit = store->verifyAudit(key.publicKey());
    EXPECT_FALSE(audit.firstBad) << audit.problem;
}

// Before the fix the staff card's UID alone signed its owner in: any card or phone answering
// with that UID (UIDs are public, a clone costs little) gave a supervisor's rights.
TEST_F(SignInAttack, ACopiedStaffCardUidWithoutThePinSignsNoOneIn) {
    auto alone = store->signInByCard(kSupervisorCard, "", kDay);
    EXPECT_FALSE(alone);
    auto guessed = store->signInByCard(kSupervisorCard, "123456", kDay);
    EXPECT_FALSE(guessed);
    // Wrong PINs with the card count towards the lock like any others: this third one makes
    // the next try wait.
    ASSERT_FALSE(store->signInByCard(kSupervisorCard, "111111", kDay));
    EXPECT_EQ(store->signInByCard(kSupervisorCard, "920417", kDay + seconds(10)).error().code,
              "wait");
    auto right = store->signInByCard(kSupervisorCard, "920417", kDay + hours(1));
    ASSERT_TRUE(right) << right.error().message;
    EXPECT_EQ(right->id, "sup-01");
}

} // namespace
} // namespace unioncard

namespace unioncard {
namespace {

// One supervisor alone (or someone with one supervisor's PIN) could revoke or replace any card
// and make more supervisors. Now each needs a second supervisor, and both are in the log.
TEST_F(SignInAttack, OneSupervisorAloneCannotRevokeReplaceOrHandOutRights) {
    using station::TwoPersonAct;
    // A new station has one supervisor: it makes the second alone, and the log says so.
    ASSERT_FALSE(store->approveBySecond(TwoPersonAct::ChangeRole, "sup-01", "", "",
                                        R"({"operator":"sup-02"})", kDay));
    ASSERT_FALSE(store->putOperator({"sup-02", "Орлов В. П.", Role::Supervisor, std::nullopt},
                                    "630184", "sup-01"));
    for (const auto act : {TwoPersonAct::Revoke, TwoPersonAct::Replace, TwoPersonAct::ChangeRole}) {
        SCOPED_TRACE(std::string(station::toString(act)));
        EXPECT_EQ(store->approveBySecond(act, "sup-01", "", "", "{}", kDay)->code, "second_person");
        EXPECT_EQ(store->approveBySecond(act, "sup-01", "sup-01", "920417", "{}", kDay)->code,
                  "second_person")
            << "the same person twice";
        EXPECT_EQ(store->approveBySecond(act, "sup-01", "op-01", "583016", "{}", kDay)->code,
                  "second_person")
            << "an operator is not a supervisor";
        EXPECT_TRUE(store->approveBySecond(act, "sup-01", "sup-02", "111111", "{}", kDay))
            << "a wrong PIN";
        EXPECT_FALSE(store->approveBySecond(act, "sup-01", "sup-02", "630184",
                                            R"({"card":"9643230000000018"})", kDay + hours(1)));
    }
    std::size_t approvals = 0;
    const auto log = store->auditLog();
    ASSERT_TRUE(log) << log.error().message;
    for (const auto& entry : log.value())
        approvals += entry.action == "approve" ? 1 : 0;
    EXPECT_EQ(approvals, 4u) << "the lone first one and three by the second";
    const auto audit = store->verifyAudit(key.publicKey());
    EXPECT_FALSE(audit.firstBad) << audit.problem;
}

} // namespace
} // namespace unioncard
