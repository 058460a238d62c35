// SPDX-License-Identifier: Apache-2.0
#pragma once

// A rendered card face as plain pixels: the hand-off from the renderer (Qt, printer/src/render)
// to the printer drivers, which know no Qt.

#include <cstdint>
#include <vector>

namespace unioncard::printer {

/// 8-bit RGB, row-major, no padding: pixel (x, y) starts at rgb[3 * (y * width + x)].
struct Raster {
    int width = 0;
    int height = 0;
    int dpi = 300;
    std::vector<std::uint8_t> rgb;

    bool valid() const {
        return width > 0 && height > 0 &&
               rgb.size() == static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3;
    }
};

} // namespace unioncard::printer
