// SPDX-License-Identifier: Apache-2.0
#pragma once

// The store's SQL seam: the little the store needs from a database, with one adapter on the
// sqlite3 C API and one on libpq. The store's SQL is written once, in the subset both engines
// speak (INSERT ... ON CONFLICT, RETURNING, partial indexes); placeholders are PostgreSQL's
// $1..$n, which the SQLite adapter rewrites to ?1..?n (sqlite.org/lang_expr.html#varparam).
// Every value travels as a bound parameter, never inside the SQL text.

#include <unioncard/card/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace unioncard::registry::sql {

enum class Dialect { Sqlite, Postgres };

using Bytes = std::vector<std::uint8_t>;
/// A bound parameter or a column value: NULL, an integer, text, or bytes.
using Value = std::variant<std::nullptr_t, std::int64_t, std::string, Bytes>;
using Params = std::vector<Value>;

inline Value nullable(const std::optional<std::string>& text) {
    return text ? Value{*text} : Value{nullptr};
}

/// One result row. PostgreSQL rows arrive as text and are converted on access.
class Row {
public:
    explicit Row(std::vector<Value> values) : m_values(std::move(values)) {}
    std::size_t size() const { return m_values.size(); }
    bool isNull(std::size_t i) const;
    std::int64_t integer(std::size_t i) const; ///< 0 for NULL or text that is not a number
    std::string text(std::size_t i) const;     ///< "" for NULL
    Bytes bytes(std::size_t i) const;
    std::optional<std::string> optText(std::size_t i) const;
    std::optional<std::int64_t> optInteger(std::size_t i) const;

private:
    std::vector<Value> m_values;
};

enum class DbErrorCode {
    Retry,               ///< serialization failure or deadlock: run the transaction again
    Busy,                ///< locked by another connection beyond the busy timeout
    Unavailable,         ///< cannot reach or write the database: connection lost, disk full, I/O
    UniqueViolation,     ///< a UNIQUE or PRIMARY KEY constraint refused the row
    ConstraintViolation, ///< another constraint (foreign key, NOT NULL, CHECK) refused it
    Internal,            ///< bad SQL, misuse, a damaged database: a bug, not the caller's fault
};

/// The engine's own words (its primary message only: PostgreSQL's DETAIL, which may quote the
/// offending values, is never kept).
struct DbError {
    DbErrorCode code;
    std::string message;
};

enum class TxMode {
    Read,          ///< SQLite: BEGIN; PostgreSQL: REPEATABLE READ READ ONLY (one snapshot)
    Write,         ///< SQLite: BEGIN IMMEDIATE; PostgreSQL: SERIALIZABLE (retry on Retry)
    WriteRowLocks, ///< SQLite: BEGIN IMMEDIATE; PostgreSQL: READ COMMITTED, rows locked by UPDATE
};

/// Streams rows into a table: SQLite a prepared INSERT, PostgreSQL COPY ... FROM STDIN.
/// Must run inside a transaction; nothing else may use the connection until finish().
class BulkWriter {
public:
    virtual ~BulkWriter() = default;
    virtual std::optional<DbError> add(const Params& row) = 0;
    virtual std::optional<DbError> finish() = 0;
};

class Db {
public:
    virtual ~Db() = default;
    virtual Dialect dialect() const = 0;

    /// One statement; the number of rows it changed.
    virtual Result<std::int64_t, DbError> exec(std::string_view sql, const Params& params = {}) = 0;
    virtual Result<std::vector<Row>, DbError> query(std::string_view sql,
                                                    const Params& params = {}) = 0;
    /// Rows one at a time without holding the result in memory (SQLite steps the statement;
    /// PostgreSQL uses single-row mode). `visit` returns false to stop early.
    virtual std::optional<DbError> stream(std::string_view sql, const Params& params,
                                          const std::function<bool(const Row&)>& visit) = 0;
    /// Several statements, no parameters (migrations).
    virtual std::optional<DbError> script(std::string_view sql) = 0;

    virtual std::optional<DbError> begin(TxMode mode) = 0;
    virtual std::optional<DbError> commit() = 0;
    virtual void rollback() = 0; ///< never fails: a broken connection has no transaction left

    virtual Result<std::unique_ptr<BulkWriter>, DbError>
    bulk(std::string_view table, const std::vector<std::string>& columns) = 0;
};

/// Opens (creating if absent) an SQLite file in WAL mode with foreign keys on.
Result<std::unique_ptr<Db>, DbError> openSqlite(const std::string& path, int busyTimeoutMs = 5000);
/// Connects with a libpq connection string or URI ("postgresql://...").
Result<std::unique_ptr<Db>, DbError> openPostgres(const std::string& conninfo);

} // namespace unioncard::registry::sql
