// SPDX-License-Identifier: Apache-2.0
// Writes the card-record test vectors (tests/vectors/card-record/*.json) with fresh test keys.
// Run only to regenerate them (ECDSA signatures are randomised, so every run differs):
//   build/dev/bin/generate_card_record_vectors tests/vectors/card-record
// The keys live only in memory; each vector carries the public key and certificates it needs.

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/trust_list.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

using namespace unioncard::card;
using namespace std::chrono;
using nlohmann::json;

namespace {

template <class T, class E> T need(unioncard::Result<T, E> r, const char* what) {
    if (!r) {
        std::cerr << "generate: " << what << " failed\n";
        std::exit(1);
    }
    return std::move(r).value();
}

Seconds at(int y, unsigned m, unsigned d) {
    return Seconds{sys_days{year{y} / month{m} / day{d}}};
}

struct Station {
    PrivateKey key;
    Certificate cert;
};

Station makeStation(const PrivateKey& rootKey, const Certificate& root, const char* id,
                    Validity validity) {
    auto key = need(PrivateKey::generate(), "station key");
    auto cert = need(issueStationCertificate(rootKey, root, key.publicKey(), id, validity),
                     "station certificate");
    return {std::move(key), std::move(cert)};
}

CardRecord baseRecord(const char* stationId) {
    return CardRecord{need(CardNumber::compose(23, 1234, NumberScheme::standard()), "number"),
                      "M-23-0004711",
                      23,
                      100245,
                      1,
                      sys_days{year{2026} / November / 22},
                      sys_days{year{2031} / November / 30},
                      std::nullopt,
                      stationId};
}

class Writer {
public:
    Writer(std::filesystem::path dir, Bytes trustList, const Certificate& root)
        : m_dir(std::move(dir)), m_trustList(std::move(trustList)), m_root(root) {}

    void write(const std::string& name, const std::string& description, const json& fields,
               const Bytes& payload, const Bytes& cose, const Certificate& signer,
               const std::string& verifyOn, Verdict expected) {
        json v = {{"description", description},
                  {"fields", fields},
                  {"payload_hex", toHex(payload)},
                  {"cose_sign1_hex", toHex(cose)},
                  {"size", cose.size()},
                  {"public_key_pem", signer.publicKey().toPem()},
                  {"certificate_pem", signer.toPem()},
                  {"root_certificate_pem", m_root.toPem()},
                  {"trust_list_hex", toHex(m_trustList)},
                  {"verify_on", verifyOn},
                  {"expected_verdict", std::string(toString(expected))}};
        std::ofstream(m_dir / (name + ".json")) << v.dump(2) << '\n';
        std::cout << fmt::format("{:<36} {:>4} bytes  {}\n", name, cose.size(), toString(expected));
    }

private:
    std::filesystem::path m_dir;
    Bytes m_trustList;
    const Certificate& m_root;
};

Bytes signRaw(const Station& s, const Bytes& payload) {
    return need(cose::sign(s.key, s.cert.keyId(), payload), "sign");
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: generate_card_record_vectors OUT_DIR\n";
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);

    auto rootKey = need(PrivateKey::generate(), "root key");
    auto root =
        need(makeRootCertificate(rootKey, "Union card test root", {at(2025, 1, 1), at(2045, 1, 1)}),
             "root certificate");
    const Station st = makeStation(rootKey, root, "st-23-01", {at(2026, 1, 1), at(2029, 1, 1)});
    const Station longId = makeStation(rootKey, root, "st-23-krasnodar-main-office-0001",
                                       {at(2026, 1, 1), at(2029, 1, 1)});
    const Station old = makeStation(rootKey, root, "st-23-02", {at(2025, 1, 1), at(2026, 1, 1)});
    const Station stranger =
        makeStation(rootKey, root, "st-99-01", {at(2026, 1, 1), at(2029, 1, 1)});
    const Bytes trust =
        need(TrustList::build(rootKey, root, {st.cert, longId.cert, old.cert}, 1, at(2026, 11, 1)),
             "trust list");
    Writer w(dir, trust, root);
    const std::string onDay = "2027-06-01";

    auto emit = [&](const std::string& name, const std::string& description, const Station& s,
                    const CardRecord& r, const std::string& verifyOn, Verdict expected) {
        const Bytes cose = need(signRecord({s.key, s.cert}, r), "sign record");
        w.write(name, description, toJson(r), encodePayload(r), cose, s.cert, verifyOn, expected);
        return cose;
    };

    // Valid records.
    const CardRecord plain = baseRecord("st-23-01");
    const Bytes plainCose = emit("valid-no-chip-uid", "a virtual card's record: no chip UID", st,
                                 plain, onDay, Verdict::Valid);
    CardRecord chip = plain;
    chip.chipUid = Bytes{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6};
    const Bytes chipCose = emit("valid-chip-uid", "a plastic card bound to a 7-byte UID", st, chip,
                                onDay, Verdict::Valid);
    CardRecord largest = baseRecord("st-23-krasnodar-main-office-0001");
    largest.number =
        need(CardNumber::compose(89, CardNumber::kMaxSerial, NumberScheme::standard()), "number");
    largest.region = 89;
    largest.memberId = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    largest.organisation = UINT32_MAX;
    largest.sequence = 255;
    largest.chipUid = Bytes(10, 0xEE);
    largest.issued = sys_days{year{2026} / December / 31};
    largest.expires = largest.issued + kMaxRecordLifetime;
    emit("valid-largest", "every field at its largest: the record's upper size bound", longId,
         largest, onDay, Verdict::Valid);
    emit("valid-on-expiry-day", "checked on its expiry date: still valid that day", st, plain,
         "2031-11-30", Verdict::Valid);

    // Dates.
    emit("expired", "checked the day after its expiry date", st, plain, "2031-12-01",
         Verdict::Expired);
    emit("not-yet-valid", "checked the day before its issue date", st, plain, "2026-11-21",
         Verdict::NotYetValid);

    // Issuers.
    {
        CardRecord r = baseRecord("st-99-01");
        emit("unknown-issuer", "signed by a station certificate that is not on the trust list",
             stranger, r, onDay, Verdict::UnknownIssuer);
    }
    {
        CardRecord r = baseRecord("st-23-02");
        r.issued = sys_days{year{2026} / March / 1};
        // The signer refuses this, so sign the payload directly: a station whose certificate
        // expired on 2026-01-01 signing a record dated after it.
        const Bytes payload = encodePayload(r);
        w.write("issuer-expired-on-issue-date",
                "signed by a station whose certificate had expired before the issue date",
                toJson(r), payload, signRaw(old, payload), old.cert, onDay,
                Verdict::IssuerNotValid);
    }
    {
        CardRecord r = baseRecord("st-23-02"); // names st-23-02 but signed by st-23-01
        const Bytes payload = encodePayload(r);
        w.write("station-id-mismatch", "names one station but carries another station's signature",
                toJson(r), payload, signRaw(st, payload), st.cert, onDay, Verdict::BadSignature);
    }

    {
        // A station certified at 14:00 on the issue date may sign records dated that day.
        const Station late =
            makeStation(rootKey, root, "st-23-03", {at(2026, 11, 22) + hours(14), at(2029, 1, 1)});
        const Bytes lateTrust =
            need(TrustList::build(rootKey, root, {late.cert}, 2, at(2026, 11, 22)), "trust list");
        Writer lateWriter(dir, lateTrust, root);
        const CardRecord r = baseRecord("st-23-03");
        lateWriter.write("valid-issuer-certified-that-day",
                         "signed on the day its station was certified, hours after midnight",
                         toJson(r), encodePayload(r),
                         need(signRecord({late.key, late.cert}, r), "sign"), late.cert, onDay,
                         Verdict::Valid);
    }
    {
        // Printable ASCII means 0x21-0x7E: a space in the member id is refused.
        CardRecord r = plain;
        r.memberId = "M 23 4711";
        const Bytes payload = encodePayload(r);
        w.write("member-id-with-space", "validly signed, but the member id holds spaces",
                json::object(), payload, signRaw(st, payload), st.cert, onDay,
                Verdict::NotUnionCard);
    }
    {
        Bytes cose = plainCose;
        cose.push_back(0x00);
        w.write("trailing-byte", "a valid record followed by one more byte", toJson(plain),
                encodePayload(plain), cose, st.cert, onDay, Verdict::NotUnionCard);
    }
    {
        CardRecord r = plain;
        r.chipUid = Bytes{0x08, 0x11, 0x22, 0x33};
        emit("valid-chip-uid-4-bytes", "a card with a 4-byte random UID (ISO/IEC 14443-3)", st, r,
             onDay, Verdict::Valid);
    }

    // Tampering.
    {
        Bytes cose = chipCose;
        const std::size_t memberAt = 0x24; // inside the member id's text
        cose[memberAt] ^= 0x01;
        const auto view = need(inspectRecord(cose), "inspect");
        w.write("flipped-payload-byte",
                "one bit of the member id flipped after signing (still well-formed)",
                toJson(need(std::move(view.record), "fields")), view.payload, cose, st.cert, onDay,
                Verdict::BadSignature);
    }
    {
        Bytes cose = chipCose;
        cose[cose.size() - 10] ^= 0x80;
        w.write("flipped-signature-byte", "one bit of the signature flipped", toJson(chip),
                encodePayload(chip), cose, st.cert, onDay, Verdict::BadSignature);
    }

    // Not a union card record at all.
    {
        Bytes cose(plainCose.begin(), plainCose.begin() + static_cast<long>(plainCose.size() / 2));
        w.write("truncated", "the first half of a valid record", toJson(plain),
                encodePayload(plain), cose, st.cert, onDay, Verdict::NotUnionCard);
    }
    {
        // A validly signed COSE_Sign1 over a payload padded to push it past 256 bytes.
        Bytes payload = encodePayload(plain);
        cbor::Value padded = need(cbor::decode(payload), "decode");
        auto& map = std::get<cbor::Map>(padded.v);
        map[2].second = cbor::Value(std::string(150, 'X'));
        const Bytes big = cbor::encode(padded);
        const Bytes cose = signRaw(st, big);
        w.write("oversized", "a signed record of more than 256 bytes", json::object(), big, cose,
                st.cert, onDay, Verdict::NotUnionCard);
    }
    {
        Bytes noise(153);
        std::uint32_t x = 2463534242u; // xorshift32, a fixed sequence
        for (auto& b : noise) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b = static_cast<std::uint8_t>(x);
        }
        w.write("random-bytes", "153 bytes of noise", json::object(), Bytes{}, noise, st.cert,
                onDay, Verdict::NotUnionCard);
    }
    {
        Bytes cose = plainCose;
        cose.erase(cose.begin()); // drop the tag 18
        w.write("untagged", "a COSE_Sign1 without its tag 18", toJson(plain), encodePayload(plain),
                cose, st.cert, onDay, Verdict::NotUnionCard);
    }
    {
        // An algorithm the union does not use, in an otherwise intact message.
        Bytes cose = plainCose;
        // Byte 5 is the algorithm (d2 84 4d a2 01 [26] ...): -7 becomes -24 (0x37).
        cose[5] = 0x37;
        w.write("wrong-algorithm", "alg -24 in the protected header instead of ES256 (-7)",
                toJson(plain), encodePayload(plain), cose, st.cert, onDay, Verdict::NotUnionCard);
    }
    {
        // The region written as 18 17 instead of 17: the same number, not in shortest form.
        Bytes payload = encodePayload(plain);
        const Bytes regionEntry = {0x04, 0x17};
        auto it =
            std::search(payload.begin(), payload.end(), regionEntry.begin(), regionEntry.end());
        if (it == payload.end()) {
            std::cerr << "generate: region entry not found\n";
            return 1;
        }
        payload.insert(it + 1, 0x18);
        w.write("non-canonical-payload",
                "validly signed, but an integer is not in its shortest form", json::object(),
                payload, signRaw(st, payload), st.cert, onDay, Verdict::NotUnionCard);
    }
    {
        // Validly signed, but valid for a day longer than a record may be.
        CardRecord r = plain;
        r.expires = r.issued + kMaxRecordLifetime + days{1};
        const Bytes payload = encodePayload(r);
        w.write("lifetime-too-long", "validly signed, but valid for longer than ten years",
                json::object(), payload, signRaw(st, payload), st.cert, onDay,
                Verdict::NotUnionCard);
    }
    {
        // A signed payload whose card number fails its check digit.
        Bytes payload = encodePayload(plain);
        cbor::Value v = need(cbor::decode(payload), "decode");
        auto& map = std::get<cbor::Map>(v.v);
        map[1].second = cbor::Value(plain.number.toInteger() + 1);
        payload = cbor::encode(v);
        w.write("bad-check-digit", "validly signed, but the card number's check digit is wrong",
                json::object(), payload, signRaw(st, payload), st.cert, onDay,
                Verdict::NotUnionCard);
    }
    return 0;
}
