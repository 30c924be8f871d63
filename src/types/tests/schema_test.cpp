#include "types/schema.h"

#include <gtest/gtest.h>

namespace sluice::types {
namespace {

TEST(SchemaTest, LooksUpFieldsByName) {
  auto s = Schema::Make(
      {{"txn_id", LogicalType::kString, false}, {"amount", LogicalType::kDouble, true}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 2U);
  EXPECT_EQ(s->IndexOf("amount"), 1U);
  EXPECT_FALSE(s->IndexOf("missing").has_value());
  EXPECT_EQ(s->ToString(), "txn_id string not null, amount double");
}

TEST(SchemaTest, RejectsDuplicateAndEmptyNames) {
  auto dup = Schema::Make({{"a", LogicalType::kInt64, true}, {"a", LogicalType::kDouble, true}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate field name 'a'"), std::string::npos);
  auto empty = Schema::Make({{"a", LogicalType::kInt64, true}, {"", LogicalType::kInt64, true}});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("field 2"), std::string::npos);
}

}  // namespace
}  // namespace sluice::types
