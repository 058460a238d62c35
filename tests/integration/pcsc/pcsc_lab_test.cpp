// SPDX-License-Identifier: Apache-2.0
// cardlib's PC/SC adapter against the real pcscd + vpcd that `unioncard-lab up` started (the
// pcsc_lab fixture). Cards are put on and taken off with `unioncard-lab insert/remove`.

#include <unioncard/card/pcsc/pcsc.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

namespace pcsc = unioncard::card::pcsc;
using unioncard::card::Bytes;
using unioncard::card::FaultCode;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kLabDir = UNIONCARD_LAB_DIR_FOR_TESTS;
const Bytes kAtr{0x3B, 0x81, 0x80, 0x01, 0x80, 0x80};

int lab(const std::string& arguments) {
    const std::string command =
        std::string("'") + UNIONCARD_LAB + "' " + arguments + " --dir '" + kLabDir + "'";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string cardImage(const std::string& name) {
    const auto dir = std::filesystem::path(kLabDir) / "test-cards";
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

pcsc::PcscContext contextOrAbort() {
    auto context = pcsc::PcscContext::establish();
    if (!context) {
        ADD_FAILURE() << "the lab's pcscd does not answer: " << context.error().message;
        std::abort();
    }
    return std::move(context).value();
}

// Takes the card off when the test ends, whatever happens.
struct CardOn {
    std::string reader;
    CardOn(const std::string& reader, const std::string& image) : reader(reader) {
        EXPECT_EQ(lab("insert '" + reader + "' '" + image + "'"), 0);
    }
    ~CardOn() { lab("remove '" + reader + "' >/dev/null"); }
};

// True while `pid` is a process that has not exited (a zombie has: it only waits for its
// parent to reap it).
bool processRuns(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return false;
    }
    // The state follows the command name, which is in parentheses and may hold spaces.
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

Bytes transmitOk(unioncard::card::CardConnection& connection, const Bytes& command) {
    auto response = connection.transmit(command);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message);
    return response.ok() ? response.value() : Bytes{};
}

} // namespace

TEST(PcscLab, ListsTheLabReaders) {
    auto context = contextOrAbort();
    auto readers = context.listReaders();
    ASSERT_TRUE(readers.ok()) << readers.error().message;
    for (const char* name : {"Station desk 00 00", "Printer encoder 00 00", "Verifier 00 00"}) {
        EXPECT_NE(std::find(readers->begin(), readers->end(), name), readers->end()) << name;
    }
}

TEST(PcscLab, TransmitsThroughPcscdAndReadsTheUid) {
    CardOn card("Verifier", cardImage("transmit.image"));
    auto context = contextOrAbort();
    auto connection = context.connect("Verifier 00 00");
    ASSERT_TRUE(connection.ok()) << connection.error().message;
    auto& c = **connection;
    EXPECT_EQ(c.atr(), kAtr);
    // DESFire GetVersion, wrapped (90 60 00 00 00): NXP (04), DESFire (01), more frames (91 AF).
    const Bytes version = transmitOk(c, {0x90, 0x60, 0x00, 0x00, 0x00});
    ASSERT_EQ(version.size(), 9u);
    EXPECT_EQ(version[0], 0x04);
    EXPECT_EQ(version[1], 0x01);
    EXPECT_EQ((Bytes{version[7], version[8]}), (Bytes{0x91, 0xAF}));
    auto uid = pcsc::readUid(c);
    ASSERT_TRUE(uid.ok()) << uid.error().message;
    EXPECT_EQ(uid->size(), 7u);
    EXPECT_EQ(uid->front(), 0x04);
}

TEST(PcscLab, ConnectingToAnEmptyReaderIsNoCard) {
    auto context = contextOrAbort();
    auto connection = context.connect("Printer encoder 00 00");
    ASSERT_FALSE(connection.ok());
    EXPECT_EQ(connection.error().code, FaultCode::NoCard) << connection.error().message;
}

TEST(PcscLab, ConnectingToAnUnknownReaderIsNoReader) {
    auto context = contextOrAbort();
    auto connection = context.connect("No such reader 00 00");
    ASSERT_FALSE(connection.ok());
    EXPECT_EQ(connection.error().code, FaultCode::NoReader) << connection.error().message;
}

TEST(PcscLab, TakingTheCardAwayMidSessionIsCardRemoved) {
    CardOn card("Station desk", cardImage("removed.image"));
    auto context = contextOrAbort();
    auto connection = context.connect("Station desk 00 00");
    ASSERT_TRUE(connection.ok()) << connection.error().message;
    // GetApplicationIDs (wrapped): a blank card answers 91 00.
    const Bytes listApplications{0x90, 0x6A, 0x00, 0x00, 0x00};
    EXPECT_EQ(transmitOk(**connection, listApplications), (Bytes{0x91, 0x00}));

    ASSERT_EQ(lab("remove 'Station desk'"), 0);
    auto response = (*connection)->transmit(listApplications);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, FaultCode::CardRemoved) << response.error().message;
}

TEST(PcscLab, WatcherSeesInsertAndRemoveAndIsCancellable) {
    auto watcher = pcsc::ReaderWatcher::create();
    ASSERT_TRUE(watcher.ok()) << watcher.error().message;
    auto& w = **watcher;

    auto waitFor = [&w](pcsc::ReaderEvent::Kind kind, const std::string& reader) {
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        while (Clock::now() < deadline) {
            auto events = w.wait(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
            if (!events.ok()) {
                ADD_FAILURE() << events.error().message;
                return pcsc::ReaderEvent{kind, "", {}};
            }
            for (const auto& e : *events) {
                if (e.kind == kind && e.reader == reader) {
                    return e;
                }
            }
        }
        ADD_FAILURE() << "no event for " << reader;
        return pcsc::ReaderEvent{kind, "", {}};
    };

    {
        CardOn card("Printer encoder", cardImage("watched.image"));
        const auto inserted =
            waitFor(pcsc::ReaderEvent::Kind::CardInserted, "Printer encoder 00 00");
        EXPECT_EQ(inserted.atr, kAtr);
    }
    waitFor(pcsc::ReaderEvent::Kind::CardRemoved, "Printer encoder 00 00");

    // Nothing happens now; cancel() from another thread ends the wait at once.
    auto started = Clock::now();
    auto waiting = std::async(std::launch::async, [&w] { return w.wait(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    w.cancel();
    ASSERT_EQ(waiting.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    auto result = waiting.get();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, FaultCode::Cancelled) << result.error().message;
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));

    // A timeout with nothing happening is no events, not a fault.
    auto quiet = w.wait(std::chrono::milliseconds(200));
    ASSERT_TRUE(quiet.ok()) << quiet.error().message;
    EXPECT_TRUE(quiet->empty());
}

// Figures, not pass/fail on time: the APDU round trip through pcscd + vpcd + the bridge, with
// and without TCP_QUICKACK on the bridge's socket.
TEST(PcscLab, RoundTripFigures) {
    constexpr int kApdus = 200;
    for (const bool quickAck : {true, false}) {
        const std::string image = cardImage("figures.image");
        ASSERT_EQ(lab(std::string("insert Verifier '") + image + "'" +
                      (quickAck ? "" : " --no-quickack")),
                  0);
        {
            auto context = contextOrAbort();
            auto connection = context.connect("Verifier 00 00");
            ASSERT_TRUE(connection.ok()) << connection.error().message;
            // GetApplicationIDs on a blank DESFire: 91 00, no data.
            const Bytes command{0x90, 0x6A, 0x00, 0x00, 0x00};
            transmitOk(**connection, command); // warm up
            const auto start = Clock::now();
            for (int i = 0; i < kApdus; ++i) {
                ASSERT_EQ(transmitOk(**connection, command), (Bytes{0x91, 0x00}));
            }
            const double us =
                std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kApdus;
            std::printf("APDU round trip, TCP_QUICKACK %s: %.0f us (mean of %d)\n",
                        quickAck ? "on " : "off", us, kApdus);
            RecordProperty(quickAck ? "round_trip_us_quickack" : "round_trip_us_no_quickack",
                           static_cast<int>(us));
        }
        lab("remove Verifier >/dev/null");
    }
}

// Runs last (ctest DEPENDS): stops the lab's pcscd under an open context and connection.
TEST(PcscLab, StoppingPcscdIsServiceDown) {
    CardOn card("Verifier", cardImage("service-down.image"));
    auto context = contextOrAbort();
    auto connection = context.connect("Verifier 00 00");
    ASSERT_TRUE(connection.ok()) << connection.error().message;

    std::ifstream pidFile(std::filesystem::path(kLabDir) / "pcscd.pid");
    pid_t pid = 0;
    ASSERT_TRUE(pidFile >> pid);
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    // Wait (bounded) for the process itself to end. pcscd removes its socket file first and
    // only then shuts its readers down, still answering open connections meanwhile, so the
    // file's absence does not mean the daemon has gone.
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (processRuns(pid) && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_FALSE(processRuns(pid)) << "pcscd (pid " << pid << ") still runs 5 s after SIGTERM";

    auto response = (*connection)->transmit(Bytes{0x00, 0xA4, 0x04, 0x00, 0x01, 0x01});
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, FaultCode::ServiceDown) << response.error().message;
    auto readers = context.listReaders();
    ASSERT_FALSE(readers.ok());
    EXPECT_EQ(readers.error().code, FaultCode::ServiceDown) << readers.error().message;
    auto fresh = pcsc::PcscContext::establish();
    ASSERT_FALSE(fresh.ok());
    EXPECT_EQ(fresh.error().code, FaultCode::ServiceDown) << fresh.error().message;
}

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    if (!pcsc::PcscContext::establish().ok()) {
        std::fprintf(stderr, "[  SKIPPED ] no pcscd: run through ctest, whose pcsc_lab fixture "
                             "starts the lab\n");
        return 77;
    }
    return RUN_ALL_TESTS();
}
