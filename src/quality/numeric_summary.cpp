#include "quality/numeric_summary.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace sluice::quality {
namespace {

constexpr int kTopBits = 16;  // the buckets keys go to as they are read (12-20 measured slower)
constexpr size_t kTopBuckets = size_t{1} << kTopBits;
constexpr int kLevelBits = 8;  // each further level of a crowded bucket: 256 counters and streams,
                               // in L1 (8-9 measured faster than 10-14)
// Keys per group: a group (8 KiB) and its hash table (twice as many slots) stay in L1.
constexpr size_t kGroup = size_t{1} << 10;

// Two doubles (or keys) side by side: one SSE2 register.
using Pair = double __attribute__((vector_size(16)));
using KeyPair = std::uint64_t __attribute__((vector_size(16)));
using MaskPair = std::int64_t __attribute__((vector_size(16)));

inline Pair LoadPair(const void* p) {
  Pair v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// KeyDouble of two keys at once, without a branch: a key with the sign bit set is a number >= 0
// (clear that bit), else a negative one (flip every bit).
inline Pair KeyDoubles(const std::uint64_t* keys) {
  KeyPair k;
  std::memcpy(&k, keys, sizeof k);
  const KeyPair flip = ((k >> 63) - 1) | kKeySignBit;
  return std::bit_cast<Pair>(k ^ flip);
}

// Terms i, i + 1 as a pair, from one(i).
#define SLUICE_PAIR_OF(one) [&](size_t i) { return Pair{one(i), one(i + 1)}; }

// A sum with compensation (Knuth's two-sum: the rounding error of every addition is kept and
// added at the end): within an ulp or two of the exact sum for any order of terms, so a mean
// matches numpy's pairwise sum to the last digits. Four independent lanes (term i in lane i % 4),
// so additions overlap instead of each waiting for the one before, computed two at a time in
// vector registers: the same operations on each lane as one at a time, so the same bits. A lane
// given a 0 term is unchanged (its sum and compensation start at +0.0 and can never become -0.0).
class CompensatedSum {
 public:
  // Adds term i for every i in [0, n): two(i) gives terms i, i + 1 as a pair, one(i) term i alone
  // (for the last n % 4).
  template <typename Two, typename One>
  [[gnu::always_inline]] void AddAll(size_t n, const Two& two, const One& one) {
    Pair s01 = sum_[0], s23 = sum_[1], c01 = comp_[0], c23 = comp_[1];
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      TwoSum(s01, c01, two(i));
      TwoSum(s23, c23, two(i + 2));
    }
    if (i < n) {
      double t[4] = {0, 0, 0, 0};
      for (int k = 0; i < n; ++i, ++k)
        t[k] = one(i);
      TwoSum(s01, c01, Pair{t[0], t[1]});
      TwoSum(s23, c23, Pair{t[2], t[3]});
    }
    sum_[0] = s01, sum_[1] = s23, comp_[0] = c01, comp_[1] = c23;
  }
  void Add(double v) { TwoSum(sum_[0], comp_[0], Pair{v, 0}); }
  double Value() const {
    double s = 0, c = 0;
    for (int k = 0; k < 4; ++k) {
      TwoSum(s, c, sum_[k / 2][k % 2]);
      c += comp_[k / 2][k % 2];
    }
    return s + c;
  }

 private:
  template <typename T>
  [[gnu::always_inline]] static void TwoSum(T& sum, T& comp, T v) {
    const T a = sum;
    const T s = a + v;
    const T bv = s - a;
    comp += (a - (s - bv)) + (v - bv);
    sum = s;
  }
  Pair sum_[2] = {{0, 0}, {0, 0}};  // lanes 0, 1 and 2, 3
  Pair comp_[2] = {{0, 0}, {0, 0}};
};

// The keys whose top `bits` bits are those of `key` (bits in [0, 64]).
std::uint64_t PrefixMask(int bits) {
  return bits == 0 ? 0 : ~std::uint64_t{0} << (64 - bits);
}

}  // namespace

NumpyBins::NumpyBins(double lo, double hi, int bins)
    : lo_(lo), span_(hi - lo), bins_(std::max(bins, 1)), edges_(static_cast<size_t>(bins_) + 1) {
  const double step = (hi - lo) / bins_;
  for (int k = 0; k <= bins_; ++k)
    edges_[static_cast<size_t>(k)] = k * step + lo;
  edges_.back() = hi;
}

int NumpyBins::Of(double v) const {
  auto b = static_cast<std::int64_t>((v - lo_) / span_ * bins_);
  b = std::clamp<std::int64_t>(b, 0, bins_ - 1);
  if (v < edges_[static_cast<size_t>(b)]) {
    --b;
  } else if (b != bins_ - 1 && v >= edges_[static_cast<size_t>(b) + 1]) {
    ++b;
  }
  return static_cast<int>(b);
}

// A bucket's keys live in pages of kPageKeys, chained in the order they were filled (all full but
// the last). A bucket's keys share their leading kTopBits bits, so a page holds only the other
// 48 bits of each, in 6 bytes: a quarter less memory to fault in, write and read back than whole
// keys. Each is stored as an 8-byte write whose 2 extra bytes the next key overwrites; those of
// a page's last key land in the page's spare bytes.
constexpr size_t kPageBytes = 1024;
constexpr size_t kKeyBytes = 6;
constexpr size_t kPageKeys = (kPageBytes - 2) / kKeyBytes;      // 170
constexpr size_t kPageFull = kPageKeys * kKeyBytes;             // a page's cursor once full
constexpr std::uint64_t kLowKeyBits = ~std::uint64_t{0} >> 16;  // the bits a page holds
constexpr size_t kPageWords = kPageBytes / sizeof(std::uint64_t);
constexpr std::uint32_t kNoPage = ~std::uint32_t{0};

struct Bucket {
  // Where its next key goes in the pool, in bytes; at a page's kPageFull (or kPageFull before any
  // page): a new page.
  std::uint64_t cursor = kPageFull;
  std::uint64_t pages = 0;
  // Its keys: every page full but the last, which ends at the cursor.
  std::uint64_t count() const {
    return pages == 0
               ? 0
               : (pages - 1) * kPageKeys + (cursor - std::uint64_t{last} * kPageBytes) / kKeyBytes;
  }
  std::uint32_t first = kNoPage, last = kNoPage;
};

struct NumericSummarizer::State {
  bool is_int = false;
  ValueBuffer* pool = nullptr;
  std::uint32_t pages = 0;          // in use in the pool
  std::vector<std::uint32_t> next;  // per page: the bucket's next page
  std::vector<Bucket> buckets;      // by the keys' leading kTopBits bits
  std::int64_t nans = 0;
  size_t n = 0;  // keys
  bool negative_zero = false, positive_zero = false;
  std::uint64_t min_key = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_key = 0;
  CompensatedSum sum;

  [[gnu::noinline]] void NewPage(Bucket& b) {
    const std::uint32_t p = pages++;
    next.push_back(kNoPage);
    if (b.last == kNoPage) {
      b.first = p;
    } else {
      next[b.last] = p;
    }
    b.last = p;
    ++b.pages;
    b.cursor = std::uint64_t{p} * kPageBytes;
  }
  [[gnu::always_inline]] void Put(std::uint64_t key, std::uint8_t* bytes) {
    Bucket& b = buckets[key >> (64 - kTopBits)];
    if (b.cursor % kPageBytes == kPageFull) NewPage(b);
    // Hundreds of buckets fill at once, too many streams for the hardware prefetcher: ask for
    // the bucket's next cache line, which is then in cache when its turn comes (on every key:
    // a test for the first key of a line would mispredict more than the prefetch costs).
    __builtin_prefetch(bytes + b.cursor + 64, 1);
    std::memcpy(bytes + b.cursor, &key, sizeof key);
    b.cursor += kKeyBytes;
  }
  // Copies bucket b's keys to out (room for its count); `top` is their leading bits.
  void Gather(const Bucket& b, std::uint64_t top, std::uint64_t* out) const {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(pool->words());
    std::uint64_t left = b.count();
    // The pages of a bucket lie apart (filled in turns with the others'): each is asked for a
    // few pages before it is copied, so the copy does not wait on memory line by line.
    constexpr int kAhead = 3;
    std::uint32_t ahead = b.first;
    for (int k = 0; k < kAhead && ahead != kNoPage; ++k, ahead = next[ahead])
      Prefetch(bytes + size_t{ahead} * kPageBytes);
    for (std::uint32_t p = b.first; left > 0; p = next[p]) {
      if (ahead != kNoPage) {
        Prefetch(bytes + size_t{ahead} * kPageBytes);
        ahead = next[ahead];
      }
      const size_t take = std::min<std::uint64_t>(left, kPageKeys);
      const std::uint8_t* page = bytes + size_t{p} * kPageBytes;
      for (size_t k = 0; k < take; ++k) {
        std::uint64_t low;
        std::memcpy(&low, page + k * kKeyBytes, sizeof low);
        out[k] = (low & kLowKeyBits) | top;
      }
      out += take;
      left -= take;
    }
  }
  static void Prefetch(const std::uint8_t* page) {
    for (size_t k = 0; k < kPageBytes; k += 64)
      __builtin_prefetch(page + k);
  }

  // Finish's working state.
  double mean = 0;
  bool moments = false;
  std::optional<NumpyBins> bins;
  std::vector<std::int64_t> histogram;
  CompensatedSum squares;
  std::int64_t distinct = 0;
  std::vector<size_t> ranks;             // requested order statistics below n, ascending
  std::vector<std::uint64_t> rank_keys;  // their keys, once found
  std::vector<std::uint64_t> table;      // a group's hash set
  std::vector<std::vector<size_t>> level_counts;

  double Value(std::uint64_t key) const {
    return is_int ? static_cast<double>(KeyInt(key)) : KeyDouble(key);
  }
  void Node(std::uint64_t* keys, std::uint64_t* other, size_t n, int consumed, size_t base);
  void Group(std::uint64_t* keys, size_t n, size_t base, std::uint64_t lo_key,
             std::uint64_t hi_key);
  void EqualRun(std::uint64_t key, size_t n, size_t base);
  bool CountDistinct(const std::uint64_t* keys, size_t n);
  void Walk(ValueBuffer& a, ValueBuffer& b);
  void AddBins(std::uint64_t* keys, size_t n, std::uint64_t lo_key, std::uint64_t hi_key);
  // The requested ranks in [base, base + n), as indexes into `ranks`.
  std::pair<size_t, size_t> RanksIn(size_t base, size_t n) const {
    const auto from = std::lower_bound(ranks.begin(), ranks.end(), base);
    const auto to = std::lower_bound(from, ranks.end(), base + n);
    return {static_cast<size_t>(from - ranks.begin()), static_cast<size_t>(to - ranks.begin())};
  }
};

NumericSummarizer::NumericSummarizer(bool is_int, ValueBuffer& pool, size_t expected)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.is_int = is_int;
  s.pool = &pool;
  s.buckets.resize(kTopBuckets);
  // Room for the expected keys and some part-filled pages.
  pool.Reserve((expected / kPageKeys + expected / kPageKeys / 8 + 64) * kPageWords);
  s.next.reserve(pool.capacity() / kPageWords);
}

NumericSummarizer::~NumericSummarizer() = default;

void NumericSummarizer::Add(const types::Column& column) {
  Add(column.data(), column.AllValid() ? nullptr : column.validity(), column.size());
}

void NumericSummarizer::Add(const void* values, const std::uint64_t* validity, size_t n) {
  State& s = *state_;
  // A mask with every bit of the n rows set is no mask: the loops without per-row tests.
  if (validity != nullptr) {
    bool all = true;
    for (size_t w = 0; w < n / 64 && all; ++w)
      all = validity[w] == ~std::uint64_t{0};
    if (all && n % 64 != 0) {
      const std::uint64_t tail = (std::uint64_t{1} << (n % 64)) - 1;
      all = (validity[n / 64] & tail) == tail;
    }
    if (all) validity = nullptr;
  }
  auto is_valid = [validity](size_t r) { return ((validity[r / 64] >> (r % 64)) & 1U) != 0; };
  // Each value may open a page: make room first, so the pool stays put during the loop.
  const size_t need = (size_t{s.pages} + n) * kPageWords + 8;  // + 8: Put's prefetch stays inside
  if (need > s.pool->capacity())
    s.pool->Grow(std::max(need, 2 * s.pool->capacity()), size_t{s.pages} * kPageWords);
  auto* bytes = reinterpret_cast<std::uint8_t*>(s.pool->words());
  const auto* data = static_cast<const std::uint8_t*>(values);
  const bool all_valid = validity == nullptr;
  std::uint64_t lo = s.min_key, hi = s.max_key;
  size_t m = s.n;
  if (s.is_int) {
    for (size_t r = 0; r < n; ++r) {
      if (!all_valid && !is_valid(r)) continue;
      std::int64_t v;
      std::memcpy(&v, data + r * sizeof v, sizeof v);
      const std::uint64_t key = IntKey(v);
      s.Put(key, bytes);
      lo = std::min(lo, key);
      hi = std::max(hi, key);
      ++m;
    }
  } else {
    for (size_t r = 0; r < n; ++r) {
      if (!all_valid && !is_valid(r)) continue;
      double v;
      std::memcpy(&v, data + r * sizeof v, sizeof v);
      if (std::isnan(v)) {
        ++s.nans;
        continue;
      }
      if (v == 0) (std::signbit(v) ? s.negative_zero : s.positive_zero) = true;
      const std::uint64_t key = DoubleKey(v);
      s.Put(key, bytes);
      lo = std::min(lo, key);
      hi = std::max(hi, key);
      ++m;
    }
  }
  // The sum in a pass of its own over the chunk, still in cache: NULL and NaN add 0 (exactly).
  if (s.is_int) {
    auto one = [&](size_t r) {
      std::int64_t v;
      std::memcpy(&v, data + r * sizeof v, sizeof v);
      return all_valid || is_valid(r) ? static_cast<double>(v) : 0.0;
    };
    s.sum.AddAll(n, SLUICE_PAIR_OF(one), one);
  } else {
    auto one = [&](size_t r) {
      double v;
      std::memcpy(&v, data + r * sizeof v, sizeof v);
      return (all_valid || is_valid(r)) && !std::isnan(v) ? v : 0.0;
    };
    if (all_valid) {
      s.sum.AddAll(
          n,
          [&](size_t r) {
            const Pair v = LoadPair(data + r * sizeof(double));
            // NaN is the one value unequal to itself: its lanes become +0.0.
            return std::bit_cast<Pair>(std::bit_cast<MaskPair>(v) & (v == v));
          },
          one);
    } else {
      s.sum.AddAll(n, SLUICE_PAIR_OF(one), one);
    }
  }
  s.n = m;
  s.min_key = lo;
  s.max_key = hi;
}

// Partitions keys[0, n), which share their top `consumed` bits, by the next digit into `other`
// (the same positions), and hands each run of small buckets to Group as one group, each crowded
// bucket to the next level.
void NumericSummarizer::State::Node(std::uint64_t* keys, std::uint64_t* other, size_t n,
                                    int consumed, size_t base) {
  if (consumed >= 64) {
    EqualRun(keys[0], n, base);
    return;
  }
  const int bits = std::min(kLevelBits, 64 - consumed);
  const int shift = 64 - consumed - bits;
  const size_t buckets = size_t{1} << bits;
  const std::uint64_t digit_mask = buckets - 1;
  const auto level = static_cast<size_t>(consumed);
  level_counts[level].assign(buckets, 0);
  size_t* counts = level_counts[level].data();
  for (size_t i = 0; i < n; ++i)
    ++counts[(keys[i] >> shift) & digit_mask];
  const std::uint64_t prefix = keys[0] & PrefixMask(consumed);
  // One bucket holds every key: the next digit, without moving them.
  const std::uint64_t first_digit = (keys[0] >> shift) & digit_mask;
  if (counts[first_digit] == n) {
    const int next = consumed + bits;
    if (n <= kGroup) {
      const std::uint64_t lo = prefix | (first_digit << shift);
      Group(keys, n, base, lo, lo | ~PrefixMask(next));
    } else {
      Node(keys, other, n, next, base);
    }
    return;
  }
  // Bucket starts, then the scatter leaves counts[b] at the end of bucket b.
  size_t sum = 0;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t here = counts[b];
    counts[b] = sum;
    sum += here;
  }
  for (size_t i = 0; i < n; ++i) {
    const std::uint64_t k = keys[i];
    other[counts[(k >> shift) & digit_mask]++] = k;
  }
  const std::uint64_t low_bits = ~PrefixMask(consumed + bits);
  size_t group_start = 0, group_n = 0;
  std::uint64_t group_lo = 0, group_hi = 0;
  auto flush = [&] {
    if (group_n > 0) Group(other + group_start, group_n, base + group_start, group_lo, group_hi);
    group_n = 0;
  };
  size_t start = 0;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t end = counts[b];
    const size_t size = end - start;
    if (size == 0) continue;
    const std::uint64_t lo = prefix | (static_cast<std::uint64_t>(b) << shift);
    if (size > kGroup) {
      flush();
      Node(other + start, keys + start, size, consumed + bits, base + start);
    } else {
      if (group_n + size > kGroup) flush();
      if (group_n == 0) {
        group_start = start;
        group_lo = lo;
      }
      group_n += size;
      group_hi = lo | low_bits;
    }
    start = end;
  }
  flush();
}

// A group of keys between lo_key and hi_key, ranks [base, base + n) of the sorted column.
// Adds the distinct keys of keys[0, n) to `distinct` by a hash set: open addressing on a
// multiplicative hash, probing forward without wrapping into kPad spare slots; false (nothing
// added) in the unlikely case that a probe runs past them. Both of a key's first two slots are
// read at once and the one to take chosen without a branch: whether a key is new, and whether
// its first slot is taken, are coin tosses that would mispredict.
bool NumericSummarizer::State::CountDistinct(const std::uint64_t* keys, size_t n) {
  constexpr size_t kPad = 64;
  const size_t slots = std::bit_ceil(std::max<size_t>(2 * n, 16));
  const int shift = 64 - std::countr_zero(slots);
  table.assign(slots + kPad, 0);  // 0 marks an empty slot, so key 0 is counted aside
  std::uint64_t* t = table.data();
  const size_t end = slots + kPad;
  bool zero = false;
  std::int64_t found = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::uint64_t k = keys[i];
    if (k == 0) {
      zero = true;
      continue;
    }
    size_t h = static_cast<size_t>((k * 0x9E3779B97F4A7C15ULL) >> shift);
    const std::uint64_t a = t[h], b = t[h + 1];
    const bool first = (a == k) | (a == 0);
    const bool second = (b == k) | (b == 0);
    if (first | second) [[likely]] {
      const size_t slot = first ? h : h + 1;
      found += (first ? a : b) == 0 ? 1 : 0;
      t[slot] = k;
      continue;
    }
    for (h += 2; h < end && t[h] != 0 && t[h] != k; ++h) {
    }
    if (h == end) return false;
    found += t[h] == 0 ? 1 : 0;
    t[h] = k;
  }
  distinct += found + (zero ? 1 : 0);
  return true;
}

void NumericSummarizer::State::Group(std::uint64_t* keys, size_t n, size_t base,
                                     std::uint64_t lo_key, std::uint64_t hi_key) {
  const auto [rank_from, rank_to] = RanksIn(base, n);
  if (rank_from != rank_to || !CountDistinct(keys, n)) {
    // A requested rank is here (or the hash set overflowed): sorted, the group gives the rank
    // and its distinct keys at once.
    std::sort(keys, keys + n);
    for (size_t r = rank_from; r < rank_to; ++r)
      rank_keys[r] = keys[ranks[r] - base];
    std::int64_t runs = 1;
    for (size_t i = 1; i < n; ++i)
      runs += keys[i] != keys[i - 1] ? 1 : 0;
    distinct += runs;
  }
  if (!moments) return;
  const double m = mean;
  const Pair mean2 = {m, m};
  if (is_int) {
    auto one = [keys, m](size_t i) {
      const double d = static_cast<double>(KeyInt(keys[i])) - m;
      return d * d;
    };
    squares.AddAll(n, SLUICE_PAIR_OF(one), one);
  } else {
    squares.AddAll(
        n,
        [&](size_t i) {
          const Pair d = KeyDoubles(keys + i) - mean2;
          return d * d;
        },
        [keys, m](size_t i) {
          const double d = KeyDouble(keys[i]) - m;
          return d * d;
        });
  }
  AddBins(keys, n, lo_key, hi_key);
}

void NumericSummarizer::State::AddBins(std::uint64_t* keys, size_t n, std::uint64_t lo_key,
                                       std::uint64_t hi_key) {
  if (!bins) {
    histogram[0] += static_cast<std::int64_t>(n);
    return;
  }
  // The bin never decreases as the value grows: a group whose possible extremes share a bin
  // lies in it whole.
  const int lo_bin = bins->Of(Value(std::max(lo_key, min_key)));
  const int hi_bin = bins->Of(Value(std::min(hi_key, max_key)));
  if (lo_bin == hi_bin) {
    histogram[static_cast<size_t>(lo_bin)] += static_cast<std::int64_t>(n);
    return;
  }
  for (size_t i = 0; i < n; ++i)
    ++histogram[static_cast<size_t>(bins->Of(Value(keys[i])))];
}

void NumericSummarizer::State::EqualRun(std::uint64_t key, size_t n, size_t base) {
  const auto [rank_from, rank_to] = RanksIn(base, n);
  for (size_t r = rank_from; r < rank_to; ++r)
    rank_keys[r] = key;
  distinct += 1;
  if (!moments) return;
  const double d = Value(key) - mean;
  squares.Add(d * d * static_cast<double>(n));
  histogram[bins ? static_cast<size_t>(bins->Of(Value(key))) : 0] += static_cast<std::int64_t>(n);
}

// Every bucket in key order: runs of small ones gathered into a group, each crowded one
// gathered and partitioned further.
void NumericSummarizer::State::Walk(ValueBuffer& a, ValueBuffer& b) {
  size_t largest = 0;
  for (const Bucket& bucket : buckets)
    largest = std::max<size_t>(largest, bucket.count());
  a.Reserve(std::max(largest, kGroup));
  b.Reserve(std::max<size_t>(largest, 1));
  std::uint64_t* keys = a.words();
  size_t base = 0, group_base = 0, group_n = 0;
  std::uint64_t group_lo = 0, group_hi = 0;
  auto flush = [&] {
    if (group_n > 0) Group(keys, group_n, group_base, group_lo, group_hi);
    group_n = 0;
  };
  for (size_t t = 0; t < kTopBuckets; ++t) {
    const Bucket& bucket = buckets[t];
    const auto count = static_cast<size_t>(bucket.count());
    if (count == 0) continue;
    const std::uint64_t lo = static_cast<std::uint64_t>(t) << (64 - kTopBits);
    if (count > kGroup) {
      flush();
      Gather(bucket, lo, keys);
      Node(keys, b.words(), count, kTopBits, base);
    } else {
      if (group_n + count > kGroup) flush();
      if (group_n == 0) {
        group_base = base;
        group_lo = lo;
      }
      Gather(bucket, lo, keys + group_n);
      group_n += count;
      group_hi = lo | ~PrefixMask(kTopBits);
    }
    base += count;
  }
  flush();
}

NumericSummary NumericSummarizer::Finish(ValueBuffer& a, ValueBuffer& b,
                                         std::span<const double> levels, int bins) {
  State& s = *state_;
  const size_t n = s.n;
  NumericSummary out;
  const size_t total = n + static_cast<size_t>(s.nans);  // the sorted column: keys, then NaN
  out.count = static_cast<std::int64_t>(total);
  if (total == 0) return out;
  auto finite = [](double x) { return std::isfinite(x) ? std::optional<double>(x) : std::nullopt; };
  if (n > 0) {
    out.min = finite(s.Value(s.min_key));
    if (s.nans == 0) out.max = finite(s.Value(s.max_key));
  }
  s.moments = out.min && out.max;
  if (s.moments) {
    s.mean = s.sum.Value() / static_cast<double>(n);
    if (*out.max > *out.min) {
      s.bins.emplace(*out.min, *out.max, bins);
      s.histogram.assign(static_cast<size_t>(s.bins->size()), 0);
    } else {
      s.histogram.assign(1, 0);
    }
  }
  // numpy's virtual index (total - 1) * q and its two neighbours, per level.
  std::vector<std::pair<size_t, size_t>> neighbours;
  for (double q : levels) {
    const double index = static_cast<double>(total - 1) * q;
    const auto lo = static_cast<size_t>(std::floor(index));
    neighbours.emplace_back(lo, std::min(lo + 1, total - 1));
    for (size_t r : {neighbours.back().first, neighbours.back().second})
      if (r < n) s.ranks.push_back(r);
  }
  std::sort(s.ranks.begin(), s.ranks.end());
  s.ranks.erase(std::unique(s.ranks.begin(), s.ranks.end()), s.ranks.end());
  s.rank_keys.assign(s.ranks.size(), 0);
  s.level_counts.resize(65);  // one per level: a level's counts outlive its children's
  if (n > 0) s.Walk(a, b);
  out.distinct = s.distinct + (s.nans > 0 ? 1 : 0);
  // -0.0 and 0.0 are different keys but one value.
  if (s.negative_zero && s.positive_zero) --out.distinct;

  auto at = [&](size_t r) {
    if (r >= n) return std::numeric_limits<double>::quiet_NaN();
    const auto it = std::lower_bound(s.ranks.begin(), s.ranks.end(), r);
    return s.Value(s.rank_keys[static_cast<size_t>(it - s.ranks.begin())]);
  };
  for (size_t k = 0; k < levels.size(); ++k) {
    const double index = static_cast<double>(total - 1) * levels[k];
    const double t = index - std::floor(index);
    const double a = at(neighbours[k].first), b = at(neighbours[k].second);
    const double diff = b - a;
    const double x = t >= 0.5 ? b - diff * (1 - t) : a + diff * t;  // numpy's _lerp
    if (!std::isfinite(x)) {
      out.quantiles.clear();
      break;
    }
    out.quantiles.push_back(x);
  }
  if (s.moments) {
    out.mean = finite(s.mean);
    if (n > 1) {
      out.stddev = finite(std::sqrt(s.squares.Value() / static_cast<double>(n - 1)));
    }
    out.histogram = std::move(s.histogram);
  }
  return out;
}

}  // namespace sluice::quality
