// SPDX-License-Identifier: Apache-2.0
// QR symbols through libqrencode, forced into one alphanumeric segment: the record's text form
// is Base45 (RFC 9285 §4), whose alphabet is exactly the QR alphanumeric set, so 11 bits carry
// two characters (ISO/IEC 18004:2015 §7.4.4) instead of 16 in byte mode.

#include <unioncard/printer/card_fields.hpp>
#include <unioncard/printer/qr.hpp>

#include <fmt/format.h>

#include <memory>
#include <qrencode.h>

namespace unioncard::printer {

Result<QrSymbol, std::string> encodeQrAlphanumeric(std::string_view text, char ecc) {
    using R = Result<QrSymbol, std::string>;
    if (text.empty()) {
        return R(fail(std::string("the QR's text is empty")));
    }
    if (!isQrAlphanumeric(text)) {
        return R(fail(std::string("the QR's text holds characters outside the alphanumeric set")));
    }
    QRecLevel level = QR_ECLEVEL_M;
    switch (ecc) {
    case 'L':
        level = QR_ECLEVEL_L;
        break;
    case 'M':
        level = QR_ECLEVEL_M;
        break;
    case 'Q':
        level = QR_ECLEVEL_Q;
        break;
    case 'H':
        level = QR_ECLEVEL_H;
        break;
    default:
        return R(fail(fmt::format("'{}' is not a QR error correction level (L, M, Q, H)", ecc)));
    }
    // Version 0: libqrencode picks the smallest version that holds the data.
    std::unique_ptr<QRinput, decltype(&QRinput_free)> input(QRinput_new2(0, level), QRinput_free);
    if (!input) {
        return R(fail(std::string("libqrencode could not start a symbol (out of memory)")));
    }
    if (QRinput_append(input.get(), QR_MODE_AN, static_cast<int>(text.size()),
                       reinterpret_cast<const unsigned char*>(text.data())) != 0) {
        return R(fail(std::string("libqrencode refused the text for alphanumeric mode")));
    }
    std::unique_ptr<QRcode, decltype(&QRcode_free)> code(QRcode_encodeInput(input.get()),
                                                         QRcode_free);
    if (!code) {
        return R(fail(fmt::format("{} characters do not fit a QR code at level {} (version 40 "
                                  "holds at most 3391 at level M)",
                                  text.size(), ecc)));
    }
    QrSymbol s;
    s.version = code->version;
    s.size = code->width;
    s.dark.resize(static_cast<std::size_t>(s.size) * static_cast<std::size_t>(s.size));
    for (std::size_t i = 0; i < s.dark.size(); ++i) {
        // libqrencode's qrencode.h: bit 0 of each byte is the module's colour (1 = dark).
        s.dark[i] = (code->data[i] & 1) != 0;
    }
    return s;
}

} // namespace unioncard::printer
