// SPDX-License-Identifier: Apache-2.0
#include <unioncard/base/paths.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/pkcs11.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/verifier/desk.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <set>

namespace unioncard::verifier {

namespace {

// The status signers the union withdrew before their certificates end: a list they signed,
// held or fetched, is not taken (so a desk holding one answers cannot_confirm_offline).
std::span<const card::Bytes> withdrawnSigners(const card::TrustList& trust) {
    return trust.withdrawals().withdrawnStatusSigners;
}

// Deltas kept on top of the snapshot before a full list is fetched instead.
constexpr std::size_t kMaxDeltas = 50;

// When the registry first said it cannot publish a current status list (empty: it can).
constexpr std::string_view kStaleSetting = "status_stale_at";
constexpr std::string_view kClockSetting = "clock_high_water";

std::optional<card::Seconds> clockHighWater(VerifierStore& store) {
    if (auto held = store.setting(kClockSetting))
        return registry::api::parseTime(*held);
    return std::nullopt;
}

// The latest issue time of a list this desk has taken. The union signed it, so the real time is
// at least this, whatever the device's clock says later (set back by hand, a dead RTC battery).
// Never past this device's clock when the list is taken (plus the skew allowed), so a list
// signed on a machine whose clock ran ahead cannot lock the desk out.
void raiseClockHighWater(VerifierStore& store, card::Seconds signedAt, card::Seconds now) {
    const auto at = std::min(signedAt, now + registry::kStatusClockSkew);
    const auto held = clockHighWater(store);
    if (!held || *held < at)
        (void)store.setSetting(kClockSetting, registry::api::formatTime(at));
}

// The version of the status list held, from what is stored rather than from loading it, so
// that a held list this device cannot check now (its clock set back before the list's issue)
// still stops an older one from taking its place.
Result<std::optional<std::uint64_t>, std::string> heldStatusVersion(VerifierStore& store) {
    auto snapshot = store.statusSnapshot();
    if (!snapshot)
        return fail(snapshot.error().message);
    if (!*snapshot)
        return std::optional<std::uint64_t>();
    std::uint64_t version = (*snapshot)->version;
    auto deltas = store.statusDeltas();
    if (!deltas)
        return fail(deltas.error().message);
    for (const StoredList& d : *deltas)
        version = std::max(version, d.version);
    return std::optional<std::uint64_t>(version);
}

std::string newNonce() {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::array<unsigned char, 24> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        return {};
    }
    std::string out;
    for (unsigned char b : random) {
        out += kAlphabet[b & 63]; // 24 characters of 6 random bits: 144 bits
    }
    return out;
}

std::string clockTime(card::Seconds at) {
    const std::time_t t = at.time_since_epoch().count();
    std::tm tm{};
    localtime_r(&t, &tm);
    return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

} // namespace

card::Days localDate(card::Seconds at) {
    const std::time_t t = at.time_since_epoch().count();
    std::tm tm{};
    localtime_r(&t, &tm);
    return std::chrono::sys_days{std::chrono::year{tm.tm_year + 1900} /
                                 std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)} /
                                 std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
}

Lists loadLists(VerifierStore& store, const card::Bytes& rootFingerprint, card::Seconds now) {
    Lists lists;
    lists.clockHighWater = clockHighWater(store);
    lists.qrWithoutChip = store.setting("qr").value_or("accept") != "refuse";
    auto trust = store.trustList();
    if (!trust) {
        lists.problems.push_back(trust.error().message);
    } else if (*trust) {
        auto loaded = card::TrustList::load((*trust)->bytes, rootFingerprint);
        if (loaded) {
            lists.trust = std::move(loaded).value();
            lists.trustFetchedAt = (*trust)->fetchedAt;
        } else {
            lists.problems.push_back("the stored trust list does not check: " + loaded.error());
        }
    }
    if (!lists.trust) {
        return lists; // the status list is checked against the trust list's root
    }
    auto snapshot = store.statusSnapshot();
    if (!snapshot) {
        lists.problems.push_back(snapshot.error().message);
        return lists;
    }
    if (!*snapshot) {
        return lists;
    }
    auto status = registry::StatusList::load((*snapshot)->bytes, lists.trust->root(), now,
                                             withdrawnSigners(*lists.trust));
    if (!status) {
        lists.problems.push_back("the stored status list does not check: " +
                                 status.error().message);
        lists.heldSignerWithdrawn =
            status.error().code == registry::StatusListErrorCode::WithdrawnSigner;
        return lists;
    }
    lists.statusFetchedAt = (*snapshot)->fetchedAt;
    auto deltas = store.statusDeltas();
    if (!deltas) {
        lists.problems.push_back(deltas.error().message);
    } else {
        for (const StoredList& d : *deltas) {
            auto next = status->applyDelta(d.bytes, lists.trust->root(), now,
                                           withdrawnSigners(*lists.trust));
            if (!next) {
                lists.heldSignerWithdrawn =
                    next.error().code == registry::StatusListErrorCode::WithdrawnSigner;
                lists.problems.push_back("a stored status delta does not apply: " +
                                         next.error().message);
                lists.brokenDelta = true;
                break;
            }
            status = std::move(next);
            lists.statusFetchedAt = d.fetchedAt;
        }
    }
    lists.status = std::move(status).value();
    raiseClockHighWater(store, std::max(lists.status->issuedAt(), lists.trust->issuedAt()), now);
    lists.clockHighWater = clockHighWater(store);
    if (auto confirmed = store.setting("status_confirmed_at")) {
        if (auto at = registry::api::parseTime(*confirmed)) {
            lists.statusConfirmedAt = *at;
        }
    }
    if (auto stale = store.setting(kStaleSetting)) {
        if (auto at = registry::api::parseTime(*stale)) {
            lists.statusStaleAt = *at;
        }
    }
    return lists;
}

void useLists(Context& context, const Lists& lists) {
    context.trust = lists.trust ? &*lists.trust : nullptr;
    context.statusList = lists.status ? &*lists.status : nullptr;
    context.statusConfirmedAt = lists.statusConfirmedAt;
    context.statusStaleAt = lists.statusStaleAt;
    context.clockHighWater = lists.clockHighWater;
    context.qrWithoutChip = lists.qrWithoutChip;
}

Result<Admission, StoreError> admit(VerifierStore& store, const EventInfo& event,
                                    const card::CardNumber& number, const std::string& desk,
                                    card::Seconds now) {
    Admission a;
    auto name = store.participantName(event.id, number);
    if (!name) {
        return fail(name.error());
    }
    a.name = name.value();
    if (event.rule != CheckInRule::Any) {
        auto earlier = store.checkIns(event.id, number);
        if (!earlier) {
            return fail(earlier.error());
        }
        const card::Days today = localDate(now);
        for (const StoredCheckIn& c : *earlier) {
            if (event.rule == CheckInRule::Once || localDate(c.checkIn.at) == today) {
                a.earlier = c.checkIn;
                a.message = fmt::format("already checked in at {} at {}", clockTime(c.checkIn.at),
                                        c.checkIn.desk);
                if (event.rule == CheckInRule::Once && localDate(c.checkIn.at) != today) {
                    a.message = fmt::format("already checked in on {} at {} at {}",
                                            card::formatDate(localDate(c.checkIn.at)),
                                            clockTime(c.checkIn.at), c.checkIn.desk);
                }
                return a;
            }
        }
    }
    a.checkIn = {newNonce(), event.id, desk, number.digits(), now};
    if (a.checkIn.nonce.empty()) {
        return fail(StoreError{"OpenSSL's random generator failed: no check-in nonce"});
    }
    if (auto e = store.addLocalCheckIn(a.checkIn)) {
        return fail(*e);
    }
    a.admitted = true;
    a.message = "checked in";
    return a;
}

Result<Attendance, StoreError> attendance(VerifierStore& store, const EventInfo& event) {
    auto all = store.checkIns(event.id);
    if (!all) {
        return fail(all.error());
    }
    Attendance out;
    std::set<std::pair<std::string, std::int64_t>> seen; // card, day (0 for "once")
    for (const StoredCheckIn& c : *all) {                // oldest first: the first one counts
        const std::int64_t window = event.rule == CheckInRule::Daily
                                        ? localDate(c.checkIn.at).time_since_epoch().count()
                                        : 0;
        if (event.rule == CheckInRule::Any || seen.insert({c.checkIn.cardNumber, window}).second) {
            out.counted.push_back(c.checkIn);
        } else {
            out.duplicates.push_back(c.checkIn);
        }
    }
    return out;
}

Result<std::uint64_t, std::string> acceptTrustList(VerifierStore& store, const card::Bytes& bytes,
                                                   const card::Bytes& rootFingerprint,
                                                   card::Seconds now) {
    auto fetched = card::TrustList::load(bytes, rootFingerprint);
    if (!fetched) {
        return fail("the trust list does not check, kept the one held: " + fetched.error());
    }
    auto held = store.trustList();
    if (!held) {
        return fail(held.error().message);
    }
    if (*held && (*held)->version > fetched->sequence()) {
        return fail(fmt::format("trust list {} is older than the {} held: kept the one held",
                                fetched->sequence(), (*held)->version));
    }
    // Another list of the same number could be the one before a withdrawal was added to it.
    if (*held && (*held)->version == fetched->sequence() && (*held)->bytes != bytes) {
        return fail(fmt::format("trust list {} differs from the one of that number held: kept the "
                                "one held (a new list takes a higher sequence)",
                                fetched->sequence()));
    }
    if (auto e = store.saveTrustList({bytes, fetched->sequence(), now})) {
        return fail(e->message);
    }
    raiseClockHighWater(store, fetched->issuedAt(), now);
    return fetched->sequence();
}

Result<std::uint64_t, std::string> acceptStatusList(VerifierStore& store, const card::Bytes& bytes,
                                                    const card::Bytes& rootFingerprint,
                                                    card::Seconds now) {
    Lists lists = loadLists(store, rootFingerprint, now);
    if (!lists.trust) {
        return fail(std::string("no trust list is held, so no status list can be checked: take "
                                "the trust list first"));
    }
    auto full =
        registry::StatusList::load(bytes, lists.trust->root(), now, withdrawnSigners(*lists.trust));
    if (!full) {
        return fail("the status list does not check: " + full.error().message);
    }
    auto stored = heldStatusVersion(store);
    if (!stored) {
        return fail(stored.error());
    }
    // What a withdrawn signer made claims no version: a stolen key's list numbered far ahead
    // must not keep the new signer's lists out. What still checks of the held lists counts.
    std::optional<std::uint64_t> held = stored.value();
    if (lists.heldSignerWithdrawn) {
        held = lists.status ? std::optional(lists.status->version()) : std::nullopt;
    }
    if (held && full->version() < *held) {
        return fail(fmt::format("status list {} is older than the {} held: kept the one held",
                                full->version(), *held));
    }
    if (auto e = store.saveStatusSnapshot({bytes, full->version(), now})) {
        return fail(e->message);
    }
    raiseClockHighWater(store, full->issuedAt(), now);
    return full->version();
}

SyncReport sync(VerifierStore& store, registry::RegistryClient& client,
                const card::Bytes& rootFingerprint, card::Seconds now, int retentionDays) {
    SyncReport report;
    // 1. What this desk owes the registry.
    // A sync is a person asking to send now: the unattended backoff does not apply.
    if (auto e = store.outbox().retryNow()) {
        report.problems.push_back(e->message);
    }
    const auto delivery = store.outbox().deliver(client);
    report.delivered = delivery.delivered;
    if (auto status = store.outbox().status()) {
        report.waiting = status->waiting;
        if (status->waiting > 0 && !status->lastError.empty()) {
            report.problems.push_back("check-ins not delivered yet: " + status->lastError);
        }
    }

    // 2. The trust list: never go back to an older one (a rollback would bring back a
    // withdrawn station).
    auto trustBytes = client.trustList();
    if (!trustBytes) {
        report.problems.push_back("trust list: " + trustBytes.error().message);
    } else if (auto sequence = acceptTrustList(store, trustBytes.value(), rootFingerprint, now)) {
        report.trustSequence = sequence.value();
    } else {
        report.problems.push_back(sequence.error());
    }

    // 3. The status list: a delta on what is held, or the whole list.
    Lists lists = loadLists(store, rootFingerprint, now);
    if (lists.trust) {
        bool confirmed = false;
        auto deltas = store.statusDeltas();
        // A stored delta that does not apply would hold every later one back: start afresh.
        const bool canDelta =
            lists.status && !lists.brokenDelta && deltas && deltas->size() < kMaxDeltas;
        auto doc = canDelta ? client.statusListDelta(lists.status->version()) : client.statusList();
        if (!doc) {
            report.problems.push_back("status list: " + doc.error().message);
            if (doc.error().serverCode == "status_list_stale" && !lists.statusStaleAt) {
                // The registry says it cannot publish its current state: what this desk holds
                // may miss revocations, so it no longer answers "valid" offline.
                (void)store.setSetting(kStaleSetting, registry::api::formatTime(now));
            }
        } else if (doc->isDelta && doc->bytes.empty() && doc->version != lists.status->version()) {
            // "Up to date" is only true of the version this desk holds.
            report.problems.push_back(fmt::format("the registry calls version {} current, but "
                                                  "this desk holds version {}: not confirmed",
                                                  doc->version, lists.status->version()));
        } else if (doc->isDelta && doc->bytes.empty()) {
            report.statusVersion = doc->version; // already the newest
            confirmed = true;
        } else if (doc->isDelta) {
            auto next = lists.status->applyDelta(doc->bytes, lists.trust->root(), now,
                                                 withdrawnSigners(*lists.trust));
            if (!next) {
                report.problems.push_back("the registry's status delta does not check: " +
                                          next.error().message);
            } else if (auto e = store.addStatusDelta({doc->bytes, next->version(), now})) {
                report.problems.push_back(e->message);
            } else {
                raiseClockHighWater(store, next->issuedAt(), now);
                report.statusVersion = next->version();
                report.statusWasDelta = true;
                confirmed = true;
            }
        } else if (auto version = acceptStatusList(store, doc->bytes, rootFingerprint, now)) {
            report.statusVersion = version.value();
            confirmed = true;
        } else {
            report.problems.push_back(version.error());
        }
        if (confirmed) {
            (void)store.setSetting("status_confirmed_at", registry::api::formatTime(now));
            (void)store.setSetting(kStaleSetting, "");
        }
    }

    // 4. Other desks' check-ins, for every event this desk holds.
    auto events = store.events();
    if (!events) {
        report.problems.push_back(events.error().message);
    } else {
        for (const EventInfo& event : *events) {
            std::uint64_t after = event.pulledUpTo;
            for (bool more = true; more;) {
                more = false;
                auto page = client.checkIns(event.id, after, 1000);
                if (!page) {
                    report.problems.push_back(
                        fmt::format("check-ins of {}: {}", event.id, page.error().message));
                    break;
                }
                bool stored = true;
                for (const registry::RecordedCheckIn& r : *page) {
                    auto added = store.addRemoteCheckIn(r.checkIn);
                    if (!added) {
                        report.problems.push_back(added.error().message);
                        stored = false; // keep the position: the next sync fetches them again
                        break;
                    }
                    report.checkInsFetched += added.value() ? 1 : 0;
                    after = r.sequence;
                }
                if (auto e = store.setPulledUpTo(event.id, after)) {
                    report.problems.push_back(e->message);
                    stored = false;
                }
                more = stored && page->size() == 1000;
            }
        }
    }

    // 5. Names are kept only as long as the event needs them.
    const card::Days cutoff = localDate(now) - std::chrono::days(retentionDays);
    if (auto purged = store.purgeNames(cutoff)) {
        report.namesPurged = purged.value();
    } else {
        report.problems.push_back(purged.error().message);
    }
    return report;
}

Result<std::unique_ptr<card::desfire::CardKeySource>, std::string>
openCardKeys(const std::function<std::optional<std::string>(const std::string&)>& setting) {
    using R = Result<std::unique_ptr<card::desfire::CardKeySource>, std::string>;
    const std::string kind = setting("card_keys_store").value_or("file");
    if (kind == "pkcs11") {
        const auto module = setting("pkcs11_module");
        const auto label = setting("token_label");
        if (!module || !label) {
            return R(fail(std::string("the desk's card keys are on a token: give 'init "
                                      "--pkcs11-module FILE --token-label LABEL'")));
        }
        auto pin = base::secret("token-pin", {"UNIONCARD_TOKEN_PIN"});
        if (!pin) {
            return R(fail(std::string("set UNIONCARD_TOKEN_PIN to the card key token's PIN (a "
                                      "service: the credential token-pin)")));
        }
        auto keys =
            card::pkcs11::TokenCardKeys::open(*module, *label, card::Secret(std::move(*pin)));
        if (!keys) {
            return R(fail("card read key on the token: " + keys.error().message));
        }
        return std::unique_ptr<card::desfire::CardKeySource>(std::move(keys).value());
    }
    if (kind != "file") {
        return R(fail(fmt::format("card_keys_store is '{}': it is file or pkcs11", kind)));
    }
    const auto file = setting("card_keys");
    if (!file) {
        return R(fail(std::string("this desk has no card read key: give 'init --card-keys FILE' "
                                  "(made with 'unioncard keys export-card-keys --roles "
                                  "record-read'), or keep it on a token (--card-keys-store "
                                  "pkcs11)")));
    }
    auto pass = base::secret("card-keys-passphrase",
                             {"UNIONCARD_CARD_KEYS_PASSPHRASE", "UNIONCARD_PASSPHRASE"});
    if (!pass) {
        return R(fail(std::string("set UNIONCARD_CARD_KEYS_PASSPHRASE to the card key file's "
                                  "passphrase (a service: the credential card-keys-passphrase)")));
    }
    auto keys = card::desfire::MasterKeys::load(*file, card::Secret(std::move(*pass)));
    if (!keys) {
        return R(fail("card read key: " + keys.error().message));
    }
    return std::unique_ptr<card::desfire::CardKeySource>(
        std::make_unique<card::desfire::MasterKeys>(std::move(keys).value()));
}

} // namespace unioncard::verifier
