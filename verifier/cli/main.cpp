// SPDX-License-Identifier: Apache-2.0
// unioncard-verifier: the verifier desk on a command line. Every way a card is shown (a tap, a
// typed number, a QR) gives one verdict; event desks check people in, shop desks answer "member
// in good standing, yes or no" and keep nothing personal.
//
// Exit status: 0 valid (or the command did its job), 1 any other verdict or a failure (reason
// on stderr), 2 wrong usage or configuration.

#define ZX_USE_UTF8
#include <unioncard/base/paths.hpp>
#include <unioncard/base/program.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/profile.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>
#if UNIONCARD_WITH_LIBNFC
#include <unioncard/card/nfc/libnfc.hpp>
#endif
#include <unioncard/verifier/desk.hpp>
#include <unioncard/verifier/verify.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <QImage>
#include <ZXing/ReadBarcode.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/resource.h>
#include <thread>

namespace {

using namespace unioncard;
using namespace unioncard::verifier;
using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kValid = 0;
constexpr int kNotValid = 1;
constexpr int kUsage = 2;

struct Globals {
    std::string db = "verifier.db";
    bool json = false;
    std::string asOf; ///< --as-of: judge the card's dates as of this day
};

int usage(const std::string& message) {
    std::cerr << "unioncard-verifier: " << message << "\n";
    return kUsage;
}

int failed(const std::string& message) {
    std::cerr << "unioncard-verifier: " << message << "\n";
    return kNotValid;
}

card::Seconds nowSeconds() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::optional<card::Bytes> parseFingerprintText(std::string text) {
    text.erase(std::remove(text.begin(), text.end(), ':'), text.end());
    auto bytes = card::fromHex(text);
    if (!bytes || bytes->size() != 32) {
        return std::nullopt;
    }
    return bytes;
}

// Everything a command needs from the desk's file.
struct Desk {
    explicit Desk(VerifierStore s) : store(std::move(s)) {}
    VerifierStore store;
    Mode mode = Mode::Event;
    std::string desk;
    card::Bytes pin;
    int retentionDays = 30;
    std::chrono::seconds maxStatusAge{std::chrono::hours(72)};
    std::optional<registry::RegistryClient> client;
    std::string clientProblem;
};

Result<Desk, std::string> openDesk(const Globals& g, bool wantClient) {
    using R = Result<Desk, std::string>;
    if (!fs::exists(g.db)) {
        return R(fail(fmt::format("{} does not exist: set this desk up first with "
                                  "'unioncard-verifier --db {} init ...'",
                                  g.db, g.db)));
    }
    auto store = VerifierStore::open(g.db);
    if (!store) {
        return R(fail(store.error().message));
    }
    Desk d(std::move(store).value());
    auto pin = d.store.setting("root_fingerprint");
    auto desk = d.store.setting("desk");
    if (!pin || !desk) {
        return R(fail(fmt::format("{} is not set up: run 'unioncard-verifier init'", g.db)));
    }
    d.pin = parseFingerprintText(*pin).value_or(card::Bytes{});
    d.desk = *desk;
    d.mode = parseMode(d.store.setting("mode").value_or("event")).value_or(Mode::Event);
    d.retentionDays = std::atoi(d.store.setting("retention_days").value_or("30").c_str());
    d.maxStatusAge = std::chrono::hours(
        std::atoi(d.store.setting("max_status_age_hours").value_or("72").c_str()));
    // Names last only as long as the events need them, whether or not this desk ever syncs.
    (void)d.store.purgeNames(localDate(nowSeconds()) - std::chrono::days(d.retentionDays));
    if (wantClient) {
        // The token is read from its own file (mode 0600) at each start, never stored here.
        auto config = registry::clientConfigFromSettings(
            [&](const std::string& k) { return d.store.setting(k); });
        if (!config) {
            d.clientProblem = "no registry is configured";
        } else {
            config->connectTimeout = std::chrono::milliseconds(1500);
            config->readTimeout = std::chrono::milliseconds(5000);
            auto client = registry::RegistryClient::create(std::move(*config));
            if (client) {
                d.client.emplace(std::move(client).value());
            } else {
                d.clientProblem = client.error().message;
            }
        }
    }
    return R(std::move(d));
}

std::string clock(card::Seconds at) {
    const std::time_t t = at.time_since_epoch().count();
    std::tm tm{};
    localtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min);
}

std::string ageText(card::Seconds since, card::Seconds now) {
    const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(now - since).count();
    if (minutes < 60) {
        return fmt::format("{} min", minutes);
    }
    if (minutes < 48 * 60) {
        return fmt::format("{} h {} min", minutes / 60, minutes % 60);
    }
    return fmt::format("{} days", minutes / (24 * 60));
}

// The context a verdict is made in: the lists held, and the registry when online.
struct Checker {
    Lists lists;
    Context context;
};

Checker makeChecker(const Globals& g, Desk& d, bool online) {
    Checker c;
    const auto now = nowSeconds();
    if (!g.asOf.empty()) {
        c.context.asOf = card::parseDate(g.asOf);
    }
    c.lists = loadLists(d.store, d.pin, now);
    c.context.now = now;
    c.context.maxStatusAge = d.maxStatusAge;
    if (online && d.client) {
        c.context.online = [&d](const card::CardNumber& number) {
            return d.client->lookup(number);
        };
    }
    return c;
}

void wire(Checker& c) {
    useLists(c.context, c.lists);
}

// What a verdict leads to at this desk, and how it is shown.
int present(const Globals& g, Desk& d, const Verdict& v, double ms,
            const std::optional<std::string>& discountAmount = std::nullopt) {
    json out = {{"verdict", toString(v.code)},       {"reason", v.reason},
                {"source", toString(v.source)},      {"status_check", toString(v.statusCheck)},
                {"masked_number", v.maskedNumber()}, {"desk", d.desk},
                {"mode", toString(d.mode)}};
    if (v.source == Source::Chip) {
        out["apdus"] = v.apdus;
    }
    if (v.chipNotChecked) {
        out["chip_not_checked"] = true;
    }
    if (ms >= 0) {
        out["milliseconds"] = ms;
    }
    bool refusedEntry = false; // a repeat check-in under the event's rule
    std::string text = fmt::format("{}  {}\n  {}\n", v.valid() ? "VALID" : "NOT VALID",
                                   toString(v.code), v.reason);
    if (!g.asOf.empty()) {
        // Judged as of another day: say so, and neither check in nor record a discount.
        out["as_of"] = g.asOf;
        text = fmt::format("{} AS OF {}  {}\n  {}\n", v.valid() ? "VALID" : "NOT VALID", g.asOf,
                           toString(v.code), v.reason);
    }
    if (v.chipNotChecked) {
        text += "  CHIP NOT CHECKED: compare the face and name with the person\n";
    }
    if (!v.maskedNumber().empty()) {
        text += fmt::format("  card {}\n", v.maskedNumber());
    }
    if (d.mode == Mode::Event) {
        if (v.number) {
            out["card_number"] = v.number->digits();
        }
        if (v.record) {
            out["expires"] = card::formatDate(v.record->expires);
            out["region"] = v.record->region;
        }
        auto active = d.store.setting("active_event");
        if (v.valid() && active && v.number && g.asOf.empty()) {
            auto event = d.store.event(*active);
            if (event && *event) {
                auto a = admit(d.store, **event, *v.number, d.desk, nowSeconds());
                if (!a) {
                    return failed(a.error().message);
                }
                json checkIn = {
                    {"event_id", (*event)->id}, {"admitted", a->admitted}, {"message", a->message}};
                if (a->name) {
                    checkIn["name"] = *a->name;
                }
                if (a->earlier) {
                    checkIn["earlier_at"] = registry::api::formatTime(a->earlier->at);
                    checkIn["earlier_desk"] = a->earlier->desk;
                }
                out["check_in"] = checkIn;
                refusedEntry = !a->admitted;
                text += fmt::format("  {}: {}{}\n", (*event)->name, a->message,
                                    a->name ? " (" + *a->name + ")" : std::string());
            }
        }
    } else if (discountAmount && v.valid() && g.asOf.empty()) {
        // Merchant: the programme's report needs the amount; the card stays masked.
        const double amount = std::atof(discountAmount->c_str());
        if (amount <= 0 || amount > 1e7) {
            return usage("--discount takes a positive amount in roubles, like 150.50");
        }
        Discount disc{v.maskedNumber(), static_cast<std::int64_t>(amount * 100 + 0.5),
                      nowSeconds()};
        if (auto e = d.store.addDiscount(disc)) {
            return failed(e->message);
        }
        out["discount_minor"] = disc.amountMinor;
        text += fmt::format("  discount of {:.2f} recorded\n", amount);
    }
    if (g.json) {
        std::cout << out.dump() << std::endl;
    } else {
        std::cout << text << std::flush;
    }
    // A repeat check-in is not an entry: a gate that keys on the exit status stays shut.
    return v.valid() && !refusedEntry ? kValid : kNotValid;
}

int initCommand(const Globals& g, std::map<std::string, std::string> settings) {
    auto store = VerifierStore::open(g.db);
    if (!store) {
        return failed(store.error().message);
    }
    const auto given = [&](const std::string& key) {
        return !settings[key].empty();
    };
    // A key file named is what the desk reads with, whatever store it had before.
    if (given("card_keys") && !given("card_keys_store")) {
        settings["card_keys_store"] = "file";
    }
    if (settings["card_keys_store"] == "pkcs11") {
        for (const char* key : {"pkcs11_module", "token_label"}) {
            if (!given(key) && !store->setting(key)) {
                return usage("--card-keys-store pkcs11 needs --pkcs11-module FILE and "
                             "--token-label LABEL");
            }
        }
    }
    for (const auto& [key, value] : settings) {
        if (!value.empty()) {
            if (auto e = store->setSetting(key, value)) {
                return failed(e->message);
            }
        }
    }
    std::cout << fmt::format("desk '{}' set up in {} ({} mode); now run 'unioncard-verifier "
                             "sync'\n",
                             settings.at("desk"), g.db, settings.at("mode"));
    return kValid;
}

int syncCommand(const Globals& g) {
    auto d = openDesk(g, true);
    if (!d) {
        return usage(d.error());
    }
    if (!d->client) {
        return failed("cannot sync: " + d->clientProblem);
    }
    const auto report = sync(d->store, *d->client, d->pin, nowSeconds(), d->retentionDays);
    json out = {{"delivered", report.delivered},
                {"waiting", report.waiting},
                {"check_ins_fetched", report.checkInsFetched},
                {"names_purged", report.namesPurged},
                {"problems", report.problems}};
    if (report.trustSequence) {
        out["trust_list_sequence"] = *report.trustSequence;
    }
    if (report.statusVersion) {
        out["status_list_version"] = *report.statusVersion;
        out["status_list_delta"] = report.statusWasDelta;
    }
    if (g.json) {
        std::cout << out.dump() << std::endl;
    } else {
        std::cout << fmt::format(
            "sent {} check-in(s), {} waiting; trust list {}; status list "
            "{}{}; {} check-in(s) from other desks; {} name(s) purged\n",
            report.delivered, report.waiting,
            report.trustSequence ? std::to_string(*report.trustSequence) : "not updated",
            report.statusVersion ? std::to_string(*report.statusVersion) : "not updated",
            report.statusWasDelta ? " (delta)" : "", report.checkInsFetched, report.namesPurged);
        for (const auto& p : report.problems) {
            std::cout << "  problem: " << p << "\n";
        }
    }
    return report.problems.empty() ? kValid : kNotValid;
}

std::optional<card::Bytes> readBinary(const fs::path& file, std::size_t limit) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    card::Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() > limit) {
        return std::nullopt;
    }
    return bytes;
}

// Lists carried on a stick to a desk that is never online (or to set one up before an event).
int importCommand(const Globals& g, const std::string& trustFile, const std::string& statusFile) {
    auto d = openDesk(g, false);
    if (!d) {
        return usage(d.error());
    }
    const auto now = nowSeconds();
    if (!trustFile.empty()) {
        auto bytes = readBinary(trustFile, card::TrustList::kMaxSize);
        if (!bytes) {
            return failed(fmt::format("cannot read {} (or it is too large)", trustFile));
        }
        auto sequence = acceptTrustList(d->store, *bytes, d->pin, now);
        if (!sequence) {
            return failed(trustFile + ": " + sequence.error());
        }
        std::cout << fmt::format("trust list {} taken\n", sequence.value());
    }
    if (!statusFile.empty()) {
        auto bytes = readBinary(statusFile, registry::kMaxStatusListSize);
        if (!bytes) {
            return failed(fmt::format("cannot read {} (or it is too large)", statusFile));
        }
        auto version = acceptStatusList(d->store, *bytes, d->pin, now);
        if (!version) {
            return failed(statusFile + ": " + version.error());
        }
        std::cout << fmt::format("status list {} taken\n", version.value());
    }
    return kValid;
}

int statusCommand(const Globals& g, bool prometheus) {
    auto d = openDesk(g, false);
    if (!d) {
        return usage(d.error());
    }
    const auto now = nowSeconds();
    const Lists lists = loadLists(d->store, d->pin, now);
    // Fresh as of the later of its issue and the registry's last word that it is the newest.
    const auto stale = [&] {
        if (lists.statusStaleAt)
            return true; // the registry said it cannot publish its current state
        const auto confirmed =
            std::max(lists.status->issuedAt(), lists.statusConfirmedAt.value_or(card::Seconds{}));
        return now - confirmed > d->maxStatusAge;
    };
    json out = {{"desk", d->desk}, {"mode", toString(d->mode)}, {"problems", lists.problems}};
    std::string text = fmt::format("desk {} ({} mode)\n", d->desk, toString(d->mode));
    if (lists.trust) {
        out["trust_list"] = {{"sequence", lists.trust->sequence()},
                             {"stations", lists.trust->stations().size()},
                             {"age_seconds", (now - *lists.trustFetchedAt).count()}};
        text += fmt::format("  trust list   {} ({} stations), fetched {} ago\n",
                            lists.trust->sequence(), lists.trust->stations().size(),
                            ageText(*lists.trustFetchedAt, now));
    } else {
        text += "  trust list   none: run sync while online\n";
    }
    if (lists.status) {
        const auto age = now - lists.status->issuedAt();
        out["status_list"] = {{"version", lists.status->version()},
                              {"issued_at", registry::api::formatTime(lists.status->issuedAt())},
                              {"age_seconds", age.count()},
                              {"stale", stale()}};
        text += fmt::format("  status list  version {}, made {} ago{}\n", lists.status->version(),
                            ageText(lists.status->issuedAt(), now),
                            lists.statusStaleAt ? ": the registry cannot publish a current list, "
                                                  "offline answers are 'cannot confirm'"
                            : stale()           ? ": TOO OLD, offline answers are 'cannot confirm'"
                                                : "");
    } else {
        text += "  status list  none: offline answers are 'cannot confirm'\n";
    }
    // A clock behind a time the union has already signed was set back: nothing is checked.
    const bool clockBehind =
        lists.clockHighWater && now + registry::kStatusClockSkew < *lists.clockHighWater;
    if (lists.clockHighWater) {
        out["clock_high_water"] = registry::api::formatTime(*lists.clockHighWater);
        out["clock_set_back"] = clockBehind;
        if (clockBehind) {
            text += fmt::format("  clock        SET BACK: it reads {}, before {} (a list's "
                                "signing); set the date and time right, no card is checked "
                                "until then\n",
                                registry::api::formatTime(now),
                                registry::api::formatTime(*lists.clockHighWater));
        }
    }
    if (auto outbox = d->store.outbox().status()) {
        out["outbox_waiting"] = outbox->waiting;
        text += fmt::format("  outbox       {} waiting\n", outbox->waiting);
    }
    if (auto active = d->store.setting("active_event")) {
        out["active_event"] = *active;
        text += fmt::format("  event        {}\n", *active);
    }
    for (const auto& p : lists.problems) {
        text += "  problem: " + p + "\n";
    }
    // Ready means able to answer offline: both lists held, the status list fresh enough.
    const bool ready =
        lists.problems.empty() && lists.trust && lists.status && !stale() && !clockBehind;
    if (prometheus) {
        // For node_exporter's textfile collector: the outbox and the lists' ages, nothing else.
        std::vector<registry::Gauge> more{
            {"ready", "1 when the desk can answer offline (both lists held, fresh enough)",
             ready ? 1.0 : 0.0}};
        if (lists.trust)
            more.push_back({"trust_list_age_seconds", "Seconds since the trust list was fetched",
                            static_cast<double>((now - *lists.trustFetchedAt).count())});
        if (lists.status)
            more.push_back({"status_list_age_seconds", "Seconds since the status list was made",
                            static_cast<double>((now - lists.status->issuedAt()).count())});
        auto outbox = d->store.outbox().status();
        if (!outbox)
            return failed(outbox.error().message);
        std::cout << registry::outboxMetrics(outbox.value(), "unioncard_verifier",
                                             std::chrono::system_clock::now(), more);
    } else if (g.json) {
        std::cout << out.dump() << std::endl;
    } else {
        std::cout << text;
    }
    return ready ? kValid : kNotValid;
}

int checkCommand(const Globals& g, const std::string& number, bool offline,
                 const std::optional<std::string>& discount) {
    auto d = openDesk(g, !offline);
    if (!d) {
        return usage(d.error());
    }
    Checker c = makeChecker(g, d.value(), !offline);
    wire(c);
    const auto start = std::chrono::steady_clock::now();
    const Verdict v = verifyNumber(number, c.context);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return present(g, d.value(), v, ms, discount);
}

// A QR's text from an image file (a camera frame, a screenshot), through zxing-cpp.
Result<std::string, std::string> decodeImage(const fs::path& file) {
    using R = Result<std::string, std::string>;
    QImage image(QString::fromStdString(file.string()));
    if (image.isNull()) {
        return R(fail(fmt::format("{} is not an image this program can read", file.string())));
    }
    image = image.convertToFormat(QImage::Format_Grayscale8);
    ZXing::DecodeHints hints;
    hints.setFormats(ZXing::BarcodeFormat::QRCode);
    hints.setTryHarder(true);
    const ZXing::ImageView view(image.constBits(), image.width(), image.height(),
                                ZXing::ImageFormat::Lum, static_cast<int>(image.bytesPerLine()));
    const auto result = ZXing::ReadBarcode(view, hints);
    if (!result.isValid()) {
        return R(fail(fmt::format("no QR code found in {}", file.string())));
    }
    return R(result.text());
}

int scanCommand(const Globals& g, const std::string& input, bool offline) {
    auto d = openDesk(g, !offline);
    if (!d) {
        return usage(d.error());
    }
    std::string text = input;
    std::error_code ec;
    if (!input.starts_with("UC1:") && fs::is_regular_file(input, ec)) {
        auto decoded = decodeImage(input);
        if (!decoded) {
            return failed(decoded.error());
        }
        text = decoded.value();
    }
    Checker c = makeChecker(g, d.value(), !offline);
    wire(c);
    const auto start = std::chrono::steady_clock::now();
    const Verdict v = verifyText(text, c.context);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return present(g, d.value(), v, ms);
}

double cpuMilliseconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
           (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// A libnfc connection string ("pn532_uart:/dev/ttyUSB0", "pn53x_usb:002:004") names a PN53x
// reader driven through libnfc; any other name is a PC/SC reader (as for `unioncard card`).
bool isLibnfcConnstring(std::string_view name) {
    return name.rfind("pn53", 0) == 0 && name.find(':') != std::string_view::npos;
}

// libnfc has no card events: the field is polled every 100 ms; a card counts once until it
// leaves. The UID comes from anticollision, so no exchange is spent on it.
template <class VerdictOn>
int watchLibnfc(const std::string& reader, bool once, int timeoutSeconds, bool json,
                VerdictOn& verdictOn) {
#if UNIONCARD_WITH_LIBNFC
    auto nfcContext = card::nfc::NfcContext::init();
    if (!nfcContext) {
        return failed(nfcContext.error().message);
    }
    auto device = nfcContext->open(reader);
    if (!device) {
        return failed(device.error().message);
    }
    if (!json) {
        std::cout << fmt::format("watching {}: tap a card (Ctrl-C to stop)\n", reader)
                  << std::flush;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    std::optional<card::Bytes> last;
    for (;;) {
        if (timeoutSeconds > 0 && std::chrono::steady_clock::now() > deadline) {
            return failed("no card was tapped in time");
        }
        // A select each time: listing targets would leave a card halted (ISO/IEC 14443-3),
        // so that the select after it finds nothing.
        const auto start = std::chrono::steady_clock::now();
        auto connection = device->connect();
        if (!connection) {
            last.reset(); // nothing in the field (or not a card we can talk to)
        } else if (auto uid = card::nfc::readUid(**connection); uid && uid.value() != last) {
            last = uid.value();
            const int status = verdictOn(**connection, last, 0, start);
            if (once) {
                return status;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
#else
    (void)reader, (void)once, (void)timeoutSeconds, (void)json, (void)verdictOn;
    return usage("this build has no libnfc support (UNIONCARD_WITH_LIBNFC is off)");
#endif
}

int watchCommand(const Globals& g, const std::string& reader, bool once, bool offline,
                 int timeoutSeconds) {
    auto d = openDesk(g, !offline);
    if (!d) {
        return usage(d.error());
    }
    auto keys = openCardKeys([&](const std::string& k) { return d->store.setting(k); });
    if (!keys) {
        return usage(keys.error());
    }
    auto profile = card::desfire::loadProfile(d->store.setting("profile").value_or(
        (base::firmwareConfigDir() / "cards" / "union-desfire.toml").string()));
    if (!profile) {
        return usage(profile.error());
    }
    // One tap: the card's verdict on this connection, shown.
    auto verdictOn = [&](card::CardConnection& connection, std::optional<card::Bytes> uid,
                         std::size_t readerExchanges, std::chrono::steady_clock::time_point start) {
        const double cpuStart = cpuMilliseconds();
        Checker c = makeChecker(g, d.value(), !offline);
        wire(c);
        card::desfire::Desfire card(connection);
        Verdict v = verifyChip(card, *profile, **keys, uid, c.context);
        v.apdus += readerExchanges;
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        if (std::getenv("UNIONCARD_VERIFIER_TRACE_CPU") != nullptr) {
            std::cerr << fmt::format("cpu_ms {:.3f}\n", cpuMilliseconds() - cpuStart);
        }
        return present(g, d.value(), v, ms);
    };
    if (isLibnfcConnstring(reader)) {
        return watchLibnfc(reader, once, timeoutSeconds, g.json, verdictOn);
    }

    auto context = card::pcsc::PcscContext::establish();
    if (!context) {
        return failed("the smart-card service: " + context.error().message);
    }
    auto watcher = card::pcsc::ReaderWatcher::create();
    if (!watcher) {
        return failed("the smart-card service: " + watcher.error().message);
    }
    auto found = card::pcsc::findReader(*context, reader);
    if (!found) {
        return failed(found.error().message);
    }
    const std::string name = found.value();
    if (!g.json) {
        std::cout << fmt::format("watching {}: tap a card (Ctrl-C to stop)\n", name) << std::flush;
    }
    // A card already on the reader counts as a tap.
    bool cardHere = false;
    for (const auto& s : (*watcher)->readers()) {
        cardHere = cardHere || (s.reader == name && s.cardPresent);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    for (;;) {
        if (!cardHere) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (timeoutSeconds > 0 && left.count() <= 0) {
                return failed("no card was tapped in time");
            }
            auto events = (*watcher)->wait(
                timeoutSeconds > 0 ? std::optional<std::chrono::milliseconds>(left) : std::nullopt);
            if (!events) {
                return failed(events.error().message);
            }
            for (const auto& e : *events) {
                if (e.reader == name && e.kind == card::pcsc::ReaderEvent::Kind::CardInserted) {
                    cardHere = true;
                }
            }
            if (!cardHere) {
                continue;
            }
        }
        cardHere = false;
        const auto start = std::chrono::steady_clock::now();
        auto connection = context->connect(name);
        int status;
        if (!connection) {
            Verdict v;
            v.code = VerdictCode::Unreadable;
            v.reason = "the card could not be read (" + connection.error().message +
                       "): hold it still on the reader and try again";
            status = present(g, d.value(), v, -1);
        } else {
            // The UID from the reader (PC/SC part 3 GET DATA): one exchange with the reader,
            // none with the card, and three fewer than asking the card.
            auto uid = card::pcsc::readUid(**connection);
            status =
                verdictOn(**connection,
                          uid ? std::optional<card::Bytes>(uid.value()) : std::nullopt, 1, start);
        }
        if (once) {
            return status;
        }
    }
}

int eventCreate(const Globals& g, const EventInfo& e, const std::string& ends) {
    auto d = openDesk(g, false);
    if (!d) {
        return usage(d.error());
    }
    EventInfo event = e;
    // Without --ends the event is today's: names must not outlive an event with no end.
    event.endsOn = ends.empty() ? std::optional(localDate(nowSeconds())) : card::parseDate(ends);
    if (!event.endsOn) {
        return usage("--ends takes a date like 2026-12-01");
    }
    if (auto e2 = d->store.putEvent(event)) {
        return failed(e2->message);
    }
    if (auto e2 = d->store.setSetting("active_event", event.id)) {
        return failed(e2->message);
    }
    std::cout << fmt::format("event '{}' ({}, check-in {}) is now this desk's event\n", event.id,
                             event.name, toString(event.rule));
    return kValid;
}

int eventUse(const Globals& g, const std::string& id) {
    auto d = openDesk(g, false);
    if (!d) {
        return usage(d.error());
    }
    auto event = d->store.event(id);
    if (!event || !*event) {
        return failed(
            fmt::format("this desk has no event '{}': create it with 'event create'", id));
    }
    if (auto e = d->store.setSetting("active_event", id)) {
        return failed(e->message);
    }
    std::cout << fmt::format("event '{}' is now this desk's event\n", id);
    return kValid;
}

int eventParticipants(const Globals& g, const fs::path& file) {
    auto d = openDesk(g, false);
    if (!d) {
        return usage(d.error());
    }
    if (d->mode == Mode::Merchant) {
        return usage("a merchant desk keeps no names");
    }
    auto active = d->store.setting("active_event");
    if (!active) {
        return usage("choose the event first: 'event use ID'");
    }
    std::ifstream in(file);
    if (!in) {
        return failed(fmt::format("cannot read {}", file.string()));
    }
    // card_number;full_name per line (',' or ';'), an optional header line.
    std::vector<std::pair<card::CardNumber, std::string>> people;
    std::string line;
    int lineNo = 0;
    std::vector<std::string> errors;
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty() || (lineNo == 1 && line.find_first_of("0123456789") > 4)) {
            continue; // blank, or the header
        }
        const auto sep = line.find_first_of(";,");
        if (sep == std::string::npos) {
            errors.push_back(fmt::format("line {}: expected 'card number;full name'", lineNo));
            continue;
        }
        auto number = card::CardNumber::parse(line.substr(0, sep));
        if (!number) {
            errors.push_back(fmt::format("line {}: {}", lineNo, number.error().message));
            continue;
        }
        people.emplace_back(number.value(), line.substr(sep + 1));
    }
    if (!errors.empty()) {
        for (const auto& e : errors) {
            std::cerr << "unioncard-verifier: " << file.string() << " " << e << "\n";
        }
        return failed("nothing imported: fix the lines above");
    }
    if (auto e = d->store.setParticipants(*active, people)) {
        return failed(e->message);
    }
    std::cout << fmt::format("{} participant(s) for event '{}'\n", people.size(), *active);
    return kValid;
}

int eventReport(const Globals& g, const std::string& idOption, const std::string& exportFile) {
    auto d = openDesk(g, false);
    if (!d) {
        return usage(d.error());
    }
    const std::string id =
        idOption.empty() ? d->store.setting("active_event").value_or("") : idOption;
    auto event = d->store.event(id);
    if (!event || !*event) {
        return usage(fmt::format("no event '{}' on this desk", id));
    }
    auto report = attendance(d->store, **event);
    if (!report) {
        return failed(report.error().message);
    }
    auto item = [](const registry::CheckIn& c) {
        return json{{"card_number", c.cardNumber},
                    {"desk", c.desk},
                    {"at", registry::api::formatTime(c.at)},
                    {"nonce", c.nonce}};
    };
    if (!exportFile.empty()) {
        std::ofstream out(exportFile + ".part");
        out << "card_number,desk,at,counted\n";
        for (const auto* list : {&report->counted, &report->duplicates}) {
            for (const auto& c : *list) {
                out << fmt::format("{},{},{},{}\n", c.cardNumber, c.desk,
                                   registry::api::formatTime(c.at),
                                   list == &report->counted ? "yes" : "duplicate");
            }
        }
        out.close();
        if (!out || std::rename((exportFile + ".part").c_str(), exportFile.c_str()) != 0) {
            return failed(fmt::format("cannot write {}", exportFile));
        }
    }
    if (g.json) {
        json counted = json::array(), duplicates = json::array();
        for (const auto& c : report->counted) {
            counted.push_back(item(c));
        }
        for (const auto& c : report->duplicates) {
            duplicates.push_back(item(c));
        }
        std::cout << json{{"event_id", id},
                          {"counted", report->counted.size()},
                          {"duplicates", report->duplicates.size()},
                          {"check_ins", counted},
                          {"duplicate_check_ins", duplicates}}
                         .dump()
                  << std::endl;
    } else {
        std::cout << fmt::format("{} ({}): {} attended, {} repeat check-in(s)\n", (*event)->name,
                                 id, report->counted.size(), report->duplicates.size());
        for (const auto& c : report->duplicates) {
            std::cout << fmt::format("  repeat: card {} at {} at {}\n", c.cardNumber, clock(c.at),
                                     c.desk);
        }
    }
    return kValid;
}

int merchantReport(const Globals& g) {
    auto d = openDesk(g, false);
    if (!d) {
        return usage(d.error());
    }
    auto list = d->store.discounts();
    if (!list) {
        return failed(list.error().message);
    }
    std::int64_t total = 0;
    json items = json::array();
    for (const auto& x : *list) {
        total += x.amountMinor;
        items.push_back({{"masked_number", x.maskedNumber},
                         {"amount_minor", x.amountMinor},
                         {"at", registry::api::formatTime(x.at)}});
    }
    if (g.json) {
        std::cout << json{{"discounts", items}, {"total_minor", total}}.dump() << std::endl;
    } else {
        std::cout << fmt::format("{} discount(s), {}.{:02} in all\n", list->size(), total / 100,
                                 total % 100);
    }
    return kValid;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"unioncard-verifier: check union cards at an event desk or a partner shop.\n"
                 "Exit status: 0 valid (or done), 1 not valid or failed (reason given), 2 wrong "
                 "usage or setup."};
    base::conventions(app, "unioncard-verifier", {"verifier.toml", {}, "kiosk", {"init"}});
    app.require_subcommand(1);
    app.fallthrough(); // --json, --db and --as-of may also follow the command
    Globals g;
    app.add_option("--db", g.db, "this desk's database file")
        ->envname("UNIONCARD_VERIFIER_DB")
        ->capture_default_str();
    app.add_flag("--json", g.json, "one JSON object per answer, for scripts");
    app.add_option("--as-of", g.asOf,
                   "judge the card's dates as of this day (YYYY-MM-DD), e.g. an event's date")
        ->check([](const std::string& text) {
            return card::parseDate(text) ? std::string() : "a date like 2027-05-01";
        });
    int status = kValid;

    std::map<std::string, std::string> settings{
        {"mode", "event"}, {"retention_days", "30"}, {"max_status_age_hours", "72"}};
    std::string rootCert;
    auto* init = app.add_subcommand("init", "set up this desk");
    init->add_option("--desk", settings["desk"], "this desk's name, shown to other desks")
        ->required();
    init->add_option("--mode", settings["mode"], "event or merchant")
        ->check(CLI::IsMember({"event", "merchant"}))
        ->capture_default_str();
    init->add_option("--registry", settings["registry_url"], "https://HOST:PORT of the registry");
    init->add_option("--ca", settings["ca_file"], "CA file the registry's certificate chains to");
    init->add_option("--token-file", settings["token_file"],
                     "file holding this device's bearer token (keep it mode 0600)");
    init->add_option("--client-cert", settings["client_cert"], "device certificate (mutual TLS)");
    init->add_option("--client-key", settings["client_key"], "its key");
    init->add_option("--root-fingerprint", settings["root_fingerprint"],
                     "SHA-256 fingerprint of the union root (hex, ':' allowed)");
    init->add_option("--root-cert", rootCert, "or the union root certificate itself");
    init->add_option("--card-keys", settings["card_keys"],
                     "card key file with the record-read role (passphrase in "
                     "UNIONCARD_CARD_KEYS_PASSPHRASE)");
    init->add_option("--card-keys-store", settings["card_keys_store"],
                     "file (default) or pkcs11: the record-read master on a token, which makes "
                     "each card's key inside it (PIN in UNIONCARD_TOKEN_PIN)")
        ->check(CLI::IsMember({"file", "pkcs11"}));
    init->add_option("--pkcs11-module", settings["pkcs11_module"], "pkcs11: the module library");
    init->add_option("--token-label", settings["token_label"], "pkcs11: the token's label");
    init->add_option("--profile", settings["profile"], "card profile (TOML)");
    init->add_option("--retention-days", settings["retention_days"],
                     "days names are kept after an event ends")
        ->check(CLI::Range(0, 3650))
        ->capture_default_str();
    init->add_option("--qr", settings["qr"],
                     "a card's QR without its chip: accept (marked 'chip not checked'), the "
                     "default, or refuse; a desk set up again without it keeps its choice")
        ->check(CLI::IsMember({"accept", "refuse"}));
    init->add_option("--max-status-age", settings["max_status_age_hours"],
                     "hours a status list may be old and still answer offline")
        ->check(CLI::Range(1, 24 * 60))
        ->capture_default_str();
    init->callback([&] {
        if (!rootCert.empty()) {
            auto cert = card::Certificate::load(rootCert);
            if (!cert) {
                status = usage("--root-cert: " + cert.error().message);
                return;
            }
            settings["root_fingerprint"] = card::toHex(cert->fingerprint());
        }
        if (!parseFingerprintText(settings["root_fingerprint"])) {
            status = usage("give the union root as --root-cert FILE or --root-fingerprint HEX");
            return;
        }
        if (settings["registry_url"].empty() && !settings["token_file"].empty()) {
            status = usage("--token-file needs --registry");
            return;
        }
        status = initCommand(g, settings);
    });

    app.add_subcommand("sync", "exchange with the registry: check-ins out; lists and other "
                               "desks' check-ins in")
        ->callback([&] { status = syncCommand(g); });
    std::string trustFile, statusFile;
    auto* importCmd = app.add_subcommand("import-lists", "take a trust list and a status list from "
                                                         "files (a desk that is never online)");
    importCmd->add_option("--trust-list", trustFile,
                          "signed trust list (unioncard trust-list build)");
    importCmd->add_option("--status-list", statusFile, "signed status list (GET /v1/status-list)");
    importCmd->callback([&] {
        status = trustFile.empty() && statusFile.empty()
                     ? usage("give --trust-list, --status-list or both")
                     : importCommand(g, trustFile, statusFile);
    });
    bool prometheus = false;
    auto* statusCmd =
        app.add_subcommand("status", "the age of the trust list and status list, the outbox");
    statusCmd->add_flag("--prometheus", prometheus,
                        "the figures in Prometheus' text format (node_exporter's textfile "
                        "collector)");
    statusCmd->callback([&] { status = statusCommand(g, prometheus); });

    std::string number;
    bool offline = false;
    std::string discount;
    auto* check = app.add_subcommand("check", "check a typed card number");
    check->add_option("NUMBER", number, "16 digits, spaces allowed")->required();
    check->add_flag("--offline", offline, "do not ask the registry");
    check->add_option("--discount", discount, "merchant: record a discount of this amount");
    check->callback([&] {
        status = checkCommand(g, number, offline,
                              discount.empty() ? std::nullopt : std::optional(discount));
    });

    std::string qr;
    auto* scan = app.add_subcommand("scan-qr", "check a union QR, as text or in an image file");
    scan->add_option("INPUT", qr, "the text (UC1:...) or an image file")->required();
    scan->add_flag("--offline", offline, "do not ask the registry");
    scan->callback([&] { status = scanCommand(g, qr, offline); });

    std::string reader;
    bool once = false;
    int timeout = 0;
    auto* watch = app.add_subcommand("watch", "give a verdict for each card tapped on a reader");
    watch->add_option("--reader", reader, "the reader's name (or the start of it)")->required();
    watch->add_flag("--once", once, "stop after the first card");
    watch->add_flag("--offline", offline, "do not ask the registry");
    watch->add_option("--timeout", timeout, "give up after this many seconds without a card");
    watch->callback([&] { status = watchCommand(g, reader, once, offline, timeout); });

    auto* event = app.add_subcommand("event", "events and their check-ins");
    event->require_subcommand(1);
    EventInfo newEvent;
    std::string rule = "once", ends;
    auto* create = event->add_subcommand("create", "create an event on this desk and use it");
    create->add_option("--id", newEvent.id, "the event's id: the same on every desk")->required();
    create->add_option("--name", newEvent.name, "its name")->required();
    create->add_option("--rule", rule, "once, daily or any")
        ->check(CLI::IsMember({"once", "daily", "any"}))
        ->capture_default_str();
    create->add_option("--ends", ends, "last day (names are purged after it plus retention)");
    create->callback([&] {
        newEvent.rule = *parseCheckInRule(rule);
        status = eventCreate(g, newEvent, ends);
    });
    std::string eventId;
    auto* use = event->add_subcommand("use", "make an event this desk's event");
    use->add_option("ID", eventId)->required();
    use->callback([&] { status = eventUse(g, eventId); });
    std::string participants;
    auto* people = event->add_subcommand("participants", "load the event's participant list");
    people->add_option("FILE", participants, "CSV: card_number;full_name")->required();
    people->callback([&] { status = eventParticipants(g, participants); });
    std::string exportFile;
    auto* report = event->add_subcommand("report", "attendance, merged across desks");
    report->add_option("--id", eventId, "the event (default: this desk's)");
    report->add_option("--export", exportFile, "also write the attendance as CSV");
    report->callback([&] { status = eventReport(g, eventId, exportFile); });

    auto* merchant = app.add_subcommand("merchant", "the partner programme");
    merchant->require_subcommand(1);
    merchant->add_subcommand("report", "discounts recorded at this desk")->callback([&] {
        status = merchantReport(g);
    });

    if (const auto exit = base::parseCommandLine(app, argc, argv))
        return *exit;
    return status;
}
