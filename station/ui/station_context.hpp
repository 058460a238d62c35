// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the station UI's controllers share on the UI thread: the services from main.cpp, the UI
// thread's own connection to the station's file (quick local reads and single writes) and the
// operator signed in. Device and network work never uses this connection: each worker opens
// its own (StationServices::openStore).

#include "station_services.hpp"

#include <QDateTime>
#include <optional>

namespace unioncard::station::ui {

struct StationContext {
    StationContext(StationServices s, StationStore st)
        : services(std::move(s)), store(std::move(st)) {}
    StationServices services;
    StationStore store;
    std::optional<Operator> who; ///< nullopt: nobody signed in
};

inline card::Seconds nowSeconds() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

inline QDateTime toDateTime(card::Seconds at) {
    return QDateTime::fromSecsSinceEpoch(at.time_since_epoch().count());
}

inline QString qs(const std::string& text) {
    return QString::fromStdString(text);
}

} // namespace unioncard::station::ui
