#include "base/clock.h"

#include <gtest/gtest.h>

namespace sluice::base {
namespace {

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(ProcessingTime(Duration(1'000)));
  EXPECT_EQ(clock.Now().time_since_epoch().count(), 1'000);
  clock.Advance(std::chrono::seconds(2));
  EXPECT_EQ(clock.Now().time_since_epoch().count(), 2'001'000);
  clock.Set(ProcessingTime(Duration(5)));
  EXPECT_EQ(clock.Now().time_since_epoch().count(), 5);
}

TEST(ManualClockTest, SleepAdvancesToDeadlineButNeverBack) {
  ManualClock clock(ProcessingTime(Duration(100)));
  clock.SleepFor(std::chrono::milliseconds(1));
  EXPECT_EQ(clock.Now().time_since_epoch().count(), 1'100);
  clock.SleepUntil(ProcessingTime(Duration(50)));
  EXPECT_EQ(clock.Now().time_since_epoch().count(), 1'100);
}

TEST(SystemClockTest, IsMonotonicEnoughAndRecent) {
  auto a = SystemClock::Instance().Now();
  auto b = SystemClock::Instance().Now();
  EXPECT_LE(a, b);
  // After 2020-01-01: catches a clock that returns the epoch or garbage.
  EXPECT_GT(a.time_since_epoch().count(), 1577836800LL * 1'000'000);
}

}  // namespace
}  // namespace sluice::base
