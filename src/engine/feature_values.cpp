#include "engine/feature_values.h"

#include <cstring>

namespace sluice::engine {

using types::LogicalType;

FeatureValues::FeatureValues(LogicalType type, size_t rows) : type_(type), valid_(rows, 0) {
  if (type == LogicalType::kString) {
    texts_.resize(rows);
  } else if (type == LogicalType::kDouble) {
    doubles_.resize(rows, 0.0);
  } else {
    ints_.resize(rows, 0);
  }
}

void FeatureValues::CopyRow(const FeatureValues& src, size_t from_row, size_t to_row) {
  valid_[to_row] = src.valid_[from_row];
  if (type_ == LogicalType::kString) {
    texts_[to_row] = src.texts_[from_row];
  } else if (type_ == LogicalType::kDouble) {
    doubles_[to_row] = src.doubles_[from_row];
  } else {
    ints_[to_row] = src.ints_[from_row];
  }
}

void FeatureValues::Scatter(const FeatureValues& src, const std::vector<std::uint32_t>& to_rows) {
  // One loop per type: a tight loop of independent stores, unlike one row at a time.
  const size_t n = to_rows.size();
  if (type_ == LogicalType::kString) {
    for (size_t j = 0; j < n; ++j)
      texts_[to_rows[j]] = src.texts_[j];
  } else if (type_ == LogicalType::kDouble) {
    for (size_t j = 0; j < n; ++j)
      doubles_[to_rows[j]] = src.doubles_[j];
  } else {
    for (size_t j = 0; j < n; ++j)
      ints_[to_rows[j]] = src.ints_[j];
  }
  for (size_t j = 0; j < n; ++j)
    valid_[to_rows[j]] = src.valid_[j];
}

types::Column FeatureValues::ToColumn() const {
  types::Column c(type_);
  const size_t n = valid_.size();
  c.Reserve(n);
  if (type_ == LogicalType::kString) {
    for (size_t i = 0; i < n; ++i) {
      if (valid_[i]) {
        c.AppendString(texts_[i]);
      } else {
        c.AppendNull();
      }
    }
    return c;
  }
  std::vector<std::uint64_t> mask((n + 63) / 64, 0);
  for (size_t i = 0; i < n; ++i) {
    if (valid_[i]) mask[i / 64] |= std::uint64_t{1} << (i % 64);
  }
  if (type_ == LogicalType::kDouble) {
    c.AppendFixedRaw(doubles_.data(), mask.data(), n);
  } else if (type_ == LogicalType::kBool) {
    std::uint8_t* out = c.AppendFixedSlots(mask.data(), n);
    for (size_t i = 0; i < n; ++i)
      out[i] = ints_[i] != 0 ? 1 : 0;
  } else if (type_ == LogicalType::kDate) {
    // Days since the epoch, held as int64 by the states, as the column's int32.
    std::uint8_t* out = c.AppendFixedSlots(mask.data(), n);
    for (size_t i = 0; i < n; ++i) {
      const auto days = static_cast<std::int32_t>(ints_[i]);
      std::memcpy(out + i * sizeof(days), &days, sizeof(days));
    }
  } else {
    c.AppendFixedRaw(ints_.data(), mask.data(), n);
  }
  return c;
}

}  // namespace sluice::engine
