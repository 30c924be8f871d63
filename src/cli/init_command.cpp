#include <cstdio>
#include <filesystem>
#include <system_error>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_template.h"
#include "lake/atomic_file.h"

namespace sluice::cli {

namespace fs = std::filesystem;

int RunInit(const InitOptions& options) {
  const fs::path dir(options.dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return ReportFailure(base::InvalidArgument("'" + options.dir + "' exists and is not a folder"));
  }
  // Refuse to overwrite someone's project unless asked: init must never destroy work.
  if (!options.force) {
    for (const auto& file : ProjectTemplate()) {
      if (fs::exists(dir / file.path, ec)) {
        return ReportFailure(base::AlreadyExists("'" + (dir / file.path).string() +
                                                 "' already exists (use --force to overwrite)"));
      }
    }
  }
  for (const auto& file : ProjectTemplate()) {
    const fs::path path = dir / file.path;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return ReportFailure(
          base::IoError("cannot create '" + path.parent_path().string() + "': " + ec.message()));
    }
    // Whole or not at all, like every file sluice writes for a user (a kill never leaves a
    // half-written sluice.yaml that --force would then be needed to replace).
    if (base::Status s = lake::WriteFileAtomic(path, file.content); !s.ok()) {
      return ReportFailure(s);
    }
    std::printf("created %s\n", path.c_str());
  }
  std::printf(
      "\nNext:\n  sluice demo-data -p %s   # generate example data into %s/data\n"
      "  sluice check -p %s       # validate the project\n",
      options.dir.c_str(), options.dir.c_str(), options.dir.c_str());
  return kExitOk;
}

}  // namespace sluice::cli
