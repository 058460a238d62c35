// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_record.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/sqlite_statement.hpp>
#include <unioncard/station/store.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

namespace unioncard::station {

using registry::sqlite::Stmt;
using json = nlohmann::json;

namespace {

constexpr std::array<std::pair<CardState, std::string_view>, 11> kStates{{
    {CardState::Feeding, "feeding"},
    {CardState::Encoding, "encoding"},
    {CardState::Verifying, "verifying"},
    {CardState::Printing, "printing"},
    {CardState::Produced, "produced"},
    {CardState::HandedOver, "handed_over"},
    {CardState::Refused, "refused"},
    {CardState::Spoiled, "spoiled"},
    {CardState::Lost, "lost"},
    {CardState::Revoked, "revoked"},
    {CardState::Replaced, "replaced"},
}};

// Numbered migrations; PRAGMA user_version counts those applied.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE operators (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
                        pin_hash TEXT, staff_card_uid TEXT UNIQUE,
                        disabled INTEGER NOT NULL DEFAULT 0);
-- state: queued (waits for a card), held (hold_reason says why), in_progress, done
CREATE TABLE applications (id TEXT PRIMARY KEY, member_id TEXT NOT NULL, full_name TEXT NOT NULL,
                           region INTEGER NOT NULL, organisation_code INTEGER NOT NULL,
                           organisation_name TEXT NOT NULL, category TEXT NOT NULL,
                           reason TEXT NOT NULL, consent INTEGER NOT NULL,
                           card_sequence INTEGER NOT NULL, card_number TEXT, source TEXT NOT NULL,
                           state TEXT NOT NULL, hold_reason TEXT, received_at INTEGER NOT NULL);
CREATE INDEX applications_state ON applications (state, received_at);
-- A number is written here once, with the card that carries it; a spoiled card keeps it, so
-- it is never issued again.
CREATE TABLE cards (id INTEGER PRIMARY KEY AUTOINCREMENT,
                    application_id TEXT NOT NULL REFERENCES applications (id),
                    card_number TEXT NOT NULL UNIQUE, member_id TEXT NOT NULL,
                    card_sequence INTEGER NOT NULL, state TEXT NOT NULL, chip_uid TEXT,
                    operator TEXT NOT NULL, spoil_reason TEXT, card_fate TEXT,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    produced_at INTEGER, handed_over_at INTEGER);
CREATE INDEX cards_state ON cards (state);
CREATE TABLE number_blocks (id TEXT PRIMARY KEY, region INTEGER NOT NULL,
                            first_serial INTEGER NOT NULL, count INTEGER NOT NULL,
                            next_serial INTEGER NOT NULL, leased_at INTEGER NOT NULL);
CREATE TABLE stock (item TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, operator TEXT NOT NULL,
                    action TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL, signature TEXT NOT NULL);
)sql",
    // Wrong PINs in a row, the time before which no try is taken, and the lock a supervisor
    // clears.
    R"sql(
ALTER TABLE operators ADD COLUMN failed_pins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operators ADD COLUMN retry_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operators ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
)sql",
};

std::int64_t unixOf(card::Seconds at) {
    return at.time_since_epoch().count();
}
card::Seconds fromUnix(std::int64_t s) {
    return card::Seconds{std::chrono::seconds{s}};
}
card::Seconds now() {
    return currentTime();
}

std::string hexOf(std::span<const std::uint8_t> bytes) {
    return card::toHex(bytes);
}

// PINs: scrypt (RFC 7914) with a random salt, N = 2^15, r = 8, p = 1, 32 bytes.
std::string hashPin(const std::string& pin) {
    std::array<std::uint8_t, 16> salt{};
    std::array<std::uint8_t, 32> out{};
    if (RAND_bytes(salt.data(), salt.size()) != 1 ||
        EVP_PBE_scrypt(pin.data(), pin.size(), salt.data(), salt.size(), 1 << 15, 8, 1,
                       64 * 1024 * 1024, out.data(), out.size()) != 1) {
        return {};
    }
    return fmt::format("scrypt$15$8$1${}${}", hexOf(salt), hexOf(out));
}

bool pinMatches(const std::string& stored, std::string_view pin) {
    // scrypt$15$8$1$SALT$HASH
    const auto parts = [&] {
        std::vector<std::string> v;
        std::size_t from = 0;
        for (std::size_t at; (at = stored.find('$', from)) != std::string::npos; from = at + 1) {
            v.push_back(stored.substr(from, at - from));
        }
        v.push_back(stored.substr(from));
        return v;
    }();
    if (parts.size() != 6 || parts[0] != "scrypt") {
        return false;
    }
    const auto salt = card::fromHex(parts[4]);
    const auto want = card::fromHex(parts[5]);
    if (!salt || !want || want->size() != 32) {
        return false;
    }
    std::array<std::uint8_t, 32> got{};
    const int logN = std::atoi(parts[1].c_str());
    if (logN < 10 || logN > 20 ||
        EVP_PBE_scrypt(pin.data(), pin.size(), salt->data(), salt->size(), std::uint64_t{1} << logN,
                       static_cast<std::uint64_t>(std::atoi(parts[2].c_str())),
                       static_cast<std::uint64_t>(std::atoi(parts[3].c_str())), 64 * 1024 * 1024,
                       got.data(), got.size()) != 1) {
        return false;
    }
    return CRYPTO_memcmp(got.data(), want->data(), got.size()) == 0;
}

std::string auditHash(const std::string& prevHash, std::int64_t seq, std::int64_t at,
                      const std::string& op, std::string_view action, const std::string& details) {
    // Each field length-prefixed, so no two entries hash the same input.
    std::string input;
    for (const std::string& part :
         {prevHash, std::to_string(seq), std::to_string(at), op, std::string(action), details}) {
        input += std::to_string(part.size()) + ":" + part + ";";
    }
    std::array<std::uint8_t, 32> digest{};
    unsigned int n = 0;
    EVP_Digest(input.data(), input.size(), digest.data(), &n, EVP_sha256(), nullptr);
    return hexOf(digest);
}

} // namespace

card::Seconds currentTime() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string_view toString(CardState state) {
    for (const auto& [s, name] : kStates) {
        if (s == state) {
            return name;
        }
    }
    return "spoiled";
}

std::optional<CardState> parseCardState(std::string_view text) {
    for (const auto& [s, name] : kStates) {
        if (name == text) {
            return s;
        }
    }
    return std::nullopt;
}

bool inPrinter(CardState state) {
    return state == CardState::Feeding || state == CardState::Encoding ||
           state == CardState::Verifying || state == CardState::Printing;
}

std::string_view toString(Role role) {
    switch (role) {
    case Role::Operator:
        return "operator";
    case Role::Supervisor:
        return "supervisor";
    case Role::Auditor:
        return "auditor";
    }
    return "operator";
}

std::optional<Role> parseRole(std::string_view text) {
    if (text == "operator")
        return Role::Operator;
    if (text == "supervisor")
        return Role::Supervisor;
    if (text == "auditor")
        return Role::Auditor;
    return std::nullopt;
}

struct StationStore::Impl {
    std::optional<registry::sqlite::Database> database;
    sqlite3* db = nullptr;
    std::optional<registry::Outbox> outbox;
    AuditSigner signer;
    std::string stationId;

    ~Impl() { outbox.reset(); } // before the connection it uses

    StoreError error(std::string_view doing) const { return StoreError{database->error(doing)}; }
    template <class F> std::optional<StoreError> transaction(std::string_view doing, F body) {
        return database->transaction<StoreError>(doing, body);
    }

    // Inside a transaction: the next audit entry, chained and signed.
    std::optional<StoreError> appendAudit(const std::string& op, std::string_view action,
                                          const json& details) {
        if (!signer) {
            return StoreError{"the station's key is not unlocked, so nothing can be recorded: "
                              "sign in with the station key's passphrase"};
        }
        Stmt last(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
        std::int64_t seq = 1;
        std::string prev(64, '0');
        if (last.step() == SQLITE_ROW) {
            seq = last.colInt(0) + 1;
            prev = last.colText(1);
        }
        const std::int64_t at = unixOf(now());
        const std::string text = details.dump();
        const std::string hash = auditHash(prev, seq, at, op, action, text);
        const auto digest = card::fromHex(hash).value();
        auto signature = signer(digest);
        if (!signature) {
            return StoreError{"signing the audit entry failed: " + signature.error().message};
        }
        Stmt s(db, "INSERT INTO audit (seq, at, operator, action, details, prev_hash, hash, "
                   "signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        s.integer(1, seq).integer(2, at).text(3, op).text(4, action).text(5, text);
        if (!s.text(6, prev).text(7, hash).text(8, hexOf(signature.value())).run()) {
            return error("writing the audit log");
        }
        return std::nullopt;
    }

    // Sign-in by `column` (id or staff card) and PIN, counting wrong PINs (StationStore::signIn).
    Result<Operator, StoreError> signInWhere(const char* column, std::string_view key,
                                             std::string_view pin, card::Seconds at,
                                             const StoreError& refused) {
        const std::string sql = fmt::format("SELECT id, name, role, pin_hash, staff_card_uid, "
                                            "disabled, failed_pins, retry_after, locked FROM "
                                            "operators WHERE {} = ?1",
                                            column);
        Stmt s(db, sql.c_str());
        s.text(1, key);
        if (s.step() != SQLITE_ROW || s.colInt(5) != 0) {
            return fail(refused);
        }
        Operator op{
            s.colText(0), s.colText(1), parseRole(s.colText(2)).value_or(Role::Auditor), {}};
        if (!s.colNull(4)) {
            op.staffCardUid = s.colText(4);
        }
        const std::int64_t failed = s.colInt(6);
        const card::Seconds retryAfter = fromUnix(s.colInt(7));
        // By card, the answer does not name whose card it is.
        const std::string who = std::string_view(column) == "id" ? op.id : "this card's operator";
        if (s.colInt(8) != 0) {
            return fail(StoreError{fmt::format("{} is locked after {} wrong PINs in a row: a "
                                               "supervisor must unlock them",
                                               who, kPinAttemptsBeforeLock),
                                   "locked"});
        }
        if (at < retryAfter) {
            return fail(StoreError{fmt::format("too many wrong PINs in a row: wait {} s and try "
                                               "again",
                                               (retryAfter - at).count()),
                                   "wait"});
        }
        const std::optional<std::string> stored =
            s.colNull(3) ? std::nullopt : std::optional(s.colText(3));
        // The try counts before the PIN is looked at, in one statement: several tries at once
        // (processes started together) each count, and none sees a count another missed.
        std::int64_t tries = failed + 1;
        {
            Stmt counted(db, "UPDATE operators SET failed_pins = failed_pins + 1 WHERE id = ?1 "
                             "RETURNING failed_pins");
            if (counted.text(1, op.id).step() != SQLITE_ROW) {
                return fail(error("counting a PIN try"));
            }
            tries = std::max(tries, counted.colInt(0));
        }
        const bool right = stored && pinMatches(*stored, pin);
        const std::int64_t count = right ? 0 : tries;
        const bool lock = count >= kPinAttemptsBeforeLock;
        const auto wait = count >= 3 ? kFirstPinDelay * (std::int64_t{1} << (count - 3))
                                     : std::chrono::seconds(0);
        // A right PIN clears the count; a wrong one (counted above) only ever raises the wait
        // and the lock, so that a try finishing late undoes nothing another one did.
        Stmt update(db, right ? "UPDATE operators SET failed_pins = 0, retry_after = 0 WHERE "
                                "id = ?1"
                              : "UPDATE operators SET retry_after = MAX(retry_after, ?2), "
                                "locked = MAX(locked, ?3) WHERE id = ?1");
        update.text(1, op.id);
        if (!right) {
            update.integer(2, count >= 3 ? unixOf(at + wait) : 0).integer(3, lock ? 1 : 0);
        }
        if (!update.run()) {
            return fail(error("counting a wrong PIN"));
        }
        if (right) {
            return op;
        }
        if (lock) {
            // Recorded when the station's key is open (the CLI); the lock holds either way.
            if (signer) {
                (void)appendAudit(op.id, "operator.locked", json{{"wrong_pins", count}});
            }
            return fail(StoreError{fmt::format("{} is now locked after {} wrong PINs in a row: a "
                                               "supervisor must unlock them",
                                               who, count),
                                   "locked"});
        }
        return fail(refused);
    }

    std::optional<StoreError> queueEvent(registry::EventKind kind, const CardRow& c,
                                         const std::string& op, const std::string& reason,
                                         card::Seconds at) {
        registry::StatusEvent e;
        e.kind = kind;
        e.idempotencyKey = fmt::format("{}-{}", registry::toString(kind), c.cardNumber);
        e.cardNumber = c.cardNumber;
        e.memberId = c.memberId;
        e.station = stationId;
        e.operatorId = op;
        e.at = at;
        e.cardSequence = c.cardSequence;
        e.reason = reason;
        if (kind == registry::EventKind::Produced) {
            e.applicationId = c.applicationId;
        }
        auto queued = outbox->enqueue(e);
        if (!queued) {
            return StoreError{"queuing the event for the registry: " + queued.error().message};
        }
        return std::nullopt;
    }

    Result<std::optional<CardRow>, StoreError> cardWhere(const char* where, std::string_view key) {
        const std::string sql =
            std::string("SELECT id, application_id, card_number, member_id, card_sequence, state, "
                        "chip_uid, operator, spoil_reason, card_fate, created_at, updated_at, "
                        "produced_at, handed_over_at FROM cards WHERE ") +
            where;
        Stmt s(db, sql.c_str());
        s.text(1, key);
        const int rc = s.step();
        if (rc == SQLITE_DONE) {
            return std::optional<CardRow>();
        }
        if (rc != SQLITE_ROW) {
            return fail(error("reading a card"));
        }
        return std::optional<CardRow>(rowOf(s));
    }

    static CardRow rowOf(const Stmt& s) {
        CardRow c;
        c.id = s.colInt(0);
        c.applicationId = s.colText(1);
        c.cardNumber = s.colText(2);
        c.memberId = s.colText(3);
        c.cardSequence = static_cast<int>(s.colInt(4));
        c.state = parseCardState(s.colText(5)).value_or(CardState::Spoiled);
        c.chipUid = s.colText(6);
        c.operatorId = s.colText(7);
        c.spoilReason = s.colText(8);
        c.cardFate = s.colText(9);
        c.createdAt = fromUnix(s.colInt(10));
        c.updatedAt = fromUnix(s.colInt(11));
        if (!s.colNull(12)) {
            c.producedAt = fromUnix(s.colInt(12));
        }
        if (!s.colNull(13)) {
            c.handedOverAt = fromUnix(s.colInt(13));
        }
        return c;
    }

    std::optional<StoreError> setCardState(std::int64_t id, CardState state, card::Seconds at) {
        Stmt s(db, "UPDATE cards SET state = ?2, updated_at = ?3 WHERE id = ?1");
        if (!s.integer(1, id).text(2, toString(state)).integer(3, unixOf(at)).run()) {
            return error("updating a card");
        }
        return std::nullopt;
    }

    std::optional<StoreError> setApplicationState(const std::string& id, std::string_view state) {
        Stmt s(db, "UPDATE applications SET state = ?2 WHERE id = ?1");
        if (!s.text(1, id).text(2, state).run()) {
            return error("updating an application");
        }
        return std::nullopt;
    }

    std::optional<StoreError> takeStock(std::string_view item, std::int64_t n) {
        Stmt s(db, "UPDATE stock SET count = MAX(count - ?2, 0) WHERE item = ?1");
        if (!s.text(1, item).integer(2, n).run()) {
            return error("updating stock");
        }
        return std::nullopt;
    }
};

StationStore::StationStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
StationStore::StationStore(StationStore&&) noexcept = default;
StationStore& StationStore::operator=(StationStore&&) noexcept = default;
StationStore::~StationStore() = default;

Result<StationStore, StoreError> StationStore::open(const std::filesystem::path& file) {
    auto impl = std::make_unique<Impl>();
    std::string problem;
    impl->database =
        registry::sqlite::Database::open(file, "station database", kMigrations, problem);
    if (!impl->database) {
        return fail(StoreError{problem});
    }
    impl->db = impl->database->handle();
    auto outbox = registry::Outbox::attach(impl->db);
    if (!outbox) {
        return fail(StoreError{"station database " + file.string() +
                               ": the outbox: " + outbox.error().message});
    }
    impl->outbox.emplace(std::move(outbox).value());
    return StationStore(std::move(impl));
}

void StationStore::setAuditSigner(AuditSigner signer, std::string stationId) {
    m_impl->signer = std::move(signer);
    m_impl->stationId = std::move(stationId);
}

std::optional<std::string> StationStore::setting(std::string_view key) {
    Stmt s(m_impl->db, "SELECT value FROM settings WHERE key = ?1");
    s.text(1, key);
    if (s.step() != SQLITE_ROW) {
        return std::nullopt;
    }
    return s.colText(0);
}

std::optional<StoreError> StationStore::setSetting(std::string_view key, std::string_view value) {
    Stmt s(m_impl->db, "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO "
                       "UPDATE SET value = excluded.value");
    if (!s.text(1, key).text(2, value).run()) {
        return m_impl->error("saving a setting");
    }
    return std::nullopt;
}

std::optional<StoreError> StationStore::putOperator(const Operator& op, const std::string& pin,
                                                    const std::string& by) {
    if (op.id.empty() || op.name.empty()) {
        return StoreError{"an operator needs an id and a name"};
    }
    if (!pin.empty() && (pin.size() < kMinPinDigits || pin.size() > 12 ||
                         pin.find_first_not_of("0123456789") != std::string::npos)) {
        return StoreError{fmt::format("a PIN is {} to 12 digits", kMinPinDigits)};
    }
    if (pin.empty()) {
        Stmt has(m_impl->db, "SELECT 1 FROM operators WHERE id = ?1 AND pin_hash IS NOT NULL");
        if (has.text(1, op.id).step() != SQLITE_ROW) {
            return StoreError{fmt::format("{} needs a PIN of {} to 12 digits: a staff card alone "
                                          "signs no one in",
                                          op.id, kMinPinDigits)};
        }
    }
    const std::string hash = pin.empty() ? std::string() : hashPin(pin);
    if (!pin.empty() && hash.empty()) {
        return StoreError{"OpenSSL could not hash the PIN"};
    }
    return m_impl->transaction("saving an operator", [&]() -> std::optional<StoreError> {
        Stmt s(m_impl->db, "INSERT INTO operators (id, name, role, pin_hash, staff_card_uid) "
                           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET name = "
                           "excluded.name, role = excluded.role, pin_hash = "
                           "COALESCE(excluded.pin_hash, pin_hash), staff_card_uid = "
                           "excluded.staff_card_uid");
        s.text(1, op.id).text(2, op.name).text(3, toString(op.role)).optText(4, hash);
        s.optText(5, op.staffCardUid.value_or(""));
        if (!s.run()) {
            return m_impl->error("saving an operator");
        }
        return m_impl->appendAudit(by, "operator.put",
                                   json{{"id", op.id},
                                        {"role", toString(op.role)},
                                        {"pin_changed", !pin.empty()},
                                        {"staff_card", op.staffCardUid.has_value()}});
    });
}

Result<Operator, StoreError> StationStore::signIn(std::string_view id, std::string_view pin,
                                                  card::Seconds at) {
    // The same words whether the operator or the PIN is wrong: no help for guessing.
    return m_impl->signInWhere("id", id, pin, at,
                               StoreError{"the operator id or the PIN is wrong"});
}

Result<Operator, StoreError> StationStore::signInByCard(std::string_view uidHex,
                                                        std::string_view pin, card::Seconds at) {
    return m_impl->signInWhere(
        "staff_card_uid", uidHex, pin, at,
        StoreError{"this is not a staff card of this station, or the PIN is wrong"});
}

std::string_view toString(TwoPersonAct act) {
    switch (act) {
    case TwoPersonAct::Revoke:
        return "revoke";
    case TwoPersonAct::Replace:
        return "replace";
    case TwoPersonAct::ChangeRole:
        return "change_role";
    }
    return "?";
}

std::optional<StoreError> StationStore::approveBySecond(TwoPersonAct act, const std::string& first,
                                                        std::string_view secondId,
                                                        std::string_view pin,
                                                        const std::string& what, card::Seconds at) {
    const std::string_view name = toString(act);
    if (secondId.empty() && act == TwoPersonAct::ChangeRole) {
        // A new station has its first supervisor only: the second one is made by the first.
        Stmt count(m_impl->db, "SELECT COUNT(*) FROM operators WHERE role = 'supervisor' AND "
                               "disabled = 0");
        if (count.step() == SQLITE_ROW && count.colInt(0) <= 1) {
            return audit(first, "approve",
                         json{{"act", name},
                              {"by", first},
                              {"alone", "the station has no second supervisor yet"},
                              {"what", json::parse(what, nullptr, false)}}
                             .dump());
        }
    }
    if (secondId.empty()) {
        return StoreError{fmt::format("{} needs a second supervisor to sign in too", name),
                          "second_person"};
    }
    if (secondId == first) {
        return StoreError{fmt::format("{} needs a second supervisor, not {} again", name, first),
                          "second_person"};
    }
    auto second = signIn(secondId, pin, at);
    if (!second) {
        return second.error();
    }
    if (second->role != Role::Supervisor) {
        return StoreError{fmt::format("{} is {}: only a supervisor approves {}", second->id,
                                      toString(second->role), name),
                          "second_person"};
    }
    auto details = json::parse(what, nullptr, false);
    return audit(
        second->id, "approve",
        json{{"act", name}, {"by", first}, {"what", details.is_discarded() ? json(what) : details}}
            .dump());
}

Result<int, StoreError> StationStore::supervisorsWhoCanSignIn() {
    Stmt s(m_impl->db, "SELECT COUNT(*) FROM operators WHERE role = 'supervisor' AND disabled = 0 "
                       "AND locked = 0");
    if (s.step() != SQLITE_ROW) {
        return fail(m_impl->error("counting supervisors"));
    }
    return static_cast<int>(s.colInt(0));
}

Result<std::optional<Role>, StoreError> StationStore::operatorRole(std::string_view id) {
    Stmt s(m_impl->db, "SELECT role FROM operators WHERE id = ?1");
    s.text(1, id);
    if (s.step() != SQLITE_ROW) {
        return std::optional<Role>();
    }
    return parseRole(s.colText(0));
}

std::optional<StoreError> StationStore::unlockOperator(std::string_view id, const std::string& by) {
    return m_impl->transaction("unlocking an operator", [&]() -> std::optional<StoreError> {
        Stmt s(m_impl->db, "UPDATE operators SET failed_pins = 0, retry_after = 0, locked = 0 "
                           "WHERE id = ?1");
        if (!s.text(1, id).run()) {
            return m_impl->error("unlocking an operator");
        }
        if (sqlite3_changes(m_impl->db) == 0) {
            return StoreError{fmt::format("this station has no operator '{}'", id)};
        }
        return m_impl->appendAudit(by, "operator.unlock", json{{"id", id}});
    });
}

Result<std::size_t, StoreError>
StationStore::addApplications(const std::vector<registry::Application>& list,
                              std::string_view source, const std::string& operatorId) {
    std::size_t added = 0;
    auto e = m_impl->transaction("adding applications", [&]() -> std::optional<StoreError> {
        for (const auto& a : list) {
            Stmt s(m_impl->db,
                   "INSERT INTO applications (id, member_id, full_name, region, "
                   "organisation_code, organisation_name, category, reason, consent, "
                   "card_sequence, card_number, source, state, hold_reason, received_at) VALUES "
                   "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON "
                   "CONFLICT (id) DO NOTHING");
            s.text(1, a.id).text(2, a.memberId).text(3, a.fullName).integer(4, a.region);
            s.integer(5, a.organisationCode).text(6, a.organisationName);
            s.text(7, registry::toString(a.category)).text(8, registry::toString(a.reason));
            s.integer(9, a.consent ? 1 : 0).integer(10, a.cardSequence);
            s.optText(11, a.cardNumber.value_or("")).text(12, source);
            s.text(13, a.consent ? "queued" : "held");
            s.optText(14, a.consent ? "" : "no recorded consent to personal-data processing");
            if (!s.integer(15, unixOf(now())).run()) {
                return m_impl->error("adding an application");
            }
            added += static_cast<std::size_t>(sqlite3_changes(m_impl->db));
        }
        return m_impl->appendAudit(
            operatorId, "applications.add",
            json{{"source", source}, {"offered", list.size()}, {"new", added}});
    });
    if (e) {
        return fail(*e);
    }
    return added;
}

Result<std::vector<QueuedApplication>, StoreError>
StationStore::applications(std::optional<std::string_view> state) {
    Stmt s(m_impl->db, state ? "SELECT id, member_id, full_name, region, organisation_code, "
                               "organisation_name, category, reason, consent, card_sequence, "
                               "card_number, state, hold_reason, received_at FROM applications "
                               "WHERE state = ?1 ORDER BY received_at, id"
                             : "SELECT id, member_id, full_name, region, organisation_code, "
                               "organisation_name, category, reason, consent, card_sequence, "
                               "card_number, state, hold_reason, received_at FROM applications "
                               "ORDER BY received_at, id");
    if (state) {
        s.text(1, *state);
    }
    std::vector<QueuedApplication> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        QueuedApplication q;
        auto& a = q.application;
        a.id = s.colText(0);
        a.memberId = s.colText(1);
        a.fullName = s.colText(2);
        a.region = static_cast<int>(s.colInt(3));
        a.organisationCode = static_cast<std::uint32_t>(s.colInt(4));
        a.organisationName = s.colText(5);
        a.category = registry::parseMemberCategory(s.colText(6)).value_or(a.category);
        a.reason = registry::parseApplicationReason(s.colText(7)).value_or(a.reason);
        a.consent = s.colInt(8) != 0;
        a.cardSequence = static_cast<int>(s.colInt(9));
        if (!s.colNull(10)) {
            a.cardNumber = s.colText(10);
        }
        q.state = s.colText(11);
        q.holdReason = s.colText(12);
        a.createdAt = fromUnix(s.colInt(13));
        out.push_back(std::move(q));
    }
    if (rc != SQLITE_DONE) {
        return fail(m_impl->error("reading applications"));
    }
    return out;
}

Result<std::optional<QueuedApplication>, StoreError>
StationStore::application(std::string_view id) {
    auto all = applications();
    if (!all) {
        return fail(all.error());
    }
    for (auto& q : *all) {
        if (q.application.id == id) {
            return std::optional<QueuedApplication>(std::move(q));
        }
    }
    return std::optional<QueuedApplication>();
}

std::optional<StoreError> StationStore::addLease(const registry::Lease& lease,
                                                 const std::string& operatorId) {
    return m_impl->transaction("saving a number block", [&]() -> std::optional<StoreError> {
        Stmt s(m_impl->db, "INSERT INTO number_blocks (id, region, first_serial, count, "
                           "next_serial, leased_at) VALUES (?1, ?2, ?3, ?4, ?3, ?5) ON CONFLICT "
                           "(id) DO NOTHING");
        s.text(1, lease.id).integer(2, lease.region);
        s.integer(3, static_cast<std::int64_t>(lease.firstSerial)).integer(4, lease.count);
        if (!s.integer(5, unixOf(lease.grantedAt)).run()) {
            return m_impl->error("saving a number block");
        }
        return m_impl->appendAudit(operatorId, "numbers.lease",
                                   json{{"lease", lease.id},
                                        {"region", lease.region},
                                        {"first_serial", lease.firstSerial},
                                        {"count", lease.count}});
    });
}

Result<std::uint64_t, StoreError> StationStore::serialsLeft(int region) {
    Stmt s(m_impl->db, "SELECT COALESCE(SUM(first_serial + count - next_serial), 0) FROM "
                       "number_blocks WHERE region = ?1");
    s.integer(1, region);
    if (s.step() != SQLITE_ROW) {
        return fail(m_impl->error("counting serials"));
    }
    return static_cast<std::uint64_t>(s.colInt(0));
}

Result<CardRow, StoreError> StationStore::startCard(std::string_view applicationId,
                                                    const std::string& operatorId,
                                                    const card::NumberScheme& scheme) {
    CardRow row;
    auto e = m_impl->transaction("starting a card", [&]() -> std::optional<StoreError> {
        Stmt a(m_impl->db, "SELECT member_id, region, card_sequence, card_number, state FROM "
                           "applications WHERE id = ?1");
        a.text(1, applicationId);
        if (a.step() != SQLITE_ROW) {
            return StoreError{fmt::format("no application {} at this station", applicationId)};
        }
        if (a.colText(4) != "queued") {
            return StoreError{
                fmt::format("application {} is {}, not queued", applicationId, a.colText(4))};
        }
        row.applicationId = std::string(applicationId);
        row.memberId = a.colText(0);
        row.cardSequence = static_cast<int>(a.colInt(2));
        const int region = static_cast<int>(a.colInt(1));
        std::string number = a.colText(3);
        // The registry's number is used once: after a spoiled card the next comes from a block.
        if (!number.empty()) {
            Stmt used(m_impl->db, "SELECT 1 FROM cards WHERE card_number = ?1");
            if (used.text(1, number).step() == SQLITE_ROW) {
                number.clear();
            }
        }
        if (number.empty()) {
            Stmt block(m_impl->db, "SELECT id, next_serial FROM number_blocks WHERE region = ?1 "
                                   "AND next_serial < first_serial + count ORDER BY leased_at, "
                                   "first_serial LIMIT 1");
            block.integer(1, region);
            if (block.step() != SQLITE_ROW) {
                return StoreError{fmt::format("no number left for region {:02}: lease a block "
                                              "from the registry ('unioncard-station sync')",
                                              region)};
            }
            const std::string blockId = block.colText(0);
            const auto serial = static_cast<std::uint64_t>(block.colInt(1));
            auto composed = card::CardNumber::compose(region, serial, scheme);
            if (!composed) {
                return StoreError{composed.error().message};
            }
            number = composed->digits();
            Stmt take(m_impl->db,
                      "UPDATE number_blocks SET next_serial = next_serial + 1 WHERE id = ?1");
            if (!take.text(1, blockId).run()) {
                return m_impl->error("taking a serial");
            }
        }
        row.cardNumber = number;
        row.operatorId = operatorId;
        row.state = CardState::Feeding;
        row.createdAt = row.updatedAt = now();
        Stmt ins(m_impl->db, "INSERT INTO cards (application_id, card_number, member_id, "
                             "card_sequence, state, operator, created_at, updated_at) VALUES "
                             "(?1, ?2, ?3, ?4, 'feeding', ?5, ?6, ?6)");
        ins.text(1, row.applicationId).text(2, number).text(3, row.memberId);
        ins.integer(4, row.cardSequence).text(5, operatorId).integer(6, unixOf(row.createdAt));
        if (!ins.run()) {
            return m_impl->error("writing the new card");
        }
        row.id = sqlite3_last_insert_rowid(m_impl->db);
        if (auto err = m_impl->setApplicationState(row.applicationId, "in_progress")) {
            return err;
        }
        return m_impl->appendAudit(
            operatorId, "card.start",
            json{{"card", row.id}, {"number", number}, {"application", row.applicationId}});
    });
    if (e) {
        return fail(*e);
    }
    return row;
}

std::optional<StoreError> StationStore::advance(std::int64_t cardId, CardState next,
                                                const std::string& chipUidHex) {
    return m_impl->transaction("moving a card on", [&]() -> std::optional<StoreError> {
        if (!chipUidHex.empty()) {
            Stmt s(m_impl->db, "UPDATE cards SET chip_uid = ?2 WHERE id = ?1");
            if (!s.integer(1, cardId).text(2, chipUidHex).run()) {
                return m_impl->error("saving the chip's UID");
            }
        }
        if (auto e = m_impl->setCardState(cardId, next, now())) {
            return e;
        }
        json details{{"card", cardId}, {"state", toString(next)}};
        if (!chipUidHex.empty()) {
            details["chip_uid"] = chipUidHex;
        }
        return m_impl->appendAudit(m_impl->stationId, "card.step", details);
    });
}

std::optional<StoreError> StationStore::produced(std::int64_t cardId, card::Seconds at) {
    return m_impl->transaction("recording a produced card", [&]() -> std::optional<StoreError> {
        auto c = m_impl->cardWhere("id = ?1", std::to_string(cardId));
        if (!c || !*c) {
            return StoreError{fmt::format("no card {}", cardId)};
        }
        const CardRow& row = **c;
        Stmt s(m_impl->db, "UPDATE cards SET state = 'produced', produced_at = ?2, updated_at = "
                           "?2 WHERE id = ?1");
        if (!s.integer(1, cardId).integer(2, unixOf(at)).run()) {
            return m_impl->error("recording a produced card");
        }
        if (auto e = m_impl->setApplicationState(row.applicationId, "done")) {
            return e;
        }
        if (auto e = m_impl->takeStock("blank_cards", 1)) {
            return e;
        }
        if (auto e = m_impl->takeStock("ribbon_cards", 1)) {
            return e;
        }
        if (auto e =
                m_impl->queueEvent(registry::EventKind::Produced, row, row.operatorId, {}, at)) {
            return e;
        }
        return m_impl->appendAudit(row.operatorId, "card.produced",
                                   json{{"card", cardId}, {"number", row.cardNumber}});
    });
}

std::optional<StoreError> StationStore::setCardFate(std::int64_t cardId, const std::string& fate) {
    return m_impl->transaction("recording where a card is", [&]() -> std::optional<StoreError> {
        Stmt s(m_impl->db, "UPDATE cards SET card_fate = ?2 WHERE id = ?1 AND state = 'spoiled'");
        if (!s.integer(1, cardId).text(2, fate).run()) {
            return m_impl->error("recording where a card is");
        }
        return m_impl->appendAudit(m_impl->stationId, "card.fate",
                                   json{{"card", cardId}, {"fate", fate}});
    });
}

std::optional<StoreError> StationStore::spoiled(std::int64_t cardId, const std::string& reason,
                                                const std::string& fate, card::Seconds at,
                                                bool blankUsed) {
    return m_impl->transaction("recording a spoiled card", [&]() -> std::optional<StoreError> {
        auto c = m_impl->cardWhere("id = ?1", std::to_string(cardId));
        if (!c || !*c) {
            return StoreError{fmt::format("no card {}", cardId)};
        }
        const CardRow& row = **c;
        Stmt s(m_impl->db, "UPDATE cards SET state = 'spoiled', spoil_reason = ?2, card_fate = ?3, "
                           "updated_at = ?4 WHERE id = ?1");
        if (!s.integer(1, cardId).text(2, reason).text(3, fate).integer(4, unixOf(at)).run()) {
            return m_impl->error("recording a spoiled card");
        }
        // The application waits for another card; a produced one it already had is not undone.
        Stmt back(m_impl->db, "UPDATE applications SET state = 'queued' WHERE id = ?1 AND state = "
                              "'in_progress'");
        if (!back.text(1, row.applicationId).run()) {
            return m_impl->error("putting the application back in the queue");
        }
        if (auto e = blankUsed ? m_impl->takeStock("blank_cards", 1) : std::nullopt) {
            return e;
        }
        if (auto e = m_impl->queueEvent(registry::EventKind::Spoiled, row, row.operatorId,
                                        reason.substr(0, 200), at)) {
            return e;
        }
        return m_impl->appendAudit(
            row.operatorId, "card.spoiled",
            json{{"card", cardId}, {"number", row.cardNumber}, {"reason", reason}, {"fate", fate}});
    });
}

std::optional<StoreError> StationStore::record(std::string_view cardNumber,
                                               registry::EventKind kind, const std::string& reason,
                                               const std::string& operatorId, card::Seconds at) {
    return m_impl->transaction("recording a card's status", [&]() -> std::optional<StoreError> {
        auto c = m_impl->cardWhere("card_number = ?1", cardNumber);
        if (!c) {
            return c.error();
        }
        if (!*c) {
            return StoreError{fmt::format("card {} was not made at this station", cardNumber)};
        }
        const CardRow& row = **c;
        // The same rules as the registry's (registry/model.hpp), so nothing is queued that it
        // would refuse.
        std::optional<registry::CardState> current;
        switch (row.state) {
        case CardState::Produced:
            current = registry::CardState::Produced;
            break;
        case CardState::HandedOver:
            current = registry::CardState::HandedOver;
            break;
        case CardState::Refused:
            current = registry::CardState::Refused;
            break;
        case CardState::Spoiled:
            current = registry::CardState::Spoiled;
            break;
        case CardState::Lost:
            current = registry::CardState::Lost;
            break;
        case CardState::Revoked:
            current = registry::CardState::Revoked;
            break;
        case CardState::Replaced:
            current = registry::CardState::Replaced;
            break;
        default:
            return StoreError{
                fmt::format("card {} is still being made ({})", cardNumber, toString(row.state))};
        }
        auto next = registry::nextState(current, kind);
        if (!next) {
            return StoreError{fmt::format("card {}: {}", cardNumber, next.error().reason)};
        }
        CardState mine = CardState::Revoked;
        switch (next.value()) {
        case registry::CardState::HandedOver:
            mine = CardState::HandedOver;
            break;
        case registry::CardState::Refused:
            mine = CardState::Refused;
            break;
        case registry::CardState::Spoiled:
            mine = CardState::Spoiled;
            break;
        case registry::CardState::Lost:
            mine = CardState::Lost;
            break;
        case registry::CardState::Replaced:
            mine = CardState::Replaced;
            break;
        default:
            mine = CardState::Revoked;
            break;
        }
        Stmt s(m_impl->db, "UPDATE cards SET state = ?2, updated_at = ?3, handed_over_at = CASE "
                           "WHEN ?2 = 'handed_over' THEN ?3 ELSE handed_over_at END, "
                           "spoil_reason = CASE WHEN ?4 = '' THEN spoil_reason ELSE ?4 END WHERE "
                           "id = ?1");
        s.integer(1, row.id).text(2, toString(mine)).integer(3, unixOf(at)).text(4, reason);
        if (!s.run()) {
            return m_impl->error("recording a card's status");
        }
        if (auto e = m_impl->queueEvent(kind, row, operatorId, reason.substr(0, 200), at)) {
            return e;
        }
        return m_impl->appendAudit(operatorId, fmt::format("card.{}", registry::toString(kind)),
                                   json{{"number", row.cardNumber}, {"reason", reason}});
    });
}

Result<std::string, StoreError> StationStore::replace(std::string_view cardNumber,
                                                      const std::string& reason,
                                                      const std::string& operatorId,
                                                      card::Seconds at) {
    std::string newId;
    auto e = m_impl->transaction("replacing a card", [&]() -> std::optional<StoreError> {
        auto c = m_impl->cardWhere("card_number = ?1", cardNumber);
        if (!c || !*c) {
            return StoreError{fmt::format("card {} was not made at this station", cardNumber)};
        }
        const CardRow& row = **c;
        if (row.state != CardState::HandedOver && row.state != CardState::Lost &&
            row.state != CardState::Produced) {
            return StoreError{fmt::format("card {} is {}: only a card that was made can be "
                                          "replaced",
                                          cardNumber, toString(row.state))};
        }
        // A lost card is already revoked for good (the registry's lifecycle): the new card is
        // queued and nothing more is said of the old one. Otherwise "replaced" is sent.
        const bool tellRegistry = row.state != CardState::Lost;
        if (row.cardSequence >= 255) {
            return StoreError{"this member has had 255 cards: the card sequence is exhausted"};
        }
        if (tellRegistry) {
            Stmt s(m_impl->db, "UPDATE cards SET state = 'replaced', updated_at = ?2, "
                               "spoil_reason = ?3 WHERE id = ?1");
            if (!s.integer(1, row.id).integer(2, unixOf(at)).text(3, reason).run()) {
                return m_impl->error("marking the old card replaced");
            }
            if (auto err = m_impl->queueEvent(registry::EventKind::Replaced, row, operatorId,
                                              reason.substr(0, 200), at)) {
                return err;
            }
        }
        // The new application copies the old one with the next card sequence.
        newId = fmt::format("{}-r{}", row.applicationId.substr(0, 50), row.cardSequence + 1);
        Stmt copy(m_impl->db,
                  "INSERT INTO applications (id, member_id, full_name, region, organisation_code, "
                  "organisation_name, category, reason, consent, card_sequence, card_number, "
                  "source, state, hold_reason, received_at) SELECT ?2, member_id, full_name, "
                  "region, organisation_code, organisation_name, category, 'replacement', "
                  "consent, ?3, NULL, 'replacement', 'queued', NULL, ?4 FROM applications WHERE "
                  "id = ?1");
        copy.text(1, row.applicationId).text(2, newId).integer(3, row.cardSequence + 1);
        if (!copy.integer(4, unixOf(at)).run() || sqlite3_changes(m_impl->db) != 1) {
            return m_impl->error("queuing the replacement");
        }
        return m_impl->appendAudit(
            operatorId, "card.replace",
            json{{"number", row.cardNumber}, {"reason", reason}, {"new_application", newId}});
    });
    if (e) {
        return fail(*e);
    }
    return newId;
}

Result<std::optional<CardRow>, StoreError> StationStore::cardByNumber(std::string_view number) {
    return m_impl->cardWhere("card_number = ?1", number);
}

Result<std::vector<CardRow>, StoreError> StationStore::cards(std::optional<CardState> state) {
    const std::string sql =
        std::string("SELECT id, application_id, card_number, member_id, card_sequence, state, "
                    "chip_uid, operator, spoil_reason, card_fate, created_at, updated_at, "
                    "produced_at, handed_over_at FROM cards") +
        (state ? " WHERE state = ?1" : "") + " ORDER BY id";
    Stmt s(m_impl->db, sql.c_str());
    if (state) {
        s.text(1, toString(*state));
    }
    std::vector<CardRow> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        out.push_back(Impl::rowOf(s));
    }
    if (rc != SQLITE_DONE) {
        return fail(m_impl->error("reading cards"));
    }
    return out;
}

std::optional<StoreError> StationStore::setStock(std::string_view item, std::int64_t count,
                                                 const std::string& operatorId) {
    return m_impl->transaction("setting stock", [&]() -> std::optional<StoreError> {
        Stmt s(m_impl->db, "INSERT INTO stock (item, count) VALUES (?1, ?2) ON CONFLICT (item) DO "
                           "UPDATE SET count = excluded.count");
        if (!s.text(1, item).integer(2, count).run()) {
            return m_impl->error("setting stock");
        }
        return m_impl->appendAudit(operatorId, "stock.set", json{{"item", item}, {"count", count}});
    });
}

Result<std::int64_t, StoreError> StationStore::stock(std::string_view item) {
    Stmt s(m_impl->db, "SELECT count FROM stock WHERE item = ?1");
    s.text(1, item);
    return s.step() == SQLITE_ROW ? s.colInt(0) : 0;
}

std::optional<StoreError> StationStore::audit(const std::string& operatorId,
                                              std::string_view action,
                                              const std::string& detailsJson) {
    return m_impl->transaction("writing the audit log", [&]() -> std::optional<StoreError> {
        return m_impl->appendAudit(operatorId, action,
                                   json::parse(detailsJson, nullptr, false, true));
    });
}

Result<std::vector<AuditEntry>, StoreError> StationStore::auditLog() {
    Stmt s(m_impl->db, "SELECT seq, at, operator, action, details, prev_hash, hash, signature FROM "
                       "audit ORDER BY seq");
    std::vector<AuditEntry> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        out.push_back({s.colInt(0), fromUnix(s.colInt(1)), s.colText(2), s.colText(3), s.colText(4),
                       s.colText(5), s.colText(6), s.colText(7)});
    }
    if (rc != SQLITE_DONE) {
        return fail(m_impl->error("reading the audit log"));
    }
    return out;
}

AuditCheck StationStore::verifyAudit(const card::PublicKey& stationKey) {
    AuditCheck check;
    auto log = auditLog();
    if (!log) {
        check.problem = log.error().message;
        return check;
    }
    std::string prev(64, '0');
    std::int64_t expected = 1;
    for (const AuditEntry& e : *log) {
        auto bad = [&](std::string why) {
            check.firstBad = e.seq;
            check.problem = fmt::format("audit entry {}: {}", e.seq, why);
        };
        if (e.seq != expected) {
            bad(fmt::format("entry {} is missing: the log was cut", expected));
            return check;
        }
        if (e.prevHash != prev) {
            bad("it does not follow the entry before it: an entry was removed or changed");
            return check;
        }
        if (auditHash(e.prevHash, e.seq, unixOf(e.at), e.operatorId, e.action, e.details) !=
            e.hash) {
            bad("its content does not match its hash: it was edited");
            return check;
        }
        const auto digest = card::fromHex(e.hash);
        const auto signature = card::fromHex(e.signature);
        if (!digest || !signature || !stationKey.verifyRaw(*digest, *signature)) {
            bad("its signature is not the station key's");
            return check;
        }
        prev = e.hash;
        ++expected;
        ++check.entries;
    }
    return check;
}

registry::Outbox& StationStore::outbox() {
    return *m_impl->outbox;
}

} // namespace unioncard::station
