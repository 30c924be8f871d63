#include "config/diagnostic.h"

namespace sluice::config {

std::string Diagnostic::ToString() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  out += message;
  if (suggestion) out += " (did you mean '" + *suggestion + "'?)";
  return out;
}

}  // namespace sluice::config
