#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "config/project.h"
#include "engine/feature_plan.h"
#include "lake/lake.h"
#include "types/batch.h"
#include "warehouse/duckdb_database.h"

namespace sluice::engine {

// Plans `view` against a version of its source: row-level column types come from DuckDB
// describing the expressions over that version's data. Training sets, materialization and
// online reads all plan through here, so they agree on the plan (and its definition hash).
base::Result<FeatureViewPlan> LoadPlan(const config::ProjectSpec& project,
                                       const config::FeatureViewSpec& view, const lake::Lake& lake,
                                       const lake::Manifest& source, warehouse::DuckDb& db);

// The SQL reading the plan's events from `source` (layout of ReplayAsOf: keys, event time,
// inputs), restricted to `partition` of `partitions` by key hash when partitions > 1.
std::string EventsSql(const FeatureViewPlan& plan, const lake::Lake& lake,
                      const lake::Manifest& source, int partition, int partitions);

// EventsSql over `from_sql`, any relation with the source's columns (a stream's micro-batch):
// the same row-level SQL, evaluated by DuckDB, in replay and live alike.
std::string EventsSqlOver(const FeatureViewPlan& plan, const std::string& from_sql);

// The events EventsSqlOver(plan, ...) gives over `rows` (a batch with the source's columns),
// without DuckDB, when that SQL provably only picks columns: no filter, every input a source
// column read as its own type, the keys source columns, a timestamp event time (no cast that
// changes a value), and every one of those columns in `rows`. nullopt when the SQL does more:
// then it must run. Same types, values, NULLs and row order, and the same names (but for the
// event time's, when DuckDB would quote it: the events are read by position).
std::optional<types::Batch> EventsWithoutSql(const FeatureViewPlan& plan, const types::Batch& rows);

// The same events as EventsSql's, in the same order, read on up to `threads` DuckDB
// connections at once (0: one per core): the source's Parquet row groups are cut into
// contiguous ranges of about equal rows, each read by its own connection (a new one of `db`'s
// database, prepared with `session_sql`), and the pieces are joined in order. One thread, or a
// source too small to split (fewer than `min_rows_per_connection` rows per connection), reads
// through `db` alone. `expected_rows` reserves the columns.
inline constexpr std::int64_t kMinRowsPerScanConnection = std::int64_t{1} << 18;
base::Result<types::Batch> ScanEvents(
    warehouse::DuckDb& db, std::string_view session_sql, const FeatureViewPlan& plan,
    const lake::Lake& lake, const lake::Manifest& source, int partition, int partitions,
    size_t expected_rows, int threads,
    std::int64_t min_rows_per_connection = kMinRowsPerScanConnection);

// A DuckDB type name as sluice's logical type.
types::LogicalType FromDuckDbType(const std::string& duckdb_type);

}  // namespace sluice::engine
