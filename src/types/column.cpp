#include "types/column.h"

#include <cassert>
#include <cstdio>

#include "base/time.h"

namespace sluice::types {

void Column::Reserve(size_t n) {
  validity_.reserve((n + 63) / 64);
  if (type_ == LogicalType::kString) {
    offsets_.reserve(n + 1);
  } else {
    data_.reserve(n * FixedWidth(type_));
  }
}

void Column::PushValid(bool valid) {
  if (size_ % 64 == 0) validity_.push_back(0);
  if (valid) validity_.back() |= std::uint64_t{1} << (size_ % 64);
  ++size_;
}

void Column::AppendNull() {
  if (type_ == LogicalType::kString) {
    offsets_.push_back(offsets_.back());
  } else {
    data_.resize(data_.size() + FixedWidth(type_), 0);
  }
  PushValid(false);
}

void Column::AppendString(std::string_view v) {
  assert(type_ == LogicalType::kString);
  chars_.append(v);
  offsets_.push_back(static_cast<std::uint32_t>(chars_.size()));
  PushValid(true);
}

void Column::AppendFixedRaw(const void* values, const std::uint64_t* mask, size_t n) {
  const size_t width = FixedWidth(type_);
  assert(width > 0);
  if (n == 0) return;  // `values` may be null then, which memcpy does not allow
  const size_t at = data_.size();
  data_.resize(at + n * width);
  std::memcpy(data_.data() + at, values, n * width);
  for (size_t i = 0; i < n; ++i) {
    PushValid(mask == nullptr || ((mask[i / 64] >> (i % 64)) & 1U));
  }
}

std::string Column::ValueToString(size_t row) const {
  if (!IsValid(row)) return "NULL";
  switch (type_) {
    case LogicalType::kBool:
      return GetBool(row) ? "true" : "false";
    case LogicalType::kInt64:
      return std::to_string(GetInt64(row));
    case LogicalType::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", GetDouble(row));
      return buf;
    }
    case LogicalType::kString:
      return std::string(GetString(row));
    case LogicalType::kTimestamp:
      return base::FormatTimestampMicros(GetTimestamp(row));
    case LogicalType::kDate: {
      std::int64_t y = 0;
      unsigned m = 0, d = 0;
      base::CivilFromDays(GetDate(row), y, m, d);
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
      return buf;
    }
  }
  return "?";
}

}  // namespace sluice::types
