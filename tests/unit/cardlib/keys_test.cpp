// SPDX-License-Identifier: Apache-2.0
#include "signing_fixture.hpp"

#include <unioncard/card/cose.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace unioncard::card {
namespace {

using testing::at;
using testing::Signing;
using testing::take;

class TempDir {
public:
    TempDir() {
        char pattern[] = "/tmp/unioncard-keys-XXXXXX";
        m_path = ::mkdtemp(pattern);
    }
    ~TempDir() { std::filesystem::remove_all(m_path); }
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

std::string readText(const std::filesystem::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}

TEST(Keys, EncryptedKeyFileRoundTrips) {
    TempDir dir;
    const auto key = take(PrivateKey::generate());
    const Secret pass("correct horse battery");
    ASSERT_FALSE(key.save(dir.path() / "k.pem", pass));
    const auto back = take(PrivateKey::load(dir.path() / "k.pem", pass));
    EXPECT_EQ(back.publicKey().toPem(), key.publicKey().toPem());
}

TEST(Keys, KeyFileIsEncryptedWithScryptAndPrivateToItsOwner) {
    TempDir dir;
    const auto key = take(PrivateKey::generate());
    ASSERT_FALSE(key.save(dir.path() / "k.pem", Secret("correct horse battery")));
    const std::string text = readText(dir.path() / "k.pem");
    EXPECT_NE(text.find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / "k.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // PBES2 with scrypt, as OpenSSL itself reads the file (RFC 7914 §7,
    // OID 1.3.6.1.4.1.11591.4.11).
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    X509_SIG* sig = PEM_read_bio_PKCS8(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ASSERT_NE(sig, nullptr);
    const X509_ALGOR* alg = nullptr;
    X509_SIG_get0(sig, &alg, nullptr);
    EXPECT_EQ(OBJ_obj2nid(alg->algorithm), NID_pbes2);
    X509_SIG_free(sig);
}

TEST(Keys, WrongPassphraseIsNamed) {
    TempDir dir;
    const auto key = take(PrivateKey::generate());
    ASSERT_FALSE(key.save(dir.path() / "k.pem", Secret("correct horse battery")));
    const auto r = PrivateKey::load(dir.path() / "k.pem", Secret("incorrect horse battery"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, KeyErrorCode::WrongPassphrase);
    EXPECT_EQ(r.error().message.find("incorrect"), std::string::npos) << "passphrase in message";
}

TEST(Keys, UnencryptedKeyFileIsRefused) {
    TempDir dir;
    const auto key = take(PrivateKey::generate());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    const std::string plain(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    const auto r = PrivateKey::fromEncryptedPem(plain, Secret("whatever passphrase"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, KeyErrorCode::Damaged);
}

TEST(Keys, DamagedAndMissingKeyFilesAreNamed) {
    TempDir dir;
    const auto key = take(PrivateKey::generate());
    std::string pem = take(key.toEncryptedPem(Secret("correct horse battery")));
    pem[pem.size() / 2] = pem[pem.size() / 2] == 'A' ? 'B' : 'A';
    const auto damaged = PrivateKey::fromEncryptedPem(pem, Secret("correct horse battery"));
    ASSERT_FALSE(damaged.ok());
    EXPECT_TRUE(damaged.error().code == KeyErrorCode::Damaged ||
                damaged.error().code == KeyErrorCode::WrongPassphrase);
    const auto missing = PrivateKey::load(dir.path() / "none.pem", Secret("x"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, KeyErrorCode::NotFound);
}

TEST(Keys, EmptyPassphraseIsRefused) {
    const auto key = take(PrivateKey::generate());
    EXPECT_FALSE(key.toEncryptedPem(Secret("")).ok());
}

TEST(Keys, ExistingKeyIsNeverOverwritten) {
    TempDir dir;
    const auto first = take(PrivateKey::generate());
    const auto second = take(PrivateKey::generate());
    ASSERT_FALSE(first.save(dir.path() / "k.pem", Secret("correct horse battery")));
    const auto err = second.save(dir.path() / "k.pem", Secret("correct horse battery"));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->code, KeyErrorCode::AlreadyExists);
    const auto kept = take(PrivateKey::load(dir.path() / "k.pem", Secret("correct horse battery")));
    EXPECT_EQ(kept.publicKey().toPem(), first.publicKey().toPem());
    // No temporary file is left behind.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(Keys, SignatureIsRawRAndSAndVerifies) {
    const auto key = take(PrivateKey::generate());
    const Bytes message = {1, 2, 3};
    const Bytes sig = take(key.signRaw(message));
    EXPECT_EQ(sig.size(), 64u);
    EXPECT_TRUE(key.publicKey().verifyRaw(message, sig));
    EXPECT_FALSE(key.publicKey().verifyRaw(Bytes{1, 2, 4}, sig));
    EXPECT_FALSE(key.publicKey().verifyRaw(message, Bytes(sig.begin(), sig.end() - 1)));
    EXPECT_FALSE(key.publicKey().verifyRaw(message, Bytes(64, 0)));
}

TEST(Certificates, RootIsASelfSignedCaLimitedToCertifyingEndEntities) {
    Signing s;
    EXPECT_TRUE(s.root.isRoot());
    EXPECT_FALSE(s.root.isRecordSigner());
    EXPECT_EQ(s.root.commonName(), "Test root");
    EXPECT_EQ(s.root.notBefore(), at(2025, 1, 1));
    EXPECT_TRUE(take(s.root.chainsTo(s.root, at(2030, 1, 1))));
}

TEST(Certificates, StationCertificateSignsRecordsOnly) {
    Signing s;
    const auto st = s.station("st-23-01");
    EXPECT_TRUE(st.certificate.isRecordSigner());
    EXPECT_FALSE(st.certificate.isRoot());
    EXPECT_EQ(st.certificate.commonName(), "st-23-01");
    EXPECT_TRUE(st.certificate.chainsTo(s.root, at(2027, 1, 1)).ok());
    EXPECT_FALSE(st.certificate.chainsTo(s.root, at(2030, 1, 1)).ok()) << "expired";
    EXPECT_FALSE(st.certificate.chainsTo(s.root, at(2025, 6, 1)).ok()) << "not yet valid";
    // A station key cannot issue certificates: it is no CA.
    const auto other = take(PrivateKey::generate());
    EXPECT_FALSE(issueStationCertificate(st.key, st.certificate, other.publicKey(), "st-x",
                                         {at(2026, 1, 1), at(2027, 1, 1)})
                     .ok());
}

TEST(Certificates, StationFromAnotherRootDoesNotChain) {
    Signing a;
    Signing b;
    const auto st = b.station("st-23-01");
    EXPECT_FALSE(st.certificate.chainsTo(a.root, at(2027, 1, 1)).ok());
}

TEST(Certificates, StationMayNotOutliveItsRoot) {
    Signing s;
    const auto key = take(PrivateKey::generate());
    EXPECT_FALSE(issueStationCertificate(s.rootKey, s.root, key.publicKey(), "st-1",
                                         {at(2040, 1, 1), at(2050, 1, 1)})
                     .ok());
}

TEST(Certificates, StationIdsAreChecked) {
    EXPECT_TRUE(isValidStationId("st-23-01"));
    EXPECT_TRUE(isValidStationId(std::string(32, 'a')));
    EXPECT_FALSE(isValidStationId(""));
    EXPECT_FALSE(isValidStationId(std::string(33, 'a')));
    EXPECT_FALSE(isValidStationId("-st"));
    EXPECT_FALSE(isValidStationId("St-23"));
    EXPECT_FALSE(isValidStationId("st 23"));
}

TEST(Certificates, KeyIdIsTheFingerprintsFirstEightBytes) {
    Signing s;
    const Bytes fp = s.root.fingerprint();
    EXPECT_EQ(fp.size(), 32u);
    EXPECT_EQ(s.root.keyId(), Bytes(fp.begin(), fp.begin() + 8));
    EXPECT_EQ(parseFingerprint(formatFingerprint(fp)), fp);
    EXPECT_FALSE(parseFingerprint("AB:CD"));
}

TEST(Certificates, DerAndPemRoundTrip) {
    Signing s;
    EXPECT_EQ(take(Certificate::fromDer(s.root.toDer())).toDer(), s.root.toDer());
    EXPECT_EQ(take(Certificate::fromPem(s.root.toPem())).toDer(), s.root.toDer());
    Bytes der = s.root.toDer();
    der.push_back(0);
    EXPECT_FALSE(Certificate::fromDer(der).ok()) << "trailing bytes";
    EXPECT_FALSE(Certificate::fromDer(Bytes{0x30, 0x03, 0x02}).ok());
}

} // namespace
} // namespace unioncard::card
