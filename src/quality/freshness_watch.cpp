#include "quality/freshness_watch.h"

#include <utility>

namespace sluice::quality {

FreshnessWatch::FreshnessWatch(const config::ProjectSpec& project, registry::Registry& registry,
                               base::Clock& clock, Served served, Report report)
    : project_(project),
      registry_(registry),
      clock_(clock),
      served_(std::move(served)),
      report_(std::move(report)) {}

FreshnessWatch::~FreshnessWatch() {
  Stop();
}

base::Result<std::vector<MonitorResult>> FreshnessWatch::CheckOnce() {
  return CheckServedFreshness(project_, registry_, clock_, served_());
}

void FreshnessWatch::Start(std::chrono::milliseconds interval) {
  Stop();
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    do {
      lock.unlock();
      auto results = CheckOnce();
      if (report_) report_(results);
      lock.lock();
    } while (!cv_.wait_for(lock, interval, [this] { return stop_; }));
  });
}

void FreshnessWatch::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice::quality
