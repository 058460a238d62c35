// SPDX-License-Identifier: Apache-2.0
// Where a program finds what it did not compile in: the card, reader and printer profiles and
// the card layouts (firmware-config/), and its configuration file.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace unioncard::base {

/// The folder of cards/, layouts/ and printers/, the first of: $UNIONCARD_FIRMWARE_CONFIG; the
/// installed one beside the running program (PREFIX/share/unioncard/firmware-config for
/// PREFIX/bin/PROGRAM), when it exists; in a build tree, the source tree's firmware-config/.
/// An installed program that finds none names the installed folder, so that the error a
/// caller gives on opening a profile there says where it looked.
std::filesystem::path firmwareConfigDir();

/// The folder of the programs' configuration files: $UNIONCARD_CONFIG_DIR, else /etc/unioncard.
std::filesystem::path configDir();

/// A secret systemd handed the service (LoadCredential=NAME:... or LoadCredentialEncrypted=):
/// the file NAME in $CREDENTIALS_DIRECTORY, without a final newline; nothing when the service
/// has no such credential.
std::optional<std::string> credential(std::string_view name);

/// A secret a program is handed: the credential `name` when it runs as a service, else the
/// first of the environment variables that is set and not empty (run by hand). Never argv or a
/// configuration file. A service reads its credentials itself rather than through its
/// environment, which its children inherit and which stays readable in /proc while it runs.
std::optional<std::string> secret(std::string_view name,
                                  std::initializer_list<const char*> variables);

} // namespace unioncard::base
