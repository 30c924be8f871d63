#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "engine/feature_plan.h"
#include "engine/keyed_replay.h"
#include "engine/window_aggregator.h"
#include "types/batch.h"

namespace sluice::engine {

// The online state of one entity for one feature view: its events inside the longest window
// (counted back from its newest event) and the lifetime accumulators after all its events.
// From it, the aggregations as of any instant t >= newest_event are exactly what a replay
// computes at t (docs/features.md), which is what the online store holds.
//
// A view with a tile keeps no events: window edges fall on tile boundaries only, so it keeps
// per tile the partial states of its windowed aggregations, for the tiles a read at or after
// the newest event can still see. Its size is bounded by (longest window / tile), however many
// events the entity has.
struct Tile {
  std::int64_t index = 0;  // the tile (index * tile, (index + 1) * tile]
  LifetimeStates states;   // per aggregation: MakeTileState for windowed ones, else nullptr
};

struct EntityState {
  std::int64_t newest_event = 0;  // microseconds
  EventLog events;                // this entity's events, oldest first (untiled views)
  std::vector<Tile> tiles;        // tiled views: oldest first
  LifetimeStates lifetime;        // per aggregation (nullptr for windowed ones)
};

// Tiled views: adds the events log[begin, end) (oldest first, none before the newest tile) to
// `tiles`, then drops the tiles that no read at or after log.ts[end - 1] can see.
void AddToTiles(const FeatureViewPlan& plan, const EventLog& log, size_t begin, size_t end,
                std::vector<Tile>& tiles);

// Versioned binary encoding (docs/online.md): byte 0 is kStateEncoding, then little-endian
// fields (StateWriter). Decoding checks every length and fails with kCorruption instead of
// reading past the end, whatever the bytes. Encoding 2: exact sums (ExactSum) in the lifetime
// states, one state type per aggregation.
inline constexpr std::uint8_t kStateEncoding = 2;
std::string EncodeState(const FeatureViewPlan& plan, const EntityState& state);
base::Result<EntityState> DecodeState(const FeatureViewPlan& plan, std::string_view bytes);
// DecodeState into `state`, reusing its buffers: a reader decoding state after state keeps
// one EntityState instead of allocating each one anew. On error `state` is unspecified.
base::Status DecodeStateInto(const FeatureViewPlan& plan, std::string_view bytes,
                             EntityState& state);

// The canonical bytes of an entity key: the key values as text (Column::ValueToString), joined
// by 0x1F. Requests name entities the same way.
std::string EntityKeyBytes(const std::vector<std::string>& key_values);

// Replays every event (laid out as for ReplayAsOf: keys, event time, inputs) and returns each
// entity's key bytes and encoded state, in key-bytes order.
base::Result<std::vector<std::pair<std::string, std::string>>> BuildEntityStates(
    const FeatureViewPlan& plan, const types::Batch& events, int threads, ReplayCounts* counts);

// The first of an entity's events log.ts[begin, end) (oldest first) that its stored state
// keeps: those inside the view's longest window counted back from the newest event, the only
// ones a read then or later can see (none when every aggregation is lifetime). Replays and
// incremental updates both cut here, so they store the same bytes. A tiled view keeps no events
// (end); FirstWindowEvent is the same cut for any view (for a tiled one, counted from the tile
// boundary at or before newest - longest window): the first event its tiles hold.
size_t FirstWindowEvent(const FeatureViewPlan& plan, const std::vector<std::int64_t>& ts,
                        size_t begin, size_t end);
size_t FirstKeptEvent(const FeatureViewPlan& plan, const std::vector<std::int64_t>& ts,
                      size_t begin, size_t end);

// The aggregations of `state` as of t (which must not be before state.newest_event), one value
// per aggregation, written at `row` of `out`.
base::Status EvaluateState(const FeatureViewPlan& plan, const EntityState& state, std::int64_t t,
                           size_t row, std::vector<FeatureValues>& out);

// The online read path's DecodeState + EvaluateState, one entity at a time, with every buffer
// (the decoded state, the aggregator, the one-row values) kept from one read to the next: a
// served look-up otherwise allocates dozens of vectors and strings per entity. One per thread.
class StateEvaluator {
 public:
  explicit StateEvaluator(const FeatureViewPlan& plan);
  StateEvaluator(const StateEvaluator&) = delete;
  StateEvaluator& operator=(const StateEvaluator&) = delete;

  // The aggregations of the stored state `bytes` as of t into values(), row 0: the values
  // EvaluateState(plan, DecodeState(plan, bytes), t, ...) computes. nullopt is an entity
  // without history (no events, empty accumulators), which a TTL leaves all NULL.
  base::Status Evaluate(std::optional<std::string_view> bytes, std::int64_t t);
  const std::vector<FeatureValues>& values() const { return values_; }
  // The newest event of the last state evaluated (0 for nullopt).
  std::int64_t newest_event() const { return state_.newest_event; }

 private:
  const FeatureViewPlan& plan_;
  EntityState state_;
  EntityAggregator aggregator_;  // over state_.events
  LifetimeStates tile_sums_;     // tiled views: each window's tiles combined
  std::vector<FeatureValues> values_;
};

}  // namespace sluice::engine
