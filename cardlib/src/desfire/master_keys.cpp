// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/crypto.hpp>
#include <unioncard/card/desfire/master_keys.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cassert>

namespace unioncard::card::desfire {

namespace {

constexpr const char* kFormat = "unioncard-master-keys";
// scrypt as for the signing keys (RFC 7914 §2: N = 2^14, r = 8, p = 1).
constexpr std::uint64_t kN = 1u << 14;
constexpr std::uint64_t kR = 8;
constexpr std::uint64_t kP = 1;

KeyError keyError(KeyErrorCode code, std::string message) {
    return {code, std::move(message)};
}

std::optional<Bytes> deriveKey(const Secret& passphrase, const Bytes& salt, std::uint64_t n,
                               std::uint64_t r, std::uint64_t p) {
    Bytes key(32);
    if (EVP_PBE_scrypt(passphrase.view().data(), passphrase.view().size(), salt.data(), salt.size(),
                       n, r, p, 64 * 1024 * 1024, key.data(), key.size()) != 1) {
        return std::nullopt;
    }
    return key;
}

// AES-256-GCM: the header (format, KDF parameters, salt) is authenticated data, so none of it
// can be changed without the tag failing.
bool gcm(bool encrypt, const Bytes& key, const Bytes& iv, const std::string& aad, const Bytes& in,
         Bytes& out, Bytes& tag) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    out.assign(in.size(), 0);
    bool ok =
        ctx != nullptr &&
        EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key.data(), iv.data(), encrypt ? 1 : 0,
                           nullptr) == 1 &&
        EVP_CipherUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                         static_cast<int>(aad.size())) == 1 &&
        EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) == 1;
    if (ok && !encrypt) {
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                                 tag.data()) == 1;
    }
    int finalLen = 0;
    ok = ok && EVP_CipherFinal_ex(ctx, out.data() + len, &finalLen) == 1;
    if (ok && encrypt) {
        tag.assign(16, 0);
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

} // namespace

MasterKeys::~MasterKeys() {
    for (auto& [role, key] : m_keys) {
        OPENSSL_cleanse(key.data(), key.size());
    }
}

MasterKeys MasterKeys::generate(const std::vector<std::string>& roles, std::uint8_t version) {
    assert(version != 0);
    MasterKeys keys;
    keys.m_version = version;
    for (const auto& role : roles) {
        keys.m_keys[role] = randomBytes(16);
    }
    return keys;
}

void MasterKeys::set(const std::string& role, std::span<const std::uint8_t> key) {
    m_keys[role] = Bytes(key.begin(), key.end());
}

std::optional<std::span<const std::uint8_t>> MasterKeys::key(std::string_view role) const {
    const auto it = m_keys.find(role);
    if (it == m_keys.end()) {
        return std::nullopt;
    }
    return std::span<const std::uint8_t>(it->second);
}

Result<Bytes, std::string> MasterKeys::diversify(std::string_view role, std::uint8_t version,
                                                 std::span<const std::uint8_t> input) const {
    const auto master = key(role);
    if (!master) {
        return fail(fmt::format("the key store has no '{}' master key", role));
    }
    if (version != m_version) {
        return fail(fmt::format("the key store has '{}' master keys of version {}, not {}", role,
                                m_version, version));
    }
    return diversifyAes128(*master, input);
}

void MasterKeys::setVersion(std::uint8_t version) {
    assert(version != 0);
    m_version = version;
}

std::vector<std::uint8_t> MasterKeys::versions(std::string_view role) const {
    if (!key(role)) {
        return {};
    }
    return {m_version};
}

std::vector<std::string> MasterKeys::roles() const {
    std::vector<std::string> out;
    for (const auto& [role, key] : m_keys) {
        out.push_back(role);
    }
    return out;
}

Result<MasterKeys, KeyError> MasterKeys::only(const std::vector<std::string>& roles) const {
    MasterKeys out;
    out.m_version = m_version;
    for (const auto& role : roles) {
        const auto k = key(role);
        if (!k) {
            return fail(
                keyError(KeyErrorCode::Invalid, fmt::format("no master key for role '{}'", role)));
        }
        out.set(role, *k);
    }
    return out;
}

std::optional<KeyError> MasterKeys::save(const std::filesystem::path& file,
                                         const Secret& passphrase) const {
    if (passphrase.empty()) {
        return keyError(KeyErrorCode::Invalid, "an empty passphrase protects nothing");
    }
    if (m_version == 0) {
        return keyError(KeyErrorCode::Invalid, "card key versions are 1 to 255");
    }
    nlohmann::json plain = nlohmann::json::object();
    for (const auto& [role, key] : m_keys) {
        plain[role] = toHex(key);
    }
    std::string text = plain.dump();
    const Bytes salt = randomBytes(16);
    const Bytes iv = randomBytes(12);
    nlohmann::json header = {
        {"format", kFormat}, {"version", 1}, {"kdf", "scrypt"},     {"n", kN},
        {"r", kR},           {"p", kP},      {"salt", toHex(salt)}, {"cipher", "aes-256-gcm"},
        {"iv", toHex(iv)}};
    // The key version is in the authenticated header; files from before it was named have none
    // and are version 1.
    if (m_version != kFirstKeyVersion) {
        header["key_version"] = m_version;
    }
    const std::string aad = header.dump();
    auto key = deriveKey(passphrase, salt, kN, kR, kP);
    Bytes ciphertext;
    Bytes tag;
    Bytes in(text.begin(), text.end());
    OPENSSL_cleanse(text.data(), text.size());
    const bool ok = key && gcm(true, *key, iv, aad, in, ciphertext, tag);
    if (key) {
        OPENSSL_cleanse(key->data(), key->size());
    }
    OPENSSL_cleanse(in.data(), in.size());
    if (!ok) {
        return keyError(KeyErrorCode::Crypto, "cannot encrypt the master keys");
    }
    const nlohmann::json envelope = {
        {"header", aad}, {"ciphertext", toHex(ciphertext)}, {"tag", toHex(tag)}};
    const std::string out = envelope.dump(2) + "\n";
    return writeFileAtomically(
        file, {reinterpret_cast<const std::uint8_t*>(out.data()), out.size()}, 0600);
}

Result<MasterKeys, KeyError> MasterKeys::load(const std::filesystem::path& file,
                                              const Secret& passphrase) {
    using R = Result<MasterKeys, KeyError>;
    auto bytes = readFile(file, 64 * 1024);
    if (!bytes) {
        return R(fail(bytes.error()));
    }
    auto damaged = [&](std::string_view why) {
        return R(fail(keyError(KeyErrorCode::Damaged, fmt::format("{}: {}", file.string(), why))));
    };
    const auto envelope = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (envelope.is_discarded() || !envelope.is_object() || !envelope.contains("header") ||
        !envelope["header"].is_string() || !envelope.contains("ciphertext") ||
        !envelope["ciphertext"].is_string() || !envelope.contains("tag") ||
        !envelope["tag"].is_string()) {
        return damaged("not a master key file");
    }
    const std::string aad = envelope["header"].get<std::string>();
    const auto header = nlohmann::json::parse(aad, nullptr, false);
    // The header is read before the tag can vouch for it: every field is checked for its type,
    // since nlohmann's value() throws on a mismatch.
    auto text = [&](const char* k) -> std::string {
        return header.is_object() && header.contains(k) && header[k].is_string()
                   ? header[k].get<std::string>()
                   : std::string();
    };
    auto number = [&](const char* k) -> std::uint64_t {
        return header.is_object() && header.contains(k) && header[k].is_number_unsigned()
                   ? header[k].get<std::uint64_t>()
                   : 0;
    };
    if (header.is_discarded() || !header.is_object() || text("format") != kFormat ||
        number("version") != 1 || text("kdf") != "scrypt" || text("cipher") != "aes-256-gcm") {
        return damaged("not a version 1 master key file");
    }
    std::uint64_t keyVersion = kFirstKeyVersion;
    if (header.contains("key_version")) {
        keyVersion = number("key_version");
        if (keyVersion == 0 || keyVersion > 255) {
            return damaged("its key version is not 1 to 255");
        }
    }
    const auto salt = fromHex(text("salt"));
    const auto iv = fromHex(text("iv"));
    const auto ciphertext = fromHex(envelope["ciphertext"].get<std::string>());
    auto tag = fromHex(envelope["tag"].get<std::string>());
    const std::uint64_t n = number("n");
    const std::uint64_t r = number("r");
    const std::uint64_t p = number("p");
    // Bound the KDF's cost so a crafted file cannot make loading take minutes or gigabytes.
    if (!salt || !iv || iv->size() != 12 || !ciphertext || !tag || tag->size() != 16 || n < 2 ||
        n > (1u << 20) || (n & (n - 1)) != 0 || r == 0 || r > 16 || p == 0 || p > 4) {
        return damaged("its parameters are out of range");
    }
    auto key = deriveKey(passphrase, *salt, n, r, p);
    if (!key) {
        return R(fail(keyError(KeyErrorCode::Crypto, "cannot derive the file key")));
    }
    Bytes plain;
    const bool ok = gcm(false, *key, *iv, aad, *ciphertext, plain, *tag);
    OPENSSL_cleanse(key->data(), key->size());
    if (!ok) {
        OPENSSL_cleanse(plain.data(), plain.size());
        return R(
            fail(keyError(KeyErrorCode::WrongPassphrase,
                          fmt::format("{}: the passphrase does not open it (or it was altered)",
                                      file.string()))));
    }
    const auto json = nlohmann::json::parse(plain.begin(), plain.end(), nullptr, false);
    OPENSSL_cleanse(plain.data(), plain.size());
    MasterKeys keys;
    keys.m_version = static_cast<std::uint8_t>(keyVersion);
    if (json.is_discarded() || !json.is_object()) {
        return damaged("its content is not a key map");
    }
    for (const auto& [role, value] : json.items()) {
        auto k = value.is_string() ? fromHex(value.get<std::string>()) : std::nullopt;
        if (!k || k->size() != 16) {
            return damaged(fmt::format("the key of role '{}' is not 16 bytes", role));
        }
        keys.m_keys[role] = std::move(*k);
    }
    return keys;
}

} // namespace unioncard::card::desfire
