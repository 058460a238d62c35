// SPDX-License-Identifier: Apache-2.0
// Card faces: the union layout loads, faces match their golden images, the QR on the back reads
// back (zxing-cpp, an independent decoder) as the record's text, and the longest names we can
// construct stay inside their boxes by the overflow rule, in metrics and in pixels.

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/record_text.hpp>
#include <unioncard/printer/card_fields.hpp>
#include <unioncard/printer/layout.hpp>
#include <unioncard/printer/qr.hpp>
#include <unioncard/printer/renderer.hpp>
#include <unioncard/printer/text_fit.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#define ZX_USE_UTF8 1
#include <QFontMetricsF>
#include <QImage>
#include <ZXing/ReadBarcode.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace unioncard;
using namespace unioncard::printer;

namespace {

const fs::path kLayouts = fs::path(UNIONCARD_FIRMWARE_CONFIG_DIR) / "layouts";
const fs::path kGolden = UNIONCARD_GOLDEN_DIR;
const fs::path kVectors = UNIONCARD_VECTORS_DIR;

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

Layout unionLayout() {
    auto l = loadLayout(kLayouts / "union-card.toml");
    EXPECT_TRUE(l) << (l ? "" : l.error().message);
    return std::move(l).value();
}

CardRenderer renderer(RendererOptions options = {}) {
    auto r = CardRenderer::create(unionLayout(), std::move(options));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return std::move(r).value();
}

// The layout with its fonts loaded into Qt (and Qt started), for the tests that measure text
// without drawing: metrics of any other font would prove nothing.
Layout measuredLayout() {
    return renderer().layout();
}

CardFields sampleFields() {
    auto f = parseCardFields(readText(kGolden / "fields-sample.json"));
    EXPECT_TRUE(f) << (f ? "" : f.error().message);
    return std::move(f).value();
}

std::vector<std::uint8_t> vectorRecord(const std::string& name) {
    const auto j = nlohmann::json::parse(readText(kVectors / (name + ".json")));
    const std::string hex = j.at("cose_sign1_hex");
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

// The longest realistic names we could construct (docs/printing.md "Overflow rules"): a triple
// hyphenated surname with a double first name, a school's full official name with its patron and
// its town, and the longest form of an inter-regional organisation's name.
CardFields longestFields() {
    CardFields f = sampleFields();
    f.fullName = "Константинопольская-Переверзева-Водопьянова Александра-Виктория "
                 "Святославовна";
    f.organisation =
        "Муниципальное бюджетное общеобразовательное учреждение «Средняя общеобразовательная "
        "школа № 1234 с углублённым изучением отдельных предметов имени Героя Советского Союза "
        "Александра Ивановича Покрышкина» городского округа Петропавловск-Камчатский "
        "Камчатского края";
    f.region = "Межрегиональная организация Санкт-Петербурга и Ленинградской области "
               "Профессионального союза работников народного образования и науки Российской "
               "Федерации";
    return f;
}

// The fraction of pixels whose colour differs by more than `threshold` in any channel.
double differingFraction(const QImage& a, const QImage& b, int threshold) {
    if (a.size() != b.size()) {
        return 1.0;
    }
    const QImage x = a.convertToFormat(QImage::Format_RGB888);
    const QImage y = b.convertToFormat(QImage::Format_RGB888);
    long differing = 0;
    for (int row = 0; row < x.height(); ++row) {
        const uchar* p = x.constScanLine(row);
        const uchar* q = y.constScanLine(row);
        for (int i = 0; i < x.width() * 3; i += 3) {
            for (int c = 0; c < 3; ++c) {
                if (std::abs(p[i + c] - q[i + c]) > threshold) {
                    ++differing;
                    break;
                }
            }
        }
    }
    return static_cast<double>(differing) / (static_cast<double>(x.width()) * x.height());
}

// Golden-image tolerance: a pixel "differs" when a channel moves by more than 64 of 255, and at
// most 0.5 % of the face may differ (FreeType's antialiasing may shift glyph edges between
// releases; one wrong digit of the date changes about 0.06 %, see GoldenToleranceCatchesAChange).
constexpr int kPixelThreshold = 64;
constexpr double kMaxDiffering = 0.0002;

void compareWithGolden(const QImage& image, const std::string& name) {
    const fs::path golden = kGolden / name;
    if (const char* update = std::getenv("UNIONCARD_UPDATE_GOLDEN"); update && *update == '1') {
        ASSERT_TRUE(image.save(QString::fromStdString(golden.string()), "PNG"));
        std::cout << "golden image rewritten: " << golden << '\n';
        return;
    }
    QImage expected(QString::fromStdString(golden.string()));
    ASSERT_FALSE(expected.isNull()) << golden << " is missing: run with UNIONCARD_UPDATE_GOLDEN=1";
    ASSERT_EQ(expected.size(), image.size());
    const double fraction = differingFraction(image, expected, kPixelThreshold);
    EXPECT_LE(fraction, kMaxDiffering) << name << ": " << fraction * 100 << " % of pixels differ";
}

std::string decodeQr(const QImage& face, std::string* ecLevel = nullptr) {
    const QImage rgb = face.convertToFormat(QImage::Format_RGB888);
    ZXing::ImageView view(rgb.constBits(), rgb.width(), rgb.height(), ZXing::ImageFormat::RGB,
                          static_cast<int>(rgb.bytesPerLine()));
    ZXing::DecodeHints hints;
    hints.setFormats(ZXing::BarcodeFormat::QRCode);
    const ZXing::Result result = ZXing::ReadBarcode(view, hints);
    if (!result.isValid()) {
        return {};
    }
    if (ecLevel) {
        *ecLevel = result.ecLevel();
    }
    return result.text();
}

std::vector<std::string> textElementIds(const Layout& l, Side side) {
    std::vector<std::string> ids;
    for (const auto& e : l.elements(side)) {
        if (e.type == ElementType::Text) {
            ids.push_back(e.id);
        }
    }
    return ids;
}

std::string withoutSpaces(QString s) {
    s.remove(QLatin1Char(' '));
    s.remove(QChar(0x00A0));
    return s.toStdString();
}

} // namespace

TEST(CardLayout, UnionLayoutLoads) {
    const Layout l = unionLayout();
    EXPECT_EQ(l.widthPx(), 1011); // 85.60 mm at 300 dpi
    EXPECT_EQ(l.heightPx(), 638); // 53.98 mm at 300 dpi
    EXPECT_NE(l.find(Side::Front, "full-name"), nullptr);
    EXPECT_NE(l.find(Side::Back, "qr"), nullptr);
}

TEST(CardLayout, RefusesWhatWouldSpoilACard) {
    const std::string head = R"([card]
width_mm = 85.60
height_mm = 53.98
dpi = 300
fonts = ["DejaVuSans.ttf"]
[[back]]
id = "bg"
type = "rect"
x_mm = 0.0
y_mm = 0.0
w_mm = 10.0
h_mm = 10.0
fill = "#ffffff"
[[front]]
id = "t"
)";
    auto refused = [&](const std::string& element, const std::string& words) {
        auto l = parseLayout(head + element, kLayouts, "test.toml");
        ASSERT_FALSE(l) << element;
        EXPECT_NE(l.error().message.find(words), std::string::npos) << l.error().message;
    };
    const std::string text = "type = \"text\"\nfont = \"DejaVu Sans\"\nsize_pt = 8.0\n";
    refused(text + "text = \"{nmae}\"\nx_mm = 1.0\ny_mm = 1.0\nw_mm = 20.0\nh_mm = 5.0\n",
            "{nmae} is not a field");
    refused(text + "text = \"x\"\nx_mm = 80.0\ny_mm = 1.0\nw_mm = 20.0\nh_mm = 5.0\n",
            "not inside");
    refused(text + "text = \"x\"\nx_mm = 1.0\ny_mm = 1.0\nw_mm = 20.0\nh_mm = 1.0\n",
            "one line at 8 pt");
    refused("type = \"qr\"\nfield = \"qr\"\nx_mm = 1.0\ny_mm = 1.0\nw_mm = 20.0\nh_mm = 10.0\n",
            "square");
    refused("type = \"circle\"\nx_mm = 1.0\ny_mm = 1.0\nw_mm = 20.0\nh_mm = 10.0\n", "circle");
    auto syntax = parseLayout("[card\n", kLayouts, "broken.toml");
    ASSERT_FALSE(syntax);
    EXPECT_EQ(syntax.error().code, LayoutErrorCode::Syntax);
    auto missing = loadLayout(kLayouts / "no-such-layout.toml");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, LayoutErrorCode::NotFound);
}

TEST(CardFields, PrintsNumbersAndDatesTheRussianWay) {
    const CardFields f = sampleFields();
    EXPECT_EQ(printedField(f, "card_number"), "9643 2300 0001 2341");
    EXPECT_EQ(printedField(f, "valid_until"), "30.11.2031");
    EXPECT_EQ(printedField(f, "nope"), std::nullopt);
}

TEST(CardFields, RefusesWrongInputWithoutThrowing) {
    for (const char* bad : {"", "[]", "{", "{\"full_name\": 1}", "\xff\xfe"}) {
        EXPECT_FALSE(parseCardFields(bad)) << bad;
    }
    auto f = parseCardFields(R"({"full_name":"А","card_number":"9643 2300 0001 2341",
        "organisation":"О","region":"Р","valid_until":"2032-02-29","qr":"UC1:ABC"})");
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->cardNumber, "9643230000012341");
    EXPECT_FALSE(parseCardFields(R"({"full_name":"А","card_number":"9643230000012341",
        "organisation":"О","region":"Р","valid_until":"2031-02-29","qr":"UC1:ABC"})"));
}

TEST(CardQr, SampleQrIsTheRecordsTextForm) {
    // The fields file's QR was made with a Base45 written apart from cardlib
    // (tests/golden/printer/README.md); cardlib must agree.
    EXPECT_EQ(sampleFields().qr, card::recordToText(vectorRecord("valid-chip-uid")));
}

TEST(CardQr, AlphanumericModeKeepsTheSymbolSmall) {
    // ISO/IEC 18004:2015 Table 7, level M, alphanumeric capacity: version 8 holds 221
    // characters, 9 holds 259, 11 holds 362, 12 holds 412.
    const std::string text = card::recordToText(vectorRecord("valid-chip-uid"));
    ASSERT_EQ(text.size(), 234u); // "UC1:" + 153 bytes in Base45 (230 characters)
    auto symbol = encodeQrAlphanumeric(text, 'M');
    ASSERT_TRUE(symbol) << symbol.error();
    EXPECT_EQ(symbol->version, 9);
    EXPECT_EQ(symbol->size, 17 + 4 * 9);
    // The largest record the chip file holds: 256 bytes, 388 characters.
    const std::string largest =
        card::recordToText(std::vector<std::uint8_t>(card::kMaxRecordSize, 0xA5));
    ASSERT_EQ(largest.size(), 388u);
    auto big = encodeQrAlphanumeric(largest, 'M');
    ASSERT_TRUE(big) << big.error();
    EXPECT_EQ(big->version, 12);
    EXPECT_FALSE(encodeQrAlphanumeric("uc1:lower", 'M'));
}

TEST(CardFace, FrontMatchesGolden) {
    auto face = renderer().render(Side::Front, sampleFields());
    ASSERT_TRUE(face) << face.error().message;
    EXPECT_TRUE(face->warnings.empty());
    compareWithGolden(face->image, "front.png");
}

TEST(CardFace, BackMatchesGolden) {
    auto face = renderer().render(Side::Back, sampleFields());
    ASSERT_TRUE(face) << face.error().message;
    compareWithGolden(face->image, "back.png");
}

TEST(CardFace, LongestNamesFrontMatchesGolden) {
    auto f = parseCardFields(readText(kGolden / "fields-longest.json"));
    ASSERT_TRUE(f) << f.error().message;
    auto face = renderer().render(Side::Front, f.value());
    ASSERT_TRUE(face) << face.error().message;
    compareWithGolden(face->image, "front-longest.png");
}

TEST(CardFace, GoldenToleranceCatchesAChange) {
    // The tolerance must not hide a wrong card: one changed letter in the name and a wrong
    // date each exceed it.
    const CardRenderer r = renderer();
    CardFields f = sampleFields();
    auto right = r.render(Side::Front, f);
    f.fullName = "Иванова Мария Павловна";
    auto name = r.render(Side::Front, f);
    f = sampleFields();
    f.validUntil = "2031-11-29";
    auto date = r.render(Side::Front, f);
    ASSERT_TRUE(right && name && date);
    const double nameDiff = differingFraction(right->image, name->image, kPixelThreshold);
    const double dateDiff = differingFraction(right->image, date->image, kPixelThreshold);
    EXPECT_GT(nameDiff, kMaxDiffering);
    EXPECT_GT(dateDiff, kMaxDiffering);
    std::cout << "one letter of the name: " << nameDiff * 100
              << " %, one digit of the date: " << dateDiff * 100 << " % of pixels\n";
}

TEST(CardFace, QrReadsBackAsTheRecordText) {
    const CardFields f = sampleFields();
    auto face = renderer().render(Side::Back, f);
    ASSERT_TRUE(face) << face.error().message;
    std::string ec;
    EXPECT_EQ(decodeQr(face->image, &ec), f.qr);
    EXPECT_EQ(ec, "M");
    // The round trip the verifier makes: scanned text back to the record's bytes.
    auto bytes = card::recordFromText(decodeQr(face->image));
    ASSERT_TRUE(bytes) << bytes.error();
    EXPECT_EQ(bytes.value(), vectorRecord("valid-chip-uid"));
}

TEST(CardFace, LargestRecordsQrReadsBack) {
    CardFields f = sampleFields();
    f.qr = card::recordToText(vectorRecord("valid-largest"));
    auto face = renderer().render(Side::Back, f);
    ASSERT_TRUE(face) << face.error().message;
    EXPECT_EQ(decodeQr(face->image), f.qr);
    // And the largest record the chip file holds (256 bytes: 388 characters, version 12).
    f.qr = card::recordToText(std::vector<std::uint8_t>(card::kMaxRecordSize, 0xA5));
    auto largest = renderer().render(Side::Back, f);
    ASSERT_TRUE(largest) << largest.error().message;
    EXPECT_EQ(decodeQr(largest->image), f.qr);
}

TEST(CardFace, RasterIsTheImagesPixels) {
    auto face = renderer().render(Side::Front, sampleFields());
    ASSERT_TRUE(face);
    const Raster r = toRaster(face->image, 300);
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(r.width, 1011);
    EXPECT_EQ(r.height, 638);
    for (auto [x, y] : {std::pair{0, 0}, std::pair{500, 100}, std::pair{1010, 637}}) {
        const QRgb px = face->image.pixel(x, y);
        const std::size_t i = 3 * (static_cast<std::size_t>(y) * 1011 + x);
        EXPECT_EQ(r.rgb[i], qRed(px));
        EXPECT_EQ(r.rgb[i + 1], qGreen(px));
        EXPECT_EQ(r.rgb[i + 2], qBlue(px));
    }
}

TEST(CardFace, PdfHasTwoCardSizePages) {
    auto pdf = renderer().renderPdf(sampleFields());
    ASSERT_TRUE(pdf) << pdf.error().message;
    const std::string text(pdf->pdf.begin(), pdf->pdf.end());
    ASSERT_EQ(text.rfind("%PDF-", 0), 0u);
    std::size_t pages = 0;
    for (auto pos = text.find("/MediaBox"); pos != std::string::npos;
         pos = text.find("/MediaBox", pos + 1)) {
        ++pages;
        double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        ASSERT_EQ(
            std::sscanf(text.c_str() + pos, "/MediaBox [%lf %lf %lf %lf]", &x0, &y0, &x1, &y1), 4);
        EXPECT_NEAR(x1 - x0, 85.60 / 25.4 * 72, 0.5);
        EXPECT_NEAR(y1 - y0, 53.98 / 25.4 * 72, 0.5);
    }
    EXPECT_EQ(pages, 2u);
}

TEST(CardFace, PhotoFillsItsSlot) {
    const fs::path photo =
        fs::temp_directory_path() / ("unioncard-photo-test-" + std::to_string(::getpid()) + ".png");
    QImage portrait(300, 400, QImage::Format_RGB888);
    portrait.fill(QColor(0x20, 0xa0, 0x40));
    ASSERT_TRUE(portrait.save(QString::fromStdString(photo.string())));
    CardFields f = sampleFields();
    f.photo = photo.string();
    const CardRenderer r = renderer();
    auto face = r.render(Side::Front, f);
    fs::remove(photo);
    ASSERT_TRUE(face) << face.error().message;
    const QRectF slot = boxInDots(r.layout().find(Side::Front, "photo")->box, 300);
    EXPECT_EQ(face->image.pixelColor(slot.center().toPoint()), QColor(0x20, 0xa0, 0x40));
    EXPECT_EQ(face->image.pixelColor(static_cast<int>(slot.left()) + 1,
                                     static_cast<int>(slot.bottom()) - 2),
              QColor(0x20, 0xa0, 0x40));
    f.photo = (fs::temp_directory_path() / "unioncard-no-such-photo.png").string();
    auto missing = r.render(Side::Front, f);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, RenderErrorCode::ImageMissing);
}

TEST(CardFace, MissingFontIsAClearError) {
    RendererOptions options;
    options.fontDir = fs::temp_directory_path() / "unioncard-no-fonts-here";
    auto r = CardRenderer::create(unionLayout(), options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, RenderErrorCode::FontMissing);
    EXPECT_NE(r.error().message.find("fonts-dejavu-core"), std::string::npos) << r.error().message;
}

TEST(CardFace, QrBoxTooSmallIsRefused) {
    Layout l = unionLayout();
    for (auto& e : l.back) {
        if (e.type == ElementType::Qr) {
            e.box.w = e.box.h = 8.0; // 94 dots for 65 + 8 modules
        }
    }
    auto r = CardRenderer::create(std::move(l));
    ASSERT_TRUE(r);
    CardFields f = sampleFields();
    f.qr = card::recordToText(std::vector<std::uint8_t>(card::kMaxRecordSize, 0x5A));
    auto face = r->render(Side::Back, f);
    ASSERT_FALSE(face);
    EXPECT_EQ(face.error().code, RenderErrorCode::QrTooDense);
}

// The overflow rule in metrics: every text of the longest fields, on both faces, fits its box
// by QFontMetricsF, at a size between min_size_pt and size_pt, in at most max_lines lines; text
// is only lost when the fit says so (and then the renderer warns).
TEST(CardOverflow, LongestNamesFitTheirBoxesByMetrics) {
    const Layout l = measuredLayout();
    const CardFields f = longestFields();
    int elided = 0;
    for (Side side : {Side::Front, Side::Back}) {
        for (const Element& e : l.elements(side)) {
            if (e.type != ElementType::Text) {
                continue;
            }
            std::string text = e.text;
            for (const char* name :
                 {"full_name", "card_number", "organisation", "region", "valid_until"}) {
                const std::string key = std::string("{") + name + "}";
                for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key)) {
                    text.replace(pos, key.size(), *printedField(f, name));
                }
            }
            const TextFit fit = fitText(QString::fromStdString(text), e, l.dpi);
            SCOPED_TRACE(e.id);
            ASSERT_TRUE(fit.fits);
            const QRectF box = boxInDots(e.box, l.dpi);
            EXPECT_LE(fit.lines.size(), e.maxLines);
            EXPECT_GE(fit.pixelSize, pointsToDots(e.minSizePt, l.dpi));
            EXPECT_LE(fit.pixelSize, pointsToDots(e.sizePt, l.dpi));
            EXPECT_LE(blockHeight(fit.font, static_cast<int>(fit.lines.size())), box.height());
            const QFontMetricsF fm(fit.font);
            for (const QString& line : fit.lines) {
                EXPECT_LE(inkWidth(fit.font, line), box.width()) << line.toStdString();
                EXPECT_LE(fm.horizontalAdvance(line), box.width()) << line.toStdString();
            }
            if (fit.elided) {
                ++elided;
                EXPECT_TRUE(fit.lines.back().endsWith(QChar(0x2026)));
            } else {
                EXPECT_EQ(withoutSpaces(fit.lines.join(QString())),
                          withoutSpaces(QString::fromStdString(text)));
            }
        }
    }
    // The school's official name (about 270 characters) is the one that needs the last resort.
    EXPECT_GE(elided, 1);
}

TEST(CardOverflow, ShrinksThenWrapsBeforeCutting) {
    const Layout l = measuredLayout();
    const Element& name = *l.find(Side::Front, "full-name");
    // A short name: one line at full size.
    TextFit fit = fitText(QStringLiteral("Иванова Мария Петровна"), name, l.dpi);
    EXPECT_EQ(fit.lines.size(), 1);
    EXPECT_EQ(fit.pixelSize, pointsToDots(name.sizePt, l.dpi));
    EXPECT_FALSE(fit.elided);
    // The long hyphenated name: wrapped, whole, not cut.
    fit = fitText(QStringLiteral("Константинопольская-Переверзева Александра Святославовна"), name,
                  l.dpi);
    EXPECT_FALSE(fit.elided);
    EXPECT_EQ(fit.lines.size(), 2);
    // The longest name we could construct is still printed whole: a member's name is never
    // cut on the union layout.
    const QString longest = QString::fromStdString(longestFields().fullName);
    fit = fitText(longest, name, l.dpi);
    EXPECT_FALSE(fit.elided);
    EXPECT_EQ(withoutSpaces(fit.lines.join(QString())), withoutSpaces(longest));
    // A name past any real one is cut, inside the box, and the fit says so.
    fit = fitText(longest + QStringLiteral(" ") + longest, name, l.dpi);
    EXPECT_TRUE(fit.elided);
    EXPECT_EQ(fit.lines.size(), name.maxLines);
}

// The overflow rule in pixels: each text element alone, drawn with the longest fields, changes
// no pixel outside its box. (The renderer does not clip: this is the rule's own doing.)
TEST(CardOverflow, LongestNamesDrawNothingOutsideTheirBoxes) {
    const Layout l = unionLayout();
    const CardFields f = longestFields();
    for (Side side : {Side::Front, Side::Back}) {
        const auto ids = textElementIds(l, side);
        RendererOptions none;
        none.skipElements = ids;
        auto blank = CardRenderer::create(l, none)->render(side, f);
        ASSERT_TRUE(blank);
        for (const auto& id : ids) {
            SCOPED_TRACE(id);
            RendererOptions one;
            for (const auto& other : ids) {
                if (other != id) {
                    one.skipElements.push_back(other);
                }
            }
            auto face = CardRenderer::create(l, one)->render(side, f);
            ASSERT_TRUE(face);
            // The box in whole pixels; antialiasing may touch the pixel the edge runs through.
            const QRectF box = boxInDots(l.find(side, id)->box, l.dpi);
            const QRect allowed(QPoint(static_cast<int>(std::floor(box.left())),
                                       static_cast<int>(std::floor(box.top()))),
                                QPoint(static_cast<int>(std::ceil(box.right())),
                                       static_cast<int>(std::ceil(box.bottom()))));
            int outside = 0, inside = 0;
            for (int y = 0; y < face->image.height(); ++y) {
                for (int x = 0; x < face->image.width(); ++x) {
                    if (face->image.pixel(x, y) != blank->image.pixel(x, y)) {
                        (allowed.contains(x, y) ? inside : outside) += 1;
                    }
                }
            }
            EXPECT_EQ(outside, 0) << outside << " pixels drawn outside the box";
            EXPECT_GT(inside, 0) << "nothing drawn at all";
        }
    }
}

TEST(CardOverflow, LastResortWarnsTheCaller) {
    auto face = renderer().render(Side::Front, longestFields());
    ASSERT_TRUE(face) << face.error().message;
    bool organisation = false;
    for (const auto& w : face->warnings) {
        organisation |= w.element == "organisation";
        EXPECT_NE(w.drawn.find("\u2026"), std::string::npos);
    }
    EXPECT_TRUE(organisation);
}
