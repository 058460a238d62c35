// SPDX-License-Identifier: Apache-2.0
// unioncard-station: the issuing station on a command line. Applications in (from the registry
// or a file), cards out of the printer, statuses back to the registry at once.
//
// Exit status: 0 done, 1 failed or refused (reason on stderr), 2 wrong usage or setup.
// Secrets come from the environment, never from options: UNIONCARD_STATION_PASSPHRASE (the
// station's key), UNIONCARD_CARD_KEYS_PASSPHRASE (the card master keys), UNIONCARD_OPERATOR_PIN
// (the signed-in operator's PIN), UNIONCARD_NEW_OPERATOR_PIN (for `operator add`).

#include <unioncard/base/paths.hpp>
#include <unioncard/base/program.hpp>
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>
#include <unioncard/printer/evolis.hpp>
#include <unioncard/printer/layout.hpp>
#include <unioncard/printer/printer_profile.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/client.hpp>
#include <unioncard/registry/csv_exchange.hpp>
#include <unioncard/station/issuer.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <QGuiApplication>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <sys/file.h>
#include <unistd.h>

namespace {

using namespace unioncard;
using namespace unioncard::station;
using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct Globals {
    std::string db = "station.db";
    bool json = false;
    std::string operatorId;
    std::string secondOperatorId; ///< the second supervisor of a two-person act
};

int usage(const std::string& m) {
    std::cerr << "unioncard-station: " << m << "\n";
    return kUsage;
}
int failed(const std::string& m) {
    std::cerr << "unioncard-station: " << m << "\n";
    return kFailed;
}

card::Seconds now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string firmwareConfig() {
    return base::firmwareConfigDir().string();
}

// The station: its file, its key (for the audit log and records), the signed-in operator.
struct Session {
    explicit Session(StationStore s) : store(std::move(s)) {}
    StationStore store;
    std::string stationId;
    std::unique_ptr<KeyStore> keys; ///< the station key and card master keys, once unlocked
    Operator who;
};

using Setting = SettingLookup;

// The trust list the station checks its own chips with, pinned to the union root.
Result<card::TrustList, std::string> loadTrust(const Setting& setting) {
    using R = Result<card::TrustList, std::string>;
    std::ifstream in(setting("trust_list").value_or(""), std::ios::binary);
    const card::Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto pin = card::fromHex(setting("root_fingerprint").value_or(""));
    if (!pin || pin->size() != 32) {
        return R(fail(std::string("the union root's fingerprint is not set: run init")));
    }
    auto trust = card::TrustList::load(bytes, pin);
    if (!trust) {
        return R(fail("the trust list: " + trust.error()));
    }
    return R(std::move(trust).value());
}

// A station certificate the union root issued for this station's id, for record signing.
std::optional<std::string> checkStationCertificate(const card::Certificate& cert,
                                                   const card::TrustList& trust,
                                                   const std::string& stationId) {
    if (cert.commonName() != stationId) {
        return fmt::format("the station key is certified for '{}', not '{}'", cert.commonName(),
                           stationId);
    }
    auto chains = cert.chainsTo(trust.root(), cert.notBefore());
    if (!cert.isRecordSigner() || !chains || !chains.value()) {
        return std::string("the station's certificate was not issued by the union root for "
                           "signing card records");
    }
    return std::nullopt;
}

// The station's keys from the backend its settings name: encrypted files (the station key's
// folder, the card master key file) or a PKCS#11 token (docs/key-store.md).
Result<std::unique_ptr<KeyStore>, std::string> openKeyStore(const Setting& setting) {
    return openConfiguredKeyStore(setting);
}

Result<Session, std::string> openSession(const Globals& g, bool needKey,
                                         std::optional<Role> atLeast) {
    using R = Result<Session, std::string>;
    if (!fs::exists(g.db)) {
        return R(fail(fmt::format("{} does not exist: set the station up with 'unioncard-station "
                                  "--db {} init ...'",
                                  g.db, g.db)));
    }
    auto store = StationStore::open(g.db);
    if (!store) {
        return R(fail(store.error().message));
    }
    Session s(std::move(store).value());
    s.stationId = s.store.setting("station_id").value_or("");
    if (needKey) {
        auto keys = openKeyStore([&](const std::string& k) { return s.store.setting(k); });
        if (!keys) {
            return R(fail(keys.error()));
        }
        s.keys = std::move(keys).value();
        const KeyStore* store = s.keys.get(); // on the heap: outlives moves of the session
        s.store.setAuditSigner(
            [store](std::span<const std::uint8_t> m) { return store->signingKey().signRaw(m); },
            s.stationId);
    }
    if (atLeast) {
        if (g.operatorId.empty()) {
            return R(fail(std::string("sign in: give --operator ID (PIN in "
                                      "UNIONCARD_OPERATOR_PIN)")));
        }
        const auto pin = base::secret("operator-pin", {"UNIONCARD_OPERATOR_PIN"});
        auto who = s.store.signIn(g.operatorId, pin.value_or(""));
        if (!who) {
            return R(fail(who.error().message));
        }
        const auto rank = [](Role r) {
            return r == Role::Supervisor ? 2 : r == Role::Operator ? 1 : 0;
        };
        if (*atLeast == Role::Auditor ? false : rank(who->role) < rank(*atLeast)) {
            return R(fail(fmt::format("{} is {}: this needs a {}", who->id, toString(who->role),
                                      toString(*atLeast))));
        }
        s.who = who.value();
    }
    return R(std::move(s));
}

std::optional<registry::RegistryClient> registryClient(Session& s, std::string& problem) {
    auto config = registry::clientConfigFromSettings(
        [&](const std::string& k) { return s.store.setting(k); });
    if (!config) {
        problem = "no registry is configured";
        return std::nullopt;
    }
    config->connectTimeout = std::chrono::milliseconds(2000);
    auto client = registry::RegistryClient::create(std::move(*config));
    if (!client) {
        problem = client.error().message;
        return std::nullopt;
    }
    return std::move(client).value();
}

// Sends what waits in the outbox, now; says what is left.
std::string deliverNow(Session& s) {
    std::string problem;
    auto client = registryClient(s, problem);
    if (!client) {
        return problem;
    }
    (void)s.store.outbox().retryNow();
    const auto report = s.store.outbox().deliver(*client);
    auto status = s.store.outbox().status();
    std::string said;
    if (status && status->waiting > 0) {
        said = fmt::format("{} status(es) wait for the registry ({}); they are kept and sent by "
                           "the next sync",
                           status->waiting,
                           report.lastError ? report.lastError->message : "not sent yet");
    }
    if (status && status->parked > 0) {
        // Refused by the registry for good: a person must look (the reason is in the outbox).
        said += fmt::format("{}{} status(es) were REFUSED by the registry and need a supervisor",
                            said.empty() ? "" : "; ", status->parked);
    }
    return said;
}

int initCommand(const Globals& g, std::map<std::string, std::string> settings,
                const std::string& supervisorName) {
    auto store = StationStore::open(g.db);
    if (!store) {
        return failed(store.error().message);
    }
    // Setting a station up again changes its keys and registry: a supervisor's act.
    const bool again = store->setting("station_id").has_value();
    if (again) {
        auto s = openSession(g, false, Role::Supervisor);
        if (!s) {
            return usage("this station is set up already; to change it a supervisor signs in: " +
                         s.error());
        }
    }
    // Everything is checked with the new settings before any is written.
    const Setting merged = [&](const std::string& k) -> std::optional<std::string> {
        if (auto it = settings.find(k); it != settings.end() && !it->second.empty()) {
            return it->second;
        }
        return store->setting(k);
    };
    auto keys = openKeyStore(merged);
    if (!keys) {
        return failed(keys.error());
    }
    auto trust = loadTrust(merged);
    if (!trust) {
        return usage(trust.error());
    }
    if (auto wrong = checkStationCertificate((*keys)->certificate(), trust.value(),
                                             settings["station_id"])) {
        return usage(*wrong);
    }
    for (const auto& [k, v] : settings) {
        if (!v.empty()) {
            if (auto e = store->setSetting(k, v)) {
                return failed(e->message);
            }
        }
    }
    if (auto e = store->setSetting("station_certificate", (*keys)->certificate().toPem())) {
        return failed(e->message);
    }
    const KeyStore* signer = keys->get();
    store->setAuditSigner(
        [signer](std::span<const std::uint8_t> m) { return signer->signingKey().signRaw(m); },
        settings["station_id"]);
    if (!again && !g.operatorId.empty()) {
        const char* pin = std::getenv("UNIONCARD_OPERATOR_PIN");
        if (pin == nullptr) {
            return usage("set UNIONCARD_OPERATOR_PIN to the first supervisor's PIN");
        }
        Operator sup{g.operatorId, supervisorName.empty() ? g.operatorId : supervisorName,
                     Role::Supervisor, std::nullopt};
        if (auto e = store->putOperator(sup, pin, "init")) {
            return failed(e->message);
        }
    }
    if (auto e = store->audit(
            again ? g.operatorId : "init", again ? "station.reconfigure" : "station.init",
            json{{"station", settings["station_id"]}, {"region", settings["region"]}}.dump())) {
        return failed(e->message);
    }
    std::cout << fmt::format("station {} set up in {}\n", settings["station_id"], g.db);
    return kOk;
}

int syncCommand(const Globals& g) {
    auto s = openSession(g, true, Role::Operator);
    if (!s) {
        return usage(s.error());
    }
    std::string problem;
    auto client = registryClient(s.value(), problem);
    if (!client) {
        return failed("cannot sync: " + problem);
    }
    json out;
    std::vector<std::string> problems;
    // 1. Statuses first: the registry must know at once.
    (void)s->store.outbox().retryNow();
    const auto delivered = s->store.outbox().deliver(*client);
    out["delivered"] = delivered.delivered;
    // 2. Applications of the station's region.
    const int region = std::atoi(s->store.setting("region").value_or("0").c_str());
    registry::ApplicationFilter filter;
    filter.region = region;
    filter.limit = 1000;
    std::size_t pulled = 0, fresh = 0;
    for (int page = 0; page < 100; ++page) {
        auto got = client->applications(filter);
        if (!got) {
            problems.push_back("applications: " + got.error().message);
            break;
        }
        auto added = s->store.addApplications(got->items, "registry", s->who.id);
        if (!added) {
            return failed(added.error().message);
        }
        pulled += got->items.size();
        fresh += added.value();
        if (got->nextCursor.empty()) {
            break;
        }
        filter.cursor = got->nextCursor;
    }
    out["applications"] = pulled;
    out["new_applications"] = fresh;
    // 3. Numbers: keep a block ahead of the queue.
    auto left = s->store.serialsLeft(region);
    auto queued = s->store.applications("queued");
    if (left && queued && left.value() < queued->size() + 20) {
        auto lease = client->lease(
            region, static_cast<std::uint32_t>(std::max<std::size_t>(100, queued->size() * 2)));
        if (!lease) {
            problems.push_back("numbers: " + lease.error().message);
        } else if (auto e = s->store.addLease(lease.value(), s->who.id)) {
            return failed(e->message);
        } else {
            out["leased"] = lease->count;
        }
    }
    if (auto st = s->store.outbox().status()) {
        out["waiting"] = st->waiting;
        out["parked"] = st->parked;
        if (st->parked > 0) {
            problems.push_back(fmt::format("{} status(es) were refused by the registry and are "
                                           "kept aside for a supervisor",
                                           st->parked));
        }
        if (st->waiting > 0) {
            problems.push_back(fmt::format("{} status(es) still wait for the registry: {}",
                                           st->waiting, st->lastError));
        }
    }
    out["problems"] = problems;
    if (g.json) {
        std::cout << out.dump() << std::endl;
    } else {
        std::cout << fmt::format("sent {} status(es); {} application(s) from the registry, {} "
                                 "new{}\n",
                                 delivered.delivered, pulled, fresh,
                                 out.contains("leased")
                                     ? fmt::format("; leased {} numbers", out["leased"].get<int>())
                                     : "");
        for (const auto& p : problems) {
            std::cout << "  problem: " << p << "\n";
        }
    }
    return problems.empty() ? kOk : kFailed;
}

int importCommand(const Globals& g, const std::string& file, bool partial) {
    auto s = openSession(g, true, Role::Operator);
    if (!s) {
        return usage(s.error());
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return failed(fmt::format("cannot read {}", file));
    }
    registry::ImportOptions options;
    options.partial = partial;
    auto parsed = registry::readApplicationsCsv(in, options);
    if (!parsed) {
        for (const auto& r : parsed.error().rows) {
            std::cerr << fmt::format("{}: line {}{}: {}\n", file, r.line,
                                     r.column.empty() ? "" : ", column " + r.column, r.message);
        }
        return failed(parsed.error().message);
    }
    const int region = std::atoi(s->store.setting("region").value_or("0").c_str());
    std::vector<registry::Application> mine;
    std::size_t otherRegion = 0;
    for (const auto& a : parsed->applications) {
        if (a.region == region) {
            mine.push_back(a);
        } else {
            ++otherRegion;
        }
    }
    if (otherRegion > 0 && !partial) {
        return failed(fmt::format("{} application(s) are for other regions than {:02}; nothing "
                                  "was imported (--partial imports the rest)",
                                  otherRegion, region));
    }
    auto added = s->store.addApplications(mine, "file", s->who.id);
    if (!added) {
        return failed(added.error().message);
    }
    for (const auto& r : parsed->report.rejected) {
        std::cerr << fmt::format("{}: line {}: left out: {}\n", file, r.line, r.message);
    }
    std::cout << fmt::format("{} application(s) imported, {} row(s) left out\n", added.value(),
                             parsed->report.rejectedRows + otherRegion);
    return kOk;
}

// The link to the registry: what waits in the outbox and when it was last delivered. No
// sign-in: it tells nothing of the members (counts and times only).
int statusCommand(const Globals& g, bool prometheus) {
    auto s = openSession(g, false, std::nullopt);
    if (!s) {
        return usage(s.error());
    }
    auto outbox = s->store.outbox().status();
    if (!outbox) {
        return failed(outbox.error().message);
    }
    const auto now = std::chrono::system_clock::now();
    if (prometheus) {
        std::cout << registry::outboxMetrics(outbox.value(), "unioncard_station", now);
        return kOk;
    }
    const auto& o = outbox.value();
    auto when = [](const std::optional<registry::TimePoint>& t) {
        return t ? registry::api::formatTime(std::chrono::floor<std::chrono::seconds>(*t))
                 : std::string("never");
    };
    if (g.json) {
        json out = {{"station_id", s->stationId}, {"outbox_waiting", o.waiting},
                    {"outbox_parked", o.parked},  {"last_sync", when(o.lastSuccessAt)},
                    {"last_error", o.lastError},  {"consecutive_failures", o.consecutiveFailures}};
        std::cout << out.dump() << std::endl;
        return kOk;
    }
    std::cout << fmt::format("station {}\n  outbox     {} waiting, {} refused for good\n"
                             "  last sync  {}\n",
                             s->stationId, o.waiting, o.parked, when(o.lastSuccessAt));
    if (o.lastErrorAt && (!o.lastSuccessAt || *o.lastErrorAt > *o.lastSuccessAt)) {
        std::cout << fmt::format("  failing    since {}: {}\n", when(o.lastErrorAt), o.lastError);
    }
    return kOk;
}

int queueCommand(const Globals& g) {
    auto s = openSession(g, false, std::nullopt);
    if (!s) {
        return usage(s.error());
    }
    auto all = s->store.applications();
    if (!all) {
        return failed(all.error().message);
    }
    json items = json::array();
    std::string text;
    std::size_t queued = 0, held = 0;
    for (const auto& q : *all) {
        if (q.state != "queued" && q.state != "held") {
            continue;
        }
        ++(q.state == "queued" ? queued : held);
        items.push_back({{"id", q.application.id},
                         {"member_id", q.application.memberId},
                         {"full_name", q.application.fullName},
                         {"organisation", q.application.organisationName},
                         {"state", q.state},
                         {"hold_reason", q.holdReason}});
        text += fmt::format("  {:8} {:40} {}{}\n", q.state, q.application.fullName,
                            q.application.organisationName,
                            q.holdReason.empty() ? "" : "  (" + q.holdReason + ")");
    }
    if (g.json) {
        std::cout << json{{"queued", queued}, {"held", held}, {"items", items}}.dump() << std::endl;
    } else {
        std::cout << fmt::format("{} queued, {} held\n{}", queued, held, text);
    }
    return kOk;
}

int issueCommand(const Globals& g, std::size_t count) {
    // One batch at a time per station: a second one would take the first one's card in the
    // printer for a crash's leftover. The lock goes with the process, however it ends.
    const std::string lockFile = g.db + ".issue.lock";
    const int lock = ::open(lockFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) {
        return failed("another batch is running on this station (its program holds " + lockFile +
                      "); wait for it or stop it first");
    }
    auto s = openSession(g, true, Role::Operator);
    if (!s) {
        return usage(s.error());
    }
    // Everything the issuer needs, each failure named.
    auto profile = card::desfire::loadProfile(
        s->store.setting("card_profile").value_or(firmwareConfig() + "/cards/union-desfire.toml"));
    if (!profile) {
        return usage(profile.error());
    }
    auto masterKeys = s->keys->masterKeys({});
    if (!masterKeys) {
        return usage("card master keys: " + masterKeys.error().message);
    }
    auto trust = loadTrust([&](const std::string& k) { return s->store.setting(k); });
    if (!trust) {
        return usage(trust.error());
    }
    auto printerProfile =
        printer::loadPrinterProfile(s->store.setting("printer_profile")
                                        .value_or(firmwareConfig() + "/printers/lab-printer.toml"));
    if (!printerProfile) {
        return usage(printerProfile.error());
    }
    const std::string uri = s->store.setting("printer").value_or(printerProfile->connection);
    printer::evolis::DriverOptions driverOptions;
    driverOptions.ribbon = printerProfile->ribbon;
    auto cardPrinter = printer::evolis::openPrinter(uri, driverOptions);
    std::unique_ptr<printer::CardPrinter> reopened;
    if (!cardPrinter) {
        return failed(fmt::format("the printer at {}: {} {}", uri, cardPrinter.error().message,
                                  printer::operatorAction(cardPrinter.error().code)));
    }
    auto layout = printer::loadLayout(printer::resolveLayoutPath(
        s->store.setting("layout").value_or("union-card"), fs::path(firmwareConfig()) / "layouts"));
    if (!layout) {
        return usage("layout: " + layout.error().message);
    }
    auto renderer = printer::CardRenderer::create(std::move(layout).value());
    if (!renderer) {
        return usage("renderer: " + renderer.error().message);
    }
    const std::string encoderName =
        s->store.setting("encoder_reader").value_or(printerProfile->encoderReader);
    auto pcsc = card::pcsc::PcscContext::establish();
    if (!pcsc) {
        return failed("the smart-card service: " + pcsc.error().message);
    }
    IssuerConfig config;
    config.stationId = s->stationId;
    config.profile = &profile.value();
    config.masterKeys = &masterKeys.value();
    config.keys = s->keys.get();
    config.trust = &trust.value();
    config.printer = cardPrinter->get();
    config.renderer = &renderer.value();
    config.regionName = s->store.setting("region_name").value_or("");
    config.reconnectPrinter = [&]() -> printer::CardPrinter* {
        auto again = printer::evolis::openPrinter(uri, driverOptions);
        if (!again) {
            return nullptr;
        }
        reopened = std::move(again).value();
        return reopened.get();
    };
    config.encoder = [&]() -> Result<std::unique_ptr<card::CardConnection>, card::Fault> {
        auto name = card::pcsc::findReader(*pcsc, encoderName);
        if (!name) {
            return fail(name.error());
        }
        return pcsc->connect(name.value());
    };
    Issuer issuer(s->store, config);

    auto recovered = issuer.recover(s->who.id);
    if (!recovered) {
        return failed(recovered.error().message);
    }
    for (const auto& c : recovered->spoiled) {
        std::cout << fmt::format("recovered: card {} was {} when the station stopped; voided, "
                                 "card: {}\n",
                                 c.cardNumber, c.spoilReason, c.cardFate);
    }
    std::stop_source stop;
    BatchHooks hooks;
    hooks.progress = [&](const Progress& p) {
        if (g.json) {
            json line{
                {"done", p.done}, {"spoiled", p.spoiled}, {"left", p.left}, {"current", p.current}};
            if (p.timeLeft) {
                line["seconds_left"] = p.timeLeft->count();
            }
            if (p.paused) {
                line["paused"] = printer::faultName(*p.paused);
                line["action"] = p.action;
            }
            std::cout << line.dump() << std::endl;
        } else if (p.paused) {
            std::cout << fmt::format("PAUSED: {}\n  what to do: {}\n", p.current, p.action)
                      << std::flush;
        } else {
            std::cout << fmt::format(
                             "[{} done, {} spoiled, {} left{}] {}\n", p.done, p.spoiled, p.left,
                             p.timeLeft ? fmt::format(", about {} s", p.timeLeft->count()) : "",
                             p.current)
                      << std::flush;
        }
    };
    const auto report = issuer.runBatch(count, s->who.id, stop.get_token(), hooks);
    for (const auto& c : report.cards) {
        if (!c.produced) {
            std::cout << fmt::format("spoiled: card {}: {} (card: {})\n", c.card.cardNumber,
                                     c.problem, c.card.cardFate);
        }
    }
    const std::string waiting = deliverNow(s.value());
    if (!g.json) {
        std::cout << fmt::format("batch: {} produced, {} spoiled, {} not started\n",
                                 report.produced, report.spoiled, report.notStarted);
        if (!waiting.empty()) {
            std::cout << "registry: " << waiting << "\n";
        } else {
            std::cout << "registry: every status delivered\n";
        }
    } else {
        std::cout << json{{"produced", report.produced},
                          {"spoiled", report.spoiled},
                          {"not_started", report.notStarted},
                          {"registry", waiting.empty() ? "delivered" : waiting}}
                         .dump()
                  << std::endl;
    }
    return report.notStarted == 0 ? kOk : kFailed;
}

// Reads the card on the desk reader as a verifier and gives its number.
Result<std::string, std::string> cardOnDesk(Session& s, const std::string& reader) {
    using R = Result<std::string, std::string>;
    auto keys = s.keys->masterKeys({"record-read"});
    if (!keys) {
        return R(fail("card keys: " + keys.error().message));
    }
    auto profile = card::desfire::loadProfile(
        s.store.setting("card_profile").value_or(firmwareConfig() + "/cards/union-desfire.toml"));
    if (!profile) {
        return R(fail(profile.error()));
    }
    auto pcsc = card::pcsc::PcscContext::establish();
    if (!pcsc) {
        return R(fail(pcsc.error().message));
    }
    auto name = card::pcsc::findReader(*pcsc, reader);
    if (!name) {
        return R(fail(name.error().message));
    }
    auto connection = pcsc->connect(name.value());
    if (!connection) {
        return R(fail("no card on the desk reader: " + connection.error().message));
    }
    auto uid = card::pcsc::readUid(**connection);
    card::desfire::Desfire chip(**connection);
    auto read = card::desfire::readRecord(chip, *profile, *keys,
                                          {uid ? std::optional(uid.value()) : std::nullopt});
    if (!read) {
        return R(fail("the card does not read as a union card: " + read.error().message));
    }
    // As a verifier: the signature against the trust list, the dates, the chip it is bound to.
    auto trust = loadTrust([&](const std::string& k) { return s.store.setting(k); });
    if (!trust) {
        return R(fail(trust.error()));
    }
    const auto checked = card::verifyRecord(read->record, trust.value(),
                                            std::chrono::floor<std::chrono::days>(now()));
    if (checked.verdict != card::Verdict::Valid || !checked.record) {
        return R(fail("the card does not verify: " + checked.reason));
    }
    if (!checked.record->chipUid || *checked.record->chipUid != read->uid) {
        return R(fail(std::string("the card's record belongs to another chip: a copy")));
    }
    return R(checked.record->number.digits());
}

// The two-person rule at the command line: the second supervisor is --second-operator, with
// the PIN in UNIONCARD_SECOND_OPERATOR_PIN. Nullopt when approved; otherwise the exit status,
// the refusal said.
std::optional<int> approved(const Globals& g, Session& s, TwoPersonAct act, const json& what) {
    const char* pin = std::getenv("UNIONCARD_SECOND_OPERATOR_PIN");
    auto refused =
        s.store.approveBySecond(act, s.who.id, g.secondOperatorId, pin ? pin : "", what.dump());
    if (!refused) {
        return std::nullopt;
    }
    if (g.secondOperatorId.empty()) {
        return usage(refused->message +
                     ": give --second-operator ID (PIN in UNIONCARD_SECOND_OPERATOR_PIN)");
    }
    return failed(refused->message);
}

int statusChange(const Globals& g, registry::EventKind kind, std::string number,
                 const std::string& reason, const std::string& reader, const std::string& member,
                 bool yes) {
    // A lost card, like a revoked one, is over for good: supervisors only, as at the kiosk.
    const bool supervisorOnly =
        kind == registry::EventKind::Revoked || kind == registry::EventKind::Lost;
    auto s = openSession(g, true, supervisorOnly ? Role::Supervisor : Role::Operator);
    if (!s) {
        return usage(s.error());
    }
    if (!reader.empty()) {
        auto tapped = cardOnDesk(s.value(), reader);
        if (!tapped) {
            return failed(tapped.error());
        }
        if (!number.empty() && card::CardNumber::parse(number) &&
            card::CardNumber::parse(number)->digits() != tapped.value()) {
            return failed(
                fmt::format("the card on the reader is {}, not {}", tapped.value(), number));
        }
        number = tapped.value();
    }
    auto parsed = card::CardNumber::parse(number);
    if (!parsed) {
        return usage(parsed.error().message);
    }
    auto row = s->store.cardByNumber(parsed->digits());
    if (!row || !*row) {
        return failed(fmt::format("card {} was not made at this station", parsed->masked()));
    }
    if (!member.empty() && (*row)->memberId != member) {
        return failed(fmt::format("card {} belongs to another member: do not hand it over",
                                  parsed->masked()));
    }
    auto app = s->store.application((*row)->applicationId);
    const std::string name = app && *app ? (*app)->application.fullName : std::string();
    if (kind == registry::EventKind::HandedOver && !yes) {
        std::cout << fmt::format("Hand card {} to {}? [y/N] ", parsed->formatted(), name)
                  << std::flush;
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "д" && answer != "Д") {
            return failed("not handed over");
        }
    }
    if (kind == registry::EventKind::Revoked) {
        if (auto refused = approved(g, s.value(), TwoPersonAct::Revoke,
                                    json{{"card", parsed->digits()}, {"reason", reason}})) {
            return *refused;
        }
    }
    if (auto e = s->store.record(parsed->digits(), kind, reason, s->who.id, now())) {
        return failed(e->message);
    }
    const std::string waiting = deliverNow(s.value());
    std::cout << fmt::format("card {}: {}{}\n", parsed->formatted(), registry::toString(kind),
                             waiting.empty() ? "; the registry has it" : "; " + waiting);
    return kOk;
}

int replaceCommand(const Globals& g, const std::string& number, const std::string& reason) {
    auto s = openSession(g, true, Role::Supervisor);
    if (!s) {
        return usage(s.error());
    }
    auto parsed = card::CardNumber::parse(number);
    if (!parsed) {
        return usage(parsed.error().message);
    }
    if (auto refused = approved(g, s.value(), TwoPersonAct::Replace,
                                json{{"card", parsed->digits()}, {"reason", reason}})) {
        return *refused;
    }
    auto id = s->store.replace(parsed->digits(), reason, s->who.id, now());
    if (!id) {
        return failed(id.error().message);
    }
    const std::string waiting = deliverNow(s.value());
    std::cout << fmt::format("card {} replaced; the new card is queued as application {}{}\n",
                             parsed->formatted(), id.value(),
                             waiting.empty() ? "" : "; " + waiting);
    return kOk;
}

int cardsCommand(const Globals& g, const std::string& state) {
    auto s = openSession(g, false, std::nullopt);
    if (!s) {
        return usage(s.error());
    }
    std::optional<CardState> filter;
    if (!state.empty()) {
        filter = parseCardState(state);
        if (!filter) {
            return usage(fmt::format("no card state '{}'", state));
        }
    }
    auto rows = s->store.cards(filter);
    if (!rows) {
        return failed(rows.error().message);
    }
    json items = json::array();
    for (const auto& c : *rows) {
        json item{{"card_number", c.cardNumber},
                  {"state", toString(c.state)},
                  {"chip_uid", c.chipUid},
                  {"application_id", c.applicationId},
                  {"updated_at", registry::api::formatTime(c.updatedAt)}};
        if (c.state == CardState::Spoiled) {
            item["reason"] = c.spoilReason;
            item["card_fate"] = c.cardFate;
        }
        items.push_back(item);
        if (!g.json) {
            std::cout << fmt::format("{}  {:12} {}{}\n", c.cardNumber, toString(c.state), c.chipUid,
                                     c.cardFate.empty() ? "" : "  (card: " + c.cardFate + ")");
        }
    }
    if (g.json) {
        std::cout << json{{"cards", items}}.dump() << std::endl;
    }
    return kOk;
}

int stockCommand(const Globals& g, std::optional<std::int64_t> blanks,
                 std::optional<std::int64_t> ribbon) {
    const bool setting = blanks || ribbon;
    auto s = openSession(g, setting, setting ? std::optional(Role::Operator) : std::nullopt);
    if (!s) {
        return usage(s.error());
    }
    if (blanks) {
        if (auto e = s->store.setStock("blank_cards", *blanks, s->who.id)) {
            return failed(e->message);
        }
    }
    if (ribbon) {
        if (auto e = s->store.setStock("ribbon_cards", *ribbon, s->who.id)) {
            return failed(e->message);
        }
    }
    const auto b = s->store.stock("blank_cards").value();
    const auto r = s->store.stock("ribbon_cards").value();
    auto spoiled = s->store.cards(CardState::Spoiled);
    if (g.json) {
        std::cout << json{{"blank_cards", b},
                          {"ribbon_cards", r},
                          {"spoiled_cards", spoiled ? spoiled->size() : 0}}
                         .dump()
                  << std::endl;
    } else {
        std::cout << fmt::format("blank cards {}, ribbon for {} cards, {} spoiled card(s) to "
                                 "account for\n",
                                 b, r, spoiled ? spoiled->size() : 0);
    }
    return kOk;
}

int reportCommand(const Globals& g, int days) {
    auto s = openSession(g, false, std::nullopt);
    if (!s) {
        return usage(s.error());
    }
    auto all = s->store.cards();
    auto apps = s->store.applications();
    if (!all || !apps) {
        return failed("the station's file cannot be read");
    }
    std::map<std::string, std::string> orgOf;
    for (const auto& q : *apps) {
        orgOf[q.application.id] = q.application.organisationName;
    }
    const auto t = now();
    const auto today = std::chrono::floor<std::chrono::days>(t);
    struct Counts {
        int produced = 0, handedOver = 0, spoiled = 0, waiting = 0;
    };
    std::map<std::string, Counts> byOrg;
    json late = json::array();
    for (const auto& c : *all) {
        Counts& n = byOrg[orgOf[c.applicationId]];
        if (c.producedAt && std::chrono::floor<std::chrono::days>(*c.producedAt) == today) {
            ++n.produced;
        }
        if (c.handedOverAt && std::chrono::floor<std::chrono::days>(*c.handedOverAt) == today) {
            ++n.handedOver;
        }
        if (c.state == CardState::Spoiled &&
            std::chrono::floor<std::chrono::days>(c.updatedAt) == today) {
            ++n.spoiled;
        }
        if (c.state == CardState::Produced && c.producedAt) {
            ++n.waiting;
            if (t - *c.producedAt > std::chrono::days(days)) {
                late.push_back({{"card_number", c.cardNumber},
                                {"organisation", orgOf[c.applicationId]},
                                {"produced_at", registry::api::formatTime(*c.producedAt)}});
            }
        }
    }
    if (g.json) {
        json orgs = json::array();
        for (const auto& [org, n] : byOrg) {
            orgs.push_back({{"organisation", org},
                            {"produced_today", n.produced},
                            {"handed_over_today", n.handedOver},
                            {"spoiled_today", n.spoiled},
                            {"waiting_for_handover", n.waiting}});
        }
        std::cout
            << json{{"by_organisation", orgs}, {"not_handed_over", late}, {"days", days}}.dump()
            << std::endl;
        return kOk;
    }
    std::cout << "today, by organisation: produced / handed over / spoiled / waiting\n";
    for (const auto& [org, n] : byOrg) {
        std::cout << fmt::format("  {:50} {:4} {:4} {:4} {:4}\n", org.empty() ? "-" : org,
                                 n.produced, n.handedOver, n.spoiled, n.waiting);
    }
    std::cout << fmt::format("produced but not handed over for more than {} days: {}\n", days,
                             late.size());
    for (const auto& l : late) {
        std::cout << fmt::format("  {} {} (since {})\n", l["card_number"].get<std::string>(),
                                 l["organisation"].get<std::string>(),
                                 l["produced_at"].get<std::string>());
    }
    return kOk;
}

int auditVerify(const Globals& g) {
    auto s = openSession(g, false, std::nullopt);
    if (!s) {
        return usage(s.error());
    }
    // The certificate kept at init, checked against the union root (pinned through the trust
    // list) and this station's id: a certificate swapped into the file does not vouch.
    auto cert = card::Certificate::fromPem(s->store.setting("station_certificate").value_or(""));
    if (!cert) {
        return usage("the station's certificate: " + cert.error().message);
    }
    auto trust = loadTrust([&](const std::string& k) { return s->store.setting(k); });
    if (!trust) {
        return usage(trust.error());
    }
    if (auto wrong = checkStationCertificate(cert.value(), trust.value(), s->stationId)) {
        return failed("the audit log's certificate does not check: " + *wrong);
    }
    const auto check = s->store.verifyAudit(cert->publicKey());
    if (g.json) {
        json out{{"entries", check.entries}, {"intact", !check.firstBad && check.problem.empty()}};
        if (check.firstBad) {
            out["first_bad"] = *check.firstBad;
            out["problem"] = check.problem;
        }
        std::cout << out.dump() << std::endl;
    }
    if (check.firstBad || !check.problem.empty()) {
        return failed("the audit log is NOT intact: " + check.problem);
    }
    if (!g.json) {
        std::cout << fmt::format("audit log intact: {} entries, each chained and signed by "
                                 "station {}\n",
                                 check.entries, cert->commonName());
    }
    return kOk;
}

int operatorAdd(const Globals& g, const Operator& op) {
    auto s = openSession(g, true, Role::Supervisor);
    if (!s) {
        return usage(s.error());
    }
    // No PIN keeps the operator's PIN (a change of name, role or staff card); a new operator
    // needs one, staff card or not.
    auto before = s->store.operatorRole(op.id);
    if (!before) {
        return failed(before.error().message);
    }
    if (op.role == Role::Supervisor ? before.value() != Role::Supervisor
                                    : before.value() && before.value() != op.role) {
        if (auto refused = approved(g, s.value(), TwoPersonAct::ChangeRole,
                                    json{{"operator", op.id}, {"role", toString(op.role)}})) {
            return *refused;
        }
    }
    const char* pin = std::getenv("UNIONCARD_NEW_OPERATOR_PIN");
    if (auto e = s->store.putOperator(op, pin ? pin : "", s->who.id)) {
        return failed(e->message +
                      (pin == nullptr ? " (give it in UNIONCARD_NEW_OPERATOR_PIN)" : ""));
    }
    std::cout << fmt::format("{} ({}) can sign in\n", op.id, toString(op.role));
    return kOk;
}

int operatorUnlock(const Globals& g, const std::string& id) {
    // With every supervisor locked out, no one could sign in to unlock: then the station key's
    // passphrase alone (whoever holds it set the station up) unlocks a supervisor.
    auto s =
        openSession(g, true, g.operatorId.empty() ? std::nullopt : std::optional(Role::Supervisor));
    if (!s) {
        return usage(s.error());
    }
    if (g.operatorId.empty()) {
        auto open = s->store.supervisorsWhoCanSignIn();
        if (!open) {
            return failed(open.error().message);
        }
        if (open.value() > 0) {
            return usage("sign in as a supervisor (--operator ID) to unlock an operator; the "
                         "station key alone unlocks only when every supervisor is locked");
        }
        auto role = s->store.operatorRole(id);
        if (!role || role.value() != Role::Supervisor) {
            return usage(fmt::format("with the station key alone only a supervisor is "
                                     "unlocked, and {} is not one",
                                     id));
        }
    }
    if (auto e = s->store.unlockOperator(id, g.operatorId.empty() ? "station-key" : s->who.id)) {
        return failed(e->message);
    }
    std::cout << fmt::format("{} can sign in again\n", id);
    return kOk;
}

} // namespace

int main(int argc, char** argv) {
    // The renderer draws with Qt; offscreen unless the kiosk set a platform.
    if (std::getenv("QT_QPA_PLATFORM") == nullptr) {
        setenv("QT_QPA_PLATFORM", "offscreen", 0);
    }
    printer::ensureQtRuntimeDir(); // Qt wants a private runtime folder
    int qtArgc = 1;
    QGuiApplication qt(qtArgc, argv);
    CLI::App app{"unioncard-station: issue union cards and keep the registry true.\n"
                 "Exit status: 0 done, 1 failed or refused (reason given), 2 wrong usage or "
                 "setup."};
    base::conventions(app, "unioncard-station", {"station.toml", {}, "kiosk", {"init"}});
    app.require_subcommand(1);
    app.fallthrough();
    Globals g;
    app.add_option("--db", g.db, "the station's file")
        ->envname("UNIONCARD_STATION_DB")
        ->capture_default_str();
    app.add_flag("--json", g.json, "JSON output for scripts");
    app.add_option("--operator", g.operatorId,
                   "the signed-in operator (PIN in UNIONCARD_OPERATOR_PIN)");
    app.add_option("--second-operator", g.secondOperatorId,
                   "a second supervisor for revoke, replace and role changes (PIN in "
                   "UNIONCARD_SECOND_OPERATOR_PIN)");
    int status = kOk;

    std::map<std::string, std::string> settings;
    std::string supervisorName;
    auto* init = app.add_subcommand("init", "set the station up (again, to change settings)");
    init->add_option("--station-id", settings["station_id"], "the station's id")->required();
    init->add_option("--region", settings["region"], "the region it issues for")->required();
    init->add_option("--region-name", settings["region_name"], "printed on the cards");
    init->add_option("--key-store", settings["key_store"], "file (default) or pkcs11")
        ->check(CLI::IsMember({"file", "pkcs11"}));
    init->add_option("--station-keys", settings["station_keys"],
                     "file store: folder with station-key.pem and station-cert.pem");
    init->add_option("--card-keys", settings["card_keys"],
                     "the card master key file (pkcs11: the file wrapped under the token's key)")
        ->required();
    init->add_option("--pkcs11-module", settings["pkcs11_module"], "pkcs11: the module library");
    init->add_option("--token-label", settings["token_label"], "pkcs11: the token's label");
    init->add_option("--trust-list", settings["trust_list"], "the signed trust list")->required();
    init->add_option("--root-fingerprint", settings["root_fingerprint"],
                     "the union root's SHA-256 fingerprint (hex)")
        ->required();
    init->add_option("--registry", settings["registry_url"], "https://HOST:PORT");
    init->add_option("--ca", settings["ca_file"], "CA the registry's certificate chains to");
    init->add_option("--token-file", settings["token_file"], "the station's bearer token (0600)");
    init->add_option("--printer-profile", settings["printer_profile"],
                     "firmware-config/printers/*.toml");
    init->add_option("--printer", settings["printer"], "tcp://HOST:PORT (overrides the profile)");
    init->add_option("--encoder-reader", settings["encoder_reader"],
                     "the encoder's PC/SC reader (overrides the profile)");
    init->add_option("--layout", settings["layout"], "the card layout");
    init->add_option("--supervisor-name", supervisorName,
                     "with --operator: the first supervisor's name");
    init->callback([&] {
        std::string fp = settings["root_fingerprint"];
        fp.erase(std::remove(fp.begin(), fp.end(), ':'), fp.end());
        settings["root_fingerprint"] = fp;
        status = initCommand(g, settings, supervisorName);
    });

    app.add_subcommand("sync", "send statuses, take applications and numbers")->callback([&] {
        status = syncCommand(g);
    });
    std::string file;
    bool partial = false;
    auto* importCmd = app.add_subcommand("import", "queue applications from a CSV file");
    importCmd->add_option("FILE", file)->required();
    importCmd->add_flag("--partial", partial, "import the good rows even if some are wrong");
    importCmd->callback([&] { status = importCommand(g, file, partial); });
    bool prometheus = false;
    auto* statusCmd =
        app.add_subcommand("status", "the outbox and the last sync with the registry");
    statusCmd->add_flag("--prometheus", prometheus,
                        "the figures in Prometheus' text format (node_exporter's textfile "
                        "collector)");
    statusCmd->callback([&] { status = statusCommand(g, prometheus); });

    app.add_subcommand("queue", "applications waiting for a card")->callback([&] {
        status = queueCommand(g);
    });

    std::size_t batch = 0;
    bool all = false;
    auto* issue = app.add_subcommand("issue", "produce cards on the printer");
    issue->add_option("--batch", batch, "this many applications");
    issue->add_flag("--all", all, "every queued application");
    issue->callback([&] {
        if ((batch == 0) == !all) {
            status = usage("give --batch N or --all");
            return;
        }
        status = issueCommand(g, all ? std::numeric_limits<std::size_t>::max() : batch);
    });

    std::string number, reason, reader, member;
    bool yes = false;
    auto addCard = [&](CLI::App* c, bool needsReason) {
        c->add_option("NUMBER", number, "the card number (or tap it: --reader)");
        c->add_option("--reader", reader, "read the card on this desk reader");
        auto* r = c->add_option("--reason", reason, "why");
        if (needsReason) {
            r->required();
        }
    };
    auto* handover = app.add_subcommand("handover", "the member takes the card");
    addCard(handover, false);
    handover->add_option("--member", member, "the member's id: the card must be theirs");
    handover->add_flag("--yes", yes, "do not ask to confirm");
    handover->callback([&] {
        status =
            statusChange(g, registry::EventKind::HandedOver, number, reason, reader, member, yes);
    });
    auto* refuse = app.add_subcommand("refuse", "the member refuses the card (Отказ)");
    addCard(refuse, true);
    refuse->callback([&] {
        status = statusChange(g, registry::EventKind::Refused, number, reason, reader, {}, true);
    });
    auto* lost = app.add_subcommand("lost", "the member reports the card lost (supervisor)");
    addCard(lost, false);
    lost->callback([&] {
        status = statusChange(g, registry::EventKind::Lost, number, reason, reader, {}, true);
    });
    auto* revoke = app.add_subcommand("revoke", "revoke a card (supervisor)");
    addCard(revoke, true);
    revoke->callback([&] {
        status = statusChange(g, registry::EventKind::Revoked, number, reason, reader, {}, true);
    });
    auto* replace = app.add_subcommand("replace", "replace a lost or damaged card (supervisor)");
    addCard(replace, true);
    replace->callback([&] { status = replaceCommand(g, number, reason); });

    std::string cardState;
    auto* cardsCmd = app.add_subcommand("cards", "the cards this station made, in order");
    cardsCmd->add_option("--state", cardState, "only cards in this state (produced, spoiled, ...)");
    cardsCmd->callback([&] { status = cardsCommand(g, cardState); });

    std::optional<std::int64_t> blanks, ribbon;
    auto* stock = app.add_subcommand("stock", "blank cards and ribbon");
    stock->add_option("--set-blank-cards", blanks, "blank cards now in stock");
    stock->add_option("--set-ribbon-cards", ribbon, "cards the ribbons in stock can print");
    stock->callback([&] { status = stockCommand(g, blanks, ribbon); });
    int days = 14;
    auto* report = app.add_subcommand("report", "today by organisation; cards not handed over");
    report->add_option("--days", days, "not handed over for more than this many days")
        ->capture_default_str();
    report->callback([&] { status = reportCommand(g, days); });
    auto* audit = app.add_subcommand("audit", "the station's audit log");
    audit->require_subcommand(1);
    audit->add_subcommand("verify", "check that no entry was removed or changed")->callback([&] {
        status = auditVerify(g);
    });
    Operator newOp;
    std::string role = "operator", staffCard;
    auto* op = app.add_subcommand("operator", "who may use the station");
    op->require_subcommand(1);
    auto* opAdd = op->add_subcommand("add", "add or change an operator (supervisor)");
    opAdd->add_option("--id", newOp.id)->required();
    opAdd->add_option("--name", newOp.name)->required();
    opAdd->add_option("--role", role)->check(CLI::IsMember({"operator", "supervisor", "auditor"}));
    opAdd->add_option("--staff-card", staffCard, "UID of the operator's staff card (hex)");
    opAdd->callback([&] {
        newOp.role = *parseRole(role);
        if (!staffCard.empty()) {
            newOp.staffCardUid = staffCard;
        }
        status = operatorAdd(g, newOp);
    });
    std::string unlockId;
    auto* opUnlock = op->add_subcommand(
        "unlock", "let an operator locked by wrong PINs sign in again (supervisor)");
    opUnlock->add_option("--id", unlockId)->required();
    opUnlock->callback([&] { status = operatorUnlock(g, unlockId); });

    if (const auto exit = base::parseCommandLine(app, argc, argv))
        return *exit;
    return status;
}
