#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/feature_plan.h"
#include "engine/window_aggregator.h"
#include "types/batch.h"

namespace sluice::engine {

// Rows the replay could not use, counted so nothing is lost silently.
struct ReplayCounts {
  std::int64_t events = 0;            // events read
  std::int64_t events_null_key = 0;   // dropped: an entity key is NULL
  std::int64_t events_null_time = 0;  // dropped: the event time is NULL
  std::int64_t spine_rows = 0;
  std::int64_t spine_null_key_or_time = 0;  // their features are NULL
};

// Point-in-time replay: for every spine row (entity keys, as-of time t) the plan's aggregations
// over that entity's events with event time <= t (see EntityAggregator for the windows).
//
// `events` holds the key columns, then the event time (timestamp, microseconds), then one column
// per plan input, in any order of rows. `spine` holds the same key columns and the as-of time.
// Events are grouped by entity and ordered by event time (ties keep their input order), so the
// result does not depend on how the source ordered its rows across entities, nor on `threads`:
// each phase (grouping, ordering, gathering, aggregating) is split across threads so that every
// value is computed by one thread from the same inputs, and each output row written by one.
// `threads` 0 = all cores.
base::Result<std::vector<FeatureValues>> ReplayAsOf(const FeatureViewPlan& plan,
                                                    const types::Batch& events,
                                                    const types::Batch& spine, int threads,
                                                    ReplayCounts* counts);
// The same, taking the events over: each event column is freed as soon as it is grouped, so the
// events are not held twice (peak memory of large replays).
base::Result<std::vector<FeatureValues>> ReplayAsOf(const FeatureViewPlan& plan,
                                                    types::Batch&& events,
                                                    const types::Batch& spine, int threads,
                                                    ReplayCounts* counts);

// A batch of events (ReplayAsOf's layout) grouped by entity and ordered by event time within
// each, ties in input order, as every replay groups them: entity i's key is keys[i]
// (EntityKeyBytes) and its events are log's [begin[i], begin[i + 1]). Entities are in no
// particular order. Rows with a NULL key or time are left out and counted in `counts`
// (events_null_key, events_null_time; `events` itself is not counted).
struct EntityEvents {
  std::vector<std::string> keys;
  std::vector<std::uint32_t> begin;  // keys.size() + 1 of them
  EventLog log;
};
base::Result<EntityEvents> GroupByEntity(const FeatureViewPlan& plan, const types::Batch& events,
                                         int threads, ReplayCounts* counts);

// `src`'s rows order[0], ..., order[n - 1] as a new column (values, NULLs, strings), written
// straight into its buffers: one tight pass per column instead of a row at a time.
types::Column GatherColumn(const types::Column& src, const std::uint32_t* order, size_t n);

}  // namespace sluice::engine
