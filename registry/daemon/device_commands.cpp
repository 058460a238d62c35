// SPDX-License-Identifier: Apache-2.0
#include "device_commands.hpp"

#include "daemon_support.hpp"

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/service.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace unioncard::registry::daemon {
namespace {

// Who runs the command, for the device log: the login that ran it.
std::string operatorName() {
    for (const char* name : {"SUDO_USER", "USER", "LOGNAME"}) {
        if (const char* value = std::getenv(name); value != nullptr && *value != '\0')
            return value;
    }
    if (const passwd* user = getpwuid(getuid()); user != nullptr && user->pw_name != nullptr)
        return user->pw_name;
    return "unknown";
}

// The SHA-256 of a PEM certificate's DER, lowercase hex; empty when the file holds none.
std::string certificateSha256(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file)
        return {};
    std::unique_ptr<X509, void (*)(X509*)> cert(
        PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
    std::array<unsigned char, 32> digest{};
    unsigned int length = 0;
    if (!cert || X509_digest(cert.get(), EVP_sha256(), digest.data(), &length) != 1)
        return {};
    return card::toHex(std::span<const std::uint8_t>(digest.data(), length));
}

struct DeviceOptions {
    std::string id, role, expiresAt, certificate;
    int region = 0;
    int days = 365;
    bool certificateOnly = false;
};

int add(const std::string& db, const DeviceOptions& o) {
    auto role = parseRole(o.role);
    if (!role)
        return failWith(
            fmt::format("unknown role '{}': station, verifier, merchant or admin", o.role));
    if (!card::isValidStationId(o.id))
        return failWith(fmt::format("'{}' is not a valid id: 1-32 of a-z 0-9 -", o.id));
    Device d;
    d.id = o.id;
    d.role = *role;
    if (o.region != 0)
        d.region = o.region;
    d.expiresAt =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()) +
        std::chrono::days(o.days);
    if (!o.expiresAt.empty()) {
        auto parsed = api::parseTime(o.expiresAt);
        if (!parsed)
            return failWith(
                fmt::format("--expires-at wants an RFC 3339 time, not '{}'", o.expiresAt));
        d.expiresAt = *parsed;
    }
    auto store = openDatabase(db);
    if (!store)
        return failWith(store.error());
    // Adding again would re-enable a disabled device and mix credentials: changes have their
    // own commands.
    auto existing = store.value()->deviceById(o.id);
    if (!existing)
        return failWith(existing.error().message);
    if (existing.value())
        return failWith(fmt::format("'{}' is registered already: use device rotate, disable or "
                                    "enable",
                                    o.id));
    if (!o.certificate.empty()) {
        d.certificateSha256 = certificateSha256(o.certificate);
        if (d.certificateSha256->empty())
            return failWith(fmt::format("'{}' holds no PEM certificate", o.certificate));
    }
    const bool noToken = o.certificateOnly || !o.certificate.empty();
    const std::string token = noToken ? std::string() : newToken();
    if (auto error = store.value()->putDevice(
            d, noToken ? std::nullopt : std::optional(tokenDigest(token)), operatorName()))
        return failWith(error->message);
    if (!noToken)
        fmt::print("{}\n", token); // shown once; the registry keeps only its SHA-256
    return 0;
}

int change(const std::string& db, const std::string& id, DeviceAction action,
           const std::string& certificate) {
    auto store = openDatabase(db);
    if (!store)
        return failWith(store.error());
    std::optional<std::string> credential;
    std::string token;
    if (action == DeviceAction::Rotate) {
        auto current = store.value()->deviceById(id);
        if (!current)
            return failWith(current.error().message);
        if (!current.value())
            return failWith(fmt::format("no device '{}' is registered", id));
        if (!certificate.empty()) {
            // Pinned to this certificate from now on; a token it had stops.
            action = DeviceAction::Pin;
            credential = certificateSha256(certificate);
            if (credential->empty())
                return failWith(fmt::format("'{}' holds no PEM certificate", certificate));
        } else if (!current.value()->hasToken) {
            // A new token would leave its certificate working: that is no rotation.
            return failWith(fmt::format("'{}' signs in with a client certificate: give the new "
                                        "one with --certificate (it is then the only one)",
                                        id));
        } else {
            token = newToken();
            credential = tokenDigest(token);
        }
    }
    auto changed = store.value()->changeDevice(id, action, credential, operatorName());
    if (!changed)
        return failWith(changed.error().message);
    if (!token.empty())
        fmt::print("{}\n", token); // the new token, shown once; the old one no longer works
    return 0;
}

int list(const std::string& db, bool json) {
    auto store = openDatabase(db);
    if (!store)
        return failWith(store.error());
    auto all = store.value()->devices();
    if (!all)
        return failWith(all.error().message);
    nlohmann::json items = nlohmann::json::array();
    for (const Device& d : all.value()) {
        const std::string credential = d.certificateSha256 ? "certificate (pinned)" : "token";
        if (json) {
            items.push_back({{"id", d.id},
                             {"role", toString(d.role)},
                             {"region", d.region ? nlohmann::json(*d.region) : nullptr},
                             {"expires_at", api::formatTime(d.expiresAt)},
                             {"disabled", d.disabled},
                             {"certificate_sha256", d.certificateSha256.value_or("")}});
        } else {
            fmt::print("{:<24} {:<9} {:>6} {} {}{}\n", d.id, toString(d.role),
                       d.region ? fmt::format("{:02}", *d.region) : "-",
                       api::formatTime(d.expiresAt), credential, d.disabled ? " DISABLED" : "");
        }
    }
    if (json)
        fmt::print("{}\n", nlohmann::json{{"devices", items}}.dump());
    return 0;
}

int log(const std::string& db, const std::string& id) {
    auto store = openDatabase(db);
    if (!store)
        return failWith(store.error());
    auto entries = store.value()->deviceAudit(id);
    if (!entries)
        return failWith(entries.error().message);
    for (const DeviceAuditEntry& e : entries.value())
        fmt::print("{} {} {} by {}\n", api::formatTime(e.at), e.deviceId, e.action, e.by);
    return 0;
}

int addEvent(const std::string& db, const std::string& id, const std::string& name,
             const std::vector<std::string>& desks) {
    auto store = openDatabase(db);
    if (!store)
        return failWith(store.error());
    if (auto error = store.value()->putEvent(id, name, desks, operatorName()))
        return failWith(error->message);
    fmt::print("event {}: {} desk(s) added\n", id, desks.size());
    return 0;
}

} // namespace

void addDeviceCommands(CLI::App& app, const std::string& db, int& status) {
    auto* device = app.add_subcommand("device", "register devices and manage their credentials");
    device->require_subcommand(1);
    auto options = std::make_shared<DeviceOptions>();

    auto* add = device->add_subcommand("add", "register a device and print its token once");
    add->add_option("--id", options->id, "station or verifier id (a-z 0-9 -)")->required();
    add->add_option("--role", options->role, "station, verifier, merchant or admin")->required();
    add->add_option("--region", options->region, "the station's region (required for a station)")
        ->check(CLI::Range(1, 89));
    add->add_option("--days", options->days, "the credential's lifetime")
        ->check(CLI::Range(1, 3650))
        ->capture_default_str();
    add->add_option("--expires-at", options->expiresAt,
                    "the credential's end as an RFC 3339 time (instead of --days)");
    add->add_flag("--certificate-only", options->certificateOnly,
                  "no token: the device authenticates with its client certificate (CN = id)");
    add->add_option("--certificate", options->certificate,
                    "pin this client certificate (PEM): no token, and no other certificate "
                    "for the id is accepted");
    add->callback([&db, &status, options] { status = daemon::add(db, *options); });

    for (const auto action : {DeviceAction::Disable, DeviceAction::Enable}) {
        auto* cmd = device->add_subcommand(std::string(toString(action)),
                                           action == DeviceAction::Disable
                                               ? "refuse every request of a device from now on"
                                               : "let a disabled device in again");
        cmd->add_option("--id", options->id, "the device")->required();
        cmd->callback(
            [&db, &status, options, action] { status = change(db, options->id, action, {}); });
    }
    auto* rotate = device->add_subcommand(
        "rotate", "replace a device's token (printed once) or pinned certificate; the old one "
                  "stops at once");
    rotate->add_option("--id", options->id, "the device")->required();
    rotate->add_option("--certificate", options->certificate,
                       "the new certificate (PEM) of a device pinned to one");
    rotate->callback([&db, &status, options] {
        status = change(db, options->id, DeviceAction::Rotate, options->certificate);
    });

    auto json = std::make_shared<bool>(false);
    auto* listCmd = device->add_subcommand("list", "every device, its role, region and state");
    listCmd->add_flag("--json", *json, "as JSON");
    listCmd->callback([&db, &status, json] { status = list(db, *json); });
    auto* logCmd = device->add_subcommand("log", "who added, disabled, enabled or rotated what");
    logCmd->add_option("--id", options->id, "only this device");
    logCmd->callback([&db, &status, options] { status = log(db, options->id); });

    auto* event = app.add_subcommand("event", "events and the desks that check people in there");
    event->require_subcommand(1);
    auto name = std::make_shared<std::string>();
    auto desks = std::make_shared<std::vector<std::string>>();
    auto* eventAdd = event->add_subcommand(
        "add", "register an event (or rename it) and add desks to it; only its desks may send "
               "or read its check-ins");
    eventAdd->add_option("--id", options->id, "the event's id, as the desks name it")->required();
    eventAdd->add_option("--name", *name, "what it is called")->required();
    eventAdd->add_option("--desk", *desks, "a verifier device id (repeat for each desk)");
    eventAdd->callback([&db, &status, options, name, desks] {
        status = addEvent(db, options->id, *name, *desks);
    });
}

} // namespace unioncard::registry::daemon
