#include "connectors/file_reader.h"

#include <algorithm>

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
// byte, so using it as the delimiter keeps every valid line whole; quoting is off.
std::string JsonLinesSql(const config::SourceSpec& s, const std::string& file) {
  return "SELECT __sluice_json, row_number() OVER () AS __sluice_line FROM read_csv(" +
         QuoteLiteral(file) +
         ", header=false, columns={'__sluice_json': 'VARCHAR'}, delim=E'\\x1f', quote='', "
         "escape='', auto_detect=false, strict_mode=false, null_padding=false, compression=" +
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
                      const std::vector<ObservedColumn>& observed, const std::string& scan_name) {
  ReaderPlan plan;
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
          "NULL::VARCHAR AS __sluice_malformed, row_number() OVER () AS __sluice_record FROM "
          "read_csv(" +
          QuoteLiteral(file) + ", " + CsvDialect(s) + ", auto_detect=false, columns={" + columns +
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
      plan.relation_sql =
          "SELECT __sluice_line, __sluice_line AS __sluice_record, __sluice_json AS __sluice_raw, "
          "CASE WHEN __sluice_json IS NULL OR trim(__sluice_json) = '' THEN 'empty line' WHEN NOT "
          "__sluice_ok THEN 'malformed JSON (not one JSON object on the line)' END AS "
          "__sluice_malformed" +
          fields +
          " FROM (SELECT *, CASE WHEN __sluice_ok THEN try(json_transform(__sluice_json, " +
          QuoteLiteral("{" + shape + "}") + ")) END AS __sluice_struct FROM (SELECT *, " +
          "coalesce(try(json_type(__sluice_json)) = 'OBJECT', false) AS "
          "__sluice_ok FROM (" +
          JsonLinesSql(s, file) + ")))";
      break;
    }
    case config::FileFormat::kParquet: {
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

std::string ValidateSql(const config::SourceSpec& s, const ReaderPlan& reader,
                        const std::vector<std::string>& kept_extra) {
  std::string typed, reasons, kinds, columns, raw_parts;
  for (const auto& f : s.columns) {
    const std::string col = QuoteIdentifier(f.name);
    const std::string duck_type(warehouse::DuckDbTypeName(f.type));
    std::string conv;
    if (IsTimestamp(f.type)) {
      // TIMESTAMPTZ honours UTC offsets ("+02:00"); the session runs in UTC, so the cast back
      // to TIMESTAMP yields UTC wall time.
      conv = s.csv.timestamp_format ? "try_strptime(" + col + "::VARCHAR, " +
                                          QuoteLiteral(*s.csv.timestamp_format) + ")::TIMESTAMP"
                                    : "TRY_CAST(" + col + " AS TIMESTAMPTZ)::TIMESTAMP";
    } else if (std::find(reader.reader_typed.begin(), reader.reader_typed.end(), f.name) !=
               reader.reader_typed.end()) {
      conv = col;
    } else {
      conv = "TRY_CAST(" + col + " AS " + duck_type + ")";
    }
    typed += ", " + conv + " AS " + col;
    const std::string failed = "(" + col + " IS NOT NULL AND " + conv + " IS NULL)";
    reasons += ", CASE WHEN " + failed + " THEN " +
               QuoteLiteral("column '" + f.name + "': cannot read '") + " || " + col +
               "::VARCHAR || " + QuoteLiteral("' as " + duck_type) + " END";
    kinds += " WHEN " + failed + " THEN 'conversion'";
    columns += " WHEN " + failed + " THEN " + QuoteLiteral(f.name);
    if (!f.nullable) {
      const std::string missing = "(" + col + " IS NULL)";
      reasons += ", CASE WHEN " + missing + " THEN " +
                 QuoteLiteral("column '" + f.name + "': missing required value") + " END";
      kinds += " WHEN " + missing + " THEN 'missing'";
      columns += " WHEN " + missing + " THEN " + QuoteLiteral(f.name);
    }
    if (!raw_parts.empty()) raw_parts += ", ";
    raw_parts += "coalesce(" + col + "::VARCHAR, '')";
  }
  for (const auto& extra : kept_extra)
    typed += ", " + QuoteIdentifier(extra);

  // A row that is not a record has no columns worth judging.
  const std::string reason =
      "coalesce(__sluice_malformed, nullif(concat_ws('; '" + reasons + "), ''))";
  const std::string raw = reader.raw_is_line ? "__sluice_raw" : "concat_ws(',', " + raw_parts + ")";
  // The data columns come first so the typed copy reads naturally; the __sluice_ columns are
  // all NULL in the good partition (a few bytes in Parquet) and never read back as data.
  return "SELECT " + typed.substr(2) + ", " + reason + " AS __sluice_reason, CASE WHEN " + reason +
         " IS NULL THEN NULL WHEN __sluice_malformed IS NOT NULL THEN 'malformed'" + kinds +
         " END AS __sluice_kind, CASE WHEN " + reason + " IS NULL THEN NULL" +
         (columns.empty() ? "" : columns.substr(0)) + " END AS __sluice_column, CASE WHEN " +
         reason + " IS NOT NULL THEN " + raw + " END AS __sluice_raw, CASE WHEN " + reason +
         " IS NOT NULL THEN __sluice_line END AS __sluice_line, CASE WHEN " + reason +
         " IS NOT NULL THEN __sluice_record END AS __sluice_record, " + reason +
         " IS NOT NULL AS __sluice_bad FROM (" + reader.relation_sql + ")";
}

}  // namespace sluice::connectors
