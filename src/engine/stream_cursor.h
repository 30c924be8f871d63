#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::engine {

struct StreamCounts {
  std::int64_t consumed = 0;
  std::int64_t applied = 0;
  std::int64_t quarantined = 0;
  std::int64_t late = 0;

  bool operator==(const StreamCounts&) const = default;
  StreamCounts& operator+=(const StreamCounts& o);
};

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
  // Every non-late event of this partition with event time < applied_before was applied, no
  // other one. Per partition, so a partition moves between workers of a group with it.
  std::int64_t applied_before = INT64_MIN;
  StreamCounts counts;  // what this sink counted from this partition, in total

  bool operator==(const StreamPartitionCursor&) const = default;
};

// A stream's position as stored with what it produced (a view's states, a lake segment): the
// next run resumes from it and repeats every decision the stopped one made.
struct StreamCursor {
  std::map<std::int32_t, StreamPartitionCursor> partitions;

  bool operator==(const StreamCursor&) const = default;
  // Messages consumed over all partitions: cursors of one stream are ordered by it.
  std::int64_t SeenTotal() const;
  StreamCounts Counts() const;  // over all partitions
};

// JSON, for the store's side entries (one partition each) and the lake manifest's cursor (every
// partition). Format 2 (format 1, before per-partition cursors, is refused as unknown).
std::string EncodeStreamCursor(const StreamCursor& cursor);
// kCorruption naming `what` if `text` is not a cursor EncodeStreamCursor wrote.
base::Result<StreamCursor> DecodeStreamCursor(std::string_view text, std::string_view what);

}  // namespace sluice::engine
