// SPDX-License-Identifier: Apache-2.0
// The SQL seam on the sqlite3 C API: the only file that includes <sqlite3.h>.

#include "store/db.hpp"

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <fcntl.h>
#include <map>
#include <sqlite3.h>
#include <thread>
#include <unistd.h>

namespace unioncard::registry::sql {
namespace {

// What an SQLite result code means to the store (sqlite.org/rescode.html). Extended codes are
// on, so the primary code is the low byte.
DbError errorFrom(int rc, sqlite3* db) {
    const std::string said = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return {DbErrorCode::Busy,
                fmt::format("the SQLite database is locked by another connection ({})", said)};
    case SQLITE_FULL:
        return {DbErrorCode::Unavailable,
                fmt::format("the SQLite database or its disk is full ({})", said)};
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
        return {DbErrorCode::Unavailable,
                fmt::format("the SQLite database cannot be read or written ({})", said)};
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return {DbErrorCode::UniqueViolation, said};
        return {DbErrorCode::ConstraintViolation, said};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return {DbErrorCode::Internal, fmt::format("the SQLite database is damaged ({})", said)};
    default:
        return {DbErrorCode::Internal, fmt::format("SQLite: {}", said)};
    }
}

// $1..$n (outside quoted text) to ?1..?n: SQLite numbers ?NNN parameters by their digits, while
// it numbers $NAME parameters in order of appearance, which would break "$2 ... $1".
std::string rewritePlaceholders(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '$' && i + 1 < sql.size() &&
                   std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
            out += '?';
            continue;
        }
        out += c;
    }
    return out;
}

class SqliteDb;

// A cached prepared statement, reset and unbound when the borrower is done with it.
class Borrowed {
public:
    explicit Borrowed(sqlite3_stmt* stmt) : m_stmt(stmt) {}
    ~Borrowed() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    Borrowed(const Borrowed&) = delete;
    Borrowed& operator=(const Borrowed&) = delete;
    sqlite3_stmt* get() const { return m_stmt; }

private:
    sqlite3_stmt* m_stmt;
};

Row readRow(sqlite3_stmt* stmt) {
    const int n = sqlite3_column_count(stmt);
    std::vector<Value> values;
    values.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_NULL:
            values.emplace_back(nullptr);
            break;
        case SQLITE_INTEGER:
        case SQLITE_FLOAT:
            values.emplace_back(std::int64_t{sqlite3_column_int64(stmt, i)});
            break;
        case SQLITE_BLOB: {
            const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, i));
            values.emplace_back(Bytes(p, p + sqlite3_column_bytes(stmt, i)));
            break;
        }
        default: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
            values.emplace_back(
                std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
        }
        }
    }
    return Row(std::move(values));
}

class SqliteBulk;

class SqliteDb final : public Db {
public:
    explicit SqliteDb(sqlite3* db) : m_db(db) {}
    ~SqliteDb() override {
        for (auto& [sql, stmt] : m_statements)
            sqlite3_finalize(stmt);
        sqlite3_close_v2(m_db);
    }

    Dialect dialect() const override { return Dialect::Sqlite; }

    Result<sqlite3_stmt*, DbError> prepare(std::string_view sql) {
        auto found = m_statements.find(sql);
        if (found != m_statements.end())
            return found->second;
        const std::string rewritten = rewritePlaceholders(sql);
        sqlite3_stmt* stmt = nullptr;
        const int rc =
            sqlite3_prepare_v3(m_db, rewritten.c_str(), static_cast<int>(rewritten.size()),
                               SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK)
            return fail(errorFrom(rc, m_db));
        m_statements.emplace(std::string(sql), stmt);
        return stmt;
    }

    std::optional<DbError> bind(sqlite3_stmt* stmt, const Params& params) {
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int at = static_cast<int>(i + 1);
            int rc = SQLITE_OK;
            // SQLITE_STATIC: the parameters outlive the statement's use (reset before return).
            if (std::holds_alternative<std::nullptr_t>(params[i]))
                rc = sqlite3_bind_null(stmt, at);
            else if (const auto* n = std::get_if<std::int64_t>(&params[i]))
                rc = sqlite3_bind_int64(stmt, at, *n);
            else if (const auto* s = std::get_if<std::string>(&params[i]))
                rc = sqlite3_bind_text(stmt, at, s->data(), static_cast<int>(s->size()),
                                       SQLITE_STATIC);
            else if (const auto* b = std::get_if<Bytes>(&params[i]))
                rc = sqlite3_bind_blob(stmt, at, b->data(), static_cast<int>(b->size()),
                                       SQLITE_STATIC);
            if (rc != SQLITE_OK)
                return errorFrom(rc, m_db);
        }
        return std::nullopt;
    }

    Result<std::int64_t, DbError> exec(std::string_view sql, const Params& params) override {
        auto stmt = prepare(sql);
        if (!stmt)
            return fail(stmt.error());
        Borrowed use(*stmt);
        if (auto e = bind(use.get(), params))
            return fail(*e);
        int rc;
        while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
        }
        if (rc != SQLITE_DONE)
            return fail(errorFrom(rc, m_db));
        return std::int64_t{sqlite3_changes64(m_db)};
    }

    Result<std::vector<Row>, DbError> query(std::string_view sql, const Params& params) override {
        std::vector<Row> rows;
        if (auto e = stream(sql, params, [&](const Row& row) {
                rows.push_back(row);
                return true;
            }))
            return fail(*e);
        return rows;
    }

    std::optional<DbError> stream(std::string_view sql, const Params& params,
                                  const std::function<bool(const Row&)>& visit) override {
        auto stmt = prepare(sql);
        if (!stmt)
            return stmt.error();
        Borrowed use(*stmt);
        if (auto e = bind(use.get(), params))
            return e;
        int rc;
        while ((rc = sqlite3_step(use.get())) == SQLITE_ROW)
            if (!visit(readRow(use.get())))
                return std::nullopt;
        if (rc != SQLITE_DONE)
            return errorFrom(rc, m_db);
        return std::nullopt;
    }

    std::optional<DbError> script(std::string_view sql) override {
        const std::string text(sql);
        const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK)
            return errorFrom(rc, m_db);
        return std::nullopt;
    }

    std::optional<DbError> begin(TxMode mode) override {
        // BEGIN IMMEDIATE takes the write lock now, waiting up to busy_timeout, so a writer never
        // fails half-way with SQLITE_BUSY on upgrading a read lock
        // (sqlite.org/lang_transaction.html).
        return script(mode == TxMode::Read ? "BEGIN" : "BEGIN IMMEDIATE");
    }
    std::optional<DbError> commit() override { return script("COMMIT"); }
    void rollback() override {
        if (!sqlite3_get_autocommit(m_db))
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }

    Result<std::unique_ptr<BulkWriter>, DbError>
    bulk(std::string_view table, const std::vector<std::string>& columns) override;

private:
    sqlite3* m_db;
    std::map<std::string, sqlite3_stmt*, std::less<>> m_statements;
};

class SqliteBulk final : public BulkWriter {
public:
    SqliteBulk(SqliteDb& db, std::string sql) : m_db(db), m_sql(std::move(sql)) {}
    std::optional<DbError> add(const Params& row) override {
        auto changed = m_db.exec(m_sql, row);
        if (!changed)
            return changed.error();
        return std::nullopt;
    }
    std::optional<DbError> finish() override { return std::nullopt; }

private:
    SqliteDb& m_db;
    std::string m_sql;
};

Result<std::unique_ptr<BulkWriter>, DbError>
SqliteDb::bulk(std::string_view table, const std::vector<std::string>& columns) {
    std::string names, marks;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        names += (i ? ", " : "") + columns[i];
        marks += fmt::format("{}${}", i ? ", " : "", i + 1);
    }
    std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ({})", table, names, marks);
    if (auto stmt = prepare(sql); !stmt)
        return fail(stmt.error());
    return std::unique_ptr<BulkWriter>(std::make_unique<SqliteBulk>(*this, std::move(sql)));
}

} // namespace

Result<std::unique_ptr<Db>, DbError> openSqlite(const std::string& path, int busyTimeoutMs) {
    // The file holds members' names: created 0600 whatever the umask. SQLite creates its -wal
    // and -shm files with the database file's permissions.
    if (path != ":memory:" && path.rfind("file:", 0) != 0) {
        const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
            ::close(fd);
    }
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
        DbError error = errorFrom(rc, raw);
        sqlite3_close_v2(raw);
        error.code = DbErrorCode::Unavailable;
        return fail(std::move(error));
    }
    auto db = std::make_unique<SqliteDb>(raw);
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, busyTimeoutMs);
    // WAL: readers never block the writer nor the writer them. synchronous=FULL: a commit is on
    // disk before the registry answers, so an event it acknowledged (and a station's outbox then
    // deleted) survives a power cut; NORMAL could lose the last commits
    // (sqlite.org/pragma.html#pragma_synchronous). Foreign keys are off unless asked for.
    // Switching a new file to WAL needs it alone: a second process opening it at that moment
    // gets SQLITE_BUSY at once, without the busy handler, so it waits here within the timeout.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(busyTimeoutMs);
    for (;;) {
        auto e = db->script("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                            "PRAGMA foreign_keys=ON;");
        if (!e)
            break;
        if ((sqlite3_errcode(raw) & 0xff) != SQLITE_BUSY ||
            std::chrono::steady_clock::now() >= deadline)
            return fail(*e);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::unique_ptr<Db>(std::move(db));
}

} // namespace unioncard::registry::sql
