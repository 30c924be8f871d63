#include "engine/entity_state.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace sluice::engine {

using types::LogicalType;

namespace {

class Writer {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void I64(std::int64_t v) { Raw(&v, 8); }
  void U32(std::uint32_t v) { Raw(&v, 4); }
  void F64(double v) { Raw(&v, 8); }
  void Str(std::string_view s) {
    U32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  std::uint8_t U8() {
    std::uint8_t v = 0;
    Raw(&v, 1);
    return v;
  }
  std::int64_t I64() {
    std::int64_t v = 0;
    Raw(&v, 8);
    return v;
  }
  std::uint32_t U32() {
    std::uint32_t v = 0;
    Raw(&v, 4);
    return v;
  }
  double F64() {
    double v = 0;
    Raw(&v, 8);
    return v;
  }
  std::string Str() { return std::string(View()); }
  // Str into an existing string, which keeps its buffer.
  void StrInto(std::string& s) { s.assign(View()); }
  // A str's bytes, viewed in the input.
  std::string_view View() {
    const std::uint32_t n = U32();
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A count of items that each take at least `min_bytes`: rejects counts the input cannot hold.
  std::uint32_t Count(size_t min_bytes) {
    const std::uint32_t n = U32();
    if (!ok_ || static_cast<std::uint64_t>(n) * min_bytes > in_.size() - pos_) ok_ = false;
    return ok_ ? n : 0;
  }
  void Raw(void* p, size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      std::memset(p, 0, n);
      return;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void WriteColumnValue(Writer& w, const types::Column& c, size_t row) {
  w.U8(c.IsValid(row) ? 1 : 0);
  if (!c.IsValid(row)) return;
  switch (c.type()) {
    case LogicalType::kString:
      w.Str(c.GetString(row));
      break;
    case LogicalType::kDouble:
      w.F64(c.GetDouble(row));
      break;
    case LogicalType::kBool:
      w.U8(c.GetBool(row) ? 1 : 0);
      break;
    case LogicalType::kDate:
      w.I64(c.GetDate(row));
      break;
    default:
      w.I64(c.GetInt64(row));
      break;
  }
}

void ReadColumnValue(Reader& r, types::Column& c) {
  if (r.U8() == 0) {
    c.AppendNull();
    return;
  }
  switch (c.type()) {
    case LogicalType::kString:
      c.AppendString(r.Str());
      break;
    case LogicalType::kDouble:
      c.AppendDouble(r.F64());
      break;
    case LogicalType::kBool:
      c.AppendBool(r.U8() != 0);
      break;
    case LogicalType::kDate:
      c.AppendDate(static_cast<std::int32_t>(r.I64()));
      break;
    case LogicalType::kTimestamp:
      c.AppendTimestamp(r.I64());
      break;
    case LogicalType::kInt64:
      c.AppendInt64(r.I64());
      break;
  }
}

// Empties `state` for the plan, keeping its buffers: what a default EntityState holds, with
// one (empty) column per input and one accumulator per aggregation.
void ResetState(const FeatureViewPlan& plan, EntityState& state) {
  state.newest_event = 0;
  state.events.ts.clear();
  if (state.events.inputs.size() != plan.inputs.size()) {
    state.events.inputs.clear();
    for (const auto& in : plan.inputs)
      state.events.inputs.emplace_back(in.type);
  }
  for (auto& c : state.events.inputs)
    c.Clear();
  state.lifetime.resize(plan.aggregations.size());
  for (LifetimeState& s : state.lifetime) {
    // Field by field, not `s = LifetimeState{}`: a new deque allocates. Every field is listed
    // (DecodingIntoAUsedStateForgetsThePreviousOne would see a stale one).
    s.count = s.int_sum = 0;
    s.sum = s.mean = s.m2 = 0;
    s.has_value = false;
    s.int_min = s.int_max = s.int_first = s.int_last = 0;
    s.min = s.max = s.first = s.last = 0;
    for (auto* v : {&s.text_min, &s.text_max, &s.text_first, &s.text_last})
      v->clear();
    s.last_k.clear();
    s.hll.clear();
  }
}

}  // namespace

std::string EncodeState(const FeatureViewPlan& plan, const EntityState& state) {
  Writer w;
  w.U8(kStateEncoding);
  w.I64(state.newest_event);
  const size_t n = state.events.ts.size();
  w.U32(static_cast<std::uint32_t>(n));
  for (size_t e = 0; e < n; ++e) {
    w.I64(state.events.ts[e]);
    for (size_t i = 0; i < plan.inputs.size(); ++i)
      WriteColumnValue(w, state.events.inputs[i], e);
  }
  std::uint32_t lifetime_count = 0;
  for (const auto& a : plan.aggregations)
    lifetime_count += a.window ? 0 : 1;
  w.U32(lifetime_count);
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    if (plan.aggregations[a].window) continue;
    const LifetimeState& s = state.lifetime[a];
    w.U32(static_cast<std::uint32_t>(a));
    w.I64(s.count);
    w.I64(s.int_sum);
    w.F64(s.sum);
    w.F64(s.mean);
    w.F64(s.m2);
    w.U8(s.has_value ? 1 : 0);
    for (auto v : {s.int_min, s.int_max, s.int_first, s.int_last})
      w.I64(v);
    for (auto v : {s.min, s.max, s.first, s.last})
      w.F64(v);
    for (const auto* v : {&s.text_min, &s.text_max, &s.text_first, &s.text_last})
      w.Str(*v);
    w.U32(static_cast<std::uint32_t>(s.last_k.size()));
    for (const auto& v : s.last_k)
      w.Str(v);
    w.Str(std::string_view(reinterpret_cast<const char*>(s.hll.data()), s.hll.size()));
  }
  return w.Take();
}

base::Result<EntityState> DecodeState(const FeatureViewPlan& plan, std::string_view bytes) {
  EntityState state;
  SLUICE_RETURN_IF_ERROR(DecodeStateInto(plan, bytes, state));
  return state;
}

base::Status DecodeStateInto(const FeatureViewPlan& plan, std::string_view bytes,
                             EntityState& state) {
  Reader r(bytes);
  const std::uint8_t version = r.U8();
  if (!r.ok()) return base::Corruption("online state: empty");
  if (version != kStateEncoding) {
    return base::Corruption("online state: encoding " + std::to_string(version) +
                            " is not supported (this sluice writes " +
                            std::to_string(kStateEncoding) + "); run `sluice materialize`");
  }
  ResetState(plan, state);
  state.newest_event = r.I64();
  const std::uint32_t n = r.Count(8 + plan.inputs.size());
  state.events.ts.reserve(n);
  for (std::uint32_t e = 0; e < n && r.ok(); ++e) {
    state.events.ts.push_back(r.I64());
    for (auto& c : state.events.inputs)
      ReadColumnValue(r, c);
  }
  const std::uint32_t lifetime_count = r.Count(4);
  for (std::uint32_t i = 0; i < lifetime_count && r.ok(); ++i) {
    const std::uint32_t a = r.U32();
    if (a >= plan.aggregations.size() || plan.aggregations[a].window) {
      return base::Corruption("online state: lifetime accumulator for aggregation " +
                              std::to_string(a) + " does not fit the view's definition");
    }
    LifetimeState& s = state.lifetime[a];
    s.count = r.I64();
    s.int_sum = r.I64();
    s.sum = r.F64();
    s.mean = r.F64();
    s.m2 = r.F64();
    s.has_value = r.U8() != 0;
    for (auto* v : {&s.int_min, &s.int_max, &s.int_first, &s.int_last})
      *v = r.I64();
    for (auto* v : {&s.min, &s.max, &s.first, &s.last})
      *v = r.F64();
    for (auto* v : {&s.text_min, &s.text_max, &s.text_first, &s.text_last})
      r.StrInto(*v);
    const std::uint32_t k = r.Count(4);
    for (std::uint32_t j = 0; j < k && r.ok(); ++j)
      s.last_k.push_back(r.Str());
    const std::string_view hll = r.View();
    s.hll.assign(hll.begin(), hll.end());
  }
  if (!r.ok()) return base::Corruption("online state: truncated or malformed");
  if (!r.done()) return base::Corruption("online state: unexpected bytes after the end");
  for (size_t e = 1; e < state.events.ts.size(); ++e) {
    if (state.events.ts[e] < state.events.ts[e - 1]) {
      return base::Corruption("online state: events out of order");
    }
  }
  return base::Status::Ok();
}

std::string EntityKeyBytes(const std::vector<std::string>& key_values) {
  std::string out;
  for (size_t i = 0; i < key_values.size(); ++i) {
    if (i) out += '\x1f';
    out += key_values[i];
  }
  return out;
}

size_t FirstKeptEvent(const FeatureViewPlan& plan, const std::vector<std::int64_t>& ts,
                      size_t begin, size_t end) {
  if (plan.max_window <= 0 || begin == end) return end;
  const std::int64_t newest = ts[end - 1];
  size_t lo = begin;
  while (lo < end && ts[lo] <= newest - plan.max_window)
    ++lo;
  return lo;
}

namespace {

base::Status CheckReadTime(const EntityState& state, std::int64_t t) {
  if (!state.events.ts.empty() && t < state.newest_event) {
    return base::InvalidArgument("the online state already holds events after " +
                                 base::FormatTimestampMicros(t) +
                                 ": online reads answer as of its newest event or later");
  }
  return base::Status::Ok();
}

// Moves a restored aggregator to t and writes every aggregation at `row` of `out`.
void EmitRestored(const FeatureViewPlan& plan, std::int64_t newest_event, EntityAggregator& agg,
                  std::int64_t t, size_t row, std::vector<FeatureValues>& out) {
  agg.AdvanceTo(t);
  if (plan.ttl && newest_event <= t - *plan.ttl) {
    for (size_t a = 0; a < plan.aggregations.size(); ++a)
      out[a].SetNull(row);
    return;
  }
  // TTL was decided from newest_event above: the stored window may hold no event at all (a view
  // with only lifetime aggregations) without the entity being expired.
  agg.EmitIgnoringTtl(t, row, out);
}

}  // namespace

base::Status EvaluateState(const FeatureViewPlan& plan, const EntityState& state, std::int64_t t,
                           size_t row, std::vector<FeatureValues>& out) {
  SLUICE_RETURN_IF_ERROR(CheckReadTime(state, t));
  EntityAggregator agg(plan, state.events);
  agg.Restore(0, state.events.ts.size(), state.lifetime);
  EmitRestored(plan, state.newest_event, agg, t, row, out);
  return base::Status::Ok();
}

StateEvaluator::StateEvaluator(const FeatureViewPlan& plan)
    : plan_(plan), aggregator_(plan, state_.events) {
  values_.reserve(plan.aggregations.size());
  for (const auto& a : plan.aggregations)
    values_.emplace_back(a.output_type, 1);
}

base::Status StateEvaluator::Evaluate(std::optional<std::string_view> bytes, std::int64_t t) {
  if (bytes) {
    SLUICE_RETURN_IF_ERROR(DecodeStateInto(plan_, *bytes, state_));
  } else {
    ResetState(plan_, state_);
    if (plan_.ttl) {
      // No event is within any TTL; not evaluated, as OnlineView reads never did.
      for (auto& v : values_)
        v.SetNull(0);
      return base::Status::Ok();
    }
  }
  SLUICE_RETURN_IF_ERROR(CheckReadTime(state_, t));
  // The accumulators move into the aggregator, and its previous ones (the last read's) come
  // back to be decoded into next time: no copy, no allocation.
  aggregator_.RestoreExchange(0, state_.events.ts.size(), state_.lifetime);
  EmitRestored(plan_, state_.newest_event, aggregator_, t, 0, values_);
  return base::Status::Ok();
}

}  // namespace sluice::engine
