#include "console/console.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "config/project_loader.h"
#include "quality/profile.h"

namespace sluice::console {
namespace {
namespace fs = std::filesystem;

constexpr std::string_view kProject = R"(name: shop
sources:
  - name: txns
    type: file
    format: csv
    path: t.csv
    columns:
      - {name: user_id, type: int64}
      - {name: amount, type: double}
  - name: users
    type: file
    format: csv
    path: u.csv
    columns:
      - {name: user_id, type: int64}
pipelines:
  - name: nightly
    steps:
      - {name: load, run: ingest, sources: [txns]}
)";

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("sluice_console_") + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto spec = config::LoadProjectFromString(kProject, "sluice.yaml", nullptr, dir_);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = std::move(spec).value();
    lake_ = std::make_unique<lake::Lake>(dir_ / "lake");
    ASSERT_TRUE(lake_->Open().ok());
  }
  void TearDown() override {
    console_.reset();
    fs::remove_all(dir_);
  }

  void OpenConsole() {
    auto c = Console::Open(spec_, *lake_, dir_ / "registry.sqlite", clock_, metrics_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    console_ = std::move(c).value();
  }

  std::string Page(std::string_view target, int expected_status = 200) {
    auto r = console_->Get(target, true);
    EXPECT_TRUE(r.has_value()) << target;
    if (!r) return "";
    EXPECT_EQ(r->http_status, expected_status) << target;
    EXPECT_EQ(r->content_type, "text/html; charset=utf-8") << target;
    return r->body;
  }

  // Publishes a version of `txns` with a quarantine file whose reason holds markup.
  std::string PublishWithQuarantine() {
    auto db = warehouse::DuckDb::Open(":memory:");
    EXPECT_TRUE(db.ok());
    const fs::path q = dir_ / "q.parquet";
    EXPECT_TRUE(db->Execute("COPY (SELECT 't.csv' AS file, 3::BIGINT AS line, "
                            "'<script>alert(1)</script>' AS reason) TO '" +
                            q.string() + "' (FORMAT parquet)")
                    .ok());
    auto sha = lake_->PutObject(q);
    EXPECT_TRUE(sha.ok());
    lake::Manifest m;
    m.dataset = "txns";
    m.kind = "source";
    m.created_at = "2026-01-01T00:00:00Z";
    m.definition_hash = "def";
    m.rows = {10, 9, 1};
    m.outputs.push_back({"quarantine.parquet", *sha, fs::file_size(q), 1});
    auto published = lake_->Publish(m);
    EXPECT_TRUE(published.ok()) << published.status().ToString();
    return published.ok() ? published->manifest.id : "";
  }

  fs::path dir_;
  config::ProjectSpec spec_;
  std::unique_ptr<lake::Lake> lake_;
  base::ManualClock clock_{base::ProcessingTime(std::chrono::seconds(1'767'225'600))};
  serve::Metrics metrics_;
  std::unique_ptr<Console> console_;
};

TEST_F(ConsoleTest, OverviewOfAnEmptyProjectSaysNothingIsRecorded) {
  OpenConsole();
  const std::string home = Page("/");
  EXPECT_NE(home.find("<!doctype html>"), std::string::npos);
  EXPECT_NE(home.find("href=\"/datasets/txns\""), std::string::npos);
  EXPECT_NE(home.find("no version yet"), std::string::npos);
  EXPECT_NE(home.find("declares no online store"), std::string::npos);
  EXPECT_NE(Page("/datasets").find("Nothing recorded yet"), std::string::npos);
  EXPECT_NE(Page("/pipelines").find("Nothing recorded yet: the registry has no runs"),
            std::string::npos);
  EXPECT_NE(Page("/monitoring").find("no alert has been raised"), std::string::npos);
  // A declared dataset without versions is a page; an unknown one is not.
  EXPECT_NE(Page("/datasets/users").find("has no version"), std::string::npos);
  Page("/datasets/nope", 404);
  Page("/versions/abcdef012345", 404);
  Page("/views/nope", 404);
  EXPECT_FALSE(console_->Get("/no/such/page", true).has_value());
}

TEST_F(ConsoleTest, VersionPageShowsQuarantinedRowsEscaped) {
  const std::string id = PublishWithQuarantine();
  OpenConsole();
  const std::string page = Page("/versions/" + id);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("quarantine.parquet: 1 rows"), std::string::npos);
  EXPECT_NE(page.find("no profile is stored"), std::string::npos);
  EXPECT_NE(page.find("&quot;dataset&quot;: &quot;txns&quot;"), std::string::npos);  // manifest
  // A unique prefix finds the version too.
  EXPECT_NE(Page("/versions/" + id.substr(0, 8)).find(id), std::string::npos);
  const std::string dataset = Page("/datasets/txns");
  EXPECT_NE(dataset.find("href=\"/versions/" + id + "\""), std::string::npos);
  EXPECT_NE(dataset.find("<svg class=\"chart\""), std::string::npos);
  EXPECT_NE(Page("/lineage").find("data-node=\"source:txns\""), std::string::npos);

  // A stored profile is shown with a histogram per numeric column.
  auto manifest = lake_->FindVersion(id);
  ASSERT_TRUE(manifest.ok());
  quality::Profile profile;
  profile.dataset = "txns";
  profile.version = id;
  profile.rows = 9;
  quality::ColumnProfile amount;
  amount.name = "amount";
  amount.type = types::LogicalType::kDouble;
  amount.count = 9;
  amount.mean = 2.5;
  amount.histogram = {{0, 1, 4}, {1, 2, 5}};
  profile.columns.push_back(amount);
  quality::ColumnProfile user;
  user.name = "user_id";
  user.type = types::LogicalType::kString;
  user.count = 9;
  user.top = {{"<u>", 7}, {"b", 2}};
  profile.columns.push_back(user);
  ASSERT_TRUE(quality::StoreProfile(*lake_, *manifest, profile).ok());
  const std::string with_profile = Page("/versions/" + id);
  EXPECT_NE(with_profile.find("9 rows profiled"), std::string::npos);
  EXPECT_NE(with_profile.find("<svg class=\"histogram\""), std::string::npos);
  EXPECT_NE(with_profile.find("[1, 2): 5"), std::string::npos);
  EXPECT_NE(with_profile.find("&lt;u&gt; (7)"), std::string::npos);
  EXPECT_EQ(with_profile.find("no profile is stored"), std::string::npos);
}

TEST_F(ConsoleTest, RunsAreListedAndTheirErrorsEscaped) {
  {
    auto reg = registry::Registry::Open(dir_ / "registry.sqlite");
    ASSERT_TRUE(reg.ok());
    auto id = reg->BeginRun("ingest", "txns", "2026-01-01T00:00:00Z");
    ASSERT_TRUE(id.ok());
    registry::RunRecord r;
    r.id = *id;
    r.status = "failed";
    r.error = "column <b>amount</b> missing";
    ASSERT_TRUE(reg->FinishRun(r).ok());
    ASSERT_TRUE(reg->BeginRun("ingest", "users", "2026-01-01T00:00:01Z").ok());
    registry::AlertRecord alert;
    alert.fingerprint = "f1";
    alert.monitor = "amount_drift";
    alert.dataset = "txns";
    alert.severity = "critical";
    alert.message = "drift in <i>amount</i>";
    alert.details = "{\"drift_share\":1}";
    alert.first_raised_at = alert.last_raised_at = "2026-01-01T00:00:02Z";
    ASSERT_TRUE(reg->RecordAlert(alert).ok());
  }
  OpenConsole();
  const std::string runs = Page("/runs?target=txns");
  EXPECT_NE(runs.find("column &lt;b&gt;amount&lt;/b&gt; missing"), std::string::npos);
  EXPECT_NE(runs.find("status-failed"), std::string::npos);
  EXPECT_EQ(runs.find("users"), std::string::npos);  // filtered by target
  // The pipeline's step is coloured by its source's newest run.
  EXPECT_NE(Page("/pipelines").find("status-failed"), std::string::npos);
  const std::string monitoring = Page("/monitoring");
  EXPECT_NE(monitoring.find("column &lt;b&gt;amount"), std::string::npos);
  EXPECT_NE(monitoring.find("drift in &lt;i&gt;amount&lt;/i&gt;"), std::string::npos);
  EXPECT_NE(monitoring.find("status-critical"), std::string::npos);
  EXPECT_NE(monitoring.find("{&quot;drift_share&quot;:1}"), std::string::npos);
}

TEST_F(ConsoleTest, PipelineRunsColourTheStepsAndLinkTheirLogs) {
  const fs::path log = dir_ / "load-1.log";
  {
    std::FILE* f = std::fopen(log.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("loading <b>txns</b>\n", f);
    std::fclose(f);
    auto history = registry::PipelineHistory::Open(dir_ / "registry.sqlite");
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    registry::PipelineRun run;
    run.pipeline = "nightly";
    run.status = "running";
    run.trigger = "manual";
    run.started_at = "2026-01-01T00:00:00Z";
    auto id = history->BeginRun(run, "nightly");
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    registry::StepAttempt a;
    a.run_id = *id;
    a.step = "load";
    a.attempt = 1;
    a.status = "running";
    a.started_at = "2026-01-01T00:00:00Z";
    a.log_path = log.string();
    auto attempt = history->BeginAttempt(a);
    ASSERT_TRUE(attempt.ok());
    a.id = *attempt;
    a.status = "failed";
    a.finished_at = "2026-01-01T00:00:02Z";
    a.exit_code = 1;
    a.error = "exit <1>";
    ASSERT_TRUE(history->FinishAttempt(a).ok());
    ASSERT_TRUE(history->FinishRun(*id, "failed", "2026-01-01T00:00:03Z", "step load failed").ok());
  }
  OpenConsole();
  const std::string page = Page("/pipelines");
  EXPECT_NE(page.find("Attempts of run 1"), std::string::npos);
  EXPECT_NE(page.find("status-failed"), std::string::npos);
  EXPECT_NE(page.find("exit &lt;1&gt;"), std::string::npos);
  EXPECT_NE(page.find("2.00s"), std::string::npos);  // the attempt's duration
  EXPECT_NE(page.find("href=\"/logs?run=1&amp;step=load&amp;attempt=1\""), std::string::npos);
  const std::string log_page = Page("/logs?run=1&step=load&attempt=1");
  EXPECT_NE(log_page.find("loading &lt;b&gt;txns&lt;/b&gt;"), std::string::npos);
  Page("/logs?run=1&step=load&attempt=2", 404);
  Page("/logs?run=x", 404);
  const std::string home = Page("/");
  EXPECT_NE(home.find("status-failed"), std::string::npos);  // the pipeline's last run
  EXPECT_NE(home.find("no model is registered"), std::string::npos);
}

TEST_F(ConsoleTest, WithoutTheTokenOnlyTheLogInPageAndAssetsAreServed) {
  OpenConsole();
  auto denied = console_->Get("/", false);
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->http_status, 401);
  EXPECT_NE(denied->body.find("href=\"/login\""), std::string::npos);
  EXPECT_EQ(denied->body.find("txns"), std::string::npos);
  EXPECT_EQ(console_->Get("/datasets/txns", false)->http_status, 401);
  EXPECT_EQ(console_->Get("/login", false)->http_status, 200);
  auto js = console_->Get("/assets/console.js", false);
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("data-ready"), std::string::npos);
  EXPECT_FALSE(console_->Get("/assets/missing.js", false).has_value());
}

TEST_F(ConsoleTest, LookUpsWithoutAnOnlineStoreAnswer503) {
  OpenConsole();
  const serve::Reply r = console_->Features(R"({"view":"v","entities":[{"user_id":1}]})");
  EXPECT_EQ(r.http_status, 503);
  EXPECT_NE(r.body.find("declares no online store"), std::string::npos);
  EXPECT_EQ(console_->Get("/%zz", true)->http_status, 400);
}

}  // namespace
}  // namespace sluice::console
