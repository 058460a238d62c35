// SPDX-License-Identifier: Apache-2.0
#pragma once

// `unioncard printer status|test-card`: a card printer with its contactless encoder, through
// the Evolis driver (printer/include/unioncard/printer/evolis.hpp).

#include "common.hpp"

#include <CLI/CLI.hpp>

namespace unioncard::cli {

void addPrinterCommands(CLI::App& app, const Options& options, int& status);

} // namespace unioncard::cli
