// SPDX-License-Identifier: Apache-2.0
#include "passphrase.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace unioncard::cli {

namespace {

constexpr std::size_t kMinLength = 10;

const char* roleVariable(KeyRole role) {
    switch (role) {
    case KeyRole::Root:
        return "UNIONCARD_ROOT_PASSPHRASE";
    case KeyRole::Station:
        return "UNIONCARD_STATION_PASSPHRASE";
    case KeyRole::StatusSigner:
        return "UNIONCARD_STATUS_PASSPHRASE";
    }
    return "UNIONCARD_PASSPHRASE";
}

const char* roleName(KeyRole role) {
    switch (role) {
    case KeyRole::Root:
        return "union root key";
    case KeyRole::Station:
        return "station key";
    case KeyRole::StatusSigner:
        return "status-signing key";
    }
    return "key";
}

// Reads one line from the controlling terminal with echo off.
Result<card::Secret, std::string> prompt(const std::string& question) {
    using R = Result<card::Secret, std::string>;
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return R(fail(std::string("no passphrase: set UNIONCARD_PASSPHRASE or run on a terminal")));
    }
    termios saved{};
    const bool isTerminal = ::tcgetattr(fd, &saved) == 0;
    if (isTerminal) {
        termios quiet = saved;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    [[maybe_unused]] auto w = ::write(fd, question.data(), question.size());
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') {
        line.push_back(c);
    }
    if (isTerminal) {
        ::tcsetattr(fd, TCSAFLUSH, &saved);
    }
    [[maybe_unused]] auto nl = ::write(fd, "\n", 1);
    ::close(fd);
    return card::Secret(std::move(line));
}

Result<card::Secret, std::string> fromEnvironment(KeyRole role) {
    for (const char* name : {roleVariable(role), "UNIONCARD_PASSPHRASE"}) {
        if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
            return card::Secret(std::string(value));
        }
    }
    return Result<card::Secret, std::string>(fail(std::string()));
}

} // namespace

Result<card::Secret, std::string> passphraseFor(KeyRole role) {
    if (auto env = fromEnvironment(role)) {
        return env;
    }
    return prompt(fmt::format("Passphrase for the {}: ", roleName(role)));
}

Result<card::Secret, std::string> newPassphraseFor(KeyRole role) {
    using R = Result<card::Secret, std::string>;
    auto pass = fromEnvironment(role);
    if (!pass) {
        pass = prompt(fmt::format("New passphrase for the {}: ", roleName(role)));
        if (!pass) {
            return pass;
        }
        auto again = prompt("The same passphrase again: ");
        if (!again || again->view() != pass->view()) {
            return R(fail(std::string("the two passphrases differ")));
        }
    }
    if (pass->view().size() < kMinLength) {
        return R(fail(fmt::format("a passphrase needs at least {} characters", kMinLength)));
    }
    return pass;
}

} // namespace unioncard::cli
