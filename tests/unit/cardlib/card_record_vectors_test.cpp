// SPDX-License-Identifier: Apache-2.0
// Runs the published vectors of tests/vectors/card-record (README there) through cardlib: the
// same files an independent implementation checks in tests/independent.

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/trust_list.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

namespace unioncard::card {
namespace {

struct Vector {
    std::string name;
    nlohmann::json json;
};

// Names the vector in test output instead of dumping its bytes.
void PrintTo(const Vector& v, std::ostream* os) {
    *os << v.name;
}

std::vector<Vector> loadVectors(bool onlyWithFields = false) {
    std::vector<Vector> out;
    for (const auto& entry : std::filesystem::directory_iterator(UNIONCARD_VECTORS_DIR)) {
        if (entry.path().extension() != ".json") {
            continue;
        }
        std::ifstream in(entry.path());
        Vector v{entry.path().stem().string(), nlohmann::json::parse(in)};
        // Vectors of garbage carry no fields to re-encode.
        if (onlyWithFields &&
            (v.json["expected_verdict"] == "not_union_card" || v.json["fields"].empty())) {
            continue;
        }
        out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

std::string testName(const ::testing::TestParamInfo<Vector>& info) {
    std::string n = info.param.name;
    std::replace(n.begin(), n.end(), '-', '_');
    return n;
}

class CardRecordVector : public ::testing::TestWithParam<Vector> {};

TEST_P(CardRecordVector, GetsItsExpectedVerdict) {
    const auto& v = GetParam().json;
    const auto root = Certificate::fromPem(v["root_certificate_pem"].get<std::string>());
    ASSERT_TRUE(root.ok());
    const auto listBytes = fromHex(v["trust_list_hex"].get<std::string>());
    ASSERT_TRUE(listBytes);
    const auto trust = TrustList::load(*listBytes, root->fingerprint());
    ASSERT_TRUE(trust.ok()) << trust.error();
    const auto record = fromHex(v["cose_sign1_hex"].get<std::string>());
    ASSERT_TRUE(record);
    const auto on = parseDate(v["verify_on"].get<std::string>());
    ASSERT_TRUE(on);
    const auto result = verifyRecord(*record, trust.value(), *on);
    EXPECT_EQ(toString(result.verdict), v["expected_verdict"].get<std::string>()) << result.reason;
    EXPECT_FALSE(result.reason.empty());
}

class CardRecordVectorFields : public ::testing::TestWithParam<Vector> {};

TEST_P(CardRecordVectorFields, EncodeToItsPayload) {
    const auto& v = GetParam().json;
    const auto fields = recordFromJson(v["fields"]);
    ASSERT_TRUE(fields.ok()) << fields.error();
    EXPECT_EQ(toHex(encodePayload(fields.value())), v["payload_hex"].get<std::string>());
    const auto view = inspectRecord(*fromHex(v["cose_sign1_hex"].get<std::string>()));
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(toHex(view->payload), v["payload_hex"].get<std::string>());
}

TEST_P(CardRecordVector, PublicKeyIsTheCertificates) {
    const auto& v = GetParam().json;
    const auto cert = Certificate::fromPem(v["certificate_pem"].get<std::string>());
    ASSERT_TRUE(cert.ok());
    EXPECT_EQ(cert->publicKey().toPem(), v["public_key_pem"].get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Published, CardRecordVector, ::testing::ValuesIn(loadVectors()), testName);
INSTANTIATE_TEST_SUITE_P(Published, CardRecordVectorFields, ::testing::ValuesIn(loadVectors(true)),
                         testName);

TEST(CardRecordVectors, AllVerdictsAreCovered) {
    std::set<std::string> seen;
    for (const auto& v : loadVectors()) {
        seen.insert(v.json["expected_verdict"].get<std::string>());
    }
    for (Verdict verdict :
         {Verdict::Valid, Verdict::NotYetValid, Verdict::Expired, Verdict::BadSignature,
          Verdict::UnknownIssuer, Verdict::IssuerNotValid, Verdict::NotUnionCard}) {
        EXPECT_TRUE(seen.count(std::string(toString(verdict)))) << toString(verdict);
    }
}

} // namespace
} // namespace unioncard::card
