#include "datagen/random.h"

#include <cmath>

namespace sluice::datagen {
namespace {

constexpr double kLn2 = 0.6931471805599453094;
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // upper bits of ln 2, low 21 bits zero
constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
constexpr double kSqrt2 = 1.4142135623730950488;

std::uint64_t Rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

std::uint64_t Mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint32_t Permute32(std::uint32_t x, std::uint64_t key) {
  // Each step (xor with a constant, multiply by an odd number, xorshift) is invertible mod 2^32.
  for (int round = 0; round < 3; ++round) {
    const auto k = static_cast<std::uint32_t>(Mix64(key + static_cast<std::uint64_t>(round)));
    x ^= k;
    x *= 0x9e3779b1U;
    x ^= x >> 15;
    x *= 0x85ebca6bU;
    x ^= x >> 13;
  }
  return x;
}

Rng::Rng(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t x = seed ^ Mix64(stream + 0x632be59bd9b4e019ULL);
  for (auto& s : s_) {
    x += 0x9e3779b97f4a7c15ULL;
    s = Mix64(x);
  }
}

std::uint64_t Rng::Next() {
  const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Rng::Uniform01() {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

std::uint64_t Rng::Below(std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
}

std::int64_t Rng::Between(std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(Below(static_cast<std::uint64_t>(hi - lo) + 1));
}

double Rng::Normal() {
  while (true) {
    const double u = Uniform(-1.0, 1.0);
    const double v = Uniform(-1.0, 1.0);
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * Log(s) / s);
  }
}

double Rng::Exponential() {
  // 1 - U is in (0, 1], so the logarithm is finite.
  return -Log(1.0 - Uniform01());
}

double Log(double x) {
  if (!(x > 0.0)) return x == 0.0 ? -HUGE_VAL : NAN;
  if (std::isinf(x)) return x;
  int e = 0;
  double m = std::frexp(x, &e);  // exact: x = m * 2^e, m in [0.5, 1)
  m *= 2.0;
  --e;
  if (m > kSqrt2) {
    m *= 0.5;
    ++e;
  }
  // ln(m) = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172: the series converges fast.
  const double t = (m - 1.0) / (m + 1.0);
  const double t2 = t * t;
  double term = t;
  double sum = 0.0;
  for (int k = 1; k <= 27; k += 2) {
    sum += term / k;
    term *= t2;
  }
  return 2.0 * sum + e * kLn2;
}

double Exp(double x) {
  if (x > 709.0) return HUGE_VAL;
  if (x < -745.0) return 0.0;
  const double k = std::floor(x / kLn2 + 0.5);
  // Cody-Waite: k * kLn2Hi is exact, so r keeps full precision even for large |x|.
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ~0.35
  double term = 1.0;
  double sum = 1.0;
  for (int i = 1; i <= 22; ++i) {
    term *= r / i;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));
}

}  // namespace sluice::datagen
