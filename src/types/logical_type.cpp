#include "types/logical_type.h"

#include <string>

namespace sluice::types {

std::string_view LogicalTypeName(LogicalType type) {
  switch (type) {
    case LogicalType::kBool:
      return "bool";
    case LogicalType::kInt64:
      return "int64";
    case LogicalType::kDouble:
      return "double";
    case LogicalType::kString:
      return "string";
    case LogicalType::kTimestamp:
      return "timestamp";
    case LogicalType::kDate:
      return "date";
  }
  return "unknown";
}

base::Result<LogicalType> ParseLogicalType(std::string_view name) {
  struct Alias {
    std::string_view name;
    LogicalType type;
  };
  static constexpr Alias kAliases[] = {
      {"bool", LogicalType::kBool},           {"boolean", LogicalType::kBool},
      {"int64", LogicalType::kInt64},         {"int", LogicalType::kInt64},
      {"integer", LogicalType::kInt64},       {"bigint", LogicalType::kInt64},
      {"double", LogicalType::kDouble},       {"float", LogicalType::kDouble},
      {"float64", LogicalType::kDouble},      {"string", LogicalType::kString},
      {"varchar", LogicalType::kString},      {"text", LogicalType::kString},
      {"timestamp", LogicalType::kTimestamp}, {"date", LogicalType::kDate},
  };
  for (const auto& a : kAliases) {
    if (a.name == name) return a.type;
  }
  return base::InvalidArgument("unknown type '" + std::string(name) +
                               "' (expected bool, int64, double, string, timestamp or date)");
}

size_t FixedWidth(LogicalType type) {
  switch (type) {
    case LogicalType::kBool:
      return 1;
    case LogicalType::kInt64:
      return 8;
    case LogicalType::kDouble:
      return 8;
    case LogicalType::kString:
      return 0;
    case LogicalType::kTimestamp:
      return 8;
    case LogicalType::kDate:
      return 4;
  }
  return 0;
}

}  // namespace sluice::types
