#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "orchestrate/scheduler.h"
#include "registry/pipeline_history.h"

namespace sluice::orchestrate {

struct SchedulerOptions {
  const config::ProjectSpec* project = nullptr;
  std::filesystem::path sluice_binary;  // started as `sluice run PIPELINE --trigger ...`
  std::filesystem::path log_dir;        // each started run's output: <log_dir>/<pipeline>.<n>.log
  base::Duration poll = std::chrono::seconds(5);  // how often source versions are looked at
  std::function<std::optional<std::string>(const std::string& source)> version_of;
  std::function<void(const std::string& line)> on_message;
  const std::atomic<bool>* stop = nullptr;
  bool once = false;  // one round: start what is due, wait for those runs, return
};

// The scheduler's view of the project's pipelines: those with a schedule or source triggers.
// Errors name the pipeline (an unknown time zone, a schedule that does not parse).
base::Result<std::vector<ScheduledPipeline>> ScheduledPipelines(
    const config::ProjectSpec& project,
    const std::filesystem::path& zoneinfo = "/usr/share/zoneinfo");

// Each pipeline's latest scheduled fire that was run, from the run history.
base::Result<std::map<std::string, base::ProcessingTime>> LastFires(
    registry::PipelineHistory& history, const std::vector<ScheduledPipeline>& pipelines);

// Runs the scheduler until *stop (or one round with `once`): starts `sluice run` processes for
// due fires and new source versions, at most max_active_runs per pipeline, and sleeps on the
// injected clock in between. Runs it started are left to finish when it stops.
base::Status RunScheduler(const SchedulerOptions& options, base::Clock& clock,
                          registry::PipelineHistory& history);

}  // namespace sluice::orchestrate
