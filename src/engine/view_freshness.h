#pragma once

#include <cstdint>
#include <optional>

#include "config/project.h"
#include "lake/lake.h"
#include "store/online_store.h"

namespace sluice::engine {

// How fresh a view's served values are (docs/monitoring.md#freshness-slos), measured the same
// way by `sluice serve` (/metrics) and `sluice monitor` (alerts).
struct ViewFreshness {
  // Now minus the newest event time behind the stored values.
  std::int64_t event_age_micros = 0;
  // When the newest data became servable (the store write) minus when it entered sluice: the
  // source version's creation in the lake for batch views, the newest event's time for views a
  // stream writes (their archive segments land after the states). nullopt when unknown (a
  // source version no longer in the lake, an unreadable materialized_at).
  std::optional<std::int64_t> ingest_latency_micros;
};

// `source_created_at` is the source version's manifest created_at (empty when not found).
ViewFreshness MeasureFreshness(const config::ProjectSpec& project,
                               const config::FeatureViewSpec& view, const store::ViewMeta& meta,
                               const std::string& source_created_at, std::int64_t now_micros);

// The created_at of `meta.source_version` in the lake, or "" when it cannot be read.
std::string SourceCreatedAt(const lake::Lake& lake, const store::ViewMeta& meta);

}  // namespace sluice::engine
