#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "registry/pipeline_history.h"

namespace sluice::orchestrate {

struct Recovery {
  std::vector<std::int64_t> runs;  // marked interrupted
  // What was killed, for messages: "run 12 step train: process group 4242".
  std::vector<std::string> killed;
};

// Marks the runs of `sluice run` processes of this host that no longer exist interrupted
// (PipelineHistory::RecoverInterrupted) and kills the step processes they left running. A step
// attempt's recorded pid is only trusted while it is the same process (its ProcessStartId as
// recorded at spawn): then its whole process group is killed. Members of that group the leader
// left behind are killed one by one, only if they carry the run's SLUICE_RUN_ID and SLUICE_STEP
// in their environment. A pid reused by some other process is never signalled.
base::Result<Recovery> RecoverInterruptedRuns(registry::PipelineHistory& history,
                                              const std::string& now);

}  // namespace sluice::orchestrate
