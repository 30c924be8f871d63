#include "quality/served_features.h"

#include <string>
#include <vector>

#include "warehouse/duckdb_database.h"
#include "warehouse/warehouse.h"

namespace sluice::quality {
namespace {

using warehouse::QuoteIdentifier;
using warehouse::QuoteLiteral;

// A JSON pointer to one top-level key ("~" and "/" escaped as RFC 6901 says): unlike a JSONPath,
// it reads any feature name, one-hot names like "country=FR" included.
std::string Pointer(const std::string& key) {
  std::string out = "/";
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

base::Status ExpandServingLog(const lake::Lake& lake, DriftSide& side) {
  if (side.manifest.kind != kServingLogKind) return base::Status::Ok();
  const std::string rows =
      warehouse::ParquetSelectSql(lake.DataFiles(side.manifest), side.manifest.schema);
  types::Schema schema;
  std::string select = QuoteIdentifier(kServingLogTimeColumn);
  if (!lake.DataFiles(side.manifest).empty()) {
    warehouse::DuckDb::Options options;
    options.threads = 1;
    SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:", options));
    // Every (view, feature) served, and the JSON types of its values.
    auto keys = db.Query(
        "SELECT view, k, bool_or(t IN ('BIGINT', 'UBIGINT', 'DOUBLE')) AS numeric, "
        "bool_or(t = 'BOOLEAN') AS bool FROM (SELECT view, k, json_type(json_extract(f, "
        "'/' || replace(replace(k, '~', '~0'), '/', '~1')) -> 'value') AS t FROM (SELECT view, "
        "f, unnest(json_keys(f)) AS k FROM (SELECT view, features::JSON AS f FROM (" +
        rows + ") AS l) AS j) AS u) AS typed GROUP BY view, k ORDER BY view, k");
    if (!keys.ok()) {
      return keys.status().WithContext("reading the features of serving log " +
                                       side.manifest.dataset + " version " +
                                       side.manifest.id.substr(0, 12));
    }
    std::vector<types::Field> fields;
    for (size_t r = 0; r < keys->num_rows(); ++r) {
      const std::string view(keys->column(0).GetString(r));
      const std::string key(keys->column(1).GetString(r));
      const bool numeric = keys->column(2).IsValid(r) && keys->column(2).GetBool(r);
      const bool boolean = keys->column(3).IsValid(r) && keys->column(3).GetBool(r);
      const std::string name = view + "__" + key;
      const std::string value = "(CASE WHEN view = " + QuoteLiteral(view) +
                                " THEN features::JSON -> " + QuoteLiteral(Pointer(key)) +
                                " ->> 'value' END)";
      types::LogicalType type = types::LogicalType::kString;
      std::string expr = value;
      if (numeric) {
        type = types::LogicalType::kDouble;
        expr = "TRY_CAST(" + value + " AS DOUBLE)";
      } else if (boolean) {
        type = types::LogicalType::kBool;
        expr = "TRY_CAST(" + value + " AS BOOLEAN)";
      }
      select += ", " + expr + " AS " + QuoteIdentifier(name);
      fields.push_back({name, type, true});
    }
    auto made = types::Schema::Make(std::move(fields));
    if (!made.ok()) {
      return made.status().WithContext("serving log " + side.manifest.dataset + " features");
    }
    schema = std::move(*made);
  }
  side.rows_sql = "SELECT " + select + " FROM (" + rows + ") AS served";
  side.manifest.schema = std::move(schema);
  side.time_column = kServingLogTimeColumn;
  return base::Status::Ok();
}

}  // namespace sluice::quality
