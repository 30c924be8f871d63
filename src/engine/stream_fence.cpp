#include "engine/stream_fence.h"

#include "engine/stream_runtime.h"

namespace sluice::engine {

std::vector<store::SideExpectation> CursorExpectations(const std::string& source,
                                                       const StreamCursor& committed,
                                                       const StreamCursor& writing) {
  std::vector<store::SideExpectation> expect;
  expect.reserve(writing.partitions.size());
  for (const auto& [p, pc] : writing.partitions) {
    (void)pc;
    store::SideExpectation e;
    e.name = StreamPartitionEntry(source, p);
    if (auto it = committed.partitions.find(p); it != committed.partitions.end()) {
      // Stored cursors are one partition each, written by EncodeStreamCursor (deterministic:
      // decoding and encoding again gives the stored bytes).
      StreamCursor one;
      one.partitions[p] = it->second;
      e.value = EncodeStreamCursor(one);
    }
    expect.push_back(std::move(e));
  }
  return expect;
}

base::Status FencedOut(const base::Status& refused, const std::string& view,
                       const std::string& topic) {
  if (refused.code() != base::StatusCode::kFailedPrecondition) return refused;
  return base::FailedPrecondition(
      "feature view '" + view + "': another worker of the consumer group wrote partition " +
      "cursors of topic '" + topic + "' that this worker believed it owned (it stalled past the " +
      "group's session timeout and the group gave them away): nothing was written; this worker " +
      "stops (start it again to rejoin the group) [" + refused.message() + "]");
}

}  // namespace sluice::engine
