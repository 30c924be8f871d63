#include "quality/column_scan.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>
#include <thread>

#include "base/workers.h"

namespace sluice::quality {
namespace {

constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;
constexpr int kDigitBits = 8;  // 256 buckets: the scatter stays in L1 (faster than 11 bits here)
constexpr int kDigits = (64 + kDigitBits - 1) / kDigitBits;
constexpr size_t kBuckets = size_t{1} << kDigitBits;

// Order-preserving maps to unsigned keys: the key order is the numeric order (-0.0 before 0.0).
std::uint64_t DoubleKey(double v) {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  return (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
}
double KeyDouble(std::uint64_t key) {
  return std::bit_cast<double>((key & kSignBit) != 0 ? key & ~kSignBit : ~key);
}
std::uint64_t IntKey(std::int64_t v) {
  return static_cast<std::uint64_t>(v) ^ kSignBit;
}
std::int64_t KeyInt(std::uint64_t key) {
  return static_cast<std::int64_t>(key ^ kSignBit);
}

using DigitCounts = std::vector<std::array<size_t, kBuckets>>;

// LSD radix sort of `keys` given every digit's histogram: one scatter per digit that the keys do
// not all share.
void SortByDigits(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch,
                  DigitCounts& counts) {
  const size_t n = keys.size();
  if (n < 2) return;
  if (n < 256) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  scratch.resize(n);
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
    for (const std::uint64_t k : keys)
      scratch[c[(k >> shift) & (kBuckets - 1)]++] = k;
    keys.swap(scratch);
  }
}

// Sorts one column's valid values. NaN (any sign) is set apart and appended last, where DuckDB
// orders it; the distinct count treats every NaN as one value, as count(DISTINCT) does.
// `keys` and `scratch` are a worker's buffers, reused from column to column: fresh ones would cost
// a page fault per 4 KiB each time.
SortedNumbers SortColumn(const types::Column& column, std::vector<std::uint64_t>& keys,
                         std::vector<std::uint64_t>& scratch) {
  const size_t n = column.size();
  const bool all_valid = column.AllValid();
  const bool is_int = column.type() == types::LogicalType::kInt64;
  keys.resize(n);
  DigitCounts counts(kDigits);
  for (auto& c : counts)
    c.fill(0);
  size_t kept = 0, nans = 0;
  const std::uint8_t* data = column.data();
  // The keys and every digit's histogram in one pass over the column.
  auto keep = [&](std::uint64_t k) {
    keys[kept++] = k;
    for (int d = 0; d < kDigits; ++d)
      ++counts[d][(k >> (d * kDigitBits)) & (kBuckets - 1)];
  };
  for (size_t r = 0; r < n; ++r) {
    if (!all_valid && !column.IsValid(r)) continue;
    if (is_int) {
      std::int64_t v;
      std::memcpy(&v, data + r * sizeof v, sizeof v);
      keep(IntKey(v));
    } else {
      double v;
      std::memcpy(&v, data + r * sizeof v, sizeof v);
      if (std::isnan(v)) {
        ++nans;
        continue;
      }
      keep(DoubleKey(v));
    }
  }
  keys.resize(kept);
  SortByDigits(keys, scratch, counts);
  SortedNumbers out;
  out.values.resize(keys.size() + nans);
  std::int64_t distinct = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (is_int) {
      distinct += i == 0 || keys[i] != keys[i - 1];
      out.values[i] = static_cast<double>(KeyInt(keys[i]));
    } else {
      out.values[i] = KeyDouble(keys[i]);
      // Compared as doubles: -0.0 and 0.0 are one value.
      distinct += i == 0 || out.values[i] != out.values[i - 1];
    }
  }
  for (size_t i = keys.size(); i < out.values.size(); ++i)
    out.values[i] = std::numeric_limits<double>::quiet_NaN();
  out.distinct = distinct + (nans > 0 ? 1 : 0);
  return out;
}

std::string NumericSql(const ScanSpec& spec) {
  std::string select;
  for (size_t i = 0; i < spec.numeric.size(); ++i) {
    select += (i == 0 ? "" : ", ") + spec.numeric[i] + " AS n" + std::to_string(i);
  }
  return "SELECT " + select + " FROM (" + spec.from + ") AS t";
}

// One GROUP BY per column, UNION ALL'ed: each part reads only its own Parquet column, so the
// whole is still one pass over the data, and DuckDB runs the parts in parallel.
std::string CategoricalSql(const ScanSpec& spec) {
  std::string sql;
  for (size_t i = 0; i < spec.categorical.size(); ++i) {
    sql += (i == 0 ? "" : " UNION ALL ") + std::string("SELECT ") + std::to_string(i) +
           "::BIGINT AS col, v, count(*)::BIGINT AS n FROM (SELECT " + spec.categorical[i] +
           " AS v FROM (" + spec.from + ") AS t) AS u GROUP BY v";
  }
  return sql;
}

}  // namespace

std::int64_t ValueCounts::total() const {
  return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

void RadixSort(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch) {
  DigitCounts counts(kDigits);
  for (auto& c : counts)
    c.fill(0);
  for (const std::uint64_t k : keys) {
    for (int d = 0; d < kDigits; ++d)
      ++counts[d][(k >> (d * kDigitBits)) & (kBuckets - 1)];
  }
  SortByDigits(keys, scratch, counts);
}

NumericSample ToSample(const SortedNumbers& sorted) {
  NumericSample s;
  for (const double v : sorted.values) {
    if (!std::isfinite(v)) continue;
    if (!s.values.empty() && s.values.back() == v) {
      ++s.counts.back();
    } else {
      s.values.push_back(v);
      s.counts.push_back(1);
    }
  }
  return s;
}

base::Result<ScanResult> ScanColumns(warehouse::DuckDb& db, const ScanSpec& spec) {
  ScanResult out;
  out.numeric.resize(spec.numeric.size());
  out.categorical.resize(spec.categorical.size());
  bool counted = false;
  if (!spec.numeric.empty()) {
    SLUICE_ASSIGN_OR_RETURN(types::Batch batch,
                            db.QueryStreaming(NumericSql(spec), spec.expected_rows));
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      const auto type = batch.column(c).type();
      if (type != types::LogicalType::kInt64 && type != types::LogicalType::kDouble) {
        return base::Internal("statistics expression '" + spec.numeric[c] + "' is not numeric");
      }
    }
    out.rows = static_cast<std::int64_t>(batch.num_rows());
    counted = true;
    int threads = spec.threads > 0
                      ? spec.threads
                      : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    threads = std::min<int>(threads, static_cast<int>(batch.num_columns()));
    std::atomic<size_t> next{0};
    base::RunWorkers(threads, [&](int) {
      std::vector<std::uint64_t> keys, scratch;
      for (size_t c = next++; c < batch.num_columns(); c = next++) {
        out.numeric[c] = SortColumn(batch.column(c), keys, scratch);
        // Each column's copy is released as soon as it is sorted, to bound the peak memory.
        batch.column(c) = types::Column(batch.column(c).type());
      }
    });
  }
  if (!spec.categorical.empty()) {
    SLUICE_ASSIGN_OR_RETURN(types::Batch b, db.Query(CategoricalSql(spec)));
    const auto& col = b.column(0);
    const auto& value = b.column(1);
    const auto& n = b.column(2);
    std::vector<std::vector<std::pair<std::string_view, std::int64_t>>> parts(
        spec.categorical.size());
    std::vector<std::int64_t> rows(spec.categorical.size(), 0);
    for (size_t r = 0; r < b.num_rows(); ++r) {
      const auto c = static_cast<size_t>(col.GetInt64(r));
      rows[c] += n.GetInt64(r);
      if (value.IsValid(r)) parts[c].emplace_back(value.GetString(r), n.GetInt64(r));
    }
    for (size_t c = 0; c < parts.size(); ++c) {
      std::sort(parts[c].begin(), parts[c].end());
      auto& vc = out.categorical[c];
      vc.values.reserve(parts[c].size());
      vc.counts.reserve(parts[c].size());
      for (const auto& [v, k] : parts[c]) {
        vc.values.emplace_back(v);
        vc.counts.push_back(k);
      }
    }
    if (!counted) {
      out.rows = rows[0];
      counted = true;
    }
  }
  if (!counted) {
    SLUICE_ASSIGN_OR_RETURN(out.rows,
                            db.QueryScalarInt64("SELECT count(*) FROM (" + spec.from + ") AS t"));
  }
  return out;
}

}  // namespace sluice::quality
