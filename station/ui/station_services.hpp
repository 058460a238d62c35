// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the station's kiosk UI works with, handed to its controllers by main.cpp (the
// composition root): the station's file, its unlocked keys, the printer, the encoder and desk
// readers and the registry. main.cpp puts real devices here; the UI tests put the printer
// simulator and virtual cards in process. Nothing in this folder chooses a device.

#include <unioncard/card/desfire/profile.hpp>
#include <unioncard/card/transport.hpp>
#include <unioncard/card/trust_list.hpp>
#include <unioncard/printer/card_printer.hpp>
#include <unioncard/printer/renderer.hpp>
#include <unioncard/registry/client.hpp>
#include <unioncard/station/issuer.hpp>
#include <unioncard/station/key_store.hpp>
#include <unioncard/station/store.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace unioncard::station::ui {

/// Opens a fresh connection to the card printer (one per worker; the printer takes several).
using PrinterOpener =
    std::function<Result<std::unique_ptr<printer::CardPrinter>, printer::PrinterError>()>;

/// Opens a client for the registry; the error says why there is none (not configured, bad CA).
using RegistryOpener = std::function<Result<registry::RegistryClient, std::string>()>;

/// The reader on the operator's desk, where members and staff tap their cards.
class DeskReader {
public:
    virtual ~DeskReader() = default;
    /// Blocks until a card is on the reader (one already there counts) and connects to it, or
    /// returns the Cancelled fault once `stop` is requested. Called on a worker thread.
    virtual Result<std::unique_ptr<card::CardConnection>, card::Fault>
    waitForCard(std::stop_token stop) = 0;
};

struct StationServices {
    std::filesystem::path database; ///< the station's SQLite file
    std::string stationId;
    std::string regionName; ///< printed on the cards
    std::shared_ptr<const KeyStore> keys;
    card::desfire::Profile profile;
    std::shared_ptr<const card::TrustList> trust;
    std::shared_ptr<const printer::CardRenderer> renderer;
    PrinterOpener openPrinter;
    EncoderConnect encoder;
    std::shared_ptr<DeskReader> desk;
    RegistryOpener openRegistry; ///< empty: the station has no registry (file exchange)
    /// Training: simulated printer and cards, a registry of its own; shown on every screen.
    bool training = false;

    /// A connection to the station's file whose writes are audited and signed with the
    /// station's key. Each thread opens its own (SQLite WAL: readers never wait for the batch).
    Result<StationStore, StoreError> openStore() const;
};

/// What `unioncard-station` reads from the station's settings, without the devices: the card
/// profile, the trust list (pinned to the root's fingerprint), the layout and its renderer, the
/// region's name. `firmwareConfig` is the folder of cards/, layouts/, printers/.
std::optional<std::string> loadFromSettings(StationServices& services, StationStore& store,
                                            const std::filesystem::path& firmwareConfig);

/// A registry opener from the station's settings (registry_url, ca_file, token_file); an empty
/// function when no registry is configured.
RegistryOpener registryFromSettings(StationStore& store);

} // namespace unioncard::station::ui
