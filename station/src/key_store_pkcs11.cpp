// SPDX-License-Identifier: Apache-2.0
// The key store on a PKCS#11 token (docs/key-store.md). Written against p11-kit's
// <p11-kit/pkcs11.h> (Debian's libp11-kit-dev), a PKCS#11 v2.40 header; the module itself is
// loaded with dlopen and reached only through its C_GetFunctionList table (PKCS#11 v2.40 base
// specification, C_GetFunctionList), so nothing links against p11-kit or the module. The module,
// session and login are cardlib's PKCS#11 adapter (card/pkcs11.hpp), shared with the verifier's
// card keys on a token; what is the station's own (its objects, the wrapped file) is here.
#include <unioncard/card/pkcs11.hpp>
#include <unioncard/station/key_store.hpp>

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <mutex>

namespace unioncard::station {

using card::Bytes;

namespace {

using card::pkcs11::attribute;
using card::pkcs11::bytesAttribute;
using card::pkcs11::rvName;
using card::pkcs11::textAttribute;

// ---- return values and errors ---------------------------------------------------------------

KeyStoreErrorCode codeOf(card::pkcs11::ErrorCode code) {
    using C = card::pkcs11::ErrorCode;
    switch (code) {
    case C::NotFound:
        return KeyStoreErrorCode::NotFound;
    case C::WrongSecret:
        return KeyStoreErrorCode::WrongSecret;
    case C::PinLocked:
        return KeyStoreErrorCode::PinLocked;
    case C::ModuleUnavailable:
        return KeyStoreErrorCode::ModuleUnavailable;
    case C::TokenNotFound:
        return KeyStoreErrorCode::TokenNotFound;
    case C::AlreadyExists:
        return KeyStoreErrorCode::AlreadyExists;
    case C::Damaged:
        return KeyStoreErrorCode::Damaged;
    case C::Invalid:
        return KeyStoreErrorCode::Invalid;
    case C::Unsupported:
        return KeyStoreErrorCode::Unsupported;
    case C::Device:
        break;
    }
    return KeyStoreErrorCode::Device;
}

KeyStoreError fromToken(const card::pkcs11::Error& e) {
    return {codeOf(e.code), e.message};
}

KeyStoreError p11Error(CK_RV rv, std::string_view what) {
    return fromToken(card::pkcs11::errorOf(rv, what));
}

KeyStoreError error(KeyStoreErrorCode code, std::string message) {
    return {code, std::move(message)};
}

CK_BBOOL kTrue = CK_TRUE;
CK_BBOOL kFalse = CK_FALSE;

// DER of the OID prime256v1 / secp256r1, 1.2.840.10045.3.1.7 (RFC 5480 §2.1.1.1), which
// CKA_EC_PARAMS holds as the curve's name (PKCS#11 v2.40 Current Mechanisms §2.3.3).
constexpr std::array<std::uint8_t, 10> kP256Oid = {0x06, 0x08, 0x2A, 0x86, 0x48,
                                                   0xCE, 0x3D, 0x03, 0x01, 0x07};
constexpr std::size_t kP256PointSize = 65; // 0x04 || X || Y (SEC 1 §2.3.3)
constexpr std::size_t kP256SignatureSize = 64;

Result<card::PublicKey, KeyStoreError> publicKeyFromPoint(std::span<const std::uint8_t> point) {
    using R = Result<card::PublicKey, KeyStoreError>;
    // CKA_EC_POINT is DER: an OCTET STRING around the point (PKCS#11 v2.40 Current Mechanisms
    // §2.3.3); some tokens give the bare point, so both are read.
    if (point.size() == kP256PointSize + 2 && point[0] == 0x04 && point[1] == kP256PointSize) {
        point = point.subspan(2);
    }
    if (point.size() != kP256PointSize || point[0] != 0x04) {
        return R(fail(error(KeyStoreErrorCode::Damaged,
                            "the token's public key is not an uncompressed P-256 point")));
    }
    std::array<unsigned char, kP256PointSize> copy{};
    std::copy(point.begin(), point.end(), copy.begin());
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, copy.data(), copy.size()),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    EVP_PKEY* key = nullptr;
    const bool made = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                      EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    std::string pem;
    if (made) {
        BIO* bio = BIO_new(BIO_s_mem());
        if (bio != nullptr && PEM_write_bio_PUBKEY(bio, key) == 1) {
            char* data = nullptr;
            const long n = BIO_get_mem_data(bio, &data);
            pem.assign(data, static_cast<std::size_t>(n));
        }
        BIO_free(bio);
    }
    EVP_PKEY_free(key);
    if (pem.empty()) {
        return R(fail(
            error(KeyStoreErrorCode::Damaged, "the token's public key is not a point on P-256")));
    }
    auto publicKey = card::PublicKey::fromPem(pem);
    if (!publicKey) {
        return R(fail(error(KeyStoreErrorCode::Damaged, publicKey.error().message)));
    }
    return std::move(publicKey).value();
}

Bytes sha256(std::span<const std::uint8_t> message) {
    Bytes digest(32);
    unsigned int size = 0;
    if (EVP_Digest(message.data(), message.size(), digest.data(), &size, EVP_sha256(), nullptr) !=
            1 ||
        size != digest.size()) {
        return {};
    }
    return digest;
}

// ---- the wrapped master key file ------------------------------------------------------------
// One header line, authenticated as GCM's additional data, then the 12-byte IV, then the
// ciphertext with its 16-byte tag (the layout C_Encrypt gives for CKM_AES_GCM):
//   "unioncard-card-keys-p11 v1 aes-256-gcm kek=<label>\n" || IV || ciphertext || tag
// The plaintext is, per role in order: role length (1 byte), role, key length (1), key.
constexpr std::string_view kWrappedPrefix = "unioncard-card-keys-p11 v1 aes-256-gcm kek=";
// A key set of another version than 1 (card/desfire/master_keys.hpp) says so in the header:
//   "unioncard-card-keys-p11 v2 key-version=<1-255> aes-256-gcm kek=<label>\n"
constexpr std::string_view kWrappedPrefixV2 = "unioncard-card-keys-p11 v2 key-version=";
constexpr std::string_view kWrappedCipherV2 = " aes-256-gcm kek=";

// The key version and KEK label a header line names, or nothing for another line.
std::optional<std::pair<std::uint8_t, std::string>> parseWrappedHeader(const std::string& line) {
    if (line.rfind(kWrappedPrefix, 0) == 0) {
        return std::pair<std::uint8_t, std::string>{card::desfire::kFirstKeyVersion,
                                                    line.substr(kWrappedPrefix.size())};
    }
    if (line.rfind(kWrappedPrefixV2, 0) != 0) {
        return std::nullopt;
    }
    const std::size_t cipher = line.find(kWrappedCipherV2, kWrappedPrefixV2.size());
    const std::string digits =
        cipher == std::string::npos
            ? std::string()
            : line.substr(kWrappedPrefixV2.size(), cipher - kWrappedPrefixV2.size());
    if (digits.empty() || digits.size() > 3 || digits.front() == '0' ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(digits) > 255) {
        return std::nullopt;
    }
    return std::pair<std::uint8_t, std::string>{static_cast<std::uint8_t>(std::stoi(digits)),
                                                line.substr(cipher + kWrappedCipherV2.size())};
}
constexpr std::size_t kGcmIvSize = 12; // NIST SP 800-38D §8.2: 96-bit IVs
constexpr std::size_t kGcmTagSize = 16;
constexpr std::size_t kMaxWrappedFile = 64 * 1024;

struct Wiped {
    Bytes bytes;
    Wiped() = default;
    Wiped(const Wiped&) = delete;
    Wiped& operator=(const Wiped&) = delete;
    ~Wiped() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

} // namespace

// ---- one logged-in session ------------------------------------------------------------------

// The station's view of cardlib's session: its errors in the key store's words, and the
// objects only a station has (its signing key, its KEK) found by their labels.
class Pkcs11Session {
public:
    explicit Pkcs11Session(std::shared_ptr<card::pkcs11::Session> session)
        : m_s(std::move(session)) {}

    static Result<std::shared_ptr<Pkcs11Session>, KeyStoreError> open(const Pkcs11Config& config,
                                                                      const card::Secret& pin) {
        using R = Result<std::shared_ptr<Pkcs11Session>, KeyStoreError>;
        auto session = card::pkcs11::Session::open(config.module, config.tokenLabel, pin);
        if (!session) {
            return R(fail(fromToken(session.error())));
        }
        return std::make_shared<Pkcs11Session>(std::move(session).value());
    }

    std::mutex& mutex() const { return m_s->mutex(); }
    CK_FUNCTION_LIST_PTR f() const { return m_s->f(); }
    CK_SESSION_HANDLE handle() const { return m_s->handle(); }
    const std::string& tokenLabel() const { return m_s->tokenLabel(); }
    const std::filesystem::path& module() const { return m_s->module(); }
    const card::pkcs11::Session& token() const { return *m_s; }

    Result<std::vector<CK_OBJECT_HANDLE>, KeyStoreError>
    find(std::vector<CK_ATTRIBUTE> attributes) const {
        using R = Result<std::vector<CK_OBJECT_HANDLE>, KeyStoreError>;
        auto found = m_s->find(std::move(attributes));
        return found ? R(std::move(found).value()) : R(fail(fromToken(found.error())));
    }
    Result<CK_OBJECT_HANDLE, KeyStoreError> findOne(std::vector<CK_ATTRIBUTE> attributes,
                                                    std::string_view what) const {
        using R = Result<CK_OBJECT_HANDLE, KeyStoreError>;
        auto found = m_s->findOne(std::move(attributes), what);
        return found ? R(found.value()) : R(fail(fromToken(found.error())));
    }
    Result<Bytes, CK_RV> attributeValue(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const {
        return m_s->attributeValue(object, type);
    }
    std::optional<bool> flag(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const {
        return m_s->flag(object, type);
    }
    std::optional<KeyStoreError> require(CK_MECHANISM_TYPE mechanism, CK_FLAGS flags,
                                         std::string_view name) const {
        if (auto missing = m_s->require(mechanism, flags, name)) {
            return fromToken(*missing);
        }
        return std::nullopt;
    }

    Result<CK_OBJECT_HANDLE, KeyStoreError> findKek(const std::string& label) const {
        CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
        CK_KEY_TYPE type = CKK_AES;
        return findOne({attribute(CKA_CLASS, cls), attribute(CKA_KEY_TYPE, type),
                        textAttribute(CKA_LABEL, label)},
                       fmt::format("AES key-encryption key labelled '{}'", label));
    }

    Result<CK_OBJECT_HANDLE, KeyStoreError> findSigningKey(const std::string& label) const {
        CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
        CK_KEY_TYPE type = CKK_EC;
        return findOne({attribute(CKA_CLASS, cls), attribute(CKA_KEY_TYPE, type),
                        textAttribute(CKA_LABEL, label)},
                       fmt::format("EC signing key labelled '{}'", label));
    }

    /// AES-256-GCM by the token under `kek` (CKM_AES_GCM with CK_GCM_PARAMS, PKCS#11 v2.40
    /// Current Mechanisms, AES-GCM): encrypt or decrypt in one C_Encrypt / C_Decrypt.
    Result<Bytes, KeyStoreError> gcm(bool encrypt, CK_OBJECT_HANDLE kek,
                                     std::span<const std::uint8_t> iv,
                                     std::span<const std::uint8_t> aad,
                                     std::span<const std::uint8_t> in) const {
        using R = Result<Bytes, KeyStoreError>;
        Bytes ivCopy(iv.begin(), iv.end());
        Bytes aadCopy(aad.begin(), aad.end());
        CK_GCM_PARAMS params{};
        params.pIv = ivCopy.data();
        params.ulIvLen = ivCopy.size();
        params.ulIvBits = ivCopy.size() * 8;
        params.pAAD = aadCopy.data();
        params.ulAADLen = aadCopy.size();
        params.ulTagBits = kGcmTagSize * 8;
        CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
        Bytes input(in.begin(), in.end());
        Bytes out(encrypt ? in.size() + kGcmTagSize : in.size());
        CK_ULONG outSize = out.size();
        const std::lock_guard lock(mutex());
        CK_RV rv = encrypt ? f()->C_EncryptInit(handle(), &mechanism, kek)
                           : f()->C_DecryptInit(handle(), &mechanism, kek);
        if (rv == CKR_OK) {
            rv = encrypt
                     ? f()->C_Encrypt(handle(), input.data(), input.size(), out.data(), &outSize)
                     : f()->C_Decrypt(handle(), input.data(), input.size(), out.data(), &outSize);
        }
        OPENSSL_cleanse(input.data(), input.size());
        if (rv != CKR_OK) {
            OPENSSL_cleanse(out.data(), out.size());
            if (!encrypt && rv != CKR_MECHANISM_INVALID && rv != CKR_MECHANISM_PARAM_INVALID) {
                // A failed tag is how an altered file, or one wrapped for another token, shows.
                return R(fail(error(KeyStoreErrorCode::Damaged,
                                    fmt::format("the token cannot unwrap the master key file "
                                                "({}): it was altered, or wrapped under another "
                                                "token's key",
                                                rvName(rv)))));
            }
            return R(fail(p11Error(rv, encrypt ? "the token cannot wrap the master keys"
                                               : "the token cannot unwrap the master keys")));
        }
        out.resize(outSize);
        return out;
    }

private:
    std::shared_ptr<card::pkcs11::Session> m_s;
};

// ---- the signing key on the token -----------------------------------------------------------

class Pkcs11KeyStore::TokenKey final : public card::RecordSigningKey {
public:
    TokenKey(std::shared_ptr<Pkcs11Session> session, CK_OBJECT_HANDLE object,
             card::PublicKey publicKey)
        : m_session(std::move(session)), m_object(object), m_publicKey(std::move(publicKey)) {}

    // CKM_ECDSA signs a digest the caller made (PKCS#11 v2.40 Current Mechanisms §2.3.6) and
    // returns r || s, each as long as the curve's order: 64 bytes for P-256, the form COSE's
    // ES256 takes (RFC 9053 §2.1) with no DER to undo.
    Result<Bytes, card::KeyError> signRaw(std::span<const std::uint8_t> message) const override {
        using R = Result<Bytes, card::KeyError>;
        Bytes digest = sha256(message);
        if (digest.empty()) {
            return R(fail(card::KeyError{card::KeyErrorCode::Crypto, "cannot hash the message"}));
        }
        CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
        std::array<std::uint8_t, 2 * 66> signature{}; // room for P-521, to see a wrong key
        CK_ULONG size = signature.size();
        CK_FUNCTION_LIST_PTR f = m_session->f();
        const std::lock_guard lock(m_session->mutex());
        CK_RV rv = f->C_SignInit(m_session->handle(), &mechanism, m_object);
        if (rv == CKR_OK) {
            rv = f->C_Sign(m_session->handle(), digest.data(), digest.size(), signature.data(),
                           &size);
        }
        if (rv != CKR_OK) {
            const auto why = p11Error(rv, "the token cannot sign");
            return R(fail(card::KeyError{rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT
                                             ? card::KeyErrorCode::Io
                                             : card::KeyErrorCode::Crypto,
                                         why.message}));
        }
        if (size != kP256SignatureSize) {
            return R(fail(card::KeyError{
                card::KeyErrorCode::Invalid,
                fmt::format("the token's signature is {} bytes, not the 64 of P-256", size)}));
        }
        return Bytes(signature.begin(), signature.begin() + kP256SignatureSize);
    }

    card::PublicKey publicKey() const override { return m_publicKey; }

private:
    std::shared_ptr<Pkcs11Session> m_session;
    CK_OBJECT_HANDLE m_object;
    card::PublicKey m_publicKey;
};

// ---- Pkcs11KeyStore -------------------------------------------------------------------------

Pkcs11KeyStore::Pkcs11KeyStore(Pkcs11Config config, std::shared_ptr<Pkcs11Session> session,
                               std::unique_ptr<TokenKey> key, card::Certificate certificate)
    : m_config(std::move(config)), m_session(std::move(session)), m_key(std::move(key)),
      m_certificate(std::move(certificate)) {}

Pkcs11KeyStore::~Pkcs11KeyStore() = default;

const card::RecordSigningKey& Pkcs11KeyStore::signingKey() const {
    return *m_key;
}

Result<std::unique_ptr<Pkcs11KeyStore>, KeyStoreError>
Pkcs11KeyStore::open(const Pkcs11Config& config, const card::Secret& pin) {
    using R = Result<std::unique_ptr<Pkcs11KeyStore>, KeyStoreError>;
    auto session = Pkcs11Session::open(config, pin);
    if (!session) {
        return R(fail(session.error()));
    }
    const auto& s = *session.value();
    auto key = s.findSigningKey(config.signingKeyLabel);
    if (!key) {
        return R(fail(key.error()));
    }
    // A key that can leave the token is no better than a key file: refuse it.
    if (s.flag(*key, CKA_SIGN) != true || s.flag(*key, CKA_EXTRACTABLE) != false ||
        s.flag(*key, CKA_SENSITIVE) != true) {
        return R(fail(error(KeyStoreErrorCode::Invalid,
                            fmt::format("the signing key '{}' must sign, be sensitive and not be "
                                        "extractable; generate it on the token",
                                        config.signingKeyLabel))));
    }
    auto id = s.attributeValue(*key, CKA_ID);
    if (!id || id->empty()) {
        return R(fail(error(KeyStoreErrorCode::Damaged,
                            fmt::format("the signing key '{}' has no CKA_ID to find its "
                                        "certificate by",
                                        config.signingKeyLabel))));
    }
    CK_OBJECT_CLASS certClass = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE certType = CKC_X_509;
    auto certObject =
        s.findOne({attribute(CKA_CLASS, certClass), attribute(CKA_CERTIFICATE_TYPE, certType),
                   bytesAttribute(CKA_ID, id->data(), id->size())},
                  fmt::format("certificate for the signing key '{}' (import the "
                              "one the union root issued)",
                              config.signingKeyLabel));
    if (!certObject) {
        return R(fail(certObject.error()));
    }
    auto der = s.attributeValue(*certObject, CKA_VALUE);
    if (!der) {
        return R(fail(p11Error(der.error(), "cannot read the station certificate")));
    }
    auto certificate = card::Certificate::fromDer(*der);
    if (!certificate) {
        return R(fail(error(KeyStoreErrorCode::Damaged,
                            "the certificate on the token: " + certificate.error().message)));
    }
    if (!certificate->isRecordSigner()) {
        return R(fail(error(KeyStoreErrorCode::Invalid,
                            "the certificate on the token is not a card record signing "
                            "certificate")));
    }
    auto tokenKey = std::make_unique<TokenKey>(session.value(), *key, certificate->publicKey());
    // Whether the key and the certificate belong together, shown the only way a key that never
    // leaves the token can show it: a signature over a fresh challenge.
    std::array<std::uint8_t, 32> challenge{};
    if (RAND_bytes(challenge.data(), challenge.size()) != 1) {
        return R(fail(error(KeyStoreErrorCode::Device, "OpenSSL's random generator failed")));
    }
    auto proof = tokenKey->signRaw(challenge);
    if (!proof) {
        return R(fail(error(KeyStoreErrorCode::Device, proof.error().message)));
    }
    if (!certificate->publicKey().verifyRaw(challenge, *proof)) {
        return R(fail(error(KeyStoreErrorCode::Invalid,
                            fmt::format("the certificate on the token does not certify the key "
                                        "'{}'",
                                        config.signingKeyLabel))));
    }
    if (!config.wrappedMasterKeys.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(config.wrappedMasterKeys, ec)) {
            return R(fail(error(KeyStoreErrorCode::NotFound,
                                fmt::format("the wrapped master key file {} is not there",
                                            config.wrappedMasterKeys.string()))));
        }
    }
    return std::unique_ptr<Pkcs11KeyStore>(new Pkcs11KeyStore(
        config, std::move(session).value(), std::move(tokenKey), std::move(certificate).value()));
}

KeyStoreInfo Pkcs11KeyStore::info() const {
    std::vector<std::string> roles;
    // The roles are inside the wrapped file; listing them would mean unwrapping, so the info
    // names them only when asked for a batch. The file's presence is what info says.
    Bytes keyId = m_certificate.keyId();
    return {"pkcs11",
            fmt::format("token '{}' through {}", m_config.tokenLabel,
                        m_config.module.filename().string()),
            m_certificate.commonName(),
            keyId,
            fmt::format("private key '{}' on the token{}", m_config.signingKeyLabel,
                        m_config.wrappedMasterKeys.empty()
                            ? std::string()
                            : fmt::format("; master keys wrapped under '{}' in {}",
                                          m_config.kekLabel, m_config.wrappedMasterKeys.string())),
            std::move(roles),
            m_certificate};
}

namespace {

Result<card::desfire::MasterKeys, KeyStoreError> parseKeys(std::span<const std::uint8_t> plain) {
    using R = Result<card::desfire::MasterKeys, KeyStoreError>;
    card::desfire::MasterKeys keys;
    std::size_t at = 0;
    while (at < plain.size()) {
        const std::size_t roleSize = plain[at++];
        if (roleSize == 0 || at + roleSize + 1 > plain.size()) {
            return R(fail(error(KeyStoreErrorCode::Damaged, "the master key file is malformed")));
        }
        const std::string role(plain.begin() + static_cast<long>(at),
                               plain.begin() + static_cast<long>(at + roleSize));
        at += roleSize;
        const std::size_t keySize = plain[at++];
        if (keySize != 16 || at + keySize > plain.size()) { // AES-128 (AN10922 §2.2)
            return R(fail(error(KeyStoreErrorCode::Damaged, "the master key file is malformed")));
        }
        keys.set(role, plain.subspan(at, keySize));
        at += keySize;
    }
    return keys;
}

} // namespace

Result<card::desfire::MasterKeys, KeyStoreError>
Pkcs11KeyStore::masterKeys(const std::vector<std::string>& roles) const {
    using R = Result<card::desfire::MasterKeys, KeyStoreError>;
    if (m_config.wrappedMasterKeys.empty()) {
        return R(fail(error(KeyStoreErrorCode::NotFound,
                            "this station's key store has no card master keys")));
    }
    auto file = card::readFile(m_config.wrappedMasterKeys, kMaxWrappedFile);
    if (!file) {
        return R(fail(error(file.error().code == card::KeyErrorCode::NotFound
                                ? KeyStoreErrorCode::NotFound
                                : KeyStoreErrorCode::Io,
                            file.error().message)));
    }
    const auto newline = std::find(file->begin(), file->end(), std::uint8_t{'\n'});
    const std::string header(file->begin(), newline);
    const auto named = parseWrappedHeader(header);
    if (newline == file->end() || !named) {
        return R(fail(error(KeyStoreErrorCode::Damaged,
                            fmt::format("{} is not a master key file wrapped for a token",
                                        m_config.wrappedMasterKeys.string()))));
    }
    const std::string& kekLabel = named->second;
    if (kekLabel != m_config.kekLabel) {
        return R(fail(
            error(KeyStoreErrorCode::Invalid,
                  fmt::format("{} is wrapped under the key '{}', not '{}'",
                              m_config.wrappedMasterKeys.string(), kekLabel, m_config.kekLabel))));
    }
    const std::size_t headerSize = header.size() + 1;
    if (file->size() < headerSize + kGcmIvSize + kGcmTagSize) {
        return R(fail(error(KeyStoreErrorCode::Damaged,
                            fmt::format("{} is cut short", m_config.wrappedMasterKeys.string()))));
    }
    auto kek = m_session->findKek(m_config.kekLabel);
    if (!kek) {
        return R(fail(kek.error()));
    }
    const std::span<const std::uint8_t> all(*file);
    Wiped plain;
    auto decrypted = m_session->gcm(false, *kek, all.subspan(headerSize, kGcmIvSize),
                                    all.first(headerSize), all.subspan(headerSize + kGcmIvSize));
    if (!decrypted) {
        return R(fail(decrypted.error()));
    }
    plain.bytes = std::move(decrypted).value();
    auto keys = parseKeys(plain.bytes);
    if (!keys) {
        return R(fail(keys.error()));
    }
    keys->setVersion(named->first); // authenticated: the header is GCM's additional data
    auto chosen = keys->only(roles.empty() ? keys->roles() : roles);
    if (!chosen) {
        return R(fail(error(KeyStoreErrorCode::Invalid, chosen.error().message)));
    }
    return std::move(chosen).value();
}

// ---- Pkcs11Provisioner ----------------------------------------------------------------------

Pkcs11Provisioner::Pkcs11Provisioner(Pkcs11Config config, std::shared_ptr<Pkcs11Session> session)
    : m_config(std::move(config)), m_session(std::move(session)) {}
Pkcs11Provisioner::~Pkcs11Provisioner() = default;
Pkcs11Provisioner::Pkcs11Provisioner(Pkcs11Provisioner&&) noexcept = default;
Pkcs11Provisioner& Pkcs11Provisioner::operator=(Pkcs11Provisioner&&) noexcept = default;

Result<Pkcs11Provisioner, KeyStoreError> Pkcs11Provisioner::open(const Pkcs11Config& config,
                                                                 const card::Secret& pin) {
    auto session = Pkcs11Session::open(config, pin);
    if (!session) {
        return fail(session.error());
    }
    return Pkcs11Provisioner(config, std::move(session).value());
}

Result<card::PublicKey, KeyStoreError> Pkcs11Provisioner::generateSigningKey() {
    using R = Result<card::PublicKey, KeyStoreError>;
    const Pkcs11Session& s = *m_session;
    auto existing = s.findSigningKey(m_config.signingKeyLabel);
    if (existing || existing.error().code != KeyStoreErrorCode::NotFound) {
        return R(fail(error(KeyStoreErrorCode::AlreadyExists,
                            fmt::format("the token already holds a signing key labelled '{}'",
                                        m_config.signingKeyLabel))));
    }
    if (auto missing =
            s.require(CKM_EC_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, "CKM_EC_KEY_PAIR_GEN")) {
        return R(fail(*missing));
    }
    if (auto missing = s.require(CKM_ECDSA, CKF_SIGN, "CKM_ECDSA")) {
        return R(fail(*missing));
    }
    // CKA_ID ties the key pair and, later, its certificate together (PKCS#11 v2.40 base §4.7,
    // common key attributes).
    std::array<std::uint8_t, 16> id{};
    if (RAND_bytes(id.data(), id.size()) != 1) {
        return R(fail(error(KeyStoreErrorCode::Device, "OpenSSL's random generator failed")));
    }
    CK_KEY_TYPE ec = CKK_EC;
    std::vector<CK_ATTRIBUTE> publicTemplate = {
        attribute(CKA_KEY_TYPE, ec),
        attribute(CKA_TOKEN, kTrue),
        attribute(CKA_PRIVATE, kFalse),
        attribute(CKA_VERIFY, kTrue),
        bytesAttribute(CKA_EC_PARAMS, kP256Oid.data(), kP256Oid.size()),
        textAttribute(CKA_LABEL, m_config.signingKeyLabel),
        bytesAttribute(CKA_ID, id.data(), id.size()),
    };
    // Made on the token, sensitive, never extractable: the key exists nowhere else
    // (PKCS#11 v2.40 §4.9 private key objects).
    std::vector<CK_ATTRIBUTE> privateTemplate = {
        attribute(CKA_KEY_TYPE, ec),
        attribute(CKA_TOKEN, kTrue),
        attribute(CKA_PRIVATE, kTrue),
        attribute(CKA_SENSITIVE, kTrue),
        attribute(CKA_EXTRACTABLE, kFalse),
        attribute(CKA_SIGN, kTrue),
        attribute(CKA_DERIVE, kFalse),
        textAttribute(CKA_LABEL, m_config.signingKeyLabel),
        bytesAttribute(CKA_ID, id.data(), id.size()),
    };
    CK_MECHANISM mechanism{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE publicKey = 0;
    CK_OBJECT_HANDLE privateKey = 0;
    {
        const std::lock_guard lock(s.mutex());
        const CK_RV rv = s.f()->C_GenerateKeyPair(
            s.handle(), &mechanism, publicTemplate.data(),
            static_cast<CK_ULONG>(publicTemplate.size()), privateTemplate.data(),
            static_cast<CK_ULONG>(privateTemplate.size()), &publicKey, &privateKey);
        if (rv != CKR_OK) {
            return R(fail(p11Error(rv, "the token cannot generate the signing key")));
        }
    }
    return signingPublicKey();
}

Result<card::PublicKey, KeyStoreError> Pkcs11Provisioner::signingPublicKey() const {
    using R = Result<card::PublicKey, KeyStoreError>;
    const Pkcs11Session& s = *m_session;
    auto key = s.findSigningKey(m_config.signingKeyLabel);
    if (!key) {
        return R(fail(key.error()));
    }
    auto id = s.attributeValue(*key, CKA_ID);
    if (!id) {
        return R(fail(p11Error(id.error(), "cannot read the signing key's CKA_ID")));
    }
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_KEY_TYPE type = CKK_EC;
    auto publicObject =
        s.findOne({attribute(CKA_CLASS, cls), attribute(CKA_KEY_TYPE, type),
                   bytesAttribute(CKA_ID, id->data(), id->size())},
                  fmt::format("public key of the signing key '{}'", m_config.signingKeyLabel));
    if (!publicObject) {
        return R(fail(publicObject.error()));
    }
    auto params = s.attributeValue(*publicObject, CKA_EC_PARAMS);
    if (!params || !std::equal(params->begin(), params->end(), kP256Oid.begin(), kP256Oid.end())) {
        return R(fail(error(KeyStoreErrorCode::Invalid,
                            "the signing key on the token is not on the P-256 curve")));
    }
    auto point = s.attributeValue(*publicObject, CKA_EC_POINT);
    if (!point) {
        return R(fail(p11Error(point.error(), "cannot read the signing key's public point")));
    }
    return publicKeyFromPoint(*point);
}

std::optional<KeyStoreError> Pkcs11Provisioner::importCertificate(const card::Certificate& cert) {
    const Pkcs11Session& s = *m_session;
    if (!cert.isRecordSigner()) {
        return error(KeyStoreErrorCode::Invalid, "this is not a card record signing certificate");
    }
    auto publicKey = signingPublicKey();
    if (!publicKey) {
        return publicKey.error();
    }
    if (EVP_PKEY_eq(publicKey->get(), cert.publicKey().get()) != 1) {
        return error(KeyStoreErrorCode::Invalid,
                     fmt::format("the certificate is for another key than the token's '{}'",
                                 m_config.signingKeyLabel));
    }
    auto key = s.findSigningKey(m_config.signingKeyLabel);
    if (!key) {
        return key.error();
    }
    auto id = s.attributeValue(*key, CKA_ID);
    if (!id) {
        return p11Error(id.error(), "cannot read the signing key's CKA_ID");
    }
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    auto existing = s.find({attribute(CKA_CLASS, cls), attribute(CKA_CERTIFICATE_TYPE, type),
                            bytesAttribute(CKA_ID, id->data(), id->size())});
    if (!existing) {
        return existing.error();
    }
    if (!existing->empty()) {
        return error(KeyStoreErrorCode::AlreadyExists,
                     "the token already holds a certificate for this key; delete it first to "
                     "renew");
    }
    const Bytes der = cert.toDer();
    // CKA_SUBJECT is required of an X.509 certificate object (PKCS#11 v2.40 §4.6.3).
    unsigned char* subject = nullptr;
    const int subjectSize = i2d_X509_NAME(X509_get_subject_name(cert.get()), &subject);
    if (subjectSize <= 0) {
        return error(KeyStoreErrorCode::Damaged, "cannot encode the certificate's subject");
    }
    const Bytes subjectDer(subject, subject + subjectSize);
    OPENSSL_free(subject);
    std::vector<CK_ATTRIBUTE> templ = {
        attribute(CKA_CLASS, cls),
        attribute(CKA_CERTIFICATE_TYPE, type),
        attribute(CKA_TOKEN, kTrue),
        attribute(CKA_PRIVATE, kFalse),
        textAttribute(CKA_LABEL, m_config.signingKeyLabel),
        bytesAttribute(CKA_ID, id->data(), id->size()),
        bytesAttribute(CKA_SUBJECT, subjectDer.data(), subjectDer.size()),
        bytesAttribute(CKA_VALUE, der.data(), der.size()),
    };
    CK_OBJECT_HANDLE object = 0;
    const std::lock_guard lock(s.mutex());
    const CK_RV rv = s.f()->C_CreateObject(s.handle(), templ.data(),
                                           static_cast<CK_ULONG>(templ.size()), &object);
    if (rv != CKR_OK) {
        return p11Error(rv, "the token cannot store the certificate");
    }
    return std::nullopt;
}

std::optional<KeyStoreError> Pkcs11Provisioner::generateKek() {
    const Pkcs11Session& s = *m_session;
    auto existing = s.findKek(m_config.kekLabel);
    if (existing || existing.error().code != KeyStoreErrorCode::NotFound) {
        return error(KeyStoreErrorCode::AlreadyExists,
                     fmt::format("the token already holds a key labelled '{}'; a new one would "
                                 "orphan the master key files wrapped under it",
                                 m_config.kekLabel));
    }
    if (auto missing = s.require(CKM_AES_KEY_GEN, CKF_GENERATE, "CKM_AES_KEY_GEN")) {
        return missing;
    }
    if (auto missing = s.require(CKM_AES_GCM, CKF_ENCRYPT | CKF_DECRYPT, "CKM_AES_GCM")) {
        return missing;
    }
    std::array<std::uint8_t, 16> id{};
    if (RAND_bytes(id.data(), id.size()) != 1) {
        return error(KeyStoreErrorCode::Device, "OpenSSL's random generator failed");
    }
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ULONG size = 32; // AES-256
    // It only encrypts and decrypts the master key file: it cannot wrap other keys out of the
    // token, sign or derive, and never leaves it (PKCS#11 v2.40 §4.10 secret key objects).
    std::vector<CK_ATTRIBUTE> templ = {
        attribute(CKA_CLASS, cls),
        attribute(CKA_KEY_TYPE, type),
        attribute(CKA_VALUE_LEN, size),
        attribute(CKA_TOKEN, kTrue),
        attribute(CKA_PRIVATE, kTrue),
        attribute(CKA_SENSITIVE, kTrue),
        attribute(CKA_EXTRACTABLE, kFalse),
        attribute(CKA_ENCRYPT, kTrue),
        attribute(CKA_DECRYPT, kTrue),
        attribute(CKA_WRAP, kFalse),
        attribute(CKA_UNWRAP, kFalse),
        attribute(CKA_SIGN, kFalse),
        attribute(CKA_DERIVE, kFalse),
        textAttribute(CKA_LABEL, m_config.kekLabel),
        bytesAttribute(CKA_ID, id.data(), id.size()),
    };
    CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE object = 0;
    const std::lock_guard lock(s.mutex());
    const CK_RV rv = s.f()->C_GenerateKey(s.handle(), &mechanism, templ.data(),
                                          static_cast<CK_ULONG>(templ.size()), &object);
    if (rv != CKR_OK) {
        return p11Error(rv, "the token cannot generate the key-encryption key");
    }
    return std::nullopt;
}

std::optional<KeyStoreError>
Pkcs11Provisioner::wrapMasterKeys(const card::desfire::MasterKeys& keys) {
    if (m_config.wrappedMasterKeys.empty()) {
        return error(KeyStoreErrorCode::Invalid, "no file was named for the wrapped master keys");
    }
    std::error_code ec;
    if (std::filesystem::exists(m_config.wrappedMasterKeys, ec)) {
        return error(
            KeyStoreErrorCode::AlreadyExists,
            fmt::format("{} exists; refusing to replace it", m_config.wrappedMasterKeys.string()));
    }
    if (m_config.kekLabel.empty() || m_config.kekLabel.find('\n') != std::string::npos) {
        return error(KeyStoreErrorCode::Invalid, "the key-encryption key's label is not usable");
    }
    const auto roles = keys.roles();
    if (roles.empty()) {
        return error(KeyStoreErrorCode::Invalid, "there are no master keys to wrap");
    }
    Wiped plain;
    for (const auto& role : roles) {
        const auto key = keys.key(role);
        if (role.empty() || role.size() > 255 || !key || key->size() != 16) {
            return error(KeyStoreErrorCode::Invalid,
                         fmt::format("the master key of role '{}' cannot be wrapped", role));
        }
        plain.bytes.push_back(static_cast<std::uint8_t>(role.size()));
        plain.bytes.insert(plain.bytes.end(), role.begin(), role.end());
        plain.bytes.push_back(static_cast<std::uint8_t>(key->size()));
        plain.bytes.insert(plain.bytes.end(), key->begin(), key->end());
    }
    auto kek = m_session->findKek(m_config.kekLabel);
    if (!kek) {
        return kek.error();
    }
    const std::string headerLine = keys.version() == card::desfire::kFirstKeyVersion
                                       ? fmt::format("{}{}\n", kWrappedPrefix, m_config.kekLabel)
                                       : fmt::format("{}{}{}{}\n", kWrappedPrefixV2, keys.version(),
                                                     kWrappedCipherV2, m_config.kekLabel);
    const Bytes header(headerLine.begin(), headerLine.end());
    std::array<std::uint8_t, kGcmIvSize> iv{};
    if (RAND_bytes(iv.data(), iv.size()) != 1) {
        return error(KeyStoreErrorCode::Device, "OpenSSL's random generator failed");
    }
    auto sealed = m_session->gcm(true, *kek, iv, header, plain.bytes);
    if (!sealed) {
        return sealed.error();
    }
    Bytes file = header;
    file.insert(file.end(), iv.begin(), iv.end());
    file.insert(file.end(), sealed->begin(), sealed->end());
    if (auto failed = card::writeFileAtomically(m_config.wrappedMasterKeys, file, 0600)) {
        return error(failed->code == card::KeyErrorCode::AlreadyExists
                         ? KeyStoreErrorCode::AlreadyExists
                         : KeyStoreErrorCode::Io,
                     failed->message);
    }
    return std::nullopt;
}

} // namespace unioncard::station
