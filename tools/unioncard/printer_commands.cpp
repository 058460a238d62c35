// SPDX-License-Identifier: Apache-2.0
#include "printer_commands.hpp"

#include <unioncard/card/pcsc/pcsc.hpp>
#include <unioncard/printer/evolis.hpp>
#include <unioncard/printer/printer_profile.hpp>

#include <fmt/format.h>

#include <array>
#include <filesystem>
#include <iostream>

namespace unioncard::cli {

namespace fs = std::filesystem;
namespace pr = unioncard::printer;
namespace ev = unioncard::printer::evolis;
using nlohmann::json;

namespace {

struct PrinterArgs {
    std::string printer;
    fs::path profile;
    std::string encoderReader;
    bool noBack = false;
};

json errorJson(const pr::PrinterError& e) {
    return {{"fault", std::string(pr::faultName(e.code))},
            {"action", std::string(pr::operatorAction(e.code))},
            {"card_rejected", e.cardRejected}};
}

int refusePrinter(const Options& o, const pr::PrinterError& e) {
    return refuse(o, kDoesNotHold, e.message, errorJson(e));
}

// The printer's address and the driver's options, from --printer and --profile.
Result<std::pair<std::string, ev::DriverOptions>, std::string> settings(PrinterArgs& a) {
    ev::DriverOptions options;
    std::string uri = a.printer;
    if (!a.profile.empty()) {
        auto p = pr::loadPrinterProfile(a.profile);
        if (!p) {
            return fail(p.error());
        }
        options.ribbon = p->ribbon;
        options.ribbonLowCards = p->ribbonLowCards;
        if (uri.empty()) {
            uri = p->connection;
        }
        if (a.encoderReader.empty()) {
            if (!p->encoderSerial.empty() && p->encoderReader.empty()) {
                return fail(fmt::format(
                    "{} names its encoder by serial number ({}); this command finds readers by "
                    "name only so far: give --encoder-reader",
                    a.profile.string(), p->encoderSerial));
            }
            a.encoderReader = p->encoderReader;
        }
    }
    if (uri.empty()) {
        return fail(std::string("give --printer tcp://HOST:PORT (or --profile FILE)"));
    }
    return std::make_pair(uri, options);
}

// ------------------------------------------------------------------------- a test face

// A 5 x 7 dot font (rows top to bottom, 5 bits each, most significant bit left) for the test
// card's words, so that tools need no renderer for it.
struct Glyph {
    char c;
    std::array<std::uint8_t, 7> rows;
};
constexpr Glyph kFont[] = {
    {'A', {14, 17, 17, 31, 17, 17, 17}}, {'B', {30, 17, 17, 30, 17, 17, 30}},
    {'C', {14, 17, 16, 16, 16, 17, 14}}, {'D', {30, 17, 17, 17, 17, 17, 30}},
    {'E', {31, 16, 16, 30, 16, 16, 31}}, {'F', {31, 16, 16, 30, 16, 16, 16}},
    {'G', {14, 17, 16, 23, 17, 17, 15}}, {'H', {17, 17, 17, 31, 17, 17, 17}},
    {'I', {14, 4, 4, 4, 4, 4, 14}},      {'J', {7, 2, 2, 2, 2, 18, 12}},
    {'K', {17, 18, 20, 24, 20, 18, 17}}, {'L', {16, 16, 16, 16, 16, 16, 31}},
    {'M', {17, 27, 21, 21, 17, 17, 17}}, {'N', {17, 17, 25, 21, 19, 17, 17}},
    {'O', {14, 17, 17, 17, 17, 17, 14}}, {'P', {30, 17, 17, 30, 16, 16, 16}},
    {'Q', {14, 17, 17, 17, 21, 18, 13}}, {'R', {30, 17, 17, 30, 20, 18, 17}},
    {'S', {15, 16, 16, 14, 1, 1, 30}},   {'T', {31, 4, 4, 4, 4, 4, 4}},
    {'U', {17, 17, 17, 17, 17, 17, 14}}, {'V', {17, 17, 17, 17, 17, 10, 4}},
    {'W', {17, 17, 17, 21, 21, 21, 10}}, {'X', {17, 17, 10, 4, 10, 17, 17}},
    {'Y', {17, 17, 10, 4, 4, 4, 4}},     {'Z', {31, 1, 2, 4, 8, 16, 31}},
    {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},
    {'2', {14, 17, 1, 2, 4, 8, 31}},     {'3', {31, 2, 4, 2, 1, 17, 14}},
    {'4', {2, 6, 10, 18, 31, 2, 2}},     {'5', {31, 16, 30, 1, 1, 17, 14}},
    {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},
    {'8', {14, 17, 17, 14, 17, 17, 14}}, {'9', {14, 17, 17, 15, 1, 2, 12}},
    {'-', {0, 0, 0, 31, 0, 0, 0}},       {'.', {0, 0, 0, 0, 0, 12, 12}},
    {':', {0, 12, 12, 0, 12, 12, 0}},    {'(', {2, 4, 8, 8, 8, 4, 2}},
    {')', {8, 4, 2, 2, 2, 4, 8}},        {'/', {1, 1, 2, 4, 8, 16, 16}},
};

void fill(pr::Raster& r, int x0, int y0, int w, int h, std::array<std::uint8_t, 3> rgb) {
    for (int y = std::max(0, y0); y < std::min(r.height, y0 + h); ++y) {
        for (int x = std::max(0, x0); x < std::min(r.width, x0 + w); ++x) {
            const auto at = 3 * (static_cast<std::size_t>(y) * r.width + x);
            r.rgb[at] = rgb[0];
            r.rgb[at + 1] = rgb[1];
            r.rgb[at + 2] = rgb[2];
        }
    }
}

void text(pr::Raster& r, int x, int y, int scale, std::string_view words) {
    for (char c : words) {
        const char up = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        for (const auto& g : kFont) {
            if (g.c != up) {
                continue;
            }
            for (int row = 0; row < 7; ++row) {
                for (int col = 0; col < 5; ++col) {
                    if ((g.rows[row] >> (4 - col)) & 1) {
                        fill(r, x + col * scale, y + row * scale, scale, scale, {0, 0, 0});
                    }
                }
            }
        }
        x += 6 * scale;
    }
}

pr::Raster blankFace() {
    pr::Raster r;
    r.width = ev::kFaceWidth;
    r.height = ev::kFaceHeight;
    r.dpi = ev::kFaceDpi;
    r.rgb.assign(static_cast<std::size_t>(r.width) * r.height * 3, 255);
    return r;
}

// The front: colour bars (each ribbon dye alone and mixed), a grey ramp, a black frame and the
// printer's name; the back: black words only (the back prints on K).
pr::Raster testFront(const std::string& printerName) {
    auto r = blankFace();
    const std::array<std::array<std::uint8_t, 3>, 7> bars{{{0, 255, 255},
                                                           {255, 0, 255},
                                                           {255, 255, 0},
                                                           {255, 0, 0},
                                                           {0, 255, 0},
                                                           {0, 0, 255},
                                                           {40, 40, 40}}};
    const int barWidth = (r.width - 80) / static_cast<int>(bars.size());
    for (std::size_t i = 0; i < bars.size(); ++i) {
        fill(r, 40 + static_cast<int>(i) * barWidth, 40, barWidth, 200, bars[i]);
    }
    for (int i = 0; i < 16; ++i) {
        const auto v = static_cast<std::uint8_t>(255 - i * 16);
        fill(r, 40 + i * (r.width - 80) / 16, 260, (r.width - 80) / 16 + 1, 80, {v, v, v});
    }
    fill(r, 0, 0, r.width, 12, {0, 0, 0});
    fill(r, 0, r.height - 12, r.width, 12, {0, 0, 0});
    fill(r, 0, 0, 12, r.height, {0, 0, 0});
    fill(r, r.width - 12, 0, 12, r.height, {0, 0, 0});
    text(r, 40, 380, 6, "UNIONCARD TEST CARD");
    text(r, 40, 470, 3, printerName.substr(0, 52));
    return r;
}

pr::Raster testBack(const std::string& serial) {
    auto r = blankFace();
    text(r, 40, 200, 6, "BACK / K PANEL");
    text(r, 40, 300, 4, "CHIP " + serial);
    return r;
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
    std::string out;
    for (auto b : bytes) {
        out += fmt::format("{:02X}", b);
    }
    return out;
}

// ------------------------------------------------------------------------------ commands

int statusCommand(const Options& o, PrinterArgs a) {
    auto s = settings(a);
    if (!s) {
        return refuse(o, kUsage, s.error());
    }
    auto printer = ev::openPrinter(s->first, s->second);
    if (!printer) {
        return refusePrinter(o, printer.error());
    }
    auto status = (*printer)->status();
    if (!status) {
        return refusePrinter(o, status.error());
    }
    json result{{"printer", s->first},
                {"state", std::string(pr::stateName(status->state))},
                {"fault", std::string(pr::faultName(status->fault))},
                {"action", std::string(pr::operatorAction(status->fault))},
                {"ribbon_low", status->ribbonLow},
                {"card_inside", status->cardInside},
                {"detail", status->detail}};
    std::string textOut;
    if (status->state != pr::PrinterState::Offline) {
        auto info = (*printer)->info();
        auto counters = (*printer)->counters();
        if (!info) {
            return refusePrinter(o, info.error());
        }
        if (!counters) {
            return refusePrinter(o, counters.error());
        }
        result["model"] = info->model;
        result["serial"] = info->serial;
        result["firmware"] = info->firmware;
        result["ribbon"] = info->ribbon;
        result["counters"] = {{"cards_inserted", counters->cardsInserted},
                              {"panels_printed", counters->panelsPrinted}};
        if (counters->ribbonCardsLeft) {
            result["counters"]["ribbon_cards_left"] = *counters->ribbonCardsLeft;
        }
        textOut = fmt::format(
            "printer {}: {} (serial {}, firmware {})\nribbon {}{}, cards inserted {}, panels "
            "printed {}\n",
            s->first, info->model, info->serial, info->firmware, info->ribbon,
            counters->ribbonCardsLeft
                ? fmt::format(" ({} cards left{})", *counters->ribbonCardsLeft,
                              status->ribbonLow ? ", LOW: have a new ribbon ready" : "")
                : "",
            counters->cardsInserted, counters->panelsPrinted);
    }
    textOut += fmt::format("state: {}{}\n", pr::stateName(status->state),
                           status->cardInside ? ", a card is inside" : "");
    if (status->fault != pr::PrinterFault::None) {
        textOut += fmt::format("fault: {} ({})\naction: {}\n", pr::faultName(status->fault),
                               status->detail, pr::operatorAction(status->fault));
    }
    if (status->state == pr::PrinterState::Ready) {
        return succeed(o, result, textOut);
    }
    if (o.json) {
        std::cout << result.dump() << "\n";
    } else {
        std::cout << textOut;
    }
    std::cerr << fmt::format("unioncard: the printer is {}: {}\n", pr::stateName(status->state),
                             pr::operatorAction(status->fault));
    return kDoesNotHold;
}

int testCardCommand(const Options& o, PrinterArgs a) {
    auto s = settings(a);
    if (!s) {
        return refuse(o, kUsage, s.error());
    }
    auto opened = ev::openPrinter(s->first, s->second);
    if (!opened) {
        return refusePrinter(o, opened.error());
    }
    auto& printer = **opened;
    auto info = printer.info();
    if (!info) {
        return refusePrinter(o, info.error());
    }
    auto status = printer.status();
    if (!status) {
        return refusePrinter(o, status.error());
    }
    if (status->state != pr::PrinterState::Ready || status->cardInside) {
        const auto fault = status->cardInside && status->fault == pr::PrinterFault::None
                               ? pr::PrinterFault::CardInside
                               : status->fault;
        return refusePrinter(
            o, pr::PrinterError{fault, fmt::format("the printer is not ready ({}): {}",
                                                   status->detail, pr::operatorAction(fault))});
    }
    const auto before = printer.bytesSent();
    if (auto fed = printer.feedToContactless(); !fed) {
        return refusePrinter(o, fed.error());
    }
    json result{{"printer", s->first}, {"model", info->model}};
    std::string serial = "no-encoder";
    if (!a.encoderReader.empty()) {
        // The card is at the contactless station: the encoder (a PC/SC reader) must see it.
        auto uid = [&]() -> Result<std::vector<std::uint8_t>, std::string> {
            auto context = card::pcsc::PcscContext::establish();
            if (!context) {
                return fail(context.error().message);
            }
            auto readers = context->listReaders();
            if (!readers) {
                return fail(readers.error().message);
            }
            for (const auto& r : *readers) {
                if (r == a.encoderReader || r.rfind(a.encoderReader, 0) == 0) {
                    auto connection = context->connect(r);
                    if (!connection) {
                        continue; // another slot of the same reader
                    }
                    auto bytes = card::pcsc::readUid(**connection);
                    if (!bytes) {
                        return fail(bytes.error().message);
                    }
                    result["encoder_reader"] = r;
                    return std::vector<std::uint8_t>(bytes->begin(), bytes->end());
                }
            }
            return fail(fmt::format("no card on a reader called \"{}\"", a.encoderReader));
        }();
        if (!uid) {
            auto rejected = printer.reject();
            pr::PrinterError e{pr::PrinterFault::EncoderError,
                               fmt::format("the card is at the contactless station but the "
                                           "encoder does not see it: {}. {}",
                                           uid.error(),
                                           pr::operatorAction(pr::PrinterFault::EncoderError)),
                               rejected.ok()};
            return refusePrinter(o, e);
        }
        serial = hex(*uid);
        result["uid"] = serial;
    }
    std::optional<pr::Raster> back;
    if (!a.noBack) {
        back = testBack(serial);
    }
    auto printed = printer.printCard(testFront(info->model + " " + info->serial), back);
    if (!printed) {
        return refusePrinter(o, printed.error());
    }
    const auto sent = printer.bytesSent() - before;
    result["panels"] = printed->panels;
    result["bytes_sent_print"] = printed->bytesSent;
    result["bytes_sent"] = sent;
    result["outcome"] = "ejected";
    return succeed(
        o, result,
        fmt::format("test card {}: fed, {}printed ({} panels), ejected; {} bytes sent ({} for "
                    "printing)\n",
                    serial, a.encoderReader.empty() ? "" : "seen by the encoder, ", printed->panels,
                    sent, printed->bytesSent));
}

} // namespace

void addPrinterCommands(CLI::App& app, const Options& o, int& status) {
    auto* printer = app.add_subcommand("printer", "card printers with a contactless encoder");
    printer->require_subcommand(1);
    auto args = std::make_shared<PrinterArgs>();
    auto common = [args](CLI::App* c) {
        c->add_option("--printer", args->printer,
                      "the printer: tcp://HOST:PORT or usb:///dev/usb/lpN");
        c->add_option("--profile", args->profile,
                      "a printer profile (firmware-config/printers/*.toml): address, ribbon, "
                      "encoder reader");
    };
    auto* st = printer->add_subcommand("status", "state, fault and what to do, counters, firmware");
    common(st);
    st->callback([&o, &status, args] { status = statusCommand(o, *args); });
    auto* test = printer->add_subcommand(
        "test-card",
        "feed a card to the encoder, check the chip is seen, print a test face, eject");
    common(test);
    test->add_option("--encoder-reader", args->encoderReader,
                     "the PC/SC reader inside the printer (full name or its start)");
    test->add_flag("--no-back", args->noBack, "print the front only");
    test->callback([&o, &status, args] { status = testCardCommand(o, *args); });
}

} // namespace unioncard::cli
