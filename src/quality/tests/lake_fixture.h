#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "lake/lake.h"
#include "warehouse/duckdb_database.h"

namespace sluice::quality {

// A lake in a fresh temporary folder, and dataset versions made from SQL through DuckDB.
class LakeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_quality_test_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    lake_ = std::make_unique<lake::Lake>(dir_ / "lake");
    ASSERT_TRUE(lake_->Open().ok());
    auto db = warehouse::DuckDb::Open(":memory:");
    ASSERT_TRUE(db.ok());
    db_.emplace(std::move(*db));
  }
  void TearDown() override {
    std::error_code ec;
    for (auto& p : std::filesystem::recursive_directory_iterator(dir_, ec)) {
      std::filesystem::permissions(p.path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ec);
    }
    std::filesystem::remove_all(dir_, ec);
  }

  // Publishes the rows of `sql` as a new version of `dataset` and returns its manifest.
  lake::Manifest Publish(const std::string& dataset, const std::string& sql) {
    const auto file = dir_ / ("part_" + std::to_string(counter_++) + ".parquet");
    EXPECT_TRUE(db_->Execute("COPY (" + sql + ") TO " + warehouse::QuoteLiteral(file.string()) +
                             " (FORMAT parquet)")
                    .ok());
    auto described = db_->Query("DESCRIBE " + sql);
    EXPECT_TRUE(described.ok());
    std::vector<types::Field> fields;
    for (size_t r = 0; r < described->num_rows(); ++r) {
      const std::string type(described->column(1).GetString(r));
      types::LogicalType t = types::LogicalType::kString;
      if (type == "BIGINT" || type == "INTEGER") t = types::LogicalType::kInt64;
      if (type == "DOUBLE") t = types::LogicalType::kDouble;
      if (type == "BOOLEAN") t = types::LogicalType::kBool;
      if (type == "TIMESTAMP") t = types::LogicalType::kTimestamp;
      if (type == "DATE") t = types::LogicalType::kDate;
      fields.push_back({std::string(described->column(0).GetString(r)), t, true});
    }
    auto rows = db_->QueryScalarInt64("SELECT count(*) FROM (" + sql + ")");
    EXPECT_TRUE(rows.ok());
    lake::Manifest m;
    m.dataset = dataset;
    m.kind = "source";
    m.created_at = "2026-01-01T00:00:00Z";
    m.schema = *types::Schema::Make(fields);
    auto sha = lake_->PutObject(file, /*move=*/true);
    EXPECT_TRUE(sha.ok());
    m.inputs = {{"sql:" + sql, *sha, 0}};
    m.outputs = {{"data", *sha, 0, *rows}};
    m.rows = {*rows, *rows, 0};
    auto published = lake_->Publish(m);
    EXPECT_TRUE(published.ok()) << published.status().ToString();
    return published->manifest;
  }

  std::filesystem::path dir_;
  std::unique_ptr<lake::Lake> lake_;
  std::optional<warehouse::DuckDb> db_;
  int counter_ = 0;
};

}  // namespace sluice::quality
