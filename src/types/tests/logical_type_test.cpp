#include "types/logical_type.h"

#include <gtest/gtest.h>

namespace sluice::types {
namespace {

TEST(LogicalTypeTest, NamesRoundTrip) {
  for (auto t : {LogicalType::kBool, LogicalType::kInt64, LogicalType::kDouble,
                 LogicalType::kString, LogicalType::kTimestamp, LogicalType::kDate}) {
    auto parsed = ParseLogicalType(LogicalTypeName(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
}

TEST(LogicalTypeTest, AcceptsAliases) {
  EXPECT_EQ(*ParseLogicalType("bigint"), LogicalType::kInt64);
  EXPECT_EQ(*ParseLogicalType("varchar"), LogicalType::kString);
  EXPECT_EQ(*ParseLogicalType("boolean"), LogicalType::kBool);
  EXPECT_EQ(*ParseLogicalType("float64"), LogicalType::kDouble);
}

TEST(LogicalTypeTest, RejectsUnknownNamingIt) {
  auto r = ParseLogicalType("decimal(10,2)");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'decimal(10,2)'"), std::string::npos);
}

TEST(LogicalTypeTest, WidthsMatchDuckDbPhysicalLayout) {
  EXPECT_EQ(FixedWidth(LogicalType::kBool), 1U);
  EXPECT_EQ(FixedWidth(LogicalType::kInt64), 8U);
  EXPECT_EQ(FixedWidth(LogicalType::kDouble), 8U);
  EXPECT_EQ(FixedWidth(LogicalType::kTimestamp), 8U);
  EXPECT_EQ(FixedWidth(LogicalType::kDate), 4U);
  EXPECT_EQ(FixedWidth(LogicalType::kString), 0U);
}

}  // namespace
}  // namespace sluice::types
