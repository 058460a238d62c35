// SPDX-License-Identifier: Apache-2.0
// The service's /metrics: labels carry a route's pattern, never a path (a card number in a
// path must not reach a monitoring system, and a client must not make labels without end).
#include "service/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using unioncard::registry::routeOf;
using unioncard::registry::ServiceMetrics;

TEST(ServiceMetrics, ACardLookupIsItsRouteNotItsNumber) {
    EXPECT_EQ(routeOf("/v1/cards/9643230000000018"), "/v1/cards/{number}");
    EXPECT_EQ(routeOf("/v1/cards/9643230000000018/more"), "other");
    EXPECT_EQ(routeOf("/v1/cards/"), "other");
    EXPECT_EQ(routeOf("/v1/status-list/delta"), "/v1/status-list/delta");
    EXPECT_EQ(routeOf("/v1/health"), "/v1/health");
    EXPECT_EQ(routeOf("/v1/no-such-thing-9643230000000018"), "other");
    EXPECT_EQ(routeOf("/v1/%FF\nforged"), "other");
}

TEST(ServiceMetrics, RendersRequestsLatencyAndState) {
    ServiceMetrics metrics;
    metrics.observe("/v1/cards/9643230000000018", 200, 0.002);
    metrics.observe("/v1/cards/9643230000000026", 200, 0.004);
    metrics.observe("/v1/garbage-1", 404, -1); // counted, no latency
    ServiceMetrics::State state;
    state.databaseUp = true;
    state.sequence = 42;
    state.publishing = true;
    state.statusListVersion = 41;
    state.failedBuilds = 1;
    state.builds = 3;
    state.signerExpiresIn = 86400;
    const std::string text = metrics.render(state);
    EXPECT_EQ(text.find("9643230000000018"), std::string::npos) << text;
    EXPECT_NE(
        text.find("unioncard_registry_requests_total{code=\"200\",route=\"/v1/cards/{number}\"} 2"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("unioncard_registry_requests_total{code=\"404\",route=\"other\"} 1"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            "unioncard_registry_request_duration_seconds_count{route=\"/v1/cards/{number}\"} 2"),
        std::string::npos)
        << text;
    EXPECT_EQ(text.find("unioncard_registry_request_duration_seconds_count{route=\"other\"}"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("# TYPE unioncard_registry_status_list_failed_builds_total counter"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("unioncard_registry_status_list_version 41"), std::string::npos) << text;
    EXPECT_NE(text.find("unioncard_registry_database_up 1"), std::string::npos) << text;

    ServiceMetrics::State quiet; // no status signer: no status-list figures
    EXPECT_EQ(metrics.render(quiet).find("status_list"), std::string::npos);
}

} // namespace
