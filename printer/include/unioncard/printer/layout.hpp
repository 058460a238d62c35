// SPDX-License-Identifier: Apache-2.0
#pragma once

// A card-face layout as data (firmware-config/layouts/*.toml, docs/printing.md "Layouts"):
// the card's size and resolution, the fonts to load, and the elements of each face in drawing
// order. Qt-free: loading and checking a layout needs no renderer.

#include <unioncard/card/result.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::printer {

enum class Side { Front, Back };
std::string_view toString(Side side);

/// A box on the card in millimetres from the top-left corner, landscape.
struct BoxMm {
    double x = 0;
    double y = 0;
    double w = 0;
    double h = 0;
};

enum class ElementType { Rect, Image, Text, Photo, Qr };
enum class Align { Left, Center, Right };

/// One thing drawn on a face. Which members matter depends on the type.
struct Element {
    std::string id;
    ElementType type = ElementType::Rect;
    BoxMm box;
    std::string color = "#000000"; ///< text or QR modules, "#rrggbb"
    std::string fill;              ///< rect fill, "#rrggbb"
    std::string source;            ///< image: a file next to the layout (SVG or PNG)
    std::string field;             ///< photo, qr: the card field drawn
    // text
    std::string text; ///< static text with {field} placeholders
    std::string font;
    bool bold = false;
    double sizePt = 8;
    double minSizePt = 8;
    int maxLines = 1;
    Align align = Align::Left;
    // qr
    char ecc = 'M'; ///< L, M, Q or H (ISO/IEC 18004:2015 §4.3)
    int quietZoneModules = 4;
};

struct Layout {
    std::string name;
    std::filesystem::path directory; ///< where `source` files are found
    double widthMm = 85.60;
    double heightMm = 53.98;
    int dpi = 300;
    std::vector<std::string> fonts; ///< font file names, loaded by the renderer
    std::vector<Element> front;
    std::vector<Element> back;

    const std::vector<Element>& elements(Side side) const {
        return side == Side::Front ? front : back;
    }
    const Element* find(Side side, std::string_view id) const;
    /// The face in dots at the layout's resolution: round(mm / 25.4 * dpi).
    int widthPx() const;
    int heightPx() const;
};

enum class LayoutErrorCode { NotFound, Syntax, Invalid };
std::string_view toString(LayoutErrorCode code);

struct LayoutError {
    LayoutErrorCode code;
    std::string message;
};

/// The card fields a layout may bind ({full_name} ...); see card_fields.hpp.
bool isKnownField(std::string_view name);

/// Parses a layout from TOML text. `directory` is where its images are looked up. Checks every
/// element: known type and fields, boxes inside the card, sizes, colours, placeholders. Never
/// throws.
Result<Layout, LayoutError> parseLayout(std::string_view toml,
                                        const std::filesystem::path& directory,
                                        std::string name = "layout");
/// Reads and parses a layout file.
Result<Layout, LayoutError> loadLayout(const std::filesystem::path& file);

/// A layout named on the command line: a path to a .toml file, or a bare name looked up as
/// `<layoutsDir>/<name>.toml`.
std::filesystem::path resolveLayoutPath(std::string_view nameOrPath,
                                        const std::filesystem::path& layoutsDir);

} // namespace unioncard::printer
