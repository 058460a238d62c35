// SPDX-License-Identifier: Apache-2.0
// firmware-config/printers/*.toml: a printer, its connection and its encoder reader.

#include <unioncard/printer/evolis.hpp>
#include <unioncard/printer/printer_profile.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace unioncard::printer {

namespace fs = std::filesystem;

namespace {

using R = Result<PrinterProfile, std::string>;

template <class T>
bool read(const toml::table& t, std::string_view path, T& out, const fs::path& file,
          std::string& error) {
    auto node = t.at_path(path);
    if (!node) {
        return true; // optional: the default stays
    }
    auto value = node.value<T>();
    if (!value) {
        error = fmt::format("{}: `{}` has the wrong type", file.string(), path);
        return false;
    }
    out = *value;
    return true;
}

} // namespace

Result<PrinterProfile, std::string> loadPrinterProfile(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return fail(fmt::format("cannot read {}", file.string()));
    }
    std::stringstream text;
    text << in.rdbuf();
    toml::table t;
    try {
        t = toml::parse(text.str(), file.string());
    } catch (const toml::parse_error& e) {
        return fail(fmt::format("{}: not TOML: {}", file.string(), e.description()));
    }
    PrinterProfile p;
    p.id = file.stem().string();
    std::string error;
    std::int64_t low = static_cast<std::int64_t>(p.ribbonLowCards);
    std::int64_t dpi = p.dpi;
    std::int64_t width = p.widthDots;
    std::int64_t height = p.heightDots;
    if (!read(t, "model", p.model, file, error) || !read(t, "language", p.language, file, error) ||
        !read(t, "connection", p.connection, file, error) ||
        !read(t, "encoder.reader", p.encoderReader, file, error) ||
        !read(t, "encoder.serial", p.encoderSerial, file, error) ||
        !read(t, "ribbon.type", p.ribbon, file, error) ||
        !read(t, "ribbon.low_cards", low, file, error) ||
        !read(t, "card.size", p.cardSize, file, error) || !read(t, "card.dpi", dpi, file, error) ||
        !read(t, "card.width_dots", width, file, error) ||
        !read(t, "card.height_dots", height, file, error)) {
        return fail(error);
    }
    const auto where = file.string();
    if (p.model.empty()) {
        return fail(fmt::format("{}: `model` is missing", where));
    }
    if (p.language != "evolis") {
        return fail(fmt::format("{}: `language` is \"{}\"; the only printer language supported "
                                "is \"evolis\"",
                                where, p.language));
    }
    if (auto address = evolis::parsePrinterAddress(p.connection); !address) {
        return fail(fmt::format("{}: `connection`: {}", where, address.error()));
    }
    if (p.encoderReader.empty() == p.encoderSerial.empty()) {
        return fail(fmt::format("{}: name the encoder by exactly one of `encoder.reader` (its "
                                "PC/SC name) or `encoder.serial`",
                                where));
    }
    if (!evolis::ribbonLayout(p.ribbon)) {
        return fail(fmt::format("{}: `ribbon.type` \"{}\" is not one this driver prints with "
                                "(ymcko, ymckok, k)",
                                where, p.ribbon));
    }
    if (low < 0) {
        return fail(fmt::format("{}: `ribbon.low_cards` must not be negative", where));
    }
    p.ribbonLowCards = static_cast<std::uint64_t>(low);
    if (p.cardSize != "CR80") {
        return fail(
            fmt::format("{}: `card.size` \"{}\": only CR80 cards are printed", where, p.cardSize));
    }
    // Evolis printers print CR80 at 300 dpi on 1016 x 648 dots (guide A5013 p. 4).
    if (dpi != evolis::kFaceDpi || width != evolis::kFaceWidth || height != evolis::kFaceHeight) {
        return fail(fmt::format("{}: an Evolis printer prints CR80 cards at 300 dpi on 1016 x 648 "
                                "dots; the file says {} dpi, {} x {}",
                                where, dpi, width, height));
    }
    p.dpi = static_cast<int>(dpi);
    p.widthDots = static_cast<int>(width);
    p.heightDots = static_cast<int>(height);
    return p;
}

Result<std::vector<PrinterProfile>, std::string> loadPrinterProfiles(const fs::path& folder) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (entry.path().extension() == ".toml") {
            files.push_back(entry.path());
        }
    }
    if (ec) {
        return fail(fmt::format("cannot list {}: {}", folder.string(), ec.message()));
    }
    std::sort(files.begin(), files.end());
    std::vector<PrinterProfile> profiles;
    for (const auto& f : files) {
        auto p = loadPrinterProfile(f);
        if (!p) {
            return fail(p.error());
        }
        profiles.push_back(std::move(p).value());
    }
    return profiles;
}

} // namespace unioncard::printer
