#include "engine/materialization.h"

#include <algorithm>
#include <limits>
#include <map>

#include "base/status.h"
#include "base/time.h"
#include "engine/entity_state.h"
#include "engine/keyed_replay.h"
#include "engine/view_loader.h"
#include "engine/window_aggregator.h"

namespace sluice::engine {
namespace {

using types::LogicalType;

// Stored states are read in batches of this many entities: one consistent read per batch,
// bounded request sizes for Redis.
constexpr size_t kLookupBatch = 10000;

// The part of `current` that `previous` does not hold, when `current` only appends data files
// to it (an incremental source, or a glob that gained files sorting after the old ones). Keeping
// the old files first is what makes old-then-new the order a full replay gives tied events.
std::optional<lake::Manifest> AppendedPart(const lake::Manifest& previous,
                                           const lake::Manifest& current) {
  std::vector<lake::OutputFile> before, now;
  for (const auto& o : previous.outputs) {
    if (o.name == "data") before.push_back(o);
  }
  for (const auto& o : current.outputs) {
    if (o.name == "data") now.push_back(o);
  }
  if (before.size() > now.size() || !std::equal(before.begin(), before.end(), now.begin())) {
    return std::nullopt;
  }
  lake::Manifest part = current;
  part.outputs.assign(now.begin() + static_cast<std::ptrdiff_t>(before.size()), now.end());
  return part;
}

std::string ShortId(const std::string& id) {
  return id.substr(0, 12);
}

// The view planned against its source's current version, with the DuckDB session that reads
// its events.
struct OpenedView {
  warehouse::DuckDb db;
  lake::Manifest source;
  FeatureViewPlan plan;
};

base::Result<OpenedView> OpenView(const config::ProjectSpec& project,
                                  const config::FeatureViewSpec& view, const lake::Lake& lake,
                                  int threads) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> source, lake.Current(view.source));
  if (!source) {
    return base::FailedPrecondition("feature view '" + view.name + "': its source '" + view.source +
                                    "' has no version yet: ingest it first");
  }
  warehouse::DuckDb::Options options;
  options.threads = threads;
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::OpenFeatureSqlDb(options));
  SLUICE_ASSIGN_OR_RETURN(FeatureViewPlan plan, LoadPlan(project, view, lake, *source, db));
  return OpenedView{std::move(db), std::move(*source), std::move(plan)};
}

}  // namespace

namespace {

// The newest event time in `events` (layout of BuildEntityStates), or `floor` if later.
std::int64_t NewestEvent(const FeatureViewPlan& plan, const types::Batch& events,
                         std::int64_t floor) {
  const types::Column& ts = events.column(plan.entity_keys.size());
  for (size_t r = 0; r < ts.size(); ++r) {
    if (ts.IsValid(r)) floor = std::max(floor, ts.GetTimestamp(r));
  }
  return floor;
}

// Every event of the opened view's source version replayed into per-entity states.
base::Result<Materialized> ReplayAll(OpenedView v, const std::string& view_name,
                                     const lake::Lake& lake, int threads) {
  Materialized m;
  m.source = std::move(v.source);
  m.plan = std::move(v.plan);
  auto events = v.db.Query(EventsSql(m.plan, lake, m.source, 0, 1));
  if (!events.ok()) {
    return base::InvalidArgument("feature view '" + view_name + "': " + events.status().message());
  }
  SLUICE_ASSIGN_OR_RETURN(m.states, BuildEntityStates(m.plan, *events, threads, &m.counts));
  m.newest_event = NewestEvent(m.plan, *events, 0);
  return m;
}

}  // namespace

base::Result<Materialized> MaterializeView(const config::ProjectSpec& project,
                                           const config::FeatureViewSpec& view,
                                           const lake::Lake& lake, int threads) {
  SLUICE_ASSIGN_OR_RETURN(OpenedView v, OpenView(project, view, lake, threads));
  return ReplayAll(std::move(v), view.name, lake, threads);
}

base::Result<StateWrites> UpdateEntityStates(const FeatureViewPlan& plan,
                                             const types::Batch& events, const StateLookup& lookup,
                                             const PartLookup& parts, ReplayCounts* counts,
                                             std::int64_t* new_entities, EntityStateCache* cache) {
  const size_t nkeys = plan.entity_keys.size();
  if (events.num_columns() != nkeys + 1 + plan.inputs.size()) {
    return base::Internal("materialize: events do not have the planned columns");
  }
  ReplayCounts local;
  ReplayCounts& c = counts ? *counts : local;
  c.events += static_cast<std::int64_t>(events.num_rows());

  // Every entity's events, entity after entity, in one log (each entity then reads its slice
  // [begin[i], begin[i + 1])), grouped and ordered as a replay does.
  SLUICE_ASSIGN_OR_RETURN(EntityEvents grouped, GroupByEntity(plan, events, /*threads=*/1, &c));
  const std::vector<std::string>& keys = grouped.keys;
  const std::vector<std::uint32_t>& begin = grouped.begin;
  const EventLog& log = grouped.log;

  StateWrites out;
  out.heads.reserve(keys.size());
  std::int64_t created = 0;
  std::map<std::string, std::optional<std::string>> entity_parts;
  EntityState state;
  std::vector<EntityState*> cached;
  std::vector<std::string> missed;
  for (size_t from = 0; from < keys.size(); from += kLookupBatch) {
    const size_t to = std::min(keys.size(), from + kLookupBatch);
    const std::vector<std::string> batch_keys(keys.begin() + static_cast<std::ptrdiff_t>(from),
                                              keys.begin() + static_cast<std::ptrdiff_t>(to));
    // Only the heads the cache does not hold are read (in key order, as asked).
    cached.assign(batch_keys.size(), nullptr);
    missed.clear();
    for (size_t i = 0; i < batch_keys.size(); ++i) {
      if (cache != nullptr) cached[i] = cache->Find(batch_keys[i]);
      if (cached[i] == nullptr) missed.push_back(batch_keys[i]);
    }
    std::vector<std::optional<std::string>> stored;
    if (!missed.empty()) {
      SLUICE_ASSIGN_OR_RETURN(stored, lookup(missed));
      if (stored.size() != missed.size()) {
        return base::Internal("materialize: the store returned " + std::to_string(stored.size()) +
                              " states for " + std::to_string(missed.size()) + " entities");
      }
    }
    size_t next_missed = 0;
    for (size_t i = 0; i < batch_keys.size(); ++i) {
      const std::string& key = batch_keys[i];
      const size_t first = begin[from + i], end = begin[from + i + 1];
      std::optional<std::string>* read = cached[i] ? nullptr : &stored[next_missed++];
      EntityState& target = cached[i] ? *cached[i] : state;
      const bool had_state = cached[i] != nullptr || read->has_value();
      if (read != nullptr && read->has_value()) {
        // Decoded into the previous entity's state, whose buffers (partial states, columns)
        // are kept: a stream batch updates a few entities over and over.
        base::Status decoded = DecodeStateInto(plan, **read, state);
        if (!decoded.ok()) {
          return decoded.WithContext("stored state of entity '" + key + "'");
        }
      } else if (read != nullptr) {
        state = EntityState();
        ++created;
      }
      if (had_state) {
        const std::int64_t first_new = log.ts[first];
        if (first_new < target.newest_event) {
          return base::FailedPrecondition("entity '" + key + "' has a new event at " +
                                          base::FormatTimestampMicros(first_new) +
                                          ", before its newest stored event (" +
                                          base::FormatTimestampMicros(target.newest_event) + ")");
        }
      }
      // A group part is read only when a chunk is sealed into a group already stored: once per
      // kChunkEvents events of the entity.
      const GroupFetch fetch =
          [&](std::uint64_t group) -> base::Result<std::optional<std::string>> {
        if (!parts) return base::Internal("materialize: no way to read stored parts");
        SLUICE_ASSIGN_OR_RETURN(auto got, parts({{key, GroupPartName(group)}}));
        if (got.size() != 1) return base::Internal("materialize: parts read short");
        return std::move(got[0]);
      };
      entity_parts.clear();
      base::Status applied =
          ApplyEvents(plan, log, first, end, target, had_state ? &fetch : nullptr, entity_parts);
      if (!applied.ok()) return applied.WithContext("stored state of entity '" + key + "'");
      for (auto& [name, value] : entity_parts)
        out.parts.push_back({key, name, std::move(value)});
      out.heads.emplace_back(key, EncodeState(plan, target));
      if (cached[i] != nullptr) {
        cache->Stored(key, out.heads.back().second.size());
      } else if (cache != nullptr && cache->enabled()) {
        cache->Put(key, std::move(state), out.heads.back().second.size());
        state = EntityState();
      }
    }
  }
  if (new_entities) *new_entities = created;
  if (cache != nullptr) cache->EndBatch();
  std::sort(out.heads.begin(), out.heads.end());
  return out;
}

base::Result<Materialization> Materialize(const config::ProjectSpec& project,
                                          const config::FeatureViewSpec& view,
                                          const lake::Lake& lake, int threads,
                                          const std::optional<StoredView>& stored,
                                          const StateLookup& lookup, const PartLookup& parts,
                                          bool force) {
  // Planned once: the plan decides between the modes, and a full replay reads with it.
  SLUICE_ASSIGN_OR_RETURN(OpenedView v, OpenView(project, view, lake, threads));
  Materialization m;
  auto full = [&](std::string why) -> base::Result<Materialization> {
    m.mode = MaterializeMode::kFull;
    m.why = std::move(why);
    SLUICE_ASSIGN_OR_RETURN(m.result, ReplayAll(std::move(v), view.name, lake, threads));
    m.entities = static_cast<std::int64_t>(m.result.states.heads.size());
    m.new_entities = m.entities;
    return std::move(m);
  };
  if (!stored) return full("");
  m.previous = stored->source_version;
  if (force) return full("");  // asked for: no reason to report
  if (stored->encoding_version != kStateEncoding) {
    return full("the store holds state encoding " + std::to_string(stored->encoding_version) +
                ", this sluice writes " + std::to_string(kStateEncoding));
  }
  FeatureViewPlan& plan = v.plan;
  const lake::Manifest* source = &v.source;
  if (plan.definition_hash != stored->definition_hash) {
    return full("the view's definition changed since the last materialization");
  }
  if (source->id == stored->source_version) {
    m.mode = MaterializeMode::kUnchanged;
    m.result.plan = std::move(plan);
    m.result.source = *source;
    m.result.newest_event = stored->newest_event;
    m.entities = stored->entities;
    return m;
  }
  auto previous = lake.FindVersion(stored->source_version);
  if (!previous.ok()) {
    return full("the stored source version " + ShortId(stored->source_version) +
                " is not in the lake");
  }
  std::optional<lake::Manifest> appended = AppendedPart(*previous, *source);
  if (!appended) {
    return full("source version " + ShortId(source->id) + " does not only append to " +
                ShortId(stored->source_version));
  }
  auto events = v.db.Query(EventsSql(plan, lake, *appended, 0, 1));
  if (!events.ok()) {
    return base::InvalidArgument("feature view '" + view.name + "': " + events.status().message());
  }
  ReplayCounts counts;
  std::int64_t created = 0;
  auto states = UpdateEntityStates(plan, *events, lookup, parts, &counts, &created);
  if (!states.ok()) {
    if (states.status().code() == base::StatusCode::kFailedPrecondition) {
      return full("a late event: " + states.status().message());
    }
    return std::move(states).status();
  }
  m.mode = MaterializeMode::kIncremental;
  m.result.plan = std::move(plan);
  m.result.source = *source;
  m.result.states = std::move(*states);
  m.result.counts = counts;
  m.result.newest_event = NewestEvent(m.result.plan, *events, stored->newest_event);
  m.new_entities = created;
  m.entities = stored->entities + created;
  return m;
}

}  // namespace sluice::engine
