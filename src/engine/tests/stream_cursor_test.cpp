#include "engine/stream_cursor.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

TEST(StreamCursorTest, RoundTripsEveryField) {
  StreamCursor c;
  c.partitions[0] = {5, 9, std::int64_t{1709294400000000}};
  c.partitions[3] = {0, 0, std::nullopt};
  c.applied_before = -42;
  c.counts = {100, 90, 6, 3};
  auto back = DecodeStreamCursor(EncodeStreamCursor(c), "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  EXPECT_EQ(back->SeenTotal(), 9);
  auto empty = DecodeStreamCursor(EncodeStreamCursor(StreamCursor{}), "test");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, StreamCursor{});
}

TEST(StreamCursorTest, DamagedCursorsAreCorruptionNamingWhere) {
  for (
      const std::string bad :
      {"", "[]", "{\"format\":2}", "{\"format\":1}",
       R"({"format":1,"applied_before":0,"consumed":0,"applied":0,"quarantined":0,"late":0})",
       R"({"format":1,"applied_before":0,"consumed":0,"applied":0,"quarantined":0,"late":0,)"
       R"("partitions":[{"partition":0,"resume":7,"seen_through":3}]})",
       R"({"format":1,"applied_before":0,"consumed":0,"applied":0,"quarantined":0,"late":0,)"
       R"("partitions":[{"partition":-1,"resume":0,"seen_through":3}]})",
       R"({"format":1,"applied_before":0,"consumed":0,"applied":0,"quarantined":0,"late":0,)"
       R"("partitions":[{"partition":0,"resume":0,"seen_through":3,"newest_before_resume":"x"}]})"}) {
    auto c = DecodeStreamCursor(bad, "view 'v'");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), base::StatusCode::kCorruption) << bad;
    EXPECT_EQ(c.status().message().rfind("view 'v': not a stream cursor", 0), 0U)
        << c.status().message();
  }
}

}  // namespace
}  // namespace sluice::engine
