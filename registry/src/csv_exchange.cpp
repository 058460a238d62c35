// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/csv_exchange.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <istream>
#include <map>
#include <ostream>

namespace unioncard::registry {
namespace {

// A row with more fields than this is not a spreadsheet row (and would cost memory): ";;;;".
constexpr std::size_t kMaxFields = 256;
constexpr std::size_t kMaxMemberIdLength = 32;   // the card record's key 3 (docs/card-format.md)
constexpr std::size_t kMaxFullNameLetters = 100; // what fits the card face's name line, roomily
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool isLineBreak(char c) {
    return c == '\n' || c == '\r';
}

} // namespace

// --- reading CSV -------------------------------------------------------------------------------

bool isValidUtf8(std::string_view text, std::size_t* badOffset) {
    // RFC 3629 §4 (the UTF8-octets grammar): the second byte's range depends on the first, which
    // is what excludes overlong forms, surrogates and code points above U+10FFFF.
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    auto bad = [&] {
        if (badOffset)
            *badOffset = i;
        return false;
    };
    while (i < n) {
        const unsigned c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else {
            return bad();
        }
        if (i + length > n || s[i + 1] < lo || s[i + 1] > hi)
            return bad();
        for (std::size_t k = 2; k < length; ++k)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return bad();
        i += length;
    }
    return true;
}

char detectSeparator(std::string_view text) {
    std::size_t commas = 0, semicolons = 0;
    bool quoted = false;
    for (char c : text) {
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && isLineBreak(c))
            break;
        else if (!quoted && c == ',')
            ++commas;
        else if (!quoted && c == ';')
            ++semicolons;
    }
    return semicolons > commas ? ';' : ',';
}

CsvReader::CsvReader(std::string_view text, char separator, std::size_t maxFieldBytes)
    : m_text(text), m_separator(separator), m_maxFieldBytes(maxFieldBytes) {}

CsvReader::Status CsvReader::next(CsvRecord& record, std::string& problem) {
    record.fields.clear();
    record.line = m_line;
    problem.clear();
    if (m_pos >= m_text.size())
        return Status::End;

    const std::size_t size = m_text.size();
    // Consumes one line break at m_pos (CRLF, LF, or a lone CR) and counts the line.
    auto takeLineBreak = [&] {
        if (m_text[m_pos] == '\r' && m_pos + 1 < size && m_text[m_pos + 1] == '\n')
            ++m_pos;
        ++m_pos;
        ++m_line;
    };
    // After a problem: drop the rest of the physical line, so the next record starts afresh.
    auto skipLine = [&]() -> Status {
        while (m_pos < size && !isLineBreak(m_text[m_pos]))
            ++m_pos;
        if (m_pos < size)
            takeLineBreak();
        return Status::Problem;
    };

    std::string field;
    bool tooLong = false;
    std::size_t longField = 0;
    auto append = [&](char c) {
        if (field.size() < m_maxFieldBytes)
            field += c;
        else if (!tooLong) {
            tooLong = true;
            longField = record.fields.size() + 1;
        }
    };
    for (;;) {
        field.clear();
        const std::size_t fieldNumber = record.fields.size() + 1;
        if (m_pos < size && m_text[m_pos] == '"') {
            // RFC 4180 §2 rules 5-7: a quoted field may hold separators, line breaks and
            // doubled quotes.
            const std::uint64_t opened = m_line;
            ++m_pos;
            for (;;) {
                if (m_pos >= size) {
                    problem = fmt::format("the quoted field {} that starts on line {} is never "
                                          "closed: a double quote is missing",
                                          fieldNumber, opened);
                    return Status::Problem;
                }
                const char c = m_text[m_pos];
                if (c == '"') {
                    if (m_pos + 1 < size && m_text[m_pos + 1] == '"') {
                        append('"');
                        m_pos += 2;
                        continue;
                    }
                    ++m_pos;
                    break;
                }
                if (isLineBreak(c)) {
                    const bool crlf = c == '\r' && m_pos + 1 < size && m_text[m_pos + 1] == '\n';
                    append('\n');
                    m_pos += crlf ? 2 : 1;
                    ++m_line;
                    continue;
                }
                append(c);
                ++m_pos;
            }
            if (m_pos < size && m_text[m_pos] != m_separator && !isLineBreak(m_text[m_pos])) {
                problem = fmt::format(
                    "field {} has text after its closing double quote: a double quote inside a "
                    "quoted field must be written twice (\"\")",
                    fieldNumber);
                return skipLine();
            }
        } else {
            while (m_pos < size && m_text[m_pos] != m_separator && !isLineBreak(m_text[m_pos])) {
                if (m_text[m_pos] == '"') {
                    problem = fmt::format(
                        "field {} holds a double quote but does not start with one: put the "
                        "whole field in double quotes and write the quote twice (\"\")",
                        fieldNumber);
                    return skipLine();
                }
                append(m_text[m_pos++]);
            }
        }
        if (record.fields.size() == kMaxFields) {
            problem = fmt::format("the row has more than {} fields", kMaxFields);
            return skipLine();
        }
        record.fields.push_back(std::move(field));
        if (m_pos >= size)
            break;
        if (m_text[m_pos] == m_separator) {
            ++m_pos;
            if (m_pos >= size) { // a separator at the very end: one more, empty field
                record.fields.emplace_back();
                break;
            }
            continue;
        }
        takeLineBreak();
        break;
    }
    if (tooLong) {
        problem = fmt::format("field {} is longer than {} bytes", longField, m_maxFieldBytes);
        return Status::Problem;
    }
    return Status::Record;
}

// --- importing applications ------------------------------------------------------------------

namespace {

enum class Column {
    MemberId,
    FullName,
    Region,
    OrganisationCode,
    OrganisationName,
    Category,
    Reason,
    Consent,
    CardSequence,
    Ignored, // a column with an empty name (Excel's trailing separators): must stay empty
};

struct ColumnSpec {
    Column column;
    std::string_view name;    // the English name, as the docs and messages give it
    std::string_view russian; // the Russian one, for messages
    bool required;
    std::array<std::string_view, 8> aliases; // normalised (see normalise); empty ones unused
};

// Header names as offices write them. Normalised: lower case, 'ё' as 'е', single spaces.
constexpr ColumnSpec kColumns[] = {
    {Column::MemberId,
     "member_id",
     "ID члена",
     true,
     {"member_id", "member id", "id члена", "id члена профсоюза", "номер учетной карточки",
      "учетная карточка", "номер члена профсоюза", "id"}},
    {Column::FullName,
     "full_name",
     "ФИО",
     true,
     {"full_name", "full name", "фио", "ф.и.о.", "ф. и. о.", "фамилия имя отчество",
      "фамилия, имя, отчество", "name"}},
    {Column::Region,
     "region",
     "Регион",
     true,
     {"region", "регион", "код региона", "номер региона"}},
    {Column::OrganisationCode,
     "organisation_code",
     "Код организации",
     true,
     {"organisation_code", "organization_code", "код организации", "код ппо",
      "код первичной организации"}},
    {Column::OrganisationName,
     "organisation_name",
     "Организация",
     false,
     {"organisation_name", "organization_name", "организация", "наименование организации",
      "первичная организация", "ппо"}},
    {Column::Category,
     "category",
     "Категория",
     false,
     {"category", "категория", "категория члена", "категория члена профсоюза", "статус"}},
    {Column::Reason,
     "reason",
     "Причина",
     false,
     {"reason", "причина", "основание", "причина выдачи", "причина выпуска", "тип заявки"}},
    {Column::Consent,
     "consent",
     "Согласие",
     true,
     {"consent", "согласие", "согласие на обработку персональных данных",
      "согласие на обработку пд", "согласие на обработку"}},
    {Column::CardSequence,
     "card_sequence",
     "Порядковый номер карты",
     false,
     {"card_sequence", "порядковый номер карты", "номер карты по порядку", "порядковый номер"}},
};

bool isBlank(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Trims blanks, including the no-break space (U+00A0, C2 A0) spreadsheets like to leave.
std::string_view trim(std::string_view s) {
    for (;;) {
        if (!s.empty() && isBlank(static_cast<unsigned char>(s.front())))
            s.remove_prefix(1);
        else if (s.size() >= 2 && s.substr(0, 2) == "\xC2\xA0")
            s.remove_prefix(2);
        else
            break;
    }
    for (;;) {
        if (!s.empty() && isBlank(static_cast<unsigned char>(s.back())))
            s.remove_suffix(1);
        else if (s.size() >= 2 && s.substr(s.size() - 2) == "\xC2\xA0")
            s.remove_suffix(2);
        else
            break;
    }
    return s;
}

// Runs of blanks and no-break spaces become one space; ends trimmed. For names typed with
// Alt+Enter or double spaces.
std::string collapseBlanks(std::string_view s) {
    s = trim(s);
    std::string out;
    bool blank = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool nbsp = s.substr(i, 2) == "\xC2\xA0";
        if (isBlank(static_cast<unsigned char>(s[i])) || nbsp) {
            blank = true;
            i += nbsp ? 1 : 0;
            continue;
        }
        if (blank)
            out += ' ';
        blank = false;
        out += s[i];
    }
    return out;
}

// Lower case for ASCII and Russian Cyrillic (U+0410..U+042F, U+0401), with 'ё' read as 'е' (both
// spellings of "учётной" are common), single spaces. Input is valid UTF-8.
std::string normalise(std::string_view s) {
    const std::string collapsed = collapseBlanks(s);
    std::string out;
    out.reserve(collapsed.size());
    for (std::size_t i = 0; i < collapsed.size(); ++i) {
        const auto c = static_cast<unsigned char>(collapsed[i]);
        if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c - 'A' + 'a');
        } else if ((c == 0xD0 || c == 0xD1) && i + 1 < collapsed.size()) {
            const auto d = static_cast<unsigned char>(collapsed[i + 1]);
            ++i;
            if (c == 0xD0 && d >= 0x90 && d <= 0x9F) { // А..П -> а..п
                out += '\xD0';
                out += static_cast<char>(d + 0x20);
            } else if (c == 0xD0 && d >= 0xA0 && d <= 0xAF) { // Р..Я -> р..я
                out += '\xD1';
                out += static_cast<char>(d - 0x20);
            } else if ((c == 0xD0 && d == 0x81) || (c == 0xD1 && d == 0x91)) { // Ё, ё -> е
                out += "\xD0\xB5";
            } else {
                out += static_cast<char>(c);
                out += static_cast<char>(d);
            }
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// Whether a code point at s[i..] is a Russian Cyrillic letter; sets its length.
bool cyrillicLetterAt(std::string_view s, std::size_t i, std::size_t& length) {
    if (i + 1 >= s.size())
        return false;
    const auto c = static_cast<unsigned char>(s[i]);
    const auto d = static_cast<unsigned char>(s[i + 1]);
    const bool letter = (c == 0xD0 && ((d >= 0x90 && d <= 0xBF) || d == 0x81)) || // А..п, Ё
                        (c == 0xD1 && ((d >= 0x80 && d <= 0x8F) || d == 0x91));   // р..я, ё
    if (letter)
        length = 2;
    return letter;
}

// The character at s[i..] for a message: the whole UTF-8 sequence.
std::string characterAt(std::string_view s, std::size_t i) {
    std::size_t length = 1;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0)
        length = 4;
    else if (c >= 0xE0)
        length = 3;
    else if (c >= 0xC0)
        length = 2;
    const std::string_view one = s.substr(i, length);
    if (c < 0x20 || c == 0x7F)
        return fmt::format("a control character (code {})", static_cast<int>(c));
    return fmt::format("'{}'", one);
}

std::size_t codePoints(std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

template <class Int> std::optional<Int> wholeNumber(std::string_view text) {
    Int value{};
    if (text.empty() || text.size() > 12)
        return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::optional<MemberCategory> categoryOf(const std::string& key) {
    static const std::map<std::string, MemberCategory, std::less<>> names{
        {"working", MemberCategory::Working},
        {"работающий", MemberCategory::Working},
        {"работающая", MemberCategory::Working},
        {"работающие", MemberCategory::Working},
        {"работает", MemberCategory::Working},
        {"работник", MemberCategory::Working},
        {"сотрудник", MemberCategory::Working},
        {"student", MemberCategory::Student},
        {"студент", MemberCategory::Student},
        {"студентка", MemberCategory::Student},
        {"студенты", MemberCategory::Student},
        {"обучающийся", MemberCategory::Student},
        {"обучающаяся", MemberCategory::Student},
        {"учащийся", MemberCategory::Student},
        {"pensioner", MemberCategory::Pensioner},
        {"пенсионер", MemberCategory::Pensioner},
        {"пенсионерка", MemberCategory::Pensioner},
        {"неработающий пенсионер", MemberCategory::Pensioner},
        {"неработающая пенсионерка", MemberCategory::Pensioner},
        {"неработающие пенсионеры", MemberCategory::Pensioner},
        {"unknown", MemberCategory::Unknown},
        {"", MemberCategory::Unknown},
        {"не указано", MemberCategory::Unknown},
        {"не указан", MemberCategory::Unknown},
        {"нет данных", MemberCategory::Unknown},
        {"неизвестно", MemberCategory::Unknown},
        {"без статуса", MemberCategory::Unknown},
    };
    const auto it = names.find(key);
    return it == names.end() ? std::nullopt : std::optional(it->second);
}

std::optional<ApplicationReason> reasonOf(const std::string& key) {
    static const std::map<std::string, ApplicationReason, std::less<>> names{
        {"first_card", ApplicationReason::FirstCard},
        {"first", ApplicationReason::FirstCard},
        {"", ApplicationReason::FirstCard},
        {"первичная", ApplicationReason::FirstCard},
        {"первичный", ApplicationReason::FirstCard},
        {"первичная выдача", ApplicationReason::FirstCard},
        {"первичный выпуск", ApplicationReason::FirstCard},
        {"выпуск", ApplicationReason::FirstCard},
        {"новая", ApplicationReason::FirstCard},
        {"replacement", ApplicationReason::Replacement},
        {"замена", ApplicationReason::Replacement},
        {"перевыпуск", ApplicationReason::Replacement},
        {"lost", ApplicationReason::Lost},
        {"утеря", ApplicationReason::Lost},
        {"утрата", ApplicationReason::Lost},
        {"потеря", ApplicationReason::Lost},
    };
    const auto it = names.find(key);
    return it == names.end() ? std::nullopt : std::optional(it->second);
}

std::optional<bool> consentOf(const std::string& key) {
    static const std::map<std::string, bool, std::less<>> names{
        {"да", true},   {"д", true},    {"yes", true},    {"y", true},  {"1", true},
        {"true", true}, {"есть", true}, {"нет", false},   {"н", false}, {"no", false},
        {"n", false},   {"0", false},   {"false", false},
    };
    const auto it = names.find(key);
    return it == names.end() ? std::nullopt : std::optional(it->second);
}

std::string knownColumns() {
    std::string out;
    for (const auto& spec : kColumns) {
        if (!out.empty())
            out += ", ";
        out += fmt::format("{} ({})", spec.name, spec.russian);
    }
    return out;
}

Result<std::string, StoreError> newApplicationId() {
    std::array<unsigned char, 10> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        return fail(StoreError{StoreErrorCode::Internal,
                               "the random number generator failed; nothing was imported"});
    std::string id = "A-";
    for (unsigned char b : bytes)
        id += fmt::format("{:02x}", b);
    return id;
}

ImportError importError(ImportErrorCode code, std::string message) {
    return ImportError{code, std::move(message), {}, 0, std::nullopt};
}

// The rows' line numbers where the bytes are not UTF-8, and the offending byte of each.
std::vector<std::pair<std::uint64_t, unsigned char>> badUtf8Lines(std::string_view text) {
    std::vector<std::pair<std::uint64_t, unsigned char>> bad;
    std::uint64_t line = 1;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = start;
        while (end < text.size() && text[end] != '\n' &&
               !(text[end] == '\r' && (end + 1 >= text.size() || text[end + 1] != '\n')))
            ++end;
        std::size_t offset = 0;
        if (!isValidUtf8(text.substr(start, end - start), &offset))
            bad.emplace_back(line, static_cast<unsigned char>(text[start + offset]));
        if (end >= text.size())
            break;
        start = end + 1;
        ++line;
    }
    return bad;
}

struct RowContext {
    std::uint64_t line;
    std::vector<RowError>& errors;
    const std::vector<std::string>& headerNames;
    bool wrong = false;

    void add(std::size_t columnIndex, std::string message) {
        wrong = true;
        errors.push_back(RowError{line, headerNames[columnIndex], std::move(message)});
    }
};

} // namespace

std::string_view toString(ImportErrorCode code) {
    switch (code) {
    case ImportErrorCode::Unreadable:
        return "unreadable";
    case ImportErrorCode::TooLarge:
        return "too_large";
    case ImportErrorCode::TooManyRows:
        return "too_many_rows";
    case ImportErrorCode::NotUtf8:
        return "not_utf8";
    case ImportErrorCode::BadHeader:
        return "bad_header";
    case ImportErrorCode::NoRows:
        return "no_rows";
    case ImportErrorCode::InvalidRows:
        return "invalid_rows";
    case ImportErrorCode::Store:
        return "store";
    }
    return "?";
}

Result<ParsedApplications, ImportError> readApplicationsCsv(std::istream& in,
                                                            const ImportOptions& options) {
    using R = Result<ParsedApplications, ImportError>;
    const CsvLimits& limits = options.limits;

    // Read it all, but never more than the limit and one byte.
    std::string text;
    {
        std::array<char, 64 * 1024> chunk{};
        while (in) {
            in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
            text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
            if (text.size() > limits.maxBytes)
                return R(fail(importError(
                    ImportErrorCode::TooLarge,
                    fmt::format("the file is larger than {} bytes, the most one import takes: "
                                "split it into smaller files",
                                limits.maxBytes))));
        }
        if (in.bad())
            return R(fail(
                importError(ImportErrorCode::Unreadable, "the file could not be read to the end")));
    }
    std::string_view body = text;
    if (body.size() >= 2 && (body.substr(0, 2) == "\xFF\xFE" || body.substr(0, 2) == "\xFE\xFF"))
        return R(fail(importError(ImportErrorCode::NotUtf8,
                                  "the file is in UTF-16; save it as \"CSV UTF-8\"")));
    if (body.substr(0, kUtf8Bom.size()) == kUtf8Bom)
        body.remove_prefix(kUtf8Bom.size());
    if (trim(body).empty())
        return R(fail(importError(ImportErrorCode::BadHeader,
                                  fmt::format("the file is empty: it needs a header row naming "
                                              "the columns ({}) and a row per application",
                                              knownColumns()))));

    const auto badLines = badUtf8Lines(body);
    ImportReport report;
    report.separator = detectSeparator(body);
    CsvReader reader(body, report.separator, limits.maxFieldBytes);

    // The header.
    CsvRecord record;
    std::string problem;
    if (reader.next(record, problem) != CsvReader::Status::Record)
        return R(fail(importError(ImportErrorCode::BadHeader,
                                  fmt::format("the header row (line 1) is wrong: {}", problem))));
    std::uint64_t headerLastLine = record.line;
    for (const auto& f : record.fields)
        headerLastLine += static_cast<std::uint64_t>(std::count(f.begin(), f.end(), '\n'));
    if (!badLines.empty() && badLines.front().first <= headerLastLine)
        return R(fail(importError(
            ImportErrorCode::NotUtf8,
            "the file is not in UTF-8 (perhaps Windows-1251, what Excel's plain \"CSV\" saves): "
            "save it as \"CSV UTF-8\" and send it again")));
    std::vector<Column> columns;
    std::vector<std::string> headerNames;
    std::map<Column, std::size_t> where;
    for (std::size_t i = 0; i < record.fields.size(); ++i) {
        const std::string name = collapseBlanks(record.fields[i]);
        headerNames.push_back(name);
        const std::string key = normalise(name);
        if (key.empty()) {
            columns.push_back(Column::Ignored);
            continue;
        }
        const ColumnSpec* found = nullptr;
        for (const auto& spec : kColumns)
            for (auto alias : spec.aliases)
                if (!alias.empty() && alias == key)
                    found = &spec;
        if (!found)
            return R(fail(importError(
                ImportErrorCode::BadHeader,
                fmt::format("column {} \"{}\" is not one this import reads, so its data would "
                            "be lost: remove or rename it (the columns are {})",
                            i + 1, name, knownColumns()))));
        if (const auto seen = where.find(found->column); seen != where.end())
            return R(fail(importError(
                ImportErrorCode::BadHeader,
                fmt::format("columns {} \"{}\" and {} \"{}\" both give {}: keep one of them",
                            seen->second + 1, headerNames[seen->second], i + 1, name,
                            found->name))));
        where[found->column] = i;
        columns.push_back(found->column);
    }
    for (const auto& spec : kColumns) {
        if (spec.required && !where.count(spec.column))
            return R(fail(importError(
                ImportErrorCode::BadHeader,
                fmt::format("the header has no column {} ({}); the first row must name the "
                            "columns: {}",
                            spec.name, spec.russian, knownColumns()))));
    }

    // The rows.
    std::vector<RowError> errors;
    std::uint64_t wrongRows = 0;
    std::vector<Application> good;
    std::map<std::string, std::uint64_t, std::less<>> seenMembers; // member id -> line
    const Seconds now =
        options.now != Seconds{}
            ? options.now
            : std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    std::size_t nextBad = 0;
    for (;;) {
        const auto status = reader.next(record, problem);
        if (status == CsvReader::Status::End)
            break;
        RowContext row{record.line, errors, headerNames};
        const bool blank = status == CsvReader::Status::Record &&
                           std::all_of(record.fields.begin(), record.fields.end(),
                                       [](const std::string& f) { return trim(f).empty(); });
        if (blank)
            continue;
        if (++report.rows > limits.maxRows)
            return R(fail(importError(
                ImportErrorCode::TooManyRows,
                fmt::format("the file has more than {} applications, the most one import takes: "
                            "split it into smaller files",
                            limits.maxRows))));
        if (status == CsvReader::Status::Problem) {
            errors.push_back(RowError{record.line, "", problem});
            ++wrongRows;
            continue;
        }
        // Bytes that are not UTF-8 anywhere in the lines of this record: from its first line to
        // its first line plus the line breaks inside its fields.
        std::uint64_t lastLine = record.line;
        for (const auto& f : record.fields)
            lastLine += static_cast<std::uint64_t>(std::count(f.begin(), f.end(), '\n'));
        while (nextBad < badLines.size() && badLines[nextBad].first < record.line)
            ++nextBad;
        if (nextBad < badLines.size() && badLines[nextBad].first <= lastLine) {
            errors.push_back(RowError{
                record.line, "",
                fmt::format("line {} is not valid UTF-8 (byte 0x{:02X}): the file may be in "
                            "another encoding; save it as \"CSV UTF-8\"",
                            badLines[nextBad].first, badLines[nextBad].second)});
            ++wrongRows;
            continue;
        }
        if (record.fields.size() < columns.size() ||
            std::any_of(record.fields.begin() + static_cast<std::ptrdiff_t>(
                                                    std::min(record.fields.size(), columns.size())),
                        record.fields.end(),
                        [](const std::string& f) { return !trim(f).empty(); })) {
            errors.push_back(RowError{
                record.line, "",
                fmt::format("the row has {} fields, but the header names {} columns: a "
                            "separator ('{}') may be missing or extra, or a field holding one "
                            "may need double quotes",
                            record.fields.size(), columns.size(), report.separator)});
            ++wrongRows;
            continue;
        }

        Application a;
        a.createdAt = now;
        std::optional<int> sequence;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            const std::string_view value = trim(record.fields[i]);
            switch (columns[i]) {
            case Column::Ignored:
                if (!value.empty())
                    row.add(i, "a value under a column with no name: name the column in the "
                               "header or clear the value");
                break;
            case Column::MemberId: {
                if (value.empty()) {
                    row.add(i, "the member id is empty");
                    break;
                }
                if (value.size() > kMaxMemberIdLength) {
                    row.add(i, fmt::format("the member id has {} characters; at most {}",
                                           codePoints(value), kMaxMemberIdLength));
                    break;
                }
                const auto bad = std::find_if(value.begin(), value.end(), [](char c) {
                    return static_cast<unsigned char>(c) <= 0x20 ||
                           static_cast<unsigned char>(c) >= 0x7F;
                });
                if (bad != value.end()) {
                    row.add(i, fmt::format("the member id may hold only Latin letters, digits "
                                           "and punctuation, without spaces, but it has {}",
                                           characterAt(value, static_cast<std::size_t>(
                                                                  bad - value.begin()))));
                    break;
                }
                if (const auto seen = seenMembers.find(value); seen != seenMembers.end()) {
                    row.add(i, fmt::format("member {} already has an application on line {} "
                                           "of this file",
                                           value, seen->second));
                    break;
                }
                seenMembers.emplace(std::string(value), record.line);
                a.memberId = value;
                break;
            }
            case Column::FullName: {
                const std::string name = collapseBlanks(value);
                if (name.empty()) {
                    row.add(i, "the full name is empty");
                    break;
                }
                std::size_t words = 1, letters = 0;
                std::optional<std::string> badChar;
                for (std::size_t k = 0; k < name.size();) {
                    std::size_t length = 1;
                    if (cyrillicLetterAt(name, k, length)) {
                        ++letters;
                    } else if (name[k] == ' ') {
                        ++words;
                    } else if (name[k] != '-') {
                        badChar = characterAt(name, k);
                        break;
                    }
                    k += length;
                }
                if (badChar)
                    row.add(i, fmt::format("the full name must be in Cyrillic letters, as "
                                           "printed on the card, but it has {}",
                                           *badChar));
                else if (words < 2)
                    row.add(i, "the full name needs the surname and the first name (and the "
                               "patronymic, if any): \"Иванова Мария Сергеевна\"");
                else if (letters > kMaxFullNameLetters)
                    row.add(i, fmt::format("the full name has {} letters; at most {}", letters,
                                           kMaxFullNameLetters));
                else
                    a.fullName = name;
                break;
            }
            case Column::Region: {
                const auto& scheme = card::NumberScheme::standard();
                const auto region = wholeNumber<int>(value);
                if (!region || *region < scheme.regionMin || *region > scheme.regionMax)
                    row.add(i, fmt::format("the region must be a number from {} to {}, not "
                                           "\"{}\"",
                                           scheme.regionMin, scheme.regionMax, value));
                else
                    a.region = *region;
                break;
            }
            case Column::OrganisationCode: {
                const auto code = wholeNumber<std::uint32_t>(value);
                if (!code || *code == 0)
                    row.add(i, fmt::format("the organisation code must be a whole number from 1 "
                                           "to 4294967295, not \"{}\"",
                                           value));
                else
                    a.organisationCode = *code;
                break;
            }
            case Column::OrganisationName: {
                std::string name = collapseBlanks(value);
                const auto bad = std::find_if(name.begin(), name.end(), [](char c) {
                    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
                });
                if (bad != name.end())
                    row.add(i, fmt::format("the organisation name has {}",
                                           characterAt(name, static_cast<std::size_t>(
                                                                 bad - name.begin()))));
                else
                    a.organisationName = std::move(name);
                break;
            }
            case Column::Category: {
                const auto category = categoryOf(normalise(value));
                if (!category)
                    row.add(i, fmt::format("\"{}\" is not a category: write работающий, "
                                           "студент, пенсионер or leave it empty (working, "
                                           "student, pensioner, unknown)",
                                           value));
                else
                    a.category = *category;
                break;
            }
            case Column::Reason: {
                const auto reason = reasonOf(normalise(value));
                if (!reason)
                    row.add(i, fmt::format("\"{}\" is not a reason: write первичная, замена or "
                                           "утеря (first_card, replacement, lost)",
                                           value));
                else
                    a.reason = *reason;
                break;
            }
            case Column::Consent: {
                const auto consent = consentOf(normalise(value));
                if (value.empty())
                    row.add(i, "the consent is empty: write да or нет (yes or no)");
                else if (!consent)
                    row.add(i, fmt::format("\"{}\" is not an answer: write да or нет (yes or no, "
                                           "1 or 0)",
                                           value));
                else
                    a.consent = *consent;
                break;
            }
            case Column::CardSequence: {
                if (value.empty())
                    break;
                const auto n = wholeNumber<int>(value);
                if (!n || *n < 1 || *n > 99)
                    row.add(i, fmt::format("the card's sequence number must be from 1 to 99, "
                                           "not \"{}\"",
                                           value));
                else
                    sequence = *n;
                break;
            }
            }
        }
        // A first card is card 1; a replacement or a card for a lost one is a later card.
        if (!row.wrong) {
            const bool first = a.reason == ApplicationReason::FirstCard;
            if (sequence && first && *sequence != 1)
                row.add(where[Column::CardSequence],
                        fmt::format("a first card has sequence number 1, not {}", *sequence));
            else if (sequence && !first && *sequence == 1)
                row.add(where[Column::CardSequence],
                        "a replacement card has a sequence number of 2 or more");
            else
                a.cardSequence = sequence.value_or(first ? 1 : 2);
        }
        if (row.wrong) {
            ++wrongRows;
            continue;
        }
        good.push_back(std::move(a));
    }

    if (report.rows == 0)
        return R(fail(
            importError(ImportErrorCode::NoRows, "the file has a header row but no applications")));
    if (wrongRows > 0 && !options.partial) {
        ImportError error = importError(
            ImportErrorCode::InvalidRows,
            fmt::format("{} of {} rows are wrong; nothing was imported: correct them and send "
                        "the file again",
                        wrongRows, report.rows));
        error.wrongRows = wrongRows;
        if (errors.size() > limits.maxReportedErrors)
            errors.resize(limits.maxReportedErrors);
        error.rows = std::move(errors);
        return R(fail(std::move(error)));
    }
    for (auto& a : good) {
        auto id = newApplicationId();
        if (!id) {
            ImportError error = importError(ImportErrorCode::Store, id.error().message);
            error.store = id.error();
            return R(fail(std::move(error)));
        }
        a.id = std::move(id).value();
    }
    report.imported = good.size();
    report.rejectedRows = wrongRows;
    if (errors.size() > limits.maxReportedErrors)
        errors.resize(limits.maxReportedErrors);
    report.rejected = std::move(errors);
    return ParsedApplications{std::move(report), std::move(good)};
}

Result<ImportReport, ImportError> importApplicationsCsv(std::istream& in, Store& store,
                                                        const ImportOptions& options) {
    auto parsed = readApplicationsCsv(in, options);
    if (!parsed)
        return fail(parsed.error());
    if (!parsed->applications.empty()) {
        auto added = store.addApplications(parsed->applications);
        if (!added) {
            ImportError error = importError(
                ImportErrorCode::Store,
                fmt::format("the registry did not take the applications; nothing was imported: "
                            "{}",
                            added.error().message));
            error.store = added.error();
            return fail(std::move(error));
        }
    }
    return std::move(parsed->report);
}

// --- exporting status events -------------------------------------------------------------------

namespace {

// RFC 3339 §5.6 date-time in UTC: 2026-11-20T09:15:00Z.
std::string rfc3339(Seconds at) {
    const auto day = std::chrono::floor<std::chrono::days>(at);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss time{at - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       time.hours().count(), time.minutes().count(), time.seconds().count());
}

} // namespace

std::string csvField(std::string_view value, char separator) {
    std::string text;
    // OWASP, "CSV Injection": a cell starting with = + - @, a tab or a carriage return may be run
    // as a formula by a spreadsheet; a leading single quote makes it text.
    if (!value.empty() &&
        std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos)
        text += '\'';
    text += value;
    // RFC 4180 §2 rules 6-7: quote a field holding the separator, a quote or a line break,
    // doubling the quotes; and one with blanks at its ends, which readers would trim.
    const bool quote =
        text.find_first_of(std::string{separator, '"', '\r', '\n'}) != std::string::npos ||
        (!text.empty() && (text.front() == ' ' || text.back() == ' '));
    if (!quote)
        return text;
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"')
            quoted += '"';
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

Result<ExportReport, ExportError> exportEventsCsv(Store& store, std::ostream& out,
                                                  std::uint64_t afterSequence,
                                                  const ExportOptions& options) {
    using R = Result<ExportReport, ExportError>;
    const char sep = options.separator;
    auto outputFailed = [] {
        return R(fail(ExportError{ExportError::Code::Output,
                                  "the export could not be written (disk full or the file "
                                  "closed?)",
                                  std::nullopt}));
    };
    if (options.byteOrderMark)
        out << kUtf8Bom;
    // RFC 4180 §2 rule 2: records end with CRLF.
    out << fmt::format("sequence{0}kind{0}card_number{0}member_id{0}station{0}operator{0}at{0}"
                       "reason\r\n",
                       sep);
    if (!out)
        return outputFailed();
    ExportReport report;
    report.lastSequence = afterSequence;
    const int pageSize = std::clamp(options.pageSize, 1, 100'000);
    for (;;) {
        auto page = store.eventsAfter(report.lastSequence, pageSize);
        if (!page)
            return R(fail(ExportError{
                ExportError::Code::Store,
                fmt::format("the registry's events could not be read: {}", page.error().message),
                page.error()}));
        std::string lines;
        for (const auto& recorded : page.value()) {
            const StatusEvent& e = recorded.event;
            lines += fmt::format("{1}{0}{2}{0}{3}{0}{4}{0}{5}{0}{6}{0}{7}{0}{8}\r\n", sep,
                                 recorded.sequence, csvField(toString(e.kind), sep),
                                 csvField(e.cardNumber, sep), csvField(e.memberId, sep),
                                 csvField(e.station, sep), csvField(e.operatorId, sep),
                                 rfc3339(e.at), csvField(e.reason, sep));
            report.lastSequence = std::max(report.lastSequence, recorded.sequence);
            ++report.rows;
        }
        out << lines;
        if (!out)
            return outputFailed();
        if (page.value().size() < static_cast<std::size_t>(pageSize))
            break;
    }
    out.flush();
    if (!out)
        return outputFailed();
    return report;
}

} // namespace unioncard::registry
