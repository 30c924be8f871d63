#include "engine/view_freshness.h"

#include "base/time.h"

namespace sluice::engine {

ViewFreshness MeasureFreshness(const config::ProjectSpec& project,
                               const config::FeatureViewSpec& view, const store::ViewMeta& meta,
                               const std::string& source_created_at, std::int64_t now_micros) {
  ViewFreshness f;
  f.event_age_micros = now_micros - meta.newest_event_micros;
  auto servable = base::ParseTimestampMicros(meta.materialized_at);
  if (!servable.ok()) return f;
  const config::SourceSpec* source = project.FindSource(view.source);
  if (source != nullptr && source->type == config::SourceType::kKafka) {
    f.ingest_latency_micros = *servable - meta.newest_event_micros;
    return f;
  }
  auto ingested = base::ParseTimestampMicros(source_created_at);
  if (ingested.ok()) f.ingest_latency_micros = *servable - *ingested;
  return f;
}

std::string SourceCreatedAt(const lake::Lake& lake, const store::ViewMeta& meta) {
  if (meta.source_version.empty()) return "";
  auto version = lake.FindVersion(meta.source_version);
  return version.ok() ? version->created_at : "";
}

}  // namespace sluice::engine
