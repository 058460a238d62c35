// SPDX-License-Identifier: Apache-2.0
#pragma once

// A QR code symbol as modules, from libqrencode. Qt-free.

#include <unioncard/card/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace unioncard::printer {

struct QrSymbol {
    int version = 0;        ///< 1-40 (ISO/IEC 18004:2015 §5.3.1)
    int size = 0;           ///< modules per side: 17 + 4 * version
    std::vector<bool> dark; ///< row-major, size * size

    bool isDark(int x, int y) const { return dark[static_cast<std::size_t>(y * size + x)]; }
};

/// Encodes `text` as one alphanumeric-mode segment (ISO/IEC 18004:2015 §7.4.4) at error
/// correction level `ecc` (L, M, Q, H), in the smallest version that holds it. Refuses
/// characters outside the alphanumeric set and text too long for version 40.
Result<QrSymbol, std::string> encodeQrAlphanumeric(std::string_view text, char ecc);

} // namespace unioncard::printer
