#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/project.h"
#include "lake/lake.h"
#include "registry/registry.h"

namespace sluice::cli {

// A loaded project with its lake and registry opened: what most commands start from.
struct ProjectContext {
  config::ProjectSpec spec;
  std::unique_ptr<lake::Lake> lake;
  std::unique_ptr<registry::Registry> registry;
};

// Loads the project in `dir`, printing every diagnostic to stderr. On failure returns nullopt
// and sets *exit_code (2 for configuration problems, 1 when the lake or registry cannot open).
std::optional<ProjectContext> OpenProject(const std::string& dir, int* exit_code);

// Records a run of `kind` on `target` that failed before the module doing the work could record
// it (a store or warehouse that would not open), so every failed run is in the registry.
// A registry error is logged, not returned: the original failure is what the user must see.
void RecordFailedRun(registry::Registry& registry, const std::string& kind,
                     const std::string& target, const base::Status& failure);

// The project's path setting resolved against its folder.
std::filesystem::path ResolvePath(const config::ProjectSpec& spec, const std::string& path);

}  // namespace sluice::cli
