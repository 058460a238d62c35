// SPDX-License-Identifier: Apache-2.0
// The SQL seam on libpq: the only file that includes <libpq-fe.h>.

#include "store/db.hpp"

#include <fmt/format.h>

#include <cstring>
#include <libpq-fe.h>

namespace unioncard::registry::sql {
namespace {

constexpr Oid kByteaOid = 17; // pg_type.dat: bytea

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

// What a SQLSTATE means to the store (PostgreSQL 15 manual, Appendix A). Only the primary
// message is kept: DETAIL quotes key values ("Key (id)=(...) already exists").
DbError errorFrom(const PGresult* res, PGconn* conn) {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string said = primary ? trimmed(primary) : trimmed(PQerrorMessage(conn));
    if (PQstatus(conn) == CONNECTION_BAD || !state)
        return {DbErrorCode::Unavailable,
                fmt::format("the connection to PostgreSQL was lost ({})", said)};
    const std::string_view code = state;
    if (code == "40001" || code == "40P01")
        return {DbErrorCode::Retry, said};
    if (code == "23505")
        return {DbErrorCode::UniqueViolation, said};
    if (code.substr(0, 2) == "23")
        return {DbErrorCode::ConstraintViolation, said};
    if (code == "55P03" || code == "57014") // lock_not_available, query_canceled (timeouts)
        return {DbErrorCode::Busy, fmt::format("PostgreSQL is busy ({})", said)};
    // 53: insufficient resources (disk full, out of memory, too many connections); 08:
    // connection exceptions; 57P0x: the server is shutting down or starting up; 58: I/O.
    if (code.substr(0, 2) == "53")
        return {DbErrorCode::Unavailable, fmt::format("PostgreSQL is out of resources ({})", said)};
    if (code.substr(0, 2) == "08" || code.substr(0, 3) == "57P" || code.substr(0, 2) == "58")
        return {DbErrorCode::Unavailable, fmt::format("PostgreSQL is unavailable ({})", said)};
    return {DbErrorCode::Internal, fmt::format("PostgreSQL: {} (SQLSTATE {})", said, code)};
}

// Parameters in libpq's arrays: text for numbers and strings, binary for bytes.
struct PgParams {
    std::vector<std::string> texts;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;

    explicit PgParams(const Params& params)
        : texts(params.size()), values(params.size()), lengths(params.size()),
          formats(params.size()) {
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (std::holds_alternative<std::nullptr_t>(params[i])) {
                values[i] = nullptr;
            } else if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
                texts[i] = std::to_string(*n);
                values[i] = texts[i].c_str();
            } else if (const auto* s = std::get_if<std::string>(&params[i])) {
                values[i] = s->c_str();
                lengths[i] = static_cast<int>(s->size());
            } else if (const auto* b = std::get_if<Bytes>(&params[i])) {
                values[i] = reinterpret_cast<const char*>(b->data());
                lengths[i] = static_cast<int>(b->size());
                formats[i] = 1;
            }
        }
    }
};

Row readRow(const PGresult* res, int r) {
    const int n = PQnfields(res);
    std::vector<Value> values;
    values.reserve(static_cast<std::size_t>(n));
    for (int c = 0; c < n; ++c) {
        if (PQgetisnull(res, r, c)) {
            values.emplace_back(nullptr);
        } else if (PQftype(res, c) == kByteaOid) {
            std::size_t len = 0;
            unsigned char* raw = PQunescapeBytea(
                reinterpret_cast<const unsigned char*>(PQgetvalue(res, r, c)), &len);
            values.emplace_back(Bytes(raw, raw + len));
            PQfreemem(raw);
        } else {
            values.emplace_back(std::string(PQgetvalue(res, r, c),
                                            static_cast<std::size_t>(PQgetlength(res, r, c))));
        }
    }
    return Row(std::move(values));
}

// COPY's text format (PostgreSQL 15 manual, COPY, "Text Format"): tab between columns, \N for
// NULL, backslash escapes for backslash, tab, newline and carriage return.
void appendCopyField(std::string& out, const Value& value) {
    if (std::holds_alternative<std::nullptr_t>(value)) {
        out += "\\N";
    } else if (const auto* n = std::get_if<std::int64_t>(&value)) {
        out += std::to_string(*n);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
        for (char c : *s) {
            switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                out += c;
            }
        }
    } else if (const auto* b = std::get_if<Bytes>(&value)) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\\\x";
        for (auto byte : *b) {
            out += kHex[byte >> 4];
            out += kHex[byte & 15];
        }
    }
}

class PgDb final : public Db {
public:
    explicit PgDb(PGconn* conn) : m_conn(conn) {}
    ~PgDb() override { PQfinish(m_conn); }

    Dialect dialect() const override { return Dialect::Postgres; }

    // A lost connection is re-established at the next statement outside a transaction; inside
    // one, the transaction is gone with the connection and the store must see the failure.
    std::optional<DbError> ensureConnected() {
        if (PQstatus(m_conn) == CONNECTION_OK)
            return std::nullopt;
        if (!m_inTransaction) {
            PQreset(m_conn);
            // A new connection starts with the server's defaults: restore what openPostgres set.
            if (PQstatus(m_conn) == CONNECTION_OK && PQsetClientEncoding(m_conn, "UTF8") == 0) {
                PgResult tz(PQexec(m_conn, "SET TIME ZONE 'UTC'"));
                if (PQresultStatus(tz.get()) == PGRES_COMMAND_OK)
                    return std::nullopt;
            }
        }
        return DbError{DbErrorCode::Unavailable, fmt::format("cannot reach PostgreSQL ({})",
                                                             trimmed(PQerrorMessage(m_conn)))};
    }

    Result<PgResult, DbError> run(std::string_view sql, const Params& params) {
        if (auto e = ensureConnected())
            return fail(*e);
        const std::string text(sql);
        const PgParams p(params);
        PgResult res(PQexecParams(m_conn, text.c_str(), static_cast<int>(params.size()), nullptr,
                                  p.values.data(), p.lengths.data(), p.formats.data(), 0));
        const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            return fail(errorFrom(res.get(), m_conn));
        return res;
    }

    Result<std::int64_t, DbError> exec(std::string_view sql, const Params& params) override {
        auto res = run(sql, params);
        if (!res)
            return fail(res.error());
        const char* tuples = PQcmdTuples(res->get());
        return std::int64_t{tuples && *tuples ? std::atoll(tuples) : 0};
    }

    Result<std::vector<Row>, DbError> query(std::string_view sql, const Params& params) override {
        auto res = run(sql, params);
        if (!res)
            return fail(res.error());
        std::vector<Row> rows;
        const int n = PQntuples(res->get());
        rows.reserve(static_cast<std::size_t>(n));
        for (int r = 0; r < n; ++r)
            rows.push_back(readRow(res->get(), r));
        return rows;
    }

    std::optional<DbError> stream(std::string_view sql, const Params& params,
                                  const std::function<bool(const Row&)>& visit) override {
        if (auto e = ensureConnected())
            return e;
        const std::string text(sql);
        const PgParams p(params);
        if (!PQsendQueryParams(m_conn, text.c_str(), static_cast<int>(params.size()), nullptr,
                               p.values.data(), p.lengths.data(), p.formats.data(), 0))
            return errorFrom(nullptr, m_conn);
        // Single-row mode: libpq hands over each row as it arrives instead of buffering the whole
        // result (PostgreSQL 15 manual §34.6).
        PQsetSingleRowMode(m_conn);
        std::optional<DbError> error;
        bool stopped = false;
        while (PGresult* raw = PQgetResult(m_conn)) {
            PgResult res(raw);
            const auto status = PQresultStatus(raw);
            if (status == PGRES_SINGLE_TUPLE) {
                if (!stopped && !visit(readRow(raw, 0))) {
                    stopped = true;
                    if (PGcancel* cancel = PQgetCancel(m_conn)) {
                        char buf[256];
                        PQcancel(cancel, buf, sizeof buf);
                        PQfreeCancel(cancel);
                    }
                }
            } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && !stopped &&
                       !error) {
                error = errorFrom(raw, m_conn);
            }
        }
        return error;
    }

    std::optional<DbError> script(std::string_view sql) override {
        if (auto e = ensureConnected())
            return e;
        const std::string text(sql);
        PgResult res(PQexec(m_conn, text.c_str()));
        const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            return errorFrom(res.get(), m_conn);
        return std::nullopt;
    }

    std::optional<DbError> begin(TxMode mode) override {
        const char* sql = "BEGIN";
        if (mode == TxMode::Read)
            sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
        else if (mode == TxMode::Write)
            sql = "BEGIN ISOLATION LEVEL SERIALIZABLE";
        auto e = script(sql);
        m_inTransaction = !e;
        return e;
    }
    std::optional<DbError> commit() override {
        auto e = script("COMMIT");
        m_inTransaction = false;
        return e;
    }
    void rollback() override {
        if (PQstatus(m_conn) == CONNECTION_OK && PQtransactionStatus(m_conn) != PQTRANS_IDLE) {
            PgResult res(PQexec(m_conn, "ROLLBACK"));
        }
        m_inTransaction = false;
    }

    Result<std::unique_ptr<BulkWriter>, DbError>
    bulk(std::string_view table, const std::vector<std::string>& columns) override;

    PGconn* conn() { return m_conn; }

private:
    PGconn* m_conn;
    bool m_inTransaction = false;
};

class PgCopy final : public BulkWriter {
public:
    explicit PgCopy(PgDb& db) : m_db(db) {}
    ~PgCopy() override {
        if (!m_done) // abandoned: end the COPY so the connection is usable (and the txn fails)
            PQputCopyEnd(m_db.conn(), "abandoned");
        if (!m_done)
            while (PGresult* r = PQgetResult(m_db.conn()))
                PQclear(r);
    }

    std::optional<DbError> add(const Params& row) override {
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i)
                m_buffer += '\t';
            appendCopyField(m_buffer, row[i]);
        }
        m_buffer += '\n';
        if (m_buffer.size() >= (1u << 20))
            return flush();
        return std::nullopt;
    }

    std::optional<DbError> finish() override {
        if (auto e = flush())
            return e;
        m_done = true;
        if (PQputCopyEnd(m_db.conn(), nullptr) != 1)
            return errorFrom(nullptr, m_db.conn());
        std::optional<DbError> error;
        while (PGresult* raw = PQgetResult(m_db.conn())) {
            PgResult res(raw);
            if (PQresultStatus(raw) != PGRES_COMMAND_OK && !error)
                error = errorFrom(raw, m_db.conn());
        }
        return error;
    }

private:
    std::optional<DbError> flush() {
        if (m_buffer.empty())
            return std::nullopt;
        if (PQputCopyData(m_db.conn(), m_buffer.data(), static_cast<int>(m_buffer.size())) != 1)
            return errorFrom(nullptr, m_db.conn());
        m_buffer.clear();
        return std::nullopt;
    }

    PgDb& m_db;
    std::string m_buffer;
    bool m_done = false;
};

Result<std::unique_ptr<BulkWriter>, DbError> PgDb::bulk(std::string_view table,
                                                        const std::vector<std::string>& columns) {
    std::string names;
    for (std::size_t i = 0; i < columns.size(); ++i)
        names += (i ? ", " : "") + columns[i];
    if (auto e = ensureConnected())
        return fail(*e);
    const std::string sql = fmt::format("COPY {} ({}) FROM STDIN", table, names);
    PgResult res(PQexec(m_conn, sql.c_str()));
    if (!res || PQresultStatus(res.get()) != PGRES_COPY_IN)
        return fail(errorFrom(res.get(), m_conn));
    return std::unique_ptr<BulkWriter>(std::make_unique<PgCopy>(*this));
}

void ignoreNotice(void*, const char*) {}

} // namespace

Result<std::unique_ptr<Db>, DbError> openPostgres(const std::string& conninfo) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (!conn)
        return fail(DbError{DbErrorCode::Unavailable, "cannot allocate a PostgreSQL connection"});
    if (PQstatus(conn) != CONNECTION_OK) {
        DbError error{DbErrorCode::Unavailable, fmt::format("cannot connect to PostgreSQL ({})",
                                                            trimmed(PQerrorMessage(conn)))};
        PQfinish(conn);
        return fail(std::move(error));
    }
    // NOTICEs ("relation already exists, skipping") are not the store's output.
    PQsetNoticeProcessor(conn, ignoreNotice, nullptr);
    // Every string the store sends is UTF-8 (names are Cyrillic), whatever the database's
    // encoding; the server converts.
    if (PQsetClientEncoding(conn, "UTF8") != 0) {
        DbError error{DbErrorCode::Internal,
                      fmt::format("PostgreSQL refused the UTF8 client encoding ({})",
                                  trimmed(PQerrorMessage(conn)))};
        PQfinish(conn);
        return fail(std::move(error));
    }
    auto db = std::make_unique<PgDb>(conn);
    // Times are integers in this schema; UTC keeps any text form of a time predictable.
    if (auto e = db->script("SET TIME ZONE 'UTC'"))
        return fail(*e);
    return std::unique_ptr<Db>(std::move(db));
}

} // namespace unioncard::registry::sql
