#include "engine/window_aggregator.h"

#include <algorithm>

namespace sluice::engine {

EntityAggregator::EntityAggregator(const FeatureViewPlan& plan, const EventLog& log)
    : plan_(plan), log_(log) {
  sliding_.resize(plan.aggregations.size());
  lifetime_.resize(plan.aggregations.size());
  for (size_t a = 0; a < plan.aggregations.size(); ++a) {
    const AggregationPlan& agg = plan.aggregations[a];
    if (!agg.window) {
      lifetime_aggs_.push_back(a);
      lifetime_[a] = MakeStoredState(plan, agg);
      continue;
    }
    auto it = std::find_if(windows_.begin(), windows_.end(),
                           [&](const Window& w) { return w.length == *agg.window; });
    if (it == windows_.end()) {
      windows_.push_back({*agg.window, 0, {}});
      it = windows_.end() - 1;
    }
    it->aggs.push_back(a);
    sliding_[a] = MakeSlidingState(plan, agg);
  }
}

void EntityAggregator::Reset(size_t begin, size_t end) {
  begin_ = begin;
  end_ = end;
  hi_ = begin;
  for (Window& w : windows_) {
    w.lo = begin;
    for (size_t a : w.aggs)
      sliding_[a]->Clear();
  }
  lifetime_.resize(plan_.aggregations.size());
  for (size_t a : lifetime_aggs_) {
    if (lifetime_[a]) {
      lifetime_[a]->Clear();
    } else {
      lifetime_[a] = MakeStoredState(plan_, plan_.aggregations[a]);
    }
  }
}

void EntityAggregator::AdvanceTo(std::int64_t t) {
  const std::vector<std::int64_t>& ts = log_.ts;
  size_t hi = hi_;
  while (hi < end_ && ts[hi] <= t)
    ++hi;
  for (size_t e = hi_; e < hi; ++e) {
    for (size_t a : lifetime_aggs_)
      lifetime_[a]->Update(log_, e);
  }
  for (Window& w : windows_) {
    // The window is (cut, t], cut = t - w (with a tile, rounded down to it): an event exactly
    // at the cut has just left it.
    const std::int64_t cut = WindowCut(plan_, t, w.length);
    size_t lo = w.lo;
    while (lo < hi && ts[lo] <= cut)
      ++lo;
    // Events [w.lo, hi_) were in the window: those before lo leave, oldest first. Events
    // [hi_, hi) are new: those from lo on join (the others were never inside).
    for (size_t e = w.lo; e < std::min(lo, hi_); ++e) {
      for (size_t a : w.aggs)
        sliding_[a]->Remove(log_, e);
    }
    for (size_t e = std::max(lo, hi_); e < hi; ++e) {
      for (size_t a : w.aggs)
        sliding_[a]->Update(log_, e);
    }
    w.lo = lo;
  }
  hi_ = hi;
}

void EntityAggregator::Emit(std::int64_t t, size_t row, std::vector<FeatureValues>& out) const {
  if (plan_.ttl && (hi_ == begin_ || log_.ts[hi_ - 1] <= t - *plan_.ttl)) {
    for (size_t a = 0; a < plan_.aggregations.size(); ++a)
      out[a].SetNull(row);
    return;
  }
  for (size_t a = 0; a < plan_.aggregations.size(); ++a) {
    if (sliding_[a]) {
      sliding_[a]->Finalize(log_, row, out[a]);
    } else {
      lifetime_[a]->Finalize(row, out[a]);
    }
  }
}

}  // namespace sluice::engine
