// SPDX-License-Identifier: Apache-2.0
#include <unioncard/registry/client.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <mutex>
#include <sstream>
#include <utility>

namespace unioncard::registry {
namespace {

using nlohmann::json;

ClientError makeError(ClientErrorCode code, std::string message, int status = 0) {
    ClientError e;
    e.code = code;
    e.message = std::move(message);
    e.httpStatus = status;
    return e;
}

struct ParsedUrl {
    bool https = false;
    std::string host; ///< as written, with brackets for IPv6
    int port = 0;
};

// "https://host[:port][/]": the API's routes are absolute (/v1/...), so a path prefix is refused
// rather than silently dropped.
Result<ParsedUrl, ClientError> parseBaseUrl(std::string_view url) {
    const auto bad = [&](std::string_view why) {
        return fail(makeError(ClientErrorCode::Configuration,
                              fmt::format("the registry URL '{}' {}", url, why)));
    };
    ParsedUrl out;
    std::string_view rest;
    if (url.starts_with("https://")) {
        out.https = true;
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else {
        return bad("must start with https://");
    }
    if (rest.ends_with('/'))
        rest.remove_suffix(1);
    if (rest.find_first_of("/?#@ ") != std::string_view::npos)
        return bad("must be scheme://host:port, without a path, query or user");
    std::string_view host = rest;
    std::string_view port;
    if (rest.starts_with('[')) { // RFC 3986 §3.2.2: an IPv6 literal in brackets
        const auto close = rest.find(']');
        if (close == std::string_view::npos)
            return bad("has an unclosed '['");
        host = rest.substr(0, close + 1);
        const auto after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return bad("has something after the IPv6 address");
            port = after.substr(1);
        }
    } else if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty())
        return bad("names no host");
    out.host = std::string(host);
    out.port = out.https ? 443 : 80;
    if (!port.empty()) {
        if (port.size() > 5 ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return bad("has a port that is not a number");
        out.port = std::stoi(std::string(port));
        if (out.port < 1 || out.port > 65535)
            return bad("has a port outside 1..65535");
    }
    if (!out.https && out.host != "127.0.0.1" && out.host != "localhost" && out.host != "[::1]")
        return bad("uses plain http:// to another machine; use https://");
    return out;
}

// RFC 9110 §10.2.3: delay-seconds (the HTTP-date form is not used by our service).
std::optional<std::chrono::seconds> parseRetryAfter(const std::string& value) {
    if (value.empty() || value.size() > 6 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::chrono::seconds{std::stol(value)};
}

std::string describeTransportError(httplib::Error error, const std::string& host) {
    switch (error) {
    case httplib::Error::Connection:
        return fmt::format("could not connect to the registry at {} (refused, unreachable or name "
                           "not found)",
                           host);
    case httplib::Error::ConnectionTimeout:
        return fmt::format("the registry at {} did not accept the connection in time", host);
    case httplib::Error::Read:
        return fmt::format("the connection to the registry at {} broke or timed out before the "
                           "answer arrived",
                           host);
    case httplib::Error::Write:
        return fmt::format("the connection to the registry at {} broke while sending", host);
    case httplib::Error::SSLConnection:
        return fmt::format("the TLS handshake with {} failed: the server may not speak TLS, or "
                           "refused this device's certificate",
                           host);
    case httplib::Error::SSLLoadingCerts:
        return "could not load the CA file or the client certificate for the registry";
    case httplib::Error::SSLServerVerification:
        return fmt::format("the registry's certificate at {} is not trusted by the configured CA "
                           "file or does not name that host",
                           host);
    default:
        return fmt::format("the request to {} failed: {}", host, httplib::to_string(error));
    }
}

ClientErrorCode codeOf(httplib::Error error) {
    switch (error) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::Read:
    case httplib::Error::Write:
    case httplib::Error::BindIPAddress:
    case httplib::Error::Canceled:
    case httplib::Error::Unknown:
        return ClientErrorCode::Unreachable;
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
        return ClientErrorCode::Tls;
    default:
        return ClientErrorCode::BadResponse;
    }
}

struct Reply {
    int status = 0;
    std::string body;
    httplib::Headers headers;

    std::string header(const char* name) const {
        const auto it = headers.find(name); // httplib's Headers compare names case-insensitively
        return it == headers.end() ? std::string() : it->second;
    }
};

std::string percentEncode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

} // namespace

std::string_view toString(ClientErrorCode code) {
    switch (code) {
    case ClientErrorCode::Configuration:
        return "configuration";
    case ClientErrorCode::Unreachable:
        return "unreachable";
    case ClientErrorCode::Tls:
        return "tls";
    case ClientErrorCode::Unauthorized:
        return "unauthorized";
    case ClientErrorCode::Forbidden:
        return "forbidden";
    case ClientErrorCode::Rejected:
        return "rejected";
    case ClientErrorCode::ServerError:
        return "server_error";
    case ClientErrorCode::BadResponse:
        return "bad_response";
    }
    return "?";
}

bool isTransient(ClientErrorCode code) {
    switch (code) {
    case ClientErrorCode::Unreachable:
    case ClientErrorCode::ServerError:
    case ClientErrorCode::BadResponse:
        return true;
    case ClientErrorCode::Configuration:
    case ClientErrorCode::Tls:
    case ClientErrorCode::Unauthorized:
    case ClientErrorCode::Forbidden:
    case ClientErrorCode::Rejected:
        return false;
    }
    return false;
}

struct RegistryClient::Impl {
    ClientConfig config;
    ParsedUrl url;
    std::string hostForMessages; ///< host:port, no credentials
    std::mutex mutex;            ///< httplib::Client is one connection: one request at a time
    std::unique_ptr<httplib::Client> http;

    // One exchange. 4xx/5xx become ClientErrors here, so callers only see 2xx replies.
    Result<Reply, ClientError> send(const std::string& method, const std::string& path,
                                    const std::string* jsonBody, const char* accept) {
        std::lock_guard lock(mutex);
        httplib::Request request;
        request.method = method;
        request.path = path;
        request.headers.emplace("Accept", accept);
        if (jsonBody) {
            request.body = *jsonBody;
            request.headers.emplace("Content-Type", "application/json");
        }
        std::string body;
        bool tooLarge = false;
        const std::size_t cap = config.maxResponseBytes;
        request.content_receiver = [&](const char* data, std::size_t length, std::uint64_t,
                                       std::uint64_t) {
            if (body.size() + length > cap) {
                tooLarge = true;
                return false;
            }
            body.append(data, length);
            return true;
        };
        auto result = http->send(request);
        if (tooLarge)
            return fail(makeError(
                ClientErrorCode::BadResponse,
                fmt::format("the registry's answer to {} {} exceeds {} bytes", method, path, cap)));
        if (!result) {
            const auto error = result.error();
            return fail(makeError(codeOf(error), describeTransportError(error, hostForMessages)));
        }
        Reply reply{result->status, std::move(body), result->headers};
        if (reply.status >= 200 && reply.status < 300)
            return reply;
        return fail(errorFor(method, path, reply));
    }

    ClientError errorFor(const std::string& method, const std::string& path, const Reply& reply) {
        const int status = reply.status;
        // The server's {"error","message"} when it sent one; a proxy's HTML page otherwise.
        std::string serverCode, serverMessage;
        if (auto parsed = api::parseBody(reply.body, api::kDefaultMaxBodyBytes)) {
            if (auto e = parseApiError(*parsed, UnknownFields::Ignore)) {
                serverCode = e->code;
                serverMessage = e->message;
            }
        }
        const std::string what = serverMessage.empty()
                                     ? fmt::format("HTTP {}", status)
                                     : fmt::format("{} ({})", serverMessage, serverCode);
        ClientError e;
        e.httpStatus = status;
        e.serverCode = serverCode;
        if (status == 401) {
            e.code = ClientErrorCode::Unauthorized;
            e.message = fmt::format("the registry does not accept this device's credential (it "
                                    "is missing, unknown or expired): {}",
                                    what);
        } else if (status == 403) {
            e.code = ClientErrorCode::Forbidden;
            e.message = fmt::format("this device's role may not {} {}: {}", method, path, what);
        } else if (status == 429 || status >= 500) {
            e.code = ClientErrorCode::ServerError;
            e.retryAfter = parseRetryAfter(reply.header("Retry-After"));
            e.message = fmt::format("the registry cannot answer {} {} now: {}", method, path, what);
        } else if (status >= 400) {
            e.code = ClientErrorCode::Rejected;
            e.message = fmt::format("the registry refused {} {}: {}", method, path, what);
        } else {
            // 1xx, 3xx: the API never redirects; following one would send the token elsewhere.
            e.code = ClientErrorCode::BadResponse;
            e.message = fmt::format("the registry answered {} {} with an unexpected HTTP {}",
                                    method, path, status);
        }
        return e;
    }

    template <class T, class Parse>
    Result<T, ClientError> decode(const std::string& route, const Reply& reply, Parse parse) {
        auto body = api::parseBody(reply.body, config.maxResponseBytes);
        if (!body)
            return fail(badAnswer(route, body.error()));
        auto value = parse(*body);
        if (!value)
            return fail(badAnswer(route, value.error()));
        return std::move(value).value();
    }

    static ClientError badAnswer(const std::string& route, const ApiError& error) {
        return makeError(ClientErrorCode::BadResponse,
                         fmt::format("the registry's answer to {} is not what the API promises: "
                                     "{}",
                                     route, error.message));
    }

    Result<StatusListDocument, ClientError> cose(const std::string& route, const Reply& reply,
                                                 bool isDelta) {
        const std::string type = reply.header("Content-Type");
        // 204 to a delta: the caller already holds the newest list (empty bytes, same version).
        const bool upToDate = isDelta && reply.status == 204;
        if (!upToDate && !type.starts_with("application/cose"))
            return fail(makeError(ClientErrorCode::BadResponse,
                                  fmt::format("the registry's answer to {} is '{}', not "
                                              "application/cose",
                                              route, type.substr(0, 64))));
        const std::string version = reply.header("X-Status-List-Version");
        if (version.empty() || version.size() > 20 ||
            !std::all_of(version.begin(), version.end(),
                         [](char c) { return c >= '0' && c <= '9'; }))
            return fail(makeError(ClientErrorCode::BadResponse,
                                  fmt::format("the registry's answer to {} has no valid "
                                              "X-Status-List-Version header",
                                              route)));
        StatusListDocument doc;
        if (!upToDate)
            doc.bytes.assign(reply.body.begin(), reply.body.end());
        doc.version = std::stoull(version);
        doc.isDelta = isDelta;
        return doc;
    }
};

RegistryClient::RegistryClient(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
RegistryClient::RegistryClient(RegistryClient&&) noexcept = default;
RegistryClient& RegistryClient::operator=(RegistryClient&&) noexcept = default;
RegistryClient::~RegistryClient() = default;

const std::string& RegistryClient::baseUrl() const {
    return m_impl->config.baseUrl;
}

Result<RegistryClient, ClientError> RegistryClient::create(ClientConfig config) {
    auto url = parseBaseUrl(config.baseUrl);
    if (!url)
        return fail(url.error());
    const auto configError = [](std::string message) {
        return fail(makeError(ClientErrorCode::Configuration, std::move(message)));
    };
    std::error_code ec;
    if (url->https) {
        if (config.caFile.empty())
            return configError("an https:// registry needs the CA file its certificate chains to");
        if (!std::filesystem::is_regular_file(config.caFile, ec))
            return configError(fmt::format("the CA file '{}' does not exist", config.caFile));
    }
    if (config.clientCertFile.empty() != config.clientKeyFile.empty())
        return configError("a client certificate needs its key, and a key its certificate");
    const bool mutualTls = !config.clientCertFile.empty();
    if (mutualTls && !url->https)
        return configError("a client certificate is only used over https://");
    if (mutualTls && (!std::filesystem::is_regular_file(config.clientCertFile, ec) ||
                      !std::filesystem::is_regular_file(config.clientKeyFile, ec)))
        return configError("the client certificate or key file does not exist");
    if (config.bearerToken.find_first_of("\r\n") != std::string::npos)
        return configError("the bearer token contains a line break");

    auto impl = std::make_unique<Impl>();
    impl->url = *url;
    impl->hostForMessages = fmt::format("{}:{}", url->host, url->port);
    const std::string schemeHostPort =
        fmt::format("{}://{}:{}", url->https ? "https" : "http", url->host, url->port);
    impl->http = mutualTls ? std::make_unique<httplib::Client>(
                                 schemeHostPort, config.clientCertFile, config.clientKeyFile)
                           : std::make_unique<httplib::Client>(schemeHostPort);
    if (!impl->http->is_valid())
        return configError("the TLS client could not be set up (certificate or key unreadable?)");
    auto& http = *impl->http;
    http.set_connection_timeout(config.connectTimeout);
    http.set_read_timeout(config.readTimeout);
    http.set_write_timeout(config.readTimeout);
    http.set_keep_alive(true);
    // httplib writes headers and body separately; with Nagle's algorithm and the peer's delayed
    // ACK each small POST would wait ~40 ms (RFC 1122 §4.2.3.2, §4.2.3.4).
    http.set_tcp_nodelay(true);
    http.set_follow_location(false);
    if (url->https) {
        http.set_ca_cert_path(config.caFile);
        http.enable_server_certificate_verification(true);
    }
    if (!config.bearerToken.empty())
        http.set_bearer_token_auth(config.bearerToken);
    impl->config = std::move(config);
    return RegistryClient(std::move(impl));
}

Result<Health, ClientError> RegistryClient::health() {
    auto reply = m_impl->send("GET", "/v1/health", nullptr, "application/json");
    if (!reply)
        return fail(reply.error());
    auto body = api::parseBody(reply->body, m_impl->config.maxResponseBytes);
    if (!body)
        return fail(Impl::badAnswer("GET /v1/health", body.error()));
    // Health carries whatever the service wants to show; only "status" is promised.
    const auto it = body->find("status");
    if (!body->is_object() || it == body->end() || !it->is_string())
        return fail(makeError(ClientErrorCode::BadResponse,
                              "the registry's answer to GET /v1/health has no \"status\""));
    return Health{it->get<std::string>(), std::move(body).value()};
}

Result<ApplicationPage, ClientError> RegistryClient::applications(const ApplicationFilter& filter) {
    std::string query = fmt::format("limit={}", std::clamp(filter.limit, 1, 1000));
    if (filter.region)
        query += fmt::format("&region={}", *filter.region);
    if (filter.organisationCode)
        query += fmt::format("&organisation={}", *filter.organisationCode);
    if (!filter.cursor.empty())
        query += "&cursor=" + percentEncode(filter.cursor);
    auto reply = m_impl->send("GET", "/v1/applications?" + query, nullptr, "application/json");
    if (!reply)
        return fail(reply.error());
    return m_impl->decode<ApplicationPage>("GET /v1/applications", *reply, [&](const json& j) {
        return parseApplicationPage(j, m_impl->config.scheme);
    });
}

Result<EventOutcome, ClientError> RegistryClient::postEvent(const StatusEvent& event) {
    const std::string body = toJson(event).dump(-1, ' ', false, json::error_handler_t::replace);
    auto reply = m_impl->send("POST", "/v1/events", &body, "application/json");
    if (!reply)
        return fail(reply.error());
    return m_impl->decode<EventOutcome>("POST /v1/events", *reply, [](const json& j) {
        return parseEventOutcome(j, UnknownFields::Ignore);
    });
}

Result<Lease, ClientError> RegistryClient::lease(int region, std::uint32_t count) {
    const std::string body =
        toJson(LeaseRequest{region, count}).dump(-1, ' ', false, json::error_handler_t::replace);
    auto reply = m_impl->send("POST", "/v1/leases", &body, "application/json");
    if (!reply)
        return fail(reply.error());
    return m_impl->decode<Lease>("POST /v1/leases", *reply, [&](const json& j) {
        return parseLease(j, m_impl->config.scheme, UnknownFields::Ignore);
    });
}

Result<Lookup, ClientError> RegistryClient::lookup(const card::CardNumber& number) {
    auto reply = m_impl->send("GET", "/v1/cards/" + number.digits(), nullptr, "application/json");
    if (!reply)
        return fail(reply.error());
    // The route is named without the number: card numbers stay out of messages and logs.
    return m_impl->decode<Lookup>("GET /v1/cards/{number}", *reply, [](const json& j) {
        return parseLookup(j, UnknownFields::Ignore);
    });
}

Result<StatusListDocument, ClientError> RegistryClient::statusList() {
    auto reply = m_impl->send("GET", "/v1/status-list", nullptr, "application/cose");
    if (!reply)
        return fail(reply.error());
    return m_impl->cose("GET /v1/status-list", *reply, false);
}

Result<StatusListDocument, ClientError> RegistryClient::statusListDelta(std::uint64_t since) {
    auto reply = m_impl->send("GET", fmt::format("/v1/status-list/delta?since={}", since), nullptr,
                              "application/cose");
    if (!reply) {
        // The server keeps a bounded history; a base it dropped means "take the full list".
        if (reply.error().code == ClientErrorCode::Rejected && reply.error().httpStatus == 404 &&
            reply.error().serverCode == "unknown_base") {
            auto full = statusList();
            // An instance behind a load balancer may be a version behind the one the caller
            // holds: taking its list would bring back cards revoked since.
            if (full && full->version < since)
                return fail(makeError(ClientErrorCode::ServerError,
                                      fmt::format("the registry offered status list {}, older "
                                                  "than the {} held; try again later",
                                                  full->version, since)));
            return full;
        }
        return fail(reply.error());
    }
    return m_impl->cose("GET /v1/status-list/delta", *reply, true);
}

Result<CheckInReceipt, ClientError>
RegistryClient::postCheckIns(const std::vector<CheckIn>& checkIns) {
    if (checkIns.empty() || checkIns.size() > api::kMaxCheckInsPerBatch)
        return fail(makeError(ClientErrorCode::Configuration,
                              fmt::format("a batch holds 1 to {} check-ins, not {}",
                                          api::kMaxCheckInsPerBatch, checkIns.size())));
    const std::string body = toJson(checkIns).dump(-1, ' ', false, json::error_handler_t::replace);
    auto reply = m_impl->send("POST", "/v1/check-ins", &body, "application/json");
    if (!reply)
        return fail(reply.error());
    return m_impl->decode<CheckInReceipt>("POST /v1/check-ins", *reply, [](const json& j) {
        return parseCheckInReceipt(j, UnknownFields::Ignore);
    });
}

Result<std::vector<RecordedCheckIn>, ClientError>
RegistryClient::checkIns(const std::string& eventId, std::uint64_t after, int limit) {
    const std::string route = "GET /v1/check-ins";
    auto reply =
        m_impl->send("GET",
                     fmt::format("/v1/check-ins?event_id={}&after={}&limit={}",
                                 percentEncode(eventId), after, std::clamp(limit, 1, 10000)),
                     nullptr, "application/json");
    if (!reply)
        return fail(reply.error());
    using Items = std::vector<RecordedCheckIn>;
    return m_impl->decode<Items>(route, *reply, [&](const json& j) -> Result<Items, ApiError> {
        if (!j.is_object() || !j.contains("items") || !j["items"].is_array())
            return fail(ApiError{"wrong_type", "the answer has no 'items' list"});
        Items out;
        for (json item : j["items"]) {
            if (!item.is_object() || !item.contains("sequence") ||
                !item["sequence"].is_number_unsigned())
                return fail(ApiError{"wrong_type", "a check-in has no 'sequence' number"});
            RecordedCheckIn r;
            r.sequence = item["sequence"].get<std::uint64_t>();
            item.erase("sequence");
            auto checkIn = parseCheckIn(item, m_impl->config.scheme);
            if (!checkIn)
                return fail(checkIn.error());
            if (checkIn->eventId != eventId)
                return fail(ApiError{"invalid_value", "a check-in of another event came back"});
            r.checkIn = std::move(checkIn).value();
            out.push_back(std::move(r));
        }
        return out;
    });
}

Result<std::vector<std::uint8_t>, ClientError> RegistryClient::trustList() {
    auto reply = m_impl->send("GET", "/v1/trust-list", nullptr, "application/cose");
    if (!reply)
        return fail(reply.error());
    if (!reply->header("Content-Type").starts_with("application/cose"))
        return fail(makeError(ClientErrorCode::BadResponse,
                              "the registry's trust list is not application/cose"));
    return std::vector<std::uint8_t>(reply->body.begin(), reply->body.end());
}

std::optional<ClientConfig> clientConfigFromSettings(
    const std::function<std::optional<std::string>(const std::string&)>& setting) {
    auto url = setting("registry_url");
    if (!url) {
        return std::nullopt;
    }
    ClientConfig config;
    config.baseUrl = *url;
    config.caFile = setting("ca_file").value_or("");
    config.clientCertFile = setting("client_cert").value_or("");
    config.clientKeyFile = setting("client_key").value_or("");
    if (auto tokenFile = setting("token_file")) {
        std::ifstream in(*tokenFile);
        std::stringstream text;
        text << in.rdbuf();
        std::string token = text.str();
        while (!token.empty() &&
               (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
            token.pop_back();
        }
        config.bearerToken = std::move(token);
    }
    return config;
}

} // namespace unioncard::registry
