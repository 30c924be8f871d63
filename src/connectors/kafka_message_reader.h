#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/project.h"
#include "types/batch.h"

namespace sluice::connectors {

// Checks Kafka messages (one JSON object each) against a source's schema contract and appends
// the good ones as typed rows. Every bad message gets a reason instead of a row: not JSON, not
// an object, a missing non-nullable field, a value of the wrong type, an undeclared field when
// the source's extra_columns is fail. The rules follow the file ingest's: an integer column
// takes JSON integers, a double any number, a timestamp or date an ISO-8601 string, a boolean
// true/false, a string column a JSON string; null is NULL (where the column is nullable).
class KafkaMessageReader {
 public:
  explicit KafkaMessageReader(const config::SourceSpec& source);

  // An empty batch with the source's declared columns, in declaration order.
  types::Batch NewBatch() const;
  // Appends `payload` as one row of `rows` (from NewBatch) and returns nullopt, or returns why
  // the message is quarantined, leaving `rows` unchanged.
  std::optional<std::string> Append(std::string_view payload, types::Batch& rows) const;

 private:
  types::Schema schema_;
  bool reject_extra_ = true;
};

}  // namespace sluice::connectors
