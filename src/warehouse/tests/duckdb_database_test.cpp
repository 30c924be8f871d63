#include "warehouse/duckdb_database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/time.h"

namespace sluice::warehouse {
namespace {

using base::StatusCode;
using types::Batch;
using types::LogicalType;
using types::Schema;

DuckDb OpenMemory() {
  DuckDb::Options options;
  options.threads = 1;
  auto db = DuckDb::Open(":memory:", options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(*db);
}

// A directory unique to this process and test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("sluice_warehouse_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

Schema AllTypes() {
  return *Schema::Make({{"b", LogicalType::kBool},
                        {"i", LogicalType::kInt64},
                        {"d", LogicalType::kDouble},
                        {"s", LogicalType::kString},
                        {"ts", LogicalType::kTimestamp},
                        {"day", LogicalType::kDate}});
}

// Row r has a null in column (r % 7) when that index is < 6, so every column has nulls and
// every row pattern differs; strings alternate between inlined (<= 12 bytes) and heap forms.
Batch MakeAllTypesBatch(size_t rows) {
  Batch batch(AllTypes());
  for (size_t r = 0; r < rows; ++r) {
    const size_t null_col = r % 7;
    const auto ri = static_cast<std::int64_t>(r);
    auto put = [&](size_t c, auto append) {
      if (c == null_col) {
        batch.column(c).AppendNull();
      } else {
        append(batch.column(c));
      }
    };
    put(0, [&](types::Column& c) { c.AppendBool(r % 3 == 0); });
    put(1, [&](types::Column& c) { c.AppendInt64(ri * 1000003 - 5000000000LL); });
    put(2, [&](types::Column& c) { c.AppendDouble(static_cast<double>(ri) / 8.0 - 3.25); });
    put(3, [&](types::Column& c) {
      c.AppendString(r % 2 == 0 ? "k" + std::to_string(r)
                                : "a longer string that is not inlined #" + std::to_string(r));
    });
    put(4, [&](types::Column& c) { c.AppendTimestamp(1704067200000000LL + ri * 1000001); });
    put(5, [&](types::Column& c) { c.AppendDate(static_cast<std::int32_t>(19723 + ri)); });
  }
  return batch;
}

void ExpectSameBatches(const Batch& expected, const Batch& actual) {
  ASSERT_EQ(expected.num_columns(), actual.num_columns());
  ASSERT_EQ(expected.num_rows(), actual.num_rows());
  for (size_t c = 0; c < expected.num_columns(); ++c) {
    EXPECT_EQ(expected.schema().field(c).name, actual.schema().field(c).name);
    ASSERT_EQ(expected.column(c).type(), actual.column(c).type()) << "column " << c;
    for (size_t r = 0; r < expected.num_rows(); ++r) {
      ASSERT_EQ(expected.column(c).ValueToString(r), actual.column(c).ValueToString(r))
          << "column " << expected.schema().field(c).name << " row " << r;
    }
  }
}

TEST(DuckDbTest, SwapThreadsReturnsTheSettingItReplaces) {
  DuckDb::Options options;
  options.threads = 3;
  auto db = DuckDb::Open(":memory:", options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto previous = db->SwapThreads(1);
  ASSERT_TRUE(previous.ok()) << previous.status().ToString();
  EXPECT_EQ(*previous, 3);
  EXPECT_EQ(*db->QueryScalarInt64("SELECT current_setting('threads')::BIGINT"), 1);
  ASSERT_TRUE(db->SwapThreads(*previous).ok());
  EXPECT_EQ(*db->QueryScalarInt64("SELECT current_setting('threads')::BIGINT"), 3);
}

TEST(DuckDbTest, AppendThenQueryRoundTripsEveryTypeWithNulls) {
  DuckDb db = OpenMemory();
  // More than one chunk, and a partial last chunk, so chunk offsets and validity words matter.
  const Batch batch = MakeAllTypesBatch(4100);
  ASSERT_TRUE(db.CreateTable("t", AllTypes()).ok());
  ASSERT_TRUE(db.Append("t", batch).ok());
  auto back = db.Query("SELECT * FROM t");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameBatches(batch, *back);
  EXPECT_TRUE(back->Validate().ok());
  // Null slots are zeroed, as Column promises.
  EXPECT_FALSE(back->column(1).IsValid(1));
  EXPECT_EQ(back->column(1).GetInt64(1), 0);
}

TEST(DuckDbTest, AppendedValuesAreTheSqlValues) {
  DuckDb db = OpenMemory();
  ASSERT_TRUE(db.CreateTable("t", AllTypes()).ok());
  ASSERT_TRUE(db.Append("t", MakeAllTypesBatch(8)).ok());
  auto row = db.QueryScalarString(
      "SELECT concat_ws('|', b, i, d, s, strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'), day) "
      "FROM t WHERE i = 2000006 - 5000000000");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  // Row 2 has no nulls (null column index 2 is d): b=false, d null.
  EXPECT_EQ(*row, "false|-4997999994|k2|2024-01-01T00:00:02.000002|2024-01-03");
}

TEST(DuckDbTest, AppendMatchesColumnsByNameAndCastsToTableTypes) {
  DuckDb db = OpenMemory();
  ASSERT_TRUE(
      db.Execute("CREATE TABLE t (name VARCHAR, n INTEGER, extra VARCHAR DEFAULT 'x')").ok());
  Batch batch(*Schema::Make({{"n", LogicalType::kInt64}, {"name", LogicalType::kString}}));
  batch.column(0).AppendInt64(7);
  batch.column(1).AppendString("seven");
  ASSERT_TRUE(db.Append("t", batch).ok());
  auto row = db.QueryScalarString("SELECT name || n || extra FROM t");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(*row, "seven7x");

  // A value that does not fit the table's type fails and appends nothing.
  Batch big(*Schema::Make({{"n", LogicalType::kInt64}}));
  for (int i = 0; i < 5000; ++i)
    big.column(0).AppendInt64(i);
  big.column(0).AppendInt64(1LL << 40);
  base::Status s = db.Append("t", big);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("'t'"), std::string::npos) << s.ToString();
  auto count = db.QueryScalarInt64("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
}

TEST(DuckDbTest, AppendToMissingTableOrColumnFailsNamingIt) {
  DuckDb db = OpenMemory();
  Batch batch(*Schema::Make({{"x", LogicalType::kInt64}}));
  batch.column(0).AppendInt64(1);
  base::Status s = db.Append("nope", batch);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("nope"), std::string::npos) << s.ToString();

  ASSERT_TRUE(db.Execute("CREATE TABLE t (y BIGINT)").ok());
  s = db.Append("t", batch);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("x"), std::string::npos) << s.ToString();
}

TEST(DuckDbTest, AppendInsideCallersTransactionRespectsRollback) {
  DuckDb db = OpenMemory();
  ASSERT_TRUE(db.Execute("CREATE TABLE t (x BIGINT)").ok());
  Batch batch(*Schema::Make({{"x", LogicalType::kInt64}}));
  batch.column(0).AppendInt64(1);
  ASSERT_TRUE(db.Execute("BEGIN TRANSACTION").ok());
  base::Status s = db.Append("t", batch);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db.Execute("ROLLBACK").ok());
  EXPECT_EQ(*db.QueryScalarInt64("SELECT count(*) FROM t"), 0);
}

TEST(DuckDbTest, QueryDrainsMultiChunkResults) {
  DuckDb db = OpenMemory();
  auto batch = db.Query("SELECT range AS n, range::VARCHAR AS s FROM range(5000)");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->num_rows(), 5000U);
  for (size_t r = 0; r < 5000; ++r) {
    ASSERT_EQ(batch->column(0).GetInt64(r), static_cast<std::int64_t>(r));
    ASSERT_EQ(batch->column(1).GetString(r), std::to_string(r));
  }
}

// The streaming path must give exactly what Query gives: values, NULLs at every bit offset of
// the validity words, row order, whatever the reservation.
TEST(DuckDbTest, QueryStreamingEqualsQuery) {
  DuckDb db = OpenMemory();
  const std::string sql =
      "SELECT CASE WHEN range % 7 = 3 THEN NULL ELSE range END AS n, "
      "CASE WHEN range % 5 = 0 THEN NULL ELSE range * 0.5 END AS d, "
      "CASE WHEN range % 11 = 0 THEN NULL ELSE range::VARCHAR END AS s, "
      "(range % 3)::INTEGER AS narrow FROM range(10007)";
  auto want = db.Query(sql);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  for (size_t reserve : {size_t{0}, size_t{100}, size_t{20000}}) {
    auto got = db.QueryStreaming(sql, reserve);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->num_rows(), want->num_rows());
    ASSERT_EQ(got->schema().ToString(), want->schema().ToString());
    for (size_t c = 0; c < want->num_columns(); ++c) {
      for (size_t r = 0; r < want->num_rows(); ++r) {
        ASSERT_EQ(got->column(c).ValueToString(r), want->column(c).ValueToString(r))
            << "column " << c << " row " << r;
      }
    }
  }
}

TEST(DuckDbTest, QueryStreamingReportsErrorsLikeQuery) {
  DuckDb db = OpenMemory();
  auto bad = db.QueryStreaming("SELEC 1", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto missing = db.QueryStreaming("SELECT * FROM read_csv('/nonexistent/sluice/x.csv')", 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  // An error in a later chunk, while the rows stream.
  auto late = db.QueryStreaming(
      "SELECT CASE WHEN range < 4000 THEN '1' ELSE 'x' END::INTEGER FROM range(5000)", 5000);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.status().message().find("'x'"), std::string::npos) << late.status().message();
}

// Chunk by chunk, the rows are Query's rows; the batch handed over is emptied between chunks.
TEST(DuckDbTest, QueryChunksHandsOverQuerysRowsChunkByChunk) {
  DuckDb db = OpenMemory();
  const std::string sql =
      "SELECT CASE WHEN range % 7 = 3 THEN NULL ELSE range END AS n, "
      "CASE WHEN range % 11 = 0 THEN NULL ELSE range::VARCHAR END AS s FROM range(10007)";
  auto want = db.Query(sql);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  size_t row = 0, chunks = 0;
  const auto s = db.QueryChunks(sql, [&](const types::Batch& b) {
    ++chunks;
    EXPECT_GT(b.num_rows(), 0u);
    EXPECT_LE(b.num_rows(), 4096u);  // a chunk, not the result
    EXPECT_EQ(b.schema().ToString(), want->schema().ToString());
    for (size_t r = 0; r < b.num_rows(); ++r, ++row) {
      for (size_t c = 0; c < b.num_columns(); ++c) {
        if (b.column(c).ValueToString(r) != want->column(c).ValueToString(row)) {
          return base::Internal("row " + std::to_string(row) + " differs");
        }
      }
    }
    return base::Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(row, want->num_rows());
  EXPECT_GT(chunks, 2u);

  // The visitor's error stops the query and comes back as is.
  size_t calls = 0;
  const auto stopped = db.QueryChunks(sql, [&](const types::Batch&) {
    return ++calls == 2 ? base::FailedPrecondition("enough") : base::Status::Ok();
  });
  EXPECT_EQ(stopped.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(calls, 2u);

  // DuckDB's errors keep their kind, before the first row or while the rows stream.
  auto visit = [](const types::Batch&) { return base::Status::Ok(); };
  EXPECT_EQ(db.QueryChunks("SELEC 1", visit).code(), StatusCode::kInvalidArgument);
  const auto late = db.QueryChunks(
      "SELECT CASE WHEN range < 4000 THEN '1' ELSE 'x' END::INTEGER FROM range(5000)", visit);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.message().find("'x'"), std::string::npos) << late.message();
}

// Every value of a numeric query, in order, NULLs as cleared validity bits: in place through a
// streamed result (QueryNumberChunks), or inside DuckDB's pipeline (FoldNumbers on one thread),
// or streamed again (FoldNumbers on several threads, or a type that needs converting).
TEST(DuckDbTest, NumberChunksHandOverEveryValueInOrder) {
  struct Read {
    std::vector<std::string> values;  // ValueToString of each row, "NULL" for NULL
    LogicalType type = LogicalType::kString;
    size_t chunks = 0;
  };
  auto take = [](Read& into) {
    return [&into](const DuckDb::NumberChunk& chunk) {
      ++into.chunks;
      into.type = chunk.type;
      EXPECT_LE(chunk.rows, 4096u);
      for (size_t r = 0; r < chunk.rows; ++r) {
        if (chunk.validity != nullptr && ((chunk.validity[r / 64] >> (r % 64)) & 1U) == 0) {
          into.values.push_back("NULL");
          continue;
        }
        types::Column one(chunk.type);
        if (chunk.type == LogicalType::kInt64) {
          std::int64_t v;
          std::memcpy(&v, static_cast<const char*>(chunk.values) + r * 8, 8);
          one.AppendInt64(v);
        } else {
          double v;
          std::memcpy(&v, static_cast<const char*>(chunk.values) + r * 8, 8);
          one.AppendDouble(v);
        }
        into.values.push_back(one.ValueToString(0));
      }
    };
  };
  DuckDb::Options several;
  several.threads = 2;
  auto parallel = DuckDb::Open(":memory:", several);
  ASSERT_TRUE(parallel.ok()) << parallel.status().ToString();
  DuckDb one_thread = OpenMemory();
  auto other_connection = one_thread.Connect();
  ASSERT_TRUE(other_connection.ok());
  const struct {
    std::string sql;
    LogicalType type;
  } cases[] = {
      {"SELECT CASE WHEN range % 7 = 3 THEN NULL ELSE range * 1000003 - 5000000000 END "
       "FROM range(10007)",
       LogicalType::kInt64},
      {"SELECT CASE WHEN range % 5 = 1 THEN NULL ELSE range / 8.0 - 300 END::DOUBLE "
       "FROM range(9001)",
       LogicalType::kDouble},
      {"SELECT range::DOUBLE FROM range(5000)", LogicalType::kDouble},
      {"SELECT (range % 1000)::INTEGER FROM range(5000)", LogicalType::kInt64},  // converted
      {"SELECT 1.5::DOUBLE WHERE false", LogicalType::kDouble},
  };
  for (const auto& c : cases) {
    auto want = one_thread.Query(c.sql);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    std::vector<std::string> expected;
    for (size_t r = 0; r < want->num_rows(); ++r)
      expected.push_back(want->column(0).ValueToString(r));
    for (DuckDb* db : {&one_thread, &*other_connection, &*parallel}) {
      Read folded, streamed;
      const auto f = db->FoldNumbers(c.sql, take(folded));
      ASSERT_TRUE(f.ok()) << c.sql << ": " << f.ToString();
      EXPECT_EQ(folded.values, expected) << c.sql;
      const auto q = db->QueryNumberChunks(c.sql, [&](const DuckDb::NumberChunk& chunk) {
        take(streamed)(chunk);
        return base::Status::Ok();
      });
      ASSERT_TRUE(q.ok()) << c.sql << ": " << q.ToString();
      EXPECT_EQ(streamed.values, expected) << c.sql;
      if (!expected.empty()) {
        EXPECT_EQ(folded.type, c.type) << c.sql;
        EXPECT_EQ(streamed.type, c.type) << c.sql;
        EXPECT_GT(folded.chunks, 1u) << c.sql;
      }
    }
  }
  // Not numbers, and DuckDB's errors with their kind.
  auto ignore = [](const DuckDb::NumberChunk&) {};
  EXPECT_FALSE(one_thread.FoldNumbers("SELECT 'a' AS s", ignore).ok());
  EXPECT_FALSE(one_thread.FoldNumbers("SELECT 1.0::DOUBLE AS a, 2 AS b", ignore).ok());
  EXPECT_EQ(one_thread.FoldNumbers("SELEC 1", ignore).code(), StatusCode::kInvalidArgument);
  const auto late = one_thread.FoldNumbers(
      "SELECT CASE WHEN range < 4000 THEN '1' ELSE 'x' END::DOUBLE FROM range(5000)", ignore);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.message().find("'x'"), std::string::npos) << late.message();
}

TEST(DuckDbTest, RegisteredBatchReadsBackInOrderAndLinesUpPositionally) {
  DuckDb db = OpenMemory();
  const Batch batch = MakeAllTypesBatch(5000);
  ASSERT_TRUE(db.RegisterBatch("sluice_rows", &batch).ok());
  auto back = db.Query("SELECT * FROM sluice_rows()");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameBatches(batch, *back);
  // Read twice: every statement starts at the first row.
  auto joined = db.Query(
      "SELECT r.range AS pos, b.i FROM range(5000) r POSITIONAL JOIN sluice_rows() b "
      "WHERE b.i IS DISTINCT FROM CASE WHEN r.range % 7 = 1 THEN NULL "
      "ELSE r.range * 1000003 - 5000000000 END");
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_EQ(joined->num_rows(), 0U);
  const Batch empty(AllTypes());
  ASSERT_TRUE(db.RegisterBatch("sluice_empty", &empty).ok());
  auto none = db.QueryScalarInt64("SELECT count(*) FROM sluice_empty()");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0);
  EXPECT_FALSE(db.RegisterBatch("sluice_rows", &batch).ok());
}

// A query reading some columns of a registered batch gets those (the scan is told which), in
// any order, as often as named; counting rows reads none.
TEST(DuckDbTest, RegisteredBatchScansOnlyTheColumnsAQueryReads) {
  DuckDb db = OpenMemory();
  const Batch batch = MakeAllTypesBatch(5000);
  ASSERT_TRUE(db.RegisterBatch("sluice_rows", &batch).ok());
  auto all = db.Query("SELECT * FROM sluice_rows()");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  const std::vector<std::string> names = {batch.schema().field(3).name,
                                          batch.schema().field(0).name};
  auto some = db.Query("SELECT " + names[0] + ", " + names[1] + ", " + names[0] +
                       " AS again FROM sluice_rows()");
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ(some->num_columns(), 3U);
  ASSERT_EQ(some->num_rows(), 5000U);
  for (size_t r = 0; r < 5000; ++r) {
    EXPECT_EQ(some->column(0).ValueToString(r), batch.column(3).ValueToString(r)) << r;
    EXPECT_EQ(some->column(1).ValueToString(r), batch.column(0).ValueToString(r)) << r;
    EXPECT_EQ(some->column(2).ValueToString(r), batch.column(3).ValueToString(r)) << r;
  }
  auto count = db.QueryScalarInt64("SELECT count(*) FROM sluice_rows()");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 5000);
  auto filtered = db.QueryScalarInt64("SELECT count(*) FROM sluice_rows() WHERE " +
                                      batch.schema().field(1).name + " IS NULL");
  ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
  std::int64_t nulls = 0;
  for (size_t r = 0; r < 5000; ++r)
    nulls += batch.column(1).IsValid(r) ? 0 : 1;
  EXPECT_EQ(*filtered, nulls);
}

TEST(DuckDbTest, PreparedQueryRerunsOverARefilledBatch) {
  DuckDb db = OpenMemory();
  Batch batch = MakeAllTypesBatch(3000);
  ASSERT_TRUE(db.RegisterBatch("sluice_refilled", &batch).ok());
  const std::string sql = "SELECT * FROM sluice_refilled() WHERE i IS NULL OR i % 3 <> 0";
  auto prepared = db.Prepare(sql);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  // Each run reads the batch as it is then, exactly as the same SQL run afresh.
  for (size_t rows : {3000U, 10U, 0U, 2500U}) {
    batch = MakeAllTypesBatch(rows);
    auto got = prepared->Run();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    auto want = db.Query(sql);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ExpectSameBatches(*want, *got);
  }
  // Errors keep their kind: an unknown table is a binder error, as from Query.
  auto bad = db.Prepare("SELECT * FROM no_such_table");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("no_such_table"), std::string::npos);
  // A run that fails reports DuckDB's error.
  auto failing = db.Prepare("SELECT s::INTEGER FROM sluice_refilled()");
  ASSERT_TRUE(failing.ok()) << failing.status().ToString();
  batch = MakeAllTypesBatch(5);
  auto run = failing->Run();
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("'k0'"), std::string::npos) << run.status().message();
}

TEST(DuckDbTest, QueryConvertsNarrowAndExoticTypes) {
  DuckDb db = OpenMemory();
  auto batch = db.Query(
      "SELECT 1::TINYINT a, 2::SMALLINT b, 3::INTEGER c, 4::UTINYINT d, 5::UINTEGER e, "
      "6::UBIGINT f, 7::HUGEINT g, 1.5::FLOAT h, 12.34 i, 123456789012.345678::DECIMAL(30,6) j, "
      "TIMESTAMPTZ '2024-01-01 00:00:05+00' k, TIMESTAMP_MS '2024-01-01 00:00:00.123' l, "
      "TIMESTAMP_NS '2024-01-01 00:00:00.123456789' m, NULL::INTEGER n");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const Batch& b = *batch;
  for (size_t c = 0; c < 7; ++c) {
    ASSERT_EQ(b.column(c).type(), LogicalType::kInt64);
    EXPECT_EQ(b.column(c).GetInt64(0), static_cast<std::int64_t>(c + 1));
  }
  EXPECT_DOUBLE_EQ(b.column(7).GetDouble(0), 1.5);
  EXPECT_DOUBLE_EQ(b.column(8).GetDouble(0), 12.34);
  EXPECT_DOUBLE_EQ(b.column(9).GetDouble(0), 123456789012.345678);
  EXPECT_EQ(base::FormatTimestampMicros(b.column(10).GetTimestamp(0)), "2024-01-01T00:00:05Z");
  EXPECT_EQ(base::FormatTimestampMicros(b.column(11).GetTimestamp(0)),
            "2024-01-01T00:00:00.123000Z");
  EXPECT_EQ(base::FormatTimestampMicros(b.column(12).GetTimestamp(0)),
            "2024-01-01T00:00:00.123456Z");
  EXPECT_FALSE(b.column(13).IsValid(0));
}

TEST(DuckDbTest, UnsupportedOrOutOfRangeTypesNameTheColumn) {
  DuckDb db = OpenMemory();
  auto r = db.Query("SELECT 1 AS ok, INTERVAL 1 DAY AS span");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'span'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("INTERVAL"), std::string::npos) << r.status().message();

  r = db.Query("SELECT [1, 2] AS xs");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'xs'"), std::string::npos);

  r = db.Query("SELECT 18446744073709551615::UBIGINT AS huge");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'huge'"), std::string::npos);

  r = db.Query("SELECT 1 AS a, 2 AS a");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'a'"), std::string::npos);
}

TEST(DuckDbTest, BadSqlIsInvalidArgumentWithDuckDbsMessage) {
  DuckDb db = OpenMemory();
  base::Status s = db.Execute("SELEC 1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("syntax error"), std::string::npos) << s.message();

  auto r = db.Query("SELECT * FROM missing_table");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("missing_table"), std::string::npos);

  r = db.Query("SELECT no_such_column FROM range(3)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no_such_column"), std::string::npos);

  s = db.Execute(std::string_view("SELECT 1;\0 DROP TABLE x", 23));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("NUL"), std::string::npos);

  // Errors leave the connection usable.
  EXPECT_EQ(*db.QueryScalarInt64("SELECT 41 + 1"), 42);
}

TEST(DuckDbTest, RuntimeConversionErrorsAreReported) {
  DuckDb db = OpenMemory();
  auto r =
      db.Query("SELECT CASE WHEN range < 4000 THEN '1' ELSE 'x' END::INTEGER FROM range(5000)");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'x'"), std::string::npos) << r.status().message();
}

TEST(DuckDbTest, MissingFileIsIoError) {
  DuckDb db = OpenMemory();
  auto r = db.Query("SELECT * FROM read_csv('/nonexistent/sluice/x.csv')");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("/nonexistent/sluice/x.csv"), std::string::npos)
      << r.status().message();
}

TEST(DuckDbTest, ScalarHelpersCheckShape) {
  DuckDb db = OpenMemory();
  EXPECT_EQ(*db.QueryScalarString("SELECT 'it''s'"), "it's");
  EXPECT_EQ(*db.QueryScalarString("SELECT 0.1::DOUBLE"), "0.1");
  EXPECT_EQ(*db.QueryScalarString("SELECT DATE '2024-02-29'"), "2024-02-29");
  EXPECT_EQ(db.QueryScalarString("SELECT 1 WHERE false").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.QueryScalarString("SELECT NULL").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.QueryScalarString("SELECT 1, 2").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db.QueryScalarInt64("SELECT 'a'").status().code(), StatusCode::kInvalidArgument);
}

TEST(DuckDbTest, QuotingSurvivesHostileNames) {
  DuckDb db = OpenMemory();
  const std::string name = "we\"ird'; DROP TABLE x; --";
  ASSERT_TRUE(db.CreateTable(name, *Schema::Make({{name, LogicalType::kString}})).ok());
  ASSERT_TRUE(
      db.Execute("INSERT INTO " + QuoteIdentifier(name) + " VALUES (" + QuoteLiteral(name) + ")")
          .ok());
  EXPECT_EQ(
      *db.QueryScalarString("SELECT " + QuoteIdentifier(name) + " FROM " + QuoteIdentifier(name)),
      name);
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteLiteral("a'b"), "'a''b'");
}

TEST(DuckDbTest, ParquetRoundTripThroughCopy) {
  TempDir dir;
  DuckDb db = OpenMemory();
  ASSERT_TRUE(db.CreateTable("t", AllTypes()).ok());
  const Batch batch = MakeAllTypesBatch(3000);
  ASSERT_TRUE(db.Append("t", batch).ok());
  const std::string file = (dir.path() / "out it's.parquet").string();
  ASSERT_TRUE(db.Execute("COPY t TO " + QuoteLiteral(file) + " (FORMAT parquet)").ok());
  ASSERT_TRUE(std::filesystem::exists(file));

  DuckDb other = OpenMemory();
  auto back = other.Query("SELECT * FROM read_parquet(" + QuoteLiteral(file) + ")");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameBatches(batch, *back);
}

TEST(DuckDbTest, FileDatabasePersistsAndReportsBadPaths) {
  TempDir dir;
  const std::string path = (dir.path() / "w.duckdb").string();
  {
    auto db = DuckDb::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db->Execute("CREATE TABLE t AS SELECT 5 AS x").ok());
  }
  {
    DuckDb::Options options;
    options.read_only = true;
    auto db = DuckDb::Open(path, options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ(*db->QueryScalarInt64("SELECT x FROM t"), 5);
    EXPECT_FALSE(db->Execute("INSERT INTO t VALUES (6)").ok());
  }
  auto bad = DuckDb::Open((dir.path() / "no" / "such" / "dir" / "w.duckdb").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kIoError);

  DuckDb::Options bad_options;
  bad_options.memory_limit = "lots";
  auto bad_limit = DuckDb::Open(":memory:", bad_options);
  ASSERT_FALSE(bad_limit.ok());
  EXPECT_EQ(bad_limit.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_limit.status().message().find("memory_limit"), std::string::npos)
      << bad_limit.status().message();
}

TEST(DuckDbTest, MovedFromObjectFailsCleanly) {
  DuckDb db = OpenMemory();
  DuckDb other = std::move(db);
  EXPECT_EQ(db.Execute("SELECT 1").code(), StatusCode::kFailedPrecondition);  // NOLINT
  EXPECT_TRUE(other.Execute("SELECT 1").ok());
}

}  // namespace
}  // namespace sluice::warehouse

namespace sluice::warehouse {
namespace {

TEST(DuckDbProgressTest, ReportsFractionsAndPassesErrorsThrough) {
  auto db = DuckDb::Open(":memory:");
  ASSERT_TRUE(db.ok());
  std::vector<double> seen;
  base::Status s = db->ExecuteWithProgress(
      "CREATE TABLE t AS SELECT i % 97 AS k, count(*) AS n FROM range(20000000) r(i) GROUP BY 1",
      [&](double f) { seen.push_back(f); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*db->QueryScalarInt64("SELECT count(*) FROM t"), 97);
  for (double f : seen) {
    EXPECT_GE(f, 0.0);
    EXPECT_LE(f, 1.0);
  }
  base::Status bad = db->ExecuteWithProgress("SELEC 1", [](double) {});
  EXPECT_EQ(bad.code(), base::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::warehouse
