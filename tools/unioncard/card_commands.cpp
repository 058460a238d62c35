// SPDX-License-Identifier: Apache-2.0
#include "card_commands.hpp"

#include "passphrase.hpp"

#include <unioncard/base/paths.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/desfire.hpp>
#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/desfire/profile.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>
#if UNIONCARD_WITH_LIBNFC
#include <unioncard/card/nfc/libnfc.hpp>
#endif
#include <unioncard/card/pkcs11.hpp>
#include <unioncard/card/trust_list.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace unioncard::cli {

namespace fs = std::filesystem;
using namespace unioncard::card;
using nlohmann::json;

namespace {

fs::path defaultProfile() {
    return base::firmwareConfigDir() / "cards" / "union-desfire.toml";
}

struct CardArgs {
    std::string reader;
    fs::path profile = defaultProfile();
    fs::path keys;
    fs::path record;
    fs::path out;
    fs::path trustList;
    std::string rootFingerprint;
    std::string uid;
    bool yes = false;
    std::vector<std::string> roles;
    unsigned keyVersion = desfire::kFirstKeyVersion;
    std::string role = "record-read";
    fs::path module;
    std::string tokenLabel;
};

// The readers a name means: the one with that full name, else every reader whose name starts
// with it ("Verifier" for "Verifier 00 00"; a reader may have several slots).
Result<std::vector<std::string>, std::string> findReaders(const pcsc::PcscContext& ctx,
                                                          const std::string& wanted) {
    using R = Result<std::vector<std::string>, std::string>;
    auto readers = ctx.listReaders();
    if (!readers) {
        return R(
            fail(fmt::format("{} ({})", readers.error().message, actionFor(readers.error().code))));
    }
    std::vector<std::string> matches;
    for (const auto& r : readers.value()) {
        if (r == wanted) {
            return std::vector<std::string>{r};
        }
        if (r.rfind(wanted, 0) == 0) {
            matches.push_back(r);
        }
    }
    if (matches.empty()) {
        std::string known;
        for (const auto& r : readers.value()) {
            known += fmt::format("{}\"{}\"", known.empty() ? "" : ", ", r);
        }
        return R(fail(fmt::format("no reader is called \"{}\" (readers: {})", wanted,
                                  known.empty() ? "none" : known)));
    }
    return matches;
}

// A libnfc connection string ("pn532_uart:/dev/ttyUSB0", "pn53x_usb:002:004") names a PN53x
// reader driven through libnfc; any other name is a PC/SC reader.
bool isLibnfcConnstring(std::string_view name) {
    return name.rfind("pn53", 0) == 0 && name.find(':') != std::string_view::npos;
}

// Connects to the card on the reader a name means. Of several slots, the one holding a card;
// when none does, says so in words with what to do.
Result<std::unique_ptr<CardConnection>, std::string> connectCard(const std::string& wanted) {
    using R = Result<std::unique_ptr<CardConnection>, std::string>;
    if (isLibnfcConnstring(wanted)) {
#if UNIONCARD_WITH_LIBNFC
        auto nfcContext = nfc::NfcContext::init();
        if (!nfcContext) {
            return R(fail(nfcContext.error().message));
        }
        auto device = nfcContext->open(wanted);
        if (!device) {
            return R(fail(
                fmt::format("{} ({})", device.error().message, actionFor(device.error().code))));
        }
        auto connection = device->connect();
        if (!connection) {
            return R(fail(fmt::format("{} ({})", connection.error().message,
                                      actionFor(connection.error().code))));
        }
        return std::move(connection).value();
#else
        return R(fail("this build has no libnfc support (UNIONCARD_WITH_LIBNFC is off)"));
#endif
    }
    auto ctx = pcsc::PcscContext::establish();
    if (!ctx) {
        return R(fail(fmt::format("{} ({})", ctx.error().message, actionFor(ctx.error().code))));
    }
    auto readers = findReaders(ctx.value(), wanted);
    if (!readers) {
        return R(fail(readers.error()));
    }
    std::vector<std::unique_ptr<CardConnection>> connected;
    std::string firstProblem;
    for (const auto& reader : readers.value()) {
        auto connection = ctx->connect(reader);
        if (connection) {
            connected.push_back(std::move(connection).value());
        } else if (firstProblem.empty()) {
            firstProblem = fmt::format("{} ({})", connection.error().message,
                                       actionFor(connection.error().code));
        }
    }
    if (connected.size() == 1) {
        return std::move(connected.front());
    }
    if (connected.empty()) {
        return R(fail(firstProblem));
    }
    return R(fail(fmt::format("more than one reader called \"{}\" holds a card: name the reader "
                              "in full",
                              wanted)));
}

std::string describe(const desfire::Error& e) {
    if (e.fault) {
        return fmt::format("{} ({})", e.message, actionFor(*e.fault));
    }
    return e.message;
}

Result<desfire::MasterKeys, std::string> loadMasterKeys(const fs::path& file) {
    using R = Result<desfire::MasterKeys, std::string>;
    auto pass = passphraseFor(KeyRole::Station);
    if (!pass) {
        return R(fail(pass.error()));
    }
    auto keys = desfire::MasterKeys::load(file, pass.value());
    if (!keys) {
        return R(fail(keys.error().message));
    }
    return std::move(keys).value();
}

// What personalise, read and format all start from: the profile, the master keys and the card.
struct CardSession {
    desfire::Profile profile;
    desfire::MasterKeys keys;
    std::unique_ptr<CardConnection> connection;
};

Result<CardSession, std::string> openCard(const CardArgs& a) {
    using R = Result<CardSession, std::string>;
    auto profile = desfire::loadProfile(a.profile);
    if (!profile) {
        return R(fail(profile.error()));
    }
    auto keys = loadMasterKeys(a.keys);
    if (!keys) {
        return R(fail(keys.error()));
    }
    auto connection = connectCard(a.reader);
    if (!connection) {
        return R(fail(connection.error()));
    }
    return CardSession{std::move(profile).value(), std::move(keys).value(),
                       std::move(connection).value()};
}

bool confirmed(const std::string& question) {
    if (!::isatty(STDIN_FILENO)) {
        return false;
    }
    std::cerr << question << " [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes" || answer == "да";
}

double millisecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

// --- commands -------------------------------------------------------------------------------

int readersCommand(const Options& o) {
    auto watcher = pcsc::ReaderWatcher::create();
    if (!watcher) {
        return refuse(
            o, kDoesNotHold,
            fmt::format("{} ({})", watcher.error().message, actionFor(watcher.error().code)));
    }
    json list = json::array();
    std::string text;
    for (const auto& r : (*watcher)->readers()) {
        list.push_back({{"reader", r.reader}, {"card", r.cardPresent}, {"atr", toHex(r.atr)}});
        text += fmt::format("{}  {}\n", r.reader,
                            r.cardPresent ? "card present (ATR " + toHex(r.atr) + ")" : "no card");
    }
    if (list.empty()) {
        text = "No readers are connected.\n";
    }
    return succeed(o, {{"readers", list}}, text);
}

int infoCommand(const Options& o, const CardArgs& a) {
    auto connection = connectCard(a.reader);
    if (!connection) {
        return refuse(o, kDoesNotHold, connection.error());
    }
    desfire::Desfire card(**connection);
    auto version = card.getVersion();
    if (!version) {
        return refuse(o, kDoesNotHold,
                      "this card does not answer as a DESFire: " + describe(version.error()));
    }
    // The card keeps what the last program selected (PC/SC leaves it powered): go to the card
    // level, where applications are listed.
    (void)card.selectApplication(0);
    const auto& v = version.value();
    json result = {{"uid", toHex(v.uid)},
                   {"generation", std::string(desfire::describe(v.generation()))},
                   {"hardware", toHex(v.hardware)},
                   {"software", toHex(v.software)},
                   {"storage_bytes", v.storageBytes()},
                   {"atr", toHex((*connection)->atr())}};
    std::string text = fmt::format("{} (hardware {:02X}.{:02X}), {} bytes\n  UID            {}\n",
                                   desfire::describe(v.generation()), v.hardware[3], v.hardware[4],
                                   v.storageBytes(), toHex(v.uid));
    if (auto apps = card.getApplicationIds()) {
        json ids = json::array();
        std::string shown;
        for (auto id : apps.value()) {
            ids.push_back(fmt::format("{:06X}", id));
            shown += fmt::format(" {:06X}", id);
        }
        result["applications"] = ids;
        text += fmt::format("  applications  {}\n", shown.empty() ? " none (blank)" : shown);
    } else {
        text += "  applications   not listed without the card key\n";
    }
    if (auto free = card.freeMemory()) {
        result["free_bytes"] = free.value();
        text += fmt::format("  free memory    {} bytes\n", free.value());
    }
    return succeed(o, result, text);
}

int personaliseCommand(const Options& o, const CardArgs& a) {
    auto record = readFile(a.record, kMaxRecordSize + 1);
    if (!record) {
        return refuse(o, kDoesNotHold, record.error().message);
    }
    if (auto view = inspectRecord(record.value()); !view || !view->record) {
        return refuse(o, kDoesNotHold,
                      fmt::format("{} is not a signed card record", a.record.string()));
    }
    auto session = openCard(a);
    if (!session) {
        return refuse(o, kDoesNotHold, session.error());
    }
    desfire::Desfire card(*session->connection);
    const auto start = std::chrono::steady_clock::now();
    auto report = desfire::personalise(card, session->profile, session->keys, record.value());
    const double ms = millisecondsSince(start);
    if (!report) {
        return refuse(o, kDoesNotHold, "personalisation failed: " + describe(report.error()),
                      {{"apdus", card.apduCount()}});
    }
    return succeed(o,
                   {{"uid", toHex(report->uid)},
                    {"apdus", report->apdus},
                    {"read_back_apdus", report->readBackApdus},
                    {"milliseconds", ms},
                    {"record_bytes", record->size()}},
                   fmt::format("Card {} personalised and checked: {} APDUs ({} for the read-back), "
                               "{:.0f} ms\n",
                               toHex(report->uid), report->apdus, report->readBackApdus, ms));
}

int readCommand(const Options& o, const CardArgs& a) {
    std::optional<TrustList> trust;
    if (a.trustList.empty() && !a.rootFingerprint.empty()) {
        return refuse(o, kUsage, "--root-fingerprint pins the root of a --trust-list: give both");
    }
    if (!a.trustList.empty()) {
        std::optional<Bytes> pin;
        if (!a.rootFingerprint.empty() && !(pin = parseFingerprint(a.rootFingerprint))) {
            return refuse(o, kUsage, "--root-fingerprint takes a SHA-256 fingerprint");
        }
        auto bytes = readFile(a.trustList, TrustList::kMaxSize);
        if (!bytes) {
            return refuse(o, kDoesNotHold, bytes.error().message);
        }
        auto loaded = TrustList::load(bytes.value(), pin);
        if (!loaded) {
            return refuse(o, kDoesNotHold, loaded.error());
        }
        trust = std::move(loaded).value();
    }
    auto session = openCard(a);
    if (!session) {
        return refuse(o, kDoesNotHold, session.error());
    }
    desfire::Desfire card(*session->connection);
    const auto start = std::chrono::steady_clock::now();
    desfire::ReadOptions options;
    if (trust) {
        options.retiredKeyVersions = trust->withdrawals().retiredCardKeyVersions;
    }
    auto read = desfire::readRecord(card, session->profile, session->keys, options);
    const double ms = millisecondsSince(start);
    if (!read) {
        const bool authFailed = read.error().status == desfire::Status::AuthenticationError ||
                                read.error().code == desfire::ErrorCode::IntegrityError;
        if (read.error().code == desfire::ErrorCode::KeyRetired) {
            return refuse(o, kDoesNotHold, "chip_auth_failed: " + read.error().message,
                          {{"verdict", "chip_auth_failed"}});
        }
        return refuse(o, kDoesNotHold,
                      authFailed ? "chip_auth_failed: the chip does not hold this card's key: a "
                                   "copy, or not a union card"
                                 : describe(read.error()),
                      {{"verdict", authFailed ? "chip_auth_failed" : "unreadable"}});
    }
    if (!a.out.empty()) {
        if (auto err = writeFileAtomically(a.out, read->record, 0644, true)) {
            return refuse(o, kDoesNotHold, err->message);
        }
    }
    json result = {{"uid", toHex(read->uid)},
                   {"apdus", read->apdus},
                   {"milliseconds", ms},
                   {"cose_sign1_hex", toHex(read->record)},
                   {"size", read->record.size()}};
    std::string text = fmt::format("Read {} bytes from card {} in {} APDUs, {:.0f} ms\n",
                                   read->record.size(), toHex(read->uid), read->apdus, ms);
    if (!trust) {
        return succeed(o, result, text);
    }
    const auto v = verifyRecord(read->record, *trust, today(), schemeOf(o));
    std::string verdict(toString(v.verdict));
    std::string reason = v.reason;
    // A chip's record must name this chip: a record of a virtual card (no UID) or of another
    // chip, copied onto a chip that answers the union's keys, is not this card's.
    if (v.verdict == Verdict::Valid && v.record &&
        (!v.record->chipUid || *v.record->chipUid != read->uid)) {
        verdict = "chip_auth_failed";
        reason = v.record->chipUid ? "the record belongs to the chip " + toHex(*v.record->chipUid) +
                                         ", not this one"
                                   : "the record names no chip: it is not this card's";
    }
    result["root_pinned"] = !a.rootFingerprint.empty();
    if (a.rootFingerprint.empty()) {
        reason += " (trust list root not pinned: pass --root-fingerprint)";
    }
    result["verdict"] = verdict;
    result["reason"] = reason;
    if (v.record) {
        result["fields"] = toJson(*v.record);
    }
    text += fmt::format("{}: {}\n", verdict, reason);
    if (verdict != "valid") {
        if (o.json) {
            result["ok"] = false;
            std::cout << result.dump(2) << '\n';
        } else {
            std::cout << text;
        }
        std::cerr << "unioncard: " << verdict << ": " << reason << '\n';
        return kDoesNotHold;
    }
    return succeed(o, result, text);
}

int formatCommand(const Options& o, const CardArgs& a) {
    auto session = openCard(a);
    if (!session) {
        return refuse(o, kDoesNotHold, session.error());
    }
    desfire::Desfire card(*session->connection);
    auto version = card.getVersion();
    if (!version) {
        return refuse(o, kDoesNotHold, describe(version.error()));
    }
    const std::string uid = toHex(version->uid);
    auto apps = card.getApplicationIds();
    const bool blank = apps && apps->empty();
    if (!blank && a.uid != uid) {
        return refuse(o, kDoesNotHold,
                      fmt::format("card {} holds data; to erase it, name it: --uid {}", uid, uid));
    }
    if (!a.yes && !confirmed(fmt::format("Erase everything on card {}?", uid))) {
        return refuse(o, kDoesNotHold, "not confirmed: nothing was erased (use --yes in scripts)");
    }
    const auto erased = desfire::eraseCard(card, session->profile, session->keys, version.value());
    if (!erased) {
        return refuse(o, kDoesNotHold, "the card was not erased: " + describe(erased.error()));
    }
    const bool factory = erased.value() == desfire::EraseKey::Factory;
    return succeed(o, {{"uid", uid}, {"formatted", true}, {"key", factory ? "factory" : "union"}},
                   fmt::format("Card {} erased: no applications left; its card master key {}\n",
                               uid,
                               factory ? "is still the factory key (personalisation had stopped "
                                         "before changing it)"
                                       : "stays the union's"));
}

} // namespace

void addCardCommands(CLI::App& app, const Options& o, int& status) {
    auto* card = app.add_subcommand("card", "work with a card on a reader (PC/SC)");
    card->require_subcommand(1);
    // The parsed arguments live as long as the callbacks that read them.
    auto args = std::make_shared<CardArgs>();
    CardArgs& a = *args;
    auto reader = [&a](CLI::App* sub) {
        sub->add_option("--reader", a.reader,
                        "the PC/SC reader (its name, or the start of it), or a libnfc connection "
                        "string (pn532_uart:/dev/ttyUSB0)")
            ->required();
    };
    auto profile = [&a](CLI::App* sub) {
        sub->add_option("--profile", a.profile, "the card profile (TOML)")->capture_default_str();
    };
    auto keys = [&a](CLI::App* sub) {
        sub->add_option("--keys", a.keys, "the encrypted master key file")->required();
    };

    auto* readers = card->add_subcommand("readers", "list the readers and their cards");
    readers->callback([&o, &status] { status = readersCommand(o); });

    auto* info = card->add_subcommand("info", "show the card's UID, version and applications");
    reader(info);
    info->callback([&o, &status, args] { status = infoCommand(o, *args); });

    auto* pers = card->add_subcommand("personalise", "install the union application on a blank "
                                                     "card and write a signed record");
    reader(pers);
    profile(pers);
    keys(pers);
    pers->add_option("--record", a.record, "the signed card record")->required();
    pers->callback([&o, &status, args] { status = personaliseCommand(o, *args); });

    auto* read = card->add_subcommand("read", "read the signed record as a verifier does");
    reader(read);
    profile(read);
    keys(read);
    read->add_option("--out", a.out, "write the record to this file");
    read->add_option("--trust-list", a.trustList, "verify the record against this trust list");
    read->add_option("--root-fingerprint", a.rootFingerprint, "the root the trust list must have");
    read->callback([&o, &status, args] { status = readCommand(o, *args); });

    auto* format = card->add_subcommand("format", "erase a card (asks first)");
    reader(format);
    profile(format);
    keys(format);
    format->add_option("--uid", a.uid, "the UID of the card to erase, if it is not blank");
    format->add_flag("--yes", a.yes, "do not ask");
    format->callback([&o, &status, args] { status = formatCommand(o, *args); });
}

void addMasterKeyCommands(CLI::App& keys, const Options& o, int& status) {
    auto args = std::make_shared<CardArgs>();
    CardArgs& a = *args;
    auto* init = keys.add_subcommand("init-card-keys", "create the master keys cards are "
                                                       "diversified from");
    init->add_option("--out", a.out, "the encrypted key file to write")->required();
    init->add_option("--profile", a.profile, "the card profile naming the roles")
        ->capture_default_str();
    init->add_option("--key-version", a.keyVersion,
                     "the key set's version, written into every card key (a new set after a "
                     "theft takes the next one, and the trust list retires the old)")
        ->check(CLI::Range(1, 255))
        ->capture_default_str();
    init->callback([&o, &status, args] {
        const CardArgs& a = *args;
        auto profile = desfire::loadProfile(a.profile);
        if (!profile) {
            status = refuse(o, kDoesNotHold, profile.error());
            return;
        }
        auto pass = newPassphraseFor(KeyRole::Station);
        if (!pass) {
            status = refuse(o, kDoesNotHold, pass.error());
            return;
        }
        const auto keys = desfire::MasterKeys::generate(profile->roles(),
                                                        static_cast<std::uint8_t>(a.keyVersion));
        if (auto err = keys.save(a.out, pass.value())) {
            status = refuse(o, kDoesNotHold, err->message);
            return;
        }
        status = succeed(
            o,
            {{"file", a.out.string()}, {"roles", profile->roles()}, {"key_version", a.keyVersion}},
            fmt::format("Master keys for {} (version {}) written to {} (encrypted)\n",
                        fmt::join(profile->roles(), ", "), a.keyVersion, a.out.string()));
    });
    auto* exportCmd = keys.add_subcommand("export-card-keys", "copy some roles into a new key "
                                                              "file (a verifier gets record-read)");
    exportCmd->add_option("--keys", a.keys, "the key file to copy from")->required();
    exportCmd->add_option("--roles", a.roles, "the roles to copy")->required();
    exportCmd->add_option("--out", a.out, "the new key file")->required();
    exportCmd->callback([&o, &status, args] {
        const CardArgs& a = *args;
        auto keys = loadMasterKeys(a.keys);
        if (!keys) {
            status = refuse(o, kDoesNotHold, keys.error());
            return;
        }
        auto subset = keys->only(a.roles);
        if (!subset) {
            status = refuse(o, kDoesNotHold, subset.error().message);
            return;
        }
        auto pass = newPassphraseFor(KeyRole::Station);
        if (!pass) {
            status = refuse(o, kDoesNotHold, pass.error());
            return;
        }
        if (auto err = subset->save(a.out, pass.value())) {
            status = refuse(o, kDoesNotHold, err->message);
            return;
        }
        status =
            succeed(o, {{"file", a.out.string()}, {"roles", a.roles}},
                    fmt::format("{} written to {}\n", fmt::join(a.roles, ", "), a.out.string()));
    });
}

void addTokenKeyCommands(CLI::App& keys, const Options& o, int& status) {
    auto args = std::make_shared<CardArgs>();
    auto* importCmd = keys.add_subcommand("import-card-key",
                                          "put a master key on a PKCS#11 token for a verifier: it "
                                          "never leaves the token, which makes each card's key");
    importCmd->add_option("--keys", args->keys, "the key file to take it from")->required();
    importCmd->add_option("--role", args->role, "the role to import")->capture_default_str();
    importCmd->add_option("--pkcs11-module", args->module, "the token's PKCS#11 module")
        ->required();
    importCmd->add_option("--token-label", args->tokenLabel, "the token's label")->required();
    importCmd->callback([&o, &status, args] {
        const CardArgs& a = *args;
        auto file = loadMasterKeys(a.keys);
        if (!file) {
            status = refuse(o, kDoesNotHold, file.error());
            return;
        }
        const auto key = file->key(a.role);
        if (!key) {
            status = refuse(o, kDoesNotHold,
                            fmt::format("{} holds no '{}' key", a.keys.string(), a.role));
            return;
        }
        const char* pin = std::getenv("UNIONCARD_TOKEN_PIN");
        if (pin == nullptr) {
            status = refuse(o, kUsage, "set UNIONCARD_TOKEN_PIN to the token's user PIN");
            return;
        }
        auto session = pkcs11::Session::open(a.module, a.tokenLabel, Secret(pin));
        if (!session) {
            status = refuse(o, kDoesNotHold, session.error().message);
            return;
        }
        if (auto err = pkcs11::importCardKey(**session, a.role, file->version(), *key)) {
            status = refuse(o, kDoesNotHold, err->message);
            return;
        }
        const std::string label = pkcs11::cardKeyLabel(a.role, file->version());
        status = succeed(o,
                         {{"token", a.tokenLabel},
                          {"label", label},
                          {"role", a.role},
                          {"key_version", file->version()}},
                         fmt::format("'{}' key version {} is on token {} as {}; the key file can "
                                     "leave this desk\n",
                                     a.role, file->version(), a.tokenLabel, label));
    });
}

} // namespace unioncard::cli
