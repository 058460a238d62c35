// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/keys.hpp>
#include <unioncard/registry/api.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace unioncard::registry {
namespace {

using nlohmann::json;

ApiError makeError(std::string code, std::string message) {
    return ApiError{std::move(code), std::move(message)};
}

// ----------------------------------------------------------------------------------------------
// The body: a SAX handler that builds the document itself, so that it can stop at a duplicate key
// or at excessive depth before building anything more, and learn the byte offset of a syntax
// error, all without exceptions (nlohmann reports errors to the handler rather than throwing when
// sax_parse is used).

class StrictBuilder {
public:
    bool null() { return put(json(nullptr)); }
    bool boolean(bool value) { return put(json(value)); }
    bool number_integer(json::number_integer_t value) { return put(json(value)); }
    bool number_unsigned(json::number_unsigned_t value) { return put(json(value)); }
    bool number_float(json::number_float_t value, const json::string_t& /*text*/) {
        return put(json(value));
    }
    bool string(json::string_t& value) { return put(json(std::move(value))); }
    bool binary(json::binary_t& /*value*/) {
        // Only CBOR/MessagePack inputs produce binary values; JSON text never does.
        m_problem = "binary values are not JSON";
        return false;
    }
    bool start_object(std::size_t /*elements*/) { return open(json::object()); }
    bool key(json::string_t& name) {
        json& object = *m_stack.back();
        if (object.contains(name)) {
            m_problem = fmt::format("the key '{}' appears twice in one object", printable(name));
            return false;
        }
        m_slot = &object[name];
        return true;
    }
    bool end_object() {
        m_stack.pop_back();
        return true;
    }
    bool start_array(std::size_t /*elements*/) { return open(json::array()); }
    bool end_array() {
        m_stack.pop_back();
        return true;
    }
    bool parse_error(std::size_t position, const std::string& /*lastToken*/,
                     const nlohmann::detail::exception& error) {
        std::string what = error.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> the words.
        if (const auto close = what.find("] "); close != std::string::npos)
            what.erase(0, close + 2);
        m_problem = fmt::format("at byte {}: {}", position, what);
        return false;
    }

    json takeRoot() { return std::move(m_root); }
    const std::string& problem() const { return m_problem; }

    // Key names are echoed in messages; keep them short and printable.
    static std::string printable(std::string_view text) {
        std::string out;
        for (char c : text.substr(0, 64))
            out += (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) ? c : '?';
        if (text.size() > 64)
            out += "...";
        return out;
    }

private:
    bool open(json&& container) {
        if (m_stack.size() >= api::kMaxDepth) {
            m_problem = fmt::format("values nest deeper than {} levels", api::kMaxDepth);
            return false;
        }
        json* placed = place(std::move(container));
        m_stack.push_back(placed);
        return true;
    }
    bool put(json&& value) {
        place(std::move(value));
        return true;
    }
    // Pointers on m_stack stay valid: a container only grows while it is the top of the stack
    // (an array's earlier elements are complete and no longer referenced; objects are maps).
    json* place(json&& value) {
        if (m_stack.empty()) {
            m_root = std::move(value);
            return &m_root;
        }
        json& top = *m_stack.back();
        if (top.is_array()) {
            top.push_back(std::move(value));
            return &top.back();
        }
        *m_slot = std::move(value);
        return m_slot;
    }

    json m_root;
    std::vector<json*> m_stack;
    json* m_slot = nullptr;
    std::string m_problem;
};

// ----------------------------------------------------------------------------------------------
// Field rules.

bool isIdentifierChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

bool isIdentifier(std::string_view text, std::size_t min, std::size_t max) {
    return text.size() >= min && text.size() <= max &&
           std::all_of(text.begin(), text.end(), isIdentifierChar);
}

// Printable ASCII without the space: ids that travel in URLs, logs and card records.
bool isPrintableToken(std::string_view text, std::size_t min, std::size_t max) {
    return text.size() >= min && text.size() <= max &&
           std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// What a JSON value is, for "wrong_type" messages.
std::string_view typeName(const json& value) {
    switch (value.type()) {
    case json::value_t::null:
        return "null";
    case json::value_t::object:
        return "an object";
    case json::value_t::array:
        return "an array";
    case json::value_t::string:
        return "a string";
    case json::value_t::boolean:
        return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
        return "an integer";
    case json::value_t::number_float:
        return "a fractional number";
    case json::value_t::binary:
        return "binary";
    case json::value_t::discarded:
        return "nothing";
    }
    return "?";
}

ApiError wrongType(const std::string& field, std::string_view expected, const json& value) {
    return makeError("wrong_type", fmt::format("field '{}' must be {}, not {}", field, expected,
                                               typeName(value)));
}

ApiError invalidValue(const std::string& field, std::string_view why) {
    return makeError("invalid_value", fmt::format("field '{}' {}", field, why));
}

template <class T> using Converted = Result<T, ApiError>;

// Integers: nlohmann stores non-negative numbers as unsigned, negative ones as signed, and any
// number with a fraction, an exponent or too many digits as a double.
template <class T> auto asInteger(T min, T max) {
    return [min, max](const json& value, const std::string& field) -> Converted<T> {
        const auto range = [&] {
            return invalidValue(field, fmt::format("must be between {} and {}", min, max));
        };
        if (value.is_number_unsigned()) {
            const auto v = *value.get_ptr<const json::number_unsigned_t*>();
            if (v > static_cast<std::uint64_t>(max) ||
                (min > 0 && v < static_cast<std::uint64_t>(min)))
                return fail(range());
            return static_cast<T>(v);
        }
        if (value.is_number_integer()) {
            const auto v = *value.get_ptr<const json::number_integer_t*>();
            if (v < static_cast<std::int64_t>(min) ||
                (v >= 0 && static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(max)))
                return fail(range());
            return static_cast<T>(v);
        }
        if (value.is_number_float()) {
            // A whole number too large for 64 bits arrives as a double: out of range, not a type
            // mistake. 3.0 or 2.5 for an integer field is a type mistake.
            const double v = *value.get_ptr<const json::number_float_t*>();
            if (std::isfinite(v) && std::trunc(v) == v &&
                (v < static_cast<double>(min) || v > static_cast<double>(max)))
                return fail(range());
        }
        return fail(wrongType(field, "an integer", value));
    };
}

auto asBool() {
    return [](const json& value, const std::string& field) -> Converted<bool> {
        if (!value.is_boolean())
            return fail(wrongType(field, "true or false", value));
        return *value.get_ptr<const json::boolean_t*>();
    };
}

const std::string* stringOf(const json& value) {
    return value.get_ptr<const std::string*>();
}

// People's text: names, reasons, desks.
auto asText(std::size_t minBytes, std::size_t maxBytes) {
    return [=](const json& value, const std::string& field) -> Converted<std::string> {
        const std::string* text = stringOf(value);
        if (!text)
            return fail(wrongType(field, "a string", value));
        if (text->size() < minBytes)
            return fail(invalidValue(field, minBytes == 1 ? "must not be empty"
                                                          : fmt::format("must have at least {} "
                                                                        "bytes",
                                                                        minBytes)));
        if (text->size() > maxBytes)
            return fail(invalidValue(field, fmt::format("must be at most {} bytes of UTF-8, not {}",
                                                        maxBytes, text->size())));
        if (!api::isCleanText(*text))
            return fail(invalidValue(field, "must be valid UTF-8 text without control characters"));
        return *text;
    };
}

auto asToken(std::size_t min, std::size_t max) {
    return [=](const json& value, const std::string& field) -> Converted<std::string> {
        const std::string* text = stringOf(value);
        if (!text)
            return fail(wrongType(field, "a string", value));
        if (!isPrintableToken(*text, min, max))
            return fail(invalidValue(
                field, fmt::format("must be {} to {} printable ASCII characters without spaces",
                                   min, max)));
        return *text;
    };
}

auto asIdentifier(std::size_t min, std::size_t max) {
    return [=](const json& value, const std::string& field) -> Converted<std::string> {
        const std::string* text = stringOf(value);
        if (!text)
            return fail(wrongType(field, "a string", value));
        if (!isIdentifier(*text, min, max))
            return fail(invalidValue(
                field, fmt::format("must be {} to {} of the characters A-Z, a-z, 0-9, '_' and '-'",
                                   min, max)));
        return *text;
    };
}

auto asMemberId() {
    return [](const json& value, const std::string& field) -> Converted<std::string> {
        const std::string* text = stringOf(value);
        if (!text)
            return fail(wrongType(field, "a string", value));
        if (!api::isValidMemberId(*text))
            return fail(
                invalidValue(field, "must be 1 to 32 printable ASCII characters without spaces"));
        return *text;
    };
}

auto asStation() {
    return [](const json& value, const std::string& field) -> Converted<std::string> {
        const std::string* text = stringOf(value);
        if (!text)
            return fail(wrongType(field, "a string", value));
        if (!card::isValidStationId(*text))
            return fail(invalidValue(field, "must be a station id: 1 to 32 of a-z, 0-9 and '-', "
                                            "not starting with '-'"));
        return *text;
    };
}

auto asCardNumber(const card::NumberScheme& scheme) {
    return [&scheme](const json& value, const std::string& field) -> Converted<std::string> {
        const std::string* text = stringOf(value);
        if (!text)
            return fail(wrongType(field, "a string", value));
        // CardNumber::parse allows the blanks and dashes a person types; bound the length first so
        // a megabyte of blanks is not "a number".
        if (text->size() > 40)
            return fail(invalidValue(field, "is not a card number: far too long"));
        auto number = card::CardNumber::parse(*text, scheme);
        if (!number)
            return fail(invalidValue(
                field, fmt::format("is not a union card number: {}", number.error().message)));
        return number->digits();
    };
}

auto asTime() {
    return [](const json& value, const std::string& field) -> Converted<Seconds> {
        const std::string* text = stringOf(value);
        if (!text)
            return fail(wrongType(field, "a string", value));
        auto at = api::parseTime(*text);
        if (!at)
            return fail(invalidValue(field, "must be an RFC 3339 date-time such as "
                                            "\"2026-11-22T10:32:00Z\""));
        return *at;
    };
}

// Enums by their wire names (model.cpp's tables are the only spelling).
template <class E> auto asEnum(std::optional<E> (*parse)(std::string_view), std::string names) {
    return [parse, names = std::move(names)](const json& value,
                                             const std::string& field) -> Converted<E> {
        const std::string* text = stringOf(value);
        if (!text)
            return fail(wrongType(field, "a string", value));
        auto parsed = parse(*text);
        if (!parsed)
            return fail(invalidValue(field, fmt::format("must be one of {}", names)));
        return *parsed;
    };
}

std::optional<Lookup::Verdict> parseVerdict(std::string_view text) {
    for (auto v : {Lookup::Verdict::Valid, Lookup::Verdict::Suspended, Lookup::Verdict::Revoked,
                   Lookup::Verdict::Unknown, Lookup::Verdict::NotValid})
        if (toString(v) == text)
            return v;
    return std::nullopt;
}

constexpr const char* kCardStateNames =
    "produced, handed_over, refused, suspended, spoiled, lost, revoked, replaced";
constexpr const char* kEventKindNames = "produced, handed_over, refused, spoiled, lost, revoked, "
                                        "replaced, suspended, reinstated";

// Reads one object's fields; after the first error every call does nothing, so a parse function
// is a list of fields and one check at the end.
class Reader {
public:
    Reader(const json& value, std::string what, std::string path,
           std::initializer_list<std::string_view> known,
           UnknownFields unknown = UnknownFields::Refuse)
        : m_value(value), m_path(std::move(path)) {
        if (!value.is_object()) {
            m_error = makeError("wrong_type", fmt::format("{} must be a JSON object, not {}",
                                                          describe(what), typeName(value)));
            return;
        }
        if (unknown == UnknownFields::Ignore)
            return;
        // Unknown fields first: a misspelt name would otherwise show up as "missing".
        for (const auto& item : value.items()) {
            if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
                m_error = makeError("unknown_field",
                                    fmt::format("unknown field '{}' in {}",
                                                fieldPath(StrictBuilder::printable(item.key())),
                                                describe(what)));
                return;
            }
        }
    }

    template <class T, class Convert> void required(std::string_view key, T& out, Convert convert) {
        if (m_error)
            return;
        const auto it = m_value.find(key);
        if (it == m_value.end() || it->is_null()) {
            m_error =
                makeError("missing_field", fmt::format("field '{}' is required", fieldPath(key)));
            return;
        }
        assign(*it, key, out, convert);
    }

    template <class T, class Convert>
    void optional(std::string_view key, std::optional<T>& out, Convert convert) {
        if (m_error)
            return;
        const auto it = m_value.find(key);
        if (it == m_value.end() || it->is_null()) {
            out.reset();
            return;
        }
        T value{};
        assign(*it, key, value, convert);
        if (!m_error)
            out = std::move(value);
    }

    const json& raw(std::string_view key) const { return *m_value.find(key); }
    bool has(std::string_view key) const {
        const auto it = m_value.find(key);
        return it != m_value.end() && !it->is_null();
    }
    void setError(ApiError error) {
        if (!m_error)
            m_error = std::move(error);
    }
    bool failed() const { return m_error.has_value(); }
    const ApiError& error() const { return *m_error; }
    std::string fieldPath(std::string_view key) const { return m_path + std::string(key); }

private:
    std::string describe(const std::string& what) const {
        if (m_path.empty())
            return "the " + what;
        return fmt::format("the {} at '{}'", what, m_path.substr(0, m_path.size() - 1));
    }

    template <class T, class Convert>
    void assign(const json& value, std::string_view key, T& out, Convert& convert) {
        auto converted = convert(value, fieldPath(key));
        if (!converted)
            m_error = converted.error();
        else
            out = std::move(converted).value();
    }

    const json& m_value;
    std::string m_path;
    std::optional<ApiError> m_error;
};

template <class T> Result<T, ApiError> finish(const Reader& reader, T value) {
    if (reader.failed())
        return fail(reader.error());
    return value;
}

int regionMin(const card::NumberScheme& scheme) {
    return scheme.regionMin;
}
int regionMax(const card::NumberScheme& scheme) {
    return scheme.regionMax;
}

Result<Application, ApiError> readApplication(const json& value, const card::NumberScheme& scheme,
                                              std::string path) {
    Reader r(value, "application", std::move(path),
             {"id", "member_id", "full_name", "region", "organisation_code", "organisation_name",
              "category", "reason", "consent", "card_sequence", "card_number", "created_at"});
    Application a;
    r.required("id", a.id, asToken(1, 64));
    r.required("member_id", a.memberId, asMemberId());
    r.required("full_name", a.fullName, asText(1, api::kMaxNameBytes));
    r.required("region", a.region, asInteger<int>(regionMin(scheme), regionMax(scheme)));
    r.required("organisation_code", a.organisationCode,
               asInteger<std::uint32_t>(0, std::numeric_limits<std::uint32_t>::max()));
    // May be empty: a CSV import's organisation_name column is optional.
    r.required("organisation_name", a.organisationName, asText(0, api::kMaxOrganisationNameBytes));
    r.required("category", a.category,
               asEnum<MemberCategory>(parseMemberCategory, "working, student, pensioner, unknown"));
    r.required("reason", a.reason,
               asEnum<ApplicationReason>(parseApplicationReason, "first_card, replacement, lost"));
    r.required("consent", a.consent, asBool());
    r.required("card_sequence", a.cardSequence, asInteger<int>(1, 255));
    r.optional("card_number", a.cardNumber, asCardNumber(scheme));
    r.required("created_at", a.createdAt, asTime());
    return finish(r, std::move(a));
}

Result<CheckIn, ApiError> readCheckIn(const json& value, const card::NumberScheme& scheme,
                                      std::string path) {
    Reader r(value, "check-in", std::move(path),
             {"nonce", "event_id", "desk", "card_number", "at"});
    CheckIn c;
    r.required("nonce", c.nonce, asIdentifier(16, 64));
    r.required("event_id", c.eventId, asToken(1, 64));
    r.required("desk", c.desk, asText(1, api::kMaxNameBytes));
    r.required("card_number", c.cardNumber, asCardNumber(scheme));
    r.required("at", c.at, asTime());
    return finish(r, std::move(c));
}

// A JSON array field: its type and size, then each element with its index in the path.
template <class T, class ReadOne>
void readArray(Reader& r, std::string_view key, std::size_t min, std::size_t max,
               std::vector<T>& out, ReadOne readOne) {
    if (r.failed())
        return;
    if (!r.has(key)) {
        r.setError(
            makeError("missing_field", fmt::format("field '{}' is required", r.fieldPath(key))));
        return;
    }
    const json& items = r.raw(key);
    if (!items.is_array()) {
        r.setError(wrongType(r.fieldPath(key), "an array", items));
        return;
    }
    if (items.size() < min || items.size() > max) {
        r.setError(invalidValue(r.fieldPath(key), fmt::format("must hold {} to {} items, not {}",
                                                              min, max, items.size())));
        return;
    }
    out.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        auto item = readOne(items[i], fmt::format("{}[{}].", r.fieldPath(key), i));
        if (!item) {
            r.setError(item.error());
            return;
        }
        out.push_back(std::move(item).value());
    }
}

// RFC 3339 §5.6 pieces.
bool digitsAt(std::string_view text, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size())
        return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (text[i] - '0');
    }
    out = v;
    return true;
}

} // namespace

// ------------------------------------------------------------------------------------------------

namespace api {

Result<nlohmann::json, ApiError> parseBody(std::string_view body, std::size_t maxBytes) {
    if (body.size() > maxBytes)
        return fail(makeError("too_large", fmt::format("the body has {} bytes; at most {} are "
                                                       "accepted",
                                                       body.size(), maxBytes)));
    StrictBuilder builder;
    // strict = true: nothing but white space may follow the value (RFC 8259 §2).
    const bool parsed = json::sax_parse(body.begin(), body.end(), &builder,
                                        json::input_format_t::json, /*strict=*/true,
                                        /*ignore_comments=*/false);
    if (!parsed)
        return fail(makeError("malformed_json",
                              fmt::format("the body is not valid JSON: {}", builder.problem())));
    return builder.takeRoot();
}

std::string formatTime(Seconds at) {
    const auto day = std::chrono::floor<std::chrono::days>(at);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{at - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::optional<Seconds> parseTime(std::string_view text) {
    // date-fullyear "-" date-month "-" date-mday "T" time-hour ":" time-minute ":" time-second
    // [time-secfrac] time-offset   (RFC 3339 §5.6; "T" and "Z" may be lower case, §5.6 NOTE)
    if (text.size() < 20 || text.size() > 64)
        return std::nullopt;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digitsAt(text, 0, 4, year) || text[4] != '-' || !digitsAt(text, 5, 2, month) ||
        text[7] != '-' || !digitsAt(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
        !digitsAt(text, 11, 2, hour) || text[13] != ':' || !digitsAt(text, 14, 2, minute) ||
        text[16] != ':' || !digitsAt(text, 17, 2, second))
        return std::nullopt;
    std::size_t pos = 19;
    if (text[pos] == '.') {
        const std::size_t start = ++pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
            ++pos;
        if (pos == start || pos - start > 9) // at least one digit; nanoseconds at most
            return std::nullopt;
    }
    if (pos >= text.size())
        return std::nullopt;
    int offsetMinutes = 0;
    if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
        int oh = 0, om = 0;
        if (!digitsAt(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
            !digitsAt(text, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offsetMinutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size())
        return std::nullopt;
    if (hour > 23 || minute > 59 || second > 59) // :60 (a leap second) has no sys_seconds value
        return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{year},
                                          std::chrono::month{static_cast<unsigned>(month)},
                                          std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok())
        return std::nullopt;
    return std::chrono::sys_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
           std::chrono::seconds{second} - std::chrono::minutes{offsetMinutes};
}

bool isValidIdempotencyKey(std::string_view key) {
    return isIdentifier(key, 8, 64);
}
bool isValidNonce(std::string_view nonce) {
    return isIdentifier(nonce, 16, 64);
}
bool isValidMemberId(std::string_view id) {
    return isPrintableToken(id, 1, 32);
}

bool isCleanText(std::string_view text) {
    // RFC 3629 §4 well-formed UTF-8, decoding each code point to refuse controls.
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) {
        return static_cast<unsigned char>(text[k]);
    };
    while (i < text.size()) {
        const unsigned char b0 = byte(i);
        std::uint32_t cp = 0;
        std::size_t length = 0;
        if (b0 < 0x80) {
            cp = b0;
            length = 1;
        } else if (b0 >= 0xC2 && b0 <= 0xDF) {
            cp = b0 & 0x1F;
            length = 2;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            cp = b0 & 0x0F;
            length = 3;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            cp = b0 & 0x07;
            length = 4;
        } else {
            return false; // continuation byte first, C0/C1 overlong leads, F5..FF
        }
        if (i + length > text.size())
            return false;
        for (std::size_t k = 1; k < length; ++k) {
            if ((byte(i + k) & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (byte(i + k) & 0x3F);
        }
        if ((length == 3 && cp < 0x800) || (length == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false; // overlong or beyond Unicode
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return false; // UTF-16 surrogates are not characters
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            return false; // C0, DEL, C1 controls
        i += length;
    }
    return true;
}

} // namespace api

// ------------------------------------------------------------------------------------------------
// Model -> JSON

nlohmann::json toJson(const Application& a) {
    json j = {{"id", a.id},
              {"member_id", a.memberId},
              {"full_name", a.fullName},
              {"region", a.region},
              {"organisation_code", a.organisationCode},
              {"organisation_name", a.organisationName},
              {"category", toString(a.category)},
              {"reason", toString(a.reason)},
              {"consent", a.consent},
              {"card_sequence", a.cardSequence},
              {"created_at", api::formatTime(a.createdAt)}};
    if (a.cardNumber)
        j["card_number"] = *a.cardNumber;
    return j;
}

nlohmann::json toJson(const ApplicationPage& page) {
    json items = json::array();
    for (const auto& a : page.items)
        items.push_back(toJson(a));
    return {{"items", std::move(items)}, {"next_cursor", page.nextCursor}};
}

nlohmann::json toJson(const StatusEvent& e) {
    json j = {{"idempotency_key", e.idempotencyKey},
              {"kind", toString(e.kind)},
              {"card_number", e.cardNumber},
              {"member_id", e.memberId},
              {"station", e.station},
              {"operator", e.operatorId},
              {"at", api::formatTime(e.at)},
              {"card_sequence", e.cardSequence},
              {"reason", e.reason}};
    if (e.applicationId)
        j["application_id"] = *e.applicationId;
    return j;
}

nlohmann::json toJson(const EventOutcome& o) {
    return {{"sequence", o.sequence}, {"state", toString(o.state)}, {"duplicate", o.duplicate}};
}

nlohmann::json toJson(const Lease& l) {
    return {
        {"id", l.id},       {"region", l.region},   {"first_serial", l.firstSerial},
        {"count", l.count}, {"station", l.station}, {"granted_at", api::formatTime(l.grantedAt)}};
}

nlohmann::json toJson(const LeaseRequest& r) {
    return {{"region", r.region}, {"count", r.count}};
}

nlohmann::json toJson(const Lookup& l) {
    json j = {{"verdict", toString(l.verdict)}, {"reason", l.reason}};
    if (l.state)
        j["state"] = toString(*l.state);
    if (l.memberId)
        j["member_id"] = *l.memberId;
    if (l.fullName)
        j["full_name"] = *l.fullName;
    if (l.organisationCode)
        j["organisation_code"] = *l.organisationCode;
    return j;
}

nlohmann::json toJson(const CheckIn& c) {
    return {{"nonce", c.nonce},
            {"event_id", c.eventId},
            {"desk", c.desk},
            {"card_number", c.cardNumber},
            {"at", api::formatTime(c.at)}};
}

nlohmann::json toJson(const std::vector<CheckIn>& checkIns) {
    json items = json::array();
    for (const auto& c : checkIns)
        items.push_back(toJson(c));
    return {{"check_ins", std::move(items)}};
}

nlohmann::json toJson(const CheckInReceipt& r) {
    return {{"recorded", r.recorded}, {"duplicates", r.duplicates}};
}

nlohmann::json toJson(const ApiError& e) {
    return {{"error", e.code}, {"message", e.message}};
}

// ------------------------------------------------------------------------------------------------
// JSON -> model

Result<Application, ApiError> parseApplication(const nlohmann::json& json,
                                               const card::NumberScheme& scheme) {
    return readApplication(json, scheme, "");
}

Result<std::vector<Application>, ApiError> parseApplications(const nlohmann::json& json,
                                                             const card::NumberScheme& scheme) {
    Reader r(json, "application batch", "", {"applications"});
    std::vector<Application> applications;
    readArray(r, "applications", 1, api::kMaxApplicationsPerBatch, applications,
              [&](const nlohmann::json& item, std::string path) {
                  return readApplication(item, scheme, std::move(path));
              });
    return finish(r, std::move(applications));
}

Result<ApplicationPage, ApiError> parseApplicationPage(const nlohmann::json& json,
                                                       const card::NumberScheme& scheme) {
    Reader r(json, "application page", "", {"items", "next_cursor"});
    ApplicationPage page;
    readArray(r, "items", 0, 1000, page.items, [&](const nlohmann::json& item, std::string path) {
        return readApplication(item, scheme, std::move(path));
    });
    // The cursor is opaque to the client; it travels back in a query string.
    r.required("next_cursor", page.nextCursor, [](const nlohmann::json& v, const std::string& f) {
        const std::string* text = stringOf(v);
        if (!text)
            return Converted<std::string>(fail(wrongType(f, "a string", v)));
        if (!text->empty() && !isIdentifier(*text, 1, 512))
            return Converted<std::string>(
                fail(invalidValue(f, "must be empty or up to 512 of A-Z, a-z, 0-9, '_' and '-'")));
        return Converted<std::string>(*text);
    });
    return finish(r, std::move(page));
}

Result<StatusEvent, ApiError> parseStatusEvent(const nlohmann::json& json,
                                               const card::NumberScheme& scheme) {
    Reader r(json, "event", "",
             {"idempotency_key", "kind", "card_number", "member_id", "station", "operator", "at",
              "application_id", "card_sequence", "reason"});
    StatusEvent e;
    r.required("idempotency_key", e.idempotencyKey, asIdentifier(8, 64));
    r.required("kind", e.kind, asEnum<EventKind>(parseEventKind, kEventKindNames));
    r.required("card_number", e.cardNumber, asCardNumber(scheme));
    r.required("member_id", e.memberId, asMemberId());
    r.required("station", e.station, asStation());
    r.required("operator", e.operatorId, asText(1, api::kMaxNameBytes));
    r.required("at", e.at, asTime());
    r.optional("application_id", e.applicationId, asToken(1, 64));
    // Optional (docs/registry-api.yaml): a sequence only matters for "produced", a reason only for
    // refusals and spoilage.
    std::optional<int> sequence;
    r.optional("card_sequence", sequence, asInteger<int>(1, 255));
    e.cardSequence = sequence.value_or(1);
    std::optional<std::string> reason;
    r.optional("reason", reason, asText(0, api::kMaxReasonBytes));
    e.reason = reason.value_or("");
    return finish(r, std::move(e));
}

Result<EventOutcome, ApiError> parseEventOutcome(const nlohmann::json& json,
                                                 UnknownFields unknown) {
    Reader r(json, "event outcome", "", {"sequence", "state", "duplicate"}, unknown);
    EventOutcome o;
    r.required("sequence", o.sequence,
               asInteger<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()));
    r.required("state", o.state, asEnum<CardState>(parseCardState, kCardStateNames));
    r.required("duplicate", o.duplicate, asBool());
    return finish(r, o);
}

Result<Lease, ApiError> parseLease(const nlohmann::json& json, const card::NumberScheme& scheme,
                                   UnknownFields unknown) {
    Reader r(json, "lease", "", {"id", "region", "first_serial", "count", "station", "granted_at"},
             unknown);
    Lease l;
    r.required("id", l.id, asToken(1, 64));
    r.required("region", l.region, asInteger<int>(regionMin(scheme), regionMax(scheme)));
    r.required("first_serial", l.firstSerial,
               asInteger<std::uint64_t>(0, card::CardNumber::kMaxSerial));
    r.required("count", l.count, asInteger<std::uint32_t>(1, api::kMaxLeaseCount));
    r.required("station", l.station, asStation());
    r.required("granted_at", l.grantedAt, asTime());
    if (!r.failed() && l.firstSerial + l.count - 1 > card::CardNumber::kMaxSerial)
        r.setError(invalidValue("count", "runs past the last serial 999999999"));
    return finish(r, std::move(l));
}

Result<LeaseRequest, ApiError> parseLeaseRequest(const nlohmann::json& json,
                                                 const card::NumberScheme& scheme) {
    Reader r(json, "lease request", "", {"region", "count"});
    LeaseRequest q;
    r.required("region", q.region, asInteger<int>(regionMin(scheme), regionMax(scheme)));
    r.required("count", q.count, asInteger<std::uint32_t>(1, api::kMaxLeaseCount));
    return finish(r, q);
}

Result<Lookup, ApiError> parseLookup(const nlohmann::json& json, UnknownFields unknown) {
    Reader r(json, "lookup", "",
             {"verdict", "state", "reason", "member_id", "full_name", "organisation_code"},
             unknown);
    Lookup l;
    r.required(
        "verdict", l.verdict,
        asEnum<Lookup::Verdict>(parseVerdict, "valid, suspended, revoked, unknown, not_valid"));
    r.optional("state", l.state, asEnum<CardState>(parseCardState, kCardStateNames));
    r.required("reason", l.reason, asText(0, api::kMaxReasonBytes));
    r.optional("member_id", l.memberId, asMemberId());
    r.optional("full_name", l.fullName, asText(1, api::kMaxNameBytes));
    r.optional("organisation_code", l.organisationCode,
               asInteger<std::uint32_t>(0, std::numeric_limits<std::uint32_t>::max()));
    return finish(r, std::move(l));
}

Result<CheckIn, ApiError> parseCheckIn(const nlohmann::json& json,
                                       const card::NumberScheme& scheme) {
    return readCheckIn(json, scheme, "");
}

Result<std::vector<CheckIn>, ApiError> parseCheckIns(const nlohmann::json& json,
                                                     const card::NumberScheme& scheme) {
    Reader r(json, "check-in batch", "", {"check_ins"});
    std::vector<CheckIn> checkIns;
    readArray(r, "check_ins", 1, api::kMaxCheckInsPerBatch, checkIns,
              [&](const nlohmann::json& item, std::string path) {
                  return readCheckIn(item, scheme, std::move(path));
              });
    return finish(r, std::move(checkIns));
}

Result<CheckInReceipt, ApiError> parseCheckInReceipt(const nlohmann::json& json,
                                                     UnknownFields unknown) {
    Reader r(json, "check-in receipt", "", {"recorded", "duplicates"}, unknown);
    CheckInReceipt c;
    r.required("recorded", c.recorded, asInteger<std::uint32_t>(0, api::kMaxCheckInsPerBatch));
    r.required("duplicates", c.duplicates, asInteger<std::uint32_t>(0, api::kMaxCheckInsPerBatch));
    return finish(r, c);
}

Result<ApiError, ApiError> parseApiError(const nlohmann::json& json, UnknownFields unknown) {
    Reader r(json, "error", "", {"error", "message"}, unknown);
    ApiError e;
    r.required("error", e.code, asIdentifier(1, 64));
    r.required("message", e.message, asText(0, api::kMaxReasonBytes));
    return finish(r, std::move(e));
}

Result<card::CardNumber, ApiError> parseCardNumberParam(std::string_view text,
                                                        const card::NumberScheme& scheme) {
    if (text.size() != card::CardNumber::kDigits ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail(makeError("invalid_value", "the card number must be exactly 16 digits"));
    auto number = card::CardNumber::parse(text, scheme);
    if (!number)
        return fail(makeError("invalid_value",
                              fmt::format("not a union card number: {}", number.error().message)));
    return std::move(number).value();
}

} // namespace unioncard::registry
