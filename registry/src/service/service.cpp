// SPDX-License-Identifier: Apache-2.0
#include "journal.hpp"
#include "metrics.hpp"
#include "status_publisher.hpp"

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/trust_list.hpp>
#include <unioncard/registry/api.hpp>
#include <unioncard/registry/service.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <httplib.h>
#include <limits>
#include <set>

namespace unioncard::registry {
namespace {

using Json = nlohmann::json;

// The one shape of every refusal: {"error": code, "message": words} (docs/registry-api.yaml).
void reply(httplib::Response& res, int status, const Json& body) {
    res.status = status;
    // Messages may quote what the client sent, which need not be UTF-8: replaced, never thrown.
    res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void refuse(httplib::Response& res, int status, std::string_view code, std::string_view message) {
    reply(res, status, Json{{"error", code}, {"message", message}});
}

int httpStatus(StoreErrorCode code) {
    switch (code) {
    case StoreErrorCode::InvalidArgument:
        return 400;
    case StoreErrorCode::NotFound:
        return 404;
    case StoreErrorCode::Conflict:
    case StoreErrorCode::IdempotencyConflict:
        return 409;
    case StoreErrorCode::Exhausted:
    case StoreErrorCode::LeaseQuota:
        return 409;
    case StoreErrorCode::OutOfScope:
        return 403;
    case StoreErrorCode::Unavailable:
        return 503;
    case StoreErrorCode::Internal:
        return 500;
    }
    return 500;
}

void refuse(httplib::Response& res, const StoreError& error) {
    const int status = httpStatus(error.code);
    if (status == 503)
        res.set_header("Retry-After", "5");
    if (error.code == StoreErrorCode::Internal) {
        // The database's own words stay in the service's log, not in the answer.
        logLine(Level::Error, "internal error: " + error.message);
        refuse(res, status, "internal", "the registry failed on this request; it keeps serving");
        return;
    }
    refuse(res, status, toString(error.code), error.message);
}

void refuse(httplib::Response& res, const ApiError& error) {
    refuse(res, error.code == "too_large" ? 413 : 400, error.code, error.message);
}

// Paths carry card numbers; the access log keeps only the last four digits of one. The path
// is already URL-decoded: bytes outside printable ASCII are escaped, so that a client cannot
// write lines of its own into the log.
std::string maskedPath(const std::string& path) {
    constexpr std::string_view kCards = "/v1/cards/";
    std::string shown = path;
    if (path.rfind(kCards, 0) == 0 && path.size() > kCards.size() + 4)
        shown = std::string(kCards) + "****" + path.substr(path.size() - 4);
    std::string out;
    for (const unsigned char c : shown) {
        if (c < 0x20 || c >= 0x7F)
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string peerCommonName(const SSL* ssl) {
    if (ssl == nullptr)
        return {};
    // Only a certificate that OpenSSL verified against the configured client CA counts.
    if (SSL_get_verify_result(ssl) != X509_V_OK)
        return {};
    X509* cert = SSL_get0_peer_certificate(ssl);
    if (cert == nullptr)
        return {};
    std::array<char, 256> cn{};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(),
                                            static_cast<int>(cn.size()));
    return n > 0 ? std::string(cn.data(), static_cast<std::size_t>(n)) : std::string();
}

// The SHA-256 of the peer's certificate (lowercase hex of the DER), to compare with a device's
// pinned certificate; empty without one.
std::string peerCertificateSha256(const SSL* ssl) {
    X509* cert = ssl ? SSL_get0_peer_certificate(ssl) : nullptr;
    std::array<unsigned char, 32> digest{};
    unsigned int length = 0;
    if (cert == nullptr || X509_digest(cert, EVP_sha256(), digest.data(), &length) != 1)
        return {};
    std::string hex;
    for (unsigned i = 0; i < length; ++i)
        hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

std::optional<long> integerParam(const httplib::Request& req, const char* name, long lo, long hi,
                                 httplib::Response& res) {
    if (!req.has_param(name))
        return std::nullopt;
    const std::string text = req.get_param_value(name);
    long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
        refuse(
            res, 400, "invalid_value",
            fmt::format("query parameter '{}' must be a whole number from {} to {}", name, lo, hi));
        return std::optional<long>(std::numeric_limits<long>::min());
    }
    return value;
}

bool badParam(const std::optional<long>& v) {
    return v && *v == std::numeric_limits<long>::min();
}

} // namespace

std::string tokenDigest(std::string_view token) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(), nullptr);
    std::string hex;
    for (unsigned i = 0; i < length; ++i)
        hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

std::string newToken() {
    std::array<unsigned char, 32> raw{};
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
        std::abort(); // no randomness: nothing safe to hand out
    std::array<unsigned char, 48> b64{};
    const int n = EVP_EncodeBlock(b64.data(), raw.data(), static_cast<int>(raw.size()));
    std::string token(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
    for (char& c : token)
        c = c == '+' ? '-' : c == '/' ? '_' : c; // base64url (RFC 4648 §5)
    while (!token.empty() && token.back() == '=')
        token.pop_back();
    OPENSSL_cleanse(raw.data(), raw.size());
    return token;
}

struct Service::Impl {
    std::unique_ptr<Store> store;
    ServiceConfig config;
    std::unique_ptr<httplib::Server> server;
    std::unique_ptr<StatusPublisher> publisher;
    ServiceMetrics metrics;
    int port = 0;

    Impl(std::unique_ptr<Store> s, ServiceConfig c) : store(std::move(s)), config(std::move(c)) {}

    // Who is asking: the device behind the client certificate or the bearer token. Answers the
    // refusal itself and returns nullopt when there is no acceptable credential.
    std::optional<Device> authenticate(const httplib::Request& req, httplib::Response& res,
                                       Permission needed) {
        Result<std::optional<Device>, StoreError> found = std::optional<Device>();
        const std::string cn = peerCommonName(req.ssl);
        const std::string auth = req.get_header_value("Authorization");
        constexpr std::string_view kBearer = "Bearer ";
        if (!cn.empty()) {
            found = store->deviceById(cn);
        } else if (auth.rfind(kBearer, 0) == 0 && auth.size() > kBearer.size()) {
            found =
                store->deviceByToken(tokenDigest(std::string_view(auth).substr(kBearer.size())));
        } else {
            res.set_header("WWW-Authenticate", "Bearer");
            refuse(res, 401, "unauthenticated",
                   "no credential: send the device's token (Authorization: Bearer ...) or its "
                   "client certificate");
            return std::nullopt;
        }
        if (!found) {
            refuse(res, found.error());
            return std::nullopt;
        }
        const std::optional<Device>& device = found.value();
        if (!device || device->disabled) {
            refuse(res, 401, "unknown_credential",
                   "this credential is not registered or was disabled; ask the registry's "
                   "administrator for a new one");
            return std::nullopt;
        }
        if (!cn.empty() && device->certificateSha256 &&
            peerCertificateSha256(req.ssl) != *device->certificateSha256) {
            // The root issued it, but it is not the one registered: replaced (rotated) or a
            // second certificate made for the same id.
            refuse(res, 401, "unknown_credential",
                   fmt::format("this is not the certificate registered for '{}'; ask the "
                               "registry's administrator",
                               device->id));
            return std::nullopt;
        }
        const auto now =
            std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
        if (device->expiresAt <= now) {
            refuse(res, 401, "credential_expired",
                   fmt::format("the credential of '{}' has expired; ask the registry's "
                               "administrator to renew it",
                               device->id));
            return std::nullopt;
        }
        if (!allows(device->role, needed)) {
            refuse(res, 403, "forbidden",
                   fmt::format("a {} may not do this", toString(device->role)));
            return std::nullopt;
        }
        if (device->role == Role::Station && !device->region) {
            // Registered before stations needed one (or written into the database by hand).
            refuse(res, 403, "forbidden",
                   fmt::format("station '{}' is registered without a region; register it again "
                               "with its region",
                               device->id));
            return std::nullopt;
        }
        return device;
    }

    // Reads the body with `from`, one of api.hpp's strict parsers; answers the refusal itself.
    template <class From>
    auto parse(const httplib::Request& req, httplib::Response& res, From from)
        -> std::optional<std::decay_t<decltype(from(Json()).value())>> {
        auto body = api::parseBody(req.body, config.maxBodyBytes);
        if (!body) {
            refuse(res, body.error());
            return std::nullopt;
        }
        auto value = from(body.value());
        if (!value) {
            refuse(res, value.error());
            return std::nullopt;
        }
        return std::move(value).value();
    }

    // A status list that could not be built for the registry's current state is named as such
    // (status_list_stale), so that no desk takes an older list, or a 204, as confirmation.
    void refusePublication(httplib::Response& res, const StoreError& error) {
        if (auto why = publisher->failure()) {
            res.set_header("Retry-After", "60");
            return refuse(res, 503, "status_list_stale", *why);
        }
        refuse(res, error);
    }

    // Whether `device` may take part in `eventId`'s check-ins (an admin always); answers the
    // refusal itself when not.
    bool onEvent(httplib::Response& res, const Device& device, const std::string& eventId) {
        if (device.role == Role::Admin)
            return true;
        auto desk = store->isEventDesk(eventId, device.id);
        if (!desk) {
            refuse(res, desk.error());
            return false;
        }
        if (!desk.value()) {
            refuse(res, 403, "out_of_scope",
                   fmt::format("'{}' is not a desk of event '{}' (or no such event is "
                               "registered); the registry's administrator adds desks to events",
                               device.id, eventId));
            return false;
        }
        return true;
    }

    /// What /v1/health and /metrics say. Problems are what fails the union: the database, a
    /// status list that cannot be published, an expired status signer ("failing"); warnings
    /// are what will (a signer that expires soon: "degraded"). Only an instance that cannot
    /// answer (its database) says 503, for a load balancer to take it out: the status list and
    /// its signer are every instance's, and taking them all out would stop lookups too.
    struct Health {
        ServiceMetrics::State state;
        int schemaVersion = 0;
        std::vector<std::string> problems;
        std::vector<std::string> warnings;
        std::optional<std::string> statusListError;
        std::optional<std::string> statusListWarning;
    };
    static constexpr auto kSignerWarning = std::chrono::days(30);

    Health health() {
        Health h;
        auto version = store->schemaVersion();
        auto sequence = store->currentSequence();
        if (!version || !sequence) {
            // The database's own words stay in the log.
            const StoreError& error = !version ? version.error() : sequence.error();
            logLine(Level::Error, "health: the database failed: " + error.message);
            h.problems.push_back("the database does not answer");
        } else {
            h.state.databaseUp = true;
            h.schemaVersion = version.value();
            h.state.sequence = static_cast<double>(sequence.value());
        }
        if (!publisher)
            return h;
        const auto now = std::chrono::system_clock::now();
        const StatusPublisher::Stats stats = publisher->stats();
        h.state.publishing = true;
        h.state.statusListVersion = static_cast<double>(stats.version);
        if (stats.confirmedAt)
            h.state.statusListAge = std::chrono::duration<double>(now - *stats.confirmedAt).count();
        h.state.builds = static_cast<double>(stats.builds);
        h.state.failedBuilds = static_cast<double>(stats.failedBuilds);
        const auto notAfter = config.statusSigner->certificate.notAfter();
        h.state.signerExpiresIn = std::chrono::duration<double>(notAfter - now).count();
        // A list that cannot be published is the registry failing its verifiers.
        if ((h.statusListError = publisher->failure()))
            h.problems.push_back(*h.statusListError);
        if ((h.statusListWarning = publisher->warning()))
            h.warnings.push_back(*h.statusListWarning);
        if (notAfter <= now) {
            h.problems.push_back(fmt::format(
                "the status-signing certificate expired on {:%Y-%m-%d}: verifiers refuse the "
                "lists it signs; issue a new one (unioncard keys issue-status-signer)",
                std::chrono::floor<std::chrono::days>(notAfter)));
        } else if (notAfter - now < kSignerWarning) {
            h.warnings.push_back(fmt::format(
                "the status-signing certificate expires on {:%Y-%m-%d}, in {} days: issue a new "
                "one before then",
                std::chrono::floor<std::chrono::days>(notAfter),
                std::chrono::floor<std::chrono::days>(notAfter - now).count()));
        }
        return h;
    }

    void routes() {
        httplib::Server& s = *server;

        s.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
            const Health h = health();
            Json answer{{"status",
                         h.problems.empty() ? (h.warnings.empty() ? "ok" : "degraded") : "failing"},
                        {"problems", h.problems},
                        {"warnings", h.warnings}};
            if (h.state.databaseUp) {
                answer["schema_version"] = h.schemaVersion;
                answer["sequence"] = static_cast<std::uint64_t>(h.state.sequence);
            }
            if (h.state.publishing) {
                answer["status_list"] =
                    Json{{"version", static_cast<std::uint64_t>(h.state.statusListVersion)},
                         {"age_seconds", static_cast<std::int64_t>(h.state.statusListAge)},
                         {"failed_builds", static_cast<std::uint64_t>(h.state.failedBuilds)},
                         {"signer_expires_in_days",
                          static_cast<std::int64_t>(h.state.signerExpiresIn / 86400)}};
                // The older keys, which clients read.
                if (h.statusListError)
                    answer["status_list_error"] = *h.statusListError;
                if (h.statusListWarning)
                    answer["status_list_warning"] = *h.statusListWarning;
            }
            answer["serving"] = h.state.databaseUp;
            if (!h.state.databaseUp)
                res.set_header("Retry-After", "5");
            reply(res, h.state.databaseUp ? 200 : 503, answer);
        });

        // For a monitoring system (Prometheus' text format): nothing personal, no card number.
        s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
            res.status = 200;
            res.set_content(metrics.render(health().state), "text/plain; version=0.0.4");
        });

        s.Get("/v1/applications", [this](const httplib::Request& req, httplib::Response& res) {
            auto device = authenticate(req, res, Permission::ReadApplications);
            if (!device)
                return;
            for (const auto& [name, _] : req.params) {
                if (name != "region" && name != "organisation" && name != "cursor" &&
                    name != "limit") {
                    refuse(res, 400, "unknown_field",
                           fmt::format("unknown query parameter '{}'", name));
                    return;
                }
            }
            ApplicationFilter filter;
            const auto region = integerParam(req, "region", 1, 89, res);
            const auto organisation = integerParam(req, "organisation", 0, 4294967295L, res);
            const auto limit = integerParam(req, "limit", 1, 1000, res);
            if (badParam(region) || badParam(organisation) || badParam(limit))
                return;
            if (region)
                filter.region = static_cast<int>(*region);
            if (device->role == Role::Station) {
                // A station sees its own region's members, whatever it asks for.
                if (filter.region && *filter.region != *device->region)
                    return refuse(res, 403, "out_of_scope",
                                  fmt::format("station '{}' issues cards for region {:02}, not "
                                              "{:02}",
                                              device->id, *device->region, *filter.region));
                filter.region = device->region;
            }
            if (organisation)
                filter.organisationCode = static_cast<std::uint32_t>(*organisation);
            if (limit)
                filter.limit = static_cast<int>(*limit);
            filter.cursor = req.get_param_value("cursor");
            auto page = store->pendingApplications(filter);
            if (!page)
                return refuse(res, page.error());
            reply(res, 200, toJson(page.value()));
        });

        s.Post("/v1/applications", [this](const httplib::Request& req, httplib::Response& res) {
            if (!authenticate(req, res, Permission::Administer))
                return;
            auto applications = parse(req, res, [](const Json& j) { return parseApplications(j); });
            if (!applications)
                return;
            auto added = store->addApplications(*applications);
            if (!added)
                return refuse(res, added.error());
            reply(res, 201, Json{{"added", added.value()}});
        });

        s.Post("/v1/events", [this](const httplib::Request& req, httplib::Response& res) {
            auto device = authenticate(req, res, Permission::WriteEvents);
            if (!device)
                return;
            auto event = parse(req, res, [](const Json& j) { return parseStatusEvent(j); });
            if (!event)
                return;
            if (device->role == Role::Station && event->station != device->id) {
                return refuse(res, 403, "forbidden",
                              fmt::format("station '{}' may only report its own events, not "
                                          "those of '{}'",
                                          device->id, event->station));
            }
            EventScope scope;
            if (device->role == Role::Station)
                scope.region = device->region;
            auto outcome = store->recordEvent(*event, device->id, scope);
            if (!outcome) {
                const StoreError& e = outcome.error();
                if (e.code == StoreErrorCode::Conflict)
                    return refuse(res, 409, "impossible_transition", e.message);
                return refuse(res, e);
            }
            reply(res, outcome->duplicate ? 200 : 201, toJson(outcome.value()));
        });

        s.Get("/v1/events", [this](const httplib::Request& req, httplib::Response& res) {
            if (!authenticate(req, res, Permission::Administer))
                return;
            const auto after =
                integerParam(req, "after", 0, std::numeric_limits<long>::max() - 1, res);
            const auto limit = integerParam(req, "limit", 1, 10000, res);
            if (badParam(after) || badParam(limit))
                return;
            auto events = store->eventsAfter(after ? static_cast<std::uint64_t>(*after) : 0,
                                             limit ? static_cast<int>(*limit) : 1000);
            if (!events)
                return refuse(res, events.error());
            Json items = Json::array();
            for (const RecordedEvent& e : events.value()) {
                Json item = toJson(e.event);
                item["sequence"] = e.sequence;
                item["received_at"] = api::formatTime(e.receivedAt);
                items.push_back(std::move(item));
            }
            reply(res, 200, Json{{"items", std::move(items)}});
        });

        s.Post("/v1/leases", [this](const httplib::Request& req, httplib::Response& res) {
            auto device = authenticate(req, res, Permission::LeaseNumbers);
            if (!device)
                return;
            auto request = parse(req, res, [](const Json& j) { return parseLeaseRequest(j); });
            if (!request)
                return;
            if (device->region && *device->region != request->region) {
                return refuse(res, 403, "forbidden",
                              fmt::format("station '{}' issues cards for region {:02}, not {:02}",
                                          device->id, *device->region, request->region));
            }
            auto lease =
                store->leaseSerials(request->region, request->count, device->id, config.leaseQuota);
            if (!lease)
                return refuse(res, lease.error());
            reply(res, 201, toJson(lease.value()));
        });

        s.Get(R"(/v1/cards/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
            auto device = authenticate(req, res, Permission::LookupStatus);
            if (!device)
                return;
            auto number = parseCardNumberParam(req.matches[1].str());
            if (!number)
                return refuse(res, number.error());
            // Who the member is only for a role that may know, and for a station only within
            // its region.
            const bool personal =
                allows(device->role, Permission::LookupPersonal) &&
                (device->role != Role::Station || device->region == number->region());
            auto answer = store->lookup(number->digits(), personal);
            if (!answer)
                return refuse(res, answer.error());
            reply(res, 200,
                  toJson(device->role == Role::Merchant ? merchantView(answer.value())
                                                        : answer.value()));
        });

        s.Post("/v1/check-ins", [this](const httplib::Request& req, httplib::Response& res) {
            auto device = authenticate(req, res, Permission::WriteCheckIns);
            if (!device)
                return;
            auto checkIns = parse(req, res, [](const Json& j) { return parseCheckIns(j); });
            if (!checkIns)
                return;
            // A desk checks people in only at the events it is registered to: before recording
            // any of the batch, so that a refused batch leaves nothing behind.
            std::set<std::string> allowed;
            for (const CheckIn& c : *checkIns) {
                if (allowed.count(c.eventId) != 0)
                    continue;
                if (!onEvent(res, *device, c.eventId))
                    return;
                allowed.insert(c.eventId);
            }
            int recorded = 0;
            int duplicates = 0;
            for (const CheckIn& c : *checkIns) {
                auto fresh = store->recordCheckIn(c, device->id);
                if (!fresh)
                    return refuse(res, fresh.error());
                ++(fresh.value() ? recorded : duplicates);
            }
            reply(res, 200, Json{{"recorded", recorded}, {"duplicates", duplicates}});
        });

        s.Get("/v1/check-ins", [this](const httplib::Request& req, httplib::Response& res) {
            auto device = authenticate(req, res, Permission::WriteCheckIns);
            if (!device)
                return;
            const std::string eventId = req.get_param_value("event_id");
            if (eventId.empty() || eventId.size() > 128 || !api::isCleanText(eventId))
                return refuse(res, 400, "invalid_value",
                              "query parameter 'event_id' must name the event (1 to 128 "
                              "characters)");
            if (!onEvent(res, *device, eventId))
                return;
            const auto after =
                integerParam(req, "after", 0, std::numeric_limits<long>::max() - 1, res);
            const auto limit = integerParam(req, "limit", 1, 10000, res);
            if (badParam(after) || badParam(limit))
                return;
            auto rows =
                store->checkInsAfter(eventId, after ? static_cast<std::uint64_t>(*after) : 0,
                                     limit ? static_cast<int>(*limit) : 1000);
            if (!rows)
                return refuse(res, rows.error());
            Json items = Json::array();
            for (const RecordedCheckIn& r : rows.value()) {
                Json item = toJson(r.checkIn);
                item["sequence"] = r.sequence;
                items.push_back(std::move(item));
            }
            reply(res, 200, Json{{"items", std::move(items)}});
        });

        s.Get("/v1/trust-list", [this](const httplib::Request& req, httplib::Response& res) {
            if (!authenticate(req, res, Permission::ReadStatusList))
                return;
            if (!config.trustList) {
                return refuse(res, 503, "trust_list_unavailable",
                              "this registry serves no trust list (start it with --trust-list)");
            }
            std::ifstream in(*config.trustList, std::ios::binary);
            std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
            if (!in.good() && !in.eof()) {
                return refuse(res, 503, "trust_list_unavailable",
                              "the registry cannot read its trust list file");
            }
            if (bytes.empty() || bytes.size() > card::TrustList::kMaxSize) {
                return refuse(res, 503, "trust_list_unavailable",
                              "the registry's trust list file is empty or too large");
            }
            res.set_header("Cache-Control", "no-cache");
            res.status = 200;
            res.set_content(std::move(bytes), "application/cose");
        });

        s.Get("/v1/status-list", [this](const httplib::Request& req, httplib::Response& res) {
            if (!authenticate(req, res, Permission::ReadStatusList))
                return;
            if (!publisher) {
                return refuse(res, 503, "status_list_unavailable",
                              "this registry has no status-signing key configured");
            }
            auto list = publisher->latest();
            if (!list)
                return refusePublication(res, list.error());
            res.set_header("X-Status-List-Version", std::to_string(list->version));
            res.set_header("Cache-Control", "no-cache");
            res.status = 200;
            res.set_content(reinterpret_cast<const char*>(list->bytes->data()), list->bytes->size(),
                            "application/cose");
        });

        s.Get("/v1/status-list/delta", [this](const httplib::Request& req, httplib::Response& res) {
            if (!authenticate(req, res, Permission::ReadStatusList))
                return;
            const auto since =
                integerParam(req, "since", 0, std::numeric_limits<long>::max() - 1, res);
            if (badParam(since))
                return;
            if (!since)
                return refuse(res, 400, "missing_field", "query parameter 'since' is required");
            if (!publisher) {
                return refuse(res, 503, "status_list_unavailable",
                              "this registry has no status-signing key configured");
            }
            auto delta = publisher->deltaSince(static_cast<std::uint64_t>(*since));
            if (!delta)
                return refusePublication(res, delta.error());
            if (!delta.value()) {
                return refuse(res, 404, "unknown_base",
                              fmt::format("no status list of version {} is kept; fetch the whole "
                                          "list",
                                          *since));
            }
            res.set_header("X-Status-List-Version", std::to_string(delta.value()->version));
            if (!delta.value()->bytes) {
                res.status = 204; // the caller holds the newest list
                return;
            }
            res.status = 200;
            res.set_content(reinterpret_cast<const char*>(delta.value()->bytes->data()),
                            delta.value()->bytes->size(), "application/cose");
        });
    }
};

Service::Service(std::unique_ptr<Store> store, ServiceConfig config)
    : m_impl(std::make_unique<Impl>(std::move(store), std::move(config))) {}

Service::~Service() = default;

std::optional<ServiceError> Service::bind() {
    Impl& d = *m_impl;
    if (d.config.tls) {
        const TlsConfig& tls = *d.config.tls;
        std::string problem;
        d.server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
            SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
            if (!tls.keyPassphrase.empty()) {
                SSL_CTX_set_default_passwd_cb_userdata(
                    &ctx, const_cast<char*>(tls.keyPassphrase.c_str()));
            }
            if (SSL_CTX_use_certificate_chain_file(&ctx, tls.certificate.c_str()) != 1) {
                problem =
                    fmt::format("cannot use '{}' as the TLS certificate", tls.certificate.string());
                return false;
            }
            if (SSL_CTX_use_PrivateKey_file(&ctx, tls.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
                SSL_CTX_check_private_key(&ctx) != 1) {
                problem = fmt::format("cannot use '{}' as the TLS key: wrong passphrase, or not "
                                      "the certificate's key",
                                      tls.key.string());
                return false;
            }
            SSL_CTX_set_default_passwd_cb_userdata(&ctx, nullptr);
            if (tls.clientCa) {
                if (SSL_CTX_load_verify_locations(&ctx, tls.clientCa->c_str(), nullptr) != 1) {
                    problem = fmt::format("cannot read the client CA '{}'", tls.clientCa->string());
                    return false;
                }
                // Ask for a certificate but do not insist: token-holding devices have none.
                SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
                // With peer verification on, OpenSSL resumes no session without a context id
                // (SSL_R_SESSION_ID_CONTEXT_UNINITIALIZED): clients that cache sessions would
                // fail every reconnect.
                static constexpr unsigned char kContext[] = "unioncard-registry";
                SSL_CTX_set_session_id_context(&ctx, kContext, sizeof kContext - 1);
            }
            return true;
        });
        ERR_clear_error();
        if (!d.server->is_valid())
            return ServiceError{problem.empty() ? "TLS setup failed" : problem};
    } else {
        d.server = std::make_unique<httplib::Server>();
    }
    httplib::Server& s = *d.server;
    s.set_payload_max_length(d.config.maxBodyBytes);
    s.set_tcp_nodelay(true); // small JSON answers must not wait for Nagle (about 40 ms)
    s.set_read_timeout(std::chrono::seconds(10));
    s.set_write_timeout(std::chrono::seconds(10));
    s.set_keep_alive_max_count(1000);
    const int threads = d.config.threads;
    s.new_task_queue = [threads] {
        return new httplib::ThreadPool(static_cast<size_t>(threads));
    };
    s.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            refuse(res, 500, "internal", "the registry failed on this request; it keeps serving");
        });
    // httplib calls this outside its handlers' try block: nothing in it may throw (reply()
    // never does; an allocation failure ends the process as it would anywhere).
    s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty())
            return;
        switch (res.status) {
        case 404:
            refuse(res, 404, "not_found", fmt::format("no such route: {}", maskedPath(req.path)));
            break;
        case 413:
            refuse(res, 413, "too_large", "the request body is larger than the registry accepts");
            break;
        case 400:
            refuse(res, 400, "malformed_request", "the HTTP request could not be read");
            break;
        default:
            refuse(res, res.status, "http_error", "the request was refused");
            break;
        }
    });
    // Each request's start, seen by the worker thread that then answers it and logs it, with
    // the connection it came on: a request refused before routing (400, 413) has no start of
    // its own, and must not take one left by a request whose answer was never logged (a write
    // that failed closes that connection, so the next one on this thread is another's).
    struct Start {
        std::chrono::steady_clock::time_point at;
        std::string address;
        int port = 0;
    };
    static thread_local std::optional<Start> started;
    s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
        started = Start{std::chrono::steady_clock::now(), req.remote_addr, req.remote_port};
        return httplib::Server::HandlerResponse::Unhandled;
    });
    s.set_logger([&d](const httplib::Request& req, const httplib::Response& res) {
        const bool mine =
            started && started->port == req.remote_port && started->address == req.remote_addr;
        const double seconds =
            mine ? std::chrono::duration<double>(std::chrono::steady_clock::now() - started->at)
                       .count()
                 : -1;
        started.reset();
        d.metrics.observe(req.path, res.status, seconds);
        if (d.config.accessLog)
            logLine(res.status >= 500 ? Level::Warning : Level::Info,
                    fmt::format("{} {} {}", req.method, maskedPath(req.path), res.status));
    });
    if (d.config.statusSigner)
        d.publisher = std::make_unique<StatusPublisher>(*d.store, *d.config.statusSigner,
                                                        d.config.statusListInterval,
                                                        d.config.statusListsKept);
    d.routes();
    d.port = d.config.port == 0
                 ? s.bind_to_any_port(d.config.host)
                 : (s.bind_to_port(d.config.host, d.config.port) ? d.config.port : -1);
    if (d.port <= 0)
        return ServiceError{fmt::format("cannot listen on {}:{}", d.config.host, d.config.port)};
    return std::nullopt;
}

int Service::port() const {
    return m_impl->port;
}

bool Service::run() {
    return m_impl->server && m_impl->server->listen_after_bind();
}

void Service::stop() {
    if (m_impl->server)
        m_impl->server->stop();
}

} // namespace unioncard::registry
