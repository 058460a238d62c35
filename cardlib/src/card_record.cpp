// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>

namespace unioncard::card {

namespace {

using namespace std::chrono;

bool isPrintableAscii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

// The latest date a record may carry: 2099-12-31 keeps every date in a CBOR uint16/uint32.
constexpr Days kFirstDate = sys_days{year{2000} / January / 1};
constexpr Days kLastDate = sys_days{year{2099} / December / 31};

std::uint64_t dayNumber(Days d) {
    return static_cast<std::uint64_t>(d.time_since_epoch().count());
}

cbor::Value dateValue(Days d) {
    return cbor::Value::tagged(kTagDays, cbor::Value(dayNumber(d)));
}

} // namespace

std::string toHex(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out += fmt::format("{:02x}", b);
    }
    return out;
}

std::optional<Bytes> fromHex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    Bytes out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = nibble(hex[i]);
        const int lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return out;
}

std::string formatDate(Days day) {
    const year_month_day ymd{day};
    return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::optional<Days> parseDate(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    auto number = [&](std::size_t from, std::size_t length) -> int {
        int v = 0;
        for (std::size_t i = from; i < from + length; ++i) {
            if (text[i] < '0' || text[i] > '9') {
                return -1;
            }
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    const int y = number(0, 4);
    const int m = number(5, 2);
    const int d = number(8, 2);
    if (y < 0 || m < 0 || d < 0) {
        return std::nullopt;
    }
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return sys_days{ymd};
}

std::optional<std::string> checkRecord(const CardRecord& r) {
    if (r.version != kRecordVersion) {
        return fmt::format("record version {} is not supported (this software reads version {})",
                           r.version, kRecordVersion);
    }
    if (r.memberId.empty() || r.memberId.size() > 32 || !isPrintableAscii(r.memberId)) {
        return std::string("the member id must be 1 to 32 printable ASCII characters");
    }
    if (r.region != r.number.region()) {
        return fmt::format("region {} does not match the card number's region {:02}", r.region,
                           r.number.region());
    }
    if (r.sequence < 1 || r.sequence > 255) {
        return fmt::format("card sequence {} is outside 1-255", r.sequence);
    }
    if (r.issued < kFirstDate || r.expires > kLastDate) {
        return std::string("dates must fall between 2000-01-01 and 2099-12-31");
    }
    if (r.expires < r.issued) {
        return fmt::format("the card expires ({}) before it is issued ({})", formatDate(r.expires),
                           formatDate(r.issued));
    }
    if (r.expires - r.issued > kMaxRecordLifetime) {
        return fmt::format("a card is valid for at most {} days, not {} ({} to {})",
                           kMaxRecordLifetime.count(), (r.expires - r.issued).count(),
                           formatDate(r.issued), formatDate(r.expires));
    }
    if (r.chipUid && r.chipUid->size() != 4 && r.chipUid->size() != 7 && r.chipUid->size() != 10) {
        return fmt::format("a chip UID is 4, 7 or 10 bytes, not {}", r.chipUid->size());
    }
    if (!isValidStationId(r.stationId)) {
        return fmt::format("'{}' is not a station id", r.stationId);
    }
    return std::nullopt;
}

Bytes encodePayload(const CardRecord& r) {
    namespace k = record_key;
    cbor::Map m;
    m.emplace_back(cbor::Value(k::kVersion), cbor::Value(r.version));
    m.emplace_back(cbor::Value(k::kNumber), cbor::Value(r.number.toInteger()));
    m.emplace_back(cbor::Value(k::kMember), cbor::Value(r.memberId));
    m.emplace_back(cbor::Value(k::kRegion), cbor::Value(static_cast<std::uint64_t>(r.region)));
    m.emplace_back(cbor::Value(k::kOrganisation), cbor::Value(std::uint64_t{r.organisation}));
    m.emplace_back(cbor::Value(k::kSequence), cbor::Value(std::uint64_t{r.sequence}));
    m.emplace_back(cbor::Value(k::kIssued), dateValue(r.issued));
    m.emplace_back(cbor::Value(k::kExpires), dateValue(r.expires));
    if (r.chipUid) {
        m.emplace_back(cbor::Value(k::kChipUid), cbor::Value(*r.chipUid));
    }
    m.emplace_back(cbor::Value(k::kStation), cbor::Value(r.stationId));
    return cbor::encode(cbor::Value(std::move(m)));
}

Result<CardRecord, std::string> decodePayload(std::span<const std::uint8_t> payload,
                                              const NumberScheme& scheme) {
    namespace k = record_key;
    using R = Result<CardRecord, std::string>;
    auto decoded = cbor::decode(payload);
    if (!decoded) {
        return R(fail("the payload is not canonical CBOR: " + decoded.error()));
    }
    const auto* map = decoded->get<cbor::Map>();
    if (map == nullptr) {
        return R(fail(std::string("the payload is not a CBOR map")));
    }
    for (const auto& [key, value] : *map) {
        const auto* u = key.get<std::uint64_t>();
        if (u == nullptr || *u < k::kVersion || *u > k::kStation) {
            return R(fail(std::string("the payload holds a key that version 1 does not define")));
        }
    }
    auto uint = [&](std::uint64_t key, std::uint64_t max) -> std::optional<std::uint64_t> {
        const auto* v = decoded->find(key);
        const auto* u = v != nullptr ? v->get<std::uint64_t>() : nullptr;
        if (u == nullptr || *u > max) {
            return std::nullopt;
        }
        return *u;
    };
    auto text = [&](std::uint64_t key) -> const std::string* {
        const auto* v = decoded->find(key);
        return v != nullptr ? v->get<std::string>() : nullptr;
    };
    auto date = [&](std::uint64_t key) -> std::optional<Days> {
        const auto* v = decoded->find(key);
        const auto* t = v != nullptr ? v->get<cbor::Tagged>() : nullptr;
        const auto* n =
            t != nullptr && t->tag == kTagDays ? t->item->get<std::uint64_t>() : nullptr;
        if (n == nullptr || *n > dayNumber(kLastDate)) {
            return std::nullopt;
        }
        return Days{days{static_cast<int>(*n)}};
    };

    const auto version = uint(k::kVersion, UINT32_MAX);
    if (!version) {
        return R(fail(std::string("the payload has no format version")));
    }
    if (*version != kRecordVersion) {
        return R(fail(fmt::format("record version {} is not supported", *version)));
    }
    const auto number = uint(k::kNumber, 9'999'999'999'999'999ULL);
    const auto* member = text(k::kMember);
    const auto region = uint(k::kRegion, 99);
    const auto organisation = uint(k::kOrganisation, UINT32_MAX);
    const auto sequence = uint(k::kSequence, 255);
    const auto issued = date(k::kIssued);
    const auto expires = date(k::kExpires);
    const auto* station = text(k::kStation);
    const char* missing = !number         ? "card number"
                          : !member       ? "member id"
                          : !region       ? "region"
                          : !organisation ? "organisation"
                          : !sequence     ? "card sequence"
                          : !issued       ? "issue date"
                          : !expires      ? "expiry date"
                          : !station      ? "station id"
                                          : nullptr;
    if (missing != nullptr) {
        return R(fail(fmt::format("the {} is missing or of the wrong type", missing)));
    }
    auto cardNumber = CardNumber::parse(fmt::format("{:016}", *number), scheme);
    if (!cardNumber) {
        return R(fail("the card number is not a union number: " + cardNumber.error().message));
    }
    CardRecord r{cardNumber.value(),
                 *member,
                 static_cast<int>(*region),
                 static_cast<std::uint32_t>(*organisation),
                 static_cast<std::uint32_t>(*sequence),
                 *issued,
                 *expires,
                 std::nullopt,
                 *station,
                 *version};
    if (const auto* uid = decoded->find(k::kChipUid)) {
        const auto* b = uid->get<Bytes>();
        if (b == nullptr) {
            return R(fail(std::string("the chip UID is not a byte string")));
        }
        r.chipUid = *b;
    }
    if (auto problem = checkRecord(r)) {
        return R(fail(std::move(*problem)));
    }
    return r;
}

namespace {

// The moment on `day` at which a certificate is checked: the start of the day, or the moment
// the certificate began if that was later the same day. A station certificate issued at 14:00
// may sign records dated that day.
Seconds checkTimeOn(Days day, const Certificate& cert) {
    const Seconds start{day};
    const Seconds began = cert.notBefore();
    return (began > start && began < start + days{1}) ? began : start;
}

} // namespace

namespace {
Result<Bytes, std::string> signRecordWith(const RecordSigningKey& key,
                                          const Certificate& certificate, const CardRecord& record);
} // namespace

Result<Bytes, std::string> signRecord(const StationSigner& signer, const CardRecord& record) {
    return signRecordWith(signer.key, signer.certificate, record);
}

Result<Bytes, std::string> signRecord(const RecordSigningKey& key, const Certificate& certificate,
                                      const CardRecord& record) {
    if (EVP_PKEY_eq(key.publicKey().get(), certificate.publicKey().get()) != 1) {
        return Result<Bytes, std::string>(
            fail(std::string("the signing key is not the one the station certificate names")));
    }
    return signRecordWith(key, certificate, record);
}

namespace {

Result<Bytes, std::string> signRecordWith(const RecordSigningKey& key,
                                          const Certificate& certificate,
                                          const CardRecord& record) {
    // The body below predates the key interface; it reads the two through this view.
    struct {
        const RecordSigningKey& key;
        const Certificate& certificate;
    } signer{key, certificate};
    using R = Result<Bytes, std::string>;
    if (auto problem = checkRecord(record)) {
        return R(fail(std::move(*problem)));
    }
    if (!signer.certificate.isRecordSigner()) {
        return R(
            fail(std::string("the station certificate is not a card record signing certificate")));
    }
    if (record.stationId != signer.certificate.commonName()) {
        return R(fail(fmt::format("the record names station '{}' but the key belongs to '{}'",
                                  record.stationId, signer.certificate.commonName())));
    }
    const Seconds when = checkTimeOn(record.issued, signer.certificate);
    // OpenSSL takes a certificate to have ended at its notAfter instant: so does the signer,
    // or a station would sign on its last day records that every verifier refuses.
    if (when < signer.certificate.notBefore() || when >= signer.certificate.notAfter()) {
        return R(fail(fmt::format("the station certificate is not valid on the issue date {}",
                                  formatDate(record.issued))));
    }
    auto signature = cose::sign(signer.key, signer.certificate.keyId(), encodePayload(record));
    if (!signature) {
        return R(fail(signature.error().message));
    }
    if (signature->size() > kMaxRecordSize) {
        return R(fail(fmt::format("the signed record is {} bytes, over the chip file's {}",
                                  signature->size(), kMaxRecordSize)));
    }
    return std::move(signature).value();
}

} // namespace

std::string_view toString(Verdict verdict) {
    switch (verdict) {
    case Verdict::Valid:
        return "valid";
    case Verdict::NotYetValid:
        return "not_yet_valid";
    case Verdict::Expired:
        return "expired";
    case Verdict::BadSignature:
        return "bad_signature";
    case Verdict::UnknownIssuer:
        return "unknown_issuer";
    case Verdict::IssuerNotValid:
        return "issuer_not_valid";
    case Verdict::NotUnionCard:
        return "not_union_card";
    }
    return "not_union_card";
}

RecordVerification verifyRecord(std::span<const std::uint8_t> bytes, const TrustList& trust,
                                Days today, const NumberScheme& scheme) {
    RecordVerification out{Verdict::NotUnionCard, {}, std::nullopt, {}, bytes.size()};
    auto message = cose::decode(bytes, kMaxRecordSize);
    if (!message) {
        out.reason = "this is not a union card record: " + message.error();
        return out;
    }
    out.kid = message->kid;
    const Certificate* station = trust.findStation(message->kid);
    if (station == nullptr) {
        out.verdict = Verdict::UnknownIssuer;
        out.reason = fmt::format("the record was signed by key {}, which is not on the trust list "
                                 "(sequence {})",
                                 toHex(message->kid), trust.sequence());
        return out;
    }
    if (!cose::verify(*message, station->publicKey())) {
        out.verdict = Verdict::BadSignature;
        out.reason = fmt::format("the signature of station {} does not match: the record was "
                                 "altered or forged",
                                 station->commonName());
        return out;
    }
    auto record = decodePayload(message->payload, scheme);
    if (!record) {
        out.reason = "the signed payload is not a valid union card record: " + record.error();
        return out;
    }
    out.record = record.value();
    if (record->stationId != station->commonName()) {
        out.verdict = Verdict::BadSignature;
        out.reason = fmt::format("the record names station '{}' but was signed by '{}'",
                                 record->stationId, station->commonName());
        return out;
    }
    if (auto chain = station->chainsTo(trust.root(), checkTimeOn(record->issued, *station));
        !chain) {
        out.verdict = Verdict::IssuerNotValid;
        out.reason = fmt::format("the certificate of station {} was not valid on the issue date "
                                 "{}: {}",
                                 station->commonName(), formatDate(record->issued), chain.error());
        return out;
    }
    if (today < record->issued) {
        out.verdict = Verdict::NotYetValid;
        out.reason = fmt::format("the card is dated {}, after today ({})",
                                 formatDate(record->issued), formatDate(today));
        return out;
    }
    if (today > record->expires) {
        out.verdict = Verdict::Expired;
        out.reason = fmt::format("the card expired on {}", formatDate(record->expires));
        return out;
    }
    out.verdict = Verdict::Valid;
    out.reason = fmt::format("signed by station {}, valid until {}", station->commonName(),
                             formatDate(record->expires));
    return out;
}

Result<RecordView, std::string> inspectRecord(std::span<const std::uint8_t> bytes,
                                              const NumberScheme& scheme) {
    auto message = cose::decode(bytes, kMaxRecordSize);
    if (!message) {
        return Result<RecordView, std::string>(fail(message.error()));
    }
    return RecordView{message->kid, message->payload, decodePayload(message->payload, scheme)};
}

nlohmann::json toJson(const CardRecord& r) {
    nlohmann::json j = {
        {"version", r.version},           {"card_number", r.number.digits()},
        {"member_id", r.memberId},        {"region", r.region},
        {"organisation", r.organisation}, {"sequence", r.sequence},
        {"issued", formatDate(r.issued)}, {"expires", formatDate(r.expires)},
        {"station_id", r.stationId},
    };
    if (r.chipUid) {
        j["chip_uid"] = toHex(*r.chipUid);
    }
    return j;
}

Result<CardRecord, std::string> recordFromJson(const nlohmann::json& j,
                                               const NumberScheme& scheme) {
    using R = Result<CardRecord, std::string>;
    if (!j.is_object()) {
        return R(fail(std::string("the fields must be a JSON object")));
    }
    static const char* const kKnown[] = {"version",      "card_number", "member_id", "region",
                                         "organisation", "sequence",    "issued",    "expires",
                                         "chip_uid",     "station_id"};
    for (const auto& [key, value] : j.items()) {
        if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
            return R(fail(fmt::format("unknown field \"{}\"", key)));
        }
    }
    auto string = [&](const char* key) -> std::optional<std::string> {
        if (!j.contains(key) || !j[key].is_string()) {
            return std::nullopt;
        }
        return j[key].get<std::string>();
    };
    auto integer = [&](const char* key, std::uint64_t max) -> std::optional<std::uint64_t> {
        // JSON has one number type: accept any integer written without sign or fraction.
        if (!j.contains(key) || !j[key].is_number_integer() ||
            (j[key].is_number_unsigned()
                 ? j[key].get<std::uint64_t>() > max
                 : j[key].get<std::int64_t>() < 0 ||
                       static_cast<std::uint64_t>(j[key].get<std::int64_t>()) > max)) {
            return std::nullopt;
        }
        return j[key].get<std::uint64_t>();
    };
    const auto number = string("card_number");
    const auto member = string("member_id");
    const auto region = integer("region", 99);
    const auto organisation = integer("organisation", UINT32_MAX);
    const auto sequence = integer("sequence", 255);
    const auto issuedText = string("issued");
    const auto expiresText = string("expires");
    const auto station = string("station_id");
    const auto version = j.contains("version") ? integer("version", UINT32_MAX)
                                               : std::optional<std::uint64_t>(kRecordVersion);
    const char* missing = !number         ? "card_number (a string)"
                          : !member       ? "member_id (a string)"
                          : !region       ? "region (0-99)"
                          : !organisation ? "organisation (an unsigned integer)"
                          : !sequence     ? "sequence (1-255)"
                          : !issuedText   ? "issued (YYYY-MM-DD)"
                          : !expiresText  ? "expires (YYYY-MM-DD)"
                          : !station      ? "station_id (a string)"
                          : !version      ? "version (an unsigned integer)"
                                          : nullptr;
    if (missing != nullptr) {
        return R(fail(fmt::format("field {} is missing or of the wrong type", missing)));
    }
    auto cardNumber = CardNumber::parse(*number, scheme);
    if (!cardNumber) {
        return R(fail("card_number: " + cardNumber.error().message));
    }
    const auto issued = parseDate(*issuedText);
    const auto expires = parseDate(*expiresText);
    if (!issued || !expires) {
        return R(fail(std::string("issued and expires are dates written YYYY-MM-DD")));
    }
    CardRecord r{cardNumber.value(),
                 *member,
                 static_cast<int>(*region),
                 static_cast<std::uint32_t>(*organisation),
                 static_cast<std::uint32_t>(*sequence),
                 *issued,
                 *expires,
                 std::nullopt,
                 *station,
                 *version};
    if (j.contains("chip_uid")) {
        const auto uid =
            j["chip_uid"].is_string() ? fromHex(j["chip_uid"].get<std::string>()) : std::nullopt;
        if (!uid) {
            return R(fail(std::string("chip_uid must be a string of hex digits")));
        }
        r.chipUid = *uid;
    }
    if (auto problem = checkRecord(r)) {
        return R(fail(std::move(*problem)));
    }
    return r;
}

} // namespace unioncard::card
