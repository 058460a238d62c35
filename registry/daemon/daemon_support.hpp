// SPDX-License-Identifier: Apache-2.0
#pragma once

// What every unioncard-registryd command shares: how a refusal is said, and opening the
// database the --db option names.

#include <unioncard/registry/store.hpp>

#include <fmt/format.h>

#include <memory>
#include <string>

namespace unioncard::registry::daemon {

/// Says `message` on stderr under the program's name; returns the exit status 1.
inline int failWith(const std::string& message) {
    fmt::print(stderr, "unioncard-registryd: {}\n", message);
    return 1;
}

/// The store at `url`, migrated; the refusal in words otherwise.
inline Result<std::unique_ptr<Store>, std::string> openDatabase(const std::string& url) {
    auto store = openStore(url);
    if (!store)
        return fail(fmt::format("cannot open the database: {}", store.error().message));
    return std::move(store).value();
}

} // namespace unioncard::registry::daemon
