#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/project.h"

namespace sluice::orchestrate {

// What a run hands to the steps that render model SQL (build, test): the partition's interval
// (ISO-8601 start and end) and the --var values, passed on as the same flags.
struct StepValues {
  std::optional<std::pair<std::string, std::string>> interval;
  std::vector<std::pair<std::string, std::string>> vars;
};

// The command line a step runs: a sluice verb on the project (`<sluice> ingest -p DIR a b`), or
// `/bin/sh -c COMMAND` for `run: command` steps. `sluice_binary` is this program.
std::vector<std::string> StepArgv(const config::StepSpec& step,
                                  const std::filesystem::path& project_dir,
                                  const std::filesystem::path& sluice_binary,
                                  const StepValues& values = {});

}  // namespace sluice::orchestrate
