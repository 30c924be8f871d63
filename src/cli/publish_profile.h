#pragma once

#include "cli/project_context.h"
#include "lake/manifest.h"

namespace sluice::cli {

// After a command published `manifest`: stores its profile beside it (monitoring.
// profile_on_publish, on by default). A failure is a warning on stderr, never a failed publish:
// the profile is derived data that `sluice profile` computes again on demand.
void ProfilePublishedVersion(const ProjectContext& project, const lake::Manifest& manifest);

}  // namespace sluice::cli
