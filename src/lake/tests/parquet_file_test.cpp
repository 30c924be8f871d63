#include "lake/parquet_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lake/atomic_file.h"
#include "warehouse/duckdb_database.h"

namespace sluice::lake {
namespace {
namespace fs = std::filesystem;
using types::LogicalType;

types::Schema AllTypes() {
  auto schema = types::Schema::Make({{"b", LogicalType::kBool, true},
                                     {"i", LogicalType::kInt64, true},
                                     {"d", LogicalType::kDouble, true},
                                     {"s", LogicalType::kString, true},
                                     {"ts", LogicalType::kTimestamp, true},
                                     {"day", LogicalType::kDate, true},
                                     {"k", LogicalType::kInt64, false}});
  return std::move(*schema);
}

// Rows of every type: edge values first, then pseudo-random ones; about one in five NULL in
// every nullable column (none in `k`).
types::Batch MakeRows(size_t n, unsigned seed) {
  types::Batch b(AllTypes());
  std::mt19937_64 rng(seed);
  const double doubles[] = {0.0,
                            -0.0,
                            1.5,
                            -1e308,
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::denorm_min()};
  const std::int64_t ints[] = {0, -1, std::numeric_limits<std::int64_t>::min(),
                               std::numeric_limits<std::int64_t>::max(), 42};
  const std::string strings[] = {"", "a", "héllo wörld ✓", std::string(300, 'x'),
                                 std::string("nul\0inside", 10)};
  for (size_t r = 0; r < n; ++r) {
    auto null = [&] { return rng() % 5 == 0; };
    if (null()) {
      b.column(0).AppendNull();
    } else {
      b.column(0).AppendBool(rng() % 2 == 0);
    }
    if (null()) {
      b.column(1).AppendNull();
    } else {
      b.column(1).AppendInt64(r < 5 ? ints[r] : static_cast<std::int64_t>(rng()));
    }
    if (null()) {
      b.column(2).AppendNull();
    } else {
      b.column(2).AppendDouble(r < 8 ? doubles[r]
                                     : std::ldexp(static_cast<double>(rng() % 1000000) - 5e5,
                                                  static_cast<int>(rng() % 40) - 20));
    }
    if (null()) {
      b.column(3).AppendNull();
    } else {
      b.column(3).AppendString(r < 5 ? strings[r]
                                     : "txn-" + std::to_string(rng() % 100000) +
                                           std::string(rng() % 20, 'z'));
    }
    if (null()) {
      b.column(4).AppendNull();
    } else {
      // Before and after 1970, to the microsecond.
      b.column(4).AppendTimestamp(static_cast<std::int64_t>(rng() % 4'000'000'000'000'000ULL) -
                                  1'000'000'000'000'000LL);
    }
    if (null()) {
      b.column(5).AppendNull();
    } else {
      b.column(5).AppendDate(static_cast<std::int32_t>(rng() % 100000) - 30000);
    }
    b.column(6).AppendInt64(static_cast<std::int64_t>(r));
  }
  return b;
}

class ParquetFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_parquet_file_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto db = warehouse::DuckDb::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_.emplace(std::move(*db));
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::string Read(const std::string& file) const {
    return "read_parquet(" + warehouse::QuoteLiteral(file) + ")";
  }
  std::int64_t Count(const std::string& sql) {
    auto n = db_->QueryScalarInt64(sql);
    EXPECT_TRUE(n.ok()) << n.status().ToString() << "\n" << sql;
    return n.ok() ? *n : -1;
  }

  // What DuckDB reads from `file` equals `rows`, value by value and type by type.
  void ExpectReadsBack(const types::Batch& rows, const std::string& file) {
    auto back = db_->Query("SELECT * FROM " + Read(file));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->num_columns(), rows.num_columns());
    ASSERT_EQ(back->num_rows(), rows.num_rows());
    for (size_t c = 0; c < rows.num_columns(); ++c) {
      const types::Column& want = rows.column(c);
      const types::Column& got = back->column(c);
      ASSERT_EQ(back->schema().field(c).name, rows.schema().field(c).name);
      ASSERT_EQ(got.type(), want.type()) << rows.schema().field(c).name;
      for (size_t r = 0; r < rows.num_rows(); ++r) {
        ASSERT_EQ(got.IsValid(r), want.IsValid(r)) << "column " << c << " row " << r;
        if (!want.IsValid(r)) continue;
        if (want.type() == LogicalType::kString) {
          ASSERT_EQ(got.GetString(r), want.GetString(r)) << "row " << r;
        } else if (want.type() == LogicalType::kDouble) {
          // Bit for bit: -0.0 stays -0.0, NaN stays NaN.
          const double a = got.GetDouble(r), b = want.GetDouble(r);
          ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "row " << r << ": " << a << " " << b;
        } else {
          ASSERT_EQ(got.ValueToString(r), want.ValueToString(r)) << "column " << c << " row " << r;
        }
      }
    }
  }

  fs::path dir_;
  std::optional<warehouse::DuckDb> db_;
};

TEST_F(ParquetFileTest, EveryTypeReadsBackInManyRowGroupsAndPages) {
  const types::Batch rows = MakeRows(1000, 7);
  auto size = WriteParquet(rows, Path("small.parquet"), {.row_group_rows = 97, .page_bytes = 64});
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(static_cast<std::uintmax_t>(*size), fs::file_size(Path("small.parquet")));
  ExpectReadsBack(rows, Path("small.parquet"));
  EXPECT_EQ(Count("SELECT count(*) FROM parquet_metadata(" +
                  warehouse::QuoteLiteral(Path("small.parquet")) + ") WHERE column_id = 0"),
            11);  // ceil(1000 / 97) row groups

  auto whole = WriteParquet(rows, Path("whole.parquet"));
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ExpectReadsBack(rows, Path("whole.parquet"));
}

TEST_F(ParquetFileTest, TypesMatchDuckDbsOwnCopy) {
  types::Batch rows = MakeRows(300, 3);
  ASSERT_TRUE(WriteParquet(rows, Path("ours.parquet")).ok());
  ASSERT_TRUE(db_->RegisterBatch("rows", &rows).ok());
  ASSERT_TRUE(db_->Execute("COPY (SELECT * FROM rows()) TO " +
                           warehouse::QuoteLiteral(Path("duckdb.parquet")) + " (FORMAT parquet)")
                  .ok());
  auto describe = [&](const std::string& file) {
    auto d = db_->Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " +
                        Read(file) + ")");
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    std::string out;
    for (size_t r = 0; d.ok() && r < d->num_rows(); ++r)
      out += std::string(d->column(0).GetString(r)) + " " + std::string(d->column(1).GetString(r)) +
             "\n";
    return out;
  };
  EXPECT_EQ(describe(Path("ours.parquet")),
            "b BOOLEAN\ni BIGINT\nd DOUBLE\ns VARCHAR\nts TIMESTAMP\nday DATE\nk BIGINT\n");
  EXPECT_EQ(describe(Path("ours.parquet")), describe(Path("duckdb.parquet")));
  // The same rows, by DuckDB's own comparison (NaN equals NaN there).
  for (const auto& [a, b] :
       {std::pair{"ours.parquet", "duckdb.parquet"}, std::pair{"duckdb.parquet", "ours.parquet"}}) {
    EXPECT_EQ(Count("SELECT count(*) FROM (SELECT * FROM " + Read(Path(a)) +
                    " EXCEPT ALL SELECT * FROM " + Read(Path(b)) + ")"),
              0);
  }
}

TEST_F(ParquetFileTest, StatisticsNeverHideRows) {
  // Row groups of 50 rows, each with its own range; a filter DuckDB prunes by min/max and null
  // counts must still count exactly what the rows hold.
  const types::Batch rows = MakeRows(600, 11);
  ASSERT_TRUE(WriteParquet(rows, Path("s.parquet"), {.row_group_rows = 50}).ok());
  const types::Column& i = rows.column(1);
  const types::Column& ts = rows.column(4);
  const types::Column& day = rows.column(5);
  const std::int64_t i_cut = 0;  // the values are spread over all of int64
  std::int64_t above = 0, late = 0, recent = 0, nulls = 0, k_range = 0;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    if (i.IsValid(r) && i.GetInt64(r) > i_cut) ++above;
    if (ts.IsValid(r) && ts.GetTimestamp(r) >= 0) ++late;
    if (day.IsValid(r) && day.GetDate(r) < 0) ++recent;
    if (!rows.column(3).IsValid(r)) ++nulls;
    if (r >= 120 && r < 130) ++k_range;
  }
  const std::string from = " FROM " + Read(Path("s.parquet"));
  EXPECT_EQ(Count("SELECT count(*)" + from + " WHERE i > " + std::to_string(i_cut)), above);
  EXPECT_EQ(Count("SELECT count(*)" + from + " WHERE ts >= TIMESTAMP '1970-01-01'"), late);
  EXPECT_EQ(Count("SELECT count(*)" + from + " WHERE day < DATE '1970-01-01'"), recent);
  EXPECT_EQ(Count("SELECT count(*)" + from + " WHERE s IS NULL"), nulls);
  EXPECT_EQ(Count("SELECT count(*)" + from + " WHERE k BETWEEN 120 AND 129"), k_range);
  EXPECT_EQ(
      Count("SELECT count(*) FROM parquet_metadata(" + warehouse::QuoteLiteral(Path("s.parquet")) +
            ") WHERE path_in_schema = 'k' AND stats_min_value = (row_group_id * 50)::VARCHAR AND "
            "stats_max_value = (row_group_id * 50 + 49)::VARCHAR"),
      12);
}

TEST_F(ParquetFileTest, AllNullAndNeverNullColumnsReadBack) {
  // A stream's quarantine file: `line` and `record` are NULL in every row.
  types::Batch rows(AllTypes());
  for (size_t r = 0; r < 300; ++r) {
    for (size_t c = 0; c + 1 < rows.num_columns(); ++c)
      rows.column(c).AppendNull();
    rows.column(6).AppendInt64(static_cast<std::int64_t>(r) - 150);
  }
  ASSERT_TRUE(WriteParquet(rows, Path("nulls.parquet"), {.row_group_rows = 128}).ok());
  ExpectReadsBack(rows, Path("nulls.parquet"));
  const std::string from = " FROM " + Read(Path("nulls.parquet"));
  EXPECT_EQ(Count("SELECT count(*)" + from + " WHERE i IS NULL AND ts IS NULL AND day IS NULL"),
            300);
  EXPECT_EQ(Count("SELECT count(*)" + from + " WHERE i > 0 OR day < DATE '2000-01-01'"), 0);
  EXPECT_EQ(Count("SELECT count(*)" + from + " WHERE k < 0"), 150);
}

TEST_F(ParquetFileTest, EmptyBatchKeepsItsColumns) {
  const types::Batch rows(AllTypes());
  ASSERT_TRUE(WriteParquet(rows, Path("empty.parquet")).ok());
  ExpectReadsBack(rows, Path("empty.parquet"));
}

TEST_F(ParquetFileTest, SameRowsSameBytes) {
  const types::Batch rows = MakeRows(500, 5);
  ASSERT_TRUE(WriteParquet(rows, Path("a.parquet")).ok());
  ASSERT_TRUE(WriteParquet(rows, Path("b.parquet")).ok());
  auto a = ReadFile(Path("a.parquet"));
  auto b = ReadFile(Path("b.parquet"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

// Non-null rows of a Batch seen through ParquetRows, the string columns named in `dictionary`
// dictionary-encoded (values in order of first use).
class BatchRows : public ParquetRows {
 public:
  BatchRows(const types::Batch& rows, std::vector<size_t> dictionary)
      : rows_(rows), dicts_(rows.num_columns()), indices_(rows.num_columns()) {
    for (size_t c : dictionary) {
      std::unordered_map<std::string_view, std::uint32_t> seen;
      for (size_t r = 0; r < rows.num_rows(); ++r) {
        const std::string_view v = rows.column(c).GetString(r);
        auto [it, added] = seen.try_emplace(v, static_cast<std::uint32_t>(dicts_[c].size()));
        if (added) dicts_[c].push_back(v);
        indices_[c].push_back(it->second);
      }
    }
  }
  const types::Schema& schema() const override { return rows_.schema(); }
  size_t num_rows() const override { return rows_.num_rows(); }
  std::span<const std::string_view> Dictionary(size_t column) const override {
    return dicts_[column];
  }
  size_t AppendPlain(size_t column, size_t begin, size_t end, size_t max_bytes,
                     std::string& out) const override {
    const types::Column& col = rows_.column(column);
    const size_t start = out.size();
    size_t r = begin;
    for (; r < end && (r == begin || out.size() - start < max_bytes); ++r) {
      if (col.type() == LogicalType::kString) {
        const std::string_view v = col.GetString(r);
        const auto n = static_cast<std::uint32_t>(v.size());
        out.append(reinterpret_cast<const char*>(&n), 4);
        out.append(v);
      } else {
        const std::int64_t v = col.GetInt64(r);
        out.append(reinterpret_cast<const char*>(&v), 8);
      }
    }
    return r;
  }
  void Indices(size_t column, size_t begin, size_t end, std::uint32_t* out) const override {
    for (size_t r = begin; r < end; ++r)
      out[r - begin] = indices_[column][r] + bad_index_;
  }
  std::uint32_t bad_index_ = 0;  // added to every index: out of range when > 0

 private:
  const types::Batch& rows_;
  std::vector<std::vector<std::string_view>> dicts_;
  std::vector<std::vector<std::uint32_t>> indices_;
};

types::Batch LogLikeRows(size_t n) {
  auto schema = types::Schema::Make({{"at", LogicalType::kTimestamp, false},
                                     {"n", LogicalType::kInt64, false},
                                     {"view", LogicalType::kString, false},
                                     {"one", LogicalType::kString, false},
                                     {"text", LogicalType::kString, false}});
  types::Batch b(std::move(*schema));
  std::mt19937_64 rng(9);
  const std::string views[] = {"acct", "merchant", "", "héllo ✓", std::string(70, 'v')};
  for (size_t r = 0; r < n; ++r) {
    b.column(0).AppendTimestamp(static_cast<std::int64_t>(rng() % 1'000'000'000'000LL) - 5);
    b.column(1).AppendInt64(r % 7 == 0 ? std::numeric_limits<std::int64_t>::min() + 1
                                       : static_cast<std::int64_t>(rng()));
    // Runs of one value, then values changing every row.
    b.column(2).AppendString(views[r < n / 2 ? (r / 40) % 5 : rng() % 5]);
    b.column(3).AppendString("the only value");
    b.column(4).AppendString(r % 11 == 0 ? std::string()
                                         : "{\"k\":" + std::to_string(rng()) +
                                               std::string(rng() % 300, 'x') + "}");
  }
  return b;
}

TEST_F(ParquetFileTest, CallerRowsWithDictionariesReadBackWithEitherCodec) {
  const types::Batch rows = LogLikeRows(2000);
  const BatchRows source(rows, {2, 3});
  for (ParquetCodec codec : {ParquetCodec::kLz4Raw, ParquetCodec::kZstd}) {
    const std::string name = codec == ParquetCodec::kZstd ? "zstd.parquet" : "lz4.parquet";
    int pages = 0;
    auto size = WriteParquet(
        source, Path(name),
        {.row_group_rows = 333, .page_bytes = 256, .codec = codec, .after_page = [&pages] {
           ++pages;
         }});
    ASSERT_TRUE(size.ok()) << size.status().ToString();
    EXPECT_EQ(static_cast<std::uintmax_t>(*size), fs::file_size(Path(name)));
    ExpectReadsBack(rows, Path(name));
    const std::string meta = "parquet_metadata(" + warehouse::QuoteLiteral(Path(name)) + ") WHERE ";
    EXPECT_EQ(Count("SELECT count(DISTINCT row_group_id) FROM " + meta + "true"), 7);
    EXPECT_EQ(Count("SELECT count(*) FROM " + meta + "compression <> '" +
                    (codec == ParquetCodec::kZstd ? "ZSTD" : "LZ4_RAW") + "'"),
              0);
    // Dictionary columns say so and carry a dictionary page; the others are PLAIN only.
    EXPECT_EQ(Count("SELECT count(*) FROM " + meta +
                    "path_in_schema IN ('view', 'one') AND encodings LIKE '%RLE_DICTIONARY%' "
                    "AND dictionary_page_offset IS NOT NULL AND dictionary_page_offset < "
                    "data_page_offset"),
              14);
    EXPECT_EQ(Count("SELECT count(*) FROM " + meta + "encodings LIKE '%DICTIONARY%'"), 14);
    // Min/max of the integer columns per row group, so filters prune nothing they should keep.
    std::int64_t big = 0;
    for (size_t r = 0; r < rows.num_rows(); ++r)
      big += rows.column(1).GetInt64(r) > (std::int64_t{1} << 62) ? 1 : 0;
    EXPECT_EQ(Count("SELECT count(*) FROM " + Read(Path(name)) + " WHERE n > " +
                    std::to_string(std::int64_t{1} << 62)),
              big);
    EXPECT_GT(pages, 7 * 5);  // at least a page per column chunk, and small pages
  }
  // The same rows written PLAIN from a Batch read back the same.
  ASSERT_TRUE(WriteParquet(rows, Path("batch.parquet")).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT * FROM " + Read(Path("lz4.parquet")) +
                  " EXCEPT ALL SELECT * FROM " + Read(Path("batch.parquet")) + ")"),
            0);
}

TEST_F(ParquetFileTest, CallerRowsThatBreakTheContractAreErrors) {
  const types::Batch rows = LogLikeRows(50);
  BatchRows bad_index(rows, {2});
  bad_index.bad_index_ = 100;
  auto out_of_range = WriteParquet(bad_index, Path("bad.parquet"));
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.status().message().find("column 'view'"), std::string::npos)
      << out_of_range.status().ToString();
  // A dictionary on an integer column.
  struct IntDictionary : BatchRows {
    using BatchRows::BatchRows;
    std::span<const std::string_view> Dictionary(size_t column) const override {
      static const std::string_view one[] = {"1"};
      return column == 1 ? std::span<const std::string_view>(one) : BatchRows::Dictionary(column);
    }
  } dictionary_on_int(rows, {});
  auto not_string = WriteParquet(dictionary_on_int, Path("int.parquet"));
  ASSERT_FALSE(not_string.ok());
  EXPECT_NE(not_string.status().message().find("column 'n'"), std::string::npos)
      << not_string.status().ToString();
}

TEST_F(ParquetFileTest, UnwritablePathIsAnErrorNamingIt) {
  const types::Batch rows = MakeRows(10, 1);
  const std::string path = Path("no/such/folder/x.parquet");
  auto size = WriteParquet(rows, path);
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find(path), std::string::npos) << size.status().ToString();
}

}  // namespace
}  // namespace sluice::lake
