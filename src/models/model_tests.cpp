#include "models/model_tests.h"

#include <cstdio>

#include "warehouse/duckdb_database.h"

namespace sluice::models {
namespace {

using warehouse::QuoteIdentifier;
using warehouse::QuoteLiteral;

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : sep) + s;
  return out;
}

// "2024-03-01 12:00:00.000000": a timestamp literal both warehouses read the same way.
std::string TimestampLiteral(base::ProcessingTime t) {
  std::string iso = base::FormatTime(t);  // 2024-03-01T12:00:00Z or with .ffffff
  if (iso.size() > 10 && iso[10] == 'T') iso[10] = ' ';
  if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
  return "CAST(" + QuoteLiteral(iso) + " AS TIMESTAMP)";
}

}  // namespace

std::string TestName(const config::ModelTestSpec& t) {
  const std::string type(config::Name(t.type));
  switch (t.type) {
    case config::ModelTestType::kNotNull:
    case config::ModelTestType::kUnique:
    case config::ModelTestType::kAcceptedValues:
      return type + "(" + t.column.value_or("?") + ")";
    case config::ModelTestType::kRelationships:
      return type + "(" + t.column.value_or("?") + " -> " + t.to.value_or("?") + "." +
             t.field.value_or("?") + ")";
    case config::ModelTestType::kRowCount: {
      std::vector<std::string> parts;
      if (t.min) parts.push_back("min " + std::to_string(*t.min));
      if (t.max) parts.push_back("max " + std::to_string(*t.max));
      return type + "(" + Join(parts, ", ") + ")";
    }
    case config::ModelTestType::kFreshness:
      return type + "(" + t.column.value_or("?") + ", " +
             (t.max_age ? base::FormatDuration(*t.max_age) : "?") + ")";
    case config::ModelTestType::kSql:
      return type;
  }
  return type;
}

std::string FailingRowsSql(const Model& model, std::size_t index, const std::string& relation,
                           const Resolver& resolve, base::ProcessingTime now) {
  const config::ModelTestSpec& t = model.config.tests[index];
  const std::string col = QuoteIdentifier(t.column.value_or(""));
  switch (t.type) {
    case config::ModelTestType::kNotNull:
      return "SELECT * FROM " + relation + " WHERE " + col + " IS NULL";
    case config::ModelTestType::kUnique:
      return "SELECT " + col + ", count(*) AS duplicates FROM " + relation + " WHERE " + col +
             " IS NOT NULL GROUP BY " + col + " HAVING count(*) > 1";
    case config::ModelTestType::kAcceptedValues: {
      std::vector<std::string> values;
      for (const auto& v : t.values)
        values.push_back(QuoteLiteral(v));
      // Compared as text so the list can hold numbers and booleans as written in YAML.
      return "SELECT * FROM " + relation + " WHERE " + col + " IS NOT NULL AND CAST(" + col +
             " AS VARCHAR) NOT IN (" + Join(values, ", ") + ")";
    }
    case config::ModelTestType::kRelationships: {
      TemplateRef target;
      target.name = t.to.value_or("");
      target.kind = model.name == target.name ? RefKind::kThis : RefKind::kRef;
      std::string parent = resolve(target);
      if (parent.empty()) {
        target.kind = RefKind::kSource;
        parent = resolve(target);
      }
      return "SELECT * FROM " + relation + " AS sluice_child WHERE sluice_child." + col +
             " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " + parent +
             " AS sluice_parent WHERE sluice_parent." + QuoteIdentifier(t.field.value_or("")) +
             " = sluice_child." + col + ")";
    }
    case config::ModelTestType::kRowCount: {
      std::vector<std::string> bad;
      if (t.min) bad.push_back("count(*) < " + std::to_string(*t.min));
      if (t.max) bad.push_back("count(*) > " + std::to_string(*t.max));
      return "SELECT count(*) AS row_count FROM " + relation + " HAVING " + Join(bad, " OR ");
    }
    case config::ModelTestType::kFreshness: {
      const base::ProcessingTime cutoff = now - t.max_age.value_or(base::Duration(0));
      // An empty model has no fresh row either.
      return "SELECT max(" + col + ") AS latest, " + TimestampLiteral(cutoff) +
             " AS oldest_allowed FROM " + relation + " HAVING max(" + col + ") IS NULL OR max(" +
             col + ") < " + TimestampLiteral(cutoff);
    }
    case config::ModelTestType::kSql: {
      const RenderedSql r = Render(model.test_sql[index], [&](const TemplateRef& ref) {
        return ref.kind == RefKind::kThis ? relation : resolve(ref);
      });
      return r.sql();
    }
  }
  return "SELECT 1 WHERE false";
}

std::vector<TestOutcome> RunModelTests(warehouse::Warehouse& warehouse, const Model& model,
                                       const std::string& relation, const Resolver& resolve,
                                       base::ProcessingTime now) {
  std::vector<TestOutcome> out;
  for (std::size_t i = 0; i < model.config.tests.size(); ++i) {
    const auto& spec = model.config.tests[i];
    TestOutcome o;
    o.name = TestName(spec);
    o.where = spec.origin.at.Where();
    const std::string failing = FailingRowsSql(model, i, relation, resolve, now);
    // The wrapper puts one line before the test's own SQL.
    std::optional<warehouse::SqlPosition> where;
    auto count = warehouse.QueryInt64(
        "SELECT count(*) FROM (\n" + failing + "\n) AS sluice_failures", &where);
    if (!count.ok()) {
      o.error = count.status().message();
      if (where && spec.type == config::ModelTestType::kSql) {
        where->line -= 1;
        o.error += " (line " + std::to_string(where->line) + ", column " +
                   std::to_string(where->column) + " of the test's SQL)";
      }
      out.push_back(std::move(o));
      continue;
    }
    o.failing_rows = *count;
    o.passed = *count == 0;
    if (!o.passed) {
      auto sample = warehouse.QueryText(failing, kFailingRowSamples, nullptr);
      if (sample.ok()) o.sample = std::move(sample).value();
    }
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::string> FormatRows(const warehouse::TextRows& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows.rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size() && c < rows.columns.size(); ++c) {
      line += (line.empty() ? "" : ", ") + rows.columns[c] + "=" + row[c].value_or("NULL");
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace sluice::models
