#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::engine {

// Where one partition of a stream stands (docs/streaming.md, "Exactly once").
struct StreamPartitionCursor {
  // The first offset to read again after a restart: the oldest message still waiting for the
  // watermark, or seen_through when none waits.
  std::int64_t resume = 0;
  // One past the last offset consumed: messages below it were counted (quarantined, late,
  // applied or waiting) and are never counted again.
  std::int64_t seen_through = 0;
  // The newest event time of the messages before `resume`, from which the partition's
  // watermark is rebuilt on a restart (nullopt: none had an event time).
  std::optional<std::int64_t> newest_before_resume;

  bool operator==(const StreamPartitionCursor&) const = default;
};

struct StreamCounts {
  std::int64_t consumed = 0;
  std::int64_t applied = 0;
  std::int64_t quarantined = 0;
  std::int64_t late = 0;

  bool operator==(const StreamCounts&) const = default;
};

// A stream's position as stored with what it produced (a view's states, a lake segment): the
// next run resumes from it and repeats every decision the stopped one made.
struct StreamCursor {
  std::map<std::int32_t, StreamPartitionCursor> partitions;
  // Every non-late event with event time < applied_before was applied, no other one.
  std::int64_t applied_before = INT64_MIN;
  StreamCounts counts;  // what this sink counted, in total

  bool operator==(const StreamCursor&) const = default;
  // Messages consumed over all partitions: cursors of one stream are ordered by it.
  std::int64_t SeenTotal() const;
};

// JSON, for the store's side entry and the lake manifest's cursor.
std::string EncodeStreamCursor(const StreamCursor& cursor);
// kCorruption naming `what` if `text` is not a cursor EncodeStreamCursor wrote.
base::Result<StreamCursor> DecodeStreamCursor(std::string_view text, std::string_view what);

}  // namespace sluice::engine
