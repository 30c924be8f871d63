#include "connectors/ingest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "lake/content_hash.h"

#include "config/project_loader.h"
#include "connectors/file_reader.h"
#include "warehouse/duckdb_database.h"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

// A project with one source over files the test writes, ingested into a fresh lake.
class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("sluice_ingest_") + std::to_string(::getpid()) + "_" +
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
    Write("sluice.yaml", "name: t\n" + lake_yaml_ + "sources:\n" + source_yaml);
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
  base::Result<IngestReport> Run(bool direct_json = true) {
    IngestContext ctx{*project_, *lake_, *registry_, clock_, 1, progress_, direct_json};
    ctx.input_settle_seconds = settle_seconds_;
    return Ingest(project_->sources[0], ctx);
  }
  // Every loaded row in stored order, one text line per row, for comparing two versions.
  std::string Rows(const lake::Manifest& m) {
    auto db = warehouse::DuckDb::Open(":memory:");
    // row_number() OVER () numbers the rows as stored; string_agg alone may join a
    // multi-threaded scan's pieces in any order.
    auto rows = db->Query(
        "SELECT string_agg(r, '\n' ORDER BY n) FROM (SELECT row_number() OVER () AS n, "
        "d::VARCHAR AS r FROM (" +
        DatasetSelectSql(*lake_, m) + ") d)");
    if (!rows.ok() || rows->num_rows() == 0 || !rows->column(0).IsValid(0)) return "";
    return std::string(rows->column(0).GetString(0));
  }
  // The quarantine file's rows (line, column, reason, raw), ordered as stored.
  std::string Quarantine(const lake::Manifest& m) {
    for (const auto& o : m.outputs) {
      if (o.name != "quarantine") continue;
      auto db = warehouse::DuckDb::Open(":memory:");
      auto rows = db->Query(
          "SELECT string_agg(concat_ws('|', line, coalesce(\"column\", ''), reason, "
          "coalesce(raw, '')), '\n') FROM "
          "read_parquet('" +
          lake_->ObjectPath(o.sha256).string() + "')");
      if (rows.ok() && rows->num_rows() == 1 && rows->column(0).IsValid(0)) {
        return std::string(rows->column(0).GetString(0));
      }
    }
    return "";
  }
  // The codecs of every column chunk of every Parquet output, as DuckDB names them.
  std::string Codecs(const lake::Manifest& m) {
    std::string files;
    for (const auto& o : m.outputs) {
      files += (files.empty() ? "'" : ", '") + lake_->ObjectPath(o.sha256).string() + "'";
    }
    auto db = warehouse::DuckDb::Open(":memory:");
    auto rows = db->Query(
        "SELECT string_agg(DISTINCT compression, ',' ORDER BY compression) FROM "
        "parquet_metadata([" +
        files + "])");
    if (!rows.ok() || rows->num_rows() == 0 || !rows->column(0).IsValid(0)) return "";
    return std::string(rows->column(0).GetString(0));
  }
  // The encodings of `column`'s chunks in the version's rows file, as DuckDB names them.
  std::string Encodings(const lake::Manifest& m, const std::string& column) {
    auto db = warehouse::DuckDb::Open(":memory:");
    auto rows = db->Query(
        "SELECT string_agg(DISTINCT encodings, ',' ORDER BY encodings) FROM "
        "parquet_metadata('" +
        DataFile(m).string() + "') WHERE path_in_schema = '" + column + "'");
    if (!rows.ok() || rows->num_rows() == 0 || !rows->column(0).IsValid(0)) return "";
    return std::string(rows->column(0).GetString(0));
  }
  fs::path DataFile(const lake::Manifest& m) {
    for (const auto& o : m.outputs)
      if (o.name == "data") return lake_->ObjectPath(o.sha256);
    return {};
  }
  std::int64_t Count(const lake::Manifest& m) {
    auto db = warehouse::DuckDb::Open(":memory:");
    return *db->QueryScalarInt64("SELECT count(*) FROM (" + DatasetSelectSql(*lake_, m) + ")");
  }

  fs::path dir_;
  std::string lake_yaml_;  // a `lake:` block for sluice.yaml, or nothing
  // The files a test writes are new: with 0 they are read in place while they are copied.
  double settle_seconds_ = 0;
  IngestProgress progress_;
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

TEST_F(IngestTest, LakeCompressionSetsTheCodecOfNewVersions) {
  // A bad row: the good rows are copied out and a quarantine file is written, both with the codec.
  Write("data/tx1.csv",
        "id,amount,ts\n1,2.5,2024-01-01T00:00:00Z\n2,x,2024-01-01T01:00:00Z\n"
        "3,,2024-01-02T00:00:00Z\n4,-1e300,2024-01-03T00:00:00Z\n");
  Project(kCsvSource);
  auto zstd = Run();
  ASSERT_TRUE(zstd.ok()) << zstd.status().ToString();
  ASSERT_EQ(zstd->manifest.rows.quarantined, 1);
  ASSERT_EQ(zstd->manifest.outputs.size(), 2u);  // rows and quarantine
  EXPECT_EQ(Codecs(zstd->manifest), "ZSTD");
  const std::string rows = Rows(zstd->manifest);
  const std::string quarantine = Quarantine(zstd->manifest);
  ASSERT_EQ(Count(zstd->manifest), 3);
  ASSERT_FALSE(quarantine.empty());

  // The version in the lake stays as written: the key applies to versions written after it.
  lake_yaml_ = "lake:\n  compression: lz4\n";
  Project(kCsvSource);
  ASSERT_EQ(project_->lake.compression, config::LakeCompression::kLz4);
  auto same = Run();
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_FALSE(same->created);
  EXPECT_EQ(Codecs(same->manifest), "ZSTD");

  // A fresh lake gets lz4 files holding the same rows and quarantined records.
  fs::remove_all(dir_ / ".sluice");
  Project(kCsvSource);
  auto lz4 = Run();
  ASSERT_TRUE(lz4.ok()) << lz4.status().ToString();
  EXPECT_TRUE(lz4->created);
  EXPECT_EQ(Codecs(lz4->manifest), "LZ4_RAW");
  EXPECT_EQ(Rows(lz4->manifest), rows);
  EXPECT_EQ(Quarantine(lz4->manifest), quarantine);

  fs::remove_all(dir_ / ".sluice");
  lake_yaml_ = "lake: {compression: none}\n";
  Project(kCsvSource);
  auto none = Run();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(Codecs(none->manifest), "UNCOMPRESSED");
  EXPECT_EQ(Rows(none->manifest), rows);
}

TEST_F(IngestTest, ZstdLakeWritesDoublesAsByteStreamSplitAndReadsThemBackExactly) {
  // Distinct doubles (no dictionary) over every exponent, with the edge values a byte split could
  // garble: -0.0, the smallest subnormal, the largest double, infinities, NULLs.
  std::string csv = "id,amount,ts\n";
  const char* edges[] = {"-0.0", "0.0", "4.9406564584124654e-324", "-1.7976931348623157e308", "inf",
                         "-inf", ""};
  for (int i = 0; i < 3000; ++i) {
    const std::string amount = i < 7 ? edges[i]
                                     : std::to_string((i % 2 ? -1 : 1) * (i * 1.000001)) + "e" +
                                           std::to_string(i % 600 - 300);
    csv += std::to_string(i) + "," + amount + ",2024-01-01T00:00:00Z\n";
  }
  Write("data/tx1.csv", csv);
  Project(kCsvSource);
  auto zstd = Run();
  ASSERT_TRUE(zstd.ok()) << zstd.status().ToString();
  ASSERT_EQ(zstd->manifest.rows.loaded, 3000);
  EXPECT_EQ(Encodings(zstd->manifest, "amount"), "BYTE_STREAM_SPLIT");
  const std::string rows = Rows(zstd->manifest);
  const fs::path split_file = fs::temp_directory_path() /
                              ("sluice_ingest_split_" + std::to_string(::getpid()) + ".parquet");
  fs::copy_file(DataFile(zstd->manifest), split_file, fs::copy_options::overwrite_existing);

  // lz4 keeps Parquet format 1 (PLAIN doubles); the same rows either way.
  fs::remove_all(dir_ / ".sluice");
  lake_yaml_ = "lake: {compression: lz4}\n";
  Project(kCsvSource);
  auto lz4 = Run();
  ASSERT_TRUE(lz4.ok()) << lz4.status().ToString();
  EXPECT_EQ(Encodings(lz4->manifest, "amount"), "PLAIN");
  EXPECT_EQ(Rows(lz4->manifest), rows);
  EXPECT_NE(rows.find("-0.0"), std::string::npos);
  EXPECT_NE(rows.find("5e-324"), std::string::npos);
  EXPECT_NE(rows.find("-1.7976931348623157e+308"), std::string::npos);

  // A version whose parts mix both formats (an incremental source written before and after the
  // change) reads as one: every value of one file equals its row's value in the other.
  auto db = warehouse::DuckDb::Open(":memory:");
  const std::string files =
      "['" + split_file.string() + "', '" + DataFile(lz4->manifest).string() + "']";
  EXPECT_EQ(*db->QueryScalarInt64("SELECT count(*) FROM (SELECT id FROM read_parquet(" + files +
                                  ") GROUP BY id HAVING count(*) = 2 AND count(DISTINCT "
                                  "CAST(amount AS VARCHAR)) <= 1)"),
            3000);
  fs::remove(split_file);
}

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

TEST_F(IngestTest, InputsAreStoredAsReadWhetherNewOrOfTheSameSize) {
  settle_seconds_ = 3600;  // every file is too fresh to be read in place
  Write("data/tx1.csv", "id,amount,ts\n1,2.5,2024-01-01T00:00:00Z\n");
  Project(kCsvSource);
  auto first = Run();  // new: read from a copy made while hashing
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(lake_->HasObject(first->manifest.inputs[0].sha256));
  EXPECT_TRUE(fs::is_empty(dir_ / ".sluice/lake/staging"));
  // Same name and size, other bytes: hashed in place, then read and stored as before.
  Write("data/tx1.csv", "id,amount,ts\n1,7.5,2024-01-01T00:00:00Z\n");
  auto second = Run();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->created);
  EXPECT_NE(second->manifest.inputs[0].sha256, first->manifest.inputs[0].sha256);
  EXPECT_TRUE(lake_->HasObject(second->manifest.inputs[0].sha256));
  auto db = warehouse::DuckDb::Open(":memory:");
  EXPECT_EQ(
      *db->QueryScalarInt64("SELECT count(*) FROM (" + DatasetSelectSql(*lake_, second->manifest) +
                            ") WHERE amount = 7.5"),
      1);
  // A reader error names the file as people know it, not its staged copy.
  Write("data/tx2.csv", "id,amount,ts\n\xff\xfe,1,2\n");
  Write("data/tx3.csv", std::string("\xff\xfe\n1,2,3\n"));
  auto bad = Run();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("data/tx3.csv"), std::string::npos)
      << bad.status().ToString();
  EXPECT_EQ(bad.status().message().find("staging"), std::string::npos) << bad.status().ToString();
}

TEST_F(IngestTest, SettledInputsAreReadInPlaceAndAChangeDuringTheRunFailsIt) {
  Write("data/tx1.csv", "id,amount,ts\n1,2.5,2024-01-01T00:00:00Z\n");
  Write("data/tx2.csv", "id,amount,ts\n2,3.5,2024-01-01T00:00:00Z\n");
  Project(kCsvSource);
  auto read_in_place = Run();
  ASSERT_TRUE(read_in_place.ok()) << read_in_place.status().ToString();
  ASSERT_EQ(read_in_place->manifest.inputs.size(), 2U);
  for (const auto& input : read_in_place->manifest.inputs) {
    EXPECT_TRUE(lake_->HasObject(input.sha256));
    EXPECT_EQ(input.sha256, *lake::Sha256File(dir_ / input.path));
  }
  EXPECT_TRUE(fs::is_empty(dir_ / ".sluice/lake/staging"));
  // The same inputs copied first, then read: the same version.
  fs::remove_all(dir_ / ".sluice");
  Project(kCsvSource);
  settle_seconds_ = 3600;
  auto copied_first = Run();
  ASSERT_TRUE(copied_first.ok()) << copied_first.status().ToString();
  EXPECT_EQ(copied_first->manifest.id, read_in_place->manifest.id);

  // A new file (another size) rewritten while it is loaded, keeping its size, so that only its
  // times tell: nothing is published, and the error says to run again.
  settle_seconds_ = 0;
  Write("data/tx2.csv", "id,amount,ts\n2,4.25,2024-01-01T00:00:00Z\n");
  progress_ = [&](const std::string& stage, double) {
    if (stage == "loading data/tx2.csv") {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the clock's tick
      Write("data/tx2.csv", "id,amount,ts\n2,5.25,2024-01-01T00:00:00Z\n");
    }
  };
  auto changed = Run();
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), base::StatusCode::kIoError);
  EXPECT_TRUE(changed.status().retryable());
  EXPECT_NE(changed.status().message().find("'data/tx2.csv' changed while it was being ingested"),
            std::string::npos)
      << changed.status().ToString();
  EXPECT_EQ(lake_->History("tx")->size(), 1U);
  EXPECT_TRUE(fs::is_empty(dir_ / ".sluice/lake/staging"));
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
  // Rows the reader rejected and rows the validation rejected alike carry their line.
  EXPECT_EQ(rows->column(0).GetInt64(0), 3);
  EXPECT_EQ(rows->column(1).GetString(0), "amount");
  EXPECT_EQ(rows->column(0).GetInt64(1), 4);
  EXPECT_EQ(rows->column(0).GetInt64(2), 5);
  EXPECT_EQ(rows->column(1).GetString(2), "ts");
  EXPECT_EQ(rows->column(0).GetInt64(3), 6);
  EXPECT_EQ(rows->column(1).GetString(3), "id");
  EXPECT_EQ(rows->column(0).GetInt64(4), 7);
  std::string all;
  for (size_t i = 0; i < rows->num_rows(); ++i)
    all += std::string(rows->column(2).GetString(i)) + "|";
  EXPECT_NE(all.find("column 'ts': cannot read '2024-13-01T00:00:00Z' as TIMESTAMP"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("column 'id': missing required value"), std::string::npos) << all;
  EXPECT_EQ(r->samples.size(), 5U);
}

TEST_F(IngestTest, CsvRowsRejectedAfterReadingCarryTheirLine) {
  // A quoted value over two lines, a blank line, CRLF line ends and a rejected line before the
  // bad rows: each shifts lines against records.
  Write("data/tx1.csv",
        "id,amount,ts\r\n"
        "1,\"2\r\n.5\",2024-01-01\r\n"  // lines 2-3: one record, amount fails as DOUBLE
        "\r\n"                          // line 4: blank
        "2,1.0,2024-01-01,extra\r\n"    // line 5: rejected by the reader
        "3,1.0,not a time\r\n"          // line 6: rejected after reading
        "\"4\",\"1,5\",2024-01-01\r\n"  // line 7: fine to the reader, amount fails
        ",1.0,2024-01-01\r\n");         // line 8: missing required id
  Project(std::string(kCsvSource).replace(std::string(kCsvSource).find("50%"), 3, "100%"));
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest.rows.read, 5);
  EXPECT_EQ(r->manifest.rows.quarantined, 5);
  std::string wheres;
  for (const auto& q : r->samples)
    wheres += Where(q) + ";";
  // The reader's own rejections (lines 2, 5 and 7) carry DuckDB's line numbers, which do not
  // count the newline inside the quoted value on line 2; the rows rejected after reading carry
  // the real line.
  EXPECT_EQ(wheres, "data/tx1.csv:2;data/tx1.csv:4;data/tx1.csv:6;data/tx1.csv:6;data/tx1.csv:8;");
}

// A file is first copied as if it had nothing to quarantine; a bad row far into it stops that
// copy, and the file is read again with the quarantine columns. Nothing of the stopped copy may
// remain: not its rows, not the reader's rejects of the lines it got through.
TEST_F(IngestTest, ABadRowDeepInAFileIsQuarantinedOnceAndACleanFileStoresOnlyItsColumns) {
  constexpr int kRows = 50000;
  std::string csv = "id,amount,ts\n";
  for (int i = 1; i <= kRows; ++i) {
    if (i == 10) {
      csv += "10,1.0\n";  // line 11: too few columns, rejected by the reader
    } else if (i == kRows - 5) {
      csv += std::to_string(i) + ",1.0,not a time\n";  // rejected after reading
    } else {
      csv += std::to_string(i) + "," + std::to_string(i) + ".5,2024-01-01T00:00:00Z\n";
    }
  }
  Write("data/tx1.csv", csv);
  Project(kCsvSource);
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest.rows.read, kRows);
  EXPECT_EQ(r->manifest.rows.loaded, kRows - 2);
  EXPECT_EQ(r->manifest.rows.quarantined, 2);
  EXPECT_EQ(Count(r->manifest), kRows - 2);
  EXPECT_EQ(Quarantine(r->manifest), "11|ts|Expected Number of Columns: 3 Found: 2|10,1.0\n" +
                                         std::to_string(kRows - 4) +
                                         "|ts|column 'ts': cannot read 'not a time' as TIMESTAMP|" +
                                         std::to_string(kRows - 5) + ",1.0,not a time");

  // A clean file next to it: its stored copy holds the declared columns and nothing else, and
  // the version reads as one table over both files.
  Write("data/tx2.csv", "id,amount,ts\n1,2.5,2024-01-01T00:00:00Z\n");
  auto both = Run();
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(Count(both->manifest), kRows - 1);
  auto db = warehouse::DuckDb::Open(":memory:");
  std::vector<std::int64_t> columns;
  for (const auto& o : both->manifest.outputs) {
    if (o.name != "data") continue;
    columns.push_back(*db->QueryScalarInt64("SELECT count(*) FROM parquet_schema('" +
                                            lake_->ObjectPath(o.sha256).string() +
                                            "') WHERE num_children IS NULL"));
  }
  EXPECT_EQ(columns, (std::vector<std::int64_t>{9, 3}));
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

TEST_F(IngestTest, DuplicateCsvHeaderNamesStopTheIngestNamingColumnAndFile) {
  Write("data/tx1.csv", "id,amount,ts,amount\n1,2.5,2024-01-01,3\n");
  Project(kCsvSource);
  auto r = Run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kSchemaMismatch);
  EXPECT_NE(
      r.status().message().find("data/tx1.csv: column 'amount' appears 2 times (columns 2, 4)"),
      std::string::npos)
      << r.status().ToString();
  EXPECT_FALSE(lake_->Current("tx")->has_value());
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

constexpr const char* kJsonSource = R"(  - name: tx
    type: file
    format: jsonl
    path: data/tx*.jsonl
    columns:
      - {name: id, type: int64, nullable: false}
      - {name: amount, type: double}
      - {name: note, type: string}
      - {name: ts, type: timestamp, nullable: false}
    error_budget: 100%
)";

// Values whose text a JSON reader could render differently: decimals, exponents, big integers,
// nested values, escapes, non-ASCII text, nulls, missing keys, UTC offsets.
std::string VariedJsonLines(int n, const std::string& eol) {
  std::string text;
  for (int i = 1; i <= n; ++i) {
    text += "{\"id\": " + std::to_string(i) + ", \"amount\": ";
    switch (i % 5) {
      case 0:
        text += "1.50";
        break;
      case 1:
        text += "2e3";
        break;
      case 2:
        text += "\"7.25\"";
        break;
      case 3:
        text += "null";
        break;
      default:
        text += std::to_string(i) + ".125";
    }
    if (i % 7 != 0) {
      text += i % 3 == 0
                  ? ", \"note\": {\"k\": [1, 2.0, \"x\"]}"
                  : ", \"note\": \"caf\\u00e9 \\\"q\\\" \xc3\xa9 " + std::to_string(i * 31) + "\"";
    }
    text += ", \"ts\": \"2024-01-0" + std::to_string(1 + i % 9) + "T0" + std::to_string(i % 10) +
            ":00:00" + (i % 2 ? "Z" : "+02:00") + "\"}" + eol;
  }
  return text;
}

TEST_F(IngestTest, DirectJsonReadLoadsWhatThePerLineReadLoads) {
  for (const std::string eol : {"\n", "\r\n"}) {
    SCOPED_TRACE(eol == "\n" ? "LF" : "CRLF");
    fs::remove_all(dir_ / ".sluice");
    Write("data/tx1.jsonl", VariedJsonLines(5000, eol));
    Project(kJsonSource);
    auto direct = Run(/*direct_json=*/true);
    ASSERT_TRUE(direct.ok()) << direct.status().ToString();
    EXPECT_EQ(direct->manifest.rows.read, 5000);
    EXPECT_EQ(direct->manifest.rows.loaded, 5000);
    const std::string direct_rows = Rows(direct->manifest);

    fs::remove_all(dir_ / ".sluice");
    Project(kJsonSource);
    auto per_line = Run(/*direct_json=*/false);
    ASSERT_TRUE(per_line.ok()) << per_line.status().ToString();
    EXPECT_EQ(per_line->manifest.rows.loaded, 5000);
    EXPECT_EQ(direct_rows, Rows(per_line->manifest));
    EXPECT_NE(direct_rows.find("{'id': 3, 'amount': NULL, 'note': '{\"k\":[1,2.0,\"x\"]}', "
                               "'ts': '2024-01-04 03:00:00'}"),
              std::string::npos);
    EXPECT_NE(direct_rows.find("{'id': 2, 'amount': 7.25, 'note': 'caf\xc3\xa9 \"q\" \xc3\xa9 62', "
                               "'ts': '2024-01-03 00:00:00'}"),
              std::string::npos);
    EXPECT_EQ(direct->manifest.id, per_line->manifest.id);
  }
}

// Past one row group (122,880 rows) the two reads cut the same rows into other row groups, so
// their Parquet bytes differ; the version is named by what it holds, not by those bytes.
TEST_F(IngestTest, BothJsonReadsOfAFileOfManyRowGroupsGiveOneVersionId) {
  Write("data/tx1.jsonl", VariedJsonLines(300000, "\n"));
  Project(kJsonSource);
  auto direct = Run(/*direct_json=*/true);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  const std::string direct_rows = Rows(direct->manifest);
  fs::remove_all(dir_ / ".sluice");
  Project(kJsonSource);
  auto per_line = Run(/*direct_json=*/false);
  ASSERT_TRUE(per_line.ok()) << per_line.status().ToString();
  EXPECT_EQ(per_line->manifest.rows.loaded, 300000);
  ASSERT_EQ(direct->manifest.outputs.size(), 1U);
  ASSERT_EQ(per_line->manifest.outputs.size(), 1U);
  EXPECT_NE(direct->manifest.outputs[0].sha256, per_line->manifest.outputs[0].sha256)
      << "both reads wrote the same bytes: this test no longer shows the id ignoring them";
  const std::string per_line_rows = Rows(per_line->manifest);
  EXPECT_EQ(per_line_rows.rfind("{'id': 1, 'amount': 2000.0,", 0), 0U);
  EXPECT_TRUE(direct_rows == per_line_rows);  // 30 MB each: not printed
  EXPECT_EQ(direct->manifest.id, per_line->manifest.id);
}

TEST_F(IngestTest, DirectJsonReadOfNumbersLoadsWhatThePerLineReadLoads) {
  // Every id is an integer and every amount a number, so the direct read takes them typed
  // (see JsonDirectTyped in ingest.cpp) rather than as text cast by the validation.
  const std::vector<std::string> amounts = {"1.50",
                                            "2e3",
                                            "-0.0",
                                            "0.1",
                                            "1e-7",
                                            "123456789012345678",
                                            "5E22",
                                            "-0",
                                            "null",
                                            "1.7976931348623157e308",
                                            "12345678901234567890123",
                                            "9007199254740993",
                                            "4.9e-99",
                                            "0.30000000000000004",
                                            "-987654321.125"};
  std::string text;
  for (size_t i = 0; i < 3000; ++i) {
    text += "{\"id\": " + std::to_string(static_cast<std::int64_t>(i * 7919) - 5000) +
            (i % 11 == 0 ? "" : ", \"amount\": " + amounts[i % amounts.size()]) +
            ", \"note\": \"n\", \"ts\": \"2024-01-01T00:00:00Z\"}\n";
  }
  text += "{\"id\": 999999999999999999, \"ts\": \"2024-01-01T00:00:00Z\"}\n";
  text += "{\"id\": -999999999999999999, \"ts\": \"2024-01-01T00:00:00Z\"}\n";
  Write("data/tx1.jsonl", text);
  Project(kJsonSource);
  auto direct = Run(/*direct_json=*/true);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ(direct->manifest.rows.loaded, 3002);
  fs::remove_all(dir_ / ".sluice");
  Project(kJsonSource);
  auto per_line = Run(/*direct_json=*/false);
  ASSERT_TRUE(per_line.ok()) << per_line.status().ToString();
  EXPECT_EQ(Rows(direct->manifest), Rows(per_line->manifest));
  EXPECT_EQ(direct->manifest.id, per_line->manifest.id);
}

TEST_F(IngestTest, JsonLinesTheDirectReadCannotTakeGoThePerLineWay) {
  // Each file is valid JSON Lines but for one thing the direct read would lose: a blank line,
  // a whitespace-only line, a value that fails validation (its raw line must be kept), a
  // non-object line and a byte order mark. Each must give exactly the per-line result.
  const std::string ok1 =
      "{\"id\": 1, \"amount\": 2, \"note\": \"n\", \"ts\": \"2024-01-01T00:00:00Z\"}\n";
  const std::string ok2 = "{\"id\": 2, \"ts\": \"2024-01-02T00:00:00Z\"}\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {ok1 + "\n" + ok2, "2||empty line|"},
      {ok1 + "  \t\n" + ok2, "2||malformed JSON (not one JSON object on the line)|  \t"},
      {ok1 + "{\"id\": 3, \"amount\": \"many\", \"ts\": \"2024-01-01T00:00:00Z\"}\n" + ok2,
       "2|amount|column 'amount': cannot read 'many' as DOUBLE|{\"id\": 3, \"amount\": "
       "\"many\", \"ts\": \"2024-01-01T00:00:00Z\"}"},
      {ok1 + "[1, 2]\n" + ok2, "2||malformed JSON (not one JSON object on the line)|[1, 2]"},
      {ok1 + ok2 + "   ", "3||empty line|   "},
  };
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    fs::remove_all(dir_ / ".sluice");
    Write("data/tx1.jsonl", text);
    Project(kJsonSource);
    auto direct = Run(/*direct_json=*/true);
    ASSERT_TRUE(direct.ok()) << direct.status().ToString();
    EXPECT_EQ(direct->manifest.rows.loaded, 2);
    EXPECT_EQ(direct->manifest.rows.quarantined, 1);
    EXPECT_EQ(direct->manifest.rows.read, 3);
    EXPECT_EQ(Quarantine(direct->manifest), expected);
    ASSERT_EQ(direct->samples.size(), 1U);
    EXPECT_EQ(Where(direct->samples[0]), "data/tx1.jsonl:" + expected.substr(0, 1));

    fs::remove_all(dir_ / ".sluice");
    Project(kJsonSource);
    auto per_line = Run(/*direct_json=*/false);
    ASSERT_TRUE(per_line.ok()) << per_line.status().ToString();
    EXPECT_EQ(per_line->manifest.id, direct->manifest.id);
  }
}

TEST_F(IngestTest, CsvRecordLinesFollowQuotesAndSkipsAndRefuseAMismatch) {
  Write("data/x.csv", "h\n1\n\"a\nb\"\n\n2\nbad\n3\n");
  // Records: 1 (line 2), "a b" (2: line 3), 2 (3: line 6), bad (line 7, which DuckDB calls 6:
  // rejected), 3 (4: line 8).
  auto lines = CsvRecordLines(dir_ / "data/x.csv", '"', true, {6}, {1, 2, 3, 4}, 4);
  ASSERT_TRUE(lines.ok());
  ASSERT_TRUE(lines->has_value());
  EXPECT_EQ(**lines, (std::vector<std::int64_t>{2, 3, 6, 8}));
  // The reader accepted another number of records: nothing is trusted.
  EXPECT_FALSE(CsvRecordLines(dir_ / "data/x.csv", '"', true, {6}, {1}, 5)->has_value());
  // Without quoting, the quoted newline ends a record.
  EXPECT_EQ(**CsvRecordLines(dir_ / "data/x.csv", '\0', true, {}, {3}, 6),
            (std::vector<std::int64_t>{4}));
}

TEST_F(IngestTest, JsonObjectLinesAreCountedOnlyWhenEveryLineHoldsSomething) {
  const auto count = [&](const std::string& text) -> std::optional<std::int64_t> {
    Write("data/x.jsonl", text);
    auto n = CountJsonObjectLines(dir_ / "data/x.jsonl");
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : std::nullopt;
  };
  EXPECT_EQ(count("{}\n{}\n"), 2);
  EXPECT_EQ(count("{}\n{}"), 2);         // no newline after the last line
  EXPECT_EQ(count("{}\r\n {}\r\n"), 2);  // CRLF, leading blanks
  EXPECT_EQ(count("x"), 1);              // not JSON, but a line: read_json will fail on it
  EXPECT_EQ(count("{}\n\n{}\n"), std::nullopt);
  EXPECT_EQ(count("{}\n \r\n{}\n"), std::nullopt);
  EXPECT_EQ(count("{}\n  "), std::nullopt);  // a blank last line without a newline
  EXPECT_EQ(count("\n{}\n"), std::nullopt);
  EXPECT_EQ(count("\xEF\xBB\xBF{}\n"), std::nullopt);
  // Long lines cross the reader's buffer.
  EXPECT_EQ(count(std::string(3 << 20, ' ') + "{}\n" + std::string(3 << 20, 'x') + "\n"), 2);
  EXPECT_FALSE(CountJsonObjectLines(dir_ / "data/missing.jsonl").ok());
}

TEST_F(IngestTest, LineEndsAreFoundAcrossTheReadersBuffer) {
  const auto scan = [&](const std::string& text) {
    Write("data/x.jsonl", text);
    auto r = ScanLineEnds(dir_ / "data/x.jsonl");
    EXPECT_TRUE(r.ok());
    const LineEnds e = r.ok() ? *r : LineEnds{};
    return std::string(e.lf ? "lf" : "") + (e.crlf ? " crlf" : "") + (e.lone_cr ? " cr" : "");
  };
  EXPECT_EQ(scan(""), "");
  EXPECT_EQ(scan("{}"), "");
  EXPECT_EQ(scan("{}\n{}\n"), "lf");
  EXPECT_EQ(scan("\n"), "lf");
  EXPECT_EQ(scan("{}\r\n{}\r\n"), " crlf");
  EXPECT_EQ(scan("\r\n"), " crlf");
  EXPECT_EQ(scan("{}\n{}\r\n\r\n{}"), "lf crlf");
  EXPECT_EQ(scan("{}\r{}\n"), "lf cr");
  EXPECT_EQ(scan("{}\r\r\n"), " crlf cr");
  EXPECT_EQ(scan("{}\r\n{}\r"), " crlf cr");  // a CR ending the file has no LF after it
  EXPECT_EQ(scan("\r"), " cr");
  const std::string filler((1 << 20) - 1, ' ');  // the CR lands on the buffer's last byte
  EXPECT_EQ(scan(filler + "\r\n{}\n"), "lf crlf");
  EXPECT_EQ(scan(filler + "\r{}\n"), "lf cr");
  EXPECT_EQ(scan(filler + " \n{}\r\n"), "lf crlf");  // the LF on the buffer's last byte
  EXPECT_EQ(scan(filler + "\r"), " cr");
  EXPECT_TRUE((LineEnds{true, true, false}.Mixed()));
  EXPECT_FALSE((LineEnds{true, false, false}.Mixed()));
  EXPECT_FALSE((LineEnds{false, true, false}.Mixed()));
  EXPECT_FALSE((LineEnds{true, true, true}.Mixed()));
  EXPECT_FALSE(ScanLineEnds(dir_ / "data/missing.jsonl").ok());
}

// The per-line read of a file over DuckDB's 8 MB CSV buffer, with each kind of line ends,
// plain and gzip-compressed (a value to quarantine sends a file there). Its line split once
// failed for every such file with a bare LF ("does not support a full read on this file").
TEST_F(IngestTest, PerLineJsonReadOfABigFileKeepsEveryLine) {
  const std::string bad = "{\"id\": 0, \"amount\": \"many\", \"ts\": \"2024-01-01T00:00:00Z\"}";
  const std::string lf = VariedJsonLines(100000, "\n");
  const std::string crlf = VariedJsonLines(100000, "\r\n");
  ASSERT_GT(lf.size(), 8U << 20);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"LF", bad + "\n" + lf},
      {"CRLF", bad + "\r\n" + crlf},
      {"LF then CRLF", bad + "\n" + lf + crlf},
      {"CRLF then LF", bad + "\r\n" + crlf + lf},
  };
  for (const auto& [name, text] : files) {
    for (const bool gzip : {false, true}) {
      SCOPED_TRACE(name + (gzip ? ", gzip" : ""));
      fs::remove_all(dir_ / ".sluice");
      fs::remove_all(dir_ / "data");
      fs::create_directories(dir_ / "data");
      Write("data/tx1.jsonl", text);
      if (gzip) {
        ASSERT_EQ(std::system(("gzip " + (dir_ / "data/tx1.jsonl").string()).c_str()), 0);
      }
      std::string source = kJsonSource;
      if (gzip) source.replace(source.find("tx*.jsonl"), 9, "tx*.jsonl.gz");
      Project(source);
      auto r = Run();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      const std::int64_t lines = 1 + (name.find(' ') == std::string::npos ? 100000 : 200000);
      EXPECT_EQ(r->manifest.rows.read, lines);
      EXPECT_EQ(r->manifest.rows.quarantined, 1);
      EXPECT_EQ(Quarantine(r->manifest),
                "1|amount|column 'amount': cannot read 'many' as DOUBLE|" + bad);
    }
  }
}

TEST_F(IngestTest, JsonLinesMixingLfAndCrlfKeepTheirLinesInThePerLineRead) {
  // A file starting with LF lines and going on with CRLF ones (two files concatenated, an
  // editor on another system): every line is one line, in both reads, whatever comes first.
  const std::string a = "{\"id\": 1, \"note\": \"n\", \"ts\": \"2024-01-01T00:00:00Z\"}";
  const std::string b = "{\"id\": 2, \"amount\": \"many\", \"ts\": \"2024-01-01T00:00:00Z\"}";
  const std::string c = "{\"id\": 3, \"amount\": 1.5, \"ts\": \"2024-01-02T00:00:00Z\"}";
  for (const auto& [first, second] :
       {std::pair<std::string, std::string>{"\n", "\r\n"}, {"\r\n", "\n"}}) {
    SCOPED_TRACE(first == "\n" ? "LF first" : "CRLF first");
    for (const bool direct : {true, false}) {
      fs::remove_all(dir_ / ".sluice");
      Write("data/tx1.jsonl", a + first + b + second + c + second + a + first);
      Project(kJsonSource);
      auto r = Run(direct);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->manifest.rows.read, 4);
      EXPECT_EQ(r->manifest.rows.loaded, 3);
      EXPECT_EQ(Quarantine(r->manifest),
                "2|amount|column 'amount': cannot read 'many' as DOUBLE|" + b);
    }
  }
  // With a lone CR the reader ends a line there, and no byte is lost.
  fs::remove_all(dir_ / ".sluice");
  Write("data/tx1.jsonl", a + "\n" + "{\"id\": 2,\r \"ts\": 1}\n" + c + "\n");
  Project(kJsonSource);
  auto r = Run(/*direct_json=*/false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest.rows.read, 4);
  EXPECT_EQ(r->manifest.rows.loaded, 2);
  EXPECT_EQ(Quarantine(r->manifest),
            "2||malformed JSON (not one JSON object on the line)|{\"id\": 2,\n"
            "3||malformed JSON (not one JSON object on the line)| \"ts\": 1}");
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
