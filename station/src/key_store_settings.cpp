// SPDX-License-Identifier: Apache-2.0
#include <unioncard/base/paths.hpp>
#include <unioncard/station/key_store.hpp>

namespace unioncard::station {

Result<std::unique_ptr<KeyStore>, std::string>
openConfiguredKeyStore(const SettingLookup& setting) {
    using R = Result<std::unique_ptr<KeyStore>, std::string>;
    if (setting("key_store").value_or("file") == "pkcs11") {
        auto pin = base::secret("token-pin", {"UNIONCARD_TOKEN_PIN"});
        if (!pin) {
            return R(fail(std::string("set UNIONCARD_TOKEN_PIN to the token's user PIN (a "
                                      "service: the credential token-pin)")));
        }
        Pkcs11Config config;
        config.module = setting("pkcs11_module").value_or("");
        config.tokenLabel = setting("token_label").value_or("");
        config.wrappedMasterKeys = setting("card_keys").value_or("");
        auto opened = Pkcs11KeyStore::open(config, card::Secret(std::move(*pin)));
        if (!opened) {
            return R(fail("the station's token: " + opened.error().message));
        }
        return R(std::unique_ptr<KeyStore>(std::move(opened).value()));
    }
    auto pass = base::secret("station-passphrase",
                             {"UNIONCARD_STATION_PASSPHRASE", "UNIONCARD_PASSPHRASE"});
    auto cardPass = base::secret("card-keys-passphrase", {"UNIONCARD_CARD_KEYS_PASSPHRASE"});
    if (!cardPass)
        cardPass = pass;
    if (!pass || !cardPass) {
        return R(fail(std::string("set UNIONCARD_STATION_PASSPHRASE (and "
                                  "UNIONCARD_CARD_KEYS_PASSPHRASE if the card keys have their "
                                  "own) to unlock the station's keys (a service: the credentials "
                                  "station-passphrase and card-keys-passphrase)")));
    }
    auto opened =
        FileKeyStore::open(FileKeyStoreConfig::inDirectory(setting("station_keys").value_or(""),
                                                           setting("card_keys").value_or("")),
                           card::Secret(std::move(*pass)), card::Secret(std::move(*cardPass)));
    if (!opened) {
        return R(fail("the station's keys: " + opened.error().message));
    }
    return R(std::unique_ptr<KeyStore>(std::move(opened).value()));
}

} // namespace unioncard::station
