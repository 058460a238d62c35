// SPDX-License-Identifier: Apache-2.0
#include "status_publisher.hpp"

#include "journal.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdio>

namespace unioncard::registry {
namespace {

constexpr std::size_t kKeptLists = 4; // decoded lists in memory: about 1 MB each at full size

Seconds now() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

StoreError internal(const StatusListError& error) {
    return {StoreErrorCode::Internal, fmt::format("status list: {}", error.message)};
}

} // namespace

StatusPublisher::StatusPublisher(Store& store, const StatusSigner& signer,
                                 std::chrono::seconds interval, int keptLists)
    : m_store(store), m_signer(signer), m_interval(interval), m_keptLists(keptLists) {}

Result<StatusPublisher::Published, StoreError> StatusPublisher::latest() {
    std::lock_guard lock(m_mutex);
    const auto steadyNow = std::chrono::steady_clock::now();
    // A build that failed is not tried again before the interval has passed (a build reads
    // every not-valid card), and until one succeeds nobody is told the old list is current.
    if (m_failure && steadyNow - m_failure->at < m_interval)
        return fail(m_failure->error);
    if (!m_failure && m_latest && steadyNow - m_checkedAt < m_interval)
        return *m_latest;
    auto sequence = m_store.currentSequence();
    if (!sequence)
        return fail(sequence.error());
    if (m_latest && m_latest->version == sequence.value()) {
        m_checkedAt = steadyNow;
        m_confirmedAt = std::chrono::system_clock::now();
        m_failure.reset();
        return *m_latest;
    }

    // Another instance may have published this version already: serve its bytes.
    auto kept = m_store.statusList(sequence.value());
    if (!kept)
        return fail(kept.error());
    Published published;
    if (kept.value()) {
        published = {sequence.value(), std::make_shared<const Bytes>(std::move(*kept.value()))};
    } else {
        auto built = build(now());
        if (!built) {
            ++m_failedBuilds;
            // The status list's own words are safe to show; the database's stay in the log.
            const std::string& said = built.error().message;
            const std::string why = said.rfind("status list: ", 0) == 0
                                        ? said
                                        : "the database failed while building it";
            const std::string held =
                m_latest ? fmt::format("version {}", m_latest->version) : std::string("none");
            m_failure = Failure{
                steadyNow,
                {StoreErrorCode::Unavailable,
                 fmt::format("the registry cannot publish a status list for its current state "
                             "(event {}): {}; the newest list it could publish ({}) may miss "
                             "revocations",
                             sequence.value(), why, held)}};
            logLine(Level::Error, fmt::format("status list: build failed: {} ({})",
                                              m_failure->error.message, said));
            return fail(m_failure->error);
        }
        published = std::move(built).value();
        ++m_builds;
        // A list a minute over months would fill the disk: only the newest are kept.
        if (auto pruned = m_store.pruneStatusLists(m_keptLists); !pruned)
            logLine(Level::Warning,
                    "status list: pruning old lists failed: " + pruned.error().message);
    }
    m_checkedAt = steadyNow;
    m_confirmedAt = std::chrono::system_clock::now();
    m_failure.reset();
    m_latest = published;
    m_deltas.clear();
    return published;
}

std::optional<std::string> StatusPublisher::warning() {
    std::lock_guard lock(m_mutex);
    return m_warning;
}

StatusPublisher::Stats StatusPublisher::stats() {
    std::lock_guard lock(m_mutex);
    Stats stats;
    stats.builds = m_builds;
    stats.failedBuilds = m_failedBuilds;
    if (m_latest) {
        stats.version = m_latest->version;
        stats.confirmedAt = m_confirmedAt;
    }
    return stats;
}

std::optional<std::string> StatusPublisher::failure() {
    std::lock_guard lock(m_mutex);
    if (!m_failure)
        return std::nullopt;
    return m_failure->error.message;
}

Result<StatusPublisher::Published, StoreError> StatusPublisher::build(Seconds at) {
    // The sequence, the regions' tops and the not-valid cards come from one read transaction,
    // so the list labelled with a version is exactly the registry at that version.
    std::optional<StatusListBuilder> builder;
    std::optional<StatusListError> refused;
    // A region whose top is past what a verifier holds is cut (fitCoverage): the list still
    // goes out, and the not-valid cards above the cut read "newer than the list" offline.
    std::vector<std::pair<int, std::uint64_t>> cut; // (region, highest serial before the cut)
    std::array<std::uint64_t, kStatusMaxRegion + 1> ceiling{};
    std::uint64_t above = 0;
    auto snapshot = m_store.statusSnapshot(
        [&](std::uint64_t sequence, const std::vector<std::pair<int, std::uint64_t>>& highest) {
            auto fitted = fitCoverage(highest);
            cut.clear();
            ceiling.fill(kStatusMaxSerial);
            above = 0;
            for (std::size_t i = 0; i < highest.size(); ++i) {
                if (fitted[i].second == highest[i].second)
                    continue;
                cut.push_back(highest[i]);
                if (highest[i].first >= 0 && highest[i].first <= kStatusMaxRegion)
                    ceiling[static_cast<std::size_t>(highest[i].first)] = fitted[i].second;
            }
            auto created = StatusListBuilder::create(sequence, at, std::move(fitted));
            if (!created) {
                refused = created.error();
                return false;
            }
            builder.emplace(std::move(created).value());
            refused.reset();
            return true;
        },
        [&](const CardValidity& card) {
            if (card.region >= 0 && card.region <= kStatusMaxRegion &&
                card.serial > ceiling[static_cast<std::size_t>(card.region)]) {
                ++above;
                return;
            }
            if (!refused)
                refused = builder->add({card.region, card.serial, card.validity});
        });
    if (!snapshot)
        return fail(snapshot.error());
    if (refused)
        return fail(internal(*refused));
    const std::uint64_t version = snapshot.value();
    if (!cut.empty()) {
        std::string regions;
        for (const auto& [region, top] : cut) {
            regions += fmt::format("{}{:02} (cards up to serial {}, listed up to {})",
                                   regions.empty() ? "" : ", ", region, top,
                                   ceiling[static_cast<std::size_t>(region)]);
        }
        m_warning = fmt::format("the status list of event {} covers more card numbers than a "
                                "verifier holds, so region(s) {} are cut; {} not-valid card(s) "
                                "above the cut read 'newer than the list' offline: look for "
                                "serials leased or issued far beyond the rest",
                                version, regions, above);
        logLine(Level::Warning, "status list: " + *m_warning);
    } else {
        m_warning.reset();
    }
    auto bytes = builder->finish(m_signer.key, m_signer.certificate);
    if (!bytes)
        return fail(internal(bytes.error()));
    if (auto error = m_store.saveStatusList(version, bytes.value()))
        return fail(*error);
    // If another instance saved this version first, its bytes are the version's bytes.
    auto kept = m_store.statusList(version);
    if (!kept)
        return fail(kept.error());
    if (!kept.value())
        return fail(StoreError{StoreErrorCode::Internal, "a saved status list is missing"});
    return Published{version, std::make_shared<const Bytes>(std::move(*kept.value()))};
}

Result<std::shared_ptr<const StatusList>, StoreError> StatusPublisher::listAt(std::uint64_t version,
                                                                              Seconds at) {
    std::shared_ptr<const Bytes> bytes;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_lists.find(version); it != m_lists.end())
            return it->second;
        if (m_latest && m_latest->version == version)
            bytes = m_latest->bytes;
    }
    if (!bytes) {
        auto kept = m_store.statusList(version);
        if (!kept)
            return fail(kept.error());
        if (!kept.value())
            return std::shared_ptr<const StatusList>();
        bytes = std::make_shared<const Bytes>(std::move(*kept.value()));
    }
    // The database is checked like any verifier would: a list altered at rest is refused.
    auto list = StatusList::load(*bytes, m_signer.root, at);
    if (!list)
        return fail(internal(list.error()));
    auto shared = std::make_shared<const StatusList>(std::move(list).value());
    std::lock_guard lock(m_mutex);
    if (m_lists.size() >= kKeptLists)
        m_lists.erase(m_lists.begin());
    m_lists.emplace(version, shared);
    return shared;
}

Result<std::optional<StatusPublisher::Published>, StoreError>
StatusPublisher::deltaSince(std::uint64_t since) {
    auto newest = latest();
    if (!newest)
        return fail(newest.error());
    const Published& to = newest.value();
    if (since == to.version)
        return std::optional<Published>(Published{since, nullptr});
    if (since > to.version)
        return std::optional<Published>();
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_deltas.find(since);
            it != m_deltas.end() && it->second.version == to.version)
            return std::optional<Published>(it->second);
    }
    // Two callers asking for the same old version at once may both compute its delta; the
    // bytes differ only in their signatures, and either is right.
    const Seconds at = now();
    auto from = listAt(since, at);
    if (!from)
        return fail(from.error());
    if (!from.value())
        return std::optional<Published>();
    auto target = listAt(to.version, at);
    if (!target)
        return fail(target.error());
    if (!target.value())
        return std::optional<Published>(); // pruned meanwhile by a newer build: take the list
    // A region cut lower than before (fitCoverage) is beyond what a delta says: the desk
    // takes the whole list instead.
    for (int region = kStatusMinRegion; region <= kStatusMaxRegion; ++region) {
        const auto held = from.value()->issuedUpTo(region);
        const auto next = target.value()->issuedUpTo(region);
        if (held && (!next || *next < *held))
            return std::optional<Published>();
    }
    auto delta = encodeDelta(*from.value(), *target.value(), m_signer.key, m_signer.certificate);
    if (!delta)
        return fail(internal(delta.error()));
    Published published{to.version, std::make_shared<const Bytes>(std::move(delta).value())};
    std::lock_guard lock(m_mutex);
    if (m_deltas.size() >= 64)
        m_deltas.erase(m_deltas.begin());
    m_deltas[since] = published;
    return std::optional<Published>(published);
}

} // namespace unioncard::registry
