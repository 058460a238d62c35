// SPDX-License-Identifier: Apache-2.0
#pragma once

// The Store over the SQL seam, and the schema migrations. Private to the registry library and
// its tests.

#include "store/db.hpp"

#include <unioncard/registry/store.hpp>

#include <memory>
#include <optional>

namespace unioncard::registry {

/// What a database fault means to the store's callers, in words that name the database problem
/// (never SQL text or values).
StoreError toStoreError(const sql::DbError& error);

/// The schema version of a database: 0 for an empty one.
Result<int, StoreError> schemaVersionOf(sql::Db& db);

/// Brings the schema to `target` (the latest when absent), one transaction per migration, each
/// under a lock so that two processes starting at once apply each migration once. Refuses a
/// database whose schema is newer than this build knows.
std::optional<StoreError> migrate(sql::Db& db, std::optional<int> target = std::nullopt);

/// A Store on an open connection; migrates it to the latest schema first.
Result<std::unique_ptr<Store>, StoreError> openStore(std::unique_ptr<sql::Db> db);

} // namespace unioncard::registry
