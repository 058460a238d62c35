// SPDX-License-Identifier: Apache-2.0
// The CSV file exchange: what offices send (English or Russian headers, ',' or ';', BOM, CRLF,
// RFC 4180 quoting), every kind of row error with its line, all-or-nothing and partial imports
// (checked in the store afterwards), and the events export: round trip and formula injection.
// Sample files: tests/vectors/csv/ (README there).

#include "../../support/refusing_store.hpp"

#include <unioncard/card/card_number.hpp>
#include <unioncard/registry/csv_exchange.hpp>
#include <unioncard/registry/seed.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

namespace unioncard::registry {
namespace {

using namespace std::chrono_literals;

// The applications and events of a registry, in memory; can be told to fail.
class MemoryStore : public testsupport::RefusingStore {
public:
    std::vector<Application> applications;
    std::vector<RecordedEvent> events;
    int addCalls = 0;
    std::optional<StoreError> failAdd;

    Result<int, StoreError> addApplications(const std::vector<Application>& apps) override {
        ++addCalls;
        if (failAdd)
            return fail(*failAdd);
        applications.insert(applications.end(), apps.begin(), apps.end());
        return static_cast<int>(apps.size());
    }
    Result<std::vector<RecordedEvent>, StoreError> eventsAfter(std::uint64_t after,
                                                               int limit) override {
        ++eventCalls;
        std::vector<RecordedEvent> out;
        for (const auto& e : events)
            if (e.sequence > after && static_cast<int>(out.size()) < limit)
                out.push_back(e);
        return out;
    }
    int eventCalls = 0;
};

const Seconds kNow{std::chrono::seconds{1'750'000'000}};

Result<ImportReport, ImportError> importText(const std::string& text, Store& store,
                                             bool partial = false, CsvLimits limits = {}) {
    std::istringstream in(text);
    ImportOptions options;
    options.partial = partial;
    options.limits = limits;
    options.now = kNow;
    return importApplicationsCsv(in, store, options);
}

std::string vectorsFile(const std::string& name) {
    std::ifstream in(std::string(UNIONCARD_CSV_VECTORS_DIR) + "/" + name, std::ios::binary);
    EXPECT_TRUE(in) << name;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

const std::string kHeader =
    "member_id,full_name,region,organisation_code,organisation_name,category,reason,consent\n";

// Finds the error about a line (and column), or fails the test.
const RowError* errorAt(const std::vector<RowError>& errors, std::uint64_t line,
                        std::string_view column) {
    for (const auto& e : errors)
        if (e.line == line && e.column == column)
            return &e;
    ADD_FAILURE() << "no error on line " << line << " column '" << column << "'";
    return nullptr;
}

std::string describe(const ImportError& e) {
    std::string out = std::string(toString(e.code)) + ": " + e.message;
    for (const auto& r : e.rows)
        out += "\n  line " + std::to_string(r.line) + " [" + r.column + "] " + r.message;
    return out;
}

} // namespace

// --- reading -------------------------------------------------------------------------------------

TEST(CsvImport, ImportsAGoodFile) {
    MemoryStore store;
    auto r = importText(vectorsFile("applications_en.csv"), store);
    ASSERT_TRUE(r.ok()) << describe(r.error());
    EXPECT_EQ(r->rows, 3u);
    EXPECT_EQ(r->imported, 3u);
    EXPECT_EQ(r->separator, ',');
    EXPECT_TRUE(r->rejected.empty());
    ASSERT_EQ(store.applications.size(), 3u);
    EXPECT_EQ(store.addCalls, 1); // one transaction
    const Application& a = store.applications[0];
    EXPECT_EQ(a.memberId, "M-16-0000123");
    EXPECT_EQ(a.fullName, "Иванова Мария Сергеевна");
    EXPECT_EQ(a.region, 16);
    EXPECT_EQ(a.organisationCode, 1'600'017u);
    EXPECT_EQ(a.organisationName, "МБОУ СОШ № 17 г. Казани");
    EXPECT_EQ(a.category, MemberCategory::Working);
    EXPECT_EQ(a.reason, ApplicationReason::FirstCard);
    EXPECT_TRUE(a.consent);
    EXPECT_EQ(a.cardSequence, 1);
    EXPECT_EQ(a.createdAt, kNow);
    EXPECT_EQ(store.applications[1].category, MemberCategory::Student);
    EXPECT_EQ(store.applications[1].reason, ApplicationReason::Replacement);
    EXPECT_EQ(store.applications[1].cardSequence, 2);
    EXPECT_EQ(store.applications[2].reason, ApplicationReason::Lost);
    EXPECT_EQ(store.applications[2].cardSequence, 3); // given in the file
    EXPECT_FALSE(store.applications[2].consent);
    // Fresh, distinct ids.
    EXPECT_EQ(a.id.rfind("A-", 0), 0u);
    EXPECT_NE(store.applications[0].id, store.applications[1].id);
}

TEST(CsvImport, ReadsRussianHeadersSemicolonsBomAndCrlf) {
    MemoryStore store;
    const std::string text = vectorsFile("applications_ru_excel.csv");
    ASSERT_EQ(text.substr(0, 3), "\xEF\xBB\xBF");
    ASSERT_NE(text.find("\r\n"), std::string::npos);
    auto r = importText(text, store);
    ASSERT_TRUE(r.ok()) << describe(r.error());
    EXPECT_EQ(r->separator, ';');
    ASSERT_EQ(store.applications.size(), 3u);
    const Application& a = store.applications[0];
    EXPECT_EQ(a.memberId, "M-77-0004512");
    EXPECT_EQ(a.fullName, "Петров Пётр Ильич");
    EXPECT_EQ(a.region, 77);
    EXPECT_EQ(a.category, MemberCategory::Working);
    EXPECT_EQ(a.reason, ApplicationReason::FirstCard);
    EXPECT_TRUE(a.consent);
    EXPECT_EQ(store.applications[1].category, MemberCategory::Pensioner);
    EXPECT_EQ(store.applications[1].reason, ApplicationReason::Lost);
    EXPECT_EQ(store.applications[2].category, MemberCategory::Unknown);
    EXPECT_FALSE(store.applications[2].consent);
    // "Организация, г. Москва" held a comma inside quotes, which is no separator with ';'.
    EXPECT_NE(store.applications[2].organisationName.find(", "), std::string::npos);
}

TEST(CsvImport, ReadsQuotedFieldsWithSeparatorsLineBreaksAndQuotes) {
    MemoryStore store;
    const std::string text =
        kHeader + "M-1,\"Иванов Иван Иванович\",16,1600001,\"МБОУ «Лицей № 1», г. Казань\",working,"
                  "first_card,yes\n"
                  "M-2,\"Сидорова\nАнна Петровна\",16,1600002,\"ГБПОУ \"\"Казанский колледж\"\"\","
                  "student,first_card,да\r\n"
                  "M-3,Ильин Лев Никитич,16,1600003,,unknown,first_card,1\n";
    auto r = importText(text, store);
    ASSERT_TRUE(r.ok()) << describe(r.error());
    ASSERT_EQ(store.applications.size(), 3u);
    EXPECT_EQ(store.applications[0].organisationName, "МБОУ «Лицей № 1», г. Казань");
    // A line break typed in a name (Alt+Enter) becomes a space.
    EXPECT_EQ(store.applications[1].fullName, "Сидорова Анна Петровна");
    EXPECT_EQ(store.applications[1].organisationName, "ГБПОУ \"Казанский колледж\"");
    EXPECT_EQ(store.applications[2].organisationName, "");

    // After a record spanning two lines, the next one is on line 5 of the file.
    const std::string bad = kHeader + "M-1,\"Иванов\nИван\",16,1600001,,working,first_card,yes\n"
                                      "M-2,Иванов Иван,99,1600001,,working,first_card,yes\n";
    MemoryStore other;
    auto e = importText(bad, other);
    ASSERT_FALSE(e.ok());
    ASSERT_EQ(e.error().rows.size(), 1u) << describe(e.error());
    EXPECT_EQ(e.error().rows[0].line, 4u);
    EXPECT_EQ(e.error().rows[0].column, "region");

    // The same with CRLF inside the quotes and between records: one line break each.
    std::string crlf = kHeader.substr(0, kHeader.size() - 1) + "\r\n" +
                       "M-1,\"Иванов\r\nИван\",16,1600001,,working,first_card,yes\r\n"
                       "M-2,Иванов Иван,99,1600001,,working,first_card,yes\r\n";
    auto c = importText(crlf, other);
    ASSERT_FALSE(c.ok());
    ASSERT_EQ(c.error().rows.size(), 1u) << describe(c.error());
    EXPECT_EQ(c.error().rows[0].line, 4u);
    EXPECT_TRUE(other.applications.empty());
}

TEST(CsvImport, AcceptsColumnsInAnyOrderBlankLinesAndExcelsEmptyTrailingColumns) {
    MemoryStore store;
    const std::string text = "Согласие;ФИО;Код организации;Регион;ID члена;;\r\n"
                             "\r\n"
                             "да;Ёлкина Алёна Ильинична;1600001;16;M-9;;\r\n"
                             ";;;;;;\r\n"
                             "нет;Ильин Илья Ильич;1600002;016;M-10;;\r\n";
    auto r = importText(text, store);
    ASSERT_TRUE(r.ok()) << describe(r.error());
    EXPECT_EQ(r->rows, 2u);
    ASSERT_EQ(store.applications.size(), 2u);
    EXPECT_EQ(store.applications[0].fullName, "Ёлкина Алёна Ильинична");
    EXPECT_EQ(store.applications[1].region, 16);
    EXPECT_EQ(store.applications[1].memberId, "M-10");
}

// Each kind of wrong row, reported with its line and column; nothing imported.
TEST(CsvImport, ReportsEachKindOfRowErrorWithItsLine) {
    MemoryStore store;
    const std::string text = vectorsFile("applications_errors.csv");
    auto r = importText(text, store);
    ASSERT_FALSE(r.ok());
    const ImportError& e = r.error();
    EXPECT_EQ(e.code, ImportErrorCode::InvalidRows) << describe(e);
    const auto& rows = e.rows;
    auto expect = [&](std::uint64_t line, std::string_view column, std::string_view words = {}) {
        const RowError* found = errorAt(rows, line, column);
        if (found) {
            EXPECT_NE(found->message.find(words), std::string::npos)
                << "line " << line << ": " << found->message;
        }
    };
    // Line 2 is a good row.
    for (const auto& row : rows)
        EXPECT_NE(row.line, 2u) << row.message;
    expect(3, "member_id", "empty");
    expect(4, "member_id", "Latin letters");
    expect(5, "member_id", "already has an application on line 2");
    expect(6, "full_name", "Cyrillic");
    expect(7, "full_name", "surname and the first name");
    expect(8, "region", "from 1 to 89");
    expect(9, "region", "from 1 to 89");
    expect(10, "organisation_code", "whole number");
    expect(11, "category", "not a category");
    expect(12, "reason", "not a reason");
    expect(13, "consent", "empty");
    expect(14, "consent", "not an answer");
    expect(15, "", "fields, but the header names 8 columns");
    expect(16, "", "double quote");
    expect(17, "", "after its closing double quote");
    expect(18, "", "not valid UTF-8 (byte 0xCF)");
    expect(19, "card_sequence", "first card has sequence number 1");
    // Line 20 holds two wrong fields: both are reported.
    expect(20, "region");
    expect(20, "consent");
    expect(21, "", "never closed");
    EXPECT_EQ(e.wrongRows, 19u);
    EXPECT_NE(e.message.find("nothing was imported"), std::string::npos);
    EXPECT_TRUE(store.applications.empty());
    EXPECT_EQ(store.addCalls, 0);
}

TEST(CsvImport, PartialModeImportsTheGoodRowsInOneTransaction) {
    MemoryStore store;
    const std::string text = kHeader + "M-1,Иванов Иван Иванович,16,1600001,,,,да\n" +
                             "M-2,Ivanov Ivan,16,1600001,,,,да\n" +
                             "M-3,Петрова Ольга Львовна,16,1600001,,,,да\n" +
                             "M-4,Сидоров Олег,0,1600001,,,,да\n";
    auto r = importText(text, store, /*partial=*/true);
    ASSERT_TRUE(r.ok()) << describe(r.error());
    EXPECT_EQ(r->rows, 4u);
    EXPECT_EQ(r->imported, 2u);
    EXPECT_EQ(r->rejectedRows, 2u);
    ASSERT_EQ(r->rejected.size(), 2u);
    EXPECT_EQ(r->rejected[0].line, 3u);
    EXPECT_EQ(r->rejected[0].column, "full_name");
    EXPECT_EQ(r->rejected[1].line, 5u);
    EXPECT_EQ(r->rejected[1].column, "region");
    EXPECT_EQ(store.addCalls, 1);
    ASSERT_EQ(store.applications.size(), 2u);
    EXPECT_EQ(store.applications[0].memberId, "M-1");
    EXPECT_EQ(store.applications[1].memberId, "M-3");
}

TEST(CsvImport, NothingIsWrittenWhenTheStoreRefuses) {
    MemoryStore store;
    store.failAdd = StoreError{StoreErrorCode::Unavailable, "the database is locked"};
    auto r = importText(kHeader + "M-1,Иванов Иван Иванович,16,1600001,,,,да\n", store);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ImportErrorCode::Store);
    ASSERT_TRUE(r.error().store.has_value());
    EXPECT_EQ(r.error().store->code, StoreErrorCode::Unavailable);
    EXPECT_NE(r.error().message.find("the database is locked"), std::string::npos);
    EXPECT_TRUE(store.applications.empty());
}

TEST(CsvImport, RefusesBadHeadersByName) {
    MemoryStore store;
    auto unknown =
        importText("member_id;ФИО;Регион;Код организации;Согласие;Телефон\r\nM-1;Иванов Иван;"
                   "16;1;да;+79001234567\r\n",
                   store);
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, ImportErrorCode::BadHeader);
    EXPECT_NE(unknown.error().message.find("column 6 \"Телефон\""), std::string::npos)
        << unknown.error().message;

    auto twice =
        importText("member_id,ID члена,full_name,region,organisation_code,consent\n", store);
    ASSERT_FALSE(twice.ok());
    EXPECT_EQ(twice.error().code, ImportErrorCode::BadHeader);
    EXPECT_NE(twice.error().message.find("both give member_id"), std::string::npos)
        << twice.error().message;

    auto missing = importText("member_id,full_name,region,organisation_code\n", store);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("no column consent (Согласие)"), std::string::npos)
        << missing.error().message;

    auto empty = importText("\xEF\xBB\xBF \r\n", store);
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code, ImportErrorCode::BadHeader);
    EXPECT_NE(empty.error().message.find("empty"), std::string::npos);

    auto headerOnly = importText(kHeader + "\n\n", store);
    ASSERT_FALSE(headerOnly.ok());
    EXPECT_EQ(headerOnly.error().code, ImportErrorCode::NoRows);
    EXPECT_TRUE(store.applications.empty());
}

TEST(CsvImport, RefusesFilesThatAreNotUtf8) {
    MemoryStore store;
    // "ФИО" in Windows-1251, as Excel's plain "CSV" saves it.
    auto cp1251 = importText("member_id;\xD4\xC8\xCE;region;organisation_code;consent\r\n", store);
    ASSERT_FALSE(cp1251.ok());
    EXPECT_EQ(cp1251.error().code, ImportErrorCode::NotUtf8);
    EXPECT_NE(cp1251.error().message.find("CSV UTF-8"), std::string::npos);

    auto utf16 = importText(std::string("\xFF\xFEm\0e\0", 6), store);
    ASSERT_FALSE(utf16.ok());
    EXPECT_EQ(utf16.error().code, ImportErrorCode::NotUtf8);
    EXPECT_NE(utf16.error().message.find("UTF-16"), std::string::npos);
}

TEST(CsvImport, EnforcesItsLimits) {
    MemoryStore store;
    CsvLimits limits;
    limits.maxBytes = 200;
    std::string big = kHeader;
    while (big.size() <= 200)
        big += "M-1,Иванов Иван Иванович,16,1600001,,,,да\n";
    auto large = importText(big, store, false, limits);
    ASSERT_FALSE(large.ok());
    EXPECT_EQ(large.error().code, ImportErrorCode::TooLarge);
    EXPECT_NE(large.error().message.find("200 bytes"), std::string::npos);

    limits = CsvLimits{};
    limits.maxRows = 3;
    std::string rows = kHeader;
    for (int i = 1; i <= 4; ++i)
        rows += "M-" + std::to_string(i) + ",Иванов Иван Иванович,16,1600001,,,,да\n";
    auto many = importText(rows, store, true, limits);
    ASSERT_FALSE(many.ok());
    EXPECT_EQ(many.error().code, ImportErrorCode::TooManyRows);
    EXPECT_NE(many.error().message.find("more than 3"), std::string::npos);

    limits = CsvLimits{};
    limits.maxFieldBytes = 40;
    auto longField = importText(kHeader + "M-1,Иванов Иван Иванович,16,1600001," +
                                    std::string(60, 'x') + ",,,да\n",
                                store, false, limits);
    ASSERT_FALSE(longField.ok());
    ASSERT_EQ(longField.error().rows.size(), 1u);
    EXPECT_EQ(longField.error().rows[0].line, 2u);
    EXPECT_NE(longField.error().rows[0].message.find("field 5 is longer than 40 bytes"),
              std::string::npos)
        << longField.error().rows[0].message;

    limits = CsvLimits{};
    limits.maxReportedErrors = 2;
    std::string wrong = kHeader;
    for (int i = 1; i <= 5; ++i)
        wrong += "M-" + std::to_string(i) + ",Ivanov,16,1600001,,,,да\n";
    auto capped = importText(wrong, store, false, limits);
    ASSERT_FALSE(capped.ok());
    EXPECT_EQ(capped.error().rows.size(), 2u);
    EXPECT_EQ(capped.error().wrongRows, 5u);
    EXPECT_TRUE(store.applications.empty());
}

TEST(CsvReader, NeverThrowsOrHangsOnArbitraryBytes) {
    std::mt19937_64 rng(42);
    const std::string alphabet = "ab,;\"\r\n \xD0\xB0\xFF";
    for (int round = 0; round < 3000; ++round) {
        std::string text;
        const auto length = rng() % 64;
        for (std::uint64_t i = 0; i < length; ++i)
            text += alphabet[rng() % alphabet.size()];
        CsvReader reader(text, round % 2 ? ';' : ',', 8);
        CsvRecord record;
        std::string problem;
        int records = 0;
        std::uint64_t lastLine = 0;
        while (reader.next(record, problem) != CsvReader::Status::End) {
            ASSERT_LE(++records, 65) << "the reader does not advance";
            ASSERT_GE(record.line, lastLine);
            lastLine = record.line;
        }
        MemoryStore store;
        std::istringstream in(text);
        (void)importApplicationsCsv(in, store);
    }
}

TEST(CsvReader, Utf8Validation) {
    std::size_t at = 0;
    EXPECT_TRUE(isValidUtf8("Иванов 𝄞 €"));
    EXPECT_FALSE(isValidUtf8("ab\xC0\x80", &at)); // overlong NUL
    EXPECT_EQ(at, 2u);
    EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));     // a surrogate
    EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80")); // above U+10FFFF
    EXPECT_FALSE(isValidUtf8("\xD0", &at));        // cut short
    EXPECT_EQ(at, 0u);
    EXPECT_FALSE(isValidUtf8("\xE2\x82"));
}

TEST(CsvReader, DetectsTheSeparatorOutsideQuotes) {
    EXPECT_EQ(detectSeparator("a;b;c\n"), ';');
    EXPECT_EQ(detectSeparator("a,b,c\n"), ',');
    EXPECT_EQ(detectSeparator("\"a;b;c\",d\nx;y;z;w\n"), ',');
    EXPECT_EQ(detectSeparator("single\n"), ',');
}

// --- the store ---------------------------------------------------------------------------------

// The real store: an import that fails leaves no application; a good one is there to page.
TEST(CsvImport, AgainstSqlite) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("unioncard-csv-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
        auto opened = openStore("sqlite:" + (dir / "registry.db").string());
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        Store& store = *opened.value();
        auto pending = [&] {
            ApplicationFilter filter;
            filter.limit = 1000;
            auto page = store.pendingApplications(filter);
            EXPECT_TRUE(page.ok());
            return page.ok() ? page->items : std::vector<Application>{};
        };

        auto bad = importText(vectorsFile("applications_errors.csv"), store);
        ASSERT_FALSE(bad.ok());
        EXPECT_TRUE(pending().empty());

        auto good = importText(vectorsFile("applications_ru_excel.csv"), store);
        ASSERT_TRUE(good.ok()) << describe(good.error());
        const auto items = pending();
        ASSERT_EQ(items.size(), 3u);
        std::set<std::string> members;
        for (const auto& a : items)
            members.insert(a.memberId);
        EXPECT_TRUE(members.count("M-77-0004512"));
        for (const auto& a : items) {
            if (a.memberId == "M-77-0004512") {
                EXPECT_EQ(a.fullName, "Петров Пётр Ильич");
                EXPECT_EQ(a.region, 77);
                EXPECT_TRUE(a.consent);
            }
        }

        auto partial = importText(vectorsFile("applications_errors.csv"), store, true);
        ASSERT_TRUE(partial.ok()) << describe(partial.error());
        EXPECT_EQ(partial->imported, 1u);
        EXPECT_EQ(pending().size(), 4u);
    }
    std::filesystem::remove_all(dir);
}

// --- export --------------------------------------------------------------------------------------

namespace {

RecordedEvent event(std::uint64_t sequence, EventKind kind, std::string reason,
                    std::string operatorId = "op-1") {
    RecordedEvent r;
    r.sequence = sequence;
    r.event.idempotencyKey = "key-" + std::to_string(sequence) + "-abcdef";
    r.event.kind = kind;
    r.event.cardNumber = card::CardNumber::compose(16, sequence).value().digits();
    r.event.memberId = "M-16-000000" + std::to_string(sequence % 10);
    r.event.station = "ST-16-01";
    r.event.operatorId = std::move(operatorId);
    r.event.at = Seconds{std::chrono::seconds{1'763'630'100 + static_cast<std::int64_t>(sequence)}};
    r.event.reason = std::move(reason);
    r.receivedAt = r.event.at + 2s;
    return r;
}

std::vector<CsvRecord> readBack(const std::string& text, char separator) {
    CsvReader reader(text, separator, 4096);
    std::vector<CsvRecord> out;
    CsvRecord record;
    std::string problem;
    for (;;) {
        const auto status = reader.next(record, problem);
        if (status == CsvReader::Status::End)
            break;
        EXPECT_EQ(status, CsvReader::Status::Record) << problem;
        out.push_back(record);
    }
    return out;
}

} // namespace

TEST(CsvExport, RoundTripsTheEvents) {
    MemoryStore store;
    store.events = {
        event(1, EventKind::Produced, ""),
        event(2, EventKind::HandedOver, "выдан лично, в «Лицее № 1»"),
        event(3, EventKind::Refused, "член профсоюза отказался; \"не нужен\", сказал он"),
        event(4, EventKind::Spoiled, "строка 1\nстрока 2"),
        event(5, EventKind::Lost, " пробелы по краям "),
    };
    std::ostringstream out;
    ExportOptions options;
    options.pageSize = 2; // three pages and an empty look
    auto r = exportEventsCsv(store, out, 0, options);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->rows, 5u);
    EXPECT_EQ(r->lastSequence, 5u);
    EXPECT_GE(store.eventCalls, 3);

    const auto records = readBack(out.str(), ',');
    ASSERT_EQ(records.size(), 6u);
    EXPECT_EQ(records[0].fields,
              (std::vector<std::string>{"sequence", "kind", "card_number", "member_id", "station",
                                        "operator", "at", "reason"}));
    for (std::size_t i = 0; i < store.events.size(); ++i) {
        const auto& e = store.events[i];
        const auto& f = records[i + 1].fields;
        ASSERT_EQ(f.size(), 8u);
        EXPECT_EQ(f[0], std::to_string(e.sequence));
        EXPECT_EQ(f[1], toString(e.event.kind));
        EXPECT_EQ(f[2], e.event.cardNumber);
        EXPECT_EQ(f[3], e.event.memberId);
        EXPECT_EQ(f[4], e.event.station);
        EXPECT_EQ(f[5], e.event.operatorId);
        EXPECT_EQ(f[7], e.event.reason);
    }
    // RFC 3339 in UTC: 1763630101 s after the epoch is 2025-11-20T09:15:01Z.
    EXPECT_EQ(records[1].fields[6], "2025-11-20T09:15:01Z");
    // Records end with CRLF (RFC 4180 §2 rule 1), also the last.
    EXPECT_EQ(out.str().substr(out.str().size() - 2), "\r\n");

    // Continuing after the last sequence exports nothing but the header.
    std::ostringstream again;
    auto more = exportEventsCsv(store, again, r->lastSequence);
    ASSERT_TRUE(more.ok());
    EXPECT_EQ(more->rows, 0u);
    EXPECT_EQ(more->lastSequence, 5u);
    EXPECT_EQ(readBack(again.str(), ',').size(), 1u);

    // Part of the way: after 3.
    std::ostringstream tail;
    auto rest = exportEventsCsv(store, tail, 3);
    ASSERT_TRUE(rest.ok());
    EXPECT_EQ(rest->rows, 2u);
    EXPECT_EQ(readBack(tail.str(), ',')[1].fields[0], "4");
}

TEST(CsvExport, DefusesFormulas) {
    MemoryStore store;
    store.events = {
        event(1, EventKind::Refused, "=HYPERLINK(\"http://evil.example\",\"click\")"),
        event(2, EventKind::Refused, "+7 900 123-45-67"),
        event(3, EventKind::Refused, "-2+3"),
        event(4, EventKind::Refused, "@SUM(A1:A9)"),
        event(5, EventKind::Refused, "\tcmd"),
        event(6, EventKind::Refused, "=cmd|' /C calc'!A0", "=1+1"),
        event(7, EventKind::Refused, "a = b, harmless"),
    };
    std::ostringstream out;
    auto r = exportEventsCsv(store, out, 0);
    ASSERT_TRUE(r.ok());
    const auto records = readBack(out.str(), ',');
    ASSERT_EQ(records.size(), 8u);
    for (std::size_t i = 1; i <= 6; ++i) {
        const std::string& reason = records[i].fields[7];
        EXPECT_EQ(reason, "'" + store.events[i - 1].event.reason) << reason;
    }
    EXPECT_EQ(records[6].fields[5], "'=1+1");
    EXPECT_EQ(records[7].fields[7], "a = b, harmless");
    // No cell in the file starts with a formula character.
    for (const auto& rec : records)
        for (const auto& f : rec.fields)
            EXPECT_EQ(std::string_view("=+-@\t\r").find(f.empty() ? 'x' : f.front()),
                      std::string_view::npos)
                << f;
}

TEST(CsvExport, ForRussianExcel) {
    MemoryStore store;
    store.events = {event(1, EventKind::HandedOver, "выдан; лично")};
    std::ostringstream out;
    ExportOptions options;
    options.separator = ';';
    options.byteOrderMark = true;
    ASSERT_TRUE(exportEventsCsv(store, out, 0, options).ok());
    const std::string text = out.str();
    ASSERT_EQ(text.substr(0, 3), "\xEF\xBB\xBF");
    const auto records = readBack(text.substr(3), ';');
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].fields[7], "выдан; лично");
    EXPECT_EQ(text.substr(3, 9), "sequence;");
}

TEST(CsvExport, ReportsStoreAndOutputFailures) {
    class Failing : public MemoryStore {
    public:
        Result<std::vector<RecordedEvent>, StoreError> eventsAfter(std::uint64_t, int) override {
            return fail(StoreError{StoreErrorCode::Unavailable, "the database is down"});
        }
    } failing;
    std::ostringstream out;
    auto r = exportEventsCsv(failing, out, 0);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ExportError::Code::Store);
    EXPECT_NE(r.error().message.find("the database is down"), std::string::npos);

    MemoryStore store;
    store.events = {event(1, EventKind::Produced, "")};
    std::ostringstream closed;
    closed.setstate(std::ios::badbit);
    auto w = exportEventsCsv(store, closed, 0);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code, ExportError::Code::Output);
}

TEST(CsvExport, FieldQuoting) {
    EXPECT_EQ(csvField("plain"), "plain");
    EXPECT_EQ(csvField("a,b"), "\"a,b\"");
    EXPECT_EQ(csvField("a;b"), "a;b");
    EXPECT_EQ(csvField("a;b", ';'), "\"a;b\"");
    EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csvField("two\nlines"), "\"two\nlines\"");
    EXPECT_EQ(csvField("=1+1"), "'=1+1");
    EXPECT_EQ(csvField("=1,2"), "\"'=1,2\"");
    EXPECT_EQ(csvField(""), "");
}

// The round trip through the real store: events recorded by the registry come out as written.
TEST(CsvExport, AgainstSqlite) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("unioncard-csv-export-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
        auto opened = openStore("sqlite:" + (dir / "registry.db").string());
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        Store& store = *opened.value();
        SeedOptions seed;
        seed.members = 200;
        seed.organisations = 170;
        ASSERT_TRUE(seedUnion(store, seed).ok());
        auto generator = SeedGenerator::create(seed);
        SeedMember m;
        ASSERT_TRUE(generator.value().next(m));

        auto lease = store.leaseSerials(m.member.region, 1, "ST-01-01");
        ASSERT_TRUE(lease.ok()) << lease.error().message;
        StatusEvent produced;
        produced.idempotencyKey = "export-test-0001";
        produced.kind = EventKind::Produced;
        produced.cardNumber =
            card::CardNumber::compose(m.member.region, lease->firstSerial).value().digits();
        produced.memberId = m.member.id;
        produced.station = "ST-01-01";
        produced.operatorId = "=op";
        produced.at = kNow;
        StatusEvent refused = produced;
        refused.idempotencyKey = "export-test-0002";
        refused.kind = EventKind::Refused;
        refused.reason = "сказал: \"не нужен\", ушёл";
        refused.at = kNow + 60s;
        ASSERT_TRUE(store.recordEvent(produced, "ST-01-01").ok());
        auto second = store.recordEvent(refused, "ST-01-01");
        ASSERT_TRUE(second.ok()) << second.error().message;

        std::ostringstream out;
        auto r = exportEventsCsv(store, out, 0);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->rows, 2u);
        EXPECT_EQ(r->lastSequence, second->sequence);
        const auto records = readBack(out.str(), ',');
        ASSERT_EQ(records.size(), 3u);
        EXPECT_EQ(records[1].fields[1], "produced");
        EXPECT_EQ(records[1].fields[2], produced.cardNumber);
        EXPECT_EQ(records[1].fields[5], "'=op");
        EXPECT_EQ(records[2].fields[1], "refused");
        EXPECT_EQ(records[2].fields[7], refused.reason);
        EXPECT_EQ(records[2].fields[6], "2025-06-15T15:07:40Z");
    }
    std::filesystem::remove_all(dir);
}

} // namespace unioncard::registry
