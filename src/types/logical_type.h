#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace sluice::types {

// The logical types a column can have. Physical layout per type (see column.h) matches DuckDB's
// vectors so conversion is a memcpy for fixed-width types.
enum class LogicalType : std::uint8_t {
  kBool,       // 1 byte, 0 or 1
  kInt64,      // int64_t
  kDouble,     // IEEE-754 double
  kString,     // UTF-8 bytes, stored as offsets into a byte buffer
  kTimestamp,  // int64_t microseconds since 1970-01-01T00:00:00Z (UTC)
  kDate,       // int32_t days since 1970-01-01
};

// The names used in project files: bool, int64, double, string, timestamp, date.
std::string_view LogicalTypeName(LogicalType type);
// Also accepts common aliases (boolean, int, integer, bigint, float, float64, varchar, text).
base::Result<LogicalType> ParseLogicalType(std::string_view name);
// Bytes per value in a fixed-width column, 0 for strings.
size_t FixedWidth(LogicalType type);

}  // namespace sluice::types
