#include "base/text_distance.h"

#include <gtest/gtest.h>

namespace sluice::base {
namespace {

TEST(EditDistanceTest, CountsEdits) {
  EXPECT_EQ(EditDistance("", ""), 0U);
  EXPECT_EQ(EditDistance("abc", ""), 3U);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3U);
  EXPECT_EQ(EditDistance("csv", "cvs"), 2U);
  EXPECT_EQ(EditDistance("entity", "entity"), 0U);
}

TEST(ClosestMatchTest, SuggestsPlausibleTypos) {
  const std::vector<std::string> keys = {"name", "entity", "source", "aggregations", "ttl"};
  EXPECT_EQ(ClosestMatch("entiy", keys), "entity");
  EXPECT_EQ(ClosestMatch("aggregation", keys), "aggregations");
  EXPECT_EQ(ClosestMatch("Source", keys), "source");
  EXPECT_EQ(ClosestMatch("tll", keys), "ttl");
  EXPECT_FALSE(ClosestMatch("completely_different", keys).has_value());
  EXPECT_FALSE(ClosestMatch("x", {}).has_value());
}

}  // namespace
}  // namespace sluice::base
