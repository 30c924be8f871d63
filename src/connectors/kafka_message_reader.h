#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/project.h"
#include "types/batch.h"

namespace sluice::connectors {

// Checks Kafka messages (one JSON object each) against a source's schema contract and appends
// the good ones as typed rows. Every bad message gets a reason instead of a row: not JSON, not
// an object, a missing non-nullable field, a value of the wrong type, an undeclared field when
// the source's extra_columns is fail. The rules follow the file ingest's: an integer column
// takes JSON integers, a double any number, a timestamp or date an ISO-8601 string, a boolean
// true/false, a string column a JSON string; null is NULL (where the column is nullable).
//
// The message is read in one pass, without a document tree: each declared field's value is
// converted as it is met and held until the whole message has passed (RFC 8259 JSON, as
// strict as nlohmann-json's parser: UTF-8 checked, a repeated key's last value counts).
// Not thread-safe: the held row lives in the reader.
class KafkaMessageReader {
 public:
  explicit KafkaMessageReader(const config::SourceSpec& source);

  // An empty batch with the source's declared columns, in declaration order.
  types::Batch NewBatch() const;

  // Reads and checks `payload`: nullopt when it passes (the row is then held until the next
  // Parse), else why the message is quarantined.
  std::optional<std::string> Parse(std::string_view payload);
  // The held row's value of column `column` (a timestamp or date column) in microseconds since
  // the epoch; nullopt when it is NULL. Precondition: the last Parse passed.
  std::optional<std::int64_t> TimeMicros(size_t column) const;
  // Appends the held row to the first columns of `rows` (declared columns, in order; `rows`
  // may have more, which the caller fills). Precondition: the last Parse passed, and `payload`
  // is still alive (string values may point into it).
  void AppendParsed(types::Batch& rows) const;

  // Parse, then AppendParsed to `rows` (from NewBatch) and nullopt, or the reason, leaving
  // `rows` unchanged.
  std::optional<std::string> Append(std::string_view payload, types::Batch& rows);

 private:
  // One declared field's value in the message being read.
  struct Slot {
    enum class State : std::uint8_t { kAbsent, kNull, kValue, kWrong };
    State state = State::kAbsent;
    std::int64_t i = 0;  // int64, timestamp, date (days), bool
    double d = 0;
    std::string_view s;  // into the payload, or into `unescaped`
    std::string unescaped;
    std::string why;  // kWrong: the reason
  };
  class Scanner;

  types::Schema schema_;
  bool reject_extra_ = true;
  std::vector<Slot> slots_;
  // Each declared name and its closing quote, as a message spells a key that needs no escape
  // (empty for a name that would need one), matched byte for byte before a key is scanned.
  std::vector<std::string> quoted_names_;
  std::string first_undeclared_;  // the smallest undeclared key of the message
  bool has_undeclared_ = false;
  std::string key_;  // a key with escapes, unescaped
  std::string scratch_;
  std::vector<char> nesting_;  // containers open while a value is skipped
};

}  // namespace sluice::connectors
