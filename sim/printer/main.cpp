// SPDX-License-Identifier: Apache-2.0
// unioncard-printer-sim: a simulated Evolis card printer on loopback TCP, speaking the Evolis
// command language byte for byte (sim/include/unioncard/sim/evolis_printer.hpp). When a card
// reaches the contactless station, a blank virtual DESFire with that card's serial as its UID
// goes onto the card lab's encoder reader (`unioncard-lab insert`), and comes off when the card
// moves on, so the station encodes it through the real PC/SC stack. Printed faces are written
// to --out as PNG, one per side, named by the card's serial, with a JSON sidecar.
//
// Bad cards, once each: --feeder-card IMAGE makes the first card taken from the feeder a copy of
// that card image (an already personalised card, say) instead of a factory blank; --pull-after-ms
// N takes the first card off the encoder reader N ms after it arrived there, as if pulled out.
//
// Operator actions: SIGUSR1 closes the cover (and clears a jam), SIGUSR2 loads the feeder with
// --cards blanks and puts in a new ribbon of --ribbon-panels panels. SIGTERM/SIGINT stop it.
// An injected power loss closes every connection, writes the printer's state to --state and
// exits with status 3; started again with the same --state, the printer still holds the card.
// Exit status: 0 stopped, 1 failed, 2 wrong usage, 3 power lost (injected).

#include <unioncard/base/program.hpp>
#include <unioncard/sim/evolis_printer.hpp>
#include <unioncard/sim/virtual_desfire.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <QImage>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
namespace ev = unioncard::sim::evolis;
using nlohmann::json;

extern char** environ;

namespace {

constexpr int kLineDots = 648; // guide A5013 p. 14
constexpr int kLines = 1016;

int runProgram(const fs::path& program, const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::vector<std::string> all{program.string()};
    all.insert(all.end(), args.begin(), args.end());
    for (auto& a : all) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    // The child starts with no signal blocked and default handlers: this program blocks SIGTERM
    // and SIGINT for its signal thread, and a card process that inherited that mask would
    // ignore the lab's SIGTERM until the lab gives up and kills it (10 s a card).
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, program.c_str(), nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::uint8_t> uidOf(const std::string& serial) {
    std::vector<std::uint8_t> uid;
    for (std::size_t i = 0; i + 1 < serial.size(); i += 2) {
        uid.push_back(static_cast<std::uint8_t>(std::stoul(serial.substr(i, 2), nullptr, 16)));
    }
    return uid;
}

// One side's panels as the card looks: white plastic, Y M C subtractive, K on top; the overlay
// is clear varnish and does not show. Dot d of line l is face pixel (l, 647 - d), the
// orientation Printer::EVOLIS uses (docs/printing.md).
QImage composeSide(const std::vector<const ev::PrintedPanel*>& panels) {
    QImage image(kLines, kLineDots, QImage::Format_RGB888);
    image.fill(Qt::white);
    for (const auto* panel : panels) {
        if (panel->panel == 'o') {
            continue;
        }
        const int bits = panel->levels == 2    ? 1
                         : panel->levels == 32 ? 5
                         : panel->levels == 64 ? 6
                                               : 7;
        const unsigned maxValue = (1U << bits) - 1;
        std::size_t bit = 0;
        for (int line = 0; line < kLines; ++line) {
            for (int dot = 0; dot < kLineDots; ++dot) {
                unsigned value = 0;
                for (int k = 0; k < bits; ++k, ++bit) {
                    const std::size_t byte = bit / 8;
                    const unsigned b =
                        byte < panel->data.size() ? (panel->data[byte] >> (7 - bit % 8)) & 1U : 0U;
                    value = (value << 1) | b;
                }
                if (value == 0) {
                    continue;
                }
                uchar* px = image.scanLine(kLineDots - 1 - dot) + 3 * line;
                if (panel->panel == 'k') {
                    px[0] = px[1] = px[2] = 0;
                    continue;
                }
                const int channel = panel->panel == 'c' ? 0 : panel->panel == 'm' ? 1 : 2;
                const unsigned keep = 255U - (value * 255U + maxValue / 2) / maxValue;
                px[channel] = static_cast<uchar>(std::min<unsigned>(px[channel], keep));
            }
        }
    }
    return image;
}

class LabEvents final : public ev::PrinterEvents {
public:
    LabEvents(fs::path out, std::string reader, fs::path lab, fs::path labDir)
        : m_out(std::move(out)), m_reader(std::move(reader)), m_lab(std::move(lab)),
          m_labDir(std::move(labDir)) {}

    /// The first card fed is a copy of this image instead of a blank.
    void setFeederCard(fs::path image) { m_feederCard = std::move(image); }
    /// The first card is pulled off the encoder reader this long after it arrived.
    void setPullAfter(std::chrono::milliseconds delay) { m_pullAfter = delay; }

    bool cardAtContactless(const std::string& serial, std::string& error) override {
        if (m_reader.empty()) {
            return true;
        }
        const fs::path image = m_out / "chips" / (serial + ".desfire");
        std::error_code ec;
        fs::create_directories(image.parent_path(), ec);
        if (!m_feederCard.empty()) {
            // Someone put a card that is not blank into the feeder: its chip, as it is.
            fs::copy_file(m_feederCard, image, fs::copy_options::overwrite_existing, ec);
            if (ec) {
                error = fmt::format("cannot copy {}: {}", m_feederCard.string(), ec.message());
                return false;
            }
            std::cerr << fmt::format("card {} is a copy of {} (--feeder-card)\n", serial,
                                     m_feederCard.string());
            m_feederCard.clear();
        } else {
            // A factory-blank DESFire whose UID is the card's serial.
            unioncard::sim::VirtualDesfire::Options options;
            std::array<std::uint8_t, 7> uid{};
            const auto bytes = uidOf(serial);
            std::copy(bytes.begin(), bytes.end(), uid.begin());
            options.uid = uid;
            unioncard::sim::VirtualDesfire card(options);
            if (!card.save(image)) {
                error = "cannot write " + image.string();
                return false;
            }
        }
        std::vector<std::string> args{"insert", m_reader, image.string()};
        if (!m_labDir.empty()) {
            args.insert(args.end(), {"--dir", m_labDir.string()});
        }
        std::lock_guard lock(m_readerMutex);
        if (runProgram(m_lab, args) != 0) {
            error = fmt::format("`{} insert` failed", m_lab.string());
            std::cerr << "unioncard-printer-sim: " << error << "\n";
            return false;
        }
        m_atReader = serial;
        if (m_pullAfter && m_pullAfter->count() == 0) {
            // Pulled at once: gone before the printer reports the card at the encoder, however
            // loaded the machine is (a thread would race the station's first command).
            m_pullAfter.reset();
            removeFromReader();
            std::cerr << fmt::format("card {} pulled off the encoder after 0 ms "
                                     "(--pull-after-ms)\n",
                                     serial);
        } else if (m_pullAfter) {
            const auto delay = *m_pullAfter;
            m_pullAfter.reset();
            m_puller = std::jthread([this, serial, delay] {
                std::this_thread::sleep_for(delay);
                std::lock_guard pullLock(m_readerMutex);
                if (m_atReader != serial) {
                    return; // it moved on before the hand got there
                }
                removeFromReader();
                std::cerr << fmt::format("card {} pulled off the encoder after {} ms "
                                         "(--pull-after-ms)\n",
                                         serial, delay.count());
            });
        }
        return true;
    }

    void cardLeftContactless(const std::string& serial) override {
        if (m_reader.empty()) {
            return;
        }
        std::lock_guard lock(m_readerMutex);
        if (m_atReader != serial) {
            return; // pulled off already
        }
        removeFromReader();
    }

    void cardLeft(const ev::CardOutcome& outcome) override {
        json sidecar{{"serial", outcome.serial},
                     {"outcome", outcome.where},
                     {"printed", outcome.printed},
                     {"panels", json::array()},
                     {"images", json::array()}};
        if (!outcome.reason.empty()) {
            sidecar["reason"] = outcome.reason;
        }
        for (char side : {'f', 'b'}) {
            std::vector<const ev::PrintedPanel*> panels;
            for (const auto& p : outcome.panels) {
                if (p.side == side) {
                    panels.push_back(&p);
                    sidecar["panels"].push_back({{"side", side == 'f' ? "front" : "back"},
                                                 {"panel", std::string(1, p.panel)},
                                                 {"levels", p.levels},
                                                 {"bytes", p.data.size()}});
                }
            }
            if (panels.empty()) {
                continue;
            }
            const std::string name =
                fmt::format("{}-{}.png", outcome.serial, side == 'f' ? "front" : "back");
            if (composeSide(panels).save(QString::fromStdString((m_out / name).string()), "PNG")) {
                sidecar["images"].push_back(name);
            } else {
                std::cerr << "unioncard-printer-sim: cannot write " << (m_out / name) << "\n";
            }
        }
        std::ofstream(m_out / (outcome.serial + ".json")) << sidecar.dump(2) << "\n";
        std::cerr << fmt::format("card {} {}{}\n", outcome.serial, outcome.where,
                                 outcome.reason.empty() ? "" : " (" + outcome.reason + ")");
    }

private:
    // With m_readerMutex held.
    void removeFromReader() {
        std::vector<std::string> args{"remove", m_reader};
        if (!m_labDir.empty()) {
            args.insert(args.end(), {"--dir", m_labDir.string()});
        }
        if (runProgram(m_lab, args) != 0) {
            std::cerr << "unioncard-printer-sim: `unioncard-lab remove` failed\n";
        }
        m_atReader.clear();
    }

    fs::path m_out;
    std::string m_reader;
    fs::path m_lab;
    fs::path m_labDir;
    fs::path m_feederCard;
    std::optional<std::chrono::milliseconds> m_pullAfter;
    std::mutex m_readerMutex; ///< the encoder reader: the printer's moves and the pulling hand
    std::string m_atReader;   ///< the serial of the card on the encoder reader, or empty
    std::jthread m_puller;    ///< last member: joined before the rest goes
};

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"A simulated Evolis card printer with a contactless encoder, on loopback TCP"};
    unioncard::base::conventions(app, "unioncard-printer-sim");
    std::string listen = "127.0.0.1:9100";
    std::string reader;
    fs::path out;
    ev::PrinterOptions options;
    std::string jamAt;
    std::string powerLossAt;
    int ribbonOutAfter = -1;
    fs::path lab = fs::read_symlink("/proc/self/exe").parent_path() / "unioncard-lab";
    fs::path labDir;
    fs::path state;
    fs::path feederCard;
    int pullAfterMs = -1;
    app.add_option("--listen", listen, "HOST:PORT to listen on (port 0 picks one)")
        ->capture_default_str();
    app.add_option("--encoder-reader", reader,
                   "the card lab reader that is this printer's encoder (none: no chip)");
    app.add_option("--out", out, "folder for printed faces (PNG) and their JSON sidecars")
        ->required();
    app.add_option("--cards", options.cards, "blank cards in the feeder")->capture_default_str();
    app.add_option("--ribbon", options.ribbon, "ribbon type (ymcko, ymckok, k)")
        ->capture_default_str();
    app.add_option("--ribbon-panels", options.ribbonPanels, "panels left on the ribbon")
        ->capture_default_str();
    app.add_option("--jam-at", jamAt, "the first card jams at: feed, contactless, print, eject");
    app.add_option("--ribbon-out-after", ribbonOutAfter, "the ribbon runs out after N cards");
    app.add_flag("--cover-open", options.coverOpen, "start with the cover open");
    app.add_option("--power-loss-at", powerLossAt,
                   "lose power at: feed, contactless, print, eject (once)");
    app.add_option("--feeder-card", feederCard,
                   "the first card taken from the feeder is a copy of this card image (not "
                   "blank)")
        ->check(CLI::ExistingFile);
    app.add_option("--pull-after-ms", pullAfterMs,
                   "the first card is pulled off the encoder reader N ms after it got there")
        ->check(CLI::Range(0, 60000));
    app.add_option("--cards-per-hour", options.cardsPerHour,
                   "realistic timing at this rate (0: as fast as possible)")
        ->capture_default_str();
    app.add_option("--serial", options.serial, "the printer's serial number")
        ->capture_default_str();
    app.add_option("--lab", lab, "the unioncard-lab program")->capture_default_str();
    app.add_option("--lab-dir", labDir, "the card lab's directory (default: the lab's own)");
    app.add_option("--state", state,
                   "where a power loss keeps the printer's state "
                   "(default OUT/printer-state.txt)");
    if (const auto exit = unioncard::base::parseCommandLine(app, argc, argv))
        return *exit;
    auto step = [](const std::string& name, std::optional<ev::Step>& into) {
        if (name.empty()) {
            return true;
        }
        into = ev::stepFromName(name);
        return into.has_value();
    };
    if (!step(jamAt, options.jamAt) || !step(powerLossAt, options.powerLossAt)) {
        std::cerr << "unioncard-printer-sim: a step is one of feed, contactless, print, eject\n";
        return 2;
    }
    if (ribbonOutAfter >= 0) {
        options.ribbonOutAfter = ribbonOutAfter;
    }
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        std::cerr << "unioncard-printer-sim: --listen is HOST:PORT\n";
        return 2;
    }
    const std::string host = listen.substr(0, colon);
    int port = 0;
    try {
        port = std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
        port = -1;
    }
    if (port < 0 || port > 65535) {
        std::cerr << "unioncard-printer-sim: the port must be 0 to 65535\n";
        return 2;
    }
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) {
        std::cerr << "unioncard-printer-sim: cannot create " << out << ": " << ec.message() << "\n";
        return 1;
    }
    if (state.empty()) {
        state = out / "printer-state.txt";
    }
    if (!reader.empty() && access(lab.c_str(), X_OK) != 0) {
        std::cerr << "unioncard-printer-sim: --encoder-reader needs the unioncard-lab program; "
                     "give it with --lab\n";
        return 2;
    }

    if ((!feederCard.empty() || pullAfterMs >= 0) && reader.empty()) {
        std::cerr << "unioncard-printer-sim: --feeder-card and --pull-after-ms need "
                     "--encoder-reader\n";
        return 2;
    }
    LabEvents events(out, reader, lab, labDir);
    if (!feederCard.empty()) {
        events.setFeederCard(fs::absolute(feederCard));
    }
    if (pullAfterMs >= 0) {
        events.setPullAfter(std::chrono::milliseconds(pullAfterMs));
    }
    ev::EvolisPrinterSim printer(options, events);
    if (fs::exists(state)) {
        std::ifstream in(state);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string error;
        if (!printer.loadState(text, error)) {
            std::cerr << "unioncard-printer-sim: " << state << ": " << error << "\n";
            return 1;
        }
        fs::remove(state, ec);
        std::cerr << "restarted after a power loss; state from " << state << "\n";
    }

    // Signals go to this thread only (sigtimedwait below), never into the server's.
    sigset_t handled;
    sigemptyset(&handled);
    for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) {
        sigaddset(&handled, s);
    }
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);

    ev::PrinterServer server(printer);
    std::string error;
    if (!server.start(host, static_cast<std::uint16_t>(port), error)) {
        std::cerr << "unioncard-printer-sim: " << error << "\n";
        return 1;
    }
    std::cerr << fmt::format("printer {} ({}), {} cards, ribbon {} with {} panels{}\n",
                             options.serial, options.model, options.cards, options.ribbon,
                             options.ribbonPanels,
                             reader.empty() ? "" : ", encoder on lab reader \"" + reader + "\"");
    std::cout << fmt::format("listening on tcp://{}:{}", host, server.port()) << std::endl;

    const timespec tick{0, 200 * 1000 * 1000};
    for (;;) {
        const int s = sigtimedwait(&handled, nullptr, &tick);
        if (printer.poweredOff()) {
            server.wait();
            std::ofstream(state) << printer.saveState();
            std::cerr << "power lost (injected); state kept in " << state << "\n";
            return 3;
        }
        if (s == SIGUSR1) {
            printer.closeCover();
            std::cerr << "operator: cover closed\n";
        } else if (s == SIGUSR2) {
            printer.loadCards(options.cards);
            printer.replaceRibbon(options.ribbonPanels);
            std::cerr << "operator: cards loaded, ribbon replaced\n";
        } else if (s == SIGTERM || s == SIGINT) {
            server.stop();
            return 0;
        }
    }
}
