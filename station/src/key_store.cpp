// SPDX-License-Identifier: Apache-2.0
// The key-store interface and its file backend (docs/key-store.md).
#include <unioncard/station/key_store.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace unioncard::station {

namespace {

KeyStoreErrorCode fromKeyError(card::KeyErrorCode code) {
    switch (code) {
    case card::KeyErrorCode::NotFound:
        return KeyStoreErrorCode::NotFound;
    case card::KeyErrorCode::AlreadyExists:
        return KeyStoreErrorCode::AlreadyExists;
    case card::KeyErrorCode::WrongPassphrase:
        return KeyStoreErrorCode::WrongSecret;
    case card::KeyErrorCode::Damaged:
        return KeyStoreErrorCode::Damaged;
    case card::KeyErrorCode::Invalid:
        return KeyStoreErrorCode::Invalid;
    case card::KeyErrorCode::Io:
        return KeyStoreErrorCode::Io;
    case card::KeyErrorCode::Crypto:
        return KeyStoreErrorCode::Device;
    }
    return KeyStoreErrorCode::Device;
}

KeyStoreError wrapError(const card::KeyError& error, std::string_view what) {
    return {fromKeyError(error.code), fmt::format("{}: {}", what, error.message)};
}

} // namespace

std::string_view toString(KeyStoreErrorCode code) {
    switch (code) {
    case KeyStoreErrorCode::NotFound:
        return "not_found";
    case KeyStoreErrorCode::WrongSecret:
        return "wrong_secret";
    case KeyStoreErrorCode::PinLocked:
        return "pin_locked";
    case KeyStoreErrorCode::ModuleUnavailable:
        return "module_unavailable";
    case KeyStoreErrorCode::TokenNotFound:
        return "token_not_found";
    case KeyStoreErrorCode::AlreadyExists:
        return "already_exists";
    case KeyStoreErrorCode::Damaged:
        return "damaged";
    case KeyStoreErrorCode::Invalid:
        return "invalid";
    case KeyStoreErrorCode::Unsupported:
        return "unsupported";
    case KeyStoreErrorCode::Device:
        return "device";
    case KeyStoreErrorCode::Io:
        return "io";
    }
    return "device";
}

Result<card::Bytes, std::string> KeyStore::signRecord(const card::CardRecord& record) const {
    return card::signRecord(signingKey(), certificate(), record);
}

// ---- FileKeyStore ---------------------------------------------------------------------------

FileKeyStoreConfig FileKeyStoreConfig::inDirectory(const std::filesystem::path& stationDir,
                                                   const std::filesystem::path& masterKeys) {
    // The names `unioncard keys issue-station` writes (tools/unioncard/main.cpp).
    return {stationDir / "station-key.pem", stationDir / "station-cert.pem", masterKeys};
}

FileKeyStore::FileKeyStore(FileKeyStoreConfig config, card::PrivateKey key,
                           card::Certificate certificate,
                           std::optional<card::desfire::MasterKeys> masterKeys)
    : m_config(std::move(config)), m_key(std::move(key)), m_certificate(std::move(certificate)),
      m_masterKeys(std::move(masterKeys)) {}

Result<std::unique_ptr<FileKeyStore>, KeyStoreError>
FileKeyStore::open(const FileKeyStoreConfig& config, const card::Secret& stationPassphrase,
                   const card::Secret& masterKeysPassphrase) {
    using R = Result<std::unique_ptr<FileKeyStore>, KeyStoreError>;
    auto certificate = card::Certificate::load(config.certificate);
    if (!certificate) {
        return R(fail(wrapError(certificate.error(), "the station certificate")));
    }
    if (!certificate->isRecordSigner()) {
        return R(fail(KeyStoreError{KeyStoreErrorCode::Invalid,
                                    fmt::format("{} is not a card record signing certificate",
                                                config.certificate.string())}));
    }
    auto key = card::PrivateKey::load(config.stationKey, stationPassphrase);
    if (!key) {
        return R(fail(wrapError(key.error(), "the station key")));
    }
    if (EVP_PKEY_eq(key->get(), certificate->publicKey().get()) != 1) {
        return R(fail(
            KeyStoreError{KeyStoreErrorCode::Invalid,
                          fmt::format("{} is not the key {} certifies", config.stationKey.string(),
                                      config.certificate.string())}));
    }
    std::optional<card::desfire::MasterKeys> masterKeys;
    if (!config.masterKeys.empty()) {
        auto loaded = card::desfire::MasterKeys::load(config.masterKeys, masterKeysPassphrase);
        if (!loaded) {
            return R(fail(wrapError(loaded.error(), "the card master keys")));
        }
        masterKeys = std::move(loaded).value();
    }
    return std::unique_ptr<FileKeyStore>(new FileKeyStore(
        config, std::move(key).value(), std::move(certificate).value(), std::move(masterKeys)));
}

KeyStoreInfo FileKeyStore::info() const {
    return {"file",
            fmt::format("{}, {}{}{}", m_config.stationKey.string(), m_config.certificate.string(),
                        m_config.masterKeys.empty() ? "" : ", ", m_config.masterKeys.string()),
            m_certificate.commonName(),
            m_certificate.keyId(),
            m_config.stationKey.string(),
            m_masterKeys ? m_masterKeys->roles() : std::vector<std::string>{},
            m_certificate};
}

Result<card::desfire::MasterKeys, KeyStoreError>
FileKeyStore::masterKeys(const std::vector<std::string>& roles) const {
    using R = Result<card::desfire::MasterKeys, KeyStoreError>;
    if (!m_masterKeys) {
        return R(fail(KeyStoreError{KeyStoreErrorCode::NotFound,
                                    "this station's key store has no card master keys"}));
    }
    auto copy = m_masterKeys->only(roles.empty() ? m_masterKeys->roles() : roles);
    if (!copy) {
        return R(fail(wrapError(copy.error(), "the card master keys")));
    }
    return std::move(copy).value();
}

} // namespace unioncard::station
