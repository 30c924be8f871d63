#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/diagnostic.h"
#include "config/project.h"

namespace sluice::config {

// Reads DIR/sluice.yaml and the files it includes, and validates the whole project. On any
// problem returns kInvalidArgument ("project at DIR has 3 errors") and appends every diagnostic
// of every file to *diagnostics (may be null), ordered by file then position; kNotFound when
// DIR/sluice.yaml does not exist. Reading files (and listing models/*.sql) is its only I/O.
base::Result<ProjectSpec> LoadProject(const std::filesystem::path& dir,
                                      std::vector<Diagnostic>* diagnostics);

// Loads a project from text named `file_name` in diagnostics (tests, fuzzing, stdin). With
// `dir`, includes and models/*.sql are resolved against it; without, includes are recorded in
// ProjectSpec::includes but not read, and models are known only from models.configs.
base::Result<ProjectSpec> LoadProjectFromString(
    std::string_view yaml, std::string file_name, std::vector<Diagnostic>* diagnostics,
    const std::optional<std::filesystem::path>& dir = std::nullopt);

}  // namespace sluice::config
