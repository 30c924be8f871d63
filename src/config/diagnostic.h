#pragma once

#include <optional>
#include <string>

namespace sluice::config {

// One problem found in a project file, located precisely enough for an editor to jump to it.
struct Diagnostic {
  std::string file;                       // relative to the project dir, e.g. "sluice.yaml"
  int line = 0;                           // 1-based; 0 when unknown
  int column = 0;                         // 1-based; 0 when unknown
  std::string key_path;                   // e.g. "sources[1].format"; indexes count within `file`
  std::string message;                    // e.g. "unknown value 'cvs'"
  std::optional<std::string> suggestion;  // the closest valid word, for "did you mean"

  // "sluice.yaml:12:5: sources[1].format: unknown value 'cvs' (did you mean 'csv'?)"
  std::string ToString() const;
};

}  // namespace sluice::config
