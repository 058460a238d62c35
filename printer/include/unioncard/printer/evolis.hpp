// SPDX-License-Identifier: Apache-2.0
#pragma once

// The Evolis card printers' command language, and a CardPrinter that speaks it.
//
// Source: "Evolis Card Printers Programming Guide", part number A5013 Rev. E (Evolis, 2004);
// pages below are that PDF's page numbers (the summary tables on pp. 8-9 carry stale numbers).
//  - p. 4  "Communication Protocol": ESC command ; parameter ; ... CR. Start character ESC (1B),
//          separator ';', stop character CR (0D).
//  - p. 4  "General Working": bitmaps of 1016 x 648 dots at 300 dpi.
//  - p. 14 Db;panel;levels;data: one ribbon panel (y, m, c, k, o) of 648 x 1016 dots; k and o in
//          2 levels (1 bit a dot), y m c in 32/64/128 levels (5/6/7 bits a dot), packed so that
//          every bit is used.
//  - pp. 42-45 sequences: Ss starts, Sr / Sv choose the front / back, Se ends the sequence,
//          prints what is left and ejects the card; Ser sends the card to the reject box; Sic
//          takes a card to the contactless station; Srs resets the printer's software.
//  - pp. 31-38 reads: Rco;c / Rco;p / Rco;l counters, Rfv firmware, Rsn serial, Rtp model, Rr
//          ribbon type, Rlr;p "NO CARD" / "ERR CARD" (p. 34).
//  - p. 7  the error classes of the ACK/NACK protocol: command, parameter, time-out/mechanical,
//          cover open, feeder, ribbon.
// The guide does not define the text of every answer; where this driver had to choose, the
// code says GUESS and docs/printing.md lists the guesses. The simulator (sim/, evolis_printer.hpp)
// answers the same way, so a real printer that answers otherwise shows up in one place.

#include <unioncard/printer/card_printer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::printer::evolis {

inline constexpr std::uint8_t kStart = 0x1B;    ///< ESC, guide p. 4
inline constexpr std::uint8_t kSeparator = ';'; ///< guide p. 4
inline constexpr std::uint8_t kEnd = 0x0D;      ///< CR, guide p. 4

/// A panel bitmap is 1016 lines of 648 dots (guide pp. 4, 14): the card's long edge (85.6 mm at
/// 300 dpi, 1011 dots, rounded up) is the printing direction, a line runs across the short edge.
inline constexpr int kLineDots = 648;
inline constexpr int kLines = 1016;
/// The card face as the renderer draws it: landscape, 1016 x 648 at 300 dpi.
inline constexpr int kFaceWidth = kLines;
inline constexpr int kFaceHeight = kLineDots;
inline constexpr int kFaceDpi = 300;

enum class Panel { Yellow, Magenta, Cyan, Black, Overlay };
char panelLetter(Panel panel); ///< y m c k o (guide p. 14)
std::optional<Panel> panelFromLetter(char letter);

/// Bytes of one Db panel at this many grey levels (2, 32, 64 or 128), or 0 if the guide defines
/// no such mode: 648 x 1016 dots x bits a dot / 8 (guide p. 14; the byte counts printed there do
/// not match its own formula, this is the formula).
std::size_t panelBytes(int levels);
/// Bits a dot for a level count: 2 -> 1, 32 -> 5, 64 -> 6, 128 -> 7; 0 if unknown.
int bitsPerDot(int levels);

/// ESC name;p1;...;pn CR
std::vector<std::uint8_t> encodeCommand(std::string_view name,
                                        std::initializer_list<std::string_view> params = {});
/// ESC Db;panel;levels;<data> CR: `data` must be panelBytes(levels) long.
std::vector<std::uint8_t> encodeBitmap(Panel panel, int levels, std::span<const std::uint8_t> data);

/// One answer from the printer. GUESS (the guide shows answers only as words: "OK" p. 32 and
/// p. 64, "NO CARD" / "ERR CARD" p. 34): an answer is ASCII text ending in CR; "OK" is success,
/// "ERR <WORDS>" a refusal, anything else the data a read command asked for.
struct Reply {
    enum class Kind { Ok, Data, Error } kind = Kind::Ok;
    std::string text; ///< the whole answer without CR
};
Reply parseReply(std::string_view line);

/// The fault an "ERR ..." answer means. GUESS: the words follow the error classes of the
/// ACK/NACK protocol (guide p. 7): ERR CMD (1), ERR PARAM (2), ERR MECHANICAL (T), ERR COVER
/// OPEN (C), ERR FEEDER EMPTY (F), ERR RIBBON (R); plus ERR CARD / NO CARD from p. 34 and ERR
/// BUSY while another host holds the printer, ERR ENCODER when the card at the contactless
/// station cannot be reached.
PrinterFault faultOfError(std::string_view reply);

/// The dot for the face's pixel: panel line `line` (0..1015) dot `dot` (0..647) is face pixel
/// x = line, y = 647 - dot. Fact from a working driver, not the guide: Printer::EVOLIS (Dobrica
/// Pavlinusic, driver for a Dualys 3) rotates the landscape face 90 degrees clockwise
/// (`pnmflip -rotate270`) into 81-byte lines, most significant bit first, 1 = ink.
struct FacePixel {
    int x;
    int y;
};
inline FacePixel facePixelOf(int line, int dot) {
    return {line, kLineDots - 1 - dot};
}

/// Which panels a ribbon type prints on each side. GUESS for the back of a YMCKO ribbon: the
/// back uses the next YMCKO set, printing its K and O panels.
struct RibbonLayout {
    std::vector<Panel> front;
    std::vector<Panel> back;
    int panelsPerSide = 1; ///< ribbon panels a side consumes
};
std::optional<RibbonLayout> ribbonLayout(std::string_view ribbonType);

/// A face turned into the panels the printer takes.
struct PanelImage {
    Panel panel;
    int levels;
    std::vector<std::uint8_t> data; ///< panelBytes(levels) bytes
};
/// Converts a face to `panels`: Y M C at 32 levels from the subtractive complement of R G B
/// (ink = 255 - channel), where the K panel is not printing; K at 2 levels by thresholding dark,
/// unsaturated pixels (text, lines, the QR code: resin black is sharper than composite black);
/// O at 2 levels covering the whole bitmap (varnish). The face must be at 300 dpi and at most
/// 1016 x 648 (at least 90% of it: the renderer's 1011 x 638 card fits); a smaller face is
/// centred on the bitmap, with white around it.
Result<std::vector<PanelImage>, PrinterError> facePanels(const Raster& face,
                                                         const std::vector<Panel>& panels);
/// Whether a face pixel goes to the K panel (exposed for the simulator's tests and docs).
bool isResinBlack(std::uint8_t r, std::uint8_t g, std::uint8_t b);

// ------------------------------------------------------------------------------- transport

/// A byte stream to the printer: a TCP socket or a USB printer-class device file.
class Transport {
public:
    virtual ~Transport() = default;
    virtual Result<Done, PrinterError> send(std::span<const std::uint8_t> bytes) = 0;
    /// Reads what is there (at least one byte), waiting up to `timeout`.
    virtual Result<std::size_t, PrinterError> receive(std::span<std::uint8_t> buffer,
                                                      std::chrono::milliseconds timeout) = 0;
    virtual std::string describe() const = 0;
};

/// Where a printer is: "tcp://HOST:PORT" (an Evolis on the network, or the simulator) or
/// "usb:///dev/usb/lp0" (the kernel's usblp printer-class device).
struct PrinterAddress {
    enum class Kind { Tcp, UsbLp } kind = Kind::Tcp;
    std::string host;
    std::uint16_t port = 0;
    std::string device;
};
Result<PrinterAddress, std::string> parsePrinterAddress(std::string_view uri);

Result<std::unique_ptr<Transport>, PrinterError> connect(const PrinterAddress& address,
                                                         std::chrono::milliseconds timeout);

// ---------------------------------------------------------------------------------- driver

struct DriverOptions {
    std::string ribbon = "ymcko";                   ///< firmware-config/printers/*.toml ribbon
    std::chrono::milliseconds replyTimeout{5000};   ///< reads, parameters, card moves
    std::chrono::milliseconds printTimeout{120000}; ///< Se: printing and ejecting a card
    std::uint64_t ribbonLowCards = 20;              ///< warn below this many cards left
};

class EvolisPrinter final : public CardPrinter {
public:
    EvolisPrinter(std::unique_ptr<Transport> transport, DriverOptions options);

    Result<PrinterInfo, PrinterError> info() override;
    Result<PrinterStatus, PrinterError> status() override;
    Result<PrinterCounters, PrinterError> counters() override;
    Result<Done, PrinterError> feedToContactless() override;
    Result<PrintReport, PrinterError> printCard(const Raster& front,
                                                const std::optional<Raster>& back) override;
    Result<Done, PrinterError> eject() override;
    Result<Done, PrinterError> reject() override;
    Result<RecoverReport, PrinterError> cancel() override;
    Result<RecoverReport, PrinterError> recover() override;

    /// Sends one command and returns the printer's answer (an "ERR ..." answer is a value here).
    Result<Reply, PrinterError> command(std::span<const std::uint8_t> bytes,
                                        std::chrono::milliseconds timeout);

    std::uint64_t bytesSent() const { return m_sent; }
    std::uint64_t bytesReceived() const { return m_received; }

private:
    Result<Reply, PrinterError> ask(std::string_view name,
                                    std::initializer_list<std::string_view> params = {});
    Result<Done, PrinterError> expectOk(std::string_view what, std::string_view name,
                                        std::initializer_list<std::string_view> params = {},
                                        std::chrono::milliseconds timeout = {});
    Result<bool, PrinterError> cardInside();
    Result<RecoverReport, PrinterError> rejectIfInside(bool resetFirst);

    std::unique_ptr<Transport> m_transport;
    DriverOptions m_options;
    std::string m_pending; ///< bytes received after the last answer's CR
    std::uint64_t m_sent = 0;
    std::uint64_t m_received = 0;
    bool m_lost = false;
};

/// Connects and returns the driver, or Offline.
Result<std::unique_ptr<EvolisPrinter>, PrinterError>
openPrinter(std::string_view uri, DriverOptions options = {},
            std::chrono::milliseconds connectTimeout = std::chrono::milliseconds(5000));

} // namespace unioncard::printer::evolis
