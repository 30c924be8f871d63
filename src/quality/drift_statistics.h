#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

// The statistics behind drift detection, computed exactly from whole samples, with the formulas
// SciPy uses (the test oracle): ks_2samp (method='auto'), wasserstein_distance, chisquare,
// spatial.distance.jensenshannon; plus Evidently's PSI and two-proportion z-test. Pure math: no
// I/O, no DuckDB.
namespace sluice::quality {

// A sample of numbers as its distinct values, ascending, with how often each occurs: what a
// GROUP BY gives, and all that the ECDF-based statistics need.
struct NumericSample {
  std::vector<double> values;        // ascending, distinct, finite
  std::vector<std::int64_t> counts;  // > 0, same length
  std::int64_t size() const;         // sum of counts
};

struct TestResult {
  double statistic = 0;
  std::optional<double> p_value;  // none for distances
};

// Two-sample Kolmogorov-Smirnov, two-sided, as scipy.stats.ks_2samp(method='auto'): the exact
// distribution when both samples have at most 10000 values, else the one-sample Kolmogorov
// distribution of round(n1*n2/(n1+n2)) (scipy's kstwo.sf). Both samples must be non-empty.
TestResult KsTwoSample(const NumericSample& a, const NumericSample& b);
// scipy.stats.kstwo.sf(x, n): P(D_n > x) of the one-sample two-sided statistic.
double KolmogorovSf(std::int64_t n, double x);

// scipy.stats.wasserstein_distance(a, b) (first Wasserstein distance between the ECDFs).
double WassersteinDistance(const NumericSample& a, const NumericSample& b);
// Mean and population standard deviation (numpy's std, ddof=0) of a sample.
double SampleMean(const NumericSample& s);
double PopulationStddev(const NumericSample& s);

// The same over sorted finite values with repeats (each value once per occurrence): drift's
// common path (Wasserstein on millions of numbers) then needs no distinct-value sample. Equal to
// the sample versions within rounding: the distance multiplies by 1/n where SciPy divides by n,
// the standard deviation sums pairwise as numpy does.
double WassersteinDistance(std::span<const double> a, std::span<const double> b);
double PopulationStddev(std::span<const double> values);
// The distinct values of two sorted spans together, counted up to `limit`.
size_t UnionSize(std::span<const double> a, std::span<const double> b, size_t limit);

// scipy.stats.chisquare(observed, expected): statistic and chi2.sf(statistic, k-1).
TestResult ChiSquare(const std::vector<double>& observed, const std::vector<double>& expected);
// scipy.stats.chi2.sf(x, df).
double ChiSquareSf(double x, double df);

// scipy.spatial.distance.jensenshannon(p, q) with natural logarithms (p and q normalized first).
double JensenShannonDistance(const std::vector<double>& p, const std::vector<double>& q);
// Evidently's population stability index: sum((r - c) * ln(r / c)) over shares with no zeros.
double PopulationStabilityIndex(const std::vector<double>& reference,
                                const std::vector<double>& current);
// Evidently's zero filling before PSI: zeros become min(non-zero)/1e6 if that minimum is at most
// 1e-4, else 1e-4.
std::vector<double> FillZeroShares(std::vector<double> shares);

// Two-proportion z-test (two-sided) on the share of one category in each sample: statistic z and
// p = 2 * (1 - Phi(|z|)). p is 1 when both samples hold the same single value.
TestResult ProportionZTest(std::int64_t ref_hits, std::int64_t ref_n, std::int64_t cur_hits,
                           std::int64_t cur_n);

// numpy.histogram_bin_edges(..., bins="sturges") over both samples together: ceil(log2(n)) + 1
// equal-width bins between the overall minimum and maximum (numpy.linspace edges).
std::vector<double> SturgesEdges(const NumericSample& a, const NumericSample& b);
// numpy.histogram(sample, edges)[0]: counts per bin, the last bin closed on the right.
std::vector<std::int64_t> HistogramCounts(const NumericSample& s, const std::vector<double>& edges);
// The same two over sorted finite values with repeats.
std::vector<double> SturgesEdges(std::span<const double> a, std::span<const double> b);
std::vector<std::int64_t> HistogramCounts(std::span<const double> sorted,
                                          const std::vector<double>& edges);

}  // namespace sluice::quality
