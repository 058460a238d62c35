// SPDX-License-Identifier: Apache-2.0
// The simulated printer on TCP: one poll() loop, any number of connections, each its own
// session of the printer. A power loss (injected) ends the loop with every socket closed, as
// when the real printer's power goes.

#include <unioncard/sim/evolis_printer.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace unioncard::sim::evolis {

struct PrinterServer::Impl {
    std::thread thread;
    std::atomic<bool> stop{false};
    std::atomic<bool> drop{false};
    struct Client {
        int fd;
        EvolisPrinterSim::SessionId session;
    };
    std::vector<Client> clients;
};

PrinterServer::PrinterServer(EvolisPrinterSim& printer)
    : m_printer(printer), m_impl(std::make_unique<Impl>()) {}

PrinterServer::~PrinterServer() {
    stop();
}

bool PrinterServer::start(const std::string& host, std::uint16_t port, std::string& error) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
        error = "\"" + host + "\" is not an IPv4 address";
        return false;
    }
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(m_listen, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(m_listen, 8) != 0) {
        error = std::string("cannot listen on ") + host + ":" + std::to_string(port) + ": " +
                std::strerror(errno);
        ::close(m_listen);
        m_listen = -1;
        return false;
    }
    socklen_t length = sizeof address;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&address), &length);
    m_port = ntohs(address.sin_port);
    if (::pipe2(m_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    m_impl->thread = std::thread([this] { run(); });
    return true;
}

void PrinterServer::run() {
    std::vector<std::uint8_t> buffer(1 << 16);
    auto closeClient = [this](std::size_t i) {
        m_printer.closeSession(m_impl->clients[i].session);
        ::close(m_impl->clients[i].fd);
        m_impl->clients.erase(m_impl->clients.begin() + static_cast<long>(i));
    };
    for (;;) {
        if (m_impl->drop.exchange(false)) {
            while (!m_impl->clients.empty()) {
                closeClient(0);
            }
        }
        if (m_impl->stop || m_printer.poweredOff()) {
            break;
        }
        std::vector<pollfd> fds{{m_listen, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
        for (const auto& c : m_impl->clients) {
            fds.push_back({c.fd, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (fds[1].revents != 0) {
            char drain[64];
            while (::read(m_wake[0], drain, sizeof drain) > 0) {
            }
        }
        if (fds[0].revents & POLLIN) {
            const int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) {
                m_impl->clients.push_back({fd, m_printer.openSession()});
            }
        }
        // From the last, so that closing one does not shift the ones still to look at.
        for (std::size_t k = fds.size(); k-- > 2;) {
            if (fds[k].revents == 0) {
                continue;
            }
            const std::size_t i = k - 2;
            const ssize_t n = ::read(m_impl->clients[i].fd, buffer.data(), buffer.size());
            if (n <= 0) {
                closeClient(i);
                continue;
            }
            const std::string answer = m_printer.receive(
                m_impl->clients[i].session,
                std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
            if (m_printer.poweredOff()) {
                break;
            }
            std::size_t sent = 0;
            while (sent < answer.size()) {
                const ssize_t w = ::send(m_impl->clients[i].fd, answer.data() + sent,
                                         answer.size() - sent, MSG_NOSIGNAL);
                if (w <= 0) {
                    break;
                }
                sent += static_cast<std::size_t>(w);
            }
        }
    }
    // The end: every connection and the listener close, as when the power goes.
    while (!m_impl->clients.empty()) {
        closeClient(0);
    }
    ::close(m_listen);
    m_listen = -1;
}

void PrinterServer::dropConnections() {
    m_impl->drop = true;
    if (m_wake[1] >= 0) {
        [[maybe_unused]] auto n = ::write(m_wake[1], "d", 1);
    }
}

void PrinterServer::stop() {
    m_impl->stop = true;
    if (m_wake[1] >= 0) {
        [[maybe_unused]] auto n = ::write(m_wake[1], "s", 1);
    }
    wait();
    for (int& fd : m_wake) {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
}

void PrinterServer::wait() {
    if (m_impl->thread.joinable()) {
        m_impl->thread.join();
    }
}

} // namespace unioncard::sim::evolis
