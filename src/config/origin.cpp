#include "config/origin.h"

namespace sluice::config {

std::string SourceSpan::Where() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  return out;
}

SourceSpan Origin::Of(std::string_view key) const {
  if (auto it = fields.find(key); it != fields.end()) return it->second;
  SourceSpan span = at;
  if (!key.empty()) {
    if (!span.key_path.empty() && key.front() != '[') span.key_path += ".";
    span.key_path += key;
  }
  return span;
}

}  // namespace sluice::config
