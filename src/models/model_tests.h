#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "config/project.h"
#include "models/model_graph.h"
#include "warehouse/warehouse.h"

// Data tests on models (`tests:` of a model's config): each becomes a query returning the
// failing rows, run in the warehouse. A test passes when that query returns no row.
namespace sluice::models {

inline constexpr std::size_t kFailingRowSamples = 5;

struct TestOutcome {
  std::string name;   // "not_null(user_id)", "relationships(user_id -> users.user_id)", ...
  std::string where;  // where the test is declared: "sluice.yaml:80:11"
  bool passed = false;
  std::int64_t failing_rows = 0;
  warehouse::TextRows sample;  // up to kFailingRowSamples failing rows
  std::string error;           // the query itself failed (bad SQL, missing column)
};

// "not_null(user_id)", "row_count(min 1, max 10)", "sql", ...
std::string TestName(const config::ModelTestSpec& test);

// How references inside tests resolve: the model under test, other models, sources.
using Resolver = std::function<std::string(const TemplateRef&)>;

// The query returning the rows that fail test `index` of `model`, on `relation_sql` (the
// model's relation in SQL). `now` anchors freshness tests. Portable across DuckDB and PostgreSQL.
std::string FailingRowsSql(const Model& model, std::size_t index, const std::string& relation_sql,
                           const Resolver& resolve, base::ProcessingTime now);

// Runs every test of `model` against `relation_sql` on `warehouse`, in declaration order.
std::vector<TestOutcome> RunModelTests(warehouse::Warehouse& warehouse, const Model& model,
                                       const std::string& relation_sql, const Resolver& resolve,
                                       base::ProcessingTime now);

// "user_id=7, day=2024-01-02" per sample row, for reports.
std::vector<std::string> FormatRows(const warehouse::TextRows& rows);

}  // namespace sluice::models
