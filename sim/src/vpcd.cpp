// SPDX-License-Identifier: Apache-2.0
#include <unioncard/sim/vpcd.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace unioncard::sim::vpcd {

namespace {

std::string errnoText(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

void setQuickAck(int socket) {
    // Linux clears TCP_QUICKACK again after some ACKs, so it is set before every read.
    // On a socketpair (unit tests) this fails with EOPNOTSUPP, which is harmless.
    const int one = 1;
    (void)setsockopt(socket, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

// Reads exactly `size` bytes, waking up for stop(). Returns 1 on success, 0 on orderly close
// (or close mid-message), -1 on error, -2 when stopped.
int readExactly(int socket, int wake, std::uint8_t* buffer, std::size_t size, bool quickAck) {
    std::size_t got = 0;
    while (got < size) {
        pollfd fds[2] = {{socket, POLLIN, 0}, {wake, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if ((fds[1].revents & POLLIN) != 0) {
            return -2;
        }
        if (quickAck) {
            setQuickAck(socket);
        }
        const ssize_t n = recv(socket, buffer + got, size - got, 0);
        if (n == 0) {
            return 0;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            if (errno == ECONNRESET) {
                return 0;
            }
            return -1;
        }
        got += static_cast<std::size_t>(n);
    }
    return 1;
}

bool writeAll(int socket, std::span<const std::uint8_t> data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = send(socket, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

std::optional<Bytes> answer(VirtualCard& card, std::span<const std::uint8_t> message) {
    if (message.size() == 1) {
        switch (message[0]) {
        case kPowerOff:
            card.powerOff();
            return std::nullopt;
        case kPowerOn:
            card.powerOn();
            return std::nullopt;
        case kReset:
            card.powerOff();
            card.powerOn();
            return std::nullopt;
        case kGetAtr:
            return card.atr();
        default:
            // vpcd sends no other control code; an unknown one gets no answer, as in vicc.py.
            return std::nullopt;
        }
    }
    if (message.empty()) {
        return std::nullopt;
    }
    // PC/SC part 3 §3.2.2.1.3 GET DATA: the reader, not the card, answers FF CA with the UID
    // from anticollision (P1 00) or 6A 81 for what this reader does not keep (P1 01, the ATS
    // historical bytes).
    if (message.size() == 5 && message[0] == 0xFF && message[1] == 0xCA && message[3] == 0x00) {
        if (message[2] != 0x00) {
            return Bytes{0x6A, 0x81};
        }
        Bytes answer = card.uid();
        answer.insert(answer.end(), {0x90, 0x00});
        return answer;
    }
    return card.transmit(message);
}

Bytes frame(std::span<const std::uint8_t> payload) {
    Bytes out;
    out.reserve(payload.size() + 2);
    out.push_back(static_cast<std::uint8_t>(payload.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(payload.size() & 0xFF));
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

Bridge::Bridge(VirtualCard& card, BridgeOptions options) : m_card(card), m_options(options) {
    if (pipe2(m_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        m_wake[0] = m_wake[1] = -1;
    }
}

Bridge::~Bridge() {
    for (int fd : m_wake) {
        if (fd >= 0) {
            close(fd);
        }
    }
}

void Bridge::stop() {
    const std::uint8_t byte = 1;
    if (m_wake[1] >= 0) {
        (void)!write(m_wake[1], &byte, 1);
    }
}

Bridge::End Bridge::serve(int socket) {
    if (m_wake[0] < 0) {
        m_error = "could not create the stop pipe";
        return End::Error;
    }
    const int one = 1;
    // Our answers go out at once (vpcd waits for each one); harmless on a socketpair.
    (void)setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    auto ended = [this](End end) {
        m_card.powerOff(); // vpcd gone: the card has left the field
        return end;
    };
    Bytes payload;
    for (;;) {
        std::uint8_t header[2];
        int r = readExactly(socket, m_wake[0], header, 2, m_options.quickAck);
        if (r == 1) {
            payload.resize((std::size_t{header[0]} << 8) | header[1]);
            r = readExactly(socket, m_wake[0], payload.data(), payload.size(), m_options.quickAck);
        }
        if (r == 0) {
            return ended(End::PeerClosed);
        }
        if (r == -2) {
            return ended(End::Stopped);
        }
        if (r < 0) {
            m_error = errnoText("reading from vpcd");
            return ended(End::Error);
        }
        ++m_messages;
        if (auto reply = answer(m_card, payload)) {
            if (reply->size() > 0xFFFF) {
                m_error = "the card's answer is longer than vpcd's 16-bit length allows";
                return ended(End::Error);
            }
            if (!writeAll(socket, frame(*reply))) {
                if (errno == EPIPE || errno == ECONNRESET) {
                    return ended(End::PeerClosed);
                }
                m_error = errnoText("writing to vpcd");
                return ended(End::Error);
            }
        }
    }
}

int connectTcp(const std::string& host, std::uint16_t port, std::string& error) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
        error = "not an IPv4 address: " + host;
        return -1;
    }
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errnoText("socket");
        return -1;
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        error = errnoText("connect");
        close(fd);
        return -1;
    }
    const int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int listenLoopback(std::uint16_t port, std::string& error) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errnoText("socket");
        return -1;
    }
    const int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, 1) != 0) {
        error = errnoText("bind/listen on 127.0.0.1");
        close(fd);
        return -1;
    }
    return fd;
}

} // namespace unioncard::sim::vpcd
