#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "quality/drift_statistics.h"
#include "warehouse/duckdb_database.h"

// Reading a set of rows for statistics in one pass over its columns: numbers are copied out of
// DuckDB chunk by chunk and sorted in memory (radix sort, columns in parallel), text is counted
// per value by DuckDB's hash aggregate. Profiles and drift compute every exact statistic
// (quantiles, distinct counts, ECDF distances) from these, instead of one SQL aggregate each.
namespace sluice::quality {

// A numeric column's non-null values in ascending order, NaN last (DuckDB's order).
struct SortedNumbers {
  std::vector<double> values;
  std::int64_t distinct = 0;  // distinct values, compared in the expression's own type (BIGINT
                              // values are distinct as integers, before they become doubles)
};

// A column's non-null values as text: distinct, ascending by bytes, with how often each occurs.
struct ValueCounts {
  std::vector<std::string> values;
  std::vector<std::int64_t> counts;
  std::int64_t total() const;  // sum of counts
};

struct ScanSpec {
  std::string from;                      // a SQL relation: the rows to read
  std::vector<std::string> numeric;      // SQL expressions over `from` yielding BIGINT or DOUBLE
  std::vector<std::string> categorical;  // SQL expressions over `from` yielding VARCHAR
  size_t expected_rows = 0;              // a hint for reserving memory
  int threads = 0;                       // sorting threads; 0 = one per core
};

struct ScanResult {
  std::int64_t rows = 0;
  std::vector<SortedNumbers> numeric;    // one per ScanSpec::numeric
  std::vector<ValueCounts> categorical;  // one per ScanSpec::categorical
};

// Reads the rows of `spec.from` once (one streaming query for the numbers, one grouped query for
// the text; count(*) only when both lists are empty).
base::Result<ScanResult> ScanColumns(warehouse::DuckDb& db, const ScanSpec& spec);

// Sorts `keys` ascending (least-significant-digit radix sort; `scratch` is resized and used as
// the second buffer). Digits that every key shares are skipped.
void RadixSort(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch);

// The finite values of a sorted column as distinct values and counts, for drift statistics.
NumericSample ToSample(const SortedNumbers& sorted);

}  // namespace sluice::quality
