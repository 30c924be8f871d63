#include "types/batch.h"

#include <string>

namespace sluice::types {

Batch::Batch(Schema schema) : schema_(std::move(schema)) {
  columns_.reserve(schema_.size());
  for (const auto& f : schema_.fields())
    columns_.emplace_back(f.type);
}

base::Status Batch::Validate() const {
  const size_t rows = num_rows();
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Field& f = schema_.field(c);
    const Column& col = columns_[c];
    if (col.type() != f.type) {
      return base::Internal("column '" + f.name + "' holds " +
                            std::string(LogicalTypeName(col.type())) + " but the schema says " +
                            std::string(LogicalTypeName(f.type)));
    }
    if (col.size() != rows) {
      return base::Internal("column '" + f.name + "' has " + std::to_string(col.size()) +
                            " rows, expected " + std::to_string(rows));
    }
    if (!f.nullable) {
      for (size_t r = 0; r < rows; ++r) {
        if (!col.IsValid(r)) {
          return base::SchemaMismatch("column '" + f.name + "' is not nullable but row " +
                                      std::to_string(r + 1) + " is null");
        }
      }
    }
  }
  return base::Status::Ok();
}

}  // namespace sluice::types
