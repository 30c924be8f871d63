#include "serve/serving_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/time.h"
#include "serve/response.h"
#include "warehouse/duckdb_database.h"

namespace sluice::serve {
namespace {

namespace fs = std::filesystem;

class ServingLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("sluice_serving_log_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    lake_ = std::make_unique<lake::Lake>(dir_ / "lake");
    ASSERT_TRUE(lake_->Open().ok());
    spec_.enabled = true;
    spec_.queue = 1000;
    spec_.flush_rows = 1'000'000;
    spec_.flush_interval = std::chrono::hours(1);
  }
  void TearDown() override {
    std::error_code ec;
    for (auto& p : fs::recursive_directory_iterator(dir_, ec)) {
      fs::permissions(p.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(dir_, ec);
  }

  // A request for `entities` entities of view "v" with features a (int64) and b (double,
  // missing).
  static LoggedRequest Request(std::int64_t at, int entities) {
    LoggedRequest r;
    r.served_at = at + 5;
    r.at = at;
    LoggedLookup l;
    l.view = "v";
    l.source_version = "src1";
    l.definition_hash = "def1";
    for (int e = 0; e < entities; ++e) {
      r.entity_json.push_back("{\"user_id\":" + std::to_string(e) + "}");
      std::vector<engine::OnlineFeature> features;
      engine::OnlineFeature a(types::LogicalType::kInt64);
      a.name = "a";
      a.status = engine::FeatureStatus::kPresent;
      a.value.AppendInt64(e * 10);
      engine::OnlineFeature b(types::LogicalType::kDouble);
      b.name = "b";
      b.status = engine::FeatureStatus::kMissing;
      b.value.AppendNull();
      features.push_back(std::move(a));
      features.push_back(std::move(b));
      l.entities.push_back(std::move(features));
    }
    r.lookups.push_back(std::move(l));
    return r;
  }

  // The rows of the dataset's current version, ordered, as text.
  std::vector<std::string> Rows() {
    auto current = lake_->Current("serving_log");
    EXPECT_TRUE(current.ok());
    if (!current.ok() || !*current) return {};
    std::string files;
    for (const auto& f : lake_->DataFiles(**current)) {
      files += (files.empty() ? "" : ", ") + warehouse::QuoteLiteral(f.string());
    }
    auto db = warehouse::DuckDb::Open(":memory:");
    EXPECT_TRUE(db.ok());
    auto batch = db->Query(
        "SELECT concat_ws('|', epoch_us(served_at), epoch_us(as_of), request, view, "
        "source_version, definition, entity, features) FROM read_parquet([" +
        files + "]) ORDER BY request, entity");
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    std::vector<std::string> rows;
    if (!batch.ok()) return rows;
    for (size_t r = 0; r < batch->num_rows(); ++r)
      rows.emplace_back(batch->column(0).GetString(r));
    return rows;
  }

  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
  config::ServingLogSpec spec_;
  base::ManualClock clock_{base::ProcessingTime(std::chrono::seconds(1'700'000'000))};
};

TEST_F(ServingLogTest, FlushPublishesOneRowPerViewAndEntity) {
  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Sample());  // rate 1
  (*log)->Submit(Request(1000, 2));
  (*log)->Submit(Request(2000, 1));
  ASSERT_TRUE((*log)->Flush().ok());
  const std::vector<std::string> rows = Rows();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0],
            "1005|1000|0|v|src1|def1|{\"user_id\":0}|"
            // "present" is left out; other statuses are written.
            "{\"a\":{\"value\":0},\"b\":{\"value\":null,\"status\":"
            "\"missing\"}}");
  EXPECT_EQ(rows[1].substr(0, 30), "1005|1000|0|v|src1|def1|{\"user");
  EXPECT_NE(rows[1].find("\"a\":{\"value\":10}"), std::string::npos);
  EXPECT_EQ(rows[2].substr(0, 12), "2005|2000|1|");
  const ServingLogCounts c = (*log)->Counts();
  EXPECT_EQ(c.rows, 3U);
  EXPECT_EQ(c.versions, 1U);
  EXPECT_EQ(c.dropped, 0U);
  auto current = lake_->Current("serving_log");
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ((*current)->kind, "serving_log");
  EXPECT_EQ((*current)->rows.loaded, 3);
  // Nothing queued: no empty version.
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->Counts().versions, 1U);
}

TEST_F(ServingLogTest, FullQueueDropsAndCounts) {
  spec_.queue = 3;
  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok());
  // The manual clock does not move and no size limit is reached: nothing is published, so
  // rows stay pending (queued or rendered) and count against the bound.
  for (int i = 0; i < 5; ++i)
    (*log)->Submit(Request(1000 + i, 1));
  (*log)->Submit(Request(2000, 2));  // 2 rows: over the bound with 2 pending
  EXPECT_EQ((*log)->Counts().dropped, 3U);
  (*log)->Submit(Request(2000, 2));
  EXPECT_EQ((*log)->Counts().dropped, 4U);
  EXPECT_EQ((*log)->Counts().pending_rows, 3U);
  const std::string metrics = (*log)->MetricsText();
  EXPECT_NE(metrics.find("sluice_serve_log_dropped_total 4\n"), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE sluice_serve_log_dropped_total counter"), std::string::npos);
  ASSERT_TRUE((*log)->Close().ok());
  EXPECT_EQ(Rows().size(), 3U);
  EXPECT_EQ((*log)->Counts().pending_rows, 0U);
  // After Close nothing is queued any more.
  (*log)->Submit(Request(9000, 1));
  EXPECT_EQ((*log)->Counts().dropped, 5U);
}

TEST_F(ServingLogTest, FlushesWhenTheIntervalPassesOnTheInjectedClock) {
  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok());
  (*log)->Submit(Request(1000, 1));
  clock_.Advance(std::chrono::minutes(59));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // the writer polls: not due
  EXPECT_EQ((*log)->Counts().versions, 0U);
  EXPECT_EQ((*log)->Counts().pending_rows, 1U);
  clock_.Advance(std::chrono::minutes(1));
  for (int i = 0; i < 2000 && (*log)->Counts().versions == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ((*log)->Counts().versions, 1U);
  EXPECT_EQ(Rows().size(), 1U);
}

TEST_F(ServingLogTest, SizeLimitWakesTheWriter) {
  spec_.flush_rows = 4;
  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok());
  (*log)->Submit(Request(1000, 4));
  for (int i = 0; i < 2000 && (*log)->Counts().versions == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ((*log)->Counts().versions, 1U);
  EXPECT_EQ((*log)->Counts().rows, 4U);
}

TEST_F(ServingLogTest, ANewProcessAppendsToThePreviousVersion) {
  {
    auto log = ServingLog::Open(lake_->root(), spec_, clock_);
    ASSERT_TRUE(log.ok());
    (*log)->Submit(Request(1000, 2));
  }  // destruction closes: the rows are published
  {
    auto log = ServingLog::Open(lake_->root(), spec_, clock_);
    ASSERT_TRUE(log.ok());
    (*log)->Submit(Request(2000, 1));
    ASSERT_TRUE((*log)->Close().ok());
  }
  auto history = lake_->History("serving_log");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2U);
  EXPECT_EQ(history->back().outputs.size(), 2U);
  EXPECT_EQ(history->back().parents, std::vector<std::string>{history->front().id});
  EXPECT_EQ(history->back().rows.loaded, 3);
  EXPECT_EQ(Rows().size(), 3U);
}

TEST_F(ServingLogTest, RefusesADatasetThatIsNotAServingLog) {
  lake::Manifest m;
  m.dataset = "serving_log";
  m.kind = "source";
  m.created_at = "2026-01-01T00:00:00Z";
  ASSERT_TRUE(lake_->Publish(m).ok());
  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("not a serving log"), std::string::npos)
      << log.status().ToString();
  // Nothing stored was touched.
  auto history = lake_->History("serving_log");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 1U);
}

TEST_F(ServingLogTest, SampleRateZeroAndBetween) {
  spec_.sample_rate = 0;
  auto none = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(none.ok());
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE((*none)->Sample());
  EXPECT_EQ((*none)->Counts().sampled, 0U);
  ASSERT_TRUE((*none)->Close().ok());

  spec_.sample_rate = 0.25;
  auto some = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(some.ok());
  int taken = 0;
  for (int i = 0; i < 20000; ++i)
    taken += (*some)->Sample() ? 1 : 0;
  // Binomial(20000, 0.25): mean 5000, sd 61; 10 sd either side.
  EXPECT_GT(taken, 4390);
  EXPECT_LT(taken, 5610);
  EXPECT_EQ((*some)->Counts().sampled, static_cast<std::uint64_t>(taken));
}

TEST_F(ServingLogTest, ValuesCopiedFromTheResponseEqualRenderedOnes) {
  // Two views, two entities, values of every type the response renders differently.
  LoggedRequest r;
  r.served_at = 7;
  r.at = 3;
  r.entity_json = {"{\"k\":\"x\"}", "{\"k\":\"y\"}"};
  for (const char* view : {"v1", "v2"}) {
    LoggedLookup l;
    l.view = view;
    l.source_version = "s";
    l.definition_hash = "d";
    for (int e = 0; e < 2; ++e) {
      std::vector<engine::OnlineFeature> features;
      engine::OnlineFeature d(types::LogicalType::kDouble);
      d.name = "d\"q";
      d.status = engine::FeatureStatus::kPresent;
      d.value.AppendDouble(e == 0 ? 0.1 : -1e300);
      engine::OnlineFeature t(types::LogicalType::kString);
      t.name = "t";
      t.status = engine::FeatureStatus::kExpired;
      t.value.AppendString(e == 0 ? "a\"b\n" : "");
      features.push_back(std::move(d));
      if (std::string(view) == "v2") features.push_back(std::move(t));
      l.entities.push_back(std::move(features));
    }
    r.lookups.push_back(std::move(l));
  }
  FeatureRequest request;
  request.entity_json = r.entity_json;
  std::vector<ViewResult> results;
  std::vector<ServedLookup> lookups;
  for (const auto& l : r.lookups) {
    ViewResult v;
    v.view = l.view;
    v.entities = l.entities;
    results.push_back(std::move(v));
    lookups.push_back(ServedLookup{l.view, l.source_version, l.definition_hash, &l.entities});
  }
  std::vector<FeatureSpans> spans;
  const std::string body = RenderFeatureResponse(request, 3, results, &spans);
  ASSERT_EQ(spans.size(), 6U);
  EXPECT_EQ(body.substr(spans[0].value.offset, spans[0].value.length), "0.10000000000000001");
  EXPECT_EQ(body.substr(spans[0].name.offset, spans[0].name.length), "d\\\"q");

  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok());
  (*log)->Submit(r);
  ASSERT_TRUE((*log)->Flush().ok());
  const std::vector<std::string> rendered = Rows();
  const RenderedValues values{body, &spans};
  (*log)->Submit(r.served_at, r.at, r.entity_json, lookups, &values);
  ASSERT_TRUE((*log)->Flush().ok());
  const std::vector<std::string> all = Rows();
  ASSERT_EQ(rendered.size(), 4U);
  ASSERT_EQ(all.size(), 8U);
  for (std::size_t i = 0; i < 4; ++i) {
    // Request 0 rendered, request 1 copied: equal apart from the request number.
    const std::string copied = all[4 + i];
    EXPECT_EQ(rendered[i].substr(0, 4), "7|3|");
    EXPECT_EQ(copied.substr(0, 6), "7|3|1|");
    EXPECT_EQ(rendered[i].substr(6), copied.substr(6));
  }
  EXPECT_NE(rendered[3].find("\"t\":{\"value\":\"\",\"status\":\"expired\"}"), std::string::npos)
      << rendered[3];

  // Spans that do not match the lookups are not trusted: the values are rendered.
  std::vector<FeatureSpans> short_spans(spans.begin(), spans.begin() + 2);
  const RenderedValues wrong{body, &short_spans};
  (*log)->Submit(r.served_at, r.at, r.entity_json, lookups, &wrong);
  ASSERT_TRUE((*log)->Flush().ok());
  const std::vector<std::string> again = Rows();
  ASSERT_EQ(again.size(), 12U);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(rendered[i].substr(6), again[8 + i].substr(6));

  // Nor are spans that point past the response's end.
  std::vector<FeatureSpans> outside = spans;
  outside.back().value.offset = static_cast<std::uint32_t>(body.size());
  outside.back().value.length = 3;
  const RenderedValues past{body, &outside};
  (*log)->Submit(r.served_at, r.at, r.entity_json, lookups, &past);
  ASSERT_TRUE((*log)->Flush().ok());
  const std::vector<std::string> third = Rows();
  ASSERT_EQ(third.size(), 16U);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(rendered[i].substr(6), third[12 + i].substr(6));
}

TEST_F(ServingLogTest, CopiedNamesAndValuesOfEveryShortLengthAreExact) {
  // The copy of a name or value takes a different path by length (under 4, 4-7, 8-15, 16-32,
  // longer): names and values of every length from 1 to 40 bytes, each byte distinct from its
  // neighbours, are logged exactly as the rendered ones.
  LoggedRequest r;
  r.served_at = 9;
  r.at = 4;
  r.entity_json = {"{\"k\":1}"};
  LoggedLookup l;
  l.view = "v";
  l.source_version = "s";
  l.definition_hash = "d";
  std::vector<engine::OnlineFeature> features;
  for (int n = 1; n <= 40; ++n) {
    engine::OnlineFeature f(types::LogicalType::kString);
    for (int i = 0; i < n; ++i)
      f.name += static_cast<char>('a' + (n + i) % 26);
    std::string value;
    for (int i = 0; i + 2 < n; ++i)  // rendered with its quotes: n bytes in the response
      value += static_cast<char>('A' + (3 * n + i) % 26);
    f.status = engine::FeatureStatus::kPresent;
    f.value.AppendString(value);
    features.push_back(std::move(f));
  }
  l.entities.push_back(std::move(features));
  r.lookups.push_back(std::move(l));
  FeatureRequest request;
  request.entity_json = r.entity_json;
  std::vector<ViewResult> results(1);
  results[0].view = "v";
  results[0].entities = r.lookups[0].entities;
  const std::vector<ServedLookup> lookups = {{"v", "s", "d", &r.lookups[0].entities}};
  std::vector<FeatureSpans> spans;
  const std::string body = RenderFeatureResponse(request, 4, results, &spans);
  ASSERT_EQ(spans.size(), 40U);

  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok());
  (*log)->Submit(r);
  const RenderedValues values{body, &spans};
  (*log)->Submit(r.served_at, r.at, r.entity_json, lookups, &values);
  ASSERT_TRUE((*log)->Flush().ok());
  const std::vector<std::string> rows = Rows();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].substr(0, 6), "9|4|0|");
  EXPECT_EQ(rows[1].substr(0, 6), "9|4|1|");
  EXPECT_EQ(rows[0].substr(6), rows[1].substr(6));
  EXPECT_NE(rows[1].find("\"abcdefghijklmnopqrstuvwxyz\":{\"value\":\"ABCDEFGHIJKLMNOPQRSTUVWX\"}"),
            std::string::npos)
      << rows[1];
}

TEST_F(ServingLogTest, ConcurrentRequestThreadsLoseNothingButCountedDrops) {
  spec_.queue = 300;
  spec_.flush_rows = 50;
  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok());
  constexpr int kThreads = 4;
  constexpr int kRequests = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i) {
        (*log)->Submit(Request(t * 100000 + i, 1 + i % 3));
        if (i % 100 == 0) {
          EXPECT_TRUE((*log)->Flush().ok());
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();
  ASSERT_TRUE((*log)->Close().ok());
  const ServingLogCounts c = (*log)->Counts();
  // Every row of every request not dropped is published; requests are numbered once each.
  const std::vector<std::string> rows = Rows();
  EXPECT_EQ(c.rows, rows.size());
  EXPECT_EQ(c.pending_rows, 0U);
  std::uint64_t expected_rows = 0;
  for (int i = 0; i < kRequests; ++i)
    expected_rows += 1 + i % 3;
  expected_rows *= kThreads;
  EXPECT_LE(c.rows, expected_rows);
  std::set<std::string> requests;
  for (const auto& row : rows)
    requests.insert(row.substr(0, row.find('|', row.find('|', row.find('|') + 1) + 1)));
  EXPECT_EQ(requests.size() + c.dropped, static_cast<std::size_t>(kThreads * kRequests));
}

// Rows keep the view, source version and definition they were served with, whichever thread's
// buffer they were written into, across a reload (a new source version) and across publishes
// (the writer's dictionaries start over with each part).
TEST_F(ServingLogTest, EachRowKeepsTheVersionItWasServedFrom) {
  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok());
  // Request i: view v from src1 before its thread's reload and src2 after (src3 in the second
  // part), view w always from w-src; served_at = i, so each row says which request it was.
  auto submit = [&](int i, const std::string& source) {
    LoggedRequest r = Request(i, 1);
    r.served_at = i;
    r.lookups[0].source_version = source;
    LoggedLookup w = r.lookups[0];
    w.view = "w";
    w.source_version = "w-src";
    w.definition_hash = "w-def";
    r.lookups.push_back(std::move(w));
    (*log)->Submit(r);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * 40; i < t * 40 + 40; ++i)
        submit(i, i % 40 < 20 ? "src1" : "src2");
    });
  }
  for (auto& th : threads)
    th.join();
  ASSERT_TRUE((*log)->Flush().ok());
  for (int i = 120; i < 130; ++i)
    submit(i, "src3");
  ASSERT_TRUE((*log)->Close().ok());
  EXPECT_EQ((*log)->Counts().versions, 2U);

  auto current = lake_->Current("serving_log");
  ASSERT_TRUE(current.ok() && *current);
  std::string files;
  for (const auto& f : lake_->DataFiles(**current))
    files += (files.empty() ? "" : ", ") + warehouse::QuoteLiteral(f.string());
  auto db = warehouse::DuckDb::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto rows = db->Query(
      "SELECT epoch_us(served_at) AS i, request, view, source_version, definition FROM "
      "read_parquet([" +
      files + "]) ORDER BY i, view");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->num_rows(), 260U);
  std::set<std::int64_t> requests;
  for (std::size_t r = 0; r < rows->num_rows(); r += 2) {
    const std::int64_t i = rows->column(0).GetInt64(r);
    ASSERT_EQ(i, static_cast<std::int64_t>(r / 2));
    const std::string expected = i >= 120 ? "src3" : i % 40 < 20 ? "src1" : "src2";
    EXPECT_EQ(rows->column(2).GetString(r), "v");
    EXPECT_EQ(rows->column(3).GetString(r), expected) << "request " << i;
    EXPECT_EQ(rows->column(4).GetString(r), "def1");
    EXPECT_EQ(rows->column(0).GetInt64(r + 1), i);
    EXPECT_EQ(rows->column(2).GetString(r + 1), "w");
    EXPECT_EQ(rows->column(3).GetString(r + 1), "w-src");
    EXPECT_EQ(rows->column(4).GetString(r + 1), "w-def");
    // Both rows of a request carry its number; each request has its own.
    EXPECT_EQ(rows->column(1).GetInt64(r), rows->column(1).GetInt64(r + 1));
    requests.insert(rows->column(1).GetInt64(r));
  }
  EXPECT_EQ(requests.size(), 130U);
}

// The writer moves rows out of the request threads' buffers into its own every few thousand rows,
// long before it publishes them: rows moved at different times (here three rounds, a reload
// between them, two views) go into one part with their own entity, features, view, version and
// request number.
TEST_F(ServingLogTest, RowsMovedToTheWriterBeforeThePublishKeepEverything) {
  spec_.queue = 100000;
  auto log = ServingLog::Open(lake_->root(), spec_, clock_);
  ASSERT_TRUE(log.ok());
  constexpr int kPerRound = 3000;  // more than the writer lets a buffer hold before moving it
  for (int round = 0; round < 3; ++round) {
    for (int i = round * kPerRound; i < (round + 1) * kPerRound; ++i) {
      LoggedRequest r = Request(i, 1);
      r.served_at = i;
      r.entity_json[0] = "{\"user_id\":" + std::to_string(i) + "}";
      r.lookups[0].source_version = "src" + std::to_string(round);
      LoggedLookup w = r.lookups[0];
      w.view = "w";
      w.source_version = "w-src";
      r.lookups.push_back(std::move(w));
      (*log)->Submit(r);
    }
    // The writer looks every 50 ms: give it the chance to move this round's rows (the test
    // holds either way).
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
  }
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->Counts().versions, 1U);
  EXPECT_EQ((*log)->Counts().dropped, 0U);

  auto current = lake_->Current("serving_log");
  ASSERT_TRUE(current.ok() && *current);
  const std::vector<fs::path> files = lake_->DataFiles(**current);
  ASSERT_EQ(files.size(), 1U);
  auto db = warehouse::DuckDb::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto rows = db->Query(
      "SELECT epoch_us(served_at) AS i, request, view, source_version, definition, entity, "
      "features FROM read_parquet(" +
      warehouse::QuoteLiteral(files[0].string()) + ") ORDER BY i, view");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->num_rows(), 2U * 3 * kPerRound);
  const std::string features =
      "{\"a\":{\"value\":0},\"b\":{\"value\":null,\"status\":\"missing\"}}";
  std::set<std::int64_t> requests;
  for (std::size_t r = 0; r < rows->num_rows(); r += 2) {
    const auto i = static_cast<std::int64_t>(r / 2);
    ASSERT_EQ(rows->column(0).GetInt64(r), i);
    ASSERT_EQ(rows->column(0).GetInt64(r + 1), i);
    const std::string entity = "{\"user_id\":" + std::to_string(i) + "}";
    EXPECT_EQ(rows->column(2).GetString(r), "v");
    EXPECT_EQ(rows->column(3).GetString(r), "src" + std::to_string(i / kPerRound)) << i;
    EXPECT_EQ(rows->column(2).GetString(r + 1), "w");
    EXPECT_EQ(rows->column(3).GetString(r + 1), "w-src");
    for (std::size_t row : {r, r + 1}) {
      EXPECT_EQ(rows->column(4).GetString(row), "def1");
      EXPECT_EQ(rows->column(5).GetString(row), entity) << i;
      EXPECT_EQ(rows->column(6).GetString(row), features) << i;
    }
    EXPECT_EQ(rows->column(1).GetInt64(r), rows->column(1).GetInt64(r + 1));
    requests.insert(rows->column(1).GetInt64(r));
  }
  EXPECT_EQ(requests.size(), static_cast<std::size_t>(3 * kPerRound));
}

}  // namespace
}  // namespace sluice::serve
