#include "quality/column_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <thread>

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
      std::vector<std::uint64_t> scratch(keys->size());
      RadixSort(keys->data(), scratch.data(), keys->size());
      EXPECT_EQ(*keys, want) << "n = " << n;
    }
  }
}

TEST(ValueBufferTest, GrowKeepsThePrefix) {
  ValueBuffer b;
  b.Reserve(10);
  EXPECT_GE(b.capacity(), 10u);
  for (size_t i = 0; i < 10; ++i)
    b.words()[i] = i * 7;
  const size_t before = b.capacity();
  b.Grow(before + 1, 10);  // past the first block: a new one, the first ten values copied
  EXPECT_GT(b.capacity(), before);
  for (size_t i = 0; i < 10; ++i)
    EXPECT_EQ(b.words()[i], i * 7);
  ValueBuffer moved(std::move(b));
  EXPECT_EQ(moved.words()[9], 63u);
}

class ColumnReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = warehouse::DuckDb::Open(":memory:");
    ASSERT_TRUE(db.ok());
    db_.emplace(std::move(*db));
    auto reader = ColumnReader::Open(*db_);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    reader_.emplace(std::move(*reader));
  }
  std::optional<warehouse::DuckDb> db_;
  std::optional<ColumnReader> reader_;
};

constexpr const char* kRows =
    "SELECT * FROM (VALUES (2.5, 9007199254740993::BIGINT, 'b'), (NULL, -3::BIGINT, 'a'), "
    "('nan'::DOUBLE, 9007199254740992::BIGINT, NULL), (-0.0, -3::BIGINT, 'b'), "
    "(0.0, NULL, 'B'), ('-inf'::DOUBLE, 7::BIGINT, 'b'), (-1.0, 7::BIGINT, 'a')) t(x, i, s)";

TEST_F(ColumnReaderTest, SortsNumbersAndCountsText) {
  auto read = reader_->ReadSorted(kRows, "x", 0);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  SortedNumbers sorted = *read;
  EXPECT_EQ(sorted.rows, 7);
  const auto x = sorted.values;
  ASSERT_EQ(x.size(), 6u);  // one NULL
  EXPECT_EQ(x[0], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(x[1], -1.0);
  EXPECT_EQ(x[2], 0.0);
  EXPECT_EQ(x[3], 0.0);
  EXPECT_EQ(x[4], 2.5);
  EXPECT_TRUE(std::isnan(x[5]));  // NaN last, as DuckDB orders it
  EXPECT_EQ(sorted.distinct, 5);  // -0.0 and 0.0 are one value

  NumericSample sample;
  ToSample(sorted.values, sample);
  EXPECT_EQ(sample.values, (std::vector<double>{-1.0, 0.0, 2.5}));  // finite values only
  EXPECT_EQ(sample.counts, (std::vector<std::int64_t>{1, 2, 1}));

  // The reader's buffer reused for the next column.
  read = reader_->ReadSorted(kRows, "i", 0);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  sorted = *read;
  ASSERT_EQ(sorted.values.size(), 6u);
  EXPECT_EQ(sorted.values.front(), -3.0);
  EXPECT_EQ(sorted.values.back(), 9007199254740992.0);
  // 2^53 and 2^53 + 1 are distinct integers though the same double.
  EXPECT_EQ(sorted.distinct, 4);

  auto s = reader_->CountValues(kRows, "s");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->values, (std::vector<std::string>{"B", "a", "b"}));  // byte order
  EXPECT_EQ(s->counts, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(s->total(), 6);
  EXPECT_EQ(s->rows, 7);  // the NULL counted as a row, not as a value
}

TEST_F(ColumnReaderTest, SummarizesNumbersWithoutSorting) {
  constexpr double kLevels[] = {0, 0.5, 1};
  auto x = reader_->ReadSummary(kRows, "x", 0, kLevels, 4);
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_EQ(x->rows, 7);
  EXPECT_EQ(x->count, 6);            // one NULL; NaN is a value
  EXPECT_EQ(x->distinct, 5);         // -0.0 and 0.0 are one value
  EXPECT_FALSE(x->min.has_value());  // -inf
  EXPECT_FALSE(x->max.has_value());  // NaN sorts last
  EXPECT_TRUE(x->quantiles.empty());
  // Integers: distinct as integers; the buffers reused from the column before.
  auto i = reader_->ReadSummary(kRows, "i", 0, kLevels, 4);
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(i->count, 6);
  EXPECT_EQ(i->distinct, 4);
  EXPECT_EQ(i->min, -3.0);
  EXPECT_EQ(i->quantiles, (std::vector<double>{-3.0, 7.0, 9007199254740992.0}));
  ASSERT_EQ(i->histogram.size(), 4u);
  EXPECT_EQ(i->histogram.front(), 4);  // -3, -3, 7, 7
  EXPECT_EQ(i->histogram.back(), 2);
  // Many rows with a hint of 10: the pages grow while the chunks arrive.
  auto many = reader_->ReadSummary("SELECT (i * 7919) % 300007 AS v FROM range(300000) r(i)",
                                   "CAST(v AS DOUBLE) / 4", 10, kLevels, 4);
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(many->count, 300000);
  EXPECT_EQ(many->distinct, 300000);
  EXPECT_EQ(many->min, 0.0);
  // Empty and bad input.
  auto empty = reader_->ReadSummary("SELECT 1.0::DOUBLE AS x WHERE false", "x", 0, kLevels, 4);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->rows, 0);
  EXPECT_EQ(empty->count, 0);
  EXPECT_FALSE(reader_->ReadSummary("SELECT 1 AS x", "'text'", 0, kLevels, 4).ok());
  EXPECT_FALSE(reader_->ReadSummary("SELECT 1 AS x", "no_such_column", 0, kLevels, 4).ok());
}

TEST_F(ColumnReaderTest, ManyRowsGrowTheBuffersPastTheHint) {
  // 300k rows read with a hint of 10: the keys buffer grows while the chunks arrive.
  auto sorted = reader_->ReadSorted("SELECT (i * 7919) % 300007 AS v FROM range(300000) r(i)",
                                    "CAST(v AS DOUBLE) / 4", 10);
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  ASSERT_EQ(sorted->values.size(), 300000u);
  EXPECT_TRUE(std::is_sorted(sorted->values.begin(), sorted->values.end()));
  EXPECT_EQ(sorted->distinct, 300000);
  EXPECT_EQ(sorted->values.front(), 0.0);
}

TEST_F(ColumnReaderTest, EmptyRelations) {
  const std::string empty = "SELECT 1.0::DOUBLE AS x, 'a' AS s WHERE false";
  auto sorted = reader_->ReadSorted(empty, "x", 0);
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  EXPECT_EQ(sorted->rows, 0);
  EXPECT_TRUE(sorted->values.empty());
  EXPECT_EQ(sorted->distinct, 0);
  auto s = reader_->CountValues(empty, "s");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->values.empty());
  EXPECT_EQ(s->rows, 0);
  auto n = reader_->CountRows("SELECT * FROM range(5)");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5);
}

TEST_F(ColumnReaderTest, BadExpressionsAreErrors) {
  EXPECT_FALSE(reader_->ReadSorted("SELECT 1 AS x", "'text'", 0).ok());  // not a number
  EXPECT_FALSE(reader_->ReadSorted("SELECT 1 AS x", "no_such_column", 0).ok());
  EXPECT_FALSE(reader_->CountValues("SELECT 1 AS x", "x").ok());  // not text
}

TEST_F(ColumnReaderTest, ForEachColumnRunsEveryTaskAndReportsTheFirstError) {
  std::vector<std::int64_t> distinct(6, -1);
  std::vector<int> workers_seen(distinct.size(), -1);
  auto ok = ForEachColumn(
      *db_, distinct.size(), 2, [&](ColumnReader& reader, int worker, size_t t) -> base::Status {
        SLUICE_ASSIGN_OR_RETURN(SortedNumbers s,
                                reader.ReadSorted("SELECT * FROM range(1000) r(i)",
                                                  "i % " + std::to_string(t + 1), 1000));
        distinct[t] = s.distinct;
        workers_seen[t] = worker;
        return base::Status::Ok();
      });
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  for (size_t t = 0; t < distinct.size(); ++t) {
    EXPECT_EQ(distinct[t], static_cast<std::int64_t>(t + 1));
    EXPECT_GE(workers_seen[t], 0);
    EXPECT_LT(workers_seen[t], ScanWorkers(2, distinct.size()));
  }
  // DuckDB's own thread count is restored afterwards.
  auto threads = db_->QueryScalarInt64("SELECT current_setting('threads')::BIGINT");
  ASSERT_TRUE(threads.ok());
  EXPECT_EQ(*threads, static_cast<std::int64_t>(std::max(1U, std::thread::hardware_concurrency())));

  auto failed = ForEachColumn(*db_, 4, 2, [&](ColumnReader& reader, int, size_t t) {
    return reader.ReadSorted("SELECT 1 AS x", t == 2 ? "no_such_column" : "x", 1).status();
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("no_such_column"), std::string::npos) << failed.ToString();
}

}  // namespace
}  // namespace sluice::quality
