// SPDX-License-Identifier: Apache-2.0
#include "openssl_util.hpp"

#include <unioncard/card/keys.hpp>

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace unioncard::card {

namespace {

KeyError keyError(KeyErrorCode code, std::string message) {
    return {code, std::move(message)};
}

template <class T> Result<T, KeyError> failure(KeyErrorCode code, std::string message) {
    return fail(keyError(code, std::move(message)));
}

// scrypt parameters for key files: N = 2^14, r = 8, p = 1 (16 MiB, the interactive figure of
// RFC 7914 §2), within OpenSSL's default 32 MiB scrypt memory limit when the file is read.
constexpr std::uint64_t kScryptN = 1u << 14;
constexpr std::uint64_t kScryptR = 8;
constexpr std::uint64_t kScryptP = 1;
constexpr int kSaltLength = 16;

bool isP256(EVP_PKEY* key) {
    if (EVP_PKEY_is_a(key, "EC") != 1) {
        return false;
    }
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1) {
        return false;
    }
    return std::string_view(group, len) == SN_X9_62_prime256v1;
}

Seconds fromAsn1Time(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
        return Seconds{};
    }
    return Seconds{std::chrono::seconds{timegm(&tm)}};
}

} // namespace

std::string_view toString(KeyErrorCode code) {
    switch (code) {
    case KeyErrorCode::NotFound:
        return "not_found";
    case KeyErrorCode::AlreadyExists:
        return "already_exists";
    case KeyErrorCode::WrongPassphrase:
        return "wrong_passphrase";
    case KeyErrorCode::Damaged:
        return "damaged";
    case KeyErrorCode::Invalid:
        return "invalid";
    case KeyErrorCode::Io:
        return "io";
    case KeyErrorCode::Crypto:
        return "crypto";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Secret

Secret::Secret(Secret&& other) noexcept : m_text(std::move(other.m_text)) {
    other.wipe();
}

Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        wipe();
        m_text = std::move(other.m_text);
        other.wipe();
    }
    return *this;
}

Secret::~Secret() {
    wipe();
}

void Secret::wipe() {
    // Cleanse the whole buffer, not just size(): a moved-from or shrunk string may keep bytes.
    m_text.resize(m_text.capacity());
    OPENSSL_cleanse(m_text.data(), m_text.size());
    m_text.clear();
}

// ---------------------------------------------------------------------------------------------
// Files

std::optional<KeyError> writeFileAtomically(const std::filesystem::path& file,
                                            std::span<const std::uint8_t> content, unsigned mode,
                                            bool replace) {
    std::error_code ec;
    if (!replace && std::filesystem::exists(file, ec)) {
        return keyError(KeyErrorCode::AlreadyExists,
                        fmt::format("{} exists already; it is not replaced", file.string()));
    }
    const std::filesystem::path tmp = file.string() + ".tmp-" + std::to_string(::getpid());
    const int fd =
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) {
        return keyError(KeyErrorCode::Io,
                        fmt::format("cannot create {}: {}", tmp.string(), std::strerror(errno)));
    }
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return keyError(KeyErrorCode::Io,
                            fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return keyError(KeyErrorCode::Io,
                        fmt::format("cannot flush {}: {}", tmp.string(), std::strerror(err)));
    }
    // link() fails if the target exists, so two writers never replace each other's key.
    const int rc =
        replace ? ::rename(tmp.c_str(), file.c_str()) : ::link(tmp.c_str(), file.c_str());
    const int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
        return keyError(err == EEXIST ? KeyErrorCode::AlreadyExists : KeyErrorCode::Io,
                        fmt::format("cannot write {}: {}", file.string(), std::strerror(err)));
    }
    const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
    if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return std::nullopt;
}

Result<Bytes, KeyError> readFile(const std::filesystem::path& file, std::size_t maxSize) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        return failure<Bytes>(KeyErrorCode::NotFound,
                              fmt::format("{} does not exist", file.string()));
    }
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) {
        return failure<Bytes>(KeyErrorCode::Io,
                              fmt::format("cannot read {}: {}", file.string(), ec.message()));
    }
    if (size > maxSize) {
        return failure<Bytes>(KeyErrorCode::Damaged,
                              fmt::format("{} is {} bytes, more than the {} a file of its kind "
                                          "can be",
                                          file.string(), size, maxSize));
    }
    Bytes out(size);
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (f == nullptr) {
        return failure<Bytes>(KeyErrorCode::Io, fmt::format("cannot open {}: {}", file.string(),
                                                            std::strerror(errno)));
    }
    const std::size_t n = std::fread(out.data(), 1, out.size(), f);
    std::fclose(f);
    if (n != out.size()) {
        return failure<Bytes>(KeyErrorCode::Io, fmt::format("cannot read {}", file.string()));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Keys

Result<PublicKey, KeyError> PublicKey::fromPem(std::string_view pem) {
    auto bio = ossl::memoryBio(pem.data(), pem.size());
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr) {
        ERR_clear_error();
        return failure<PublicKey>(KeyErrorCode::Damaged, "not a PEM public key");
    }
    auto shared = ossl::sharePkey(key);
    if (!isP256(key)) {
        return failure<PublicKey>(KeyErrorCode::Invalid, "the public key is not ECDSA P-256");
    }
    return PublicKey(std::move(shared));
}

std::string PublicKey::toPem() const {
    ossl::Bio bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PUBKEY(bio.get(), m_key.get());
    return ossl::bioText(bio.get());
}

bool PublicKey::verifyRaw(std::span<const std::uint8_t> message,
                          std::span<const std::uint8_t> signature) const {
    if (signature.size() != 64) {
        return false;
    }
    // COSE carries r || s; OpenSSL verifies the DER form of ECDSA-Sig-Value.
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(signature.data(), 32, nullptr);
    BIGNUM* s = BN_bin2bn(signature.data() + 32, 32, nullptr);
    if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        ERR_clear_error();
        return false;
    }
    unsigned char* der = nullptr;
    const int derLength = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (derLength <= 0) {
        ERR_clear_error();
        return false;
    }
    ossl::MdCtx md(EVP_MD_CTX_new());
    const bool ok = md &&
                    EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr,
                                            m_key.get(), nullptr) == 1 &&
                    EVP_DigestVerify(md.get(), der, static_cast<std::size_t>(derLength),
                                     message.data(), message.size()) == 1;
    OPENSSL_free(der);
    ERR_clear_error();
    return ok;
}

Result<PrivateKey, KeyError> PrivateKey::generate() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (key == nullptr) {
        return failure<PrivateKey>(KeyErrorCode::Crypto,
                                   "cannot generate a P-256 key: " + ossl::errors());
    }
    return PrivateKey(ossl::sharePkey(key));
}

PublicKey PrivateKey::publicKey() const {
    // Export the public half only, so a PublicKey never carries the private scalar.
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(m_key.get(), &der);
    const unsigned char* p = der;
    EVP_PKEY* pub = n > 0 ? d2i_PUBKEY(nullptr, &p, n) : nullptr;
    OPENSSL_free(der);
    return PublicKey(ossl::sharePkey(pub));
}

Result<std::string, KeyError> PrivateKey::toEncryptedPem(const Secret& passphrase) const {
    if (passphrase.empty()) {
        return failure<std::string>(KeyErrorCode::Invalid, "an empty passphrase protects nothing");
    }
    // PKCS#8 EncryptedPrivateKeyInfo with PBES2: scrypt (RFC 7914 §7) and AES-256-CBC.
    PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(m_key.get());
    X509_ALGOR* pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), nullptr, kSaltLength, nullptr,
                                            kScryptN, kScryptR, kScryptP);
    X509_SIG* sig = (p8 != nullptr && pbe != nullptr)
                        ? PKCS8_set0_pbe(passphrase.view().data(),
                                         static_cast<int>(passphrase.view().size()), p8, pbe)
                        : nullptr;
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (sig == nullptr) {
        X509_ALGOR_free(pbe);
        return failure<std::string>(KeyErrorCode::Crypto,
                                    "cannot encrypt the key: " + ossl::errors());
    }
    ossl::Bio bio(BIO_new(BIO_s_mem()));
    const int ok = PEM_write_bio_PKCS8(bio.get(), sig);
    X509_SIG_free(sig);
    if (ok != 1) {
        return failure<std::string>(KeyErrorCode::Crypto,
                                    "cannot write the key: " + ossl::errors());
    }
    return ossl::bioText(bio.get());
}

std::optional<KeyError> PrivateKey::save(const std::filesystem::path& file,
                                         const Secret& passphrase) const {
    auto pem = toEncryptedPem(passphrase);
    if (!pem) {
        return pem.error();
    }
    const std::string& text = pem.value();
    return writeFileAtomically(
        file, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, 0600);
}

Result<PrivateKey, KeyError> PrivateKey::fromEncryptedPem(std::string_view pem,
                                                          const Secret& passphrase) {
    // A key at rest is always encrypted: a plain "PRIVATE KEY" block is refused, not used.
    // ... and it must be the file's only block: PEM_read_bio_PrivateKey reads the first key
    // block it finds, so a plain key placed before an encrypted one would slip through.
    std::size_t blocks = 0;
    for (auto at = pem.find("-----BEGIN "); at != std::string_view::npos;
         at = pem.find("-----BEGIN ", at + 1)) {
        ++blocks;
    }
    if (blocks != 1 ||
        pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") == std::string_view::npos) {
        return failure<PrivateKey>(KeyErrorCode::Damaged,
                                   "the key file holds no encrypted private key (unencrypted "
                                   "keys are refused)");
    }
    {
        auto bio = ossl::memoryBio(pem.data(), pem.size());
        X509_SIG* sig = PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr);
        if (sig == nullptr) {
            ERR_clear_error();
            return failure<PrivateKey>(KeyErrorCode::Damaged, "the key file is damaged");
        }
        X509_SIG_free(sig);
    }
    auto bio = ossl::memoryBio(pem.data(), pem.size());
    // With no callback, PEM takes the NUL-terminated passphrase as its user argument.
    EVP_PKEY* key =
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(passphrase.c_str()));
    if (key == nullptr) {
        ERR_clear_error();
        return failure<PrivateKey>(KeyErrorCode::WrongPassphrase,
                                   "the passphrase does not open this key");
    }
    auto shared = ossl::sharePkey(key);
    if (!isP256(key)) {
        return failure<PrivateKey>(KeyErrorCode::Invalid, "the key is not ECDSA P-256");
    }
    return PrivateKey(std::move(shared));
}

Result<PrivateKey, KeyError> PrivateKey::load(const std::filesystem::path& file,
                                              const Secret& passphrase) {
    auto bytes = readFile(file, 64 * 1024);
    if (!bytes) {
        return fail(bytes.error());
    }
    const std::string pem(bytes->begin(), bytes->end());
    auto key = fromEncryptedPem(pem, passphrase);
    if (!key) {
        return fail(
            keyError(key.error().code, fmt::format("{}: {}", file.string(), key.error().message)));
    }
    return key;
}

Result<Bytes, KeyError> PrivateKey::signRaw(std::span<const std::uint8_t> message) const {
    ossl::MdCtx md(EVP_MD_CTX_new());
    std::size_t derLength = 0;
    if (!md ||
        EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, m_key.get(),
                              nullptr) != 1 ||
        EVP_DigestSign(md.get(), nullptr, &derLength, message.data(), message.size()) != 1) {
        return failure<Bytes>(KeyErrorCode::Crypto, "cannot sign: " + ossl::errors());
    }
    Bytes der(derLength);
    if (EVP_DigestSign(md.get(), der.data(), &derLength, message.data(), message.size()) != 1) {
        return failure<Bytes>(KeyErrorCode::Crypto, "cannot sign: " + ossl::errors());
    }
    const unsigned char* p = der.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(derLength));
    if (sig == nullptr) {
        return failure<Bytes>(KeyErrorCode::Crypto, "cannot read back the signature");
    }
    Bytes raw(64);
    const bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), 32) == 32 &&
                    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    if (!ok) {
        return failure<Bytes>(KeyErrorCode::Crypto, "the signature does not fit P-256");
    }
    return raw;
}

// ---------------------------------------------------------------------------------------------
// Certificates

Result<Certificate, KeyError> Certificate::fromPem(std::string_view pem) {
    auto bio = ossl::memoryBio(pem.data(), pem.size());
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x == nullptr) {
        ERR_clear_error();
        return failure<Certificate>(KeyErrorCode::Damaged, "not a PEM certificate");
    }
    return Certificate(ossl::shareX509(x));
}

Result<Certificate, KeyError> Certificate::fromDer(std::span<const std::uint8_t> der) {
    const unsigned char* p = der.data();
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (x == nullptr || p != der.data() + der.size()) {
        X509_free(x);
        ERR_clear_error();
        return failure<Certificate>(KeyErrorCode::Damaged, "not a DER certificate");
    }
    return Certificate(ossl::shareX509(x));
}

Result<Certificate, KeyError> Certificate::load(const std::filesystem::path& file) {
    auto bytes = readFile(file, 64 * 1024);
    if (!bytes) {
        return fail(bytes.error());
    }
    auto cert = fromPem(std::string(bytes->begin(), bytes->end()));
    if (!cert) {
        return fail(keyError(cert.error().code,
                             fmt::format("{}: {}", file.string(), cert.error().message)));
    }
    return cert;
}

std::string Certificate::toPem() const {
    ossl::Bio bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), m_cert.get());
    return ossl::bioText(bio.get());
}

Bytes Certificate::toDer() const {
    unsigned char* der = nullptr;
    const int n = i2d_X509(m_cert.get(), &der);
    Bytes out(der, der + (n > 0 ? n : 0));
    OPENSSL_free(der);
    return out;
}

Bytes Certificate::fingerprint() const {
    const Bytes der = toDer();
    Bytes digest(32);
    unsigned int n = 0;
    EVP_Digest(der.data(), der.size(), digest.data(), &n, EVP_sha256(), nullptr);
    return digest;
}

Bytes Certificate::publicKeyFingerprint() const {
    // The certificate's SubjectPublicKeyInfo, DER (RFC 5280 §4.1.2.7), as i2d_PUBKEY writes it.
    EVP_PKEY* key = X509_get0_pubkey(m_cert.get());
    unsigned char* der = nullptr;
    const int size = key != nullptr ? i2d_PUBKEY(key, &der) : -1;
    Bytes digest(32);
    unsigned int n = 0;
    if (size <= 0 || EVP_Digest(der, static_cast<std::size_t>(size), digest.data(), &n,
                                EVP_sha256(), nullptr) != 1) {
        digest.clear();
    }
    OPENSSL_free(der);
    return digest;
}

Bytes Certificate::keyId() const {
    Bytes fp = fingerprint();
    fp.resize(8);
    return fp;
}

std::string Certificate::commonName() const {
    const X509_NAME* name = X509_get_subject_name(m_cert.get());
    const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0) {
        return {};
    }
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, s);
    std::string out(reinterpret_cast<char*>(utf8), n > 0 ? static_cast<std::size_t>(n) : 0);
    OPENSSL_free(utf8);
    return out;
}

Seconds Certificate::notBefore() const {
    return fromAsn1Time(X509_get0_notBefore(m_cert.get()));
}

Seconds Certificate::notAfter() const {
    return fromAsn1Time(X509_get0_notAfter(m_cert.get()));
}

PublicKey Certificate::publicKey() const {
    EVP_PKEY* key = X509_get_pubkey(m_cert.get());
    return PublicKey(ossl::sharePkey(key));
}

bool Certificate::isRoot() const {
    X509* x = m_cert.get();
    const std::uint32_t usage = X509_get_key_usage(x);
    return X509_check_ca(x) == 1 && X509_self_signed(x, 1) == 1 &&
           (usage & KU_KEY_CERT_SIGN) != 0 && (usage & KU_DIGITAL_SIGNATURE) != 0 &&
           isP256(X509_get0_pubkey(x));
}

namespace {

// Whether `x` is an ECDSA P-256 end-entity certificate for digital signatures only whose EKU
// lists `oid`: a station's record signer or the registry's status signer.
bool isEndEntityWithUsage(X509* x, const char* oid) {
    if (X509_check_ca(x) != 0 || (X509_get_extension_flags(x) & EXFLAG_KUSAGE) == 0 ||
        X509_get_key_usage(x) != KU_DIGITAL_SIGNATURE || !isP256(X509_get0_pubkey(x))) {
        return false;
    }
    auto* eku =
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
    if (eku == nullptr) {
        ERR_clear_error();
        return false;
    }
    ASN1_OBJECT* wanted = OBJ_txt2obj(oid, 1);
    bool found = false;
    for (int i = 0; wanted != nullptr && i < sk_ASN1_OBJECT_num(eku); ++i) {
        if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), wanted) == 0) {
            found = true;
        }
    }
    ASN1_OBJECT_free(wanted);
    EXTENDED_KEY_USAGE_free(eku);
    return found;
}

} // namespace

bool Certificate::isRecordSigner() const {
    return isEndEntityWithUsage(m_cert.get(), kRecordSigningOid);
}

Result<bool, std::string> Certificate::chainsTo(const Certificate& issuer, Seconds when) const {
    using Store = ossl::Ptr<X509_STORE, X509_STORE_free>;
    using StoreCtx = ossl::Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
    Store store(X509_STORE_new());
    StoreCtx ctx(X509_STORE_CTX_new());
    if (!store || !ctx || X509_STORE_add_cert(store.get(), issuer.get()) != 1 ||
        X509_STORE_CTX_init(ctx.get(), store.get(), m_cert.get(), nullptr) != 1) {
        return Result<bool, std::string>(
            fail("cannot set up certificate verification: " + ossl::errors()));
    }
    X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(when));
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
    const bool ok = X509_verify_cert(ctx.get()) == 1;
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    if (!ok) {
        return Result<bool, std::string>(fail(std::string(X509_verify_cert_error_string(err))));
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Issuing

namespace {

bool addExtension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) {
        return false;
    }
    const bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

struct Extension {
    int nid;
    const char* value;
};

Result<Certificate, KeyError>
makeCertificate(const PrivateKey& signer, X509* issuerCert, EVP_PKEY* subjectKey,
                std::initializer_list<std::pair<const char*, std::string>> subject,
                Validity validity, std::initializer_list<Extension> extensions) {
    if (validity.notAfter <= validity.notBefore) {
        return failure<Certificate>(KeyErrorCode::Invalid,
                                    "the validity period ends before it begins");
    }
    auto cert = ossl::shareX509(X509_new());
    X509* x = cert.get();
    // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; 128 random bits (CA/B BR 7.1).
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) {
        return failure<Certificate>(KeyErrorCode::Crypto, "no randomness: " + ossl::errors());
    }
    serial[0] &= 0x7F;
    serial[0] |= 0x01;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    ASN1_INTEGER* sn = BN_to_ASN1_INTEGER(bn, nullptr);
    BN_free(bn);
    X509_NAME* name = X509_NAME_new();
    for (const auto& [field, value] : subject) {
        X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0);
    }
    bool ok = X509_set_version(x, X509_VERSION_3) == 1 && X509_set_serialNumber(x, sn) == 1 &&
              X509_set_subject_name(x, name) == 1 &&
              X509_set_issuer_name(x, issuerCert != nullptr ? X509_get_subject_name(issuerCert)
                                                            : name) == 1 &&
              ASN1_TIME_set(X509_getm_notBefore(x),
                            std::chrono::system_clock::to_time_t(validity.notBefore)) != nullptr &&
              ASN1_TIME_set(X509_getm_notAfter(x),
                            std::chrono::system_clock::to_time_t(validity.notAfter)) != nullptr &&
              X509_set_pubkey(x, subjectKey) == 1;
    ASN1_INTEGER_free(sn);
    X509_NAME_free(name);
    for (const auto& e : extensions) {
        ok = ok && addExtension(x, issuerCert != nullptr ? issuerCert : x, e.nid, e.value);
    }
    ok = ok && X509_sign(x, signer.get(), EVP_sha256()) > 0;
    if (!ok) {
        return failure<Certificate>(KeyErrorCode::Crypto,
                                    "cannot make the certificate: " + ossl::errors());
    }
    unsigned char* der = nullptr;
    const int n = i2d_X509(x, &der);
    const Bytes encoded(der, der + (n > 0 ? n : 0));
    OPENSSL_free(der);
    return Certificate::fromDer(encoded);
}

} // namespace

std::string formatFingerprint(std::span<const std::uint8_t> digest) {
    std::string out;
    for (std::uint8_t b : digest) {
        out += fmt::format("{}{:02X}", out.empty() ? "" : ":", b);
    }
    return out;
}

std::optional<Bytes> parseFingerprint(std::string_view text) {
    Bytes out;
    int pending = -1;
    for (char c : text) {
        int v;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        } else if (c == ':' && pending < 0) {
            continue;
        } else {
            return std::nullopt;
        }
        if (pending < 0) {
            pending = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(pending * 16 + v));
            pending = -1;
        }
    }
    if (pending >= 0 || out.size() != 32) {
        return std::nullopt;
    }
    return out;
}

bool isValidStationId(std::string_view id) {
    if (id.empty() || id.size() > 32 || id.front() == '-') {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

Result<Certificate, KeyError> makeRootCertificate(const PrivateKey& rootKey, std::string_view name,
                                                  Validity validity) {
    if (name.empty() || name.size() > 64) {
        return failure<Certificate>(KeyErrorCode::Invalid,
                                    "the root's name must be 1 to 64 characters");
    }
    // RFC 5280 §4.2.1.9 and §4.2.1.3: a CA that certifies end entities only (path length 0);
    // digitalSignature because the root also signs trust lists.
    return makeCertificate(rootKey, nullptr, rootKey.get(), {{"CN", std::string(name)}}, validity,
                           {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                            {NID_subject_key_identifier, "hash"}});
}

namespace {

// An end-entity certificate the root issues for one purpose (RFC 5280 §4.2.1.12: the EKU
// `oid`, critical): a station's record signer or the registry's status signer. `what` names it
// in messages.
Result<Certificate, KeyError> issueEndEntity(const PrivateKey& rootKey, const Certificate& rootCert,
                                             const PublicKey& publicKey, const std::string& cn,
                                             const char* ou, const char* oid, const char* what,
                                             Validity validity) {
    if (!rootCert.isRoot()) {
        return failure<Certificate>(KeyErrorCode::Invalid,
                                    "the issuer is not a union root certificate");
    }
    if (validity.notBefore < rootCert.notBefore() || validity.notAfter > rootCert.notAfter()) {
        return failure<Certificate>(
            KeyErrorCode::Invalid,
            fmt::format("the {} certificate would outlive the root's validity", what));
    }
    const std::string eku = std::string("critical,") + oid;
    return makeCertificate(rootKey, rootCert.get(), publicKey.get(), {{"CN", cn}, {"OU", ou}},
                           validity,
                           {{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature"},
                            {NID_ext_key_usage, eku.c_str()},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid:always"}});
}

} // namespace

Result<Certificate, KeyError> issueStationCertificate(const PrivateKey& rootKey,
                                                      const Certificate& rootCert,
                                                      const PublicKey& stationKey,
                                                      std::string_view stationId,
                                                      Validity validity) {
    if (!isValidStationId(stationId)) {
        return failure<Certificate>(KeyErrorCode::Invalid,
                                    fmt::format("'{}' is not a station id: use 1 to 32 of a-z, "
                                                "0-9 and '-'",
                                                stationId));
    }
    return issueEndEntity(rootKey, rootCert, stationKey, std::string(stationId),
                          "card record signing", kRecordSigningOid, "station", validity);
}

bool Certificate::isStatusSigner() const {
    return isEndEntityWithUsage(m_cert.get(), kStatusSigningOid);
}

// Status signing (docs/status-list.md): the same shape as a station certificate, another EKU.
Result<Certificate, KeyError>
issueStatusSignerCertificate(const PrivateKey& rootKey, const Certificate& rootCert,
                             const PublicKey& publicKey, std::string_view name, Validity validity) {
    if (name.empty() || name.size() > 64) {
        return failure<Certificate>(KeyErrorCode::Invalid,
                                    "the status signer's name must be 1 to 64 characters");
    }
    return issueEndEntity(rootKey, rootCert, publicKey, std::string(name), "status list signing",
                          kStatusSigningOid, "status signer's", validity);
}

} // namespace unioncard::card
