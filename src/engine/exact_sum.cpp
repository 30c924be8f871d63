#include "engine/exact_sum.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

namespace sluice::engine {

namespace {

constexpr std::int64_t kBase = std::int64_t{1} << 32;
constexpr std::int64_t kHalfBase = std::int64_t{1} << 31;

}  // namespace

void ExactSum::Accumulate(double x, bool negate) {
  const auto bits = std::bit_cast<std::uint64_t>(x);
  const bool negative = (bits >> 63) != negate;
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  std::uint64_t mantissa = bits & ((std::uint64_t{1} << 52) - 1);
  const std::int64_t step = negate ? -1 : 1;
  if (biased == 0x7FF) {
    if (mantissa != 0) {
      nan_ += step;
    } else if ((bits >> 63) != 0) {
      neg_inf_ += step;
    } else {
      pos_inf_ += step;
    }
    return;
  }
  if (biased != 0) mantissa |= std::uint64_t{1} << 52;
  if (mantissa == 0) return;
  // x = mantissa * 2^(position - 1074).
  const int position = biased == 0 ? 0 : biased - 1;
  const int c = position / 32, shift = position % 32;
  const auto piece0 = static_cast<std::int64_t>((mantissa << shift) & 0xFFFFFFFFu);
  const std::uint64_t rest = shift == 0 ? mantissa >> 32 : mantissa >> (32 - shift);
  const auto piece1 = static_cast<std::int64_t>(rest & 0xFFFFFFFFu);
  const auto piece2 = static_cast<std::int64_t>(rest >> 32);
  if (negative) {
    chunk_[c] -= piece0;
    chunk_[c + 1] -= piece1;
    chunk_[c + 2] -= piece2;
  } else {
    chunk_[c] += piece0;
    chunk_[c + 1] += piece1;
    chunk_[c + 2] += piece2;
  }
  if (c < lo_) lo_ = c;
  if (c + 2 > hi_) hi_ = c + 2;
  if (++pending_ >= kOpsBeforeCarry) Normalize();
}

void ExactSum::AddProduct(double a, double b) {
  const double p = a * b;
  if (!std::isfinite(p)) {
    // An overflowed product (or one of a NaN or an infinity) counts as its rounded value.
    Add(std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : p);
    return;
  }
  Add(p);
  Add(std::fma(a, b, -p));  // exact: the rounding error of a * b
}

void ExactSum::SubtractProduct(double a, double b) {
  const double p = a * b;
  if (!std::isfinite(p)) {
    Subtract(std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : p);
    return;
  }
  Subtract(p);
  Subtract(std::fma(a, b, -p));
}

void ExactSum::AddMultiple(const ExactSum& other, double factor) {
  other.Normalize();
  for (int i = other.lo_; i <= other.hi_; ++i) {
    // digit * 2^(32i - 1074) * factor: the digit (an int32) and factor multiply exactly into
    // two doubles, then scale by a power of two.
    const auto digit = static_cast<double>(other.chunk_[i]);
    const double p = digit * factor;
    const int scale = 32 * i - 1074;
    if (!std::isfinite(p)) {
      Add(p);
      continue;
    }
    Add(std::ldexp(p, scale));
    Add(std::ldexp(std::fma(digit, factor, -p), scale));
  }
}

void ExactSum::Combine(const ExactSum& other) {
  Normalize();
  other.Normalize();
  for (int i = other.lo_; i <= other.hi_; ++i)
    chunk_[i] += other.chunk_[i];
  if (other.hi_ >= 0) {
    if (other.lo_ < lo_) lo_ = other.lo_;
    if (other.hi_ > hi_) hi_ = other.hi_;
    pending_ = 1;
  }
  nan_ += other.nan_;
  pos_inf_ += other.pos_inf_;
  neg_inf_ += other.neg_inf_;
}

void ExactSum::Clear() {
  for (int i = lo_; i <= hi_; ++i)
    chunk_[i] = 0;
  lo_ = kChunks;
  hi_ = -1;
  pending_ = 0;
  nan_ = pos_inf_ = neg_inf_ = 0;
}

void ExactSum::Normalize() const {
  if (hi_ < 0) {
    pending_ = 0;
    return;
  }
  std::int64_t carry = 0;
  int i = lo_;
  for (; i < kChunks - 1; ++i) {
    std::int64_t v = chunk_[i] + carry;
    // Floor division by 2^32 of v + 2^31: the digit left is in [-2^31, 2^31).
    carry = (v + kHalfBase) >> 32;
    v -= carry * kBase;
    chunk_[i] = v;
    if (i >= hi_ && carry == 0) break;
  }
  if (i == kChunks - 1) chunk_[i] += carry;
  int lo = kChunks, hi = -1;
  for (int j = lo_; j < kChunks && j <= std::max(hi_, i); ++j) {
    if (chunk_[j] != 0) {
      if (lo == kChunks) lo = j;
      hi = j;
    }
  }
  lo_ = lo;
  hi_ = hi;
  pending_ = 0;
}

double ExactSum::Round() const {
  if (nan_ != 0 || (pos_inf_ != 0 && neg_inf_ != 0)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (pos_inf_ != 0) return std::numeric_limits<double>::infinity();
  if (neg_inf_ != 0) return -std::numeric_limits<double>::infinity();
  Normalize();
  if (hi_ < 0) return 0.0;
  const bool negative = chunk_[hi_] < 0;
  // The magnitude in plain digits [0, 2^32).
  std::array<std::int64_t, kChunks> m;
  std::int64_t carry = 0;
  for (int i = lo_; i <= hi_; ++i) {
    std::int64_t v = (negative ? -chunk_[i] : chunk_[i]) + carry;
    carry = v >> 32;  // floor
    m[i] = v - carry * kBase;
  }
  m[hi_] += carry * kBase;  // the top digit keeps its excess: the magnitude is positive
  int h = hi_;
  while (h >= lo_ && m[h] == 0)
    --h;
  const double inf = std::numeric_limits<double>::infinity();
  if (h < lo_) return 0.0;
  if (h == kChunks - 1) return negative ? -inf : inf;  // at least 2^1038
  auto digit = [&](int i) -> std::uint64_t {
    return i >= lo_ ? static_cast<std::uint64_t>(m[i]) : 0;
  };
  const std::uint64_t top = digit(h);
  const int nb = 64 - std::countl_zero(top);  // 1..32 bits in the top digit
  std::uint64_t x = (top << 32) | digit(h - 1);
  const std::uint64_t third = digit(h - 2);
  bool sticky = false;
  if (nb < 32) {
    x = (x << (32 - nb)) | (third >> nb);
    sticky = (third & ((std::uint64_t{1} << nb) - 1)) != 0;
  } else {
    sticky = third != 0;
  }
  for (int i = lo_; i < h - 2 && !sticky; ++i)
    sticky = m[i] != 0;
  // Bit 63 of x is the bit at 2^(32h + nb - 1 - 1074).
  std::uint64_t mantissa = x >> 11;
  const std::uint64_t rest = x & 0x7FF;
  int exponent = 32 * h + nb - 1 - 1074 - 52;
  if (rest > 0x400 || (rest == 0x400 && (sticky || (mantissa & 1) != 0))) {
    ++mantissa;
    if (mantissa == (std::uint64_t{1} << 53)) {
      mantissa >>= 1;
      ++exponent;
    }
  }
  const double magnitude =
      exponent > 971 ? inf : std::ldexp(static_cast<double>(mantissa), exponent);
  return negative ? -magnitude : magnitude;
}

void ExactSum::Encode(StateWriter& w) const {
  Normalize();
  const bool specials = HasSpecials();
  w.U8(specials ? 1 : 0);
  if (specials) {
    w.I64(nan_);
    w.I64(pos_inf_);
    w.I64(neg_inf_);
  }
  if (hi_ < 0) {
    w.U8(0);
    return;
  }
  w.U8(static_cast<std::uint8_t>(hi_ - lo_ + 1));
  w.U8(static_cast<std::uint8_t>(lo_));
  for (int i = lo_; i <= hi_; ++i) {
    // Balanced digits fit 32 bits; the top chunk could only outgrow them after more than 2^1000
    // additions.
    assert(chunk_[i] >= INT32_MIN && chunk_[i] <= INT32_MAX);
    w.I32(static_cast<std::int32_t>(chunk_[i]));
  }
}

bool ExactSum::Decode(StateReader& r) {
  Clear();
  const std::uint8_t flags = r.U8();
  if (flags > 1) {
    r.Fail();
    return false;
  }
  if (flags == 1) {
    nan_ = r.I64();
    pos_inf_ = r.I64();
    neg_inf_ = r.I64();
    if (nan_ < 0 || pos_inf_ < 0 || neg_inf_ < 0) r.Fail();
  }
  const int count = r.U8();
  if (count == 0) return r.ok();
  const int lo = r.U8();
  if (!r.ok() || lo + count > kChunks) {
    r.Fail();
    Clear();
    return false;
  }
  for (int i = lo; i < lo + count; ++i)
    chunk_[i] = r.I32();
  lo_ = lo;
  hi_ = lo + count - 1;
  pending_ = 1;
  // Canonical bytes only: digits in balanced range (all are, as i32) and no zero ends.
  if (!r.ok() || chunk_[lo_] == 0 || chunk_[hi_] == 0) {
    r.Fail();
    Clear();
    return false;
  }
  return true;
}

}  // namespace sluice::engine
