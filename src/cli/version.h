#pragma once

#include "base/build_version.h"

namespace sluice::cli {

// The build's version (base/build_version.h), as `--version` prints it.
inline const char* const& kVersion = base::kBuildVersion;

}  // namespace sluice::cli
