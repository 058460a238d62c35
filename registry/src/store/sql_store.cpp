// SPDX-License-Identifier: Apache-2.0
// The Store, written once over the SQL seam (db.hpp) for SQLite and PostgreSQL.

#include "store/sql_store.hpp"

#include "store/migrations.hpp"

#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/api.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <variant>

namespace unioncard::registry {

using sql::Db;
using sql::DbError;
using sql::DbErrorCode;
using sql::Params;
using sql::Row;
using sql::TxMode;
using sql::Value;

namespace {

// Inside a transaction a step fails either with the store's own verdict or with a database
// fault, which the transaction runner may answer by running the transaction again.
using TxError = std::variant<StoreError, DbError>;
template <class T> using TxResult = Result<T, TxError>;

// Early return on failure; the error converts to the enclosing function's Result.
#define UC_TRY(var, expr)                                                                          \
    auto var = (expr);                                                                             \
    if (!var)                                                                                      \
    return fail(var.error())
#define UC_TRY_STORE(var, expr)                                                                    \
    auto var = (expr);                                                                             \
    if (!var)                                                                                      \
    return fail(toStoreError(var.error()))

StoreError invalid(std::string message) {
    return {StoreErrorCode::InvalidArgument, std::move(message)};
}

std::int64_t toUnix(Seconds t) {
    return t.time_since_epoch().count();
}
Seconds fromUnix(std::int64_t t) {
    return Seconds{std::chrono::seconds{t}};
}

std::string dateOf(std::int64_t unix) {
    const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(fromUnix(unix))};
    return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

Seconds now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

bool isToken(std::string_view s, std::size_t min, std::size_t max) {
    if (s.size() < min || s.size() > max)
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

// The card record's member id (docs/card-format.md, key 3): 1-32 printable ASCII.
bool isMemberId(std::string_view s) {
    return !s.empty() && s.size() <= 32 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

std::string toHex(const unsigned char* p, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        out += kHex[p[i] >> 4];
        out += kHex[p[i] & 15];
    }
    return out;
}

std::optional<std::string> fromHex(std::string_view hex) {
    if (hex.size() % 2)
        return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
    }
    return out;
}

// SHA-256 of the event's fields, each length-prefixed so that no two different events encode
// alike. Tells a retry (same key, same content) from a key reused for another event.
std::string contentHash(const StatusEvent& e, const std::string& cardDigits) {
    std::string buf;
    auto put = [&](std::string_view s) {
        const std::uint64_t n = s.size();
        for (int i = 0; i < 8; ++i)
            buf += static_cast<char>((n >> (8 * i)) & 0xff);
        buf.append(s);
    };
    put(e.idempotencyKey);
    put(toString(e.kind));
    put(cardDigits);
    put(e.memberId);
    put(e.station);
    put(e.operatorId);
    put(std::to_string(toUnix(e.at)));
    put(e.applicationId ? "1" + *e.applicationId : "0");
    put(std::to_string(e.cardSequence));
    put(e.reason);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(buf.data(), buf.size(), md, &len, EVP_sha256(), nullptr);
    return toHex(md, len);
}

std::optional<std::string> randomId() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return std::nullopt;
    return toHex(bytes, sizeof bytes);
}

// The state's reason in words, for a lookup.
std::string describeState(CardState state, std::int64_t at) {
    const std::string date = dateOf(at);
    switch (state) {
    case CardState::Produced:
        return fmt::format("produced on {}, not yet handed over", date);
    case CardState::HandedOver:
        return fmt::format("handed over on {}", date);
    case CardState::Refused:
        return fmt::format("refused by the member on {}", date);
    case CardState::Suspended:
        return fmt::format("suspended on {}", date);
    case CardState::Spoiled:
        return fmt::format("spoiled in production on {}", date);
    case CardState::Lost:
        return fmt::format("reported lost on {}", date);
    case CardState::Revoked:
        return fmt::format("revoked on {}", date);
    case CardState::Replaced:
        return fmt::format("replaced by a newer card on {}", date);
    }
    return {};
}

Lookup::Verdict verdictOf(CardState state) {
    switch (validityOf(state)) {
    case Validity::Valid:
        return Lookup::Verdict::Valid;
    case Validity::Suspended:
        return Lookup::Verdict::Suspended;
    case Validity::Revoked:
        return Lookup::Verdict::Revoked;
    }
    return Lookup::Verdict::Revoked;
}

constexpr std::string_view kApplicationColumns =
    "id, member_id, full_name, region, organisation_code, organisation_name, category, reason, "
    "consent, card_sequence, card_number, created_at";

Application applicationFrom(const Row& r) {
    Application a;
    a.id = r.text(0);
    a.memberId = r.text(1);
    a.fullName = r.text(2);
    a.region = static_cast<int>(r.integer(3));
    a.organisationCode = static_cast<std::uint32_t>(r.integer(4));
    a.organisationName = r.text(5);
    a.category = parseMemberCategory(r.text(6)).value_or(MemberCategory::Unknown);
    a.reason = parseApplicationReason(r.text(7)).value_or(ApplicationReason::FirstCard);
    a.consent = r.integer(8) != 0;
    a.cardSequence = static_cast<int>(r.integer(9));
    a.cardNumber = r.optText(10);
    a.createdAt = fromUnix(r.integer(11));
    return a;
}

constexpr std::string_view kDeviceColumns = "id, role, region, expires_at, disabled, cert_sha256, "
                                            "CASE WHEN token_sha256 IS NULL THEN 0 ELSE 1 END";

std::optional<Device> deviceFrom(const Row& r) {
    Device d;
    d.id = r.text(0);
    auto role = parseRole(r.text(1));
    if (!role)
        return std::nullopt;
    d.role = *role;
    if (auto region = r.optInteger(2))
        d.region = static_cast<int>(*region);
    d.expiresAt = fromUnix(r.integer(3));
    d.disabled = r.integer(4) != 0;
    d.certificateSha256 = r.optText(5);
    d.hasToken = r.integer(6) != 0;
    return d;
}

// The application cursor: "a" + hex of the last id seen. Opaque to clients; checked on the way in.
std::string encodeCursor(const std::string& lastId) {
    return "a" + toHex(reinterpret_cast<const unsigned char*>(lastId.data()), lastId.size());
}

std::optional<std::string> decodeCursor(std::string_view cursor) {
    if (cursor.size() < 3 || cursor[0] != 'a' || cursor.size() > 1 + 2 * 64)
        return std::nullopt;
    auto id = fromHex(cursor.substr(1));
    // Application ids are printable ASCII: anything else was not given out here (and would
    // not be valid text for PostgreSQL).
    if (id && !std::all_of(id->begin(), id->end(), [](char c) { return c > 0x20 && c < 0x7F; }))
        return std::nullopt;
    return id;
}

class SqlStore final : public Store {
public:
    explicit SqlStore(std::unique_ptr<Db> db) : m_db(std::move(db)) {}

    Result<int, StoreError> schemaVersion() override {
        std::lock_guard lock(m_mutex);
        return schemaVersionOf(*m_db);
    }

    Result<ApplicationPage, StoreError> pendingApplications(const ApplicationFilter& f) override {
        if (f.limit < 1 || f.limit > 1000)
            return fail(invalid(fmt::format("limit must be 1 to 1000, not {}", f.limit)));
        std::string sql =
            fmt::format("SELECT {} FROM applications WHERE state = 'pending'", kApplicationColumns);
        Params params;
        if (f.region) {
            params.emplace_back(std::int64_t{*f.region});
            sql += fmt::format(" AND region = ${}", params.size());
        }
        if (f.organisationCode) {
            params.emplace_back(std::int64_t{*f.organisationCode});
            sql += fmt::format(" AND organisation_code = ${}", params.size());
        }
        if (!f.cursor.empty()) {
            auto after = decodeCursor(f.cursor);
            if (!after)
                return fail(invalid("the cursor is not one this registry gave out; start again "
                                    "from the first page"));
            params.emplace_back(*after);
            sql += fmt::format(" AND id > ${}", params.size());
        }
        // One row more than asked tells whether there is a next page.
        params.emplace_back(std::int64_t{f.limit + 1});
        sql += fmt::format(" ORDER BY id LIMIT ${}", params.size());

        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query(sql, params));
        ApplicationPage page;
        for (const Row& r : *rows) {
            if (static_cast<int>(page.items.size()) == f.limit) {
                page.nextCursor = encodeCursor(page.items.back().id);
                break;
            }
            page.items.push_back(applicationFrom(r));
        }
        return page;
    }

    Result<int, StoreError> addApplications(const std::vector<Application>& apps) override {
        const auto& scheme = card::NumberScheme::standard();
        for (const auto& a : apps) {
            if (a.id.empty() || a.id.size() > 64)
                return fail(invalid("an application id must be 1 to 64 characters"));
            if (!isMemberId(a.memberId))
                return fail(invalid(fmt::format(
                    "application {}: the member id must be 1 to 32 printable ASCII characters",
                    a.id)));
            if (a.region < scheme.regionMin || a.region > scheme.regionMax)
                return fail(invalid(
                    fmt::format("application {}: region {} is not in use", a.id, a.region)));
            if (a.fullName.empty())
                return fail(invalid(fmt::format("application {}: the full name is empty", a.id)));
            if (a.cardSequence < 1)
                return fail(
                    invalid(fmt::format("application {}: the card sequence starts at 1", a.id)));
        }
        std::lock_guard lock(m_mutex);
        return transact<int>(TxMode::Write, [&]() -> TxResult<int> {
            for (const auto& a : apps) {
                // The member and organisation an application names exist from then on.
                UC_TRY(m, m_db->exec("INSERT INTO members (id, full_name, region, "
                                     "organisation_code, category, consent) VALUES ($1, $2, $3, "
                                     "$4, $5, $6) ON CONFLICT (id) DO NOTHING",
                                     {a.memberId, a.fullName, std::int64_t{a.region},
                                      std::int64_t{a.organisationCode},
                                      std::string(toString(a.category)),
                                      std::int64_t{a.consent ? 1 : 0}}));
                if (*m == 0) {
                    // A member the registry has: an application under another name is a
                    // mistyped id or a name changed elsewhere; either way it must not pass
                    // silently onto a card printed with the old name.
                    UC_TRY(known, m_db->query("SELECT full_name FROM members WHERE id = $1",
                                              {a.memberId}));
                    if (!known->empty() && known->front().text(0) != a.fullName)
                        return fail(invalid(fmt::format(
                            "member {} is in the registry under another name than this "
                            "application's: check the member id, or correct the member's name "
                            "first",
                            a.memberId)));
                }
                UC_TRY(o, m_db->exec("INSERT INTO organisations (code, region, name) VALUES ($1, "
                                     "$2, $3) ON CONFLICT (code) DO NOTHING",
                                     {std::int64_t{a.organisationCode}, std::int64_t{a.region},
                                      a.organisationName}));
                auto inserted = m_db->exec(
                    fmt::format("INSERT INTO applications ({}, state) VALUES ($1, $2, $3, $4, $5, "
                                "$6, $7, $8, $9, $10, $11, $12, 'pending')",
                                kApplicationColumns),
                    {a.id, a.memberId, a.fullName, std::int64_t{a.region},
                     std::int64_t{a.organisationCode}, a.organisationName,
                     std::string(toString(a.category)), std::string(toString(a.reason)),
                     std::int64_t{a.consent ? 1 : 0}, std::int64_t{a.cardSequence},
                     sql::nullable(a.cardNumber), toUnix(a.createdAt)});
                if (!inserted && inserted.error().code == DbErrorCode::UniqueViolation)
                    return fail(StoreError{StoreErrorCode::Conflict,
                                           fmt::format("application {} already exists", a.id)});
                if (!inserted)
                    return fail(inserted.error());
            }
            return static_cast<int>(apps.size());
        });
    }

    Result<EventOutcome, StoreError> recordEvent(const StatusEvent& e, std::string_view deviceId,
                                                 const EventScope& scope) override {
        if (!isToken(e.idempotencyKey, 8, 64))
            return fail(invalid("the idempotency key must be 8 to 64 of A-Z, a-z, 0-9, _ and -"));
        auto number = card::CardNumber::parse(e.cardNumber);
        if (!number)
            return fail(invalid("the card number is not valid: " + number.error().message));
        if (!isMemberId(e.memberId))
            return fail(invalid("the member id must be 1 to 32 printable ASCII characters"));
        if (e.station.empty())
            return fail(invalid("the event names no station"));
        if (scope.region && number->region() != *scope.region)
            return fail(StoreError{StoreErrorCode::OutOfScope,
                                   fmt::format("the card is of region {:02}; this station acts for "
                                               "region {:02} only",
                                               number->region(), *scope.region)});
        const std::string digits = number->digits();
        const std::string hash = contentHash(e, digits);
        const std::string device(deviceId);

        std::lock_guard lock(m_mutex);
        // A unique violation means another process recorded the same key (or card) a moment
        // ago: run again, and the lookup below finds what it recorded.
        return transact<EventOutcome>(
            TxMode::Write,
            [&]() -> TxResult<EventOutcome> {
                // PostgreSQL hands out identity values before commit, so two instances could
                // commit events out of sequence order, and a status list or an export reading
                // MAX(sequence) would skip the later-committed one for good. One transaction
                // lock serialises the event writers, so sequence order is commit order. (SQLite
                // has one writer anyway.)
                if (m_db->dialect() == sql::Dialect::Postgres) {
                    UC_TRY(locked, m_db->query("SELECT pg_advisory_xact_lock(736473)"));
                }
                UC_TRY(seen, m_db->query("SELECT content_hash, state_after, sequence FROM events "
                                         "WHERE device_id = $1 AND idempotency_key = $2",
                                         {device, e.idempotencyKey}));
                if (!seen->empty()) {
                    const Row& r = seen->front();
                    if (r.text(0) != hash)
                        return fail(StoreError{StoreErrorCode::IdempotencyConflict,
                                               "idempotency key reused for a different event"});
                    auto state = parseCardState(r.text(1));
                    if (!state)
                        return fail(StoreError{StoreErrorCode::Internal,
                                               "a recorded event has an unknown card state"});
                    return EventOutcome{true, *state, static_cast<std::uint64_t>(r.integer(2))};
                }

                UC_TRY(cardRows, m_db->query("SELECT state, member_id FROM cards WHERE number = $1",
                                             {digits}));
                std::optional<CardState> current;
                if (!cardRows->empty()) {
                    const Row& r = cardRows->front();
                    current = parseCardState(r.text(0));
                    if (!current)
                        return fail(StoreError{StoreErrorCode::Internal,
                                               "the card's stored state is unknown"});
                    if (r.text(1) != e.memberId)
                        return fail(invalid("the card belongs to another member"));
                } else {
                    UC_TRY(member,
                           m_db->query("SELECT region FROM members WHERE id = $1", {e.memberId}));
                    // A station hears of members of its region only: one of another region
                    // is answered as if there were none, and gets no card from it.
                    if (scope.region &&
                        (member->empty() || member->front().integer(0) != *scope.region))
                        return fail(StoreError{StoreErrorCode::OutOfScope,
                                               fmt::format("region {:02} has no member with this "
                                                           "id",
                                                           *scope.region)});
                    if (member->empty())
                        return fail(invalid("the registry has no member with this id"));
                    // A new card's serial must have been leased: a mistyped or made-up number
                    // would otherwise stretch the region's range in every status list.
                    UC_TRY(counter, m_db->query("SELECT next_serial FROM serial_counters WHERE "
                                                "region = $1",
                                                {std::int64_t{number->region()}}));
                    if (counter->empty() ||
                        static_cast<std::uint64_t>(counter->front().integer(0)) <= number->serial())
                        return fail(invalid(fmt::format(
                            "serial {} of region {:02} was never leased to a station; a card "
                            "number must come from a leased block",
                            number->serial(), number->region())));
                    if (scope.region) {
                        UC_TRY(own, m_db->query("SELECT 1 FROM leases WHERE station = $1 AND "
                                                "region = $2 AND first_serial <= $3 AND "
                                                "first_serial + count > $3",
                                                {device, std::int64_t{number->region()},
                                                 static_cast<std::int64_t>(number->serial())}));
                        if (own->empty())
                            return fail(StoreError{
                                StoreErrorCode::OutOfScope,
                                fmt::format("serial {} of region {:02} was not leased to this "
                                            "station; a station makes cards only from its own "
                                            "leases",
                                            number->serial(), number->region())});
                    }
                }

                auto next = nextState(current, e.kind);
                if (!next)
                    return fail(StoreError{StoreErrorCode::Conflict, next.error().reason});

                if (e.kind == EventKind::Produced && e.applicationId) {
                    UC_TRY(app, m_db->query("SELECT member_id, state, region FROM applications "
                                            "WHERE id = $1",
                                            {*e.applicationId}));
                    if (scope.region && (app->empty() || app->front().integer(2) != *scope.region))
                        return fail(StoreError{StoreErrorCode::OutOfScope,
                                               fmt::format("region {:02} has no application with "
                                                           "this id",
                                                           *scope.region)});
                    if (app->empty())
                        return fail(invalid("the registry has no application with this id"));
                    if (app->front().text(0) != e.memberId)
                        return fail(invalid("the application is another member's"));
                    if (app->front().text(1) != "pending")
                        return fail(StoreError{StoreErrorCode::Conflict,
                                               "the application was already fulfilled by another "
                                               "card"});
                    UC_TRY(closed, m_db->exec("UPDATE applications SET state = 'done', "
                                              "card_number = $2 WHERE id = $1",
                                              {*e.applicationId, digits}));
                }

                UC_TRY(
                    inserted,
                    m_db->query("INSERT INTO events (idempotency_key, content_hash, kind, "
                                "card_number, member_id, station, operator_id, at, received_at, "
                                "application_id, card_sequence, reason, device_id, state_after) "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                                "$13, $14) RETURNING sequence",
                                {e.idempotencyKey, hash, std::string(toString(e.kind)), digits,
                                 e.memberId, e.station, e.operatorId, toUnix(e.at), toUnix(now()),
                                 sql::nullable(e.applicationId), std::int64_t{e.cardSequence},
                                 e.reason, device, std::string(toString(*next))}));
                if (inserted->empty())
                    return fail(StoreError{StoreErrorCode::Internal,
                                           "the database returned no event sequence"});
                const std::int64_t sequence = inserted->front().integer(0);

                if (current) {
                    UC_TRY(updated,
                           m_db->exec("UPDATE cards SET state = $2, updated_at = $3, station = $4, "
                                      "last_sequence = $5 WHERE number = $1",
                                      {digits, std::string(toString(*next)), toUnix(e.at),
                                       e.station, sequence}));
                } else {
                    UC_TRY(created,
                           m_db->exec("INSERT INTO cards (number, region, serial, member_id, "
                                      "card_sequence, state, updated_at, station, last_sequence) "
                                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                                      {digits, std::int64_t{number->region()},
                                       static_cast<std::int64_t>(number->serial()), e.memberId,
                                       std::int64_t{e.cardSequence}, std::string(toString(*next)),
                                       toUnix(e.at), e.station, sequence}));
                }
                return EventOutcome{false, *next, static_cast<std::uint64_t>(sequence)};
            },
            true);
    }

    Result<std::vector<RecordedEvent>, StoreError> eventsAfter(std::uint64_t after,
                                                               int limit) override {
        if (limit < 1 || limit > 10000)
            return fail(invalid(fmt::format("limit must be 1 to 10000, not {}", limit)));
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows,
                     m_db->query("SELECT sequence, idempotency_key, kind, card_number, member_id, "
                                 "station, operator_id, at, application_id, card_sequence, reason, "
                                 "received_at FROM events WHERE sequence > $1 ORDER BY sequence "
                                 "LIMIT $2",
                                 {static_cast<std::int64_t>(after), std::int64_t{limit}}));
        std::vector<RecordedEvent> out;
        out.reserve(rows->size());
        for (const Row& r : *rows) {
            RecordedEvent re;
            re.sequence = static_cast<std::uint64_t>(r.integer(0));
            re.event.idempotencyKey = r.text(1);
            auto kind = parseEventKind(r.text(2));
            if (!kind)
                return fail(
                    StoreError{StoreErrorCode::Internal, "a recorded event has an unknown kind"});
            re.event.kind = *kind;
            re.event.cardNumber = r.text(3);
            re.event.memberId = r.text(4);
            re.event.station = r.text(5);
            re.event.operatorId = r.text(6);
            re.event.at = fromUnix(r.integer(7));
            re.event.applicationId = r.optText(8);
            re.event.cardSequence = static_cast<int>(r.integer(9));
            re.event.reason = r.text(10);
            re.receivedAt = fromUnix(r.integer(11));
            out.push_back(std::move(re));
        }
        return out;
    }

    Result<Lease, StoreError> leaseSerials(int region, std::uint32_t count,
                                           std::string_view station,
                                           const LeaseQuota& quota) override {
        const auto& scheme = card::NumberScheme::standard();
        if (region < scheme.regionMin || region > scheme.regionMax)
            return fail(invalid(fmt::format("region {} is not in use", region)));
        if (count < 1 || count > 100000)
            return fail(invalid(fmt::format("a lease is 1 to 100000 serials, not {}", count)));
        if (station.empty())
            return fail(invalid("the lease names no station"));
        auto id = randomId();
        if (!id)
            return fail(StoreError{StoreErrorCode::Internal, "the random generator failed"});
        const Seconds granted = now();

        std::lock_guard lock(m_mutex);
        // The upsert takes the counter row's lock (PostgreSQL: READ COMMITTED, so a second lease
        // waits and then sees the first one's value; SQLite: BEGIN IMMEDIATE serialises writers).
        return transact<Lease>(TxMode::WriteRowLocks, [&]() -> TxResult<Lease> {
            UC_TRY(rows,
                   m_db->query("INSERT INTO serial_counters (region, next_serial) VALUES ($1, 1 + "
                               "$2) ON CONFLICT (region) DO UPDATE SET next_serial = "
                               "serial_counters.next_serial + $2 RETURNING next_serial",
                               {std::int64_t{region}, std::int64_t{count}}));
            if (rows->empty())
                return fail(StoreError{StoreErrorCode::Internal,
                                       "the database returned no serial counter"});
            const std::int64_t end = rows->front().integer(0);
            const std::int64_t first = end - count;
            const auto max = static_cast<std::int64_t>(card::CardNumber::kMaxSerial);
            if (end - 1 > max)
                return fail(StoreError{
                    StoreErrorCode::Exhausted,
                    fmt::format("region {} has {} serial numbers left and {} were asked for",
                                region, std::max<std::int64_t>(0, max - first + 1), count)});
            // Quotas, counted under the region counter's lock, so that two leases at once
            // cannot both fit in what is left.
            UC_TRY(stationUnused, unusedLeased("station = $1", std::string(station)));
            if (*stationUnused + count > quota.perStation)
                return fail(StoreError{
                    StoreErrorCode::LeaseQuota,
                    fmt::format("station '{}' holds {} leased serials with no card yet; with {} "
                                "more it would pass its quota of {}: use the numbers it has",
                                station, *stationUnused, count, quota.perStation)});
            UC_TRY(regionUnused, unusedLeased("region = $1", std::int64_t{region}));
            if (*regionUnused + count > quota.perRegion)
                return fail(StoreError{
                    StoreErrorCode::LeaseQuota,
                    fmt::format("the stations of region {:02} hold {} leased serials with no card "
                                "yet; with {} more they would pass the region's quota of {}",
                                region, *regionUnused, count, quota.perRegion)});
            UC_TRY(saved, m_db->exec("INSERT INTO leases (id, region, first_serial, count, "
                                     "station, granted_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                     {*id, std::int64_t{region}, first, std::int64_t{count},
                                      std::string(station), toUnix(granted)}));
            return Lease{
                *id,    region, static_cast<std::uint64_t>(first), count, std::string(station),
                granted};
        });
    }

    Result<Lookup, StoreError> lookup(std::string_view cardNumber, bool withPersonalData) override {
        auto number = card::CardNumber::parse(cardNumber);
        if (!number)
            return fail(invalid("the card number is not valid: " + number.error().message));
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query("SELECT c.state, c.updated_at, m.id, m.full_name, "
                                       "m.organisation_code FROM cards c JOIN members m ON m.id = "
                                       "c.member_id WHERE c.number = $1",
                                       {number->digits()}));
        Lookup out;
        if (rows->empty()) {
            out.verdict = Lookup::Verdict::Unknown;
            out.reason = "the registry has no record of this card number";
            return out;
        }
        const Row& r = rows->front();
        auto state = parseCardState(r.text(0));
        if (!state)
            return fail(StoreError{StoreErrorCode::Internal, "the card's stored state is unknown"});
        out.state = *state;
        out.verdict = verdictOf(*state);
        out.reason = describeState(*state, r.integer(1));
        if (withPersonalData) {
            out.memberId = r.text(2);
            out.fullName = r.text(3);
            out.organisationCode = static_cast<std::uint32_t>(r.integer(4));
        }
        return out;
    }

    std::optional<StoreError>
    forEachNotValid(const std::function<void(const CardValidity&)>& visit) override {
        std::lock_guard lock(m_mutex);
        auto e = streamNotValid(visit);
        if (!e)
            return std::nullopt;
        if (const auto* db = std::get_if<DbError>(&*e))
            return toStoreError(*db);
        return std::get<StoreError>(*e);
    }

    Result<std::vector<std::pair<int, std::uint64_t>>, StoreError> highestSerials() override {
        std::lock_guard lock(m_mutex);
        auto tops = readTops();
        if (!tops)
            return fail(toStoreError(tops.error()));
        return std::move(tops).value();
    }

    Result<std::uint64_t, StoreError> statusSnapshot(
        const std::function<bool(std::uint64_t, const std::vector<std::pair<int, std::uint64_t>>&)>&
            header,
        const std::function<void(const CardValidity&)>& visit) override {
        std::lock_guard lock(m_mutex);
        // One read transaction (PostgreSQL: REPEATABLE READ; SQLite: one WAL snapshot), so the
        // sequence, the regions' tops and the cards all describe the same moment.
        return transact<std::uint64_t>(TxMode::Read, [&]() -> TxResult<std::uint64_t> {
            UC_TRY(last, m_db->query("SELECT COALESCE(MAX(sequence), 0) FROM events"));
            const auto sequence =
                static_cast<std::uint64_t>(last->empty() ? 0 : last->front().integer(0));
            UC_TRY(highest, readTops());
            if (!header(sequence, *highest))
                return sequence;
            if (auto e = streamNotValid(visit))
                return fail(*e);
            return sequence;
        });
    }

    Result<std::uint64_t, StoreError> currentSequence() override {
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query("SELECT COALESCE(MAX(sequence), 0) FROM events"));
        return static_cast<std::uint64_t>(rows->empty() ? 0 : rows->front().integer(0));
    }

    std::optional<StoreError> saveStatusList(std::uint64_t version,
                                             const std::vector<std::uint8_t>& bytes) override {
        std::lock_guard lock(m_mutex);
        auto r = transact<bool>(TxMode::Write, [&]() -> TxResult<bool> {
            const auto v = static_cast<std::int64_t>(version);
            UC_TRY(added, m_db->exec("INSERT INTO status_lists (version, bytes, created_at) VALUES "
                                     "($1, $2, $3) ON CONFLICT (version) DO NOTHING",
                                     {v, bytes, toUnix(now())}));
            // Another instance may have saved this version first (with other bytes: signatures
            // are randomised). The first one saved is the version's list; callers read it back
            // with statusList().
            (void)added;
            return true;
        });
        if (!r)
            return r.error();
        return std::nullopt;
    }

    Result<std::optional<std::vector<std::uint8_t>>, StoreError>
    statusList(std::uint64_t version) override {
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query("SELECT bytes FROM status_lists WHERE version = $1",
                                       {static_cast<std::int64_t>(version)}));
        if (rows->empty())
            return std::optional<std::vector<std::uint8_t>>{};
        return std::optional<std::vector<std::uint8_t>>{rows->front().bytes(0)};
    }

    Result<std::optional<std::uint64_t>, StoreError> latestStatusListVersion() override {
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query("SELECT MAX(version) FROM status_lists"));
        if (rows->empty() || rows->front().isNull(0))
            return std::optional<std::uint64_t>{};
        return std::optional<std::uint64_t>{static_cast<std::uint64_t>(rows->front().integer(0))};
    }

    Result<int, StoreError> pruneStatusLists(int keepNewest) override {
        if (keepNewest < 1)
            return fail(invalid("at least the newest status list is kept"));
        std::lock_guard lock(m_mutex);
        auto r = transact<int>(TxMode::Write, [&]() -> TxResult<int> {
            UC_TRY(gone, m_db->exec("DELETE FROM status_lists WHERE version < (SELECT "
                                    "MIN(version) FROM (SELECT version FROM status_lists ORDER "
                                    "BY version DESC LIMIT $1) AS newest)",
                                    {std::int64_t{keepNewest}}));
            return static_cast<int>(*gone);
        });
        return r;
    }

    std::optional<StoreError> putEvent(std::string_view id, std::string_view name,
                                       const std::vector<std::string>& desks,
                                       std::string_view by) override {
        if (!isToken(id, 1, 64)) // as a check-in names it
            return invalid("an event id is 1 to 64 of A-Z, a-z, 0-9, _ and -");
        if (name.empty() || name.size() > 200 || !api::isCleanText(name))
            return invalid("an event needs a name of 1 to 200 characters");
        std::lock_guard lock(m_mutex);
        auto r = transact<bool>(TxMode::Write, [&]() -> TxResult<bool> {
            UC_TRY(put, m_db->exec("INSERT INTO registered_events (id, name, created_at) VALUES "
                                   "($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = "
                                   "excluded.name",
                                   {std::string(id), std::string(name), toUnix(now())}));
            for (const std::string& desk : desks) {
                UC_TRY(known, m_db->query("SELECT 1 FROM devices WHERE id = $1", {desk}));
                if (known->empty())
                    return fail(invalid(fmt::format("no device '{}' is registered", desk)));
                UC_TRY(added, m_db->exec("INSERT INTO event_desks (event_id, device_id) VALUES "
                                         "($1, $2) ON CONFLICT DO NOTHING",
                                         {std::string(id), desk}));
                UC_TRY(logged, logDevice(desk, fmt::format("desk of event {}", id), by));
            }
            return true;
        });
        if (!r)
            return r.error();
        return std::nullopt;
    }

    Result<bool, StoreError> isEventDesk(std::string_view eventId,
                                         std::string_view deviceId) override {
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query("SELECT 1 FROM event_desks WHERE event_id = $1 AND "
                                       "device_id = $2",
                                       {std::string(eventId), std::string(deviceId)}));
        return !rows->empty();
    }

    Result<bool, StoreError> recordCheckIn(const CheckIn& c, std::string_view deviceId) override {
        if (!isToken(c.nonce, 16, 64))
            return fail(invalid("the check-in nonce must be 16 to 64 of A-Z, a-z, 0-9, _ and -"));
        if (c.eventId.empty() || c.desk.empty())
            return fail(invalid("the check-in names no event or no desk"));
        auto number = card::CardNumber::parse(c.cardNumber);
        if (!number)
            return fail(invalid("the card number is not valid: " + number.error().message));
        std::lock_guard lock(m_mutex);
        return transact<bool>(TxMode::Write, [&]() -> TxResult<bool> {
            // As for events: one transaction lock on PostgreSQL, so that `seq` order is commit
            // order and a desk paging with checkInsAfter never skips a late commit.
            if (m_db->dialect() == sql::Dialect::Postgres) {
                UC_TRY(locked, m_db->query("SELECT pg_advisory_xact_lock(736474)"));
            }
            UC_TRY(added, m_db->exec("INSERT INTO check_ins (nonce, event_id, desk, card_number, "
                                     "at, device_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, "
                                     "$7) ON CONFLICT (nonce) DO NOTHING",
                                     {c.nonce, c.eventId, c.desk, number->digits(), toUnix(c.at),
                                      std::string(deviceId), toUnix(now())}));
            return *added == 1;
        });
    }

    Result<std::vector<RecordedCheckIn>, StoreError>
    checkInsAfter(std::string_view eventId, std::uint64_t after, int limit) override {
        if (limit < 1 || limit > 10000)
            return fail(invalid(fmt::format("limit must be 1 to 10000, not {}", limit)));
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query("SELECT seq, nonce, event_id, desk, card_number, at, "
                                       "device_id FROM check_ins WHERE event_id = $1 AND seq > "
                                       "$2 ORDER BY seq LIMIT $3",
                                       {std::string(eventId), static_cast<std::int64_t>(after),
                                        std::int64_t{limit}}));
        std::vector<RecordedCheckIn> out;
        out.reserve(rows->size());
        for (const Row& r : *rows) {
            RecordedCheckIn rc;
            rc.sequence = static_cast<std::uint64_t>(r.integer(0));
            rc.checkIn.nonce = r.text(1);
            rc.checkIn.eventId = r.text(2);
            rc.checkIn.desk = r.text(3);
            rc.checkIn.cardNumber = r.text(4);
            rc.checkIn.at = fromUnix(r.integer(5));
            rc.deviceId = r.text(6);
            out.push_back(std::move(rc));
        }
        return out;
    }

    std::optional<StoreError> putDevice(const Device& d,
                                        const std::optional<std::string>& tokenSha256Hex,
                                        std::string_view by) override {
        if (d.id.empty() || d.id.size() > 128)
            return invalid("a device id must be 1 to 128 characters");
        if (d.role == Role::Station && !d.region)
            return invalid(fmt::format("station '{}' needs its region: a station acts only for "
                                       "the cards of one region",
                                       d.id));
        std::optional<std::string> token;
        if (tokenSha256Hex) {
            token = normalisedHash(*tokenSha256Hex);
            if (!token)
                return invalid("a token hash must be 64 hexadecimal digits (SHA-256)");
        }
        std::optional<std::string> certificate;
        if (d.certificateSha256) {
            certificate = normalisedHash(*d.certificateSha256);
            if (!certificate)
                return invalid("a certificate fingerprint must be 64 hexadecimal digits (SHA-256)");
        }
        std::lock_guard lock(m_mutex);
        auto r = transact<bool>(TxMode::Write, [&]() -> TxResult<bool> {
            // No new token (or certificate) keeps the stored one: changing a role or disabling
            // a device does not need its credential.
            auto put = m_db->exec(
                "INSERT INTO devices (id, role, region, token_sha256, expires_at, disabled, "
                "cert_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET "
                "role = excluded.role, region = excluded.region, token_sha256 = "
                "COALESCE(excluded.token_sha256, devices.token_sha256), expires_at = "
                "excluded.expires_at, disabled = excluded.disabled, cert_sha256 = "
                "COALESCE(excluded.cert_sha256, devices.cert_sha256)",
                {d.id, std::string(toString(d.role)),
                 d.region ? Value{std::int64_t{*d.region}} : Value{nullptr}, sql::nullable(token),
                 toUnix(d.expiresAt), std::int64_t{d.disabled ? 1 : 0},
                 sql::nullable(certificate)});
            if (!put && put.error().code == DbErrorCode::UniqueViolation)
                return fail(StoreError{StoreErrorCode::Conflict,
                                       "this token already belongs to another device"});
            if (!put)
                return fail(put.error());
            UC_TRY(logged, logDevice(d.id, "put", by));
            return true;
        });
        if (!r)
            return r.error();
        return std::nullopt;
    }

    Result<Device, StoreError> changeDevice(std::string_view id, DeviceAction action,
                                            const std::optional<std::string>& newSha256Hex,
                                            std::string_view by) override {
        std::optional<std::string> hash;
        if (newSha256Hex) {
            hash = normalisedHash(*newSha256Hex);
            if (!hash)
                return fail(invalid("a new credential's hash must be 64 hexadecimal digits"));
        }
        if ((action == DeviceAction::Rotate || action == DeviceAction::Pin) && !hash)
            return fail(invalid("a rotation needs the new token or certificate"));
        std::lock_guard lock(m_mutex);
        return transact<Device>(TxMode::Write, [&]() -> TxResult<Device> {
            UC_TRY(rows,
                   m_db->query(fmt::format("SELECT {} FROM devices WHERE id = $1", kDeviceColumns),
                               {std::string(id)}));
            if (rows->empty())
                return fail(StoreError{StoreErrorCode::NotFound,
                                       fmt::format("no device '{}' is registered", id)});
            auto device = deviceFrom(rows->front());
            if (!device)
                return fail(
                    StoreError{StoreErrorCode::Internal, "a stored device has an unknown role"});
            const char* sql = nullptr;
            sql::Params params{std::string(id)};
            switch (action) {
            case DeviceAction::Disable:
            case DeviceAction::Enable:
                device->disabled = action == DeviceAction::Disable;
                sql = "UPDATE devices SET disabled = $2 WHERE id = $1";
                params.push_back(std::int64_t{device->disabled ? 1 : 0});
                break;
            case DeviceAction::Rotate:
                sql = "UPDATE devices SET token_sha256 = $2 WHERE id = $1";
                device->hasToken = true;
                params.push_back(*hash);
                break;
            case DeviceAction::Pin:
                sql = "UPDATE devices SET cert_sha256 = $2, token_sha256 = NULL WHERE id = $1";
                device->certificateSha256 = hash;
                device->hasToken = false;
                params.push_back(*hash);
                break;
            }
            auto changed = m_db->exec(sql, params);
            if (!changed && changed.error().code == DbErrorCode::UniqueViolation)
                return fail(StoreError{StoreErrorCode::Conflict,
                                       "this token already belongs to another device"});
            if (!changed)
                return fail(changed.error());
            UC_TRY(logged, logDevice(device->id, toString(action), by));
            return std::move(*device);
        });
    }

    Result<std::vector<Device>, StoreError> devices() override {
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(
            rows, m_db->query(fmt::format("SELECT {} FROM devices ORDER BY id", kDeviceColumns)));
        std::vector<Device> out;
        for (const Row& r : *rows) {
            auto device = deviceFrom(r);
            if (!device)
                return fail(
                    StoreError{StoreErrorCode::Internal, "a stored device has an unknown role"});
            out.push_back(std::move(*device));
        }
        return out;
    }

    Result<std::vector<DeviceAuditEntry>, StoreError>
    deviceAudit(std::string_view deviceId) override {
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query("SELECT at, device_id, action, by_whom FROM device_audit "
                                       "WHERE $1 = '' OR device_id = $1 ORDER BY seq",
                                       {std::string(deviceId)}));
        std::vector<DeviceAuditEntry> out;
        for (const Row& r : *rows)
            out.push_back({fromUnix(r.integer(0)), r.text(1), r.text(2), r.text(3)});
        return out;
    }

    Result<std::optional<Device>, StoreError>
    deviceByToken(std::string_view tokenSha256Hex) override {
        auto token = normalisedHash(tokenSha256Hex);
        if (!token)
            return fail(invalid("a token hash must be 64 hexadecimal digits (SHA-256)"));
        return deviceWhere("token_sha256", *token);
    }

    Result<std::optional<Device>, StoreError> deviceById(std::string_view id) override {
        return deviceWhere("id", std::string(id));
    }

    std::optional<StoreError> bulkLoad(const std::vector<Organisation>& organisations,
                                       const std::function<bool(Member&)>& nextMember,
                                       const std::function<bool(SeedCard&)>& nextCard) override;

    // Each region's highest card serial (the status list's region table).
    // One line of the device log, inside the caller's transaction.
    Result<std::int64_t, DbError> logDevice(const std::string& id, std::string_view action,
                                            std::string_view by) {
        return m_db->exec(
            "INSERT INTO device_audit (at, device_id, action, by_whom) VALUES ($1, "
            "$2, $3, $4)",
            {toUnix(now()), id, std::string(action), std::string(by.empty() ? "unknown" : by)});
    }

    // Leased serials that no card has taken yet, over the leases `where` selects ($1).
    Result<std::uint64_t, DbError> unusedLeased(const char* where, Value key) {
        auto rows = m_db->query(
            fmt::format("SELECT CAST(COALESCE(SUM(l.count - (SELECT COUNT(*) FROM cards c WHERE "
                        "c.region = l.region AND c.serial >= l.first_serial AND c.serial < "
                        "l.first_serial + l.count)), 0) AS BIGINT) FROM leases l WHERE l.{}",
                        where),
            {std::move(key)});
        if (!rows)
            return fail(rows.error());
        return static_cast<std::uint64_t>(rows->empty() ? 0 : rows->front().integer(0));
    }

    Result<std::vector<std::pair<int, std::uint64_t>>, DbError> readTops() {
        auto rows = m_db->query("SELECT region, MAX(serial) FROM cards GROUP BY region "
                                "ORDER BY region");
        if (!rows)
            return fail(rows.error());
        std::vector<std::pair<int, std::uint64_t>> out;
        for (const Row& r : *rows)
            out.emplace_back(static_cast<int>(r.integer(0)),
                             static_cast<std::uint64_t>(r.integer(1)));
        return out;
    }

    // The not-valid cards in (region, serial) order. Same predicate as the partial index
    // cards_not_valid, which the query then walks without sorting.
    std::optional<TxError> streamNotValid(const std::function<void(const CardValidity&)>& visit) {
        std::optional<StoreError> bad;
        auto e = m_db->stream(
            "SELECT region, serial, state FROM cards WHERE state NOT IN "
            "('produced', 'handed_over') ORDER BY region, serial",
            {}, [&](const Row& r) {
                auto state = parseCardState(r.text(2));
                if (!state) {
                    bad = StoreError{StoreErrorCode::Internal, "a card's stored state is unknown"};
                    return false;
                }
                visit(CardValidity{static_cast<int>(r.integer(0)),
                                   static_cast<std::uint64_t>(r.integer(1)), validityOf(*state)});
                return true;
            });
        if (bad)
            return TxError(*bad);
        if (e)
            return TxError(*e);
        return std::nullopt;
    }

    template <class T, class F>
    Result<T, StoreError> transact(TxMode mode, F&& body, bool retryOnUnique = false);

private:
    static std::optional<std::string> normalisedHash(std::string_view hex) {
        if (hex.size() != 64)
            return std::nullopt;
        std::string out;
        for (char c : hex) {
            if (c >= 'A' && c <= 'F')
                c = static_cast<char>(c - 'A' + 'a');
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return std::nullopt;
            out += c;
        }
        return out;
    }

    Result<std::optional<Device>, StoreError> deviceWhere(std::string_view column,
                                                          const std::string& value) {
        std::lock_guard lock(m_mutex);
        UC_TRY_STORE(rows, m_db->query(fmt::format("SELECT {} FROM devices WHERE {} = $1",
                                                   kDeviceColumns, column),
                                       {value}));
        if (rows->empty())
            return std::optional<Device>{};
        auto device = deviceFrom(rows->front());
        if (!device)
            return fail(
                StoreError{StoreErrorCode::Internal, "a stored device has an unknown role"});
        return std::optional<Device>{std::move(*device)};
    }

    std::unique_ptr<Db> m_db;
    std::mutex m_mutex; ///< one connection, one statement at a time
};

// Runs `body` in a transaction, again when the database asks for it (a serialization failure or
// deadlock on PostgreSQL; a unique violation when `retryOnUnique`, meaning a concurrent writer
// won a race the next attempt will see), with a short growing pause between attempts.
template <class T, class F>
Result<T, StoreError> SqlStore::transact(TxMode mode, F&& body, bool retryOnUnique) {
    constexpr int kAttempts = 10;
    for (int attempt = 1;; ++attempt) {
        auto again = [&](const DbError& e) {
            return attempt < kAttempts &&
                   (e.code == DbErrorCode::Retry ||
                    (retryOnUnique && e.code == DbErrorCode::UniqueViolation));
        };
        auto pause = [&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(2 * attempt));
        };
        if (auto e = m_db->begin(mode)) {
            m_db->rollback();
            if (again(*e)) {
                pause();
                continue;
            }
            return fail(toStoreError(*e));
        }
        TxResult<T> r = [&]() -> TxResult<T> {
            try {
                return body();
            } catch (...) {
                m_db->rollback();
                throw;
            }
        }();
        if (r) {
            if (auto e = m_db->commit()) {
                m_db->rollback();
                if (again(*e)) {
                    pause();
                    continue;
                }
                return fail(toStoreError(*e));
            }
            return std::move(r).value();
        }
        m_db->rollback();
        if (const auto* db = std::get_if<DbError>(&r.error())) {
            if (again(*db)) {
                pause();
                continue;
            }
            return fail(toStoreError(*db));
        }
        return fail(std::get<StoreError>(r.error()));
    }
}

// The secondary indexes of a table, as the database itself would recreate them: dropped before a
// bulk load into an empty table and built once afterwards, which is several times faster than
// maintaining them row by row.
Result<std::vector<std::pair<std::string, std::string>>, DbError>
secondaryIndexes(Db& db, const std::string& table) {
    const bool lite = db.dialect() == sql::Dialect::Sqlite;
    auto rows = db.query(lite ? "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                                "tbl_name = $1 AND sql IS NOT NULL"
                              : "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid "
                                "= i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE "
                                "t.relname = $1 AND n.nspname = current_schema() AND NOT EXISTS "
                                "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                         {table});
    if (!rows)
        return fail(rows.error());
    std::vector<std::pair<std::string, std::string>> out;
    for (const Row& r : *rows)
        out.emplace_back(r.text(0), r.text(1));
    return out;
}

std::optional<StoreError> SqlStore::bulkLoad(const std::vector<Organisation>& organisations,
                                             const std::function<bool(Member&)>& nextMember,
                                             const std::function<bool(SeedCard&)>& nextCard) {
    std::lock_guard lock(m_mutex);
    const bool lite = m_db->dialect() == sql::Dialect::Sqlite;
    // SQLite: the whole load is one transaction, so durability is settled by its one commit;
    // until then, no fsync and a large page cache for the index builds
    // (sqlite.org/pragma.html#pragma_synchronous, #pragma_cache_size).
    if (lite)
        if (auto e = m_db->script("PRAGMA synchronous=OFF; PRAGMA cache_size=-262144"))
            return toStoreError(*e);
    auto r = transact<bool>(TxMode::WriteRowLocks, [&]() -> TxResult<bool> {
        UC_TRY(counts, m_db->query("SELECT (SELECT COUNT(*) FROM members), (SELECT COUNT(*) FROM "
                                   "cards)"));
        const bool empty = counts->front().integer(0) == 0 && counts->front().integer(1) == 0;
        std::vector<std::pair<std::string, std::string>> indexes, constraints;
        if (empty) {
            for (const char* table : {"cards", "members"}) {
                UC_TRY(found, secondaryIndexes(*m_db, table));
                for (auto& ix : *found) {
                    UC_TRY(dropped, m_db->exec("DROP INDEX " + ix.first));
                    indexes.push_back(std::move(ix));
                }
            }
            // PostgreSQL checks a foreign key with one query per row during COPY, and card
            // numbers arrive in no order for the primary key's B-tree; adding both constraints
            // afterwards checks every row in one join and builds the key's index by sorting
            // (PostgreSQL 15 manual §14.4.4, §14.4.3). Measured on the 2.3M-card seed: server
            // CPU 28 s -> 23 s, and the foreign key alone took 40% of the wall time. SQLite
            // cannot drop a constraint, and its per-row check is a cheap index probe.
            if (!lite) {
                UC_TRY(found, m_db->query("SELECT conname, pg_get_constraintdef(oid) FROM "
                                          "pg_constraint WHERE conrelid = 'cards'::regclass AND "
                                          "contype IN ('f', 'p') ORDER BY contype"));
                for (const Row& r : *found) {
                    UC_TRY(dropped, m_db->exec("ALTER TABLE cards DROP CONSTRAINT " + r.text(0)));
                    constraints.emplace_back(r.text(0), r.text(1));
                }
            }
        }
        auto loadFailure = [](const DbError& e, std::string_view what) -> TxError {
            if (e.code == DbErrorCode::UniqueViolation)
                return StoreError{
                    StoreErrorCode::Conflict,
                    fmt::format("the {} contain a row the registry already has", what)};
            if (e.code == DbErrorCode::ConstraintViolation)
                return StoreError{StoreErrorCode::InvalidArgument,
                                  fmt::format("the {} refer to rows that do not exist", what)};
            return e;
        };

        {
            UC_TRY(writer, m_db->bulk("organisations", {"code", "region", "name"}));
            for (const auto& o : organisations)
                if (auto e = (*writer)->add({std::int64_t{o.code}, std::int64_t{o.region}, o.name}))
                    return fail(loadFailure(*e, "organisations"));
            if (auto e = (*writer)->finish())
                return fail(loadFailure(*e, "organisations"));
        }
        {
            UC_TRY(writer, m_db->bulk("members", {"id", "full_name", "region", "organisation_code",
                                                  "category", "consent"}));
            Member m;
            Params row(6);
            std::uint64_t n = 0;
            while (nextMember(m)) {
                ++n;
                if (!isMemberId(m.id))
                    return fail(invalid(fmt::format(
                        "member {}: the id must be 1 to 32 printable ASCII characters", n)));
                row[0] = m.id;
                row[1] = m.fullName;
                row[2] = std::int64_t{m.region};
                row[3] = std::int64_t{m.organisationCode};
                row[4] = std::string(toString(m.category));
                row[5] = std::int64_t{m.consent ? 1 : 0};
                if (auto e = (*writer)->add(row))
                    return fail(loadFailure(*e, "members"));
            }
            if (auto e = (*writer)->finish())
                return fail(loadFailure(*e, "members"));
        }
        {
            UC_TRY(writer,
                   m_db->bulk("cards", {"number", "region", "serial", "member_id", "card_sequence",
                                        "state", "updated_at", "station", "last_sequence"}));
            SeedCard c;
            Params row(9);
            std::uint64_t n = 0;
            while (nextCard(c)) {
                ++n;
                auto number = card::CardNumber::parse(c.cardNumber);
                if (!number)
                    return fail(invalid(fmt::format("card {}: the number is not valid: {}", n,
                                                    number.error().message)));
                row[0] = number->digits();
                row[1] = std::int64_t{number->region()};
                row[2] = static_cast<std::int64_t>(number->serial());
                row[3] = c.memberId;
                row[4] = std::int64_t{c.cardSequence};
                row[5] = std::string(toString(c.state));
                row[6] = toUnix(c.at);
                row[7] = c.station;
                row[8] = std::int64_t{0};
                if (auto e = (*writer)->add(row))
                    return fail(loadFailure(*e, "cards"));
            }
            if (auto e = (*writer)->finish())
                return fail(loadFailure(*e, "cards"));
        }
        for (const auto& [name, create] : indexes) {
            UC_TRY(made, m_db->exec(create));
        }
        for (const auto& [name, definition] : constraints) {
            auto added =
                m_db->exec(fmt::format("ALTER TABLE cards ADD CONSTRAINT {} {}", name, definition));
            if (!added)
                return fail(loadFailure(added.error(), "cards"));
        }
        // New leases start past every loaded serial.
        UC_TRY(counters,
               m_db->exec(fmt::format("INSERT INTO serial_counters (region, next_serial) SELECT "
                                      "region, MAX(serial) + 1 FROM cards WHERE true GROUP BY "
                                      "region ON CONFLICT (region) DO UPDATE SET next_serial = "
                                      "{}(serial_counters.next_serial, excluded.next_serial)",
                                      lite ? "MAX" : "GREATEST")));
        if (!lite) {
            UC_TRY(analysed, m_db->exec("ANALYZE members"));
            UC_TRY(analysed2, m_db->exec("ANALYZE cards"));
        }
        return true;
    });
    if (lite)
        (void)m_db->script("PRAGMA synchronous=FULL; PRAGMA cache_size=-2000");
    if (!r)
        return r.error();
    return std::nullopt;
}

} // namespace

StoreError toStoreError(const DbError& error) {
    switch (error.code) {
    case DbErrorCode::Retry:
        return {StoreErrorCode::Unavailable,
                "the database kept refusing the change because of concurrent updates; try again (" +
                    error.message + ")"};
    case DbErrorCode::Busy:
    case DbErrorCode::Unavailable:
        return {StoreErrorCode::Unavailable, error.message};
    case DbErrorCode::UniqueViolation:
        return {StoreErrorCode::Conflict,
                "the registry already has this record (" + error.message + ")"};
    case DbErrorCode::ConstraintViolation:
        return {StoreErrorCode::InvalidArgument,
                "the request refers to something the registry does not have (" + error.message +
                    ")"};
    case DbErrorCode::Internal:
        return {StoreErrorCode::Internal, error.message};
    }
    return {StoreErrorCode::Internal, error.message};
}

int Store::latestSchemaVersion() {
    return static_cast<int>(sql::migrations(sql::Dialect::Sqlite).size());
}

Result<int, StoreError> schemaVersionOf(Db& db) {
    const bool lite = db.dialect() == sql::Dialect::Sqlite;
    UC_TRY_STORE(exists,
                 db.query(lite ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name "
                                 "= 'schema_version'"
                               : "SELECT COUNT(*) FROM information_schema.tables WHERE "
                                 "table_schema = current_schema() AND table_name = "
                                 "'schema_version'"));
    if (exists->front().integer(0) == 0)
        return 0;
    UC_TRY_STORE(rows, db.query("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    return static_cast<int>(rows->front().integer(0));
}

std::optional<StoreError> migrate(Db& db, std::optional<int> target) {
    const auto all = sql::migrations(db.dialect());
    const int latest = static_cast<int>(all.size());
    const int goal = target.value_or(latest);
    if (goal < 0 || goal > latest)
        return invalid(
            fmt::format("schema version {} does not exist; the latest is {}", goal, latest));
    const bool lite = db.dialect() == sql::Dialect::Sqlite;
    auto newer = [&](int current) {
        return StoreError{StoreErrorCode::Internal,
                          fmt::format("the database's schema is at version {}, newer than this "
                                      "build knows (version {}); use a newer "
                                      "unioncard-registryd or restore a matching backup",
                                      current, latest)};
    };
    // Up to date (the usual start): no write lock is needed.
    if (auto current = schemaVersionOf(db); !current)
        return current.error();
    else if (*current > latest)
        return newer(*current);
    else if (*current >= goal)
        return std::nullopt;
    for (;;) {
        // One transaction per migration. The lock (SQLite: the write lock of BEGIN IMMEDIATE;
        // PostgreSQL: a transaction-level advisory lock) is taken before the version is read, so
        // two processes starting together apply each migration once.
        if (auto e = db.begin(TxMode::WriteRowLocks))
            return toStoreError(*e);
        auto abandon = [&](StoreError error) {
            db.rollback();
            return error;
        };
        if (!lite)
            if (auto locked = db.query("SELECT pg_advisory_xact_lock(7243001)"); !locked)
                return abandon(toStoreError(locked.error()));
        if (auto e = db.script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER "
                               "PRIMARY KEY, applied_at BIGINT NOT NULL)"))
            return abandon(toStoreError(*e));
        auto current = schemaVersionOf(db);
        if (!current)
            return abandon(current.error());
        if (*current > latest)
            return abandon(newer(*current));
        if (*current >= goal) {
            db.rollback();
            return std::nullopt;
        }
        const sql::Migration& m = all[static_cast<std::size_t>(*current)];
        if (auto e = db.script(m.sql))
            return abandon({StoreErrorCode::Internal,
                            fmt::format("schema migration {} failed: {}", m.name, e->message)});
        if (auto e = db.exec("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                             {std::int64_t{m.version}, toUnix(now())});
            !e)
            return abandon(toStoreError(e.error()));
        if (auto e = db.commit())
            return abandon(toStoreError(*e));
    }
}

Result<std::unique_ptr<Store>, StoreError> openStore(std::unique_ptr<Db> db) {
    if (auto e = migrate(*db))
        return fail(*e);
    return std::unique_ptr<Store>(std::make_unique<SqlStore>(std::move(db)));
}

Result<std::unique_ptr<Store>, StoreError> openStore(std::string_view url) {
    // The URL may hold a password: it never appears in a message.
    if (url.substr(0, 7) == "sqlite:") {
        std::string_view path = url.substr(7);
        if (path.substr(0, 2) == "//")
            path.remove_prefix(2);
        if (path.empty())
            return fail(invalid("the SQLite URL names no file: use sqlite:PATH"));
        auto db = sql::openSqlite(std::string(path));
        if (!db)
            return fail(toStoreError(db.error()));
        return openStore(std::move(db).value());
    }
    if (url.substr(0, 13) == "postgresql://" || url.substr(0, 11) == "postgres://") {
        auto db = sql::openPostgres(std::string(url));
        if (!db)
            return fail(toStoreError(db.error()));
        return openStore(std::move(db).value());
    }
    return fail(invalid("the database URL must start with sqlite: or postgresql://"));
}

#undef UC_TRY
#undef UC_TRY_STORE

} // namespace unioncard::registry
