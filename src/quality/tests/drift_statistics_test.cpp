#include "quality/drift_statistics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <span>

namespace sluice::quality {
namespace {

NumericSample FromValues(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  NumericSample s;
  for (double x : v) {
    if (!s.values.empty() && s.values.back() == x) {
      ++s.counts.back();
    } else {
      s.values.push_back(x);
      s.counts.push_back(1);
    }
  }
  return s;
}

std::vector<double> Normal(std::mt19937_64& rng, size_t n, double mean, double sd,
                           double round_to = 0) {
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (auto& x : v) {
    x = d(rng);
    if (round_to > 0) x = std::round(x / round_to) * round_to;
  }
  return v;
}

// Runs scipy_oracle.py on `cases` with Debian's python3 and returns its answers.
nlohmann::json AskScipy(const nlohmann::json& cases) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("sluice_scipy_cases_" + std::to_string(::getpid()) + ".json");
  std::ofstream(file) << cases.dump();
  const std::string cmd = std::string("/usr/bin/python3 ") + SLUICE_QUALITY_TEST_DIR +
                          "/scipy_oracle.py " + file.string();
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
      out.append(buf, n);
    EXPECT_EQ(::pclose(p), 0) << "scipy_oracle.py failed";
  }
  std::filesystem::remove(file);
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

void ExpectClose(double actual, double expected, double rel, const std::string& what) {
  const double tol = rel * std::max(std::abs(expected), 1e-300) + 1e-300;
  EXPECT_NEAR(actual, expected, tol) << what;
}

TEST(DriftStatisticsTest, SamplesMatchScipy) {
  std::mt19937_64 rng(7);
  struct Case {
    std::vector<double> a, b;
    std::string name;
  };
  std::vector<Case> cases;
  // Sizes cover scipy's exact path (equal and unequal sizes, ties) and its asymptotic path
  // (above 10000 values, and a small sample against a large one).
  cases.push_back({Normal(rng, 40, 0, 1), Normal(rng, 40, 0.5, 1), "n40 equal sizes shift"});
  cases.push_back({Normal(rng, 200, 0, 1), Normal(rng, 300, 0, 1), "n200/300 no shift"});
  cases.push_back({Normal(rng, 700, 10, 2), Normal(rng, 900, 10.4, 2), "n700/900 shift"});
  cases.push_back({Normal(rng, 500, 0, 1, 0.5), Normal(rng, 450, 0.2, 1, 0.5), "ties"});
  cases.push_back({Normal(rng, 3000, 0, 1), Normal(rng, 4500, 0.05, 1), "n3000/4500"});
  cases.push_back({Normal(rng, 9000, 0, 1), Normal(rng, 10000, 0.03, 1.1), "n9000/10000"});
  cases.push_back({Normal(rng, 20000, 0, 1), Normal(rng, 15000, 0.02, 1), "asymptotic small d"});
  cases.push_back({Normal(rng, 12000, 0, 1), Normal(rng, 11000, 0.2, 1), "asymptotic large d"});
  cases.push_back({Normal(rng, 300, 0, 1), Normal(rng, 30000, 0.1, 1), "asymptotic 300/30000"});
  cases.push_back({Normal(rng, 100, 0, 1), Normal(rng, 20000, 0.3, 1), "asymptotic 100/20000"});
  cases.push_back({Normal(rng, 50, 0, 1), Normal(rng, 60, 3, 1), "far apart"});
  nlohmann::json req = nlohmann::json::array();
  for (const auto& c : cases)
    req.push_back({{"kind", "samples"}, {"a", c.a}, {"b", c.b}});
  const auto ans = AskScipy(req);
  ASSERT_EQ(ans.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto a = FromValues(cases[i].a), b = FromValues(cases[i].b);
    const auto& want = ans[i];
    const TestResult ks = KsTwoSample(a, b);
    ExpectClose(ks.statistic, want["ks"][0].get<double>(), 1e-12, cases[i].name + " ks statistic");
    ExpectClose(*ks.p_value, want["ks"][1].get<double>(), 1e-7, cases[i].name + " ks p-value");
    ExpectClose(WassersteinDistance(a, b), want["wasserstein"].get<double>(), 1e-9,
                cases[i].name + " wasserstein");
    ExpectClose(PopulationStddev(a), want["std_a"].get<double>(), 1e-9, cases[i].name + " std");
    // The sorted-values versions against SciPy too (numpy's own summation for the stddev).
    auto xa = cases[i].a, xb = cases[i].b;
    std::sort(xa.begin(), xa.end());
    std::sort(xb.begin(), xb.end());
    ExpectClose(WassersteinDistance(std::span<const double>(xa), std::span<const double>(xb)),
                want["wasserstein"].get<double>(), 1e-9, cases[i].name + " wasserstein (sorted)");
    ExpectClose(PopulationStddev(std::span<const double>(xa)), want["std_a"].get<double>(), 1e-13,
                cases[i].name + " std (sorted)");
    const auto edges = SturgesEdges(a, b);
    ASSERT_EQ(edges.size(), want["edges"].size()) << cases[i].name;
    for (size_t k = 0; k < edges.size(); ++k) {
      EXPECT_DOUBLE_EQ(edges[k], want["edges"][k].get<double>()) << cases[i].name;
    }
    EXPECT_EQ(HistogramCounts(a, edges), want["hist_a"].get<std::vector<std::int64_t>>())
        << cases[i].name;
    EXPECT_EQ(HistogramCounts(b, edges), want["hist_b"].get<std::vector<std::int64_t>>())
        << cases[i].name;
  }
}

TEST(DriftStatisticsTest, SortedValueVersionsEqualTheSampleVersions) {
  std::mt19937_64 rng(11);
  std::vector<std::pair<std::vector<double>, std::vector<double>>> cases;
  cases.push_back({Normal(rng, 5000, 0, 1, 0.01), Normal(rng, 7000, 0.3, 1, 0.01)});  // repeats
  cases.push_back({Normal(rng, 3000, 0, 1), Normal(rng, 100, 0, 2)});
  cases.push_back({{-0.0, 0.0, 0.0, -0.0, 1.5, 1.5, -2.0}, {0.0, -0.0, 3.0, -2.0, -2.0}});
  cases.push_back({{4.0, 4.0, 4.0}, {4.0}});    // one value on both sides
  cases.push_back({{1.0, 2.0}, {10.0, 11.0}});  // disjoint: one side's tail after the other's
  for (auto& [x, y] : cases) {
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    const NumericSample a = FromValues(x), b = FromValues(y);
    const std::span<const double> sa(x), sb(y);
    const double w = WassersteinDistance(a, b);
    EXPECT_NEAR(WassersteinDistance(sa, sb), w, 1e-14 * w) << x.size();
    EXPECT_NEAR(WassersteinDistance(sb, sa), WassersteinDistance(b, a), 1e-14 * w) << x.size();
    EXPECT_NEAR(PopulationStddev(sa), PopulationStddev(a), 1e-14 * PopulationStddev(a)) << x.size();
    const auto edges = SturgesEdges(a, b);
    EXPECT_EQ(SturgesEdges(sa, sb), edges) << x.size();
    EXPECT_EQ(HistogramCounts(sa, edges), HistogramCounts(a, edges)) << x.size();
    EXPECT_EQ(HistogramCounts(sb, edges), HistogramCounts(b, edges)) << x.size();
    const size_t distinct = FromValues([&] {
                              auto all = x;
                              all.insert(all.end(), y.begin(), y.end());
                              return all;
                            }())
                                .values.size();
    EXPECT_EQ(UnionSize(sa, sb, x.size() + y.size()), distinct);
    EXPECT_EQ(UnionSize(sa, sb, 2), std::min<size_t>(distinct, 2));
  }
  // Edges that cut off values: counts only what lies inside, as the sample version.
  std::vector<double> v = {-5, -1, 0, 0, 1, 2, 2, 3, 9};
  const std::vector<double> edges = {-1, 0.5, 2, 3};
  EXPECT_EQ(HistogramCounts(std::span<const double>(v), edges),
            HistogramCounts(FromValues(v), edges));
  EXPECT_EQ(HistogramCounts(std::span<const double>(v), edges),
            (std::vector<std::int64_t>{3, 1, 3}));
}

TEST(DriftStatisticsTest, KolmogorovDistributionMatchesScipy) {
  // Every regime of scipy's kstwo.sf: small and large n, tiny to large n*x^2.
  std::vector<std::pair<std::int64_t, double>> points;
  for (std::int64_t n : {5, 30, 140, 141, 500, 5000, 60000, 150000}) {
    for (double z : {0.3, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0}) {
      points.emplace_back(n, z / std::sqrt(static_cast<double>(n)));
    }
    points.emplace_back(n, 0.7);
  }
  nlohmann::json req = nlohmann::json::array();
  for (auto [n, x] : points)
    req.push_back({{"kind", "kstwo"}, {"n", n}, {"x", x}});
  const auto ans = AskScipy(req);
  ASSERT_EQ(ans.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    const double want = ans[i].get<double>();
    const double got = KolmogorovSf(points[i].first, points[i].second);
    const std::string what = "kstwo.sf(" + std::to_string(points[i].second) + ", " +
                             std::to_string(points[i].first) + ")";
    if (want < 1e-300) {
      EXPECT_LT(got, 1e-290) << what;
    } else {
      ExpectClose(got, want, 1e-6, what);
    }
  }
}

TEST(DriftStatisticsTest, ChiSquareAndJensenShannonMatchScipy) {
  const std::vector<std::vector<double>> obs = {{10, 20, 30}, {5, 0, 7, 9}, {100, 120}};
  const std::vector<std::vector<double>> exp = {{20, 20, 20}, {4, 2, 6, 9}, {110, 110}};
  const std::vector<std::vector<double>> p = {{0.1, 0.2, 0.7}, {0.5, 0.5, 0}, {1, 2, 3, 4}};
  const std::vector<std::vector<double>> q = {{0.3, 0.3, 0.4}, {0, 0.5, 0.5}, {4, 3, 2, 1}};
  nlohmann::json req = nlohmann::json::array();
  for (size_t i = 0; i < obs.size(); ++i)
    req.push_back({{"kind", "chisquare"}, {"obs", obs[i]}, {"exp", exp[i]}});
  for (size_t i = 0; i < p.size(); ++i)
    req.push_back({{"kind", "jensenshannon"}, {"p", p[i]}, {"q", q[i]}});
  const auto ans = AskScipy(req);
  for (size_t i = 0; i < obs.size(); ++i) {
    const TestResult r = ChiSquare(obs[i], exp[i]);
    ExpectClose(r.statistic, ans[i][0].get<double>(), 1e-12, "chisquare statistic");
    ExpectClose(*r.p_value, ans[i][1].get<double>(), 1e-10, "chisquare p-value");
  }
  for (size_t i = 0; i < p.size(); ++i) {
    ExpectClose(JensenShannonDistance(p[i], q[i]), ans[obs.size() + i].get<double>(), 1e-12,
                "jensenshannon");
  }
}

TEST(DriftStatisticsTest, DegenerateInputsGiveDefinedResults) {
  const NumericSample empty;
  const NumericSample one = FromValues({3.0});
  const NumericSample same = FromValues({3.0, 3.0, 3.0});
  EXPECT_EQ(*KsTwoSample(empty, one).p_value, 1.0);
  EXPECT_EQ(KsTwoSample(same, same).statistic, 0.0);
  EXPECT_EQ(*KsTwoSample(same, same).p_value, 1.0);
  EXPECT_EQ(WassersteinDistance(same, same), 0.0);
  EXPECT_EQ(WassersteinDistance(empty, same), 0.0);
  EXPECT_EQ(PopulationStddev(same), 0.0);
  EXPECT_EQ(WassersteinDistance(FromValues({0, 0}), FromValues({2, 2})), 2.0);
  // A constant sample still gets bins (numpy widens the range by 0.5 each side).
  const auto edges = SturgesEdges(same, same);
  EXPECT_EQ(edges.front(), 2.5);
  EXPECT_EQ(edges.back(), 3.5);
  EXPECT_EQ(JensenShannonDistance({0, 0}, {1, 0}), 0.0);
  EXPECT_EQ(JensenShannonDistance({1, 0}, {1, 0}), 0.0);
  EXPECT_NEAR(JensenShannonDistance({1, 0}, {0, 1}), std::sqrt(std::log(2.0)), 1e-15);
  EXPECT_EQ(*ProportionZTest(5, 5, 7, 7).p_value, 1.0);
  EXPECT_EQ(*ChiSquare({3}, {3}).p_value, 1.0);
  const auto r = ChiSquare({1, 2}, {3, 0});
  EXPECT_TRUE(std::isinf(r.statistic));
  EXPECT_EQ(*r.p_value, 0.0);
  const auto filled = FillZeroShares({0.5, 0.5, 0});
  EXPECT_EQ(filled[2], 0.0001);
  EXPECT_GT(
      PopulationStabilityIndex(FillZeroShares({0.9, 0.1, 0}), FillZeroShares({0.1, 0.1, 0.8})),
      1.0);
}

TEST(DriftStatisticsTest, ZTestMatchesTheFormula) {
  // 30 of 100 against 45 of 100: pooled 0.375.
  const auto r = ProportionZTest(30, 100, 45, 100);
  const double se = std::sqrt(0.375 * 0.625 * (0.02));
  EXPECT_NEAR(r.statistic, -0.15 / se, 1e-12);
  EXPECT_NEAR(*r.p_value, std::erfc(0.15 / se / std::sqrt(2.0)), 1e-15);
}

}  // namespace
}  // namespace sluice::quality
