// Online store micro benchmark: materialization throughput and MultiGet latency for 1 and 100
// keys, on one thread, through the OnlineStore interface (so what serving will see).
//
//   store_bench rocksdb DIR [ENTITIES] [VALUE_BYTES] [LOOKUPS]
//   store_bench redis URL [ENTITIES] [VALUE_BYTES] [LOOKUPS]
//
// RocksDB reads go through a read-only (secondary) handle opened beside the writer, as
// `sluice serve` reads. Prints one table row per measurement.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "store/online_store.h"
#include "store/redis_store.h"
#include "store/redis_url.h"
#include "store/rocksdb_store.h"

namespace {

using namespace sluice;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const base::Status& s) {
  std::fprintf(stderr, "store_bench: %s\n", s.ToString().c_str());
  std::exit(1);
}

std::string Entity(int i) {
  // 8 bytes, like an int64 key in the engine's canonical encoding.
  std::string e(8, '\0');
  for (int b = 0; b < 8; ++b)
    e[b] = static_cast<char>((static_cast<std::uint64_t>(i) >> (8 * b)));
  return e;
}

double Percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// MultiGet, or (with_meta) MultiGetWithMeta: what `sluice serve` sends per view, the meta read
// beside the states so a generation switch is seen by the request that reads it.
void MeasureLookups(store::OnlineStore& s, const char* backend, int entities, int keys, int lookups,
                    bool with_meta) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> pick(0, entities - 1);
  std::vector<double> micros;
  micros.reserve(lookups);
  std::vector<std::string> ask(keys);
  const auto start = Clock::now();
  for (int i = 0; i < lookups; ++i) {
    for (auto& a : ask)
      a = Entity(pick(rng));
    const auto t0 = Clock::now();
    bool found = false;
    if (with_meta) {
      auto got = s.MultiGetWithMeta("bench", ask);
      if (!got.ok()) Die(got.status());
      found = got->values[0].has_value() && got->meta.has_value();
    } else {
      auto got = s.MultiGet("bench", ask);
      if (!got.ok()) Die(got.status());
      found = (*got)[0].has_value();
    }
    const auto t1 = Clock::now();
    if (!found) Die(base::Internal("a materialized entity (or the meta) is missing"));
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "| %-8s | %-16s %3d keys | %9.0f req/s | p50 %7.1f us | p99 %7.1f us | p99.9 %7.1f us |\n",
      backend, with_meta ? "MultiGetWithMeta" : "MultiGet", keys, lookups / secs,
      Percentile(micros, 0.5), Percentile(micros, 0.99), Percentile(micros, 0.999));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: store_bench rocksdb DIR|redis URL [ENTITIES] [VALUE_BYTES] [LOOKUPS]\n");
    return 2;
  }
  const std::string backend = argv[1];
  const int entities = argc > 3 ? std::atoi(argv[3]) : 100000;
  const int value_bytes = argc > 4 ? std::atoi(argv[4]) : 200;
  const int lookups = argc > 5 ? std::atoi(argv[5]) : 20000;

  store::StoreOptions options;
  base::Result<std::unique_ptr<store::OnlineStore>> writer = base::Internal("unopened");
  if (backend == "rocksdb") {
    writer = store::OpenRocksDbStore(argv[2], false, options);
  } else if (backend == "redis") {
    auto ep = store::ParseRedisUrl(argv[2]);
    if (!ep.ok()) Die(ep.status());
    writer = store::OpenRedisStore(*ep, store::RedisAuthFromEnvironment(), false, options);
  } else {
    std::fprintf(stderr, "store_bench: unknown backend '%s'\n", backend.c_str());
    return 2;
  }
  if (!writer.ok()) Die(writer.status());
  if (auto s = (*writer)->DeleteView("bench"); !s.ok()) Die(s);

  constexpr int kBatch = 10000;
  const std::string value(static_cast<std::size_t>(value_bytes), 'v');
  const auto start = Clock::now();
  for (int first = 0; first < entities; first += kBatch) {
    std::vector<std::pair<std::string, std::string>> batch;
    for (int i = first; i < std::min(entities, first + kBatch); ++i) {
      batch.emplace_back(Entity(i), value);
    }
    store::ViewMeta meta;  // as sluice writes it: hashes and a timestamp
    meta.source_version = std::string(64, 'a');
    meta.definition_hash = std::string(64, 'b');
    meta.materialized_at = "2026-12-07T09:00:00.000000Z";
    meta.entities = std::min(entities, first + kBatch);
    if (auto s = (*writer)->Write("bench", batch, meta); !s.ok()) Die(s);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("| %-8s | materialize %d x %d B | %9.0f entities/s |\n", backend.c_str(), entities,
              value_bytes, entities / secs);

  std::unique_ptr<store::OnlineStore> reader;
  if (backend == "rocksdb") {
    auto r = store::OpenRocksDbStore(argv[2], true, options);
    if (!r.ok()) Die(r.status());
    if (auto s = (*r)->CatchUp(); !s.ok()) Die(s);
    reader = std::move(*r);
  } else {
    reader = std::move(*writer);
  }
  // Twice each, alternating, so a drift of the machine shows instead of favouring one.
  for (int round = 0; round < 2; ++round) {
    for (bool with_meta : {false, true}) {
      MeasureLookups(*reader, backend.c_str(), entities, 1, lookups, with_meta);
      MeasureLookups(*reader, backend.c_str(), entities, 100, lookups / 10, with_meta);
    }
  }
  if (backend == "rocksdb") {
    // What a reader's catch-up costs: with nothing new, and after the writer flushed (here its
    // restart's recovery flush), when the reader opens a fresh instance (src/store/README.md).
    auto timed_catch_up = [&](const char* what) {
      const auto t0 = Clock::now();
      if (auto s = reader->CatchUp(); !s.ok()) Die(s);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      auto got = reader->MultiGet("bench", {Entity(entities - 1)});
      if (!got.ok()) Die(got.status());
      if (!(*got)[0]) Die(base::Internal("an entity is missing after the catch-up"));
      std::printf("| %-8s | reader catch-up, %-27s | %9.2f ms |\n", backend.c_str(), what, ms);
    };
    timed_catch_up("nothing new");
    writer->reset();
    writer = store::OpenRocksDbStore(argv[2], false, options);  // recovers and flushes the log
    if (!writer.ok()) Die(writer.status());
    timed_catch_up("after a writer flush (reopen)");
  }
  return 0;
}
