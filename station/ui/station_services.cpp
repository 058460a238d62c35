// SPDX-License-Identifier: Apache-2.0
#include "station_services.hpp"

#include <unioncard/printer/layout.hpp>

#include <fstream>
#include <iterator>
#include <sstream>

namespace unioncard::station::ui {

namespace fs = std::filesystem;

Result<StationStore, StoreError> StationServices::openStore() const {
    auto store = StationStore::open(database);
    if (!store) {
        return store;
    }
    if (keys) {
        std::shared_ptr<const KeyStore> k = keys;
        store->setAuditSigner(
            [k](std::span<const std::uint8_t> m) { return k->signingKey().signRaw(m); }, stationId);
    }
    return store;
}

std::optional<std::string> loadFromSettings(StationServices& services, StationStore& store,
                                            const fs::path& firmwareConfig) {
    services.stationId = store.setting("station_id").value_or("");
    services.regionName = store.setting("region_name").value_or("");
    auto profile = card::desfire::loadProfile(
        store.setting("card_profile")
            .value_or((firmwareConfig / "cards" / "union-desfire.toml").string()));
    if (!profile) {
        return "card profile: " + profile.error();
    }
    services.profile = std::move(profile).value();
    std::ifstream trustIn(store.setting("trust_list").value_or(""), std::ios::binary);
    const card::Bytes trustBytes((std::istreambuf_iterator<char>(trustIn)),
                                 std::istreambuf_iterator<char>());
    auto pin = card::fromHex(store.setting("root_fingerprint").value_or(""));
    auto trust = card::TrustList::load(trustBytes, pin);
    if (!trust) {
        return "trust list: " + trust.error();
    }
    services.trust = std::make_shared<const card::TrustList>(std::move(trust).value());
    auto layout = printer::loadLayout(printer::resolveLayoutPath(
        store.setting("layout").value_or("union-card"), firmwareConfig / "layouts"));
    if (!layout) {
        return "layout: " + layout.error().message;
    }
    auto renderer = printer::CardRenderer::create(std::move(layout).value());
    if (!renderer) {
        return "renderer: " + renderer.error().message;
    }
    services.renderer = std::make_shared<const printer::CardRenderer>(std::move(renderer).value());
    services.openRegistry = registryFromSettings(store);
    return std::nullopt;
}

RegistryOpener registryFromSettings(StationStore& store) {
    auto settings =
        registry::clientConfigFromSettings([&](const std::string& k) { return store.setting(k); });
    if (!settings) {
        return {};
    }
    registry::ClientConfig config = std::move(*settings);
    config.connectTimeout = std::chrono::milliseconds(2000);
    return [config]() -> Result<registry::RegistryClient, std::string> {
        auto client = registry::RegistryClient::create(config);
        if (!client) {
            return fail(client.error().message);
        }
        return std::move(client).value();
    };
}

} // namespace unioncard::station::ui
