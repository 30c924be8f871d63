#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/project.h"

namespace sluice::orchestrate {

// The command line a step runs: a sluice verb on the project (`<sluice> ingest -p DIR a b`), or
// `/bin/sh -c COMMAND` for `run: command` steps. `sluice_binary` is this program.
std::vector<std::string> StepArgv(const config::StepSpec& step,
                                  const std::filesystem::path& project_dir,
                                  const std::filesystem::path& sluice_binary);

}  // namespace sluice::orchestrate
