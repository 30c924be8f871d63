#include "engine/keyed_replay.h"

#include "engine/entity_state.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <thread>
#include <unordered_map>

namespace sluice::engine {
namespace {

using types::LogicalType;

constexpr std::uint32_t kNoKey = 0xFFFFFFFFu;

// Maps entity keys to dense ids 0..n-1. A single int64 key in a compact range (the common
// case: user ids) uses a direct table; anything else a hash map over the rendered key.
class KeyIndex {
 public:
  KeyIndex(size_t key_columns, bool int_key) : key_columns_(key_columns), int_key_(int_key) {}

  void PrepareIntRange(const std::vector<const types::Column*>& columns) {
    if (!int_key_) return;
    bool any = false;
    size_t rows = 0;
    for (const auto* c : columns) {
      rows += c->size();
      for (size_t r = 0; r < c->size(); ++r) {
        if (!c->IsValid(r)) continue;
        const std::int64_t v = c->GetInt64(r);
        if (!any || v < min_) min_ = v;
        if (!any || v > max_) max_ = v;
        any = true;
      }
    }
    if (any && static_cast<std::uint64_t>(max_ - min_) < 4 * rows + 1024) {
      direct_.assign(static_cast<size_t>(max_ - min_) + 1, kNoKey);
    }
  }

  // kNoKey when a key column is NULL.
  std::uint32_t IdOf(const types::Batch& b, size_t row) {
    for (size_t k = 0; k < key_columns_; ++k) {
      if (!b.column(k).IsValid(row)) return kNoKey;
    }
    if (int_key_) {
      const std::int64_t v = b.column(0).GetInt64(row);
      if (!direct_.empty()) {
        std::uint32_t& slot = direct_[static_cast<size_t>(v - min_)];
        if (slot == kNoKey) slot = next_++;
        return slot;
      }
      auto [it, inserted] = int_ids_.try_emplace(v, next_);
      if (inserted) ++next_;
      return it->second;
    }
    std::string key;
    for (size_t k = 0; k < key_columns_; ++k) {
      key += b.column(k).ValueToString(row);
      key += '\x1f';
    }
    auto [it, inserted] = text_ids_.try_emplace(std::move(key), next_);
    if (inserted) ++next_;
    return it->second;
  }

  std::uint32_t size() const { return next_; }

 private:
  size_t key_columns_;
  bool int_key_;
  std::int64_t min_ = 0, max_ = 0;
  std::vector<std::uint32_t> direct_;
  std::unordered_map<std::int64_t, std::uint32_t> int_ids_;
  std::unordered_map<std::string, std::uint32_t> text_ids_;
  std::uint32_t next_ = 0;
};

types::Column Gather(const types::Column& src, const std::vector<std::uint32_t>& order) {
  types::Column out(src.type());
  const size_t n = order.size();
  out.Reserve(n);
  if (src.type() == LogicalType::kString) {
    for (auto i : order) {
      if (src.IsValid(i)) {
        out.AppendString(src.GetString(i));
      } else {
        out.AppendNull();
      }
    }
    return out;
  }
  const size_t width = types::FixedWidth(src.type());
  std::vector<std::uint8_t> data(n * width);
  std::vector<std::uint64_t> mask((n + 63) / 64, 0);
  for (size_t j = 0; j < n; ++j) {
    const auto i = order[j];
    std::memcpy(data.data() + j * width, src.data() + static_cast<size_t>(i) * width, width);
    if (src.IsValid(i)) mask[j / 64] |= std::uint64_t{1} << (j % 64);
  }
  out.AppendFixedRaw(data.data(), mask.data(), n);
  return out;
}

// Stable counting sort of rows by key id: returns the row order and per-key [begin, end).
void GroupByKey(const std::vector<std::uint32_t>& ids, std::uint32_t keys,
                std::vector<std::uint32_t>& order, std::vector<std::uint32_t>& begin) {
  begin.assign(static_cast<size_t>(keys) + 1, 0);
  for (auto id : ids) {
    if (id != kNoKey) ++begin[id + 1];
  }
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  order.assign(begin.back(), 0);
  std::vector<std::uint32_t> next(begin.begin(), begin.end() - 1);
  for (std::uint32_t r = 0; r < ids.size(); ++r) {
    if (ids[r] != kNoKey) order[next[ids[r]]++] = r;
  }
}

// Events grouped by entity (dense ids) and ordered by time within each.
struct GroupedEvents {
  EventLog log;
  std::vector<std::uint32_t> begin;      // per key id: first event; begin[keys] = end
  std::vector<std::uint32_t> first_row;  // per key id: an input row holding the key
};

void GroupEvents(const FeatureViewPlan& plan, const types::Batch& events,
                 const std::vector<std::uint32_t>& event_ids, std::uint32_t keys,
                 GroupedEvents& g) {
  const size_t ts_col = plan.entity_keys.size();
  const types::Column& ets = events.column(ts_col);
  std::vector<std::uint32_t> order;
  GroupByKey(event_ids, keys, order, g.begin);
  for (std::uint32_t k = 0; k < keys; ++k) {
    auto first = order.begin() + g.begin[k];
    auto last = order.begin() + g.begin[k + 1];
    auto by_time = [&](std::uint32_t a, std::uint32_t b) {
      return ets.GetTimestamp(a) < ets.GetTimestamp(b);
    };
    if (!std::is_sorted(first, last, by_time)) std::stable_sort(first, last, by_time);
  }
  g.first_row.assign(keys, 0);
  for (std::uint32_t k = 0; k < keys; ++k) {
    if (g.begin[k] < g.begin[k + 1]) g.first_row[k] = order[g.begin[k]];
  }
  g.log.ts.resize(order.size());
  for (size_t j = 0; j < order.size(); ++j)
    g.log.ts[j] = ets.GetTimestamp(order[j]);
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    g.log.inputs.push_back(Gather(events.column(ts_col + 1 + i), order));
  }
}

}  // namespace

base::Result<std::vector<FeatureValues>> ReplayAsOf(const FeatureViewPlan& plan,
                                                    const types::Batch& events,
                                                    const types::Batch& spine, int threads,
                                                    ReplayCounts* counts) {
  const size_t nkeys = plan.entity_keys.size();
  const size_t ts_col = nkeys;
  if (events.num_columns() != nkeys + 1 + plan.inputs.size() || spine.num_columns() < nkeys + 1) {
    return base::Internal("replay: events or spine do not have the planned columns");
  }
  if (events.num_rows() >= kNoKey || spine.num_rows() >= kNoKey) {
    return base::FailedPrecondition(
        "replay: more than 4 billion rows in one pass; use more partitions");
  }
  ReplayCounts local;
  ReplayCounts& c = counts ? *counts : local;
  c.events += static_cast<std::int64_t>(events.num_rows());
  c.spine_rows += static_cast<std::int64_t>(spine.num_rows());

  const bool int_key = nkeys == 1 && events.column(0).type() == LogicalType::kInt64 &&
                       spine.column(0).type() == LogicalType::kInt64;
  KeyIndex index(nkeys, int_key);
  index.PrepareIntRange({&events.column(0), &spine.column(0)});

  // Events: key ids, then grouped by entity and ordered by time within it.
  std::vector<std::uint32_t> event_ids(events.num_rows());
  const types::Column& ets = events.column(ts_col);
  for (size_t r = 0; r < events.num_rows(); ++r) {
    std::uint32_t id = index.IdOf(events, r);
    if (id == kNoKey) {
      ++c.events_null_key;
    } else if (!ets.IsValid(r)) {
      ++c.events_null_time;
      id = kNoKey;
    }
    event_ids[r] = id;
  }
  std::vector<std::uint32_t> spine_ids(spine.num_rows());
  const types::Column& sts = spine.column(ts_col);
  for (size_t r = 0; r < spine.num_rows(); ++r) {
    std::uint32_t id = index.IdOf(spine, r);
    if (id == kNoKey || !sts.IsValid(r)) {
      ++c.spine_null_key_or_time;
      id = kNoKey;
    }
    spine_ids[r] = id;
  }
  const std::uint32_t keys = index.size();

  GroupedEvents grouped;
  GroupEvents(plan, events, event_ids, keys, grouped);
  const EventLog& log = grouped.log;
  const std::vector<std::uint32_t>& event_begin = grouped.begin;

  std::vector<std::uint32_t> spine_order, spine_begin;
  GroupByKey(spine_ids, keys, spine_order, spine_begin);
  for (std::uint32_t k = 0; k < keys; ++k) {
    std::stable_sort(spine_order.begin() + spine_begin[k], spine_order.begin() + spine_begin[k + 1],
                     [&](std::uint32_t a, std::uint32_t b) {
                       return sts.GetTimestamp(a) < sts.GetTimestamp(b);
                     });
  }

  std::vector<FeatureValues> out;
  for (const auto& a : plan.aggregations)
    out.emplace_back(a.output_type, spine.num_rows());
  // Spine rows without a usable key or time get NULL features (FeatureValues start NULL), but
  // counts are 0 for an entity that has simply no history: handled by the aggregator.

  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(keys / 1024) + 1));
  auto work = [&](std::uint32_t from, std::uint32_t to) {
    EntityAggregator agg(plan, log);
    for (std::uint32_t k = from; k < to; ++k) {
      if (spine_begin[k] == spine_begin[k + 1]) continue;
      agg.Reset(event_begin[k], event_begin[k + 1]);
      for (std::uint32_t j = spine_begin[k]; j < spine_begin[k + 1]; ++j) {
        const std::uint32_t row = spine_order[j];
        const std::int64_t t = sts.GetTimestamp(row);
        agg.AdvanceTo(t);
        agg.Emit(t, row, out);
      }
    }
  };
  if (workers == 1) {
    work(0, keys);
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
      const auto from = static_cast<std::uint32_t>(static_cast<std::uint64_t>(keys) * w / workers);
      const auto to =
          static_cast<std::uint32_t>(static_cast<std::uint64_t>(keys) * (w + 1) / workers);
      pool.emplace_back(work, from, to);
    }
    for (auto& t : pool)
      t.join();
  }
  return out;
}

}  // namespace sluice::engine

namespace sluice::engine {

base::Result<std::vector<std::pair<std::string, std::string>>> BuildEntityStates(
    const FeatureViewPlan& plan, const types::Batch& events, int threads, ReplayCounts* counts) {
  const size_t nkeys = plan.entity_keys.size();
  if (events.num_columns() != nkeys + 1 + plan.inputs.size()) {
    return base::Internal("materialize: events do not have the planned columns");
  }
  if (events.num_rows() >= kNoKey) {
    return base::FailedPrecondition("materialize: more than 4 billion events in one pass");
  }
  ReplayCounts local;
  ReplayCounts& c = counts ? *counts : local;
  c.events += static_cast<std::int64_t>(events.num_rows());
  const bool int_key = nkeys == 1 && events.column(0).type() == LogicalType::kInt64;
  KeyIndex index(nkeys, int_key);
  index.PrepareIntRange({&events.column(0)});
  const types::Column& ets = events.column(nkeys);
  std::vector<std::uint32_t> ids(events.num_rows());
  for (size_t r = 0; r < events.num_rows(); ++r) {
    std::uint32_t id = index.IdOf(events, r);
    if (id == kNoKey) {
      ++c.events_null_key;
    } else if (!ets.IsValid(r)) {
      ++c.events_null_time;
      id = kNoKey;
    }
    ids[r] = id;
  }
  const std::uint32_t keys = index.size();
  GroupedEvents g;
  GroupEvents(plan, events, ids, keys, g);

  std::vector<std::pair<std::string, std::string>> out(keys);
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(keys / 1024) + 1));
  auto work = [&](std::uint32_t from, std::uint32_t to) {
    EntityAggregator agg(plan, g.log);
    for (std::uint32_t k = from; k < to; ++k) {
      const std::uint32_t begin = g.begin[k], end = g.begin[k + 1];
      if (begin == end) continue;  // a key seen only with a NULL event time
      std::vector<std::string> key_values;
      for (size_t i = 0; i < nkeys; ++i) {
        key_values.push_back(events.column(i).ValueToString(g.first_row[k]));
      }
      EntityState state;
      state.newest_event = g.log.ts[end - 1];
      agg.Reset(begin, end);
      agg.AdvanceTo(state.newest_event);
      state.lifetime = agg.lifetime();
      // Keep the events a read at newest_event or later can still see: those inside the
      // longest window counted back from the newest event.
      std::uint32_t lo = end;
      if (plan.max_window > 0) {
        lo = begin;
        while (lo < end && g.log.ts[lo] <= state.newest_event - plan.max_window)
          ++lo;
      }
      std::vector<std::uint32_t> rows;
      for (std::uint32_t e = lo; e < end; ++e)
        rows.push_back(e);
      state.events.ts.assign(g.log.ts.begin() + lo, g.log.ts.begin() + end);
      for (const auto& col : g.log.inputs)
        state.events.inputs.push_back(Gather(col, rows));
      out[k] = {EntityKeyBytes(key_values), EncodeState(plan, state)};
    }
  };
  if (workers == 1) {
    work(0, keys);
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back(
          work, static_cast<std::uint32_t>(static_cast<std::uint64_t>(keys) * w / workers),
          static_cast<std::uint32_t>(static_cast<std::uint64_t>(keys) * (w + 1) / workers));
    }
    for (auto& t : pool)
      t.join();
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const auto& p) { return p.second.empty(); }),
            out.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sluice::engine
