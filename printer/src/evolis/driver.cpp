// SPDX-License-Identifier: Apache-2.0
// EvolisPrinter: the CardPrinter interface over the Evolis command language. One command at a
// time, each answered by one line (GUESS, evolis.hpp); page numbers: guide A5013 Rev. E.

#include <unioncard/printer/evolis.hpp>

#include <fmt/format.h>

#include <charconv>

namespace unioncard::printer::evolis {

namespace {

constexpr std::size_t kMaxReply = 4096;

PrinterError refusal(std::string_view what, const Reply& reply) {
    const PrinterFault fault = faultOfError(reply.text);
    return PrinterError{fault, fmt::format("{}: the printer answered \"{}\". {}", what, reply.text,
                                           operatorAction(fault))};
}

std::optional<std::uint64_t> number(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

} // namespace

EvolisPrinter::EvolisPrinter(std::unique_ptr<Transport> transport, DriverOptions options)
    : m_transport(std::move(transport)), m_options(std::move(options)) {}

Result<Reply, PrinterError> EvolisPrinter::command(std::span<const std::uint8_t> bytes,
                                                   std::chrono::milliseconds timeout) {
    if (m_lost || !m_transport) {
        return fail(PrinterError{PrinterFault::Offline,
                                 "the connection to the printer was lost earlier; reconnect and "
                                 "press Recover"});
    }
    if (auto sent = m_transport->send(bytes); !sent) {
        m_lost = true;
        return fail(sent.error());
    }
    m_sent += bytes.size();
    for (;;) {
        if (const auto cr = m_pending.find(static_cast<char>(kEnd)); cr != std::string::npos) {
            std::string line = m_pending.substr(0, cr);
            m_pending.erase(0, cr + 1);
            return parseReply(line);
        }
        if (m_pending.size() > kMaxReply) {
            m_lost = true;
            return fail(PrinterError{PrinterFault::ProtocolError,
                                     fmt::format("the printer sent {} bytes without ending its "
                                                 "answer; this is not the Evolis language",
                                                 m_pending.size())});
        }
        std::array<std::uint8_t, 512> buffer{};
        auto got = m_transport->receive(buffer, timeout);
        if (!got) {
            m_lost = true;
            return fail(got.error());
        }
        m_received += *got;
        m_pending.append(reinterpret_cast<const char*>(buffer.data()), *got);
    }
}

Result<Reply, PrinterError> EvolisPrinter::ask(std::string_view name,
                                               std::initializer_list<std::string_view> params) {
    const auto bytes = encodeCommand(name, params);
    return command(bytes, m_options.replyTimeout);
}

Result<Done, PrinterError> EvolisPrinter::expectOk(std::string_view what, std::string_view name,
                                                   std::initializer_list<std::string_view> params,
                                                   std::chrono::milliseconds timeout) {
    const auto bytes = encodeCommand(name, params);
    auto reply = command(bytes, timeout.count() > 0 ? timeout : m_options.replyTimeout);
    if (!reply) {
        return fail(reply.error());
    }
    if (reply->kind == Reply::Kind::Ok) {
        return Done{};
    }
    if (reply->kind == Reply::Kind::Error) {
        return fail(refusal(what, *reply));
    }
    return fail(PrinterError{
        PrinterFault::ProtocolError,
        fmt::format("{}: the printer answered \"{}\" where OK was expected", what, reply->text)});
}

Result<PrinterInfo, PrinterError> EvolisPrinter::info() {
    PrinterInfo info;
    // Rtp model, Rsn serial number (p. 38), Rfv firmware version (p. 32), Rr ribbon type (p. 36).
    std::pair<const char*, std::string*> reads[] = {
        {"Rtp", &info.model}, {"Rsn", &info.serial}, {"Rfv", &info.firmware}, {"Rr", &info.ribbon}};
    for (auto& [name, field] : reads) {
        auto r = ask(name);
        if (!r) {
            return fail(r.error());
        }
        if (r->kind == Reply::Kind::Error) {
            return fail(refusal(fmt::format("reading {}", name), *r));
        }
        *field = r->text;
    }
    return info;
}

Result<bool, PrinterError> EvolisPrinter::cardInside() {
    // Rlr;p (p. 34): "NO CARD", or "ERR CARD" when a card is in the printing module or feeder.
    auto r = ask("Rlr", {"p"});
    if (!r) {
        return fail(r.error());
    }
    if (r->text == "NO CARD") {
        return false;
    }
    if (r->text == "ERR CARD") {
        return true;
    }
    return fail(PrinterError{PrinterFault::ProtocolError,
                             fmt::format("Rlr;p answered \"{}\"; the guide (p. 34) defines only "
                                         "NO CARD and ERR CARD",
                                         r->text)});
}

Result<PrinterStatus, PrinterError> EvolisPrinter::status() {
    PrinterStatus s;
    auto offline = [](const PrinterError& e) {
        PrinterStatus o;
        o.state = PrinterState::Offline;
        o.fault = PrinterFault::Offline;
        o.detail = e.message;
        return o;
    };
    // Rlr (p. 34, "reads the last answer of the printer"): GUESS, the printer's standing
    // condition, "OK" or one of the "ERR ..." words.
    auto last = ask("Rlr");
    if (!last) {
        if (last.error().code == PrinterFault::Offline) {
            return offline(last.error());
        }
        return fail(last.error());
    }
    s.detail = last->text;
    if (last->kind == Reply::Kind::Ok) {
        s.state = PrinterState::Ready;
        s.fault = PrinterFault::None;
    } else if (last->kind == Reply::Kind::Error) {
        s.fault = faultOfError(last->text);
        s.state = s.fault == PrinterFault::Busy ? PrinterState::Busy : PrinterState::Fault;
    } else {
        return fail(PrinterError{PrinterFault::ProtocolError,
                                 fmt::format("Rlr answered \"{}\"", last->text)});
    }
    auto inside = cardInside();
    if (!inside) {
        if (inside.error().code == PrinterFault::Offline) {
            return offline(inside.error());
        }
        return fail(inside.error());
    }
    s.cardInside = *inside;
    auto c = counters();
    if (!c) {
        if (c.error().code == PrinterFault::Offline) {
            return offline(c.error());
        }
        return fail(c.error());
    }
    s.ribbonLow = c->ribbonCardsLeft && *c->ribbonCardsLeft < m_options.ribbonLowCards &&
                  s.fault != PrinterFault::RibbonOut;
    return s;
}

Result<PrinterCounters, PrinterError> EvolisPrinter::counters() {
    PrinterCounters c;
    // Rco;c inserted cards, Rco;p printed panels, Rco;l cards the ribbon can still print
    // ("not accurate"), guide p. 31 (the page prints the last option as "I"; Printer::EVOLIS
    // sends "l").
    std::pair<const char*, std::uint64_t*> reads[] = {{"c", &c.cardsInserted},
                                                      {"p", &c.panelsPrinted}};
    for (auto& [option, field] : reads) {
        auto r = ask("Rco", {option});
        if (!r) {
            return fail(r.error());
        }
        auto n = number(r->text);
        if (!n) {
            return fail(
                PrinterError{PrinterFault::ProtocolError,
                             fmt::format("Rco;{} answered \"{}\", not a number", option, r->text)});
        }
        *field = *n;
    }
    auto left = ask("Rco", {"l"});
    if (!left) {
        return fail(left.error());
    }
    if (auto n = number(left->text)) {
        c.ribbonCardsLeft = *n;
    }
    c.bytesSent = m_sent;
    c.bytesReceived = m_received;
    return c;
}

Result<Done, PrinterError> EvolisPrinter::feedToContactless() {
    // Sic (p. 43): a card from the feeder to the contactless station, offset by Poc (p. 61).
    return expectOk("feeding a card to the contactless station", "Sic", {}, m_options.printTimeout);
}

Result<PrintReport, PrinterError> EvolisPrinter::printCard(const Raster& front,
                                                           const std::optional<Raster>& back) {
    auto layout = ribbonLayout(m_options.ribbon);
    if (!layout) {
        return fail(PrinterError{
            PrinterFault::BadImage,
            fmt::format("ribbon \"{}\" is not one this driver prints with", m_options.ribbon)});
    }
    // Everything is converted before the first byte goes out: a face of the wrong size never
    // leaves a card half printed.
    auto frontPanels = facePanels(front, layout->front);
    if (!frontPanels) {
        return fail(frontPanels.error());
    }
    std::vector<PanelImage> backPanels;
    if (back) {
        auto b = facePanels(*back, layout->back);
        if (!b) {
            return fail(b.error());
        }
        backPanels = std::move(b).value();
    }
    const std::uint64_t before = m_sent;
    auto failed = [&](PrinterError error) -> Result<PrintReport, PrinterError> {
        if (error.code == PrinterFault::Offline) {
            return fail(error);
        }
        // The card in the printer is spoiled: send it to the reject box and say so. A jam
        // needs the printer's software reset (Srs, p. 44) before the card moves again.
        auto rejected = rejectIfInside(error.code == PrinterFault::CardJam);
        if (rejected && rejected->cardRejected) {
            error.cardRejected = true;
            error.message += " The card went to the reject box: take it out and destroy it.";
        } else if (!rejected) {
            error.message += fmt::format(" The card could not be sent to the reject box ({}); "
                                         "after fixing the fault press Recover.",
                                         rejected.error().message);
        }
        return fail(std::move(error));
    };
    // Ss starts the sequence (p. 44), Sr / Sv choose the side (pp. 43, 45), each Db downloads a
    // panel and prints the one before (p. 69), Se prints the last and ejects the card (p. 42).
    // GUESS: a sequence started while a card waits at the contactless station (after Sic)
    // prints on that card.
    // Ss moves the card from the contactless station to the print head: a card move.
    if (auto r = expectOk("starting the print sequence", "Ss", {}, m_options.printTimeout); !r) {
        return failed(r.error());
    }
    int panels = 0;
    auto side = [&](const char* sideCommand, const std::vector<PanelImage>& images) {
        if (auto r = expectOk("choosing the card side", sideCommand); !r) {
            return Result<Done, PrinterError>(fail(r.error()));
        }
        for (const auto& image : images) {
            const auto bytes = encodeBitmap(image.panel, image.levels, image.data);
            auto reply = command(bytes, m_options.printTimeout);
            if (!reply) {
                return Result<Done, PrinterError>(fail(reply.error()));
            }
            if (reply->kind != Reply::Kind::Ok) {
                return Result<Done, PrinterError>(fail(refusal(
                    fmt::format("printing the {} panel", panelLetter(image.panel)), *reply)));
            }
            ++panels;
        }
        return Result<Done, PrinterError>(Done{});
    };
    if (auto r = side("Sr", *frontPanels); !r) {
        return failed(r.error());
    }
    if (back) {
        if (auto r = side("Sv", backPanels); !r) {
            return failed(r.error());
        }
    }
    if (auto r = expectOk("printing and ejecting the card", "Se", {}, m_options.printTimeout); !r) {
        return failed(r.error());
    }
    return PrintReport{m_sent - before, panels};
}

Result<Done, PrinterError> EvolisPrinter::eject() {
    // GUESS: Se outside a sequence ejects the card in the printer unprinted (p. 42 defines Se as
    // ending a sequence started by Ss, Si or Sr; Sic is an insertion like Si).
    return expectOk("ejecting the card", "Se", {}, m_options.printTimeout);
}

Result<Done, PrinterError> EvolisPrinter::reject() {
    // Ser (p. 42): the card goes into the reject box.
    return expectOk("sending the card to the reject box", "Ser", {}, m_options.printTimeout);
}

Result<RecoverReport, PrinterError> EvolisPrinter::rejectIfInside(bool resetFirst) {
    RecoverReport report;
    if (resetFirst) {
        // Srs (p. 44): resets the printer's software, as at power on; GUESS: it clears a jam
        // the mechanism can recover from.
        if (auto r = expectOk("resetting the printer", "Srs", {}, m_options.printTimeout); !r) {
            return fail(r.error());
        }
    }
    auto inside = cardInside();
    if (!inside) {
        return fail(inside.error());
    }
    if (*inside) {
        if (auto r = reject(); !r) {
            return fail(r.error());
        }
        report.cardRejected = true;
    }
    auto s = status();
    if (!s) {
        return fail(s.error());
    }
    report.status = std::move(s).value();
    return report;
}

Result<RecoverReport, PrinterError> EvolisPrinter::cancel() {
    return rejectIfInside(false);
}

Result<RecoverReport, PrinterError> EvolisPrinter::recover() {
    return rejectIfInside(true);
}

Result<std::unique_ptr<EvolisPrinter>, PrinterError>
openPrinter(std::string_view uri, DriverOptions options, std::chrono::milliseconds timeout) {
    auto address = parsePrinterAddress(uri);
    if (!address) {
        return fail(PrinterError{PrinterFault::Offline, address.error()});
    }
    auto transport = connect(*address, timeout);
    if (!transport) {
        return fail(transport.error());
    }
    return std::make_unique<EvolisPrinter>(std::move(transport).value(), std::move(options));
}

} // namespace unioncard::printer::evolis
