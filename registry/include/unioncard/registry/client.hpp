// SPDX-License-Identifier: Apache-2.0
#pragma once

// The registry's HTTP client, for stations and verifiers: every route of the API as one call
// returning a value or a typed ClientError that says whether to retry, fix the configuration or
// give up on this request. Speaks HTTPS verified against a configured CA file, with a bearer token
// and/or a TLS client certificate; plain http:// only to the loopback interface (tests, a registry
// on the same machine). The token is never logged nor put in an error message.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/result.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/model.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::registry {

enum class ClientErrorCode {
    Configuration, ///< the client's own settings are wrong (URL, CA file): fix them, no retry
    Unreachable,   ///< connection refused, timed out, name not resolved, cut: retry later
    Tls,          ///< the TLS handshake failed (certificate not trusted, wrong host): configuration
    Unauthorized, ///< 401: no credential, or it expired: the device needs a new one
    Forbidden,    ///< 403: the device's role may not do this
    Rejected,     ///< another 4xx: the server refused this request; sending it again will not help
    ServerError,  ///< 5xx, 429: the server cannot answer now; retry later (retryAfter if given)
    BadResponse,  ///< an answer that is not what the API promises (not JSON, wrong fields)
};
std::string_view toString(ClientErrorCode code);

/// Whether the same request may succeed later without anyone changing anything: Unreachable,
/// ServerError and BadResponse (a proxy's error page, a response cut short).
bool isTransient(ClientErrorCode code);

struct ClientError {
    ClientErrorCode code = ClientErrorCode::BadResponse;
    std::string message;    ///< in words, for the operator's log or screen; never holds a secret
    int httpStatus = 0;     ///< 0 when no response arrived
    std::string serverCode; ///< the server's "error" field ("impossible_transition"), if any
    std::optional<std::chrono::seconds> retryAfter; ///< from a 429 or 503's Retry-After
};

struct ClientConfig {
    /// "https://host:port" (a path is not allowed); "http://127.0.0.1:port" or
    /// "http://localhost:port" only for a registry on this machine.
    std::string baseUrl;
    /// PEM file of the CA(s) the server's certificate must chain to. Required for https.
    std::string caFile;
    /// Sent as "Authorization: Bearer <token>" when not empty.
    std::string bearerToken;
    /// PEM certificate and (unencrypted) key for mutual TLS; both or neither.
    std::string clientCertFile;
    std::string clientKeyFile;
    std::chrono::milliseconds connectTimeout{3000};
    std::chrono::milliseconds readTimeout{10000};
    /// Larger answers are abandoned as BadResponse (a full status list of the whole union is a
    /// few MiB).
    std::size_t maxResponseBytes = std::size_t{64} << 20;
    /// Which card numbers answers may carry.
    card::NumberScheme scheme = card::NumberScheme::standard();
};

struct Health {
    std::string status;     ///< "ok"
    nlohmann::json details; ///< the whole answer, for a diagnostics screen
};

/// A signed status list (application/cose), full or a delta.
struct StatusListDocument {
    std::vector<std::uint8_t> bytes;
    std::uint64_t version = 0; ///< X-Status-List-Version: the version these bytes bring you to
    bool isDelta = false;      ///< false: a full list (also when a delta was asked for but the
                               ///< server no longer had its base)
};

/// One client per registry. Calls are serialised inside (one connection, kept alive); use
/// several clients for parallel requests.
/// A device's client settings as the station's and the verifier's files keep them:
/// "registry_url", "ca_file", "client_cert", "client_key", and "token_file", the file (mode
/// 0600) that holds the bearer token, read now: the token itself is never a setting. nullopt
/// when no registry_url is set. Timeouts are left to the caller.
std::optional<ClientConfig> clientConfigFromSettings(
    const std::function<std::optional<std::string>(const std::string&)>& setting);

class RegistryClient {
public:
    static Result<RegistryClient, ClientError> create(ClientConfig config);

    RegistryClient(RegistryClient&&) noexcept;
    RegistryClient& operator=(RegistryClient&&) noexcept;
    ~RegistryClient();

    /// GET /v1/health
    Result<Health, ClientError> health();
    /// GET /v1/applications?region=&organisation=&cursor=&limit=
    Result<ApplicationPage, ClientError> applications(const ApplicationFilter& filter);
    /// POST /v1/events: 201 recorded, 200 with duplicate = true when the key was recorded before.
    /// 409 (impossible_transition, idempotency_conflict) is Rejected with that serverCode.
    Result<EventOutcome, ClientError> postEvent(const StatusEvent& event);
    /// POST /v1/leases
    Result<Lease, ClientError> lease(int region, std::uint32_t count);
    /// GET /v1/cards/{16 digits}
    Result<Lookup, ClientError> lookup(const card::CardNumber& number);
    /// GET /v1/status-list
    Result<StatusListDocument, ClientError> statusList();
    /// GET /v1/status-list/delta?since=V; when the server answers 404 unknown_base, fetches the
    /// full list instead (isDelta = false). When V is the newest version (204), the document is
    /// a delta with no bytes and version V.
    Result<StatusListDocument, ClientError> statusListDelta(std::uint64_t since);
    /// POST /v1/check-ins: 1..1000 at a time.
    Result<CheckInReceipt, ClientError> postCheckIns(const std::vector<CheckIn>& checkIns);
    /// GET /v1/check-ins: an event's check-ins received after `after` (0: from the start), in
    /// received order, at most `limit`; every desk of the event fetches the others' this way.
    Result<std::vector<RecordedCheckIn>, ClientError>
    checkIns(const std::string& eventId, std::uint64_t after, int limit = 1000);
    /// GET /v1/trust-list: the signed trust list's bytes, unchecked (TrustList::load checks).
    Result<std::vector<std::uint8_t>, ClientError> trustList();

    const std::string& baseUrl() const;

private:
    struct Impl;
    explicit RegistryClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace unioncard::registry
