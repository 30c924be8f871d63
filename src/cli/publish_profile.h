#pragma once

#include "cli/project_context.h"
#include "lake/manifest.h"

namespace sluice::cli {

// After a command published `manifest`: stores its profile beside it (monitoring.
// profile_on_publish, on by default), then, with monitoring.monitor_on_publish, runs the monitors
// of that dataset (alerts to their sinks, one line each on stderr). A failure is a warning on
// stderr, never a failed publish: the profile is derived data that `sluice profile` computes
// again on demand, and `sluice monitor` runs the monitors again.
void ProfilePublishedVersion(const ProjectContext& project, const lake::Manifest& manifest);

}  // namespace sluice::cli
