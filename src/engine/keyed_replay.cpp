#include "engine/keyed_replay.h"

#include "base/workers.h"
#include "engine/entity_state.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <thread>
#include <unordered_map>

namespace sluice::engine {
namespace {

using base::RunWorkers;
using types::LogicalType;

constexpr std::uint32_t kNoKey = 0xFFFFFFFFu;
// Below this many rows per thread, starting a thread costs more than it saves.
constexpr size_t kMinRowsPerWorker = size_t{1} << 16;
// An entity's spine rows are cut into pieces of at least this many (each piece sweeps the
// entity's events up to its first row again).
constexpr size_t kMinPieceRows = 512;

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int WorkersFor(int threads, size_t rows) {
  return static_cast<int>(
      std::clamp<size_t>(rows / kMinRowsPerWorker, 1, static_cast<size_t>(threads)));
}

// Runs fn(worker, from, to) on `workers` threads over [0, n) cut into contiguous ranges whose
// inner bounds are multiples of `align` (so that no two threads write one validity word). Every
// phase below computes each output element from its inputs alone, so the results do not depend
// on how the range is cut, hence not on the thread count.
template <typename Fn>
void ParallelFor(int workers, size_t n, size_t align, const Fn& fn) {
  auto bound = [&](int w) {
    if (w >= workers) return n;
    const size_t b = n / static_cast<size_t>(workers) * static_cast<size_t>(w);
    return std::min(n, b / align * align);
  };
  RunWorkers(workers, [&](int w) { fn(w, bound(w), bound(w + 1)); });
}

// Key ids [from, to) of worker w of `workers`, cut so each gets about the same number of rows
// (`rows_before(k)`: rows of keys < k, non-decreasing in k).
template <typename RowsBefore>
std::pair<std::uint32_t, std::uint32_t> KeyRange(std::uint32_t keys, int w, int workers,
                                                 const RowsBefore& rows_before) {
  const std::uint64_t total = rows_before(keys);
  auto cut = [&](int i) -> std::uint32_t {
    if (i == 0) return 0;
    if (i == workers) return keys;
    const std::uint64_t target = total * static_cast<std::uint64_t>(i) / workers;
    std::uint32_t lo = 0, hi = keys;
    while (lo < hi) {  // the first key whose preceding rows reach the target
      const std::uint32_t mid = lo + (hi - lo) / 2;
      if (rows_before(mid) < target) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  };
  return {cut(w), cut(w + 1)};
}

template <typename T>
T Load(const std::uint8_t* data, size_t row) {
  T v;
  std::memcpy(&v, data + row * sizeof(T), sizeof(T));
  return v;
}

// Maps entity keys to ids 0..size()-1. A single int64 key whose values span a compact range
// (the common case: user ids) maps to value - min, which threads can compute independently;
// anything else goes through a hash map over the rendered key, in row order.
class KeyIndex {
 public:
  KeyIndex(size_t key_columns, bool int_key) : key_columns_(key_columns), int_key_(int_key) {}

  void PrepareIntRange(const std::vector<const types::Column*>& columns, int threads) {
    if (!int_key_) return;
    bool any = false;
    size_t rows = 0;
    for (const auto* c : columns) {
      rows += c->size();
      const bool all_valid = c->AllValid();
      const int workers = WorkersFor(threads, c->size());
      std::vector<std::int64_t> mins(workers), maxs(workers);
      std::vector<char> found(workers, 0);
      ParallelFor(workers, c->size(), 1, [&](int w, size_t from, size_t to) {
        std::int64_t lo = std::numeric_limits<std::int64_t>::max();
        std::int64_t hi = std::numeric_limits<std::int64_t>::min();
        bool f = false;
        for (size_t r = from; r < to; ++r) {
          if (!all_valid && !c->IsValid(r)) continue;
          const std::int64_t v = Load<std::int64_t>(c->data(), r);
          lo = std::min(lo, v);
          hi = std::max(hi, v);
          f = true;
        }
        mins[w] = lo;
        maxs[w] = hi;
        found[w] = f;
      });
      for (int w = 0; w < workers; ++w) {
        if (!found[w]) continue;
        if (!any || mins[w] < min_) min_ = mins[w];
        if (!any || maxs[w] > max_) max_ = maxs[w];
        any = true;
      }
    }
    // A range wider than a few ids per row wastes memory on empty keys: hash instead.
    if (any && max_ >= min_ &&
        static_cast<std::uint64_t>(max_) - static_cast<std::uint64_t>(min_) < 4 * rows + 1024 &&
        static_cast<std::uint64_t>(max_) - static_cast<std::uint64_t>(min_) < kNoKey) {
      direct_ = true;
      range_ = static_cast<std::uint32_t>(static_cast<std::uint64_t>(max_) -
                                          static_cast<std::uint64_t>(min_) + 1);
    }
  }

  // ids[r] = the key id of row r of `b`, kNoKey when a key column is NULL; returns how many are.
  std::int64_t Assign(const types::Batch& b, int threads, std::vector<std::uint32_t>& ids) {
    const size_t n = b.num_rows();
    ids.resize(n);
    if (direct_) {
      const types::Column& c = b.column(0);
      const bool all_valid = c.AllValid();
      const int workers = WorkersFor(threads, n);
      std::vector<std::int64_t> nulls(workers, 0);
      ParallelFor(workers, n, 1, [&](int w, size_t from, size_t to) {
        for (size_t r = from; r < to; ++r) {
          if (!all_valid && !c.IsValid(r)) {
            ids[r] = kNoKey;
            ++nulls[w];
            continue;
          }
          ids[r] = static_cast<std::uint32_t>(
              static_cast<std::uint64_t>(Load<std::int64_t>(c.data(), r)) -
              static_cast<std::uint64_t>(min_));
        }
      });
      return std::accumulate(nulls.begin(), nulls.end(), std::int64_t{0});
    }
    std::int64_t nulls = 0;
    for (size_t r = 0; r < n; ++r) {
      ids[r] = IdOf(b, r);
      if (ids[r] == kNoKey) ++nulls;
    }
    return nulls;
  }

  std::uint32_t size() const { return direct_ ? range_ : next_; }

 private:
  std::uint32_t IdOf(const types::Batch& b, size_t row) {
    for (size_t k = 0; k < key_columns_; ++k) {
      if (!b.column(k).IsValid(row)) return kNoKey;
    }
    if (int_key_) {
      auto [it, inserted] = int_ids_.try_emplace(b.column(0).GetInt64(row), next_);
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

  size_t key_columns_;
  bool int_key_;
  bool direct_ = false;
  std::uint32_t range_ = 0;
  std::int64_t min_ = 0, max_ = 0;
  std::unordered_map<std::int64_t, std::uint32_t> int_ids_;
  std::unordered_map<std::string, std::uint32_t> text_ids_;
  std::uint32_t next_ = 0;
};

// Rows whose time is NULL get kNoKey too; returns how many rows that drops (besides NULL keys).
std::int64_t DropNullTimes(const types::Column& time, std::vector<std::uint32_t>& ids) {
  if (time.AllValid()) return 0;
  std::int64_t dropped = 0;
  for (size_t r = 0; r < ids.size(); ++r) {
    if (ids[r] != kNoKey && !time.IsValid(r)) {
      ids[r] = kNoKey;
      ++dropped;
    }
  }
  return dropped;
}

// Stable counting sort of rows by key id (rows with kNoKey left out): the row order and per-key
// [begin, end). With several workers, each counts and places its own slice of rows; slices are
// placed in row order within each key, so the result equals the one-thread sort.
void GroupByKey(const std::vector<std::uint32_t>& ids, std::uint32_t keys, int threads,
                std::vector<std::uint32_t>& order, std::vector<std::uint32_t>& begin) {
  const int workers = WorkersFor(threads, ids.size());
  std::vector<std::vector<std::uint32_t>> counts(workers);
  ParallelFor(workers, ids.size(), 1, [&](int w, size_t from, size_t to) {
    std::vector<std::uint32_t>& cnt = counts[w];
    cnt.assign(keys, 0);
    for (size_t r = from; r < to; ++r) {
      if (ids[r] != kNoKey) ++cnt[ids[r]];
    }
  });
  begin.assign(static_cast<size_t>(keys) + 1, 0);
  std::uint32_t at = 0;
  for (std::uint32_t k = 0; k < keys; ++k) {
    begin[k] = at;
    for (int w = 0; w < workers; ++w) {
      const std::uint32_t c = counts[w][k];
      counts[w][k] = at;  // from here on: where worker w's next row of key k goes
      at += c;
    }
  }
  begin[keys] = at;
  order.resize(at);
  ParallelFor(workers, ids.size(), 1, [&](int w, size_t from, size_t to) {
    std::vector<std::uint32_t>& next = counts[w];
    for (size_t r = from; r < to; ++r) {
      if (ids[r] != kNoKey) order[next[ids[r]]++] = static_cast<std::uint32_t>(r);
    }
  });
}

// Orders each key's rows by time, ties in input order (rows of a key arrive from GroupByKey in
// input order), and gathers their times into `ts`, which the aggregation then reads in
// sequence. Sources mostly arrive in time order, so a key is only sorted when it is not already.
void OrderByTime(const types::Column& time, const std::vector<std::uint32_t>& begin,
                 std::uint32_t keys, int threads, std::vector<std::uint32_t>& order,
                 std::vector<std::int64_t>& ts) {
  ts.resize(order.size());
  const std::uint8_t* src = time.data();
  const int workers = WorkersFor(threads, order.size());
  RunWorkers(workers, [&](int w) {
    const auto [from, to] =
        KeyRange(keys, w, workers, [&](std::uint32_t k) -> std::uint64_t { return begin[k]; });
    std::vector<std::pair<std::int64_t, std::uint32_t>> run;
    for (std::uint32_t k = from; k < to; ++k) {
      const std::uint32_t b = begin[k], e = begin[k + 1];
      bool sorted = true;
      for (std::uint32_t j = b; j < e; ++j) {
        ts[j] = Load<std::int64_t>(src, order[j]);
        if (j > b && ts[j] < ts[j - 1]) sorted = false;
      }
      if (sorted) continue;
      run.clear();
      for (std::uint32_t j = b; j < e; ++j)
        run.emplace_back(ts[j], order[j]);
      std::sort(run.begin(), run.end());  // (time, row): stable by time
      for (std::uint32_t j = b; j < e; ++j) {
        ts[j] = run[j - b].first;
        order[j] = run[j - b].second;
      }
    }
  });
}

template <typename T>
void GatherFixed(const std::uint8_t* src, const std::uint32_t* order, size_t from, size_t to,
                 std::uint8_t* dst) {
  for (size_t j = from; j < to; ++j) {
    const T v = Load<T>(src, order[j]);
    std::memcpy(dst + j * sizeof(T), &v, sizeof(T));
  }
}

// out = src's rows in `order`, written straight into the new column's buffer.
types::Column Gather(const types::Column& src, bool src_all_valid, const std::uint32_t* order,
                     size_t n, int threads) {
  types::Column out(src.type());
  if (src.type() == LogicalType::kString) {
    out.Reserve(n);
    for (size_t j = 0; j < n; ++j) {
      const std::uint32_t i = order[j];
      if (src.IsValid(i)) {
        out.AppendString(src.GetString(i));
      } else {
        out.AppendNull();
      }
    }
    return out;
  }
  const int workers = WorkersFor(threads, n);
  std::vector<std::uint64_t> mask;
  if (!src_all_valid) {
    mask.assign((n + 63) / 64, 0);
    ParallelFor(workers, n, 64, [&](int, size_t from, size_t to) {
      for (size_t j = from; j < to; ++j) {
        if (src.IsValid(order[j])) mask[j / 64] |= std::uint64_t{1} << (j % 64);
      }
    });
  }
  std::uint8_t* dst = out.AppendFixedSlots(src_all_valid ? nullptr : mask.data(), n);
  const size_t width = types::FixedWidth(src.type());
  ParallelFor(workers, n, 64, [&](int, size_t from, size_t to) {
    // NULL source slots are zero, so NULL destination slots come out zero as promised.
    if (width == 8) {
      GatherFixed<std::uint64_t>(src.data(), order, from, to, dst);
    } else if (width == 4) {
      GatherFixed<std::uint32_t>(src.data(), order, from, to, dst);
    } else {
      GatherFixed<std::uint8_t>(src.data(), order, from, to, dst);
    }
  });
  return out;
}

// Events grouped by entity (dense ids) and ordered by time within each.
struct GroupedEvents {
  EventLog log;
  std::vector<std::uint32_t> begin;      // per key id: first event; begin[keys] = end
  std::vector<std::uint32_t> first_row;  // per key id: an input row holding the key
};

// With `release` (the events batch itself, owned by the caller), each event column is freed
// once it has been gathered, so the events are never held twice in full.
void GroupEvents(const FeatureViewPlan& plan, const types::Batch& events,
                 const std::vector<std::uint32_t>& event_ids, std::uint32_t keys, int threads,
                 GroupedEvents& g, types::Batch* release) {
  const size_t ts_col = plan.entity_keys.size();
  std::vector<std::uint32_t> order;
  GroupByKey(event_ids, keys, threads, order, g.begin);
  OrderByTime(events.column(ts_col), g.begin, keys, threads, order, g.log.ts);
  g.first_row.assign(keys, 0);
  for (std::uint32_t k = 0; k < keys; ++k) {
    if (g.begin[k] < g.begin[k + 1]) g.first_row[k] = order[g.begin[k]];
  }
  if (release != nullptr) {
    for (size_t c = 0; c <= ts_col; ++c)
      release->column(c) = types::Column(events.column(c).type());
  }
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    const types::Column& src = events.column(ts_col + 1 + i);
    g.log.inputs.push_back(Gather(src, src.AllValid(), order.data(), order.size(), threads));
    if (release != nullptr) release->column(ts_col + 1 + i) = types::Column(src.type());
  }
}

base::Result<std::vector<FeatureValues>> Replay(const FeatureViewPlan& plan,
                                                const types::Batch& events, types::Batch* release,
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
  threads = ResolveThreads(threads);
  ReplayCounts local;
  ReplayCounts& c = counts ? *counts : local;
  c.events += static_cast<std::int64_t>(events.num_rows());
  c.spine_rows += static_cast<std::int64_t>(spine.num_rows());

  const bool int_key = nkeys == 1 && events.column(0).type() == LogicalType::kInt64 &&
                       spine.column(0).type() == LogicalType::kInt64;
  KeyIndex index(nkeys, int_key);
  index.PrepareIntRange({&events.column(0), &spine.column(0)}, threads);

  // Events: key ids, then grouped by entity and ordered by time within it.
  std::vector<std::uint32_t> event_ids;
  c.events_null_key += index.Assign(events, threads, event_ids);
  c.events_null_time += DropNullTimes(events.column(ts_col), event_ids);
  std::vector<std::uint32_t> spine_ids;
  c.spine_null_key_or_time += index.Assign(spine, threads, spine_ids);
  c.spine_null_key_or_time += DropNullTimes(spine.column(ts_col), spine_ids);
  const std::uint32_t keys = index.size();

  GroupedEvents grouped;
  GroupEvents(plan, events, event_ids, keys, threads, grouped, release);
  std::vector<std::uint32_t>().swap(event_ids);
  const EventLog& log = grouped.log;
  const std::vector<std::uint32_t>& event_begin = grouped.begin;

  std::vector<std::uint32_t> spine_order, spine_begin;
  std::vector<std::int64_t> spine_ts;
  GroupByKey(spine_ids, keys, threads, spine_order, spine_begin);
  OrderByTime(spine.column(ts_col), spine_begin, keys, threads, spine_order, spine_ts);

  std::vector<FeatureValues> out;
  for (const auto& a : plan.aggregations)
    out.emplace_back(a.output_type, spine.num_rows());
  // Spine rows without a usable key or time get NULL features (FeatureValues start NULL), but
  // counts are 0 for an entity that has simply no history: handled by the aggregator.

  // Values are emitted in key order (sequential writes), then scattered to their spine rows one
  // feature at a time: writing every feature of each row straight to its spine position made
  // a dozen scattered stores per row and was most of the aggregation's time. Each value is
  // written by the one thread owning its entity, then by the one owning its feature.
  std::vector<FeatureValues> by_key;
  for (const auto& a : plan.aggregations)
    by_key.emplace_back(a.output_type, spine_order.size());
  // Work pieces: an entity's spine rows, cut into up to `threads` pieces when the entity holds
  // more than a thread's share, so a hot entity keeps every thread busy. A piece starts its own
  // sweep at its first spine row; window states depend only on the events in the window and
  // lifetime states see the same events in the same order, so every value is the same bits
  // however the rows are cut, hence at any thread count.
  struct Piece {
    std::uint32_t key, from, to;  // spine rows [from, to) of entity `key` (in spine_ts order)
    std::uint64_t weight;         // rows plus an estimate of the events swept
  };
  const std::uint32_t piece_rows = static_cast<std::uint32_t>(std::max<size_t>(
      kMinPieceRows, (spine_order.size() + static_cast<size_t>(threads) - 1) / threads));
  std::vector<Piece> pieces;
  for (std::uint32_t k = 0; k < keys; ++k) {
    const std::uint32_t rows = spine_begin[k + 1] - spine_begin[k];
    const std::uint64_t events_of_key = event_begin[k + 1] - event_begin[k];
    for (std::uint32_t j = spine_begin[k]; j < spine_begin[k + 1]; j += piece_rows) {
      const std::uint32_t to = std::min(spine_begin[k + 1], j + piece_rows);
      pieces.push_back({k, j, to, (to - j) + events_of_key * (to - j) / rows});
    }
  }
  std::vector<std::uint64_t> weight_before(pieces.size() + 1, 0);
  for (size_t i = 0; i < pieces.size(); ++i)
    weight_before[i + 1] = weight_before[i] + pieces[i].weight;
  const int workers =
      std::max(1, std::min<int>(WorkersFor(threads, log.ts.size() + spine_order.size()),
                                static_cast<int>(pieces.size())));
  RunWorkers(workers, [&](int w) {
    const auto [from, to] =
        KeyRange(static_cast<std::uint32_t>(pieces.size()), w, workers,
                 [&](std::uint32_t p) -> std::uint64_t { return weight_before[p]; });
    EntityAggregator agg(plan, log);
    for (std::uint32_t p = from; p < to; ++p) {
      const Piece& piece = pieces[p];
      agg.Reset(event_begin[piece.key], event_begin[piece.key + 1]);
      for (std::uint32_t j = piece.from; j < piece.to; ++j) {
        const std::int64_t t = spine_ts[j];
        agg.AdvanceTo(t);
        agg.Emit(t, j, by_key);
      }
    }
  });
  const int scatter_workers =
      std::min<int>(WorkersFor(threads, spine_order.size()), static_cast<int>(out.size()));
  if (scatter_workers > 0) {
    RunWorkers(scatter_workers, [&](int w) {
      for (size_t a = static_cast<size_t>(w); a < out.size(); a += scatter_workers)
        out[a].Scatter(by_key[a], spine_order);
    });
  }
  return out;
}

}  // namespace

base::Result<std::vector<FeatureValues>> ReplayAsOf(const FeatureViewPlan& plan,
                                                    const types::Batch& events,
                                                    const types::Batch& spine, int threads,
                                                    ReplayCounts* counts) {
  return Replay(plan, events, nullptr, spine, threads, counts);
}

base::Result<std::vector<FeatureValues>> ReplayAsOf(const FeatureViewPlan& plan,
                                                    types::Batch&& events,
                                                    const types::Batch& spine, int threads,
                                                    ReplayCounts* counts) {
  return Replay(plan, events, &events, spine, threads, counts);
}

base::Result<EntityEvents> GroupByEntity(const FeatureViewPlan& plan, const types::Batch& events,
                                         int threads, ReplayCounts* counts) {
  const size_t nkeys = plan.entity_keys.size();
  if (events.num_columns() != nkeys + 1 + plan.inputs.size()) {
    return base::Internal("grouping events: they do not have the planned columns");
  }
  if (events.num_rows() >= kNoKey) {
    return base::FailedPrecondition("grouping events: more than 4 billion events in one pass");
  }
  threads = ResolveThreads(threads);
  ReplayCounts local;
  ReplayCounts& c = counts ? *counts : local;
  const bool int_key = nkeys == 1 && events.column(0).type() == LogicalType::kInt64;
  KeyIndex index(nkeys, int_key);
  index.PrepareIntRange({&events.column(0)}, threads);
  std::vector<std::uint32_t> ids;
  c.events_null_key += index.Assign(events, threads, ids);
  c.events_null_time += DropNullTimes(events.column(nkeys), ids);
  const std::uint32_t keys = index.size();
  GroupedEvents g;
  GroupEvents(plan, events, ids, keys, threads, g, nullptr);
  // Only ids that hold events (direct ids leave gaps: values of the range no row has).
  EntityEvents out;
  out.log = std::move(g.log);
  std::vector<std::string> key_values(nkeys);
  for (std::uint32_t k = 0; k < keys; ++k) {
    if (g.begin[k] == g.begin[k + 1]) continue;
    for (size_t i = 0; i < nkeys; ++i)
      key_values[i] = events.column(i).ValueToString(g.first_row[k]);
    out.keys.push_back(EntityKeyBytes(key_values));
    out.begin.push_back(g.begin[k]);
  }
  out.begin.push_back(g.begin[keys]);
  return out;
}

types::Column GatherColumn(const types::Column& src, const std::uint32_t* order, size_t n) {
  return Gather(src, src.AllValid(), order, n, /*threads=*/1);
}

}  // namespace sluice::engine

namespace sluice::engine {

base::Result<StateWrites> BuildEntityStates(const FeatureViewPlan& plan, const types::Batch& events,
                                            int threads, ReplayCounts* counts) {
  ReplayCounts local;
  ReplayCounts& c = counts ? *counts : local;
  c.events += static_cast<std::int64_t>(events.num_rows());
  SLUICE_ASSIGN_OR_RETURN(EntityEvents g, GroupByEntity(plan, events, threads, &c));
  threads = ResolveThreads(threads);
  const auto keys = static_cast<std::uint32_t>(g.keys.size());

  std::vector<std::pair<std::string, std::string>> out(keys);
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(keys / 1024) + 1));
  std::vector<std::vector<store::PartWrite>> parts(static_cast<size_t>(workers));
  std::vector<base::Status> failed(static_cast<size_t>(workers));
  auto work = [&](int w, std::uint32_t from, std::uint32_t to) {
    std::map<std::string, std::optional<std::string>> entity_parts;
    for (std::uint32_t k = from; k < to; ++k) {
      const std::uint32_t begin = g.begin[k], end = g.begin[k + 1];
      std::string& key = g.keys[k];
      EntityState state;
      entity_parts.clear();
      // Nothing is stored yet: no group to fetch, no delete to send.
      base::Status s = ApplyEvents(plan, g.log, begin, end, state, nullptr, entity_parts);
      if (!s.ok()) {
        failed[static_cast<size_t>(w)] = s.WithContext("entity '" + key + "'");
        return;
      }
      for (auto& [name, value] : entity_parts)
        parts[static_cast<size_t>(w)].push_back({key, name, std::move(value)});
      out[k] = {std::move(key), EncodeState(plan, state)};
    }
  };
  base::RunWorkers(workers, [&](int w) {
    work(w, static_cast<std::uint32_t>(static_cast<std::uint64_t>(keys) * w / workers),
         static_cast<std::uint32_t>(static_cast<std::uint64_t>(keys) * (w + 1) / workers));
  });
  for (const base::Status& s : failed)
    SLUICE_RETURN_IF_ERROR(s);
  StateWrites writes;
  out.erase(std::remove_if(out.begin(), out.end(), [](const auto& p) { return p.second.empty(); }),
            out.end());
  std::sort(out.begin(), out.end());
  writes.heads = std::move(out);
  for (auto& list : parts) {
    for (auto& p : list)
      writes.parts.push_back(std::move(p));
  }
  return writes;
}

}  // namespace sluice::engine
