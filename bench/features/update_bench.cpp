// Update cost of one hot entity's online state (issue 13): engine::UpdateEntityStates, the one
// entry point that applies new events to stored state (materialize and stream), applied to an
// entity holding UPDATE_BENCH_EVENTS events in its 7-day window, in batches of 1, 10 and 100
// events, for a view with the 6 count/sum features (1h, 24h, 7d) without a tile and with a 1h
// tile. Prints events/s and the bytes each batch hands to the store (heads and parts, keys
// included), kept in memory here so that only the engine's work is timed.
//
//   update_bench [EVENTS] [SECONDS_PER_CASE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/entity_state.h"
#include "engine/materialization.h"
#include "types/batch.h"

namespace {

using sluice::config::AggregationFunction;
using sluice::engine::AggregationPlan;
using sluice::engine::FeatureViewPlan;
using sluice::engine::InputKind;
using sluice::types::LogicalType;

constexpr std::int64_t kHour = 3'600'000'000;

FeatureViewPlan Plan(std::optional<std::int64_t> tile) {
  FeatureViewPlan p;
  p.view = "tx";
  p.entity_keys = {"user_id"};
  p.key_types = {LogicalType::kInt64};
  p.tile = tile;
  p.inputs = {{"amount", "amount", LogicalType::kDouble, InputKind::kNumber}};
  for (std::int64_t w : {kHour, 24 * kHour, 7 * 24 * kHour}) {
    p.aggregations.push_back({"n", AggregationFunction::kCount, -1, w, 0, LogicalType::kInt64});
    p.aggregations.push_back({"s", AggregationFunction::kSum, 0, w, 0, LogicalType::kDouble});
    p.max_window = w;
  }
  return p;
}

sluice::types::Batch Events(const std::vector<std::int64_t>& ts, std::mt19937_64& rng) {
  sluice::types::Batch b(*sluice::types::Schema::Make({{"user_id", LogicalType::kInt64, true},
                                                       {"ts", LogicalType::kTimestamp, true},
                                                       {"amount", LogicalType::kDouble, true}}));
  for (std::int64_t t : ts) {
    b.column(0).AppendInt64(1);
    b.column(1).AppendTimestamp(t);
    b.column(2).AppendDouble(static_cast<double>(rng() % 100000) / 100.0);
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  const long events = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  std::printf(
      "one entity, %ld events in its 7-day window; 6 features (count, sum x 1h, 24h, 7d)\n\n",
      events);
  std::printf(
      "| view | batch | batches | events/s | bytes written per batch (mean) | (largest) |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (auto tile : {std::optional<std::int64_t>(), std::optional<std::int64_t>(kHour)}) {
    const FeatureViewPlan plan = Plan(tile);
    std::mt19937_64 rng(1);
    std::vector<std::int64_t> ts;
    for (long i = 0; i < events; ++i)
      ts.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(7 * 24 * kHour)));
    std::sort(ts.begin(), ts.end());
    auto built = sluice::engine::BuildEntityStates(plan, Events(ts, rng), 1, nullptr);
    if (!built.ok() || built->heads.size() != 1) {
      std::fprintf(stderr, "update_bench: %s\n", built.status().ToString().c_str());
      return 1;
    }
    // The store, in memory: the entity's head and its parts (chunks and chunk groups).
    std::string head = built->heads[0].second;
    std::map<std::string, std::string> parts;
    auto apply = [&](const sluice::engine::StateWrites& w) {
      size_t bytes = 0;
      for (const auto& [key, value] : w.heads) {
        head = value;
        bytes += key.size() + value.size();
      }
      for (const auto& p : w.parts) {
        bytes += p.entity.size() + p.part.size() + (p.value ? p.value->size() : 0);
        if (p.value) {
          parts[p.part] = *p.value;
        } else {
          parts.erase(p.part);
        }
      }
      return bytes;
    };
    apply(*built);
    std::int64_t now = ts.back();
    const sluice::engine::StateLookup lookup = [&](const std::vector<std::string>& keys) {
      return sluice::base::Result<std::vector<std::optional<std::string>>>(
          std::vector<std::optional<std::string>>(keys.size(), head));
    };
    const sluice::engine::PartLookup part_lookup =
        [&](const std::vector<sluice::store::PartKey>& keys) {
          std::vector<std::optional<std::string>> out;
          for (const auto& k : keys) {
            auto it = parts.find(k.part);
            out.push_back(it == parts.end() ? std::nullopt
                                            : std::optional<std::string>(it->second));
          }
          return sluice::base::Result<std::vector<std::optional<std::string>>>(std::move(out));
        };
    for (int batch : {1, 10, 100}) {
      long batches = 0, applied = 0;
      size_t bytes = 0, most = 0;
      const auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      while (elapsed < seconds) {
        std::vector<std::int64_t> next;
        for (int i = 0; i < batch; ++i)
          next.push_back(now += 1'000'000);  // one event a second
        auto changed = sluice::engine::UpdateEntityStates(plan, Events(next, rng), lookup,
                                                          part_lookup, nullptr, nullptr);
        if (!changed.ok() || changed->heads.size() != 1) {
          std::fprintf(stderr, "update_bench: %s\n", changed.status().ToString().c_str());
          return 1;
        }
        const size_t written = apply(*changed);
        bytes += written;
        most = std::max(most, written);
        ++batches;
        applied += batch;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      std::printf("| %s | %d | %ld | %.0f | %.0f | %zu |\n", tile ? "tile 1h" : "no tile", batch,
                  batches, static_cast<double>(applied) / elapsed,
                  static_cast<double>(bytes) / static_cast<double>(batches), most);
    }
  }
  return 0;
}
