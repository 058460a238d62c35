// SPDX-License-Identifier: Apache-2.0
#include "real_station.hpp"

#include <unioncard/base/paths.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>
#include <unioncard/printer/evolis.hpp>
#include <unioncard/printer/printer_profile.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <utility>

namespace unioncard::station::ui {

namespace {

namespace fs = std::filesystem;

std::string firmwareConfig() {
    return base::firmwareConfigDir().string();
}

// The desk reader through pcscd: waits with the reader watcher (SCardGetStatusChange), which
// a stop request cancels (SCardCancel).
class PcscDeskReader final : public DeskReader {
public:
    explicit PcscDeskReader(std::string name) : m_name(std::move(name)) {}
    Result<std::unique_ptr<card::CardConnection>, card::Fault>
    waitForCard(std::stop_token stop) override {
        auto context = card::pcsc::PcscContext::establish();
        if (!context) {
            return fail(context.error());
        }
        auto watcher = card::pcsc::ReaderWatcher::create();
        if (!watcher) {
            return fail(watcher.error());
        }
        std::stop_callback cancel(stop, [&] { (*watcher)->cancel(); });
        while (!stop.stop_requested()) {
            auto reader = card::pcsc::findReader(*context, m_name);
            if (reader) {
                for (const auto& r : (*watcher)->readers()) {
                    if (r.reader == reader.value() && r.cardPresent) {
                        return context->connect(reader.value());
                    }
                }
            }
            auto events = (*watcher)->wait(std::chrono::milliseconds(1000));
            if (!events && events.error().code == card::FaultCode::Cancelled) {
                break;
            }
        }
        return fail(card::Fault{card::FaultCode::Cancelled, "the wait was cancelled"});
    }

private:
    std::string m_name;
};

Result<std::shared_ptr<KeyStore>, std::string> openKeyStore(StationStore& store) {
    auto opened = openConfiguredKeyStore([&](const std::string& k) { return store.setting(k); });
    if (!opened) {
        return fail(opened.error());
    }
    return std::shared_ptr<KeyStore>(std::move(opened).value());
}

} // namespace

Result<StationServices, std::string> realStation(const std::string& db,
                                                 const std::string& deskReader, bool training) {
    using R = Result<StationServices, std::string>;
    if (!fs::exists(db)) {
        return R(fail(fmt::format("{} does not exist: set the station up with "
                                  "'unioncard-station --db {} init ...'",
                                  db, db)));
    }
    auto opened = StationStore::open(db);
    if (!opened) {
        return R(fail(opened.error().message));
    }
    StationStore store = std::move(opened).value();
    StationServices s;
    s.database = db;
    auto keys = openKeyStore(store);
    if (!keys) {
        return R(fail(keys.error()));
    }
    s.keys = keys.value();
    if (auto e = loadFromSettings(s, store, firmwareConfig())) {
        return R(fail(*e));
    }
    s.training = training || store.setting("training").value_or("0") == "1";
    auto profile = printer::loadPrinterProfile(
        store.setting("printer_profile").value_or(firmwareConfig() + "/printers/lab-printer.toml"));
    if (!profile) {
        return R(fail(profile.error()));
    }
    const std::string uri = store.setting("printer").value_or(profile->connection);
    printer::evolis::DriverOptions driver;
    driver.ribbon = profile->ribbon;
    s.openPrinter =
        [uri, driver]() -> Result<std::unique_ptr<printer::CardPrinter>, printer::PrinterError> {
        auto opened = printer::evolis::openPrinter(uri, driver);
        if (!opened) {
            return fail(opened.error());
        }
        return std::unique_ptr<printer::CardPrinter>(std::move(opened).value());
    };
    const std::string encoder = store.setting("encoder_reader").value_or(profile->encoderReader);
    s.encoder = [encoder]() -> Result<std::unique_ptr<card::CardConnection>, card::Fault> {
        auto pcsc = card::pcsc::PcscContext::establish();
        if (!pcsc) {
            return fail(pcsc.error());
        }
        auto name = card::pcsc::findReader(*pcsc, encoder);
        if (!name) {
            return fail(name.error());
        }
        return pcsc->connect(name.value());
    };
    s.desk = std::make_shared<PcscDeskReader>(
        deskReader.empty() ? store.setting("desk_reader").value_or("Station desk") : deskReader);
    return R(std::move(s));
}

} // namespace unioncard::station::ui
