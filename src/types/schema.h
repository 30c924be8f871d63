#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "types/logical_type.h"

namespace sluice::types {

struct Field {
  std::string name;
  LogicalType type = LogicalType::kString;
  bool nullable = true;

  bool operator==(const Field&) const = default;
};

// An ordered list of uniquely named fields.
class Schema {
 public:
  Schema() = default;
  // Fails on an empty or duplicate field name.
  static base::Result<Schema> Make(std::vector<Field> fields);

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  std::optional<size_t> IndexOf(std::string_view name) const;
  // "txn_id string not null, amount double"
  std::string ToString() const;

  bool operator==(const Schema&) const = default;

 private:
  std::vector<Field> fields_;
};

}  // namespace sluice::types
