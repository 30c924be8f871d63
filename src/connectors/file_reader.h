#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "connectors/schema_contract.h"

namespace sluice::connectors {

// SQL that reads one file of a file source through DuckDB's readers. The reader relation has one
// column per data column (typed where the reader can check types and report the line of a bad
// value, VARCHAR where sluice must parse: timestamps with UTC offsets, JSON values), plus
// __sluice_line (BIGINT, the 1-based line when known), __sluice_raw (VARCHAR, the row's text
// when the reader keeps it) and __sluice_malformed (VARCHAR reason for rows that are not
// records at all).
struct ReaderPlan {
  std::string relation_sql;   // "SELECT ... FROM read_csv(...)"
  std::string rejects_table;  // DuckDB's rejects table for this scan, or empty
  bool raw_is_line = false;   // __sluice_raw holds the exact input line
  // __sluice_line and __sluice_record are filled in (else NULL where they need row numbering:
  // then a row's 1-based position among the reader's rows is its record number and, where
  // lines_are_rows, its line number too).
  bool rows_numbered = true;
  bool lines_are_rows = false;  // JSON Lines: the reader yields one row per line
  // Declared columns the reader already typed (conversion errors come from the reader).
  std::vector<std::string> reader_typed;
  // Declared timestamp columns the reader already yields as TIMESTAMP (Parquet).
  std::vector<std::string> plain_timestamps;
};

// The SQL to list the columns of `file`, for the contract check: (name, type) rows from
// DESCRIBE for Parquet and JSON Lines; the raw first line for CSV (see SplitCsvHeader).
std::string ObserveSql(const config::SourceSpec& source, const std::string& file);
// For JSON Lines: the same columns as ObserveSql, plus key_sets, the number of distinct key sets
// among the object lines. Where key_sets <= 1 the result equals ObserveSql's at a fraction of
// the cost (no line numbering, so the scan runs in parallel); otherwise use ObserveSql.
std::string JsonKeySetsSql(const config::SourceSpec& source, const std::string& file);
// Splits a CSV header line into names (quotes and doubled quotes as in RFC 4180).
std::vector<std::string> SplitCsvHeader(std::string_view line, char delimiter, char quote);
// Reads DESCRIBE output rows (name, type) into observed columns; text formats get no type.
std::vector<ObservedColumn> ToObserved(const config::SourceSpec& source,
                                       const std::vector<std::string>& names,
                                       const std::vector<std::string>& types);

// Without `number_rows`, CSV records and JSON lines are not numbered (NULL): numbering them
// with row_number() OVER () runs the whole scan on one thread, and only quarantined rows need
// the numbers (see ingest.cpp). Parquet rows are always numbered; that costs nothing.
//
// With `json_direct`, JSON Lines are read by DuckDB's read_json straight into VARCHAR columns
// (the same values json_transform gives the per-line reader, several times cheaper), with no
// line numbers, raw text or malformed-line reasons. read_json skips blank lines and stops at
// the first malformed or non-object line, so the plan is only right for a file whose every
// line is one JSON object: the caller checks that (see CountJsonObjectLines) and otherwise, or
// when the read fails, uses the per-line plan. The declared columns in `json_typed` are read
// by read_json as their declared type instead of VARCHAR (see JsonDirectTyped in ingest.cpp for
// when that yields the same values as the text and the cast of the validation).
ReaderPlan PlanReader(const config::SourceSpec& source, const std::string& file,
                      const std::vector<ObservedColumn>& observed, const std::string& scan_name,
                      bool number_rows = true, bool json_direct = false,
                      const std::vector<std::string>& json_typed = {},
                      bool mixed_line_ends = false);

// How the lines of a file end. The per-line JSON Lines plan splits a file that mixes LF and
// CRLF right only when told so (PlanReader's `mixed_line_ends`; see JsonLinesSql), which costs
// DuckDB's parallel line split, so it is asked for only where the file needs it.
struct LineEnds {
  bool lf = false;       // some line ends in a bare LF
  bool crlf = false;     // some line ends in CR LF
  bool lone_cr = false;  // some CR is not followed by LF (a lone CR ends a line in DuckDB)
  // LF and CRLF both, and no lone CR: the one case the default split gets wrong.
  bool Mixed() const { return lf && crlf && !lone_cr; }
};
base::Result<LineEnds> ScanLineEnds(const std::filesystem::path& file);

// For the direct JSON Lines read: the number of lines of an uncompressed file when every line
// has something besides JSON whitespace and the file has no byte order mark; nullopt when not
// (read_json would skip a blank line or the mark, where the per-line reader quarantines the
// line). With that count, a read_json that yields as many rows without an error read exactly one
// object per line, in order.
base::Result<std::optional<std::int64_t>> CountJsonObjectLines(const std::filesystem::path& file);

// The line each wanted CSV record starts on. Records are counted as DuckDB's reader yields
// them: a newline inside `quote`s (doubled quotes included) continues the record, blank lines
// are no records, the header (with `header`) and the records starting on a `rejected` line
// (sorted; numbered as DuckDB's rejects table does, without newlines inside quotes) are skipped;
// `wanted` are 1-based numbers among the rest, sorted. nullopt when the file does not hold
// `accepted` such records: then its records are not what the reader saw (a stray quote, a lone CR
// as line end...), and no line can be trusted.
base::Result<std::optional<std::vector<std::int64_t>>> CsvRecordLines(
    const std::filesystem::path& file, char quote, bool header,
    const std::vector<std::int64_t>& rejected, const std::vector<std::int64_t>& wanted,
    std::int64_t accepted);

// The full SELECT producing typed columns plus __sluice_reason / __sluice_kind /
// __sluice_column / __sluice_raw / __sluice_line / __sluice_record / __sluice_bad.
std::string ValidateSql(const config::SourceSpec& source, const ReaderPlan& reader,
                        const std::vector<std::string>& kept_extra);

// The error CleanRowsSql raises at the first row ValidateSql would quarantine.
inline constexpr std::string_view kBadRowError = "sluice: a row to quarantine";
// The typed columns alone, for a file expected to be clean: the statement fails with
// kBadRowError at the first bad row. Every column a Parquet copy carries costs about as much to
// write as a data column, even all NULL, so a clean file is copied without the six quarantine
// columns; a file with bad rows is then read again with ValidateSql.
std::string CleanRowsSql(const config::SourceSpec& source, const ReaderPlan& reader,
                         const std::vector<std::string>& kept_extra);

}  // namespace sluice::connectors
