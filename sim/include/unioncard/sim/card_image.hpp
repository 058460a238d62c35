// SPDX-License-Identifier: Apache-2.0
#pragma once

// Card images: a simulated card's non-volatile memory as a file, so that a card "taken off" one
// lab reader and "put on" another keeps what was written to it.

#include <unioncard/sim/virtual_card.hpp>

#include <filesystem>
#include <memory>

namespace unioncard::sim {

/// The card stored in `image`, or a factory-blank card if there is no such file. Returns null
/// if the file exists but is not a card image.
std::unique_ptr<VirtualCard> loadOrCreateCard(const std::filesystem::path& image);

/// Writes the card's non-volatile memory to `image` (atomically: a temporary file renamed over
/// it). False if the card is not of a kind this build can store, or the file cannot be written.
bool saveCard(const VirtualCard& card, const std::filesystem::path& image);

} // namespace unioncard::sim
