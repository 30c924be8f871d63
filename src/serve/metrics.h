#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "base/time.h"

namespace sluice::serve {

// A Prometheus histogram with fixed latency buckets (seconds) and lock-free observation.
class LatencyHistogram {
 public:
  // Upper bounds, seconds: 25us .. 1s, then +Inf. Sized for a lookup served in tens of
  // microseconds and a slow store at hundreds of milliseconds.
  static constexpr std::array<double, 15> kBounds = {0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                                     0.001,    0.0025,  0.005,  0.01,    0.025,
                                                     0.05,     0.1,     0.25,   0.5,     1.0};

  void Observe(base::Duration d);
  // Appends the _bucket, _sum and _count lines of series `name` with `labels` (already
  // formatted as `k="v",...`, may be empty).
  void Render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last: +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

// The serving process's metrics in Prometheus text exposition format (version 0.0.4). Every
// method is thread-safe. Label values are bounded by construction: endpoints are normalized to
// the known routes, error kinds come from ClassifyError, views and stores from the project.
// Hand-written (no Prometheus client library is packaged in Debian 12) and small: counters and
// histograms are all this needs.
class Metrics {
 public:
  // The route a path is counted under: one of the served routes or "other".
  static std::string_view Endpoint(std::string_view path);

  void CountRequest(std::string_view path, int http_status);
  void ObserveRequest(std::string_view path, base::Duration d);
  void ObserveStore(std::string_view store, base::Duration d);
  void CountError(std::string_view kind);
  // Features served per view by status (present, missing, expired).
  void CountFeatures(std::string_view view, std::uint64_t present, std::uint64_t missing,
                     std::uint64_t expired);

  // Connections: refused at the connection cap, and open now (a gauge).
  void CountRefusedConnection() { refused_connections_.fetch_add(1, std::memory_order_relaxed); }
  void AddOpenConnections(std::int64_t delta) {
    open_connections_.fetch_add(delta, std::memory_order_relaxed);
  }
  // Every series, with # HELP and # TYPE lines.
  std::string Render() const;

 private:
  LatencyHistogram& Histogram(std::map<std::string, std::unique_ptr<LatencyHistogram>>& map,
                              std::string_view key);

  std::atomic<std::uint64_t> refused_connections_{0};
  std::atomic<std::int64_t> open_connections_{0};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t> errors_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> features_;
  // Histograms are created once per key and never removed, so a reference outlives the lock.
  std::map<std::string, std::unique_ptr<LatencyHistogram>> request_latency_;
  std::map<std::string, std::unique_ptr<LatencyHistogram>> store_latency_;
};

// `s` escaped for a Prometheus label value (backslash, double quote, newline).
std::string PromLabelValue(std::string_view s);

}  // namespace sluice::serve
