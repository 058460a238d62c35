// SPDX-License-Identifier: Apache-2.0
// The API's JSON forms: round trips, and every refusal the strict parsers promise (api.hpp).

#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/api.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

using namespace unioncard;
using namespace unioncard::registry;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

Seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
    return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{mo} /
                                 std::chrono::day{d}} +
           std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

std::string number(int region, std::uint64_t serial) {
    auto n = card::CardNumber::compose(region, serial);
    EXPECT_TRUE(n.ok());
    return n->digits();
}

StatusEvent sampleEvent() {
    StatusEvent e;
    e.idempotencyKey = "evt_0001-abcd";
    e.kind = EventKind::HandedOver;
    e.cardNumber = number(23, 12345);
    e.memberId = "M-000123";
    e.station = "krasnodar-01";
    e.operatorId = "Иванова А. П.";
    e.at = at(2026, 11, 22, 10, 32, 0);
    e.applicationId = "app-42";
    e.cardSequence = 2;
    e.reason = "";
    return e;
}

Application sampleApplication() {
    Application a;
    a.id = "app-42";
    a.memberId = "M-000123";
    a.fullName = "Иванова Анна Петровна";
    a.region = 23;
    a.organisationCode = 4000123;
    a.organisationName = "МБОУ СОШ № 5 г. Краснодара";
    a.category = MemberCategory::Working;
    a.reason = ApplicationReason::Replacement;
    a.consent = true;
    a.cardSequence = 2;
    a.cardNumber = number(23, 777);
    a.createdAt = at(2026, 11, 1, 8, 0, 0);
    return a;
}

CheckIn sampleCheckIn(int i = 0) {
    CheckIn c;
    c.nonce = "nonce-0000000000" + std::to_string(i);
    c.eventId = "forum-2026";
    c.desk = "Стол 3";
    c.cardNumber = number(77, 1000 + static_cast<std::uint64_t>(i));
    c.at = at(2026, 11, 22, 9, 0, i % 60);
    return c;
}

// Parses text as a body, then as an event: the path a service takes.
Result<StatusEvent, ApiError> eventFromText(std::string_view text) {
    auto body = api::parseBody(text);
    if (!body)
        return fail(body.error());
    return parseStatusEvent(*body);
}

json eventJson() {
    return toJson(sampleEvent());
}

template <class T>
void expectError(const Result<T, ApiError>& result, std::string_view code,
                 std::string_view mentions) {
    ASSERT_FALSE(result.ok()) << "expected " << code << " mentioning '" << mentions << "'";
    const ApiError& e = result.error();
    EXPECT_EQ(e.code, code) << e.message;
    EXPECT_NE(e.message.find(mentions), std::string::npos)
        << "message '" << e.message << "' should mention '" << mentions << "'";
}

} // namespace

// ---------------------------------------------------------------------------- round trips

TEST(ApiJson, EventRoundTrips) {
    const StatusEvent e = sampleEvent();
    const json j = toJson(e);
    EXPECT_EQ(j.at("kind"), "handed_over");
    EXPECT_EQ(j.at("operator"), "Иванова А. П.");
    EXPECT_EQ(j.at("at"), "2026-11-22T10:32:00Z");
    auto back = eventFromText(j.dump());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->idempotencyKey, e.idempotencyKey);
    EXPECT_EQ(back->kind, e.kind);
    EXPECT_EQ(back->cardNumber, e.cardNumber);
    EXPECT_EQ(back->memberId, e.memberId);
    EXPECT_EQ(back->station, e.station);
    EXPECT_EQ(back->operatorId, e.operatorId);
    EXPECT_EQ(back->at, e.at);
    EXPECT_EQ(back->applicationId, e.applicationId);
    EXPECT_EQ(back->cardSequence, e.cardSequence);
    EXPECT_EQ(back->reason, e.reason);
}

TEST(ApiJson, OptionalFieldIsOmittedAndNullMeansAbsent) {
    StatusEvent e = sampleEvent();
    e.applicationId.reset();
    json j = toJson(e);
    EXPECT_FALSE(j.contains("application_id"));
    ASSERT_TRUE(parseStatusEvent(j).ok());
    j["application_id"] = nullptr;
    auto back = parseStatusEvent(j);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_FALSE(back->applicationId.has_value());
}

TEST(ApiJson, ApplicationAndPageRoundTrip) {
    ApplicationPage page;
    page.items.push_back(sampleApplication());
    Application second = sampleApplication();
    second.id = "app-43";
    second.cardNumber.reset();
    second.category = MemberCategory::Student;
    second.reason = ApplicationReason::FirstCard;
    second.cardSequence = 1;
    page.items.push_back(second);
    page.nextCursor = "c_43";
    auto body = api::parseBody(toJson(page).dump());
    ASSERT_TRUE(body.ok());
    auto back = parseApplicationPage(*body);
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_EQ(back->items.size(), 2u);
    EXPECT_EQ(back->nextCursor, "c_43");
    const Application& a = back->items[0];
    const Application want = sampleApplication();
    EXPECT_EQ(a.id, want.id);
    EXPECT_EQ(a.memberId, want.memberId);
    EXPECT_EQ(a.fullName, want.fullName);
    EXPECT_EQ(a.region, want.region);
    EXPECT_EQ(a.organisationCode, want.organisationCode);
    EXPECT_EQ(a.organisationName, want.organisationName);
    EXPECT_EQ(a.category, want.category);
    EXPECT_EQ(a.reason, want.reason);
    EXPECT_EQ(a.consent, want.consent);
    EXPECT_EQ(a.cardSequence, want.cardSequence);
    EXPECT_EQ(a.cardNumber, want.cardNumber);
    EXPECT_EQ(a.createdAt, want.createdAt);
    EXPECT_FALSE(back->items[1].cardNumber.has_value());
    EXPECT_EQ(back->items[1].category, MemberCategory::Student);
}

TEST(ApiJson, OutcomeLeaseLookupCheckInsReceiptAndErrorRoundTrip) {
    EventOutcome o{true, CardState::Refused, 18446744073709551615ull};
    auto ob = parseEventOutcome(json::parse(toJson(o).dump()));
    ASSERT_TRUE(ob.ok()) << ob.error().message;
    EXPECT_TRUE(ob->duplicate);
    EXPECT_EQ(ob->state, CardState::Refused);
    EXPECT_EQ(ob->sequence, 18446744073709551615ull);

    Lease l{"lease-7", 23, 1000, 500, "krasnodar-01", at(2026, 1, 2, 3, 4, 5)};
    auto lb = parseLease(json::parse(toJson(l).dump()));
    ASSERT_TRUE(lb.ok()) << lb.error().message;
    EXPECT_EQ(lb->id, "lease-7");
    EXPECT_EQ(lb->firstSerial, 1000u);
    EXPECT_EQ(lb->count, 500u);
    EXPECT_EQ(lb->grantedAt, l.grantedAt);

    auto qb = parseLeaseRequest(toJson(LeaseRequest{89, 100000}));
    ASSERT_TRUE(qb.ok()) << qb.error().message;
    EXPECT_EQ(qb->region, 89);
    EXPECT_EQ(qb->count, 100000u);

    Lookup personal;
    personal.verdict = Lookup::Verdict::Suspended;
    personal.state = CardState::Suspended;
    personal.reason = "membership suspended";
    personal.memberId = "M-1";
    personal.fullName = "Петров П. П.";
    personal.organisationCode = 42;
    auto pb = parseLookup(json::parse(toJson(personal).dump()));
    ASSERT_TRUE(pb.ok()) << pb.error().message;
    EXPECT_EQ(pb->verdict, Lookup::Verdict::Suspended);
    EXPECT_EQ(pb->state, CardState::Suspended);
    EXPECT_EQ(pb->fullName, personal.fullName);
    EXPECT_EQ(pb->organisationCode, 42u);

    Lookup anonymous;
    anonymous.verdict = Lookup::Verdict::Unknown;
    anonymous.reason = "no such card";
    const json aj = toJson(anonymous);
    EXPECT_FALSE(aj.contains("state"));
    EXPECT_FALSE(aj.contains("full_name"));
    auto ab = parseLookup(aj);
    ASSERT_TRUE(ab.ok());
    EXPECT_FALSE(ab->state.has_value());
    EXPECT_FALSE(ab->memberId.has_value());

    std::vector<CheckIn> batch{sampleCheckIn(1), sampleCheckIn(2)};
    auto cb = parseCheckIns(json::parse(toJson(batch).dump()));
    ASSERT_TRUE(cb.ok()) << cb.error().message;
    ASSERT_EQ(cb->size(), 2u);
    EXPECT_EQ((*cb)[1].nonce, batch[1].nonce);
    EXPECT_EQ((*cb)[1].desk, "Стол 3");
    EXPECT_EQ((*cb)[1].at, batch[1].at);

    auto rb = parseCheckInReceipt(toJson(CheckInReceipt{3, 1}));
    ASSERT_TRUE(rb.ok());
    EXPECT_EQ(rb->recorded, 3u);
    EXPECT_EQ(rb->duplicates, 1u);

    auto eb = parseApiError(toJson(ApiError{"impossible_transition", "the card was revoked"}));
    ASSERT_TRUE(eb.ok());
    EXPECT_EQ(eb->code, "impossible_transition");
    EXPECT_EQ(eb->message, "the card was revoked");
}

// ---------------------------------------------------------------------------- the body

TEST(ApiBody, RefusesBodyOverTheCap) {
    const std::string body = eventJson().dump();
    expectError(api::parseBody(body, body.size() - 1), "too_large", std::to_string(body.size()));
    EXPECT_TRUE(api::parseBody(body, body.size()).ok());
}

TEST(ApiBody, RefusesMalformedJsonWithByteOffset) {
    expectError(api::parseBody(R"({"a": 1,, "b": 2})"), "malformed_json", "at byte 9");
    expectError(api::parseBody(""), "malformed_json", "at byte");
    expectError(api::parseBody(R"({"a": 1} x)"), "malformed_json", "at byte 10");
    expectError(api::parseBody(R"({"a": 1}{"b": 2})"), "malformed_json", "at byte");
    expectError(api::parseBody(R"({'a': 1})"), "malformed_json", "at byte");
    expectError(api::parseBody("{\"a\": 1 /* note */}"), "malformed_json", "at byte");
}

TEST(ApiBody, RefusesNanInfinityAndNumbersBeyondDouble) {
    // RFC 8259 §6: NaN and Infinity are not JSON numbers.
    for (const char* text : {R"({"region": NaN})", R"({"region": Infinity})",
                             R"({"region": -Infinity})", R"({"region": 1e400})",
                             R"({"region": -1e400})", R"({"region": 01})", R"({"region": +1})"}) {
        auto r = api::parseBody(text);
        ASSERT_FALSE(r.ok()) << text;
        EXPECT_EQ(r.error().code, "malformed_json") << text;
    }
}

TEST(ApiBody, RefusesDeepNestingWithoutBuildingIt) {
    // 100 000 levels would blow a recursive parser's stack; the builder stops at kMaxDepth.
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    expectError(api::parseBody(deep, 1 << 20), "malformed_json", "deeper than");
    const std::string deepObject = [] {
        std::string s;
        for (int i = 0; i < 5000; ++i)
            s += "{\"a\":";
        s += "1";
        s += std::string(5000, '}');
        return s;
    }();
    expectError(api::parseBody(deepObject), "malformed_json", "deeper than");
    // Exactly the limit is fine.
    const std::string atLimit = std::string(api::kMaxDepth, '[') + std::string(api::kMaxDepth, ']');
    EXPECT_TRUE(api::parseBody(atLimit).ok());
    const std::string overLimit =
        std::string(api::kMaxDepth + 1, '[') + std::string(api::kMaxDepth + 1, ']');
    EXPECT_FALSE(api::parseBody(overLimit).ok());
}

TEST(ApiBody, RefusesDuplicateKeysAtAnyDepth) {
    // nlohmann alone would keep the last "kind"; we refuse, so no two readers disagree.
    json j = eventJson();
    std::string text = j.dump();
    text.insert(1, R"("kind":"revoked",)");
    expectError(api::parseBody(text), "malformed_json", "'kind' appears twice");
    expectError(api::parseBody(R"({"check_ins": [{"a": 1, "a": 2}]})"), "malformed_json",
                "'a' appears twice");
    // The same key in two sibling objects is fine.
    EXPECT_TRUE(api::parseBody(R"([{"a": 1}, {"a": 2}])").ok());
}

TEST(ApiBody, RefusesInvalidUtf8InTheText) {
    for (std::string bad : {std::string("{\"full_name\": \"\xff\"}"),
                            std::string("{\"full_name\": \"\xc0\xaf\"}"),     // overlong '/'
                            std::string("{\"full_name\": \"\xed\xa0\x80\"}"), // surrogate
                            std::string("{\"full_name\": \"\xd0\"}"),         // cut short
                            std::string("{\"full_name\": \"\\ud800\"}"),      // lone escape
                            std::string("{\"full_name\": \"a\x01\"}")}) {     // raw control
        auto r = api::parseBody(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, "malformed_json");
    }
}

TEST(ApiBody, ArbitraryBytesNeverThrow) {
    // A cheap fuzz: mutate a valid body and feed every parser; nothing may throw or crash.
    const std::string base = eventJson().dump();
    std::mt19937 rng(20261122);
    int accepted = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string text = base;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits; ++k) {
            const std::size_t pos = rng() % text.size();
            switch (rng() % 3) {
            case 0:
                text[pos] = static_cast<char>(rng() % 256);
                break;
            case 1:
                text.erase(pos, 1);
                break;
            default:
                text.insert(pos, 1, "{}[]\",:\\0e-"[rng() % 11]);
                break;
            }
        }
        EXPECT_NO_THROW({
            auto body = api::parseBody(text);
            if (body) {
                accepted += parseStatusEvent(*body).ok();
                (void)parseApplication(*body);
                (void)parseLookup(*body);
                (void)parseCheckIns(*body);
            }
        });
    }
    RecordProperty("accepted", accepted);
}

// ---------------------------------------------------------------------------- field errors

TEST(ApiFields, UnknownFieldIsNamed) {
    json j = eventJson();
    j["colour"] = "blue";
    expectError(parseStatusEvent(j), "unknown_field", "'colour'");
    // A misspelling is reported as unknown, not as the missing correct name.
    json k = eventJson();
    k.erase("card_number");
    k["cardNumber"] = number(23, 1);
    expectError(parseStatusEvent(k), "unknown_field", "'cardNumber'");
}

TEST(ApiFields, UnknownFieldInANestedItemNamesItsPath) {
    json j = toJson(std::vector<CheckIn>{sampleCheckIn(0), sampleCheckIn(1)});
    j["check_ins"][1]["extra"] = 1;
    expectError(parseCheckIns(j), "unknown_field", "check_ins[1].extra");
}

TEST(ApiFields, MissingFieldIsNamed) {
    for (const char* field :
         {"idempotency_key", "kind", "card_number", "member_id", "station", "operator", "at"}) {
        json j = eventJson();
        j.erase(field);
        auto r = parseStatusEvent(j);
        ASSERT_FALSE(r.ok()) << field;
        expectError(r, "missing_field", std::string("'") + field + "'");
    }
    json j = eventJson();
    j["kind"] = nullptr; // null for a required field is missing
    expectError(parseStatusEvent(j), "missing_field", "'kind'");
}

TEST(ApiFields, EventSequenceAndReasonDefaultWhenAbsent) {
    json j = eventJson();
    j.erase("card_sequence");
    j.erase("reason");
    auto e = parseStatusEvent(j);
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->cardSequence, 1);
    EXPECT_EQ(e->reason, "");
}

TEST(ApiFields, OpenAnswersMayBeReadIgnoringUnknownFields) {
    json outcome = toJson(EventOutcome{false, CardState::Produced, 7});
    outcome["added_later"] = {{"x", 1}};
    expectError(parseEventOutcome(outcome), "unknown_field", "'added_later'");
    auto lenient = parseEventOutcome(outcome, UnknownFields::Ignore);
    ASSERT_TRUE(lenient.ok());
    EXPECT_EQ(lenient->sequence, 7u);
    json lookup = toJson(Lookup{Lookup::Verdict::Valid, CardState::HandedOver, "ok", {}, {}, {}});
    lookup["valid_until"] = "2030-01-01";
    EXPECT_TRUE(parseLookup(lookup, UnknownFields::Ignore).ok());
    // Known fields are still checked.
    lookup["verdict"] = "fine";
    expectError(parseLookup(lookup, UnknownFields::Ignore), "invalid_value", "'verdict'");
}

TEST(ApiFields, WrongTypeNamesFieldAndExpectedType) {
    json j = eventJson();
    j["card_sequence"] = "2";
    expectError(parseStatusEvent(j), "wrong_type", "'card_sequence' must be an integer");
    j = eventJson();
    j["card_sequence"] = 2.0; // a fractional number, even when whole
    expectError(parseStatusEvent(j), "wrong_type", "'card_sequence' must be an integer");
    j = eventJson();
    j["kind"] = 3;
    expectError(parseStatusEvent(j), "wrong_type", "'kind' must be a string");
    j = eventJson();
    j["at"] = json::array();
    expectError(parseStatusEvent(j), "wrong_type", "not an array");
    auto a = toJson(sampleApplication());
    a["consent"] = "yes";
    expectError(parseApplication(a), "wrong_type", "'consent' must be true or false");
    expectError(parseStatusEvent(json::array()), "wrong_type", "must be a JSON object");
    expectError(parseCheckIns(json{{"check_ins", json::object()}}), "wrong_type",
                "'check_ins' must be an array");
}

TEST(ApiFields, HugeIntegersAreOutOfRangeNotWrongType) {
    auto body = api::parseBody(R"({"region": 123456789012345678901234567890, "count": 1})");
    ASSERT_TRUE(body.ok()); // a valid JSON number, too big for 64 bits
    expectError(parseLeaseRequest(*body), "invalid_value", "'region' must be between");
    auto negative = api::parseBody(R"({"region": -5, "count": 1})");
    ASSERT_TRUE(negative.ok());
    expectError(parseLeaseRequest(*negative), "invalid_value", "'region'");
    auto outcome = api::parseBody(R"({"sequence": -1, "state": "produced", "duplicate": false})");
    ASSERT_TRUE(outcome.ok());
    expectError(parseEventOutcome(*outcome), "invalid_value", "'sequence'");
}

TEST(ApiFields, RangesAreChecked) {
    auto a = toJson(sampleApplication());
    a["region"] = 0;
    expectError(parseApplication(a), "invalid_value", "between 1 and 89");
    a["region"] = 90;
    expectError(parseApplication(a), "invalid_value", "between 1 and 89");
    a = toJson(sampleApplication());
    a["card_sequence"] = 0;
    expectError(parseApplication(a), "invalid_value", "'card_sequence'");
    a["card_sequence"] = 256;
    expectError(parseApplication(a), "invalid_value", "'card_sequence'");
    a["card_sequence"] = 255;
    EXPECT_TRUE(parseApplication(a).ok());

    expectError(parseLeaseRequest(json{{"region", 23}, {"count", 0}}), "invalid_value", "'count'");
    expectError(parseLeaseRequest(json{{"region", 23}, {"count", 100001}}), "invalid_value",
                "'count'");
    auto lease = toJson(Lease{"l", 23, card::CardNumber::kMaxSerial, 2, "st-1", {}});
    expectError(parseLease(lease), "invalid_value", "past the last serial");
}

TEST(ApiFields, CardNumbersAreCheckedAndNormalised) {
    json j = eventJson();
    const std::string digits = number(23, 12345);
    j["card_number"] = digits.substr(0, 4) + " " + digits.substr(4, 4) + "-" + digits.substr(8, 4) +
                       " " + digits.substr(12);
    auto r = parseStatusEvent(j);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->cardNumber, digits);

    std::string wrong = digits;
    wrong[15] = static_cast<char>('0' + (wrong[15] - '0' + 1) % 10);
    j["card_number"] = wrong;
    expectError(parseStatusEvent(j), "invalid_value", "'card_number'");
    j["card_number"] = "1234" + digits.substr(4);
    expectError(parseStatusEvent(j), "invalid_value", "'card_number'");
    j["card_number"] = std::string(100, ' ') + digits;
    expectError(parseStatusEvent(j), "invalid_value", "'card_number'");

    EXPECT_TRUE(parseCardNumberParam(digits).ok());
    expectError(parseCardNumberParam(digits.substr(0, 4) + " " + digits.substr(4)), "invalid_value",
                "16 digits");
    expectError(parseCardNumberParam(wrong), "invalid_value", "not a union card number");
}

TEST(ApiFields, KeysNoncesMemberAndStationIdsFollowTheirRules) {
    const auto eventWith = [](const char* field, json value) {
        json j = eventJson();
        j[field] = std::move(value);
        return parseStatusEvent(j);
    };
    EXPECT_TRUE(eventWith("idempotency_key", "abcdefgh").ok());
    EXPECT_TRUE(eventWith("idempotency_key", std::string(64, 'k')).ok());
    expectError(eventWith("idempotency_key", "abcdefg"), "invalid_value", "'idempotency_key'");
    expectError(eventWith("idempotency_key", std::string(65, 'k')), "invalid_value",
                "'idempotency_key'");
    expectError(eventWith("idempotency_key", "abcd efgh"), "invalid_value", "'idempotency_key'");
    expectError(eventWith("idempotency_key", "abcd/efgh"), "invalid_value", "'idempotency_key'");

    EXPECT_TRUE(eventWith("member_id", std::string(32, 'm')).ok());
    expectError(eventWith("member_id", std::string(33, 'm')), "invalid_value", "'member_id'");
    expectError(eventWith("member_id", "M 1"), "invalid_value", "'member_id'");
    expectError(eventWith("member_id", ""), "invalid_value", "'member_id'");
    expectError(eventWith("member_id", "Иван"), "invalid_value", "'member_id'");

    expectError(eventWith("station", "Krasnodar"), "invalid_value", "'station'");
    expectError(eventWith("station", "-st"), "invalid_value", "'station'");
    expectError(eventWith("kind", "delivered"), "invalid_value", "must be one of");

    json c = toJson(sampleCheckIn());
    c["nonce"] = std::string(15, 'n');
    expectError(parseCheckIn(c), "invalid_value", "'nonce'");
    c["nonce"] = std::string(16, 'n');
    EXPECT_TRUE(parseCheckIn(c).ok());
    c["nonce"] = std::string(65, 'n');
    expectError(parseCheckIn(c), "invalid_value", "'nonce'");

    EXPECT_TRUE(api::isValidIdempotencyKey("A_b-9xyz"));
    EXPECT_FALSE(api::isValidIdempotencyKey("A_b-9xy"));
    EXPECT_TRUE(api::isValidNonce("0123456789abcdef"));
    EXPECT_FALSE(api::isValidNonce("0123456789abcde"));
}

TEST(ApiFields, NamesAreBoundedCleanUtf8) {
    auto a = toJson(sampleApplication());
    std::string twoHundredBytes;
    for (int i = 0; i < 100; ++i)
        twoHundredBytes += "Ж"; // 2 bytes of UTF-8 each
    a["full_name"] = twoHundredBytes;
    EXPECT_TRUE(parseApplication(a).ok());
    a["full_name"] = a["full_name"].get<std::string>() + "a";
    expectError(parseApplication(a), "invalid_value", "at most 200 bytes");
    a["full_name"] = twoHundredBytes;
    // Organisation names in full are longer: up to 1,024 bytes.
    std::string longOrganisation;
    for (int i = 0; i < 512; ++i)
        longOrganisation += "Ш";
    a["organisation_name"] = longOrganisation;
    EXPECT_TRUE(parseApplication(a).ok());
    a["organisation_name"] = longOrganisation + "a";
    expectError(parseApplication(a), "invalid_value", "at most 1024 bytes");
    a["full_name"] = "";
    expectError(parseApplication(a), "invalid_value", "must not be empty");
    a["full_name"] = "Ivan\u0007";
    expectError(parseApplication(a), "invalid_value", "control characters");
    a["full_name"] = std::string("Ivan\0ov", 7); // "\u0000" in JSON text
    expectError(parseApplication(a), "invalid_value", "control characters");
    a["full_name"] = "Ivan\xc2\x85"; // U+0085, a C1 control
    expectError(parseApplication(a), "invalid_value", "control characters");
    // A value built in memory (not parsed from text) is checked too.
    a["full_name"] = "Ivan\xff";
    expectError(parseApplication(a), "invalid_value", "valid UTF-8");

    auto escaped = api::parseBody(R"({"error": "x", "message": "line\nbreak"})");
    ASSERT_TRUE(escaped.ok());
    expectError(parseApiError(*escaped), "invalid_value", "'message'");

    EXPECT_TRUE(api::isCleanText("Съезд профсоюза — 2026 🎉"));
    EXPECT_FALSE(api::isCleanText("\xf4\x90\x80\x80")); // beyond U+10FFFF
    EXPECT_FALSE(api::isCleanText("\xe0\x80\xaf"));     // overlong
}

TEST(ApiFields, CheckInBatchSizeIsBounded) {
    expectError(parseCheckIns(json{{"check_ins", json::array()}}), "invalid_value",
                "1 to 1000 items");
    std::vector<CheckIn> many;
    for (int i = 0; i < 1001; ++i)
        many.push_back(sampleCheckIn(i));
    expectError(parseCheckIns(toJson(many)), "invalid_value", "not 1001");
    many.pop_back();
    EXPECT_TRUE(parseCheckIns(toJson(many)).ok());
    json bad = toJson(std::vector<CheckIn>{sampleCheckIn(0), sampleCheckIn(1)});
    bad["check_ins"][1]["at"] = "yesterday";
    expectError(parseCheckIns(bad), "invalid_value", "'check_ins[1].at'");
}

// ---------------------------------------------------------------------------- times

TEST(ApiTime, ParsesRfc3339WithOffsetsAndFractions) {
    const Seconds want = at(2026, 11, 22, 10, 32, 0);
    EXPECT_EQ(api::parseTime("2026-11-22T10:32:00Z"), want);
    EXPECT_EQ(api::parseTime("2026-11-22t10:32:00z"), want); // RFC 3339 §5.6 NOTE
    EXPECT_EQ(api::parseTime("2026-11-22T13:32:00+03:00"), want);
    EXPECT_EQ(api::parseTime("2026-11-22T05:02:00-05:30"), want);
    EXPECT_EQ(api::parseTime("2026-11-22T10:32:00.999Z"), want); // fraction dropped
    EXPECT_EQ(api::parseTime("2026-11-22T10:32:00.123456789+00:00"), want);
    EXPECT_EQ(api::parseTime("2026-11-23T00:30:00+13:58"), at(2026, 11, 22, 10, 32, 0));
    EXPECT_EQ(api::parseTime("2024-02-29T00:00:00Z"), at(2024, 2, 29, 0, 0, 0));
    EXPECT_EQ(api::parseTime("2027-01-01T02:00:00+03:00"), at(2026, 12, 31, 23, 0, 0));
}

TEST(ApiTime, RefusesAnythingElse) {
    for (const char* text : {"",
                             "2026-11-22",
                             "2026-11-22T10:32:00",
                             "2026-11-22 10:32:00Z",
                             "2026-11-22T10:32Z",
                             "2026-11-22T10:32:00+0300",
                             "2026-11-22T10:32:00+03",
                             "2026-11-22T10:32:00.Z",
                             "2026-11-22T10:32:00.1234567890Z",
                             "2026-02-29T00:00:00Z",
                             "2026-13-01T00:00:00Z",
                             "2026-11-31T00:00:00Z",
                             "2026-11-22T24:00:00Z",
                             "2026-11-22T10:60:00Z",
                             "2026-11-22T23:59:60Z",
                             "2026-11-22T10:32:00+24:00",
                             " 2026-11-22T10:32:00Z",
                             "2026-11-22T10:32:00Z ",
                             "26-11-22T10:32:00Z",
                             "2026-1-22T10:32:00Z",
                             "2026-11-22T10:32:00ZZ",
                             "1764-11-22T10:32:00UTC",
                             "+2026-11-22T10:32:00Z"}) {
        EXPECT_FALSE(api::parseTime(text).has_value()) << text;
    }
}

TEST(ApiTime, FormatsUtcSeconds) {
    EXPECT_EQ(api::formatTime(at(2026, 11, 22, 10, 32, 0)), "2026-11-22T10:32:00Z");
    EXPECT_EQ(api::formatTime(at(1999, 1, 2, 3, 4, 5)), "1999-01-02T03:04:05Z");
    EXPECT_EQ(api::formatTime(Seconds{}), "1970-01-01T00:00:00Z");
    for (auto t : {at(2026, 11, 22, 10, 32, 0), at(2000, 2, 29, 23, 59, 59), Seconds{}})
        EXPECT_EQ(api::parseTime(api::formatTime(t)), t);
}

TEST(ApiFields, ApplicationBatchIsCheckedItemByItem) {
    json batch{{"applications", json::array({toJson(sampleApplication())})}};
    auto parsed = parseApplications(batch);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_EQ(parsed->front().memberId, "M-000123");
    expectError(parseApplications(json{{"applications", json::array()}}), "invalid_value",
                "1 to 1000 items");
    expectError(parseApplications(json{{"apps", json::array()}}), "unknown_field", "apps");
    batch["applications"][0]["region"] = 90;
    expectError(parseApplications(batch), "invalid_value", "applications[0].region");
}
