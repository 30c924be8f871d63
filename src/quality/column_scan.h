#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "quality/drift_statistics.h"
#include "quality/numeric_summary.h"
#include "quality/value_buffer.h"
#include "warehouse/duckdb_database.h"

// Reading a set of rows for statistics, column by column: numbers are taken chunk by chunk inside
// DuckDB's scan (DuckDb::FoldNumbers) straight into sort keys and radix-sorted in memory (drift),
// or summarized without a full sort (profiles: quality/numeric_summary.h); text is counted per
// value by DuckDB's hash aggregate. Profiles and drift compute every exact statistic (quantiles,
// distinct counts, ECDF distances) from these, instead of one SQL aggregate each. Columns are read
// on several workers at once, each with its own DuckDB connection and its own buffers, which it
// reuses from column to column (fresh buffers cost a page fault per 4 KiB).
namespace sluice::quality {

// A numeric column's non-null values in ascending order, NaN last (DuckDB's order): a view of
// the reading ColumnReader's buffer, valid until that reader's next ReadSorted into the same slot.
struct SortedNumbers {
  std::int64_t rows = 0;      // rows read, NULLs included
  std::int64_t distinct = 0;  // distinct values, compared in the expression's own type (BIGINT
                              // values are distinct as integers, before they become doubles)
  std::span<const double> values;
};

// A column's non-null values as text: distinct, ascending by bytes, with how often each occurs.
struct ValueCounts {
  std::int64_t rows = 0;  // rows read, NULLs included
  std::vector<std::string> values;
  std::vector<std::int64_t> counts;
  std::int64_t total() const;  // sum of counts
};

// One worker's access to the rows: its own connection to the database and sort buffers, reused
// for every column it reads. Not thread-safe; one per worker (ForEachColumn makes them).
class ColumnReader {
 public:
  static base::Result<ColumnReader> Open(const warehouse::DuckDb& db);

  static constexpr int kSlots = 2;
  // Reads the values of `expr` (BIGINT or DOUBLE) over the relation `from` and sorts them in
  // the reader's buffer `slot` (< kSlots; the previous view of that slot ends, the other slot's
  // stays valid: two columns side by side). `expected_rows` is a hint for sizing the buffers.
  base::Result<SortedNumbers> ReadSorted(const std::string& from, const std::string& expr,
                                         size_t expected_rows, int slot = 0);
  // Reads the values of `expr` (BIGINT or DOUBLE) over `from` and summarizes them without a
  // full sort (quality/numeric_summary.h): quantiles at `levels`, `bins` histogram bins. Uses
  // the buffers of both slots (their views end).
  base::Result<NumericSummary> ReadSummary(const std::string& from, const std::string& expr,
                                           size_t expected_rows, std::span<const double> levels,
                                           int bins);
  // Counts the values of `expr` (VARCHAR) over `from` (one GROUP BY).
  base::Result<ValueCounts> CountValues(const std::string& from, const std::string& expr);
  // count(*) of `from`.
  base::Result<std::int64_t> CountRows(const std::string& from);
  // Runs `sql` (a small aggregate: its whole result is returned) on the reader's connection.
  base::Result<types::Batch> Query(const std::string& sql);
  // Frees the sort buffers (views of them end); the next read allocates them again.
  void ReleaseBuffers();

 private:
  explicit ColumnReader(warehouse::DuckDb connection);
  warehouse::DuckDb connection_;
  ValueBuffer keys_[kSlots];
  ValueBuffer scratch_;
};

// The number of workers ForEachColumn runs for `tasks` tasks on `threads` (0 = one per core).
int ScanWorkers(int threads, size_t tasks);

// Runs task(reader, worker, i) for every i in [0, tasks) on ScanWorkers(threads, tasks) workers,
// numbered from 0, each with its own ColumnReader; tasks are taken in order as workers free up
// (so give the costliest first: the last ones fill the gaps). While it runs, DuckDB itself is set
// to one thread: the workers are the parallelism, one query each. The first failing task's
// status is returned (the others stop at their next task). At debug level it logs each task's
// wall and CPU time (named by `name`, when given) and each worker's time on a CPU and waiting for
// one: where the wall time of a scan goes.
base::Status ForEachColumn(
    warehouse::DuckDb& db, size_t tasks, int threads,
    const std::function<base::Status(ColumnReader&, int worker, size_t task)>& task,
    const std::function<std::string(size_t task)>& name = nullptr);

// Sorts keys[0, n) ascending, using scratch[0, n) as the second buffer (least-significant-digit
// radix sort, 8-bit digits; digits that every key shares are skipped).
void RadixSort(std::uint64_t* keys, std::uint64_t* scratch, size_t n);

// The finite values of a sorted column as distinct values and counts, for drift statistics, into
// `out` (its vectors' memory reused).
void ToSample(std::span<const double> sorted, NumericSample& out);

}  // namespace sluice::quality
