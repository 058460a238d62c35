// SPDX-License-Identifier: Apache-2.0
// The command-line conventions: --version, exit status 2 for wrong usage, and the TOML
// configuration file whose values flags override, with what is wrong named by file and line.
#include <unioncard/base/paths.hpp>
#include <unioncard/base/program.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using unioncard::base::ConfigFile;
using unioncard::base::conventions;
using unioncard::base::parseCommandLine;

// A program shaped like the station's command line: global options, two commands, an option
// with a range check, a required one, and an option the environment may set.
struct Program {
    CLI::App app{"test program"};
    std::string db = "default.db";
    bool json = false;
    int port = 8080;
    std::vector<std::string> readers;
    std::string stationId;
    std::string region;
    std::string out;
    CLI::App* init = nullptr;
    CLI::App* report = nullptr;

    explicit Program(ConfigFile config = {"prog.toml", {}, {}, {"init"}}) {
        conventions(app, "prog", config);
        app.fallthrough();
        app.require_subcommand(0, 1);
        app.add_option("--db", db)->envname("PROGRAM_TEST_DB");
        app.add_flag("--json", json);
        app.add_option("--port", port)->check(CLI::Range(1, 65535));
        app.add_option("--reader", readers);
        init = app.add_subcommand("init");
        init->add_option("--station-id", stationId)->required();
        init->add_option("--region", region);
        report = app.add_subcommand("report");
        report->add_option("--out", out);
    }

    // The exit status parseCommandLine gave, or -1 when the program goes on; stderr in err.
    int run(std::vector<std::string> args) {
        args.insert(args.begin(), "prog");
        std::vector<const char*> argv;
        for (const std::string& a : args)
            argv.push_back(a.c_str());
        testing::internal::CaptureStderr();
        testing::internal::CaptureStdout();
        const auto exit = parseCommandLine(app, static_cast<int>(argv.size()), argv.data());
        err = testing::internal::GetCapturedStderr();
        printed = testing::internal::GetCapturedStdout();
        return exit ? *exit : -1;
    }

    std::string err;
    std::string printed;
};

class ProgramTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("unioncard-program-test-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        setenv("UNIONCARD_CONFIG_DIR", dir_.c_str(), 1);
        unsetenv("PROGRAM_TEST_DB");
    }
    void TearDown() override {
        unsetenv("UNIONCARD_CONFIG_DIR");
        unsetenv("PROGRAM_TEST_DB");
        fs::remove_all(dir_);
    }
    // Writes the program's default file (configDir()/prog.toml) or another one.
    std::string write(const std::string& text, const std::string& name = "prog.toml") {
        const fs::path file = dir_ / name;
        std::ofstream(file) << text;
        return file.string();
    }
    fs::path dir_;
};

TEST_F(ProgramTest, VersionAndHelpExitZero) {
    Program p;
    EXPECT_EQ(p.run({"--version"}), 0);
    EXPECT_EQ(p.printed, unioncard::base::versionLine("prog") + "\n");
    EXPECT_EQ(unioncard::base::versionLine("prog").rfind("prog ", 0), 0u);
    Program q;
    EXPECT_EQ(q.run({"--help"}), 0);
    EXPECT_NE(q.printed.find("--config"), std::string::npos);
}

TEST_F(ProgramTest, WrongUsageExitsTwoWithOneLine) {
    Program p;
    EXPECT_EQ(p.run({"--no-such-flag"}), 2);
    EXPECT_EQ(p.err.rfind("prog: ", 0), 0u) << p.err;
    EXPECT_NE(p.err.find("--no-such-flag"), std::string::npos) << p.err;
    Program q;
    EXPECT_EQ(q.run({"--port", "0"}), 2);
    Program r;
    EXPECT_EQ(r.run({"init"}), 2);
    EXPECT_NE(r.err.find("--station-id"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("prog.toml"), std::string::npos) << r.err; // where it may also go
}

TEST_F(ProgramTest, NoFileIsNoError) {
    Program p;
    EXPECT_EQ(p.run({}), -1);
    EXPECT_EQ(p.db, "default.db");
}

TEST_F(ProgramTest, FileValuesAreTakenAndFlagsOverrideThem) {
    write("db = \"/var/lib/unioncard/station.db\"\njson = true\nport = 9000\n"
          "reader = [\"Desk\", \"Printer encoder\"]\n");
    Program p;
    EXPECT_EQ(p.run({}), -1) << p.err;
    EXPECT_EQ(p.db, "/var/lib/unioncard/station.db");
    EXPECT_TRUE(p.json);
    EXPECT_EQ(p.port, 9000);
    EXPECT_EQ(p.readers, (std::vector<std::string>{"Desk", "Printer encoder"}));

    Program q;
    EXPECT_EQ(q.run({"--db", "other.db", "--port=9443"}), -1) << q.err;
    EXPECT_EQ(q.db, "other.db");
    EXPECT_EQ(q.port, 9443);
    EXPECT_TRUE(q.json); // not given: the file's
}

TEST_F(ProgramTest, TheEnvironmentBeatsTheFileAndAFlagBeatsBoth) {
    write("db = \"from-file.db\"\n");
    setenv("PROGRAM_TEST_DB", "from-environment.db", 1);
    Program p;
    EXPECT_EQ(p.run({}), -1) << p.err;
    EXPECT_EQ(p.db, "from-environment.db");
    Program q;
    EXPECT_EQ(q.run({"--db", "from-flag.db"}), -1) << q.err;
    EXPECT_EQ(q.db, "from-flag.db");
}

TEST_F(ProgramTest, ASettingsCommandsTable) {
    write("db = \"a.db\"\n\n[init]\nstation-id = \"ST-77-01\"\nregion = \"77\"\n");
    Program p;
    EXPECT_EQ(p.run({"init"}), -1) << p.err; // --station-id, required, comes from the file
    EXPECT_EQ(p.stationId, "ST-77-01");
    EXPECT_EQ(p.region, "77");
    Program q;
    EXPECT_EQ(q.run({"init", "--region", "50"}), -1) << q.err;
    EXPECT_EQ(q.region, "50");
}

TEST_F(ProgramTest, OtherCommandsOptionsAreNotSettings) {
    // What one run of a command does (which device, which role, which reason) is given each
    // time: a file that sets it would make every bare run do it.
    write("db = \"a.db\"\nout = \"everyone.csv\"\n");
    Program p;
    EXPECT_EQ(p.run({"report"}), 2);
    EXPECT_NE(p.err.find("prog.toml:2: unknown key 'out'"), std::string::npos) << p.err;
    EXPECT_EQ(p.out, "");

    write("[report]\nout = \"everyone.csv\"\n");
    Program q;
    EXPECT_EQ(q.run({"report"}), 2);
    EXPECT_NE(q.err.find("prog.toml:1: section [report] cannot be in the file"), std::string::npos)
        << q.err;
    EXPECT_NE(q.err.find("(the sections of this file: [init])"), std::string::npos) << q.err;

    write("[init]\nstation-id = \"x\"\n[init.more]\nregion = \"77\"\n");
    Program r;
    EXPECT_EQ(r.run({"init"}), 2);
    EXPECT_NE(r.err.find("prog.toml:3: section [init.more] cannot be in the file"),
              std::string::npos)
        << r.err;
}

TEST_F(ProgramTest, AnEmptyVariableIsNoValue) {
    write("db = \"from-file.db\"\n");
    setenv("PROGRAM_TEST_DB", "", 1);
    Program p;
    EXPECT_EQ(p.run({}), -1) << p.err;
    EXPECT_EQ(p.db, "from-file.db");
}

TEST_F(ProgramTest, HelpAndVersionAnswerWhateverTheFileHolds) {
    write("port = = 3\n");
    Program p;
    EXPECT_EQ(p.run({"--version"}), 0) << p.err;
    Program q;
    EXPECT_EQ(q.run({"init", "--help"}), 0) << q.err;
    Program r;
    EXPECT_EQ(r.run({"--help", "--config", (dir_ / "missing.toml").string()}), 0) << r.err;
    Program s;
    EXPECT_EQ(s.run({}), 2); // and without them, the file is wrong
}

TEST_F(ProgramTest, CheckConfigSaysWhetherTheFileIsGood) {
    Program none;
    EXPECT_EQ(none.run({"--check-config"}), 0) << none.err;
    EXPECT_NE(none.printed.find("no configuration file"), std::string::npos) << none.printed;

    write("db = \"a.db\"\n");
    Program good;
    good.app.require_subcommand(1); // no command is needed: the file alone is checked
    EXPECT_EQ(good.run({"--check-config"}), 0) << good.err;
    EXPECT_NE(good.printed.find("prog.toml is good"), std::string::npos) << good.printed;

    write("db = \"a.db\"\nport = 0\n");
    Program bad;
    EXPECT_EQ(bad.run({"--check-config"}), 2);
    EXPECT_NE(bad.err.find("prog.toml:2, key 'port'"), std::string::npos) << bad.err;

    Program missing;
    EXPECT_EQ(missing.run({"--check-config", "--config", (dir_ / "missing.toml").string()}), 2);
    EXPECT_NE(missing.err.find("missing.toml"), std::string::npos) << missing.err;

    write("port = \"x\"\n");
    Program wrong;
    EXPECT_EQ(wrong.run({"--check-config"}), 2);
    EXPECT_NE(wrong.err.find("prog.toml:1: key 'port'"), std::string::npos) << wrong.err;
}

TEST_F(ProgramTest, AnErrorNamesTheKeyItIsAbout) {
    // --port-range is not --port: the line given is the key's own.
    Program p;
    p.app.add_option("--port-range", p.out);
    write("port-range = \"1-2\"\n\nport = 70000\n");
    EXPECT_EQ(p.run({}), 2);
    EXPECT_NE(p.err.find("prog.toml:3, key 'port'"), std::string::npos) << p.err;

    write("port = 3.0\n");
    Program q;
    EXPECT_EQ(q.run({}), 2);
    EXPECT_NE(q.err.find("must be a whole number, not the number 3.0"), std::string::npos) << q.err;
}

TEST_F(ProgramTest, AnUnknownKeyIsNamedWithItsLine) {
    write("db = \"a.db\"\n# a comment\nlisten = \"127.0.0.1:8443\"\n");
    Program p;
    EXPECT_EQ(p.run({}), 2);
    EXPECT_NE(p.err.find("prog.toml:3: unknown key 'listen'"), std::string::npos) << p.err;
    EXPECT_EQ(p.db, "default.db"); // nothing of a wrong file is taken
}

TEST_F(ProgramTest, AnUnknownSectionIsNamedWithItsLine) {
    write("\n[inti]\nstation-id = \"x\"\n");
    Program p;
    EXPECT_EQ(p.run({}), 2);
    EXPECT_NE(p.err.find("prog.toml:2: unknown section [inti]"), std::string::npos) << p.err;
}

TEST_F(ProgramTest, AValueOfTheWrongTypeIsNamedWithItsLine) {
    write("db = \"a.db\"\nport = \"9000\"\n");
    Program p;
    EXPECT_EQ(p.run({}), 2);
    EXPECT_NE(p.err.find("prog.toml:2: key 'port' must be a whole number, not the string \"9000\""),
              std::string::npos)
        << p.err;

    write("json = \"yes\"\n");
    Program q;
    EXPECT_EQ(q.run({}), 2);
    EXPECT_NE(q.err.find("prog.toml:1: key 'json' must be true or false"), std::string::npos)
        << q.err;

    write("db = [\"a\", \"b\"]\n");
    Program r;
    EXPECT_EQ(r.run({}), 2);
    EXPECT_NE(r.err.find("key 'db' must be a string in quotes, not a list"), std::string::npos)
        << r.err;
}

TEST_F(ProgramTest, AValueAnOptionRefusesIsNamedWithItsLine) {
    write("db = \"a.db\"\n\nport = 70000\n");
    Program p;
    EXPECT_EQ(p.run({}), 2);
    EXPECT_NE(p.err.find("prog.toml:3, key 'port'"), std::string::npos) << p.err;
}

TEST_F(ProgramTest, BrokenTomlIsNamedWithItsLine) {
    write("db = \"a.db\"\nport = = 3\n");
    Program p;
    EXPECT_EQ(p.run({}), 2);
    EXPECT_NE(p.err.find("prog.toml:2: "), std::string::npos) << p.err;
}

TEST_F(ProgramTest, AFileNamedWithConfigMustExist) {
    Program p;
    EXPECT_EQ(p.run({"--config", (dir_ / "missing.toml").string()}), 2);
    EXPECT_NE(p.err.find("missing.toml"), std::string::npos) << p.err;

    const std::string other = write("db = \"other.db\"\n", "other.toml");
    Program q;
    EXPECT_EQ(q.run({"--config", other}), -1) << q.err;
    EXPECT_EQ(q.db, "other.db");
}

TEST_F(ProgramTest, ADefaultFileThatCannotBeReadStopsTheProgram) {
    fs::create_directories(dir_ / "prog.toml"); // there, but no file
    Program p;
    EXPECT_EQ(p.run({}), 2);
    EXPECT_NE(p.err.find("cannot read the configuration file"), std::string::npos) << p.err;
}

// A kiosk beside Program: the top level and [kiosk]; exit status as Program::run.
struct Kiosk {
    CLI::App app{"kiosk"};
    std::string db;
    std::string lang = "ru";
    std::string err;
    Kiosk() {
        conventions(app, "prog-ui", {"prog.toml", "kiosk", {}, {"init"}});
        app.add_option("--db", db);
        app.add_option("--lang", lang)->check(CLI::IsMember({"ru", "en"}));
    }
    int run() {
        const char* argv[] = {"prog-ui"};
        testing::internal::CaptureStderr();
        const auto exit = parseCommandLine(app, 1, argv);
        err = testing::internal::GetCapturedStderr();
        return exit ? *exit : -1;
    }
};

TEST_F(ProgramTest, TwoProgramsShareAFile) {
    // The command line reads the top and its commands' tables and skips [kiosk]; the kiosk
    // reads the top and [kiosk] and skips the commands' tables.
    write("db = \"shared.db\"\njson = true\n\n[init]\nstation-id = \"ST-1\"\n\n"
          "[kiosk]\nlang = \"en\"\n");
    Program cli({"prog.toml", {}, "kiosk", {"init"}});
    EXPECT_EQ(cli.run({"init"}), -1) << cli.err;
    EXPECT_EQ(cli.db, "shared.db");
    EXPECT_EQ(cli.stationId, "ST-1");

    Kiosk kiosk; // json is the command line's: the kiosk leaves it to it
    EXPECT_EQ(kiosk.run(), -1) << kiosk.err;
    EXPECT_EQ(kiosk.db, "shared.db");
    EXPECT_EQ(kiosk.lang, "en");

    // Without its table skipped, the command line would name [kiosk] as unknown.
    Program strict;
    EXPECT_EQ(strict.run({}), 2);
    EXPECT_NE(strict.err.find("unknown section [kiosk]"), std::string::npos) << strict.err;
}

TEST_F(ProgramTest, TheKiosksTableWinsAndIsChecked) {
    write("db = \"shared.db\"\n\n[kiosk]\ndb = \"kiosk.db\"\n");
    Kiosk a;
    EXPECT_EQ(a.run(), -1) << a.err;
    EXPECT_EQ(a.db, "kiosk.db");

    write("[kiosk]\nlang = \"de\"\n");
    Kiosk b;
    EXPECT_EQ(b.run(), 2);
    EXPECT_NE(b.err.find("prog.toml:2, key 'lang'"), std::string::npos) << b.err;

    write("[kiosk]\nlangauge = \"en\"\n");
    Kiosk c;
    EXPECT_EQ(c.run(), 2);
    EXPECT_NE(c.err.find("prog.toml:2: unknown key 'langauge'"), std::string::npos) << c.err;

    write("[kisok]\nlang = \"en\"\n"); // a misspelt table is not skipped
    Kiosk d;
    EXPECT_EQ(d.run(), 2);
    EXPECT_NE(d.err.find("prog.toml:1: unknown section [kisok]"), std::string::npos) << d.err;

    write("db = 5\n"); // a key of the kiosk's at the top is checked by the kiosk too
    Kiosk e;
    EXPECT_EQ(e.run(), 2);
    EXPECT_NE(e.err.find("key 'db' must be a string"), std::string::npos) << e.err;
}

TEST_F(ProgramTest, FirmwareConfigFromTheEnvironment) {
    setenv("UNIONCARD_FIRMWARE_CONFIG", "/opt/profiles", 1);
    EXPECT_EQ(unioncard::base::firmwareConfigDir(), fs::path("/opt/profiles"));
    unsetenv("UNIONCARD_FIRMWARE_CONFIG");
    // A build tree's program (no installed folder beside it) finds the source tree's.
    EXPECT_TRUE(fs::exists(unioncard::base::firmwareConfigDir() / "cards" / "union-desfire.toml"));
    EXPECT_EQ(unioncard::base::configDir(), dir_);
}

} // namespace

namespace {

TEST_F(ProgramTest, ASystemdCredentialIsReadWithoutItsNewline) {
    std::ofstream(dir_ / "tls-passphrase") << "correct horse\n";
    setenv("CREDENTIALS_DIRECTORY", dir_.c_str(), 1);
    EXPECT_EQ(unioncard::base::credential("tls-passphrase"),
              std::optional<std::string>("correct horse"));
    EXPECT_EQ(unioncard::base::credential("status-passphrase"), std::nullopt);
    EXPECT_EQ(unioncard::base::credential("../prog.toml"), std::nullopt); // a name, not a path
    unsetenv("CREDENTIALS_DIRECTORY");
    EXPECT_EQ(unioncard::base::credential("tls-passphrase"), std::nullopt); // not a service
}

} // namespace
