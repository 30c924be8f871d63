// Drift of two versions through ComputeDrift: the column scheduling must not show in the report.
#include "quality/drift.h"

#include <gtest/gtest.h>

#include "quality/tests/lake_fixture.h"

namespace sluice::quality {
namespace {

using DriftTest = LakeFixture;

// Text before numbers in the schema: the workers take the numbers first, yet the report keeps the
// requested order and has the same figures on one worker or three.
TEST_F(DriftTest, ReportIsInTheRequestedOrderWhateverTheWorkers) {
  DriftSide reference, current;
  reference.label = "ref";
  reference.manifest =
      Publish("ref",
              "SELECT 'v' || (i % 4) AS s, 'w' || (i % 3) AS t, (i * 0.5)::DOUBLE AS x, "
              "(i % 17)::BIGINT AS n FROM range(2000) r(i)");
  current.label = "cur";
  current.manifest =
      Publish("cur",
              "SELECT 'v' || (i % 2) AS s, 'w' || (i % 3) AS t, (i * 0.5 + 300)::DOUBLE AS x, "
              "(i % 17)::BIGINT AS n FROM range(2000) r(i)");
  std::optional<DriftReport> first;
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(threads);
    DriftSettings settings;
    settings.threads = threads;
    auto report = ComputeDrift(*lake_, reference, current, settings);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_EQ(report->columns.size(), 4U);
    EXPECT_EQ(report->columns[0].name, "s");
    EXPECT_EQ(report->columns[0].type, "categorical");
    EXPECT_EQ(report->columns[2].name, "x");
    EXPECT_EQ(report->columns[2].type, "numeric");
    EXPECT_TRUE(report->columns[0].drifted);   // half the values gone
    EXPECT_FALSE(report->columns[1].drifted);  // the same counts
    EXPECT_TRUE(report->columns[2].drifted);   // shifted by 300 (sd 289)
    EXPECT_FALSE(report->columns[3].drifted);
    if (!first) {
      first = *report;
      continue;
    }
    EXPECT_EQ(DriftToJson(*report), DriftToJson(*first));
  }
}

}  // namespace
}  // namespace sluice::quality
