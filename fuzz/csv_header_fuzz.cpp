// Fuzzes the CSV header split and the schema contract on arbitrary column lists. The header is
// the first thing sluice reads of a file anybody can hand it, and the contract decides whether
// that file may land: neither may crash, and both must keep their promises:
//   - re-quoting the split fields and splitting again gives the same fields;
//   - a header without quote or CR characters splits exactly at the delimiters;
//   - the data's own columns always satisfy a contract declared from them, but for names found
//     twice (up to case), and every data column a contract did not declare is failed, warned
//     about or kept, per the policy.
//
// Input layout: byte 0 delimiter, byte 1 quote, byte 2 policy and types, byte 3 how many of the
// header's columns to declare; the rest is the header line.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/file_reader.h"
#include "connectors/schema_contract.h"
#include "types/schema.h"

namespace {

using sluice::connectors::CheckContract;
using sluice::connectors::ExtraColumnPolicy;
using sluice::connectors::ObservedColumn;
using sluice::connectors::SplitCsvHeader;

std::string Join(const std::vector<std::string>& fields, char delimiter, char quote) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += delimiter;
    out += quote;
    for (char c : fields[i]) {
      if (c == quote) out += quote;
      out += c;
    }
    out += quote;
  }
  return out;
}

constexpr const char* kDuckTypes[] = {
    "BIGINT", "VARCHAR", "DOUBLE",        "TIMESTAMP WITH TIME ZONE",
    "DATE",   "BOOLEAN", "DECIMAL(18,3)", "BLOB"};
constexpr sluice::types::LogicalType kTypes[] = {
    sluice::types::LogicalType::kBool,      sluice::types::LogicalType::kInt64,
    sluice::types::LogicalType::kDouble,    sluice::types::LogicalType::kString,
    sluice::types::LogicalType::kTimestamp, sluice::types::LogicalType::kDate};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const char delimiter = static_cast<char>(data[0]);
  const char quote = static_cast<char>(data[1]);
  const uint8_t mode = data[2];
  const size_t declare_count = data[3];
  const std::string_view line(reinterpret_cast<const char*>(data + 4), size - 4);

  const std::vector<std::string> fields = SplitCsvHeader(line, delimiter, quote);
  if (fields.empty()) __builtin_trap();  // even an empty line is one (empty) column
  if (delimiter != quote) {
    if (SplitCsvHeader(Join(fields, delimiter, quote), delimiter, quote) != fields) {
      __builtin_trap();
    }
    if (line.find(quote) == std::string_view::npos && line.find('\r') == std::string_view::npos) {
      size_t delimiters = 0;
      for (char c : line)
        delimiters += c == delimiter;
      if (fields.size() != delimiters + 1) __builtin_trap();
    }
  }

  // Declare (a prefix of) the distinct, non-empty header names; Schema::Make rejects the rest.
  const auto policy = static_cast<ExtraColumnPolicy>(mode % 3);
  const bool typed = (mode & 0x4) != 0;  // Parquet-like: the data carries types
  std::vector<sluice::types::Field> declared_fields;
  std::set<std::string> seen;
  for (const auto& f : fields) {
    if (declared_fields.size() >= declare_count) break;
    if (f.empty() || !seen.insert(f).second) continue;
    declared_fields.push_back({f, kTypes[(f.size() + mode) % 6], (f.size() & 1) != 0});
  }
  auto declared = sluice::types::Schema::Make(declared_fields);
  if (!declared.ok()) return 0;
  std::vector<ObservedColumn> observed;
  for (size_t i = 0; i < fields.size(); ++i) {
    ObservedColumn o{fields[i], std::nullopt};
    if (typed) o.duckdb_type = kDuckTypes[(i + mode / 8) % 8];
    observed.push_back(std::move(o));
  }
  const auto result = CheckContract(*declared, observed, policy, "data/x.csv");

  // Every declared column is in the data, so only types, extra columns and names found twice
  // (up to ASCII case: one error per such name) can fail.
  std::set<std::string> declared_names;
  for (const auto& f : declared->fields())
    declared_names.insert(f.name);
  size_t extra = 0;
  for (const auto& o : observed)
    extra += declared_names.count(o.name) == 0;
  std::map<std::string, int> lowered;
  for (const auto& f : fields) {
    std::string l = f;
    for (char& c : l)
      c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    ++lowered[l];
  }
  size_t twice = 0;
  for (const auto& [name, n] : lowered)
    twice += n > 1;
  if (!typed && policy != ExtraColumnPolicy::kFail && result.errors.size() != twice) {
    __builtin_trap();
  }
  if (!typed && policy == ExtraColumnPolicy::kFail && result.errors.size() != extra + twice) {
    __builtin_trap();
  }
  if (policy == ExtraColumnPolicy::kWarn && result.warnings.size() != extra) __builtin_trap();
  if (policy == ExtraColumnPolicy::kKeep) {
    if (result.kept_extra_columns.size() != extra) __builtin_trap();
    for (const auto& k : result.kept_extra_columns) {
      if (declared_names.count(k)) __builtin_trap();
    }
  }
  for (const auto& e : result.errors) {
    if (e.rfind("data/x.csv: ", 0) != 0) __builtin_trap();  // every message names the file
  }

  // The same observed columns against a contract that declares one more, absent column: that
  // column must be reported, as missing or as a rename.
  declared_fields.push_back({"__not_in_the_data__", sluice::types::LogicalType::kString, true});
  auto wider = sluice::types::Schema::Make(declared_fields);
  if (wider.ok()) {
    const auto r = CheckContract(*wider, observed, ExtraColumnPolicy::kKeep, "");
    bool named = false;
    for (const auto& e : r.errors)
      named = named || e.find("'__not_in_the_data__'") != std::string::npos;
    const bool in_data =
        std::find(fields.begin(), fields.end(), "__not_in_the_data__") != fields.end();
    if (!named && !in_data) __builtin_trap();
  }
  return 0;
}
