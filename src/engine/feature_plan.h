#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "types/logical_type.h"
#include "types/schema.h"

namespace sluice::engine {

// How the engine holds an aggregation input: integers (int64, bool, timestamp, date) exactly,
// other numbers as double, everything else as text.
enum class InputKind { kInteger, kNumber, kText };

// A value the aggregations read from each event: a source column or a row-level SQL
// expression, evaluated by DuckDB (the one expression evaluator, in replay and live alike).
struct InputColumn {
  std::string name;                                       // column name in the event relation
  std::string sql;                                        // SQL expression over the source row
  types::LogicalType type = types::LogicalType::kDouble;  // as DuckDB evaluates it
  InputKind kind = InputKind::kNumber;
};

struct AggregationPlan {
  std::string name;
  config::AggregationFunction function = config::AggregationFunction::kCount;
  int input = -1;                      // index into FeatureViewPlan::inputs; -1 = count(*)
  std::optional<std::int64_t> window;  // microseconds; nullopt = lifetime
  std::int64_t k = 0;                  // last_k
  types::LogicalType output_type = types::LogicalType::kInt64;
};

// A feature view compiled for the engine: what to read from its source and how to aggregate.
struct FeatureViewPlan {
  std::string view;
  std::string source;                    // source or model name
  std::vector<std::string> entity_keys;  // key columns, in the entity's order
  std::vector<types::LogicalType> key_types;
  std::string event_time;             // timestamp column of the source
  std::optional<std::string> filter;  // SQL predicate
  std::vector<InputColumn> inputs;
  std::vector<AggregationPlan> aggregations;
  std::vector<config::ComputedColumnSpec> derived;
  std::optional<std::int64_t> ttl;  // microseconds
  // The declared tile, microseconds: a window's old edge t - w is rounded down to a multiple of
  // it (WindowCut), so the window holds whole tiles plus the newest, partial one.
  std::optional<std::int64_t> tile;
  std::int64_t max_window = 0;  // longest finite window, microseconds
  std::string definition_hash;  // everything above that changes feature values

  int FindAggregation(const std::string& name) const;
};

// Compiles `view` against the schema of its source's data. `input_types` gives the type DuckDB
// assigns to each row-level column expression (ResolveInputTypes computes them); pass an empty
// map to plan with source columns only.
base::Result<FeatureViewPlan> PlanFeatureView(
    const config::ProjectSpec& project, const config::FeatureViewSpec& view,
    const types::Schema& source_schema,
    const std::vector<std::pair<std::string, types::LogicalType>>& expression_types);

InputKind KindOf(types::LogicalType type);

inline bool IsTiled(const FeatureViewPlan& plan) {
  return plan.tile && *plan.tile > 0;
}

// The old edge of window `w` as of t: events at or before it are out of the window. t - w, or
// with a tile, t - w rounded down to a multiple of the tile (docs/features.md).
inline std::int64_t WindowCut(const FeatureViewPlan& plan, std::int64_t t, std::int64_t w) {
  const std::int64_t cut = t - w;
  if (!plan.tile || *plan.tile <= 0) return cut;
  const std::int64_t tile = *plan.tile;
  const std::int64_t q = cut / tile - (cut % tile < 0 ? 1 : 0);  // floor division
  return q * tile;
}

}  // namespace sluice::engine
