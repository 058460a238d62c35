// SPDX-License-Identifier: Apache-2.0
#pragma once

// The schema migrations, embedded at build time from registry/migrations/<dialect>/NNN_*.sql
// (registry/CMakeLists.txt generates migrations.cpp), so the service needs no files at run time.

#include "store/db.hpp"

#include <span>
#include <string_view>

namespace unioncard::registry::sql {

struct Migration {
    int version;           ///< NNN of the file name: 1, 2, ... without gaps
    std::string_view name; ///< the file name, for messages
    std::string_view sql;
};

/// In version order; both dialects have the same versions (checked when CMake generates them).
std::span<const Migration> migrations(Dialect dialect);

} // namespace unioncard::registry::sql
