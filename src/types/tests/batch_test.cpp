#include "types/batch.h"

#include <gtest/gtest.h>

namespace sluice::types {
namespace {

Schema TwoColumns() {
  return *Schema::Make(
      {{"user_id", LogicalType::kInt64, false}, {"merchant", LogicalType::kString, true}});
}

TEST(BatchTest, ValidBatchPasses) {
  Batch b(TwoColumns());
  b.column(0).AppendInt64(1);
  b.column(1).AppendNull();
  EXPECT_EQ(b.num_rows(), 1U);
  EXPECT_TRUE(b.Validate().ok());
}

TEST(BatchTest, NullInNonNullableColumnNamesColumnAndRow) {
  Batch b(TwoColumns());
  b.column(0).AppendInt64(1);
  b.column(0).AppendNull();
  b.column(1).AppendString("m1");
  b.column(1).AppendString("m2");
  base::Status s = b.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), base::StatusCode::kSchemaMismatch);
  EXPECT_NE(s.message().find("'user_id'"), std::string::npos);
  EXPECT_NE(s.message().find("row 2"), std::string::npos);
}

TEST(BatchTest, RaggedColumnsAreRejected) {
  Batch b(TwoColumns());
  b.column(0).AppendInt64(1);
  b.column(0).AppendInt64(2);
  b.column(1).AppendString("only one");
  base::Status s = b.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'merchant' has 1 rows, expected 2"), std::string::npos);
}

}  // namespace
}  // namespace sluice::types
