// SPDX-License-Identifier: Apache-2.0
#pragma once

// A registry Store that refuses everything ("not in this fake"): tests and fuzz targets derive
// from it and override only what they exercise, so a call they did not expect fails loudly.

#include <unioncard/registry/store.hpp>

namespace unioncard::registry::testsupport {

class RefusingStore : public Store {
public:
    Result<int, StoreError> schemaVersion() override { return 0; }
    Result<ApplicationPage, StoreError> pendingApplications(const ApplicationFilter&) override {
        return refused<ApplicationPage>();
    }
    Result<int, StoreError> addApplications(const std::vector<Application>&) override {
        return refused<int>();
    }
    Result<EventOutcome, StoreError> recordEvent(const StatusEvent&, std::string_view,
                                                 const EventScope&) override {
        return refused<EventOutcome>();
    }
    Result<std::vector<RecordedEvent>, StoreError> eventsAfter(std::uint64_t, int) override {
        return refused<std::vector<RecordedEvent>>();
    }
    Result<Lease, StoreError> leaseSerials(int, std::uint32_t, std::string_view,
                                           const LeaseQuota&) override {
        return refused<Lease>();
    }
    Result<Lookup, StoreError> lookup(std::string_view, bool) override { return refused<Lookup>(); }
    std::optional<StoreError>
    forEachNotValid(const std::function<void(const CardValidity&)>&) override {
        return error();
    }
    Result<std::vector<std::pair<int, std::uint64_t>>, StoreError> highestSerials() override {
        return refused<std::vector<std::pair<int, std::uint64_t>>>();
    }
    Result<std::uint64_t, StoreError>
    statusSnapshot(const std::function<bool(std::uint64_t,
                                            const std::vector<std::pair<int, std::uint64_t>>&)>&,
                   const std::function<void(const CardValidity&)>&) override {
        return refused<std::uint64_t>();
    }
    Result<std::uint64_t, StoreError> currentSequence() override {
        return refused<std::uint64_t>();
    }
    std::optional<StoreError> saveStatusList(std::uint64_t,
                                             const std::vector<std::uint8_t>&) override {
        return error();
    }
    Result<std::optional<std::vector<std::uint8_t>>, StoreError>
    statusList(std::uint64_t) override {
        return refused<std::optional<std::vector<std::uint8_t>>>();
    }
    Result<int, StoreError> pruneStatusLists(int) override { return refused<int>(); }
    Result<std::optional<std::uint64_t>, StoreError> latestStatusListVersion() override {
        return refused<std::optional<std::uint64_t>>();
    }
    std::optional<StoreError> putEvent(std::string_view, std::string_view,
                                       const std::vector<std::string>&, std::string_view) override {
        return refused<bool>().error();
    }
    Result<bool, StoreError> isEventDesk(std::string_view, std::string_view) override {
        return refused<bool>();
    }
    Result<bool, StoreError> recordCheckIn(const CheckIn&, std::string_view) override {
        return refused<bool>();
    }
    Result<std::vector<RecordedCheckIn>, StoreError> checkInsAfter(std::string_view, std::uint64_t,
                                                                   int) override {
        return refused<std::vector<RecordedCheckIn>>();
    }
    Result<Device, StoreError> changeDevice(std::string_view, DeviceAction,
                                            const std::optional<std::string>&,
                                            std::string_view) override {
        return refused<Device>();
    }
    Result<std::vector<Device>, StoreError> devices() override {
        return refused<std::vector<Device>>();
    }
    Result<std::vector<DeviceAuditEntry>, StoreError> deviceAudit(std::string_view) override {
        return refused<std::vector<DeviceAuditEntry>>();
    }
    std::optional<StoreError> putDevice(const Device&, const std::optional<std::string>&,
                                        std::string_view) override {
        return error();
    }
    Result<std::optional<Device>, StoreError> deviceByToken(std::string_view) override {
        return refused<std::optional<Device>>();
    }
    Result<std::optional<Device>, StoreError> deviceById(std::string_view) override {
        return refused<std::optional<Device>>();
    }
    std::optional<StoreError> bulkLoad(const std::vector<Organisation>&,
                                       const std::function<bool(Member&)>&,
                                       const std::function<bool(SeedCard&)>&) override {
        return error();
    }

protected:
    static StoreError error() { return {StoreErrorCode::Internal, "not in this fake"}; }
    template <class T> static Result<T, StoreError> refused() { return fail(error()); }
};

} // namespace unioncard::registry::testsupport
