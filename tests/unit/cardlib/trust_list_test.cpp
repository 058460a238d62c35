// SPDX-License-Identifier: Apache-2.0
#include "signing_fixture.hpp"

#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>

namespace unioncard::card {
namespace {

using testing::at;
using testing::Signing;
using testing::take;

class TrustListTest : public ::testing::Test {
protected:
    Signing s;
    StationSigner a = s.station("st-23-01");
    StationSigner b = s.station("st-23-02");
    Bytes list = take(
        TrustList::build(s.rootKey, s.root, {a.certificate, b.certificate}, 42, at(2026, 11, 1)));
};

TEST_F(TrustListTest, LoadsWhatWasBuilt) {
    const auto t = take(TrustList::load(list, s.root.fingerprint()));
    EXPECT_EQ(t.sequence(), 42u);
    EXPECT_EQ(t.issuedAt(), at(2026, 11, 1));
    EXPECT_EQ(t.stations().size(), 2u);
    ASSERT_NE(t.findStation(b.certificate.keyId()), nullptr);
    EXPECT_EQ(t.findStation(b.certificate.keyId())->commonName(), "st-23-02");
    EXPECT_EQ(t.findStation(Bytes(8, 0)), nullptr);
}

TEST_F(TrustListTest, CarriesWhatTheUnionWithdrew) {
    EXPECT_TRUE(take(TrustList::load(list, s.root.fingerprint()))
                    .withdrawals()
                    .retiredCardKeyVersions.empty());
    const auto signer = take(PrivateKey::generate());
    const auto status = take(issueStatusSignerCertificate(
        s.rootKey, s.root, signer.publicKey(), "status-1", {at(2026, 1, 1), at(2029, 1, 1)}));
    Withdrawals w;
    w.retiredCardKeyVersions = {3, 1, 3};
    w.withdrawnStatusSigners = {status.publicKeyFingerprint()};
    const auto t = take(TrustList::load(
        take(TrustList::build(s.rootKey, s.root, {a.certificate}, 43, at(2026, 11, 2), w)),
        s.root.fingerprint()));
    EXPECT_EQ(t.withdrawals().retiredCardKeyVersions, (std::vector<std::uint8_t>{1, 3}));
    EXPECT_TRUE(t.isWithdrawnStatusSigner(status));
    EXPECT_FALSE(t.isWithdrawnStatusSigner(a.certificate));

    Withdrawals zero;
    zero.retiredCardKeyVersions = {0};
    EXPECT_FALSE(TrustList::build(s.rootKey, s.root, {}, 1, at(2026, 11, 2), zero).ok());
    Withdrawals shortPrint;
    shortPrint.withdrawnStatusSigners = {Bytes(8, 1)};
    EXPECT_FALSE(TrustList::build(s.rootKey, s.root, {}, 1, at(2026, 11, 2), shortPrint).ok());
}

// A list with an entry this code does not know could carry a withdrawal it would miss: refused
// whole, even when signed by the root.
TEST_F(TrustListTest, AnEntryThisVerifierDoesNotKnowRefusesTheList) {
    const Bytes payload = cbor::encode(
        cbor::Value(cbor::Map{{cbor::Value(std::uint64_t{1}), cbor::Value(std::uint64_t{1})},
                              {cbor::Value(std::uint64_t{2}), cbor::Value(std::uint64_t{44})},
                              {cbor::Value(std::uint64_t{3}),
                               cbor::Value::tagged(1, cbor::Value(std::uint64_t{1793491200}))},
                              {cbor::Value(std::uint64_t{4}), cbor::Value(s.root.toDer())},
                              {cbor::Value(std::uint64_t{5}), cbor::Value(cbor::Array{})},
                              {cbor::Value(std::uint64_t{8}), cbor::Value(cbor::Array{})}}));
    const Bytes signedList = take(cose::sign(s.rootKey, s.root.keyId(), payload));
    const auto r = TrustList::load(signedList, s.root.fingerprint());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("does not know"), std::string::npos) << r.error();
}

TEST_F(TrustListTest, BadSignatureRefusesTheWholeList) {
    Bytes tampered = list;
    tampered[tampered.size() - 5] ^= 0x01; // inside the signature
    const auto r = TrustList::load(tampered, s.root.fingerprint());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("signature"), std::string::npos) << r.error();
}

TEST_F(TrustListTest, EveryFlippedByteIsCaught) {
    for (std::size_t i = 0; i < list.size(); ++i) {
        Bytes tampered = list;
        tampered[i] ^= 0x04;
        EXPECT_FALSE(TrustList::load(tampered, s.root.fingerprint()).ok()) << "byte " << i;
    }
}

TEST_F(TrustListTest, ListFromAnotherRootFailsThePin) {
    Signing other;
    const auto st = other.station("st-23-01");
    const Bytes foreign =
        take(TrustList::build(other.rootKey, other.root, {st.certificate}, 1, at(2026, 11, 1)));
    const auto r = TrustList::load(foreign, s.root.fingerprint());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("pinned"), std::string::npos) << r.error();
    EXPECT_TRUE(TrustList::load(foreign, std::nullopt).ok()) << "self-consistent when unpinned";
}

TEST_F(TrustListTest, ListSignedWithAnotherKeyIsRefused) {
    // The payload names our root but the signature comes from a stranger's key.
    const auto message = take(cose::decode(list, TrustList::kMaxSize));
    const auto stranger = take(PrivateKey::generate());
    const Bytes forged = take(cose::sign(stranger, s.root.keyId(), message.payload));
    EXPECT_FALSE(TrustList::load(forged, s.root.fingerprint()).ok());
}

TEST_F(TrustListTest, BuildRefusesForeignOrDuplicateCertificates) {
    Signing other;
    const auto foreign = other.station("st-23-09");
    EXPECT_FALSE(
        TrustList::build(s.rootKey, s.root, {foreign.certificate}, 1, at(2026, 11, 1)).ok());
    EXPECT_FALSE(
        TrustList::build(s.rootKey, s.root, {a.certificate, a.certificate}, 1, at(2026, 11, 1))
            .ok());
    EXPECT_FALSE(TrustList::build(s.rootKey, s.root, {s.root}, 1, at(2026, 11, 1)).ok())
        << "the root is not a record signer";
    EXPECT_FALSE(TrustList::build(other.rootKey, s.root, {}, 1, at(2026, 11, 1)).ok())
        << "key does not match the root certificate";
}

TEST_F(TrustListTest, SignedEntryThatIsNotARecordSignerIsRefused) {
    // Even with a valid root signature, an entry must be a station certificate.
    const Bytes payload = cbor::encode(cbor::Map{
        {cbor::Value(std::uint64_t{1}), cbor::Value(std::uint64_t{1})},
        {cbor::Value(std::uint64_t{2}), cbor::Value(std::uint64_t{1})},
        {cbor::Value(std::uint64_t{3}),
         cbor::Value::tagged(1, cbor::Value(std::uint64_t{1793491200}))},
        {cbor::Value(std::uint64_t{4}), cbor::Value(s.root.toDer())},
        {cbor::Value(std::uint64_t{5}), cbor::Value(cbor::Array{cbor::Value(s.root.toDer())})}});
    const Bytes signedList = take(cose::sign(s.rootKey, s.root.keyId(), payload));
    const auto r = TrustList::load(signedList, s.root.fingerprint());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("record signing"), std::string::npos) << r.error();
}

TEST_F(TrustListTest, GarbageIsRefusedWithAReason) {
    for (const Bytes& junk : {Bytes{}, Bytes{0x00}, Bytes(100, 0xFF), Bytes{0xD2, 0x80}}) {
        const auto r = TrustList::load(junk, std::nullopt);
        ASSERT_FALSE(r.ok());
        EXPECT_FALSE(r.error().empty());
    }
}

} // namespace
} // namespace unioncard::card
