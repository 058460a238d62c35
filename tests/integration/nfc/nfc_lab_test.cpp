// SPDX-License-Identifier: Apache-2.0
// cardlib's libnfc adapter for real: libnfc 1.8's pn532_uart driver talks to `unioncard-lab
// pn532` (the PN532 emulator on a pseudo-terminal, the virtual DESFire in its field). Each test
// starts its own emulator with its own card image, so the tests run in parallel. libfreefare
// (the freefare_desfire test program) is the independent client: what it writes, cardlib reads,
// and the other way round.

#include "../../unit/cardlib/signing_fixture.hpp"

#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/nfc/libnfc.hpp>
#include <unioncard/sim/virtual_desfire.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
namespace nfc = unioncard::card::nfc;
namespace desfire = unioncard::card::desfire;
using unioncard::card::Bytes;
using unioncard::card::FaultCode;

namespace {

constexpr std::array<std::uint8_t, 7> kUid{0x04, 0x5A, 0x17, 0x2C, 0x9E, 0x31, 0x80};

std::string hex(const Bytes& bytes) {
    std::string out;
    char b[3];
    for (auto x : bytes) {
        std::snprintf(b, sizeof b, "%02X", x);
        out += b;
    }
    return out;
}

// `unioncard-lab pn532 IMAGE` as a child process: its stdin is a pipe we hold (closing it stops
// the emulator, which then saves the image), its first stdout line the connection string.
class Pn532Process {
public:
    bool start(const fs::path& image, std::string& error) {
        int in[2];
        int out[2];
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
            error = "pipe failed";
            return false;
        }
        m_pid = fork();
        if (m_pid == 0) {
            dup2(in[0], STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            execl(UNIONCARD_LAB, UNIONCARD_LAB, "pn532", image.c_str(),
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        m_stdin = in[1];
        // The connection string comes within a second; 10 s is the bound for a loaded machine.
        std::string line;
        char c = 0;
        while (line.find('\n') == std::string::npos) {
            pollfd fd{out[0], POLLIN, 0};
            if (poll(&fd, 1, 10000) <= 0 || read(out[0], &c, 1) != 1) {
                break;
            }
            line += c;
        }
        close(out[0]);
        if (line.empty() || line.back() != '\n') {
            error = "unioncard-lab pn532 printed no connection string";
            stop();
            return false;
        }
        line.pop_back();
        connstring = line;
        return true;
    }

    /// Closes its stdin and waits; its exit status (0: stopped and image saved).
    int stop() {
        if (m_stdin >= 0) {
            close(m_stdin);
            m_stdin = -1;
        }
        if (m_pid > 0) {
            int status = 0;
            waitpid(m_pid, &status, 0);
            m_pid = -1;
            m_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        return m_status;
    }

    ~Pn532Process() { stop(); }

    std::string connstring;

private:
    pid_t m_pid = -1;
    int m_stdin = -1;
    int m_status = -1;
};

class NfcLab : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("unioncard-nfc-" + std::to_string(getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        image = dir / "card.image";
        unioncard::sim::VirtualDesfire blank({kUid, 8192, {}});
        std::string error;
        ASSERT_TRUE(blank.save(image, &error)) << error;
        ASSERT_TRUE(lab.start(image, error)) << error;
        auto c = nfc::NfcContext::init();
        ASSERT_TRUE(c.ok()) << c.error().message;
        context.emplace(std::move(c).value());
    }
    void TearDown() override {
        context.reset();
        EXPECT_EQ(lab.stop(), 0) << "the emulator did not stop cleanly and save the image";
        fs::remove_all(dir);
    }

    nfc::NfcDevice openReader() {
        auto device = context->open(lab.connstring);
        EXPECT_TRUE(device.ok()) << device.error().message;
        if (!device.ok()) {
            throw std::runtime_error(device.error().message);
        }
        return std::move(device).value();
    }

    // Runs freefare_desfire with libnfc pointed at the emulator; its stdout, or nothing when it
    // failed (a test failure unless the test expects it).
    std::optional<std::string> freefare(const std::string& args, bool expectFailure = false) {
        const std::string command = "LIBNFC_DEVICE='" + lab.connstring +
                                    "' LIBNFC_AUTO_SCAN=false " + UNIONCARD_FREEFARE_DESFIRE + " " +
                                    args;
        FILE* p = popen(command.c_str(), "r");
        if (p == nullptr) {
            return std::nullopt;
        }
        std::string out;
        char buffer[256];
        while (std::fgets(buffer, sizeof buffer, p) != nullptr) {
            out += buffer;
        }
        const int status = pclose(p);
        if (status != 0) {
            if (expectFailure) {
                return std::nullopt;
            }
            ADD_FAILURE() << "freefare_desfire " << args << " failed (status " << status
                          << "), output: " << out;
            return std::nullopt;
        }
        return out;
    }

    fs::path dir;
    fs::path image;
    Pn532Process lab;
    std::optional<nfc::NfcContext> context;
};

TEST_F(NfcLab, ListsTheCardWithItsUidAtsAndThePcscAtr) {
    auto devices = context->listDevices();
    ASSERT_TRUE(devices.ok());
    auto reader = openReader();
    EXPECT_NE(reader.name().find("pn532_uart"), std::string::npos) << reader.name();
    auto targets = reader.listTargets();
    ASSERT_TRUE(targets.ok()) << targets.error().message;
    ASSERT_EQ(targets->size(), 1u);
    const auto& t = targets->front();
    EXPECT_EQ(t.uid, Bytes(kUid.begin(), kUid.end()));
    EXPECT_EQ(t.atqa, (Bytes{0x03, 0x44}));
    EXPECT_EQ(t.sak, 0x20);
    EXPECT_EQ(t.ats, (Bytes{0x75, 0x77, 0x81, 0x02, 0x80}));

    auto connection = reader.connect();
    ASSERT_TRUE(connection.ok()) << connection.error().message;
    // The same ATR pcscd reports for this card through vpcd (and the virtual card's own).
    unioncard::sim::VirtualDesfire same({kUid, 8192, {}});
    EXPECT_EQ((*connection)->atr(), same.atr());
    EXPECT_EQ((*connection)->atr(), (Bytes{0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}));
    auto uid = nfc::readUid(**connection);
    ASSERT_TRUE(uid.ok());
    EXPECT_EQ(*uid, Bytes(kUid.begin(), kUid.end()));
    // GetVersion, wrapped: first frame 91 AF.
    auto version = (*connection)->transmit(Bytes{0x90, 0x60, 0x00, 0x00, 0x00});
    ASSERT_TRUE(version.ok()) << version.error().message;
    EXPECT_EQ(version->size(), 9u);
    EXPECT_EQ(version->at(7), 0x91);
    EXPECT_EQ(version->at(8), 0xAF);
}

TEST_F(NfcLab, ConnectingToAnotherUidIsNoCard) {
    auto reader = openReader();
    auto connection = reader.connect({Bytes{0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}});
    ASSERT_FALSE(connection.ok());
    EXPECT_EQ(connection.error().code, FaultCode::NoCard) << connection.error().message;
}

TEST_F(NfcLab, UnknownReaderIsNoReader) {
    auto device = context->open("pn532_uart:/dev/nonexistent-unioncard:115200");
    ASSERT_FALSE(device.ok());
    EXPECT_EQ(device.error().code, FaultCode::NoReader) << device.error().message;
}

TEST_F(NfcLab, ReaderGoneMidSessionIsAFault) {
    auto reader = openReader();
    auto connection = reader.connect();
    ASSERT_TRUE(connection.ok()) << connection.error().message;
    ASSERT_EQ(lab.stop(), 0);
    auto r = (*connection)->transmit(Bytes{0x90, 0x60, 0x00, 0x00, 0x00});
    ASSERT_FALSE(r.ok());
    // The pseudo-terminal hangs up: libnfc reports NFC_EIO (or, if the hang-up is not seen,
    // its timeout).
    EXPECT_TRUE(r.error().code == FaultCode::ReaderRemoved || r.error().code == FaultCode::Timeout)
        << toString(r.error().code) << ": " << r.error().message;
}

// What a station issues: the union's profile, fresh master keys, and a record signed for the
// lab card's UID.
struct Issue {
    desfire::Profile profile = unioncard::card::testing::take(desfire::loadProfile(
        std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) + "/cards/union-desfire.toml"));
    desfire::MasterKeys keys = desfire::MasterKeys::generate(profile.roles());
    unioncard::card::testing::Signing signing;
    unioncard::card::StationSigner station = signing.station("st-23-01");
    Bytes record = signFor(station);

    static Bytes signFor(const unioncard::card::StationSigner& station) {
        auto fields = unioncard::card::testing::Signing::record("st-23-01");
        fields.chipUid = Bytes(kUid.begin(), kUid.end());
        return unioncard::card::testing::take(signRecord(station, fields));
    }
};

TEST_F(NfcLab, PersonalisesABlankCardAndReadsItBack) {
    const Issue issue;
    const auto* profile = &issue.profile;
    const auto& keys = issue.keys;
    const auto& signing = issue.signing;
    const auto& station = issue.station;
    const Bytes& record = issue.record;

    auto reader = openReader();
    {
        auto connection = reader.connect();
        ASSERT_TRUE(connection.ok()) << connection.error().message;
        desfire::Desfire card(**connection);
        const auto start = std::chrono::steady_clock::now();
        const auto report = desfire::personalise(card, *profile, keys, record);
        ASSERT_TRUE(report.ok()) << report.error().message;
        EXPECT_EQ(report->uid, Bytes(kUid.begin(), kUid.end()));
        std::cout << "personalisation through libnfc + PN532 emulator: " << report->apdus
                  << " APDUs in "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count()
                  << " ms\n";
    }
    // A verifier's read on a new connection (the card is activated afresh: no session).
    auto connection = reader.connect();
    ASSERT_TRUE(connection.ok()) << connection.error().message;
    desfire::Desfire card(**connection);
    const auto read = desfire::readRecord(
        card, *profile, unioncard::card::testing::take(keys.only({"record-read"})));
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->record, record);
    EXPECT_EQ(verifyRecord(read->record, signing.trust({station.certificate}),
                           unioncard::card::testing::day(2027, 1, 1))
                  .verdict,
              unioncard::card::Verdict::Valid);
}

const Bytes kZeroAes(16, 0x00);

// 100 bytes: more than one native frame (54 bytes of data), so libfreefare sends its WriteData
// in 91 AF frames and its reads come back in 59-byte frames, which the virtual card must take
// and give as a real one does; cardlib writes the same with WriteData 8D.
constexpr std::size_t kPatternBytes = 100;

Bytes pattern(std::uint8_t seed) {
    Bytes data(kPatternBytes);
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::uint8_t>(seed + 7 * i);
    }
    return data;
}

TEST_F(NfcLab, WhatLibfreefareWritesCardlibReads) {
    if (std::string(UNIONCARD_FREEFARE_DESFIRE).empty()) {
        GTEST_SKIP() << "libfreefare is not installed (Debian libfreefare-dev), so the "
                        "freefare_desfire test program was not built";
    }
    const Bytes data = pattern(0x31);
    {
        // libfreefare: legacy DES auth, CreateApplication AES, AuthenticateAES (EV1 secure
        // messaging, CMAC over plain commands), CreateStdDataFile, WriteData, ReadData.
        auto out = freefare("create-write 21F00D 1 " + hex(data));
        ASSERT_TRUE(out.has_value());
    }
    auto reader = openReader();
    auto connection = reader.connect();
    ASSERT_TRUE(connection.ok()) << connection.error().message;
    desfire::Desfire card(**connection);
    ASSERT_TRUE(card.selectApplication(0x21F00D).ok());
    auto auth = card.authenticateEv2First(0, kZeroAes);
    ASSERT_TRUE(auth.ok()) << auth.error().message;
    auto read = card.readData(1, 0, kPatternBytes, desfire::CommMode::Plain);
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(*read, data);
}

TEST_F(NfcLab, WhatCardlibWritesLibfreefareReads) {
    if (std::string(UNIONCARD_FREEFARE_DESFIRE).empty()) {
        GTEST_SKIP() << "libfreefare is not installed (Debian libfreefare-dev), so the "
                        "freefare_desfire test program was not built";
    }
    const Bytes data = pattern(0xA0);
    {
        auto reader = openReader();
        auto connection = reader.connect();
        ASSERT_TRUE(connection.ok()) << connection.error().message;
        desfire::Desfire card(**connection);
        // A factory card's PICC key settings (0F) allow CreateApplication without
        // authentication (datasheet, key settings bit 2).
        ASSERT_TRUE(card.selectApplication(0).ok());
        auto created =
            card.run(desfire::cmd::createApplication(0x21F00E, 0x0F, 1, desfire::KeyType::Aes128));
        ASSERT_TRUE(created.ok()) << created.error().message;
        ASSERT_TRUE(card.selectApplication(0x21F00E).ok());
        auto auth = card.authenticateEv2First(0, kZeroAes);
        ASSERT_TRUE(auth.ok()) << auth.error().message;
        desfire::AccessRights rights{0, 0, 0, 0};
        auto file = card.run(
            desfire::cmd::createStdDataFile(1, desfire::CommMode::Plain, rights, kPatternBytes));
        ASSERT_TRUE(file.ok()) << file.error().message;
        auto written = card.writeData(1, 0, data, desfire::CommMode::Plain);
        ASSERT_TRUE(written.ok()) << written.error().message;
    }
    auto out = freefare("read 21F00E 1 " + std::to_string(kPatternBytes));
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, hex(data) + "\n");
}

TEST_F(NfcLab, LibfreefareReadsTheRecordOfACardTheStationPersonalised) {
    if (std::string(UNIONCARD_FREEFARE_DESFIRE).empty()) {
        GTEST_SKIP() << "libfreefare is not installed (Debian libfreefare-dev), so the "
                        "freefare_desfire test program was not built";
    }
    const Issue issue;
    const auto* profile = &issue.profile;
    const auto& keys = issue.keys;
    const Bytes& record = issue.record;
    {
        auto reader = openReader();
        auto connection = reader.connect();
        ASSERT_TRUE(connection.ok()) << connection.error().message;
        desfire::Desfire card(**connection);
        const auto report = desfire::personalise(card, *profile, keys, record);
        ASSERT_TRUE(report.ok()) << report.error().message;
    }
    // libfreefare with the card's diversified read key: AuthenticateAES (EV1 secure messaging,
    // which an EV2 card keeps), GetFileSettings, ReadData of the MAC'd backup file, its CMAC
    // checked by libfreefare. The file holds the record, zero-padded to the file's size.
    const auto* file = profile->file("record");
    ASSERT_NE(file, nullptr);
    const auto readKey = desfire::cardKey(*profile, keys, "record-read", kUid);
    ASSERT_TRUE(readKey.ok()) << readKey.error().message;
    auto out =
        freefare(fmt::format("read {:06X} {} {} {} {}", profile->aid, file->number, file->size,
                             profile->keyNumber("record-read").value_or(0xFF), hex(*readKey)));
    ASSERT_TRUE(out.has_value());
    Bytes padded = record;
    padded.resize(file->size, 0x00);
    EXPECT_EQ(*out, hex(padded) + "\n");
    // The read role's master key itself, not diversified for this card: the card refuses it.
    const auto master = keys.key("record-read");
    ASSERT_TRUE(master.has_value());
    EXPECT_FALSE(freefare(fmt::format("read {:06X} {} {} {} {}", profile->aid, file->number,
                                      file->size, profile->keyNumber("record-read").value_or(0xFF),
                                      hex(Bytes(master->begin(), master->end()))),
                          /*expectFailure=*/true)
                     .has_value());
}

} // namespace
