// SPDX-License-Identifier: Apache-2.0
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/outbox.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <sqlite3.h>
#include <utility>

namespace unioncard::registry {
namespace {

using Millis = std::int64_t; ///< milliseconds since the Unix epoch, as stored

Millis toMillis(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint fromMillis(Millis ms) {
    return TimePoint{
        std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds{ms})};
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS registry_outbox (
    -- AUTOINCREMENT: ids are never reused, so id order is queueing order even after deletes.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL CHECK (kind IN ('event', 'check_in')),
    item_key        TEXT    NOT NULL,  -- idempotency key or nonce
    card_number     TEXT    NOT NULL,  -- 16 digits: the order of events is kept per card
    body            TEXT    NOT NULL,  -- the JSON sent, normalised
    queued_at       INTEGER NOT NULL,  -- ms since the epoch
    state           TEXT    NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'parked')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    parked_code     TEXT,
    parked_reason   TEXT,
    parked_at       INTEGER,
    UNIQUE (kind, item_key)
);
CREATE INDEX IF NOT EXISTS registry_outbox_by_card ON registry_outbox (kind, card_number, id);
CREATE TABLE IF NOT EXISTS registry_outbox_state (
    name  TEXT PRIMARY KEY,
    value
) WITHOUT ROWID;
INSERT OR IGNORE INTO registry_outbox_state (name, value) VALUES ('schema', 1);
)sql";

// A prepared statement that finalises itself.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) {
        m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr);
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    bool prepared() const { return m_rc == SQLITE_OK; }
    Statement& bind(int index, std::int64_t value) {
        if (prepared())
            sqlite3_bind_int64(m_stmt, index, value);
        return *this;
    }
    Statement& bind(int index, std::string_view value) {
        if (prepared())
            sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()),
                              SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bindNull(int index) {
        if (prepared())
            sqlite3_bind_null(m_stmt, index);
        return *this;
    }
    /// SQLITE_ROW, SQLITE_DONE, or an error code.
    int step() {
        if (!prepared())
            return m_rc;
        return sqlite3_step(m_stmt);
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(m_stmt, column); }
    bool isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
    std::string text(int column) const {
        const auto* data = sqlite3_column_text(m_stmt, column);
        const int size = sqlite3_column_bytes(m_stmt, column);
        return data ? std::string(reinterpret_cast<const char*>(data),
                                  static_cast<std::size_t>(size))
                    : std::string();
    }

private:
    sqlite3_stmt* m_stmt = nullptr;
    int m_rc;
};

std::optional<ClientErrorCode> parseClientErrorCode(std::string_view text) {
    for (auto c :
         {ClientErrorCode::Configuration, ClientErrorCode::Unreachable, ClientErrorCode::Tls,
          ClientErrorCode::Unauthorized, ClientErrorCode::Forbidden, ClientErrorCode::Rejected,
          ClientErrorCode::ServerError, ClientErrorCode::BadResponse})
        if (toString(c) == text)
            return c;
    return std::nullopt;
}

// What a failed delivery means for the item and for the outbox.
enum class Fate {
    Park,       ///< the registry refused this item for good
    RetryItem,  ///< this request failed; others may go on
    BackOffAll, ///< the connection or the server as a whole is unusable now
};

Fate fateOf(const ClientError& error) {
    switch (error.code) {
    case ClientErrorCode::Rejected:
        return Fate::Park;
    case ClientErrorCode::ServerError:
        // 503 and 429 speak of the server, not of this request (RFC 9110 §15.6.4, RFC 6585 §4).
        return (error.httpStatus == 503 || error.httpStatus == 429 || error.retryAfter)
                   ? Fate::BackOffAll
                   : Fate::RetryItem;
    case ClientErrorCode::BadResponse:
        return Fate::RetryItem;
    case ClientErrorCode::Forbidden:
        // A 403 answers this item (a station reporting under another station's id): parked for
        // the operator, so that it cannot hold every other card's events back for ever.
        return Fate::Park;
    case ClientErrorCode::Configuration:
    case ClientErrorCode::Unreachable:
    case ClientErrorCode::Tls:
    case ClientErrorCode::Unauthorized:
        return Fate::BackOffAll;
    }
    return Fate::BackOffAll;
}

class SystemClock final : public OutboxClock {
public:
    TimePoint now() override { return std::chrono::system_clock::now(); }
    void sleepFor(std::chrono::milliseconds duration, std::stop_token stop) override {
        std::mutex mutex;
        std::condition_variable_any wake;
        std::unique_lock lock(mutex);
        wake.wait_for(lock, stop, duration, [] { return false; });
    }
};

struct Row {
    std::int64_t id = 0;
    std::string body;
    int attempts = 0;
};

} // namespace

std::string_view toString(OutboxErrorCode code) {
    switch (code) {
    case OutboxErrorCode::Storage:
        return "storage";
    case OutboxErrorCode::InvalidItem:
        return "invalid_item";
    case OutboxErrorCode::Conflict:
        return "conflict";
    case OutboxErrorCode::NotFound:
        return "not_found";
    }
    return "?";
}

std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, int failures, double jitter) {
    jitter = std::clamp(jitter, 0.0, 1.0);
    const auto cap = std::max(policy.cap, std::chrono::milliseconds{1});
    auto step = std::max(policy.initial, std::chrono::milliseconds{1});
    for (int i = 1; i < failures && step < cap; ++i)
        step *= 2;
    step = std::min(step, cap);
    const auto half = step / 2;
    return half + std::chrono::milliseconds{static_cast<std::int64_t>(
                      jitter * static_cast<double>((step - half).count()))};
}

std::shared_ptr<OutboxClock> systemOutboxClock() {
    return std::make_shared<SystemClock>();
}

struct Outbox::Impl {
    sqlite3* db = nullptr;
    bool ownsDb = false;
    OutboxOptions options;

    ~Impl() {
        if (ownsDb)
            sqlite3_close_v2(db);
    }

    OutboxError storage(std::string_view doing) const {
        return OutboxError{OutboxErrorCode::Storage,
                           fmt::format("the outbox could not {}: {}", doing, sqlite3_errmsg(db))};
    }

    std::optional<OutboxError> exec(const char* sql, std::string_view doing) {
        if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            return storage(doing);
        return std::nullopt;
    }

    // SAVEPOINT rather than BEGIN: nests inside a transaction the caller has open (attach()).
    std::optional<OutboxError> begin() {
        return exec("SAVEPOINT registry_outbox", "start a change");
    }
    std::optional<OutboxError> commit() { return exec("RELEASE registry_outbox", "save a change"); }
    void rollback() {
        sqlite3_exec(db, "ROLLBACK TO registry_outbox; RELEASE registry_outbox", nullptr, nullptr,
                     nullptr);
    }

    Millis now() { return toMillis(options.clock->now()); }

    double jitter() {
        if (options.jitter)
            return options.jitter();
        std::array<unsigned char, 4> bytes{};
        if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
            return 0.5; // no randomness available: still back off, only without spreading
        std::uint32_t v = 0;
        std::memcpy(&v, bytes.data(), bytes.size());
        return static_cast<double>(v) / 4294967295.0;
    }

    std::optional<OutboxError> init() {
        if (auto e = exec(kSchema, "create its tables"))
            return e;
        return std::nullopt;
    }

    // ----- the state table

    std::optional<Millis> stateInteger(const char* name) {
        Statement s(db, "SELECT value FROM registry_outbox_state WHERE name = ?");
        s.bind(1, std::string_view(name));
        if (s.step() != SQLITE_ROW || s.isNull(0))
            return std::nullopt;
        return s.integer(0);
    }
    std::optional<std::string> stateText(const char* name) {
        Statement s(db, "SELECT value FROM registry_outbox_state WHERE name = ?");
        s.bind(1, std::string_view(name));
        if (s.step() != SQLITE_ROW || s.isNull(0))
            return std::nullopt;
        return s.text(0);
    }
    bool setState(const char* name, std::int64_t value) {
        Statement s(db, "INSERT INTO registry_outbox_state (name, value) VALUES (?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
        s.bind(1, std::string_view(name)).bind(2, value);
        return s.step() == SQLITE_DONE;
    }
    bool setState(const char* name, std::string_view value) {
        Statement s(db, "INSERT INTO registry_outbox_state (name, value) VALUES (?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
        s.bind(1, std::string_view(name)).bind(2, value);
        return s.step() == SQLITE_DONE;
    }

    void noteError(const ClientError& error, Millis at) {
        setState("last_error", std::string_view(error.message));
        setState("last_error_code", toString(error.code));
        setState("last_error_at", at);
    }
    // The registry answered: the connection works again.
    void noteAnswer() {
        setState("failures", std::int64_t{0});
        setState("next_pass_at", std::int64_t{0});
    }
    void noteDelivered(Millis at) {
        noteAnswer();
        setState("last_success_at", at);
    }
    void noteConnectionFault(const ClientError& error, Millis at) {
        const auto failures = stateInteger("failures").value_or(0) + 1;
        auto delay = backoffDelay(options.backoff, static_cast<int>(failures), jitter());
        if (error.retryAfter) // honour the server's wish, within reason
            delay = std::max(delay, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::min(*error.retryAfter, std::chrono::seconds{3600})));
        setState("failures", failures);
        setState("next_pass_at", at + delay.count());
        noteError(error, at);
    }

    // ----- items

    Result<std::int64_t, OutboxError> insert(std::string_view kind, const std::string& key,
                                             const std::string& cardNumber,
                                             const std::string& body) {
        if (auto e = begin())
            return fail(*e);
        Statement ins(db, "INSERT INTO registry_outbox (kind, item_key, card_number, body, "
                          "queued_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, item_key) DO "
                          "NOTHING");
        ins.bind(1, kind).bind(2, key).bind(3, cardNumber).bind(4, body).bind(5, now());
        if (ins.step() != SQLITE_DONE) {
            auto e = storage("queue an item");
            rollback();
            return fail(e);
        }
        std::int64_t id = 0;
        if (sqlite3_changes(db) == 1) {
            id = sqlite3_last_insert_rowid(db);
        } else {
            // Queued before: the same content is a harmless repeat; other content is a bug in
            // the caller's choice of keys, and sending it would make the registry refuse it.
            Statement sel(db,
                          "SELECT id, body FROM registry_outbox WHERE kind = ? AND item_key = ?");
            sel.bind(1, kind).bind(2, key);
            if (sel.step() != SQLITE_ROW) {
                auto e = storage("read a queued item");
                rollback();
                return fail(e);
            }
            if (sel.text(1) != body) {
                rollback();
                return fail(
                    OutboxError{OutboxErrorCode::Conflict,
                                fmt::format("the key '{}' is already queued for a different {}",
                                            key, kind == "event" ? "event" : "check-in")});
            }
            id = sel.integer(0);
        }
        if (auto e = commit()) {
            rollback();
            return fail(*e);
        }
        return id;
    }

    // The first undelivered event of each card, if due and not yet tried in this pass.
    Result<std::vector<Row>, OutboxError> dueEventHeads(Millis at,
                                                        const std::set<std::int64_t>& tried) {
        Statement s(db, R"sql(
            SELECT o.id, o.body, o.attempts FROM registry_outbox o
            WHERE o.kind = 'event' AND o.state = 'waiting' AND o.next_attempt_at <= ?
              AND NOT EXISTS (SELECT 1 FROM registry_outbox p
                              WHERE p.kind = 'event' AND p.card_number = o.card_number
                                AND p.id < o.id)
            ORDER BY o.id LIMIT 1000)sql");
        s.bind(1, at);
        std::vector<Row> rows;
        int rc = SQLITE_DONE;
        while ((rc = s.step()) == SQLITE_ROW)
            if (!tried.contains(s.integer(0)))
                rows.push_back(Row{s.integer(0), s.text(1), static_cast<int>(s.integer(2))});
        if (rc != SQLITE_DONE)
            return fail(storage("read the queue"));
        return rows;
    }

    Result<std::vector<Row>, OutboxError>
    dueCheckIns(Millis at, const std::set<std::int64_t>& tried, std::size_t limit) {
        Statement s(db, "SELECT id, body, attempts FROM registry_outbox WHERE kind = 'check_in' "
                        "AND state = 'waiting' AND next_attempt_at <= ? ORDER BY id");
        s.bind(1, at);
        std::vector<Row> rows;
        int rc = SQLITE_DONE;
        while (rows.size() < limit && (rc = s.step()) == SQLITE_ROW)
            if (!tried.contains(s.integer(0)))
                rows.push_back(Row{s.integer(0), s.text(1), static_cast<int>(s.integer(2))});
        if (rows.size() < limit && rc != SQLITE_DONE)
            return fail(storage("read the queue"));
        return rows;
    }

    bool remove(std::int64_t id) {
        Statement s(db, "DELETE FROM registry_outbox WHERE id = ?");
        s.bind(1, id);
        return s.step() == SQLITE_DONE;
    }

    bool park(std::int64_t id, const ClientError& error, Millis at) {
        Statement s(db, "UPDATE registry_outbox SET state = 'parked', attempts = attempts + 1, "
                        "parked_code = ?, parked_reason = ?, parked_at = ?, last_error = ? "
                        "WHERE id = ?");
        const std::string code =
            error.serverCode.empty() ? fmt::format("http_{}", error.httpStatus) : error.serverCode;
        s.bind(1, code).bind(2, error.message).bind(3, at).bind(4, error.message).bind(5, id);
        return s.step() == SQLITE_DONE;
    }

    bool defer(const Row& row, const ClientError& error, Millis at, bool ownBackoff) {
        const int attempts = row.attempts + 1;
        Statement s(db, "UPDATE registry_outbox SET attempts = ?, next_attempt_at = ?, "
                        "last_error = ? WHERE id = ?");
        const Millis next =
            ownBackoff ? at + backoffDelay(options.backoff, attempts, jitter()).count() : 0;
        s.bind(1, std::int64_t{attempts}).bind(2, next).bind(3, error.message).bind(4, row.id);
        return s.step() == SQLITE_DONE;
    }

    // ----- delivery

    enum class Step { Continue, Stop };

    // Books the answer for one item; Stop when the whole pass must end.
    Step settle(const Row& row, const ClientError* error, bool duplicate, DeliveryReport& report) {
        // The item and the state table change together: one transaction (one fsync) per answer.
        if (auto e = begin()) {
            report.storageError = *e;
            return Step::Stop;
        }
        const Step step = book(row, error, duplicate, report);
        if (auto e = commit()) {
            rollback();
            report.storageError = *e;
            return Step::Stop;
        }
        return step;
    }

    Step book(const Row& row, const ClientError* error, bool duplicate, DeliveryReport& report) {
        const Millis at = now();
        if (!error) {
            remove(row.id);
            noteDelivered(at);
            ++report.delivered;
            if (duplicate)
                ++report.duplicates;
            return Step::Continue;
        }
        report.lastError = *error;
        switch (fateOf(*error)) {
        case Fate::Park:
            park(row.id, *error, at);
            noteAnswer();
            noteError(*error, at);
            ++report.parked;
            return Step::Continue;
        case Fate::RetryItem:
            defer(row, *error, at, true);
            noteError(*error, at);
            ++report.deferred;
            return Step::Continue;
        case Fate::BackOffAll:
            defer(row, *error, at, false);
            noteConnectionFault(*error, at);
            ++report.deferred;
            report.backedOff = true;
            return Step::Stop;
        }
        return Step::Stop;
    }

    // A stored body that no longer parses (edited by hand, damaged): never sent, shown instead.
    void parkDamaged(const Row& row, const ApiError& why, DeliveryReport& report) {
        ClientError e;
        e.code = ClientErrorCode::Rejected;
        e.serverCode = "damaged_item";
        e.message = fmt::format("the queued item cannot be read back: {}", why.message);
        park(row.id, e, now());
        ++report.parked;
    }

    Step deliverEvents(RegistryClient& client, DeliveryReport& report) {
        std::set<std::int64_t> tried;
        for (;;) {
            auto heads = dueEventHeads(now(), tried);
            if (!heads) {
                report.storageError = heads.error();
                return Step::Stop;
            }
            if (heads->empty())
                return Step::Continue;
            for (const Row& row : *heads) {
                tried.insert(row.id);
                auto json = api::parseBody(row.body);
                auto event = json ? parseStatusEvent(*json, options.scheme)
                                  : Result<StatusEvent, ApiError>(fail(json.error()));
                if (!event) {
                    parkDamaged(row, event.error(), report);
                    continue;
                }
                ++report.requests;
                auto outcome = client.postEvent(*event);
                const Step step = outcome ? settle(row, nullptr, outcome->duplicate, report)
                                          : settle(row, &outcome.error(), false, report);
                if (step == Step::Stop)
                    return Step::Stop;
            }
        }
    }

    Step deliverCheckIns(RegistryClient& client, DeliveryReport& report) {
        std::set<std::int64_t> tried;
        const std::size_t batchSize =
            std::clamp<std::size_t>(options.checkInBatch, 1, api::kMaxCheckInsPerBatch);
        for (;;) {
            auto rows = dueCheckIns(now(), tried, batchSize);
            if (!rows) {
                report.storageError = rows.error();
                return Step::Stop;
            }
            if (rows->empty())
                return Step::Continue;
            std::vector<Row> sendable;
            std::vector<CheckIn> batch;
            for (const Row& row : *rows) {
                tried.insert(row.id);
                auto json = api::parseBody(row.body);
                auto checkIn = json ? parseCheckIn(*json, options.scheme)
                                    : Result<CheckIn, ApiError>(fail(json.error()));
                if (!checkIn) {
                    parkDamaged(row, checkIn.error(), report);
                    continue;
                }
                sendable.push_back(row);
                batch.push_back(std::move(checkIn).value());
            }
            if (batch.empty())
                continue;
            ++report.requests;
            auto receipt = client.postCheckIns(batch);
            if (receipt) {
                // The registry counts check-ins it already had as duplicates: all are delivered.
                const Millis at = now();
                if (auto e = begin()) {
                    report.storageError = *e;
                    return Step::Stop;
                }
                for (const Row& row : sendable)
                    remove(row.id);
                noteDelivered(at);
                if (auto e = commit()) {
                    rollback();
                    report.storageError = *e;
                    return Step::Stop;
                }
                report.delivered += sendable.size();
                report.duplicates += receipt->duplicates;
                continue;
            }
            const ClientError& error = receipt.error();
            if (fateOf(error) == Fate::Park && sendable.size() > 1) {
                // One bad check-in must not sink its batch: find it by sending each alone.
                for (std::size_t i = 0; i < sendable.size(); ++i) {
                    ++report.requests;
                    auto one = client.postCheckIns({batch[i]});
                    const Step step =
                        one ? settle(sendable[i], nullptr, one->duplicates > 0, report)
                            : settle(sendable[i], &one.error(), false, report);
                    if (step == Step::Stop)
                        return Step::Stop;
                }
                continue;
            }
            for (const Row& row : sendable) {
                if (settle(row, &error, false, report) == Step::Stop)
                    return Step::Stop;
            }
        }
    }

    DeliveryReport deliver(RegistryClient& client) {
        DeliveryReport report;
        if (now() < stateInteger("next_pass_at").value_or(0)) {
            report.backedOff = true;
            return report;
        }
        if (deliverEvents(client, report) == Step::Stop)
            return report;
        deliverCheckIns(client, report);
        return report;
    }

    // When the next waiting item is due (now or later), or nothing waits.
    std::optional<Millis> nextDue() {
        Statement s(db, "SELECT MIN(next_attempt_at) FROM registry_outbox WHERE state = 'waiting'");
        if (s.step() != SQLITE_ROW || s.isNull(0))
            return std::nullopt;
        return std::max(s.integer(0), stateInteger("next_pass_at").value_or(0));
    }
};

Outbox::Outbox(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Outbox::Outbox(Outbox&&) noexcept = default;
Outbox& Outbox::operator=(Outbox&&) noexcept = default;
Outbox::~Outbox() = default;

Result<Outbox, OutboxError> Outbox::open(const std::filesystem::path& file, OutboxOptions options) {
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(file.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto impl = std::make_unique<Impl>();
    impl->db = db;
    impl->ownsDb = true; // sqlite3_open_v2 allocates a handle even when it fails
    if (rc != SQLITE_OK)
        return fail(OutboxError{OutboxErrorCode::Storage,
                                fmt::format("the outbox could not open '{}': {}", file.string(),
                                            db ? sqlite3_errmsg(db) : "out of memory")});
    sqlite3_busy_timeout(db, static_cast<int>(options.busyTimeout.count()));
    // WAL: the caller's readers and the delivery thread do not block each other (sqlite.org/wal).
    if (auto e = impl->exec("PRAGMA journal_mode = WAL", "switch to WAL mode"))
        return fail(*e);
    auto outbox = attach(db, std::move(options));
    if (!outbox)
        return fail(outbox.error());
    outbox->m_impl->ownsDb = true;
    impl->ownsDb = false; // handed over
    return outbox;
}

Result<Outbox, OutboxError> Outbox::attach(sqlite3* db, OutboxOptions options) {
    if (!db)
        return fail(OutboxError{OutboxErrorCode::Storage, "the outbox was given no database"});
    auto impl = std::make_unique<Impl>();
    impl->db = db;
    impl->ownsDb = false;
    if (!options.clock)
        options.clock = systemOutboxClock();
    impl->options = std::move(options);
    if (auto e = impl->init())
        return fail(*e);
    return Outbox(std::move(impl));
}

Result<std::int64_t, OutboxError> Outbox::enqueue(const StatusEvent& event) {
    // Check before queuing: an event the registry would refuse as malformed is the caller's bug,
    // better reported now than parked later. Normalises the card number too.
    auto checked = parseStatusEvent(toJson(event), m_impl->options.scheme);
    if (!checked)
        return fail(
            OutboxError{OutboxErrorCode::InvalidItem,
                        fmt::format("the event cannot be queued: {}", checked.error().message)});
    const std::string body = toJson(*checked).dump();
    return m_impl->insert("event", checked->idempotencyKey, checked->cardNumber, body);
}

Result<std::int64_t, OutboxError> Outbox::enqueue(const CheckIn& checkIn) {
    auto checked = parseCheckIn(toJson(checkIn), m_impl->options.scheme);
    if (!checked)
        return fail(
            OutboxError{OutboxErrorCode::InvalidItem,
                        fmt::format("the check-in cannot be queued: {}", checked.error().message)});
    const std::string body = toJson(*checked).dump();
    return m_impl->insert("check_in", checked->nonce, checked->cardNumber, body);
}

DeliveryReport Outbox::deliver(RegistryClient& client) {
    return m_impl->deliver(client);
}

void Outbox::run(RegistryClient& client, std::stop_token stop) {
    using std::chrono::milliseconds;
    while (!stop.stop_requested()) {
        m_impl->deliver(client);
        milliseconds wait = m_impl->options.idlePoll;
        if (const auto due = m_impl->nextDue())
            wait = std::min(wait, milliseconds{std::max<Millis>(*due - m_impl->now(), 0)});
        // Never spin: when something is due but could not be sent (the database is locked), wait
        // a little before the next pass.
        wait = std::max(wait, milliseconds{50});
        m_impl->options.clock->sleepFor(wait, stop);
    }
}

Result<OutboxStatus, OutboxError> Outbox::status() {
    auto& impl = *m_impl;
    OutboxStatus st;
    Statement s(impl.db,
                "SELECT SUM(state = 'waiting'), SUM(state = 'parked'), "
                "MIN(CASE WHEN state = 'waiting' THEN queued_at END) FROM registry_outbox");
    if (s.step() != SQLITE_ROW)
        return fail(impl.storage("read its counts"));
    st.waiting = static_cast<std::size_t>(s.integer(0));
    st.parked = static_cast<std::size_t>(s.integer(1));
    if (!s.isNull(2))
        st.oldestWaitingSince = fromMillis(s.integer(2));
    if (auto v = impl.stateInteger("last_success_at"))
        st.lastSuccessAt = fromMillis(*v);
    if (auto v = impl.stateInteger("last_error_at"))
        st.lastErrorAt = fromMillis(*v);
    if (auto v = impl.stateText("last_error_code"))
        st.lastErrorCode = parseClientErrorCode(*v);
    st.lastError = impl.stateText("last_error").value_or("");
    st.consecutiveFailures = static_cast<int>(impl.stateInteger("failures").value_or(0));
    if (auto due = impl.nextDue())
        st.nextAttemptAt = fromMillis(*due);
    return st;
}

Result<std::vector<ParkedItem>, OutboxError> Outbox::parked() {
    auto& impl = *m_impl;
    Statement s(impl.db, "SELECT id, kind, item_key, card_number, body, parked_code, "
                         "parked_reason, queued_at, parked_at FROM registry_outbox "
                         "WHERE state = 'parked' ORDER BY id");
    std::vector<ParkedItem> items;
    int rc = SQLITE_DONE;
    while ((rc = s.step()) == SQLITE_ROW) {
        ParkedItem item;
        item.id = s.integer(0);
        item.kind = s.text(1) == "event" ? OutboxItemKind::Event : OutboxItemKind::CheckIn;
        item.key = s.text(2);
        item.cardNumber = s.text(3);
        if (auto json = api::parseBody(s.text(4))) {
            if (item.kind == OutboxItemKind::Event) {
                if (auto e = parseStatusEvent(*json, impl.options.scheme))
                    item.event = std::move(e).value();
            } else if (auto c = parseCheckIn(*json, impl.options.scheme)) {
                item.checkIn = std::move(c).value();
            }
        }
        item.serverCode = s.text(5);
        item.reason = s.text(6);
        item.queuedAt = fromMillis(s.integer(7));
        item.parkedAt = fromMillis(s.integer(8));
        items.push_back(std::move(item));
    }
    if (rc != SQLITE_DONE)
        return fail(impl.storage("read the parked items"));
    return items;
}

std::optional<OutboxError> Outbox::retryNow() {
    Statement s(m_impl->db,
                "UPDATE registry_outbox SET next_attempt_at = 0 WHERE state = 'waiting'");
    if (s.step() != SQLITE_DONE || !m_impl->setState("next_pass_at", std::int64_t{0}))
        return m_impl->storage("make the waiting items due now");
    return std::nullopt;
}

std::optional<OutboxError> Outbox::retryParked(std::int64_t id) {
    Statement s(m_impl->db, "UPDATE registry_outbox SET state = 'waiting', attempts = 0, "
                            "next_attempt_at = 0, parked_code = NULL, parked_reason = NULL, "
                            "parked_at = NULL WHERE id = ? AND state = 'parked'");
    s.bind(1, id);
    if (s.step() != SQLITE_DONE)
        return m_impl->storage("put a parked item back in line");
    if (sqlite3_changes(m_impl->db) == 0)
        return OutboxError{OutboxErrorCode::NotFound, fmt::format("no parked item {}", id)};
    return std::nullopt;
}

std::optional<OutboxError> Outbox::discardParked(std::int64_t id) {
    Statement s(m_impl->db, "DELETE FROM registry_outbox WHERE id = ? AND state = 'parked'");
    s.bind(1, id);
    if (s.step() != SQLITE_DONE)
        return m_impl->storage("discard a parked item");
    if (sqlite3_changes(m_impl->db) == 0)
        return OutboxError{OutboxErrorCode::NotFound, fmt::format("no parked item {}", id)};
    return std::nullopt;
}

} // namespace unioncard::registry
