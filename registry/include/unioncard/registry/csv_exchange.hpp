// SPDX-License-Identifier: Apache-2.0
#pragma once

// File exchange for offices without API access: card applications in from a spreadsheet's CSV,
// status events out to one. CSV as RFC 4180 writes it (quoted fields, doubled quotes, CRLF),
// read leniently where spreadsheets differ from it: LF line ends, a UTF-8 byte order mark, and
// ';' as the separator (what Excel writes in locales where ',' is the decimal mark, as in
// Russian ones). Reading never throws: every problem is a value with the line it is on.

#include <unioncard/registry/store.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::registry {

// --- reading CSV -------------------------------------------------------------------------------

/// One record: its fields, and the line of the file where it starts (the first line is 1; a
/// quoted field with line breaks makes a record span several lines).
struct CsvRecord {
    std::uint64_t line = 0;
    std::vector<std::string> fields;
};

/// An RFC 4180 reader over text already in memory (at most the import's size limit).
class CsvReader {
public:
    /// `text` must outlive the reader. The separator is ',' or ';' (see detectSeparator).
    CsvReader(std::string_view text, char separator, std::size_t maxFieldBytes = 1024);

    enum class Status { Record, Problem, End };
    /// Reads the next record. On Problem, `problem` says in words what is wrong with the record
    /// starting at record.line, and the reader has skipped to the start of the next record.
    Status next(CsvRecord& record, std::string& problem);

private:
    std::string_view m_text;
    std::size_t m_pos = 0;
    std::uint64_t m_line = 1;
    char m_separator;
    std::size_t m_maxFieldBytes;
};

/// The separator of a file, from its first line: ';' if it has more semicolons than commas
/// outside quotes, otherwise ','.
char detectSeparator(std::string_view text);

/// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
/// above U+10FFFF). On failure, `badOffset` is the offset of the first byte that is wrong.
bool isValidUtf8(std::string_view text, std::size_t* badOffset = nullptr);

// --- importing applications
// -----------------------------------------------------------------------

struct CsvLimits {
    std::uint64_t maxBytes = 32ull * 1024 * 1024; ///< the whole file
    std::uint64_t maxRows = 100'000;              ///< applications in one file
    std::size_t maxFieldBytes = 1'024;            ///< one field, in bytes of UTF-8
    std::size_t maxReportedErrors = 1'000;        ///< row errors listed; the rest only counted
};

struct ImportOptions {
    /// false: nothing is imported if any row is wrong. true: the good rows are imported (in one
    /// transaction) and the wrong ones reported.
    bool partial = false;
    CsvLimits limits;
    /// Stamped on each application as createdAt; left at the epoch, the system clock's now.
    Seconds now{};
};

/// What is wrong with one row.
struct RowError {
    std::uint64_t line = 0; ///< where the row starts in the file (the header is line 1)
    std::string column;     ///< the column's name as the file's header spells it; empty: the row
    std::string message;    ///< in words: what is wrong and, where it helps, what to write
};

struct ImportReport {
    std::uint64_t rows = 0;         ///< data rows read (blank lines not counted)
    std::uint64_t imported = 0;     ///< applications added to the store
    std::vector<RowError> rejected; ///< partial mode: the rows left out, and why
    std::uint64_t rejectedRows = 0; ///< rows left out (rejected may list fewer: maxReportedErrors)
    char separator = ',';
};

enum class ImportErrorCode {
    Unreadable,  ///< the stream failed
    TooLarge,    ///< more bytes than limits.maxBytes
    TooManyRows, ///< more rows than limits.maxRows
    NotUtf8,     ///< not UTF-8 at all (UTF-16, or a header in Windows-1251)
    BadHeader,   ///< no header, an unknown, duplicated or missing column
    NoRows,      ///< a header and nothing else
    InvalidRows, ///< some rows are wrong (listed in rows); nothing was imported
    Store,       ///< the store refused or failed (see store)
};
std::string_view toString(ImportErrorCode code);

struct ImportError {
    ImportErrorCode code;
    std::string message;             ///< in words, for the person who sent the file
    std::vector<RowError> rows;      ///< for InvalidRows: the wrong rows
    std::uint64_t wrongRows = 0;     ///< for InvalidRows: how many (rows may list fewer)
    std::optional<StoreError> store; ///< for Store
};

/// Reads card applications from a CSV file and adds them to the store in one transaction.
///
/// The header row names the columns, in any order, in English or in Russian:
///   member_id (ID члена, Номер учетной карточки)   required, 1-32 printable ASCII characters
///   full_name (ФИО)                                 required, Cyrillic, as printed on the card
///   region (Регион, Код региона)                    required, 1-89
///   organisation_code (Код организации)             required, a whole number
///   consent (Согласие)                              required: да/нет, yes/no, 1/0
///   organisation_name (Организация)                 optional
///   category (Категория)                            optional: working/работающий, student/
///                                                   студент, pensioner/пенсионер, unknown
///   reason (Причина)                                optional: first_card/первичная,
///                                                   replacement/замена, lost/утеря
///   card_sequence (Порядковый номер карты)          optional: 1 for a first card; without it,
///                                                   1 for a first card and 2 otherwise
/// A column the import does not know is refused by name, so that no data is silently dropped.
/// Each application gets a fresh random id (OpenSSL).
Result<ImportReport, ImportError> importApplicationsCsv(std::istream& in, Store& store,
                                                        const ImportOptions& options = {});

/// The same reading and checks without a store (a station importing a file into its own
/// queue): the applications, each with a fresh id, and the report. `report.imported` counts
/// the applications returned.
struct ParsedApplications {
    ImportReport report;
    std::vector<Application> applications;
};
Result<ParsedApplications, ImportError> readApplicationsCsv(std::istream& in,
                                                            const ImportOptions& options = {});

// --- exporting status events --------------------------------------------------------------------

struct ExportOptions {
    char separator = ',';       ///< ';' for spreadsheets in Russian locales
    bool byteOrderMark = false; ///< true: start with a UTF-8 BOM, which Excel needs to see UTF-8
    int pageSize = 1'000;       ///< events read from the store at a time
};

struct ExportReport {
    std::uint64_t rows = 0;
    std::uint64_t lastSequence = 0; ///< the highest sequence written (afterSequence if none):
                                    ///< the next export continues after it
};

struct ExportError {
    enum class Code { Store, Output } code;
    std::string message;
    std::optional<StoreError> store;
};

/// Writes the status events with sequence > afterSequence as CSV: a header row and the columns
/// sequence, kind, card_number, member_id, station, operator, at (RFC 3339, UTC), reason.
/// Safe to open in a spreadsheet: a field that starts with = + - @, a tab or a carriage return is
/// prefixed with a single quote so that it is not run as a formula (OWASP, "CSV Injection").
Result<ExportReport, ExportError> exportEventsCsv(Store& store, std::ostream& out,
                                                  std::uint64_t afterSequence,
                                                  const ExportOptions& options = {});

/// One field as exportEventsCsv writes it: injection-safe and quoted as RFC 4180 needs.
std::string csvField(std::string_view value, char separator = ',');

} // namespace unioncard::registry
