// SPDX-License-Identifier: Apache-2.0
#pragma once

// The devices' own SQLite files (the station's and the verifier's stores, which hold the outbox
// too): opening one the same way everywhere, numbered migrations, transactions, and a prepared
// statement with bind and read helpers. Part of unioncard::registry_client, which links SQLite.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <sqlite3.h>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::registry::sqlite {

class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) {
        // A statement that does not prepare fails at step() (SQLITE_ERROR), where callers
        // already turn errors into messages with sqlite3_errmsg.
        if (sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) {
            m_stmt = nullptr;
        }
    }
    ~Stmt() { sqlite3_finalize(m_stmt); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& text(int i, std::string_view v) {
        sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& optText(int i, const std::string& v) { return v.empty() ? null(i) : text(i, v); }
    Stmt& integer(int i, std::int64_t v) {
        sqlite3_bind_int64(m_stmt, i, v);
        return *this;
    }
    Stmt& null(int i) {
        sqlite3_bind_null(m_stmt, i);
        return *this;
    }
    Stmt& blob(int i, const std::vector<std::uint8_t>& v) {
        sqlite3_bind_blob(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    int step() { return m_stmt ? sqlite3_step(m_stmt) : SQLITE_ERROR; }
    bool run() { return step() == SQLITE_DONE; }

    std::string colText(int i) const {
        const auto* p = sqlite3_column_text(m_stmt, i);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, i)))
                 : std::string();
    }
    std::int64_t colInt(int i) const { return sqlite3_column_int64(m_stmt, i); }
    bool colNull(int i) const { return sqlite3_column_type(m_stmt, i) == SQLITE_NULL; }
    std::vector<std::uint8_t> colBlob(int i) const {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(m_stmt, i));
        return p ? std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(m_stmt, i))
                 : std::vector<std::uint8_t>();
    }

private:
    sqlite3_stmt* m_stmt = nullptr;
};

/// One open database file. Messages name the file and what was being done.
class Database {
public:
    /// Opens or creates `file` owner-only (0600 from the first byte: it may hold names), in WAL
    /// mode with synchronous=FULL and foreign keys, and runs the migrations it has not had
    /// (PRAGMA user_version counts them; each in its own transaction). A file from a newer
    /// program is refused. `what` names the file in messages ("station database").
    static std::optional<Database> open(const std::filesystem::path& file, std::string what,
                                        std::span<const char* const> migrations,
                                        std::string& error);
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    ~Database();

    sqlite3* handle() const { return m_db; }
    /// "<what> <file>: <doing> failed: <SQLite's words>".
    std::string error(std::string_view doing) const;
    /// Runs SQL without results; the message on failure.
    std::optional<std::string> exec(const std::string& sql, std::string_view doing);

    /// Runs `body` in one IMMEDIATE transaction: committed if it returns no error, rolled back
    /// if it does. E is the caller's error type, made from a message.
    template <class E, class F> std::optional<E> transaction(std::string_view doing, F body) {
        if (auto e = exec("BEGIN IMMEDIATE", doing)) {
            return E{*e};
        }
        if (std::optional<E> e = body()) {
            exec("ROLLBACK", doing);
            return e;
        }
        if (auto e = exec("COMMIT", doing)) {
            return E{*e};
        }
        return std::nullopt;
    }

private:
    Database(sqlite3* db, std::string what, std::string file);
    sqlite3* m_db = nullptr;
    std::string m_what;
    std::string m_file;
};

} // namespace unioncard::registry::sqlite
