// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/desfire/profile.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace unioncard::card::desfire {

namespace {

using R = Result<Profile, std::string>;

std::optional<Bytes> hex(std::string_view s) {
    if (s.size() % 2 != 0) {
        return std::nullopt;
    }
    Bytes out;
    for (std::size_t i = 0; i < s.size(); i += 2) {
        unsigned v = 0;
        for (int k = 0; k < 2; ++k) {
            const char c = s[i + static_cast<std::size_t>(k)];
            const int d = (c >= '0' && c <= '9')   ? c - '0'
                          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                          : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                   : -1;
            if (d < 0) {
                return std::nullopt;
            }
            v = v * 16 + static_cast<unsigned>(d);
        }
        out.push_back(static_cast<std::uint8_t>(v));
    }
    return out;
}

std::optional<CommMode> commMode(std::string_view s) {
    if (s == "plain") {
        return CommMode::Plain;
    }
    if (s == "mac") {
        return CommMode::Mac;
    }
    if (s == "full") {
        return CommMode::Full;
    }
    return std::nullopt;
}

} // namespace

std::optional<std::uint8_t> Profile::keyNumber(std::string_view role) const {
    for (const auto& k : keys) {
        if (k.role == role) {
            return k.number;
        }
    }
    return std::nullopt;
}

const ProfileFile* Profile::file(std::string_view wanted) const {
    for (const auto& f : files) {
        if (f.name == wanted) {
            return &f;
        }
    }
    return nullptr;
}

bool Profile::allows(Generation g) const {
    return std::find(generations.begin(), generations.end(), g) != generations.end();
}

std::vector<std::string> Profile::roles() const {
    std::vector<std::string> out{piccMasterRole};
    for (const auto& k : keys) {
        out.push_back(k.role);
    }
    return out;
}

Result<Profile, std::string> parseProfile(std::string_view text, std::string_view source) {
    toml::table t;
    try {
        t = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        return R(
            fail(fmt::format("{}: line {}: {}", source, e.source().begin.line, e.description())));
    }
    auto bad = [&](std::string_view what) {
        return R(fail(fmt::format("{}: {}", source, what)));
    };
    // Every integer setting is checked against the range the card takes.
    auto integer = [](auto n, std::int64_t lo, std::int64_t hi) -> std::optional<std::int64_t> {
        const auto v = n.template value<std::int64_t>();
        if (!v || *v < lo || *v > hi) {
            return std::nullopt;
        }
        return v;
    };

    Profile p;
    p.name = t["profile"].value_or(std::string());
    if (p.name.empty() || t["version"].value_or(0) != 1) {
        return bad("needs 'profile' (a name) and 'version = 1'");
    }
    const auto piccSettings = integer(t["picc"]["key_settings"], 0, 0x0F);
    const auto random = t["picc"]["random_uid"].value<bool>();
    p.piccMasterRole = t["picc"]["master_key"].value_or(std::string());
    if (!piccSettings || !random || p.piccMasterRole.empty()) {
        return bad("[picc] needs key_settings (0-0x0F), random_uid (true or false) and master_key "
                   "(a role)");
    }
    p.piccKeySettings = static_cast<std::uint8_t>(*piccSettings);
    p.randomUid = *random;

    const auto aid = integer(t["application"]["aid"], 1, 0xFFFFFF);
    const auto appSettings = integer(t["application"]["key_settings"], 0, 0xFF);
    if (!aid || !appSettings) {
        return bad("[application] needs aid (1-0xFFFFFF; 0 is the card level) and key_settings "
                   "(0-0xFF)");
    }
    if (t["application"]["key_type"].value_or(std::string()) != "aes128") {
        return bad("[application] key_type must be \"aes128\": the union uses AES keys with EV2 "
                   "secure messaging only");
    }
    p.aid = static_cast<std::uint32_t>(*aid);
    p.appKeySettings = static_cast<std::uint8_t>(*appSettings);

    const auto* keys = t["application"]["keys"].as_array();
    if (keys == nullptr || keys->empty() || keys->size() > 14) {
        return bad("[[application.keys]] must list 1 to 14 keys");
    }
    std::set<std::string> roles{p.piccMasterRole};
    for (std::size_t i = 0; i < keys->size(); ++i) {
        const auto* k = (*keys)[i].as_table();
        const auto number = k != nullptr ? integer((*k)["number"], 0, 13) : std::nullopt;
        const std::string role = k != nullptr ? (*k)["role"].value_or(std::string()) : "";
        if (!number || role.empty() || static_cast<std::size_t>(*number) != i) {
            return bad(fmt::format("application key {} needs number = {} and a role", i, i));
        }
        if (!roles.insert(role).second) {
            return bad(fmt::format("key role '{}' is used twice: every key has its own", role));
        }
        p.keys.push_back(ProfileKey{static_cast<std::uint8_t>(*number), role});
    }

    const auto* files = t["application"]["files"].as_array();
    if (files == nullptr || files->empty()) {
        return bad("[[application.files]] must list the application's files");
    }
    std::set<std::int64_t> numbers;
    for (const auto& node : *files) {
        const auto* f = node.as_table();
        if (f == nullptr) {
            return bad("each [[application.files]] entry is a table");
        }
        ProfileFile pf;
        const auto number = integer((*f)["number"], 0, 31);
        pf.name = (*f)["name"].value_or(std::string());
        const std::string type = (*f)["type"].value_or(std::string());
        const auto size = integer((*f)["size"], 1, 8192);
        const auto mode = commMode((*f)["comm_mode"].value_or(std::string()));
        const auto read = integer((*f)["read"], 0, 15);
        const auto write = integer((*f)["write"], 0, 15);
        const auto readWrite = integer((*f)["read_write"], 0, 15);
        const auto change = integer((*f)["change"], 0, 15);
        if (!number || pf.name.empty() || (type != "backup" && type != "standard") || !size ||
            !mode || !read || !write || !readWrite || !change) {
            return bad(
                fmt::format("file '{}' needs number (0-31), name, type (backup or "
                            "standard), size (1-8192), comm_mode (plain, mac or full) and "
                            "read, write, read_write, change (key numbers, 14 free, 15 never)",
                            pf.name));
        }
        if (!numbers.insert(*number).second) {
            return bad(fmt::format("file number {} is used twice", *number));
        }
        pf.number = static_cast<std::uint8_t>(*number);
        pf.backup = type == "backup";
        pf.size = static_cast<std::uint32_t>(*size);
        pf.mode = *mode;
        pf.rights =
            AccessRights{static_cast<std::uint8_t>(*read), static_cast<std::uint8_t>(*write),
                         static_cast<std::uint8_t>(*readWrite), static_cast<std::uint8_t>(*change)};
        for (std::uint8_t k :
             {pf.rights.read, pf.rights.write, pf.rights.readWrite, pf.rights.change}) {
            if (k < kFreeAccess && k >= p.keys.size()) {
                return bad(fmt::format(
                    "file '{}' names key {}, which the application does not have", pf.name, k));
            }
        }
        p.files.push_back(std::move(pf));
    }

    const auto sysId = hex(t["diversification"]["system_identifier"].value_or(std::string()));
    // AN10922 §2.2: UID (7) + AID (3) + system identifier make at most 31 bytes of input.
    if (!sysId || sysId->empty() || sysId->size() > 21) {
        return bad("[diversification] system_identifier must be 1 to 21 bytes in hex");
    }
    p.systemIdentifier = *sysId;

    // [chip]: which chips, and how long commands travel. Optional; the defaults are the union
    // card's (EV2 and EV3, 54-byte frames, ISO chaining).
    if (t.contains("chip")) {
        const auto* gens = t["chip"]["generations"].as_array();
        if (gens == nullptr || gens->empty()) {
            return bad("[chip] generations must list at least one of \"ev1\", \"ev2\", \"ev3\"");
        }
        p.generations.clear();
        for (const auto& g : *gens) {
            const std::string name = g.value_or(std::string());
            const Generation gen = name == "ev1"   ? Generation::Ev1
                                   : name == "ev2" ? Generation::Ev2
                                   : name == "ev3" ? Generation::Ev3
                                                   : Generation::Unknown;
            if (gen == Generation::Unknown) {
                return bad(
                    fmt::format("[chip] generations: '{}' is not one of ev1, ev2, ev3", name));
            }
            p.generations.push_back(gen);
        }
        // An EV2 authentication's second frame carries 32 bytes; no DESFire takes more than 54.
        const auto frame = integer(t["chip"]["command_frame"], 32, 54);
        const std::string chaining = t["chip"]["chaining"].value_or(std::string());
        if (!frame || (chaining != "iso" && chaining != "native")) {
            return bad("[chip] needs command_frame (32-54 bytes of data in one frame) and "
                       "chaining (\"iso\" or \"native\")");
        }
        p.frames.commandData = static_cast<std::size_t>(*frame);
        p.frames.chaining = chaining == "iso" ? Chaining::Iso : Chaining::Native;
        if (p.frames.chaining == Chaining::Iso && p.allows(Generation::Ev1)) {
            return bad("[chip] chaining = \"iso\" needs EV2 or later: an EV1 has no ReadData AD "
                       "or WriteData 8D, so list only ev2 and ev3, or use \"native\"");
        }
    }
    return p;
}

Result<Profile, std::string> loadProfile(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) {
        return R(fail(fmt::format("cannot read the card profile {}", file.string())));
    }
    std::stringstream text;
    text << in.rdbuf();
    return parseProfile(text.str(), file.string());
}

} // namespace unioncard::card::desfire
