#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "engine/feature_plan.h"
#include "engine/keyed_replay.h"
#include "engine/window_aggregator.h"
#include "store/online_store.h"
#include "types/batch.h"

namespace sluice::engine {

// The online state of one entity for one feature view, as stored: a head under the entity's
// own key and, for views with windows and no tile, parts under keys of their own
// (store::PartWrite), so that reading or updating a heavy entity costs the few parts a window
// edge falls in, not every event of its window (docs/online.md, "State layout").
//
// Untiled views with a window (IsChunked): the entity's events are numbered from its first;
// event i belongs to chunk i / kChunkEvents and chunk c to group c / kGroupChunks. The newest
// chunk (the open one) is in the head, raw. A sealed chunk is a part of its own (raw events),
// and an entry in its group's part (its time range and the partial states of every windowed
// aggregation over its events); the head holds per live group the partial states combined over
// its sealed chunks. A read at t >= newest_event for window w combines: the raw events after
// t - w of the one chunk the edge falls in, the entries of the later chunks of that group, the
// later groups' partials and the open chunk. Groups whose every event is at or before
// newest_event - longest window are deleted with their chunks.
//
// A view with a tile keeps no events: window edges fall on tile boundaries only, so it keeps
// per tile the partial states of its windowed aggregations, for the tiles a read at or after
// the newest event can still see. Its size is bounded by (longest window / tile), however many
// events the entity has.
struct Tile {
  std::int64_t index = 0;  // the tile (index * tile, (index + 1) * tile]
  LifetimeStates states;   // per aggregation: MakeTileState for windowed ones, else nullptr
};

inline constexpr size_t kChunkEvents = 256;
inline constexpr std::uint64_t kGroupChunks = 64;

inline bool IsChunked(const FeatureViewPlan& plan) {
  return !IsTiled(plan) && plan.max_window > 0;
}

// A group of sealed chunks, as the head holds it.
struct ChunkGroup {
  std::uint64_t id = 0;
  std::uint64_t first_chunk = 0;  // its sealed chunks: first_chunk .. first_chunk + chunks - 1
  std::uint32_t chunks = 0;
  std::int64_t first_ts = 0, last_ts = 0;  // oldest and newest event of those chunks
  LifetimeStates states;  // per aggregation: MakeTileState for windowed ones, else nullptr
};

struct EntityState {
  std::int64_t newest_event = 0;   // microseconds
  EventLog events;                 // chunked views: the open chunk's events, oldest first
  std::uint64_t open_chunk = 0;    // chunked views: the open chunk's number
  std::vector<ChunkGroup> groups;  // chunked views: live groups, oldest first
  std::vector<Tile> tiles;         // tiled views: oldest first
  LifetimeStates lifetime;         // per aggregation (nullptr for windowed ones)
};

// The part names (store::PartKey::part) of a sealed chunk and of a group.
std::string ChunkPartName(std::uint64_t chunk);
std::string GroupPartName(std::uint64_t group);

// Reads parts of entities from one consistent point of the store, in order (nullopt: none).
using PartLookup = std::function<base::Result<std::vector<std::optional<std::string>>>(
    const std::vector<store::PartKey>& keys)>;

// What a materialization or a stream batch hands to the store: each changed entity's head (in
// key-bytes order) and the parts to put or delete.
struct StateWrites {
  std::vector<std::pair<std::string, std::string>> heads;
  std::vector<store::PartWrite> parts;
};

// Applies log[begin, end) (one entity's new events, oldest first, none older than
// state.newest_event) to `state`. Part puts and deletes go to `parts` (part name -> value,
// nullopt deletes), later ones replacing earlier ones. `stored_group` returns the stored bytes
// of a group part the head names (asked only for a group gaining a chunk); nullptr when nothing
// is stored (a full replay), which also leaves deletes of parts it never wrote out.
using GroupFetch = std::function<base::Result<std::optional<std::string>>(std::uint64_t group)>;
base::Status ApplyEvents(const FeatureViewPlan& plan, const EventLog& log, size_t begin, size_t end,
                         EntityState& state, const GroupFetch* stored_group,
                         std::map<std::string, std::optional<std::string>>& parts);

// Tiled views: adds the events log[begin, end) (oldest first, none before the newest tile) to
// `tiles`, then drops the tiles that no read at or after log.ts[end - 1] can see.
void AddToTiles(const FeatureViewPlan& plan, const EventLog& log, size_t begin, size_t end,
                std::vector<Tile>& tiles);

// Versioned binary encoding of the head (docs/online.md): byte 0 is kStateEncoding, then
// little-endian fields (StateWriter). Decoding checks every length and fails with kCorruption
// instead of reading past the end, whatever the bytes. Encoding 2: exact sums (ExactSum), one
// state type per aggregation. Encoding 3: the chunked layout (parts) for untiled windows.
inline constexpr std::uint8_t kStateEncoding = 3;
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
// entity's key bytes and head, in key-bytes order, and the parts.
base::Result<StateWrites> BuildEntityStates(const FeatureViewPlan& plan, const types::Batch& events,
                                            int threads, ReplayCounts* counts);

// The first of an entity's events log.ts[begin, end) (oldest first) inside the view's longest
// window counted back from the newest event (for a tiled view, from the tile boundary at or
// before newest - longest window): the first event a read then or later can see (end when
// every aggregation is lifetime).
size_t FirstWindowEvent(const FeatureViewPlan& plan, const std::vector<std::int64_t>& ts,
                        size_t begin, size_t end);

// The aggregations of `state` (the head of `entity`) as of t (which must not be before
// state.newest_event), one value per aggregation, written at `row` of `out`. `parts` reads the
// entity's parts where a window edge needs them.
base::Status EvaluateState(const FeatureViewPlan& plan, const EntityState& state, std::int64_t t,
                           size_t row, std::vector<FeatureValues>& out,
                           std::string_view entity = {}, const PartLookup& parts = {});

// The online read path: decodes a head and evaluates it, one entity at a time, with every
// buffer (the decoded state, the partial states, the one-row values) kept from one read to the
// next: a served look-up otherwise allocates dozens of vectors and strings per entity. One per
// thread.
class StateEvaluator {
 public:
  explicit StateEvaluator(const FeatureViewPlan& plan);
  StateEvaluator(const StateEvaluator&) = delete;
  StateEvaluator& operator=(const StateEvaluator&) = delete;

  // The aggregations of the stored head `bytes` of `entity` as of t into values(), row 0.
  // nullopt is an entity without history (no events, empty accumulators), which a TTL leaves
  // all NULL. `parts` reads the entity's parts; a read that needs one without it fails.
  base::Status Evaluate(std::optional<std::string_view> bytes, std::int64_t t,
                        std::string_view entity = {}, const PartLookup& parts = {});
  // Evaluate over a decoded head.
  base::Status EvaluateDecoded(const EntityState& state, std::int64_t t, std::string_view entity,
                               const PartLookup& parts);
  const std::vector<FeatureValues>& values() const { return values_; }
  // The newest event of the last state evaluated (0 for nullopt).
  std::int64_t newest_event() const { return newest_event_; }

 private:
  // Chunked views: each window's value from the head and the parts its edge needs.
  base::Status EvaluateChunked(const EntityState& state, std::int64_t t, std::string_view entity,
                               const PartLookup& parts);

  const FeatureViewPlan& plan_;
  EntityState state_;
  std::int64_t newest_event_ = 0;
  LifetimeStates sums_;     // per windowed aggregation: the window's combined partial state
  LifetimeStates scratch_;  // per windowed aggregation: a part's entry, decoded
  EventLog edge_events_;    // the raw events of a chunk an edge falls in
  std::vector<FeatureValues> values_;
};

}  // namespace sluice::engine
