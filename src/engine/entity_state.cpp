#include "engine/entity_state.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace sluice::engine {

using types::LogicalType;

namespace {

void WriteColumnValue(StateWriter& w, const types::Column& c, size_t row) {
  w.U8(c.IsValid(row) ? 1 : 0);
  if (!c.IsValid(row)) return;
  switch (c.type()) {
    case LogicalType::kString:
      w.Str(c.GetString(row));
      break;
    case LogicalType::kDouble:
      w.F64(c.GetDouble(row));
      break;
    case LogicalType::kBool:
      w.U8(c.GetBool(row) ? 1 : 0);
      break;
    case LogicalType::kDate:
      w.I64(c.GetDate(row));
      break;
    default:
      w.I64(c.GetInt64(row));
      break;
  }
}

void ReadColumnValue(StateReader& r, types::Column& c) {
  if (r.U8() == 0) {
    c.AppendNull();
    return;
  }
  switch (c.type()) {
    case LogicalType::kString:
      c.AppendString(r.View());
      break;
    case LogicalType::kDouble:
      c.AppendDouble(r.F64());
      break;
    case LogicalType::kBool:
      c.AppendBool(r.U8() != 0);
      break;
    case LogicalType::kDate:
      c.AppendDate(static_cast<std::int32_t>(r.I64()));
      break;
    case LogicalType::kTimestamp:
      c.AppendTimestamp(r.I64());
      break;
    case LogicalType::kInt64:
      c.AppendInt64(r.I64());
      break;
  }
}

void WriteEvents(StateWriter& w, const FeatureViewPlan& plan, const EventLog& log) {
  const size_t n = log.ts.size();
  w.U32(static_cast<std::uint32_t>(n));
  for (size_t e = 0; e < n; ++e) {
    w.I64(log.ts[e]);
    for (size_t i = 0; i < plan.inputs.size(); ++i)
      WriteColumnValue(w, log.inputs[i], e);
  }
}

// Reads what WriteEvents wrote into `log` (cleared first, buffers kept).
void ReadEvents(StateReader& r, const FeatureViewPlan& plan, EventLog& log) {
  log.ts.clear();
  if (log.inputs.size() != plan.inputs.size()) {
    log.inputs.clear();
    for (const auto& in : plan.inputs)
      log.inputs.emplace_back(in.type);
  }
  for (auto& c : log.inputs)
    c.Clear();
  const std::uint32_t n = r.Count(8 + plan.inputs.size());
  log.ts.reserve(n);
  for (std::uint32_t e = 0; e < n && r.ok(); ++e) {
    log.ts.push_back(r.I64());
    for (auto& c : log.inputs)
      ReadColumnValue(r, c);
  }
  for (size_t e = 1; e < log.ts.size() && r.ok(); ++e) {
    if (log.ts[e] < log.ts[e - 1]) r.Fail();
  }
}

// Partial states of the windowed aggregations (MakeTileState), in aggregation order.
void EncodePartials(StateWriter& w, const FeatureViewPlan& plan, const LifetimeStates& states) {
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    if (plan.aggregations[a].window) states[a]->Encode(w);
  }
}

void DecodePartials(StateReader& r, const FeatureViewPlan& plan, LifetimeStates& states) {
  states.resize(plan.aggregations.size());
  for (size_t a = 0; a < plan.aggregations.size() && r.ok(); ++a) {
    if (!plan.aggregations[a].window) continue;
    if (states[a]) {
      states[a]->Clear();
    } else {
      states[a] = MakeTileState(plan, plan.aggregations[a]);
    }
    states[a]->Decode(r);
  }
}

LifetimeStates NewPartials(const FeatureViewPlan& plan) {
  LifetimeStates states(plan.aggregations.size());
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    if (plan.aggregations[a].window) states[a] = MakeTileState(plan, plan.aggregations[a]);
  }
  return states;
}

// Empties `state` for the plan, keeping its buffers: what a default EntityState holds, with
// one (empty) column per input and one accumulator per aggregation.
void ResetState(const FeatureViewPlan& plan, EntityState& state) {
  state.newest_event = 0;
  state.open_chunk = 0;
  state.events.ts.clear();
  if (state.events.inputs.size() != plan.inputs.size()) {
    state.events.inputs.clear();
    for (const auto& in : plan.inputs)
      state.events.inputs.emplace_back(in.type);
  }
  for (auto& c : state.events.inputs)
    c.Clear();
  // Tiles and groups are not cleared: a decode resizes them and overwrites each, keeping
  // their buffers.
  state.lifetime.resize(plan.aggregations.size());
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    if (plan.aggregations[a].window) {
      state.lifetime[a].reset();
    } else if (state.lifetime[a]) {
      state.lifetime[a]->Clear();
    } else {
      state.lifetime[a] = MakeStoredState(plan, plan.aggregations[a]);
    }
  }
}

std::string PartName(char kind, std::uint64_t id) {
  std::string name(1, kind);
  for (int shift = 56; shift >= 0; shift -= 8)
    name.push_back(static_cast<char>((id >> shift) & 0xff));
  return name;
}

// One sealed chunk's entry in its group's part.
struct ChunkEntry {
  std::uint64_t chunk = 0;
  std::int64_t first_ts = 0, last_ts = 0;
  std::uint32_t events = 0;
  std::string_view partials;  // EncodePartials bytes, viewed in the part
};

// The entries of a group part; kCorruption naming `what` if it is not one.
base::Status ParseGroupPart(std::string_view bytes, std::vector<ChunkEntry>& entries,
                            const std::string& what) {
  entries.clear();
  StateReader r(bytes);
  if (r.U8() != kStateEncoding) {
    return base::Corruption(what + ": not a group part of state encoding " +
                            std::to_string(kStateEncoding));
  }
  while (r.ok() && !r.done()) {
    ChunkEntry e;
    e.chunk = r.U64();
    e.first_ts = r.I64();
    e.last_ts = r.I64();
    e.events = r.U32();
    e.partials = r.View();
    if (!r.ok() || e.first_ts > e.last_ts ||
        (!entries.empty() &&
         (e.chunk != entries.back().chunk + 1 || e.first_ts < entries.back().last_ts))) {
      return base::Corruption(what + ": truncated or malformed");
    }
    entries.push_back(e);
  }
  if (!r.ok()) return base::Corruption(what + ": truncated or malformed");
  return base::Status::Ok();
}

}  // namespace

std::string ChunkPartName(std::uint64_t chunk) {
  return PartName('c', chunk);
}

std::string GroupPartName(std::uint64_t group) {
  return PartName('g', group);
}

std::string EncodeState(const FeatureViewPlan& plan, const EntityState& state) {
  StateWriter w;
  // Room for the open chunk's events (fixed-width values; strings may grow it once more).
  w.out().reserve(64 + state.events.ts.size() * (8 + 9 * plan.inputs.size()));
  w.U8(kStateEncoding);
  w.I64(state.newest_event);
  WriteEvents(w, plan, state.events);
  w.U64(state.open_chunk);
  w.U32(static_cast<std::uint32_t>(state.groups.size()));
  for (const ChunkGroup& g : state.groups) {
    w.U64(g.id);
    w.U32(g.chunks);
    w.I64(g.first_ts);
    w.I64(g.last_ts);
    EncodePartials(w, plan, g.states);
  }
  w.U32(static_cast<std::uint32_t>(state.tiles.size()));
  for (const Tile& tile : state.tiles) {
    w.I64(tile.index);
    EncodePartials(w, plan, tile.states);
  }
  std::uint32_t lifetime_count = 0;
  for (const auto& a : plan.aggregations)
    lifetime_count += a.window ? 0 : 1;
  w.U32(lifetime_count);
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    if (plan.aggregations[a].window) continue;
    w.U32(static_cast<std::uint32_t>(a));
    state.lifetime[a]->Encode(w);
  }
  return w.Take();
}

base::Result<EntityState> DecodeState(const FeatureViewPlan& plan, std::string_view bytes) {
  EntityState state;
  SLUICE_RETURN_IF_ERROR(DecodeStateInto(plan, bytes, state));
  return state;
}

base::Status DecodeStateInto(const FeatureViewPlan& plan, std::string_view bytes,
                             EntityState& state) {
  StateReader r(bytes);
  const std::uint8_t version = r.U8();
  if (!r.ok()) return base::Corruption("online state: empty");
  if (version != kStateEncoding) {
    return base::Corruption("online state: encoding " + std::to_string(version) +
                            " is not supported (this sluice writes " +
                            std::to_string(kStateEncoding) + "); run `sluice materialize`");
  }
  ResetState(plan, state);
  state.newest_event = r.I64();
  ReadEvents(r, plan, state.events);
  if (!IsChunked(plan) && !state.events.ts.empty()) {
    return base::Corruption("online state: events in the state of a view that keeps none");
  }
  if (state.events.ts.size() > kChunkEvents) {
    return base::Corruption("online state: more events than a chunk holds");
  }
  state.open_chunk = r.U64();
  const std::uint32_t groups = r.Count(28);
  if (groups > 0 && !IsChunked(plan)) {
    return base::Corruption("online state: chunk groups in the state of a view without them");
  }
  state.groups.resize(groups);
  for (std::uint32_t i = 0; i < groups && r.ok(); ++i) {
    ChunkGroup& g = state.groups[i];
    g.id = r.U64();
    g.chunks = r.U32();
    g.first_ts = r.I64();
    g.last_ts = r.I64();
    if (g.chunks == 0 || g.chunks > kGroupChunks || g.first_ts > g.last_ts ||
        g.id * kGroupChunks + g.chunks > state.open_chunk ||
        (i > 0 && g.id <= state.groups[i - 1].id)) {
      return base::Corruption("online state: malformed chunk group");
    }
    DecodePartials(r, plan, g.states);
  }
  const std::uint32_t tiles = r.Count(8);
  if (tiles > 0 && !IsTiled(plan)) {
    return base::Corruption("online state: tiles in the state of a view without a tile");
  }
  state.tiles.resize(tiles);
  for (std::uint32_t i = 0; i < tiles && r.ok(); ++i) {
    Tile& tile = state.tiles[i];
    tile.index = r.I64();
    if (i > 0 && tile.index <= state.tiles[i - 1].index) {
      return base::Corruption("online state: tiles out of order");
    }
    DecodePartials(r, plan, tile.states);
  }
  const std::uint32_t lifetime_count = r.Count(4);
  for (std::uint32_t i = 0; i < lifetime_count && r.ok(); ++i) {
    const std::uint32_t a = r.U32();
    if (a >= plan.aggregations.size() || plan.aggregations[a].window) {
      return base::Corruption("online state: lifetime accumulator for aggregation " +
                              std::to_string(a) + " does not fit the view's definition");
    }
    state.lifetime[a]->Decode(r);
  }
  if (!r.ok()) return base::Corruption("online state: truncated or malformed");
  if (!r.done()) return base::Corruption("online state: unexpected bytes after the end");
  return base::Status::Ok();
}

namespace {

// Chunked views: the open chunk (kChunkEvents events) becomes a sealed chunk: a part of its
// own, an entry in its group's part (`group_bytes`, loaded or started here) and its partial
// states added to the head's group.
base::Status SealOpenChunk(const FeatureViewPlan& plan, EntityState& state,
                           const GroupFetch* stored_group,
                           std::optional<std::pair<std::uint64_t, std::string>>& group_bytes,
                           std::map<std::string, std::optional<std::string>>& parts) {
  const std::uint64_t chunk = state.open_chunk;
  const std::uint64_t group = chunk / kGroupChunks;
  const EventLog& events = state.events;
  const size_t n = events.ts.size();
  LifetimeStates partials = NewPartials(plan);
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    if (!partials[a]) continue;
    for (size_t e = 0; e < n; ++e)
      partials[a]->Update(events, e);
  }
  StateWriter raw;
  raw.U8(kStateEncoding);
  WriteEvents(raw, plan, events);
  parts[ChunkPartName(chunk)] = raw.Take();

  if (group_bytes && group_bytes->first != group) {
    parts[GroupPartName(group_bytes->first)] = std::move(group_bytes->second);
    group_bytes.reset();
  }
  const bool known = !state.groups.empty() && state.groups.back().id == group;
  if (!group_bytes) {
    std::string bytes(1, static_cast<char>(kStateEncoding));
    if (known) {
      if (stored_group == nullptr) return base::Internal("online state: a group part is missing");
      SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> stored, (*stored_group)(group));
      if (!stored) {
        return base::Corruption("online state: chunk group " + std::to_string(group) +
                                " is named by the state but not stored");
      }
      bytes = std::move(*stored);
    }
    group_bytes.emplace(group, std::move(bytes));
  }
  StateWriter entry;
  entry.U64(chunk);
  entry.I64(events.ts.front());
  entry.I64(events.ts.back());
  entry.U32(static_cast<std::uint32_t>(n));
  StateWriter partial_bytes;
  EncodePartials(partial_bytes, plan, partials);
  entry.Str(partial_bytes.out());
  group_bytes->second += entry.out();

  if (known) {
    ChunkGroup& g = state.groups.back();
    ++g.chunks;
    g.last_ts = events.ts.back();
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      if (partials[a]) g.states[a]->Combine(*partials[a]);
    }
  } else {
    ChunkGroup& g = state.groups.emplace_back();
    g.id = group;
    g.chunks = 1;
    g.first_ts = events.ts.front();
    g.last_ts = events.ts.back();
    g.states = std::move(partials);
  }
  state.open_chunk = chunk + 1;
  state.events.ts.clear();
  for (auto& c : state.events.inputs)
    c.Clear();
  return base::Status::Ok();
}

}  // namespace

base::Status ApplyEvents(const FeatureViewPlan& plan, const EventLog& log, size_t begin, size_t end,
                         EntityState& state, const GroupFetch* stored_group,
                         std::map<std::string, std::optional<std::string>>& parts) {
  if (begin == end) return base::Status::Ok();
  state.lifetime.resize(plan.aggregations.size());
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    if (plan.aggregations[a].window) continue;
    if (!state.lifetime[a]) state.lifetime[a] = MakeStoredState(plan, plan.aggregations[a]);
    StoredState& s = *state.lifetime[a];
    for (size_t e = begin; e < end; ++e)
      s.Update(log, e);
  }
  state.newest_event = log.ts[end - 1];
  if (IsTiled(plan)) {
    AddToTiles(plan, log, FirstWindowEvent(plan, log.ts, begin, end), end, state.tiles);
    return base::Status::Ok();
  }
  if (!IsChunked(plan)) return base::Status::Ok();
  if (state.events.inputs.size() != plan.inputs.size()) {
    state.events.inputs.clear();
    for (const auto& in : plan.inputs)
      state.events.inputs.emplace_back(in.type);
  }
  std::optional<std::pair<std::uint64_t, std::string>> group_bytes;
  for (size_t e = begin; e < end; ++e) {
    if (state.events.ts.size() == kChunkEvents) {
      SLUICE_RETURN_IF_ERROR(SealOpenChunk(plan, state, stored_group, group_bytes, parts));
    }
    state.events.ts.push_back(log.ts[e]);
    for (size_t i = 0; i < plan.inputs.size(); ++i)
      state.events.inputs[i].AppendRowOf(log.inputs[i], e);
  }
  if (group_bytes) parts[GroupPartName(group_bytes->first)] = std::move(group_bytes->second);
  // A complete group whose every event is at or before newest - longest window is seen by no
  // read from now on. Only complete ones go, so which groups exist does not depend on how the
  // events were split into updates: an update and a full replay store the same parts.
  const std::int64_t cut = WindowCut(plan, state.newest_event, plan.max_window);
  size_t dead = 0;
  while (dead < state.groups.size()) {
    const ChunkGroup& g = state.groups[dead];
    if (g.last_ts > cut || state.open_chunk < (g.id + 1) * kGroupChunks) break;
    auto drop = [&](std::string name) {
      if (stored_group != nullptr) {
        parts[std::move(name)] = std::nullopt;
      } else {
        parts.erase(name);
      }
    };
    drop(GroupPartName(g.id));
    for (std::uint64_t c = g.id * kGroupChunks; c < g.id * kGroupChunks + g.chunks; ++c)
      drop(ChunkPartName(c));
    ++dead;
  }
  state.groups.erase(state.groups.begin(),
                     state.groups.begin() + static_cast<std::ptrdiff_t>(dead));
  return base::Status::Ok();
}

std::string EntityKeyBytes(const std::vector<std::string>& key_values) {
  std::string out;
  for (size_t i = 0; i < key_values.size(); ++i) {
    if (i) out += '\x1f';
    out += key_values[i];
  }
  return out;
}

size_t FirstWindowEvent(const FeatureViewPlan& plan, const std::vector<std::int64_t>& ts,
                        size_t begin, size_t end) {
  if (plan.max_window <= 0 || begin == end) return end;
  const std::int64_t cut = WindowCut(plan, ts[end - 1], plan.max_window);
  size_t lo = begin;
  while (lo < end && ts[lo] <= cut)
    ++lo;
  return lo;
}

void AddToTiles(const FeatureViewPlan& plan, const EventLog& log, size_t begin, size_t end,
                std::vector<Tile>& tiles) {
  if (begin == end || plan.max_window <= 0 || !IsTiled(plan)) return;
  const std::int64_t tile = *plan.tile;
  for (size_t e = begin; e < end; ++e) {
    // Tile k is (k tile, (k + 1) tile]: floor((ts - 1) / tile).
    const std::int64_t x = log.ts[e] - 1;
    const std::int64_t k = x / tile - (x % tile < 0 ? 1 : 0);
    if (tiles.empty() || tiles.back().index != k) {
      Tile& t = tiles.emplace_back();
      t.index = k;
      t.states.resize(plan.aggregations.size());
      for (size_t a = 0; a < plan.aggregations.size(); ++a) {
        if (plan.aggregations[a].window) t.states[a] = MakeTileState(plan, plan.aggregations[a]);
      }
    }
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      if (plan.aggregations[a].window) tiles.back().states[a]->Update(log, e);
    }
  }
  // A read at t >= newest sees tiles from WindowCut(t, longest window) on (a tile boundary).
  const std::int64_t cut = WindowCut(plan, log.ts[end - 1], plan.max_window);
  size_t drop = 0;
  while (drop < tiles.size() && tiles[drop].index * tile < cut)
    ++drop;
  tiles.erase(tiles.begin(), tiles.begin() + static_cast<std::ptrdiff_t>(drop));
}

namespace {

// Tiled views: each windowed aggregation as of t from the tiles in its window, at `row`.
void EmitTiles(const FeatureViewPlan& plan, const std::vector<Tile>& tiles, std::int64_t t,
               size_t row, LifetimeStates& sums, std::vector<FeatureValues>& out) {
  sums.resize(plan.aggregations.size());
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    const AggregationPlan& agg = plan.aggregations[a];
    if (!agg.window) continue;
    if (!sums[a]) sums[a] = MakeTileState(plan, agg);
    sums[a]->Clear();
    const std::int64_t cut = WindowCut(plan, t, *agg.window);
    auto it = std::lower_bound(tiles.begin(), tiles.end(), cut, [&](const Tile& x, std::int64_t c) {
      return x.index * *plan.tile < c;
    });
    for (; it != tiles.end(); ++it)
      sums[a]->Combine(*it->states[a]);
    sums[a]->Finalize(row, out[a]);
  }
}

base::Status CheckReadTime(const EntityState& state, std::int64_t t) {
  if ((!state.events.ts.empty() || !state.tiles.empty() || !state.groups.empty()) &&
      t < state.newest_event) {
    return base::InvalidArgument("the online state already holds events after " +
                                 base::FormatTimestampMicros(t) +
                                 ": online reads answer as of its newest event or later");
  }
  return base::Status::Ok();
}

// Where window w's old edge (cut) falls in a chunked state, and what a read needs for it.
struct Edge {
  std::int64_t window = 0;
  std::int64_t cut = 0;
  size_t group = 0;         // the first group with an event after the cut (or groups.size())
  bool group_part = false;  // the cut falls inside that group: its part is read
  std::vector<ChunkEntry> entries;
  size_t entry = 0;         // the first entry with an event after the cut
  bool chunk_part = false;  // the cut falls inside that chunk: its raw events are read
  std::string group_bytes, chunk_bytes;
};

}  // namespace

base::Status EvaluateState(const FeatureViewPlan& plan, const EntityState& state, std::int64_t t,
                           size_t row, std::vector<FeatureValues>& out, std::string_view entity,
                           const PartLookup& parts) {
  StateEvaluator evaluator(plan);
  SLUICE_RETURN_IF_ERROR(evaluator.EvaluateDecoded(state, t, entity, parts));
  for (size_t a = 0; a < plan.aggregations.size(); ++a)
    out[a].CopyRow(evaluator.values()[a], 0, row);
  return base::Status::Ok();
}

StateEvaluator::StateEvaluator(const FeatureViewPlan& plan) : plan_(plan) {
  values_.reserve(plan.aggregations.size());
  for (const auto& a : plan.aggregations)
    values_.emplace_back(a.output_type, 1);
  sums_ = NewPartials(plan);
  scratch_ = NewPartials(plan);
}

base::Status StateEvaluator::Evaluate(std::optional<std::string_view> bytes, std::int64_t t,
                                      std::string_view entity, const PartLookup& parts) {
  if (bytes) {
    SLUICE_RETURN_IF_ERROR(DecodeStateInto(plan_, *bytes, state_));
  } else {
    ResetState(plan_, state_);
    state_.tiles.clear();
    state_.groups.clear();
    if (plan_.ttl) {
      // No event is within any TTL; not evaluated, as OnlineView reads never did.
      newest_event_ = 0;
      for (auto& v : values_)
        v.SetNull(0);
      return base::Status::Ok();
    }
  }
  return EvaluateDecoded(state_, t, entity, parts);
}

base::Status StateEvaluator::EvaluateDecoded(const EntityState& state, std::int64_t t,
                                             std::string_view entity, const PartLookup& parts) {
  newest_event_ = state.newest_event;
  SLUICE_RETURN_IF_ERROR(CheckReadTime(state, t));
  // The TTL is decided from newest_event: the state may hold no event at all (a view with only
  // lifetime aggregations) without the entity being expired.
  if (plan_.ttl && state.newest_event <= t - *plan_.ttl) {
    for (auto& v : values_)
      v.SetNull(0);
    return base::Status::Ok();
  }
  for (size_t a = 0; a < plan_.aggregations.size(); ++a) {
    if (!plan_.aggregations[a].window) state.lifetime[a]->Finalize(0, values_[a]);
  }
  if (IsTiled(plan_)) {
    EmitTiles(plan_, state.tiles, t, 0, sums_, values_);
  } else if (IsChunked(plan_)) {
    SLUICE_RETURN_IF_ERROR(EvaluateChunked(state, t, entity, parts));
  }
  return base::Status::Ok();
}

base::Status StateEvaluator::EvaluateChunked(const EntityState& state, std::int64_t t,
                                             std::string_view entity, const PartLookup& parts) {
  // One edge per distinct window length.
  std::vector<Edge> edges;
  for (const auto& agg : plan_.aggregations) {
    if (!agg.window) continue;
    bool seen = false;
    for (const Edge& e : edges)
      seen = seen || e.window == *agg.window;
    if (seen) continue;
    Edge& e = edges.emplace_back();
    e.window = *agg.window;
    e.cut = WindowCut(plan_, t, e.window);
    auto it =
        std::upper_bound(state.groups.begin(), state.groups.end(), e.cut,
                         [](std::int64_t cut, const ChunkGroup& g) { return cut < g.last_ts; });
    e.group = static_cast<size_t>(it - state.groups.begin());
    e.group_part = it != state.groups.end() && it->first_ts <= e.cut;
  }
  // The group parts the edges fall in, then the chunks: two reads at most, each one round trip.
  auto read = [&](const std::vector<store::PartKey>& keys, auto&& take) -> base::Status {
    if (keys.empty()) return base::Status::Ok();
    if (!parts) {
      return base::FailedPrecondition("online state: this read needs the entity's stored parts");
    }
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> got, parts(keys));
    if (got.size() != keys.size()) return base::Internal("online state: parts read short");
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!got[i]) {
        // Parts are read after the head: an update in between may have deleted an expired one.
        return base::Unavailable(
            "online state: a part the state names is not stored (removed by an update since "
            "the state was read, or lost): read the entity again");
      }
      SLUICE_RETURN_IF_ERROR(take(i, std::move(*got[i])));
    }
    return base::Status::Ok();
  };
  std::vector<store::PartKey> keys;
  std::vector<Edge*> waiting;
  for (Edge& e : edges) {
    if (!e.group_part) continue;
    keys.push_back({std::string(entity), GroupPartName(state.groups[e.group].id)});
    waiting.push_back(&e);
  }
  SLUICE_RETURN_IF_ERROR(read(keys, [&](size_t i, std::string bytes) -> base::Status {
    Edge& e = *waiting[i];
    e.group_bytes = std::move(bytes);
    SLUICE_RETURN_IF_ERROR(
        ParseGroupPart(e.group_bytes, e.entries, "online state: chunk group part"));
    auto it =
        std::upper_bound(e.entries.begin(), e.entries.end(), e.cut,
                         [](std::int64_t cut, const ChunkEntry& c) { return cut < c.last_ts; });
    // A group part only grows: entries past the head's count were sealed by an update after
    // the head was read, and are not part of the state it describes.
    const size_t known = state.groups[e.group].chunks;
    if (e.entries.size() < known) {
      return base::Corruption("online state: a chunk group part does not match the state");
    }
    e.entries.resize(known);
    it = std::upper_bound(e.entries.begin(), e.entries.end(), e.cut,
                          [](std::int64_t cut, const ChunkEntry& c) { return cut < c.last_ts; });
    if (it == e.entries.end()) {
      return base::Corruption("online state: a chunk group part does not match the state");
    }
    e.entry = static_cast<size_t>(it - e.entries.begin());
    e.chunk_part = it->first_ts <= e.cut;
    return base::Status::Ok();
  }));
  keys.clear();
  waiting.clear();
  for (Edge& e : edges) {
    if (!e.chunk_part) continue;
    keys.push_back({std::string(entity), ChunkPartName(e.entries[e.entry].chunk)});
    waiting.push_back(&e);
  }
  SLUICE_RETURN_IF_ERROR(read(keys, [&](size_t i, std::string bytes) -> base::Status {
    waiting[i]->chunk_bytes = std::move(bytes);
    return base::Status::Ok();
  }));

  for (Edge& e : edges) {
    for (size_t a = 0; a < plan_.aggregations.size(); ++a) {
      if (plan_.aggregations[a].window == e.window) sums_[a]->Clear();
    }
    auto for_window = [&](auto&& f) {
      for (size_t a = 0; a < plan_.aggregations.size(); ++a) {
        if (plan_.aggregations[a].window == e.window) f(a);
      }
    };
    // Oldest first: the events after the cut in the edge chunk, the later chunks of its group,
    // the later groups, the open chunk (every partial state combines later events last).
    if (e.group_part) {
      size_t from = e.entry;
      if (e.chunk_part) {
        StateReader r(e.chunk_bytes);
        if (r.U8() != kStateEncoding) return base::Corruption("online state: bad chunk part");
        ReadEvents(r, plan_, edge_events_);
        if (!r.ok() || !r.done() || edge_events_.ts.size() != e.entries[e.entry].events) {
          return base::Corruption("online state: chunk part truncated or malformed");
        }
        size_t lo = static_cast<size_t>(
            std::upper_bound(edge_events_.ts.begin(), edge_events_.ts.end(), e.cut) -
            edge_events_.ts.begin());
        for_window([&](size_t a) {
          for (size_t x = lo; x < edge_events_.ts.size(); ++x)
            sums_[a]->Update(edge_events_, x);
        });
        ++from;
      }
      for (size_t x = from; x < e.entries.size(); ++x) {
        StateReader r(e.entries[x].partials);
        DecodePartials(r, plan_, scratch_);
        if (!r.ok() || !r.done()) return base::Corruption("online state: malformed chunk entry");
        for_window([&](size_t a) { sums_[a]->Combine(*scratch_[a]); });
      }
    }
    const size_t first_whole = e.group + (e.group_part ? 1 : 0);
    for (size_t g = first_whole; g < state.groups.size(); ++g)
      for_window([&](size_t a) { sums_[a]->Combine(*state.groups[g].states[a]); });
    const EventLog& open = state.events;
    size_t lo = 0;
    if (e.group == state.groups.size()) {
      lo = static_cast<size_t>(std::upper_bound(open.ts.begin(), open.ts.end(), e.cut) -
                               open.ts.begin());
    }
    for_window([&](size_t a) {
      for (size_t x = lo; x < open.ts.size(); ++x)
        sums_[a]->Update(open, x);
      sums_[a]->Finalize(0, values_[a]);
    });
  }
  return base::Status::Ok();
}

}  // namespace sluice::engine
