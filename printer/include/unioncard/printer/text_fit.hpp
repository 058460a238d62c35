// SPDX-License-Identifier: Apache-2.0
#pragma once

// How a text element's text is fitted into its box (docs/printing.md "Overflow rules"):
// 1. one line, shrinking from size_pt down to min_size_pt (one dot at a time);
// 2. then 2, 3 ... max_lines lines (word-wrapped at spaces and after hyphens), each time again
//    from size_pt down to min_size_pt;
// 3. last resort: min_size_pt, max_lines lines, the last one cut with "…", and `elided` set so
//    the caller can warn.
// Widths are measured as the ink's extent (advance and glyph bounding box, whichever is wider),
// so nothing drawn leaves the box. Part of the Qt renderer.

#include <unioncard/printer/layout.hpp>

#include <QFont>
#include <QRectF>
#include <QString>
#include <QStringList>

namespace unioncard::printer {

struct TextFit {
    QFont font;        ///< family, weight and pixel size at the face's resolution
    int pixelSize = 0; ///< the font's size in dots
    QStringList lines; ///< the lines as drawn
    bool elided = false;
    /// False only when even one line at min_size_pt is taller than the box, or the box is too
    /// narrow for "…": the layout's fault, refused when the layout is checked.
    bool fits = true;
};

/// The element's box in dots at `dpi`.
QRectF boxInDots(const BoxMm& box, int dpi);
/// The element's font at `pixelSize` dots, unhinted, so that metrics scale with the size.
QFont elementFont(const Element& element, int pixelSize);
/// A point size in dots at `dpi`, rounded.
int pointsToDots(double points, int dpi);

/// The ink width of `line` in `font`: the wider of its advance and its glyphs' bounding box.
double inkWidth(const QFont& font, const QString& line);
/// The height `lines` lines take: ascent + descent of the first, plus a line spacing for each
/// further line.
double blockHeight(const QFont& font, int lines);

/// Fits `text` into the element's box at `dpi` by the rule above.
TextFit fitText(const QString& text, const Element& element, int dpi);

} // namespace unioncard::printer
