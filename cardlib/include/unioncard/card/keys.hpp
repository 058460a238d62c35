// SPDX-License-Identifier: Apache-2.0
#pragma once

// Keys and certificates of the union's signing hierarchy, through OpenSSL 3:
//   union root (self-signed CA) ──certifies──▶ station signing keys ──sign──▶ card records
//                               ──signs──────▶ the trust list that verifiers load
// Private keys are ECDSA P-256 and live only in PEM files encrypted under a passphrase.

#include <unioncard/card/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using EVP_PKEY = struct evp_pkey_st;
using X509 = struct x509_st;

namespace unioncard::card {

using Bytes = std::vector<std::uint8_t>;
using Days = std::chrono::sys_days;
using Seconds = std::chrono::sys_seconds;

enum class KeyErrorCode {
    NotFound,        ///< the file is not there
    AlreadyExists,   ///< refusing to overwrite a key or certificate
    WrongPassphrase, ///< the passphrase does not open the key file
    Damaged,         ///< the file is not the key or certificate it should be
    Invalid,         ///< a certificate lacks what its role needs, or arguments are wrong
    Io,              ///< reading or writing failed
    Crypto,          ///< OpenSSL failed where it should not
};

struct KeyError {
    KeyErrorCode code;
    std::string message; ///< never holds key material or passphrases
};

std::string_view toString(KeyErrorCode code);

/// A passphrase or other secret held in memory: wiped when it goes, never printed.
class Secret {
public:
    Secret() = default;
    explicit Secret(std::string text) : m_text(std::move(text)) {}
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret();

    std::string_view view() const { return m_text; }
    const char* c_str() const { return m_text.c_str(); }
    bool empty() const { return m_text.empty(); }

private:
    void wipe();
    std::string m_text;
};

class PrivateKey;

/// An ECDSA P-256 public key.
class PublicKey {
public:
    /// From SubjectPublicKeyInfo in PEM.
    static Result<PublicKey, KeyError> fromPem(std::string_view pem);
    std::string toPem() const;
    /// Verifies an ECDSA signature given as r || s (32 bytes each, RFC 9053 §2.1) over SHA-256.
    bool verifyRaw(std::span<const std::uint8_t> message,
                   std::span<const std::uint8_t> signature) const;
    EVP_PKEY* get() const { return m_key.get(); }

private:
    friend class PrivateKey;
    friend class Certificate;
    explicit PublicKey(std::shared_ptr<EVP_PKEY> key) : m_key(std::move(key)) {}
    std::shared_ptr<EVP_PKEY> m_key;
};

/// A P-256 signing key that cardlib may not be able to see: a PrivateKey in memory, or a key
/// on a PKCS#11 token that signs but never leaves it (station/key_store.hpp). What
/// cose::sign and signRecord need of a key, and nothing more.
class RecordSigningKey {
public:
    virtual ~RecordSigningKey() = default;
    /// ECDSA over SHA-256 of `message`, returned as r || s (64 bytes, RFC 9053 §2.1).
    virtual Result<Bytes, KeyError> signRaw(std::span<const std::uint8_t> message) const = 0;
    virtual PublicKey publicKey() const = 0;

protected:
    RecordSigningKey() = default;
    RecordSigningKey(const RecordSigningKey&) = default;
    RecordSigningKey& operator=(const RecordSigningKey&) = default;
    RecordSigningKey(RecordSigningKey&&) = default;
    RecordSigningKey& operator=(RecordSigningKey&&) = default;
};

class PrivateKey : public RecordSigningKey {
public:
    /// A fresh P-256 key from OpenSSL's CSPRNG.
    static Result<PrivateKey, KeyError> generate();
    static Result<PrivateKey, KeyError> load(const std::filesystem::path& file,
                                             const Secret& passphrase);
    /// PKCS#8 encrypted with AES-256-CBC under a key derived by scrypt; written atomically,
    /// mode 0600, never over an existing file.
    std::optional<KeyError> save(const std::filesystem::path& file, const Secret& passphrase) const;
    /// The same, as PEM text, for tests that need an encrypted key in memory.
    Result<std::string, KeyError> toEncryptedPem(const Secret& passphrase) const;
    static Result<PrivateKey, KeyError> fromEncryptedPem(std::string_view pem,
                                                         const Secret& passphrase);

    PublicKey publicKey() const override;
    /// ECDSA over SHA-256 of `message`, returned as r || s (64 bytes).
    Result<Bytes, KeyError> signRaw(std::span<const std::uint8_t> message) const override;
    EVP_PKEY* get() const { return m_key.get(); }

private:
    explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : m_key(std::move(key)) {}
    std::shared_ptr<EVP_PKEY> m_key;
};

class Certificate {
public:
    static Result<Certificate, KeyError> fromPem(std::string_view pem);
    static Result<Certificate, KeyError> fromDer(std::span<const std::uint8_t> der);
    static Result<Certificate, KeyError> load(const std::filesystem::path& file);

    std::string toPem() const;
    Bytes toDer() const;
    /// SHA-256 of the DER encoding.
    Bytes fingerprint() const;
    /// SHA-256 of the subject's public key (SubjectPublicKeyInfo, DER): the same for every
    /// certificate of one key, including one whose signature was altered into another valid
    /// one (ECDSA's (r, n - s)), which fingerprint() is not.
    Bytes publicKeyFingerprint() const;
    /// The key id records and trust lists carry: the first 8 bytes of the fingerprint, as the
    /// EU digital COVID certificate scheme does.
    Bytes keyId() const;
    /// The subject's common name: the station id of a station certificate.
    std::string commonName() const;
    Seconds notBefore() const;
    Seconds notAfter() const;
    PublicKey publicKey() const;

    bool isRoot() const;         ///< self-signed CA allowed to sign certificates
    bool isRecordSigner() const; ///< end-entity key usable for card records only
    bool isStatusSigner() const; ///< end-entity key usable for status lists only
    /// Whether `issuer` signed this certificate and the chain holds at `when` (OpenSSL's
    /// X509_verify_cert with the check time set): validity periods, CA constraints, signature.
    Result<bool, std::string> chainsTo(const Certificate& issuer, Seconds when) const;

    X509* get() const { return m_cert.get(); }

private:
    explicit Certificate(std::shared_ptr<X509> cert) : m_cert(std::move(cert)) {}
    std::shared_ptr<X509> m_cert;
};

/// The extended key usage that limits a station certificate to signing card records: a
/// UUID-based OID (ITU-T X.667, arc 2.25) so no registration authority is needed.
inline constexpr const char* kRecordSigningOid = "2.25.266356273330680861193634627026741516127";
/// The extended key usage that limits a certificate to signing the status list
/// (docs/status-list.md): a UUID-based OID of its own, so a station key cannot sign a status
/// list and a status-signing key cannot sign a card record.
inline constexpr const char* kStatusSigningOid = "2.25.31926822762138043215239599781450107256";

struct Validity {
    Seconds notBefore;
    Seconds notAfter;
};

/// A self-signed root: CA, path length 0, key usage certificate and list signing.
Result<Certificate, KeyError> makeRootCertificate(const PrivateKey& rootKey, std::string_view name,
                                                  Validity validity);

/// A station's record-signing certificate, signed by the root. The station id becomes the
/// subject's common name.
Result<Certificate, KeyError>
issueStationCertificate(const PrivateKey& rootKey, const Certificate& rootCert,
                        const PublicKey& stationKey, std::string_view stationId, Validity validity);

/// The registry's status-signing certificate, signed by the root: end entity, digital signature,
/// EKU kStatusSigningOid only. `name` (1 to 64 characters) becomes the subject's common name.
Result<Certificate, KeyError>
issueStatusSignerCertificate(const PrivateKey& rootKey, const Certificate& rootCert,
                             const PublicKey& publicKey, std::string_view name, Validity validity);

/// A fingerprint as OpenSSL prints it: "AB:CD:...".
std::string formatFingerprint(std::span<const std::uint8_t> digest);
/// Reads "AB:CD:..." or plain hex back.
std::optional<Bytes> parseFingerprint(std::string_view text);

/// Station ids: 1 to 32 of a-z, 0-9 and '-', starting with a letter or digit.
bool isValidStationId(std::string_view id);

/// Writes a file atomically (temporary, fsync, rename) with the given mode; refuses to replace
/// an existing file unless `replace`.
std::optional<KeyError> writeFileAtomically(const std::filesystem::path& file,
                                            std::span<const std::uint8_t> content, unsigned mode,
                                            bool replace = false);
Result<Bytes, KeyError> readFile(const std::filesystem::path& file, std::size_t maxSize);

} // namespace unioncard::card
