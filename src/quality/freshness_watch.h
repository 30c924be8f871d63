#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "quality/monitor.h"
#include "registry/registry.h"

namespace sluice::quality {

// The freshness SLO alerts of a serving process (docs/monitoring.md#freshness-slos): every
// interval, on its own thread, asks `served` what the process serves now and raises alerts
// through CheckServedFreshness (registry, de-duplication, sinks). Request threads never wait for
// it: `served` reads the server's snapshot, and a slow webhook holds only this thread. Times are
// measured on the injected clock; the interval is a real-time wait (as the server's refresher),
// and tests call CheckOnce directly. `project`, `registry` and `clock` must outlive the watch.
class FreshnessWatch {
 public:
  using Served = std::function<std::vector<ServedFreshness>()>;
  // Called with each check's results (alerts raised or repeated, and SLOs met), or its error.
  using Report = std::function<void(const base::Result<std::vector<MonitorResult>>&)>;

  FreshnessWatch(const config::ProjectSpec& project, registry::Registry& registry,
                 base::Clock& clock, Served served, Report report = nullptr);
  ~FreshnessWatch();  // Stop()
  FreshnessWatch(const FreshnessWatch&) = delete;
  FreshnessWatch& operator=(const FreshnessWatch&) = delete;

  base::Result<std::vector<MonitorResult>> CheckOnce();
  // Checks now and then every `interval` until Stop.
  void Start(std::chrono::milliseconds interval);
  // Returns once the thread has ended (after a delivery in progress, bounded by sink timeouts).
  void Stop();

 private:
  const config::ProjectSpec& project_;
  registry::Registry& registry_;
  base::Clock& clock_;
  Served served_;
  Report report_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sluice::quality
