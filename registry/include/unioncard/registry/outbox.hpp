// SPDX-License-Identifier: Apache-2.0
#pragma once

// The outbox: status events and check-ins a station or verifier must tell the registry, kept in
// the caller's own SQLite file until the registry has them, so the device keeps working while the
// registry is away and nothing is lost on a restart.
//
// Guarantees:
// - At least once on the wire, exactly once in the registry: an item is deleted only after the
//   registry answered for it, and the registry records each idempotency key (event) or nonce
//   (check-in) once, so a retry after a lost answer is recognised (duplicate = true counts as
//   delivered).
// - In order per card: an event is sent only when no earlier event for the same card is waiting
//   or parked. Other cards are not held up.
// - A permanent refusal (Rejected: impossible transition, idempotency conflict, bad request;
//   Forbidden: this device may not send this item) parks
//   the item with the server's reason for the operator (parked()); it keeps later events of the
//   same card back until the operator retries or discards it, and holds up nothing else.
// - Retries back off exponentially with jitter up to a cap (5 minutes by default). Faults of the
//   whole connection (unreachable, TLS, an unknown or expired credential, 503/429) back off the
//   whole outbox; a fault
//   of one request (another 5xx, an unreadable answer) backs off that item only.
//
// Tables: registry_outbox and registry_outbox_state, created if absent. The file may hold the
// caller's other tables; it is put in WAL mode with a busy timeout. One Outbox object is used from
// one thread; several objects (a delivery thread, a UI) may share one file.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/result.hpp>
#include <unioncard/registry/client.hpp>
#include <unioncard/registry/model.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace unioncard::registry {

using TimePoint = std::chrono::system_clock::time_point;

enum class OutboxErrorCode {
    Storage,     ///< the database could not be opened, read or written (locked, full, damaged)
    InvalidItem, ///< the event or check-in breaks the API's rules; it was not queued
    Conflict,    ///< the idempotency key or nonce is already queued with different content
    NotFound,    ///< no parked item has that id
};

struct OutboxError {
    OutboxErrorCode code;
    std::string message;
};
std::string_view toString(OutboxErrorCode code);

struct BackoffPolicy {
    std::chrono::milliseconds initial{1000};
    std::chrono::milliseconds cap{std::chrono::minutes{5}};
};

/// The wait after `failures` consecutive failures (1 for the first): step = min(cap, initial *
/// 2^(failures-1)), wait = step/2 + jitter * step/2 with jitter in [0, 1] ("equal jitter", AWS
/// Architecture Blog, "Exponential Backoff and Jitter", 2015): below the cap, the shortest wait
/// of a step is the longest of the step before, and devices that failed together spread their
/// retries.
std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, int failures, double jitter);

/// Time for the outbox, so that tests need not wait real minutes.
class OutboxClock {
public:
    virtual ~OutboxClock() = default;
    virtual TimePoint now() = 0;
    /// Waits for `duration` or until a stop is requested, whichever comes first.
    virtual void sleepFor(std::chrono::milliseconds duration, std::stop_token stop) = 0;
};
std::shared_ptr<OutboxClock> systemOutboxClock();

struct OutboxOptions {
    BackoffPolicy backoff;
    /// How often run() looks for new items when nothing is due.
    std::chrono::milliseconds idlePoll{2000};
    /// Check-ins sent per request (1..1000).
    std::size_t checkInBatch = 500;
    /// How long a statement waits for another connection's lock on the file.
    std::chrono::milliseconds busyTimeout{5000};
    std::shared_ptr<OutboxClock> clock; ///< null: the system clock
    /// Jitter source in [0, 1]; null: OpenSSL's RAND_bytes.
    std::function<double()> jitter;
    /// Which card numbers enqueue() accepts.
    card::NumberScheme scheme = card::NumberScheme::standard();
};

enum class OutboxItemKind { Event, CheckIn };

/// An item the registry refused, waiting for the operator.
struct ParkedItem {
    std::int64_t id = 0;
    OutboxItemKind kind = OutboxItemKind::Event;
    std::string key; ///< the event's idempotency key or the check-in's nonce
    std::string cardNumber;
    std::optional<StatusEvent> event;
    std::optional<CheckIn> checkIn;
    std::string serverCode; ///< "impossible_transition", "idempotency_conflict", "http_400"...
    std::string reason;     ///< the registry's words
    TimePoint queuedAt;
    TimePoint parkedAt;
};

/// What a UI shows about the link to the registry.
struct OutboxStatus {
    std::size_t waiting = 0; ///< events and check-ins not yet delivered (parked ones excluded)
    std::size_t parked = 0;
    std::optional<TimePoint> oldestWaitingSince;
    std::optional<TimePoint> lastSuccessAt;
    std::optional<TimePoint> lastErrorAt;
    std::optional<ClientErrorCode> lastErrorCode;
    std::string lastError;       ///< the most recent fault in words (compare lastErrorAt with
                                 ///< lastSuccessAt to know whether it still holds)
    int consecutiveFailures = 0; ///< connection-level failures in a row
    std::optional<TimePoint> nextAttemptAt; ///< when something waiting will next be tried
};

/// The outbox's figures in the Prometheus text format, for node_exporter's textfile collector
/// (`unioncard-station status --prometheus`, `unioncard-verifier status --prometheus`):
/// PREFIX_outbox_waiting, PREFIX_outbox_parked, PREFIX_outbox_oldest_waiting_seconds,
/// PREFIX_last_sync_timestamp_seconds (the last delivery the registry took; absent before one),
/// PREFIX_last_sync_error_timestamp_seconds and PREFIX_sync_consecutive_failures. Nothing of
/// what waits: no card number, no name. `more` adds the program's own gauges (PREFIX_name).
struct Gauge {
    std::string name;
    std::string help;
    double value = 0;
};
std::string outboxMetrics(const OutboxStatus& status, std::string_view prefix, TimePoint now,
                          const std::vector<Gauge>& more = {});

/// What one deliver() pass did.
struct DeliveryReport {
    std::size_t requests = 0;   ///< HTTP requests made
    std::size_t delivered = 0;  ///< items the registry now has (including duplicates)
    std::size_t duplicates = 0; ///< of those, items it already had (an earlier answer was lost)
    std::size_t parked = 0;     ///< items refused for good in this pass
    std::size_t deferred = 0;   ///< items that failed and wait for their retry time
    bool backedOff = false;     ///< the pass stopped on a connection fault, or did not start
    std::optional<ClientError> lastError;    ///< the last refusal or fault the registry caused
    std::optional<OutboxError> storageError; ///< the pass stopped: the database failed
};

class Outbox {
public:
    /// Opens (creating if needed) the SQLite file and the outbox's tables.
    static Result<Outbox, OutboxError> open(const std::filesystem::path& file,
                                            OutboxOptions options = {});
    /// Uses a connection the caller owns and keeps open for the Outbox's lifetime. enqueue() then
    /// joins a transaction the caller has open on it (SAVEPOINT), so a station can record "card
    /// produced" in its own tables and queue the event atomically.
    static Result<Outbox, OutboxError> attach(sqlite3* db, OutboxOptions options = {});

    Outbox(Outbox&&) noexcept;
    Outbox& operator=(Outbox&&) noexcept;
    ~Outbox();

    /// Queues an event (checked against the API's rules first). Queuing the same idempotency key
    /// again with the same content returns the first item's id; with other content, Conflict.
    Result<std::int64_t, OutboxError> enqueue(const StatusEvent& event);
    /// Queues a check-in, likewise keyed by its nonce.
    Result<std::int64_t, OutboxError> enqueue(const CheckIn& checkIn);

    /// One pass: sends everything due, in order per card, until done or the connection fails.
    DeliveryReport deliver(RegistryClient& client);
    /// deliver() again and again, sleeping until the next item is due (at most idlePoll), until
    /// stop is requested.
    void run(RegistryClient& client, std::stop_token stop);

    Result<OutboxStatus, OutboxError> status();
    Result<std::vector<ParkedItem>, OutboxError> parked();
    /// Puts a parked item back in line (after the operator fixed the cause).
    std::optional<OutboxError> retryParked(std::int64_t id);
    /// Makes every waiting item due now, ending the backoff: for a person who asks to send now
    /// ("sync"), where backing off is for the unattended retries. Parked items stay parked.
    std::optional<OutboxError> retryNow();
    /// Drops a parked item for good (the operator decided the registry is right).
    std::optional<OutboxError> discardParked(std::int64_t id);

private:
    struct Impl;
    explicit Outbox(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace unioncard::registry
