// SPDX-License-Identifier: Apache-2.0
#pragma once

// The AES-128 master keys from which every card's own keys are diversified (AN10922), by role
// ("picc-master", "app-master", "record-read", "record-write"). A station's key file holds all
// roles; a verifier's only "record-read". At rest the file is encrypted: AES-256-GCM under a key
// derived from the passphrase by scrypt (RFC 7914), the format named in its authenticated header.

#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace unioncard::card::desfire {

class MasterKeys {
public:
    MasterKeys() = default;
    MasterKeys(const MasterKeys&) = delete;
    MasterKeys& operator=(const MasterKeys&) = delete;
    MasterKeys(MasterKeys&&) = default;
    MasterKeys& operator=(MasterKeys&&) = default;
    ~MasterKeys();

    /// Fresh random keys from OpenSSL's CSPRNG, one per role.
    static MasterKeys generate(const std::vector<std::string>& roles);
    static Result<MasterKeys, KeyError> load(const std::filesystem::path& file,
                                             const Secret& passphrase);
    /// Written atomically, mode 0600, never over an existing file.
    std::optional<KeyError> save(const std::filesystem::path& file, const Secret& passphrase) const;

    /// A copy holding only these roles (what a verifier is given).
    Result<MasterKeys, KeyError> only(const std::vector<std::string>& roles) const;

    /// The key of a role, or nothing.
    std::optional<std::span<const std::uint8_t>> key(std::string_view role) const;
    std::vector<std::string> roles() const;

    /// Sets a role's key (tests and imports).
    void set(const std::string& role, std::span<const std::uint8_t> key);

private:
    std::map<std::string, Bytes, std::less<>> m_keys;
};

} // namespace unioncard::card::desfire
