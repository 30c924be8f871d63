#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "engine/feature_plan.h"
#include "types/column.h"

namespace sluice::engine {

// Events sorted by (entity, event time), column by column: the input of the aggregation
// operator, whether it holds a whole replayed history or one entity's online state.
struct EventLog {
  std::vector<std::int64_t> ts;       // event time, microseconds since the epoch (UTC)
  std::vector<types::Column> inputs;  // one per FeatureViewPlan::inputs, aligned with ts
};

// One feature's values for a set of output rows, written by row index (rows arrive in entity
// order, not output order).
class FeatureValues {
 public:
  FeatureValues(types::LogicalType type, size_t rows);
  types::LogicalType type() const { return type_; }
  void SetNull(size_t row) { valid_[row] = 0; }
  void SetInt(size_t row, std::int64_t v) {
    ints_[row] = v;
    valid_[row] = 1;
  }
  void SetDouble(size_t row, double v) {
    doubles_[row] = v;
    valid_[row] = 1;
  }
  void SetText(size_t row, std::string v) {
    texts_[row] = std::move(v);
    valid_[row] = 1;
  }
  bool IsValid(size_t row) const { return valid_[row] != 0; }
  // Copies row `from_row` of `src` (same type) into `to_row`.
  void CopyRow(const FeatureValues& src, size_t from_row, size_t to_row);
  // Copies row j of `src` (same type) into row to_rows[j], for every j.
  void Scatter(const FeatureValues& src, const std::vector<std::uint32_t>& to_rows);
  types::Column ToColumn() const;

 private:
  types::LogicalType type_;
  std::vector<std::int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<std::string> texts_;
  std::vector<std::uint8_t> valid_;
};

// Running aggregates of every event so far, for lifetime aggregations (updated in event order).
struct LifetimeState {
  std::int64_t count = 0;
  std::int64_t int_sum = 0;
  double sum = 0;
  double mean = 0, m2 = 0;  // Welford, in event order
  bool has_value = false;
  std::int64_t int_min = 0, int_max = 0, int_first = 0, int_last = 0;
  double min = 0, max = 0, first = 0, last = 0;
  std::string text_min, text_max, text_first, text_last;
  std::deque<std::string> last_k;  // rendered values, oldest first
  std::vector<std::uint8_t> hll;   // approx_count_distinct registers
};

// The per-entity operator. For one entity whose events are log[begin, end) in event-time order,
// it answers "every aggregation of the view as of instant t" for non-decreasing t:
//
//   window w   aggregates the events with event time in (t - w, t]
//   lifetime   aggregates every event with event time <= t
//
// Window aggregates are computed from the events in the window, oldest first, every time, so
// a value depends only on which events are in the window, never on the order of earlier reads:
// the online path (a stored window of events) gets the same bits as a replay.
class EntityAggregator {
 public:
  EntityAggregator(const FeatureViewPlan& plan, const EventLog& log);

  // Starts a new entity whose events are log[begin, end).
  void Reset(size_t begin, size_t end);
  // Consumes the entity's events with event time <= t. t must not decrease between calls.
  void AdvanceTo(std::int64_t t);
  // Writes every aggregation as of t (after AdvanceTo(t)) into out[i] at `row`. With a TTL, an
  // entity whose newest event is older than t - ttl (or that has none) gets NULL everywhere.
  void Emit(std::int64_t t, size_t row, std::vector<FeatureValues>& out) const;
  // Emit without the TTL rule, for callers that decide it themselves (online state).
  void EmitIgnoringTtl(std::int64_t t, size_t row, std::vector<FeatureValues>& out) const;

  // Events consumed so far (the entity's history up to t).
  size_t consumed() const { return hi_ - begin_; }

  // Online state: the lifetime accumulators after the events consumed so far, and a restart
  // from stored state whose events log[begin, end) were all consumed already (their lifetime
  // contribution is in `lifetime`), so only windows move on AdvanceTo.
  const std::vector<LifetimeState>& lifetime() const { return lifetime_; }
  void Restore(size_t begin, size_t end, std::vector<LifetimeState> lifetime);
  // Restore that exchanges the accumulators with `lifetime` instead of taking them, so a
  // caller restoring many states in turn (online reads) keeps reusing the same buffers.
  void RestoreExchange(size_t begin, size_t end, std::vector<LifetimeState>& lifetime);
  // After Restore: events appended to the log since, log[end, new_end), are new and are
  // consumed (lifetime included) by the next AdvanceTo, as a stream delivers them.
  void Extend(size_t new_end) { end_ = new_end; }

 private:
  void AddToLifetime(size_t agg, size_t event);
  void EmitWindow(size_t agg, size_t lo, size_t hi, size_t row, FeatureValues& out) const;
  void EmitLifetime(size_t agg, size_t row, FeatureValues& out) const;

  const FeatureViewPlan& plan_;
  const EventLog& log_;
  size_t begin_ = 0, end_ = 0, hi_ = 0;
  std::vector<std::int64_t> windows_;    // distinct finite windows
  std::vector<size_t> window_lo_;        // per distinct window: first event inside it
  std::vector<int> agg_window_;          // per aggregation: index into windows_, -1 lifetime
  std::vector<LifetimeState> lifetime_;  // per aggregation (used by lifetime ones)
};

// A value rendered the way last_k lists and distinct counts see it.
std::string RenderValue(const types::Column& column, size_t row);

}  // namespace sluice::engine
