// SPDX-License-Identifier: Apache-2.0
// unioncard-lab: the card lab. `up` starts a pcscd of its own with one vpcd reader per lab
// reader, `insert`/`remove` put a virtual card on a reader and take it off, `status` shows
// them, `down` stops everything; `pn532 IMAGE` puts a card on an emulated PN532 for libnfc
// (no pcscd needed). See sim/include/unioncard/sim/lab.hpp for why pcscd runs in a
// network namespace of its own. Exit codes: 0 done, 1 failed, 2 wrong usage.

#include <unioncard/base/program.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>
#include <unioncard/sim/card_image.hpp>
#include <unioncard/sim/lab.hpp>
#include <unioncard/sim/pn532.hpp>
#include <unioncard/sim/virtual_desfire.hpp>
#include <unioncard/sim/vpcd.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
namespace lab = unioncard::sim::lab;
namespace pcsc = unioncard::card::pcsc;
using Clock = std::chrono::steady_clock;

namespace {

int failWith(const std::string& message) {
    std::cerr << "unioncard-lab: " << message << "\n";
    return 1;
}

std::string tail(const fs::path& file, std::size_t lines = 15) {
    std::ifstream in(file);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) {
        all.push_back(line);
    }
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
        out += "  | " + all[i] + "\n";
    }
    return out;
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
    std::string out;
    for (auto b : bytes) {
        out += fmt::format("{}{:02X}", out.empty() ? "" : " ", b);
    }
    return out;
}

// pcscd's socket appears a moment after it starts; this is a bounded start-up wait, not a
// reader-watching loop (those use SCardGetStatusChange).
std::optional<pcsc::PcscContext> waitForService(Clock::time_point deadline, pid_t pcscd) {
    for (;;) {
        if (auto context = pcsc::PcscContext::establish()) {
            return std::move(context).value();
        }
        if (Clock::now() > deadline || !lab::processAlive(pcscd)) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// Waits through the watcher until `done(readers)` holds or the deadline passes.
template <class Done>
bool waitUntil(pcsc::ReaderWatcher& watcher, Clock::time_point deadline, Done done) {
    while (!done(watcher.readers())) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return false;
        }
        auto events = watcher.wait(left);
        if (!events) {
            return false;
        }
    }
    return true;
}

bool cardPresent(const std::vector<pcsc::ReaderStatus>& readers, const std::string& name) {
    for (const auto& r : readers) {
        if (r.reader == name) {
            return r.cardPresent;
        }
    }
    return false;
}

struct Lab {
    lab::LabDir dir;
    std::vector<lab::Reader> readers;
    pid_t pcscd;
};

std::optional<Lab> openLab(const fs::path& dirPath, std::string& error) {
    lab::LabDir dir(dirPath);
    auto pid = lab::livePid(dir.pcscdPidFile(), "pcscd");
    if (!pid) {
        error =
            fmt::format("the lab in {} is not up; run `unioncard-lab up` first", dirPath.string());
        return std::nullopt;
    }
    auto readers = dir.readReaders();
    if (!readers) {
        error = "cannot read " + dir.readerList().string();
        return std::nullopt;
    }
    return Lab{dir, *readers, *pid};
}

std::optional<std::size_t> findReader(const Lab& l, const std::string& name) {
    for (std::size_t i = 0; i < l.readers.size(); ++i) {
        if (l.readers[i].name == name || l.readers[i].pcscName() == name) {
            return i;
        }
    }
    return std::nullopt;
}

std::string readerNames(const Lab& l) {
    std::string out;
    for (const auto& r : l.readers) {
        out += (out.empty() ? "\"" : ", \"") + r.name + "\"";
    }
    return out;
}

// The running lab and the index of its reader called `readerName`, or why not in `error`.
std::optional<std::pair<Lab, std::size_t>>
openReader(const fs::path& dirPath, const std::string& readerName, std::string& error) {
    auto l = openLab(dirPath, error);
    if (!l) {
        return std::nullopt;
    }
    auto index = findReader(*l, readerName);
    if (!index) {
        error =
            fmt::format("no lab reader \"{}\"; the readers are {}", readerName, readerNames(*l));
        return std::nullopt;
    }
    return std::make_pair(std::move(*l), *index);
}

// ------------------------------------------------------------------------------------- up

int up(const fs::path& dirPath, const std::vector<std::string>& names, const fs::path& driver,
       int timeoutSeconds) {
    lab::LabDir dir(dirPath);
    if (auto pid = lab::runningPcscd()) {
        const bool ours = lab::livePid(dir.pcscdPidFile(), "pcscd") == pid;
        return failWith(fmt::format(
            "pcscd is already running ({}{}). pcscd 1.9.9 has one fixed socket, {}, so only one "
            "can run on this machine. {}",
            *pid > 0 ? fmt::format("pid {}", *pid) : std::string("its socket answers"),
            ours ? ", started by this lab" : "", lab::kPcscdSocket,
            ours ? "Run `unioncard-lab down` first."
                 : "Stop it first (e.g. `kill` it, or `unioncard-lab down --dir DIR` if another "
                   "lab started it), then run `up` again."));
    }
    std::string error;
    auto readers = lab::assignReaders(names, error);
    if (!readers) {
        return failWith(error);
    }
    std::error_code ec;
    fs::create_directories(dirPath / "drivers", ec);
    fs::create_directories(dirPath / "cards", ec);
    if (ec) {
        return failWith(fmt::format("cannot create {}: {}", dirPath.string(), ec.message()));
    }
    std::vector<fs::path> drivers;
    for (std::size_t i = 0; i < readers->size(); ++i) {
        drivers.push_back(dir.driver(i));
        fs::copy_file(driver, drivers.back(), fs::copy_options::overwrite_existing, ec);
        if (ec) {
            return failWith(fmt::format("cannot copy the vpcd driver {} to {}: {} (is "
                                        "vsmartcard-vpcd installed?)",
                                        driver.string(), drivers.back().string(), ec.message()));
        }
    }
    {
        std::ofstream conf(dir.readerConf(), std::ios::trunc);
        conf << lab::readerConf(*readers, drivers);
        if (!conf.flush()) {
            return failWith("cannot write " + dir.readerConf().string());
        }
    }
    if (!dir.writeReaders(*readers, error)) {
        return failWith(error);
    }
    fs::remove(dir.pcscdLog(), ec);
    auto pid = lab::startPcscd(dir.readerConf(), dir.pcscdLog(), error);
    if (!pid) {
        return failWith(error);
    }
    lab::writePidFile(dir.pcscdPidFile(), *pid);

    const auto deadline = Clock::now() + std::chrono::seconds(timeoutSeconds);
    auto context = waitForService(deadline, *pid);
    if (!context) {
        lab::stopProcess(*pid, 2000);
        return failWith(fmt::format("pcscd did not start; its log {}:\n{}", dir.pcscdLog().string(),
                                    tail(dir.pcscdLog())));
    }
    auto watcher = pcsc::ReaderWatcher::create();
    if (!watcher) {
        return failWith(watcher.error().message);
    }
    const bool all = waitUntil(**watcher, deadline, [&](const auto& seen) {
        for (const auto& r : *readers) {
            bool found = false;
            for (const auto& s : seen) {
                found = found || s.reader == r.pcscName();
            }
            if (!found) {
                return false;
            }
        }
        return true;
    });
    if (!all) {
        lab::stopProcess(*pid, 2000);
        return failWith(fmt::format("pcscd did not show all the readers within {} s; its log:\n{}",
                                    timeoutSeconds, tail(dir.pcscdLog())));
    }
    std::cout << fmt::format("lab up in {}: pcscd pid {}, readers:\n", dirPath.string(), *pid);
    for (const auto& r : *readers) {
        std::cout << fmt::format("  {}  (PC/SC \"{}\", vpcd port {})\n", r.name, r.pcscName(),
                                 r.port);
    }
    return 0;
}

// --------------------------------------------------------------------------------- insert

int insert(const fs::path& dirPath, const std::string& readerName, const fs::path& image,
           bool quickAck, int timeoutSeconds) {
    std::string error;
    auto opened = openReader(dirPath, readerName, error);
    if (!opened) {
        return failWith(error);
    }
    Lab& l = opened->first;
    const std::size_t index = opened->second;
    const auto& reader = l.readers[index];
    if (auto pid = lab::livePid(l.dir.cardPidFile(index), "unioncard-lab")) {
        return failWith(fmt::format("there is already a card on \"{}\" (pid {}); remove it first",
                                    reader.name, *pid));
    }
    auto watcher = pcsc::ReaderWatcher::create();
    if (!watcher) {
        return failWith(watcher.error().message);
    }
    std::vector<std::string> args{"serve-card",
                                  "--port",
                                  std::to_string(reader.port),
                                  "--image",
                                  fs::absolute(image).string(),
                                  "--netns-pid",
                                  std::to_string(l.pcscd),
                                  "--pidfile",
                                  l.dir.cardPidFile(index).string()};
    if (!quickAck) {
        args.push_back("--no-quickack");
    }
    std::ofstream(l.dir.cardImageFile(index), std::ios::trunc) << fs::absolute(image).string();
    auto pid =
        lab::spawnDetached(fs::read_symlink("/proc/self/exe"), args, l.dir.cardLog(index), error);
    if (!pid) {
        return failWith(error);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(timeoutSeconds);
    const std::string pcscName = reader.pcscName();
    if (!waitUntil(**watcher, deadline,
                   [&](const auto& seen) { return cardPresent(seen, pcscName); })) {
        lab::stopProcess(*pid, 2000);
        return failWith(fmt::format("the card did not appear on \"{}\" within {} s; its log:\n{}",
                                    pcscName, timeoutSeconds, tail(l.dir.cardLog(index))));
    }
    std::cout << fmt::format("card {} on \"{}\" (pid {})\n", image.string(), pcscName, *pid);
    return 0;
}

// --------------------------------------------------------------------------------- remove

int removeCard(const Lab& l, std::size_t index, int timeoutSeconds, bool quiet) {
    const auto& reader = l.readers[index];
    auto pid = lab::livePid(l.dir.cardPidFile(index), "unioncard-lab");
    if (!pid) {
        if (!quiet) {
            std::cout << fmt::format("no card on \"{}\"\n", reader.name);
        }
        return 0;
    }
    auto watcher = pcsc::ReaderWatcher::create();
    if (!lab::stopProcess(*pid, timeoutSeconds * 1000)) {
        return failWith(fmt::format("the card process {} did not stop", *pid));
    }
    std::error_code ec;
    fs::remove(l.dir.cardPidFile(index), ec);
    if (watcher) {
        const auto deadline = Clock::now() + std::chrono::seconds(timeoutSeconds);
        const std::string pcscName = reader.pcscName();
        if (!waitUntil(**watcher, deadline,
                       [&](const auto& seen) { return !cardPresent(seen, pcscName); })) {
            return failWith(fmt::format("pcscd still shows a card on \"{}\"", pcscName));
        }
    }
    std::cout << fmt::format("card taken off \"{}\"\n", reader.pcscName());
    return 0;
}

int takeOff(const fs::path& dirPath, const std::string& readerName, int timeoutSeconds) {
    std::string error;
    auto opened = openReader(dirPath, readerName, error);
    if (!opened) {
        return failWith(error);
    }
    Lab& l = opened->first;
    const std::size_t index = opened->second;
    return removeCard(l, index, timeoutSeconds, false);
}

// --------------------------------------------------------------------------------- status

int showStatus(const fs::path& dirPath) {
    std::string error;
    auto l = openLab(dirPath, error);
    if (!l) {
        std::cout << "lab: down (" << error << ")\n";
        if (auto other = lab::runningPcscd()) {
            std::cout << fmt::format("another pcscd is running ({})\n",
                                     *other > 0 ? fmt::format("pid {}", *other) : "socket");
        }
        return 1;
    }
    std::cout << fmt::format("lab: up in {}, pcscd pid {}\n", dirPath.string(), l->pcscd);
    std::vector<pcsc::ReaderStatus> seen;
    if (auto watcher = pcsc::ReaderWatcher::create()) {
        seen = (*watcher)->readers();
    } else {
        std::cout << "pcscd: " << watcher.error().message << "\n";
    }
    for (std::size_t i = 0; i < l->readers.size(); ++i) {
        const auto& r = l->readers[i];
        std::string card = "no card";
        if (auto pid = lab::livePid(l->dir.cardPidFile(i), "unioncard-lab")) {
            std::ifstream imageName(l->dir.cardImageFile(i));
            std::string image;
            std::getline(imageName, image);
            card = fmt::format("card {} (pid {})", image, *pid);
        }
        std::string pcscView = "pcscd does not list it";
        for (const auto& s : seen) {
            if (s.reader == r.pcscName()) {
                pcscView =
                    s.cardPresent ? "pcscd sees a card, ATR " + hex(s.atr) : "pcscd sees no card";
            }
        }
        std::cout << fmt::format("  {} (PC/SC \"{}\", port {}): {}; {}\n", r.name, r.pcscName(),
                                 r.port, card, pcscView);
    }
    return 0;
}

// ----------------------------------------------------------------------------------- down

int down(const fs::path& dirPath) {
    std::string error;
    auto l = openLab(dirPath, error);
    if (!l) {
        std::cout << "lab already down\n";
        return 0;
    }
    int result = 0;
    for (std::size_t i = 0; i < l->readers.size(); ++i) {
        if (removeCard(*l, i, 5, true) != 0) {
            result = 1;
        }
    }
    if (!lab::stopProcess(l->pcscd, 5000)) {
        return failWith(fmt::format("pcscd (pid {}) did not stop", l->pcscd));
    }
    std::error_code ec;
    fs::remove(l->dir.pcscdPidFile(), ec);
    std::cout << "lab down\n";
    return result;
}

// ----------------------------------------------------------------------------- serve-card

unioncard::sim::vpcd::Bridge* g_bridge = nullptr;

extern "C" void onTerminate(int) {
    if (g_bridge != nullptr) {
        g_bridge->stop();
    }
}

int newCard(const fs::path& image, const std::string& generation) {
    if (fs::exists(image)) {
        return failWith(image.string() + " exists: a new card never overwrites another");
    }
    unioncard::sim::VirtualDesfire::Options options;
    options.generation = generation == "ev1"   ? unioncard::sim::DesfireGeneration::Ev1
                         : generation == "ev3" ? unioncard::sim::DesfireGeneration::Ev3
                                               : unioncard::sim::DesfireGeneration::Ev2;
    const unioncard::sim::VirtualDesfire card(options);
    std::string error;
    if (!card.save(image, &error)) {
        return failWith("cannot write " + image.string() + ": " + error);
    }
    std::cout << fmt::format("blank DESFire {} card {}, UID {}\n", generation, image.string(),
                             hex(card.uid()));
    return 0;
}

int serveCard(std::uint16_t port, const fs::path& image, int netnsPid, const fs::path& pidFile,
              bool quickAck) {
    auto card = unioncard::sim::loadOrCreateCard(image);
    if (!card) {
        return failWith(image.string() + " is not a card image");
    }
    unioncard::sim::vpcd::Bridge bridge(*card, {quickAck});
    g_bridge = &bridge;
    struct sigaction action {};
    action.sa_handler = onTerminate;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);

    std::string error;
    if (netnsPid > 0 && !lab::enterNetworkNamespaceOf(netnsPid, error)) {
        return failWith(error);
    }
    const int socket = unioncard::sim::vpcd::connectTcp("127.0.0.1", port, error);
    if (socket < 0) {
        return failWith(fmt::format("cannot reach vpcd on 127.0.0.1:{}: {}", port, error));
    }
    if (!pidFile.empty()) {
        lab::writePidFile(pidFile, getpid());
    }
    std::cerr << fmt::format("serving {} to vpcd port {} (TCP_QUICKACK {})\n", image.string(), port,
                             quickAck ? "on" : "off");
    const auto end = bridge.serve(socket);
    close(socket);
    g_bridge = nullptr;
    const bool saved = unioncard::sim::saveCard(*card, image);
    std::cerr << fmt::format("{} after {} messages; image {}\n",
                             end == unioncard::sim::vpcd::Bridge::End::Stopped ? "stopped"
                             : end == unioncard::sim::vpcd::Bridge::End::PeerClosed
                                 ? "vpcd closed"
                                 : bridge.error(),
                             bridge.messages(), saved ? "saved" : "NOT SAVED");
    if (!pidFile.empty() && lab::livePid(pidFile, "") == getpid()) {
        std::error_code ec;
        fs::remove(pidFile, ec);
    }
    return saved && end != unioncard::sim::vpcd::Bridge::End::Error ? 0 : 1;
}

// ---------------------------------------------------------------------------------- pn532

unioncard::sim::pn532::Emulator* g_pn532 = nullptr;

extern "C" void onTerminatePn532(int) {
    if (g_pn532 != nullptr) {
        g_pn532->stop();
    }
}

// A PN532 on a pseudo-terminal with the card in its field: libnfc's pn532_uart driver opens it
// like a serial port. No pcscd, no root. Prints the connection string, serves until SIGTERM,
// SIGINT or the end of stdin (when stdin is a pipe or a terminal: a caller that holds the
// pipe's other end stops the card by closing it, even when it dies), and saves the image.
int servePn532(const fs::path& image, bool trace) {
    auto card = unioncard::sim::loadOrCreateCard(image);
    if (!card) {
        return failWith(image.string() + " is not a card image");
    }
    unioncard::sim::pn532::Emulator emulator(*card);
    std::string error;
    if (!emulator.open(error)) {
        return failWith("cannot open a pseudo-terminal: " + error);
    }
    if (trace) {
        emulator.chip().setTrace([](const std::string& line) { std::cerr << line << "\n"; });
    }
    g_pn532 = &emulator;
    struct sigaction action {};
    action.sa_handler = onTerminatePn532;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);

    struct stat in {};
    const bool watchStdin =
        fstat(STDIN_FILENO, &in) == 0 && (S_ISFIFO(in.st_mode) || isatty(STDIN_FILENO) != 0);
    std::thread stdinWatch;
    if (watchStdin) {
        stdinWatch = std::thread([&emulator] {
            char buffer[256];
            while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
            }
            emulator.stop();
        });
    }
    std::cerr << fmt::format("PN532 on {} with card {}, UID {}{}\n", emulator.devicePath(),
                             image.string(), hex(card->uid()),
                             watchStdin ? " (until stdin closes or a signal)" : "");
    // Last, after the log line: a caller that has read the connection string finds the log
    // complete.
    std::cout << emulator.connstring() << std::endl; // one line, flushed: callers wait for it
    const auto end = emulator.serve();
    g_pn532 = nullptr;
    if (stdinWatch.joinable()) {
        stdinWatch.detach(); // blocked in read(); the process is about to end
    }
    const bool saved = unioncard::sim::saveCard(*card, image);
    std::cerr << fmt::format(
        "{} after {} bytes from the host; image {}\n",
        end == unioncard::sim::pn532::Emulator::End::Stopped ? "stopped" : emulator.error(),
        emulator.bytesIn(), saved ? "saved" : "NOT SAVED");
    return saved && end == unioncard::sim::pn532::Emulator::End::Stopped ? 0 : 1;
}

std::vector<std::string> splitNames(const std::string& text) {
    std::vector<std::string> names;
    std::stringstream in(text);
    for (std::string name; std::getline(in, name, ',');) {
        names.push_back(name);
    }
    return names;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"The union card lab: virtual readers (pcscd + vpcd) and virtual cards"};
    unioncard::base::conventions(app, "unioncard-lab");
    app.require_subcommand(1);
    fs::path dir = lab::LabDir::defaultPath();
    auto addDir = [&dir](CLI::App* command) {
        command->add_option("--dir", dir,
                            "lab directory (default $UNIONCARD_LAB_DIR or "
                            "/run/unioncard-lab)");
    };
    int timeout = 10;

    auto* upCommand = app.add_subcommand("up", "start pcscd with the lab's virtual readers");
    std::string readers;
    for (const auto& name : lab::defaultReaderNames()) {
        readers += (readers.empty() ? "" : ",") + name;
    }
    fs::path driver = lab::kVpcdDriver;
    upCommand->add_option("--readers", readers, "reader names, comma-separated")
        ->capture_default_str();
    upCommand->add_option("--driver", driver, "the vpcd driver to copy")->capture_default_str();
    upCommand->add_option("--timeout", timeout, "seconds to wait for the readers")
        ->capture_default_str();
    addDir(upCommand);

    auto* downCommand = app.add_subcommand("down", "take the cards off and stop pcscd");
    addDir(downCommand);

    auto* insertCommand = app.add_subcommand("insert", "put a card on a reader");
    std::string reader;
    fs::path image;
    bool noQuickAck = false;
    insertCommand->add_option("reader", reader, "lab reader name")->required();
    insertCommand->add_option("image", image, "card image file (a blank card if missing)")
        ->required();
    insertCommand->add_flag("--no-quickack", noQuickAck,
                            "do not set TCP_QUICKACK (to measure its effect)");
    insertCommand->add_option("--timeout", timeout, "seconds to wait for pcscd to see the card")
        ->capture_default_str();
    addDir(insertCommand);

    auto* newCardCommand =
        app.add_subcommand("new-card", "write a factory-blank card image (to insert later)");
    std::string generation = "ev2";
    newCardCommand->add_option("image", image, "the card image file to write")->required();
    newCardCommand
        ->add_option("--generation", generation,
                     "the chip it answers as: ev1, ev2 or ev3 (its GetVersion and commands)")
        ->check(CLI::IsMember({"ev1", "ev2", "ev3"}))
        ->capture_default_str();

    auto* removeCommand = app.add_subcommand("remove", "take the card off a reader");
    removeCommand->add_option("reader", reader, "lab reader name")->required();
    addDir(removeCommand);

    auto* statusCommand = app.add_subcommand("status", "show readers and cards");
    addDir(statusCommand);

    // Internal: the process behind `insert`.
    auto* serveCommand = app.add_subcommand("serve-card", "")->group("");
    int port = 0;
    int netnsPid = 0;
    fs::path pidFile;
    serveCommand->add_option("--port", port)->required()->check(CLI::Range(1, 65535));
    serveCommand->add_option("--image", image)->required();
    serveCommand->add_option("--netns-pid", netnsPid);
    serveCommand->add_option("--pidfile", pidFile);
    serveCommand->add_flag("--no-quickack", noQuickAck);

    auto* pn532Command = app.add_subcommand(
        "pn532", "a PN532 reader for libnfc on a pseudo-terminal, with this card in its field; "
                 "prints libnfc's connection string");
    bool trace = false;
    pn532Command->add_option("image", image, "card image file (a blank card if missing)")
        ->required();
    pn532Command->add_flag("--trace", trace, "print every PN532 command and answer on stderr");

    if (const auto exit = unioncard::base::parseCommandLine(app, argc, argv))
        return *exit;

    if (upCommand->parsed()) {
        return up(dir, splitNames(readers), driver, timeout);
    }
    if (downCommand->parsed()) {
        return down(dir);
    }
    if (insertCommand->parsed()) {
        return insert(dir, reader, image, !noQuickAck, timeout);
    }
    if (newCardCommand->parsed()) {
        return newCard(image, generation);
    }
    if (removeCommand->parsed()) {
        return takeOff(dir, reader, timeout);
    }
    if (statusCommand->parsed()) {
        return showStatus(dir);
    }
    if (pn532Command->parsed()) {
        return servePn532(image, trace);
    }
    if (serveCommand->parsed()) {
        return serveCard(static_cast<std::uint16_t>(port), image, netnsPid, pidFile, !noQuickAck);
    }
    return 2;
}
