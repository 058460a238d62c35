// SPDX-License-Identifier: Apache-2.0
// Tap to verdict: the verifier's whole pipeline on a union card, as unioncard-verifier watch
// runs it (the reader's UID, select, chip authentication, the record read under MAC, the
// signature against the trust list, the status list), timed from the moment pcscd reports the
// card present to the verdict.
//
//   verifier_bench [--taps N]                          the virtual card, in process
//   verifier_bench --lab LAB --lab-dir DIR --reader R [--taps N]
//                                                      through the real pcscd + vpcd rig: the
//                                                      card is taken off and put on R each tap
// Prints median and p99 wall time, APDU exchanges and host CPU per verification; fails only if
// a verdict is not "valid".

#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>
#include <unioncard/sim/in_process_connection.hpp>
#include <unioncard/sim/virtual_desfire.hpp>
#include <unioncard/verifier/verify.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

using namespace unioncard;
using namespace std::chrono;
namespace desfire = card::desfire;

namespace {

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "verifier_bench: %s\n", message.c_str());
    std::exit(1);
}

template <class T, class E> T take(Result<T, E> r, const char* what) {
    if (!r) {
        die(what);
    }
    return std::move(r).value();
}

double cpuMs() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

void lab(const std::string& labProgram, const std::string& labDir, const std::string& verb,
         const std::string& reader, const std::string& image = {}) {
    const std::string command = "'" + labProgram + "' " + verb + " '" + reader + "' " +
                                (image.empty() ? "" : "'" + image + "' ") + "--dir '" + labDir +
                                "' >/dev/null";
    if (std::system(command.c_str()) != 0) {
        die("lab: " + command);
    }
}

} // namespace

int main(int argc, char** argv) {
    int taps = 50;
    std::string labProgram, labDir, reader;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--taps") {
            taps = std::max(2, std::atoi(argv[i + 1]));
        } else if (a == "--lab") {
            labProgram = argv[i + 1];
        } else if (a == "--lab-dir") {
            labDir = argv[i + 1];
        } else if (a == "--reader") {
            reader = argv[i + 1];
        } else {
            die("unknown option " + a);
        }
    }
    const bool overPcsc = !labProgram.empty();

    // A union of its own: root, station, trust list, status signer and list, card keys.
    const auto now = floor<seconds>(system_clock::now());
    const card::Validity validity{now - hours(24), now + hours(24 * 365)};
    auto rootKey = take(card::PrivateKey::generate(), "root key");
    auto root = take(card::makeRootCertificate(rootKey, "Bench root", validity), "root");
    auto stationKey = take(card::PrivateKey::generate(), "station key");
    auto stationCert = take(
        card::issueStationCertificate(rootKey, root, stationKey.publicKey(), "st-23-01", validity),
        "station certificate");
    card::StationSigner station{std::move(stationKey), std::move(stationCert)};
    const auto trustBytes =
        take(card::TrustList::build(rootKey, root, {station.certificate}, 1, now), "trust list");
    const auto trust = take(card::TrustList::load(trustBytes, root.fingerprint()), "trust list");
    auto statusKey = take(card::PrivateKey::generate(), "status key");
    auto statusCert = take(card::issueStatusSignerCertificate(rootKey, root, statusKey.publicKey(),
                                                              "bench-status", validity),
                           "status certificate");
    registry::StatusListContent content;
    content.version = 1;
    content.issuedAt = now;
    content.issuedUpTo = {{23, 100000}};
    for (std::uint64_t s = 7; s < 100000; s += 10) { // 10 % not valid, as in the union
        content.notValid.push_back({23, s, registry::Validity::Revoked});
    }
    const auto statusBytes =
        take(registry::encodeSnapshot(content, statusKey, statusCert), "status list");
    const auto statusList = take(registry::StatusList::load(statusBytes, root, now), "status");
    const auto profile = take(desfire::loadProfile(std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) +
                                                   "/cards/union-desfire.toml"),
                              "profile");
    const auto keys = desfire::MasterKeys::generate(profile.roles());
    const auto readKeys = take(keys.only({"record-read"}), "read keys");

    verifier::Context context;
    context.trust = &trust;
    context.statusList = &statusList;
    context.now = now;

    auto recordFor = [&](const card::Bytes& uid) {
        card::CardRecord r{take(card::CardNumber::compose(23, 1234), "number"),
                           "M-23-0004711",
                           23,
                           100245,
                           1,
                           floor<days>(now),
                           floor<days>(now) + days(1800),
                           uid,
                           "st-23-01"};
        return take(card::signRecord(station, r), "record");
    };

    std::vector<double> wall, cpu;
    std::size_t apdus = 0;
    sim::VirtualDesfire inProcessCard;
    if (!overPcsc) {
        sim::InProcessConnection c(inProcessCard);
        desfire::Desfire d(c);
        const auto uid = inProcessCard.realUid();
        if (!desfire::personalise(d, profile, keys,
                                  recordFor(card::Bytes(uid.begin(), uid.end())))) {
            die("personalise");
        }
        for (int t = 0; t < taps; ++t) {
            const double w0 = cpuMs();
            const auto start = steady_clock::now();
            sim::InProcessConnection tap(inProcessCard);
            desfire::Desfire card(tap);
            const auto v = verifier::verifyChip(card, profile, readKeys,
                                                card::Bytes(uid.begin(), uid.end()), context);
            wall.push_back(duration<double, std::milli>(steady_clock::now() - start).count());
            cpu.push_back(cpuMs() - w0);
            if (!v.valid()) {
                die("verdict " + std::string(verifier::toString(v.code)) + ": " + v.reason);
            }
            apdus = v.apdus;
        }
    } else {
        const auto image = std::filesystem::temp_directory_path() /
                           ("verifier-bench-" + std::to_string(::getpid()) + ".card");
        auto pcsc = take(card::pcsc::PcscContext::establish(), "pcscd");
        auto readers = take(pcsc.listReaders(), "readers");
        std::string name;
        for (const auto& r : readers) {
            if (name.empty() && r.starts_with(reader)) {
                name = r;
            }
        }
        if (name.empty()) {
            die("no reader " + reader);
        }
        lab(labProgram, labDir, "insert", reader, image.string());
        {
            auto c = take(pcsc.connect(name), "connect");
            const auto uid = take(card::pcsc::readUid(*c), "uid");
            desfire::Desfire d(*c);
            if (!desfire::personalise(d, profile, keys, recordFor(uid))) {
                die("personalise over pcscd");
            }
        }
        lab(labProgram, labDir, "remove", reader);
        auto watcher = take(card::pcsc::ReaderWatcher::create(), "watcher");
        for (int t = 0; t < taps; ++t) {
            lab(labProgram, labDir, "insert", reader, image.string());
            // The moment pcscd reports the card: the watcher's event (lab insert has returned
            // once pcscd saw it, so the event is waiting).
            bool seen = false;
            while (!seen) {
                auto events = take(watcher->wait(milliseconds(5000)), "watch");
                if (events.empty()) {
                    die("no card event");
                }
                for (const auto& e : events) {
                    seen = seen || (e.reader == name &&
                                    e.kind == card::pcsc::ReaderEvent::Kind::CardInserted);
                }
            }
            const double c0 = cpuMs();
            const auto start = steady_clock::now();
            verifier::Verdict v;
            {
                auto c = take(pcsc.connect(name), "connect");
                auto uid = card::pcsc::readUid(*c);
                desfire::Desfire card(*c);
                v = verifier::verifyChip(card, profile, readKeys,
                                         uid ? std::optional(uid.value()) : std::nullopt, context);
                v.apdus += 1; // GET DATA
            }
            wall.push_back(duration<double, std::milli>(steady_clock::now() - start).count());
            cpu.push_back(cpuMs() - c0);
            if (!v.valid()) {
                die("verdict " + std::string(verifier::toString(v.code)) + ": " + v.reason);
            }
            apdus = v.apdus;
            lab(labProgram, labDir, "remove", reader);
        }
        std::filesystem::remove(image);
    }
    std::printf("verifier tap to verdict, %s, %d taps\n",
                overPcsc ? ("pcscd + vpcd, reader \"" + reader + "\"").c_str()
                         : "virtual card in process",
                taps);
    std::printf("  APDU exchanges per verification  %zu\n", apdus);
    std::printf("  wall   median %.3f ms   p99 %.3f ms\n", percentile(wall, 0.5),
                percentile(wall, 0.99));
    std::printf("  host CPU   median %.3f ms   p99 %.3f ms\n", percentile(cpu, 0.5),
                percentile(cpu, 0.99));
    return 0;
}
