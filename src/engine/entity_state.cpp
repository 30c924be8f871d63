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
      c.AppendString(r.Str());
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

// Empties `state` for the plan, keeping its buffers: what a default EntityState holds, with
// one (empty) column per input and one accumulator per aggregation.
void ResetState(const FeatureViewPlan& plan, EntityState& state) {
  state.newest_event = 0;
  state.events.ts.clear();
  if (state.events.inputs.size() != plan.inputs.size()) {
    state.events.inputs.clear();
    for (const auto& in : plan.inputs)
      state.events.inputs.emplace_back(in.type);
  }
  for (auto& c : state.events.inputs)
    c.Clear();
  // Tiles are not cleared: a decode resizes them and overwrites each, keeping their buffers.
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

}  // namespace

std::string EncodeState(const FeatureViewPlan& plan, const EntityState& state) {
  StateWriter w;
  w.U8(kStateEncoding);
  w.I64(state.newest_event);
  const size_t n = state.events.ts.size();
  w.U32(static_cast<std::uint32_t>(n));
  for (size_t e = 0; e < n; ++e) {
    w.I64(state.events.ts[e]);
    for (size_t i = 0; i < plan.inputs.size(); ++i)
      WriteColumnValue(w, state.events.inputs[i], e);
  }
  w.U32(static_cast<std::uint32_t>(state.tiles.size()));
  for (const Tile& tile : state.tiles) {
    w.I64(tile.index);
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      if (plan.aggregations[a].window) tile.states[a]->Encode(w);
    }
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
  const std::uint32_t n = r.Count(8 + plan.inputs.size());
  state.events.ts.reserve(n);
  for (std::uint32_t e = 0; e < n && r.ok(); ++e) {
    state.events.ts.push_back(r.I64());
    for (auto& c : state.events.inputs)
      ReadColumnValue(r, c);
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
    tile.states.resize(plan.aggregations.size());
    for (size_t a = 0; a < plan.aggregations.size() && r.ok(); ++a) {
      if (!plan.aggregations[a].window) continue;
      if (!tile.states[a]) tile.states[a] = MakeTileState(plan, plan.aggregations[a]);
      tile.states[a]->Decode(r);
    }
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
  for (size_t e = 1; e < state.events.ts.size(); ++e) {
    if (state.events.ts[e] < state.events.ts[e - 1]) {
      return base::Corruption("online state: events out of order");
    }
  }
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

size_t FirstKeptEvent(const FeatureViewPlan& plan, const std::vector<std::int64_t>& ts,
                      size_t begin, size_t end) {
  return IsTiled(plan) ? end : FirstWindowEvent(plan, ts, begin, end);
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
  if ((!state.events.ts.empty() || !state.tiles.empty()) && t < state.newest_event) {
    return base::InvalidArgument("the online state already holds events after " +
                                 base::FormatTimestampMicros(t) +
                                 ": online reads answer as of its newest event or later");
  }
  return base::Status::Ok();
}

// Moves a restored aggregator to t and writes every aggregation at `row` of `out`.
void EmitRestored(const FeatureViewPlan& plan, std::int64_t newest_event, EntityAggregator& agg,
                  std::int64_t t, size_t row, std::vector<FeatureValues>& out) {
  agg.AdvanceTo(t);
  if (plan.ttl && newest_event <= t - *plan.ttl) {
    for (size_t a = 0; a < plan.aggregations.size(); ++a)
      out[a].SetNull(row);
    return;
  }
  // TTL was decided from newest_event above: the stored window may hold no event at all (a view
  // with only lifetime aggregations) without the entity being expired.
  agg.EmitIgnoringTtl(t, row, out);
}

}  // namespace

base::Status EvaluateState(const FeatureViewPlan& plan, const EntityState& state, std::int64_t t,
                           size_t row, std::vector<FeatureValues>& out) {
  SLUICE_RETURN_IF_ERROR(CheckReadTime(state, t));
  EntityAggregator agg(plan, state.events);
  LifetimeStates lifetime;
  for (const auto& s : state.lifetime)
    lifetime.push_back(s ? s->Clone() : nullptr);
  agg.RestoreExchange(0, state.events.ts.size(), lifetime);
  LifetimeStates sums;
  EmitRestored(plan, state.newest_event, agg, t, row, out);
  if (IsTiled(plan) && !(plan.ttl && state.newest_event <= t - *plan.ttl)) {
    EmitTiles(plan, state.tiles, t, row, sums, out);
  }
  return base::Status::Ok();
}

StateEvaluator::StateEvaluator(const FeatureViewPlan& plan)
    : plan_(plan), aggregator_(plan, state_.events) {
  values_.reserve(plan.aggregations.size());
  for (const auto& a : plan.aggregations)
    values_.emplace_back(a.output_type, 1);
}

base::Status StateEvaluator::Evaluate(std::optional<std::string_view> bytes, std::int64_t t) {
  if (bytes) {
    SLUICE_RETURN_IF_ERROR(DecodeStateInto(plan_, *bytes, state_));
  } else {
    ResetState(plan_, state_);
    state_.tiles.clear();
    if (plan_.ttl) {
      // No event is within any TTL; not evaluated, as OnlineView reads never did.
      for (auto& v : values_)
        v.SetNull(0);
      return base::Status::Ok();
    }
  }
  SLUICE_RETURN_IF_ERROR(CheckReadTime(state_, t));
  // The accumulators move into the aggregator, and its previous ones (the last read's) come
  // back to be decoded into next time: no copy, no allocation.
  aggregator_.RestoreExchange(0, state_.events.ts.size(), state_.lifetime);
  EmitRestored(plan_, state_.newest_event, aggregator_, t, 0, values_);
  if (IsTiled(plan_) && !(plan_.ttl && state_.newest_event <= t - *plan_.ttl)) {
    EmitTiles(plan_, state_.tiles, t, 0, tile_sums_, values_);
  }
  return base::Status::Ok();
}

}  // namespace sluice::engine
