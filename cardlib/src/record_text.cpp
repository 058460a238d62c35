// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/record_text.hpp>

#include <fmt/format.h>

#include <array>

namespace unioncard::card {
namespace {

// RFC 9285 §4, table 1.
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

int valueOf(char c) {
    const auto at = kAlphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

std::string describe(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7F ? fmt::format("'{}'", c)
                                       : fmt::format("byte 0x{:02X}", byte);
}

} // namespace

std::string base45Encode(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve((bytes.size() / 2) * 3 + 2);
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        unsigned n = bytes[i] * 256u + bytes[i + 1];
        out += kAlphabet[n % 45];
        n /= 45;
        out += kAlphabet[n % 45];
        out += kAlphabet[n / 45];
    }
    if (i < bytes.size()) {
        const unsigned n = bytes[i];
        out += kAlphabet[n % 45];
        out += kAlphabet[n / 45];
    }
    return out;
}

Result<Bytes, std::string> base45Decode(std::string_view text) {
    if (text.size() % 3 == 1) {
        return fail(fmt::format("Base45 text of {} characters: one character is left over, so "
                                "it was cut short",
                                text.size()));
    }
    Bytes out;
    out.reserve(text.size() / 3 * 2 + 1);
    for (std::size_t i = 0; i < text.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, text.size() - i);
        unsigned value = 0;
        unsigned weight = 1;
        for (std::size_t k = 0; k < n; ++k) {
            const int v = valueOf(text[i + k]);
            if (v < 0) {
                return fail(fmt::format("Base45 text has {} at position {}, which is not in "
                                        "its alphabet",
                                        describe(text[i + k]), i + k + 1));
            }
            value += static_cast<unsigned>(v) * weight;
            weight *= 45;
        }
        if ((n == 3 && value > 0xFFFF) || (n == 2 && value > 0xFF)) {
            return fail(fmt::format("Base45 text at position {} holds {}, too large for {} "
                                    "byte(s)",
                                    i + 1, value, n - 1));
        }
        if (n == 3) {
            out.push_back(static_cast<std::uint8_t>(value >> 8));
        }
        out.push_back(static_cast<std::uint8_t>(value & 0xFF));
    }
    return out;
}

std::string recordToText(std::span<const std::uint8_t> record) {
    return std::string(kRecordTextPrefix) + base45Encode(record);
}

Result<Bytes, std::string> recordFromText(std::string_view text) {
    // Scanners may add a line end; nothing else is forgiven.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    if (text.substr(0, kRecordTextPrefix.size()) != kRecordTextPrefix) {
        return fail(std::string("not a union card code: it does not start with \"UC1:\""));
    }
    text.remove_prefix(kRecordTextPrefix.size());
    // Base45 takes 3 characters per 2 bytes; a record is at most kMaxRecordSize bytes.
    if (text.size() > (kMaxRecordSize / 2) * 3 + 2) {
        return fail(fmt::format("the code holds {} characters, more than any union card record",
                                text.size()));
    }
    if (text.empty()) {
        return fail(std::string("the code holds no record after \"UC1:\""));
    }
    return base45Decode(text);
}

} // namespace unioncard::card
