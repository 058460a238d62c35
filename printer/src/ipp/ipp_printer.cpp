// SPDX-License-Identifier: Apache-2.0
// The IPP adapter: libcups' IPP API (not the lp command, not a CUPS queue), talking straight to
// an IPP Everywhere printer (PWG 5100.14). The only file that includes <cups/cups.h>.

#include <unioncard/printer/ipp.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cups/cups.h>
#include <cups/pwg.h>
#include <thread>

namespace unioncard::printer::ipp {

namespace {

Failure<IppError> ippError(IppErrorCode code, std::string message) {
    return fail(IppError{code, std::move(message)});
}

struct IppDeleter {
    void operator()(ipp_t* ipp) const { ippDelete(ipp); }
};
using IppPtr = std::unique_ptr<ipp_t, IppDeleter>;

std::vector<std::string> strings(ipp_t* response, const char* name) {
    std::vector<std::string> out;
    if (ipp_attribute_t* a = ippFindAttribute(response, name, IPP_TAG_ZERO)) {
        for (int i = 0; i < ippGetCount(a); ++i) {
            if (const char* s = ippGetString(a, i, nullptr)) {
                out.emplace_back(s);
            }
        }
    }
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
        out += out.empty() ? s : ", " + s;
    }
    return out.empty() ? "none" : out;
}

// PWG 5101.1 §5 media names carry their size; libcups' pwgMediaForPWG reads it (in hundredths
// of a millimetre). ID-1 is 53.98 x 85.60 mm (ISO/IEC 7810:2019 §5.1.1).
bool isCardSize(const std::string& media) {
    const pwg_media_t* m = pwgMediaForPWG(media.c_str());
    if (!m) {
        return false;
    }
    const int shortEdge = std::min(m->width, m->length);
    const int longEdge = std::max(m->width, m->length);
    return std::abs(shortEdge - 5398) <= 50 && std::abs(longEdge - 8560) <= 50;
}

} // namespace

std::string_view toString(IppErrorCode code) {
    switch (code) {
    case IppErrorCode::BadUri:
        return "bad_uri";
    case IppErrorCode::Unreachable:
        return "unreachable";
    case IppErrorCode::Refused:
        return "refused";
    case IppErrorCode::MediaNotSupported:
        return "media_not_supported";
    case IppErrorCode::FormatNotSupported:
        return "format_not_supported";
    case IppErrorCode::JobAborted:
        return "job_aborted";
    case IppErrorCode::Timeout:
        return "timeout";
    case IppErrorCode::Protocol:
        return "protocol";
    }
    return "protocol";
}

std::string_view toString(JobState state) {
    switch (state) {
    case JobState::Pending:
        return "pending";
    case JobState::PendingHeld:
        return "pending-held";
    case JobState::Processing:
        return "processing";
    case JobState::ProcessingStopped:
        return "processing-stopped";
    case JobState::Canceled:
        return "canceled";
    case JobState::Aborted:
        return "aborted";
    case JobState::Completed:
        return "completed";
    }
    return "unknown";
}

std::optional<std::string> PrinterInfo::cardMedia() const {
    for (std::string_view preferred : {kCardMedia, kCardMediaAlternative}) {
        if (std::find(mediaSupported.begin(), mediaSupported.end(), preferred) !=
            mediaSupported.end()) {
            return std::string(preferred);
        }
    }
    // Any other name of the same size (a vendor's "custom_cr80_53.98x85.6mm").
    for (const auto& m : mediaSupported) {
        if (isCardSize(m)) {
            return m;
        }
    }
    return std::nullopt;
}

bool PrinterInfo::takesPdf() const {
    return std::find(documentFormats.begin(), documentFormats.end(), "application/pdf") !=
           documentFormats.end();
}

struct IppPrinter::Impl {
    std::string uri;
    std::string host;
    int port = 631;
    std::string resource;
    http_t* http = nullptr;

    ~Impl() {
        if (http) {
            httpClose(http);
        }
    }

    // Turns a failed exchange into a typed error. `what` names the operation in words.
    IppError failure(ipp_t* response, const char* what) const {
        const ipp_status_t status = response ? ippGetStatusCode(response) : cupsLastError();
        const std::string text = cupsLastErrorString() ? cupsLastErrorString() : "";
        if (!response) {
            return {IppErrorCode::Unreachable,
                    fmt::format("{} failed: the printer at {}:{} did not answer ({}): check that "
                                "it is on and on the network, then try again",
                                what, host, port, text)};
        }
        switch (status) {
        case IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED:
            return {IppErrorCode::FormatNotSupported,
                    fmt::format("{}: the printer does not take PDF ({}): use a printer that "
                                "supports IPP Everywhere with PDF",
                                what, text)};
        case IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES: {
            const bool media = ippFindAttribute(response, "media", IPP_TAG_ZERO) != nullptr ||
                               ippFindAttribute(response, "media-col", IPP_TAG_ZERO) != nullptr;
            if (media) {
                return {IppErrorCode::MediaNotSupported,
                        fmt::format("{}: the printer has no card (CR80) media: load cards and "
                                    "set the tray to {} on the printer",
                                    what, kCardMedia)};
            }
            return {IppErrorCode::Refused,
                    fmt::format("{}: the printer refused the job's attributes ({})", what, text)};
        }
        case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
        case IPP_STATUS_ERROR_BUSY:
        case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
            return {IppErrorCode::Refused,
                    fmt::format("{}: the printer is not taking jobs now ({}): check its panel, "
                                "then try again",
                                what, text)};
        case IPP_STATUS_ERROR_NOT_AUTHORIZED:
        case IPP_STATUS_ERROR_FORBIDDEN:
        case IPP_STATUS_ERROR_NOT_AUTHENTICATED:
            return {IppErrorCode::Refused,
                    fmt::format("{}: the printer does not let this station print ({}): ask the "
                                "office's administrator to allow it",
                                what, text)};
        case IPP_STATUS_ERROR_NOT_FOUND:
            return {IppErrorCode::Refused,
                    fmt::format("{}: the printer has no such printer or job ({}): check the URI "
                                "{}",
                                what, text, uri)};
        default:
            return {IppErrorCode::Protocol, fmt::format("{}: the printer answered {} ({})", what,
                                                        ippErrorString(status), text)};
        }
    }

    IppPtr request(ipp_op_t op) const {
        IppPtr req(ippNewRequest(op));
        ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr,
                     uri.c_str());
        ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr,
                     cupsUser());
        return req;
    }
};

IppPrinter::IppPrinter(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
IppPrinter::IppPrinter(IppPrinter&&) noexcept = default;
IppPrinter& IppPrinter::operator=(IppPrinter&&) noexcept = default;
IppPrinter::~IppPrinter() = default;

const std::string& IppPrinter::uri() const {
    return m_impl->uri;
}

Result<IppPrinter, IppError> IppPrinter::connect(std::string_view uri,
                                                 std::chrono::milliseconds timeout) {
    using R = Result<IppPrinter, IppError>;
    auto impl = std::make_unique<Impl>();
    impl->uri = std::string(uri);
    char scheme[32], user[256], host[256], resource[1024];
    int port = 0;
    if (httpSeparateURI(HTTP_URI_CODING_ALL, impl->uri.c_str(), scheme, sizeof scheme, user,
                        sizeof user, host, sizeof host, &port, resource,
                        sizeof resource) < HTTP_URI_STATUS_OK ||
        (std::string_view(scheme) != "ipp" && std::string_view(scheme) != "ipps") || !*host) {
        return R(
            ippError(IppErrorCode::BadUri, fmt::format("'{}' is not a printer URI: write it as "
                                                       "ipp://HOST:PORT/ipp/print (RFC 8010 §4.3)",
                                                       uri)));
    }
    impl->host = host;
    impl->port = port;
    impl->resource = resource;
    const bool tls = std::string_view(scheme) == "ipps";
    impl->http = httpConnect2(host, port, nullptr, AF_UNSPEC,
                              tls ? HTTP_ENCRYPTION_ALWAYS : HTTP_ENCRYPTION_IF_REQUESTED, 1,
                              static_cast<int>(timeout.count()), nullptr);
    if (!impl->http) {
        return R(ippError(IppErrorCode::Unreachable,
                          fmt::format("cannot connect to the printer at {}:{} ({}): check that it "
                                      "is on, on the network, and that the URI is right",
                                      host, port, cupsLastErrorString())));
    }
    // Each request waits at most this long for an answer before it counts as unreachable.
    httpSetTimeout(impl->http, static_cast<double>(timeout.count()) / 1000.0, nullptr, nullptr);
    return IppPrinter(std::move(impl));
}

Result<PrinterInfo, IppError> IppPrinter::info() {
    using R = Result<PrinterInfo, IppError>;
    IppPtr req = m_impl->request(IPP_OP_GET_PRINTER_ATTRIBUTES);
    static const char* const kWanted[] = {"printer-state",
                                          "printer-state-reasons",
                                          "printer-state-message",
                                          "printer-is-accepting-jobs",
                                          "printer-make-and-model",
                                          "media-supported",
                                          "media-ready",
                                          "document-format-supported"};
    ippAddStrings(req.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  static_cast<int>(std::size(kWanted)), nullptr, kWanted);
    IppPtr resp(cupsDoRequest(m_impl->http, req.release(), m_impl->resource.c_str()));
    if (!resp || ippGetStatusCode(resp.get()) > IPP_STATUS_OK_EVENTS_COMPLETE) {
        return R(fail(m_impl->failure(resp.get(), "asking the printer for its state")));
    }
    PrinterInfo info;
    if (ipp_attribute_t* a = ippFindAttribute(resp.get(), "printer-state", IPP_TAG_ENUM)) {
        const char* s = ippEnumString("printer-state", ippGetInteger(a, 0));
        info.state = s ? s : "unknown";
    }
    info.stateReasons = strings(resp.get(), "printer-state-reasons");
    if (auto v = strings(resp.get(), "printer-state-message"); !v.empty()) {
        info.stateMessage = v.front();
    }
    if (ipp_attribute_t* a =
            ippFindAttribute(resp.get(), "printer-is-accepting-jobs", IPP_TAG_BOOLEAN)) {
        info.acceptingJobs = ippGetBoolean(a, 0) != 0;
    }
    if (auto v = strings(resp.get(), "printer-make-and-model"); !v.empty()) {
        info.makeAndModel = v.front();
    }
    info.mediaSupported = strings(resp.get(), "media-supported");
    info.mediaReady = strings(resp.get(), "media-ready");
    info.documentFormats = strings(resp.get(), "document-format-supported");
    return info;
}

Result<int, IppError> IppPrinter::printPdf(std::span<const std::uint8_t> pdf,
                                           const PrintOptions& options) {
    using R = Result<int, IppError>;
    auto info = this->info();
    if (!info) {
        return R(fail(info.error()));
    }
    if (!info->acceptingJobs || info->state == "stopped") {
        return R(
            ippError(IppErrorCode::Refused,
                     fmt::format("the printer is {} and {} jobs (reasons: {}{}): clear it on "
                                 "its panel, then try again",
                                 info->state, info->acceptingJobs ? "accepts" : "does not accept",
                                 joined(info->stateReasons),
                                 info->stateMessage.empty() ? "" : "; " + info->stateMessage)));
    }
    if (!info->takesPdf()) {
        return R(ippError(IppErrorCode::FormatNotSupported,
                          fmt::format("the printer does not take PDF (it takes {}): use an IPP "
                                      "Everywhere printer that prints PDF",
                                      joined(info->documentFormats))));
    }
    std::string media = options.media;
    if (media.empty()) {
        auto card = info->cardMedia();
        if (!card) {
            return R(ippError(IppErrorCode::MediaNotSupported,
                              fmt::format("the printer has no card media (CR80, {}); it offers {}: "
                                          "use a card printer, or set its tray to ID-1 cards",
                                          kCardMedia, joined(info->mediaSupported))));
        }
        media = *card;
    } else if (std::find(info->mediaSupported.begin(), info->mediaSupported.end(), media) ==
               info->mediaSupported.end()) {
        return R(ippError(IppErrorCode::MediaNotSupported,
                          fmt::format("the printer does not offer media '{}'; it offers {}", media,
                                      joined(info->mediaSupported))));
    }

    IppPtr req = m_impl->request(IPP_OP_PRINT_JOB);
    ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr,
                 options.jobName.c_str());
    ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
                 "application/pdf");
    ippAddString(req.get(), IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", nullptr, media.c_str());
    if (!options.userName.empty()) {
        ippDeleteAttribute(req.get(),
                           ippFindAttribute(req.get(), "requesting-user-name", IPP_TAG_NAME));
        ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr,
                     options.userName.c_str());
    }
    // Print-Job carries the document after the attributes in one HTTP POST (RFC 8010 §3.1.1).
    // The Content-Length covers the IPP message and the document (libcups' cupsDoIORequest
    // computes it the same way).
    http_status_t status = cupsSendRequest(m_impl->http, req.get(), m_impl->resource.c_str(),
                                           ippLength(req.get()) + pdf.size());
    constexpr std::size_t kChunk = 64 * 1024;
    for (std::size_t off = 0; status == HTTP_STATUS_CONTINUE && off < pdf.size(); off += kChunk) {
        const std::size_t n = std::min(kChunk, pdf.size() - off);
        status =
            cupsWriteRequestData(m_impl->http, reinterpret_cast<const char*>(pdf.data() + off), n);
    }
    IppPtr resp(cupsGetResponse(m_impl->http, m_impl->resource.c_str()));
    if (!resp || ippGetStatusCode(resp.get()) > IPP_STATUS_OK_EVENTS_COMPLETE) {
        return R(fail(m_impl->failure(resp.get(), "sending the card to the printer")));
    }
    ipp_attribute_t* id = ippFindAttribute(resp.get(), "job-id", IPP_TAG_INTEGER);
    if (!id) {
        return R(ippError(IppErrorCode::Protocol,
                          "the printer took the job but gave no job-id (RFC 8011 §4.2.1.2)"));
    }
    return ippGetInteger(id, 0);
}

Result<JobStatus, IppError> IppPrinter::job(int jobId) {
    using R = Result<JobStatus, IppError>;
    IppPtr req = m_impl->request(IPP_OP_GET_JOB_ATTRIBUTES);
    ippAddInteger(req.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", jobId);
    static const char* const kWanted[] = {"job-state", "job-state-reasons", "job-state-message"};
    ippAddStrings(req.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  static_cast<int>(std::size(kWanted)), nullptr, kWanted);
    IppPtr resp(cupsDoRequest(m_impl->http, req.release(), m_impl->resource.c_str()));
    if (!resp || ippGetStatusCode(resp.get()) > IPP_STATUS_OK_EVENTS_COMPLETE) {
        return R(fail(m_impl->failure(resp.get(), "asking the printer about the job")));
    }
    ipp_attribute_t* state = ippFindAttribute(resp.get(), "job-state", IPP_TAG_ENUM);
    const int value = state ? ippGetInteger(state, 0) : 0;
    if (value < 3 || value > 9) {
        return R(ippError(IppErrorCode::Protocol,
                          fmt::format("the printer gave job {} no valid job-state", jobId)));
    }
    JobStatus s;
    s.id = jobId;
    s.state = static_cast<JobState>(value);
    s.reasons = strings(resp.get(), "job-state-reasons");
    if (auto v = strings(resp.get(), "job-state-message"); !v.empty()) {
        s.message = v.front();
    }
    return s;
}

Result<JobStatus, IppError> IppPrinter::waitForJob(int jobId, std::chrono::milliseconds timeout,
                                                   std::chrono::milliseconds poll) {
    using R = Result<JobStatus, IppError>;
    // Polling Get-Job-Attributes is what every IPP Everywhere printer answers; event
    // notifications (RFC 3995) are optional for the printer.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        auto s = job(jobId);
        if (!s) {
            return s;
        }
        if (s->state == JobState::Completed) {
            return s;
        }
        if (s->finished()) {
            return R(ippError(IppErrorCode::JobAborted,
                              fmt::format("job {} was {} by the printer (reasons: {}{}): check "
                                          "the printer and the card, then print again",
                                          jobId, toString(s->state), joined(s->reasons),
                                          s->message.empty() ? "" : "; " + s->message)));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return R(ippError(
                IppErrorCode::Timeout,
                fmt::format("job {} is still {} after {} s (reasons: {}): check the printer; the "
                            "job may still print",
                            jobId, toString(s->state),
                            std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                            joined(s->reasons))));
        }
        std::this_thread::sleep_for(poll);
    }
}

} // namespace unioncard::printer::ipp
