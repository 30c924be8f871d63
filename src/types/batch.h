#pragma once

#include <vector>

#include "base/result.h"
#include "types/column.h"
#include "types/schema.h"

namespace sluice::types {

// A set of equally long columns described by a schema: the unit of data flowing through sluice.
class Batch {
 public:
  // An empty batch with one empty column per field.
  explicit Batch(Schema schema);

  const Schema& schema() const { return schema_; }
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  size_t num_columns() const { return columns_.size(); }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }

  // Checks the invariants a producer must keep: equal lengths, types matching the schema, no
  // nulls in non-nullable fields. Names the first offending column and row.
  base::Status Validate() const;

 private:
  Schema schema_;
  std::vector<Column> columns_;
};

}  // namespace sluice::types
