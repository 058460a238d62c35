// SPDX-License-Identifier: Apache-2.0
// `unioncard print preview` and `unioncard print ipp` (docs/printing.md). Thin: the layout, the
// rendering and the IPP exchange live in the printer module; this file reads the files, checks
// the card number with cardlib, and reports.

#include "print_commands.hpp"

#include <unioncard/base/paths.hpp>
#include <unioncard/card/card_number.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/record_text.hpp>
#include <unioncard/printer/card_fields.hpp>
#include <unioncard/printer/ipp.hpp>
#include <unioncard/printer/layout.hpp>
#include <unioncard/printer/renderer.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace unioncard::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path layoutsDir() {
    return base::firmwareConfigDir() / "layouts";
}

struct PrintArgs {
    std::string layout = "union-card";
    fs::path fields;
    fs::path record;
    fs::path out;
    fs::path pdf;
    std::string side = "both";
    std::string printer;
    std::string media;
    int timeout = 120;
    bool noWait = false;
    bool allowEllipsis = false;
};

struct Prepared {
    printer::CardRenderer renderer;
    printer::CardFields fields;
    printer::RenderedCard card;
};

json warningsJson(const std::vector<printer::FitWarning>& warnings) {
    json out = json::array();
    for (const auto& w : warnings) {
        out.push_back({{"side", std::string(printer::toString(w.side))},
                       {"element", w.element},
                       {"text", w.text},
                       {"printed", w.drawn}});
    }
    return out;
}

std::string warningsText(const std::vector<printer::FitWarning>& warnings) {
    std::string text;
    for (const auto& w : warnings) {
        text += fmt::format("warning: {} '{}' did not fit and was cut: \"{}\" printed as \"{}\"\n",
                            printer::toString(w.side), w.element, w.text, w.drawn);
    }
    return text;
}

// Reads the fields (and the record, whose text form becomes the QR), checks the card number
// with cardlib, loads the layout and renders both faces. On failure: the exit code, reported.
Result<Prepared, int> prepare(const Options& o, const PrintArgs& a) {
    using R = Result<Prepared, int>;
    auto bytes = card::readFile(a.fields, 64 * 1024);
    if (!bytes) {
        return R(fail(refuse(o, kDoesNotHold, bytes.error().message)));
    }
    json j = json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return R(fail(
            refuse(o, kDoesNotHold, fmt::format("{} is not a JSON object", a.fields.string()))));
    }
    std::optional<card::CardNumber> recordNumber;
    if (!a.record.empty()) {
        auto record = card::readFile(a.record, 64 * 1024);
        if (!record) {
            return R(fail(refuse(o, kDoesNotHold, record.error().message)));
        }
        auto view = card::inspectRecord(record.value(), schemeOf(o));
        if (!view || !view->record) {
            return R(fail(refuse(o, kDoesNotHold,
                                 fmt::format("{} is not a union card record: {}", a.record.string(),
                                             view ? view->record.error() : view.error()))));
        }
        recordNumber = view->record->number;
        j["qr"] = card::recordToText(record.value());
    }
    // A relative photo path is relative to the fields file, not to where the command runs.
    if (auto it = j.find("photo");
        it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
        const fs::path photo = it->get<std::string>();
        if (photo.is_relative()) {
            *it = (a.fields.parent_path() / photo).string();
        }
    }
    const std::string text = j.dump();
    auto fields = printer::parseCardFields(text);
    if (!fields) {
        return R(fail(refuse(o, kDoesNotHold,
                             fmt::format("{}: {}", a.fields.string(), fields.error().message))));
    }
    auto number = card::CardNumber::parse(fields->cardNumber, schemeOf(o));
    if (!number) {
        return R(fail(
            refuse(o, kDoesNotHold,
                   fmt::format("{}: card_number: {}", a.fields.string(), number.error().message))));
    }
    if (recordNumber && recordNumber->digits() != number->digits()) {
        return R(fail(refuse(o, kDoesNotHold,
                             fmt::format("the record is for card {}, the fields for card {}: "
                                         "print each card with its own record",
                                         recordNumber->formatted(), number->formatted()))));
    }
    auto layout = printer::loadLayout(printer::resolveLayoutPath(a.layout, layoutsDir()));
    if (!layout) {
        return R(fail(refuse(o, kDoesNotHold, layout.error().message,
                             {{"error_code", std::string(toString(layout.error().code))}})));
    }
    auto renderer = printer::CardRenderer::create(std::move(layout).value());
    if (!renderer) {
        return R(fail(refuse(o, kDoesNotHold, renderer.error().message,
                             {{"error_code", std::string(toString(renderer.error().code))}})));
    }
    auto card = renderer->renderCard(fields.value());
    if (!card) {
        return R(fail(refuse(o, kDoesNotHold, card.error().message,
                             {{"error_code", std::string(toString(card.error().code))}})));
    }
    return Prepared{std::move(renderer).value(), std::move(fields).value(),
                    std::move(card).value()};
}

int writeBytes(const Options& o, const fs::path& file, const std::vector<std::uint8_t>& bytes) {
    if (auto err = card::writeFileAtomically(file, bytes, 0644, true)) {
        return refuse(o, kDoesNotHold, err->message);
    }
    return kHolds;
}

int previewCommand(const Options& o, const PrintArgs& a) {
    auto prepared = prepare(o, a);
    if (!prepared) {
        return prepared.error();
    }
    const auto& card = prepared->card;
    const QImage image = a.side == "front"  ? card.front
                         : a.side == "back" ? card.back
                                            : printer::previewImage(card);
    auto png = printer::encodePng(image);
    if (!png) {
        return refuse(o, kDoesNotHold, png.error().message);
    }
    if (int rc = writeBytes(o, a.out, png.value()); rc != kHolds) {
        return rc;
    }
    json result = {{"out", a.out.string()},
                   {"side", a.side},
                   {"width", image.width()},
                   {"height", image.height()},
                   {"dpi", prepared->renderer.layout().dpi},
                   {"bytes", png->size()},
                   {"warnings", warningsJson(card.warnings)}};
    std::string text = fmt::format("Card face{} written to {} ({}x{} dots at {} dpi, {} bytes)\n",
                                   a.side == "both" ? "s" : "", a.out.string(), image.width(),
                                   image.height(), prepared->renderer.layout().dpi, png->size());
    if (!a.pdf.empty()) {
        auto pdf = prepared->renderer.renderPdf(prepared->fields);
        if (!pdf) {
            return refuse(o, kDoesNotHold, pdf.error().message);
        }
        if (int rc = writeBytes(o, a.pdf, pdf->pdf); rc != kHolds) {
            return rc;
        }
        result["pdf"] = a.pdf.string();
        result["pdf_bytes"] = pdf->pdf.size();
        text +=
            fmt::format("PDF for IPP written to {} ({} bytes)\n", a.pdf.string(), pdf->pdf.size());
    }
    // Cut texts are warnings, not failures: the preview is where the operator sees them.
    std::cerr << warningsText(card.warnings);
    return succeed(o, result, text);
}

int ippCommand(const Options& o, const PrintArgs& a) {
    namespace ipp = printer::ipp;
    auto prepared = prepare(o, a);
    if (!prepared) {
        return prepared.error();
    }
    const auto& card = prepared->card;
    if (!card.warnings.empty() && !a.allowEllipsis) {
        return refuse(o, kDoesNotHold,
                      warningsText(card.warnings) +
                          "not printed: a text had to be cut; check it with 'unioncard print "
                          "preview', shorten it in the registry, or pass --allow-ellipsis",
                      {{"warnings", warningsJson(card.warnings)}});
    }
    auto rendered = prepared->renderer.renderPdf(prepared->fields);
    if (!rendered) {
        return refuse(o, kDoesNotHold, rendered.error().message);
    }
    const std::vector<std::uint8_t>& pdf = rendered->pdf;
    auto refuseIpp = [&](const ipp::IppError& e) {
        return refuse(o, kDoesNotHold, e.message, {{"error_code", std::string(toString(e.code))}});
    };
    auto printer = ipp::IppPrinter::connect(a.printer);
    if (!printer) {
        return refuseIpp(printer.error());
    }
    ipp::PrintOptions options;
    options.media = a.media;
    auto jobId = printer->printPdf(pdf, options);
    if (!jobId) {
        return refuseIpp(jobId.error());
    }
    json result = {{"printer", a.printer},
                   {"job_id", jobId.value()},
                   {"pdf_bytes", pdf.size()},
                   {"warnings", warningsJson(card.warnings)}};
    if (a.noWait) {
        result["job_state"] = "pending";
        return succeed(o, result,
                       fmt::format("Sent to {} as job {} ({} bytes of PDF); not waiting for it\n",
                                   a.printer, jobId.value(), pdf.size()));
    }
    auto done = printer->waitForJob(jobId.value(), std::chrono::seconds(a.timeout));
    if (!done) {
        result["error_code"] = std::string(toString(done.error().code));
        return refuse(o, kDoesNotHold, done.error().message, result);
    }
    result["job_state"] = std::string(toString(done->state));
    return succeed(o, result,
                   fmt::format("Printed on {}: job {} completed ({} bytes of PDF, 2 pages)\n",
                               a.printer, jobId.value(), pdf.size()));
}

void addCommonOptions(CLI::App* cmd, PrintArgs& a) {
    cmd->add_option("--layout", a.layout,
                    "layout name (firmware-config/layouts/NAME.toml) or a .toml file")
        ->capture_default_str();
    cmd->add_option("--fields", a.fields, "the card's fields as JSON")->required();
    cmd->add_option("--record", a.record, "a signed record file: its text form becomes the QR");
}

} // namespace

void addPrintCommands(CLI::App& app, const Options& o, int& status) {
    auto* print = app.add_subcommand("print", "draw card faces, preview them, print over IPP");
    print->require_subcommand(1);
    static PrintArgs a;

    auto* preview = print->add_subcommand("preview", "render the card's faces to PNG (and PDF)");
    addCommonOptions(preview, a);
    preview->add_option("--out", a.out, "the PNG file to write")->required();
    preview->add_option("--side", a.side, "front, back, or both (one image, front above back)")
        ->check(CLI::IsMember({"front", "back", "both"}))
        ->capture_default_str();
    preview->add_option("--pdf", a.pdf, "also write the PDF sent to IPP printers");
    preview->callback([&] { status = previewCommand(o, a); });

    auto* ippCmd = print->add_subcommand("ipp", "print the card on an IPP Everywhere printer");
    ippCmd->add_option("--printer", a.printer, "the printer's URI, ipp://HOST:PORT/ipp/print")
        ->required();
    addCommonOptions(ippCmd, a);
    ippCmd->add_option("--media", a.media, "media keyword (default: the printer's CR80 media)");
    ippCmd->add_option("--timeout", a.timeout, "seconds to wait for the job")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    ippCmd->add_flag("--no-wait", a.noWait, "return once the printer has taken the job");
    ippCmd->add_flag("--allow-ellipsis", a.allowEllipsis,
                     "print even if a text had to be cut with an ellipsis");
    ippCmd->callback([&] { status = ippCommand(o, a); });
}

} // namespace unioncard::cli
