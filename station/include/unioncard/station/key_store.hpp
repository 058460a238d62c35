// SPDX-License-Identifier: Apache-2.0
#pragma once

// The station's keys: the record-signing key with its certificate, and the card master keys
// that personalise() diversifies per card (AN10922). They live behind one interface with two
// backends (docs/key-store.md):
//   FileKeyStore    the encrypted files `unioncard keys` writes (the default);
//   Pkcs11KeyStore  a PKCS#11 token (production): the signing key never leaves it, and the
//                   master key file is kept wrapped under an AES key that never leaves it.
// Who may open a store (one operator, or two) is the workflow's business, not this file's.

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::station {

enum class KeyStoreErrorCode {
    NotFound,          ///< a key file, a token object or the wrapped key file is not there
    WrongSecret,       ///< the passphrase or the PIN is wrong
    PinLocked,         ///< the token has locked the PIN: its security officer must reset it
    ModuleUnavailable, ///< the PKCS#11 module cannot be loaded or is not a PKCS#11 module
    TokenNotFound,     ///< no token with that label in any slot
    AlreadyExists,     ///< provisioning refuses to replace a key, certificate or file
    Damaged,           ///< a file or an object is not what it should be, or was altered
    Invalid,           ///< arguments or a certificate that cannot serve
    Unsupported,       ///< the token lacks a mechanism the store needs
    Device,            ///< the token or its module failed (PKCS#11 return value in the message)
    Io,                ///< reading or writing a file failed
};

struct KeyStoreError {
    KeyStoreErrorCode code;
    std::string message; ///< in words; never holds key bytes, a PIN or a passphrase
};

std::string_view toString(KeyStoreErrorCode code);

/// What a store holds, for the operator's screen and the audit log: nothing secret.
struct KeyStoreInfo {
    std::string backend;  ///< "file" or "pkcs11"
    std::string location; ///< the key files, or the token's label and the module
    std::string stationId;
    card::Bytes keyId;          ///< the certificate's key id, as records carry it
    std::string signingKeyName; ///< the key file, or the token object's label and CKA_ID
    /// The file backend's roles; empty for the token backend, whose roles are inside the
    /// wrapped file and would need the token to decrypt it just to be listed.
    std::vector<std::string> masterKeyRoles;
    card::Certificate certificate;
};

class KeyStore {
public:
    virtual ~KeyStore() = default;
    KeyStore(const KeyStore&) = delete;
    KeyStore& operator=(const KeyStore&) = delete;

    virtual KeyStoreInfo info() const = 0;

    /// The station's record signer, usable as card::signRecord(signingKey(), certificate(), r).
    /// Valid while the store lives.
    virtual const card::RecordSigningKey& signingKey() const = 0;
    virtual const card::Certificate& certificate() const = 0;

    /// The card master keys of these roles, in memory for one batch: the caller passes them to
    /// personalise() and lets them go (MasterKeys wipes itself). Empty `roles`: all of them.
    virtual Result<card::desfire::MasterKeys, KeyStoreError>
    masterKeys(const std::vector<std::string>& roles) const = 0;

    /// card::signRecord with this store's key and certificate.
    Result<card::Bytes, std::string> signRecord(const card::CardRecord& record) const;

protected:
    KeyStore() = default;
};

// ---- the encrypted files --------------------------------------------------------------------

struct FileKeyStoreConfig {
    std::filesystem::path stationKey;  ///< PKCS#8 PEM under a passphrase (PrivateKey::save)
    std::filesystem::path certificate; ///< the root-issued station certificate, PEM
    std::filesystem::path masterKeys;  ///< MasterKeys::save's file; empty: no master keys

    /// The layout `unioncard keys issue-station --out DIR` writes, with the master key file
    /// `init-card-keys` wrote.
    static FileKeyStoreConfig inDirectory(const std::filesystem::path& stationDir,
                                          const std::filesystem::path& masterKeys = {});
};

/// The default backend. Opening decrypts the station key and the master keys once, so a wrong
/// passphrase is said at once rather than in the middle of a batch; both stay in this process's
/// memory (wiped when the store goes), which is what the token backend improves on.
class FileKeyStore final : public KeyStore {
public:
    static Result<std::unique_ptr<FileKeyStore>, KeyStoreError>
    open(const FileKeyStoreConfig& config, const card::Secret& stationPassphrase,
         const card::Secret& masterKeysPassphrase);

    KeyStoreInfo info() const override;
    const card::RecordSigningKey& signingKey() const override { return m_key; }
    const card::Certificate& certificate() const override { return m_certificate; }
    Result<card::desfire::MasterKeys, KeyStoreError>
    masterKeys(const std::vector<std::string>& roles) const override;

private:
    FileKeyStore(FileKeyStoreConfig config, card::PrivateKey key, card::Certificate certificate,
                 std::optional<card::desfire::MasterKeys> masterKeys);
    FileKeyStoreConfig m_config;
    card::PrivateKey m_key;
    card::Certificate m_certificate;
    std::optional<card::desfire::MasterKeys> m_masterKeys;
};

// ---- PKCS#11 --------------------------------------------------------------------------------

struct Pkcs11Config {
    std::filesystem::path module; ///< the module's shared library (SoftHSM2, a vendor's HSM)
    std::string tokenLabel;       ///< CKA_LABEL of the token (PKCS#11 v2.40 §5.5 CK_TOKEN_INFO)
    /// CKA_LABEL of the signing key pair and of its certificate on the token.
    std::string signingKeyLabel = "unioncard-station";
    /// CKA_LABEL of the AES key-encryption key the master key file is wrapped under.
    std::string kekLabel = "unioncard-card-kek";
    /// The master key file wrapped under the token's KEK (Pkcs11Provisioner::wrapMasterKeys);
    /// empty: this station has no master keys.
    std::filesystem::path wrappedMasterKeys;
};

class Pkcs11Session; // one logged-in session on the token; key_store_pkcs11.cpp

/// The production backend. The record-signing key is a P-256 private key object on the token
/// (CKA_SIGN, CKA_SENSITIVE, not CKA_EXTRACTABLE) used with CKM_ECDSA over the SHA-256 digest
/// (PKCS#11 v2.40 §2.3.6); its certificate is a CKO_CERTIFICATE object beside it. The master key
/// file is AES-256-GCM encrypted under a token AES key and decrypted by the token per batch.
class Pkcs11KeyStore final : public KeyStore {
public:
    /// Loads the module, finds the token, logs in with the user PIN (C_Login, CKU_USER), finds
    /// the key pair and certificate and checks they belong together.
    static Result<std::unique_ptr<Pkcs11KeyStore>, KeyStoreError> open(const Pkcs11Config& config,
                                                                       const card::Secret& pin);
    ~Pkcs11KeyStore() override;

    KeyStoreInfo info() const override;
    const card::RecordSigningKey& signingKey() const override;
    const card::Certificate& certificate() const override { return m_certificate; }
    Result<card::desfire::MasterKeys, KeyStoreError>
    masterKeys(const std::vector<std::string>& roles) const override;

private:
    class TokenKey;
    Pkcs11KeyStore(Pkcs11Config config, std::shared_ptr<Pkcs11Session> session,
                   std::unique_ptr<TokenKey> key, card::Certificate certificate);
    Pkcs11Config m_config;
    std::shared_ptr<Pkcs11Session> m_session;
    std::unique_ptr<TokenKey> m_key;
    card::Certificate m_certificate;
};

/// Setting a token up for a station, one step at a time (docs/key-store.md §Provisioning):
///   1. generateSigningKey(): the P-256 key pair, made on the token; its public key goes to the
///      union root's holders, who certify it (`unioncard keys` or card::issueStationCertificate);
///   2. importCertificate(): the certificate they return, beside the key;
///   3. generateKek(), then wrapMasterKeys(): the master key file, wrapped for this token.
/// Each step refuses to replace what is there.
class Pkcs11Provisioner {
public:
    static Result<Pkcs11Provisioner, KeyStoreError> open(const Pkcs11Config& config,
                                                         const card::Secret& pin);
    ~Pkcs11Provisioner();
    Pkcs11Provisioner(Pkcs11Provisioner&&) noexcept;
    Pkcs11Provisioner& operator=(Pkcs11Provisioner&&) noexcept;

    /// C_GenerateKeyPair with CKM_EC_KEY_PAIR_GEN on P-256 (PKCS#11 v2.40 §2.3.5).
    Result<card::PublicKey, KeyStoreError> generateSigningKey();
    /// The public half of the signing key on the token, for certification.
    Result<card::PublicKey, KeyStoreError> signingPublicKey() const;
    /// Stores the certificate: it must be a record-signing certificate for the token's key.
    std::optional<KeyStoreError> importCertificate(const card::Certificate& certificate);
    /// C_GenerateKey with CKM_AES_KEY_GEN: a 256-bit AES key, sensitive, not extractable, that
    /// only encrypts and decrypts.
    std::optional<KeyStoreError> generateKek();
    /// Writes the master keys to `config.wrappedMasterKeys`, encrypted by the token under its
    /// KEK (CKM_AES_GCM); atomically, mode 0600, never over an existing file.
    std::optional<KeyStoreError> wrapMasterKeys(const card::desfire::MasterKeys& keys);

private:
    Pkcs11Provisioner(Pkcs11Config config, std::shared_ptr<Pkcs11Session> session);
    Pkcs11Config m_config;
    std::shared_ptr<Pkcs11Session> m_session;
};

/// A station setting by name (StationStore::setting, or settings about to be written).
using SettingLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The key store the station's settings name: "key_store" = "file" (default: "station_keys",
/// the folder of station-key.pem and station-cert.pem, and "card_keys") or "pkcs11"
/// ("pkcs11_module", "token_label", "card_keys" wrapped under the token's key). The secrets
/// come from the environment, never from settings: UNIONCARD_STATION_PASSPHRASE and
/// UNIONCARD_CARD_KEYS_PASSPHRASE (each falling back to UNIONCARD_PASSPHRASE), or
/// UNIONCARD_TOKEN_PIN. The message says which is missing or what failed.
Result<std::unique_ptr<KeyStore>, std::string> openConfiguredKeyStore(const SettingLookup& setting);

} // namespace unioncard::station
