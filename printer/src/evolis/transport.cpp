// SPDX-License-Identifier: Apache-2.0
// Byte streams to a printer: TCP (network printers, the simulator) and the kernel's USB printer
// class device (usblp, /dev/usb/lpN). Both are file descriptors with poll() for time-outs; a
// closed or reset connection is Offline, the fault a pulled cable gives.

#include <unioncard/printer/evolis.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace unioncard::printer::evolis {

namespace {

PrinterError offline(std::string message) {
    return PrinterError{PrinterFault::Offline, std::move(message)};
}

class FdTransport final : public Transport {
public:
    FdTransport(int fd, bool socket, std::string name)
        : m_fd(fd), m_socket(socket), m_name(std::move(name)) {}
    ~FdTransport() override {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    FdTransport(const FdTransport&) = delete;
    FdTransport& operator=(const FdTransport&) = delete;

    Result<Done, PrinterError> send(std::span<const std::uint8_t> bytes) override {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n =
                m_socket ? ::send(m_fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL)
                         : ::write(m_fd, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pollfd p{m_fd, POLLOUT, 0};
                if (::poll(&p, 1, 30000) <= 0) {
                    return fail(offline(fmt::format(
                        "{} took no data for 30 s; check that the printer is on and connected",
                        m_name)));
                }
                continue;
            }
            if (n <= 0) {
                return fail(offline(fmt::format(
                    "the connection to the printer ({}) broke while sending: {}; check its "
                    "cable and power",
                    m_name, std::strerror(errno))));
            }
            done += static_cast<std::size_t>(n);
        }
        return Done{};
    }

    Result<std::size_t, PrinterError> receive(std::span<std::uint8_t> buffer,
                                              std::chrono::milliseconds timeout) override {
        pollfd p{m_fd, POLLIN, 0};
        for (;;) {
            const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
            if (ready < 0 && errno == EINTR) {
                continue;
            }
            if (ready == 0) {
                return fail(offline(fmt::format(
                    "the printer ({}) did not answer within {} s; check that it is switched on "
                    "and connected",
                    m_name, static_cast<double>(timeout.count()) / 1000.0)));
            }
            break;
        }
        ssize_t n;
        do {
            n = ::read(m_fd, buffer.data(), buffer.size());
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            return fail(offline(fmt::format(
                "the printer ({}) closed the connection (cable pulled, power lost or the "
                "printer restarted)",
                m_name)));
        }
        if (n < 0) {
            return fail(offline(fmt::format("reading from the printer ({}) failed: {}", m_name,
                                            std::strerror(errno))));
        }
        return static_cast<std::size_t>(n);
    }

    std::string describe() const override { return m_name; }

private:
    int m_fd;
    bool m_socket;
    std::string m_name;
};

Result<std::unique_ptr<Transport>, PrinterError> connectTcp(const PrinterAddress& a,
                                                            std::chrono::milliseconds timeout) {
    const std::string name = fmt::format("tcp://{}:{}", a.host, a.port);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    addrinfo* list = nullptr;
    const std::string port = std::to_string(a.port);
    if (int rc = ::getaddrinfo(a.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
        return fail(offline(fmt::format("cannot resolve the printer's host \"{}\": {}", a.host,
                                        ::gai_strerror(rc))));
    }
    std::string lastError = "no address";
    for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                ai->ai_protocol);
        if (fd < 0) {
            lastError = std::strerror(errno);
            continue;
        }
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
            if (rc == 1) {
                int err = 0;
                socklen_t len = sizeof err;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                rc = err == 0 ? 0 : -1;
                errno = err;
            } else {
                rc = -1;
                errno = ETIMEDOUT;
            }
        }
        if (rc == 0) {
            ::freeaddrinfo(list);
            const int one = 1;
            // Commands are small and each waits for its answer: send them at once.
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return std::unique_ptr<Transport>(std::make_unique<FdTransport>(fd, true, name));
        }
        lastError = std::strerror(errno);
        ::close(fd);
    }
    ::freeaddrinfo(list);
    return fail(offline(fmt::format("cannot connect to the printer at {}: {}; check that it is "
                                    "switched on and on the network",
                                    name, lastError)));
}

} // namespace

Result<std::unique_ptr<Transport>, PrinterError> connect(const PrinterAddress& address,
                                                         std::chrono::milliseconds timeout) {
    if (address.kind == PrinterAddress::Kind::Tcp) {
        return connectTcp(address, timeout);
    }
    // usblp: the kernel's USB printer class driver gives a bidirectional character device.
    const int fd = ::open(address.device.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return fail(offline(fmt::format("cannot open the printer's USB device {}: {}; check the "
                                        "USB cable and that the printer is on",
                                        address.device, std::strerror(errno))));
    }
    return std::unique_ptr<Transport>(
        std::make_unique<FdTransport>(fd, false, "usb://" + address.device));
}

} // namespace unioncard::printer::evolis
