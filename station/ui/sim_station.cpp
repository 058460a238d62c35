// SPDX-License-Identifier: Apache-2.0
#include "sim_station.hpp"

#include <unioncard/base/paths.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/printer/evolis.hpp>
#include <unioncard/printer/layout.hpp>
#include <unioncard/sim/virtual_desfire.hpp>

#include <condition_variable>
#include <map>
#include <mutex>

namespace unioncard::station::ui {

namespace fs = std::filesystem;
using card::Bytes;

namespace {

// A reader with a virtual card on it, in process. It answers the PC/SC GET DATA pseudo-APDU
// for the UID (PC/SC part 3 §3.2.2.1.3) as a real reader does; the rest goes to the chip.
class InProcessConnection : public card::CardConnection {
public:
    explicit InProcessConnection(std::shared_ptr<sim::VirtualDesfire> chip)
        : m_chip(std::move(chip)) {
        m_chip->powerOn();
    }
    ~InProcessConnection() override { m_chip->powerOff(); }
    Result<Bytes, card::Fault> transmit(std::span<const std::uint8_t> command) override {
        static const Bytes getUid{0xFF, 0xCA, 0x00, 0x00, 0x00};
        if (Bytes(command.begin(), command.end()) == getUid) {
            Bytes answer = m_chip->uid();
            answer.push_back(0x90);
            answer.push_back(0x00);
            return answer;
        }
        return m_chip->transmit(command);
    }
    Bytes atr() const override { return m_chip->atr(); }

private:
    std::shared_ptr<sim::VirtualDesfire> m_chip;
};

std::shared_ptr<sim::VirtualDesfire> chipWithUid(const std::string& hex) {
    sim::VirtualDesfire::Options o;
    auto bytes = card::fromHex(hex);
    if (bytes && bytes->size() == 7) {
        std::array<std::uint8_t, 7> uid{};
        std::copy(bytes->begin(), bytes->end(), uid.begin());
        o.uid = uid;
    }
    return std::make_shared<sim::VirtualDesfire>(o);
}

std::string lower(std::string s) {
    for (auto& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

// The union's keys, made in memory for this station only.
class SimKeyStore final : public KeyStore {
public:
    SimKeyStore(card::PrivateKey key, card::Certificate certificate, card::desfire::MasterKeys keys,
                std::string stationId)
        : m_key(std::move(key)), m_certificate(std::move(certificate)), m_master(std::move(keys)),
          m_stationId(std::move(stationId)) {}
    KeyStoreInfo info() const override {
        return KeyStoreInfo{"simulated", "memory",         m_stationId,  m_certificate.keyId(),
                            "memory",    m_master.roles(), m_certificate};
    }
    const card::RecordSigningKey& signingKey() const override { return m_key; }
    const card::Certificate& certificate() const override { return m_certificate; }
    Result<card::desfire::MasterKeys, KeyStoreError>
    masterKeys(const std::vector<std::string>& roles) const override {
        auto copy = m_master.only(roles.empty() ? m_master.roles() : roles);
        if (!copy) {
            return fail(KeyStoreError{KeyStoreErrorCode::NotFound, copy.error().message});
        }
        return std::move(copy).value();
    }

private:
    card::PrivateKey m_key;
    card::Certificate m_certificate;
    card::desfire::MasterKeys m_master;
    std::string m_stationId;
};

} // namespace

// The printer's surroundings, the encoder and the desk reader: the chips of every card the
// printer took, by serial.
struct SimulatedStation::Impl final : public sim::evolis::PrinterEvents {
    fs::path folder;
    SimulatedStationOptions options;
    StationServices services;

    mutable std::mutex mutex;
    std::condition_variable_any deskChanged;
    std::map<std::string, std::shared_ptr<sim::VirtualDesfire>> chips; ///< by lower-case serial
    std::shared_ptr<sim::VirtualDesfire> atEncoder;
    std::shared_ptr<sim::VirtualDesfire> onDesk;

    std::unique_ptr<sim::evolis::EvolisPrinterSim> printer;
    std::unique_ptr<sim::evolis::PrinterServer> server;

    bool cardAtContactless(const std::string& serial, std::string&) override {
        std::lock_guard lock(mutex);
        auto chip = chipWithUid(serial);
        chips[lower(serial)] = chip;
        atEncoder = chip;
        return true;
    }
    void cardLeftContactless(const std::string&) override {
        std::lock_guard lock(mutex);
        atEncoder.reset();
    }
    void cardLeft(const sim::evolis::CardOutcome&) override {}

    void putOnDesk(std::shared_ptr<sim::VirtualDesfire> chip) {
        {
            std::lock_guard lock(mutex);
            onDesk = std::move(chip);
        }
        deskChanged.notify_all();
    }
};

namespace {

class SimDeskReader final : public DeskReader {
public:
    explicit SimDeskReader(SimulatedStation::Impl& impl) : m_impl(impl) {}
    Result<std::unique_ptr<card::CardConnection>, card::Fault>
    waitForCard(std::stop_token stop) override {
        std::unique_lock lock(m_impl.mutex);
        m_impl.deskChanged.wait(lock, stop, [this] { return m_impl.onDesk != nullptr; });
        if (!m_impl.onDesk) {
            return fail(card::Fault{card::FaultCode::Cancelled, "the wait was cancelled"});
        }
        return std::unique_ptr<card::CardConnection>(
            std::make_unique<InProcessConnection>(m_impl.onDesk));
    }

private:
    SimulatedStation::Impl& m_impl;
};

} // namespace

SimulatedStation::SimulatedStation(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

SimulatedStation::~SimulatedStation() {
    if (m_impl->server) {
        m_impl->server->stop();
    }
}

std::unique_ptr<SimulatedStation> SimulatedStation::create(const fs::path& folder,
                                                           SimulatedStationOptions options,
                                                           std::string* error) {
    auto failed = [error](const std::string& why) -> std::unique_ptr<SimulatedStation> {
        if (error) {
            *error = why;
        }
        return nullptr;
    };
    std::error_code ec;
    fs::create_directories(folder, ec);
    auto impl = std::make_unique<Impl>();
    impl->folder = folder;
    impl->options = options;
    const fs::path config = base::firmwareConfigDir();

    // The union: a root, this station's key and certificate, the trust list, card keys.
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    const card::Validity years{now - std::chrono::days(30), now + std::chrono::days(3650)};
    auto rootKey = card::PrivateKey::generate();
    if (!rootKey) {
        return failed("root key: " + rootKey.error().message);
    }
    auto root = card::makeRootCertificate(*rootKey, "Simulated union root", years);
    auto stationKey = card::PrivateKey::generate();
    if (!root || !stationKey) {
        return failed("root certificate or station key");
    }
    auto cert = card::issueStationCertificate(*rootKey, *root, stationKey->publicKey(),
                                              options.stationId, years);
    if (!cert) {
        return failed("station certificate: " + cert.error().message);
    }
    auto trustBytes = card::TrustList::build(*rootKey, *root, {*cert}, 1, now);
    if (!trustBytes) {
        return failed("trust list: " + trustBytes.error().message);
    }
    auto trust = card::TrustList::load(*trustBytes, root->fingerprint());
    if (!trust) {
        return failed("trust list: " + trust.error());
    }
    auto profile = card::desfire::loadProfile(config / "cards" / "union-desfire.toml");
    if (!profile) {
        return failed("card profile: " + profile.error());
    }
    auto master = card::desfire::MasterKeys::generate(profile->roles());
    auto layout = printer::loadLayout(printer::resolveLayoutPath("union-card", config / "layouts"));
    if (!layout) {
        return failed("layout: " + layout.error().message);
    }
    auto renderer = printer::CardRenderer::create(std::move(layout).value());
    if (!renderer) {
        return failed("renderer: " + renderer.error().message);
    }

    StationServices& s = impl->services;
    s.database = folder / "station.db";
    s.stationId = options.stationId;
    s.regionName = options.regionName;
    s.keys = std::make_shared<SimKeyStore>(std::move(stationKey).value(), std::move(cert).value(),
                                           std::move(master), options.stationId);
    s.profile = std::move(profile).value();
    s.trust = std::make_shared<const card::TrustList>(std::move(trust).value());
    s.renderer = std::make_shared<const printer::CardRenderer>(std::move(renderer).value());
    s.training = options.training;

    // The station's file: settings, operators, applications and a number block.
    auto store = s.openStore();
    if (!store) {
        return failed(store.error().message);
    }
    for (const auto& [k, v] :
         std::map<std::string, std::string>{{"station_id", options.stationId},
                                            {"region", std::to_string(options.region)},
                                            {"region_name", options.regionName},
                                            {"training", options.training ? "1" : "0"}}) {
        if (auto e = store->setSetting(k, v)) {
            return failed(e->message);
        }
    }
    using O = SimulatedOperators;
    const std::vector<std::pair<Operator, std::string>> people = {
        {{O::supervisorId, "Петрова Анна Сергеевна", Role::Supervisor,
          std::string(O::supervisorCardUid)},
         O::supervisorPin},
        {{O::operatorId, "Иванов Пётр Николаевич", Role::Operator, std::nullopt}, O::operatorPin},
        {{O::auditorId, "Смирнова Ольга Викторовна", Role::Auditor, std::nullopt}, O::auditorPin},
        {{O::secondSupervisorId, "Орлов Виктор Петрович", Role::Supervisor, std::nullopt},
         O::secondSupervisorPin},
    };
    for (const auto& [op, pin] : people) {
        if (auto e = store->putOperator(op, pin, "setup")) {
            return failed(e->message);
        }
    }
    static const char* const names[] = {
        "Кузнецова Мария Ивановна",    "Соколов Алексей Дмитриевич", "Попова Елена Андреевна",
        "Лебедев Сергей Павлович",     "Новикова Татьяна Юрьевна",   "Морозов Дмитрий Олегович",
        "Волкова Наталья Петровна",    "Фёдоров Игорь Васильевич",   "Алексеева Ирина Борисовна",
        "Васильев Андрей Михайлович",  "Зайцева Светлана Игоревна",  "Павлов Николай Семёнович",
        "Семёнова Анастасия Олеговна", "Голубев Максим Андреевич",   "Виноградова Юлия Ильинична",
        "Богданов Роман Евгеньевич",
    };
    static const char* const organisations[] = {
        "МБОУ СОШ № 12 г. Подольска",
        "ГБПОУ МО «Колледж „Подмосковье“»",
        "МАДОУ детский сад № 5 «Солнышко»",
    };
    std::vector<registry::Application> apps;
    for (int i = 0; i < options.applications; ++i) {
        registry::Application a;
        a.id = "app-" + std::to_string(1001 + i);
        a.memberId = "M-23-" + std::to_string(4700 + i);
        a.fullName = names[i % std::size(names)];
        a.region = options.region;
        a.organisationCode = static_cast<std::uint32_t>(100200 + i % 3);
        a.organisationName = organisations[i % 3];
        a.category = registry::MemberCategory::Working;
        a.consent = true;
        a.createdAt = now - std::chrono::hours(48) + std::chrono::minutes(i);
        apps.push_back(a);
    }
    if (auto added = store->addApplications(apps, "registry", "setup"); !added) {
        return failed(added.error().message);
    }
    registry::Lease lease{"lease-1", options.region, 1, 5000, options.stationId, now};
    if (auto e = store->addLease(lease, "setup")) {
        return failed(e->message);
    }
    if (auto e = store->setStock("blank_cards", options.printer.cards, "setup")) {
        return failed(e->message);
    }

    // The printer on loopback, its contactless station holding virtual chips.
    Impl& i = *impl;
    if (options.withPrinter) {
        i.printer = std::make_unique<sim::evolis::EvolisPrinterSim>(options.printer, i);
        i.server = std::make_unique<sim::evolis::PrinterServer>(*i.printer);
        std::string why;
        if (!i.server->start("127.0.0.1", 0, why)) {
            return failed("printer simulator: " + why);
        }
        const std::string uri = "tcp://127.0.0.1:" + std::to_string(i.server->port());
        printer::evolis::DriverOptions driver;
        driver.ribbon = options.printer.ribbon;
        s.openPrinter =
            [uri,
             driver]() -> Result<std::unique_ptr<printer::CardPrinter>, printer::PrinterError> {
            auto opened = printer::evolis::openPrinter(uri, driver);
            if (!opened) {
                return fail(opened.error());
            }
            return std::unique_ptr<printer::CardPrinter>(std::move(opened).value());
        };
        s.encoder = [&i]() -> Result<std::unique_ptr<card::CardConnection>, card::Fault> {
            std::lock_guard lock(i.mutex);
            if (!i.atEncoder) {
                return fail(card::Fault{card::FaultCode::NoCard, "no card at the encoder"});
            }
            return std::unique_ptr<card::CardConnection>(
                std::make_unique<InProcessConnection>(i.atEncoder));
        };
    }
    s.desk = std::make_shared<SimDeskReader>(i);
    return std::unique_ptr<SimulatedStation>(new SimulatedStation(std::move(impl)));
}

StationServices SimulatedStation::services() const {
    return m_impl->services;
}

sim::evolis::EvolisPrinterSim* SimulatedStation::printer() {
    return m_impl->printer.get();
}

bool SimulatedStation::tapProducedCard(const std::string& cardNumber) {
    auto store = m_impl->services.openStore();
    if (!store) {
        return false;
    }
    auto row = store->cardByNumber(cardNumber);
    if (!row || !*row) {
        return false;
    }
    std::shared_ptr<sim::VirtualDesfire> chip;
    {
        std::lock_guard lock(m_impl->mutex);
        auto it = m_impl->chips.find(lower((*row)->chipUid));
        if (it == m_impl->chips.end()) {
            return false;
        }
        chip = it->second;
    }
    m_impl->putOnDesk(chip);
    return true;
}

void SimulatedStation::tapStaffCard(const std::string& uidHex) {
    m_impl->putOnDesk(chipWithUid(uidHex));
}

void SimulatedStation::tapForeignCard() {
    m_impl->putOnDesk(std::make_shared<sim::VirtualDesfire>());
}

void SimulatedStation::removeCard() {
    m_impl->putOnDesk(nullptr);
}

std::vector<std::string> SimulatedStation::producedNumbers() const {
    std::vector<std::string> out;
    if (auto store = m_impl->services.openStore()) {
        if (auto rows = store->cards(CardState::Produced)) {
            for (const auto& c : *rows) {
                out.push_back(c.cardNumber);
            }
        }
    }
    return out;
}

bool TrainingDesk::tapWaitingCard() {
    const auto numbers = m_station.producedNumbers();
    return !numbers.empty() && m_station.tapProducedCard(numbers.front());
}

} // namespace unioncard::station::ui
