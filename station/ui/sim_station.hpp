// SPDX-License-Identifier: Apache-2.0
#pragma once

// A whole station on simulated hardware in this process, for the UI's tests, its self-test and
// screenshots, and for trying the UI with no devices and no root (`--simulated`): the union's
// keys made in memory (root, station certificate, trust list, card master keys), the station's
// file in a folder of its own with operators, applications and a number block, the Evolis
// printer simulator on loopback whose contactless station holds virtual DESFire cards, the
// encoder reaching them in process, and a desk reader on which a test puts a card. main.cpp or
// a test chooses it; nothing else in the UI knows it is there.

#include "station_services.hpp"

#include <unioncard/sim/evolis_printer.hpp>

#include <QObject>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace unioncard::station::ui {

struct SimulatedStationOptions {
    std::string stationId = "st-23-01";
    int region = 23;
    std::string regionName = "Московская область";
    int applications = 12;
    bool withPrinter = true;
    sim::evolis::PrinterOptions printer;
    bool training = true;
};

/// The operators a simulated station has (PINs for tests and training only).
struct SimulatedOperators {
    static constexpr const char* operatorId = "op-01";
    static constexpr const char* operatorPin = "111111";
    static constexpr const char* supervisorId = "sup-01";
    static constexpr const char* supervisorPin = "222222";
    static constexpr const char* auditorId = "aud-01";
    static constexpr const char* auditorPin = "333333";
    /// The second supervisor, for the acts one person may not do alone.
    static constexpr const char* secondSupervisorId = "sup-02";
    static constexpr const char* secondSupervisorPin = "444444";
    /// The supervisor's staff card.
    static constexpr const char* supervisorCardUid = "04a1b2c3d4e5f6";
};

class SimulatedStation {
public:
    /// Sets everything up in `folder` (created; the station's file is folder/station.db).
    static std::unique_ptr<SimulatedStation> create(const std::filesystem::path& folder,
                                                    SimulatedStationOptions options,
                                                    std::string* error);
    ~SimulatedStation();

    StationServices services() const;
    sim::evolis::EvolisPrinterSim* printer();

    // ---- the desk reader
    /// Puts the chip of a card this station produced on the desk reader.
    bool tapProducedCard(const std::string& cardNumber);
    /// Puts the supervisor's staff card (a blank chip with its UID) on the desk reader.
    void tapStaffCard(const std::string& uidHex);
    /// A card that is not a union card (a blank chip).
    void tapForeignCard();
    void removeCard();
    /// The card numbers produced so far, oldest first.
    std::vector<std::string> producedNumbers() const;

    struct Impl;

private:
    explicit SimulatedStation(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

/// The simulated desk reader's buttons for training (--simulated): a person practising puts a
/// card on the reader from the screen, as a member would tap it.
class TrainingDesk : public QObject {
    Q_OBJECT
public:
    explicit TrainingDesk(SimulatedStation& station, QObject* parent = nullptr)
        : QObject(parent), m_station(station) {}
    /// The oldest card produced and still waiting for its member; false if there is none.
    Q_INVOKABLE bool tapWaitingCard();
    Q_INVOKABLE void tapForeignCard() { m_station.tapForeignCard(); }
    Q_INVOKABLE void tapSupervisorCard() {
        m_station.tapStaffCard(SimulatedOperators::supervisorCardUid);
    }
    Q_INVOKABLE void removeCard() { m_station.removeCard(); }

private:
    SimulatedStation& m_station;
};

} // namespace unioncard::station::ui
