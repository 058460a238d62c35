// SPDX-License-Identifier: Apache-2.0
// The card-face renderer: a layout and a card's fields to pixels, PNG and PDF, with Qt's
// raster engine on an offscreen QImage (no display needed).

#include <unioncard/printer/qr.hpp>
#include <unioncard/printer/renderer.hpp>
#include <unioncard/printer/text_fit.hpp>

#include <fmt/format.h>

#include <QBuffer>
#include <QFontDatabase>
#include <QFontMetricsF>
#include <QGuiApplication>
#include <QImageWriter>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgRenderer>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <unistd.h>

namespace unioncard::printer {

namespace {

using CreateResult = Result<CardRenderer, RenderError>;

Failure<RenderError> renderError(RenderErrorCode code, std::string message) {
    return fail(RenderError{code, std::move(message)});
}

// Qt draws text only with a QGuiApplication. A program that has one (the station's UI) keeps
// it; a command-line program or a test gets an offscreen one that lives until exit.
bool ensureGuiApplication() {
    if (auto* app = QCoreApplication::instance()) {
        return qobject_cast<QGuiApplication*>(app) != nullptr;
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    static int argc = 1;
    static char name[] = "unioncard";
    static char* argv[] = {name, nullptr};
    static auto* app = new QGuiApplication(argc, argv); // never deleted: lives until exit
    return app != nullptr;
}

// Font files already given to Qt, by path: adding one twice would register it twice.
std::map<std::string, int>& loadedFonts() {
    static std::map<std::string, int> fonts;
    return fonts;
}

std::filesystem::path fontDirectory(const RendererOptions& options) {
    if (!options.fontDir.empty()) {
        return options.fontDir;
    }
    if (const char* env = std::getenv("UNIONCARD_FONT_DIR"); env && *env) {
        return env;
    }
    return kDefaultFontDir;
}

QImage rasteriseArtwork(const std::filesystem::path& file, const QRectF& box) {
    const QSize size(static_cast<int>(std::lround(box.width())),
                     static_cast<int>(std::lround(box.height())));
    const QString path = QString::fromStdString(file.string());
    if (file.extension() == ".svg") {
        QSvgRenderer svg(path);
        if (!svg.isValid()) {
            return {};
        }
        QImage image(size, QImage::Format_ARGB32_Premultiplied);
        image.fill(Qt::transparent);
        QPainter p(&image);
        p.setRenderHint(QPainter::Antialiasing);
        // Keep the artwork's proportions inside its box, centred.
        QSizeF s = svg.defaultSize();
        s.scale(size, Qt::KeepAspectRatio);
        svg.render(&p, QRectF((size.width() - s.width()) / 2, (size.height() - s.height()) / 2,
                              s.width(), s.height()));
        return image;
    }
    QImage image(path);
    if (image.isNull()) {
        return {};
    }
    return image.scaled(size, Qt::KeepAspectRatio, Qt::SmoothTransformation);
}

// "{field}" placeholders replaced by the fields as printed.
std::string substitute(const std::string& text, const CardFields& fields) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto open = text.find('{', pos);
        if (open == std::string::npos) {
            out += text.substr(pos);
            break;
        }
        const auto close = text.find('}', open);
        out += text.substr(pos, open - pos);
        out += printedField(fields, text.substr(open + 1, close - open - 1)).value_or("");
        pos = close + 1;
    }
    return out;
}

void drawText(QPainter& p, const Element& e, const TextFit& fit, int dpi) {
    const QRectF box = boxInDots(e.box, dpi);
    const QFontMetricsF fm(fit.font);
    p.setFont(fit.font);
    p.setPen(QColor(QString::fromStdString(e.color)));
    double baseline = box.top() + fm.ascent();
    for (const QString& line : fit.lines) {
        const QRectF ink = fm.boundingRect(line);
        const double left = std::min(0.0, ink.left());
        const double width = inkWidth(fit.font, line);
        double x = box.left() - left;
        if (e.align == Align::Right) {
            x = box.right() - width - left;
        } else if (e.align == Align::Center) {
            x = box.left() + (box.width() - width) / 2 - left;
        }
        p.drawText(QPointF(x, baseline), line);
        baseline += fm.lineSpacing();
    }
}

std::optional<RenderError> drawQr(QPainter& p, const Element& e, const std::string& text, int dpi) {
    auto symbol = encodeQrAlphanumeric(text, e.ecc);
    if (!symbol) {
        return RenderError{RenderErrorCode::BadField, "the QR cannot be made: " + symbol.error()};
    }
    const QRectF box = boxInDots(e.box, dpi);
    const int modules = symbol->size + 2 * e.quietZoneModules;
    // Whole dots per module: a module split across dots prints blurred and scans badly.
    const int dot = static_cast<int>(std::floor(std::min(box.width(), box.height()) / modules));
    if (dot < 2) {
        return RenderError{
            RenderErrorCode::QrTooDense,
            fmt::format("the QR (version {}, {} modules) needs at least {} dots; its box '{}' is "
                        "{:.0f}: make the box larger or the record smaller",
                        symbol->version, modules, 2 * modules, e.id, box.width())};
    }
    const int side = dot * modules;
    const int x0 = static_cast<int>(std::lround(box.left() + (box.width() - side) / 2.0));
    const int y0 = static_cast<int>(std::lround(box.top() + (box.height() - side) / 2.0));
    p.save();
    p.setRenderHint(QPainter::Antialiasing, false);
    p.fillRect(QRect(x0, y0, side, side), Qt::white);
    const QColor dark(QString::fromStdString(e.color));
    const int q = e.quietZoneModules;
    for (int y = 0; y < symbol->size; ++y) {
        for (int x = 0; x < symbol->size; ++x) {
            if (symbol->isDark(x, y)) {
                p.fillRect(QRect(x0 + (x + q) * dot, y0 + (y + q) * dot, dot, dot), dark);
            }
        }
    }
    p.restore();
    return std::nullopt;
}

std::optional<RenderError> drawPhoto(QPainter& p, const Element& e, const std::string& file,
                                     int dpi) {
    QImage photo(QString::fromStdString(file));
    if (photo.isNull()) {
        return RenderError{RenderErrorCode::ImageMissing,
                           fmt::format("the photo {} cannot be read: give a JPEG or PNG file, or "
                                       "leave 'photo' out to print the card without one",
                                       file)};
    }
    const QRectF box = boxInDots(e.box, dpi);
    const QSize size(static_cast<int>(std::lround(box.width())),
                     static_cast<int>(std::lround(box.height())));
    // Fill the slot and crop what is left over, centred: a photo is never distorted.
    const QImage scaled =
        photo.scaled(size, Qt::KeepAspectRatioByExpanding, Qt::SmoothTransformation);
    const QRect crop((scaled.width() - size.width()) / 2, (scaled.height() - size.height()) / 2,
                     size.width(), size.height());
    p.drawImage(QPointF(std::round(box.left()), std::round(box.top())), scaled.copy(crop));
    return std::nullopt;
}

} // namespace

std::string_view toString(RenderErrorCode code) {
    switch (code) {
    case RenderErrorCode::FontMissing:
        return "font_missing";
    case RenderErrorCode::ImageMissing:
        return "image_missing";
    case RenderErrorCode::BadField:
        return "bad_field";
    case RenderErrorCode::QrTooDense:
        return "qr_too_dense";
    case RenderErrorCode::Encode:
        return "encode_failed";
    case RenderErrorCode::NoDisplay:
        return "no_display";
    }
    return "render_failed";
}

CardRenderer::CardRenderer(Layout layout, RendererOptions options)
    : m_layout(std::move(layout)), m_options(std::move(options)) {}

Result<CardRenderer, RenderError> CardRenderer::create(Layout layout, RendererOptions options) {
    if (!ensureGuiApplication()) {
        return CreateResult(
            renderError(RenderErrorCode::NoDisplay,
                        "Qt's GUI layer could not start: the program has a QCoreApplication, not a "
                        "QGuiApplication"));
    }
    static std::mutex mutex;
    const std::lock_guard lock(mutex);
    const std::filesystem::path dir = fontDirectory(options);
    std::set<QString> families;
    for (const auto& name : layout.fonts) {
        const std::filesystem::path file = dir / name;
        const std::string key = file.string();
        auto& fonts = loadedFonts();
        auto it = fonts.find(key);
        if (it == fonts.end()) {
            std::error_code ec;
            if (!std::filesystem::is_regular_file(file, ec)) {
                return CreateResult(
                    renderError(RenderErrorCode::FontMissing,
                                fmt::format("font file {} is missing: install the Debian package "
                                            "fonts-dejavu-core (deploy/install-deps), or point "
                                            "UNIONCARD_FONT_DIR at a folder holding {}",
                                            key, name)));
            }
            const int id = QFontDatabase::addApplicationFont(QString::fromStdString(key));
            if (id < 0) {
                return CreateResult(
                    renderError(RenderErrorCode::FontMissing,
                                fmt::format("font file {} is not a font Qt can read: reinstall "
                                            "fonts-dejavu-core",
                                            key)));
            }
            it = fonts.emplace(key, id).first;
        }
        for (const QString& family : QFontDatabase::applicationFontFamilies(it->second)) {
            families.insert(family);
        }
    }
    CardRenderer renderer(std::move(layout), std::move(options));
    const Layout& l = renderer.m_layout;
    for (Side side : {Side::Front, Side::Back}) {
        for (const Element& e : l.elements(side)) {
            if (e.type == ElementType::Text) {
                const QString family = QString::fromStdString(e.font);
                if (!families.count(family)) {
                    return CreateResult(renderError(
                        RenderErrorCode::FontMissing,
                        fmt::format("{}: element '{}' uses font '{}', which none of the "
                                    "layout's font files provides",
                                    l.name, e.id, e.font)));
                }
                // The layout's check of one line's height used DejaVu's typical metrics; this
                // is the real font's.
                const QFont font = elementFont(e, pointsToDots(e.minSizePt, l.dpi));
                if (blockHeight(font, 1) > boxInDots(e.box, l.dpi).height()) {
                    return CreateResult(renderError(
                        RenderErrorCode::FontMissing,
                        fmt::format("{}: element '{}': one line at {} pt is taller than its box",
                                    l.name, e.id, e.minSizePt)));
                }
            }
            if (e.type == ElementType::Image) {
                const std::filesystem::path file = l.directory / e.source;
                QImage art = rasteriseArtwork(file, boxInDots(e.box, l.dpi));
                if (art.isNull()) {
                    return CreateResult(
                        renderError(RenderErrorCode::ImageMissing,
                                    fmt::format("{}: artwork {} for element '{}' cannot be read",
                                                l.name, file.string(), e.id)));
                }
                renderer.m_artwork[std::string(toString(side)) + "/" + e.id] = std::move(art);
            }
        }
    }
    return renderer;
}

std::optional<RenderError> CardRenderer::paint(QPainter& p, Side side, const CardFields& fields,
                                               std::vector<FitWarning>& warnings) const {
    const Layout& l = m_layout;
    p.setRenderHint(QPainter::Antialiasing);
    p.setRenderHint(QPainter::TextAntialiasing);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    for (const Element& e : l.elements(side)) {
        if (std::find(m_options.skipElements.begin(), m_options.skipElements.end(), e.id) !=
            m_options.skipElements.end()) {
            continue;
        }
        const QRectF box = boxInDots(e.box, l.dpi);
        switch (e.type) {
        case ElementType::Rect:
            p.fillRect(box, QColor(QString::fromStdString(e.fill)));
            break;
        case ElementType::Image: {
            const auto it = m_artwork.find(std::string(toString(side)) + "/" + e.id);
            const QImage& art = it->second;
            p.drawImage(QPointF(std::round(box.left() + (box.width() - art.width()) / 2),
                                std::round(box.top() + (box.height() - art.height()) / 2)),
                        art);
            break;
        }
        case ElementType::Text: {
            const std::string text = substitute(e.text, fields);
            const TextFit fit = fitText(QString::fromStdString(text), e, l.dpi);
            if (!fit.fits) {
                return RenderError{RenderErrorCode::BadField,
                                   fmt::format("element '{}' cannot hold even one cut line of "
                                               "text: widen its box in the layout",
                                               e.id)};
            }
            if (fit.elided) {
                warnings.push_back(
                    {side, e.id, text, fit.lines.join(QStringLiteral(" / ")).toStdString()});
            }
            drawText(p, e, fit, l.dpi);
            break;
        }
        case ElementType::Photo:
            // The slot stays blank (the face's background) on a card without a photo.
            if (fields.photo) {
                if (auto err = drawPhoto(p, e, *fields.photo, l.dpi)) {
                    return err;
                }
            }
            break;
        case ElementType::Qr:
            if (auto err = drawQr(p, e, fields.qr, l.dpi)) {
                return err;
            }
            break;
        }
    }
    return std::nullopt;
}

Result<RenderedFace, RenderError> CardRenderer::render(Side side, const CardFields& fields) const {
    using R = Result<RenderedFace, RenderError>;
    const Layout& l = m_layout;
    RenderedFace face;
    face.image = QImage(l.widthPx(), l.heightPx(), QImage::Format_RGB888);
    face.image.fill(Qt::white);
    const int dotsPerMetre = static_cast<int>(std::lround(l.dpi / 0.0254));
    face.image.setDotsPerMeterX(dotsPerMetre);
    face.image.setDotsPerMeterY(dotsPerMetre);
    QPainter p(&face.image);
    auto err = paint(p, side, fields, face.warnings);
    p.end();
    if (err) {
        return R(fail(std::move(*err)));
    }
    return face;
}

Result<RenderedPdf, RenderError> CardRenderer::renderPdf(const CardFields& fields) const {
    using R = Result<RenderedPdf, RenderError>;
    const Layout& l = m_layout;
    RenderedPdf out;
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    {
        QPdfWriter pdf(&buffer);
        pdf.setCreator(QStringLiteral("unioncard"));
        pdf.setTitle(QStringLiteral("Union card"));
        // Painter units are the layout's dots, as on the QImage: the same code draws both.
        pdf.setResolution(l.dpi);
        // The card's own size, landscape, no margins: the page is the medium, so the printer
        // has nothing to scale or to place.
        const QPageSize size(QSizeF(l.widthMm, l.heightMm), QPageSize::Millimeter,
                             QStringLiteral("CR80"), QPageSize::ExactMatch);
        if (!pdf.setPageLayout(QPageLayout(size, QPageLayout::Portrait, QMarginsF(0, 0, 0, 0),
                                           QPageLayout::Millimeter))) {
            return R(renderError(RenderErrorCode::Encode, "Qt refused the card's page size"));
        }
        QPainter p;
        if (!p.begin(&pdf)) {
            return R(renderError(RenderErrorCode::Encode, "Qt could not start the PDF"));
        }
        for (Side side : {Side::Front, Side::Back}) {
            if (side == Side::Back) {
                pdf.newPage();
            }
            p.fillRect(QRectF(0, 0, l.widthMm / 25.4 * l.dpi, l.heightMm / 25.4 * l.dpi),
                       Qt::white);
            if (auto err = paint(p, side, fields, out.warnings)) {
                p.end();
                return R(fail(std::move(*err)));
            }
        }
        p.end();
    }
    out.pdf.assign(bytes.begin(), bytes.end());
    return out;
}

Result<RenderedCard, RenderError> CardRenderer::renderCard(const CardFields& fields) const {
    using R = Result<RenderedCard, RenderError>;
    auto front = render(Side::Front, fields);
    if (!front) {
        return R(fail(front.error()));
    }
    auto back = render(Side::Back, fields);
    if (!back) {
        return R(fail(back.error()));
    }
    RenderedCard card;
    card.front = std::move(front->image);
    card.back = std::move(back->image);
    card.warnings = std::move(front->warnings);
    card.warnings.insert(card.warnings.end(), back->warnings.begin(), back->warnings.end());
    return card;
}

Raster toRaster(const QImage& image, int dpi) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    Raster r;
    r.width = rgb.width();
    r.height = rgb.height();
    r.dpi = dpi;
    r.rgb.resize(static_cast<std::size_t>(r.width) * static_cast<std::size_t>(r.height) * 3);
    const auto rowBytes = static_cast<std::size_t>(r.width) * 3;
    for (int y = 0; y < r.height; ++y) {
        // QImage rows are padded to 4 bytes; the Raster's are not.
        std::copy_n(rgb.constScanLine(y), rowBytes,
                    r.rgb.begin() + static_cast<long>(y * rowBytes));
    }
    return r;
}

Result<std::vector<std::uint8_t>, RenderError> encodePng(const QImage& image) {
    using R = Result<std::vector<std::uint8_t>, RenderError>;
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "png");
    if (!writer.write(image)) {
        return R(renderError(RenderErrorCode::Encode,
                             "PNG encoding failed: " + writer.errorString().toStdString()));
    }
    return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
}

QImage previewImage(const RenderedCard& card) {
    constexpr int kMargin = 24;
    const int w = std::max(card.front.width(), card.back.width()) + 2 * kMargin;
    const int h = card.front.height() + card.back.height() + 3 * kMargin;
    QImage out(w, h, QImage::Format_RGB888);
    out.fill(QColor(0xd0, 0xd0, 0xd0));
    out.setDotsPerMeterX(card.front.dotsPerMeterX());
    out.setDotsPerMeterY(card.front.dotsPerMeterY());
    QPainter p(&out);
    p.drawImage(QPoint(kMargin, kMargin), card.front);
    p.drawImage(QPoint(kMargin, 2 * kMargin + card.front.height()), card.back);
    return out;
}

void ensureQtRuntimeDir() {
    if (std::getenv("XDG_RUNTIME_DIR") != nullptr) {
        return;
    }
    const auto dir = std::filesystem::temp_directory_path() /
                     ("unioncard-runtime-" + std::to_string(::getuid()));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    ::setenv("XDG_RUNTIME_DIR", dir.c_str(), 0);
}

} // namespace unioncard::printer
