// SPDX-License-Identifier: Apache-2.0
// unioncard: the command line for operators and administrators. Thin: every rule lives in
// cardlib. Exit codes: 0 the thing holds, 1 it does not (the reason on stderr), 2 wrong usage.

#include "card_commands.hpp"
#include "common.hpp"
#include "passphrase.hpp"
#include "print_commands.hpp"
#include "printer_commands.hpp"

#include <unioncard/base/program.hpp>
#include <unioncard/card/card_number.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/trust_list.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace unioncard;
using namespace unioncard::card;
using nlohmann::json;
using namespace unioncard::cli;

namespace {

// File names inside a key directory (docs/card-format.md §Key directories).
constexpr const char* kRootKeyFile = "root-key.pem";
constexpr const char* kRootCertFile = "root-cert.pem";
constexpr const char* kStationKeyFile = "station-key.pem";
constexpr const char* kStationCertFile = "station-cert.pem";
constexpr const char* kStatusKeyFile = "status-key.pem";
constexpr const char* kStatusCertFile = "status-cert.pem";

Seconds startOfToday() {
    return Seconds{today()};
}

std::optional<KeyError> makePrivateDir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return KeyError{KeyErrorCode::Io,
                        fmt::format("cannot create {}: {}", dir.string(), ec.message())};
    }
    ::chmod(dir.c_str(), 0700);
    return std::nullopt;
}

std::optional<KeyError> writeText(const fs::path& file, const std::string& text) {
    return writeFileAtomically(
        file, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, 0644);
}

std::string certSummary(const Certificate& c) {
    return fmt::format("  subject        {}\n  valid          {} to {}\n  key id         {}\n"
                       "  fingerprint    {}\n",
                       c.commonName(),
                       formatDate(std::chrono::floor<std::chrono::days>(c.notBefore())),
                       formatDate(std::chrono::floor<std::chrono::days>(c.notAfter())),
                       toHex(c.keyId()), formatFingerprint(c.fingerprint()));
}

json certJson(const Certificate& c) {
    return {{"subject", c.commonName()},
            {"not_before", formatDate(std::chrono::floor<std::chrono::days>(c.notBefore()))},
            {"not_after", formatDate(std::chrono::floor<std::chrono::days>(c.notAfter()))},
            {"key_id", toHex(c.keyId())},
            {"fingerprint", formatFingerprint(c.fingerprint())}};
}

// A signing identity from its key directory: the certificate, then the key under the
// passphrase for its role.
struct Identity {
    PrivateKey key;
    Certificate cert;
};

Result<Identity, std::string> loadIdentity(const fs::path& dir, const char* keyFile,
                                           const char* certFile, cli::KeyRole role) {
    using R = Result<Identity, std::string>;
    auto cert = Certificate::load(dir / certFile);
    if (!cert) {
        return R(fail(cert.error().message));
    }
    auto pass = cli::passphraseFor(role);
    if (!pass) {
        return R(fail(pass.error()));
    }
    auto key = PrivateKey::load(dir / keyFile, pass.value());
    if (!key) {
        return R(fail(key.error().message));
    }
    return Identity{std::move(key).value(), std::move(cert).value()};
}

// A new key with the passphrase that will protect it.
struct NewKey {
    PrivateKey key;
    Secret passphrase;
};

Result<NewKey, std::string> newKey(cli::KeyRole role) {
    using R = Result<NewKey, std::string>;
    auto pass = cli::newPassphraseFor(role);
    if (!pass) {
        return R(fail(pass.error()));
    }
    auto key = PrivateKey::generate();
    if (!key) {
        return R(fail(key.error().message));
    }
    return NewKey{std::move(key).value(), std::move(pass).value()};
}

// Writes a key directory: the encrypted key, then the certificates beside it. If any file
// cannot be written, the ones this call wrote are removed again: no key without its
// certificate is left behind.
std::optional<KeyError>
writeKeyDirectory(const fs::path& dir, const char* keyFile, const NewKey& key,
                  std::initializer_list<std::pair<const char*, const Certificate*>> certs) {
    if (auto err = makePrivateDir(dir)) {
        return err;
    }
    std::vector<fs::path> written;
    std::optional<KeyError> err = key.key.save(dir / keyFile, key.passphrase);
    if (!err) {
        written.push_back(dir / keyFile);
    }
    for (const auto& [file, cert] : certs) {
        if (!err) {
            err = writeText(dir / file, cert->toPem());
            if (!err) {
                written.push_back(dir / file);
            }
        }
    }
    if (err) {
        for (const auto& f : written) {
            std::error_code ignored;
            fs::remove(f, ignored);
        }
    }
    return err;
}

// ---------------------------------------------------------------------------------------------
// number

int describeNumber(const Options& o, const std::string& action,
                   const Result<CardNumber, NumberError>& number);

int numberCommand(const Options& o, const std::string& action, const std::string& typed) {
    return describeNumber(o, action, CardNumber::parse(typed, schemeOf(o)));
}

// The number a station gives the card with this serial of its leased block.
int composeCommand(const Options& o, int region, std::uint64_t serial) {
    return describeNumber(o, "format", CardNumber::compose(region, serial, schemeOf(o)));
}

int describeNumber(const Options& o, const std::string& action,
                   const Result<CardNumber, NumberError>& number) {
    if (!number) {
        return refuse(
            o, kDoesNotHold, number.error().message,
            {{"valid", false}, {"error_code", std::string(toString(number.error().code))}});
    }
    const json result = {{"valid", true},
                         {"digits", number->digits()},
                         {"formatted", number->formatted()},
                         {"masked", number->masked()},
                         {"prefix", number->prefix()},
                         {"region", number->region()},
                         {"serial", number->serial()}};
    if (action == "format") {
        return succeed(o, result, number->formatted() + "\n");
    }
    if (action == "mask") {
        return succeed(o, result, number->masked() + "\n");
    }
    return succeed(o, result,
                   fmt::format("{} is a valid union card number (region {:02}, serial {})\n",
                               number->formatted(), number->region(), number->serial()));
}

// ---------------------------------------------------------------------------------------------
// keys

int initRoot(const Options& o, const fs::path& out, const std::string& name, int years) {
    std::error_code ec;
    if (fs::exists(out / kRootKeyFile, ec)) {
        return refuse(o, kDoesNotHold,
                      fmt::format("{} already holds a root key; it is not replaced", out.string()));
    }
    auto key = newKey(cli::KeyRole::Root);
    if (!key) {
        return refuse(o, kDoesNotHold, key.error());
    }
    const Seconds from = startOfToday();
    auto cert = makeRootCertificate(key->key, name, {from, from + std::chrono::years{years}});
    if (!cert) {
        return refuse(o, kDoesNotHold, cert.error().message);
    }
    if (auto err =
            writeKeyDirectory(out, kRootKeyFile, key.value(), {{kRootCertFile, &cert.value()}})) {
        return refuse(o, kDoesNotHold, err->message);
    }
    return succeed(o, {{"root", certJson(cert.value())}, {"dir", out.string()}},
                   fmt::format("Union root created in {}:\n{}  key file       {} (encrypted)\n",
                               out.string(), certSummary(cert.value()),
                               (out / kRootKeyFile).string()));
}

int issueStation(const Options& o, const fs::path& rootDir, const std::string& stationId,
                 const fs::path& out, int days) {
    if (!isValidStationId(stationId)) {
        return refuse(
            o, kUsage,
            fmt::format("'{}' is not a station id: use 1 to 32 of a-z, 0-9 and '-'", stationId));
    }
    std::error_code ec;
    if (fs::exists(out / kStationKeyFile, ec)) {
        return refuse(
            o, kDoesNotHold,
            fmt::format("{} already holds a station key; it is not replaced", out.string()));
    }
    auto root = loadIdentity(rootDir, kRootKeyFile, kRootCertFile, cli::KeyRole::Root);
    if (!root) {
        return refuse(o, kDoesNotHold, root.error());
    }
    auto key = newKey(cli::KeyRole::Station);
    if (!key) {
        return refuse(o, kDoesNotHold, key.error());
    }
    const Seconds from = startOfToday();
    auto cert = issueStationCertificate(root->key, root->cert, key->key.publicKey(), stationId,
                                        {from, from + std::chrono::days{days}});
    if (!cert) {
        return refuse(o, kDoesNotHold, cert.error().message);
    }
    if (auto err =
            writeKeyDirectory(out, kStationKeyFile, key.value(),
                              {{kStationCertFile, &cert.value()}, {kRootCertFile, &root->cert}})) {
        return refuse(o, kDoesNotHold, err->message);
    }
    return succeed(o, {{"station", certJson(cert.value())}, {"dir", out.string()}},
                   fmt::format("Station key for {} created in {}:\n{}", stationId, out.string(),
                               certSummary(cert.value())));
}

// The registry's status-list signing key (docs/status-list.md): certified by the root with its
// own extended key usage, so neither it nor a station key can stand in for the other.
int issueStatusSigner(const Options& o, const fs::path& rootDir, const std::string& name,
                      const fs::path& out, int days) {
    if (name.empty() || name.size() > 64) {
        return refuse(o, kUsage, "the status signer's name must be 1 to 64 characters");
    }
    std::error_code ec;
    if (fs::exists(out / kStatusKeyFile, ec)) {
        return refuse(
            o, kDoesNotHold,
            fmt::format("{} already holds a status-signing key; it is not replaced", out.string()));
    }
    auto root = loadIdentity(rootDir, kRootKeyFile, kRootCertFile, cli::KeyRole::Root);
    if (!root) {
        return refuse(o, kDoesNotHold, root.error());
    }
    auto key = newKey(cli::KeyRole::StatusSigner);
    if (!key) {
        return refuse(o, kDoesNotHold, key.error());
    }
    const Seconds from = startOfToday();
    auto cert = issueStatusSignerCertificate(root->key, root->cert, key->key.publicKey(), name,
                                             {from, from + std::chrono::days{days}});
    if (!cert) {
        return refuse(o, kDoesNotHold, cert.error().message);
    }
    if (auto err =
            writeKeyDirectory(out, kStatusKeyFile, key.value(),
                              {{kStatusCertFile, &cert.value()}, {kRootCertFile, &root->cert}})) {
        return refuse(o, kDoesNotHold, err->message);
    }
    return succeed(o, {{"status_signer", certJson(cert.value())}, {"dir", out.string()}},
                   fmt::format("Status-signing key {} created in {}:\n{}", name, out.string(),
                               certSummary(cert.value())));
}

// ---------------------------------------------------------------------------------------------
// trust-list

int buildTrustList(const Options& o, const fs::path& rootDir, const fs::path& out,
                   const std::vector<fs::path>& stationDirs, std::optional<std::uint64_t> sequence,
                   const std::vector<unsigned>& retiredVersions,
                   const std::vector<fs::path>& withdrawnSigners) {
    Withdrawals withdrawals;
    std::vector<unsigned> retired = retiredVersions;
    std::sort(retired.begin(), retired.end());
    retired.erase(std::unique(retired.begin(), retired.end()), retired.end());
    for (const unsigned v : retired) {
        withdrawals.retiredCardKeyVersions.push_back(static_cast<std::uint8_t>(v));
    }
    json withdrawnJson = json::array();
    for (const auto& file : withdrawnSigners) {
        auto cert = Certificate::load(file);
        if (!cert) {
            return refuse(o, kDoesNotHold, cert.error().message);
        }
        if (!cert->isStatusSigner()) {
            return refuse(o, kDoesNotHold,
                          fmt::format("{} is not a status signer's certificate", file.string()));
        }
        withdrawals.withdrawnStatusSigners.push_back(cert->publicKeyFingerprint());
        withdrawnJson.push_back(formatFingerprint(cert->publicKeyFingerprint()));
    }
    std::vector<Certificate> stations;
    for (const auto& dir : stationDirs) {
        auto cert = Certificate::load(dir / kStationCertFile);
        if (!cert) {
            return refuse(o, kDoesNotHold, cert.error().message);
        }
        stations.push_back(std::move(cert).value());
    }
    auto root = loadIdentity(rootDir, kRootKeyFile, kRootCertFile, cli::KeyRole::Root);
    if (!root) {
        return refuse(o, kDoesNotHold, root.error());
    }
    const Certificate& rootCert = root->cert;
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    // By default the sequence is the time of signing, so each new list outranks the last.
    const std::uint64_t seq =
        sequence.value_or(static_cast<std::uint64_t>(now.time_since_epoch().count()));
    auto list = TrustList::build(root->key, rootCert, stations, seq, now, withdrawals);
    if (!list) {
        return refuse(o, kDoesNotHold, list.error().message);
    }
    if (auto err = writeFileAtomically(out, list.value(), 0644, true)) {
        return refuse(o, kDoesNotHold, err->message);
    }
    json ids = json::array();
    std::string text =
        fmt::format("Trust list {} written to {} ({} bytes), root {}:\n", seq, out.string(),
                    list->size(), formatFingerprint(rootCert.fingerprint()));
    for (const auto& s : stations) {
        ids.push_back(certJson(s));
        text += fmt::format("  station {} (key id {})\n", s.commonName(), toHex(s.keyId()));
    }
    for (const unsigned v : retired) {
        text += fmt::format("  card keys of version {} retired\n", v);
    }
    for (const auto& f : withdrawnJson) {
        text += fmt::format("  status signer {} withdrawn\n", f.get<std::string>());
    }
    return succeed(o,
                   {{"file", out.string()},
                    {"sequence", seq},
                    {"size", list->size()},
                    {"root_fingerprint", formatFingerprint(rootCert.fingerprint())},
                    {"stations", ids},
                    {"retired_card_key_versions", retired},
                    {"withdrawn_status_signers", withdrawnJson}},
                   text);
}

// ---------------------------------------------------------------------------------------------
// record

std::string fieldsText(const CardRecord& r) {
    std::string text = fmt::format(
        "  card number    {}\n  member id      {}\n  region         {:02}\n  organisation   {}\n"
        "  card sequence  {}\n  issued         {}\n  expires        {}\n",
        r.number.formatted(), r.memberId, r.region, r.organisation, r.sequence,
        formatDate(r.issued), formatDate(r.expires));
    if (r.chipUid) {
        text += fmt::format("  chip UID       {}\n", toHex(*r.chipUid));
    }
    return text + fmt::format("  station        {}\n", r.stationId);
}

int signCommand(const Options& o, const fs::path& stationDir, const fs::path& fieldsFile,
                const fs::path& out) {
    auto bytes = readFile(fieldsFile, 64 * 1024);
    if (!bytes) {
        return refuse(o, kDoesNotHold, bytes.error().message);
    }
    const json fields = json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (fields.is_discarded()) {
        return refuse(o, kDoesNotHold, fmt::format("{} is not JSON", fieldsFile.string()));
    }
    auto record = recordFromJson(fields, schemeOf(o));
    if (!record) {
        return refuse(o, kDoesNotHold, fmt::format("{}: {}", fieldsFile.string(), record.error()));
    }
    auto station =
        loadIdentity(stationDir, kStationKeyFile, kStationCertFile, cli::KeyRole::Station);
    if (!station) {
        return refuse(o, kDoesNotHold, station.error());
    }
    auto signedRecord = signRecord({station->key, station->cert}, record.value());
    if (!signedRecord) {
        return refuse(o, kDoesNotHold, signedRecord.error());
    }
    if (auto err = writeFileAtomically(out, signedRecord.value(), 0644, true)) {
        return refuse(o, kDoesNotHold, err->message);
    }
    return succeed(o,
                   {{"file", out.string()},
                    {"size", signedRecord->size()},
                    {"cose_sign1_hex", toHex(signedRecord.value())},
                    {"fields", toJson(record.value())}},
                   fmt::format("Signed record written to {} ({} of {} bytes)\n{}", out.string(),
                               signedRecord->size(), kMaxRecordSize, fieldsText(record.value())));
}

int verifyCommand(const Options& o, const fs::path& trustFile, const fs::path& recordFile,
                  const std::string& rootFingerprint, const fs::path& rootCertFile,
                  const std::string& at) {
    std::optional<Bytes> pin;
    if (!rootFingerprint.empty()) {
        pin = parseFingerprint(rootFingerprint);
        if (!pin) {
            return refuse(o, kUsage,
                          "--root-fingerprint takes a SHA-256 fingerprint (64 hex digits)");
        }
    } else if (!rootCertFile.empty()) {
        auto cert = Certificate::load(rootCertFile);
        if (!cert) {
            return refuse(o, kDoesNotHold, cert.error().message);
        }
        pin = cert->fingerprint();
    }
    Days when = today();
    if (!at.empty()) {
        auto d = parseDate(at);
        if (!d) {
            return refuse(o, kUsage, "--today takes a date written YYYY-MM-DD");
        }
        when = *d;
    }
    auto listBytes = readFile(trustFile, TrustList::kMaxSize);
    if (!listBytes) {
        return refuse(o, kDoesNotHold, listBytes.error().message);
    }
    auto trust = TrustList::load(listBytes.value(), pin);
    if (!trust) {
        return refuse(o, kDoesNotHold, fmt::format("{}: {}", trustFile.string(), trust.error()));
    }
    // A record file larger than the chip file is read only far enough to say so.
    auto recordBytes = readFile(recordFile, 64 * 1024);
    if (!recordBytes) {
        return refuse(o, kDoesNotHold, recordBytes.error().message);
    }
    const RecordVerification v =
        verifyRecord(recordBytes.value(), trust.value(), when, schemeOf(o));
    const bool valid = v.verdict == Verdict::Valid;
    json result = {{"verdict", std::string(toString(v.verdict))},
                   {"reason", v.reason},
                   {"size", v.size},
                   {"kid", toHex(v.kid)},
                   {"checked_on", formatDate(when)},
                   {"trust_list_sequence", trust->sequence()},
                   {"root_fingerprint", formatFingerprint(trust->root().fingerprint())},
                   {"root_pinned", pin.has_value()}};
    if (v.record) {
        result["fields"] = toJson(*v.record);
    }
    if (o.json) {
        result["ok"] = valid;
        std::cout << result.dump(2) << '\n';
    } else {
        std::string verdict(toString(v.verdict));
        for (auto& c : verdict) {
            c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        std::cout << fmt::format("{}: {}\n", verdict, v.reason);
        if (v.record) {
            std::cout << fieldsText(*v.record);
        }
        std::cout << fmt::format(
            "  record size    {} bytes\n  trust list     sequence {}, root {}{}\n", v.size,
            trust->sequence(), formatFingerprint(trust->root().fingerprint()),
            pin ? " (pinned)" : " (not pinned: pass --root-fingerprint)");
    }
    if (!valid) {
        std::cerr << "unioncard: " << toString(v.verdict) << ": " << v.reason << '\n';
    }
    return valid ? kHolds : kDoesNotHold;
}

int showCommand(const Options& o, const fs::path& recordFile) {
    auto bytes = readFile(recordFile, 64 * 1024);
    if (!bytes) {
        return refuse(o, kDoesNotHold, bytes.error().message);
    }
    auto view = inspectRecord(bytes.value(), schemeOf(o));
    if (!view) {
        return refuse(o, kDoesNotHold, "not a union card record: " + view.error());
    }
    if (!view->record) {
        return refuse(o, kDoesNotHold, "the record's payload is not valid: " + view->record.error(),
                      {{"kid", toHex(view->kid)}, {"payload_hex", toHex(view->payload)}});
    }
    return succeed(o,
                   {{"kid", toHex(view->kid)},
                    {"size", bytes->size()},
                    {"payload_hex", toHex(view->payload)},
                    {"fields", toJson(view->record.value())},
                    {"verified", false}},
                   fmt::format("Card record, {} bytes, signed with key id {} (NOT verified: use "
                               "'unioncard record verify')\n{}",
                               bytes->size(), toHex(view->kid), fieldsText(view->record.value())));
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "unioncard: card numbers, union keys, trust lists and signed card records.\n"
        "Exit status: 0 the thing holds, 1 it does not (reason on stderr), 2 wrong usage.\n"
        "Passphrases come from UNIONCARD_PASSPHRASE (or UNIONCARD_ROOT_PASSPHRASE, "
        "UNIONCARD_STATION_PASSPHRASE) or a prompt on the terminal."};
    base::conventions(app, "unioncard");
    app.require_subcommand(1);
    Options o;
    app.add_flag("--json", o.json, "print one JSON object, for scripts");
    app.add_option("--prefix", o.prefixes,
                   "accept this number prefix instead of the standard 9643 (repeatable)");

    int status = kHolds;
    auto* number = app.add_subcommand("number", "check, format or mask a card number");
    number->require_subcommand(1);
    std::string typed;
    for (const char* action : {"check", "format", "mask"}) {
        auto* sub = number->add_subcommand(action, fmt::format("{} a card number", action));
        sub->add_option("N", typed, "the number, as typed (spaces and dashes allowed)")->required();
        sub->callback([&, action] { status = numberCommand(o, action, typed); });
    }
    int composeRegion = 0;
    std::uint64_t composeSerial = 0;
    auto* compose = number->add_subcommand("compose", "the number of a region's serial");
    compose->add_option("--region", composeRegion, "region code")->required();
    compose->add_option("--serial", composeSerial, "serial within the region")->required();
    compose->callback([&] { status = composeCommand(o, composeRegion, composeSerial); });

    auto* keys = app.add_subcommand("keys", "make the union root and station signing keys");
    keys->require_subcommand(1);
    fs::path out, rootDir;
    std::string name = "Union card root", stationId;
    int years = 20, days = 3 * 365;
    auto* initRootCmd =
        keys->add_subcommand("init-root", "create the union root key and certificate");
    initRootCmd->add_option("--out", out, "directory for the new root")->required();
    initRootCmd->add_option("--name", name, "the root certificate's name")->capture_default_str();
    initRootCmd->add_option("--years", years, "years the root is valid")
        ->check(CLI::Range(1, 30))
        ->capture_default_str();
    initRootCmd->callback([&] { status = initRoot(o, out, name, years); });
    auto* issueCmd = keys->add_subcommand("issue-station", "create a station's record-signing key");
    issueCmd->add_option("--root", rootDir, "the root's directory")->required();
    issueCmd->add_option("--station-id", stationId, "the station's id (a-z, 0-9, -)")->required();
    issueCmd->add_option("--out", out, "directory for the station's key")->required();
    issueCmd->add_option("--days", days, "days the station certificate is valid")
        ->check(CLI::Range(1, 3650))
        ->capture_default_str();
    issueCmd->callback([&] { status = issueStation(o, rootDir, stationId, out, days); });

    std::string signerName = "union-status";
    auto* statusCmd =
        keys->add_subcommand("issue-status-signer", "create the registry's status-list key");
    statusCmd->add_option("--root", rootDir, "the root's directory")->required();
    statusCmd->add_option("--name", signerName, "the certificate's name")->capture_default_str();
    statusCmd->add_option("--out", out, "directory for the status-signing key")->required();
    statusCmd->add_option("--days", days, "days the certificate is valid")
        ->check(CLI::Range(1, 3650))
        ->capture_default_str();
    statusCmd->callback([&] { status = issueStatusSigner(o, rootDir, signerName, out, days); });

    addMasterKeyCommands(*keys, o, status);
    addTokenKeyCommands(*keys, o, status);
    addCardCommands(app, o, status);
    addPrintCommands(app, o, status);
    addPrinterCommands(app, o, status);

    auto* trust = app.add_subcommand("trust-list", "build the list of keys verifiers trust");
    trust->require_subcommand(1);
    std::vector<fs::path> stationDirs;
    std::optional<std::uint64_t> sequence;
    auto* buildCmd = trust->add_subcommand("build", "sign a trust list with the root key");
    buildCmd->add_option("--root", rootDir, "the root's directory")->required();
    buildCmd->add_option("--out", out, "the trust list file to write")->required();
    buildCmd->add_option("--sequence", sequence, "list number (default: the time of signing)");
    buildCmd->add_option("STATION_DIR", stationDirs, "station key directories to trust");
    std::vector<unsigned> retiredVersions;
    std::vector<fs::path> withdrawnSigners;
    buildCmd
        ->add_option("--retire-card-keys", retiredVersions,
                     "a card key version whose masters were stolen: readers refuse chips keyed "
                     "with it (repeatable)")
        ->allow_extra_args(false)
        ->check(CLI::Range(1, 255));
    buildCmd
        ->add_option("--withdraw-status-signer", withdrawnSigners,
                     "a status signer's certificate (PEM) whose key was stolen: desks refuse "
                     "every list it signed (repeatable)")
        ->allow_extra_args(false)
        ->check(CLI::ExistingFile);
    buildCmd->callback([&] {
        status = buildTrustList(o, rootDir, out, stationDirs, sequence, retiredVersions,
                                withdrawnSigners);
    });

    auto* record = app.add_subcommand("record", "sign, verify or show a signed card record");
    record->require_subcommand(1);
    fs::path stationDir, fieldsFile, trustFile, recordFile, rootCertFile;
    std::string rootFingerprint, at;
    auto* signCmd = record->add_subcommand("sign", "sign a card record with a station key");
    signCmd->add_option("--station", stationDir, "the station's key directory")->required();
    signCmd->add_option("--fields", fieldsFile, "the record's fields as JSON")->required();
    signCmd->add_option("--out", out, "the record file to write")->required();
    signCmd->callback([&] { status = signCommand(o, stationDir, fieldsFile, out); });
    auto* verifyCmd = record->add_subcommand("verify", "check a record as a verifier would");
    verifyCmd->add_option("--trust-list", trustFile, "the signed trust list")->required();
    verifyCmd->add_option("--root-fingerprint", rootFingerprint,
                          "SHA-256 fingerprint the list's root must have");
    verifyCmd->add_option("--root-cert", rootCertFile, "root certificate the list's root must be");
    verifyCmd->add_option("--today", at, "check as on this date (YYYY-MM-DD)");
    verifyCmd->add_option("RECORD", recordFile, "the record file")->required();
    verifyCmd->callback([&] {
        status = verifyCommand(o, trustFile, recordFile, rootFingerprint, rootCertFile, at);
    });
    auto* showCmd = record->add_subcommand("show", "print a record's fields without verifying");
    showCmd->add_option("RECORD", recordFile, "the record file")->required();
    showCmd->callback([&] { status = showCommand(o, recordFile); });

    try {
        if (const auto exit = base::parseCommandLine(app, argc, argv))
            return *exit;
    } catch (const std::exception& e) {
        // A bug or an environment failure below the commands' own checks: say so, never abort.
        return refuse(o, kDoesNotHold, std::string("internal error: ") + e.what());
    }
    return status;
}
