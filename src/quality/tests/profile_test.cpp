#include "quality/profile.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lake/atomic_file.h"
#include "quality/tests/lake_fixture.h"

namespace sluice::quality {
namespace {

using ProfileTest = LakeFixture;

TEST_F(ProfileTest, CountsMomentsQuantilesHistogramAndTop) {
  // x = 1..100, y every third row null, s has 'a' x50, 'b' x30, 'c' x20.
  auto m = Publish("t",
                   "SELECT i::BIGINT AS x, CASE WHEN i % 3 = 0 THEN NULL ELSE i * 0.5 END AS y, "
                   "CASE WHEN i <= 50 THEN 'a' WHEN i <= 80 THEN 'b' ELSE 'c' END AS s "
                   "FROM range(1, 101) r(i)");
  auto p = ComputeProfile(*lake_, m);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->rows, 100);
  const ColumnProfile* x = p->Find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->count, 100);
  EXPECT_EQ(x->nulls, 0);
  EXPECT_EQ(x->distinct, 100);
  EXPECT_DOUBLE_EQ(*x->mean, 50.5);
  EXPECT_NEAR(*x->stddev, std::sqrt(100.0 * 101 / 12), 1e-9);  // sample sd of 1..100
  EXPECT_EQ(*x->min, 1);
  EXPECT_EQ(*x->max, 100);
  ASSERT_EQ(x->quantiles.size(), 7u);
  EXPECT_DOUBLE_EQ(x->quantiles[3], 50.5);    // numpy.percentile(1..100, 50)
  EXPECT_NEAR(x->quantiles[0], 1.99, 1e-12);  // 1 + 0.01 * 99
  ASSERT_EQ(x->histogram.size(), 20u);
  std::int64_t total = 0;
  for (const auto& b : x->histogram)
    total += b.count;
  EXPECT_EQ(total, 100);
  const ColumnProfile* y = p->Find("y");
  EXPECT_EQ(y->nulls, 33);
  EXPECT_EQ(y->count, 67);
  const ColumnProfile* s = p->Find("s");
  ASSERT_EQ(s->top.size(), 3u);
  EXPECT_EQ(s->top[0].value, "a");
  EXPECT_EQ(s->top[0].count, 50);
  EXPECT_EQ(s->top[2].value, "c");
  EXPECT_EQ(*s->min_text, "a");
  EXPECT_FALSE(s->mean.has_value());
}

TEST_F(ProfileTest, JsonRoundTripsAndHasNoNaN) {
  auto m = Publish("t",
                   "SELECT NULL::DOUBLE AS empty, 7.0::DOUBLE AS constant, 'x' AS s, "
                   "TIMESTAMP '2026-01-01 00:00:00' AS ts FROM range(3)");
  auto p = ComputeProfile(*lake_, m);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string json = ProfileToJson(*p);
  EXPECT_EQ(json.find("NaN"), std::string::npos);
  EXPECT_EQ(json.find("nan"), std::string::npos);
  EXPECT_EQ(json.find("inf"), std::string::npos);
  auto back = ParseProfile(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, *p);
  const ColumnProfile* empty = p->Find("empty");
  EXPECT_EQ(empty->nulls, 3);
  EXPECT_FALSE(empty->mean.has_value());
  EXPECT_TRUE(empty->histogram.empty());
  const ColumnProfile* constant = p->Find("constant");
  EXPECT_EQ(*constant->stddev, 0);
  ASSERT_EQ(constant->histogram.size(), 1u);
  EXPECT_EQ(constant->histogram[0].count, 3);
  EXPECT_EQ(*p->Find("ts")->min_text, "2026-01-01 00:00:00");
}

// Every column is a task of the scan, taken heaviest kind first whatever the schema's order:
// text before numbers and dates, with nulls, give the same profile on one worker or three.
TEST_F(ProfileTest, ColumnsOfEveryKindInAnyOrderOnAnyNumberOfWorkers) {
  auto m = Publish("t",
                   "SELECT CASE WHEN i % 4 = 0 THEN NULL ELSE 'v' || (i % 3) END AS s, "
                   "CASE WHEN i % 5 = 0 THEN NULL ELSE TIMESTAMP '2026-01-01 00:00:00' + "
                   "INTERVAL (i % 7) HOUR END AS ts, "
                   "DATE '2026-03-01' + (i % 11)::INTEGER AS d, "
                   "CASE WHEN i % 2 = 0 THEN NULL ELSE i * 0.25 END AS x, i > 30 AS b "
                   "FROM range(1, 101) r(i)");
  ProfileOptions one;
  one.threads = 1;
  auto p = ComputeProfile(*lake_, m, one);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->rows, 100);
  ASSERT_EQ(p->columns.size(), 5u);  // in the schema's order
  EXPECT_EQ(p->columns[0].name, "s");
  EXPECT_EQ(p->columns[4].name, "b");
  const ColumnProfile* ts = p->Find("ts");
  EXPECT_EQ(ts->count, 80);
  EXPECT_EQ(ts->nulls, 20);
  EXPECT_EQ(ts->distinct, 7);
  EXPECT_EQ(*ts->min_text, "2026-01-01 00:00:00");
  EXPECT_EQ(*ts->max_text, "2026-01-01 06:00:00");
  const ColumnProfile* d = p->Find("d");
  EXPECT_EQ(d->count, 100);
  EXPECT_EQ(d->nulls, 0);
  EXPECT_EQ(d->distinct, 11);
  EXPECT_EQ(*d->max_text, "2026-03-11");
  EXPECT_EQ(p->Find("s")->nulls, 25);
  EXPECT_EQ(p->Find("x")->count, 50);
  EXPECT_EQ(p->Find("b")->distinct, 2);
  for (int threads : {2, 3}) {
    ProfileOptions o;
    o.threads = threads;
    auto q = ComputeProfile(*lake_, m, o);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_EQ(*q, *p) << threads << " workers";
  }
}

// A dataset of dates alone: its row count comes from the dates' own task.
TEST_F(ProfileTest, TemporalColumnsAloneGiveTheRowCount) {
  auto m = Publish("t",
                   "SELECT CASE WHEN i < 3 THEN NULL ELSE DATE '2026-01-01' + i::INTEGER END AS d "
                   "FROM range(10) r(i)");
  auto p = ComputeProfile(*lake_, m);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->rows, 10);
  EXPECT_EQ(p->Find("d")->count, 7);
  EXPECT_EQ(p->Find("d")->nulls, 3);
  EXPECT_EQ(*p->Find("d")->min_text, "2026-01-04");
}

TEST_F(ProfileTest, EmptyDatasetHasAProfile) {
  auto m = Publish("t", "SELECT 1::BIGINT AS x, 'a' AS s WHERE false");
  auto p = ComputeProfile(*lake_, m);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->rows, 0);
  EXPECT_EQ(p->Find("x")->count, 0);
  EXPECT_TRUE(p->Find("x")->quantiles.empty());
  EXPECT_EQ(ProfileToJson(*p).find("NaN"), std::string::npos);
}

TEST_F(ProfileTest, StoredBesideTheManifestAndReused) {
  auto m = Publish("t", "SELECT i::BIGINT AS x FROM range(10) r(i)");
  bool computed = false;
  auto first = EnsureProfile(*lake_, m, {}, &computed);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(computed);
  EXPECT_TRUE(std::filesystem::exists(lake_->SidecarPath(m, ".profile.json")));
  auto second = EnsureProfile(*lake_, m, {}, &computed);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(computed);
  EXPECT_EQ(*first, *second);
  // A damaged profile is recomputed, not an error.
  ASSERT_TRUE(lake::WriteFileAtomic(lake_->SidecarPath(m, ".profile.json"), "{oops").ok());
  auto third = EnsureProfile(*lake_, m, {}, &computed);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(computed);
  EXPECT_EQ(*third, *first);
}

TEST_F(ProfileTest, MergeIsExactForCountsExtremesAndMoments) {
  auto a = Publish("a",
                   "SELECT (i * 1.5)::DOUBLE AS x, CASE WHEN i % 4 = 0 THEN 'p' ELSE 'q' END AS s "
                   "FROM range(0, 300) r(i)");
  auto b = Publish("b", "SELECT (i * 0.25 + 40)::DOUBLE AS x, 'q' AS s FROM range(0, 500) r(i)");
  auto all =
      Publish("all",
              "SELECT (i * 1.5)::DOUBLE AS x, CASE WHEN i % 4 = 0 THEN 'p' ELSE 'q' END AS s "
              "FROM range(0, 300) r(i) UNION ALL "
              "SELECT (i * 0.25 + 40)::DOUBLE AS x, 'q' AS s FROM range(0, 500) r(i)");
  auto pa = ComputeProfile(*lake_, a), pb = ComputeProfile(*lake_, b),
       pall = ComputeProfile(*lake_, all);
  ASSERT_TRUE(pa.ok() && pb.ok() && pall.ok());
  const Profile merged = MergeProfiles(*pa, *pb);
  EXPECT_EQ(merged.rows, pall->rows);
  const ColumnProfile* mx = merged.Find("x");
  const ColumnProfile* ex = pall->Find("x");
  EXPECT_EQ(mx->count, ex->count);
  EXPECT_EQ(*mx->min, *ex->min);
  EXPECT_EQ(*mx->max, *ex->max);
  EXPECT_NEAR(*mx->mean, *ex->mean, 1e-9 * std::abs(*ex->mean));
  EXPECT_NEAR(*mx->stddev, *ex->stddev, 1e-9 * *ex->stddev);
  std::int64_t total = 0;
  for (const auto& bin : mx->histogram)
    total += bin.count;
  EXPECT_EQ(total, 800);
  const ColumnProfile* ms = merged.Find("s");
  ASSERT_FALSE(ms->top.empty());
  EXPECT_EQ(ms->top[0].value, "q");
  EXPECT_EQ(ms->top[0].count, pall->Find("s")->top[0].count);
}

// A stream-like dataset: each version keeps its parent's data files and adds one, landed at
// `created_at`.
class SegmentProfileTest : public LakeFixture {
 protected:
  lake::Manifest Land(const std::string& sql, const std::string& created_at,
                      const lake::Manifest* parent) {
    lake::Manifest m = Publish("s", sql);  // stores the file; its version is then extended
    lake::Manifest next;
    next.dataset = "stream";
    next.kind = "source";
    next.created_at = created_at;
    next.schema = m.schema;
    next.inputs = m.inputs;
    if (parent != nullptr) {
      next.outputs = parent->outputs;
      next.parents = {parent->id};
      next.rows = parent->rows;
    }
    next.outputs.push_back(m.outputs[0]);
    next.rows.read += m.rows.read;
    next.rows.loaded += m.rows.loaded;
    auto published = lake_->Publish(next);
    EXPECT_TRUE(published.ok()) << published.status().ToString();
    return published->manifest;
  }
};

TEST_F(SegmentProfileTest, MergedPerHourAndDayFromStoredSegmentProfiles) {
  const std::string rows_a = "SELECT i::DOUBLE AS x, 'a' AS s FROM range(0, 100) r(i)";
  const std::string rows_b = "SELECT i::DOUBLE AS x, 'b' AS s FROM range(100, 250) r(i)";
  const std::string rows_c = "SELECT i::DOUBLE AS x, 'a' AS s FROM range(250, 260) r(i)";
  const auto v1 = Land(rows_a, "2026-01-01T10:05:00Z", nullptr);
  const auto v2 = Land(rows_b, "2026-01-01T10:40:00Z", &v1);
  const auto v3 = Land(rows_c, "2026-01-01T11:10:00Z", &v2);
  auto hours = ProfilesByPeriod(*lake_, "stream", ProfilePeriod::kHour);
  ASSERT_TRUE(hours.ok()) << hours.status().ToString();
  ASSERT_EQ(hours->size(), 2u);
  const PeriodProfile& ten = (*hours)[0];
  EXPECT_EQ(ten.period, "2026-01-01T10:00:00Z");
  EXPECT_EQ(ten.versions, (std::vector<std::string>{v1.id, v2.id}));
  EXPECT_EQ(ten.profile.version, v2.id);
  // Hour 10 holds exactly the rows of version 2 (segments a and b): compare with its full scan.
  auto whole = ComputeProfile(*lake_, v2);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(ten.profile.rows, 250);
  const ColumnProfile* x = ten.profile.Find("x");
  const ColumnProfile* want = whole->Find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->count, want->count);
  EXPECT_EQ(*x->min, *want->min);
  EXPECT_EQ(*x->max, *want->max);
  EXPECT_NEAR(*x->mean, *want->mean, 1e-12 * *want->mean);
  EXPECT_NEAR(*x->stddev, *want->stddev, 1e-9 * *want->stddev);
  EXPECT_EQ(ten.profile.Find("s")->top[0].value, "b");
  EXPECT_EQ(ten.profile.Find("s")->top[0].count, 150);
  const PeriodProfile& eleven = (*hours)[1];
  EXPECT_EQ(eleven.period, "2026-01-01T11:00:00Z");
  EXPECT_EQ(eleven.profile.rows, 10);  // only segment c's rows, not version 3's 260
  EXPECT_EQ(*eleven.profile.Find("x")->min, 250);

  // No rescan: with a segment's Parquet file gone, the stored segment profiles still answer.
  const auto files = lake_->DataFiles(v2);
  std::filesystem::permissions(files[1].parent_path(), std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add);
  ASSERT_TRUE(std::filesystem::remove(files[1]));
  auto days = ProfilesByPeriod(*lake_, "stream", ProfilePeriod::kDay);
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ((*days)[0].period, "2026-01-01T00:00:00Z");
  EXPECT_EQ((*days)[0].profile.rows, 260);
  EXPECT_EQ((*days)[0].versions.size(), 3u);
  EXPECT_EQ((*days)[0].profile.Find("s")->top[0].value, "b");
}

TEST_F(SegmentProfileTest, SnapshotsThatReplaceTheirParentAreRefused) {
  const auto v1 = Land("SELECT 1.0::DOUBLE AS x", "2026-01-01T10:00:00Z", nullptr);
  const auto v2 = Land("SELECT 2.0::DOUBLE AS x", "2026-01-01T10:30:00Z", nullptr);  // no parent
  (void)v1;
  auto periods = ProfilesByPeriod(*lake_, "stream", ProfilePeriod::kHour);
  ASSERT_FALSE(periods.ok());
  EXPECT_EQ(periods.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_NE(periods.status().message().find(v2.id.substr(0, 12)), std::string::npos);
  EXPECT_EQ(ProfilesByPeriod(*lake_, "nosuch", ProfilePeriod::kDay).status().code(),
            base::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice::quality
