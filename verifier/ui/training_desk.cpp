// SPDX-License-Identifier: Apache-2.0
#include "training_desk.hpp"

#include <unioncard/base/paths.hpp>

namespace unioncard::verifier::ui {

std::filesystem::path defaultProfileFile() {
    return base::firmwareConfigDir() / "cards" / "union-desfire.toml";
}

std::unique_ptr<TrainingDesk> TrainingDesk::create(Mode mode, std::function<card::Seconds()> clock,
                                                   QString* error) {
    auto fail = [error](const std::string& message) {
        if (error != nullptr)
            *error = QString::fromStdString(message);
        return std::unique_ptr<TrainingDesk>();
    };
    if (!clock) {
        clock = [] {
            return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        };
    }
    auto desk = std::make_unique<TrainingDesk>();
    if (!desk->dir.isValid())
        return fail("cannot make a temporary folder for the training desk");
    auto store =
        VerifierStore::open(desk->dir.filePath(QStringLiteral("training.db")).toStdString());
    if (!store)
        return fail(store.error().message);
    desk->store.emplace(std::move(store).value());
    auto world = TrainingUnion::create(*desk->store, defaultProfileFile(), clock(), mode);
    if (!world)
        return fail(world.error());
    desk->world = std::move(world).value();

    auto readKeys = desk->world->readKeys().only({"record-read"});
    if (!readKeys)
        return fail(readKeys.error().message);
    auto taps = std::make_unique<SimulatedTapSource>();
    desk->taps = taps.get();
    VerifierDeps deps{&*desk->store,
                      desk->world->rootFingerprint(),
                      desk->world->profile(),
                      std::make_unique<card::desfire::MasterKeys>(std::move(readKeys).value()),
                      std::move(taps),
                      {},
                      std::move(clock),
                      true,
                      "training",
                      {}, // training: no registry to sync with
                      std::chrono::minutes(2)};
    desk->controller = std::make_unique<VerifierController>(std::move(deps));
    desk->trainer = std::make_unique<TrainingCards>(*desk->world, *desk->taps);
    desk->controller->start();
    return desk;
}

} // namespace unioncard::verifier::ui
