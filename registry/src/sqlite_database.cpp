// SPDX-License-Identifier: Apache-2.0
#include <unioncard/registry/sqlite_statement.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <utility>

namespace unioncard::registry::sqlite {

Database::Database(sqlite3* db, std::string what, std::string file)
    : m_db(db), m_what(std::move(what)), m_file(std::move(file)) {}

Database::Database(Database&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_what(std::move(other.m_what)),
      m_file(std::move(other.m_file)) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        if (m_db != nullptr) {
            sqlite3_close(m_db);
        }
        m_db = std::exchange(other.m_db, nullptr);
        m_what = std::move(other.m_what);
        m_file = std::move(other.m_file);
    }
    return *this;
}

Database::~Database() {
    if (m_db != nullptr) {
        sqlite3_close(m_db);
    }
}

std::string Database::error(std::string_view doing) const {
    return fmt::format("{} {}: {} failed: {}", m_what, m_file, doing,
                       m_db != nullptr ? sqlite3_errmsg(m_db) : "no connection");
}

std::optional<std::string> Database::exec(const std::string& sql, std::string_view doing) {
    char* message = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string e = fmt::format("{} {}: {} failed: {}", m_what, m_file, doing,
                                    message != nullptr ? message : "unknown error");
        sqlite3_free(message);
        return e;
    }
    return std::nullopt;
}

std::optional<Database> Database::open(const std::filesystem::path& file, std::string what,
                                       std::span<const char* const> migrations,
                                       std::string& error) {
    sqlite3* handle = nullptr;
    const mode_t old = umask(077);
    const int rc =
        sqlite3_open_v2(file.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    umask(old);
    Database db(handle, std::move(what), file.string());
    if (rc != SQLITE_OK) {
        error = db.error("opening");
        return std::nullopt;
    }
    sqlite3_busy_timeout(handle, 5000);
    if (auto e = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
                         "setting up")) {
        error = *e;
        return std::nullopt;
    }
    Stmt version(handle, "PRAGMA user_version");
    if (version.step() != SQLITE_ROW) {
        error = db.error("reading the schema version");
        return std::nullopt;
    }
    const auto at = static_cast<std::size_t>(version.colInt(0));
    if (at > migrations.size()) {
        error = fmt::format("{} {} was made by a newer version (schema {}, this program knows "
                            "{}): update the program",
                            db.m_what, db.m_file, at, migrations.size());
        return std::nullopt;
    }
    for (std::size_t i = at; i < migrations.size(); ++i) {
        const std::string sql = fmt::format("BEGIN IMMEDIATE; {} PRAGMA user_version = {}; COMMIT;",
                                            migrations[i], i + 1);
        if (auto e = db.exec(sql, fmt::format("migration {}", i + 1))) {
            db.exec("ROLLBACK", "migration");
            error = *e;
            return std::nullopt;
        }
    }
    return db;
}

} // namespace unioncard::registry::sqlite
