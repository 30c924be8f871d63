#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "lake/lake.h"
#include "quality/profile.h"
#include "registry/registry.h"

// Monitors declared in sluice.yaml (monitoring.monitors), run once: drift of a dataset against a
// reference, or rules on one profile metric across a dataset's versions (absolute bounds,
// relative change against the previous version, z-score against the previous N versions, as
// Deequ's anomaly checks). A firing monitor raises an alert: recorded in the registry, and sent
// to its sinks unless the same alert (same monitor, rule and versions) was raised before.
namespace sluice::quality {

struct MonitorResult {
  std::string monitor;
  std::string status;   // "ok", "alert" or "error" (the monitor could not be evaluated)
  std::string summary;  // what was measured, or the error
  std::string severity;
  std::string dataset;
  std::string version;                  // the dataset version looked at
  std::string fingerprint;              // alerts only
  bool repeated = false;                // the alert was raised before: recorded, not sent again
  std::vector<std::string> deliveries;  // one line per sink
};

struct MonitorRunOptions {
  std::vector<std::string> names;  // empty: every monitor
  int threads = 0;                 // DuckDB threads for profiles and drift
};

// Runs the monitors. Fails only on an unknown monitor name or a registry failure; a monitor that
// cannot be evaluated (no versions yet, a missing column) is reported with status "error".
base::Result<std::vector<MonitorResult>> RunMonitors(const config::ProjectSpec& project,
                                                     const lake::Lake& lake,
                                                     registry::Registry& registry,
                                                     base::Clock& clock,
                                                     const MonitorRunOptions& options);

// A view's freshness as a serving process measures it from what it serves.
struct ServedFreshness {
  std::string view;
  std::string store;
  std::string source_version;   // the lake version behind the served values
  std::string materialized_at;  // the store write (ViewMeta::materialized_at)
  std::int64_t newest_event_micros = 0;
  std::int64_t event_age_micros = 0;                  // now - newest event
  std::optional<std::int64_t> ingest_latency_micros;  // engine::ViewFreshness
};

// Judges every monitoring.freshness SLO whose view is in `served` and raises alerts exactly as
// RunMonitors' "freshness:<view>" monitors do (same fingerprints, registry records and sinks),
// so `sluice serve` and `sluice monitor` never send the same alert twice. Views not in `served`
// are skipped. Fails only on a registry failure.
base::Result<std::vector<MonitorResult>> CheckServedFreshness(
    const config::ProjectSpec& project, registry::Registry& registry, base::Clock& clock,
    const std::vector<ServedFreshness>& served);

// A profile metric ("mean", "null_share", "p95", "rows", ...) of `column` in `profile`; nullopt
// when the profile has no such value (an all-null column's mean).
std::optional<double> ProfileMetric(const Profile& profile, const std::string& column,
                                    const std::string& metric);

}  // namespace sluice::quality
