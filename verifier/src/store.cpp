// SPDX-License-Identifier: Apache-2.0
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/sqlite_statement.hpp>
#include <unioncard/verifier/store.hpp>

#include <fmt/format.h>

#include <cstring>
#include <sqlite3.h>

namespace unioncard::verifier {

std::string_view toString(Mode mode) {
    return mode == Mode::Merchant ? "merchant" : "event";
}

std::optional<Mode> parseMode(std::string_view text) {
    if (text == "event")
        return Mode::Event;
    if (text == "merchant")
        return Mode::Merchant;
    return std::nullopt;
}

std::string_view toString(CheckInRule rule) {
    switch (rule) {
    case CheckInRule::Once:
        return "once";
    case CheckInRule::Daily:
        return "daily";
    case CheckInRule::Any:
        return "any";
    }
    return "once";
}

std::optional<CheckInRule> parseCheckInRule(std::string_view text) {
    if (text == "once")
        return CheckInRule::Once;
    if (text == "daily")
        return CheckInRule::Daily;
    if (text == "any")
        return CheckInRule::Any;
    return std::nullopt;
}

namespace {

// Numbered migrations; the file's user_version is how many have run.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- kind: 'trust' or 'status' (the status snapshot); version: trust list sequence or status version
CREATE TABLE lists (kind TEXT PRIMARY KEY, bytes BLOB NOT NULL, version INTEGER NOT NULL,
                    fetched_at INTEGER NOT NULL);
CREATE TABLE status_deltas (id INTEGER PRIMARY KEY AUTOINCREMENT, bytes BLOB NOT NULL,
                            version INTEGER NOT NULL, fetched_at INTEGER NOT NULL);
CREATE TABLE events (id TEXT PRIMARY KEY, name TEXT NOT NULL, rule TEXT NOT NULL,
                     ends_on INTEGER, pulled_up_to INTEGER NOT NULL DEFAULT 0);
CREATE TABLE participants (event_id TEXT NOT NULL REFERENCES events (id),
                           card_number TEXT NOT NULL, full_name TEXT,
                           PRIMARY KEY (event_id, card_number));
CREATE TABLE check_ins (nonce TEXT PRIMARY KEY, event_id TEXT NOT NULL, desk TEXT NOT NULL,
                        card_number TEXT NOT NULL, at INTEGER NOT NULL, local INTEGER NOT NULL);
CREATE INDEX check_ins_card ON check_ins (event_id, card_number, at);
CREATE TABLE discounts (id INTEGER PRIMARY KEY AUTOINCREMENT, masked_number TEXT NOT NULL,
                        amount_minor INTEGER NOT NULL, at INTEGER NOT NULL);
)sql",
};

std::int64_t unixOf(card::Seconds at) {
    return at.time_since_epoch().count();
}
card::Seconds fromUnix(std::int64_t s) {
    return card::Seconds{std::chrono::seconds{s}};
}

using registry::sqlite::Stmt;

} // namespace

struct VerifierStore::Impl {
    std::optional<registry::sqlite::Database> database;
    sqlite3* db = nullptr;
    std::optional<registry::Outbox> outbox;

    ~Impl() { outbox.reset(); } // before the connection it uses

    StoreError error(std::string_view doing) const { return StoreError{database->error(doing)}; }
    std::optional<StoreError> exec(const char* sql, std::string_view doing) {
        if (auto e = database->exec(sql, doing)) {
            return StoreError{*e};
        }
        return std::nullopt;
    }
    template <class F> std::optional<StoreError> transaction(std::string_view doing, F body) {
        return database->transaction<StoreError>(doing, body);
    }
};

VerifierStore::VerifierStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
VerifierStore::VerifierStore(VerifierStore&&) noexcept = default;
VerifierStore& VerifierStore::operator=(VerifierStore&&) noexcept = default;
VerifierStore::~VerifierStore() = default;

Result<VerifierStore, StoreError> VerifierStore::open(const std::filesystem::path& file) {
    auto impl = std::make_unique<Impl>();
    std::string problem;
    impl->database =
        registry::sqlite::Database::open(file, "verifier database", kMigrations, problem);
    if (!impl->database) {
        return fail(StoreError{problem});
    }
    impl->db = impl->database->handle();
    auto outbox = registry::Outbox::attach(impl->db);
    if (!outbox)
        return fail(StoreError{"verifier database " + file.string() +
                               ": the outbox: " + outbox.error().message});
    impl->outbox.emplace(std::move(outbox).value());
    return VerifierStore(std::move(impl));
}

std::optional<std::string> VerifierStore::setting(std::string_view key) {
    Stmt s(m_impl->db, "SELECT value FROM settings WHERE key = ?1");
    s.text(1, key);
    if (s.step() != SQLITE_ROW)
        return std::nullopt;
    return s.colText(0);
}

std::optional<StoreError> VerifierStore::setSetting(std::string_view key, std::string_view value) {
    Stmt s(m_impl->db, "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (!s.text(1, key).text(2, value).run())
        return m_impl->error("saving a setting");
    return std::nullopt;
}

namespace {

std::optional<StoreError> saveList(VerifierStore::Impl& impl, const char* kind,
                                   const StoredList& list, bool dropDeltas) {
    return impl.transaction("saving a list", [&]() -> std::optional<StoreError> {
        Stmt s(impl.db, "INSERT INTO lists (kind, bytes, version, fetched_at) VALUES (?1, ?2, ?3, "
                        "?4) ON CONFLICT (kind) DO UPDATE SET bytes = excluded.bytes, version = "
                        "excluded.version, fetched_at = excluded.fetched_at");
        s.text(1, kind).blob(2, list.bytes);
        s.integer(3, static_cast<std::int64_t>(list.version)).integer(4, unixOf(list.fetchedAt));
        if (!s.run())
            return impl.error("saving a list");
        if (dropDeltas)
            return impl.exec("DELETE FROM status_deltas", "dropping old deltas");
        return std::nullopt;
    });
}

Result<std::optional<StoredList>, StoreError> loadList(VerifierStore::Impl& impl,
                                                       const char* kind) {
    Stmt s(impl.db, "SELECT bytes, version, fetched_at FROM lists WHERE kind = ?1");
    s.text(1, kind);
    const int rc = s.step();
    if (rc == SQLITE_DONE)
        return std::optional<StoredList>();
    if (rc != SQLITE_ROW)
        return fail(impl.error("reading a list"));
    return std::optional<StoredList>(
        StoredList{s.colBlob(0), static_cast<std::uint64_t>(s.colInt(1)), fromUnix(s.colInt(2))});
}

} // namespace

std::optional<StoreError> VerifierStore::saveTrustList(const StoredList& list) {
    return saveList(*m_impl, "trust", list, false);
}
Result<std::optional<StoredList>, StoreError> VerifierStore::trustList() {
    return loadList(*m_impl, "trust");
}
std::optional<StoreError> VerifierStore::saveStatusSnapshot(const StoredList& list) {
    return saveList(*m_impl, "status", list, true);
}
Result<std::optional<StoredList>, StoreError> VerifierStore::statusSnapshot() {
    return loadList(*m_impl, "status");
}

std::optional<StoreError> VerifierStore::addStatusDelta(const StoredList& delta) {
    Stmt s(m_impl->db,
           "INSERT INTO status_deltas (bytes, version, fetched_at) VALUES (?1, ?2, ?3)");
    s.blob(1, delta.bytes).integer(2, static_cast<std::int64_t>(delta.version));
    if (!s.integer(3, unixOf(delta.fetchedAt)).run())
        return m_impl->error("saving a status delta");
    return std::nullopt;
}

Result<std::vector<StoredList>, StoreError> VerifierStore::statusDeltas() {
    Stmt s(m_impl->db, "SELECT bytes, version, fetched_at FROM status_deltas ORDER BY id");
    std::vector<StoredList> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back(
            {s.colBlob(0), static_cast<std::uint64_t>(s.colInt(1)), fromUnix(s.colInt(2))});
    if (rc != SQLITE_DONE)
        return fail(m_impl->error("reading status deltas"));
    return out;
}

std::optional<StoreError> VerifierStore::putEvent(const EventInfo& e) {
    Stmt s(m_impl->db, "INSERT INTO events (id, name, rule, ends_on, pulled_up_to) VALUES (?1, ?2, "
                       "?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET name = excluded.name, rule = "
                       "excluded.rule, ends_on = excluded.ends_on");
    s.text(1, e.id).text(2, e.name).text(3, toString(e.rule));
    if (e.endsOn)
        s.integer(4, e.endsOn->time_since_epoch().count());
    else
        s.null(4);
    if (!s.integer(5, static_cast<std::int64_t>(e.pulledUpTo)).run())
        return m_impl->error("saving the event");
    return std::nullopt;
}

namespace {
EventInfo eventFrom(const Stmt& s) {
    EventInfo e;
    e.id = s.colText(0);
    e.name = s.colText(1);
    e.rule = parseCheckInRule(s.colText(2)).value_or(CheckInRule::Once);
    if (!s.colNull(3))
        e.endsOn = card::Days{std::chrono::days{s.colInt(3)}};
    e.pulledUpTo = static_cast<std::uint64_t>(s.colInt(4));
    return e;
}
} // namespace

Result<std::optional<EventInfo>, StoreError> VerifierStore::event(std::string_view id) {
    Stmt s(m_impl->db, "SELECT id, name, rule, ends_on, pulled_up_to FROM events WHERE id = ?1");
    s.text(1, id);
    const int rc = s.step();
    if (rc == SQLITE_DONE)
        return std::optional<EventInfo>();
    if (rc != SQLITE_ROW)
        return fail(m_impl->error("reading the event"));
    return std::optional<EventInfo>(eventFrom(s));
}

Result<std::vector<EventInfo>, StoreError> VerifierStore::events() {
    Stmt s(m_impl->db, "SELECT id, name, rule, ends_on, pulled_up_to FROM events ORDER BY id");
    std::vector<EventInfo> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back(eventFrom(s));
    if (rc != SQLITE_DONE)
        return fail(m_impl->error("listing events"));
    return out;
}

std::optional<StoreError> VerifierStore::setPulledUpTo(std::string_view eventId,
                                                       std::uint64_t sequence) {
    Stmt s(m_impl->db, "UPDATE events SET pulled_up_to = ?2 WHERE id = ?1");
    if (!s.text(1, eventId).integer(2, static_cast<std::int64_t>(sequence)).run())
        return m_impl->error("saving the check-in position");
    return std::nullopt;
}

std::optional<StoreError> VerifierStore::setParticipants(
    std::string_view eventId,
    const std::vector<std::pair<card::CardNumber, std::string>>& participants) {
    return m_impl->transaction("saving participants", [&]() -> std::optional<StoreError> {
        Stmt del(m_impl->db, "DELETE FROM participants WHERE event_id = ?1");
        if (!del.text(1, eventId).run())
            return m_impl->error("replacing participants");
        for (const auto& [number, name] : participants) {
            Stmt s(m_impl->db, "INSERT OR REPLACE INTO participants (event_id, card_number, "
                               "full_name) VALUES (?1, ?2, ?3)");
            if (!s.text(1, eventId).text(2, number.digits()).text(3, name).run())
                return m_impl->error("saving a participant");
        }
        return std::nullopt;
    });
}

Result<std::optional<std::string>, StoreError>
VerifierStore::participantName(std::string_view eventId, const card::CardNumber& number) {
    Stmt s(m_impl->db,
           "SELECT full_name FROM participants WHERE event_id = ?1 AND card_number = ?2 "
           "AND full_name IS NOT NULL");
    s.text(1, eventId).text(2, number.digits());
    const int rc = s.step();
    if (rc == SQLITE_DONE)
        return std::optional<std::string>();
    if (rc != SQLITE_ROW)
        return fail(m_impl->error("reading a participant"));
    return std::optional<std::string>(s.colText(0));
}

Result<std::size_t, StoreError> VerifierStore::purgeNames(card::Days before) {
    Stmt s(m_impl->db, "UPDATE participants SET full_name = NULL WHERE full_name IS NOT NULL AND "
                       "event_id IN (SELECT id FROM events WHERE ends_on IS NOT NULL AND ends_on "
                       "< ?1)");
    if (!s.integer(1, before.time_since_epoch().count()).run())
        return fail(m_impl->error("purging names"));
    return static_cast<std::size_t>(sqlite3_changes(m_impl->db));
}

Result<std::vector<StoredCheckIn>, StoreError>
VerifierStore::checkIns(std::string_view eventId, const std::optional<card::CardNumber>& number) {
    Stmt s(m_impl->db, number ? "SELECT nonce, event_id, desk, card_number, at, local FROM "
                                "check_ins WHERE event_id = ?1 AND card_number = ?2 ORDER BY at, "
                                "nonce"
                              : "SELECT nonce, event_id, desk, card_number, at, local FROM "
                                "check_ins WHERE event_id = ?1 ORDER BY at, nonce");
    s.text(1, eventId);
    if (number)
        s.text(2, number->digits());
    std::vector<StoredCheckIn> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        StoredCheckIn c;
        c.checkIn = {s.colText(0), s.colText(1), s.colText(2), s.colText(3), fromUnix(s.colInt(4))};
        c.local = s.colInt(5) != 0;
        out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE)
        return fail(m_impl->error("reading check-ins"));
    return out;
}

namespace {
Stmt& bindCheckIn(Stmt& s, const registry::CheckIn& c, bool local) {
    s.text(1, c.nonce).text(2, c.eventId).text(3, c.desk).text(4, c.cardNumber);
    return s.integer(5, unixOf(c.at)).integer(6, local ? 1 : 0);
}
constexpr const char* kInsertCheckIn =
    "INSERT INTO check_ins (nonce, event_id, desk, card_number, at, local) VALUES (?1, ?2, ?3, "
    "?4, ?5, ?6) ON CONFLICT (nonce) DO NOTHING";
} // namespace

std::optional<StoreError> VerifierStore::addLocalCheckIn(const registry::CheckIn& c) {
    return m_impl->transaction("recording a check-in", [&]() -> std::optional<StoreError> {
        Stmt s(m_impl->db, kInsertCheckIn);
        if (!bindCheckIn(s, c, true).run())
            return m_impl->error("recording a check-in");
        auto queued = m_impl->outbox->enqueue(c);
        if (!queued)
            return StoreError{"queuing the check-in for the registry: " + queued.error().message};
        return std::nullopt;
    });
}

Result<bool, StoreError> VerifierStore::addRemoteCheckIn(const registry::CheckIn& c) {
    Stmt s(m_impl->db, kInsertCheckIn);
    if (!bindCheckIn(s, c, false).run())
        return fail(m_impl->error("recording another desk's check-in"));
    return sqlite3_changes(m_impl->db) == 1;
}

std::optional<StoreError> VerifierStore::addDiscount(const Discount& d) {
    Stmt s(m_impl->db,
           "INSERT INTO discounts (masked_number, amount_minor, at) VALUES (?1, ?2, ?3)");
    if (!s.text(1, d.maskedNumber).integer(2, d.amountMinor).integer(3, unixOf(d.at)).run())
        return m_impl->error("recording a discount");
    return std::nullopt;
}

Result<std::vector<Discount>, StoreError> VerifierStore::discounts() {
    Stmt s(m_impl->db, "SELECT masked_number, amount_minor, at FROM discounts ORDER BY id");
    std::vector<Discount> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back({s.colText(0), s.colInt(1), fromUnix(s.colInt(2))});
    if (rc != SQLITE_DONE)
        return fail(m_impl->error("reading discounts"));
    return out;
}

registry::Outbox& VerifierStore::outbox() {
    return *m_impl->outbox;
}

} // namespace unioncard::verifier
