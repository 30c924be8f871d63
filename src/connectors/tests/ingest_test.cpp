#include "connectors/ingest.h"

#include <gtest/gtest.h>

#include <fstream>

#include "config/project_loader.h"
#include "warehouse/duckdb_database.h"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

// A project with one source over files the test writes, ingested into a fresh lake.
class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("sluice_ingest_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    Cleanup();
    fs::create_directories(dir_ / "data");
  }
  void TearDown() override { Cleanup(); }
  void Cleanup() {
    std::error_code ec;
    for (auto& p : fs::recursive_directory_iterator(dir_, ec)) {
      fs::permissions(p.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(dir_, ec);
  }
  void Write(const std::string& rel, const std::string& content) {
    std::ofstream(dir_ / rel, std::ios::binary | std::ios::trunc) << content;
  }
  // Loads sluice.yaml with the given source block.
  void Project(const std::string& source_yaml) {
    Write("sluice.yaml", "name: t\nsources:\n" + source_yaml);
    std::vector<config::Diagnostic> diags;
    auto p = config::LoadProject(dir_, &diags);
    ASSERT_TRUE(p.ok()) << (diags.empty() ? p.status().ToString() : diags[0].ToString());
    project_ = std::make_unique<config::ProjectSpec>(std::move(p).value());
    lake_ = std::make_unique<lake::Lake>(dir_ / ".sluice/lake");
    ASSERT_TRUE(lake_->Open().ok());
    auto reg = registry::Registry::Open(dir_ / ".sluice/registry.sqlite");
    ASSERT_TRUE(reg.ok());
    registry_ = std::make_unique<registry::Registry>(std::move(reg).value());
  }
  base::Result<IngestReport> Run() {
    IngestContext ctx{*project_, *lake_, *registry_, clock_, 1, {}};
    return Ingest(project_->sources[0], ctx);
  }
  std::int64_t Count(const lake::Manifest& m) {
    auto db = warehouse::DuckDb::Open(":memory:");
    return *db->QueryScalarInt64("SELECT count(*) FROM (" + DatasetSelectSql(*lake_, m) + ")");
  }

  fs::path dir_;
  base::ManualClock clock_{base::ProcessingTime(std::chrono::seconds(1'700'000'000))};
  std::unique_ptr<config::ProjectSpec> project_;
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<registry::Registry> registry_;
};

constexpr const char* kCsvSource = R"(  - name: tx
    type: file
    format: csv
    path: data/tx*.csv
    columns:
      - {name: id, type: int64, nullable: false}
      - {name: amount, type: double}
      - {name: ts, type: timestamp, nullable: false}
    error_budget: 50%
)";

TEST_F(IngestTest, CleanCsvLandsTypedAndVersioned) {
  Write("data/tx1.csv", "id,amount,ts\n1,2.5,2024-01-01T00:00:00Z\n2,,2024-01-01T02:00:00+02:00\n");
  Project(kCsvSource);
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->created);
  EXPECT_EQ(r->manifest.rows.read, 2);
  EXPECT_EQ(r->manifest.rows.loaded, 2);
  EXPECT_EQ(r->manifest.rows.quarantined, 0);
  EXPECT_EQ(Count(r->manifest), 2);
  auto db = warehouse::DuckDb::Open(":memory:");
  // The +02:00 offset is honoured: 02:00+02:00 is midnight UTC.
  EXPECT_EQ(*db->QueryScalarInt64("SELECT count(*) FROM (" + DatasetSelectSql(*lake_, r->manifest) +
                                  ") WHERE ts = TIMESTAMP '2024-01-01 00:00:00'"),
            2);
  // The raw file is kept as it came.
  EXPECT_TRUE(lake_->HasObject(r->manifest.inputs[0].sha256));

  auto again = Run();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->manifest.id, r->manifest.id);
  EXPECT_EQ(lake_->History("tx")->size(), 1U);
  auto runs = registry_->Runs("tx");
  ASSERT_EQ(runs->size(), 2U);
  EXPECT_EQ((*runs)[0].status, "unchanged");
  EXPECT_EQ((*runs)[1].status, "succeeded");
  EXPECT_EQ((*runs)[1].rows_loaded, 2);
}

TEST_F(IngestTest, BadRowsAreQuarantinedWithReasonsAndCounted) {
  Write("data/tx1.csv",
        "id,amount,ts\n"
        "1,2.5,2024-01-01T00:00:00Z\n"
        "2,abc,2024-01-01T00:00:00Z\n"        // line 3: amount not a number
        "3,1.0\n"                             // line 4: too few columns
        "4,1.0,2024-13-01T00:00:00Z\n"        // bad timestamp
        ",1.0,2024-01-01T00:00:00Z\n"         // missing required id
        "6,1.0,2024-01-01T00:00:00Z,extra\n"  // line 7: too many columns
        "7,3.5,2024-01-02T00:00:00Z\n");
  Project(std::string(kCsvSource).replace(std::string(kCsvSource).find("50%"), 3, "100%"));
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest.rows.read, 7);
  EXPECT_EQ(r->manifest.rows.loaded, 2);
  EXPECT_EQ(r->manifest.rows.quarantined, 5);
  EXPECT_EQ(r->manifest.rows.loaded + r->manifest.rows.quarantined, r->manifest.rows.read);
  EXPECT_EQ(Count(r->manifest), 2);

  std::string quarantine;
  for (const auto& o : r->manifest.outputs) {
    if (o.name == "quarantine") quarantine = lake_->ObjectPath(o.sha256).string();
  }
  ASSERT_FALSE(quarantine.empty());
  auto db = warehouse::DuckDb::Open(":memory:");
  auto rows = db->Query("SELECT coalesce(line, -1), \"column\", reason FROM read_parquet('" +
                        quarantine + "') ORDER BY line NULLS LAST, reason");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->num_rows(), 5U);
  EXPECT_EQ(rows->column(0).GetInt64(0), 3);
  EXPECT_EQ(rows->column(1).GetString(0), "amount");
  EXPECT_EQ(rows->column(0).GetInt64(1), 4);
  EXPECT_EQ(rows->column(0).GetInt64(2), 7);
  std::string all;
  for (size_t i = 0; i < rows->num_rows(); ++i)
    all += std::string(rows->column(2).GetString(i)) + "|";
  EXPECT_NE(all.find("column 'ts': cannot read '2024-13-01T00:00:00Z' as TIMESTAMP"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("column 'id': missing required value"), std::string::npos) << all;
  EXPECT_EQ(r->samples.size(), 5U);
}

TEST_F(IngestTest, ErrorBudgetExceededPublishesNothing) {
  Write("data/tx1.csv", "id,amount,ts\n1,x,2024-01-01\n2,y,2024-01-01\n3,1,2024-01-01\n");
  Project(std::string(kCsvSource).replace(std::string(kCsvSource).find("50%"), 3, "10%"));
  auto r = Run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2 of 3 rows"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("error budget of 10.00%"), std::string::npos);
  EXPECT_FALSE(lake_->Current("tx")->has_value());
  EXPECT_EQ((*registry_->Runs("tx"))[0].status, "failed");
}

TEST_F(IngestTest, SchemaChangesStopBeforePublishing) {
  Write("data/tx1.csv", "id,amount,ts\n1,2.5,2024-01-01\n");
  Project(kCsvSource);
  ASSERT_TRUE(Run().ok());
  const std::string first = (**lake_->Current("tx")).id;

  Write("data/tx1.csv", "id,amt,ts\n1,2.5,2024-01-01\n");  // renamed
  auto renamed = Run();
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.status().code(), base::StatusCode::kSchemaMismatch);
  EXPECT_NE(renamed.status().message().find("did you mean 'amount'"), std::string::npos)
      << renamed.status().ToString();

  Write("data/tx1.csv", "id,ts\n1,2024-01-01\n");  // removed
  auto removed = Run();
  ASSERT_FALSE(removed.ok());
  EXPECT_NE(removed.status().message().find("declared column 'amount' is missing"),
            std::string::npos);

  Write("data/tx1.csv", "id,amount,ts\n1,cheap,2024-01-01\n2,dear,2024-01-02\n");  // retyped
  auto retyped = Run();
  ASSERT_FALSE(retyped.ok());
  EXPECT_NE(retyped.status().message().find("column 'amount' was retyped"), std::string::npos)
      << retyped.status().ToString();

  EXPECT_EQ((**lake_->Current("tx")).id, first);
  EXPECT_EQ(lake_->History("tx")->size(), 1U);
}

TEST_F(IngestTest, JsonLinesWithMalformedLines) {
  Write("data/tx1.jsonl",
        "{\"id\": 1, \"amount\": 2.5, \"ts\": \"2024-01-01T00:00:00Z\"}\n"
        "{\"id\": 2, \"amount\": 1\n"
        "[1, 2]\n"
        "{\"id\": 4, \"amount\": \"many\", \"ts\": \"2024-01-01T00:00:00Z\"}\n"
        "{\"id\": 5, \"ts\": \"2024-01-02T00:00:00Z\"}\n");
  std::string src = kCsvSource;
  src.replace(src.find("format: csv"), 11, "format: jsonl");
  src.replace(src.find("tx*.csv"), 7, "tx*.jsonl");
  src.replace(src.find("50%"), 3, "100%");
  Project(src);
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest.rows.read, 5);
  EXPECT_EQ(r->manifest.rows.loaded, 2);
  EXPECT_EQ(r->manifest.rows.quarantined, 3);
  ASSERT_GE(r->samples.size(), 3U);
  EXPECT_EQ(r->samples[0].line, 2);
  EXPECT_EQ(r->samples[0].reason, "malformed JSON (not one JSON object on the line)");
  EXPECT_EQ(r->samples[1].line, 3);
  EXPECT_EQ(r->samples[2].line, 4);
  EXPECT_NE(r->samples[2].reason.find("column 'amount': cannot read 'many'"), std::string::npos);
}

TEST_F(IngestTest, MissingFilesAreNamed) {
  Project(kCsvSource);
  auto r = Run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("data/tx*.csv"), std::string::npos);
}

}  // namespace
}  // namespace sluice::connectors
