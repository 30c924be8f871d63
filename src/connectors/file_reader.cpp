#include "connectors/file_reader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "warehouse/duckdb_database.h"

namespace sluice::connectors {

using warehouse::QuoteIdentifier;
using warehouse::QuoteLiteral;

namespace {

std::string CompressionOption(config::Compression c) {
  switch (c) {
    case config::Compression::kAuto:
      return "'auto'";
    case config::Compression::kNone:
      return "'none'";
    case config::Compression::kGzip:
      return "'gzip'";
    case config::Compression::kZstd:
      return "'zstd'";
  }
  return "'auto'";
}

std::string CsvDialect(const config::SourceSpec& s) {
  std::string nulls;
  for (const auto& n : s.csv.null_values) {
    if (!nulls.empty()) nulls += ", ";
    nulls += QuoteLiteral(n);
  }
  return "header=" + std::string(s.csv.header ? "true" : "false") +
         ", delim=" + QuoteLiteral(s.csv.delimiter) + ", quote=" + QuoteLiteral(s.csv.quote) +
         ", escape=" + QuoteLiteral(s.csv.quote) + ", allow_quoted_nulls=false, nullstr=[" + nulls +
         "], compression=" + CompressionOption(s.compression);
}

// The lines of a JSON Lines file, one VARCHAR per line. JSON text cannot contain a raw 0x1F
// byte, so using it as the delimiter keeps every valid line whole; quoting is off. Without
// `number_lines` __sluice_line is NULL: row_number() OVER () makes DuckDB run the whole scan on
// one thread, so it is only worth paying where line numbers are needed.
//
// With `mixed_line_ends`, LF and CRLF both end a line in a file that mixes them. Told nothing,
// DuckDB's reader takes the first line end's style for the whole file, and in a file whose
// first line ends in LF every later CRLF reads as two line ends: a phantom empty line. Told
// '\r\n' it ends lines at LF and CRLF alike, but its parallel line split then refuses any file
// over one 8 MB buffer that has a bare LF ("does not support a full read on this file"), and it
// drops the byte after a lone CR. So that mode runs with parallel=false, and only for files
// known to mix LF and CRLF without a lone CR (ScanLineEnds).
std::string JsonLinesSql(const config::SourceSpec& s, const std::string& file,
                         bool number_lines = true, bool mixed_line_ends = false) {
  return "SELECT __sluice_json, " +
         std::string(number_lines ? "row_number() OVER ()" : "NULL::BIGINT") +
         " AS __sluice_line FROM read_csv(" + QuoteLiteral(file) +
         ", header=false, columns={'__sluice_json': 'VARCHAR'}, delim=E'\\x1f', quote='', "
         "escape='', " +
         std::string(mixed_line_ends ? "new_line='\\r\\n', parallel=false, " : "") +
         "auto_detect=false, strict_mode=false, null_padding=false, compression=" +
         CompressionOption(s.compression) + ")";
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

bool IsTimestamp(types::LogicalType t) {
  return t == types::LogicalType::kTimestamp;
}

}  // namespace

std::string ObserveSql(const config::SourceSpec& s, const std::string& file) {
  switch (s.format) {
    case config::FileFormat::kCsv:
      // Only the first line: sniffing a dialect would trip over the very rows we quarantine.
      return "SELECT __sluice_json AS header FROM read_csv(" + QuoteLiteral(file) +
             ", header=false, columns={'__sluice_json': 'VARCHAR'}, delim=E'\\x1f', quote='', "
             "escape='', auto_detect=false, strict_mode=false, ignore_errors=true, "
             "max_line_size=100000000, compression=" +
             CompressionOption(s.compression) + ") LIMIT 1";
    case config::FileFormat::kJsonl:
      return "SELECT k AS column_name, 'VARCHAR' AS column_type FROM (SELECT k, min(__sluice_line) "
             "AS first FROM (SELECT unnest(try(json_keys(__sluice_json))) AS k, __sluice_line FROM "
             "(" +
             JsonLinesSql(s, file) +
             ") WHERE try(json_type(__sluice_json)) = 'OBJECT') "
             "GROUP BY k) ORDER BY first, k";
    case config::FileFormat::kParquet:
      return "DESCRIBE SELECT * FROM read_parquet(" + QuoteLiteral(file) + ")";
  }
  return "";
}

std::string JsonKeySetsSql(const config::SourceSpec& s, const std::string& file) {
  // The sorted, de-duplicated non-empty key sets of the lines, scanned in parallel (no line
  // numbers). With one set, every key first appears on the same line, so ObserveSql's order
  // (first line, then name) is the name order. json_keys gives [] for a JSON value that is not
  // an object and NULL (under try) for text that is not JSON, so non-empty lists come from
  // object lines only, and each line is parsed once (json_type to find the objects would parse
  // it again). The key lists are grouped by their hash, not by value (that costs a third of
  // the scan): a group whose smallest and largest list differ is a collision, reported as a
  // second key set so that the caller uses ObserveSql. Sorting the few distinct lists, not
  // every line's, halves the cost again.
  return "WITH lists AS MATERIALIZED (SELECT min(keys) AS lo, max(keys) AS hi FROM (SELECT "
         "try(json_keys(__sluice_json)) AS keys FROM (" +
         JsonLinesSql(s, file, /*number_lines=*/false) +
         ")) GROUP BY hash(keys)), sets AS MATERIALIZED (SELECT DISTINCT "
         "list_sort(list_distinct(lo)) AS keys FROM lists WHERE len(lo) > 0) SELECT k AS "
         "column_name, 'VARCHAR' AS column_type, (SELECT count(*) FROM sets) + (SELECT count(*) "
         "FROM lists WHERE lo IS DISTINCT FROM hi) AS key_sets FROM (SELECT unnest(keys) AS k "
         "FROM sets) ORDER BY k";
}

base::Result<std::optional<std::int64_t>> CountJsonObjectLines(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return base::IoError("cannot read '" + file.string() + "'");
  std::vector<char> buf(1 << 20);
  std::int64_t lines = 0;
  bool in_content = false;  // the current line has a byte that is not JSON whitespace
  bool in_line = false;     // the current line has any byte
  bool first = true;
  bool blank = false;
  for (size_t n; !blank && (n = std::fread(buf.data(), 1, buf.size(), f)) > 0;) {
    const char* p = buf.data();
    const char* end = p + n;
    if (first) {
      first = false;
      if (n >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) blank = true;
    }
    while (!blank && p < end) {
      if (in_content) {
        // Most of the time goes here: memchr finds the end of a line at memory speed.
        const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
        if (nl == nullptr) break;
        p = static_cast<const char*>(nl) + 1;
        ++lines;
        in_content = false;
        in_line = false;
      } else if (*p == ' ' || *p == '\t' || *p == '\r') {
        in_line = true;
        ++p;
      } else if (*p == '\n') {
        blank = true;
      } else {
        in_content = true;
      }
    }
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) return base::IoError("cannot read '" + file.string() + "'");
  // Whitespace after the last newline is a blank last line; nothing after it is no line.
  if (blank || (in_line && !in_content)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(in_content ? lines + 1 : lines);
}

base::Result<LineEnds> ScanLineEnds(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return base::IoError("cannot read '" + file.string() + "'");
  std::vector<char> buf(1 << 20);
  LineEnds ends;
  // The byte before the buffer: a CR there pairs with an LF at the buffer's start.
  char before = '\0';
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), f)) > 0;) {
    const char* data = buf.data();
    size_t at = 0;
    while (at < n) {
      const void* hit = std::memchr(data + at, '\n', n - at);
      const size_t lf =
          hit == nullptr ? n : static_cast<size_t>(static_cast<const char*>(hit) - data);
      // A CR right before this LF pairs with it; one on the buffer's last byte with no LF after
      // it in this buffer is decided by the next one. Any other CR up to here is lone.
      const size_t paired = lf == n ? n - 1 : (lf == 0 ? 0 : lf - 1);
      if (lf > at && paired > at && std::memchr(data + at, '\r', paired - at) != nullptr) {
        ends.lone_cr = true;
      }
      if (lf == n) break;
      const char prev = lf == 0 ? before : data[lf - 1];
      (prev == '\r' ? ends.crlf : ends.lf) = true;
      at = lf + 1;
    }
    if (before == '\r' && data[0] != '\n') ends.lone_cr = true;
    before = data[n - 1];
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) return base::IoError("cannot read '" + file.string() + "'");
  if (before == '\r') ends.lone_cr = true;  // a CR ending the file has no LF after it
  return ends;
}

base::Result<std::optional<std::vector<std::int64_t>>> CsvRecordLines(
    const std::filesystem::path& file, char quote, bool header,
    const std::vector<std::int64_t>& rejected, const std::vector<std::int64_t>& wanted,
    std::int64_t accepted) {
  using Lines = std::optional<std::vector<std::int64_t>>;
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return base::IoError("cannot read '" + file.string() + "'");
  std::vector<std::int64_t> out;
  // DuckDB numbers a line after a value with a quoted newline as if that newline was not there,
  // so rejected lines are matched by that count (`reader_line`); the result is the real line.
  std::int64_t line = 1, start = 1, reader_line = 1, reader_start = 1, seen = 0;
  bool quoted = false, in_record = false, header_pending = header;
  size_t next_rejected = 0, next_wanted = 0;
  const auto end_record = [&] {
    if (!in_record) return;  // a blank line
    in_record = false;
    if (header_pending) {
      header_pending = false;
      return;
    }
    while (next_rejected < rejected.size() && rejected[next_rejected] < reader_start)
      ++next_rejected;
    if (next_rejected < rejected.size() && rejected[next_rejected] == reader_start) return;
    ++seen;
    while (next_wanted < wanted.size() && wanted[next_wanted] == seen) {
      out.push_back(start);
      ++next_wanted;
    }
  };
  std::vector<char> buf(1 << 20);
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), f)) > 0;) {
    for (size_t i = 0; i < n; ++i) {
      const char c = buf[i];
      if (c == '\n') {
        if (!quoted) {
          end_record();
          ++reader_line;
        }
        ++line;
        continue;
      }
      if (c == '\r' && !quoted) continue;
      if (!in_record) {
        in_record = true;
        start = line;
        reader_start = reader_line;
      }
      if (quote != '\0' && c == quote) quoted = !quoted;
    }
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return base::IoError("error while reading '" + file.string() + "'");
  end_record();
  if (seen != accepted || out.size() != wanted.size()) return Lines();
  return Lines(std::move(out));
}

std::vector<std::string> SplitCsvHeader(std::string_view line, char delimiter, char quote) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == quote && i + 1 < line.size() && line[i + 1] == quote) {
        field += quote;
        ++i;
      } else if (c == quote) {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == quote) {
      quoted = true;
    } else if (c == delimiter) {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return fields;
}

std::vector<ObservedColumn> ToObserved(const config::SourceSpec& s,
                                       const std::vector<std::string>& names,
                                       const std::vector<std::string>& types) {
  std::vector<ObservedColumn> out;
  for (size_t i = 0; i < names.size(); ++i) {
    ObservedColumn c{names[i], std::nullopt};
    if (s.format == config::FileFormat::kParquet && i < types.size()) c.duckdb_type = types[i];
    out.push_back(std::move(c));
  }
  return out;
}

ReaderPlan PlanReader(const config::SourceSpec& s, const std::string& file,
                      const std::vector<ObservedColumn>& observed, const std::string& scan_name,
                      bool number_rows, bool json_direct,
                      const std::vector<std::string>& json_typed, bool mixed_line_ends) {
  ReaderPlan plan;
  plan.rows_numbered = number_rows || s.format == config::FileFormat::kParquet;
  switch (s.format) {
    case config::FileFormat::kCsv: {
      // Declared non-timestamp columns are typed by the reader, which then reports the line of
      // every value it cannot convert; everything else is read as text.
      std::string columns;
      for (const auto& o : observed) {
        const types::Field* f = s.FindColumn(o.name);
        std::string type = "VARCHAR";
        if (f != nullptr && !IsTimestamp(f->type)) {
          type = std::string(warehouse::DuckDbTypeName(f->type));
          plan.reader_typed.push_back(o.name);
        }
        if (!columns.empty()) columns += ", ";
        columns += QuoteLiteral(o.name) + ": " + QuoteLiteral(type);
      }
      plan.rejects_table = scan_name + "_rejects";
      // Rows stream out of the reader in file order, so row_number() counts data records.
      plan.relation_sql =
          "SELECT *, NULL::BIGINT AS __sluice_line, NULL::VARCHAR AS __sluice_raw, "
          "NULL::VARCHAR AS __sluice_malformed, " +
          std::string(number_rows ? "row_number() OVER ()" : "NULL::BIGINT") +
          " AS __sluice_record FROM read_csv(" + QuoteLiteral(file) + ", " + CsvDialect(s) +
          ", auto_detect=false, columns={" + columns +
          "}, store_rejects=true, rejects_table=" + QuoteLiteral(plan.rejects_table) +
          ", rejects_scan=" + QuoteLiteral(scan_name + "_scans") + ")";
      break;
    }
    case config::FileFormat::kJsonl: {
      // One JSON parse per line: json_transform into a struct of VARCHARs (numbers keep their
      // text, nested values their JSON), then the declared types are applied by ValidateSql.
      std::vector<std::string> names;
      for (const auto& o : observed)
        names.push_back(o.name);
      for (const auto& f : s.columns) {
        if (std::find(names.begin(), names.end(), f.name) == names.end()) names.push_back(f.name);
      }
      std::string shape, fields;
      for (const auto& n : names) {
        if (!shape.empty()) shape += ",";
        shape += "\"" + JsonEscape(n) + "\":\"VARCHAR\"";
        fields += ", __sluice_struct." + QuoteIdentifier(n) + " AS " + QuoteIdentifier(n);
      }
      plan.raw_is_line = true;
      plan.lines_are_rows = true;
      if (json_direct) {
        std::string columns, direct_fields;
        for (const auto& n : names) {
          std::string type = "VARCHAR";
          const types::Field* f = s.FindColumn(n);
          if (f != nullptr &&
              std::find(json_typed.begin(), json_typed.end(), n) != json_typed.end()) {
            type = std::string(warehouse::DuckDbTypeName(f->type));
            plan.reader_typed.push_back(n);
          }
          columns += (columns.empty() ? "" : ", ") + QuoteLiteral(n) + ": " + QuoteLiteral(type);
          direct_fields += ", " + QuoteIdentifier(n);
        }
        plan.rows_numbered = false;
        // DuckDB 1.4 raises maximum_object_size to its 16 MB default, so this read also takes
        // lines between read_csv's 2 MB max_line_size (the per-line reader's limit) and 16 MB,
        // which the per-line read would reject. Only uncompressed files are read this way
        // (CountJsonObjectLines reads the bytes).
        plan.relation_sql =
            "SELECT NULL::BIGINT AS __sluice_line, NULL::BIGINT AS __sluice_record, NULL::VARCHAR "
            "AS __sluice_raw, NULL::VARCHAR AS __sluice_malformed" +
            direct_fields + " FROM read_json(" + QuoteLiteral(file) +
            ", format='newline_delimited', records=true, auto_detect=false, "
            "maximum_object_size=2097152, columns={" +
            columns + "}, compression='uncompressed')";
        break;
      }
      plan.relation_sql =
          "SELECT __sluice_line, __sluice_line AS __sluice_record, __sluice_json AS __sluice_raw, "
          "CASE WHEN __sluice_json IS NULL OR trim(__sluice_json) = '' THEN 'empty line' WHEN NOT "
          "__sluice_ok THEN 'malformed JSON (not one JSON object on the line)' END AS "
          "__sluice_malformed" +
          fields +
          " FROM (SELECT *, CASE WHEN __sluice_ok THEN __sluice_parsed END AS __sluice_struct "
          "FROM (SELECT *, " +
          // A line is a record when json_type says OBJECT. A non-NULL json_transform result
          // of a line starting with '{' proves that without parsing the line a second time
          // (json_transform alone also turns arrays and scalars into structs of NULLs); only
          // the other lines pay for json_type.
          "CASE WHEN __sluice_parsed IS NOT NULL AND starts_with(__sluice_json, '{') THEN true "
          "ELSE coalesce(try(json_type(__sluice_json)) = 'OBJECT', false) END AS __sluice_ok "
          "FROM (SELECT *, try(json_transform(__sluice_json, " +
          QuoteLiteral("{" + shape + "}") + ")) AS __sluice_parsed FROM (" +
          JsonLinesSql(s, file, number_rows, mixed_line_ends) + "))))";
      break;
    }
    case config::FileFormat::kParquet: {
      for (const auto& o : observed) {
        const types::Field* f = s.FindColumn(o.name);
        if (f != nullptr && IsTimestamp(f->type) && o.duckdb_type == "TIMESTAMP") {
          plan.plain_timestamps.push_back(o.name);
        }
      }
      plan.relation_sql =
          "SELECT * EXCLUDE (file_row_number), NULL::BIGINT AS __sluice_line, NULL::VARCHAR AS "
          "__sluice_raw, NULL::VARCHAR AS __sluice_malformed, file_row_number + 1 AS "
          "__sluice_record FROM read_parquet(" +
          QuoteLiteral(file) + ", file_row_number=true)";
      break;
    }
  }
  return plan;
}

namespace {

// The pieces both validation statements are made of. Three levels, so each expression is
// evaluated once per row: the converted values (__sluice_v<i>), then whether the row is bad (one
// boolean), then the output columns. Everything that only describes a bad row sits under CASE
// WHEN __sluice_bad, which DuckDB evaluates for those rows only.
struct ValidationParts {
  std::string typed;      // ", __sluice_v0 AS "a", ..." plus kept extra columns
  std::string converted;  // ", <conversion of a> AS __sluice_v0, ..."
  std::string bad = "__sluice_malformed IS NOT NULL";
  std::string reasons, kinds, columns, raw_parts;
  std::string relation;  // the reader's SELECT

  // "(SELECT *, <bad> AS __sluice_bad FROM (SELECT *, <converted> FROM (<relation>)))"
  std::string Judged() const {
    return "(SELECT *, " + bad + " AS __sluice_bad FROM (SELECT *" + converted + " FROM (" +
           relation + ")))";
  }
};

ValidationParts MakeValidationParts(const config::SourceSpec& s, const ReaderPlan& reader,
                                    const std::vector<std::string>& kept_extra) {
  ValidationParts p;
  p.relation = reader.relation_sql;
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    const auto& f = s.columns[i];
    const std::string col = QuoteIdentifier(f.name);
    const std::string value = "__sluice_v" + std::to_string(i);
    const std::string duck_type(warehouse::DuckDbTypeName(f.type));
    std::string conv;
    if (IsTimestamp(f.type)) {
      // TIMESTAMPTZ honours UTC offsets ("+02:00"); the session runs in UTC, so the cast back
      // to TIMESTAMP yields UTC wall time. That cast (and TIMESTAMP -> TIMESTAMPTZ) goes through
      // ICU calendars and costs as much as reading the whole row; in UTC it is the identity on
      // the microseconds, so between 1600 and 9000 (checked equal on millions of values; ICU's
      // Julian dates and range ends differ) the value is taken as it is.
      const std::string utc_tz = "TRY_CAST(" + col + " AS TIMESTAMPTZ)::TIMESTAMP";
      if (s.csv.timestamp_format) {
        conv = "try_strptime(" + col + "::VARCHAR, " + QuoteLiteral(*s.csv.timestamp_format) +
               ")::TIMESTAMP";
      } else if (std::find(reader.plain_timestamps.begin(), reader.plain_timestamps.end(),
                           f.name) != reader.plain_timestamps.end()) {
        conv = "CASE WHEN " + col + " >= TIMESTAMP '1600-01-01' AND " + col +
               " < TIMESTAMP '9000-01-01' THEN " + col + " ELSE " + utc_tz + " END";
      } else {
        const std::string tz = "TRY_CAST(" + col + " AS TIMESTAMPTZ)";
        conv = "CASE WHEN " + tz + " >= TIMESTAMPTZ '1600-01-01 00:00:00+00' AND " + tz +
               " < TIMESTAMPTZ '9000-01-01 00:00:00+00' THEN make_timestamp(epoch_us(" + tz +
               ")) ELSE " + tz + "::TIMESTAMP END";
      }
    } else if (std::find(reader.reader_typed.begin(), reader.reader_typed.end(), f.name) !=
               reader.reader_typed.end()) {
      conv = col;
    } else {
      conv = "TRY_CAST(" + col + " AS " + duck_type + ")";
    }
    p.converted += ", " + conv + " AS " + value;
    p.typed += ", " + value + " AS " + col;
    const std::string failed = "(" + col + " IS NOT NULL AND " + value + " IS NULL)";
    p.bad += " OR " + failed;
    p.reasons += ", CASE WHEN " + failed + " THEN " +
                 QuoteLiteral("column '" + f.name + "': cannot read '") + " || " + col +
                 "::VARCHAR || " + QuoteLiteral("' as " + duck_type) + " END";
    p.kinds += " WHEN " + failed + " THEN 'conversion'";
    p.columns += " WHEN " + failed + " THEN " + QuoteLiteral(f.name);
    if (!f.nullable) {
      const std::string missing = "(" + col + " IS NULL)";
      p.bad += " OR " + missing;
      p.reasons += ", CASE WHEN " + missing + " THEN " +
                   QuoteLiteral("column '" + f.name + "': missing required value") + " END";
      p.kinds += " WHEN " + missing + " THEN 'missing'";
      p.columns += " WHEN " + missing + " THEN " + QuoteLiteral(f.name);
    }
    if (!p.raw_parts.empty()) p.raw_parts += ", ";
    p.raw_parts += "coalesce(" + col + "::VARCHAR, '')";
  }
  for (const auto& extra : kept_extra)
    p.typed += ", " + QuoteIdentifier(extra);
  return p;
}

}  // namespace

std::string ValidateSql(const config::SourceSpec& s, const ReaderPlan& reader,
                        const std::vector<std::string>& kept_extra) {
  const ValidationParts p = MakeValidationParts(s, reader, kept_extra);
  // A row that is not a record has no columns worth judging. A bad row always has a reason: a
  // failed check names itself, and a malformed row carries its own.
  const std::string reason =
      "coalesce(__sluice_malformed, nullif(concat_ws('; '" + p.reasons + "), ''))";
  const std::string raw =
      reader.raw_is_line ? "__sluice_raw" : "concat_ws(',', " + p.raw_parts + ")";
  // The data columns come first so the typed copy reads naturally; the __sluice_ columns are
  // all NULL in the good partition and never read back as data.
  return "SELECT " + p.typed.substr(2) + ", CASE WHEN __sluice_bad THEN " + reason +
         " END AS __sluice_reason, CASE WHEN NOT __sluice_bad THEN NULL WHEN __sluice_malformed "
         "IS NOT NULL THEN 'malformed'" +
         p.kinds +
         " END AS __sluice_kind, CASE WHEN NOT __sluice_bad OR __sluice_malformed IS NOT NULL "
         "THEN NULL" +
         p.columns + " END AS __sluice_column, CASE WHEN __sluice_bad THEN " + raw +
         " END AS __sluice_raw, CASE WHEN __sluice_bad THEN __sluice_line END AS __sluice_line, "
         "CASE WHEN __sluice_bad THEN __sluice_record END AS __sluice_record, __sluice_bad FROM " +
         p.Judged();
}

std::string CleanRowsSql(const config::SourceSpec& s, const ReaderPlan& reader,
                         const std::vector<std::string>& kept_extra) {
  const ValidationParts p = MakeValidationParts(s, reader, kept_extra);
  return "SELECT " + p.typed.substr(2) + " FROM " + p.Judged() +
         " WHERE CASE WHEN __sluice_bad THEN error(" + QuoteLiteral(std::string(kBadRowError)) +
         ") ELSE true END";
}

}  // namespace sluice::connectors
