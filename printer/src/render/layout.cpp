// SPDX-License-Identifier: Apache-2.0
// Card-face layouts from TOML (docs/printing.md "Layouts"). Every check a printed card could
// fail later (a box off the card, a font size a printer cannot hold, an unknown field) is made
// here, when the layout is loaded, so that a station finds out before it wastes a card.

#include <unioncard/printer/layout.hpp>

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace unioncard::printer {

namespace {

using R = Result<Layout, LayoutError>;

constexpr std::array kFields = {"full_name",   "card_number", "organisation", "region",
                                "valid_until", "qr",          "photo"};

Failure<LayoutError> invalid(std::string message) {
    return fail(LayoutError{LayoutErrorCode::Invalid, std::move(message)});
}

bool isColour(const std::string& s) {
    if (s.size() != 7 || s[0] != '#') {
        return false;
    }
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

// The {names} a text uses; false if a brace is unbalanced.
bool placeholders(const std::string& text, std::vector<std::string>& names) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto open = text.find_first_of("{}", pos);
        if (open == std::string::npos) {
            return true;
        }
        if (text[open] == '}') {
            return false;
        }
        const auto close = text.find_first_of("{}", open + 1);
        if (close == std::string::npos || text[close] == '{') {
            return false;
        }
        names.push_back(text.substr(open + 1, close - open - 1));
        pos = close + 1;
    }
    return true;
}

std::optional<double> number(const toml::table& t, std::string_view key) {
    if (auto v = t[key].value<double>()) {
        return v;
    }
    if (auto v = t[key].value<std::int64_t>()) {
        return static_cast<double>(*v);
    }
    return std::nullopt;
}

Result<Element, LayoutError> parseElement(const toml::table& t, const std::string& where,
                                          const Layout& layout) {
    using E = Result<Element, LayoutError>;
    Element e;
    e.id = t["id"].value_or(std::string{});
    if (e.id.empty()) {
        return E(invalid(fmt::format("{}: every element needs an id", where)));
    }
    const std::string at = fmt::format("{} '{}'", where, e.id);
    const std::string type = t["type"].value_or(std::string{});
    if (type == "rect") {
        e.type = ElementType::Rect;
    } else if (type == "image") {
        e.type = ElementType::Image;
    } else if (type == "text") {
        e.type = ElementType::Text;
    } else if (type == "photo") {
        e.type = ElementType::Photo;
    } else if (type == "qr") {
        e.type = ElementType::Qr;
    } else {
        return E(invalid(
            fmt::format("{}: type '{}' is not one of rect, image, text, photo, qr", at, type)));
    }
    const auto x = number(t, "x_mm"), y = number(t, "y_mm"), w = number(t, "w_mm"),
               h = number(t, "h_mm");
    if (!x || !y || !w || !h) {
        return E(invalid(fmt::format("{}: x_mm, y_mm, w_mm and h_mm are all needed", at)));
    }
    e.box = {*x, *y, *w, *h};
    // A box may touch the card's edges but not leave it; 0.01 mm of slack for decimal input.
    constexpr double kSlack = 0.01;
    if (*w <= 0 || *h <= 0 || *x < -kSlack || *y < -kSlack || *x + *w > layout.widthMm + kSlack ||
        *y + *h > layout.heightMm + kSlack) {
        return E(invalid(fmt::format("{}: the box {}x{} mm at ({}, {}) is not inside the {}x{} mm "
                                     "card",
                                     at, *w, *h, *x, *y, layout.widthMm, layout.heightMm)));
    }
    e.color = t["color"].value_or(std::string{"#000000"});
    if (!isColour(e.color)) {
        return E(invalid(fmt::format("{}: colour '{}' is not #rrggbb", at, e.color)));
    }
    switch (e.type) {
    case ElementType::Rect:
        e.fill = t["fill"].value_or(std::string{});
        if (!isColour(e.fill)) {
            return E(invalid(fmt::format("{}: a rect needs fill = \"#rrggbb\"", at)));
        }
        break;
    case ElementType::Image:
        e.source = t["source"].value_or(std::string{});
        if (e.source.empty() || e.source.find('/') != std::string::npos ||
            e.source.find('\\') != std::string::npos) {
            return E(invalid(fmt::format(
                "{}: source must name a file in the layout's folder, without a path", at)));
        }
        break;
    case ElementType::Photo:
    case ElementType::Qr:
        e.field = t["field"].value_or(std::string{});
        if (e.type == ElementType::Photo && e.field != "photo") {
            return E(invalid(fmt::format("{}: a photo element draws field = \"photo\"", at)));
        }
        if (e.type == ElementType::Qr) {
            if (e.field != "qr") {
                return E(invalid(fmt::format("{}: a qr element draws field = \"qr\"", at)));
            }
            const std::string ecc = t["ecc"].value_or(std::string{"M"});
            if (ecc.size() != 1 || std::string_view("LMQH").find(ecc[0]) == std::string::npos) {
                return E(invalid(fmt::format("{}: ecc must be L, M, Q or H", at)));
            }
            e.ecc = ecc[0];
            e.quietZoneModules = static_cast<int>(t["quiet_zone_modules"].value_or(4));
            // ISO/IEC 18004:2015 §9.1: the quiet zone is at least 4 modules wide.
            if (e.quietZoneModules < 4 || e.quietZoneModules > 10) {
                return E(invalid(fmt::format("{}: quiet_zone_modules must be 4 to 10", at)));
            }
            if (std::abs(e.box.w - e.box.h) > 0.01) {
                return E(invalid(fmt::format("{}: a QR box must be square", at)));
            }
        }
        break;
    case ElementType::Text: {
        e.text = t["text"].value_or(std::string{});
        e.font = t["font"].value_or(std::string{});
        e.bold = t["bold"].value_or(false);
        e.sizePt = number(t, "size_pt").value_or(0);
        e.minSizePt = number(t, "min_size_pt").value_or(e.sizePt);
        e.maxLines = static_cast<int>(t["max_lines"].value_or(1));
        const std::string align = t["align"].value_or(std::string{"left"});
        if (e.text.empty() || e.font.empty()) {
            return E(invalid(fmt::format("{}: a text needs text and font", at)));
        }
        // Below 4 pt a thermal printer's 300 dpi no longer draws Cyrillic legibly.
        if (e.sizePt < 4 || e.sizePt > 72 || e.minSizePt < 4 || e.minSizePt > e.sizePt) {
            return E(invalid(fmt::format(
                "{}: size_pt and min_size_pt must be 4 to 72 pt, min_size_pt <= size_pt", at)));
        }
        if (e.maxLines < 1 || e.maxLines > 8) {
            return E(invalid(fmt::format("{}: max_lines must be 1 to 8", at)));
        }
        if (align == "left") {
            e.align = Align::Left;
        } else if (align == "center") {
            e.align = Align::Center;
        } else if (align == "right") {
            e.align = Align::Right;
        } else {
            return E(invalid(fmt::format("{}: align must be left, center or right", at)));
        }
        std::vector<std::string> names;
        if (!placeholders(e.text, names)) {
            return E(invalid(fmt::format("{}: unbalanced {{ }} in its text", at)));
        }
        for (const auto& n : names) {
            if (!isKnownField(n) || n == "qr" || n == "photo") {
                return E(invalid(fmt::format("{}: {{{}}} is not a field a text can show", at, n)));
            }
        }
        // One line at the smallest size must fit the box's height (about 1.17 em for DejaVu:
        // ascent 0.928 + descent 0.236 em, DejaVu's OS/2 table); the renderer checks the real
        // metrics again when it loads the font.
        const double lineMm = e.minSizePt / 72.0 * 25.4 * 1.17;
        if (lineMm > e.box.h + 1e-6) {
            return E(invalid(fmt::format("{}: one line at {} pt needs {:.1f} mm, the box is {} mm "
                                         "high",
                                         at, e.minSizePt, lineMm, e.box.h)));
        }
        break;
    }
    }
    return e;
}

Result<std::vector<Element>, LayoutError> parseFace(const toml::table& root, std::string_view key,
                                                    const Layout& layout) {
    using E = Result<std::vector<Element>, LayoutError>;
    const auto* arr = root[key].as_array();
    if (!arr || arr->empty()) {
        return E(invalid(fmt::format("the layout has no [[{}]] elements", key)));
    }
    std::vector<Element> out;
    std::set<std::string> ids;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto* t = (*arr)[i].as_table();
        const std::string where = fmt::format("[[{}]] #{}", key, i + 1);
        if (!t) {
            return E(invalid(where + ": not a table"));
        }
        auto e = parseElement(*t, where, layout);
        if (!e) {
            return E(fail(e.error()));
        }
        if (!ids.insert(e->id).second) {
            return E(invalid(fmt::format("{}: id '{}' is used twice", where, e->id)));
        }
        out.push_back(std::move(e).value());
    }
    return out;
}

} // namespace

std::string_view toString(Side side) {
    return side == Side::Front ? "front" : "back";
}

std::string_view toString(LayoutErrorCode code) {
    switch (code) {
    case LayoutErrorCode::NotFound:
        return "layout_not_found";
    case LayoutErrorCode::Syntax:
        return "layout_syntax";
    case LayoutErrorCode::Invalid:
        return "layout_invalid";
    }
    return "layout_invalid";
}

bool isKnownField(std::string_view name) {
    for (const char* f : kFields) {
        if (name == f) {
            return true;
        }
    }
    return false;
}

const Element* Layout::find(Side side, std::string_view id) const {
    for (const auto& e : elements(side)) {
        if (e.id == id) {
            return &e;
        }
    }
    return nullptr;
}

int Layout::widthPx() const {
    return static_cast<int>(std::lround(widthMm / 25.4 * dpi));
}

int Layout::heightPx() const {
    return static_cast<int>(std::lround(heightMm / 25.4 * dpi));
}

Result<Layout, LayoutError> parseLayout(std::string_view text,
                                        const std::filesystem::path& directory, std::string name) {
    toml::table root;
    try {
        root = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return R(fail(LayoutError{LayoutErrorCode::Syntax,
                                  fmt::format("{}: line {}, column {}: {}", name, where.line,
                                              where.column, e.description())}));
    }
    Layout layout;
    layout.name = std::move(name);
    layout.directory = directory;
    const auto* card = root["card"].as_table();
    if (!card) {
        return R(invalid(layout.name + ": the [card] table is missing"));
    }
    layout.widthMm = number(*card, "width_mm").value_or(0);
    layout.heightMm = number(*card, "height_mm").value_or(0);
    layout.dpi = static_cast<int>((*card)["dpi"].value_or(0));
    if (layout.widthMm < 10 || layout.widthMm > 300 || layout.heightMm < 10 ||
        layout.heightMm > 300) {
        return R(invalid(layout.name + ": [card] width_mm and height_mm must be 10 to 300 mm"));
    }
    if (layout.dpi < 72 || layout.dpi > 1200) {
        return R(invalid(layout.name + ": [card] dpi must be 72 to 1200"));
    }
    if (const auto* fonts = (*card)["fonts"].as_array()) {
        for (const auto& f : *fonts) {
            auto s = f.value<std::string>();
            if (!s || s->empty() || s->find('/') != std::string::npos) {
                return R(invalid(layout.name + ": [card] fonts lists font file names (no paths)"));
            }
            layout.fonts.push_back(*s);
        }
    }
    if (layout.fonts.empty()) {
        return R(invalid(layout.name + ": [card] fonts must name at least one font file"));
    }
    for (auto [key, side] : {std::pair{"front", Side::Front}, std::pair{"back", Side::Back}}) {
        auto face = parseFace(root, key, layout);
        if (!face) {
            return R(fail(LayoutError{face.error().code,
                                      fmt::format("{}: {}", layout.name, face.error().message)}));
        }
        (side == Side::Front ? layout.front : layout.back) = std::move(face).value();
    }
    return layout;
}

Result<Layout, LayoutError> loadLayout(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return R(fail(LayoutError{
            LayoutErrorCode::NotFound,
            fmt::format("layout {} cannot be read: check the name (firmware-config/layouts/)",
                        file.string())}));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parseLayout(text.str(), file.parent_path(), file.filename().string());
}

std::filesystem::path resolveLayoutPath(std::string_view nameOrPath,
                                        const std::filesystem::path& layoutsDir) {
    const std::filesystem::path p{std::string(nameOrPath)};
    if (p.has_parent_path() || p.extension() == ".toml") {
        return p;
    }
    return layoutsDir / (std::string(nameOrPath) + ".toml");
}

} // namespace unioncard::printer
