#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/feature_plan.h"
#include "engine/feature_values.h"
#include "engine/state_bytes.h"
#include "types/column.h"

namespace sluice::engine {

// Events sorted by (entity, event time), column by column: the input of the aggregation
// operator, whether it holds a whole replayed history or one entity's online state.
struct EventLog {
  std::vector<std::int64_t> ts;       // event time, microseconds since the epoch (UTC)
  std::vector<types::Column> inputs;  // one per FeatureViewPlan::inputs, aligned with ts
};

// The state of one aggregation over a set of events, one type per aggregation function (like
// DuckDB's aggregate functions): the engine never switches on the function outside the
// factories below. Two families:
//
//   SlidingState  a window's: events join at the new end and leave at the old end (Remove),
//                 and it may keep indices into the EventLog it is fed from.
//   StoredState   a lifetime's: holds values only, so it can be stored (Encode/Decode) and
//                 merged with the state of later events (Combine).
//
// count, sum, mean, variance and stddev are one type in both families: exact sums make their
// Remove and Combine exact (docs/features.md).
class SlidingState {
 public:
  virtual ~SlidingState() = default;
  // Event e of `log` joins the set; events join in log order.
  virtual void Update(const EventLog& log, size_t e) = 0;
  // Event e of `log`, the oldest one in the set, leaves it.
  virtual void Remove(const EventLog& log, size_t e) = 0;
  // The aggregation's value over the set, at `row` of `out`.
  virtual void Finalize(const EventLog& log, size_t row, FeatureValues& out) const = 0;
  virtual void Clear() = 0;
};

class StoredState {
 public:
  virtual ~StoredState() = default;
  virtual void Update(const EventLog& log, size_t e) = 0;
  // Adds the events `other` (the same aggregation) holds, all later than this state's.
  virtual void Combine(const StoredState& other) = 0;
  virtual void Finalize(size_t row, FeatureValues& out) const = 0;
  virtual void Clear() = 0;
  virtual std::unique_ptr<StoredState> Clone() const = 0;
  // Little-endian bytes (docs/online.md); Decode reads them back over a cleared state and
  // returns false (failing `r`) on malformed input.
  virtual void Encode(StateWriter& w) const = 0;
  virtual bool Decode(StateReader& r) = 0;
};

// The state of aggregation `a` of `plan`, for a window / for the lifetime.
std::unique_ptr<SlidingState> MakeSlidingState(const FeatureViewPlan& plan,
                                               const AggregationPlan& a);
std::unique_ptr<StoredState> MakeStoredState(const FeatureViewPlan& plan, const AggregationPlan& a);
// The stored partial state of windowed aggregation `a` over one tile's events: combined over
// the tiles of a window it gives the value the window's SlidingState gives (distinct counts
// exactly, as windows count them, not by sketch).
std::unique_ptr<StoredState> MakeTileState(const FeatureViewPlan& plan, const AggregationPlan& a);

// A value rendered the way last_k lists and distinct counts see it.
std::string RenderValue(const types::Column& column, size_t row);

}  // namespace sluice::engine
