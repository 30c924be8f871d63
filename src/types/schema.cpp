#include "types/schema.h"

#include <unordered_set>

namespace sluice::types {

base::Result<Schema> Schema::Make(std::vector<Field> fields) {
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name.empty()) {
      return base::InvalidArgument("field " + std::to_string(i + 1) + " has an empty name");
    }
    if (!seen.insert(fields[i].name).second) {
      return base::InvalidArgument("duplicate field name '" + fields[i].name + "'");
    }
  }
  Schema s;
  s.fields_ = std::move(fields);
  return s;
}

std::optional<size_t> Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return i;
  }
  return std::nullopt;
}

std::string Schema::ToString() const {
  std::string out;
  for (const auto& f : fields_) {
    if (!out.empty()) out += ", ";
    out += f.name;
    out += ' ';
    out += LogicalTypeName(f.type);
    if (!f.nullable) out += " not null";
  }
  return out;
}

}  // namespace sluice::types
