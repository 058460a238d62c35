// SPDX-License-Identifier: Apache-2.0
// The Evolis command language as values: commands to bytes, answers to meanings, card faces to
// ribbon panels. Page numbers: Evolis Card Printers Programming Guide A5013 Rev. E.

#include <unioncard/printer/evolis.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace unioncard::printer::evolis {

char panelLetter(Panel panel) {
    switch (panel) {
    case Panel::Yellow:
        return 'y';
    case Panel::Magenta:
        return 'm';
    case Panel::Cyan:
        return 'c';
    case Panel::Black:
        return 'k';
    case Panel::Overlay:
        return 'o';
    }
    return '?';
}

std::optional<Panel> panelFromLetter(char letter) {
    switch (letter) {
    case 'y':
        return Panel::Yellow;
    case 'm':
        return Panel::Magenta;
    case 'c':
        return Panel::Cyan;
    case 'k':
        return Panel::Black;
    case 'o':
        return Panel::Overlay;
    default:
        return std::nullopt;
    }
}

int bitsPerDot(int levels) {
    // Guide p. 14, Db p2: 2 -> 1 bit, 32 -> 5 bits, 64 -> 6 bits, 128 -> 7 bits.
    switch (levels) {
    case 2:
        return 1;
    case 32:
        return 5;
    case 64:
        return 6;
    case 128:
        return 7;
    default:
        return 0;
    }
}

std::size_t panelBytes(int levels) {
    const int bits = bitsPerDot(levels);
    return static_cast<std::size_t>(kLineDots) * kLines * static_cast<std::size_t>(bits) / 8;
}

std::vector<std::uint8_t> encodeCommand(std::string_view name,
                                        std::initializer_list<std::string_view> params) {
    std::vector<std::uint8_t> out;
    out.reserve(2 + name.size() + 8 * params.size());
    out.push_back(kStart);
    out.insert(out.end(), name.begin(), name.end());
    for (auto p : params) {
        out.push_back(kSeparator);
        out.insert(out.end(), p.begin(), p.end());
    }
    out.push_back(kEnd);
    return out;
}

std::vector<std::uint8_t> encodeBitmap(Panel panel, int levels,
                                       std::span<const std::uint8_t> data) {
    // ESC Db;p1;p2;data CR (guide p. 14): the data is binary and may hold CR bytes; its length
    // follows from p2, so the printer knows where it ends.
    const std::string head = fmt::format("Db;{};{};", panelLetter(panel), levels);
    std::vector<std::uint8_t> out;
    out.reserve(head.size() + data.size() + 2);
    out.push_back(kStart);
    out.insert(out.end(), head.begin(), head.end());
    out.insert(out.end(), data.begin(), data.end());
    out.push_back(kEnd);
    return out;
}

Reply parseReply(std::string_view line) {
    Reply r;
    r.text = std::string(line);
    if (line == "OK") {
        r.kind = Reply::Kind::Ok;
    } else if (line.substr(0, 3) == "ERR") {
        r.kind = Reply::Kind::Error;
    } else {
        r.kind = Reply::Kind::Data;
    }
    return r;
}

PrinterFault faultOfError(std::string_view reply) {
    // GUESS (docs/printing.md): the answers' words after the ACK/NACK error classes of p. 7.
    struct Word {
        std::string_view text;
        PrinterFault fault;
    };
    static constexpr Word kWords[] = {
        {"ERR COVER OPEN", PrinterFault::CoverOpen},     // p. 7 'C'
        {"ERR FEEDER EMPTY", PrinterFault::FeederEmpty}, // p. 7 'F'
        {"ERR RIBBON", PrinterFault::RibbonOut},         // p. 7 'R'
        {"ERR MECHANICAL", PrinterFault::CardJam},       // p. 7 'T' time-out, mechanical error
        {"ERR CARD", PrinterFault::CardInside},          // p. 34, Rlr;p
        {"ERR NO CARD", PrinterFault::NoCard},
        {"NO CARD", PrinterFault::NoCard}, // p. 34, Rlr;p
        {"ERR BUSY", PrinterFault::Busy},
        {"ERR ENCODER", PrinterFault::EncoderError}, // the station's reader is not ready
        {"ERR CMD", PrinterFault::CommandRefused},   // p. 7 '1'
        {"ERR PARAM", PrinterFault::CommandRefused}, // p. 7 '2'
    };
    for (const auto& w : kWords) {
        if (reply == w.text) {
            return w.fault;
        }
    }
    return PrinterFault::ProtocolError;
}

std::optional<RibbonLayout> ribbonLayout(std::string_view ribbonType) {
    using P = Panel;
    // Pr;p1 ribbon types, guide p. 25.
    if (ribbonType == "ymcko") {
        return RibbonLayout{
            {P::Yellow, P::Magenta, P::Cyan, P::Black, P::Overlay}, {P::Black, P::Overlay}, 5};
    }
    if (ribbonType == "ymckok") {
        // 6 panels: the sixth, a second K, is the back's (p. 25 "6 Panel Color Ribbon").
        return RibbonLayout{{P::Yellow, P::Magenta, P::Cyan, P::Black, P::Overlay}, {P::Black}, 6};
    }
    if (ribbonType == "k" || ribbonType == "kb") {
        return RibbonLayout{{P::Black}, {P::Black}, 1};
    }
    return std::nullopt;
}

bool isResinBlack(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    // Dark and grey: every channel under 64 and within 32 of each other. Black text, lines and
    // the QR code print on the resin panel, which is sharp and machine-readable; dark colours
    // stay composite.
    const int hi = std::max({r, g, b});
    const int lo = std::min({r, g, b});
    return hi < 64 && hi - lo < 32;
}

namespace {

// Packs values of `bits` bits, most significant bit first, so that every bit is used (guide
// p. 14, "the data will be concatenated in a way that each bit is useful"). GUESS: the order
// of bits within a byte is most significant first, as in the 1-bit panels Printer::EVOLIS sends.
class BitWriter {
public:
    BitWriter(std::vector<std::uint8_t>& out, int bits) : m_out(out), m_bits(bits) {}
    void put(unsigned value) {
        for (int i = m_bits - 1; i >= 0; --i) {
            m_acc = static_cast<std::uint8_t>((m_acc << 1) | ((value >> i) & 1U));
            if (++m_fill == 8) {
                m_out.push_back(m_acc);
                m_acc = 0;
                m_fill = 0;
            }
        }
    }
    void flush() {
        if (m_fill > 0) {
            m_out.push_back(static_cast<std::uint8_t>(m_acc << (8 - m_fill)));
            m_acc = 0;
            m_fill = 0;
        }
    }

private:
    std::vector<std::uint8_t>& m_out;
    int m_bits;
    std::uint8_t m_acc = 0;
    int m_fill = 0;
};

} // namespace

Result<std::vector<PanelImage>, PrinterError> facePanels(const Raster& face,
                                                         const std::vector<Panel>& panels) {
    // The renderer draws the card itself, 85.60 x 53.98 mm at 300 dpi (1011 x 638); the printer's
    // bitmap is 1016 x 648 (guide p. 4), a little larger than the card. A face up to that size
    // is centred on it; the border around it stays white (nothing prints off the card's edge).
    if (!face.valid() || face.dpi != kFaceDpi || face.width > kFaceWidth ||
        face.height > kFaceHeight || face.width < kFaceWidth * 9 / 10 ||
        face.height < kFaceHeight * 9 / 10) {
        return fail(PrinterError{
            PrinterFault::BadImage,
            fmt::format("the card face is {} x {} at {} dpi; an Evolis printer prints CR80 "
                        "faces at {} dpi of at most {} x {} dots (guide A5013 p. 4)",
                        face.width, face.height, face.dpi, kFaceDpi, kFaceWidth, kFaceHeight)});
    }
    const int offsetX = (kFaceWidth - face.width) / 2;
    const int offsetY = (kFaceHeight - face.height) / 2;
    const bool resinUsed = std::find(panels.begin(), panels.end(), Panel::Black) != panels.end();
    std::vector<PanelImage> out;
    for (Panel panel : panels) {
        const int levels = (panel == Panel::Black || panel == Panel::Overlay) ? 2 : 32;
        const int bits = bitsPerDot(levels);
        const unsigned maxValue = (1U << bits) - 1;
        PanelImage image{panel, levels, {}};
        image.data.reserve(panelBytes(levels));
        BitWriter writer(image.data, bits);
        for (int line = 0; line < kLines; ++line) {
            for (int dot = 0; dot < kLineDots; ++dot) {
                const auto p = facePixelOf(line, dot);
                const int x = p.x - offsetX;
                const int y = p.y - offsetY;
                std::uint8_t r = 255, g = 255, b = 255; // outside the face: white, no ink
                if (x >= 0 && x < face.width && y >= 0 && y < face.height) {
                    const std::size_t at =
                        3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(face.width) +
                             static_cast<std::size_t>(x));
                    r = face.rgb[at];
                    g = face.rgb[at + 1];
                    b = face.rgb[at + 2];
                }
                const bool resin = isResinBlack(r, g, b);
                unsigned value = 0;
                switch (panel) {
                case Panel::Black:
                    value = resin ? 1 : 0;
                    break;
                case Panel::Overlay:
                    value = 1;
                    break; // varnish over the whole face
                case Panel::Yellow:
                case Panel::Magenta:
                case Panel::Cyan: {
                    // GUESS: a value is the amount of dye, 0 none, 31 full (subtractive: yellow
                    // absorbs blue, magenta green, cyan red).
                    if (resin && resinUsed) {
                        value = 0; // the resin panel prints it
                        break;
                    }
                    const std::uint8_t channel = panel == Panel::Yellow    ? b
                                                 : panel == Panel::Magenta ? g
                                                                           : r;
                    value = ((255U - channel) * maxValue + 127U) / 255U;
                    break;
                }
                }
                writer.put(value);
            }
        }
        writer.flush();
        out.push_back(std::move(image));
    }
    return out;
}

Result<PrinterAddress, std::string> parsePrinterAddress(std::string_view uri) {
    PrinterAddress a;
    if (uri.substr(0, 6) == "tcp://") {
        auto rest = uri.substr(6);
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos || colon == 0) {
            return fail(fmt::format("\"{}\" has no port: write tcp://HOST:PORT", uri));
        }
        a.kind = PrinterAddress::Kind::Tcp;
        a.host = std::string(rest.substr(0, colon));
        if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') {
            a.host = a.host.substr(1, a.host.size() - 2);
        }
        const auto portText = rest.substr(colon + 1);
        unsigned port = 0;
        auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
        if (ec != std::errc() || end != portText.data() + portText.size() || port == 0 ||
            port > 65535) {
            return fail(fmt::format("\"{}\": the port must be a number from 1 to 65535", uri));
        }
        a.port = static_cast<std::uint16_t>(port);
        return a;
    }
    if (uri.substr(0, 6) == "usb://") {
        a.kind = PrinterAddress::Kind::UsbLp;
        a.device = std::string(uri.substr(6));
        if (a.device.empty() || a.device.front() != '/') {
            return fail(fmt::format("\"{}\": write usb:///dev/usb/lpN", uri));
        }
        return a;
    }
    return fail(fmt::format("\"{}\" is not a printer address: write tcp://HOST:PORT or "
                            "usb:///dev/usb/lpN",
                            uri));
}

} // namespace unioncard::printer::evolis
