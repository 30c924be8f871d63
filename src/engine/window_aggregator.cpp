#include "engine/window_aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/json_text.h"

namespace sluice::engine {

using config::AggregationFunction;
using types::LogicalType;

namespace {

constexpr int kHllBits = 10;  // 1024 registers: about 3% standard error
constexpr size_t kHllRegisters = size_t{1} << kHllBits;

// FNV-1a, then a 64-bit finalizer: a fixed, platform-independent hash so distinct counts are
// the same on every machine.
std::uint64_t HashBytes(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::uint64_t HashValue(const types::Column& c, size_t row) {
  switch (c.type()) {
    case LogicalType::kString:
      return HashBytes(c.GetString(row));
    case LogicalType::kDouble: {
      double d = c.GetDouble(row);
      if (d == 0) d = 0;  // -0.0 and 0.0 are one value
      char buf[8];
      std::memcpy(buf, &d, 8);
      return HashBytes({buf, 8});
    }
    default: {
      const std::string s = std::to_string(c.type() == LogicalType::kDate ? c.GetDate(row)
                                           : c.type() == LogicalType::kBool
                                               ? static_cast<std::int64_t>(c.GetBool(row))
                                               : c.GetInt64(row));
      return HashBytes(s);
    }
  }
}

std::int64_t IntAt(const types::Column& c, size_t row) {
  switch (c.type()) {
    case LogicalType::kBool:
      return c.GetBool(row) ? 1 : 0;
    case LogicalType::kDate:
      return c.GetDate(row);
    default:
      return c.GetInt64(row);
  }
}

double NumberAt(const types::Column& c, size_t row) {
  return c.type() == LogicalType::kDouble ? c.GetDouble(row) : static_cast<double>(IntAt(c, row));
}

std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += items[i];
  }
  return out + "]";
}

std::int64_t HllEstimate(const std::vector<std::uint8_t>& regs) {
  double sum = 0;
  size_t zeros = 0;
  for (auto r : regs) {
    sum += std::ldexp(1.0, -static_cast<int>(r));
    if (r == 0) ++zeros;
  }
  const double m = static_cast<double>(regs.size());
  const double alpha = 0.7213 / (1 + 1.079 / m);
  double estimate = alpha * m * m / sum;
  if (estimate <= 2.5 * m && zeros > 0) estimate = m * std::log(m / static_cast<double>(zeros));
  return static_cast<std::int64_t>(std::llround(estimate));
}

void HllAdd(std::vector<std::uint8_t>& regs, std::uint64_t h) {
  if (regs.empty()) regs.assign(kHllRegisters, 0);
  const size_t idx = h >> (64 - kHllBits);
  const std::uint64_t rest = (h << kHllBits) | (std::uint64_t{1} << (kHllBits - 1));
  const auto rank = static_cast<std::uint8_t>(__builtin_clzll(rest) + 1);
  regs[idx] = std::max(regs[idx], rank);
}

}  // namespace

std::string RenderValue(const types::Column& c, size_t row) {
  switch (c.type()) {
    case LogicalType::kString:
      return base::JsonQuoted(c.GetString(row));
    case LogicalType::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", c.GetDouble(row));
      return buf;
    }
    case LogicalType::kBool:
      return c.GetBool(row) ? "true" : "false";
    case LogicalType::kTimestamp:
      return base::JsonQuoted(c.ValueToString(row));
    case LogicalType::kDate:
      return base::JsonQuoted(c.ValueToString(row));
    case LogicalType::kInt64:
      return std::to_string(c.GetInt64(row));
  }
  return "null";
}

FeatureValues::FeatureValues(LogicalType type, size_t rows) : type_(type), valid_(rows, 0) {
  if (type == LogicalType::kString) {
    texts_.resize(rows);
  } else if (type == LogicalType::kDouble) {
    doubles_.resize(rows, 0.0);
  } else {
    ints_.resize(rows, 0);
  }
}

void FeatureValues::CopyRow(const FeatureValues& src, size_t from_row, size_t to_row) {
  valid_[to_row] = src.valid_[from_row];
  if (type_ == LogicalType::kString) {
    texts_[to_row] = src.texts_[from_row];
  } else if (type_ == LogicalType::kDouble) {
    doubles_[to_row] = src.doubles_[from_row];
  } else {
    ints_[to_row] = src.ints_[from_row];
  }
}

void FeatureValues::Scatter(const FeatureValues& src, const std::vector<std::uint32_t>& to_rows) {
  // One loop per type: a tight loop of independent stores, unlike one row at a time.
  const size_t n = to_rows.size();
  if (type_ == LogicalType::kString) {
    for (size_t j = 0; j < n; ++j)
      texts_[to_rows[j]] = src.texts_[j];
  } else if (type_ == LogicalType::kDouble) {
    for (size_t j = 0; j < n; ++j)
      doubles_[to_rows[j]] = src.doubles_[j];
  } else {
    for (size_t j = 0; j < n; ++j)
      ints_[to_rows[j]] = src.ints_[j];
  }
  for (size_t j = 0; j < n; ++j)
    valid_[to_rows[j]] = src.valid_[j];
}

types::Column FeatureValues::ToColumn() const {
  types::Column c(type_);
  const size_t n = valid_.size();
  c.Reserve(n);
  if (type_ == LogicalType::kString) {
    for (size_t i = 0; i < n; ++i) {
      if (valid_[i]) {
        c.AppendString(texts_[i]);
      } else {
        c.AppendNull();
      }
    }
    return c;
  }
  std::vector<std::uint64_t> mask((n + 63) / 64, 0);
  for (size_t i = 0; i < n; ++i) {
    if (valid_[i]) mask[i / 64] |= std::uint64_t{1} << (i % 64);
  }
  if (type_ == LogicalType::kDouble) {
    c.AppendFixedRaw(doubles_.data(), mask.data(), n);
  } else {
    c.AppendFixedRaw(ints_.data(), mask.data(), n);
  }
  return c;
}

EntityAggregator::EntityAggregator(const FeatureViewPlan& plan, const EventLog& log)
    : plan_(plan), log_(log) {
  for (const auto& a : plan.aggregations) {
    if (!a.window) {
      agg_window_.push_back(-1);
      continue;
    }
    auto it = std::find(windows_.begin(), windows_.end(), *a.window);
    if (it == windows_.end()) {
      windows_.push_back(*a.window);
      it = windows_.end() - 1;
    }
    agg_window_.push_back(static_cast<int>(it - windows_.begin()));
  }
  window_lo_.resize(windows_.size());
  lifetime_.resize(plan.aggregations.size());
}

void EntityAggregator::Reset(size_t begin, size_t end) {
  begin_ = begin;
  end_ = end;
  hi_ = begin;
  std::fill(window_lo_.begin(), window_lo_.end(), begin);
  for (size_t a = 0; a < lifetime_.size(); ++a) {
    if (agg_window_[a] < 0) lifetime_[a] = LifetimeState{};
  }
}

void EntityAggregator::Restore(size_t begin, size_t end, std::vector<LifetimeState> lifetime) {
  RestoreExchange(begin, end, lifetime);
}

void EntityAggregator::RestoreExchange(size_t begin, size_t end,
                                       std::vector<LifetimeState>& lifetime) {
  begin_ = begin;
  end_ = end;
  hi_ = end;
  std::fill(window_lo_.begin(), window_lo_.end(), begin);
  lifetime_.swap(lifetime);
  lifetime_.resize(plan_.aggregations.size());
}

void EntityAggregator::AdvanceTo(std::int64_t t) {
  while (hi_ < end_ && log_.ts[hi_] <= t) {
    for (size_t a = 0; a < agg_window_.size(); ++a) {
      if (agg_window_[a] < 0) AddToLifetime(a, hi_);
    }
    ++hi_;
  }
  for (size_t w = 0; w < windows_.size(); ++w) {
    size_t& lo = window_lo_[w];
    // The window is (t - w, t]: an event exactly w before t has just left it.
    while (lo < hi_ && log_.ts[lo] <= t - windows_[w])
      ++lo;
  }
}

void EntityAggregator::AddToLifetime(size_t agg, size_t e) {
  const AggregationPlan& a = plan_.aggregations[agg];
  LifetimeState& s = lifetime_[agg];
  if (a.input < 0) {
    ++s.count;
    return;
  }
  const types::Column& c = log_.inputs[a.input];
  if (!c.IsValid(e)) return;
  const InputKind kind = plan_.inputs[a.input].kind;
  ++s.count;
  switch (a.function) {
    case AggregationFunction::kCount:
      break;
    case AggregationFunction::kSum:
    case AggregationFunction::kMean:
      if (kind == InputKind::kInteger) {
        s.int_sum += IntAt(c, e);
      } else {
        s.sum += c.GetDouble(e);
      }
      break;
    case AggregationFunction::kStddev:
    case AggregationFunction::kVariance: {
      const double x = NumberAt(c, e);
      const double delta = x - s.mean;
      s.mean += delta / static_cast<double>(s.count);
      s.m2 += delta * (x - s.mean);
      break;
    }
    case AggregationFunction::kMin:
    case AggregationFunction::kMax:
    case AggregationFunction::kFirst:
    case AggregationFunction::kLast: {
      const bool first = !s.has_value;
      s.has_value = true;
      if (kind == InputKind::kInteger) {
        const std::int64_t v = IntAt(c, e);
        if (first || v < s.int_min) s.int_min = v;
        if (first || v > s.int_max) s.int_max = v;
        if (first) s.int_first = v;
        s.int_last = v;
      } else if (kind == InputKind::kNumber) {
        const double v = c.GetDouble(e);
        if (first || v < s.min) s.min = v;
        if (first || v > s.max) s.max = v;
        if (first) s.first = v;
        s.last = v;
      } else {
        const std::string v(c.GetString(e));
        if (first || v < s.text_min) s.text_min = v;
        if (first || v > s.text_max) s.text_max = v;
        if (first) s.text_first = v;
        s.text_last = v;
      }
      break;
    }
    case AggregationFunction::kLastK:
      s.last_k.push_back(RenderValue(c, e));
      if (static_cast<std::int64_t>(s.last_k.size()) > a.k) s.last_k.pop_front();
      break;
    case AggregationFunction::kApproxCountDistinct:
      HllAdd(s.hll, HashValue(c, e));
      break;
  }
}

void EntityAggregator::Emit(std::int64_t t, size_t row, std::vector<FeatureValues>& out) const {
  if (plan_.ttl && (hi_ == begin_ || log_.ts[hi_ - 1] <= t - *plan_.ttl)) {
    for (size_t a = 0; a < plan_.aggregations.size(); ++a)
      out[a].SetNull(row);
    return;
  }
  EmitIgnoringTtl(t, row, out);
}

void EntityAggregator::EmitIgnoringTtl(std::int64_t, size_t row,
                                       std::vector<FeatureValues>& out) const {
  for (size_t a = 0; a < plan_.aggregations.size(); ++a) {
    if (agg_window_[a] < 0) {
      EmitLifetime(a, row, out[a]);
    } else {
      EmitWindow(a, window_lo_[agg_window_[a]], hi_, row, out[a]);
    }
  }
}

void EntityAggregator::EmitWindow(size_t agg, size_t lo, size_t hi, size_t row,
                                  FeatureValues& out) const {
  const AggregationPlan& a = plan_.aggregations[agg];
  if (a.input < 0) {
    out.SetInt(row, static_cast<std::int64_t>(hi - lo));
    return;
  }
  const types::Column& c = log_.inputs[a.input];
  const InputKind kind = plan_.inputs[a.input].kind;
  std::int64_t n = 0;
  switch (a.function) {
    case AggregationFunction::kCount:
      for (size_t e = lo; e < hi; ++e)
        n += c.IsValid(e) ? 1 : 0;
      out.SetInt(row, n);
      return;
    case AggregationFunction::kSum:
    case AggregationFunction::kMean: {
      std::int64_t isum = 0;
      double sum = 0;
      for (size_t e = lo; e < hi; ++e) {
        if (!c.IsValid(e)) continue;
        ++n;
        if (kind == InputKind::kInteger) {
          isum += IntAt(c, e);
        } else {
          sum += c.GetDouble(e);
        }
      }
      if (n == 0) {
        out.SetNull(row);
      } else if (a.function == AggregationFunction::kMean) {
        out.SetDouble(row, (kind == InputKind::kInteger ? static_cast<double>(isum) : sum) /
                               static_cast<double>(n));
      } else if (kind == InputKind::kInteger) {
        out.SetInt(row, isum);
      } else {
        out.SetDouble(row, sum);
      }
      return;
    }
    case AggregationFunction::kStddev:
    case AggregationFunction::kVariance: {
      double sum = 0;
      for (size_t e = lo; e < hi; ++e) {
        if (!c.IsValid(e)) continue;
        ++n;
        sum += NumberAt(c, e);
      }
      if (n < 2) {
        out.SetNull(row);
        return;
      }
      const double mean = sum / static_cast<double>(n);
      double ss = 0;
      for (size_t e = lo; e < hi; ++e) {
        if (!c.IsValid(e)) continue;
        const double d = NumberAt(c, e) - mean;
        ss += d * d;
      }
      const double var = ss / static_cast<double>(n - 1);
      out.SetDouble(row, a.function == AggregationFunction::kVariance ? var : std::sqrt(var));
      return;
    }
    case AggregationFunction::kMin:
    case AggregationFunction::kMax:
    case AggregationFunction::kFirst:
    case AggregationFunction::kLast: {
      size_t best = hi;
      for (size_t e = lo; e < hi; ++e) {
        if (!c.IsValid(e)) continue;
        if (best == hi) {
          best = e;
          if (a.function == AggregationFunction::kFirst) break;
          continue;
        }
        bool take = a.function == AggregationFunction::kLast;
        if (!take) {
          const bool less = kind == InputKind::kText     ? c.GetString(e) < c.GetString(best)
                            : kind == InputKind::kNumber ? c.GetDouble(e) < c.GetDouble(best)
                                                         : IntAt(c, e) < IntAt(c, best);
          const bool greater = kind == InputKind::kText     ? c.GetString(e) > c.GetString(best)
                               : kind == InputKind::kNumber ? c.GetDouble(e) > c.GetDouble(best)
                                                            : IntAt(c, e) > IntAt(c, best);
          take = a.function == AggregationFunction::kMin ? less : greater;
        }
        if (take) best = e;
      }
      if (best == hi) {
        out.SetNull(row);
      } else if (kind == InputKind::kInteger) {
        out.SetInt(row, IntAt(c, best));
      } else if (kind == InputKind::kNumber) {
        out.SetDouble(row, c.GetDouble(best));
      } else {
        out.SetText(row, std::string(c.GetString(best)));
      }
      return;
    }
    case AggregationFunction::kLastK: {
      std::vector<std::string> items;
      for (size_t e = hi; e > lo && static_cast<std::int64_t>(items.size()) < a.k; --e) {
        if (c.IsValid(e - 1)) items.push_back(RenderValue(c, e - 1));
      }
      std::reverse(items.begin(), items.end());
      out.SetText(row, JsonList(items));
      return;
    }
    case AggregationFunction::kApproxCountDistinct: {
      // Windows hold few events: counting them exactly is cheap and better than a sketch.
      std::vector<std::uint64_t> hashes;
      for (size_t e = lo; e < hi; ++e) {
        if (c.IsValid(e)) hashes.push_back(HashValue(c, e));
      }
      std::sort(hashes.begin(), hashes.end());
      out.SetInt(row, static_cast<std::int64_t>(std::unique(hashes.begin(), hashes.end()) -
                                                hashes.begin()));
      return;
    }
  }
}

void EntityAggregator::EmitLifetime(size_t agg, size_t row, FeatureValues& out) const {
  const AggregationPlan& a = plan_.aggregations[agg];
  const LifetimeState& s = lifetime_[agg];
  const InputKind kind = a.input >= 0 ? plan_.inputs[a.input].kind : InputKind::kInteger;
  switch (a.function) {
    case AggregationFunction::kCount:
      out.SetInt(row, s.count);
      return;
    case AggregationFunction::kSum:
      if (s.count == 0) {
        out.SetNull(row);
      } else if (kind == InputKind::kInteger) {
        out.SetInt(row, s.int_sum);
      } else {
        out.SetDouble(row, s.sum);
      }
      return;
    case AggregationFunction::kMean:
      if (s.count == 0) {
        out.SetNull(row);
      } else {
        out.SetDouble(row, (kind == InputKind::kInteger ? static_cast<double>(s.int_sum) : s.sum) /
                               static_cast<double>(s.count));
      }
      return;
    case AggregationFunction::kStddev:
    case AggregationFunction::kVariance: {
      if (s.count < 2) {
        out.SetNull(row);
        return;
      }
      const double var = s.m2 / static_cast<double>(s.count - 1);
      out.SetDouble(row, a.function == AggregationFunction::kVariance ? var : std::sqrt(var));
      return;
    }
    case AggregationFunction::kMin:
    case AggregationFunction::kMax:
    case AggregationFunction::kFirst:
    case AggregationFunction::kLast: {
      if (!s.has_value) {
        out.SetNull(row);
        return;
      }
      const auto f = a.function;
      if (kind == InputKind::kInteger) {
        out.SetInt(row, f == AggregationFunction::kMin     ? s.int_min
                        : f == AggregationFunction::kMax   ? s.int_max
                        : f == AggregationFunction::kFirst ? s.int_first
                                                           : s.int_last);
      } else if (kind == InputKind::kNumber) {
        out.SetDouble(row, f == AggregationFunction::kMin     ? s.min
                           : f == AggregationFunction::kMax   ? s.max
                           : f == AggregationFunction::kFirst ? s.first
                                                              : s.last);
      } else {
        out.SetText(row, f == AggregationFunction::kMin     ? s.text_min
                         : f == AggregationFunction::kMax   ? s.text_max
                         : f == AggregationFunction::kFirst ? s.text_first
                                                            : s.text_last);
      }
      return;
    }
    case AggregationFunction::kLastK:
      out.SetText(row, JsonList({s.last_k.begin(), s.last_k.end()}));
      return;
    case AggregationFunction::kApproxCountDistinct:
      out.SetInt(row, s.hll.empty() ? 0 : HllEstimate(s.hll));
      return;
  }
}

}  // namespace sluice::engine
