#pragma once

#include <array>
#include <cstdint>

#include "engine/state_bytes.h"

namespace sluice::engine {

// An exact, order-independent sum of doubles: a small superaccumulator (after Neal 2015,
// arXiv:1505.05571). Every finite double is a multiple of 2^-1074 below 2^1024, so the sum of any
// number of them is an integer multiple of 2^-1074; it is held exactly as base-2^32 digits in
// int64 chunks, carries propagated lazily. Adding and subtracting are exact, so a sliding window
// that adds and removes gets the same value as one summed afresh, in any order and split any way
// across threads (Combine). Round() reads it once, correctly rounded (to nearest, ties to even).
//
// Special values are counted, not summed: Round() is NaN when a NaN was added or +inf and -inf
// both were, else +inf or -inf when one of them was. An exact zero reads as +0.0. A finite sum
// beyond the double range reads as +-inf (the IEEE rounding of the exact value).
class ExactSum {
 public:
  void Add(double x) { Accumulate(x, false); }
  // Exact inverse of Add(x): Add(x) then Subtract(x) leaves the value unchanged.
  void Subtract(double x) { Accumulate(x, true); }
  // Adds a * b exactly (its rounded product and the FMA error term), unless the product
  // overflows (counted as +-inf) or falls below 2^-1074 in part (that part is lost).
  void AddProduct(double a, double b);
  // Subtracts a * b: the exact inverse of AddProduct(a, b).
  void SubtractProduct(double a, double b);
  // Adds factor * (the value `other` holds), exactly but for parts below 2^-1074; other's
  // specials are not multiplied (callers handle them first).
  void AddMultiple(const ExactSum& other, double factor);
  // Adds every value `other` holds (its specials too).
  void Combine(const ExactSum& other);
  // The sum, correctly rounded; see the class comment for specials.
  double Round() const;
  bool HasSpecials() const { return nan_ + pos_inf_ + neg_inf_ != 0; }
  void Clear();

  // Canonical bytes: equal values give equal bytes, whatever the order of operations.
  void Encode(StateWriter& w) const;
  // Reads what Encode wrote; false (and `r` failed) on malformed input.
  bool Decode(StateReader& r);

 private:
  // Bits 2^-1074 .. 2^2143: every double's 53-bit significand lands in three chunks of the
  // first 66, the last one takes the carries of ~2^45 maximal doubles and more.
  static constexpr int kChunks = 67;
  // Chunks grow by < 2^32 per operation: propagate carries long before 2^62 is reachable
  // (every 2^20 operations costs nothing measurable and is reached by tests).
  static constexpr std::int32_t kOpsBeforeCarry = 1 << 20;

  void Accumulate(double x, bool negate);
  // Digits to balanced form, each in [-2^31, 2^31) (the top one takes what is left), and
  // lo_/hi_ to the range of non-zero digits. Does not change the value.
  void Normalize() const;

  mutable std::array<std::int64_t, kChunks> chunk_{};
  mutable int lo_ = kChunks, hi_ = -1;  // chunks outside [lo_, hi_] are zero
  mutable std::int32_t pending_ = 0;    // operations since the last Normalize
  std::int64_t nan_ = 0, pos_inf_ = 0, neg_inf_ = 0;
};

}  // namespace sluice::engine
