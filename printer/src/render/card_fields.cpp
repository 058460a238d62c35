// SPDX-License-Identifier: Apache-2.0
// The fields JSON of `unioncard print` (docs/printing.md "Fields"). Untrusted input: parsed
// without exceptions, every value checked.

#include <unioncard/printer/card_fields.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>

namespace unioncard::printer {

namespace {

using R = Result<CardFields, FieldsError>;

// Long enough for the longest real names and organisation names (the registry's
// organisation names run to about 300 characters); longer is a mistake, not a name.
constexpr std::size_t kMaxTextBytes = 1024;
constexpr std::size_t kMaxQrBytes = 2048;

bool isLeapYear(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool isDate(const std::string& s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
        return false;
    }
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    const int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)),
              d = std::stoi(s.substr(8, 2));
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 2000 || m < 1 || m > 12 || d < 1) {
        return false;
    }
    return d <= kDays[m - 1] + (m == 2 && isLeapYear(y) ? 1 : 0);
}

bool hasControl(const std::string& s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
    }
    return false;
}

} // namespace

bool isQrAlphanumeric(std::string_view text) {
    constexpr std::string_view kSet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    for (char c : text) {
        if (kSet.find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

Result<CardFields, FieldsError> parseCardFields(std::string_view text) {
    const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return R(fail(FieldsError{FieldsErrorCode::NotJson, "the fields are not a JSON object"}));
    }
    for (const auto& [key, value] : j.items()) {
        if (key != "full_name" && key != "card_number" && key != "organisation" &&
            key != "region" && key != "valid_until" && key != "qr" && key != "photo") {
            return R(fail(FieldsError{
                FieldsErrorCode::Unknown,
                fmt::format("unknown field '{}': the fields are full_name, card_number, "
                            "organisation, region, valid_until, qr and photo",
                            key)}));
        }
        if (!value.is_string()) {
            return R(fail(FieldsError{FieldsErrorCode::Invalid,
                                      fmt::format("field '{}' must be a string", key)}));
        }
    }
    auto get = [&](const char* key, std::string& out, std::size_t max) -> std::optional<R> {
        const auto it = j.find(key);
        if (it == j.end() || it->get_ref<const std::string&>().empty()) {
            return R(fail(FieldsError{FieldsErrorCode::Missing,
                                      fmt::format("field '{}' is missing or empty", key)}));
        }
        out = it->get<std::string>();
        if (out.size() > max || hasControl(out)) {
            return R(fail(FieldsError{
                FieldsErrorCode::Invalid,
                fmt::format("field '{}' is longer than {} bytes or holds control characters", key,
                            max)}));
        }
        return std::nullopt;
    };
    CardFields f;
    for (auto [key, out] :
         {std::pair{"full_name", &f.fullName}, std::pair{"card_number", &f.cardNumber},
          std::pair{"organisation", &f.organisation}, std::pair{"region", &f.region},
          std::pair{"valid_until", &f.validUntil}}) {
        if (auto err = get(key, *out, kMaxTextBytes)) {
            return std::move(*err);
        }
    }
    if (auto err = get("qr", f.qr, kMaxQrBytes)) {
        return std::move(*err);
    }
    std::string digits;
    for (char c : f.cardNumber) {
        if (c == ' ') {
            continue;
        }
        if (!std::isdigit(static_cast<unsigned char>(c))) {
            digits.clear();
            break;
        }
        digits += c;
    }
    if (digits.size() != 16) {
        return R(fail(FieldsError{FieldsErrorCode::Invalid,
                                  fmt::format("card_number '{}' is not 16 digits", f.cardNumber)}));
    }
    f.cardNumber = digits;
    if (!isDate(f.validUntil)) {
        return R(fail(FieldsError{
            FieldsErrorCode::Invalid,
            fmt::format("valid_until '{}' is not a date written YYYY-MM-DD", f.validUntil)}));
    }
    if (!isQrAlphanumeric(f.qr)) {
        return R(fail(FieldsError{FieldsErrorCode::Invalid,
                                  "qr holds characters outside the QR alphanumeric set (0-9, A-Z, "
                                  "space, $%*+-./:): it must be the record's text form, UC1:..."}));
    }
    if (const auto it = j.find("photo"); it != j.end()) {
        const auto& p = it->get_ref<const std::string&>();
        if (!p.empty()) {
            if (hasControl(p)) {
                return R(fail(FieldsError{FieldsErrorCode::Invalid,
                                          "field 'photo' holds control characters"}));
            }
            f.photo = p;
        }
    }
    return f;
}

std::optional<std::string> printedField(const CardFields& f, std::string_view name) {
    if (name == "full_name") {
        return f.fullName;
    }
    if (name == "card_number") {
        std::string out;
        for (std::size_t i = 0; i < f.cardNumber.size(); ++i) {
            if (i > 0 && i % 4 == 0) {
                out += ' ';
            }
            out += f.cardNumber[i];
        }
        return out;
    }
    if (name == "organisation") {
        return f.organisation;
    }
    if (name == "region") {
        return f.region;
    }
    if (name == "valid_until") {
        // GOST R 7.0.97-2016 §5.26 (dates in Russian documents): DD.MM.YYYY.
        if (f.validUntil.size() == 10) {
            return fmt::format("{}.{}.{}", f.validUntil.substr(8, 2), f.validUntil.substr(5, 2),
                               f.validUntil.substr(0, 4));
        }
        return f.validUntil;
    }
    if (name == "qr") {
        return f.qr;
    }
    if (name == "photo") {
        return f.photo.value_or(std::string{});
    }
    return std::nullopt;
}

} // namespace unioncard::printer
