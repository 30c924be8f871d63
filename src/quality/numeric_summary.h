#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "quality/value_buffer.h"
#include "types/column.h"

// Exact statistics of a numeric column without sorting it. Profiles need a distinct count, seven
// quantiles, a histogram and moments; a full sort gives them all but costs eight radix passes over
// the values. Here the values become order-preserving 64-bit keys as they are read (their leading
// 16 bits counted on the way), are then partitioned by their leading bits (one scatter, and one
// more level for the crowded parts) into groups of at most a few ten thousand keys that fit in the
// core's cache, and each group answers for itself: its distinct keys by a small hash set, its
// histogram bins (one add when the whole group falls into one bin), and, only where a requested
// rank falls, a sort of the group for that order statistic. Every figure equals the sorted
// computation's (numpy's), the moments up to the rounding of a compensated sum.
namespace sluice::quality {

// Order-preserving maps of numbers to unsigned keys: the key order is the numeric order (-0.0
// just before 0.0; NaN outside every number).
inline constexpr std::uint64_t kKeySignBit = std::uint64_t{1} << 63;
inline std::uint64_t DoubleKey(double v) {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  return (bits & kKeySignBit) != 0 ? ~bits : bits | kKeySignBit;
}
inline double KeyDouble(std::uint64_t key) {
  return std::bit_cast<double>((key & kKeySignBit) != 0 ? key & ~kKeySignBit : ~key);
}
inline std::uint64_t IntKey(std::int64_t v) {
  return static_cast<std::uint64_t>(v) ^ kKeySignBit;
}
inline std::int64_t KeyInt(std::uint64_t key) {
  return static_cast<std::int64_t>(key ^ kKeySignBit);
}

// numpy.histogram's `bins` equal-width bins from lo to hi (lo < hi): edges k * step + lo (the last
// one hi), and numpy's bin of a value (its uniform-bin index, moved by one where it disagrees with
// those edges).
class NumpyBins {
 public:
  NumpyBins(double lo, double hi, int bins);
  // The bin of lo <= v <= hi; never decreases as v grows.
  int Of(double v) const;
  int size() const { return bins_; }
  double edge(int k) const { return edges_[static_cast<size_t>(k)]; }

 private:
  double lo_, span_;
  int bins_;
  std::vector<double> edges_;
};

struct NumericSummary {
  std::int64_t rows = 0;      // rows read, NULLs included (set by the reader)
  std::int64_t count = 0;     // non-null values, NaN included
  std::int64_t distinct = 0;  // distinct non-null values: NaN is one value, -0.0 and 0.0 are
                              // one, integers are compared as integers (2^53 + 1 is not 2^53)
  std::optional<double> min;  // the extremes, when finite (NaN sorts above everything)
  std::optional<double> max;
  std::optional<double> mean;    // when min and max are set (every value finite)
  std::optional<double> stddev;  // sample standard deviation (n - 1), with two values or more
  // numpy.percentile (linear) at the requested levels over the values sorted with NaN last;
  // empty when one of them is not finite.
  std::vector<double> quantiles;
  // When min and max are set: counts in NumpyBins(min, max, bins), or one bin of every value when
  // min == max.
  std::vector<std::int64_t> histogram;
};

// Collects one numeric column chunk by chunk, then summarizes it. Single use, one thread. The
// keys are written straight into pages of their bucket (leading 16 bits) in `pool`, so the
// partition costs no pass of its own; Finish gathers each bucket's pages in order.
class NumericSummarizer {
 public:
  // `is_int`: the values are BIGINT (else DOUBLE). `pool` holds the keys (its contents are
  // replaced; it grows as needed); `expected` values is a hint for its first size.
  NumericSummarizer(bool is_int, ValueBuffer& pool, size_t expected);
  ~NumericSummarizer();
  NumericSummarizer(const NumericSummarizer&) = delete;
  NumericSummarizer& operator=(const NumericSummarizer&) = delete;

  // Takes the non-null values of `column` (kInt64 or kDouble as given to the constructor).
  void Add(const types::Column& column);
  // Takes the non-null values of `n` 8-byte values (int64 or double as given to the
  // constructor): row r is valid iff bit r % 64 of validity[r / 64] is set; a null `validity`:
  // every row is (a NULL row's slot may hold anything).
  void Add(const void* values, const std::uint64_t* validity, size_t n);
  // The summary of the values added, with quantiles at `levels` (each in [0, 1]) and `bins`
  // histogram bins (>= 1). `a` and `b` are working memory (grown to the largest bucket).
  NumericSummary Finish(ValueBuffer& a, ValueBuffer& b, std::span<const double> levels, int bins);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sluice::quality
