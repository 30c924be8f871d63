#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "orchestrate/pipeline_runner.h"

namespace sluice::orchestrate {

// A pipeline's partition length: "hour" or "day" (UTC boundaries).
base::Result<base::Duration> PartitionLength(std::string_view partition);

// The complete partition just before `t`: [floor(t) - length, floor(t)). A run fired at 02:00
// of a daily pipeline gets yesterday, as Airflow's data intervals do.
Interval PartitionBefore(base::Duration length, base::ProcessingTime t);

// Every partition that starts in [from, to), `from` rounded down to a boundary.
std::vector<Interval> PartitionsBetween(base::Duration length, base::ProcessingTime from,
                                        base::ProcessingTime to);

}  // namespace sluice::orchestrate
