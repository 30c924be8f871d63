#pragma once

#include "base/status.h"

namespace sluice::cli {

// Process exit codes, documented in `sluice --help` and docs/cli.md.
enum ExitCode : int {
  kExitOk = 0,              // the command did what was asked
  kExitRuntimeFailure = 1,  // a runtime failure: I/O, a service, data that failed its checks
  kExitUsageError = 2,      // bad flags or arguments, or an invalid project configuration
};

// Prints "error: <status>" to stderr and returns the exit code the status calls for: usage and
// configuration problems are 2, everything else 1.
int ReportFailure(const base::Status& status);

}  // namespace sluice::cli
