#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "orchestrate/pipeline_runner.h"

namespace sluice::orchestrate {

struct BackfillRequest {
  const config::ProjectSpec* project = nullptr;
  const config::PipelineSpec* pipeline = nullptr;  // must declare `partition`
  base::ProcessingTime from;
  base::ProcessingTime to;
  int concurrency = 4;  // partitions run at once
  std::vector<std::pair<std::string, std::string>> vars;
};

struct BackfillProgress {
  std::int64_t total = 0;        // partitions in range
  std::int64_t done_before = 0;  // already succeeded in an earlier backfill or run: not rerun
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;
};

// Runs the pipeline once per partition in [from, to), `concurrency` partitions at a time (each
// its own run with its interval, trigger "backfill", recorded in the history at
// `registry_path`). Partitions that already have a succeeded run are skipped, so an interrupted
// backfill resumes where it stopped. `on_progress` is called after each partition (from worker
// threads, one at a time).
base::Result<BackfillProgress> RunBackfill(
    const BackfillRequest& request, const RunnerOptions& options,
    const std::filesystem::path& registry_path,
    const std::function<void(const BackfillProgress&)>& on_progress);

}  // namespace sluice::orchestrate
