// ScanEvents reads a source on several connections at once; whatever the split, its Batch must be
// the one a single query of EventsSql gives: same schema, values, NULLs and row order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/view_loader.h"
#include "warehouse/duckdb_database.h"

namespace sluice::engine {
namespace {
namespace fs = std::filesystem;

using types::LogicalType;

constexpr const char* kSession = "SET TimeZone = 'UTC'; SET preserve_insertion_order = true";

class EventsScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_events_scan_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    lake_ = std::make_unique<lake::Lake>(dir_ / "lake");
    ASSERT_TRUE(lake_->Open().ok());
    warehouse::DuckDb::Options options;
    options.threads = 2;
    auto db = warehouse::DuckDb::Open(":memory:", options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_.emplace(std::move(*db));
    ASSERT_TRUE(db_->Execute(kSession).ok());

    source_.dataset = "ev";
    source_.schema = *types::Schema::Make({{"k", LogicalType::kInt64, false},
                                           {"ts", LogicalType::kTimestamp, false},
                                           {"amount", LogicalType::kDouble, true},
                                           {"tag", LogicalType::kString, true}});
    // Files of several row groups each (2048 rows, one DuckDB chunk, at most), one of them
    // empty, so that runs start and end inside files and span file boundaries; NULLs, ties in
    // time and keys in no particular order.
    int file_index = 0;
    for (int rows : {9000, 0, 5000, 20000, 1}) {
      const fs::path file = dir_ / ("part" + std::to_string(file_index) + ".parquet");
      const std::string seed = std::to_string(file_index++);
      ASSERT_TRUE(db_->Execute("COPY (SELECT (hash(range, " + seed +
                               ") % 97)::BIGINT AS k, "
                               "TIMESTAMP '2024-01-01' + to_minutes((hash(range, " +
                               seed +
                               ", 1) % 5000)::BIGINT) AS ts, "
                               "CASE WHEN range % 13 = 0 THEN NULL ELSE range * 0.25 END AS "
                               "amount, "
                               "CASE WHEN range % 7 = 0 THEN NULL ELSE 'tag-' || (range % 31) END "
                               "AS tag FROM range(" +
                               std::to_string(rows) + ")) TO '" + file.string() +
                               "' (FORMAT parquet, ROW_GROUP_SIZE 2048)")
                      .ok());
      auto sha = lake_->PutObject(file, /*move=*/true);
      ASSERT_TRUE(sha.ok()) << sha.status().ToString();
      source_.outputs.push_back({"data", *sha, 0, rows});
    }

    plan_.view = "v";
    plan_.source = "ev";
    plan_.entity_keys = {"k"};
    plan_.key_types = {LogicalType::kInt64};
    plan_.event_time = "ts";
    plan_.inputs = {{"amount", "\"amount\"", LogicalType::kDouble, InputKind::kNumber},
                    {"tag", "\"tag\"", LogicalType::kString, KindOf(LogicalType::kString)}};
  }
  void TearDown() override {
    db_.reset();
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(dir_, ec)) {
      fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(dir_, ec);
  }

  void ExpectSameAsOneQuery(int partition, int partitions) {
    auto want = db_->Query(EventsSql(plan_, *lake_, source_, partition, partitions));
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_GT(want->num_rows(), 0U);
    for (int threads : {1, 2, 3, 4, 7}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + ", partition " +
                   std::to_string(partition) + " of " + std::to_string(partitions));
      // A small minimum, so that even this source is split.
      auto got = ScanEvents(*db_, kSession, plan_, *lake_, source_, partition, partitions,
                            want->num_rows() / 3, threads, /*min_rows_per_connection=*/1000);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->schema().ToString(), want->schema().ToString());
      ASSERT_EQ(got->num_rows(), want->num_rows());
      for (size_t c = 0; c < want->num_columns(); ++c) {
        for (size_t r = 0; r < want->num_rows(); ++r) {
          ASSERT_EQ(got->column(c).ValueToString(r), want->column(c).ValueToString(r))
              << "column " << c << " row " << r;
        }
      }
      // The database's thread count is left as it was.
      EXPECT_EQ(*db_->QueryScalarString("SELECT current_setting('threads')"), "2");
    }
  }

  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
  std::optional<warehouse::DuckDb> db_;
  lake::Manifest source_;
  FeatureViewPlan plan_;
};

TEST_F(EventsScanTest, SplitScanEqualsOneQuery) {
  ExpectSameAsOneQuery(0, 1);
}

TEST_F(EventsScanTest, SplitScanEqualsOneQueryWithFilterAndPartitions) {
  plan_.filter = "amount IS NULL OR amount > 100";
  for (int p = 0; p < 3; ++p)
    ExpectSameAsOneQuery(p, 3);
}

TEST_F(EventsScanTest, ErrorsOfAnyRangeAreReported) {
  // A cast that fails only on rows of a later file: every split must report it.
  plan_.inputs[1] = {"tag", "CASE WHEN k = 96 THEN 'x' ELSE '1' END::INTEGER", LogicalType::kDouble,
                     InputKind::kNumber};
  for (int threads : {1, 2, 4}) {
    auto got = ScanEvents(*db_, kSession, plan_, *lake_, source_, 0, 1, 0, threads, 1000);
    ASSERT_FALSE(got.ok()) << threads << " threads";
    EXPECT_NE(got.status().message().find("'x'"), std::string::npos) << got.status().message();
  }
}

// The stream skips DuckDB for views whose SQL only picks columns: what it builds must be
// exactly what the SQL gives, and every plan whose SQL does more must run it.
TEST_F(EventsScanTest, EventsWithoutSqlEqualTheSqlOrAreRefused) {
  // The source's rows as the stream holds them: a batch with the declared columns.
  types::Batch batch(source_.schema);
  for (size_t r = 0; r < 5000; ++r) {
    batch.column(0).AppendInt64(static_cast<std::int64_t>((r * 7919) % 97));
    batch.column(1).AppendTimestamp(1704067200000000 +
                                    static_cast<std::int64_t>(r % 777) * 60000000);
    if (r % 13 == 0) {
      batch.column(2).AppendNull();
    } else {
      batch.column(2).AppendDouble(static_cast<double>(r) * 0.25 - 3.0);
    }
    if (r % 7 == 0) {
      batch.column(3).AppendNull();
    } else {
      batch.column(3).AppendString("tag-" + std::to_string(r % 31) +
                                   (r % 2 ? " and more text" : ""));
    }
  }
  ASSERT_TRUE(db_->RegisterBatch("stream_rows", &batch).ok());
  const std::string from = "SELECT * FROM stream_rows()";

  auto want = db_->Query(EventsSqlOver(plan_, from));
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  std::optional<types::Batch> got = EventsWithoutSql(plan_, batch);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->schema().ToString(), want->schema().ToString());
  ASSERT_EQ(got->num_rows(), want->num_rows());
  for (size_t c = 0; c < want->num_columns(); ++c) {
    for (size_t r = 0; r < want->num_rows(); ++r) {
      ASSERT_EQ(got->column(c).IsValid(r), want->column(c).IsValid(r)) << c << " " << r;
      ASSERT_EQ(got->column(c).ValueToString(r), want->column(c).ValueToString(r)) << c << " " << r;
    }
  }

  // SQL that does more than pick columns is never skipped.
  FeatureViewPlan filtered = plan_;
  filtered.filter = "amount > 0";
  EXPECT_FALSE(EventsWithoutSql(filtered, batch).has_value());
  FeatureViewPlan computed = plan_;
  computed.inputs[0] = {"amount", "(amount * 2)", LogicalType::kDouble, InputKind::kNumber};
  EXPECT_FALSE(EventsWithoutSql(computed, batch).has_value());
  FeatureViewPlan cast = plan_;
  cast.inputs[0] = {"k", "\"k\"", LogicalType::kDouble, InputKind::kNumber};  // BIGINT -> DOUBLE
  EXPECT_FALSE(EventsWithoutSql(cast, batch).has_value());
  FeatureViewPlan missing = plan_;
  missing.inputs[0] = {"nope", "\"nope\"", LogicalType::kDouble, InputKind::kNumber};
  EXPECT_FALSE(EventsWithoutSql(missing, batch).has_value());
  // A date event time is cast to a timestamp by the SQL.
  types::Batch dated(*types::Schema::Make({{"k", LogicalType::kInt64, false},
                                           {"ts", LogicalType::kDate, false},
                                           {"amount", LogicalType::kDouble, true},
                                           {"tag", LogicalType::kString, true}}));
  EXPECT_FALSE(EventsWithoutSql(plan_, dated).has_value());
}

}  // namespace
}  // namespace sluice::engine
