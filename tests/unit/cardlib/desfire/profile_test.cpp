// SPDX-License-Identifier: Apache-2.0
// The card profiles in firmware-config/cards/ load and say what the threat model says.

#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/desfire/profile.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace unioncard::card::desfire {
namespace {

std::string unionProfileText() {
    std::ifstream in(std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) + "/cards/union-desfire.toml");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(CardProfile, UnionProfileLoads) {
    const auto p =
        loadProfile(std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) + "/cards/union-desfire.toml");
    ASSERT_TRUE(p.ok()) << p.error();
    EXPECT_EQ(p->name, "union-desfire");
    EXPECT_EQ(p->aid, 0x554E01u);
    EXPECT_EQ(p->keys.size(), 3u);
    EXPECT_EQ(p->roles(), (std::vector<std::string>{"picc-master", "app-master", "record-read",
                                                    "record-write"}));
}

TEST(CardProfile, RecordNeedsTheReadKeyAndComesBackMacd) {
    const auto p = parseProfile(unionProfileText());
    ASSERT_TRUE(p.ok()) << p.error();
    const auto* record = p->file("record");
    ASSERT_NE(record, nullptr);
    EXPECT_TRUE(record->backup) << "a pulled card must keep its old record whole";
    EXPECT_EQ(record->size, 256u);
    EXPECT_EQ(record->mode, CommMode::Mac);
    EXPECT_EQ(record->rights.read, *p->keyNumber("record-read"));
    EXPECT_EQ(record->rights.write, *p->keyNumber("record-write"));
    EXPECT_NE(record->rights.read, kFreeAccess) << "a free read would not detect a cloned chip";
    EXPECT_NE(record->rights.write, kFreeAccess);
    EXPECT_EQ(record->rights.change, 0);
}

TEST(CardProfile, CardLevelIsLockedDown) {
    const auto p = parseProfile(unionProfileText());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->piccKeySettings & 0x04, 0) << "creating applications must need the master key";
    EXPECT_EQ(p->appKeySettings & 0x04, 0) << "creating files must need the application key";
    EXPECT_FALSE(p->randomUid);
}

TEST(CardProfile, ChipGenerationsAndFrameLimitsComeFromTheProfile) {
    const auto p = parseProfile(unionProfileText());
    ASSERT_TRUE(p.ok()) << p.error();
    EXPECT_EQ(p->generations, (std::vector<Generation>{Generation::Ev2, Generation::Ev3}));
    EXPECT_FALSE(p->allows(Generation::Ev1)) << "an EV1 would get the keys and refuse every read";
    EXPECT_EQ(p->frames.commandData, 54u);
    EXPECT_EQ(p->frames.chaining, Chaining::Iso);
}

TEST(CardProfile, EverySettingIsChecked) {
    const std::string good = unionProfileText();
    auto broken = [&](const std::string& from, const std::string& to) {
        std::string text = good;
        const auto at = text.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        text.replace(at, from.size(), to);
        return parseProfile(text, "test.toml");
    };
    struct Case {
        std::string from, to, says;
    };
    for (const Case& c : std::vector<Case>{
             {"aid = 0x554E01", "aid = 0", "aid"},
             {"aid = 0x554E01", "aid = 0x1000000", "aid"},
             {"key_type = \"aes128\"", "key_type = \"des\"", "aes128"},
             {"role = \"record-read\"", "role = \"record-write\"", "used twice"},
             {"number = 2\nrole", "number = 5\nrole", "number = 2"},
             {"size = 256", "size = 0", "size"},
             {"comm_mode = \"mac\"", "comm_mode = \"secret\"", "comm_mode"},
             {"read = 1", "read = 9", "key 9"},
             {"system_identifier = \"554E494F4E43415244\"", "system_identifier = \"XYZ\"",
              "system_identifier"},
             {"random_uid = false", "random_uid = \"no\"", "random_uid"},
             {"version = 1", "version = 2", "version"},
             {"[picc]", "[picc", "line"},
             {"generations = [\"ev2\", \"ev3\"]", "generations = [\"ev4\"]", "ev4"},
             {"generations = [\"ev2\", \"ev3\"]", "generations = []", "generations"},
             {"command_frame = 54", "command_frame = 60", "command_frame"},
             {"chaining = \"iso\"", "chaining = \"both\"", "chaining"},
             {"generations = [\"ev2\", \"ev3\"]", "generations = [\"ev1\", \"ev2\"]", "needs EV2"},
         }) {
        const auto r = broken(c.from, c.to);
        ASSERT_FALSE(r.ok()) << c.to;
        EXPECT_NE(r.error().find(c.says), std::string::npos) << r.error();
        EXPECT_NE(r.error().find("test.toml"), std::string::npos) << r.error();
    }
}

TEST(CardProfile, MissingFileIsNamed) {
    const auto r = loadProfile("/nonexistent/profile.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("/nonexistent/profile.toml"), std::string::npos);
}

class MasterKeysTest : public ::testing::Test {
protected:
    std::filesystem::path dir = [] {
        char pattern[] = "/tmp/unioncard-mk-XXXXXX";
        return std::filesystem::path(::mkdtemp(pattern));
    }();
    ~MasterKeysTest() override { std::filesystem::remove_all(dir); }
};

TEST_F(MasterKeysTest, SaveAndLoadRoundTrip) {
    const auto keys = MasterKeys::generate({"a", "b"});
    ASSERT_FALSE(keys.save(dir / "k.json", Secret("correct horse battery")));
    const auto back = MasterKeys::load(dir / "k.json", Secret("correct horse battery"));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->roles(), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(std::equal(keys.key("a")->begin(), keys.key("a")->end(), back->key("a")->begin()));
}

TEST_F(MasterKeysTest, FileHoldsNoKeyInTheClear) {
    const auto keys = MasterKeys::generate({"record-read"});
    ASSERT_FALSE(keys.save(dir / "k.json", Secret("correct horse battery")));
    std::ifstream in(dir / "k.json");
    std::stringstream s;
    s << in.rdbuf();
    std::string hex;
    const auto key = *keys.key("record-read");
    for (auto b : key) {
        char buf[3];
        std::snprintf(buf, sizeof buf, "%02x", b);
        hex += buf;
    }
    EXPECT_EQ(s.str().find(hex), std::string::npos);
    EXPECT_EQ(s.str().find("record-read"), std::string::npos) << "even the roles are encrypted";
}

TEST_F(MasterKeysTest, WrongPassphraseOrAlterationIsRefused) {
    const auto keys = MasterKeys::generate({"a"});
    ASSERT_FALSE(keys.save(dir / "k.json", Secret("correct horse battery")));
    const auto wrong = MasterKeys::load(dir / "k.json", Secret("incorrect horse battery"));
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, KeyErrorCode::WrongPassphrase);
    // Change the KDF cost in the authenticated header: the tag no longer matches.
    std::ifstream in(dir / "k.json");
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    const auto at = text.find("\\\"r\\\":8");
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, 7, "\\\"r\\\":9");
    std::ofstream(dir / "k2.json") << text;
    const auto altered = MasterKeys::load(dir / "k2.json", Secret("correct horse battery"));
    ASSERT_FALSE(altered.ok());
    EXPECT_EQ(altered.error().code, KeyErrorCode::WrongPassphrase);
    std::ofstream(dir / "k3.json") << "{\"header\": 1}";
    EXPECT_EQ(MasterKeys::load(dir / "k3.json", Secret("x")).error().code, KeyErrorCode::Damaged);
}

TEST_F(MasterKeysTest, VerifierCopyHoldsOnlyItsRole) {
    const auto keys = MasterKeys::generate({"app-master", "record-read"});
    const auto verifier = keys.only({"record-read"});
    ASSERT_TRUE(verifier.ok());
    EXPECT_EQ(verifier->roles(), std::vector<std::string>{"record-read"});
    EXPECT_FALSE(keys.only({"nothing"}).ok());
}

} // namespace
} // namespace unioncard::card::desfire
