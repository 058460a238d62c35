// SPDX-License-Identifier: Apache-2.0
#pragma once

// The station the settings describe, on its real devices: the PC/SC readers (the desk reader
// and the printer's encoder through pcscd) and the Evolis printer the station's file names, the
// keys unlocked from the environment, the registry from the settings. main.cpp uses it for the
// kiosk; the end-to-end UI test (tests/ui/station) for the card lab and the printer simulator.
//
// Secrets as for unioncard-station: UNIONCARD_STATION_PASSPHRASE (or UNIONCARD_PASSPHRASE),
// UNIONCARD_CARD_KEYS_PASSPHRASE, UNIONCARD_TOKEN_PIN for a PKCS#11 token.
// UNIONCARD_FIRMWARE_CONFIG overrides the folder of cards/, layouts/, printers/.

#include "station_services.hpp"

#include <string>

namespace unioncard::station::ui {

/// The services for the station's file `db`: its keys, settings and devices. `deskReader`
/// empty: the settings' desk reader, or "Station desk". `training` forces training mode (the
/// station's file may say so too). The error says what is missing, for the operator.
Result<StationServices, std::string> realStation(const std::string& db,
                                                 const std::string& deskReader, bool training);

} // namespace unioncard::station::ui
