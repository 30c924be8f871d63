// Randomized check of the replay against a brute-force reference written here, independently:
// for each spine row, scan every event of its entity and aggregate those in the window.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "engine/entity_state.h"
#include "engine/entity_state_cache.h"
#include "engine/keyed_replay.h"
#include "engine/materialization.h"

namespace sluice::engine {
namespace {

using config::AggregationFunction;
using types::LogicalType;

struct Event {
  std::int64_t key;
  std::int64_t ts;
  std::optional<double> amount;
  std::optional<std::int64_t> qty;
  std::optional<std::string> merchant;
  size_t input_order;
};

struct Case {
  std::vector<Event> events;
  std::vector<std::pair<std::int64_t, std::int64_t>> spine;  // key, t
};

constexpr std::int64_t kMinute = 60'000'000;

FeatureViewPlan MakePlan(std::optional<std::int64_t> ttl,
                         std::optional<std::int64_t> tile = std::nullopt) {
  FeatureViewPlan p;
  p.tile = tile;
  p.view = "v";
  p.entity_keys = {"user_id"};
  p.key_types = {LogicalType::kInt64};
  p.event_time = "ts";
  p.ttl = ttl;
  p.inputs = {{"amount", "amount", LogicalType::kDouble, InputKind::kNumber},
              {"qty", "qty", LogicalType::kInt64, InputKind::kInteger},
              {"merchant", "merchant", LogicalType::kString, InputKind::kText}};
  const std::vector<std::optional<std::int64_t>> windows = {10 * kMinute, 60 * kMinute,
                                                            std::nullopt};
  const std::vector<std::pair<AggregationFunction, int>> fns = {
      {AggregationFunction::kCount, -1},   {AggregationFunction::kCount, 0},
      {AggregationFunction::kSum, 0},      {AggregationFunction::kSum, 1},
      {AggregationFunction::kMean, 0},     {AggregationFunction::kMin, 0},
      {AggregationFunction::kMax, 1},      {AggregationFunction::kFirst, 2},
      {AggregationFunction::kLast, 0},     {AggregationFunction::kStddev, 0},
      {AggregationFunction::kVariance, 1}, {AggregationFunction::kLastK, 2},
      {AggregationFunction::kMin, 2},      {AggregationFunction::kApproxCountDistinct, 2}};
  for (size_t w = 0; w < windows.size(); ++w) {
    for (const auto& [fn, input] : fns) {
      if (!windows[w] && fn == AggregationFunction::kApproxCountDistinct) continue;  // a sketch
      AggregationPlan a;
      a.name =
          std::string(config::Name(fn)) + "_" + std::to_string(input) + "_" + std::to_string(w);
      a.function = fn;
      a.input = input;
      a.window = windows[w];
      a.k = 3;
      const InputKind kind = input < 0 ? InputKind::kInteger : p.inputs[input].kind;
      switch (fn) {
        case AggregationFunction::kCount:
        case AggregationFunction::kApproxCountDistinct:
          a.output_type = LogicalType::kInt64;
          break;
        case AggregationFunction::kSum:
          a.output_type = kind == InputKind::kInteger ? LogicalType::kInt64 : LogicalType::kDouble;
          break;
        case AggregationFunction::kMean:
        case AggregationFunction::kStddev:
        case AggregationFunction::kVariance:
          a.output_type = LogicalType::kDouble;
          break;
        case AggregationFunction::kLastK:
          a.output_type = LogicalType::kString;
          break;
        default:
          a.output_type = kind == InputKind::kInteger  ? LogicalType::kInt64
                          : kind == InputKind::kNumber ? LogicalType::kDouble
                                                       : LogicalType::kString;
      }
      p.aggregations.push_back(a);
      if (a.window) p.max_window = std::max(p.max_window, *a.window);
    }
  }
  return p;
}

Case RandomCase(std::mt19937_64& rng) {
  Case c;
  const int keys = 1 + static_cast<int>(rng() % 6);
  const int n = static_cast<int>(rng() % 60);
  // Coarse times make ties (at the spine instant and between events) common.
  auto time = [&] { return static_cast<std::int64_t>(rng() % 40) * 5 * kMinute; };
  for (int i = 0; i < n; ++i) {
    Event e;
    e.key = 100 + static_cast<std::int64_t>(rng() % keys);
    e.ts = time();
    if (rng() % 5) e.amount = static_cast<double>(rng() % 10000) / 100.0 - 20;
    if (rng() % 4) e.qty = static_cast<std::int64_t>(rng() % 7) - 2;
    if (rng() % 3) e.merchant = "m" + std::to_string(rng() % 4);
    e.input_order = static_cast<size_t>(i);
    c.events.push_back(e);
  }
  const int spine = 1 + static_cast<int>(rng() % 25);
  for (int i = 0; i < spine; ++i) {
    // Some spine entities have no events at all.
    c.spine.push_back({100 + static_cast<std::int64_t>(rng() % (keys + 1)), time()});
  }
  return c;
}

// One heavy entity (2k to 34k events, bursts and ties, so its state has sealed chunks and
// several chunk groups, some expired) beside a few small ones.
Case HeavyCase(std::mt19937_64& rng) {
  Case c;
  const int n = 2000 + static_cast<int>(rng() % 32000);
  const std::uint64_t span_seconds = 60 * (30 + rng() % 400);
  for (int i = 0; i < n; ++i) {
    Event e;
    e.key = i % 50 == 0 ? 100 + static_cast<std::int64_t>(rng() % 4) : 7;
    // Every fourth event in a burst at the start, the rest spread: edges land in old groups.
    const std::uint64_t range = i % 4 == 0 ? span_seconds / 10 : span_seconds;
    std::uint64_t second = rng() % range;
    if (rng() % 3 == 0) second -= second % 30;  // ties
    e.ts = static_cast<std::int64_t>(second) * 1'000'000;
    if (rng() % 5) e.amount = static_cast<double>(rng() % 10000) / 100.0 - 20;
    if (rng() % 4) e.qty = static_cast<std::int64_t>(rng() % 7) - 2;
    if (rng() % 3) e.merchant = "m" + std::to_string(rng() % 40);
    e.input_order = static_cast<size_t>(i);
    c.events.push_back(e);
  }
  return c;
}

types::Batch EventBatch(const Case& c) {
  types::Batch b(*types::Schema::Make({{"user_id", LogicalType::kInt64, true},
                                       {"ts", LogicalType::kTimestamp, true},
                                       {"amount", LogicalType::kDouble, true},
                                       {"qty", LogicalType::kInt64, true},
                                       {"merchant", LogicalType::kString, true}}));
  for (const auto& e : c.events) {
    b.column(0).AppendInt64(e.key);
    b.column(1).AppendTimestamp(e.ts);
    e.amount ? b.column(2).AppendDouble(*e.amount) : b.column(2).AppendNull();
    e.qty ? b.column(3).AppendInt64(*e.qty) : b.column(3).AppendNull();
    e.merchant ? b.column(4).AppendString(*e.merchant) : b.column(4).AppendNull();
  }
  return b;
}

types::Batch SpineBatch(const Case& c) {
  types::Batch b(*types::Schema::Make(
      {{"user_id", LogicalType::kInt64, true}, {"ts", LogicalType::kTimestamp, true}}));
  for (const auto& [k, t] : c.spine) {
    b.column(0).AppendInt64(k);
    b.column(1).AppendTimestamp(t);
  }
  return b;
}

// A correctly rounded sum, independently of the engine's superaccumulator: Shewchuk's exact
// partials and the final rounding with its half-way correction, as Python's math.fsum does.
double Fsum(std::vector<double> xs) {
  std::vector<double> partials;
  for (double x : xs) {
    size_t i = 0;
    for (size_t j = 0; j < partials.size(); ++j) {
      double y = partials[j];
      if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
      const double hi = x + y;
      const double lo = y - (hi - x);
      if (lo != 0) partials[i++] = lo;
      x = hi;
    }
    partials.resize(i);
    partials.push_back(x);
  }
  double hi = 0;
  size_t n = partials.size();
  if (n > 0) {
    hi = partials[--n];
    double lo = 0;
    while (n > 0) {
      const double x = hi;
      const double y = partials[--n];
      hi = x + y;
      lo = y - (hi - x);
      if (lo != 0) break;
    }
    if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
      const double y = lo * 2;
      const double x = hi + y;
      if (y == x - hi) hi = x;
    }
  }
  return hi == 0 ? 0.0 : hi;
}

// The reference: the expected value rendered as text ("NULL" for null).
std::string Reference(const FeatureViewPlan& plan, const AggregationPlan& a, const Case& c,
                      std::int64_t key, std::int64_t t) {
  // The window's old edge: t - w, with a tile moved back to the tile boundary at or before it.
  std::int64_t cut = a.window ? t - *a.window : 0;
  if (a.window && plan.tile) cut -= ((cut % *plan.tile) + *plan.tile) % *plan.tile;
  std::vector<Event> in;
  for (const auto& e : c.events) {
    if (e.key == key && e.ts <= t && (!a.window || e.ts > cut)) in.push_back(e);
  }
  std::vector<Event> all;
  for (const auto& e : c.events) {
    if (e.key == key && e.ts <= t) all.push_back(e);
  }
  auto order = [](const Event& x, const Event& y) {
    return x.ts != y.ts ? x.ts < y.ts : x.input_order < y.input_order;
  };
  std::sort(in.begin(), in.end(), order);
  std::sort(all.begin(), all.end(), order);
  if (plan.ttl && (all.empty() || all.back().ts <= t - *plan.ttl)) return "NULL";
  auto fmt = [](double d) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.17g", d);
    return std::string(buf);
  };
  // Values of the input as (present, number, text).
  struct V {
    double num;
    std::int64_t i;
    std::string text;
  };
  std::vector<V> vals;
  for (const auto& e : in) {
    if (a.input == 0 && e.amount) vals.push_back({*e.amount, 0, ""});
    if (a.input == 1 && e.qty) vals.push_back({static_cast<double>(*e.qty), *e.qty, ""});
    if (a.input == 2 && e.merchant) vals.push_back({0, 0, *e.merchant});
  }
  switch (a.function) {
    case AggregationFunction::kCount:
      return std::to_string(a.input < 0 ? in.size() : vals.size());
    case AggregationFunction::kSum: {
      if (vals.empty()) return "NULL";
      if (a.input == 1) {
        std::int64_t s = 0;
        for (auto& v : vals)
          s += v.i;
        return std::to_string(s);
      }
      std::vector<double> xs;
      for (auto& v : vals)
        xs.push_back(v.num);
      return fmt(Fsum(xs));
    }
    case AggregationFunction::kMean: {
      if (vals.empty()) return "NULL";
      std::vector<double> xs;
      for (auto& v : vals)
        xs.push_back(v.num);
      return fmt(Fsum(xs) / static_cast<double>(vals.size()));
    }
    case AggregationFunction::kStddev:
    case AggregationFunction::kVariance: {
      if (vals.size() < 2) return "NULL";
      // m = round(sum x) / n, then sum((x - m)^2) exactly: x - m as two doubles (TwoSum), its
      // square as six exact products, all summed by Fsum.
      std::vector<double> xs, terms;
      for (auto& v : vals)
        xs.push_back(v.num);
      const double n = static_cast<double>(vals.size());
      const double m = Fsum(xs) / n;
      for (double x : xs) {
        const double hi = x - m;
        const double z = hi - x;
        const double lo = (x - (hi - z)) + (-m - z);
        for (auto [p, q] : {std::pair{hi, hi}, {hi, lo}, {hi, lo}, {lo, lo}}) {
          const double prod = p * q;
          terms.push_back(prod);
          terms.push_back(std::fma(p, q, -prod));
        }
      }
      const double var = std::max(0.0, Fsum(terms)) / (n - 1);
      return fmt(a.function == AggregationFunction::kVariance ? var : std::sqrt(var));
    }
    case AggregationFunction::kMin:
    case AggregationFunction::kMax: {
      if (vals.empty()) return "NULL";
      const bool is_min = a.function == AggregationFunction::kMin;
      if (a.input == 2) {
        auto it = is_min ? std::min_element(vals.begin(), vals.end(),
                                            [](auto& x, auto& y) { return x.text < y.text; })
                         : std::max_element(vals.begin(), vals.end(),
                                            [](auto& x, auto& y) { return x.text < y.text; });
        return it->text;
      }
      auto it = is_min ? std::min_element(vals.begin(), vals.end(),
                                          [](auto& x, auto& y) { return x.num < y.num; })
                       : std::max_element(vals.begin(), vals.end(),
                                          [](auto& x, auto& y) { return x.num < y.num; });
      return a.input == 1 ? std::to_string(it->i) : fmt(it->num);
    }
    case AggregationFunction::kFirst:
    case AggregationFunction::kLast: {
      if (vals.empty()) return "NULL";
      const V& v = a.function == AggregationFunction::kFirst ? vals.front() : vals.back();
      return a.input == 2 ? v.text : a.input == 1 ? std::to_string(v.i) : fmt(v.num);
    }
    case AggregationFunction::kLastK: {
      std::string out = "[";
      const size_t from = vals.size() > 3 ? vals.size() - 3 : 0;
      for (size_t i = from; i < vals.size(); ++i) {
        if (i > from) out += ",";
        out += "\"" + vals[i].text + "\"";
      }
      return out + "]";
    }
    case AggregationFunction::kApproxCountDistinct: {
      std::vector<std::string> t;
      for (auto& v : vals)
        t.push_back(v.text);
      std::sort(t.begin(), t.end());
      return std::to_string(std::unique(t.begin(), t.end()) - t.begin());
    }
  }
  return "?";
}

std::string Rendered(const types::Column& col, size_t row) {
  if (!col.IsValid(row)) return "NULL";
  if (col.type() == LogicalType::kDouble) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.17g", col.GetDouble(row));
    return buf;
  }
  return col.ValueToString(row);
}

void CheckCases(std::optional<std::int64_t> ttl, std::uint64_t seed,
                std::optional<std::int64_t> tile = std::nullopt) {
  std::mt19937_64 rng(seed);
  const FeatureViewPlan plan = MakePlan(ttl, tile);
  for (int trial = 0; trial < 400; ++trial) {
    const Case c = RandomCase(rng);
    for (int threads : {1, 3}) {
      ReplayCounts counts;
      auto out = ReplayAsOf(plan, EventBatch(c), SpineBatch(c), threads, &counts);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      ASSERT_EQ(out->size(), plan.aggregations.size());
      for (size_t a = 0; a < plan.aggregations.size(); ++a) {
        const types::Column col = (*out)[a].ToColumn();
        for (size_t r = 0; r < c.spine.size(); ++r) {
          const std::string want =
              Reference(plan, plan.aggregations[a], c, c.spine[r].first, c.spine[r].second);
          ASSERT_EQ(Rendered(col, r), want)
              << "trial " << trial << " threads " << threads << " feature "
              << plan.aggregations[a].name << " spine row " << r << " key " << c.spine[r].first
              << " t " << c.spine[r].second;
        }
      }
    }
  }
}

// Large enough that the replay splits its phases across threads (grouping, time ordering,
// gathering, aggregation): the output must be the same bits at every thread count, and match
// the reference. Keys are NULL now and then, times too; most entities' events arrive in time
// order with a few late ones, some entirely shuffled.
TEST(ReplayReferenceTest, LargeReplayIsTheSameAtEveryThreadCount) {
  std::mt19937_64 rng(11);
  const FeatureViewPlan plan = MakePlan(std::nullopt);
  Case c;
  const int keys = 3000;
  const int n = 300'000;
  std::vector<std::int64_t> clock(keys, 0);
  std::vector<bool> null_key(n), null_time(n);
  for (int i = 0; i < n; ++i) {
    Event e;
    const int k = static_cast<int>(rng() % keys);
    e.key = 1000 + k;
    if (k % 7 == 0 || rng() % 20 == 0) {
      e.ts = static_cast<std::int64_t>(rng() % 4000) * kMinute;  // shuffled or late
    } else {
      clock[k] += static_cast<std::int64_t>(rng() % 3) * kMinute;  // in order, with ties
      e.ts = clock[k];
    }
    if (rng() % 5) e.amount = static_cast<double>(rng() % 10000) / 100.0 - 20;
    if (rng() % 4) e.qty = static_cast<std::int64_t>(rng() % 7) - 2;
    if (rng() % 3) e.merchant = "m" + std::to_string(rng() % 4);
    e.input_order = static_cast<size_t>(i);
    null_key[i] = rng() % 1000 == 0;
    null_time[i] = rng() % 1000 == 0;
    c.events.push_back(e);
  }
  for (int i = 0; i < 40'000; ++i) {
    c.spine.push_back({1000 + static_cast<std::int64_t>(rng() % (keys + 50)),
                       static_cast<std::int64_t>(rng() % 4000) * kMinute});
  }
  types::Batch events = EventBatch(c);
  {
    // Rebuild the key and time columns with their NULLs.
    types::Column key(LogicalType::kInt64), ts(LogicalType::kTimestamp);
    for (int i = 0; i < n; ++i) {
      null_key[i] ? key.AppendNull() : key.AppendInt64(c.events[i].key);
      null_time[i] ? ts.AppendNull() : ts.AppendTimestamp(c.events[i].ts);
    }
    events.column(0) = std::move(key);
    events.column(1) = std::move(ts);
  }
  const types::Batch spine = SpineBatch(c);
  std::vector<std::vector<std::string>> first;
  for (int threads : {1, 2, 3, 0}) {
    ReplayCounts counts;
    auto out = ReplayAsOf(plan, events, spine, threads, &counts);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(counts.events, n);
    EXPECT_EQ(counts.events_null_key, std::count(null_key.begin(), null_key.end(), true));
    std::int64_t null_time_only = 0;
    for (int i = 0; i < n; ++i)
      null_time_only += !null_key[i] && null_time[i];
    EXPECT_EQ(counts.events_null_time, null_time_only);
    std::vector<std::vector<std::string>> rendered(plan.aggregations.size());
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      const types::Column col = (*out)[a].ToColumn();
      for (size_t r = 0; r < c.spine.size(); ++r)
        rendered[a].push_back(Rendered(col, r));
    }
    if (first.empty()) {
      first = rendered;
    } else {
      ASSERT_EQ(rendered, first) << "threads " << threads;
    }
  }
  // The reference, on a sample of spine rows, over the events the replay may use.
  std::map<std::int64_t, Case> by_key;
  for (int i = 0; i < n; ++i) {
    if (!null_key[i] && !null_time[i]) by_key[c.events[i].key].events.push_back(c.events[i]);
  }
  for (size_t r = 0; r < c.spine.size(); r += 97) {
    const auto [key, t] = c.spine[r];
    const Case& own = by_key[key];
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      ASSERT_EQ(first[a][r], Reference(plan, plan.aggregations[a], own, key, t))
          << "feature " << plan.aggregations[a].name << " spine row " << r;
    }
  }
}

TEST(ReplayReferenceTest, MatchesBruteForceWithoutTtl) {
  CheckCases(std::nullopt, 1);
}
TEST(ReplayReferenceTest, MatchesBruteForceWithTtl) {
  CheckCases(30 * kMinute, 2);
}
// Tiles of 10 minutes (the windows are 10 and 60 minutes), event times on a 5-minute grid, spine
// times too: edges exactly on, and between, tile boundaries.
TEST(ReplayReferenceTest, MatchesBruteForceWithTile) {
  CheckCases(std::nullopt, 3, 10 * kMinute);
}

}  // namespace
}  // namespace sluice::engine

namespace sluice::engine {
namespace {

// The heads and parts a store would hold, applied as a store applies StateWrites.
struct MemoryStates {
  std::map<std::string, std::string> heads;
  std::map<std::pair<std::string, std::string>, std::string> parts;

  void Apply(const StateWrites& w) {
    for (const auto& [key, head] : w.heads)
      heads[key] = head;
    for (const auto& p : w.parts) {
      if (p.value) {
        parts[{p.entity, p.part}] = *p.value;
      } else {
        parts.erase({p.entity, p.part});
      }
    }
  }
  StateLookup Heads() const {
    return [this](const std::vector<std::string>& keys) {
      std::vector<std::optional<std::string>> out;
      for (const auto& k : keys) {
        auto it = heads.find(k);
        out.push_back(it == heads.end() ? std::nullopt : std::optional<std::string>(it->second));
      }
      return base::Result<std::vector<std::optional<std::string>>>(std::move(out));
    };
  }
  PartLookup Parts() const {
    return [this](const std::vector<store::PartKey>& keys) {
      std::vector<std::optional<std::string>> out;
      for (const auto& k : keys) {
        auto it = parts.find({k.entity, k.part});
        out.push_back(it == parts.end() ? std::nullopt : std::optional<std::string>(it->second));
      }
      return base::Result<std::vector<std::optional<std::string>>>(std::move(out));
    };
  }
  bool operator==(const MemoryStates&) const = default;
};

MemoryStates Stored(const StateWrites& w) {
  MemoryStates m;
  m.Apply(w);
  return m;
}

// Zero skew at the operator level: the state an entity is materialized into, encoded and
// decoded, answers every aggregation at any later instant with exactly the bits the replay
// computes for the same (entity, instant).
void CheckOnlineEqualsReplay(std::optional<std::int64_t> ttl, std::uint64_t seed,
                             std::optional<std::int64_t> tile = std::nullopt, bool heavy = false) {
  std::mt19937_64 rng(seed);
  const FeatureViewPlan plan = MakePlan(ttl, tile);
  StateEvaluator evaluator(plan);  // one for every trial, as a server thread keeps one
  int compared = 0;
  const int reads_per_entity = heavy ? 40 : 4;
  for (int trial = 0; trial < (heavy ? 6 : 300); ++trial) {
    Case c = heavy ? HeavyCase(rng) : RandomCase(rng);
    if (c.events.empty()) continue;
    auto states = BuildEntityStates(plan, EventBatch(c), 1 + trial % 3, nullptr);
    ASSERT_TRUE(states.ok()) << states.status().ToString();
    const MemoryStates stored = Stored(*states);
    const PartLookup parts = stored.Parts();
    std::int64_t newest_overall = 0;
    for (const auto& e : c.events)
      newest_overall = std::max(newest_overall, e.ts);
    // Reads at or after the newest event, including ones where windows have emptied and the
    // TTL has passed.
    Case reads = c;
    reads.spine.clear();
    for (const auto& [key_bytes, bytes] : states->heads) {
      for (int i = 0; i < reads_per_entity; ++i) {
        const std::int64_t t =
            newest_overall + static_cast<std::int64_t>(rng() % (90 * 60)) * 1'000'000;
        reads.spine.push_back({std::stoll(key_bytes), t});
      }
    }
    auto replayed = ReplayAsOf(plan, EventBatch(reads), SpineBatch(reads), 1, nullptr);
    ASSERT_TRUE(replayed.ok());
    std::vector<types::Column> expected;
    for (auto& f : *replayed)
      expected.push_back(f.ToColumn());
    // Each state both ways: decoded and evaluated afresh, and through the one StateEvaluator
    // the serving path reuses from read to read (an unknown entity between reads too).
    std::vector<FeatureValues> online, reused;
    for (const auto& a : plan.aggregations) {
      online.emplace_back(a.output_type, reads.spine.size());
      reused.emplace_back(a.output_type, reads.spine.size());
    }
    size_t row = 0;
    for (const auto& [key_bytes, bytes] : states->heads) {
      auto state = DecodeState(plan, bytes);
      ASSERT_TRUE(state.ok()) << state.status().ToString();
      EXPECT_EQ(EncodeState(plan, *state), bytes);
      for (int i = 0; i < reads_per_entity; ++i, ++row) {
        const std::int64_t t = reads.spine[row].second;
        ASSERT_TRUE(EvaluateState(plan, *state, t, row, online, key_bytes, parts).ok());
        if (i == 2) {
          ASSERT_TRUE(evaluator.Evaluate(std::nullopt, t).ok());
        }
        const base::Status read = evaluator.Evaluate(bytes, t, key_bytes, parts);
        ASSERT_TRUE(read.ok()) << read.ToString();
        for (size_t a = 0; a < plan.aggregations.size(); ++a)
          reused[a].CopyRow(evaluator.values()[a], 0, row);
      }
    }
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      if (plan.aggregations[a].function == AggregationFunction::kApproxCountDistinct) continue;
      const types::Column got = online[a].ToColumn();
      const types::Column got_reused = reused[a].ToColumn();
      for (size_t r = 0; r < reads.spine.size(); ++r) {
        ASSERT_EQ(Rendered(got, r), Rendered(expected[a], r))
            << "trial " << trial << " feature " << plan.aggregations[a].name << " read " << r;
        ASSERT_EQ(Rendered(got_reused, r), Rendered(expected[a], r))
            << "StateEvaluator, trial " << trial << " feature " << plan.aggregations[a].name
            << " read " << r;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, heavy ? 3000 : 10000);
}

TEST(OnlineStateTest, EqualsReplayBitForBit) {
  CheckOnlineEqualsReplay(std::nullopt, 11);
}
TEST(OnlineStateTest, EqualsReplayWithTtl) {
  CheckOnlineEqualsReplay(20 * kMinute, 12);
}
TEST(OnlineStateTest, EqualsReplayWithTile) {
  CheckOnlineEqualsReplay(std::nullopt, 13, 10 * kMinute);
}
// Heavy entities: sealed chunks, several groups, expired ones; reads whose window edges fall
// in the open chunk, in a sealed chunk (read raw) and between chunks and groups.
TEST(OnlineStateTest, HeavyEntitiesEqualReplayBitForBit) {
  CheckOnlineEqualsReplay(std::nullopt, 14, std::nullopt, /*heavy=*/true);
}
TEST(OnlineStateTest, HeavyEntitiesEqualReplayWithTtl) {
  CheckOnlineEqualsReplay(20 * kMinute, 15, std::nullopt, /*heavy=*/true);
}

// A chunked state whose parts cannot be read says so instead of answering from the head alone.
TEST(OnlineStateTest, MissingPartsAreReportedNotGuessed) {
  const FeatureViewPlan plan = MakePlan(std::nullopt);
  std::mt19937_64 rng(16);
  Case c = HeavyCase(rng);
  auto states = BuildEntityStates(plan, EventBatch(c), 1, nullptr);
  ASSERT_TRUE(states.ok());
  ASSERT_FALSE(states->parts.empty());
  std::string head;
  std::int64_t newest = 0;
  for (const auto& [key, bytes] : states->heads) {
    if (key == "7") head = bytes;
  }
  for (const auto& e : c.events)
    newest = e.key == 7 ? std::max(newest, e.ts) : newest;
  StateEvaluator evaluator(plan);
  MemoryStates stored = Stored(*states);
  // Reads whose window edges fall in sealed chunk groups need parts: without a way to read
  // them, and with them gone from the store.
  int needed = 0;
  for (int k = 0; k < 90; ++k) {
    const std::int64_t t = newest + k * kMinute;
    if (evaluator.Evaluate(head, t, "7", stored.Parts()).ok() &&
        evaluator.Evaluate(head, t, "7", {}).code() == base::StatusCode::kFailedPrecondition) {
      ++needed;
      MemoryStates gone = stored;
      gone.parts.clear();
      const base::Status missing = evaluator.Evaluate(head, t, "7", gone.Parts());
      EXPECT_EQ(missing.code(), base::StatusCode::kUnavailable);
      EXPECT_TRUE(missing.retryable());
    }
  }
  EXPECT_GT(needed, 10);
  // And some edges fall inside a sealed chunk, whose raw events are read.
  int chunk_reads = 0;
  const PartLookup all_parts = stored.Parts();
  const PartLookup counting = [&](const std::vector<store::PartKey>& keys) {
    for (const auto& k : keys)
      chunk_reads += k.part[0] == 'c' ? 1 : 0;
    return all_parts(keys);
  };
  for (int k = 0; k < 90; ++k)
    ASSERT_TRUE(evaluator.Evaluate(head, newest + k * kMinute, "7", counting).ok());
  EXPECT_GT(chunk_reads, 10);
}

// A server reads a head, then its parts: an update in between appends entries to group parts
// (and seals chunks). The head read first still gives its own values from the newer parts.
TEST(OnlineStateTest, AReadRacingAnUpdateAnswersAsOfTheHeadItRead) {
  const FeatureViewPlan plan = MakePlan(std::nullopt);
  std::mt19937_64 rng(17);
  Case c = HeavyCase(rng);
  auto states = BuildEntityStates(plan, EventBatch(c), 1, nullptr);
  ASSERT_TRUE(states.ok());
  const MemoryStates before = Stored(*states);
  std::int64_t newest = 0;
  for (const auto& e : c.events)
    newest = e.key == 7 ? std::max(newest, e.ts) : newest;
  Case more;
  for (int i = 0; i < 700; ++i)
    more.events.push_back({7, newest + i * 100'000, 1.5 * i, i, "z", static_cast<size_t>(i)});
  MemoryStates after = before;
  auto changed =
      UpdateEntityStates(plan, EventBatch(more), after.Heads(), after.Parts(), nullptr, nullptr);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  after.Apply(*changed);
  ASSERT_NE(after.parts, before.parts);
  const std::string& head = before.heads.at("7");
  StateEvaluator old_parts(plan), new_parts(plan);
  int compared = 0;
  for (int k = 0; k < 90; k += 3) {
    const std::int64_t t = newest + k * kMinute;
    ASSERT_TRUE(old_parts.Evaluate(head, t, "7", before.Parts()).ok());
    const base::Status s = new_parts.Evaluate(head, t, "7", after.Parts());
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      ASSERT_EQ(Rendered(new_parts.values()[a].ToColumn(), 0),
                Rendered(old_parts.values()[a].ToColumn(), 0))
          << plan.aggregations[a].name << " at +" << k << " min";
      ++compared;
    }
  }
  EXPECT_GT(compared, 100);
}

// A decoder that keeps one EntityState (the serving path's) must leave nothing of a previous
// state behind: re-encoding what it decoded gives back exactly the bytes, state after state.
void CheckDecodingIntoAUsedState(std::optional<std::int64_t> tile) {
  const FeatureViewPlan plan = MakePlan(std::nullopt, tile);
  std::mt19937_64 rng(5);
  EntityState reused;
  int decoded = 0;
  for (int trial = 0; trial < 50; ++trial) {
    Case c = RandomCase(rng);
    auto states = BuildEntityStates(plan, EventBatch(c), 1, nullptr);
    ASSERT_TRUE(states.ok());
    // Longest first, so shorter states land on longer leftovers.
    std::vector<std::string> bytes;
    for (const auto& kv : states->heads)
      bytes.push_back(kv.second);
    std::sort(bytes.begin(), bytes.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const auto& b : bytes) {
      ASSERT_TRUE(DecodeStateInto(plan, b, reused).ok());
      ASSERT_EQ(EncodeState(plan, reused), b) << "trial " << trial;
      ++decoded;
    }
  }
  EXPECT_GT(decoded, 100);
}

TEST(OnlineStateTest, DecodingIntoAUsedStateForgetsThePreviousOne) {
  CheckDecodingIntoAUsedState(std::nullopt);
}
TEST(OnlineStateTest, DecodingIntoAUsedTiledStateForgetsThePreviousOne) {
  CheckDecodingIntoAUsedState(10 * kMinute);
}

void CheckDecodingRejectsDamagedBytes(std::optional<std::int64_t> tile) {
  const FeatureViewPlan plan = MakePlan(std::nullopt, tile);
  std::mt19937_64 rng(3);
  Case c = RandomCase(rng);
  while (c.events.size() < 5)
    c = RandomCase(rng);
  auto states = BuildEntityStates(plan, EventBatch(c), 1, nullptr);
  ASSERT_TRUE(states.ok());
  const std::string good = states->heads[0].second;
  EXPECT_TRUE(DecodeState(plan, good).ok());
  EXPECT_EQ(DecodeState(plan, "").status().code(), base::StatusCode::kCorruption);
  std::string other_version = good;
  other_version[0] = 9;
  EXPECT_NE(DecodeState(plan, other_version).status().message().find("encoding 9"),
            std::string::npos);
  for (size_t cut = 1; cut < good.size(); cut += 7) {
    EXPECT_FALSE(DecodeState(plan, good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeState(plan, good + "x").ok());
}

TEST(OnlineStateTest, DecodingRejectsDamagedBytes) {
  CheckDecodingRejectsDamagedBytes(std::nullopt);
}
TEST(OnlineStateTest, DecodingRejectsDamagedTiledBytes) {
  CheckDecodingRejectsDamagedBytes(10 * kMinute);
}

// Incremental materialization: states built from the old events, then updated with the new
// ones, must be byte for byte the states a full replay of all of them builds. The split puts
// ties on both sides of the cut (old first, as a source that appends files replays them).
void CheckUpdateEqualsFullReplay(std::optional<std::int64_t> ttl, unsigned seed,
                                 std::optional<std::int64_t> tile = std::nullopt,
                                 bool heavy = false) {
  std::mt19937_64 rng(seed);
  const FeatureViewPlan plan = MakePlan(ttl, tile);
  int compared = 0, updated_existing = 0, created = 0;
  for (int trial = 0; trial < (heavy ? 8 : 300); ++trial) {
    Case c = heavy ? HeavyCase(rng) : RandomCase(rng);
    if (c.events.empty()) continue;
    std::int64_t newest = 0;
    for (const auto& e : c.events)
      newest = std::max(newest, e.ts);
    const std::int64_t cut = heavy ? static_cast<std::int64_t>(rng() % 100) * newest / 100
                                   : static_cast<std::int64_t>(rng() % 40) * 5 * kMinute;
    Case before, after;
    for (const auto& e : c.events) {
      const bool old = e.ts < cut || (e.ts == cut && e.input_order % 2 == 0);
      (old ? before : after).events.push_back(e);
    }
    // Old first, as a source that appends files replays them.
    std::stable_sort(before.events.begin(), before.events.end(),
                     [](const Event& a, const Event& b) { return a.ts < b.ts; });
    std::stable_sort(after.events.begin(), after.events.end(),
                     [](const Event& a, const Event& b) { return a.ts < b.ts; });
    Case all = before;
    all.events.insert(all.events.end(), after.events.begin(), after.events.end());
    auto full = BuildEntityStates(plan, EventBatch(all), 1, nullptr);
    ASSERT_TRUE(full.ok()) << full.status().ToString();
    MemoryStates stored;
    if (!before.events.empty()) {
      auto built = BuildEntityStates(plan, EventBatch(before), 1, nullptr);
      ASSERT_TRUE(built.ok());
      stored.Apply(*built);
    }
    if (!after.events.empty()) {
      std::int64_t fresh = -1;
      ReplayCounts counts;
      auto changed = UpdateEntityStates(plan, EventBatch(after), stored.Heads(), stored.Parts(),
                                        &counts, &fresh);
      ASSERT_TRUE(changed.ok()) << changed.status().ToString();
      EXPECT_EQ(counts.events, static_cast<std::int64_t>(after.events.size()));
      created += static_cast<int>(fresh);
      for (const auto& [key, bytes] : changed->heads)
        updated_existing += stored.heads.count(key) ? 1 : 0;
      stored.Apply(*changed);
    }
    const MemoryStates want = Stored(*full);
    ASSERT_EQ(stored.heads.size(), want.heads.size()) << "trial " << trial;
    ASSERT_TRUE(stored.heads == want.heads) << "trial " << trial;
    ASSERT_EQ(stored.parts.size(), want.parts.size()) << "trial " << trial;
    ASSERT_TRUE(stored.parts == want.parts) << "trial " << trial;
    compared += static_cast<int>(want.heads.size() + want.parts.size());
  }
  // The random cases must exercise both kinds of update, not only one.
  if (heavy) {
    EXPECT_GT(compared, 100);
    EXPECT_GT(updated_existing, 5);
  } else {
    EXPECT_GT(compared, 500);
    EXPECT_GT(updated_existing, 100);
    EXPECT_GT(created, 20);
  }
}

TEST(IncrementalStateTest, UpdateEqualsFullReplayBitForBit) {
  CheckUpdateEqualsFullReplay(std::nullopt, 21);
}
TEST(IncrementalStateTest, UpdateEqualsFullReplayWithTtl) {
  CheckUpdateEqualsFullReplay(20 * kMinute, 22);
}
TEST(IncrementalStateTest, UpdateEqualsFullReplayWithTile) {
  CheckUpdateEqualsFullReplay(std::nullopt, 23, 10 * kMinute);
}
TEST(IncrementalStateTest, HeavyUpdateEqualsFullReplayHeadsAndParts) {
  CheckUpdateEqualsFullReplay(std::nullopt, 24, std::nullopt, /*heavy=*/true);
}

TEST(IncrementalStateTest, LateEventIsRefusedNamingTheEntity) {
  const FeatureViewPlan plan = MakePlan(std::nullopt);
  Case old_case, late;
  old_case.events.push_back({7, 100 * kMinute, 1.0, 1, "a", 0});
  late.events.push_back({7, 99 * kMinute, 2.0, 2, "b", 0});
  auto built = BuildEntityStates(plan, EventBatch(old_case), 1, nullptr);
  ASSERT_TRUE(built.ok());
  const MemoryStates stored = Stored(*built);
  auto changed =
      UpdateEntityStates(plan, EventBatch(late), stored.Heads(), stored.Parts(), nullptr, nullptr);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_NE(changed.status().message().find("entity '7'"), std::string::npos)
      << changed.status().message();
  EXPECT_NE(changed.status().message().find("before its newest stored event"), std::string::npos);
}

TEST(IncrementalStateTest, DamagedStoredStateIsReportedNotOverwritten) {
  const FeatureViewPlan plan = MakePlan(std::nullopt);
  Case next;
  next.events.push_back({7, 100 * kMinute, 1.0, 1, "a", 0});
  MemoryStates stored;
  stored.heads["7"] = "\x01garbage";
  auto changed =
      UpdateEntityStates(plan, EventBatch(next), stored.Heads(), stored.Parts(), nullptr, nullptr);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), base::StatusCode::kCorruption);
  EXPECT_NE(changed.status().ToString().find("entity '7'"), std::string::npos)
      << changed.status().ToString();
}

}  // namespace
}  // namespace sluice::engine

namespace sluice::engine {
namespace {

// Heavy and skewed entities: one entity with thousands of events and most spine rows (many at
// the same instant), a few medium ones, many small ones, rows in shuffled order. The sweep cuts
// the hot entity's spine rows into pieces at more than one thread; every thread count must give
// the same bits, equal to the brute-force reference.
TEST(ReplayReferenceTest, HeavyEntitiesMatchBruteForceAtEveryThreadCount) {
  std::mt19937_64 rng(31);
  const FeatureViewPlan plan = MakePlan(std::nullopt);
  Case c;
  auto add_events = [&](std::int64_t key, int n, int time_slots) {
    for (int i = 0; i < n; ++i) {
      Event e;
      e.key = key;
      e.ts = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(time_slots)) * kMinute;
      if (rng() % 5) e.amount = static_cast<double>(rng() % 100000) / 1000.0 - 30;
      if (rng() % 4) e.qty = static_cast<std::int64_t>(rng() % 9) - 3;
      if (rng() % 3) e.merchant = "m" + std::to_string(rng() % 12);
      c.events.push_back(e);
    }
  };
  add_events(1, 2500, 900);  // hot: ~3 events per minute, ties everywhere
  add_events(2, 800, 900);
  add_events(3, 800, 300);
  for (int k = 10; k < 40; ++k)
    add_events(k, 15, 900);
  std::shuffle(c.events.begin(), c.events.end(), rng);
  for (size_t i = 0; i < c.events.size(); ++i)
    c.events[i].input_order = i;
  for (int i = 0; i < 2400; ++i) {
    // Coarse instants: dozens of spine rows share each one.
    c.spine.push_back({1, static_cast<std::int64_t>(rng() % 60) * 15 * kMinute});
  }
  for (int i = 0; i < 600; ++i) {
    c.spine.push_back({1 + static_cast<std::int64_t>(rng() % 40),
                       static_cast<std::int64_t>(rng() % 950) * kMinute});
  }
  const types::Batch events = EventBatch(c), spine = SpineBatch(c);
  std::vector<std::vector<std::string>> first;
  for (int threads : {1, 2, 3}) {
    auto out = ReplayAsOf(plan, events, spine, threads, nullptr);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    std::vector<std::vector<std::string>> rendered(plan.aggregations.size());
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      const types::Column col = (*out)[a].ToColumn();
      for (size_t r = 0; r < c.spine.size(); ++r)
        rendered[a].push_back(Rendered(col, r));
    }
    if (first.empty()) {
      first = std::move(rendered);
    } else {
      ASSERT_EQ(rendered, first) << "threads " << threads;
    }
  }
  std::map<std::int64_t, Case> by_key;
  for (const auto& e : c.events)
    by_key[e.key].events.push_back(e);
  for (size_t r = 0; r < c.spine.size(); r += 29) {
    const auto [key, t] = c.spine[r];
    for (size_t a = 0; a < plan.aggregations.size(); ++a) {
      ASSERT_EQ(first[a][r], Reference(plan, plan.aggregations[a], by_key[key], key, t))
          << "feature " << plan.aggregations[a].name << " spine row " << r;
    }
  }
}

// A stream of small batches (1 to 10 events) applied one after another to the stored states:
// after every batch the states are the bytes a full replay of the events so far builds, and
// reading them gives the replay's values.
void CheckManySmallBatches(std::optional<std::int64_t> tile, int events = 600,
                           int compare_every = 7) {
  std::mt19937_64 rng(41);
  const FeatureViewPlan plan = MakePlan(std::nullopt, tile);
  Case all;
  std::int64_t clock = 0;
  for (int i = 0; i < events; ++i) {
    Event e;
    e.key = 1 + static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % 4 : 0);  // one heavy key
    // Ties, and for long runs seconds apart so the heavy key's windows hold many chunks.
    clock += static_cast<std::int64_t>(rng() % 3) * (events > 1000 ? 1'000'000 : kMinute);
    e.ts = clock;
    if (rng() % 5) e.amount = static_cast<double>(rng() % 100000) / 1000.0 - 30;
    if (rng() % 4) e.qty = static_cast<std::int64_t>(rng() % 9) - 3;
    if (rng() % 3) e.merchant = "m" + std::to_string(rng() % 12);
    e.input_order = static_cast<size_t>(i);
    all.events.push_back(e);
  }
  MemoryStates stored;
  StateEvaluator evaluator(plan);
  size_t at = 0;
  int batches = 0, compared = 0;
  while (at < all.events.size()) {
    const size_t n = 1 + rng() % 10;
    Case batch;
    batch.events.assign(
        all.events.begin() + static_cast<std::ptrdiff_t>(at),
        all.events.begin() + static_cast<std::ptrdiff_t>(std::min(all.events.size(), at + n)));
    at += batch.events.size();
    auto changed = UpdateEntityStates(plan, EventBatch(batch), stored.Heads(), stored.Parts(),
                                      nullptr, nullptr);
    ASSERT_TRUE(changed.ok()) << changed.status().ToString();
    stored.Apply(*changed);
    ++batches;
    if (batches % compare_every != 0 && at < all.events.size()) continue;
    Case so_far;
    so_far.events.assign(all.events.begin(), all.events.begin() + static_cast<std::ptrdiff_t>(at));
    auto full = BuildEntityStates(plan, EventBatch(so_far), 1, nullptr);
    ASSERT_TRUE(full.ok());
    ASSERT_TRUE(stored == Stored(*full)) << "after batch " << batches;
    // Reads as of the newest event and later equal the replay's values.
    Case reads = so_far;
    std::vector<std::pair<std::string, std::string>> heads(stored.heads.begin(),
                                                           stored.heads.end());
    for (const auto& [key, bytes] : heads) {
      reads.spine.push_back({std::stoll(key), clock});
      reads.spine.push_back({std::stoll(key), clock + 45 * kMinute});
      reads.spine.push_back({std::stoll(key), clock + 9 * kMinute + 7'000'000});
    }
    auto replayed = ReplayAsOf(plan, EventBatch(reads), SpineBatch(reads), 1, nullptr);
    ASSERT_TRUE(replayed.ok());
    for (size_t r = 0; r < reads.spine.size(); ++r) {
      const auto& [key, head] = heads[r / 3];
      const base::Status read =
          evaluator.Evaluate(head, reads.spine[r].second, key, stored.Parts());
      ASSERT_TRUE(read.ok()) << read.ToString();
      for (size_t a = 0; a < plan.aggregations.size(); ++a) {
        if (plan.aggregations[a].function == AggregationFunction::kApproxCountDistinct) continue;
        ASSERT_EQ(Rendered(evaluator.values()[a].ToColumn(), 0),
                  Rendered((*replayed)[a].ToColumn(), r))
            << "batch " << batches << " feature " << plan.aggregations[a].name;
        ++compared;
      }
    }
  }
  EXPECT_GT(batches, events / 8);
  EXPECT_GT(compared, 1000);
}

TEST(IncrementalStateTest, ManySmallBatchesEqualAFullReplay) {
  CheckManySmallBatches(std::nullopt);
}
TEST(IncrementalStateTest, ManySmallBatchesEqualAFullReplayWithTile) {
  CheckManySmallBatches(10 * kMinute);
}
// A heavy entity (about 27k events, about 1 a second) fed 1 to 10 events at a time: chunks are
// sealed, groups fill and expire, and the stored heads and parts stay those of a full replay.
TEST(IncrementalStateTest, ManySmallBatchesOfAHeavyEntityEqualAFullReplay) {
  CheckManySmallBatches(std::nullopt, 40000, 1500);
}

// The stream's cache of decoded heads (EntityStateCache): batches updated through it hand the
// store exactly the bytes that batches read back from the store do, while entities are sealed,
// expire and (with a small budget) are evicted and read again.
void CheckCachedBatches(std::optional<std::int64_t> tile, size_t budget, int events) {
  std::mt19937_64 rng(43);
  const FeatureViewPlan plan = MakePlan(std::nullopt, tile);
  MemoryStates with_cache, without;
  EntityStateCache cache(budget);
  std::int64_t clock = 0;
  size_t input_order = 0;
  int batches = 0;
  while (input_order < static_cast<size_t>(events)) {
    Case batch;
    const size_t n = 1 + rng() % 12;
    for (size_t i = 0; i < n; ++i) {
      Event e;
      e.key = 1 + static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % 40 : rng() % 3);
      clock += static_cast<std::int64_t>(rng() % 3) * 20'000'000;
      e.ts = clock;
      if (rng() % 5) e.amount = static_cast<double>(rng() % 100000) / 1000.0 - 30;
      if (rng() % 4) e.qty = static_cast<std::int64_t>(rng() % 9) - 3;
      if (rng() % 3) e.merchant = "m" + std::to_string(rng() % 12);
      e.input_order = input_order++;
      batch.events.push_back(e);
    }
    auto cached = UpdateEntityStates(plan, EventBatch(batch), with_cache.Heads(),
                                     with_cache.Parts(), nullptr, nullptr, &cache);
    ASSERT_TRUE(cached.ok()) << cached.status().ToString();
    auto read = UpdateEntityStates(plan, EventBatch(batch), without.Heads(), without.Parts(),
                                   nullptr, nullptr);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(cached->heads, read->heads) << "batch " << batches;
    ASSERT_EQ(cached->parts.size(), read->parts.size()) << "batch " << batches;
    for (size_t i = 0; i < read->parts.size(); ++i) {
      ASSERT_EQ(cached->parts[i].entity, read->parts[i].entity);
      ASSERT_EQ(cached->parts[i].part, read->parts[i].part);
      ASSERT_EQ(cached->parts[i].value, read->parts[i].value) << "batch " << batches;
    }
    with_cache.Apply(*cached);
    without.Apply(*read);
    ASSERT_LE(cache.bytes(), budget);
    ++batches;
  }
  ASSERT_TRUE(with_cache == without);
  EXPECT_GT(cache.hits(), 0);  // the cache was used, not bypassed
  EXPECT_GT(cache.misses(), 0);
  // Within the budget, each of the 40 entities is read from the store once at most.
  if (budget > (size_t{1} << 20)) {
    EXPECT_LE(cache.misses(), 40);
  }
}

TEST(EntityStateCacheTest, CachedUpdatesWriteWhatStoreReadsWould) {
  CheckCachedBatches(std::nullopt, size_t{64} << 20, 6000);
}
TEST(EntityStateCacheTest, CachedUpdatesWriteWhatStoreReadsWouldWithTile) {
  CheckCachedBatches(10 * kMinute, size_t{64} << 20, 3000);
}
// A budget of a few heads: entities are evicted and read back from the store all the time.
TEST(EntityStateCacheTest, EvictedEntitiesAreReadBackFromTheStore) {
  CheckCachedBatches(std::nullopt, 4000, 3000);
}

// What the stream runtime clears the cache for (partitions moving to another worker and back,
// a generation switch, a failed write): a head written by anyone else. A cache that is not
// cleared then serves the stale head, and the update differs from one read from the store.
TEST(EntityStateCacheTest, AHeadWrittenElsewhereIsStaleUntilTheCacheIsCleared) {
  const FeatureViewPlan plan = MakePlan(std::nullopt);
  MemoryStates stored;
  EntityStateCache cache(size_t{1} << 20);
  Case first, elsewhere, next;
  first.events.push_back({7, 10 * kMinute, 1.0, 1, "a", 0});
  elsewhere.events.push_back({7, 11 * kMinute, 5.0, 2, "b", 1});
  next.events.push_back({7, 12 * kMinute, 2.0, 3, "c", 2});
  auto a = UpdateEntityStates(plan, EventBatch(first), stored.Heads(), stored.Parts(), nullptr,
                              nullptr, &cache);
  ASSERT_TRUE(a.ok());
  stored.Apply(*a);
  // Another worker owned the partition meanwhile and wrote entity 7.
  auto b = UpdateEntityStates(plan, EventBatch(elsewhere), stored.Heads(), stored.Parts(), nullptr,
                              nullptr);
  ASSERT_TRUE(b.ok());
  stored.Apply(*b);
  auto truth =
      UpdateEntityStates(plan, EventBatch(next), stored.Heads(), stored.Parts(), nullptr, nullptr);
  ASSERT_TRUE(truth.ok());

  auto stale = UpdateEntityStates(plan, EventBatch(next), stored.Heads(), stored.Parts(), nullptr,
                                  nullptr, &cache);
  ASSERT_TRUE(stale.ok());
  EXPECT_NE(stale->heads, truth->heads);  // the event of `elsewhere` is missing

  EntityStateCache fresh(size_t{1} << 20);
  ASSERT_TRUE(UpdateEntityStates(plan, EventBatch(first), MemoryStates().Heads(),
                                 MemoryStates().Parts(), nullptr, nullptr, &fresh)
                  .ok());
  fresh.Clear();
  auto cleared = UpdateEntityStates(plan, EventBatch(next), stored.Heads(), stored.Parts(), nullptr,
                                    nullptr, &fresh);
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->heads, truth->heads);
  EXPECT_EQ(fresh.hits(), 0);
}

// A cached head refuses an event older than its newest one as a stored head does.
TEST(EntityStateCacheTest, ACachedHeadRefusesALateEvent) {
  const FeatureViewPlan plan = MakePlan(std::nullopt);
  MemoryStates stored;
  EntityStateCache cache(size_t{1} << 20);
  Case old_case, late;
  old_case.events.push_back({7, 100 * kMinute, 1.0, 1, "a", 0});
  late.events.push_back({7, 99 * kMinute, 2.0, 2, "b", 1});
  auto built = UpdateEntityStates(plan, EventBatch(old_case), stored.Heads(), stored.Parts(),
                                  nullptr, nullptr, &cache);
  ASSERT_TRUE(built.ok());
  stored.Apply(*built);
  auto changed = UpdateEntityStates(plan, EventBatch(late), stored.Heads(), stored.Parts(), nullptr,
                                    nullptr, &cache);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cache.hits(), 1);
}

TEST(EntityStateCacheTest, KeepsTheMostRecentlyUsedWithinItsBudget) {
  EntityStateCache cache(100);
  cache.Put("a", EntityState(), 40);
  cache.Put("b", EntityState(), 40);
  ASSERT_NE(cache.Find("a"), nullptr);  // a is now the most recently used
  cache.Put("c", EntityState(), 40);
  EXPECT_EQ(cache.bytes(), 120u);  // nothing evicted within a batch
  cache.EndBatch();
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_NE(cache.Find("a"), nullptr);
  EXPECT_NE(cache.Find("c"), nullptr);
  EXPECT_EQ(cache.bytes(), 80u);
  cache.Put("huge", EntityState(), 101);  // larger than the budget: not kept
  EXPECT_EQ(cache.Find("huge"), nullptr);
  ASSERT_NE(cache.Find("a"), nullptr);
  cache.Stored("a", 90);  // a grew: c, the least recently used, goes
  cache.EndBatch();
  EXPECT_EQ(cache.bytes(), 90u);
  EXPECT_EQ(cache.size(), 1u);
  EntityStateCache off(0);
  off.Put("a", EntityState(), 1);
  EXPECT_EQ(off.Find("a"), nullptr);
  EXPECT_FALSE(off.enabled());
}

// The bytes an update hands to the store (heads and parts, keys included): one new event for
// an entity holding 100k events in its 7-day window writes a bounded number of bytes, with a
// tile (bounded by 7 days / tile) and without one (the head, the open chunk and at most one
// sealed chunk and its group), not the 2 MB of its events.
TEST(IncrementalStateTest, OneEventUpdateOfAHeavyEntityWritesBoundedBytes) {
  auto plan_with = [](std::optional<std::int64_t> tile) {
    FeatureViewPlan p;
    p.view = "v";
    p.entity_keys = {"user_id"};
    p.key_types = {LogicalType::kInt64};
    p.tile = tile;
    p.inputs = {{"amount", "amount", LogicalType::kDouble, InputKind::kNumber},
                {"qty", "qty", LogicalType::kInt64, InputKind::kInteger},
                {"merchant", "merchant", LogicalType::kString, InputKind::kText}};
    for (std::int64_t w : {60 * kMinute, 24 * 60 * kMinute, 7 * 24 * 60 * kMinute}) {
      p.aggregations.push_back({"n", AggregationFunction::kCount, -1, w, 0, LogicalType::kInt64});
      p.aggregations.push_back({"s", AggregationFunction::kSum, 0, w, 0, LogicalType::kDouble});
      p.max_window = std::max(p.max_window, w);
    }
    p.aggregations.push_back(
        {"all", AggregationFunction::kCount, -1, std::nullopt, 0, LogicalType::kInt64});
    return p;
  };
  std::mt19937_64 rng(5);
  const std::int64_t week = 7 * 24 * 60 * kMinute;
  auto heavy_case = [&](int n) {
    Case heavy;
    std::vector<std::int64_t> ts;
    for (int i = 0; i < n; ++i)
      ts.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(week)));
    std::sort(ts.begin(), ts.end());
    for (std::int64_t t : ts)
      heavy.events.push_back({9, t, static_cast<double>(rng() % 100000) / 100.0, 1, "m", 0});
    return heavy;
  };
  auto bytes_of = [](const StateWrites& w) {
    size_t bytes = 0;
    for (const auto& [key, value] : w.heads)
      bytes += key.size() + value.size();
    for (const auto& p : w.parts)
      bytes += p.entity.size() + p.part.size() + (p.value ? p.value->size() : 0);
    return bytes;
  };
  for (auto tile : {std::optional<std::int64_t>(60 * kMinute), std::optional<std::int64_t>()}) {
    const FeatureViewPlan plan = plan_with(tile);
    std::vector<size_t> most;
    for (int n : {100'000, 200'000}) {
      const Case heavy = heavy_case(n);
      auto built = BuildEntityStates(plan, EventBatch(heavy), 1, nullptr);
      ASSERT_TRUE(built.ok()) << built.status().ToString();
      MemoryStates stored = Stored(*built);
      size_t largest = 0;
      // 300 one-event updates: more than a chunk's worth, so one of them seals a chunk.
      Case all = heavy;
      std::int64_t t = week;
      for (int i = 0; i < 300; ++i, t += 1'000'000) {
        Case one;
        one.events.push_back({9, t, 12.5 + i, 1, "m", 0});
        all.events.push_back(one.events[0]);
        auto changed = UpdateEntityStates(plan, EventBatch(one), stored.Heads(), stored.Parts(),
                                          nullptr, nullptr);
        ASSERT_TRUE(changed.ok()) << changed.status().ToString();
        largest = std::max(largest, bytes_of(*changed));
        stored.Apply(*changed);
      }
      most.push_back(largest);
      // And it reads as the replay does.
      all.spine.push_back({9, t + 30 * kMinute});
      auto replayed = ReplayAsOf(plan, EventBatch(all), SpineBatch(all), 1, nullptr);
      ASSERT_TRUE(replayed.ok());
      StateEvaluator evaluator(plan);
      ASSERT_TRUE(
          evaluator.Evaluate(stored.heads.at("9"), t + 30 * kMinute, "9", stored.Parts()).ok());
      for (size_t a = 0; a < plan.aggregations.size(); ++a) {
        EXPECT_EQ(Rendered(evaluator.values()[a].ToColumn(), 0),
                  Rendered((*replayed)[a].ToColumn(), 0))
            << plan.aggregations[a].name;
      }
    }
    const char* what = tile ? "tiled" : "untiled";
    // Tiled: 169 hourly tiles of 6 partial states each. Untiled: a head (the open chunk of at
    // most 256 events, a partial state per chunk group) and, once per 256 events, a sealed
    // chunk and its group's part. The events themselves are about 2 and 4 MB.
    EXPECT_LT(most[0], 48u << 10) << what;
    // Twice the events do not make an update noticeably dearer.
    EXPECT_LT(most[1], most[0] + (4u << 10)) << what;
  }
}

// The stored bytes of a small state, pinned: every field little-endian, exact sums canonical.
TEST(OnlineStateTest, StateEncodingIsLittleEndian) {
  FeatureViewPlan plan;
  plan.view = "v";
  plan.entity_keys = {"user_id"};
  plan.key_types = {LogicalType::kInt64};
  plan.inputs = {{"amount", "amount", LogicalType::kDouble, InputKind::kNumber}};
  AggregationPlan n{"n", AggregationFunction::kCount, -1, std::nullopt, 0, LogicalType::kInt64};
  AggregationPlan s{"s", AggregationFunction::kSum, 0, std::nullopt, 0, LogicalType::kDouble};
  AggregationPlan w{"w", AggregationFunction::kCount, 0, 60 * kMinute, 0, LogicalType::kInt64};
  plan.aggregations = {n, s, w};
  plan.max_window = 60 * kMinute;
  Case c;
  c.events.push_back({7, 0x0102030405060708, 1.0, std::nullopt, std::nullopt, 0});
  types::Batch b(*types::Schema::Make({{"user_id", LogicalType::kInt64, true},
                                       {"ts", LogicalType::kTimestamp, true},
                                       {"amount", LogicalType::kDouble, true}}));
  b.column(0).AppendInt64(7);
  b.column(1).AppendTimestamp(0x0102030405060708);
  b.column(2).AppendDouble(1.0);
  auto states = BuildEntityStates(plan, b, 1, nullptr);
  ASSERT_TRUE(states.ok()) << states.status().ToString();
  ASSERT_EQ(states->heads.size(), 1u);
  EXPECT_TRUE(states->parts.empty());
  const std::string want(
      "\x03"                                  // encoding 3
      "\x08\x07\x06\x05\x04\x03\x02\x01"      // newest event
      "\x01\x00\x00\x00"                      // the open chunk holds one event
      "\x08\x07\x06\x05\x04\x03\x02\x01"      // its time
      "\x01\x00\x00\x00\x00\x00\x00\xf0\x3f"  // amount 1.0
      "\x00\x00\x00\x00\x00\x00\x00\x00"      // the open chunk is chunk 0
      "\x00\x00\x00\x00"                      // no chunk groups
      "\x00\x00\x00\x00"                      // no tiles (the view has no tile)
      "\x02\x00\x00\x00"                      // two lifetime states
      "\x00\x00\x00\x00"                      // aggregation 0: count
      "\x01\x00\x00\x00\x00\x00\x00\x00"      //   n = 1
      "\x01\x00\x00\x00"                      // aggregation 1: sum
      "\x01\x00\x00\x00\x00\x00\x00\x00"      //   n = 1
      "\x00\x01\x21\x00\x00\x04\x00",         //   exact sum 1.0: 2^18 in digit 33
      81);
  EXPECT_EQ(states->heads[0].second, want);
}

}  // namespace
}  // namespace sluice::engine
