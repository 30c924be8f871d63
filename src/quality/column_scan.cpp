#include "quality/column_scan.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "base/log.h"
#include "base/workers.h"

namespace sluice::quality {
namespace {

constexpr int kDigitBits = 8;  // 256 buckets: the scatter stays in L1 (11 bits measured no faster)
constexpr int kDigits = (64 + kDigitBits - 1) / kDigitBits;
constexpr size_t kBuckets = size_t{1} << kDigitBits;

std::string NumericSql(const std::string& from, const std::string& expr) {
  return "SELECT " + expr + " AS v FROM (" + from + ") AS t";
}

std::string CountSql(const std::string& from, const std::string& expr) {
  return "SELECT v, count(*)::BIGINT AS n FROM (SELECT " + expr + " AS v FROM (" + from +
         ") AS t) AS u GROUP BY v";
}

// The calling thread's CPU time, in seconds.
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// How long the calling thread has waited for a CPU while it could run (Linux's schedstat), in
// seconds; negative where the system does not say.
double ThreadRunQueueSeconds() {
  std::FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
  if (f == nullptr) return -1;
  unsigned long long on_cpu = 0, waiting = 0;
  const bool read = std::fscanf(f, "%llu %llu", &on_cpu, &waiting) == 2;
  std::fclose(f);
  return read ? static_cast<double>(waiting) * 1e-9 : -1;
}

}  // namespace

std::int64_t ValueCounts::total() const {
  return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

namespace {

using DigitCounts = std::array<std::array<size_t, kBuckets>, kDigits>;

// Every digit's histogram, in two halves (even and odd keys): the high digits of neighbouring
// keys are mostly equal, and one table would make each increment wait for the one before.
struct DigitHistograms {
  DigitCounts even, odd;
  DigitHistograms() {
    for (auto* t : {&even, &odd})
      for (auto& c : *t)
        c.fill(0);
  }
  // The totals, in `even`.
  DigitCounts& Merged() {
    for (int d = 0; d < kDigits; ++d)
      for (size_t b = 0; b < kBuckets; ++b)
        even[d][b] += std::exchange(odd[d][b], 0);
    return even;
  }
};

void CountDigits(const std::uint64_t* keys, size_t n, DigitHistograms& h) {
  size_t i = 0;
  for (; i + 1 < n; i += 2) {
    const std::uint64_t a = keys[i], b = keys[i + 1];
    for (int d = 0; d < kDigits; ++d) {
      ++h.even[d][(a >> (d * kDigitBits)) & (kBuckets - 1)];
      ++h.odd[d][(b >> (d * kDigitBits)) & (kBuckets - 1)];
    }
  }
  for (; i < n; ++i) {
    for (int d = 0; d < kDigits; ++d)
      ++h.even[d][(keys[i] >> (d * kDigitBits)) & (kBuckets - 1)];
  }
}

// The radix sort given every digit's histogram of keys[0, n).
void SortCounted(std::uint64_t* keys, std::uint64_t* scratch, size_t n, DigitCounts& counts) {
  if (n < 2) return;
  if (n < 256) {
    std::sort(keys, keys + n);
    return;
  }
  std::uint64_t* from = keys;
  std::uint64_t* to = scratch;
  for (int d = 0; d < kDigits; ++d) {
    auto& c = counts[d];
    if (std::any_of(c.begin(), c.end(), [n](size_t x) { return x == n; })) continue;
    size_t sum = 0;
    for (auto& x : c) {
      const size_t here = x;
      x = sum;
      sum += here;
    }
    const int shift = d * kDigitBits;
    for (size_t i = 0; i < n; ++i) {
      const std::uint64_t k = from[i];
      to[c[(k >> shift) & (kBuckets - 1)]++] = k;
    }
    std::swap(from, to);
  }
  if (from != keys) std::memcpy(keys, from, n * sizeof *keys);
}

}  // namespace

void RadixSort(std::uint64_t* keys, std::uint64_t* scratch, size_t n) {
  auto counts = std::make_unique<DigitHistograms>();
  CountDigits(keys, n, *counts);
  SortCounted(keys, scratch, n, counts->Merged());
}

void ToSample(std::span<const double> sorted, NumericSample& s) {
  s.values.clear();
  s.counts.clear();
  // Sorted: the infinities and NaN sit at the ends, the finite values between.
  size_t lo = 0, hi = sorted.size();
  while (lo < hi && !std::isfinite(sorted[lo]))
    ++lo;
  while (hi > lo && !std::isfinite(sorted[hi - 1]))
    --hi;
  if (lo == hi) return;
  // Room for every value at once: growing by doubling would copy and fault in each larger block.
  s.values.reserve(hi - lo);
  s.counts.reserve(hi - lo);
  double current = sorted[lo];
  std::int64_t run = 0;
  for (size_t i = lo; i < hi; ++i) {
    const double v = sorted[i];
    if (v != current) {
      s.values.push_back(current);
      s.counts.push_back(run);
      current = v;
      run = 0;
    }
    ++run;
  }
  s.values.push_back(current);
  s.counts.push_back(run);
}

ColumnReader::ColumnReader(warehouse::DuckDb connection) : connection_(std::move(connection)) {}

base::Result<ColumnReader> ColumnReader::Open(const warehouse::DuckDb& db) {
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb connection, db.Connect());
  return ColumnReader(std::move(connection));
}

base::Result<SortedNumbers> ColumnReader::ReadSorted(const std::string& from,
                                                     const std::string& expr, size_t expected_rows,
                                                     int slot) {
  if (slot < 0 || slot >= kSlots)
    return base::Internal("no sort buffer slot " + std::to_string(slot));
  ValueBuffer& buffer = keys_[slot];
  for (auto* b : {&buffer, &scratch_})
    b->AdviseHugePages(true);  // eight radix passes: fewer TLB misses
  buffer.Reserve(std::max<size_t>(expected_rows, 4096));
  size_t kept = 0, nans = 0;
  std::int64_t rows = 0;
  bool is_int = false;
  auto counts = std::make_unique<DigitHistograms>();  // 32 KiB: not on the stack
  // Keys are written as the chunks arrive, inside DuckDB's pipeline (FoldNumbers): the values
  // are never held in a column of their own.
  const base::Status read = connection_.FoldNumbers(
      NumericSql(from, expr), [&](const warehouse::DuckDb::NumberChunk& chunk) {
        is_int = chunk.type == types::LogicalType::kInt64;
        const size_t n = chunk.rows;
        rows += static_cast<std::int64_t>(n);
        if (kept + n > buffer.capacity())
          buffer.Grow(std::max(kept + n, 2 * buffer.capacity()), kept);
        std::uint64_t* keys = buffer.words() + kept;
        const auto* data = static_cast<const std::uint8_t*>(chunk.values);
        const std::uint64_t* validity = chunk.validity;
        size_t m = 0;
        for (size_t r = 0; r < n; ++r) {
          if (validity != nullptr && ((validity[r / 64] >> (r % 64)) & 1U) == 0) continue;
          if (is_int) {
            std::int64_t v;
            std::memcpy(&v, data + r * sizeof v, sizeof v);
            keys[m++] = IntKey(v);
          } else {
            double v;
            std::memcpy(&v, data + r * sizeof v, sizeof v);
            if (std::isnan(v)) {
              ++nans;
            } else {
              keys[m++] = DoubleKey(v);
            }
          }
        }
        // Counted while the chunk's keys are still in cache, not in a pass of their own.
        CountDigits(keys, m, *counts);
        kept += m;
      });
  if (!read.ok()) return read.WithContext("statistics expression '" + expr + "'");
  scratch_.Reserve(kept);
  SortCounted(buffer.words(), scratch_.words(), kept, counts->Merged());
  // The sorted keys become the values in place (NaN appended: rows >= kept + nans fit).
  buffer.Grow(kept + nans, kept);
  std::uint64_t* w = buffer.words();
  std::int64_t distinct = 0;
  std::uint64_t previous_key = 0;
  double previous = 0;
  for (size_t i = 0; i < kept; ++i) {
    std::uint64_t key;
    std::memcpy(&key, w + i, sizeof key);
    double v;
    if (is_int) {
      // Distinct as integers: 2^53 and 2^53 + 1 are one double but two values.
      distinct += i == 0 || key != previous_key ? 1 : 0;
      v = static_cast<double>(KeyInt(key));
    } else {
      v = KeyDouble(key);
      // Compared as doubles: -0.0 and 0.0 are one value.
      distinct += i == 0 || v != previous ? 1 : 0;
    }
    previous_key = key;
    previous = v;
    std::memcpy(w + i, &v, sizeof v);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (size_t i = kept; i < kept + nans; ++i)
    std::memcpy(w + i, &nan, sizeof nan);
  SortedNumbers out;
  out.values = std::span<const double>(buffer.doubles(), kept + nans);
  out.rows = rows;
  out.distinct = distinct + (nans > 0 ? 1 : 0);
  return out;
}

base::Result<NumericSummary> ColumnReader::ReadSummary(const std::string& from,
                                                       const std::string& expr,
                                                       size_t expected_rows,
                                                       std::span<const double> levels, int bins) {
  std::int64_t rows = 0;
  // Each key is written once and read twice or so: huge pages would save less than the kernel
  // spends finding them (measured: 0.25 s less system time on the 10M-row bench profile).
  for (auto* b : {&keys_[0], &keys_[1], &scratch_})
    b->AdviseHugePages(false);
  std::unique_ptr<NumericSummarizer> summarizer;  // once the first chunk gives the type
  // Each chunk taken inside DuckDB's pipeline as the scan decodes it, where DuckDB holds it: a
  // streamed result buffered and copied every chunk, then sluice copied it into a batch.
  const base::Status read = connection_.FoldNumbers(
      NumericSql(from, expr), [&](const warehouse::DuckDb::NumberChunk& chunk) {
        if (!summarizer) {
          summarizer = std::make_unique<NumericSummarizer>(chunk.type == types::LogicalType::kInt64,
                                                           keys_[0], expected_rows);
        }
        rows += static_cast<std::int64_t>(chunk.rows);
        summarizer->Add(chunk.values, chunk.validity, chunk.rows);
      });
  if (!read.ok()) return read.WithContext("statistics expression '" + expr + "'");
  NumericSummary out;
  if (summarizer) out = summarizer->Finish(keys_[1], scratch_, levels, bins);
  out.rows = rows;
  return out;
}

base::Result<ValueCounts> ColumnReader::CountValues(const std::string& from,
                                                    const std::string& expr) {
  SLUICE_ASSIGN_OR_RETURN(types::Batch b, connection_.Query(CountSql(from, expr)));
  const auto& value = b.column(0);
  const auto& n = b.column(1);
  if (value.type() != types::LogicalType::kString) {
    return base::Internal("statistics expression '" + expr + "' is not text");
  }
  ValueCounts out;
  std::vector<std::pair<std::string_view, std::int64_t>> parts;
  for (size_t r = 0; r < b.num_rows(); ++r) {
    out.rows += n.GetInt64(r);
    if (value.IsValid(r)) parts.emplace_back(value.GetString(r), n.GetInt64(r));
  }
  std::sort(parts.begin(), parts.end());
  out.values.reserve(parts.size());
  out.counts.reserve(parts.size());
  for (const auto& [v, k] : parts) {
    out.values.emplace_back(v);
    out.counts.push_back(k);
  }
  return out;
}

void ColumnReader::ReleaseBuffers() {
  for (auto& b : keys_)
    b = ValueBuffer();
  scratch_ = ValueBuffer();
}

base::Result<types::Batch> ColumnReader::Query(const std::string& sql) {
  return connection_.Query(sql);
}

base::Result<std::int64_t> ColumnReader::CountRows(const std::string& from) {
  return connection_.QueryScalarInt64("SELECT count(*) FROM (" + from + ") AS t");
}

int ScanWorkers(int threads, size_t tasks) {
  const int workers =
      threads > 0 ? threads : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  return std::max(1, std::min(workers, static_cast<int>(std::min<size_t>(tasks, 1 << 20))));
}

base::Status ForEachColumn(
    warehouse::DuckDb& db, size_t tasks, int threads,
    const std::function<base::Status(ColumnReader&, int worker, size_t task)>& task,
    const std::function<std::string(size_t task)>& name) {
  if (tasks == 0) return base::Status::Ok();
  const int workers = ScanWorkers(threads, tasks);
  std::vector<ColumnReader> readers;
  for (int w = 0; w < workers; ++w) {
    SLUICE_ASSIGN_OR_RETURN(ColumnReader r, ColumnReader::Open(db));
    readers.push_back(std::move(r));
  }
  // One query per worker, each on one DuckDB thread: two cores then scan and sort two columns at
  // once instead of DuckDB's threads waiting on one sorting thread. A lone worker keeps DuckDB's
  // threads for its scans.
  // Every column is a query of its own over the same files: their footers are parsed once, not
  // once per column (about 2 ms a query for a 10M-row file of 82 row groups).
  SLUICE_RETURN_IF_ERROR(db.Execute("SET parquet_metadata_cache = true"));
  std::optional<int> restore;
  if (workers > 1) {
    SLUICE_ASSIGN_OR_RETURN(const int previous, db.SwapThreads(1));
    restore = previous;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  base::Status first = base::Status::Ok();
  // The debug timeline: when each task ran on which worker, and whether a worker's wall time
  // went to its own work or to waiting for a CPU that other processes held.
  const bool timed = base::LogEnabled(base::LogLevel::kDebug);
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&started] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  base::RunWorkers(workers, [&](int w) {
    const double cpu_before = timed ? ThreadCpuSeconds() : 0;
    const double waited_before = timed ? ThreadRunQueueSeconds() : 0;
    size_t done = 0;
    for (size_t i = next++; i < tasks && !failed; i = next++) {
      const double from = timed ? elapsed() : 0, cpu = timed ? ThreadCpuSeconds() : 0;
      base::Status s = task(readers[static_cast<size_t>(w)], w, i);
      ++done;
      if (timed) {
        base::LogDebug(fmt::format("scan: {} on worker {}: {:.3f}-{:.3f} s, {:.3f} s on CPU",
                                   name ? name(i) : "task " + std::to_string(i), w, from, elapsed(),
                                   ThreadCpuSeconds() - cpu));
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = std::move(s);
        failed = true;
      }
    }
    // Unmapping a worker's buffers (hundreds of MB) takes milliseconds: done here, while the
    // other workers may still be on their last columns, not afterwards on one thread.
    readers[static_cast<size_t>(w)].ReleaseBuffers();
    if (timed) {
      const double waited = ThreadRunQueueSeconds();
      base::LogDebug(fmt::format(
          "scan: worker {} done at {:.3f} s: {} tasks, {:.3f} s on CPU, {:.3f} s waiting for a CPU",
          w, elapsed(), done, ThreadCpuSeconds() - cpu_before,
          waited >= 0 && waited_before >= 0 ? waited - waited_before : -1.0));
    }
  });
  if (restore) {
    const auto swapped = db.SwapThreads(*restore);
    if (first.ok() && !swapped.ok()) return swapped.status();
  }
  return first;
}

}  // namespace sluice::quality
