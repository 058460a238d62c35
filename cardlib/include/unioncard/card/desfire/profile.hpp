// SPDX-License-Identifier: Apache-2.0
#pragma once

// A personalisation profile: what a chip holds once issued (firmware-config/cards/*.toml).

#include <unioncard/card/desfire/desfire.hpp>
#include <unioncard/card/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace unioncard::card::desfire {

struct ProfileKey {
    std::uint8_t number;
    std::string role; ///< a master key role in the key store
};

struct ProfileFile {
    std::uint8_t number;
    std::string name;
    bool backup = true;
    std::uint32_t size = 0;
    CommMode mode = CommMode::Mac;
    AccessRights rights;
};

struct Profile {
    std::string name;
    std::uint8_t piccKeySettings = 0;
    bool randomUid = false;
    std::string piccMasterRole;
    std::uint32_t aid = 0;
    std::uint8_t appKeySettings = 0;
    std::vector<ProfileKey> keys;
    std::vector<ProfileFile> files;
    Bytes systemIdentifier;
    /// The chip generations this profile may personalise and read ([chip] generations).
    std::vector<Generation> generations{Generation::Ev2, Generation::Ev3};
    /// Frame size and chaining style of commands to the chip ([chip] command_frame, chaining).
    FrameLimits frames;

    bool allows(Generation g) const;

    /// The key number of a role in the application, or nothing.
    std::optional<std::uint8_t> keyNumber(std::string_view role) const;
    const ProfileFile* file(std::string_view name) const;
    /// Every role a station needs: the PICC master and the application's.
    std::vector<std::string> roles() const;
};

/// Reads and checks a profile; every refusal names the setting.
Result<Profile, std::string> loadProfile(const std::filesystem::path& file);
Result<Profile, std::string> parseProfile(std::string_view toml,
                                          std::string_view source = "profile");

} // namespace unioncard::card::desfire
