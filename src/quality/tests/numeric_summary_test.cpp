#include "quality/numeric_summary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sluice::quality {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLevels[] = {0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1};
constexpr int kBins = 20;

// One column's values: nullopt is NULL.
template <typename T>
using Values = std::vector<std::optional<T>>;

// The summary the brute-force way: sort everything (NaN last), then read it off as numpy would.
template <typename T>
NumericSummary Reference(const Values<T>& values) {
  NumericSummary s;
  s.rows = static_cast<std::int64_t>(values.size());
  std::vector<T> kept;
  std::int64_t nans = 0;
  for (const auto& v : values) {
    if (!v) continue;
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(*v)) {
        ++nans;
        continue;
      }
    }
    kept.push_back(*v);
  }
  // By key: -0.0 before 0.0, as the summary orders them.
  std::sort(kept.begin(), kept.end(), [](T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return DoubleKey(a) < DoubleKey(b);
    } else {
      return a < b;
    }
  });
  const size_t n = kept.size();
  s.count = static_cast<std::int64_t>(n) + nans;
  for (size_t i = 0; i < n; ++i)
    s.distinct += i == 0 || kept[i] != kept[i - 1] ? 1 : 0;  // -0.0 == 0.0
  s.distinct += nans > 0 ? 1 : 0;
  if (s.count == 0) return s;
  std::vector<double> sorted(kept.begin(), kept.end());
  for (std::int64_t i = 0; i < nans; ++i)
    sorted.push_back(kNaN);
  auto finite = [](double x) { return std::isfinite(x) ? std::optional<double>(x) : std::nullopt; };
  s.min = finite(sorted.front());
  s.max = finite(sorted.back());
  for (double q : kLevels) {
    const double index = static_cast<double>(sorted.size() - 1) * q;
    const auto lo = static_cast<size_t>(std::floor(index));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double t = index - std::floor(index), a = sorted[lo], b = sorted[hi];
    const double x = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
    if (!std::isfinite(x)) {
      s.quantiles.clear();
      break;
    }
    s.quantiles.push_back(x);
  }
  if (!s.min || !s.max) return s;
  long double sum = 0;
  for (double x : sorted)
    sum += x;
  const double mean = static_cast<double>(sum / static_cast<long double>(n));
  s.mean = mean;
  long double squares = 0;
  for (double x : sorted)
    squares += static_cast<long double>(x - mean) * (x - mean);
  if (n > 1) s.stddev = static_cast<double>(std::sqrt(squares / static_cast<long double>(n - 1)));
  if (*s.max > *s.min) {
    const NumpyBins bins(*s.min, *s.max, kBins);
    s.histogram.assign(kBins, 0);
    for (double x : sorted)
      ++s.histogram[static_cast<size_t>(bins.Of(x))];
  } else {
    s.histogram = {static_cast<std::int64_t>(n)};
  }
  return s;
}

// The summary through NumericSummarizer, fed in chunks of 2048 rows as DuckDB gives them.
template <typename T>
NumericSummary Summarize(const Values<T>& values) {
  constexpr bool kInt = std::is_same_v<T, std::int64_t>;
  ValueBuffer pool, a, b;
  NumericSummarizer summarizer(kInt, pool, values.size() / 3);  // the hint too small: it grows
  for (size_t from = 0; from < values.size() || from == 0; from += 2048) {
    types::Column column(kInt ? types::LogicalType::kInt64 : types::LogicalType::kDouble);
    for (size_t i = from; i < std::min(values.size(), from + 2048); ++i) {
      if (!values[i]) {
        column.AppendNull();
      } else if constexpr (kInt) {
        column.AppendInt64(*values[i]);
      } else {
        column.AppendDouble(*values[i]);
      }
    }
    summarizer.Add(column);
    if (values.empty()) break;
  }
  NumericSummary s = summarizer.Finish(a, b, kLevels, kBins);
  s.rows = static_cast<std::int64_t>(values.size());
  return s;
}

void ExpectClose(const std::optional<double>& got, const std::optional<double>& want,
                 const std::string& what) {
  ASSERT_EQ(got.has_value(), want.has_value()) << what;
  if (got) {
    EXPECT_NEAR(*got, *want, 1e-12 * std::max(1.0, std::abs(*want))) << what;
  }
}

template <typename T>
void ExpectSameSummary(const Values<T>& values, const std::string& name) {
  const NumericSummary got = Summarize(values), want = Reference(values);
  EXPECT_EQ(got.count, want.count) << name;
  EXPECT_EQ(got.distinct, want.distinct) << name;
  // Extremes and quantiles are values of the column (or numpy's interpolation of two): exact.
  EXPECT_EQ(got.min, want.min) << name;
  EXPECT_EQ(got.max, want.max) << name;
  EXPECT_EQ(got.quantiles, want.quantiles) << name;
  EXPECT_EQ(got.histogram, want.histogram) << name;
  ExpectClose(got.mean, want.mean, name + " mean");
  ExpectClose(got.stddev, want.stddev, name + " stddev");
}

TEST(NumericSummaryTest, EqualsTheSortedComputationOnRandomDoubles) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(3, 5);
  // Crowded buckets (partitioned a level further), small ones (grouped), rounded values with
  // many duplicates, NULLs among them.
  Values<double> values;
  for (int i = 0; i < 300000; ++i) {
    const double x = normal(rng);
    values.push_back(i % 97 == 0 ? std::nullopt : std::optional<double>(std::round(x * 1e4) / 1e4));
  }
  ExpectSameSummary(values, "normal");
  // Spread over every exponent: thousands of small buckets.
  Values<double> spread;
  std::uniform_int_distribution<int> exponent(-300, 300);
  for (int i = 0; i < 100000; ++i)
    spread.push_back((i % 2 == 0 ? -1 : 1) * std::ldexp(normal(rng), exponent(rng)));
  ExpectSameSummary(spread, "spread");
}

TEST(NumericSummaryTest, DuplicateHeavyAndConstantColumns) {
  std::mt19937_64 rng(11);
  Values<double> few;  // 7 values, each far more often than a group holds
  for (int i = 0; i < 200000; ++i)
    few.push_back(static_cast<double>(rng() % 7) * 0.25 - 0.5);
  ExpectSameSummary(few, "seven values");
  ExpectSameSummary(Values<double>(50000, 2.5), "constant");
  ExpectSameSummary(Values<double>(3, 2.5), "constant, three rows");
  ExpectSameSummary(Values<double>{1.5}, "one value");
}

TEST(NumericSummaryTest, NaNInfinitiesZerosAndNulls) {
  ExpectSameSummary(Values<double>{}, "empty");
  ExpectSameSummary(Values<double>(5000, std::nullopt), "all NULL");
  ExpectSameSummary(Values<double>(5000, kNaN), "all NaN");
  // -0.0 and 0.0 are one value, in the sorted order -0.0 first.
  ExpectSameSummary(Values<double>{-0.0, 0.0, 0.0, -0.0, 1.0}, "zeros");
  ExpectSameSummary(Values<double>{-0.0, -0.0, 1.0}, "negative zeros");
  std::mt19937_64 rng(3);
  Values<double> mixed;
  for (int i = 0; i < 60000; ++i) {
    const double specials[] = {kNaN, kInf, -kInf, -0.0, 0.0};
    mixed.push_back(i % 10 == 0 ? std::optional<double>(specials[rng() % 5])
                                : std::optional<double>(static_cast<double>(rng() % 1000)));
  }
  ExpectSameSummary(mixed, "NaN and infinities");
  Values<double> infinite(mixed.begin(), mixed.end());
  std::erase_if(infinite, [](const auto& v) { return v && std::isnan(*v); });
  ExpectSameSummary(infinite, "infinities");
  // Quantiles are not finite: none at all.
  EXPECT_TRUE(Summarize(infinite).quantiles.empty());
  EXPECT_FALSE(Summarize(infinite).mean.has_value());
}

TEST(NumericSummaryTest, IntegersAreDistinctAsIntegers) {
  constexpr std::int64_t k53 = std::int64_t{1} << 53;
  const Values<std::int64_t> big = {k53, k53 + 1, k53 + 1, -3, std::nullopt, 7};
  ExpectSameSummary(big, "2^53");
  EXPECT_EQ(Summarize(big).distinct, 4);
  std::mt19937_64 rng(5);
  Values<std::int64_t> small, wide;
  for (int i = 0; i < 150000; ++i) {
    small.push_back(static_cast<std::int64_t>(rng() % 50000));  // one leading bucket
    wide.push_back(static_cast<std::int64_t>(rng()));           // all of them
  }
  small.push_back(std::numeric_limits<std::int64_t>::min());  // key 0, the hash's empty mark
  small.push_back(std::numeric_limits<std::int64_t>::max());
  ExpectSameSummary(small, "small integers");
  ExpectSameSummary(wide, "random integers");
  ExpectSameSummary(Values<std::int64_t>(9000, 0), "zeros");
}

// Sums of small integers are exact, so the mean must be the exact one: a term lost or added twice
// at a chunk's end (the sums take four terms at a time), or a NULL not left out, shows.
TEST(NumericSummaryTest, MeanTakesEveryValueOnceWhateverTheChunkLength) {
  for (size_t n = 1; n <= 13; ++n) {
    for (const bool with_null : {false, true}) {
      Values<double> doubles;
      Values<std::int64_t> ints;
      std::int64_t sum = 0, count = 0;
      for (size_t i = 0; i < n; ++i) {
        if (with_null && i == n / 2) {
          doubles.push_back(std::nullopt);
          ints.push_back(std::nullopt);
          continue;
        }
        const auto x = static_cast<std::int64_t>(i * 5 % 7) - 2;
        doubles.push_back(static_cast<double>(x));
        ints.push_back(x);
        sum += x;
        ++count;
      }
      const std::string name = std::to_string(n) + (with_null ? " rows, one NULL" : " rows");
      if (count == 0) continue;
      const double mean = static_cast<double>(sum) / static_cast<double>(count);
      const NumericSummary d = Summarize(doubles), i = Summarize(ints);
      ASSERT_TRUE(d.mean.has_value()) << name;
      ASSERT_TRUE(i.mean.has_value()) << name;
      EXPECT_EQ(*d.mean, mean) << name;
      EXPECT_EQ(*i.mean, mean) << name;
      ExpectSameSummary(doubles, name);
      ExpectSameSummary(ints, name + ", integers");
    }
  }
}

TEST(NumpyBinsTest, EveryValueLiesBetweenItsBinsEdges) {
  std::mt19937_64 rng(1);
  for (const auto& [lo, hi] : {std::pair{0.0, 1.0}, {-7.3, 12.9}, {1e-300, 3e-300}, {0.1, 0.7}}) {
    const NumpyBins bins(lo, hi, 20);
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<double> xs = {lo, hi};
    for (int k = 0; k <= 20; ++k)
      xs.push_back(bins.edge(k));
    for (int i = 0; i < 20000; ++i)
      xs.push_back(u(rng));
    std::sort(xs.begin(), xs.end());
    int previous = 0;
    for (double x : xs) {
      const int b = bins.Of(x);
      ASSERT_GE(b, previous) << x;  // never decreases: a group within one bin is counted whole
      previous = b;
      EXPECT_GE(x, bins.edge(b)) << x;
      if (b < 19) {
        EXPECT_LT(x, bins.edge(b + 1)) << x;
      }
    }
    EXPECT_EQ(bins.Of(hi), 19);
  }
}

}  // namespace
}  // namespace sluice::quality
