// SPDX-License-Identifier: Apache-2.0
// The overflow rule (text_fit.hpp, docs/printing.md "Overflow rules"): shrink, then wrap, then
// cut with an ellipsis, and never draw outside the box.

#include <unioncard/printer/text_fit.hpp>

#include <QFontMetricsF>
#include <algorithm>
#include <cmath>

namespace unioncard::printer {

namespace {

// A place where a line may end: after a space (dropped at the break) or after a hyphen (kept).
struct Piece {
    QString text;
    bool spaceBefore = false;
};

// "№ 1234" must not be split between the sign and its number; non-breaking spaces are kept.
QString protectNumberSign(QString text) {
    text.replace(QStringLiteral("№ "), QStringLiteral("№\u00A0"));
    return text;
}

std::vector<Piece> pieces(const QString& text) {
    std::vector<Piece> out;
    const QStringList words = text.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (const QString& word : words) {
        bool first = true;
        qsizetype start = 0;
        for (qsizetype i = 0; i < word.size(); ++i) {
            // A hyphen inside a word (double surnames: "Римская-Корсакова") is a break point;
            // one at either end is not.
            if (word[i] == QLatin1Char('-') && i > 0 && i + 1 < word.size()) {
                out.push_back({word.mid(start, i + 1 - start), first});
                first = false;
                start = i + 1;
            }
        }
        out.push_back({word.mid(start), first});
    }
    if (!out.empty()) {
        out.front().spaceBefore = false;
    }
    return out;
}

QString join(const QString& line, const Piece& p) {
    if (line.isEmpty()) {
        return p.text;
    }
    return p.spaceBefore ? line + QLatin1Char(' ') + p.text : line + p.text;
}

// Greedy wrapping: as much on each line as fits. Empty if some piece alone is too wide or more
// than maxLines lines are needed.
QStringList wrap(const std::vector<Piece>& ps, const QFont& font, double width, int maxLines) {
    QStringList lines;
    QString line;
    for (const Piece& p : ps) {
        const QString longer = join(line, p);
        if (inkWidth(font, longer) <= width) {
            line = longer;
            continue;
        }
        if (line.isEmpty() || inkWidth(font, p.text) > width) {
            return {};
        }
        lines << line;
        line = p.text;
        if (lines.size() >= maxLines) {
            return {};
        }
    }
    if (!line.isEmpty()) {
        lines << line;
    }
    return lines;
}

// Cuts `text` with "…" until its ink fits `width`.
QString elide(const QFont& font, const QString& text, double width) {
    const QFontMetricsF fm(font);
    QString out = fm.elidedText(text, Qt::ElideRight, width);
    // elidedText measures advances; the ink of the last glyph may reach further.
    while (!out.isEmpty() && inkWidth(font, out) > width) {
        QString shorter = out;
        if (shorter.endsWith(QChar(0x2026))) {
            shorter.chop(1);
        }
        shorter.chop(1);
        out = shorter.trimmed() + QChar(0x2026);
        if (shorter.isEmpty()) {
            out = inkWidth(font, QString(QChar(0x2026))) <= width ? QString(QChar(0x2026))
                                                                  : QString();
            break;
        }
    }
    return out;
}

} // namespace

QRectF boxInDots(const BoxMm& box, int dpi) {
    const double k = dpi / 25.4;
    return {box.x * k, box.y * k, box.w * k, box.h * k};
}

int pointsToDots(double points, int dpi) {
    return static_cast<int>(std::lround(points * dpi / 72.0));
}

QFont elementFont(const Element& element, int pixelSize) {
    QFont font(QString::fromStdString(element.font));
    font.setPixelSize(std::max(1, pixelSize));
    font.setBold(element.bold);
    // Unhinted outlines and no kerning surprises: the same text measures the same on every
    // station, and metrics scale linearly with the size the fitting loop tries.
    font.setHintingPreference(QFont::PreferNoHinting);
    font.setStyleStrategy(
        QFont::StyleStrategy(QFont::PreferAntialias | QFont::NoSubpixelAntialias));
    return font;
}

double inkWidth(const QFont& font, const QString& line) {
    const QFontMetricsF fm(font);
    const QRectF ink = fm.boundingRect(line);
    const double right = std::max(fm.horizontalAdvance(line), ink.right());
    const double left = std::min(0.0, ink.left());
    return right - left;
}

double blockHeight(const QFont& font, int lines) {
    const QFontMetricsF fm(font);
    return fm.ascent() + fm.descent() + (lines - 1) * fm.lineSpacing();
}

TextFit fitText(const QString& rawText, const Element& element, int dpi) {
    const QString text = protectNumberSign(rawText.simplified());
    const QRectF box = boxInDots(element.box, dpi);
    const int maxPx = pointsToDots(element.sizePt, dpi);
    const int minPx = std::min(maxPx, pointsToDots(element.minSizePt, dpi));
    const std::vector<Piece> ps = pieces(text);

    TextFit fit;
    if (text.isEmpty()) {
        fit.pixelSize = maxPx;
        fit.font = elementFont(element, maxPx);
        return fit;
    }
    for (int lines = 1; lines <= element.maxLines; ++lines) {
        for (int px = maxPx; px >= minPx; --px) {
            const QFont font = elementFont(element, px);
            if (blockHeight(font, lines) > box.height()) {
                continue;
            }
            QStringList wrapped;
            if (lines == 1) {
                if (inkWidth(font, text) <= box.width()) {
                    wrapped << text;
                }
            } else {
                wrapped = wrap(ps, font, box.width(), lines);
                // Fewer lines than this round allows already failed in an earlier round at
                // every size, so a shorter result here is simply a fit.
            }
            if (!wrapped.isEmpty()) {
                fit.font = font;
                fit.pixelSize = px;
                fit.lines = wrapped;
                return fit;
            }
        }
    }

    // Last resort: the smallest size, as many lines as fit the box's height (at most
    // max_lines), filled greedily, the last one cut with an ellipsis.
    const QFont font = elementFont(element, minPx);
    fit.font = font;
    fit.pixelSize = minPx;
    fit.elided = true;
    int lines = element.maxLines;
    while (lines > 1 && blockHeight(font, lines) > box.height()) {
        --lines;
    }
    if (blockHeight(font, 1) > box.height()) {
        fit.fits = false;
        return fit;
    }
    std::size_t next = 0;
    while (static_cast<int>(fit.lines.size()) < lines - 1 && next < ps.size()) {
        QString line;
        while (next < ps.size()) {
            const QString longer = join(line, ps[next]);
            if (inkWidth(font, longer) > box.width()) {
                break;
            }
            line = longer;
            ++next;
        }
        if (line.isEmpty()) {
            // One piece wider than the box: it gets a line of its own, cut.
            line = elide(font, ps[next].text, box.width());
            ++next;
        }
        fit.lines << line;
    }
    QString rest;
    for (; next < ps.size(); ++next) {
        rest = join(rest, ps[next]);
    }
    if (!rest.isEmpty()) {
        fit.lines << elide(font, rest, box.width());
    }
    if (fit.lines.isEmpty() || fit.lines.back().isEmpty()) {
        fit.fits = false;
    }
    return fit;
}

} // namespace unioncard::printer
