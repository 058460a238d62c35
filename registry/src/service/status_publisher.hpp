// SPDX-License-Identifier: Apache-2.0
#pragma once

// Builds, signs, keeps and serves the status list. One build per interval at most, whatever
// the number of verifiers asking; the signed bytes go into the store so that every service
// instance on one database serves the same list for a version, and so that deltas can be
// computed from any kept version after a restart.

#include <unioncard/registry/service.hpp>
#include <unioncard/registry/status_list.hpp>

#include <map>
#include <memory>
#include <mutex>

namespace unioncard::registry {

class StatusPublisher {
public:
    struct Published {
        std::uint64_t version = 0;
        std::shared_ptr<const Bytes> bytes; ///< null for a delta: the caller is up to date
    };

    /// Keeps the `keptLists` newest lists in the store (older ones are pruned after each build).
    StatusPublisher(Store& store, const StatusSigner& signer, std::chrono::seconds interval,
                    int keptLists);

    /// The newest snapshot, building one if the registry changed and the interval has passed.
    Result<Published, StoreError> latest();
    /// The delta from `since` to the newest snapshot; nullopt when `since` is not kept (or is
    /// newer than anything published); bytes null when `since` is the newest. Reading and
    /// diffing an old list happen outside the publisher's lock: other callers do not wait.
    Result<std::optional<Published>, StoreError> deltaSince(std::uint64_t since);
    /// Why the newest build failed, while it has not succeeded since: then latest() and
    /// deltaSince() refuse (Unavailable) rather than call an older list current.
    std::optional<std::string> failure();
    /// What the newest build had to leave out (a region cut to fit a verifier), if anything.
    std::optional<std::string> warning();

    /// What monitoring is told (GET /metrics, /v1/health).
    struct Stats {
        std::uint64_t version = 0; ///< of the newest list; 0 before one
        /// When the newest list was last found current (built, or the registry unchanged).
        std::optional<std::chrono::system_clock::time_point> confirmedAt;
        std::uint64_t builds = 0;       ///< built and signed since start
        std::uint64_t failedBuilds = 0; ///< failed since start
    };
    Stats stats();

private:
    /// Builds, signs and saves the list of the registry as it is now; its version is the
    /// event sequence of the snapshot it was read from.
    Result<Published, StoreError> build(Seconds now);
    Result<std::shared_ptr<const StatusList>, StoreError> listAt(std::uint64_t version,
                                                                 Seconds now);

    Store& m_store;
    const StatusSigner& m_signer;
    std::chrono::seconds m_interval;
    int m_keptLists;
    std::mutex m_mutex;
    std::optional<Published> m_latest;
    std::chrono::steady_clock::time_point m_checkedAt{};   ///< when m_latest was last current
    std::chrono::system_clock::time_point m_confirmedAt{}; ///< the same, on the wall clock
    std::uint64_t m_builds = 0;
    std::uint64_t m_failedBuilds = 0;
    struct Failure {
        std::chrono::steady_clock::time_point at;
        StoreError error;
    };
    std::optional<Failure> m_failure;
    std::optional<std::string> m_warning;
    std::map<std::uint64_t, std::shared_ptr<const StatusList>> m_lists; ///< a few recent
    std::map<std::uint64_t, Published> m_deltas; ///< by base version, to m_latest
};

} // namespace unioncard::registry
