// SPDX-License-Identifier: Apache-2.0
// Card images for the lab: a virtual DESFire EV2 (virtual_desfire.hpp documents the format).

#include <unioncard/sim/card_image.hpp>
#include <unioncard/sim/virtual_desfire.hpp>

#include <system_error>

namespace unioncard::sim {

std::unique_ptr<VirtualCard> loadOrCreateCard(const std::filesystem::path& image) {
    std::error_code ec;
    if (!std::filesystem::exists(image, ec)) {
        return std::make_unique<VirtualDesfire>(); // factory-blank, with a random NXP UID
    }
    return VirtualDesfire::load(image);
}

bool saveCard(const VirtualCard& card, const std::filesystem::path& image) {
    const auto* desfire = dynamic_cast<const VirtualDesfire*>(&card);
    return desfire != nullptr && desfire->save(image);
}

} // namespace unioncard::sim
