// SPDX-License-Identifier: Apache-2.0
// The station's host work per card, outside the printer and the card: both faces drawn and
// turned into rasters, the record signed, the card's store transitions (feeding, encoding,
// verifying, printing, produced: each a transaction with its audit entry, the last with the
// registry outbox event), and the chip's APDUs per card (GetVersion for the UID, personalisation
// with its read-back, then the verifier's read the station does before printing) against sim's
// virtual DESFire in process. Figures, not pass/fail.
//   station_bench [--cards N] [--dir DIR]   (DIR: where the station's file goes; default /tmp)

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/record_text.hpp>
#include <unioncard/printer/layout.hpp>
#include <unioncard/printer/renderer.hpp>
#include <unioncard/sim/virtual_desfire.hpp>
#include <unioncard/station/store.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using namespace unioncard;
using namespace std::chrono;
namespace desfire = card::desfire;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "station_bench: %s\n", message.c_str());
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

double wallMs(steady_clock::time_point since) {
    return duration<double, std::milli>(steady_clock::now() - since).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) {
        s += x;
    }
    return s / static_cast<double>(v.size());
}

class InProcess : public card::CardConnection {
public:
    explicit InProcess(sim::VirtualCard& card) : m_card(card) { m_card.powerOn(); }
    ~InProcess() override { m_card.powerOff(); }
    Result<card::Bytes, card::Fault> transmit(std::span<const std::uint8_t> c) override {
        ++apdus;
        const auto t = steady_clock::now();
        auto r = m_card.transmit(c);
        cardMs += wallMs(t);
        return r;
    }
    card::Bytes atr() const override { return m_card.atr(); }
    std::size_t apdus = 0;
    double cardMs = 0; ///< time inside the virtual card (the card's side, not the host's)

private:
    sim::VirtualCard& m_card;
};

struct Row {
    const char* what;
    std::vector<double> wall;
    std::vector<double> cpu;
};

} // namespace

int main(int argc, char** argv) {
    int cards = 20;
    fs::path dir = fs::temp_directory_path();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--cards") {
            cards = std::max(2, std::atoi(argv[i + 1]));
        } else if (a == "--dir") {
            dir = argv[i + 1];
        } else {
            die("unknown option " + a);
        }
    }
    const std::string config = UNIONCARD_FIRMWARE_CONFIG_DIR;

    // A union of its own: root, station, trust list, card keys; the layout and the renderer.
    const auto now = floor<seconds>(system_clock::now());
    const card::Validity validity{now - hours(24), now + hours(24 * 365)};
    auto rootKey = take(card::PrivateKey::generate(), "root key");
    auto root = take(card::makeRootCertificate(rootKey, "Bench root", validity), "root");
    auto stationKey = take(card::PrivateKey::generate(), "station key");
    auto stationCert = take(
        card::issueStationCertificate(rootKey, root, stationKey.publicKey(), "st-23-01", validity),
        "station certificate");
    card::StationSigner signer{std::move(stationKey), std::move(stationCert)};
    const auto profile =
        take(desfire::loadProfile(config + "/cards/union-desfire.toml"), "profile");
    const auto keys = desfire::MasterKeys::generate(profile.roles());
    const auto readKeys = take(keys.only({"record-read"}), "read keys");
    auto layout = take(
        printer::loadLayout(printer::resolveLayoutPath("union-card", fs::path(config) / "layouts")),
        "layout");
    const auto renderer = take(printer::CardRenderer::create(std::move(layout)), "renderer");
    const int dpi = renderer.layout().dpi;

    // The station's file, as the station opens it (WAL, synchronous FULL), on --dir's disk.
    const fs::path file = dir / ("station-bench-" + std::to_string(getpid()) + ".db");
    auto store = take(station::StationStore::open(file), "station file");
    store.setAuditSigner([&](std::span<const std::uint8_t> m) { return signer.key.signRaw(m); },
                         "st-23-01");
    std::vector<registry::Application> applications;
    for (int i = 0; i < cards; ++i) {
        registry::Application a;
        a.id = "bench-" + std::to_string(i);
        a.memberId = "M-23-" + std::to_string(1000000 + i);
        a.fullName = "Константинопольская Александра Владимировна";
        a.region = 23;
        a.organisationCode = 2300001;
        a.organisationName = "Первичная профсоюзная организация МБОУ СОШ № 1";
        a.category = registry::MemberCategory::Working;
        a.consent = true;
        a.createdAt = now;
        applications.push_back(a);
    }
    take(store.addApplications(applications, "bench", "op-1"), "applications");
    if (auto e =
            store.addLease(registry::Lease{"lease-1", 23, 1000, 100000, "st-23-01", now}, "op-1")) {
        die(e->message);
    }

    Row render{"render both faces + rasters", {}, {}};
    Row sign{"sign the record", {}, {}};
    Row transitions{"store: 5 transitions + audit + outbox", {}, {}};
    Row chip{"chip: personalise + read-back + verifier read (host)", {}, {}};
    std::vector<double> cardSide;
    std::size_t apdus = 0;
    for (int i = 0; i < cards; ++i) {
        // Store: the card through its states, each a transaction (timed together below).
        auto t = steady_clock::now();
        double c = cpuMs();
        auto row = take(store.startCard(applications[static_cast<std::size_t>(i)].id, "op-1",
                                        card::NumberScheme::standard()),
                        "start card");
        double storeWall = wallMs(t), storeCpu = cpuMs() - c;

        sim::VirtualDesfire blank;
        InProcess reader(blank);
        desfire::Desfire chipClient(reader);
        const card::Bytes uid = blank.uid();
        t = steady_clock::now();
        c = cpuMs();
        card::CardRecord record{take(card::CardNumber::parse(row.cardNumber), "number"),
                                applications[static_cast<std::size_t>(i)].memberId,
                                23,
                                2300001,
                                1,
                                floor<days>(now),
                                floor<days>(now) + days(5 * 365),
                                uid,
                                "st-23-01"};
        const auto signedRecord = take(card::signRecord(signer, record), "sign");
        sign.wall.push_back(wallMs(t));
        sign.cpu.push_back(cpuMs() - c);

        t = steady_clock::now();
        c = cpuMs();
        if (auto e = store.advance(row.id, station::CardState::Encoding)) {
            die(e->message);
        }
        storeWall += wallMs(t);
        storeCpu += cpuMs() - c;

        t = steady_clock::now();
        c = cpuMs();
        const double cardBefore = reader.cardMs;
        take(chipClient.getVersion(), "version"); // the station reads the UID first
        take(desfire::personalise(chipClient, profile, keys, signedRecord), "personalise");
        take(desfire::readRecord(chipClient, profile, readKeys, {uid}), "read back");
        chip.wall.push_back(wallMs(t) - (reader.cardMs - cardBefore));
        chip.cpu.push_back(cpuMs() - c);
        cardSide.push_back(reader.cardMs - cardBefore);
        apdus += reader.apdus;

        t = steady_clock::now();
        c = cpuMs();
        if (auto e = store.advance(row.id, station::CardState::Verifying, card::toHex(uid))) {
            die(e->message);
        }
        if (auto e = store.advance(row.id, station::CardState::Printing)) {
            die(e->message);
        }
        storeWall += wallMs(t);
        storeCpu += cpuMs() - c;

        t = steady_clock::now();
        c = cpuMs();
        printer::CardFields fields;
        fields.fullName = applications[static_cast<std::size_t>(i)].fullName;
        fields.cardNumber = row.cardNumber;
        fields.organisation = applications[static_cast<std::size_t>(i)].organisationName;
        fields.region = "Московская область";
        fields.validUntil = card::formatDate(record.expires);
        fields.qr = card::recordToText(signedRecord);
        const auto faces = take(renderer.renderCard(fields), "render");
        const auto front = printer::toRaster(faces.front, dpi);
        const auto back = printer::toRaster(faces.back, dpi);
        render.wall.push_back(wallMs(t));
        render.cpu.push_back(cpuMs() - c);
        if (front.width == 0 || back.width == 0) {
            die("empty raster");
        }

        t = steady_clock::now();
        c = cpuMs();
        if (auto e = store.produced(row.id, now)) {
            die(e->message);
        }
        transitions.wall.push_back(storeWall + wallMs(t));
        transitions.cpu.push_back(storeCpu + cpuMs() - c);
    }
    const auto outbox = store.outbox().status();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::remove(file.string() + suffix, ec);
    }

    std::printf("station_bench: %d cards, the station's file on %s\n", cards, dir.c_str());
    std::printf("%-52s %12s %12s %12s\n", "per card", "wall median", "wall mean", "cpu mean");
    double totalWall = 0, totalCpu = 0;
    for (const Row* r : {&render, &sign, &transitions, &chip}) {
        std::printf("%-52s %9.2f ms %9.2f ms %9.2f ms\n", r->what, median(r->wall), mean(r->wall),
                    mean(r->cpu));
        totalWall += mean(r->wall);
        totalCpu += mean(r->cpu);
    }
    std::printf("%-52s %12s %9.2f ms %9.2f ms\n", "host total (outside printer and card)", "",
                totalWall, totalCpu);
    std::printf("%-52s %9.2f ms\n", "inside the virtual card (not host work)", median(cardSide));
    std::printf("APDUs per card: %.1f (GetVersion, personalisation with its read-back, the "
                "verifier's read)\n",
                static_cast<double>(apdus) / cards);
    std::printf("outbox: %zu produced event(s) queued\n", outbox ? outbox->waiting : 0);
    return 0;
}
