#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "types/logical_type.h"

namespace sluice::types {

// One column of a batch. Fixed-width values sit contiguously in `data()` with DuckDB's physical
// layout (bool: uint8, int64/timestamp: int64 micros, double, date: int32 days), so converting to
// or from a DuckDB vector is a memcpy. Validity is a bitmask of 64-bit words, bit set = valid, as
// in DuckDB. Strings are Arrow-style: offsets (size()+1 of them) into one byte buffer.
// A null slot still occupies a (zeroed) value.
class Column {
 public:
  explicit Column(LogicalType type) : type_(type) {}

  LogicalType type() const { return type_; }
  size_t size() const { return size_; }

  // Room for `n` rows in all (and `string_bytes` bytes of strings in all, for a string column)
  // without reallocating.
  void Reserve(size_t n, size_t string_bytes = 0);
  // Empties the column and keeps its buffers, for a column refilled many times.
  void Clear() {
    size_ = 0;
    data_.clear();
    validity_.clear();
    offsets_.resize(1);
    chars_.clear();
  }
  void AppendNull();
  void AppendBool(bool v) { AppendFixed<std::uint8_t>(v ? 1 : 0); }
  void AppendInt64(std::int64_t v) { AppendFixed(v); }
  void AppendDouble(double v) { AppendFixed(v); }
  void AppendTimestamp(std::int64_t micros) { AppendFixed(micros); }
  void AppendDate(std::int32_t days) { AppendFixed(days); }
  void AppendString(std::string_view v) {
    assert(type_ == LogicalType::kString);
    chars_.append(v);
    offsets_.push_back(static_cast<std::uint32_t>(chars_.size()));
    PushValid(true);
  }

  bool IsValid(size_t row) const { return (validity_[row / 64] >> (row % 64)) & 1U; }
  bool GetBool(size_t row) const { return Get<std::uint8_t>(row) != 0; }
  std::int64_t GetInt64(size_t row) const { return Get<std::int64_t>(row); }
  double GetDouble(size_t row) const { return Get<double>(row); }
  std::int64_t GetTimestamp(size_t row) const { return Get<std::int64_t>(row); }
  std::int32_t GetDate(size_t row) const { return Get<std::int32_t>(row); }
  std::string_view GetString(size_t row) const {
    return {chars_.data() + offsets_[row], offsets_[row + 1] - offsets_[row]};
  }

  // Raw buffers for zero-copy conversion by adapters.
  const std::uint8_t* data() const { return data_.data(); }
  std::uint8_t* mutable_data() { return data_.data(); }
  const std::uint64_t* validity() const { return validity_.data(); }
  const std::vector<std::uint32_t>& string_offsets() const { return offsets_; }
  const std::string& string_bytes() const { return chars_; }

  // Appends `n` fixed-width values from `values` with the DuckDB-style validity mask `mask`
  // (nullptr = all valid). Precondition: a fixed-width type.
  void AppendFixedRaw(const void* values, const std::uint64_t* mask, size_t n);
  // Appends `n` fixed-width slots with validity `mask` (nullptr = all valid) and returns the
  // first slot's bytes, for callers that write the values in place instead of staging them in a
  // temporary (gathers, scans). The slots start zeroed; the caller writes the valid ones.
  // Precondition: a fixed-width type.
  std::uint8_t* AppendFixedSlots(const std::uint64_t* mask, size_t n);
  // Appends every row of `other` (values, NULLs, strings), e.g. to join pieces of one result
  // converted on several threads. Precondition: the same type; for strings, the bytes of both
  // together stay below 4 GiB (offsets are 32-bit).
  void AppendColumn(const Column& other);
  // Appends row `row` of `other` (its value or NULL). Precondition: the same type.
  void AppendRowOf(const Column& other, size_t row);
  // True when no value is NULL (checked word by word).
  bool AllValid() const;

  // Debug/CLI rendering of one value ("NULL" for null).
  std::string ValueToString(size_t row) const;

 private:
  template <typename T>
  void AppendFixed(T v) {
    const size_t at = data_.size();
    data_.resize(at + sizeof(T));
    std::memcpy(data_.data() + at, &v, sizeof(T));
    PushValid(true);
  }
  template <typename T>
  T Get(size_t row) const {
    T v;
    std::memcpy(&v, data_.data() + row * sizeof(T), sizeof(T));
    return v;
  }
  // Inline: one call per value appended, on the paths that read messages and rows one by one.
  void PushValid(bool valid) {
    if (size_ % 64 == 0) validity_.push_back(0);
    if (valid) validity_.back() |= std::uint64_t{1} << (size_ % 64);
    ++size_;
  }
  void AppendValidity(const std::uint64_t* mask, size_t n);

  LogicalType type_;
  size_t size_ = 0;
  std::vector<std::uint8_t> data_;
  std::vector<std::uint64_t> validity_;
  std::vector<std::uint32_t> offsets_{0};
  std::string chars_;
};

}  // namespace sluice::types
