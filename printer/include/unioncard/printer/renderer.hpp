// SPDX-License-Identifier: Apache-2.0
#pragma once

// Draws a card's faces from a layout and the card's fields with Qt (offscreen QPainter on a
// QImage): PNG for the on-screen preview and the card printers' drivers (as a Raster), PDF for
// IPP printers. Fonts are loaded from files (fonts-dejavu-core) so every station draws the same.
//
// Qt needs a QGuiApplication: CardRenderer::create makes one (QT_QPA_PLATFORM=offscreen unless
// set) if the program has none. Call it from the main thread.

#include <unioncard/card/result.hpp>
#include <unioncard/printer/card_fields.hpp>
#include <unioncard/printer/layout.hpp>
#include <unioncard/printer/raster.hpp>

#include <QImage>

class QPainter;

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace unioncard::printer {

/// Where Debian's fonts-dejavu-core puts its files; UNIONCARD_FONT_DIR overrides it.
inline constexpr const char* kDefaultFontDir = "/usr/share/fonts/truetype/dejavu";

enum class RenderErrorCode {
    FontMissing,  ///< a font file the layout names is not installed
    ImageMissing, ///< the layout's artwork or the member's photo cannot be read
    BadField,     ///< a field cannot be drawn (the QR's text, a placeholder)
    QrTooDense,   ///< the QR's modules would be under 2 dots: the box is too small
    Encode,       ///< PNG or PDF could not be written
    NoDisplay,    ///< Qt could not start its (offscreen) platform
};
std::string_view toString(RenderErrorCode code);

struct RenderError {
    RenderErrorCode code;
    std::string message;
};

/// A text that had to be cut with "…" (the overflow rule's last resort).
struct FitWarning {
    Side side = Side::Front;
    std::string element; ///< the layout element's id
    std::string text;    ///< what should have been printed
    std::string drawn;   ///< what was printed, lines joined with " / "
};

struct RenderedFace {
    QImage image; ///< RGB888 at the layout's dpi, layout.widthPx() x layout.heightPx()
    std::vector<FitWarning> warnings;
};

struct RenderedCard {
    QImage front;
    QImage back;
    std::vector<FitWarning> warnings;
};

/// The card as a PDF for IPP printers: one page per face (front, back), each exactly the card's
/// size (the layout's width_mm x height_mm, landscape). Text and the QR are vector graphics
/// (DejaVu embedded), artwork and photo are images at the layout's dpi.
struct RenderedPdf {
    std::vector<std::uint8_t> pdf;
    std::vector<FitWarning> warnings;
};

struct RendererOptions {
    /// Where the layout's font files are; empty: $UNIONCARD_FONT_DIR or kDefaultFontDir.
    std::filesystem::path fontDir;
    /// Leave out elements by id (the overflow tests draw one element at a time).
    std::vector<std::string> skipElements;
};

class CardRenderer {
public:
    /// Loads the layout's fonts and artwork. Fails with a message that names the missing file
    /// and what to install.
    static Result<CardRenderer, RenderError> create(Layout layout, RendererOptions options = {});

    const Layout& layout() const { return m_layout; }

    Result<RenderedFace, RenderError> render(Side side, const CardFields& fields) const;
    Result<RenderedCard, RenderError> renderCard(const CardFields& fields) const;
    /// The same faces drawn by the same code into a PDF (QPdfWriter).
    Result<RenderedPdf, RenderError> renderPdf(const CardFields& fields) const;

private:
    CardRenderer(Layout layout, RendererOptions options);
    std::optional<RenderError> paint(QPainter& painter, Side side, const CardFields& fields,
                                     std::vector<FitWarning>& warnings) const;

    Layout m_layout;
    RendererOptions m_options;
    std::map<std::string, QImage> m_artwork; ///< image elements, drawn at their box size
};

/// Qt wants a private runtime folder (XDG_RUNTIME_DIR) and warns without one, which a service or
/// a shell over ssh may not have: sets it to an owner-only folder under the temporary directory
/// if it is unset. Call before the QGuiApplication is made.
void ensureQtRuntimeDir();

/// Pixels for the drivers (raster.hpp): RGB, row-major, no padding.
Raster toRaster(const QImage& image, int dpi);
/// PNG bytes, with the face's resolution recorded (pHYs).
Result<std::vector<std::uint8_t>, RenderError> encodePng(const QImage& image);
/// Both faces on one image for the screen: front above back on a grey ground.
QImage previewImage(const RenderedCard& card);

} // namespace unioncard::printer
