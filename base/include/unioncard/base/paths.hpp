// SPDX-License-Identifier: Apache-2.0
// Where a program finds what it did not compile in: the card, reader and printer profiles and
// the card layouts (firmware-config/), and its configuration file.
#pragma once

#include <filesystem>
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

} // namespace unioncard::base
