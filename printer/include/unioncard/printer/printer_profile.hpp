// SPDX-License-Identifier: Apache-2.0
#pragma once

// A printer and its encoder, as configuration (firmware-config/printers/*.toml): which printer,
// how to reach it, which PC/SC reader is the encoder inside it (by reader name or by the
// reader's serial number), which ribbon is loaded and what card size it prints.

#include <unioncard/card/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace unioncard::printer {

struct PrinterProfile {
    std::string id;         ///< the file's stem: "lab-printer"
    std::string model;      ///< "Evolis Primacy 2"
    std::string language;   ///< "evolis": the only command language so far
    std::string connection; ///< "tcp://HOST:PORT" or "usb:///dev/usb/lpN"
    /// The encoder reader: by its PC/SC name (or the start of it), or by its serial number (a
    /// USB reader's iSerialNumber, which survives re-plugging into another port).
    std::string encoderReader;
    std::string encoderSerial;
    std::string ribbon = "ymcko";
    std::uint64_t ribbonLowCards = 20;
    std::string cardSize = "CR80";
    int dpi = 300;
    int widthDots = 1016; ///< the printable face, landscape
    int heightDots = 648;
};

/// Loads and checks one profile; says what is wrong, with the file and key, if it is not right.
Result<PrinterProfile, std::string> loadPrinterProfile(const std::filesystem::path& file);
/// Every *.toml in a folder, sorted by id; the first wrong file fails the whole load.
Result<std::vector<PrinterProfile>, std::string>
loadPrinterProfiles(const std::filesystem::path& folder);

} // namespace unioncard::printer
