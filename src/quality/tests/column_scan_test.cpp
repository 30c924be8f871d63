#include "quality/column_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace sluice::quality {
namespace {

TEST(RadixSortTest, EqualsStdSort) {
  std::mt19937_64 rng(42);
  for (const size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{300}, size_t{100000}}) {
    std::vector<std::uint64_t> random(n), shared(n);
    for (size_t i = 0; i < n; ++i) {
      random[i] = rng();
      // Only the low 20 bits differ: the digits above are skipped, and must stay in order.
      shared[i] = (std::uint64_t{0xabcdef} << 40) | (rng() & 0xfffff);
    }
    for (auto* keys : {&random, &shared}) {
      auto want = *keys;
      std::sort(want.begin(), want.end());
      std::vector<std::uint64_t> scratch;
      RadixSort(*keys, scratch);
      EXPECT_EQ(*keys, want) << "n = " << n;
    }
  }
}

class ScanColumnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = warehouse::DuckDb::Open(":memory:");
    ASSERT_TRUE(db.ok());
    db_.emplace(std::move(*db));
  }
  std::optional<warehouse::DuckDb> db_;
};

TEST_F(ScanColumnsTest, SortsNumbersAndCountsText) {
  ScanSpec spec;
  spec.from =
      "SELECT * FROM (VALUES (2.5, 9007199254740993::BIGINT, 'b'), (NULL, -3::BIGINT, 'a'), "
      "('nan'::DOUBLE, 9007199254740992::BIGINT, NULL), (-0.0, -3::BIGINT, 'b'), "
      "(0.0, NULL, 'B'), ('-inf'::DOUBLE, 7::BIGINT, 'b'), (-1.0, 7::BIGINT, 'a')) t(x, i, s)";
  spec.numeric = {"x", "i"};
  spec.categorical = {"s"};
  spec.threads = 2;
  auto scan = ScanColumns(*db_, spec);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->rows, 7);
  const auto& x = scan->numeric[0].values;
  ASSERT_EQ(x.size(), 6u);  // one NULL
  EXPECT_EQ(x[0], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(x[1], -1.0);
  EXPECT_EQ(x[2], 0.0);
  EXPECT_EQ(x[3], 0.0);
  EXPECT_EQ(x[4], 2.5);
  EXPECT_TRUE(std::isnan(x[5]));            // NaN last, as DuckDB orders it
  EXPECT_EQ(scan->numeric[0].distinct, 5);  // -0.0 and 0.0 are one value
  const auto& i = scan->numeric[1];
  ASSERT_EQ(i.values.size(), 6u);
  EXPECT_EQ(i.values.front(), -3.0);
  // 2^53 and 2^53 + 1 are distinct integers though the same double.
  EXPECT_EQ(i.distinct, 4);
  const auto& s = scan->categorical[0];
  EXPECT_EQ(s.values, (std::vector<std::string>{"B", "a", "b"}));  // byte order
  EXPECT_EQ(s.counts, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(s.total(), 6);

  const NumericSample sample = ToSample(scan->numeric[0]);
  EXPECT_EQ(sample.values, (std::vector<double>{-1.0, 0.0, 2.5}));  // finite values only
  EXPECT_EQ(sample.counts, (std::vector<std::int64_t>{1, 2, 1}));
}

TEST_F(ScanColumnsTest, EmptyRelationsAndNoColumns) {
  ScanSpec spec;
  spec.from = "SELECT 1.0::DOUBLE AS x, 'a' AS s WHERE false";
  spec.numeric = {"x"};
  spec.categorical = {"s"};
  auto scan = ScanColumns(*db_, spec);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->rows, 0);
  EXPECT_TRUE(scan->numeric[0].values.empty());
  EXPECT_EQ(scan->numeric[0].distinct, 0);
  EXPECT_TRUE(scan->categorical[0].values.empty());

  ScanSpec count_only;
  count_only.from = "SELECT * FROM range(5)";
  auto rows = ScanColumns(*db_, count_only);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows, 5);

  ScanSpec text_only;
  text_only.from = "SELECT CASE WHEN i < 2 THEN NULL ELSE 'v' END AS s FROM range(5) r(i)";
  text_only.categorical = {"s"};
  auto text = ScanColumns(*db_, text_only);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->rows, 5);  // NULLs counted as rows, not as values
  EXPECT_EQ(text->categorical[0].total(), 3);
}

TEST_F(ScanColumnsTest, BadExpressionsAreErrors) {
  ScanSpec spec;
  spec.from = "SELECT 1 AS x";
  spec.numeric = {"'text'"};
  EXPECT_FALSE(ScanColumns(*db_, spec).ok());  // not a number
  spec.numeric = {"no_such_column"};
  EXPECT_FALSE(ScanColumns(*db_, spec).ok());
}

}  // namespace
}  // namespace sluice::quality
