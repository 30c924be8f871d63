#include "quality/drift_statistics.h"

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <limits>
#include <numeric>

namespace sluice::quality {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr std::int64_t kMaxExactN = 10000;  // scipy's MAX_AUTO_N

double Clip01(double p) {
  return std::clamp(p, 0.0, 1.0);
}

// scipy _compute_prob_outside_square: n1 == n2 == n, h = round(d * n).
double ProbOutsideSquare(std::int64_t n, std::int64_t h) {
  double p = 0.0;
  for (std::int64_t k = n / h; k >= 0; --k) {
    double p1 = 1.0;
    for (std::int64_t j = 0; j < h; ++j) {
      p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
    }
    p = p1 * (1.0 - p);
  }
  return 2 * p;
}

// scipy _compute_outer_prob_inside_method: the share of lattice paths from (0,0) to (m,n) that
// leave the band |x/m - y/n| < h/lcm, one sliding column of the path-count matrix at a time.
double OuterProbInside(std::int64_t m, std::int64_t n, std::int64_t g, std::int64_t h) {
  if (m < n) std::swap(m, n);
  const std::int64_t mg = m / g;
  const std::int64_t ng = n / g;
  std::int64_t minj = 0;
  std::int64_t maxj = std::min<std::int64_t>(
      static_cast<std::int64_t>(std::ceil(static_cast<double>(h) / static_cast<double>(mg))),
      n + 1);
  std::int64_t curlen = maxj - minj;
  const std::int64_t len_a = std::min<std::int64_t>(2 * maxj + 2, n + 1);
  std::vector<double> a(static_cast<size_t>(std::max<std::int64_t>(len_a, 1)), 1.0);
  for (std::int64_t j = minj; j < maxj && j < len_a; ++j)
    a[j] = 0.0;
  for (std::int64_t i = 1; i <= m; ++i) {
    const std::int64_t lastminj = minj;
    const std::int64_t lastlen = curlen;
    minj = std::max<std::int64_t>(
        static_cast<std::int64_t>(std::floor(static_cast<double>(ng * i - h) / mg)) + 1, 0);
    minj = std::min(minj, n);
    maxj = std::min<std::int64_t>(
        static_cast<std::int64_t>(std::ceil(static_cast<double>(ng * i + h) / mg)), n + 1);
    if (maxj <= minj) return 1.0;
    double val = minj == 0 ? 0.0 : 1.0;
    for (std::int64_t jj = 0; jj < maxj - minj; ++jj) {
      const std::int64_t j = jj + minj;
      val = (a[jj + minj - lastminj] * static_cast<double>(i) + val * static_cast<double>(j)) /
            static_cast<double>(i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      for (std::int64_t k = maxj - minj; k < maxj - minj + (lastlen - curlen) && k < len_a; ++k)
        a[k] = 1.0;
    }
  }
  return a[maxj - minj - 1];
}

// scipy.special.smirnov(n, x): P(D+_n > x), the Birnbaum-Tingey sum, summed in logs.
double Smirnov(std::int64_t n, double x) {
  if (x <= 0) return 1.0;
  if (x >= 1) return 0.0;
  const double nd = static_cast<double>(n);
  const auto last = static_cast<std::int64_t>(std::floor(nd * (1.0 - x)));
  const double lg_n1 = std::lgamma(nd + 1);
  double p = 0.0;
  for (std::int64_t v = 0; v <= last; ++v) {
    const double evn = x + static_cast<double>(v) / nd;
    const double omevn = 1.0 - evn;
    if (omevn <= 0) continue;
    const double t = lg_n1 - std::lgamma(static_cast<double>(v) + 1) -
                     std::lgamma(nd - static_cast<double>(v) + 1) +
                     static_cast<double>(v - 1) * std::log(evn) +
                     static_cast<double>(n - v) * std::log(omevn);
    if (t > -708) p += std::exp(t);
  }
  return Clip01(p * x);
}

// Durbin's matrix algorithm as Marsaglia, Tsang and Wang compute it: P(D_n <= d), with the
// matrix power rescaled by 2^128 steps to stay in range (scipy _kolmogn_DMTW).
double KolmogorovCdfDurbin(std::int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) return 0.0;
  const auto k = static_cast<std::int64_t>(std::ceil(nd));
  const double h = static_cast<double>(k) - nd;
  const auto m = static_cast<size_t>(2 * k - 1);
  const double kScale = std::ldexp(1.0, 128);
  std::vector<double> hm(m * m, 0.0), v(m), w(m);
  double fac = 1.0;
  for (size_t j = 1; j <= m; ++j) {
    w[j - 1] = fac;
    fac /= static_cast<double>(j);
    v[j - 1] = (1.0 - std::pow(h, static_cast<double>(j))) * fac;
  }
  const double tt = std::pow(std::max(2 * h - 1.0, 0.0), static_cast<double>(m)) -
                    2 * std::pow(h, static_cast<double>(m));
  v[m - 1] = (1.0 + tt) * fac;
  for (size_t i = 1; i < m; ++i) {
    for (size_t r = i - 1; r < m; ++r)
      hm[r * m + i] = w[r - (i - 1)];
  }
  for (size_t r = 0; r < m; ++r)
    hm[r * m] = v[r];
  for (size_t c = 0; c < m; ++c)
    hm[(m - 1) * m + c] = v[m - 1 - c];
  auto multiply = [m](const std::vector<double>& x, const std::vector<double>& y) {
    std::vector<double> out(m * m, 0.0);
    for (size_t i = 0; i < m; ++i)
      for (size_t l = 0; l < m; ++l) {
        const double xil = x[i * m + l];
        if (xil == 0) continue;
        for (size_t j = 0; j < m; ++j)
          out[i * m + j] += xil * y[l * m + j];
      }
    return out;
  };
  std::vector<double> power(m * m, 0.0);
  for (size_t i = 0; i < m; ++i)
    power[i * m + i] = 1.0;
  std::int64_t nn = n;
  int expnt = 0, h_expnt = 0;
  const size_t kk = static_cast<size_t>(k - 1);
  while (nn > 0) {
    if (nn % 2) {
      power = multiply(power, hm);
      expnt += h_expnt;
    }
    hm = multiply(hm, hm);
    h_expnt *= 2;
    if (std::abs(hm[kk * m + kk]) > kScale) {
      for (double& x : hm)
        x /= kScale;
      h_expnt += 128;
    }
    nn /= 2;
  }
  double p = power[kk * m + kk];
  const double kSmall = std::ldexp(1.0, -128);
  for (std::int64_t i = 1; i <= n; ++i) {
    p = static_cast<double>(i) * p / static_cast<double>(n);
    if (std::abs(p) < kSmall) {
      p *= kScale;
      expnt -= 128;
    }
  }
  if (expnt != 0) p = std::ldexp(p, expnt);
  return Clip01(p);
}

// Pelz and Good's asymptotic series for P(D_n <= x) (scipy _kolmogn_PelzGood).
double KolmogorovCdfPelzGood(std::int64_t n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double z = std::sqrt(static_cast<double>(n)) * x;
  const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const double qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0.0;
  double q = std::exp(qlog);
  const double k1a = -z2, k1b = pi2 / 4;
  const double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4,
               k2c = pi4 * (1 - 2 * z2) / 16;
  const double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
               k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * std::pow(z, 8);
  double k0to3[4] = {0, 0, 0, 0};
  const auto maxk = static_cast<std::int64_t>(std::ceil(16 * z / kPi));
  for (std::int64_t k = maxk; k > 0; --k) {
    const double m = static_cast<double>(2 * k - 1);
    const double m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const double qpower = std::pow(q, static_cast<double>(8 * k));
    const double coeffs[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                              k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; ++i)
      k0to3[i] = k0to3[i] * qpower + coeffs[i];
  }
  const double sqrt2pi = std::sqrt(2 * kPi);
  const double div[4] = {z, 6 * z4, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
  for (int i = 0; i < 4; ++i)
    k0to3[i] = k0to3[i] * q * sqrt2pi / div[i];
  q = std::exp(-pi2 / 2 / z2);
  double k2extra = 0, k3extra = 0;
  const double sqrt3z = std::sqrt(3.0) * z;
  for (std::int64_t k = maxk; k > 0; --k) {
    const double kd = static_cast<double>(k);
    const double ks2 = kd * kd;
    const double qp = std::pow(q, ks2);
    k2extra += ks2 * qp;
    k3extra += (sqrt3z + kPi * kd) * (sqrt3z - kPi * kd) * ks2 * qp;
  }
  k0to3[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
  k0to3[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
  double sum = 0;
  for (int i = 0; i < 4; ++i)
    sum += k0to3[i] / std::pow(static_cast<double>(n), i / 2.0);
  return sum;
}

double LogFactorialOverPower(std::int64_t n) {  // log(n! / n^n) by Stirling's series
  static constexpr double kCoeffs[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                       -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                       -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                       -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  const double rn = 1.0 / static_cast<double>(n);
  const double y = rn / static_cast<double>(n);
  double poly = 0;
  for (double c : kCoeffs)
    poly = poly * y + c;
  return std::log(static_cast<double>(n)) / 2 - static_cast<double>(n) + std::log(2 * kPi) / 2 +
         rn * poly;
}

}  // namespace

std::int64_t NumericSample::size() const {
  return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

double KolmogorovSf(std::int64_t n, double x) {
  // Simard and L'Ecuyer's choice of method by n and n*x^2, as scipy's _kolmogn(cdf=False).
  if (n <= 0) return 1.0;
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  const double nd = static_cast<double>(n);
  const double t = nd * x;
  if (t <= 1.0) {
    if (t <= 0.5) return 1.0;
    double cdf;
    if (n <= 140) {
      cdf = 1.0;
      for (std::int64_t i = 1; i <= n; ++i)
        cdf *= static_cast<double>(i) * (1.0 / nd) * (2 * t - 1);
    } else {
      cdf = std::exp(LogFactorialOverPower(n) + nd * std::log(2 * t - 1));
    }
    return Clip01(1.0 - cdf);
  }
  if (t >= nd - 1) return Clip01(2 * std::pow(1.0 - x, nd));
  if (x >= 0.5) return Clip01(2 * Smirnov(n, x));
  const double nx2 = t * x;
  if (n <= 140) {
    // scipy uses Pomeranz's recursion for 0.754693 < n*x^2 <= 4; Durbin's matrix is exact too.
    if (nx2 <= 4) return Clip01(1.0 - KolmogorovCdfDurbin(n, x));
    return Clip01(2 * Smirnov(n, x));
  }
  if (nx2 >= 370.0) return 0.0;
  if (nx2 >= 2.2) return Clip01(2 * Smirnov(n, x));
  double cdf;
  if (nx2 >= 18.0) {
    cdf = 1.0;
  } else if (n <= 100000 && nd * std::pow(x, 1.5) <= 1.4) {
    cdf = KolmogorovCdfDurbin(n, x);
  } else {
    cdf = KolmogorovCdfPelzGood(n, x);
  }
  return Clip01(1.0 - cdf);
}

TestResult KsTwoSample(const NumericSample& a, const NumericSample& b) {
  const std::int64_t n1 = a.size();
  const std::int64_t n2 = b.size();
  if (n1 == 0 || n2 == 0) return {0.0, 1.0};
  // max |F1 - F2| over the merged values, with the same divisions as scipy's searchsorted ECDFs.
  double d = 0;
  std::int64_t c1 = 0, c2 = 0;
  size_t i = 0, j = 0;
  while (i < a.values.size() || j < b.values.size()) {
    double v;
    if (j >= b.values.size() || (i < a.values.size() && a.values[i] <= b.values[j])) {
      v = a.values[i];
    } else {
      v = b.values[j];
    }
    while (i < a.values.size() && a.values[i] == v)
      c1 += a.counts[i++];
    while (j < b.values.size() && b.values[j] == v)
      c2 += b.counts[j++];
    const double diff = static_cast<double>(c1) / static_cast<double>(n1) -
                        static_cast<double>(c2) / static_cast<double>(n2);
    d = std::max(d, std::abs(diff));
  }
  d = std::min(d, 1.0);
  const std::int64_t g = std::gcd(n1, n2);
  if (std::max(n1, n2) <= kMaxExactN) {
    const std::int64_t lcm = (n1 / g) * n2;
    const auto h = static_cast<std::int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
    const double dq = static_cast<double>(h) / static_cast<double>(lcm);
    if (h == 0) return {dq, 1.0};
    const double p = n1 == n2 ? ProbOutsideSquare(n1, h) : OuterProbInside(n1, n2, g, h);
    if (std::isfinite(p) && p >= 0 && p <= 1) return {dq, p};
    // Otherwise scipy falls back to the asymptotic distribution below, with d as computed.
  }
  const double m = static_cast<double>(std::max(n1, n2));
  const double n = static_cast<double>(std::min(n1, n2));
  const double en = m * n / (m + n);
  return {d, Clip01(KolmogorovSf(static_cast<std::int64_t>(std::nearbyint(en)), d))};
}

double WassersteinDistance(const NumericSample& a, const NumericSample& b) {
  const double n1 = static_cast<double>(a.size());
  const double n2 = static_cast<double>(b.size());
  if (n1 == 0 || n2 == 0) return 0.0;
  // Integral of |F1 - F2| between consecutive merged values.
  double total = 0;
  std::int64_t c1 = 0, c2 = 0;
  size_t i = 0, j = 0;
  bool first = true;
  double prev = 0;
  while (i < a.values.size() || j < b.values.size()) {
    double v;
    if (j >= b.values.size() || (i < a.values.size() && a.values[i] <= b.values[j])) {
      v = a.values[i];
    } else {
      v = b.values[j];
    }
    if (!first) {
      total += std::abs(static_cast<double>(c1) / n1 - static_cast<double>(c2) / n2) * (v - prev);
    }
    while (i < a.values.size() && a.values[i] == v)
      c1 += a.counts[i++];
    while (j < b.values.size() && b.values[j] == v)
      c2 += b.counts[j++];
    prev = v;
    first = false;
  }
  return total;
}

double SampleMean(const NumericSample& s) {
  const double n = static_cast<double>(s.size());
  if (n == 0) return 0;
  double sum = 0;
  for (size_t i = 0; i < s.values.size(); ++i)
    sum += s.values[i] * static_cast<double>(s.counts[i]);
  return sum / n;
}

double PopulationStddev(const NumericSample& s) {
  const double n = static_cast<double>(s.size());
  if (n == 0) return 0;
  const double mean = SampleMean(s);
  double ss = 0;
  for (size_t i = 0; i < s.values.size(); ++i) {
    const double dev = s.values[i] - mean;
    ss += dev * dev * static_cast<double>(s.counts[i]);
  }
  return std::sqrt(ss / n);
}

double ChiSquareSf(double x, double df) {
  if (!(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return boost::math::gamma_q(df / 2, x / 2);
}

TestResult ChiSquare(const std::vector<double>& observed, const std::vector<double>& expected) {
  double stat = 0;
  for (size_t i = 0; i < observed.size() && i < expected.size(); ++i) {
    const double dev = observed[i] - expected[i];
    stat += expected[i] > 0 ? dev * dev / expected[i]
                            : (dev == 0 ? 0.0 : std::numeric_limits<double>::infinity());
  }
  const double df = static_cast<double>(observed.size()) - 1;
  if (df <= 0) return {stat, 1.0};
  return {stat, ChiSquareSf(stat, df)};
}

double JensenShannonDistance(const std::vector<double>& p, const std::vector<double>& q) {
  const double sp = std::accumulate(p.begin(), p.end(), 0.0);
  const double sq = std::accumulate(q.begin(), q.end(), 0.0);
  if (sp <= 0 || sq <= 0) return 0.0;
  auto rel_entr = [](double x, double y) {
    if (x == 0) return 0.0;
    return x * std::log(x / y);
  };
  double js = 0;
  for (size_t i = 0; i < p.size() && i < q.size(); ++i) {
    const double pi = p[i] / sp, qi = q[i] / sq;
    const double m = (pi + qi) / 2;
    js += rel_entr(pi, m) + rel_entr(qi, m);
  }
  return std::sqrt(std::max(js / 2, 0.0));
}

std::vector<double> FillZeroShares(std::vector<double> shares) {
  double min_nonzero = std::numeric_limits<double>::infinity();
  for (double s : shares)
    if (s != 0) min_nonzero = std::min(min_nonzero, s);
  if (!std::isfinite(min_nonzero)) return shares;
  const double fill = min_nonzero <= 0.0001 ? min_nonzero / 1e6 : 0.0001;
  for (double& s : shares)
    if (s == 0) s = fill;
  return shares;
}

double PopulationStabilityIndex(const std::vector<double>& reference,
                                const std::vector<double>& current) {
  double psi = 0;
  for (size_t i = 0; i < reference.size() && i < current.size(); ++i) {
    if (reference[i] <= 0 || current[i] <= 0) continue;
    psi += (reference[i] - current[i]) * std::log(reference[i] / current[i]);
  }
  return psi;
}

TestResult ProportionZTest(std::int64_t ref_hits, std::int64_t ref_n, std::int64_t cur_hits,
                           std::int64_t cur_n) {
  if (ref_n == 0 || cur_n == 0) return {0.0, 1.0};
  const double n1 = static_cast<double>(ref_n), n2 = static_cast<double>(cur_n);
  const double p1 = static_cast<double>(ref_hits) / n1;
  const double p2 = static_cast<double>(cur_hits) / n2;
  const double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const double se = std::sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  if (!(se > 0)) return {0.0, 1.0};
  const double z = (p1 - p2) / se;
  return {z, Clip01(std::erfc(std::abs(z) / std::sqrt(2.0)))};
}

namespace {

// numpy's Sturges edges for `size` values between lo and hi (lo > hi: no values).
std::vector<double> SturgesEdgesOf(double lo, double hi, std::int64_t size) {
  if (size == 0) return {0.0, 1.0};
  std::int64_t bins = 1;
  const double ptp = hi - lo;
  if (ptp > 0) {
    const double width = ptp / (std::log2(static_cast<double>(size)) + 1.0);
    bins = static_cast<std::int64_t>(std::ceil(ptp / width));
  } else {
    lo -= 0.5;
    hi += 0.5;
  }
  std::vector<double> edges(static_cast<size_t>(bins) + 1);
  const double step = (hi - lo) / static_cast<double>(bins);
  for (std::int64_t i = 0; i <= bins; ++i)
    edges[i] = static_cast<double>(i) * step + lo;
  edges.back() = hi;
  return edges;
}

}  // namespace

std::vector<double> SturgesEdges(const NumericSample& a, const NumericSample& b) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* s : {&a, &b}) {
    if (s->values.empty()) continue;
    lo = std::min(lo, s->values.front());
    hi = std::max(hi, s->values.back());
  }
  return SturgesEdgesOf(lo, hi, a.size() + b.size());
}

std::vector<double> SturgesEdges(std::span<const double> a, std::span<const double> b) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto s : {a, b}) {
    if (s.empty()) continue;
    lo = std::min(lo, s.front());
    hi = std::max(hi, s.back());
  }
  return SturgesEdgesOf(lo, hi, static_cast<std::int64_t>(a.size() + b.size()));
}

std::vector<std::int64_t> HistogramCounts(const NumericSample& s,
                                          const std::vector<double>& edges) {
  if (edges.size() < 2) return {};
  std::vector<std::int64_t> counts(edges.size() - 1, 0);
  // Values ascend, so the bin only moves forward: bin k holds edges[k] <= v < edges[k+1], the
  // last one also v == edges.back() (numpy's searchsorted rule, without a search per value).
  const size_t last = counts.size() - 1;
  size_t bin = 0;
  for (size_t i = 0; i < s.values.size(); ++i) {
    const double v = s.values[i];
    if (v < edges.front()) continue;
    if (v > edges.back()) break;
    while (bin < last && v >= edges[bin + 1])
      ++bin;
    counts[bin] += s.counts[i];
  }
  return counts;
}

std::vector<std::int64_t> HistogramCounts(std::span<const double> sorted,
                                          const std::vector<double>& edges) {
  if (edges.size() < 2) return {};
  std::vector<std::int64_t> counts(edges.size() - 1, 0);
  // As the sample version: bin k holds edges[k] <= v < edges[k+1], the last one closed. Sorted,
  // so each bin's values are one stretch, found by binary search.
  const auto begin = std::lower_bound(sorted.begin(), sorted.end(), edges.front());
  const auto end = std::upper_bound(begin, sorted.end(), edges.back());
  auto from = begin;
  for (size_t k = 0; k + 1 < counts.size(); ++k) {
    const auto to = std::lower_bound(from, end, edges[k + 1]);
    counts[k] = to - from;
    from = to;
  }
  counts.back() = end - from;
  return counts;
}

double WassersteinDistance(std::span<const double> a, std::span<const double> b) {
  const double n1 = static_cast<double>(a.size());
  const double n2 = static_cast<double>(b.size());
  if (n1 == 0 || n2 == 0) return 0.0;
  // The sample version's sum, term by term: a repeated value adds |F1 - F2| * 0, which leaves the
  // (non-negative) total unchanged, and the counts grow by one per repeat instead of at once. The
  // ECDFs are i * (1 / n) rather than i / n (within an ulp: a division per value would be the
  // loop's bottleneck), and the merge is branch-free: which side moves is data, which a branch
  // predictor cannot learn.
  const double r1 = 1.0 / n1, r2 = 1.0 / n2;
  double total = 0;
  size_t i = 0, j = 0;
  double prev = std::min(a.front(), b.front());
  while (i < a.size() && j < b.size()) {
    const double x = a[i], y = b[j];
    const bool take_a = x <= y;
    const double v = take_a ? x : y;
    total += std::abs(static_cast<double>(i) * r1 - static_cast<double>(j) * r2) * (v - prev);
    prev = v;
    i += take_a ? 1 : 0;
    j += take_a ? 0 : 1;
  }
  for (; i < a.size(); ++i) {
    total += std::abs(static_cast<double>(i) * r1 - static_cast<double>(j) * r2) * (a[i] - prev);
    prev = a[i];
  }
  for (; j < b.size(); ++j) {
    total += std::abs(static_cast<double>(i) * r1 - static_cast<double>(j) * r2) * (b[j] - prev);
    prev = b[j];
  }
  return total;
}

namespace {

// numpy's pairwise summation of f(x) over x: blocks of up to 128 values summed in eight
// interleaved partial sums, halves added recursively. Rounding error grows with log n, not n,
// and the eight chains keep the adder busy.
template <typename F>
double PairwiseSum(const double* x, size_t n, const F& f) {
  if (n < 8) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i)
      sum += f(x[i]);
    return sum;
  }
  if (n <= 128) {
    double r[8];
    for (size_t k = 0; k < 8; ++k)
      r[k] = f(x[k]);
    size_t i = 8;
    for (; i + 8 <= n; i += 8)
      for (size_t k = 0; k < 8; ++k)
        r[k] += f(x[i + k]);
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i)
      sum += f(x[i]);
    return sum;
  }
  size_t half = n / 2;
  half -= half % 8;
  return PairwiseSum(x, half, f) + PairwiseSum(x + half, n - half, f);
}

}  // namespace

double PopulationStddev(std::span<const double> values) {
  const double n = static_cast<double>(values.size());
  if (n == 0) return 0;
  // numpy.std's two passes (mean, then squared deviations), each summed pairwise as numpy does.
  const double mean = PairwiseSum(values.data(), values.size(), [](double x) { return x; }) / n;
  const double ss = PairwiseSum(values.data(), values.size(), [mean](double x) {
    const double dev = x - mean;
    return dev * dev;
  });
  return std::sqrt(ss / n);
}

size_t UnionSize(std::span<const double> a, std::span<const double> b, size_t limit) {
  size_t n = 0, i = 0, j = 0;
  while ((i < a.size() || j < b.size()) && n < limit) {
    const double v = j >= b.size() || (i < a.size() && a[i] <= b[j]) ? a[i] : b[j];
    ++n;
    while (i < a.size() && a[i] == v)
      ++i;
    while (j < b.size() && b[j] == v)
      ++j;
  }
  return n;
}

}  // namespace sluice::quality
