#pragma once

#include <string>

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

// A DuckDB type name as sluice's logical type.
types::LogicalType FromDuckDbType(const std::string& duckdb_type);

}  // namespace sluice::engine
