// SPDX-License-Identifier: Apache-2.0
// The command-line conventions every program of the project keeps (README, "The programs"):
//
//   - `--version` prints "PROGRAM VERSION" and exits 0; `--help` prints the usage and exits 0;
//   - wrong usage exits 2, with one line on stderr that names what is wrong;
//   - a program with a configuration file reads /etc/unioncard/NAME.toml (or `--config FILE`)
//     before it does anything, and a flag on the command line overrides the file's value.
//
// The file's keys are the long options of the program without their dashes
// (`listen = "127.0.0.1:8443"` for `--listen`): settings, not what one run of a command does.
// A table is the options of a command that the program names as a settings command (`[init]`,
// the answers `PROGRAM init` takes, so that setting a station up again is one command); the
// options of its other commands (a device's id and role, a reason, a file to import) are given
// on the command line only. Two programs may share one file: the kiosk reads the top level and
// its own table ([kiosk]), whose keys win over the top level's; the command line skips that
// table and checks the rest of the file, so a key at the top that the kiosk does not have is
// the command line's to refuse. A value from the environment (an option's envname, such as
// UNIONCARD_STATION_DB, when not empty) beats the file's, and a flag beats both.
// An unknown key, a value of the wrong type or a value an option refuses stops the program
// before it starts, naming the file, the line and the key (docs/configuration.md); `--help`
// and `--version` answer whatever the file holds.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::base {

/// "unioncard-station 0.1.0": what `--version` prints.
std::string versionLine(std::string_view program);

/// The configuration file of a program.
struct ConfigFile {
    std::string_view name;         ///< "station.toml": configDir()/name unless --config says
    std::string_view section = {}; ///< this program's own table, read as if its keys were at the
                                   ///< top; the file's other tables (another program's) skipped
    std::string_view skipped = {}; ///< a table another program reads from the same file
    std::vector<std::string> commands = {}; ///< commands whose options are settings: [init]
};

/// Names the program, adds `--version` (and the hidden `--bash-completion`), and, when config.name
/// is not empty, `--config FILE` whose default is configDir()/config.name (read when it exists; a
/// file named with --config must exist).
void conventions(CLI::App& app, std::string_view program, ConfigFile config = {});

/// A bash completion script for the program, from its commands and options as they are
/// (what `PROGRAM --bash-completion` prints; the packages install it).
std::string bashCompletion(const CLI::App& app);

/// Parses the command line (and the configuration file) and runs the commands' callbacks.
/// Returns std::nullopt when the program goes on; else its exit status: 0 after --help or
/// --version, 2 after wrong usage or a wrong configuration file (the message on stderr).
std::optional<int> parseCommandLine(CLI::App& app, int argc, const char* const* argv);

} // namespace unioncard::base
