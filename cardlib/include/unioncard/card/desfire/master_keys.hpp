// SPDX-License-Identifier: Apache-2.0
#pragma once

// The AES-128 master keys from which every card's own keys are diversified (AN10922), by role
// ("picc-master", "app-master", "record-read", "record-write"). A station's key file holds all
// roles; a verifier's only "record-read". At rest the file is encrypted: AES-256-GCM under a key
// derived from the passphrase by scrypt (RFC 7914), the format named in its authenticated header.
//
// Each set of master keys has a key version (1 to 255), which personalisation writes into every
// card key it sets (ChangeKey's version byte) and which a reader asks the card for
// (GetKeyVersion). A new set is a new version: the trust list can then retire an old one whose
// keys were stolen (docs/card-format.md §Trust list).

#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace unioncard::card::desfire {

/// Where a card's own keys come from: a master key, by role and version, that diversifies the
/// card's AN10922 input. In memory (MasterKeys), or on a PKCS#11 token where the master never
/// leaves it (card/pkcs11.hpp, TokenCardKeys).
class CardKeySource {
public:
    virtual ~CardKeySource() = default;
    /// AN10922 §2.2 AES-128 diversification, CMAC over 0x01 || `input` under the master of
    /// `role` and `version`: the card's own key (16 bytes). The message names what is missing.
    virtual Result<Bytes, std::string> diversify(std::string_view role, std::uint8_t version,
                                                 std::span<const std::uint8_t> input) const = 0;
    /// The versions of `role` this source holds, ascending.
    virtual std::vector<std::uint8_t> versions(std::string_view role) const = 0;

protected:
    CardKeySource() = default;
    CardKeySource(const CardKeySource&) = default;
    CardKeySource& operator=(const CardKeySource&) = default;
    CardKeySource(CardKeySource&&) = default;
    CardKeySource& operator=(CardKeySource&&) = default;
};

/// The version of a key set made before key versions were named, and the default of a new one.
inline constexpr std::uint8_t kFirstKeyVersion = 1;

class MasterKeys final : public CardKeySource {
public:
    MasterKeys() = default;
    MasterKeys(const MasterKeys&) = delete;
    MasterKeys& operator=(const MasterKeys&) = delete;
    MasterKeys(MasterKeys&&) = default;
    MasterKeys& operator=(MasterKeys&&) = default;
    ~MasterKeys() override;

    /// Fresh random keys from OpenSSL's CSPRNG, one per role, of key version `version` (1-255).
    static MasterKeys generate(const std::vector<std::string>& roles,
                               std::uint8_t version = kFirstKeyVersion);
    static Result<MasterKeys, KeyError> load(const std::filesystem::path& file,
                                             const Secret& passphrase);
    /// Written atomically, mode 0600, never over an existing file.
    std::optional<KeyError> save(const std::filesystem::path& file, const Secret& passphrase) const;

    /// A copy holding only these roles (what a verifier is given), of the same version.
    Result<MasterKeys, KeyError> only(const std::vector<std::string>& roles) const;

    /// The key of a role, or nothing.
    std::optional<std::span<const std::uint8_t>> key(std::string_view role) const;
    std::vector<std::string> roles() const;

    /// Sets a role's key (tests and imports).
    void set(const std::string& role, std::span<const std::uint8_t> key);

    /// The key version of this set (1 to 255); a file saved before versions were named is 1.
    std::uint8_t version() const { return m_version; }
    /// 1 to 255; 0 is no version (a programming error, stopped by assert).
    void setVersion(std::uint8_t version);

    Result<Bytes, std::string> diversify(std::string_view role, std::uint8_t version,
                                         std::span<const std::uint8_t> input) const override;
    std::vector<std::uint8_t> versions(std::string_view role) const override;

private:
    std::map<std::string, Bytes, std::less<>> m_keys;
    std::uint8_t m_version = kFirstKeyVersion;
};

} // namespace unioncard::card::desfire
