#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "lake/lake.h"
#include "registry/registry.h"

// The live skew check (`sluice skew`, docs/monitoring.md#live-skew): the values `sluice serve`
// logged (src/serve/serving_log.h) are recomputed from the lake with the training-set path
// (engine::BuildTrainingSet on a spine of the logged (entity, at) pairs, the source pinned to
// the version the served state was materialized from) and every difference is reported.
namespace sluice::quality {

struct SkewOptions {
  std::string log;                      // the serving log dataset or a version of it; empty: config
  std::vector<std::string> views;       // only these views; empty: every logged view
  std::optional<base::Duration> since;  // only rows served within this long before now
  int threads = 0;                      // training-set threads (0 = all cores)
};

// One served value that differs from its recomputation.
struct SkewDifference {
  std::string view;
  std::string entity;  // the entity's keys as JSON
  std::string at;      // the instant the value was for (ISO-8601)
  std::string served_at;
  std::string feature;
  std::string online_status;  // present, missing, expired
  std::string online;         // JSON text of the served value
  std::string offline;        // JSON text of the recomputed value; empty: no such feature
};

struct SkewView {
  std::string view;
  std::string source_version;      // the version the served state came from
  std::string served_definition;   // definition hash the server planned with
  std::string current_definition;  // the project's definition now
  std::int64_t rows = 0;           // logged (request, entity) rows checked
  std::int64_t values = 0;         // feature values compared
  std::int64_t skewed = 0;         // of those, different
  std::string problem;             // could not be checked (view removed, version gone...)
};

struct SkewReport {
  std::string log;  // dataset
  std::string version;
  std::int64_t rows = 0;
  std::int64_t values = 0;
  std::int64_t skewed = 0;
  std::vector<SkewView> views;
  std::vector<SkewDifference> differences;  // every one, in log order
};

// Fails on an unknown or empty log, a log dataset that is not a serving log, or a lake error; a
// view that cannot be recomputed is reported in its SkewView::problem (and counts as skew).
base::Result<SkewReport> CheckSkew(const config::ProjectSpec& project, lake::Lake& lake,
                                   registry::Registry& registry, base::Clock& clock,
                                   const SkewOptions& options);

// {"log", "version", "rows", "values", "skewed_values", "skew", "views": [...],
//  "differences": [...]} (docs/monitoring.md).
std::string SkewReportJson(const SkewReport& report);

}  // namespace sluice::quality
