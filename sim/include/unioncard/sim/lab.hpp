// SPDX-License-Identifier: Apache-2.0
#pragma once

// The card lab's pieces: a pcscd of our own with one vpcd reader per lab reader, and the
// processes that keep a virtual card on a reader. Used by the unioncard-lab program; kept here
// so that they are testable without it.
//
// Keeping vpcd on loopback. Debian 12's vpcd (vsmartcard 0.8) has two modes, chosen by the
// reader.conf DEVICENAME:
//   "/dev/null:PORT"  vpcd is the TCP server and binds INADDR_ANY (every interface; no option
//                     to bind one address), the card connects to it;
//   "HOST:PORT"       vpcd is the client and connects to a card listening at HOST:PORT, but
//                     only once, when pcscd starts: its reconnect is broken until vsmartcard
//                     commit 76543ea (June 2022), so a card could never be put back.
// The lab therefore uses server mode inside a network namespace of its own that has only a
// loopback interface: pcscd runs in it, so vpcd's "any interface" is 127.0.0.1 of that
// namespace and nothing outside the machine (or even outside the namespace) can reach it. The
// card processes join that namespace (setns) to connect. Clients still reach pcscd through its
// Unix socket /run/pcscd/pcscd.comm, which a network namespace does not hide. This needs
// CAP_SYS_ADMIN (root); without it `up` refuses rather than listen on every interface.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace unioncard::sim::lab {

/// pcscd 1.9.9's fixed socket and pid file (PCSCLITE_CSOCK_NAME, PCSCLITE_RUN_PID): the daemon
/// has no option to move them, so one pcscd per machine.
inline constexpr const char* kPcscdSocket = "/run/pcscd/pcscd.comm";
inline constexpr const char* kPcscdPidFile = "/run/pcscd/pcscd.pid";
/// Debian's vpcd driver.
inline constexpr const char* kVpcdDriver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
/// vpcd's default port (0x8C7B); lab reader i uses kBasePort + 2i, because each vpcd reader has
/// two slots, on PORT and PORT+1.
inline constexpr std::uint16_t kBasePort = 35963;

struct Reader {
    std::string name;   ///< the lab's name, e.g. "Verifier"
    std::uint16_t port; ///< vpcd's port for slot 0
    /// The name pcscd gives slot 0: FRIENDLYNAME, reader number 00, slot 00 (pcsc-lite
    /// readerfactory.c RFSetReaderName). Slot 1 ("... 00 01") exists too and stays empty.
    std::string pcscName() const { return name + " 00 00"; }
};

std::vector<std::string> defaultReaderNames();

/// The lab's files: DIR/readers (the reader list), DIR/reader.conf, DIR/drivers/vpcd-N.so,
/// DIR/pcscd.pid, DIR/pcscd.log, DIR/cards/N.pid|.image|.log.
class LabDir {
public:
    explicit LabDir(std::filesystem::path dir) : m_dir(std::move(dir)) {}
    /// $UNIONCARD_LAB_DIR, else /run/unioncard-lab.
    static std::filesystem::path defaultPath();

    const std::filesystem::path& path() const { return m_dir; }
    std::filesystem::path readerList() const { return m_dir / "readers"; }
    std::filesystem::path readerConf() const { return m_dir / "reader.conf"; }
    std::filesystem::path driver(std::size_t index) const;
    std::filesystem::path pcscdPidFile() const { return m_dir / "pcscd.pid"; }
    std::filesystem::path pcscdLog() const { return m_dir / "pcscd.log"; }
    std::filesystem::path cardPidFile(std::size_t index) const;
    std::filesystem::path cardImageFile(std::size_t index) const;
    std::filesystem::path cardLog(std::size_t index) const;

    bool writeReaders(const std::vector<Reader>& readers, std::string& error) const;
    std::optional<std::vector<Reader>> readReaders() const;

private:
    std::filesystem::path m_dir;
};

/// Ports for the named readers, in order. Names must be non-empty, unique, without quotes or
/// newlines, and short enough for pcsc-lite (MAX_READERNAME 128 with " 00 00").
std::optional<std::vector<Reader>> assignReaders(const std::vector<std::string>& names,
                                                 std::string& error);

/// reader.conf text (pcsc-lite reader.conf(5)): one vpcd entry per reader, in server mode, each
/// with its own copy of the driver (`driverPaths[i]`), because pcscd shares one driver instance
/// per LIBPATH and vpcd does not declare TAG_IFD_SIMULTANEOUS_ACCESS, so a second reader on the
/// same path fails with "Driver ... does not support more than 1 reader(s)".
std::string readerConf(const std::vector<Reader>& readers,
                       const std::vector<std::filesystem::path>& driverPaths);

/// A running process's pid from a pid file, if the process lives and its name is `comm`.
std::optional<pid_t> livePid(const std::filesystem::path& pidFile, const std::string& comm);
/// True if a process with this pid exists and is not a zombie.
bool processAlive(pid_t pid);

/// Whether some pcscd already runs: its pid (from /run/pcscd/pcscd.pid) if alive, or 0 if only
/// its socket answers. nullopt if none.
std::optional<pid_t> runningPcscd();

/// Starts `pcscd --foreground --config CONF` in a new network namespace with only loopback,
/// detached (new session, output to `log`). Returns its pid or nullopt with `error`.
std::optional<pid_t> startPcscd(const std::filesystem::path& conf, const std::filesystem::path& log,
                                std::string& error);

/// Starts `program args...` detached (new session, stdio to `log`, no inherited descriptors);
/// returns once it has been started, with its pid.
std::optional<pid_t> spawnDetached(const std::filesystem::path& program,
                                   const std::vector<std::string>& args,
                                   const std::filesystem::path& log, std::string& error);

/// Joins the network namespace of process `pid` (the lab's pcscd). Needs CAP_SYS_ADMIN.
bool enterNetworkNamespaceOf(pid_t pid, std::string& error);

/// Sends SIGTERM and waits (pidfd, no polling) up to `timeoutMs` for the process to exit; then
/// SIGKILL. True if it is gone.
bool stopProcess(pid_t pid, int timeoutMs);

/// Writes `pid` to `file`.
bool writePidFile(const std::filesystem::path& file, pid_t pid);

} // namespace unioncard::sim::lab
