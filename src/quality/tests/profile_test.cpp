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

}  // namespace
}  // namespace sluice::quality
