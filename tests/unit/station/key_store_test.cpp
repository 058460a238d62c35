// SPDX-License-Identifier: Apache-2.0
// The station's key store (docs/key-store.md): the encrypted files, and a PKCS#11 token under
// SoftHSM2. Each token test makes a token directory of its own (a SOFTHSM2_CONF naming it) and a
// token in it with softhsm2-util, provisions it through the store, has a test root certify the
// token's key, and checks the outcome from outside the store: records through verifyRecord and
// OpenSSL's command line, the key's attributes through the raw PKCS#11 interface, the objects
// through OpenSC's pkcs11-tool, the master keys by personalising sim's virtual DESFire with the
// unwrapped keys and reading it back with the original ones.

#include "../cardlib/signing_fixture.hpp"

#include <unioncard/card/cose.hpp>
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/sim/in_process_connection.hpp>
#include <unioncard/sim/virtual_desfire.hpp>
#include <unioncard/station/key_store.hpp>

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <p11-kit/pkcs11.h>
#include <random>
#include <unistd.h>

namespace unioncard::station {
namespace {

namespace fs = std::filesystem;
using card::Bytes;
using card::Secret;
using card::testing::take;

// ---- helpers --------------------------------------------------------------------------------

class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "unioncard-keys-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

struct CommandRun {
    int status = -1;
    std::string output;
};

// A command through the shell with stderr joined to stdout; arguments are quoted by the caller.
CommandRun run(const std::string& command) {
    CommandRun r;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        return r;
    }
    std::array<char, 4096> buffer{};
    while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) {
        r.output.append(buffer.data(), n);
    }
    r.status = pclose(pipe);
    return r;
}

std::string quote(const std::string& text) {
    std::string out = "'";
    for (const char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

void writeText(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::binary) << text;
}

Bytes readBytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

card::desfire::Profile unionProfile() {
    return take(card::desfire::loadProfile(std::string(UNIONCARD_FIRMWARE_CONFIG_DIR) +
                                           "/cards/union-desfire.toml"));
}

// ---- the file backend -----------------------------------------------------------------------

class FileStore : public ::testing::Test {
protected:
    void SetUp() override {
        station = signing.station("st-23-01");
        ASSERT_FALSE(station->key.save(dir.path() / "station-key.pem", Secret("station pass")));
        writeText(dir.path() / "station-cert.pem", station->certificate.toPem());
        ASSERT_FALSE(keys.save(dir.path() / "card-keys.json", Secret("card pass")));
    }
    Result<std::unique_ptr<FileKeyStore>, KeyStoreError> open(const char* stationPass,
                                                              const char* cardPass) {
        return FileKeyStore::open(
            FileKeyStoreConfig::inDirectory(dir.path(), dir.path() / "card-keys.json"),
            Secret(stationPass), Secret(cardPass));
    }

    TempDir dir;
    card::testing::Signing signing;
    std::optional<card::StationSigner> station;
    card::desfire::Profile profile = unionProfile();
    card::desfire::MasterKeys keys = card::desfire::MasterKeys::generate(profile.roles());
};

TEST_F(FileStore, SignsRecordsThatVerify) {
    auto store = take(open("station pass", "card pass"));
    const Bytes record = take(store->signRecord(card::testing::Signing::record("st-23-01")));
    const auto trust = signing.trust({station->certificate});
    const auto verdict = card::verifyRecord(record, trust, card::testing::day(2027, 1, 1));
    EXPECT_EQ(verdict.verdict, card::Verdict::Valid) << verdict.reason;

    const auto info = store->info();
    EXPECT_EQ(info.backend, "file");
    EXPECT_EQ(info.stationId, "st-23-01");
    EXPECT_EQ(info.keyId, station->certificate.keyId());
    EXPECT_EQ(info.masterKeyRoles, keys.roles());
}

TEST_F(FileStore, GivesTheMasterKeysOfTheRolesAsked) {
    auto store = take(open("station pass", "card pass"));
    const auto read = take(store->masterKeys({"record-read"}));
    EXPECT_EQ(read.roles(), std::vector<std::string>{"record-read"});
    const Bytes got(read.key("record-read")->begin(), read.key("record-read")->end());
    const Bytes want(keys.key("record-read")->begin(), keys.key("record-read")->end());
    EXPECT_EQ(got, want);
    EXPECT_EQ(take(store->masterKeys({})).roles(), keys.roles());
    const auto unknown = store->masterKeys({"no-such-role"});
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, KeyStoreErrorCode::Invalid);
}

TEST_F(FileStore, WrongPassphrasesAreSaidForWhichFile) {
    const auto station = open("wrong", "card pass");
    ASSERT_FALSE(station.ok());
    EXPECT_EQ(station.error().code, KeyStoreErrorCode::WrongSecret);
    EXPECT_NE(station.error().message.find("station key"), std::string::npos)
        << station.error().message;
    const auto cards = open("station pass", "wrong");
    ASSERT_FALSE(cards.ok());
    EXPECT_EQ(cards.error().code, KeyStoreErrorCode::WrongSecret);
    EXPECT_NE(cards.error().message.find("master keys"), std::string::npos)
        << cards.error().message;
}

TEST_F(FileStore, RefusesAKeyTheCertificateDoesNotName) {
    const auto other = signing.station("st-23-01");
    fs::remove(dir.path() / "station-cert.pem");
    writeText(dir.path() / "station-cert.pem", other.certificate.toPem());
    const auto store = open("station pass", "card pass");
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, KeyStoreErrorCode::Invalid);
}

// The key set's version is in the file's authenticated header: kept, and not to be changed.
TEST(MasterKeyFile, KeepsItsKeyVersionUnderTheTag) {
    TempDir dir;
    const auto keys = card::desfire::MasterKeys::generate({"record-read"}, 7);
    ASSERT_FALSE(keys.save(dir.path() / "v7.json", Secret("key file pass")));
    EXPECT_EQ(take(card::desfire::MasterKeys::load(dir.path() / "v7.json", Secret("key file pass")))
                  .version(),
              7);
    EXPECT_EQ(take(keys.only({"record-read"})).versions("record-read"),
              std::vector<std::uint8_t>{7});
    std::string text;
    {
        const Bytes file = readBytes(dir.path() / "v7.json");
        text.assign(file.begin(), file.end());
    }
    const auto at = text.find("key_version");
    ASSERT_NE(at, std::string::npos);
    text.replace(text.find('7', at), 1, "2");
    writeText(dir.path() / "v2.json", text);
    EXPECT_FALSE(
        card::desfire::MasterKeys::load(dir.path() / "v2.json", Secret("key file pass")).ok());
    // A file from before versions were named is version 1.
    const auto old = card::desfire::MasterKeys::generate({"record-read"});
    ASSERT_FALSE(old.save(dir.path() / "v1.json", Secret("key file pass")));
    EXPECT_EQ(take(card::desfire::MasterKeys::load(dir.path() / "v1.json", Secret("key file pass")))
                  .version(),
              1);
}

TEST_F(FileStore, MissingFilesAreNotFound) {
    fs::remove(dir.path() / "station-cert.pem");
    const auto store = open("station pass", "card pass");
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, KeyStoreErrorCode::NotFound);
}

// ---- PKCS#11 under SoftHSM2 ----------------------------------------------------------------

constexpr const char* kPin = "4711-user";
constexpr const char* kSoPin = "0815-officer";

class TokenStore : public ::testing::Test {
protected:
    void SetUp() override {
        module = UNIONCARD_SOFTHSM2_MODULE;
        if (module.empty() || !fs::exists(module)) {
            GTEST_SKIP() << "SoftHSM2's module is not installed (Debian: softhsm2)";
        }
        if (std::string(UNIONCARD_SOFTHSM2_UTIL).empty()) {
            GTEST_SKIP() << "softhsm2-util is not installed (Debian: softhsm2)";
        }
        // A token directory of this test's own: SoftHSM2 reads SOFTHSM2_CONF in C_Initialize.
        fs::create_directory(dir.path() / "tokens");
        writeText(dir.path() / "softhsm2.conf",
                  "directories.tokendir = " + (dir.path() / "tokens").string() +
                      "\nobjectstore.backend = file\nlog.level = ERROR\n");
        ASSERT_EQ(setenv("SOFTHSM2_CONF", (dir.path() / "softhsm2.conf").c_str(), 1), 0);
        initToken(label);
    }

    void initToken(const std::string& tokenLabel) {
        const CommandRun init = run(fmt::format(
            "{} --init-token --free --label {} --pin {} --so-pin {}",
            quote(UNIONCARD_SOFTHSM2_UTIL), quote(tokenLabel), quote(kPin), quote(kSoPin)));
        ASSERT_EQ(init.status, 0) << init.output;
    }

    // `withMasterKeys`: the store also holds the wrapped master key file, and must find it.
    Pkcs11Config config(bool withMasterKeys = false) const {
        Pkcs11Config c;
        c.module = module;
        c.tokenLabel = label;
        if (withMasterKeys) {
            c.wrappedMasterKeys = dir.path() / "card-keys.p11";
        }
        return c;
    }

    std::unique_ptr<Pkcs11KeyStore> openStore(bool withMasterKeys = false) const {
        auto store = Pkcs11KeyStore::open(config(withMasterKeys), Secret(kPin));
        EXPECT_TRUE(store.ok()) << store.error().message;
        if (!store.ok()) {
            throw std::runtime_error("cannot open the token store");
        }
        return std::move(store).value();
    }

    // Steps 1 and 2 of provisioning: the key made on the token, certified by the test root,
    // the certificate stored beside it.
    card::Certificate provisionSigningKey(const char* stationId = "st-23-01") {
        auto provisioner = take(Pkcs11Provisioner::open(config(), Secret(kPin)));
        const card::PublicKey publicKey = take(provisioner.generateSigningKey());
        card::Certificate cert = take(card::issueStationCertificate(
            signing.rootKey, signing.root, publicKey, stationId,
            {card::testing::at(2026, 1, 1), card::testing::at(2029, 1, 1)}));
        const auto imported = provisioner.importCertificate(cert);
        EXPECT_FALSE(imported) << imported->message;
        return cert;
    }

    TempDir dir;
    fs::path module;
    std::string label = "station-st-23-01";
    card::testing::Signing signing;
    card::desfire::Profile profile = unionProfile();
};

TEST_F(TokenStore, SignsRecordsThatVerifyWithAKeyMadeOnTheToken) {
    const card::Certificate cert = provisionSigningKey();
    auto store = openStore();
    EXPECT_EQ(store->info().backend, "pkcs11");
    EXPECT_EQ(store->info().keyId, cert.keyId());
    EXPECT_EQ(store->certificate().toDer(), cert.toDer());

    const auto fields = card::testing::Signing::record("st-23-01");
    // Through cardlib's own signRecord, with a key it cannot see.
    const Bytes record = take(card::signRecord(store->signingKey(), store->certificate(), fields));
    const auto trust = signing.trust({cert});
    const auto verdict = card::verifyRecord(record, trust, card::testing::day(2027, 1, 1));
    EXPECT_EQ(verdict.verdict, card::Verdict::Valid) << verdict.reason;

    // A second opinion on the signature from OpenSSL's command line: the Sig_structure (RFC
    // 9052 §4.4) and the token's r || s turned into the DER that `openssl dgst` reads.
    if (std::string(UNIONCARD_OPENSSL).empty()) {
        GTEST_SKIP() << "openssl's command line is not installed";
    }
    const auto message = take(card::cose::decode(record, card::kMaxRecordSize));
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(message.signature.data(), 32, nullptr),
                   BN_bin2bn(message.signature.data() + 32, 32, nullptr));
    unsigned char* der = nullptr;
    const int derSize = i2d_ECDSA_SIG(sig, &der);
    ASSERT_GT(derSize, 0);
    const std::string derText(reinterpret_cast<char*>(der), static_cast<std::size_t>(derSize));
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    const Bytes signedBytes = card::cose::sigStructure(message.protectedHeader, message.payload);
    writeText(dir.path() / "signed.bin", std::string(signedBytes.begin(), signedBytes.end()));
    writeText(dir.path() / "sig.der", derText);
    writeText(dir.path() / "station.pem", cert.publicKey().toPem());
    const CommandRun check = run(fmt::format(
        "{} dgst -sha256 -verify {} -signature {} {}", quote(UNIONCARD_OPENSSL),
        quote((dir.path() / "station.pem").string()), quote((dir.path() / "sig.der").string()),
        quote((dir.path() / "signed.bin").string())));
    EXPECT_EQ(check.status, 0) << check.output;
    EXPECT_NE(check.output.find("Verified OK"), std::string::npos) << check.output;
}

TEST_F(TokenStore, TheStoreSignsThroughItsOwnShortcutToo) {
    const card::Certificate cert = provisionSigningKey();
    auto store = openStore();
    const Bytes record = take(store->signRecord(card::testing::Signing::record("st-23-01")));
    const auto trust = signing.trust({cert});
    EXPECT_EQ(card::verifyRecord(record, trust, card::testing::day(2027, 1, 1)).verdict,
              card::Verdict::Valid);
    // The record names another station than the token's certificate: refused, not signed.
    EXPECT_FALSE(store->signRecord(card::testing::Signing::record("st-99-01")).ok());
}

TEST_F(TokenStore, AWrongPinIsAClearError) {
    provisionSigningKey();
    const auto store = Pkcs11KeyStore::open(config(), Secret("not-the-pin"));
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, KeyStoreErrorCode::WrongSecret);
    EXPECT_NE(store.error().message.find("PIN"), std::string::npos) << store.error().message;
    EXPECT_EQ(store.error().message.find("not-the-pin"), std::string::npos);
}

TEST_F(TokenStore, AMissingModuleIsAClearError) {
    Pkcs11Config c = config();
    c.module = dir.path() / "no-such-module.so";
    const auto store = Pkcs11KeyStore::open(c, Secret(kPin));
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, KeyStoreErrorCode::ModuleUnavailable);
    EXPECT_NE(store.error().message.find("no-such-module.so"), std::string::npos)
        << store.error().message;

    // A file that is no shared library at all.
    writeText(dir.path() / "not-a-module.so", "hello");
    c.module = dir.path() / "not-a-module.so";
    const auto garbage = Pkcs11KeyStore::open(c, Secret(kPin));
    ASSERT_FALSE(garbage.ok());
    EXPECT_EQ(garbage.error().code, KeyStoreErrorCode::ModuleUnavailable);
}

TEST_F(TokenStore, AnUnknownTokenIsAClearError) {
    Pkcs11Config c = config();
    c.tokenLabel = "no-such-token";
    const auto store = Pkcs11KeyStore::open(c, Secret(kPin));
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, KeyStoreErrorCode::TokenNotFound);
}

TEST_F(TokenStore, OpeningBeforeProvisioningSaysWhatIsMissing) {
    const auto empty = Pkcs11KeyStore::open(config(), Secret(kPin));
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code, KeyStoreErrorCode::NotFound);

    auto provisioner = take(Pkcs11Provisioner::open(config(), Secret(kPin)));
    take(provisioner.generateSigningKey());
    const auto uncertified = Pkcs11KeyStore::open(config(), Secret(kPin));
    ASSERT_FALSE(uncertified.ok());
    EXPECT_EQ(uncertified.error().code, KeyStoreErrorCode::NotFound);
    EXPECT_NE(uncertified.error().message.find("certificate"), std::string::npos)
        << uncertified.error().message;
}

TEST_F(TokenStore, MissingMasterKeysAreSaidAtOpeningOrAsking) {
    provisionSigningKey();
    const auto missingFile = Pkcs11KeyStore::open(config(true), Secret(kPin));
    ASSERT_FALSE(missingFile.ok());
    EXPECT_EQ(missingFile.error().code, KeyStoreErrorCode::NotFound);
    const auto none = openStore()->masterKeys({"record-read"});
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, KeyStoreErrorCode::NotFound);
}

TEST_F(TokenStore, ProvisioningRefusesToReplaceOrMismatch) {
    auto provisioner = take(Pkcs11Provisioner::open(config(), Secret(kPin)));
    const card::PublicKey first = take(provisioner.generateSigningKey());
    const auto again = provisioner.generateSigningKey();
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, KeyStoreErrorCode::AlreadyExists);
    EXPECT_EQ(take(provisioner.signingPublicKey()).toPem(), first.toPem());

    // A certificate for a key that is not the token's.
    const auto stranger = signing.station("st-23-01");
    const auto wrong = provisioner.importCertificate(stranger.certificate);
    ASSERT_TRUE(wrong.has_value());
    EXPECT_EQ(wrong->code, KeyStoreErrorCode::Invalid);

    ASSERT_FALSE(provisioner.generateKek());
    const auto secondKek = provisioner.generateKek();
    ASSERT_TRUE(secondKek.has_value());
    EXPECT_EQ(secondKek->code, KeyStoreErrorCode::AlreadyExists);
}

// The raw PKCS#11 interface, not the store's code: what the token says of the key it holds.
TEST_F(TokenStore, TheSigningKeyCannotLeaveTheToken) {
    provisionSigningKey();
    {
        auto provisioner = take(Pkcs11Provisioner::open(config(), Secret(kPin)));
        ASSERT_FALSE(provisioner.generateKek());
    }
    void* handle = dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle, nullptr) << dlerror();
    auto* getList = reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
    ASSERT_NE(getList, nullptr);
    CK_FUNCTION_LIST_PTR f = nullptr;
    ASSERT_EQ(getList(&f), CKR_OK);
    ASSERT_EQ(f->C_Initialize(nullptr), CKR_OK);
    CK_ULONG count = 8;
    std::array<CK_SLOT_ID, 8> slots{};
    ASSERT_EQ(f->C_GetSlotList(CK_TRUE, slots.data(), &count), CKR_OK);
    ASSERT_GE(count, 1u);
    CK_SESSION_HANDLE session = 0;
    ASSERT_EQ(f->C_OpenSession(slots[0], CKF_SERIAL_SESSION, nullptr, nullptr, &session), CKR_OK);
    std::string pin = kPin;
    ASSERT_EQ(
        f->C_Login(session, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()), pin.size()),
        CKR_OK);

    auto findByLabel = [&](CK_OBJECT_CLASS cls, const std::string& objectLabel) {
        CK_ATTRIBUTE templ[] = {
            {CKA_CLASS, &cls, sizeof cls},
            {CKA_LABEL, const_cast<char*>(objectLabel.data()), objectLabel.size()}};
        EXPECT_EQ(f->C_FindObjectsInit(session, templ, 2), CKR_OK);
        CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
        CK_ULONG found = 0;
        EXPECT_EQ(f->C_FindObjects(session, &object, 1, &found), CKR_OK);
        f->C_FindObjectsFinal(session);
        EXPECT_EQ(found, 1u) << objectLabel;
        return object;
    };
    for (const auto& [cls, objectLabel] :
         {std::pair<CK_OBJECT_CLASS, std::string>{CKO_PRIVATE_KEY, "unioncard-station"},
          {CKO_SECRET_KEY, "unioncard-card-kek"}}) {
        const CK_OBJECT_HANDLE key = findByLabel(cls, objectLabel);
        std::array<std::uint8_t, 256> value{};
        CK_ATTRIBUTE secret{CKA_VALUE, value.data(), value.size()};
        EXPECT_EQ(f->C_GetAttributeValue(session, key, &secret, 1), CKR_ATTRIBUTE_SENSITIVE)
            << objectLabel;
        EXPECT_EQ(secret.ulValueLen, CK_UNAVAILABLE_INFORMATION) << objectLabel;
        CK_BBOOL extractable = CK_TRUE;
        CK_BBOOL sensitive = CK_FALSE;
        CK_ATTRIBUTE flags[] = {{CKA_EXTRACTABLE, &extractable, sizeof extractable},
                                {CKA_SENSITIVE, &sensitive, sizeof sensitive}};
        EXPECT_EQ(f->C_GetAttributeValue(session, key, flags, 2), CKR_OK);
        EXPECT_EQ(extractable, CK_FALSE) << objectLabel;
        EXPECT_EQ(sensitive, CK_TRUE) << objectLabel;
    }
    f->C_CloseSession(session);
    f->C_Finalize(nullptr);
}

// The SimConnection of personalise_sim_test: sim's virtual card on an in-process reader.

TEST_F(TokenStore, MasterKeysRoundTripThroughTheTokenAndPersonaliseACard) {
    const card::Certificate cert = provisionSigningKey();
    const auto original = card::desfire::MasterKeys::generate(profile.roles());
    {
        auto provisioner = take(Pkcs11Provisioner::open(config(true), Secret(kPin)));
        ASSERT_FALSE(provisioner.generateKek());
        const auto wrapped = provisioner.wrapMasterKeys(original);
        ASSERT_FALSE(wrapped) << wrapped->message;
        const auto twice = provisioner.wrapMasterKeys(original);
        ASSERT_TRUE(twice.has_value());
        EXPECT_EQ(twice->code, KeyStoreErrorCode::AlreadyExists);
    }
    // No key bytes in the clear in the file.
    const Bytes file = readBytes(config(true).wrappedMasterKeys);
    for (const auto& role : original.roles()) {
        const auto key = *original.key(role);
        EXPECT_EQ(std::search(file.begin(), file.end(), key.begin(), key.end()), file.end());
    }
    EXPECT_EQ(fs::status(config(true).wrappedMasterKeys).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);

    auto store = openStore(true);
    const auto keys = take(store->masterKeys({}));
    ASSERT_EQ(keys.roles(), original.roles());
    for (const auto& role : original.roles()) {
        const Bytes got(keys.key(role)->begin(), keys.key(role)->end());
        const Bytes want(original.key(role)->begin(), original.key(role)->end());
        EXPECT_EQ(got, want) << role;
    }
    EXPECT_EQ(take(store->masterKeys({"record-read"})).roles(),
              std::vector<std::string>{"record-read"});

    // Personalise-compatible: a virtual card personalised with the unwrapped keys and a record
    // signed on the token, read back by a verifier holding only the original read key.
    sim::VirtualDesfire chip;
    auto fields = card::testing::Signing::record("st-23-01");
    const auto uid = chip.realUid();
    fields.chipUid = Bytes(uid.begin(), uid.end());
    const Bytes record = take(store->signRecord(fields));
    {
        sim::InProcessConnection reader(chip);
        card::desfire::Desfire desfire(reader);
        const auto report = card::desfire::personalise(desfire, profile, keys, record);
        ASSERT_TRUE(report.ok()) << report.error().message;
    }
    sim::InProcessConnection reader(chip);
    card::desfire::Desfire desfire(reader);
    const auto verifierKeys = take(original.only({"record-read"}));
    const auto read = card::desfire::readRecord(desfire, profile, verifierKeys);
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->record, record);
    const auto verdict =
        card::verifyRecord(read->record, signing.trust({cert}), card::testing::day(2027, 1, 1));
    EXPECT_EQ(verdict.verdict, card::Verdict::Valid) << verdict.reason;
}

// A key set of version 3 comes back as version 3, so the station writes 3 into the cards' keys
// (a station writing 1 would have its cards refused once the union retires version 1).
TEST_F(TokenStore, AKeySetsVersionSurvivesTheWrapping) {
    provisionSigningKey();
    const auto original = card::desfire::MasterKeys::generate(profile.roles(), 3);
    {
        auto provisioner = take(Pkcs11Provisioner::open(config(true), Secret(kPin)));
        ASSERT_FALSE(provisioner.generateKek());
        ASSERT_FALSE(provisioner.wrapMasterKeys(original));
    }
    const Bytes file = readBytes(config(true).wrappedMasterKeys);
    const std::string header(file.begin(), std::find(file.begin(), file.end(), '\n'));
    EXPECT_EQ(header,
              "unioncard-card-keys-p11 v2 key-version=3 aes-256-gcm kek=unioncard-card-kek");
    auto store = openStore(true);
    EXPECT_EQ(take(store->masterKeys({})).version(), 3);
    EXPECT_EQ(take(store->masterKeys({"record-read"})).version(), 3);
    // The version is under the tag: changed, the file does not open.
    Bytes altered = file;
    altered[header.find('3')] = '4';
    fs::remove(config(true).wrappedMasterKeys);
    writeText(config(true).wrappedMasterKeys, std::string(altered.begin(), altered.end()));
    const auto refused = store->masterKeys({});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, KeyStoreErrorCode::Damaged);
}

TEST_F(TokenStore, AnAlteredOrForeignWrappedFileIsRefused) {
    provisionSigningKey();
    const auto original = card::desfire::MasterKeys::generate(profile.roles());
    {
        auto provisioner = take(Pkcs11Provisioner::open(config(true), Secret(kPin)));
        ASSERT_FALSE(provisioner.generateKek());
        ASSERT_FALSE(provisioner.wrapMasterKeys(original));
    }
    const Bytes file = readBytes(config(true).wrappedMasterKeys);

    // One bit flipped in the ciphertext: the GCM tag fails inside the token.
    Bytes altered = file;
    altered[altered.size() - 20] ^= 0x01;
    fs::remove(config(true).wrappedMasterKeys);
    writeText(config(true).wrappedMasterKeys, std::string(altered.begin(), altered.end()));
    {
        auto store = openStore(true);
        const auto keys = store->masterKeys({});
        ASSERT_FALSE(keys.ok());
        EXPECT_EQ(keys.error().code, KeyStoreErrorCode::Damaged) << keys.error().message;
    }

    // The header is authenticated too: naming another key label is refused before the token
    // is asked, and a file from another token with the same labels fails the tag.
    initToken("another-station");
    Pkcs11Config other = config(true);
    other.tokenLabel = "another-station";
    other.wrappedMasterKeys = dir.path() / "other.p11";
    {
        auto provisioner = take(Pkcs11Provisioner::open(other, Secret(kPin)));
        const card::PublicKey publicKey = take(provisioner.generateSigningKey());
        ASSERT_FALSE(provisioner.importCertificate(take(card::issueStationCertificate(
            signing.rootKey, signing.root, publicKey, "st-23-02",
            {card::testing::at(2026, 1, 1), card::testing::at(2029, 1, 1)}))));
        ASSERT_FALSE(provisioner.generateKek());
    }
    writeText(other.wrappedMasterKeys, std::string(file.begin(), file.end()));
    auto foreign = take(Pkcs11KeyStore::open(other, Secret(kPin)));
    const auto keys = foreign->masterKeys({});
    ASSERT_FALSE(keys.ok());
    EXPECT_EQ(keys.error().code, KeyStoreErrorCode::Damaged) << keys.error().message;
}

// OpenSC's pkcs11-tool, a PKCS#11 client of its own, lists what provisioning left on the token.
TEST_F(TokenStore, Pkcs11ToolSeesTheProvisionedObjects) {
    if (std::string(UNIONCARD_PKCS11_TOOL).empty()) {
        GTEST_SKIP() << "pkcs11-tool is not installed (Debian: opensc)";
    }
    provisionSigningKey();
    {
        auto provisioner = take(Pkcs11Provisioner::open(config(), Secret(kPin)));
        ASSERT_FALSE(provisioner.generateKek());
    }
    const CommandRun list = run(fmt::format("{} --module {} --token-label {} --login --pin {} "
                                            "--list-objects",
                                            quote(UNIONCARD_PKCS11_TOOL), quote(module.string()),
                                            quote(label), quote(kPin)));
    ASSERT_EQ(list.status, 0) << list.output;
    EXPECT_NE(list.output.find("Private Key Object; EC"), std::string::npos) << list.output;
    EXPECT_NE(list.output.find("Public Key Object; EC"), std::string::npos) << list.output;
    EXPECT_NE(list.output.find("Certificate Object; type = X.509"), std::string::npos)
        << list.output;
    EXPECT_NE(list.output.find("Secret Key Object; AES"), std::string::npos) << list.output;
    EXPECT_NE(list.output.find("unioncard-station"), std::string::npos) << list.output;
    EXPECT_NE(list.output.find("unioncard-card-kek"), std::string::npos) << list.output;
}

} // namespace
} // namespace unioncard::station
