#include "engine/stream_fence.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/stream_runtime.h"

namespace sluice::engine {
namespace {

// The bytes a worker expects are the bytes the store holds: a cursor read back (decoded) and
// encoded again is what was stored, for every field, including the absent ones.
TEST(StreamFenceTest, ExpectsTheStoredBytesOfEachWrittenPartition) {
  StreamPartitionCursor p0{5, 9, std::int64_t{1709294400000000}, -42, {100, 90, 6, 3}};
  StreamPartitionCursor p2{0, 0, std::nullopt, INT64_MIN, {}};
  StreamCursor stored0, stored2;
  stored0.partitions[0] = p0;
  stored2.partitions[2] = p2;
  const std::string bytes0 = EncodeStreamCursor(stored0);
  const std::string bytes2 = EncodeStreamCursor(stored2);
  // What a worker holds after reading both back (StoredCursor decodes them).
  StreamCursor committed;
  committed.partitions[0] = DecodeStreamCursor(bytes0, "p0")->partitions.at(0);
  committed.partitions[2] = DecodeStreamCursor(bytes2, "p2")->partitions.at(2);
  committed.partitions[7] = p0;  // owned but not written now: not expected

  StreamCursor writing;
  writing.partitions[0] = {6, 10, std::nullopt, 0, {101, 91, 6, 3}};
  writing.partitions[1] = {3, 3, std::nullopt, 0, {}};  // arrived with nothing stored
  writing.partitions[2] = p2;
  auto expect = CursorExpectations("tx", committed, writing);
  ASSERT_EQ(expect.size(), 3u);
  EXPECT_EQ(expect[0].name, StreamPartitionEntry("tx", 0));
  EXPECT_EQ(expect[0].value, std::optional<std::string>(bytes0));
  EXPECT_EQ(expect[1].name, StreamPartitionEntry("tx", 1));
  EXPECT_EQ(expect[1].value, std::nullopt);
  EXPECT_EQ(expect[2].name, StreamPartitionEntry("tx", 2));
  EXPECT_EQ(expect[2].value, std::optional<std::string>(bytes2));
  EXPECT_TRUE(CursorExpectations("tx", committed, StreamCursor{}).empty());
}

TEST(StreamFenceTest, ARefusedWriteSaysTheWorkerStops) {
  const base::Status fenced = FencedOut(
      base::FailedPrecondition("'stream.tx.0' is not what this writer expects"), "spend", "txs");
  EXPECT_EQ(fenced.code(), base::StatusCode::kFailedPrecondition);
  EXPECT_NE(fenced.message().find("feature view 'spend'"), std::string::npos);
  EXPECT_NE(fenced.message().find("topic 'txs'"), std::string::npos);
  EXPECT_NE(fenced.message().find("this worker stops"), std::string::npos);
  EXPECT_NE(fenced.message().find("stream.tx.0"), std::string::npos);
  // Other failures (a store that cannot be reached) pass through unchanged, retryable or not.
  const base::Status down = base::Unavailable("redis at x:1/0: connection refused");
  EXPECT_EQ(FencedOut(down, "spend", "txs").ToString(), down.ToString());
  EXPECT_TRUE(FencedOut(down, "spend", "txs").retryable());
}

}  // namespace
}  // namespace sluice::engine
