// SPDX-License-Identifier: Apache-2.0
#include <unioncard/registry/outbox.hpp>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sstream>

namespace unioncard::registry {

std::string outboxMetrics(const OutboxStatus& status, std::string_view prefix, TimePoint now,
                          const std::vector<Gauge>& more) {
    prometheus::Registry registry;
    const std::string p(prefix);
    auto gauge = [&](const std::string& name, const std::string& help, double value) {
        prometheus::BuildGauge().Name(p + name).Help(help).Register(registry).Add({}).Set(value);
    };
    auto seconds = [](TimePoint::duration d) {
        return std::chrono::duration<double>(d).count();
    };
    gauge("_outbox_waiting", "Statuses and check-ins not yet delivered to the registry",
          static_cast<double>(status.waiting));
    gauge("_outbox_parked", "Items the registry refused for good: a supervisor looks at them",
          static_cast<double>(status.parked));
    gauge("_outbox_oldest_waiting_seconds", "Age of the oldest item waiting; 0 when none waits",
          status.oldestWaitingSince ? seconds(now - *status.oldestWaitingSince) : 0);
    if (status.lastSuccessAt)
        gauge("_last_sync_timestamp_seconds", "When the registry last took a delivery (Unix time)",
              seconds(status.lastSuccessAt->time_since_epoch()));
    if (status.lastErrorAt)
        gauge("_last_sync_error_timestamp_seconds", "When a delivery last failed (Unix time)",
              seconds(status.lastErrorAt->time_since_epoch()));
    gauge("_sync_consecutive_failures", "Connection-level failures in a row",
          status.consecutiveFailures);
    for (const Gauge& g : more)
        gauge("_" + g.name, g.help, g.value);
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, registry.Collect());
    return out.str();
}

} // namespace unioncard::registry
