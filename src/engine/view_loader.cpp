#include "engine/view_loader.h"

#include "connectors/ingest.h"

namespace sluice::engine {

using types::LogicalType;
using warehouse::QuoteIdentifier;

LogicalType FromDuckDbType(const std::string& t) {
  if (t == "BOOLEAN") return LogicalType::kBool;
  if (t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" || t == "UTINYINT" ||
      t == "USMALLINT" || t == "UINTEGER" || t == "HUGEINT" || t == "UBIGINT") {
    return LogicalType::kInt64;
  }
  if (t == "FLOAT" || t == "DOUBLE" || t.rfind("DECIMAL", 0) == 0) return LogicalType::kDouble;
  if (t.rfind("TIMESTAMP", 0) == 0) return LogicalType::kTimestamp;
  if (t == "DATE") return LogicalType::kDate;
  return LogicalType::kString;
}

base::Result<FeatureViewPlan> LoadPlan(const config::ProjectSpec& project,
                                       const config::FeatureViewSpec& view, const lake::Lake& lake,
                                       const lake::Manifest& source, warehouse::DuckDb& db) {
  const std::string src_sql = connectors::DatasetSelectSql(lake, source);
  std::vector<std::pair<std::string, LogicalType>> expr_types;
  for (const auto& c : view.columns) {
    auto described = db.Query("DESCRIBE SELECT (" + c.expr + ") FROM (" + src_sql + ")");
    if (!described.ok() || described->num_rows() == 0) {
      return base::InvalidArgument("feature view '" + view.name + "', column '" + c.name +
                                   "': " + described.status().message());
    }
    expr_types.emplace_back(c.name, FromDuckDbType(std::string(described->column(1).GetString(0))));
  }
  return PlanFeatureView(project, view, source.schema, expr_types);
}

std::string EventsSql(const FeatureViewPlan& plan, const lake::Lake& lake,
                      const lake::Manifest& source, int partition, int partitions) {
  std::string keys;
  for (size_t k = 0; k < plan.entity_keys.size(); ++k) {
    keys += (k ? ", " : "") + QuoteIdentifier(plan.entity_keys[k]);
  }
  std::string inputs;
  for (const auto& in : plan.inputs) {
    inputs += ", CAST(" + in.sql + " AS " + std::string(warehouse::DuckDbTypeName(in.type)) +
              ") AS " + QuoteIdentifier(in.name);
  }
  const std::string part = partitions > 1 ? "hash(" + keys + ") % " + std::to_string(partitions) +
                                                " = " + std::to_string(partition)
                                          : "true";
  return "SELECT " + keys + ", CAST(" + QuoteIdentifier(plan.event_time) + " AS TIMESTAMP)" +
         inputs + " FROM (" + connectors::DatasetSelectSql(lake, source) + ") WHERE (" +
         plan.filter.value_or("true") + ") AND " + part;
}

}  // namespace sluice::engine
