#include "engine/aggregate_state.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "base/json_text.h"
#include "engine/exact_sum.h"

namespace sluice::engine {

using config::AggregationFunction;
using types::LogicalType;

namespace {

constexpr int kHllBits = 10;  // 1024 registers: about 3% standard error
constexpr size_t kHllRegisters = size_t{1} << kHllBits;
constexpr size_t kNone = static_cast<size_t>(-1);

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

std::string JsonList(const std::deque<std::string>& items) {
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

// count(*) and count(column).
class CountState final : public SlidingState, public StoredState {
 public:
  explicit CountState(int input) : input_(input) {}
  void Update(const EventLog& log, size_t e) override {
    if (input_ < 0 || log.inputs[input_].IsValid(e)) ++n_;
  }
  void Remove(const EventLog& log, size_t e) override {
    if (input_ < 0 || log.inputs[input_].IsValid(e)) --n_;
  }
  void Combine(const StoredState& other) override {
    n_ += static_cast<const CountState&>(other).n_;
  }
  void Finalize(const EventLog&, size_t row, FeatureValues& out) const override {
    Finalize(row, out);
  }
  void Finalize(size_t row, FeatureValues& out) const override { out.SetInt(row, n_); }
  void Clear() override { n_ = 0; }
  std::unique_ptr<StoredState> Clone() const override {
    return std::make_unique<CountState>(*this);
  }
  void Encode(StateWriter& w) const override { w.I64(n_); }
  bool Decode(StateReader& r) override {
    n_ = r.I64();
    if (n_ < 0) r.Fail();
    return r.ok();
  }

 private:
  int input_;
  std::int64_t n_ = 0;
};

// sum and mean: integers in int64 (wrapping like two's complement on overflow), doubles
// exactly (ExactSum), read once.
class SumState final : public SlidingState, public StoredState {
 public:
  SumState(int input, bool integer, bool mean) : input_(input), integer_(integer), mean_(mean) {}
  void Update(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (!c.IsValid(e)) return;
    ++n_;
    if (integer_) {
      int_sum_ += static_cast<std::uint64_t>(IntAt(c, e));
    } else {
      sum_.Add(c.GetDouble(e));
    }
  }
  void Remove(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (!c.IsValid(e)) return;
    --n_;
    if (integer_) {
      int_sum_ -= static_cast<std::uint64_t>(IntAt(c, e));
    } else {
      sum_.Subtract(c.GetDouble(e));
    }
  }
  void Combine(const StoredState& other) override {
    const auto& o = static_cast<const SumState&>(other);
    n_ += o.n_;
    int_sum_ += o.int_sum_;
    sum_.Combine(o.sum_);
  }
  void Finalize(const EventLog&, size_t row, FeatureValues& out) const override {
    Finalize(row, out);
  }
  void Finalize(size_t row, FeatureValues& out) const override {
    if (n_ == 0) {
      out.SetNull(row);
      return;
    }
    const auto int_sum = static_cast<std::int64_t>(int_sum_);
    if (mean_) {
      // mean = round(sum) / n: the correctly rounded sum, then one division.
      out.SetDouble(
          row, (integer_ ? static_cast<double>(int_sum) : sum_.Round()) / static_cast<double>(n_));
    } else if (integer_) {
      out.SetInt(row, int_sum);
    } else {
      out.SetDouble(row, sum_.Round());
    }
  }
  void Clear() override {
    n_ = 0;
    int_sum_ = 0;
    sum_.Clear();
  }
  std::unique_ptr<StoredState> Clone() const override { return std::make_unique<SumState>(*this); }
  void Encode(StateWriter& w) const override {
    w.I64(n_);
    if (integer_) {
      w.U64(int_sum_);
    } else {
      sum_.Encode(w);
    }
  }
  bool Decode(StateReader& r) override {
    Clear();
    n_ = r.I64();
    if (n_ < 0) r.Fail();
    if (integer_) {
      int_sum_ = r.U64();
    } else {
      sum_.Decode(r);
    }
    return r.ok();
  }

 private:
  int input_;
  bool integer_, mean_;
  std::int64_t n_ = 0;
  std::uint64_t int_sum_ = 0;
  ExactSum sum_;
};

// variance and stddev from the exact sums of x and x^2 (docs/features.md gives the formula).
class VarianceState final : public SlidingState, public StoredState {
 public:
  VarianceState(int input, bool stddev) : input_(input), stddev_(stddev) {}
  void Update(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (!c.IsValid(e)) return;
    const double x = NumberAt(c, e);
    ++n_;
    sum_.Add(x);
    squares_.AddProduct(x, x);
  }
  void Remove(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (!c.IsValid(e)) return;
    const double x = NumberAt(c, e);
    --n_;
    sum_.Subtract(x);
    squares_.SubtractProduct(x, x);
  }
  void Combine(const StoredState& other) override {
    const auto& o = static_cast<const VarianceState&>(other);
    n_ += o.n_;
    sum_.Combine(o.sum_);
    squares_.Combine(o.squares_);
  }
  void Finalize(const EventLog&, size_t row, FeatureValues& out) const override {
    Finalize(row, out);
  }
  void Finalize(size_t row, FeatureValues& out) const override {
    if (n_ < 2) {
      out.SetNull(row);
      return;
    }
    const double inf = std::numeric_limits<double>::infinity();
    double var;
    if (sum_.HasSpecials()) {
      var = std::numeric_limits<double>::quiet_NaN();  // a NaN or an infinite input
    } else {
      const double n = static_cast<double>(n_);
      const double s = sum_.Round();
      const double m = s / n;
      // sum((x - m)^2) = sum(x^2) - 2 m sum(x) + n m^2, every term exact: never negative.
      ExactSum ss = squares_;
      ss.AddMultiple(sum_, -2 * m);
      const double mm = m * m;
      ss.AddProduct(n, mm);
      ss.AddProduct(n, std::fma(m, m, -mm));
      const double total = ss.Round();
      // Squares (or their sum) beyond the double range: +inf.
      var = squares_.HasSpecials() || !std::isfinite(s) || !std::isfinite(total)
                ? inf
                : std::max(0.0, total) / (n - 1);
    }
    out.SetDouble(row, stddev_ ? std::sqrt(var) : var);
  }
  void Clear() override {
    n_ = 0;
    sum_.Clear();
    squares_.Clear();
  }
  std::unique_ptr<StoredState> Clone() const override {
    return std::make_unique<VarianceState>(*this);
  }
  void Encode(StateWriter& w) const override {
    w.I64(n_);
    sum_.Encode(w);
    squares_.Encode(w);
  }
  bool Decode(StateReader& r) override {
    Clear();
    n_ = r.I64();
    if (n_ < 0) r.Fail();
    sum_.Decode(r);
    squares_.Decode(r);
    return r.ok();
  }

 private:
  int input_;
  bool stddev_;
  std::int64_t n_ = 0;
  ExactSum sum_, squares_;
};

void SetValueAt(const types::Column& c, InputKind kind, size_t e, size_t row, FeatureValues& out) {
  if (kind == InputKind::kInteger) {
    out.SetInt(row, IntAt(c, e));
  } else if (kind == InputKind::kNumber) {
    out.SetDouble(row, c.GetDouble(e));
  } else {
    out.SetText(row, std::string(c.GetString(e)));
  }
}

// min and max over a window: a monotonic deque of event indices, the front the extreme. Ties
// keep the oldest (an equal newer value does not displace it). NaN is skipped.
class ExtremeWindow final : public SlidingState {
 public:
  ExtremeWindow(int input, InputKind kind, bool is_min)
      : input_(input), kind_(kind), is_min_(is_min) {}
  void Update(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (!c.IsValid(e) || (kind_ == InputKind::kNumber && std::isnan(c.GetDouble(e)))) return;
    while (!deque_.empty() && Better(c, e, deque_.back()))
      deque_.pop_back();
    deque_.push_back(e);
  }
  void Remove(const EventLog&, size_t e) override {
    if (!deque_.empty() && deque_.front() == e) deque_.pop_front();
  }
  void Finalize(const EventLog& log, size_t row, FeatureValues& out) const override {
    if (deque_.empty()) {
      out.SetNull(row);
      return;
    }
    SetValueAt(log.inputs[input_], kind_, deque_.front(), row, out);
  }
  void Clear() override { deque_.clear(); }

 private:
  bool Better(const types::Column& c, size_t x, size_t y) const {
    int cmp;
    if (kind_ == InputKind::kInteger) {
      const std::int64_t a = IntAt(c, x), b = IntAt(c, y);
      cmp = a < b ? -1 : a > b ? 1 : 0;
    } else if (kind_ == InputKind::kNumber) {
      const double a = c.GetDouble(x), b = c.GetDouble(y);
      cmp = a < b ? -1 : a > b ? 1 : 0;
    } else {
      const int r = c.GetString(x).compare(c.GetString(y));
      cmp = r < 0 ? -1 : r > 0 ? 1 : 0;
    }
    return is_min_ ? cmp < 0 : cmp > 0;
  }

  int input_;
  InputKind kind_;
  bool is_min_;
  std::deque<size_t> deque_;
};

// first over a window: the oldest event with a value, found again by scanning forward when it
// leaves (each event is scanned once while it is in the window).
class FirstWindow final : public SlidingState {
 public:
  FirstWindow(int input, InputKind kind) : input_(input), kind_(kind) {}
  void Update(const EventLog& log, size_t e) override {
    newest_ = e;
    if (first_ == kNone && log.inputs[input_].IsValid(e)) first_ = e;
  }
  void Remove(const EventLog& log, size_t e) override {
    if (first_ != e) return;
    first_ = kNone;
    for (size_t i = e + 1; i <= newest_; ++i) {
      if (log.inputs[input_].IsValid(i)) {
        first_ = i;
        break;
      }
    }
  }
  void Finalize(const EventLog& log, size_t row, FeatureValues& out) const override {
    if (first_ == kNone) {
      out.SetNull(row);
      return;
    }
    SetValueAt(log.inputs[input_], kind_, first_, row, out);
  }
  void Clear() override { first_ = newest_ = kNone; }

 private:
  int input_;
  InputKind kind_;
  size_t first_ = kNone, newest_ = kNone;
};

// last over a window: the newest event with a value; when it leaves, the window has no other.
class LastWindow final : public SlidingState {
 public:
  LastWindow(int input, InputKind kind) : input_(input), kind_(kind) {}
  void Update(const EventLog& log, size_t e) override {
    if (log.inputs[input_].IsValid(e)) last_ = e;
  }
  void Remove(const EventLog&, size_t e) override {
    if (last_ == e) last_ = kNone;
  }
  void Finalize(const EventLog& log, size_t row, FeatureValues& out) const override {
    if (last_ == kNone) {
      out.SetNull(row);
      return;
    }
    SetValueAt(log.inputs[input_], kind_, last_, row, out);
  }
  void Clear() override { last_ = kNone; }

 private:
  int input_;
  InputKind kind_;
  size_t last_ = kNone;
};

// last_k over a window: the newest k events with a value, oldest leaving first.
class LastKWindow final : public SlidingState {
 public:
  LastKWindow(int input, std::int64_t k)
      : input_(input), k_(static_cast<size_t>(std::max<std::int64_t>(k, 0))) {}
  void Update(const EventLog& log, size_t e) override {
    if (!log.inputs[input_].IsValid(e) || k_ == 0) return;
    newest_.push_back(e);
    if (newest_.size() > k_) newest_.pop_front();
  }
  void Remove(const EventLog&, size_t e) override {
    if (!newest_.empty() && newest_.front() == e) newest_.pop_front();
  }
  void Finalize(const EventLog& log, size_t row, FeatureValues& out) const override {
    std::string s = "[";
    for (size_t i = 0; i < newest_.size(); ++i) {
      if (i) s += ",";
      s += RenderValue(log.inputs[input_], newest_[i]);
    }
    out.SetText(row, s + "]");
  }
  void Clear() override { newest_.clear(); }

 private:
  int input_;
  size_t k_;
  std::deque<size_t> newest_;
};

// approx_count_distinct over a window: exact, a count per distinct value hash.
class DistinctWindow final : public SlidingState {
 public:
  explicit DistinctWindow(int input) : input_(input) {}
  void Update(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (c.IsValid(e)) ++counts_[HashValue(c, e)];
  }
  void Remove(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (!c.IsValid(e)) return;
    auto it = counts_.find(HashValue(c, e));
    if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  }
  void Finalize(const EventLog&, size_t row, FeatureValues& out) const override {
    out.SetInt(row, static_cast<std::int64_t>(counts_.size()));
  }
  void Clear() override { counts_.clear(); }

 private:
  int input_;
  std::unordered_map<std::uint64_t, std::uint32_t> counts_;
};

// min, max, first and last over a lifetime: the one value kept.
class PickStored final : public StoredState {
 public:
  PickStored(AggregationFunction f, int input, InputKind kind)
      : function_(f), input_(input), kind_(kind) {}
  void Update(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (!c.IsValid(e)) return;
    Value v;
    if (kind_ == InputKind::kInteger) {
      v.i = IntAt(c, e);
    } else if (kind_ == InputKind::kNumber) {
      v.d = c.GetDouble(e);
      if (std::isnan(v.d) && IsExtreme()) return;
    } else {
      v.s.assign(c.GetString(e));
    }
    Offer(std::move(v));
  }
  void Combine(const StoredState& other) override {
    const auto& o = static_cast<const PickStored&>(other);
    if (o.has_) Offer(o.value_);
  }
  void Finalize(size_t row, FeatureValues& out) const override {
    if (!has_) {
      out.SetNull(row);
    } else if (kind_ == InputKind::kInteger) {
      out.SetInt(row, value_.i);
    } else if (kind_ == InputKind::kNumber) {
      out.SetDouble(row, value_.d);
    } else {
      out.SetText(row, value_.s);
    }
  }
  void Clear() override {
    has_ = false;
    value_.i = 0;
    value_.d = 0;
    value_.s.clear();
  }
  std::unique_ptr<StoredState> Clone() const override {
    return std::make_unique<PickStored>(*this);
  }
  void Encode(StateWriter& w) const override {
    w.U8(has_ ? 1 : 0);
    if (!has_) return;
    if (kind_ == InputKind::kInteger) {
      w.I64(value_.i);
    } else if (kind_ == InputKind::kNumber) {
      w.F64(value_.d);
    } else {
      w.Str(value_.s);
    }
  }
  bool Decode(StateReader& r) override {
    Clear();
    const std::uint8_t has = r.U8();
    if (has > 1) r.Fail();
    has_ = has == 1;
    if (has_) {
      if (kind_ == InputKind::kInteger) {
        value_.i = r.I64();
      } else if (kind_ == InputKind::kNumber) {
        value_.d = r.F64();
      } else {
        r.StrInto(value_.s);
      }
    }
    return r.ok();
  }

 private:
  struct Value {
    std::int64_t i = 0;
    double d = 0;
    std::string s;
  };
  bool IsExtreme() const {
    return function_ == AggregationFunction::kMin || function_ == AggregationFunction::kMax;
  }
  // Takes a value of a later event if it replaces the kept one (ties keep the older).
  void Offer(Value v) {
    bool take = !has_ || function_ == AggregationFunction::kLast;
    if (!take && IsExtreme()) {
      int cmp;
      if (kind_ == InputKind::kInteger) {
        cmp = v.i < value_.i ? -1 : v.i > value_.i ? 1 : 0;
      } else if (kind_ == InputKind::kNumber) {
        cmp = v.d < value_.d ? -1 : v.d > value_.d ? 1 : 0;
      } else {
        const int r = v.s.compare(value_.s);
        cmp = r < 0 ? -1 : r > 0 ? 1 : 0;
      }
      take = function_ == AggregationFunction::kMin ? cmp < 0 : cmp > 0;
    }
    if (!take) return;
    has_ = true;
    value_ = std::move(v);
  }

  AggregationFunction function_;
  int input_;
  InputKind kind_;
  bool has_ = false;
  Value value_;
};

// last_k over a lifetime: the newest k values, rendered.
class LastKStored final : public StoredState {
 public:
  LastKStored(int input, std::int64_t k)
      : input_(input), k_(static_cast<size_t>(std::max<std::int64_t>(k, 0))) {}
  void Update(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (c.IsValid(e)) Push(RenderValue(c, e));
  }
  void Combine(const StoredState& other) override {
    for (const auto& v : static_cast<const LastKStored&>(other).values_)
      Push(v);
  }
  void Finalize(size_t row, FeatureValues& out) const override {
    out.SetText(row, JsonList(values_));
  }
  void Clear() override { values_.clear(); }
  std::unique_ptr<StoredState> Clone() const override {
    return std::make_unique<LastKStored>(*this);
  }
  void Encode(StateWriter& w) const override {
    w.U32(static_cast<std::uint32_t>(values_.size()));
    for (const auto& v : values_)
      w.Str(v);
  }
  bool Decode(StateReader& r) override {
    Clear();
    const std::uint32_t n = r.Count(4);
    if (n > k_) r.Fail();
    for (std::uint32_t i = 0; i < n && r.ok(); ++i)
      values_.push_back(r.Str());
    return r.ok();
  }

 private:
  void Push(std::string v) {
    if (k_ == 0) return;
    values_.push_back(std::move(v));
    if (values_.size() > k_) values_.pop_front();
  }
  int input_;
  size_t k_;
  std::deque<std::string> values_;
};

// approx_count_distinct over a lifetime: HyperLogLog registers.
class HllStored final : public StoredState {
 public:
  explicit HllStored(int input) : input_(input) {}
  void Update(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (c.IsValid(e)) HllAdd(registers_, HashValue(c, e));
  }
  void Combine(const StoredState& other) override {
    const auto& o = static_cast<const HllStored&>(other);
    if (o.registers_.empty()) return;
    if (registers_.empty()) registers_.assign(kHllRegisters, 0);
    for (size_t i = 0; i < kHllRegisters; ++i)
      registers_[i] = std::max(registers_[i], o.registers_[i]);
  }
  void Finalize(size_t row, FeatureValues& out) const override {
    out.SetInt(row, registers_.empty() ? 0 : HllEstimate(registers_));
  }
  void Clear() override { registers_.clear(); }
  std::unique_ptr<StoredState> Clone() const override { return std::make_unique<HllStored>(*this); }
  void Encode(StateWriter& w) const override {
    w.Str(std::string_view(reinterpret_cast<const char*>(registers_.data()), registers_.size()));
  }
  bool Decode(StateReader& r) override {
    const std::string_view bytes = r.View();
    if (!bytes.empty() && bytes.size() != kHllRegisters) r.Fail();
    registers_.assign(bytes.begin(), bytes.end());
    return r.ok();
  }

 private:
  int input_;
  std::vector<std::uint8_t> registers_;
};

// approx_count_distinct over a tile of a window: the exact set of value hashes (sorted when
// encoded, so equal sets give equal bytes).
class DistinctStored final : public StoredState {
 public:
  explicit DistinctStored(int input) : input_(input) {}
  void Update(const EventLog& log, size_t e) override {
    const types::Column& c = log.inputs[input_];
    if (c.IsValid(e)) hashes_.insert(HashValue(c, e));
  }
  void Combine(const StoredState& other) override {
    const auto& o = static_cast<const DistinctStored&>(other);
    hashes_.insert(o.hashes_.begin(), o.hashes_.end());
  }
  void Finalize(size_t row, FeatureValues& out) const override {
    out.SetInt(row, static_cast<std::int64_t>(hashes_.size()));
  }
  void Clear() override { hashes_.clear(); }
  std::unique_ptr<StoredState> Clone() const override {
    return std::make_unique<DistinctStored>(*this);
  }
  void Encode(StateWriter& w) const override {
    std::vector<std::uint64_t> sorted(hashes_.begin(), hashes_.end());
    std::sort(sorted.begin(), sorted.end());
    w.U32(static_cast<std::uint32_t>(sorted.size()));
    for (std::uint64_t h : sorted)
      w.U64(h);
  }
  bool Decode(StateReader& r) override {
    Clear();
    const std::uint32_t n = r.Count(8);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i)
      hashes_.insert(r.U64());
    if (hashes_.size() != n) r.Fail();  // a repeated hash: not what Encode writes
    return r.ok();
  }

 private:
  int input_;
  std::unordered_set<std::uint64_t> hashes_;
};

InputKind KindOfInput(const FeatureViewPlan& plan, const AggregationPlan& a) {
  return a.input >= 0 ? plan.inputs[static_cast<size_t>(a.input)].kind : InputKind::kInteger;
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

std::unique_ptr<SlidingState> MakeSlidingState(const FeatureViewPlan& plan,
                                               const AggregationPlan& a) {
  const InputKind kind = KindOfInput(plan, a);
  switch (a.function) {
    case AggregationFunction::kCount:
      return std::make_unique<CountState>(a.input);
    case AggregationFunction::kSum:
    case AggregationFunction::kMean:
      return std::make_unique<SumState>(a.input, kind == InputKind::kInteger,
                                        a.function == AggregationFunction::kMean);
    case AggregationFunction::kStddev:
    case AggregationFunction::kVariance:
      return std::make_unique<VarianceState>(a.input, a.function == AggregationFunction::kStddev);
    case AggregationFunction::kMin:
    case AggregationFunction::kMax:
      return std::make_unique<ExtremeWindow>(a.input, kind,
                                             a.function == AggregationFunction::kMin);
    case AggregationFunction::kFirst:
      return std::make_unique<FirstWindow>(a.input, kind);
    case AggregationFunction::kLast:
      return std::make_unique<LastWindow>(a.input, kind);
    case AggregationFunction::kLastK:
      return std::make_unique<LastKWindow>(a.input, a.k);
    case AggregationFunction::kApproxCountDistinct:
      return std::make_unique<DistinctWindow>(a.input);
  }
  return nullptr;
}

std::unique_ptr<StoredState> MakeStoredState(const FeatureViewPlan& plan,
                                             const AggregationPlan& a) {
  const InputKind kind = KindOfInput(plan, a);
  switch (a.function) {
    case AggregationFunction::kCount:
      return std::make_unique<CountState>(a.input);
    case AggregationFunction::kSum:
    case AggregationFunction::kMean:
      return std::make_unique<SumState>(a.input, kind == InputKind::kInteger,
                                        a.function == AggregationFunction::kMean);
    case AggregationFunction::kStddev:
    case AggregationFunction::kVariance:
      return std::make_unique<VarianceState>(a.input, a.function == AggregationFunction::kStddev);
    case AggregationFunction::kMin:
    case AggregationFunction::kMax:
    case AggregationFunction::kFirst:
    case AggregationFunction::kLast:
      return std::make_unique<PickStored>(a.function, a.input, kind);
    case AggregationFunction::kLastK:
      return std::make_unique<LastKStored>(a.input, a.k);
    case AggregationFunction::kApproxCountDistinct:
      return std::make_unique<HllStored>(a.input);
  }
  return nullptr;
}

std::unique_ptr<StoredState> MakeTileState(const FeatureViewPlan& plan, const AggregationPlan& a) {
  if (a.function == AggregationFunction::kApproxCountDistinct) {
    return std::make_unique<DistinctStored>(a.input);
  }
  return MakeStoredState(plan, a);
}

}  // namespace sluice::engine
