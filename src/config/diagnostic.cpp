#include "config/diagnostic.h"

namespace sluice::config {

std::string Diagnostic::ToString() const {
  std::string out = file;
  if (line > 0) {
    // Appended piece by piece: `":" + std::to_string(n)` trips a false GCC 12 -O3
    // -Werror=restrict (a Release build would not compile).
    out += ':';
    out += std::to_string(line);
    if (column > 0) {
      out += ':';
      out += std::to_string(column);
    }
  }
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  out += message;
  if (suggestion) out += " (did you mean '" + *suggestion + "'?)";
  return out;
}

}  // namespace sluice::config
