// SPDX-License-Identifier: Apache-2.0
#include <unioncard/station/key_store.hpp>

#include <cstdlib>

namespace unioncard::station {

namespace {

// The first of these variables that is set, then UNIONCARD_PASSPHRASE.
const char* secretFromEnvironment(const char* name, const char* fallback = nullptr) {
    for (const char* n : {name, fallback, "UNIONCARD_PASSPHRASE"}) {
        if (n != nullptr && std::getenv(n) != nullptr) {
            return std::getenv(n);
        }
    }
    return nullptr;
}

} // namespace

Result<std::unique_ptr<KeyStore>, std::string>
openConfiguredKeyStore(const SettingLookup& setting) {
    using R = Result<std::unique_ptr<KeyStore>, std::string>;
    if (setting("key_store").value_or("file") == "pkcs11") {
        const char* pin = std::getenv("UNIONCARD_TOKEN_PIN");
        if (pin == nullptr) {
            return R(fail(std::string("set UNIONCARD_TOKEN_PIN to the token's user PIN")));
        }
        Pkcs11Config config;
        config.module = setting("pkcs11_module").value_or("");
        config.tokenLabel = setting("token_label").value_or("");
        config.wrappedMasterKeys = setting("card_keys").value_or("");
        auto opened = Pkcs11KeyStore::open(config, card::Secret(pin));
        if (!opened) {
            return R(fail("the station's token: " + opened.error().message));
        }
        return R(std::unique_ptr<KeyStore>(std::move(opened).value()));
    }
    const char* pass = secretFromEnvironment("UNIONCARD_STATION_PASSPHRASE");
    const char* cardPass =
        secretFromEnvironment("UNIONCARD_CARD_KEYS_PASSPHRASE", "UNIONCARD_STATION_PASSPHRASE");
    if (pass == nullptr || cardPass == nullptr) {
        return R(fail(std::string("set UNIONCARD_STATION_PASSPHRASE (and "
                                  "UNIONCARD_CARD_KEYS_PASSPHRASE if the card keys have their "
                                  "own) to unlock the station's keys")));
    }
    auto opened =
        FileKeyStore::open(FileKeyStoreConfig::inDirectory(setting("station_keys").value_or(""),
                                                           setting("card_keys").value_or("")),
                           card::Secret(pass), card::Secret(cardPass));
    if (!opened) {
        return R(fail("the station's keys: " + opened.error().message));
    }
    return R(std::unique_ptr<KeyStore>(std::move(opened).value()));
}

} // namespace unioncard::station
