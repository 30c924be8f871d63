// A serving log's JSON features as typed drift columns (served_features.h).
#include "quality/served_features.h"

#include <gtest/gtest.h>

#include "quality/tests/lake_fixture.h"

namespace sluice::quality {
namespace {

class ServedFeaturesTest : public LakeFixture {};

TEST_F(ServedFeaturesTest, FeaturesBecomeTypedColumnsPerView) {
  // Keys with "/" and "~" (a one-hot output of any category text) need JSON-pointer escapes; a
  // NaN double is logged as the string "NaN" and stays numeric.
  lake::Manifest m = Publish(
      "serving_log",
      "SELECT * FROM (VALUES "
      "(TIMESTAMP '2026-01-01 00:00:01', 'a', "
      "'{\"x\":{\"value\":1,\"status\":\"present\"},\"f=a/b~c\":{\"value\":\"hi\",\"status\":"
      "\"present\"},\"flag\":{\"value\":true,\"status\":\"present\"}}'), "
      "(TIMESTAMP '2026-01-01 00:00:02', 'a', "
      "'{\"x\":{\"value\":\"NaN\",\"status\":\"present\"},\"f=a/b~c\":{\"value\":null,\"status\":"
      "\"missing\"},\"flag\":{\"value\":false,\"status\":\"present\"}}'), "
      "(TIMESTAMP '2026-01-01 00:00:03', 'b', '{\"x\":{\"value\":2.5,\"status\":\"present\"}}')"
      ") AS t(served_at, view, features)");
  DriftSide side;
  side.manifest = m;
  // Not a serving log: left alone.
  ASSERT_TRUE(ExpandServingLog(*lake_, side).ok());
  EXPECT_FALSE(side.rows_sql.has_value());

  side.manifest.kind = kServingLogKind;
  ASSERT_TRUE(ExpandServingLog(*lake_, side).ok());
  ASSERT_TRUE(side.rows_sql.has_value());
  EXPECT_EQ(side.time_column, kServingLogTimeColumn);
  const auto& fields = side.manifest.schema.fields();
  ASSERT_EQ(fields.size(), 4U);
  EXPECT_EQ(fields[0].name, "a__f=a/b~c");
  EXPECT_EQ(fields[0].type, types::LogicalType::kString);
  EXPECT_EQ(fields[1].name, "a__flag");
  EXPECT_EQ(fields[1].type, types::LogicalType::kBool);
  EXPECT_EQ(fields[2].name, "a__x");
  EXPECT_EQ(fields[2].type, types::LogicalType::kDouble);
  EXPECT_EQ(fields[3].name, "b__x");
  EXPECT_EQ(fields[3].type, types::LogicalType::kDouble);

  auto rows = db_->Query(
      "SELECT concat_ws('|', epoch(served_at)::BIGINT, coalesce(\"a__f=a/b~c\", '-'), "
      "coalesce(a__flag::VARCHAR, '-'), coalesce(a__x::VARCHAR, '-'), coalesce(b__x::VARCHAR, "
      "'-')) FROM (" +
      *side.rows_sql + ") ORDER BY served_at");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->num_rows(), 3U);
  EXPECT_EQ(rows->column(0).GetString(0), "1767225601|hi|true|1.0|-");
  EXPECT_EQ(rows->column(0).GetString(1), "1767225602|-|false|nan|-");
  EXPECT_EQ(rows->column(0).GetString(2), "1767225603|-|-|-|2.5");
}

TEST_F(ServedFeaturesTest, AnEmptyLogHasNoFeatureColumns) {
  lake::Manifest m = Publish("serving_log",
                             "SELECT TIMESTAMP '2026-01-01' AS served_at, 'a' AS view, '{}' AS "
                             "features WHERE false");
  DriftSide side;
  side.manifest = m;
  side.manifest.kind = kServingLogKind;
  ASSERT_TRUE(ExpandServingLog(*lake_, side).ok());
  EXPECT_EQ(side.manifest.schema.fields().size(), 0U);
  auto rows = db_->Query("SELECT count(*) FROM (" + *side.rows_sql + ")");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
}

TEST_F(ServedFeaturesTest, DriftAgainstATrainingSetComparesWhatWasServed) {
  // The training set has keys, a timestamp and a label besides the features; the log renders a
  // timestamp feature as ISO-8601 text. The same values on both sides: nothing drifts, and only
  // the served features are compared (the time feature as a time, not as text).
  DriftSide reference;
  reference.label = "train";
  reference.manifest = Publish("train",
                               "SELECT i AS user_id, TIMESTAMP '2026-01-02' AS ts, i % 2 AS label, "
                               "TIMESTAMP '2026-01-01' + to_seconds(i) AS v__t, CAST(i * 1.5 AS "
                               "DOUBLE) AS v__x FROM range(50) AS r(i)");
  DriftSide current;
  current.label = "log";
  current.manifest =
      Publish("serving_log",
              "SELECT TIMESTAMP '2026-01-03' AS served_at, 'v' AS view, '{\"t\":{\"value\":\"' || "
              "strftime(TIMESTAMP '2026-01-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%SZ') || "
              "'\",\"status\":\"present\"},\"x\":{\"value\":' || (i * 1.5) || "
              "',\"status\":\"present\"}}' AS features FROM range(50) AS r(i)");
  current.manifest.kind = kServingLogKind;
  ASSERT_TRUE(ExpandServingLog(*lake_, current).ok());

  DriftSettings settings;
  settings.threads = 1;
  auto report = ComputeDrift(*lake_, reference, current, settings);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->columns.size(), 2U);
  for (const auto& c : report->columns) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(c.compared) << c.note;
    EXPECT_EQ(c.type, "numeric");
    EXPECT_EQ(c.current_values, 50);
    EXPECT_FALSE(c.drifted);
    ASSERT_TRUE(c.statistic.has_value());
    EXPECT_EQ(*c.statistic, 0.0);
  }
  EXPECT_EQ(report->columns[0].name, "v__t");
  EXPECT_EQ(report->columns[1].name, "v__x");
  EXPECT_FALSE(report->dataset_drift);
}

}  // namespace
}  // namespace sluice::quality
