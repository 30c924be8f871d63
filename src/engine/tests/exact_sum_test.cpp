// ExactSum against an independent oracle: Python's math.fsum (Shewchuk's algorithm, correctly
// rounded), run by /usr/bin/python3 on adversarial inputs written as hex floats.
#include "engine/exact_sum.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace sluice::engine {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMax = std::numeric_limits<double>::max();
constexpr double kMinSub = std::numeric_limits<double>::denorm_min();

std::string Hex(double d) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%a", d);
  return buf;
}

// fsum of each case by Python; "overflow" where fsum gives up on an intermediate overflow,
// "error" where it refuses inf + -inf.
std::vector<std::string> PythonFsum(const std::vector<std::vector<double>>& cases) {
  // Named by process and call: ctest runs each test as its own process at once, and build trees
  // share the temp folder, so fixed names let one run read another's half-written oracle.
  static int calls = 0;
  const std::string dir = testing::TempDir() + "/exact_sum_" + std::to_string(::getpid()) + "_" +
                          std::to_string(calls++);
  std::filesystem::create_directories(dir);
  const std::string in = dir + "/cases.txt", out = dir + "/fsum.txt";
  {
    std::ofstream f(in);
    for (const auto& c : cases) {
      for (double d : c)
        f << Hex(d) << ' ';
      f << '\n';
    }
  }
  const std::string script =
      "import math,sys\n"
      "for line in open(sys.argv[1]):\n"
      "    xs=[float.fromhex(t) for t in line.split()]\n"
      "    try: print(math.fsum(xs).hex())\n"
      "    except OverflowError: print('overflow')\n"
      "    except ValueError: print('error')\n";
  const std::string py = dir + "/exact_sum_oracle.py";
  std::ofstream(py) << script;
  const std::string cmd = "/usr/bin/python3 " + py + " " + in + " > " + out;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<std::string> lines;
  std::ifstream f(out);
  for (std::string line; std::getline(f, line);)
    lines.push_back(line);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return lines;
}

double Sum(const std::vector<double>& xs) {
  ExactSum s;
  for (double x : xs)
    s.Add(x);
  return s.Round();
}

// Bits equal, except that an exact zero is +0.0 here (fsum keeps -0.0 for all -0.0 inputs).
void ExpectSame(double got, const std::string& want, size_t i) {
  if (want == "overflow") return;  // fsum's limit, not a value; covered by OverflowIsExact
  if (want == "error") {
    EXPECT_TRUE(std::isnan(got)) << "case " << i;
    return;
  }
  const double w = std::strtod(want.c_str(), nullptr);
  if (std::isnan(w)) {
    EXPECT_TRUE(std::isnan(got)) << "case " << i;
  } else if (w == 0) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got), 0u) << "case " << i << " got " << Hex(got);
  } else {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(w))
        << "case " << i << " got " << Hex(got) << " want " << want;
  }
}

double RandomDouble(std::mt19937_64& rng, int min_exp, int max_exp) {
  const int e =
      min_exp + static_cast<int>(rng() % static_cast<std::uint64_t>(max_exp - min_exp + 1));
  const double m = 1.0 + static_cast<double>(rng() >> 12) * 0x1p-52;
  const double v = std::ldexp(m, e);
  return rng() % 2 ? -v : v;
}

std::vector<std::vector<double>> AdversarialCases() {
  std::mt19937_64 rng(42);
  std::vector<std::vector<double>> cases = {
      {},
      {1.0},
      {0.1, 0.2, 0.3},
      {1e308, 1e-308, -1e308},
      {1.0, 0x1p-53},                // a tie: to even (1.0)
      {1.0, 0x1p-53, 0x1p-106},      // just above the tie: up
      {1.0 + 0x1p-52, 0x1p-53},      // a tie: to even (up)
      {-1.0, -0x1p-53},              // negative tie
      {kMinSub, kMinSub, -kMinSub},  // subnormal
      {0x1p-1022, -kMinSub},         // normal minus subnormal
      {kMax, -kMax, kMax},           // at the top of the range
      {kMax, 0x1p970},               // rounds to inf (exactly half an ulp above max)
      {kMax, 0x1p969},               // stays max (below the tie)
      {-0.0, -0.0},
      {0.0, -0.0},
      {kInf, 1.0},
      {-kInf, -kInf, 5.0},
      {kInf, -kInf},
      {std::numeric_limits<double>::quiet_NaN(), 1.0},
      {1e16, 1.0, -1e16},
      {3.0, 1e100, 7.0, -1e100, 1e-100},
  };
  // Huge and tiny magnitudes mixed, with cancellation: x, y, -x patterns and random signs.
  for (int i = 0; i < 300; ++i) {
    std::vector<double> c;
    const int n = 1 + static_cast<int>(rng() % 60);
    const int lo = -1074 + static_cast<int>(rng() % 2000);
    const int hi = std::min(1023, lo + static_cast<int>(rng() % 2100));
    for (int j = 0; j < n; ++j) {
      const double x = RandomDouble(rng, std::max(lo, -1074), hi);
      c.push_back(x);
      if (rng() % 3 == 0) c.push_back(-x * (1 + 0x1p-52 * static_cast<double>(rng() % 5)));
    }
    std::shuffle(c.begin(), c.end(), rng);
    cases.push_back(c);
  }
  // Subnormals and the smallest normals only.
  for (int i = 0; i < 50; ++i) {
    std::vector<double> c;
    for (int j = 0; j < 40; ++j) {
      const double x = static_cast<double>(rng() % (std::uint64_t{1} << 53)) * kMinSub;
      c.push_back(rng() % 2 ? x : -x);
    }
    cases.push_back(c);
  }
  // Sums that land exactly on and next to rounding ties.
  for (int i = 0; i < 100; ++i) {
    const double big = RandomDouble(rng, -50, 60);
    const double ulp = std::nextafter(std::fabs(big), kInf) - std::fabs(big);
    cases.push_back({big, ulp / 2, (rng() % 3 == 0) ? ulp * 0x1p-60 : 0.0,
                     (rng() % 3 == 0) ? -ulp * 0x1p-60 : 0.0});
  }
  return cases;
}

TEST(ExactSumTest, EqualsPythonFsumOnAdversarialInputs) {
  const auto cases = AdversarialCases();
  const auto want = PythonFsum(cases);
  ASSERT_EQ(want.size(), cases.size());
  int compared = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    ExpectSame(Sum(cases[i]), want[i], i);
    compared += want[i] != "overflow";
  }
  EXPECT_GT(compared, 400);
}

// Every order, every split, every add-then-remove gives the same bits: fsum of what is left.
TEST(ExactSumTest, RemovingAndCombiningEqualsFsumOfTheRest) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<double>> kept_cases;
  std::vector<double> removed_results, combined_results;
  for (int i = 0; i < 200; ++i) {
    std::vector<double> xs;
    const int n = 2 + static_cast<int>(rng() % 80);
    for (int j = 0; j < n; ++j)
      xs.push_back(RandomDouble(rng, -200, 200));
    ExactSum sliding;
    std::vector<double> kept;
    const size_t cut = rng() % xs.size();
    for (double x : xs)
      sliding.Add(x);
    for (size_t j = 0; j < xs.size(); ++j) {
      if (j < cut) {
        sliding.Subtract(xs[j]);
      } else {
        kept.push_back(xs[j]);
      }
    }
    ExactSum left, right;
    for (size_t j = 0; j < kept.size(); ++j)
      (j % 2 ? left : right).Add(kept[j]);
    left.Combine(right);
    removed_results.push_back(sliding.Round());
    combined_results.push_back(left.Round());
    kept_cases.push_back(kept);
  }
  const auto want = PythonFsum(kept_cases);
  ASSERT_EQ(want.size(), kept_cases.size());
  for (size_t i = 0; i < kept_cases.size(); ++i) {
    ExpectSame(removed_results[i], want[i], i);
    ExpectSame(combined_results[i], want[i], i);
  }
}

// Where fsum gives up (an intermediate overflow), the exact sum does not.
TEST(ExactSumTest, OverflowIsExact) {
  EXPECT_EQ(Sum({kMax, kMax, -kMax}), kMax);
  EXPECT_EQ(Sum({kMax, kMax}), kInf);
  EXPECT_EQ(Sum({-kMax, -kMax}), -kInf);
  std::vector<double> many(1000, kMax);
  many.insert(many.end(), 999, -kMax);
  EXPECT_EQ(Sum(many), kMax);
}

TEST(ExactSumTest, SpecialValuesAreCountedAndRemovable) {
  ExactSum s;
  s.Add(1.5);
  s.Add(kInf);
  EXPECT_EQ(s.Round(), kInf);
  s.Add(-kInf);
  EXPECT_TRUE(std::isnan(s.Round()));
  s.Subtract(kInf);
  EXPECT_EQ(s.Round(), -kInf);
  s.Subtract(-kInf);
  EXPECT_EQ(s.Round(), 1.5);
  s.Add(std::nan(""));
  EXPECT_TRUE(std::isnan(s.Round()));
  s.Subtract(std::nan(""));
  EXPECT_EQ(s.Round(), 1.5);
}

// Many operations force carries through the lazily propagated chunks; the value stays exact.
TEST(ExactSumTest, LongRunsStayExact) {
  ExactSum s;
  for (int i = 0; i < 3'000'000; ++i)
    s.Add(0x1.fffffffffffffp+1);  // all 53 bits set
  for (int i = 0; i < 3'000'000 - 1; ++i)
    s.Subtract(0x1.fffffffffffffp+1);
  EXPECT_EQ(s.Round(), 0x1.fffffffffffffp+1);
}

TEST(ExactSumTest, ProductsAreExact) {
  ExactSum s;
  const double x = 1.0 + 0x1p-30;
  s.AddProduct(x, x);  // 1 + 2^-29 + 2^-60: not a double
  s.Add(-1.0);
  s.Add(-0x1p-29);
  EXPECT_EQ(s.Round(), 0x1p-60);
  s.SubtractProduct(x, x);
  s.Add(1.0 + 0x1p-29);
  EXPECT_EQ(s.Round(), 0.0);
  ExactSum m;
  m.Add(3.0);
  m.Add(0x1p-60);
  ExactSum scaled;
  scaled.AddMultiple(m, -0.5);
  EXPECT_EQ(scaled.Round(), -1.5 - 0x1p-61);
}

// The encoding: canonical (same value, same bytes, whatever the order) and little-endian,
// pinned to a fixed byte vector.
TEST(ExactSumTest, EncodingIsCanonicalAndLittleEndian) {
  ExactSum one;
  one.Add(1.0);
  StateWriter w;
  one.Encode(w);
  // No specials; 1 chunk from chunk 33 (bit 1074 = 2^0 is bit 18 of chunk 33): 0x00040000.
  const std::string want("\x00\x01\x21\x00\x00\x04\x00", 7);
  EXPECT_EQ(w.out(), want);

  ExactSum a, b;
  for (double x : {1e10, -3.25, 0x1p-900, -7e-310})
    a.Add(x);
  for (double x : {0x1p-900, 5.0, -7e-310, 1e10, -8.25})
    b.Add(x);
  StateWriter wa, wb;
  a.Encode(wa);
  b.Encode(wb);
  EXPECT_EQ(wa.out(), wb.out());
  ExactSum back;
  StateReader r(wa.out());
  ASSERT_TRUE(back.Decode(r));
  EXPECT_TRUE(r.done());
  EXPECT_EQ(back.Round(), a.Round());
  StateWriter again;
  back.Encode(again);
  EXPECT_EQ(again.out(), wa.out());

  ExactSum negative;
  negative.Add(-1.0);
  StateWriter wn;
  negative.Encode(wn);
  EXPECT_EQ(wn.out(), std::string("\x00\x01\x21\x00\x00\xfc\xff", 7));
}

TEST(ExactSumTest, DecodingRejectsMalformedBytes) {
  for (const std::string& bad :
       {std::string("\x02", 1), std::string("\x00\x01", 2), std::string("\x00\x05\x40", 3),
        std::string("\x00\x01\x21\x00\x00\x00\x00", 7), std::string("\x01\x00", 2)}) {
    ExactSum s;
    StateReader r(bad);
    EXPECT_FALSE(s.Decode(r) && r.ok()) << "bytes of size " << bad.size();
  }
}

}  // namespace
}  // namespace sluice::engine
