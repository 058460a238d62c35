// SPDX-License-Identifier: Apache-2.0
// Fuzz target for what the registry reads from outside: the first byte picks a reader, the rest
// is its input. JSON bodies go through api::parseBody and every strict parser (the service reads
// requests with them, the client reads answers); CSV goes through the reader and the whole
// application import into a store that only counts (no database in a fuzz loop). None of it may
// crash, hang, throw, leak or read out of bounds.

#include "../support/refusing_store.hpp"

#include <unioncard/registry/api.hpp>
#include <unioncard/registry/csv_exchange.hpp>

#include <cstdint>
#include <sstream>
#include <string_view>

using namespace unioncard;
using namespace unioncard::registry;

namespace {

// A store that accepts applications and nothing else: the import's own checks are under test.
class CountingStore final : public testsupport::RefusingStore {
public:
    Result<int, StoreError> addApplications(const std::vector<Application>& a) override {
        return static_cast<int>(a.size());
    }
};

void parseEveryWay(const nlohmann::json& json) {
    (void)parseApplication(json);
    (void)parseApplicationPage(json);
    (void)parseStatusEvent(json);
    (void)parseEventOutcome(json);
    (void)parseLease(json);
    (void)parseLeaseRequest(json);
    (void)parseLookup(json);
    (void)parseCheckIn(json);
    (void)parseCheckIns(json);
    (void)parseCheckInReceipt(json);
    (void)parseApiError(json);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
    case 0: {
        auto json = api::parseBody(input, 64 * 1024);
        if (json)
            parseEveryWay(json.value());
        break;
    }
    case 1: {
        (void)parseCardNumberParam(input);
        (void)api::parseTime(input);
        break;
    }
    case 2: {
        std::istringstream in{std::string(input)};
        CountingStore store;
        ImportOptions options;
        options.partial = (size % 2) == 0;
        (void)importApplicationsCsv(in, store, options);
        break;
    }
    }
    return 0;
}
