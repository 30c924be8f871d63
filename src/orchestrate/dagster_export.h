#pragma once

#include <filesystem>
#include <string>

#include "config/project.h"

namespace sluice::orchestrate {

// A Dagster code location (Python) for `pipeline`: one op per step running
// `sluice run PIPELINE --step S --no-retry -p PROJECT` (Dagster retries with the step's
// retries and exponential backoff; sluice still enforces its timeout), dependencies as Nothing
// inputs, one job, and a ScheduleDefinition for cron schedules (in the pipeline's zone).
// Interval schedules ("@every 15m") have no cron form and are left out, with a comment.
std::string DagsterJob(const config::PipelineSpec& pipeline,
                       const std::filesystem::path& project_dir, const std::string& sluice_command);

}  // namespace sluice::orchestrate
