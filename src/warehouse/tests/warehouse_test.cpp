#include "warehouse/warehouse.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "warehouse/duckdb_database.h"
#include "warehouse/sql_error.h"

namespace sluice::warehouse {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("sluice-warehouse-test-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::unique_ptr<Warehouse> Memory() {
  auto w = OpenDuckDbWarehouse(":memory:", 1);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return std::move(w).value();
}

TEST(PositionTest, OffsetsAndPositionsRoundTripInCharacters) {
  const std::string text = "SELECT 'é',\n  nope FROM t";
  EXPECT_EQ(PositionOfOffset(text, 0), (SqlPosition{1, 1}));
  const std::size_t nope = text.find("nope");
  EXPECT_EQ(PositionOfOffset(text, nope), (SqlPosition{2, 3}));
  EXPECT_EQ(OffsetOfPosition(text, {2, 3}), nope);
  const std::size_t comma = text.find(',');
  EXPECT_EQ(PositionOfOffset(text, comma), (SqlPosition{1, 11}));  // é is one character
  EXPECT_EQ(OffsetOfPosition(text, {1, 11}), comma);
}

TEST(SqlErrorTest, DuckDbExcerptIsRemovedAndItsPositionFound) {
  const std::string sql = "SELECT a,\n  b\nFROM t";
  base::Status error = base::InvalidArgument(
      "Binder Error: Referenced column \"b\" not found in FROM clause!\nCandidate bindings: "
      "\"a\"\n\nLINE 2:   b\n          ^");
  std::optional<SqlPosition> where;
  base::Status split = SplitDuckDbError(error, sql, 0, &where);
  EXPECT_EQ(split.message(),
            "Binder Error: Referenced column \"b\" not found in FROM clause!\nCandidate bindings: "
            "\"a\"");
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(*where, (SqlPosition{2, 3}));
}

TEST(SqlErrorTest, CutExcerptsOfLongLinesAreFoundInTheRealLine) {
  const std::string sql = "SELECT " + std::string(100, 'x') + ", nope FROM t";
  // The caret sits under "nope": 8 characters of "LINE 1: " and 9 of "...xxxx, ".
  base::Status error = base::InvalidArgument(
      "Binder Error: column nope\n\nLINE 1: ...xxxx, nope FROM t\n" + std::string(17, ' ') + "^");
  std::optional<SqlPosition> where;
  (void)SplitDuckDbError(error, sql, 0, &where);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->column, static_cast<int>(sql.find("nope")) + 1);
}

TEST(SqlErrorTest, PostgresCharacterPositionsBecomeLinesAndColumns) {
  const std::string sql = "x\nSELECT 'é', nope";
  const int chars_before_nope = 2 + 12;  // "x\n" + "SELECT 'é', "
  auto p = PostgresErrorPosition(sql, chars_before_nope + 1, 1);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (SqlPosition{1, 13}));
  EXPECT_FALSE(PostgresErrorPosition(sql, 1, 1).has_value());  // inside the wrapper line
}

TEST(DuckDbWarehouseTest, ErrorsCarryThePositionInTheStatement) {
  auto w = Memory();
  ASSERT_TRUE(w->Execute("CREATE TABLE t AS SELECT 1 AS a").ok());
  std::optional<SqlPosition> where;
  base::Status s = w->Execute("CREATE TABLE u AS\nSELECT a,\n  nope\nFROM t", &where);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nope"), std::string::npos);
  EXPECT_EQ(s.message().find("LINE"), std::string::npos);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(*where, (SqlPosition{3, 3}));

  // QueryText wraps the SQL; positions are still in the caller's text.
  auto rows = w->QueryText("SELECT\n  a, b2 FROM t", 10, &where);
  ASSERT_FALSE(rows.ok());
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(*where, (SqlPosition{2, 6}));
}

TEST(DuckDbWarehouseTest, RelationsTextRowsAndDrop) {
  auto w = Memory();
  EXPECT_EQ(*w->Relation("t"), RelationKind::kNone);
  ASSERT_TRUE(
      w->Execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'x'), (2, NULL)) v(a, b)").ok());
  ASSERT_TRUE(w->Execute("CREATE VIEW v AS SELECT a FROM t").ok());
  EXPECT_EQ(*w->Relation("t"), RelationKind::kTable);
  EXPECT_EQ(*w->Relation("v"), RelationKind::kView);
  auto rows = w->QueryText("SELECT a, b, DATE '2024-01-02' AS d FROM t ORDER BY a", 1, nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"a", "b", "d"}));
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0][0], "1");
  EXPECT_EQ(rows->rows[0][2], "2024-01-02");
  auto all = w->QueryText("SELECT b FROM t ORDER BY a", 10, nullptr);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->rows[1][0].has_value());
  auto schema = w->Columns("t");
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->ToString().find("a int64"), 0u);
  ASSERT_TRUE(w->Drop("v").ok());
  ASSERT_TRUE(w->Drop("t").ok());
  ASSERT_TRUE(w->Drop("t").ok());  // absent: nothing to do
  EXPECT_EQ(*w->Relation("t"), RelationKind::kNone);
}

TEST(DuckDbWarehouseTest, ParquetInAndOutIsSortedAndStable) {
  TempDir dir;
  auto w = Memory();
  ASSERT_TRUE(w->Execute("CREATE TABLE t AS SELECT * FROM (VALUES (3, 'c'), (1, 'a'), (2, 'b')) "
                         "v(id, name)")
                  .ok());
  const fs::path a = dir.path() / "a.parquet";
  const fs::path b = dir.path() / "b.parquet";
  auto rows = w->ExportParquet("t", a, config::LakeCompression::kZstd, dir.path());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, 3);
  ASSERT_TRUE(w->Execute("CREATE TABLE t2 AS SELECT * FROM t ORDER BY id DESC").ok());
  ASSERT_TRUE(w->ExportParquet("t2", b, config::LakeCompression::kZstd, dir.path()).ok());
  EXPECT_EQ(fs::file_size(a), fs::file_size(b));

  auto schema = types::Schema::Make(
      {{"id", types::LogicalType::kInt64, false}, {"name", types::LogicalType::kString, true}});
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(w->AttachParquet("src_v", {a}, *schema, dir.path()).ok());
  EXPECT_EQ(*w->QueryInt64("SELECT sum(id) FROM src_v", nullptr), 6);
  auto first = w->QueryText("SELECT name FROM src_v LIMIT 1", 1, nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->rows[0][0], "a");
  // An empty version still has its columns.
  ASSERT_TRUE(w->AttachParquet("empty_v", {}, *schema, dir.path()).ok());
  EXPECT_EQ(*w->QueryInt64("SELECT count(*) FROM empty_v", nullptr), 0);
  EXPECT_EQ(w->Columns("empty_v")->size(), 2u);
}

TEST(DuckDbWarehouseTest, ExportParquetWritesTheLakeCodec) {
  TempDir dir;
  auto w = Memory();
  ASSERT_TRUE(w->Execute("CREATE TABLE t AS SELECT i AS id, 'n' || (i % 7) AS name, i / 3.0 AS x "
                         "FROM range(1000) r(i)")
                  .ok());
  const std::pair<config::LakeCompression, std::string> cases[] = {
      {config::LakeCompression::kZstd, "ZSTD"},
      {config::LakeCompression::kLz4, "LZ4_RAW"},
      {config::LakeCompression::kSnappy, "SNAPPY"},
      {config::LakeCompression::kNone, "UNCOMPRESSED"}};
  const fs::path reference = dir.path() / "zstd.parquet";
  ASSERT_TRUE(w->ExportParquet("t", reference, config::LakeCompression::kZstd, dir.path()).ok());
  for (const auto& [codec, duckdb_name] : cases) {
    const fs::path file = dir.path() / (duckdb_name + ".parquet");
    auto rows = w->ExportParquet("t", file, codec, dir.path());
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(*rows, 1000);
    auto codecs = w->QueryText(
        "SELECT DISTINCT compression FROM parquet_metadata(" + QuoteLiteral(file.string()) + ")",
        10, nullptr);
    ASSERT_TRUE(codecs.ok()) << codecs.status().ToString();
    ASSERT_EQ(codecs->rows.size(), 1u) << duckdb_name;
    EXPECT_EQ(codecs->rows[0][0], duckdb_name);
    // The same rows in the same order whatever the codec.
    EXPECT_EQ(*w->QueryInt64("SELECT count(*) FROM (SELECT *, row_number() OVER () FROM "
                             "read_parquet(" +
                                 QuoteLiteral(file.string()) +
                                 ") EXCEPT SELECT *, row_number() OVER () FROM read_parquet(" +
                                 QuoteLiteral(reference.string()) + "))",
                             nullptr),
              0)
        << duckdb_name;
  }
}

TEST(DuckDbWarehouseTest, SessionsShareTheDatabaseAcrossThreads) {
  TempDir dir;
  auto opened = OpenDuckDbWarehouse((dir.path() / "w.duckdb").string(), 2);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& w = *opened;
  std::vector<std::unique_ptr<Warehouse>> sessions;
  for (int i = 0; i < 4; ++i) {
    auto s = w->NewSession();
    ASSERT_TRUE(s.ok());
    sessions.push_back(std::move(s).value());
  }
  std::vector<std::thread> threads;
  std::vector<base::Status> results(sessions.size());
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = sessions[i]->Execute("CREATE TABLE t" + std::to_string(i) +
                                        " AS SELECT range AS x FROM range(1000)");
    });
  }
  for (auto& t : threads)
    t.join();
  for (const auto& r : results)
    EXPECT_TRUE(r.ok()) << r.ToString();
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    EXPECT_EQ(*w->QueryInt64("SELECT count(*) FROM t" + std::to_string(i), nullptr), 1000);
  }
}

TEST(OpenWarehouseTest, RelativeDuckDbPathsAreUnderTheProject) {
  TempDir dir;
  config::WarehouseSpec spec;
  spec.path = "sub/dir/w.duckdb";
  auto w = OpenWarehouse(spec, dir.path());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->Kind(), "duckdb");
  EXPECT_TRUE(fs::exists(dir.path() / "sub/dir/w.duckdb"));
}

}  // namespace
}  // namespace sluice::warehouse
