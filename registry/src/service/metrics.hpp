// SPDX-License-Identifier: Apache-2.0
#pragma once

// The service's figures for a monitoring system, in the Prometheus text format (GET /metrics;
// docs/operations.md lists them), kept with prometheus-cpp: requests by route and status,
// their latency, and the state the health answer also gives (the database, the status list's
// version and age, failed builds, the status signer's expiry). Labels carry the route's
// pattern, never a path: no card number reaches a monitoring system.

#include <memory>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <string>
#include <string_view>

namespace unioncard::registry {

/// The route a request was for: the pattern of one of the service's routes, or "other".
std::string routeOf(std::string_view path);

class ServiceMetrics {
public:
    ServiceMetrics();

    /// One answered request; seconds < 0 when its start was not seen (a request httplib could
    /// not read), which then counts but has no latency.
    void observe(std::string_view path, int status, double seconds);

    /// The registry's state, read at each scrape.
    struct State {
        bool databaseUp = false;
        double sequence = 0;
        bool publishing = false;      ///< a status signer is configured
        double statusListVersion = 0; ///< 0: none published yet
        double statusListAge = 0;     ///< seconds since the newest list became current
        double failedBuilds = 0;      ///< since start
        double builds = 0;            ///< since start
        double signerExpiresIn = 0;   ///< seconds until the status certificate's notAfter
    };
    /// The whole exposition: the requests and the state.
    std::string render(const State& state);

private:
    std::shared_ptr<prometheus::Registry> m_registry;
    prometheus::Family<prometheus::Counter>& m_requests;
    prometheus::Family<prometheus::Histogram>& m_latency;
};

} // namespace unioncard::registry
