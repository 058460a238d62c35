// SPDX-License-Identifier: Apache-2.0
#pragma once

// `unioncard print ...`: card faces from a layout and a card's fields, previewed as PNG or
// printed on an IPP Everywhere printer (docs/printing.md).

#include "common.hpp"

#include <CLI/CLI.hpp>

namespace unioncard::cli {

void addPrintCommands(CLI::App& app, const Options& options, int& status);

} // namespace unioncard::cli
