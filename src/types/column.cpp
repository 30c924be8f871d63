#include "types/column.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <limits>

#include "base/time.h"

namespace sluice::types {

void Column::Reserve(size_t n, size_t string_bytes) {
  validity_.reserve((n + 63) / 64);
  if (type_ == LogicalType::kString) {
    offsets_.reserve(n + 1);
    chars_.reserve(string_bytes);
  } else {
    data_.reserve(n * FixedWidth(type_));
  }
}

void Column::AppendNull() {
  if (type_ == LogicalType::kString) {
    offsets_.push_back(offsets_.back());
  } else {
    data_.resize(data_.size() + FixedWidth(type_), 0);
  }
  PushValid(false);
}

// Word at a time: appending bit by bit was a large share of scanning tens of millions of rows.
// Bits of `mask` past `n` may be set (DuckDB leaves them so) and are ignored.
void Column::AppendValidity(const std::uint64_t* mask, size_t n) {
  if (n == 0) return;
  const size_t shift = size_ % 64;
  validity_.resize((size_ + n + 63) / 64, 0);
  std::uint64_t* dst = validity_.data() + size_ / 64;
  const size_t words = (n + 63) / 64;
  for (size_t w = 0; w < words; ++w) {
    std::uint64_t word = mask != nullptr ? mask[w] : ~std::uint64_t{0};
    const size_t bits = n - w * 64;
    if (bits < 64) word &= (std::uint64_t{1} << bits) - 1;
    dst[w] |= word << shift;
    // Bits shifted out land in the next word, which exists whenever any of them is set.
    if (shift != 0 && (word >> (64 - shift)) != 0) dst[w + 1] |= word >> (64 - shift);
  }
  size_ += n;
}

void Column::AppendFixedRaw(const void* values, const std::uint64_t* mask, size_t n) {
  const size_t width = FixedWidth(type_);
  assert(width > 0);
  if (n == 0) return;  // `values` may be null then, which memcpy does not allow
  const size_t at = data_.size();
  data_.resize(at + n * width);
  std::memcpy(data_.data() + at, values, n * width);
  AppendValidity(mask, n);
}

std::uint8_t* Column::AppendFixedSlots(const std::uint64_t* mask, size_t n) {
  const size_t width = FixedWidth(type_);
  assert(width > 0);
  const size_t at = data_.size();
  data_.resize(at + n * width);
  AppendValidity(mask, n);
  return data_.data() + at;
}

void Column::AppendRowOf(const Column& other, size_t row) {
  assert(other.type_ == type_);
  if (!other.IsValid(row)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case LogicalType::kBool:
      AppendBool(other.GetBool(row));
      break;
    case LogicalType::kInt64:
      AppendInt64(other.GetInt64(row));
      break;
    case LogicalType::kDouble:
      AppendDouble(other.GetDouble(row));
      break;
    case LogicalType::kString:
      AppendString(other.GetString(row));
      break;
    case LogicalType::kTimestamp:
      AppendTimestamp(other.GetTimestamp(row));
      break;
    case LogicalType::kDate:
      AppendDate(other.GetDate(row));
      break;
  }
}

void Column::AppendColumn(const Column& other) {
  assert(other.type_ == type_);
  const size_t n = other.size_;
  if (n == 0) return;
  if (type_ != LogicalType::kString) {
    AppendFixedRaw(other.data_.data(), other.validity_.data(), n);
    return;
  }
  assert(chars_.size() + other.chars_.size() <= std::numeric_limits<std::uint32_t>::max());
  const auto base = static_cast<std::uint32_t>(chars_.size());
  chars_.append(other.chars_);
  // Growing geometrically: a column built from many small pieces must not reallocate (and
  // copy) all its offsets for every piece.
  if (offsets_.capacity() < offsets_.size() + n) {
    offsets_.reserve(std::max(offsets_.size() + n, 2 * offsets_.capacity()));
  }
  for (size_t i = 1; i <= n; ++i)
    offsets_.push_back(base + other.offsets_[i]);
  AppendValidity(other.validity_.data(), n);
}

bool Column::AllValid() const {
  const size_t full = size_ / 64;
  for (size_t w = 0; w < full; ++w) {
    if (validity_[w] != ~std::uint64_t{0}) return false;
  }
  const size_t rest = size_ % 64;
  return rest == 0 || validity_[full] == (std::uint64_t{1} << rest) - 1;
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
