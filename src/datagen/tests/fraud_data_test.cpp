#include "datagen/fraud_data.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "base/time.h"
#include "warehouse/duckdb_database.h"

namespace sluice::datagen {
namespace {

namespace fs = std::filesystem;
using base::StatusCode;
using warehouse::DuckDb;
using warehouse::QuoteLiteral;

fs::path TestRoot() {
  return fs::temp_directory_path() / ("sluice_datagen_" + std::to_string(::getpid()));
}

// Removes everything the tests wrote, after the last test.
class RemoveTestRoot : public ::testing::Environment {
 public:
  void TearDown() override { fs::remove_all(TestRoot()); }
};
[[maybe_unused]] auto* const kRemoveTestRoot =
    ::testing::AddGlobalTestEnvironment(new RemoveTestRoot);

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

FraudDataSummary Generate(const fs::path& dir, std::int64_t transactions, std::uint64_t seed) {
  FraudDataOptions options;
  options.transactions = transactions;
  options.seed = seed;
  options.out_dir = dir;
  auto summary = GenerateFraudData(options);
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  return summary.ok() ? *summary : FraudDataSummary{};
}

DuckDb OpenMemory() {
  DuckDb::Options options;
  options.threads = 1;
  auto db = DuckDb::Open(":memory:", options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(*db);
}

std::int64_t Count(DuckDb& db, const std::string& sql) {
  auto n = db.QueryScalarInt64(sql);
  EXPECT_TRUE(n.ok()) << n.status().ToString() << "\n" << sql;
  return n.value_or(-1);
}

double Scalar(DuckDb& db, const std::string& sql) {
  auto batch = db.Query(sql);
  EXPECT_TRUE(batch.ok()) << batch.status().ToString() << "\n" << sql;
  if (!batch.ok() || batch->num_rows() != 1) return -1;
  return batch->column(0).GetDouble(0);
}

// One 20k-row data set shared by the read-only checks below.
class FraudDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TestRoot() / "shared");
    fs::remove_all(*dir_);
    summary_ = new FraudDataSummary(Generate(*dir_, kRows, 42));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete summary_;
  }

  // Views over the generated files: txns (from the CSV, with read order as row number) and
  // labels.
  static DuckDb OpenWithViews() {
    DuckDb db = OpenMemory();
    const std::string csv = QuoteLiteral((*dir_ / "transactions.csv").string());
    const std::string labels = QuoteLiteral((*dir_ / "labels.csv").string());
    EXPECT_TRUE(db.Execute("CREATE TABLE txns AS SELECT row_number() OVER () AS row_no, * "
                           "FROM read_csv(" +
                           csv + ")")
                    .ok());
    EXPECT_TRUE(db.Execute("CREATE TABLE labels AS SELECT * FROM read_csv(" + labels + ")").ok());
    EXPECT_TRUE(db.Execute("CREATE TABLE t AS SELECT txns.*, labels.is_fraud FROM txns "
                           "JOIN labels USING (txn_id)")
                    .ok());
    return db;
  }

  static constexpr std::int64_t kRows = 20'000;
  static fs::path* dir_;
  static FraudDataSummary* summary_;
};
fs::path* FraudDataTest::dir_ = nullptr;
FraudDataSummary* FraudDataTest::summary_ = nullptr;

TEST_F(FraudDataTest, SummaryListsEveryFileWithItsSizeAndRows) {
  ASSERT_EQ(summary_->files.size(), 5U);
  const char* names[] = {"users.csv", "transactions.csv", "transactions.jsonl",
                         "transactions.parquet", "labels.csv"};
  for (size_t i = 0; i < 5; ++i) {
    const GeneratedFile& f = summary_->files[i];
    EXPECT_EQ(f.path, *dir_ / names[i]);
    EXPECT_EQ(f.bytes, fs::file_size(f.path)) << f.path;
    EXPECT_EQ(f.rows, i == 0 ? summary_->users : kRows) << f.path;
  }
  EXPECT_EQ(summary_->transactions, kRows);
  EXPECT_EQ(summary_->users, kRows / 50);
  for (const auto& entry : fs::directory_iterator(*dir_)) {
    EXPECT_NE(entry.path().extension(), ".partial") << entry.path();
  }
}

TEST_F(FraudDataTest, AllFormatsHoldTheSameRows) {
  DuckDb db = OpenMemory();
  const auto path = [&](const char* name) { return QuoteLiteral((*dir_ / name).string()); };
  EXPECT_EQ(Count(db, "SELECT count(*) FROM read_csv(" + path("transactions.csv") + ")"), kRows);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM read_json(" + path("transactions.jsonl") + ")"), kRows);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM read_parquet(" + path("transactions.parquet") + ")"),
            kRows);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM read_csv(" + path("labels.csv") + ")"), kRows);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM read_csv(" + path("users.csv") + ")"), summary_->users);

  // Same values, not just the same counts: set differences are empty both ways.
  const std::string csv = "SELECT * FROM read_csv(" + path("transactions.csv") + ")";
  const std::string json = "SELECT * FROM read_json(" + path("transactions.jsonl") + ")";
  const std::string parquet = "SELECT * FROM read_parquet(" + path("transactions.parquet") + ")";
  EXPECT_EQ(Count(db, "SELECT count(*) FROM (" + csv + " EXCEPT ALL " + parquet + ")"), 0);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM (" + parquet + " EXCEPT ALL " + csv + ")"), 0);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM (" + csv + " EXCEPT ALL " + json + ")"), 0);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM (" + json + " EXCEPT ALL " + csv + ")"), 0);
}

TEST_F(FraudDataTest, ColumnsHaveTheDocumentedTypesAndShapes) {
  DuckDb db = OpenMemory();
  const std::string parquet = QuoteLiteral((*dir_ / "transactions.parquet").string());
  auto schema = db.Query(
      "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM "
      "(DESCRIBE SELECT * FROM read_parquet(" +
      parquet + "))");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(schema->column(0).GetString(0),
            "txn_id VARCHAR, user_id BIGINT, merchant_id VARCHAR, merchant_category VARCHAR, "
            "amount DOUBLE, currency VARCHAR, country VARCHAR, channel VARCHAR, ts TIMESTAMP");

  DuckDb v = OpenWithViews();
  EXPECT_EQ(Count(v, "SELECT count(DISTINCT txn_id) FROM txns"), kRows);
  EXPECT_EQ(Count(v, "SELECT count(*) FROM txns WHERE amount <= 0 OR round(amount, 2) <> amount"),
            0);
  EXPECT_EQ(Count(v, "SELECT count(*) FROM txns WHERE channel NOT IN ('online', 'pos', 'atm')"), 0);
  EXPECT_EQ(Count(v, "SELECT count(*) FROM txns WHERE user_id < 1 OR user_id > " +
                         std::to_string(summary_->users)),
            0);
  EXPECT_EQ(Count(v,
                  "SELECT count(*) FROM labels l JOIN txns t USING (txn_id) "
                  "WHERE l.ts <> t.ts OR l.user_id <> t.user_id"),
            0);

  const std::string csv = ReadFile(*dir_ / "transactions.csv");
  const std::string first_row =
      csv.substr(csv.find('\n') + 1, csv.find('\n', csv.find('\n') + 1) - csv.find('\n') - 1);
  // ts is the last field: ISO-8601 UTC with a Z, whole seconds.
  const std::string ts = first_row.substr(first_row.rfind(',') + 1);
  ASSERT_EQ(ts.size(), 20U) << first_row;
  EXPECT_EQ(ts.substr(0, 11), "2024-01-01T");
  EXPECT_EQ(ts.back(), 'Z');
}

TEST_F(FraudDataTest, OneLabelPerTransactionAndFraudRateInBand) {
  DuckDb v = OpenWithViews();
  EXPECT_EQ(Count(v, "SELECT count(*) FROM t"), kRows);
  EXPECT_EQ(Count(v, "SELECT count(*) FROM t WHERE is_fraud"), summary_->fraud_transactions);
  EXPECT_EQ(summary_->burst_fraud + summary_->new_merchant_fraud + summary_->night_fraud,
            summary_->fraud_transactions);
  const double rate = static_cast<double>(summary_->fraud_transactions) / kRows;
  EXPECT_GT(rate, 0.01);
  EXPECT_LT(rate, 0.02);
  EXPECT_GT(summary_->burst_fraud, 0);
  EXPECT_GT(summary_->new_merchant_fraud, 0);
  EXPECT_GT(summary_->night_fraud, 0);
}

TEST_F(FraudDataTest, OnlyTheDeclaredLateRowsAreOutOfOrder) {
  std::ifstream in(*dir_ / "transactions.csv");
  std::string line;
  std::getline(in, line);
  std::int64_t max_ts = 0, out_of_order = 0, rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    auto ts = base::ParseTimestampMicros(line.substr(line.rfind(',') + 1));
    ASSERT_TRUE(ts.ok()) << line;
    ASSERT_GE(*ts, kStartMicros);
    if (*ts < max_ts) {
      ++out_of_order;
      const std::int64_t lag = (max_ts - *ts) / 1'000'000;
      EXPECT_GE(lag, kMinLateSeconds) << line;
      EXPECT_LE(lag, kMaxLateSeconds) << line;
    }
    max_ts = std::max(max_ts, *ts);
  }
  EXPECT_EQ(rows, kRows);
  EXPECT_EQ(out_of_order, summary_->late_transactions);
  // One per block of 500 rows; the first block may have none (first ten minutes of event time).
  EXPECT_LE(out_of_order, kRows / kLateBlockRows);
  EXPECT_GE(out_of_order, kRows / kLateBlockRows - 1);

  // About 90 days of event time.
  const double span_days =
      static_cast<double>(summary_->max_ts_micros - summary_->min_ts_micros) / 86400e6;
  EXPECT_GT(span_days, 85);
  EXPECT_LT(span_days, 95);
  EXPECT_EQ(summary_->min_ts_micros >= kStartMicros, true);
}

TEST_F(FraudDataTest, PlantedPatternsAreMeasurable) {
  DuckDb v = OpenWithViews();
  // Amounts: fraud is several times the user's usual.
  const double fraud_mean = Scalar(v, "SELECT avg(amount) FROM t WHERE is_fraud");
  const double normal_mean = Scalar(v, "SELECT avg(amount) FROM t WHERE NOT is_fraud");
  EXPECT_GT(fraud_mean, 2 * normal_mean) << fraud_mean << " vs " << normal_mean;

  // Night (00:00-05:00 UTC): a much larger share of fraud than of normal activity.
  const std::string night_share =
      "SELECT avg(CASE WHEN hour(ts) < 5 THEN 1.0 ELSE 0.0 END)::DOUBLE FROM t WHERE ";
  const double fraud_night = Scalar(v, night_share + "is_fraud");
  const double normal_night = Scalar(v, night_share + "NOT is_fraud");
  EXPECT_GT(fraud_night, 3 * normal_night) << fraud_night << " vs " << normal_night;
  EXPECT_LT(normal_night, 0.1);

  // New merchants: the share of rows at a merchant the user had not used in any earlier row.
  ASSERT_TRUE(v.Execute("CREATE TABLE firsts AS SELECT *, row_no = min(row_no) OVER "
                        "(PARTITION BY user_id, merchant_id) AS first_use FROM t")
                  .ok());
  // Compare within the same users, whose history length is the same either way.
  const std::string new_share =
      "SELECT avg(CASE WHEN first_use THEN 1.0 ELSE 0.0 END)::DOUBLE FROM firsts WHERE ";
  const double fraud_new = Scalar(v, new_share + "is_fraud");
  const double normal_new = Scalar(v, new_share + "NOT is_fraud");
  EXPECT_GT(fraud_new, 0.7) << fraud_new;
  EXPECT_LT(normal_new, 0.4) << normal_new;
  // Fraud-only merchants are never used by a normal row.
  EXPECT_GT(Count(v,
                  "SELECT count(DISTINCT merchant_id) FROM t WHERE is_fraud AND merchant_id "
                  "NOT IN (SELECT merchant_id FROM t WHERE NOT is_fraud)"),
            0);

  // Bursts: rows with at least 4 other rows of the same user within 10 minutes either side.
  ASSERT_TRUE(v.Execute("CREATE TABLE dense AS SELECT is_fraud, count(*) OVER (PARTITION BY "
                        "user_id ORDER BY ts RANGE BETWEEN INTERVAL 10 MINUTES PRECEDING AND "
                        "INTERVAL 10 MINUTES FOLLOWING) - 1 AS neighbours FROM t")
                  .ok());
  const std::string burst_share =
      "SELECT avg(CASE WHEN neighbours >= 4 THEN 1.0 ELSE 0.0 END)::DOUBLE FROM dense WHERE ";
  const double fraud_burst = Scalar(v, burst_share + "is_fraud");
  const double normal_burst = Scalar(v, burst_share + "NOT is_fraud");
  EXPECT_GT(fraud_burst, 0.2) << fraud_burst;
  EXPECT_LT(normal_burst, 0.02) << normal_burst;
}

TEST_F(FraudDataTest, NormalUsersHaveStableAmountScales) {
  DuckDb v = OpenWithViews();
  // Spread between users is far larger than the spread of one user's log-amounts around their
  // own mean: amounts are per-user, not one global distribution.
  const double within = Scalar(v,
                               "SELECT avg(s)::DOUBLE FROM (SELECT stddev_samp(ln(amount)) s FROM "
                               "t WHERE NOT is_fraud AND channel <> 'atm' GROUP BY user_id)");
  const double between = Scalar(v,
                                "SELECT stddev_samp(m)::DOUBLE FROM (SELECT avg(ln(amount)) m "
                                "FROM t WHERE NOT is_fraud GROUP BY user_id)");
  EXPECT_GT(between, 0.4);
  EXPECT_GT(within, 0.0);
  // Daytime-heavy: 12:00-21:00 busier than 00:00-05:00 by far.
  EXPECT_GT(Count(v, "SELECT count(*) FROM t WHERE NOT is_fraud AND hour(ts) BETWEEN 12 AND 20"),
            10 * Count(v, "SELECT count(*) FROM t WHERE NOT is_fraud AND hour(ts) < 5"));
}

TEST(FraudDataDeterminismTest, SameSeedSameBytesDifferentSeedDifferentData) {
  const fs::path root = TestRoot() / "determinism";
  fs::remove_all(root);
  const FraudDataSummary a = Generate(root / "a", 5000, 7);
  const FraudDataSummary b = Generate(root / "b", 5000, 7);
  const FraudDataSummary c = Generate(root / "c", 5000, 8);
  ASSERT_EQ(a.files.size(), 5U);
  for (size_t i = 0; i < a.files.size(); ++i) {
    const std::string name = a.files[i].path.filename().string();
    const std::string bytes_a = ReadFile(a.files[i].path);
    EXPECT_FALSE(bytes_a.empty()) << name;
    EXPECT_TRUE(bytes_a == ReadFile(b.files[i].path)) << name << " differs for the same seed";
    EXPECT_FALSE(bytes_a == ReadFile(c.files[i].path)) << name << " same for different seeds";
  }
  EXPECT_EQ(a.fraud_transactions, b.fraud_transactions);
  EXPECT_EQ(a.late_transactions, b.late_transactions);
  fs::remove_all(root);
}

TEST(FraudDataOptionsTest, ParquetOnlyStillWritesUsersAndLabels) {
  const fs::path dir = TestRoot() / "parquet_only";
  fs::remove_all(dir);
  FraudDataOptions options;
  options.transactions = 1000;
  options.out_dir = dir;
  options.csv = false;
  options.jsonl = false;
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  auto summary = GenerateFraudData(
      options, [&](std::int64_t done, std::int64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"labels.csv", "transactions.parquet", "users.csv"}));
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(std::int64_t{1000}, std::int64_t{1000}));
  fs::remove_all(dir);
}

TEST(FraudDataOptionsTest, BadOptionsAreRejectedClearly) {
  const fs::path dir = TestRoot() / "bad";
  FraudDataOptions options;
  options.out_dir = dir;

  options.transactions = 999;
  auto r = GenerateFraudData(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("1000"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("999"), std::string::npos) << r.status().message();
  options.transactions = kMaxTransactions + 1;
  EXPECT_EQ(GenerateFraudData(options).status().code(), StatusCode::kInvalidArgument);

  options.transactions = 1000;
  options.csv = options.jsonl = options.parquet = false;
  r = GenerateFraudData(options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("format"), std::string::npos);

  FraudDataOptions no_dir;
  EXPECT_EQ(GenerateFraudData(no_dir).status().code(), StatusCode::kInvalidArgument);

  // A regular file where the directory should be.
  fs::create_directories(TestRoot());
  const fs::path file = TestRoot() / "a_file";
  std::ofstream(file) << "x";
  FraudDataOptions under_file;
  under_file.transactions = 1000;
  under_file.out_dir = file / "sub";
  r = GenerateFraudData(under_file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("a_file"), std::string::npos) << r.status().message();
  fs::remove(file);
}

}  // namespace
}  // namespace sluice::datagen
