// The PostgreSQL warehouse against a real server: the ctest fixture "pg" writes an env file
// (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD) named by SLUICE_PG_ENV.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "lake/content_hash.h"
#include "warehouse/duckdb_database.h"
#include "warehouse/warehouse.h"

namespace sluice::warehouse {
namespace {

namespace fs = std::filesystem;

// Reads `export NAME=value` lines into the environment.
bool LoadEnv() {
  const char* path = std::getenv("SLUICE_PG_ENV");
  if (path == nullptr) return false;
  std::ifstream in(path);
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    ::setenv(line.substr(0, eq).c_str(), line.substr(eq + 1).c_str(), 1);
    any = true;
  }
  return any;
}

class PostgresWarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A missing server is a failure, not a skip: CI must never pass without testing PostgreSQL.
    if (!LoadEnv()) GTEST_FAIL() << "SLUICE_PG_ENV is not set (run through ctest -L postgres)";
    std::random_device rd;
    schema_ = "wh_test_" + std::to_string(rd() % 1000000);
    dir_ = fs::temp_directory_path() / ("sluice-pgwh-test-" + std::to_string(rd()));
    fs::create_directories(dir_);
    connection_.host = std::getenv("PGHOST");
    connection_.port = std::atoi(std::getenv("PGPORT"));
    connection_.database = std::getenv("PGDATABASE");
    connection_.user = std::getenv("PGUSER");
    connection_.password_env = "PGPASSWORD";
    auto w = OpenPostgresWarehouse(connection_, schema_);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    w_ = std::move(w).value();
  }
  void TearDown() override {
    if (w_) (void)w_->Execute("DROP SCHEMA IF EXISTS " + QuoteIdentifier(schema_) + " CASCADE");
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  config::ConnectionSpec connection_;
  std::string schema_;
  fs::path dir_;
  std::unique_ptr<Warehouse> w_;
};

TEST_F(PostgresWarehouseTest, ParquetRoundTripsThroughTheServerExactly) {
  // Awkward values: NULL and empty strings, quotes and newlines, UTC microseconds, doubles
  // that need every digit.
  auto duck = DuckDb::Open(":memory:");
  ASSERT_TRUE(duck.ok());
  ASSERT_TRUE(duck->Execute("SET TimeZone = 'UTC'").ok());
  const fs::path in = dir_ / "in.parquet";
  ASSERT_TRUE(
      duck->Execute("COPY (SELECT * FROM (VALUES "
                    "(1, 'plain', true, 0.1, TIMESTAMP '2024-01-02 03:04:05.123456', DATE "
                    "'2024-01-02'), "
                    "(2, '', false, 1e-300, TIMESTAMP '1970-01-01 00:00:00', DATE '1999-12-31'), "
                    "(3, NULL, NULL, NULL, NULL, NULL), "
                    "(4, 'a \"q\" ''s'', and\nnewline \\N', true, -2.5, TIMESTAMP '2030-06-30 "
                    "23:59:59', DATE '2030-06-30')) v(id, s, b, d, ts, dt)) TO " +
                    QuoteLiteral(in.string()) + " (FORMAT parquet)")
          .ok());
  auto schema = types::Schema::Make({{"id", types::LogicalType::kInt64, false},
                                     {"s", types::LogicalType::kString, true},
                                     {"b", types::LogicalType::kBool, true},
                                     {"d", types::LogicalType::kDouble, true},
                                     {"ts", types::LogicalType::kTimestamp, true},
                                     {"dt", types::LogicalType::kDate, true}});
  ASSERT_TRUE(schema.ok());
  auto loaded = w_->AttachParquet("src_v1", {in}, *schema, dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(*loaded);
  EXPECT_FALSE(*w_->AttachParquet("src_v1", {in}, *schema, dir_));  // once per version
  EXPECT_EQ(*w_->QueryInt64("SELECT count(*) FROM src_v1 WHERE s = ''", nullptr), 1);
  EXPECT_EQ(*w_->QueryInt64("SELECT count(*) FROM src_v1 WHERE s IS NULL", nullptr), 1);
  auto columns = w_->Columns("src_v1");
  ASSERT_TRUE(columns.ok());
  ASSERT_EQ(columns->size(), schema->size());
  for (std::size_t i = 0; i < schema->size(); ++i)
    EXPECT_EQ(columns->field(i).type, schema->field(i).type) << schema->field(i).name;

  // Out again: the same bytes DuckDB writes for the same rows.
  const fs::path from_pg = dir_ / "pg.parquet";
  auto rows = w_->ExportParquet("src_v1", from_pg, config::LakeCompression::kZstd, dir_);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, 4);
  auto duck_w = OpenDuckDbWarehouse(":memory:", 1);
  ASSERT_TRUE(duck_w.ok());
  ASSERT_TRUE((*duck_w)->AttachParquet("v", {in}, *schema, dir_).ok());
  ASSERT_TRUE((*duck_w)->Execute("CREATE TABLE t AS SELECT * FROM v").ok());
  const fs::path from_duck = dir_ / "duck.parquet";
  ASSERT_TRUE((*duck_w)->ExportParquet("t", from_duck, config::LakeCompression::kZstd, dir_).ok());
  EXPECT_EQ(*lake::Sha256File(from_pg), *lake::Sha256File(from_duck));
}

TEST_F(PostgresWarehouseTest, ErrorsCarryPositionsAndRelationsCanBeDropped) {
  ASSERT_TRUE(w_->Execute("CREATE TABLE t AS SELECT 1 AS a").ok());
  std::optional<SqlPosition> where;
  base::Status s = w_->Execute("CREATE TABLE u AS\nSELECT 'é', a,\n  nope FROM t", &where);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("column \"nope\" does not exist"), std::string::npos);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(*where, (SqlPosition{3, 3}));
  auto rows = w_->QueryText("SELECT\n  a, b2 FROM t", 10, &where);
  ASSERT_FALSE(rows.ok());
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(*where, (SqlPosition{2, 6}));

  ASSERT_TRUE(w_->Execute("CREATE VIEW v AS SELECT a FROM t").ok());
  EXPECT_EQ(*w_->Relation("v"), RelationKind::kView);
  ASSERT_TRUE(w_->Drop("t").ok());  // cascades to the view
  EXPECT_EQ(*w_->Relation("t"), RelationKind::kNone);
  EXPECT_EQ(*w_->Relation("v"), RelationKind::kNone);

  auto session = w_->NewSession();
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->RelationSql("x"), QuoteIdentifier(schema_) + ".\"x\"");
  auto bad = (*session)->Columns("nope");
  EXPECT_FALSE(bad.ok());
  ASSERT_TRUE(w_->Execute("CREATE TABLE j AS SELECT '{}'::jsonb AS doc").ok());
  auto json = w_->Columns("j");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("column 'doc' has PostgreSQL type jsonb"),
            std::string::npos);
}

TEST_F(PostgresWarehouseTest, WrongPasswordIsUnavailableAndNeverPrinted) {
  ::setenv("SLUICE_WH_TEST_BAD", "not-the-password-42", 1);
  config::ConnectionSpec bad = connection_;
  bad.password_env = "SLUICE_WH_TEST_BAD";
  auto w = OpenPostgresWarehouse(bad, schema_);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message().find("not-the-password-42"), std::string::npos);
  EXPECT_NE(w.status().message().find(std::getenv("PGHOST")), std::string::npos);
}

TEST_F(PostgresWarehouseTest, DropOtherVersionsKeepsTheCurrentOneAndWhatViewsRead) {
  const std::string old_a = "sluice_src_tx_0123456789ab", old_b = "sluice_src_tx_aaaaaaaaaaaa";
  const std::string current = "sluice_src_tx_ffffffffffff";
  for (const std::string& t :
       {old_a, old_b, current, std::string("sluice_src_tx_2_0123456789ab"),
        std::string("sluice_src_tx_notversioned"), std::string("sluice_src_txx_0123456789ab")}) {
    ASSERT_TRUE(w_->Execute("CREATE TABLE " + QuoteIdentifier(t) + " (id bigint)", nullptr).ok());
  }
  // A model built as a view on an old version still reads it: that one must stay.
  ASSERT_TRUE(
      w_->Execute("CREATE VIEW model_v AS SELECT * FROM " + QuoteIdentifier(old_b), nullptr).ok());
  auto dropped = w_->DropOtherVersions("sluice_src_tx_", current);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(*w_->Relation(old_a), RelationKind::kNone);
  EXPECT_EQ(*w_->Relation(old_b), RelationKind::kTable);
  EXPECT_EQ(*w_->Relation(current), RelationKind::kTable);
  // Another source whose name starts the same, and names not shaped like a version, stay.
  EXPECT_EQ(*w_->Relation("sluice_src_tx_2_0123456789ab"), RelationKind::kTable);
  EXPECT_EQ(*w_->Relation("sluice_src_tx_notversioned"), RelationKind::kTable);
  EXPECT_EQ(*w_->Relation("sluice_src_txx_0123456789ab"), RelationKind::kTable);
  EXPECT_EQ(*w_->QueryInt64("SELECT count(*) FROM model_v", nullptr), 0);
}

}  // namespace
}  // namespace sluice::warehouse
