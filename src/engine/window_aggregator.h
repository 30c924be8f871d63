#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/aggregate_state.h"
#include "engine/feature_plan.h"
#include "engine/feature_values.h"

namespace sluice::engine {

// The version of the engine's arithmetic: bumped whenever the same events and definition can
// give different feature values. A training set's manifest records it (as the input
// "engine:semantics@N"), so reproducing one built by another version says why bits differ.
//   1  sums in event order, variance two-pass (windows) or Welford (lifetime)
//   2  exact sums rounded once (ExactSum), variance from exact sums, min/max skip NaN
//   3  under a TTL, derived features of an absent entity are NULL (as served)
//   4  min/max/first/last of timestamps, dates and booleans keep the input type (were int64)
inline constexpr int kSemanticsVersion = 4;

// Per aggregation of a view, the lifetime state (nullptr for windowed aggregations).
using LifetimeStates = std::vector<std::unique_ptr<StoredState>>;

// The per-entity operator. For one entity whose events are log[begin, end) in event-time order,
// it answers "every aggregation of the view as of instant t" for non-decreasing t:
//
//   window w   aggregates the events with event time in (t - w, t]
//   lifetime   aggregates every event with event time <= t
//
// It is one sweep: each window is a sliding set of events (they join when t reaches them and
// leave when they fall out of it), each aggregation a SlidingState updated as they do, so a
// step costs the events it moves past, not the events in the window. A window's state depends
// only on the events in it (sums are exact, extremes and edges kept by event index), never on
// the order of reads or where the sweep started: a sweep starting at any t gets the same bits
// as a replay, and so do online reads, which combine the same states' partials (entity_state.h).
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

 private:
  struct Window {
    std::int64_t length = 0;
    size_t lo = 0;             // the oldest event in the window
    std::vector<size_t> aggs;  // aggregations over this window
  };

  const FeatureViewPlan& plan_;
  const EventLog& log_;
  size_t begin_ = 0, end_ = 0, hi_ = 0;
  std::vector<Window> windows_;
  std::vector<size_t> lifetime_aggs_;
  std::vector<std::unique_ptr<SlidingState>> sliding_;  // per aggregation, windowed ones
  LifetimeStates lifetime_;                             // per aggregation, lifetime ones
};

}  // namespace sluice::engine
