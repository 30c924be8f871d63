#include "connectors/schema_contract.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "base/text_distance.h"

namespace sluice::connectors {
namespace {

// DuckDB compares identifiers ignoring ASCII case.
std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

bool TypeCompatible(const std::string& t, types::LogicalType declared) {
  auto starts = [&](const char* prefix) { return t.rfind(prefix, 0) == 0; };
  const bool integer = t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" ||
                       t == "UTINYINT" || t == "USMALLINT" || t == "UINTEGER" || t == "UBIGINT" ||
                       t == "HUGEINT";
  switch (declared) {
    case types::LogicalType::kBool:
      return t == "BOOLEAN";
    case types::LogicalType::kInt64:
      return integer;
    case types::LogicalType::kDouble:
      return integer || t == "FLOAT" || t == "DOUBLE" || starts("DECIMAL");
    case types::LogicalType::kString:
      return t == "VARCHAR" || t == "UUID" || starts("ENUM");
    case types::LogicalType::kTimestamp:
      return starts("TIMESTAMP") || t == "DATE";
    case types::LogicalType::kDate:
      return t == "DATE";
  }
  return false;
}

ContractResult CheckContract(const types::Schema& declared,
                             const std::vector<ObservedColumn>& observed, ExtraColumnPolicy extra,
                             const std::string& where) {
  ContractResult result;
  const std::string prefix = where.empty() ? "" : where + ": ";
  std::unordered_set<std::string> declared_names;
  for (const auto& f : declared.fields())
    declared_names.insert(f.name);

  // A name twice in a header (CSV), or twice up to case (DuckDB's names ignore case), cannot be
  // told apart when read: which of the two is the declared column is a guess, so it stops here.
  std::map<std::string, std::vector<size_t>> positions;  // lower-cased name -> 1-based positions
  for (size_t i = 0; i < observed.size(); ++i)
    positions[AsciiLower(observed[i].name)].push_back(i + 1);
  for (const auto& [lower, at] : positions) {
    if (at.size() < 2) continue;
    std::string names, where_at;
    bool same = true;
    for (size_t i = 0; i < at.size(); ++i) {
      const std::string& name = observed[at[i] - 1].name;
      same = same && name == observed[at[0] - 1].name;
      names += std::string(i ? ", " : "") + "'" + name + "'";
      where_at += std::string(i ? ", " : "") + std::to_string(at[i]);
    }
    result.errors.push_back(
        prefix +
        (same ? "column '" + observed[at[0] - 1].name + "' appears " + std::to_string(at.size()) +
                    " times (columns " + where_at + "); column names must be unique"
              : "columns " + names + " (columns " + where_at +
                    ") differ only in case; column names must differ in more than case"));
  }

  std::vector<std::string> unexpected;
  for (const auto& o : observed) {
    if (!declared_names.count(o.name)) unexpected.push_back(o.name);
  }
  std::unordered_set<std::string> explained;  // unexpected columns reported as renames

  for (const auto& f : declared.fields()) {
    auto it = std::find_if(observed.begin(), observed.end(),
                           [&](const ObservedColumn& o) { return o.name == f.name; });
    if (it == observed.end()) {
      std::vector<std::string> candidates;
      for (const auto& u : unexpected) {
        if (!explained.count(u)) candidates.push_back(u);
      }
      auto guess = base::ClosestMatch(f.name, candidates);
      // With exactly one missing and one new column, a rename is the likely story even when
      // the names are far apart.
      if (!guess && candidates.size() == 1 &&
          declared.size() - (observed.size() - unexpected.size()) == 1) {
        guess = candidates[0];
      }
      if (guess) {
        explained.insert(*guess);
        result.errors.push_back(prefix + "declared column '" + f.name +
                                "' is missing and the data has an unexpected column '" + *guess +
                                "': was it renamed? (did you mean '" + f.name + "'?)");
      } else {
        result.errors.push_back(prefix + "declared column '" + f.name +
                                "' is missing from the data");
      }
      continue;
    }
    if (it->duckdb_type && !TypeCompatible(*it->duckdb_type, f.type)) {
      result.errors.push_back(prefix + "column '" + f.name + "' was retyped: declared " +
                              std::string(types::LogicalTypeName(f.type)) + ", the data has " +
                              *it->duckdb_type);
    }
  }
  for (const auto& u : unexpected) {
    if (explained.count(u)) continue;
    switch (extra) {
      case ExtraColumnPolicy::kFail:
        result.errors.push_back(prefix + "unexpected column '" + u +
                                "' is not declared (declare it, or set extra_columns: warn or "
                                "keep)");
        break;
      case ExtraColumnPolicy::kWarn:
        result.warnings.push_back(prefix + "ignoring undeclared column '" + u + "'");
        break;
      case ExtraColumnPolicy::kKeep:
        result.kept_extra_columns.push_back(u);
        break;
    }
  }
  return result;
}

}  // namespace sluice::connectors
