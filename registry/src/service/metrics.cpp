// SPDX-License-Identifier: Apache-2.0
#include "metrics.hpp"

#include <array>
#include <prometheus/text_serializer.h>
#include <sstream>

namespace unioncard::registry {

namespace {

// The latency buckets, in seconds: a lookup answers in a millisecond, a status list in tens.
const prometheus::Histogram::BucketBoundaries kBuckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

constexpr std::array<std::string_view, 10> kRoutes{
    "/v1/health",    "/v1/applications",  "/v1/events",      "/v1/leases",
    "/v1/check-ins", "/v1/trust-list",    "/v1/status-list", "/v1/status-list/delta",
    "/metrics",      "/v1/cards/{number}"};

} // namespace

std::string routeOf(std::string_view path) {
    constexpr std::string_view kCards = "/v1/cards/";
    if (path.size() > kCards.size() && path.substr(0, kCards.size()) == kCards &&
        path.find('/', kCards.size()) == std::string_view::npos)
        return "/v1/cards/{number}";
    for (const std::string_view route : kRoutes) {
        if (path == route)
            return std::string(route);
    }
    return "other";
}

ServiceMetrics::ServiceMetrics()
    : m_registry(std::make_shared<prometheus::Registry>()),
      m_requests(prometheus::BuildCounter()
                     .Name("unioncard_registry_requests_total")
                     .Help("Requests answered, by route and HTTP status")
                     .Register(*m_registry)),
      m_latency(prometheus::BuildHistogram()
                    .Name("unioncard_registry_request_duration_seconds")
                    .Help("Time from a request's routing to its answer, by route")
                    .Register(*m_registry)) {}

void ServiceMetrics::observe(std::string_view path, int status, double seconds) {
    const std::string route = routeOf(path);
    m_requests.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
    if (seconds >= 0)
        m_latency.Add({{"route", route}}, kBuckets).Observe(seconds);
}

std::string ServiceMetrics::render(const State& state) {
    std::ostringstream out;
    prometheus::TextSerializer serializer;
    serializer.Serialize(out, m_requests.Collect());
    serializer.Serialize(out, m_latency.Collect());
    // The state's figures are made for each scrape from what the service reads just now.
    auto gauge = [&](const char* name, const char* help, double value) {
        prometheus::Registry once;
        prometheus::BuildGauge().Name(name).Help(help).Register(once).Add({}).Set(value);
        serializer.Serialize(out, once.Collect());
    };
    auto counter = [&](const char* name, const char* help, double value) {
        prometheus::Registry once;
        prometheus::BuildCounter().Name(name).Help(help).Register(once).Add({}).Increment(value);
        serializer.Serialize(out, once.Collect());
    };
    gauge("unioncard_registry_database_up", "1 when the database answers, else 0",
          state.databaseUp ? 1 : 0);
    gauge("unioncard_registry_event_sequence", "The newest status event's sequence number",
          state.sequence);
    if (state.publishing) {
        gauge("unioncard_registry_status_list_version",
              "The version (event sequence) of the newest published status list; 0 before one",
              state.statusListVersion);
        gauge("unioncard_registry_status_list_age_seconds",
              "Seconds since the newest status list became current", state.statusListAge);
        counter("unioncard_registry_status_list_builds_total",
                "Status lists built and signed since the service started", state.builds);
        counter("unioncard_registry_status_list_failed_builds_total",
                "Status-list builds that failed since the service started", state.failedBuilds);
        gauge("unioncard_registry_status_signer_expiry_seconds",
              "Seconds until the status-signing certificate expires (negative: expired)",
              state.signerExpiresIn);
    }
    return out.str();
}

} // namespace unioncard::registry
