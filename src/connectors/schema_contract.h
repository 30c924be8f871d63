#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "types/logical_type.h"
#include "types/schema.h"

namespace sluice::connectors {

// A column as found in the data, before any contract is applied.
struct ObservedColumn {
  std::string name;
  // The type the format itself records (Parquet), or nullopt for untyped text formats (CSV,
  // JSON Lines), whose values are checked row by row instead.
  std::optional<std::string> duckdb_type;
};

enum class ExtraColumnPolicy { kFail, kWarn, kKeep };

// What the contract decided for one input.
struct ContractResult {
  std::vector<std::string> errors;    // shape changes that stop the ingest, naming the column
  std::vector<std::string> warnings;  // ignored extra columns (policy warn)
  std::vector<std::string> kept_extra_columns;  // policy keep, in data order
  bool ok() const { return errors.empty(); }
};

// Compares the declared columns with what the data has: a declared column missing from the data
// is an error; a missing one next to an unexpected similar one is reported as a rename ("did you
// mean"); a typed column whose type cannot hold the declared type is a retype; undeclared
// columns follow `extra`. `where` (a file name) prefixes every message.
ContractResult CheckContract(const types::Schema& declared,
                             const std::vector<ObservedColumn>& observed, ExtraColumnPolicy extra,
                             const std::string& where);

// True if a value of DuckDB type `duckdb_type` converts to `declared` without loss of meaning
// (any integer to int64, numbers to double, DATE/TIMESTAMP to timestamp...).
bool TypeCompatible(const std::string& duckdb_type, types::LogicalType declared);

}  // namespace sluice::connectors
