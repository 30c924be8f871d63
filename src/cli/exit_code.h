#pragma once

#include "base/status.h"

namespace sluice::cli {

// Process exit codes, documented in `sluice --help` and docs/cli.md.
enum ExitCode : int {
  kExitOk = 0,              // the command did what was asked
  kExitRuntimeFailure = 1,  // a runtime failure: I/O, a service, data that failed its checks
  kExitUsageError = 2,      // bad flags or arguments, or an invalid project configuration
};

// Prints "error: <status>" to stderr and returns the exit code the status calls for: invalid
// arguments and clashes with existing things are 2, everything else (missing files, I/O, data
// that fails its checks) is 1. Project configuration errors are reported by OpenProject.
int ReportFailure(const base::Status& status);

}  // namespace sluice::cli
