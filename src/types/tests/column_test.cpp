#include "types/column.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace sluice::types {
namespace {

TEST(ColumnTest, FixedWidthValuesAndNulls) {
  Column c(LogicalType::kInt64);
  for (int i = 0; i < 130; ++i) {
    if (i % 7 == 0) {
      c.AppendNull();
    } else {
      c.AppendInt64(i * 1000);
    }
  }
  ASSERT_EQ(c.size(), 130U);
  for (size_t i = 0; i < 130; ++i) {
    EXPECT_EQ(c.IsValid(i), i % 7 != 0) << i;
    EXPECT_EQ(c.GetInt64(i), i % 7 == 0 ? 0 : static_cast<std::int64_t>(i) * 1000) << i;
  }
  EXPECT_EQ(c.ValueToString(0), "NULL");
  EXPECT_EQ(c.ValueToString(1), "1000");
}

// Row by row in reverse order, every type: each row's value and NULL-ness arrive as written.
TEST(ColumnTest, AppendRowOfCopiesOneValueOrNullOfEveryType) {
  std::vector<Column> sources;
  for (LogicalType t : {LogicalType::kBool, LogicalType::kInt64, LogicalType::kDouble,
                        LogicalType::kString, LogicalType::kTimestamp, LogicalType::kDate}) {
    Column c(t);
    for (int i = 0; i < 5; ++i) {
      if (i == 2) {
        c.AppendNull();
        continue;
      }
      switch (t) {
        case LogicalType::kBool:
          c.AppendBool(i % 2 == 1);
          break;
        case LogicalType::kInt64:
          c.AppendInt64(-7 * i);
          break;
        case LogicalType::kDouble:
          c.AppendDouble(0.1 * i);
          break;
        case LogicalType::kString:
          c.AppendString(std::string(i, 'x') + "y");
          break;
        case LogicalType::kTimestamp:
          c.AppendTimestamp(1'700'000'000'000'000 + i);
          break;
        case LogicalType::kDate:
          c.AppendDate(19000 + i);
          break;
      }
    }
    sources.push_back(std::move(c));
  }
  for (const Column& src : sources) {
    Column dst(src.type());
    for (size_t r = src.size(); r-- > 0;)
      dst.AppendRowOf(src, r);
    ASSERT_EQ(dst.size(), src.size());
    for (size_t r = 0; r < src.size(); ++r) {
      const size_t from = src.size() - 1 - r;
      EXPECT_EQ(dst.IsValid(r), src.IsValid(from)) << r;
      EXPECT_EQ(dst.ValueToString(r), src.ValueToString(from)) << r;
    }
  }
}

TEST(ColumnTest, DataIsContiguousLikeADuckDbVector) {
  Column c(LogicalType::kDouble);
  c.AppendDouble(1.5);
  c.AppendDouble(-2.25);
  double raw[2];
  std::memcpy(raw, c.data(), sizeof(raw));
  EXPECT_EQ(raw[0], 1.5);
  EXPECT_EQ(raw[1], -2.25);
  EXPECT_EQ(c.validity()[0] & 0b11U, 0b11U);
}

TEST(ColumnTest, StringsWithEmptyAndNull) {
  Column c(LogicalType::kString);
  c.AppendString("alpha");
  c.AppendString("");
  c.AppendNull();
  c.AppendString(std::string(1000, 'z'));
  ASSERT_EQ(c.size(), 4U);
  EXPECT_EQ(c.GetString(0), "alpha");
  EXPECT_EQ(c.GetString(1), "");
  EXPECT_TRUE(c.IsValid(1));
  EXPECT_FALSE(c.IsValid(2));
  EXPECT_EQ(c.GetString(2), "");
  EXPECT_EQ(c.GetString(3).size(), 1000U);
  EXPECT_EQ(c.string_offsets().size(), 5U);
}

TEST(ColumnTest, AppendFixedRawHonoursMask) {
  Column c(LogicalType::kDate);
  c.AppendDate(1);
  const std::int32_t days[3] = {10, 20, 30};
  const std::uint64_t mask[1] = {0b101};
  c.AppendFixedRaw(days, mask, 3);
  ASSERT_EQ(c.size(), 4U);
  EXPECT_EQ(c.GetDate(1), 10);
  EXPECT_FALSE(c.IsValid(2));
  EXPECT_EQ(c.GetDate(3), 30);
  EXPECT_EQ(c.ValueToString(3), "1970-01-31");
}

// Masks are appended a word at a time at any bit offset; bits past `n` in the source mask
// (DuckDB leaves them set) must not leak into later rows.
TEST(ColumnTest, AppendFixedRawMasksAtEveryOffsetMatchRowByRow) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    Column c(LogicalType::kInt64);
    std::vector<bool> expected;
    for (int piece = 0; piece < 6; ++piece) {
      const size_t n = rng() % 150;
      std::vector<std::uint64_t> mask((n + 63) / 64 + 1);
      for (auto& w : mask)
        w = rng();
      std::vector<std::int64_t> values(n + 1, 5);
      if (rng() % 4 == 0) {
        c.AppendFixedRaw(values.data(), nullptr, n);
        expected.insert(expected.end(), n, true);
      } else {
        c.AppendFixedRaw(values.data(), mask.data(), n);
        for (size_t i = 0; i < n; ++i)
          expected.push_back((mask[i / 64] >> (i % 64)) & 1U);
      }
      if (rng() % 3 == 0) {
        c.AppendNull();
        expected.push_back(false);
      }
    }
    ASSERT_EQ(c.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i)
      ASSERT_EQ(c.IsValid(i), expected[i]) << "trial " << trial << " row " << i;
    const bool all = std::all_of(expected.begin(), expected.end(), [](bool v) { return v; });
    EXPECT_EQ(c.AllValid(), all);
  }
}

TEST(ColumnTest, AppendFixedSlotsAreWrittenInPlace) {
  Column c(LogicalType::kDouble);
  c.AppendDouble(1.5);
  const std::uint64_t mask[1] = {0b011};
  std::uint8_t* slots = c.AppendFixedSlots(mask, 3);
  const double values[2] = {2.5, 3.5};
  std::memcpy(slots, values, sizeof(values));
  ASSERT_EQ(c.size(), 4U);
  EXPECT_EQ(c.GetDouble(1), 2.5);
  EXPECT_EQ(c.GetDouble(2), 3.5);
  EXPECT_FALSE(c.IsValid(3));
  EXPECT_EQ(c.GetDouble(3), 0.0);  // NULL slots start zeroed
  EXPECT_FALSE(c.AllValid());
  Column all(LogicalType::kInt64);
  EXPECT_TRUE(all.AllValid());
  all.AppendFixedSlots(nullptr, 130);
  EXPECT_TRUE(all.AllValid());
}

// Joining pieces must give the column built row by row in one go: values, NULLs at every bit
// offset, strings (empty, NULL, long), and empty pieces.
TEST(ColumnTest, AppendColumnEqualsAppendingRowByRow) {
  std::mt19937_64 rng(11);
  for (LogicalType type : {LogicalType::kInt64, LogicalType::kDouble, LogicalType::kString}) {
    for (int trial = 0; trial < 50; ++trial) {
      Column joined(type), whole(type);
      for (int piece = 0; piece < 5; ++piece) {
        Column part(type);
        const size_t n = rng() % 200;
        for (size_t i = 0; i < n; ++i) {
          const auto v = static_cast<std::int64_t>(rng() % 1000);
          for (Column* c : {&part, &whole}) {
            if (v % 5 == 0) {
              c->AppendNull();
            } else if (type == LogicalType::kString) {
              c->AppendString(std::string(static_cast<size_t>(v % 17), 'a' + v % 26));
            } else if (type == LogicalType::kDouble) {
              c->AppendDouble(static_cast<double>(v) / 8);
            } else {
              c->AppendInt64(v);
            }
          }
        }
        joined.AppendColumn(part);
      }
      ASSERT_EQ(joined.size(), whole.size());
      for (size_t r = 0; r < whole.size(); ++r) {
        ASSERT_EQ(joined.IsValid(r), whole.IsValid(r)) << "row " << r;
        ASSERT_EQ(joined.ValueToString(r), whole.ValueToString(r)) << "row " << r;
      }
      if (type != LogicalType::kString) {
        const size_t bytes = whole.size() * FixedWidth(type);
        ASSERT_TRUE(bytes == 0 || std::memcmp(joined.data(), whole.data(), bytes) == 0);
      }
      EXPECT_EQ(joined.AllValid(), whole.AllValid());
    }
  }
}

TEST(ColumnTest, AppendingNothingFromNullIsFine) {
  Column c(LogicalType::kInt64);
  c.AppendFixedRaw(nullptr, nullptr, 0);
  EXPECT_EQ(c.size(), 0U);
}

TEST(ColumnTest, RendersTimestampsAndBools) {
  Column ts(LogicalType::kTimestamp);
  ts.AppendTimestamp(1'500'000);
  EXPECT_EQ(ts.ValueToString(0), "1970-01-01T00:00:01.500000Z");
  Column b(LogicalType::kBool);
  b.AppendBool(true);
  b.AppendBool(false);
  EXPECT_EQ(b.ValueToString(0), "true");
  EXPECT_EQ(b.ValueToString(1), "false");
}

}  // namespace
}  // namespace sluice::types
