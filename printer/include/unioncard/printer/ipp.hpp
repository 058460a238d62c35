// SPDX-License-Identifier: Apache-2.0
#pragma once

// Printing card faces on any IPP Everywhere printer (PWG 5100.14), for offices that print the
// face on a plain card printer and encode the chip on a desk reader. The only code that
// includes <cups/cups.h> is this adapter's source (docs/printing.md "IPP").

#include <unioncard/card/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::printer::ipp {

/// CR80 by its PWG self-describing name (PWG 5101.1 §5: class_size-name_WxHunit, short edge
/// first), registered with IANA for ISO/IEC 7810 ID-1 cards.
inline constexpr std::string_view kCardMedia = "iso_id-1_53.98x85.6mm";
/// The same size under its other registered name; a printer reports one or the other (PWG IPP
/// WG, media registrations of 2014, recorded in the IANA IPP registry in 2018).
inline constexpr std::string_view kCardMediaAlternative = "om_card_54x86mm";

enum class IppErrorCode {
    BadUri,             ///< not an ipp:// or ipps:// printer URI
    Unreachable,        ///< no connection, or it broke
    Refused,            ///< the printer said no: not accepting jobs, stopped, not authorised
    MediaNotSupported,  ///< the printer has no CR80 media
    FormatNotSupported, ///< the printer does not take PDF
    JobAborted,         ///< the job ended aborted or canceled
    Timeout,            ///< the job did not finish in time
    Protocol,           ///< an answer that makes no sense
};
std::string_view toString(IppErrorCode code);

struct IppError {
    IppErrorCode code;
    std::string message;
};

/// What Get-Printer-Attributes says (RFC 8011 §5.4).
struct PrinterInfo {
    std::string state; ///< "idle", "processing", "stopped" (RFC 8011 §5.4.11)
    std::vector<std::string> stateReasons;
    std::string stateMessage;
    bool acceptingJobs = false;
    std::string makeAndModel;
    std::vector<std::string> mediaSupported;
    std::vector<std::string> mediaReady;
    std::vector<std::string> documentFormats;

    /// The printer's name for CR80 media, if it has any.
    std::optional<std::string> cardMedia() const;
    bool takesPdf() const;
};

/// RFC 8011 §5.3.7 job-state values.
enum class JobState {
    Pending = 3,
    PendingHeld = 4,
    Processing = 5,
    ProcessingStopped = 6,
    Canceled = 7,
    Aborted = 8,
    Completed = 9
};
std::string_view toString(JobState state);

struct JobStatus {
    int id = 0;
    JobState state = JobState::Pending;
    std::vector<std::string> reasons;
    std::string message;
    bool finished() const { return static_cast<int>(state) >= 7; }
};

struct PrintOptions {
    std::string jobName = "union card";
    std::string userName; ///< empty: the process's user
    std::string media;    ///< empty: the printer's CR80 media (kCardMedia or its alternative)
};

/// A connection to one printer. Not thread-safe; one per thread.
class IppPrinter {
public:
    /// Connects to `uri` (ipp://HOST:PORT/ipp/print or ipps://...).
    static Result<IppPrinter, IppError>
    connect(std::string_view uri, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    IppPrinter(IppPrinter&&) noexcept;
    IppPrinter& operator=(IppPrinter&&) noexcept;
    ~IppPrinter();

    const std::string& uri() const;

    Result<PrinterInfo, IppError> info();
    /// Print-Job (RFC 8011 §4.2.1) with document-format application/pdf and the CR80 media.
    /// Checks first that the printer accepts jobs, takes PDF and has card media: it refuses
    /// before sending anything otherwise. Returns the job id.
    Result<int, IppError> printPdf(std::span<const std::uint8_t> pdf,
                                   const PrintOptions& options = {});
    /// Get-Job-Attributes (RFC 8011 §4.3.4).
    Result<JobStatus, IppError> job(int jobId);
    /// Polls the job until it is completed, aborted or canceled, or `timeout` passes. An
    /// aborted or canceled job is an error (JobAborted) with the printer's reasons in words.
    Result<JobStatus, IppError>
    waitForJob(int jobId, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll = std::chrono::milliseconds(500));

private:
    struct Impl;
    explicit IppPrinter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace unioncard::printer::ipp
