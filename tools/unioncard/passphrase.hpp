// SPDX-License-Identifier: Apache-2.0
#pragma once

// Passphrases come from the environment or from a prompt on the terminal, never from the
// command line (where ps and shell history would show them).

#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <string>

namespace unioncard::cli {

enum class KeyRole { Root, Station, StatusSigner };

/// For an existing key: UNIONCARD_ROOT_PASSPHRASE, UNIONCARD_STATION_PASSPHRASE or
/// UNIONCARD_STATUS_PASSPHRASE by role, else
/// UNIONCARD_PASSPHRASE, else a prompt on the terminal.
Result<card::Secret, std::string> passphraseFor(KeyRole role);

/// For a new key: as above, but a prompt asks twice, and a passphrase must be 10 characters or
/// more.
Result<card::Secret, std::string> newPassphraseFor(KeyRole role);

} // namespace unioncard::cli
