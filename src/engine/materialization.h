#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "engine/entity_state.h"
#include "engine/entity_state_cache.h"
#include "engine/feature_plan.h"
#include "engine/keyed_replay.h"
#include "lake/lake.h"
#include "types/batch.h"

namespace sluice::engine {

// Everything a materialization produces for one view: the states to store and what they came
// from.
struct Materialized {
  FeatureViewPlan plan;
  lake::Manifest source;  // the source version replayed
  StateWrites states;     // entity heads (key bytes -> head) and parts
  std::int64_t newest_event = 0;
  ReplayCounts counts;
};

// Replays every event of the view's current source version into per-entity states.
base::Result<Materialized> MaterializeView(const config::ProjectSpec& project,
                                           const config::FeatureViewSpec& view,
                                           const lake::Lake& lake, int threads);

// What the online store already holds for a view (its ViewMeta), the starting point of the
// next materialization.
struct StoredView {
  std::string source_version;
  std::string definition_hash;
  std::int64_t newest_event = 0;  // microseconds
  std::int64_t entities = 0;
  std::int32_t encoding_version = 0;
};

// Reads stored states by entity key bytes, in order (nullopt: none stored), from one
// consistent point of the store.
using StateLookup = std::function<base::Result<std::vector<std::optional<std::string>>>(
    const std::vector<std::string>& entities)>;

enum class MaterializeMode {
  kUnchanged,    // the store holds the current source version already: nothing to write
  kFull,         // every event of the current source version replayed
  kIncremental,  // only the events the current version appends, applied to stored states
};

struct Materialization {
  MaterializeMode mode = MaterializeMode::kFull;
  std::string why;                // why a full replay (empty when the store held nothing)
  std::string previous;           // the source version the stored states came from, if any
  Materialized result;            // the states to write: every entity, or only the changed ones
  std::int64_t entities = 0;      // entities the view holds once the states are written
  std::int64_t new_entities = 0;  // incremental: entities the store did not hold before
};

// `sluice materialize` for one view. Incremental when the view's definition and state encoding
// are unchanged, the current source version keeps every data file of the stored one in the
// same order and appends new ones, and no appended event is older than its entity's newest
// stored event; the states written are then exactly what a full replay would give. Otherwise
// (or with `force`) a full replay, with the reason in `why`.
base::Result<Materialization> Materialize(const config::ProjectSpec& project,
                                          const config::FeatureViewSpec& view,
                                          const lake::Lake& lake, int threads,
                                          const std::optional<StoredView>& stored,
                                          const StateLookup& lookup, const PartLookup& parts,
                                          bool force);

// Applies `events` (layout of BuildEntityStates: keys, event time, inputs) to the stored states
// of their entities (heads through `lookup`, parts through `parts`), returning the updated
// heads in key-bytes order and the parts to put or delete: for k new events of an entity, a
// head, at most k / kChunkEvents + 1 chunks and group parts, and the deletes of expired ones,
// however many events its window holds. Fails with kFailedPrecondition when an event is older
// than its entity's newest stored event: only a full replay can place it. `new_entities` counts
// entities with no stored state.
//
// With a `cache` (entity_state_cache.h), cached heads are updated in place instead of being read
// and decoded, and every other updated head is cached; the caller must Clear() the cache if these
// writes do not reach the store.
base::Result<StateWrites> UpdateEntityStates(const FeatureViewPlan& plan,
                                             const types::Batch& events, const StateLookup& lookup,
                                             const PartLookup& parts, ReplayCounts* counts,
                                             std::int64_t* new_entities,
                                             EntityStateCache* cache = nullptr);

}  // namespace sluice::engine
