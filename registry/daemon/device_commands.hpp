// SPDX-License-Identifier: Apache-2.0
#pragma once

// unioncard-registryd device add|disable|enable|rotate|list|log and event add: registering
// devices, managing their credentials and putting desks on events, on the database directly
// (the registry need not be running).

#include <CLI/CLI.hpp>

#include <string>

namespace unioncard::registry::daemon {

/// Adds the `device` and `event` command groups to `app`; the chosen command sets `status` (0 done,
/// 1 refused or failed) when it runs. `db` is the database URL the app's --db option fills.
void addDeviceCommands(CLI::App& app, const std::string& db, int& status);

} // namespace unioncard::registry::daemon
