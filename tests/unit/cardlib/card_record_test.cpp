// SPDX-License-Identifier: Apache-2.0
#include "signing_fixture.hpp"

#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>

#include <nlohmann/json.hpp>

#include <random>

namespace unioncard::card {
namespace {

using testing::day;
using testing::Signing;
using testing::take;

class CardRecordTest : public ::testing::Test {
protected:
    Signing s;
    StationSigner st = s.station("st-23-01");
    TrustList trust = s.trust({st.certificate});
    CardRecord record = Signing::record("st-23-01");
    Bytes signedRecord = take(signRecord(st, record));
    Days today = day(2027, 6, 1);

    Verdict verdictOf(const Bytes& bytes) const {
        return verifyRecord(bytes, trust, today).verdict;
    }
};

TEST_F(CardRecordTest, SignedRecordVerifiesWithItsFields) {
    const auto v = verifyRecord(signedRecord, trust, today);
    EXPECT_EQ(v.verdict, Verdict::Valid) << v.reason;
    ASSERT_TRUE(v.record);
    EXPECT_EQ(v.record->number, record.number);
    EXPECT_EQ(v.record->memberId, record.memberId);
    EXPECT_EQ(v.record->chipUid, record.chipUid);
    EXPECT_EQ(v.record->stationId, "st-23-01");
    EXPECT_EQ(v.kid, st.certificate.keyId());
}

TEST_F(CardRecordTest, FitsTheChipFile) {
    EXPECT_LE(signedRecord.size(), kMaxRecordSize);
}

TEST_F(CardRecordTest, PayloadIsDeterministic) {
    EXPECT_EQ(encodePayload(record), encodePayload(record));
    const auto decoded = take(decodePayload(encodePayload(record)));
    EXPECT_EQ(encodePayload(decoded), encodePayload(record));
}

TEST_F(CardRecordTest, CarriesNoNameOrOtherPersonalText) {
    // The payload's only texts are the opaque member id and the station id.
    const auto value = take(cbor::decode(encodePayload(record)));
    int texts = 0;
    for (const auto& [key, item] : *value.get<cbor::Map>()) {
        if (item.get<std::string>() != nullptr) {
            ++texts;
            const auto k = *key.get<std::uint64_t>();
            EXPECT_TRUE(k == record_key::kMember || k == record_key::kStation) << k;
        }
    }
    EXPECT_EQ(texts, 2);
}

TEST_F(CardRecordTest, EveryFlippedBitIsCaught) {
    for (std::size_t i = 0; i < signedRecord.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            Bytes tampered = signedRecord;
            tampered[i] ^= static_cast<std::uint8_t>(1 << bit);
            EXPECT_NE(verdictOf(tampered), Verdict::Valid) << "byte " << i << " bit " << bit;
        }
    }
}

TEST_F(CardRecordTest, RecordFromAnUnlistedStationHasUnknownIssuer) {
    const StationSigner stranger = s.station("st-99-01");
    CardRecord r = Signing::record("st-99-01");
    EXPECT_EQ(verdictOf(take(signRecord(stranger, r))), Verdict::UnknownIssuer);
}

TEST_F(CardRecordTest, StationCertificateExpiredOnIssueDateIsRefused) {
    const StationSigner old =
        s.station("st-23-02", {testing::at(2025, 1, 1), testing::at(2026, 1, 1)});
    const TrustList both = s.trust({st.certificate, old.certificate});
    CardRecord r = Signing::record("st-23-02");
    // The signer refuses it ...
    EXPECT_FALSE(signRecord(old, r).ok());
    // ... and a record signed anyway is caught by the verifier.
    const Bytes forged = take(cose::sign(old.key, old.certificate.keyId(), encodePayload(r)));
    EXPECT_EQ(verifyRecord(forged, both, today).verdict, Verdict::IssuerNotValid);
    // A record it signed while valid stays valid after the certificate expired.
    r.issued = day(2025, 6, 1);
    EXPECT_EQ(verifyRecord(take(signRecord(old, r)), both, today).verdict, Verdict::Valid);
}

TEST_F(CardRecordTest, CertificateIssuedDuringTheDayMaySignThatDay) {
    const StationSigner late = s.station(
        "st-23-03", {testing::at(2026, 11, 22) + std::chrono::hours(14), testing::at(2029, 1, 1)});
    const TrustList list = s.trust({late.certificate});
    const CardRecord r = Signing::record("st-23-03");
    EXPECT_EQ(verifyRecord(take(signRecord(late, r)), list, today).verdict, Verdict::Valid);
}

TEST_F(CardRecordTest, DatesDecideExpiredAndNotYetValid) {
    EXPECT_EQ(verifyRecord(signedRecord, trust, record.expires).verdict, Verdict::Valid);
    EXPECT_EQ(verifyRecord(signedRecord, trust, record.expires + std::chrono::days{1}).verdict,
              Verdict::Expired);
    EXPECT_EQ(verifyRecord(signedRecord, trust, record.issued).verdict, Verdict::Valid);
    EXPECT_EQ(verifyRecord(signedRecord, trust, record.issued - std::chrono::days{1}).verdict,
              Verdict::NotYetValid);
}

TEST_F(CardRecordTest, SignatureOverAnotherStationsNameIsBad) {
    CardRecord r = Signing::record("st-23-09");
    const Bytes forged = take(cose::sign(st.key, st.certificate.keyId(), encodePayload(r)));
    EXPECT_EQ(verdictOf(forged), Verdict::BadSignature);
}

TEST_F(CardRecordTest, SignerRefusesAnotherStationsName) {
    EXPECT_FALSE(signRecord(st, Signing::record("st-23-09")).ok());
}

TEST_F(CardRecordTest, TruncatedAndOversizedRecordsAreNotUnionCards) {
    for (std::size_t n = 0; n < signedRecord.size(); ++n) {
        EXPECT_EQ(
            verdictOf(Bytes(signedRecord.begin(), signedRecord.begin() + static_cast<long>(n))),
            Verdict::NotUnionCard)
            << n;
    }
    Bytes longer = signedRecord;
    longer.push_back(0x00);
    EXPECT_EQ(verdictOf(longer), Verdict::NotUnionCard);
    EXPECT_EQ(verdictOf(Bytes(kMaxRecordSize + 1, 0xA0)), Verdict::NotUnionCard);
}

TEST_F(CardRecordTest, RandomBytesAreNotUnionCards) {
    std::mt19937 rng(20261122);
    for (int i = 0; i < 2000; ++i) {
        Bytes noise(rng() % 300);
        for (auto& b : noise) {
            b = static_cast<std::uint8_t>(rng());
        }
        EXPECT_NE(verdictOf(noise), Verdict::Valid);
    }
}

TEST_F(CardRecordTest, RefusesFieldsThatDoNotCheck) {
    auto bad = [&](auto change) {
        CardRecord r = record;
        change(r);
        return checkRecord(r).has_value() && !signRecord(st, r).ok();
    };
    EXPECT_TRUE(bad([](CardRecord& r) { r.memberId = ""; }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.memberId = std::string(33, 'A'); }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.memberId = "Иванов"; }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.region = 24; }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.sequence = 0; }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.sequence = 256; }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.expires = r.issued - std::chrono::days{1}; }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.chipUid = Bytes(5, 1); }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.stationId = "Station 1"; }));
    EXPECT_TRUE(bad([](CardRecord& r) { r.version = 2; }));
}

TEST_F(CardRecordTest, PayloadWithUnknownKeyIsRefused) {
    auto value = take(cbor::decode(encodePayload(record)));
    auto& map = std::get<cbor::Map>(value.v);
    map.emplace_back(cbor::Value(std::uint64_t{11}), cbor::Value(std::uint64_t{1}));
    EXPECT_FALSE(decodePayload(cbor::encode(value)).ok());
}

TEST_F(CardRecordTest, PayloadWithWrongTypeIsRefused) {
    auto value = take(cbor::decode(encodePayload(record)));
    auto& map = std::get<cbor::Map>(value.v);
    map[2].second = cbor::Value(std::uint64_t{4711}); // member id as a number
    const auto r = decodePayload(cbor::encode(value));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("member id"), std::string::npos) << r.error();
}

TEST_F(CardRecordTest, JsonFieldsRoundTrip) {
    const auto back = take(recordFromJson(toJson(record)));
    EXPECT_EQ(encodePayload(back), encodePayload(record));
}

TEST_F(CardRecordTest, JsonFieldsNameWhatIsWrong) {
    nlohmann::json j = toJson(record);
    j["issued"] = "22.11.2026";
    auto r = recordFromJson(j);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("YYYY-MM-DD"), std::string::npos);
    j = toJson(record);
    j["card_number"] = "9643 2300 0001 2340";
    r = recordFromJson(j);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("check digit"), std::string::npos) << r.error();
    j = toJson(record);
    j["surname"] = "Ivanova";
    r = recordFromJson(j);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("surname"), std::string::npos);
}

TEST(CardRecordDates, ParseAndFormatIsoDates) {
    EXPECT_EQ(formatDate(day(2026, 1, 5)), "2026-01-05");
    EXPECT_EQ(parseDate("2024-02-29"), day(2024, 2, 29));
    EXPECT_FALSE(parseDate("2023-02-29"));
    EXPECT_FALSE(parseDate("2023-2-28"));
    EXPECT_FALSE(parseDate("2023-02-28 "));
}

TEST(CardRecordVerdicts, EveryVerdictHasItsName) {
    EXPECT_EQ(toString(Verdict::Valid), "valid");
    EXPECT_EQ(toString(Verdict::NotYetValid), "not_yet_valid");
    EXPECT_EQ(toString(Verdict::Expired), "expired");
    EXPECT_EQ(toString(Verdict::BadSignature), "bad_signature");
    EXPECT_EQ(toString(Verdict::UnknownIssuer), "unknown_issuer");
    EXPECT_EQ(toString(Verdict::IssuerNotValid), "issuer_not_valid");
    EXPECT_EQ(toString(Verdict::NotUnionCard), "not_union_card");
}

} // namespace
} // namespace unioncard::card
