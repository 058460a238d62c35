// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the security suites share: the test's clock, a fixture step that must succeed, and a
// temporary folder of the running test's own.

#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace unioncard::security {

inline card::Seconds now() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

template <class T, class E> T take(Result<T, E> r) {
    if (!r.ok())
        throw std::runtime_error("fixture step failed");
    return std::move(r).value();
}

/// A folder of the running test's own, removed first and at the end; dbUrl names a registry
/// database in it.
struct TestFolder {
    std::filesystem::path dir;
    std::string dbUrl;

    explicit TestFolder(const std::string& prefix)
        : dir(std::filesystem::temp_directory_path() /
              (prefix + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())),
          dbUrl("sqlite:" + (dir / "registry.db").string()) {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    ~TestFolder() { std::filesystem::remove_all(dir); }
    TestFolder(const TestFolder&) = delete;
    TestFolder& operator=(const TestFolder&) = delete;
};

} // namespace unioncard::security
