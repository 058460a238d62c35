// SPDX-License-Identifier: Apache-2.0
#pragma once

// The registry service running in process on loopback, for the security suites.

#include "test_folder.hpp"

#include <unioncard/registry/service.hpp>
#include <unioncard/registry/store.hpp>

#include <memory>
#include <stdexcept>
#include <thread>

namespace unioncard::security {

/// The registry service on a free loopback port, serving until destroyed.
struct RunningRegistry {
    registry::Service service;
    std::thread thread;
    int port = 0;

    RunningRegistry(std::unique_ptr<registry::Store> store, registry::ServiceConfig config)
        : service(std::move(store), std::move(config)) {
        if (auto e = service.bind())
            throw std::runtime_error(e->message);
        port = service.port();
        thread = std::thread([this] { service.run(); });
    }
    ~RunningRegistry() {
        service.stop();
        thread.join();
    }
    RunningRegistry(const RunningRegistry&) = delete;
    RunningRegistry& operator=(const RunningRegistry&) = delete;
};

} // namespace unioncard::security
