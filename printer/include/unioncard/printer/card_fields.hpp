// SPDX-License-Identifier: Apache-2.0
#pragma once

// The values printed on a card face, as the station hands them to the renderer (the --fields
// JSON of `unioncard print`, docs/printing.md "Fields"). The printer module does not link
// cardlib: the QR's text arrives ready ("UC1:" + Base45 of the signed record), and the card
// number's check digit is the caller's business.

#include <unioncard/card/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace unioncard::printer {

struct CardFields {
    std::string fullName;             ///< "Фамилия Имя Отчество", UTF-8
    std::string cardNumber;           ///< 16 digits, no spaces
    std::string organisation;         ///< the primary organisation's name
    std::string region;               ///< the regional organisation's name
    std::string validUntil;           ///< YYYY-MM-DD
    std::string qr;                   ///< the QR's text: QR alphanumeric characters only
    std::optional<std::string> photo; ///< a path to an image, if the card carries a photo
};

enum class FieldsErrorCode { NotJson, Missing, Invalid, Unknown };

struct FieldsError {
    FieldsErrorCode code;
    std::string message;
};

/// Parses the fields JSON: {"full_name", "card_number", "organisation", "region",
/// "valid_until", "qr", "photo"?}. Spaces in the card number are dropped. Unknown keys are
/// refused (a typo must not print a card without its region). Never throws.
Result<CardFields, FieldsError> parseCardFields(std::string_view json);

/// A field as printed, by its layout name: card_number grouped by four ("9643 2300 0001 2341"),
/// valid_until as DD.MM.YYYY, the others as given. nullopt for an unknown name.
std::optional<std::string> printedField(const CardFields& fields, std::string_view name);

/// True when every character is in the QR alphanumeric set (ISO/IEC 18004:2015 §7.4.4,
/// Table 5): 0-9, A-Z, space and $ % * + - . / :
bool isQrAlphanumeric(std::string_view text);

} // namespace unioncard::printer
