#include "cli/progress_meter.h"

#include <gtest/gtest.h>

namespace sluice::cli {
namespace {

TEST(ProgressMeterTest, RendersRowsRateAndEta) {
  base::ManualClock clock(base::ProcessingTime(base::Duration(0)));
  ProgressMeter meter("rows", 1'000'000, clock, /*enabled_for_terminal_only=*/true);
  clock.Advance(std::chrono::seconds(10));
  EXPECT_EQ(meter.Render(250'000), "rows 250.0k/1.0M  25%  25.0k rows/s  ETA 0m30s");
}

TEST(ProgressMeterTest, UnknownTotalShowsCountAndRateOnly) {
  base::ManualClock clock(base::ProcessingTime(base::Duration(0)));
  ProgressMeter meter("events", 0, clock);
  clock.Advance(std::chrono::seconds(2));
  EXPECT_EQ(meter.Render(3'000'000), "events 3.0M  1.5M rows/s");
}

TEST(HumanUnitsTest, CountsAndBytes) {
  EXPECT_EQ(HumanCount(999), "999");
  EXPECT_EQ(HumanCount(12'345), "12.3k");
  EXPECT_EQ(HumanCount(4.5e9), "4.5G");
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(3ULL << 30), "3.0 GiB");
}

}  // namespace
}  // namespace sluice::cli
