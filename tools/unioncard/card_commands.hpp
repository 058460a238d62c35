// SPDX-License-Identifier: Apache-2.0
#pragma once

// `unioncard card ...` (people at a reader) and the master-key commands under `unioncard keys`.

#include "common.hpp"

#include <CLI/CLI.hpp>

namespace unioncard::cli {

void addCardCommands(CLI::App& app, const Options& options, int& status);
void addMasterKeyCommands(CLI::App& keys, const Options& options, int& status);
/// `keys import-card-key`: a master key onto a PKCS#11 token (card/pkcs11.hpp).
void addTokenKeyCommands(CLI::App& keys, const Options& options, int& status);

} // namespace unioncard::cli
