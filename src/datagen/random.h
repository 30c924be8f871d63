#pragma once

#include <cstdint>

namespace sluice::datagen {

// Bit-exact pseudo-randomness for generated data: the same seed gives the same stream on every
// machine and standard library. That is why this exists instead of <random>'s distributions,
// whose algorithms are implementation-defined, and why Log/Exp below use only IEEE basic
// arithmetic (correctly rounded everywhere) instead of libm, whose last bits vary.

// splitmix64's finalizer: a bijection on 64-bit values with good avalanche.
std::uint64_t Mix64(std::uint64_t x);
// A keyed bijection on 32-bit values, for ids that look random yet never collide.
std::uint32_t Permute32(std::uint32_t x, std::uint64_t key);

// xoshiro256** seeded through splitmix64. `stream` separates independent sequences drawn from
// one user-facing seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0);

  std::uint64_t Next();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform01();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform01(); }
  // Uniform integer in [0, n); n > 0. Multiply-shift, so no modulo bias worth measuring.
  std::uint64_t Below(std::uint64_t n);
  // Uniform integer in [lo, hi] inclusive.
  std::int64_t Between(std::int64_t lo, std::int64_t hi);
  bool Chance(double p) { return Uniform01() < p; }
  // Standard normal (Marsaglia's polar method).
  double Normal();
  // Exponential with mean 1.
  double Exponential();

 private:
  std::uint64_t s_[4];
};

// Natural logarithm and exponential to ~1e-15 relative error, bit-identical on any IEEE-754
// platform without FMA contraction (the build uses ISO C++ mode, where GCC does not contract).
double Log(double x);
double Exp(double x);

}  // namespace sluice::datagen
