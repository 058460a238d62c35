// SPDX-License-Identifier: Apache-2.0
// Figures for the chip: APDUs, wall time and this process's CPU time for a personalisation
// (with its read-back) and for a verifier's read (select, authenticate, read the record).
//
//   desfire_bench [--cards N] [--reads M] [--trace]    the virtual card, in process; --trace
//                                                      lists the first personalisation's and
//                                                      read's exchanges one by one
//   desfire_bench --lab LAB --lab-dir DIR --reader R   through the real pcscd + vpcd rig: each
//                                                      card is a fresh blank put on reader R
// Prints figures; fails only if an operation fails.

#include "../support/test_signing.hpp"

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>
#include <unioncard/sim/air_time.hpp>
#include <unioncard/sim/virtual_desfire.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <utility>
#include <vector>

using namespace unioncard::card;
using namespace unioncard::card::desfire;

namespace {

double cpuMs() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
           (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

double wallMs() {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Tally {
    const char* name;
    int count = 0;
    std::size_t apdus = 0;
    std::size_t sent = 0;
    std::size_t received = 0;
    double wall = 0;
    double cpu = 0;
    void add(const Desfire& d, std::size_t apdusBefore, std::size_t sentBefore,
             std::size_t receivedBefore) {
        ++count;
        apdus += d.apduCount() - apdusBefore;
        sent += d.bytesSent() - sentBefore;
        received += d.bytesReceived() - receivedBefore;
    }
    void print() const {
        if (count == 0) {
            return;
        }
        std::printf("%-28s %4d runs  %5.1f APDUs  %6.1f bytes sent  %6.1f bytes received  "
                    "%8.2f ms wall  %7.2f ms host CPU   (means)\n",
                    name, count, double(apdus) / count, double(sent) / count,
                    double(received) / count, wall / count, cpu / count);
    }
};

// Lists each exchange while on: its number, the command's INS and Lc, the answer's length and
// status word.
class TraceConnection : public CardConnection {
public:
    explicit TraceConnection(CardConnection& inner) : m_inner(inner) {}
    unioncard::Result<Bytes, Fault> transmit(std::span<const std::uint8_t> c) override {
        auto r = m_inner.transmit(c);
        if (sizes != nullptr) {
            sizes->emplace_back(c.size(), r ? r->size() : 0);
        }
        if (on && c.size() >= 4) {
            const unsigned lc = c.size() > 5 ? c[4] : 0;
            if (r && r->size() >= 2) {
                std::printf("  %2zu  INS %02X  Lc %3u  %3zu bytes sent  %3zu received  %02X%02X\n",
                            ++m_n, c[1], lc, c.size(), r->size(), (*r)[r->size() - 2], r->back());
            } else {
                std::printf("  %2zu  INS %02X  Lc %3u  no answer\n", ++m_n, c[1], lc);
            }
        }
        return r;
    }
    Bytes atr() const override { return m_inner.atr(); }
    std::optional<Fault> hold() override { return m_inner.hold(); }
    void release() override { m_inner.release(); }
    bool on = false;
    /// When set, every exchange's command and answer sizes go here (for the air-time projection).
    std::vector<std::pair<std::size_t, std::size_t>>* sizes = nullptr;
    void restart(const char* what) {
        m_n = 0;
        std::printf("%s, exchange by exchange:\n", what);
    }

private:
    CardConnection& m_inner;
    std::size_t m_n = 0;
};

class SimConnection : public CardConnection {
public:
    explicit SimConnection(unioncard::sim::VirtualCard& card) : m_card(card) { m_card.powerOn(); }
    unioncard::Result<Bytes, Fault> transmit(std::span<const std::uint8_t> c) override {
        return m_card.transmit(c);
    }
    Bytes atr() const override { return m_card.atr(); }

private:
    unioncard::sim::VirtualCard& m_card;
};

using Sizes = std::vector<std::pair<std::size_t, std::size_t>>;

unioncard::sim::AirTime project(const Sizes& sizes, const unioncard::sim::AirLink& link) {
    unioncard::sim::AirTime t;
    for (const auto& [command, response] : sizes) {
        t += unioncard::sim::exchangeAirTime(command, response, link);
    }
    return t;
}

// The exchanges of the first personalisation and of a verifier's tap (the UID from the reader's
// anticollision, then select, authenticate, read), projected over the air interface.
void printAirTime(const Sizes& personalisation, const Sizes& tap, std::size_t uidLength) {
    std::printf("projected over the air (ISO/IEC 14443 type A, FSC 64, FSD 256; frames and the "
                "least frame delays only, not the card's own processing):\n");
    for (const unsigned kbps : {106u, 212u, 424u}) {
        const unioncard::sim::AirLink link{kbps};
        const auto p = project(personalisation, link);
        auto t = unioncard::sim::activationAirTime(uidLength, link);
        t += project(tap, link);
        std::printf("  %3u kbit/s  personalisation %6.1f ms (%zu frames, %zu bytes)   tap to "
                    "verdict %5.1f ms (activation and %zu exchanges: %zu frames, %zu bytes)\n",
                    kbps, p.microseconds / 1000, p.frames, p.bytes, t.microseconds / 1000,
                    tap.size(), t.frames, t.bytes);
    }
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "desfire_bench: %s\n", what.c_str());
    std::exit(1);
}

// A record for the chip with this UID.
Bytes signedRecord(const testsupport::TestSigning& signing, const Bytes& uid) {
    using namespace std::chrono;
    CardRecord r{*CardNumber::compose(23, 1234),
                 "M-23-0004711",
                 23,
                 100245,
                 1,
                 sys_days{year{2026} / 11 / 22},
                 sys_days{year{2031} / 11 / 30},
                 uid,
                 "st-bench"};
    auto bytes = signRecord(signing.station, r);
    if (!bytes) {
        die(bytes.error());
    }
    return *bytes;
}

} // namespace

int main(int argc, char** argv) {
    int cards = 20;
    int reads = 50;
    std::string lab, labDir, reader;
    bool trace = false;
    for (int i = 1; i < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--trace") {
            trace = true;
            --i;
            continue;
        }
        if (i + 1 >= argc) {
            die("option " + a + " needs a value");
        }
        if (a == "--cards") {
            cards = std::atoi(argv[i + 1]);
        } else if (a == "--reads") {
            reads = std::atoi(argv[i + 1]);
        } else if (a == "--lab") {
            lab = argv[i + 1];
        } else if (a == "--lab-dir") {
            labDir = argv[i + 1];
        } else if (a == "--reader") {
            reader = argv[i + 1];
        } else {
            die("unknown option " + a);
        }
    }
    const bool overPcsc = !reader.empty();
    auto profile =
        loadProfile(std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) + "/cards/union-desfire.toml");
    if (!profile) {
        die(profile.error());
    }
    const MasterKeys keys = MasterKeys::generate(profile->roles());
    const MasterKeys readKey = std::move(keys.only({"record-read"}).value());
    const auto signing = testsupport::TestSigning::make("st-bench");
    std::size_t recordSize = 0;
    Sizes personalisationSizes, tapSizes;
    std::size_t uidLength = 7;
    Tally pers{"personalise + read-back"};
    Tally read{"verifier read"};
    const auto scratch = std::filesystem::temp_directory_path() / "unioncard-desfire-bench";
    std::filesystem::create_directories(scratch);

    for (int c = 0; c < cards; ++c) {
        std::unique_ptr<CardConnection> connection;
        unioncard::sim::VirtualDesfire card;
        if (overPcsc) {
            const auto image = scratch / ("card-" + std::to_string(c));
            std::filesystem::remove(image);
            const std::string insert = "'" + lab + "' insert '" + reader + "' '" + image.string() +
                                       "' --dir '" + labDir + "' >/dev/null";
            if (std::system(insert.c_str()) != 0) {
                die("cannot put a card on the lab reader: " + insert);
            }
            auto ctx = pcsc::PcscContext::establish();
            if (!ctx) {
                die(ctx.error().message);
            }
            auto conn = ctx->connect(reader + " 00 00");
            if (!conn) {
                die(conn.error().message);
            }
            connection = std::move(conn).value();
        } else {
            connection = std::make_unique<SimConnection>(card);
        }
        Bytes uid;
        if (overPcsc) {
            auto read = pcsc::readUid(*connection);
            if (!read) {
                die(read.error().message);
            }
            uid = std::move(read).value();
        } else {
            const auto real = card.realUid();
            uid.assign(real.begin(), real.end());
        }
        const Bytes record = signedRecord(signing, uid);
        recordSize = record.size();
        TraceConnection traced(*connection);
        traced.on = trace && c == 0;
        if (traced.on) {
            traced.restart("personalisation and read-back");
        }
        Desfire d(traced);
        traced.sizes = c == 0 ? &personalisationSizes : nullptr;
        double w = wallMs(), u = cpuMs();
        auto report = personalise(d, *profile, keys, record);
        traced.sizes = nullptr;
        if (!report) {
            die("personalise: " + report.error().message);
        }
        pers.add(d, 0, 0, 0);
        pers.wall += wallMs() - w;
        pers.cpu += cpuMs() - u;
        for (int r = 0; r < reads; ++r) {
            traced.on = trace && c == 0 && r == 0;
            if (traced.on) {
                traced.restart("verifier read");
            }
            w = wallMs();
            u = cpuMs();
            const std::size_t before = d.apduCount();
            const std::size_t sentBefore = d.bytesSent();
            const std::size_t receivedBefore = d.bytesReceived();
            auto got = readRecord(d, *profile, readKey);
            if (!got || got->record != record) {
                die("read: " + (got ? std::string("record differs") : got.error().message));
            }
            read.add(d, before, sentBefore, receivedBefore);
            read.wall += wallMs() - w;
            read.cpu += cpuMs() - u;
        }
        if (c == 0) {
            // The verifier's tap: the UID from the reader, not asked of the card.
            ReadOptions fromReader;
            fromReader.uid = uid;
            traced.sizes = &tapSizes;
            auto tap = readRecord(d, *profile, readKey, fromReader);
            traced.sizes = nullptr;
            if (!tap) {
                die("tap: " + tap.error().message);
            }
            uidLength = uid.size();
        }
        connection.reset();
        if (overPcsc) {
            const std::string remove =
                "'" + lab + "' remove '" + reader + "' --dir '" + labDir + "' >/dev/null";
            if (std::system(remove.c_str()) != 0) {
                die("cannot take the card off the lab reader");
            }
        }
    }
    std::printf("DESFire EV2, %s, %zu-byte signed record in a 256-byte backup file; native "
                "frames of at most %zu bytes of data, %s chaining\n",
                overPcsc ? ("pcscd + vpcd, reader \"" + reader + "\"").c_str()
                         : "virtual card in process",
                recordSize, profile->frames.commandData,
                profile->frames.chaining == Chaining::Iso ? "ISO/IEC 14443-4" : "native AF");
    pers.print();
    read.print();
    printAirTime(personalisationSizes, tapSizes, uidLength);
    std::filesystem::remove_all(scratch);
    return 0;
}
