#pragma once

#include <filesystem>
#include <string>

#include "config/project.h"

namespace sluice::orchestrate {

// An Airflow DAG file (Python) for `pipeline`: one BashOperator per step running
// `sluice run PIPELINE --step S --no-retry -p PROJECT` (Airflow does the retries, with the
// step's retries, backoff and cap, and kills a step past its timeout), the same dependencies,
// the schedule (cron, macro or interval; in the pipeline's time zone), catch-up and
// max_active_runs. Partitioned pipelines pass Airflow's data interval end as --scheduled-at,
// so both tools agree on the partition.
std::string AirflowDag(const config::PipelineSpec& pipeline,
                       const std::filesystem::path& project_dir, const std::string& sluice_command);

}  // namespace sluice::orchestrate
