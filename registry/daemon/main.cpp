// SPDX-License-Identifier: Apache-2.0
// unioncard-registryd: the reference registry service, and its administration commands.
//
//   unioncard-registryd --db sqlite:PATH|postgresql://... --listen 127.0.0.1:PORT [TLS options]
//   unioncard-registryd seed --db ... --members N
//   unioncard-registryd migrate --db ...
//   unioncard-registryd device add|disable|enable|rotate|list|log --db ... (device_commands.cpp)
//   unioncard-registryd import --db ... FILE.csv [--partial]
//   unioncard-registryd export --db ... [--after SEQ] [--out FILE.csv]
//
// Exit status: 0 done, 1 refused or failed (the message says why), 2 usage.

#include "daemon_support.hpp"
#include "device_commands.hpp"

#include <unioncard/base/paths.hpp>
#include <unioncard/base/program.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/csv_exchange.hpp>
#include <unioncard/registry/seed.hpp>
#include <unioncard/registry/service.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

using namespace unioncard;
using namespace unioncard::registry;
using daemon::failWith;
using daemon::openDatabase;

namespace {

// Passphrases come from the service's systemd credential (the unit's LoadCredential=) or, run
// by hand, the environment; never argv or the configuration file.
card::Secret passphraseFor(const char* credential, const char* specific) {
    return card::Secret(base::secret(credential, {specific, "UNIONCARD_PASSPHRASE"}).value_or(""));
}

bool splitListen(const std::string& listen, std::string& host, int& port) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos)
        return false;
    host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    try {
        std::size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        return used == listen.size() - colon - 1 && port >= 0 && port <= 65535 && !host.empty();
    } catch (const std::exception&) {
        return false;
    }
}

bool isLoopback(const std::string& host) {
    return host == "127.0.0.1" || host == "::1" || host == "localhost";
}

struct ServeOptions {
    std::string listen = "127.0.0.1:8443";
    std::string tlsCert, tlsKey, clientCa;
    bool plainHttp = false;
    std::string statusKey, statusCert, rootCert, trustList;
    int statusInterval = 60;
    int statusListsKept = 288;
    std::size_t maxBody = 1024 * 1024;
    int threads = 8;
    LeaseQuota leaseQuota;
    bool quiet = false;
};

int serve(const std::string& db, const ServeOptions& o) {
    ServiceConfig config;
    if (!splitListen(o.listen, config.host, config.port))
        return failWith(fmt::format("--listen wants HOST:PORT, not '{}'", o.listen));
    if (o.tlsCert.empty() != o.tlsKey.empty())
        return failWith("give both --tls-cert and --tls-key");
    if (o.tlsCert.empty()) {
        if (!o.plainHttp)
            return failWith("the registry speaks TLS: give --tls-cert and --tls-key (or "
                            "--plain-http for a loopback test)");
        if (!isLoopback(config.host))
            return failWith("--plain-http is allowed on loopback only");
    } else {
        TlsConfig tls;
        tls.certificate = o.tlsCert;
        tls.key = o.tlsKey;
        tls.keyPassphrase = passphraseFor("tls-passphrase", "UNIONCARD_TLS_PASSPHRASE");
        if (!o.clientCa.empty())
            tls.clientCa = o.clientCa;
        config.tls = std::move(tls);
    }
    if (o.statusKey.empty() != o.statusCert.empty() || o.statusKey.empty() != o.rootCert.empty())
        return failWith("to serve status lists give --status-key, --status-cert and --root-cert");
    if (!o.statusKey.empty()) {
        auto key = card::PrivateKey::load(
            o.statusKey, passphraseFor("status-passphrase", "UNIONCARD_STATUS_PASSPHRASE"));
        if (!key)
            return failWith(fmt::format("status-signing key: {}", key.error().message));
        auto cert = card::Certificate::load(o.statusCert);
        if (!cert)
            return failWith(fmt::format("status-signing certificate: {}", cert.error().message));
        auto root = card::Certificate::load(o.rootCert);
        if (!root)
            return failWith(fmt::format("union root certificate: {}", root.error().message));
        config.statusSigner =
            StatusSigner{std::move(key).value(), std::move(cert).value(), std::move(root).value()};
    }
    if (!o.trustList.empty())
        config.trustList = o.trustList;
    config.statusListInterval = std::chrono::seconds(o.statusInterval);
    config.statusListsKept = o.statusListsKept;
    config.maxBodyBytes = o.maxBody;
    config.threads = o.threads;
    config.leaseQuota = o.leaseQuota;
    config.accessLog = !o.quiet;

    auto store = openDatabase(db);
    if (!store)
        return failWith(store.error());
    Service service(std::move(store).value(), std::move(config));
    if (auto error = service.bind())
        return failWith(error->message);

    // SIGINT/SIGTERM stop the listener from a thread that waits for them: no work in a handler.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread watcher([&] {
        int which = 0;
        sigwait(&signals, &which);
        service.stop();
    });
    fmt::print("unioncard-registryd: listening on {}://{}:{}\n",
               o.tlsCert.empty() ? "http" : "https", o.listen.substr(0, o.listen.rfind(':')),
               service.port());
    std::fflush(stdout);
    const bool ok = service.run();
    pthread_kill(watcher.native_handle(), SIGTERM);
    watcher.join();
    return ok ? 0 : failWith("the listener stopped with an error");
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"unioncard-registryd: the union card registry service"};
    base::conventions(app, "unioncard-registryd", {"registry.toml"});
    app.require_subcommand(0, 1);
    app.fallthrough(); // --db and the others may follow the subcommand too
    std::string db = "sqlite:registry.db";
    ServeOptions serveOptions;
    app.add_option("--db", db, "sqlite:PATH or postgresql://... (libpq URI)")
        ->capture_default_str();
    app.add_option("--listen", serveOptions.listen, "HOST:PORT to serve on")->capture_default_str();
    app.add_option("--tls-cert", serveOptions.tlsCert, "the service's certificate chain (PEM)");
    app.add_option("--tls-key", serveOptions.tlsKey,
                   "its key (PEM; if encrypted, the passphrase is the systemd credential "
                   "tls-passphrase, or UNIONCARD_TLS_PASSPHRASE)");
    app.add_option("--client-ca", serveOptions.clientCa,
                   "accept device client certificates issued by this CA (the union root)");
    app.add_flag("--plain-http", serveOptions.plainHttp, "serve without TLS (loopback only)");
    app.add_option("--status-key", serveOptions.statusKey,
                   "status-signing key (passphrase: the credential status-passphrase, or "
                   "UNIONCARD_STATUS_PASSPHRASE)");
    app.add_option("--status-cert", serveOptions.statusCert, "its certificate, issued by the root");
    app.add_option("--root-cert", serveOptions.rootCert,
                   "the union root certificate that issued the status-signing certificate");
    app.add_option("--trust-list", serveOptions.trustList,
                   "the signed trust list to serve to verifiers (read again on each request)");
    app.add_option("--status-interval", serveOptions.statusInterval,
                   "seconds between status-list builds when the registry changes")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    app.add_option("--max-body", serveOptions.maxBody, "largest request body in bytes")
        ->check(CLI::Range(1024, 64 * 1024 * 1024))
        ->capture_default_str();
    app.add_option("--threads", serveOptions.threads, "worker threads")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--status-lists-kept", serveOptions.statusListsKept,
                   "published status lists kept for deltas; older ones are pruned")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--lease-quota-station", serveOptions.leaseQuota.perStation,
                   "leased serials one station may hold unused")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
        ->capture_default_str();
    app.add_option("--lease-quota-region", serveOptions.leaseQuota.perRegion,
                   "leased serials all the stations of one region may hold unused")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
        ->capture_default_str();
    app.add_flag("--quiet", serveOptions.quiet, "no access log");

    auto* seed = app.add_subcommand("seed", "fill the database with a synthetic union");
    std::uint64_t members = 3'100'000;
    std::uint64_t randomSeed = 1;
    seed->add_option("--members", members, "members to create")
        ->check(CLI::Range(1, 10'000'000))
        ->capture_default_str();
    seed->add_option("--random-seed", randomSeed, "the same seed gives the same union")
        ->capture_default_str();

    auto* migrate = app.add_subcommand("migrate", "bring the database's schema up to date");

    int deviceStatus = 0;
    daemon::addDeviceCommands(app, db, deviceStatus);

    auto* import = app.add_subcommand("import", "import card applications from a CSV file");
    std::string importFile;
    bool partial = false;
    import->add_option("file", importFile, "CSV, UTF-8, ',' or ';', English or Russian headers")
        ->required();
    import->add_flag("--partial", partial, "import the good rows even if some are wrong");

    auto* exportCmd = app.add_subcommand("export", "export status events as CSV");
    std::uint64_t after = 0;
    std::string outFile;
    exportCmd->add_option("--after", after, "only events after this sequence number");
    exportCmd->add_option("--out", outFile, "file to write (default: standard output)");

    if (const auto exit = base::parseCommandLine(app, argc, argv))
        return *exit;

    if (app.got_subcommand(seed)) {
        auto store = openDatabase(db);
        if (!store)
            return failWith(store.error());
        SeedOptions options;
        options.members = members;
        options.randomSeed = randomSeed;
        options.now =
            std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
        auto report = seedUnion(*store.value(), options);
        if (!report)
            return failWith(report.error().message);
        const SeedReport& r = report.value();
        fmt::print("seeded {} members in {} organisations of {} regions, {} cards, {} pending "
                   "applications in {:.1f} s\n",
                   r.members, r.organisations, r.regions, r.cards, r.applications,
                   std::chrono::duration<double>(r.elapsed).count());
        return 0;
    }
    if (app.got_subcommand(migrate)) {
        auto store = openDatabase(db);
        if (!store)
            return failWith(store.error());
        auto version = store.value()->schemaVersion();
        if (!version)
            return failWith(version.error().message);
        fmt::print("schema version {}\n", version.value());
        return 0;
    }
    if (app.got_subcommand("device") || app.got_subcommand("event"))
        return deviceStatus;
    if (app.got_subcommand(import)) {
        auto store = openDatabase(db);
        if (!store)
            return failWith(store.error());
        std::ifstream in(importFile, std::ios::binary);
        if (!in)
            return failWith(fmt::format("cannot read '{}'", importFile));
        ImportOptions options;
        options.partial = partial;
        options.now =
            std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
        auto report = importApplicationsCsv(in, *store.value(), options);
        auto printRows = [](const std::vector<RowError>& rows) {
            for (const RowError& row : rows) {
                fmt::print(stderr, "  line {}{}: {}\n", row.line,
                           row.column.empty() ? "" : fmt::format(", column \"{}\"", row.column),
                           row.message);
            }
        };
        if (!report) {
            failWith(report.error().message);
            printRows(report.error().rows);
            return 1;
        }
        fmt::print("imported {} of {} applications\n", report->imported, report->rows);
        if (report->rejectedRows > 0) {
            fmt::print(stderr, "left out {} rows:\n", report->rejectedRows);
            printRows(report->rejected);
        }
        return 0;
    }
    if (app.got_subcommand(exportCmd)) {
        auto store = openDatabase(db);
        if (!store)
            return failWith(store.error());
        auto write = [&](std::ostream& out) {
            auto report = exportEventsCsv(*store.value(), out, after);
            if (!report)
                return failWith(report.error().message);
            fmt::print(stderr, "exported {} events; the next export continues after sequence {}\n",
                       report->rows, report->lastSequence);
            return 0;
        };
        if (outFile.empty())
            return write(std::cout);
        std::ofstream out(outFile, std::ios::binary | std::ios::trunc);
        if (!out)
            return failWith(fmt::format("cannot write '{}'", outFile));
        return write(out);
    }
    return serve(db, serveOptions);
}
