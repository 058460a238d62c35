// SPDX-License-Identifier: Apache-2.0
#include "common.hpp"

#include <iostream>

namespace unioncard::cli {

int refuse(const Options& o, int code, const std::string& reason, nlohmann::json extra) {
    if (o.json) {
        extra["ok"] = false;
        extra["error"] = reason;
        std::cout << extra.dump(2) << '\n';
    }
    std::cerr << "unioncard: " << reason << '\n';
    return code;
}

int succeed(const Options& o, nlohmann::json result, const std::string& text) {
    if (o.json) {
        result["ok"] = true;
        std::cout << result.dump(2) << '\n';
    } else {
        std::cout << text;
    }
    return kHolds;
}

card::NumberScheme schemeOf(const Options& o) {
    card::NumberScheme scheme = card::NumberScheme::standard();
    if (!o.prefixes.empty()) {
        scheme.prefixes = o.prefixes;
    }
    return scheme;
}

card::Days today() {
    return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
}

} // namespace unioncard::cli
