#include "cli/exit_code.h"

#include <cstdio>

namespace sluice::cli {

int ReportFailure(const base::Status& status) {
  std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
  if (status.retryable()) std::fprintf(stderr, "hint: this may succeed if retried\n");
  switch (status.code()) {
    case base::StatusCode::kInvalidArgument:
    case base::StatusCode::kAlreadyExists:
      return kExitUsageError;
    default:
      return kExitRuntimeFailure;
  }
}

}  // namespace sluice::cli
