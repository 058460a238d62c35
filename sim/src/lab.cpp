// SPDX-License-Identifier: Apache-2.0
#include <unioncard/sim/lab.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <set>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace unioncard::sim::lab {

namespace fs = std::filesystem;

namespace {

std::string errnoText(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

// In a forked child before exec: only async-signal-safe calls. Points stdin at /dev/null and
// stdout/stderr at `log`, and closes every other descriptor, so that the daemon does not hold
// the caller's pipes open (ctest waits for a test's output pipes to close).
void redirectAndCloseAll(const char* log, int keep = -1) {
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) {
        dup2(in, STDIN_FILENO);
    }
    if (out >= 0) {
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
    }
    if (keep > 3) {
        close_range(3, static_cast<unsigned>(keep) - 1, 0);
        close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
    } else {
        close_range(3, ~0U, 0);
    }
}

// Brings up "lo" in a fresh network namespace (it starts down). ioctl(SIOCSIFFLAGS), netdevice(7).
bool loopbackUp() {
    const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return false;
    }
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = ioctl(s, SIOCGIFFLAGS, &request) == 0;
    if (ok) {
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
        ok = ioctl(s, SIOCSIFFLAGS, &request) == 0;
    }
    close(s);
    return ok;
}

std::string readFirstLine(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    // pcscd writes its pid file with a trailing NUL.
    while (!line.empty() && (line.back() == '\0' || line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    return line;
}

} // namespace

std::vector<std::string> defaultReaderNames() {
    return {"Station desk", "Printer encoder", "Verifier"};
}

fs::path LabDir::defaultPath() {
    if (const char* dir = std::getenv("UNIONCARD_LAB_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    return "/run/unioncard-lab";
}

fs::path LabDir::driver(std::size_t index) const {
    return m_dir / "drivers" / ("libifdvpcd-" + std::to_string(index) + ".so");
}
fs::path LabDir::cardPidFile(std::size_t index) const {
    return m_dir / "cards" / (std::to_string(index) + ".pid");
}
fs::path LabDir::cardImageFile(std::size_t index) const {
    return m_dir / "cards" / (std::to_string(index) + ".image");
}
fs::path LabDir::cardLog(std::size_t index) const {
    return m_dir / "cards" / (std::to_string(index) + ".log");
}

bool LabDir::writeReaders(const std::vector<Reader>& readers, std::string& error) const {
    std::ofstream out(readerList(), std::ios::trunc);
    for (const auto& r : readers) {
        out << r.port << '\t' << r.name << '\n';
    }
    if (!out.flush()) {
        error = "cannot write " + readerList().string();
        return false;
    }
    return true;
}

std::optional<std::vector<Reader>> LabDir::readReaders() const {
    std::ifstream in(readerList());
    if (!in) {
        return std::nullopt;
    }
    std::vector<Reader> readers;
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos) {
            return std::nullopt;
        }
        const int port = std::atoi(line.substr(0, tab).c_str());
        if (port <= 0 || port > 65535) {
            return std::nullopt;
        }
        readers.push_back({line.substr(tab + 1), static_cast<std::uint16_t>(port)});
    }
    return readers;
}

std::optional<std::vector<Reader>> assignReaders(const std::vector<std::string>& names,
                                                 std::string& error) {
    std::set<std::string> seen;
    std::vector<Reader> readers;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto& name = names[i];
        if (name.empty() || name.find_first_of("\"\n\r\t") != std::string::npos) {
            error = "a reader name must not be empty nor hold quotes, tabs or line breaks: \"" +
                    name + "\"";
            return std::nullopt;
        }
        if (name.size() > 100) { // pcsc-lite truncates beyond MAX_READERNAME (128) - " 00 00"
            error = "reader name too long (at most 100 characters): " + name;
            return std::nullopt;
        }
        if (!seen.insert(name).second) {
            error = "reader named twice: " + name;
            return std::nullopt;
        }
        // pcsc-lite serves at most PCSCLITE_MAX_READERS_CONTEXTS (16) slots; vpcd has two each.
        if (i >= 8) {
            error = "at most 8 lab readers (pcscd's 16 slots, two per vpcd reader)";
            return std::nullopt;
        }
        readers.push_back({name, static_cast<std::uint16_t>(kBasePort + 2 * i)});
    }
    if (readers.empty()) {
        error = "no readers named";
        return std::nullopt;
    }
    return readers;
}

std::string readerConf(const std::vector<Reader>& readers,
                       const std::vector<fs::path>& driverPaths) {
    std::ostringstream out;
    out << "# Written by unioncard-lab up. One vpcd reader per lab reader, each with its own\n"
           "# copy of the driver (pcscd shares one driver instance per LIBPATH).\n"
           "# DEVICENAME /dev/null:PORT: vpcd listens on PORT; pcscd runs in a network\n"
           "# namespace with only loopback, so that is loopback only.\n";
    for (std::size_t i = 0; i < readers.size(); ++i) {
        out << "\nFRIENDLYNAME \"" << readers[i].name << "\"\n"
            << "DEVICENAME   /dev/null:" << readers[i].port << "\n"
            << "LIBPATH      " << driverPaths.at(i).string() << "\n";
    }
    return out.str();
}

bool processAlive(pid_t pid) {
    if (pid <= 0) {
        return false;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) {
        return false;
    }
    // proc(5): "pid (comm) state ..."; comm may contain spaces and parentheses.
    const auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z' &&
           text[close + 2] != 'X';
}

std::optional<pid_t> livePid(const fs::path& pidFile, const std::string& comm) {
    const std::string text = readFirstLine(pidFile);
    if (text.empty()) {
        return std::nullopt;
    }
    const long pid = std::strtol(text.c_str(), nullptr, 10);
    if (pid <= 0 || !processAlive(static_cast<pid_t>(pid))) {
        return std::nullopt;
    }
    // A pid file outliving its process must not make us signal whoever got the pid next.
    if (!comm.empty() &&
        readFirstLine("/proc/" + std::to_string(pid) + "/comm") != comm.substr(0, 15)) {
        return std::nullopt;
    }
    return static_cast<pid_t>(pid);
}

std::optional<pid_t> runningPcscd() {
    if (auto pid = livePid(kPcscdPidFile, "pcscd")) {
        return pid;
    }
    // No live pid file: maybe a pcscd started some other way; does its socket answer?
    const int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return std::nullopt;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, kPcscdSocket, sizeof address.sun_path - 1);
    const bool answers = connect(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(s);
    return answers ? std::optional<pid_t>(0) : std::nullopt;
}

std::optional<pid_t> startPcscd(const fs::path& conf, const fs::path& log, std::string& error) {
    const std::string confText = conf.string();
    const std::string logText = log.string();
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        error = errnoText("pipe");
        return std::nullopt;
    }
    const pid_t pid = fork();
    if (pid < 0) {
        error = errnoText("fork");
        return std::nullopt;
    }
    if (pid == 0) {
        // Child: new session, new network namespace, loopback up, then exec pcscd. A failure
        // before exec is reported through the pipe as an errno value and a step number.
        int failure[2] = {0, 0};
        setsid();
        if (unshare(CLONE_NEWNET) != 0) {
            failure[0] = errno;
            failure[1] = 1;
        } else if (!loopbackUp()) {
            failure[0] = errno;
            failure[1] = 2;
        }
        if (failure[1] == 0) {
            // The report pipe is close-on-exec: a successful exec shows as end of file.
            redirectAndCloseAll(logText.c_str(), report[1]);
            execlp("pcscd", "pcscd", "--foreground", "--config", confText.c_str(),
                   static_cast<char*>(nullptr));
            failure[0] = errno;
            failure[1] = 3;
        }
        (void)!write(report[1], failure, sizeof failure);
        _exit(126);
    }
    close(report[1]);
    int failure[2] = {0, 0};
    const ssize_t n = read(report[0], failure, sizeof failure);
    close(report[0]);
    if (n == static_cast<ssize_t>(sizeof failure)) {
        waitpid(pid, nullptr, 0);
        errno = failure[0];
        error = errnoText(failure[1] == 1   ? "cannot create a network namespace for pcscd (needs "
                                              "root or CAP_SYS_ADMIN; without it vpcd would "
                                              "listen on every interface)"
                          : failure[1] == 2 ? "cannot bring up loopback in pcscd's network "
                                              "namespace"
                                            : "cannot run pcscd");
        return std::nullopt;
    }
    return pid;
}

std::optional<pid_t> spawnDetached(const fs::path& program, const std::vector<std::string>& args,
                                   const fs::path& log, std::string& error) {
    std::vector<std::string> all{program.string()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const std::string logText = log.string();
    const pid_t pid = fork();
    if (pid < 0) {
        error = errnoText("fork");
        return std::nullopt;
    }
    if (pid == 0) {
        setsid();
        redirectAndCloseAll(logText.c_str());
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

bool enterNetworkNamespaceOf(pid_t pid, std::string& error) {
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = errnoText("open " + path);
        return false;
    }
    const bool ok = setns(fd, CLONE_NEWNET) == 0;
    if (!ok) {
        error = errnoText("setns " + path);
    }
    close(fd);
    return ok;
}

bool stopProcess(pid_t pid, int timeoutMs) {
    if (!processAlive(pid)) {
        return true;
    }
    // pidfd_open(2), Linux 5.3: the descriptor becomes readable when the process exits, so we
    // can wait for a process that is not our child without polling.
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    kill(pid, SIGTERM);
    bool gone = false;
    if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        gone = poll(&p, 1, timeoutMs) == 1;
        if (!gone) {
            kill(pid, SIGKILL);
            gone = poll(&p, 1, 2000) == 1;
        }
        close(pidfd);
    }
    waitpid(pid, nullptr, WNOHANG); // reap it if it was our child
    return gone || !processAlive(pid);
}

bool writePidFile(const fs::path& file, pid_t pid) {
    std::ofstream out(file, std::ios::trunc);
    out << pid << '\n';
    return static_cast<bool>(out.flush());
}

} // namespace unioncard::sim::lab
