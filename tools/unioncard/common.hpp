// SPDX-License-Identifier: Apache-2.0
#pragma once

// What every unioncard command shares: options, exit codes, and how results are reported.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/keys.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace unioncard::cli {

/// Exit codes: 0 the thing holds, 1 it does not (reason on stderr), 2 wrong usage.
inline constexpr int kHolds = 0;
inline constexpr int kDoesNotHold = 1;
inline constexpr int kUsage = 2;

struct Options {
    bool json = false;
    std::vector<std::string> prefixes;
};

/// Reports a failure: a JSON object on stdout with --json, the reason on stderr always.
int refuse(const Options& o, int code, const std::string& reason,
           nlohmann::json extra = nlohmann::json::object());
/// Reports a success: the JSON object with --json, else the text.
int succeed(const Options& o, nlohmann::json result, const std::string& text);

card::NumberScheme schemeOf(const Options& o);
card::Days today();

} // namespace unioncard::cli
