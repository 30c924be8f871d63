#include "engine/stream_cursor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::engine {
namespace {

TEST(StreamCursorTest, RoundTripsEveryField) {
  StreamCursor c;
  c.partitions[0] = {5, 9, std::int64_t{1709294400000000}, -42, {100, 90, 6, 3}};
  c.partitions[3] = {0, 0, std::nullopt, INT64_MIN, {}};
  auto back = DecodeStreamCursor(EncodeStreamCursor(c), "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  EXPECT_EQ(back->SeenTotal(), 9);
  EXPECT_EQ(back->Counts(), (StreamCounts{100, 90, 6, 3}));
  auto empty = DecodeStreamCursor(EncodeStreamCursor(StreamCursor{}), "test");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, StreamCursor{});
}

TEST(StreamCursorTest, CountsAddUpOverPartitions) {
  StreamCursor c;
  c.partitions[0].counts = {10, 7, 2, 1};
  c.partitions[1].counts = {5, 5, 0, 0};
  EXPECT_EQ(c.Counts(), (StreamCounts{15, 12, 2, 1}));
}

TEST(StreamCursorTest, DamagedCursorsAreCorruptionNamingWhere) {
  const std::string counts =
      R"("applied_before":0,"consumed":0,"applied":0,"quarantined":0,"late":0)";
  for (
      const std::string& bad : std::vector<std::string>{
          std::string(""), std::string("[]"), std::string("{\"format\":2}"),
          // format 1 kept one cursor for the whole stream; it is not read any more
          std::string(
              R"({"format":1,"applied_before":0,"consumed":0,"applied":0,"quarantined":0,"late":0,)"
              R"("partitions":[]})"),
          R"({"format":2,"partitions":[{"partition":0,"resume":7,"seen_through":3,)" + counts +
              "}]}",
          R"({"format":2,"partitions":[{"partition":-1,"resume":0,"seen_through":3,)" + counts +
              "}]}",
          std::string(R"({"format":2,"partitions":[{"partition":0,"resume":0,"seen_through":3}]})"),
          R"({"format":2,"partitions":[{"partition":0,"resume":0,"seen_through":3,)" + counts +
              R"(,"newest_before_resume":"x"}]})"}) {
    auto c = DecodeStreamCursor(bad, "view 'v'");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), base::StatusCode::kCorruption) << bad;
    EXPECT_EQ(c.status().message().rfind("view 'v': not a stream cursor", 0), 0U)
        << c.status().message();
  }
}

}  // namespace
}  // namespace sluice::engine
