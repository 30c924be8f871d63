#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "types/column.h"

namespace sluice::engine {

// One feature's values for a set of output rows, written by row index (rows arrive in entity
// order, not output order).
class FeatureValues {
 public:
  FeatureValues(types::LogicalType type, size_t rows);
  types::LogicalType type() const { return type_; }
  void SetNull(size_t row) { valid_[row] = 0; }
  void SetInt(size_t row, std::int64_t v) {
    ints_[row] = v;
    valid_[row] = 1;
  }
  void SetDouble(size_t row, double v) {
    doubles_[row] = v;
    valid_[row] = 1;
  }
  void SetText(size_t row, std::string v) {
    texts_[row] = std::move(v);
    valid_[row] = 1;
  }
  bool IsValid(size_t row) const { return valid_[row] != 0; }
  // Copies row `from_row` of `src` (same type) into `to_row`.
  void CopyRow(const FeatureValues& src, size_t from_row, size_t to_row);
  // Copies row j of `src` (same type) into row to_rows[j], for every j.
  void Scatter(const FeatureValues& src, const std::vector<std::uint32_t>& to_rows);
  types::Column ToColumn() const;

 private:
  types::LogicalType type_;
  std::vector<std::int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<std::string> texts_;
  std::vector<std::uint8_t> valid_;
};

}  // namespace sluice::engine
