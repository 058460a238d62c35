// SPDX-License-Identifier: Apache-2.0
#pragma once

// unioncard-registryd's core: the registry API (docs/registry-api.yaml) over HTTP/1.1 and TLS,
// on a Store. Each request is authenticated (a TLS client certificate issued by the union root,
// or a per-device bearer token), authorised by the device's role, validated strictly, and
// answered with JSON; every refusal is a 4xx with a machine-readable code and a message.

#include <unioncard/card/keys.hpp>
#include <unioncard/registry/store.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace unioncard::registry {

struct TlsConfig {
    std::filesystem::path certificate; ///< the service's certificate chain (PEM)
    std::filesystem::path key;         ///< its private key (PEM, encrypted or not)
    card::Secret keyPassphrase;        ///< empty when the key file is not encrypted
    /// Certificates that may issue device client certificates (the union root). When set,
    /// a client certificate is asked for and, if presented, must chain to it; devices without
    /// one still authenticate with their token.
    std::optional<std::filesystem::path> clientCa;
};

/// The key and certificate the service signs status lists with (docs/status-list.md), and the
/// union root that issued the certificate (kept lists are re-read against it to build deltas).
struct StatusSigner {
    card::PrivateKey key;
    card::Certificate certificate;
    card::Certificate root;
};

struct ServiceConfig {
    std::string host = "127.0.0.1";
    int port = 0;                 ///< 0: any free port (see Service::port())
    std::optional<TlsConfig> tls; ///< none: plain HTTP, which the daemon allows on loopback only
    std::optional<StatusSigner> statusSigner;
    std::size_t maxBodyBytes = 1024 * 1024;
    /// A newer status list is built when the registry changed and the last one is older than
    /// this; between builds every verifier gets the same bytes.
    std::chrono::seconds statusListInterval{60};
    /// Published lists kept for deltas (about 5 hours of builds at 60 s, a day at 5 minutes); a
    /// desk holding an older
    /// one fetches the whole list.
    int statusListsKept = 288;
    /// The signed trust list (unioncard trust-list build) served at /v1/trust-list; read again
    /// on each request, so a new list is served as soon as the file is replaced.
    std::optional<std::filesystem::path> trustList;
    /// Worker threads (each with its own store connection where the store needs one).
    int threads = 8;
    LeaseQuota leaseQuota; ///< unused leased serials a station, and a region, may hold
    bool accessLog = true; ///< one line per request on stderr; card numbers masked, no tokens
};

struct ServiceError {
    std::string message;
};

class Service {
public:
    Service(std::unique_ptr<Store> store, ServiceConfig config);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    /// Binds the listening socket (and loads the TLS key). Afterwards port() is known.
    std::optional<ServiceError> bind();
    int port() const;
    /// Serves until stop(); returns false if the listener failed.
    bool run();
    /// Thread-safe; also safe from a signal-watching thread.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// The SHA-256 of a bearer token, lower-case hex: what the store keeps instead of the token.
std::string tokenDigest(std::string_view token);
/// A fresh bearer token: 32 random bytes from OpenSSL, base64url without padding.
std::string newToken();

} // namespace unioncard::registry
