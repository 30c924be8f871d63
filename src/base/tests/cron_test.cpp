#include "base/cron.h"

#include <gtest/gtest.h>

namespace sluice::base {
namespace {

TEST(CronScheduleTest, FieldsRangesStepsListsAndNames) {
  auto c = ParseCronSchedule("*/15 9-17/4 1,15 jan-MAR mon-fri");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->is_interval);
  EXPECT_EQ(c->minutes.count(), 4u);
  EXPECT_TRUE(c->minutes[0] && c->minutes[15] && c->minutes[30] && c->minutes[45]);
  EXPECT_EQ(c->hours.count(), 3u);  // 9, 13, 17
  EXPECT_TRUE(c->hours[9] && c->hours[13] && c->hours[17]);
  EXPECT_EQ(c->days_of_month.count(), 2u);
  EXPECT_TRUE(c->days_of_month[1] && c->days_of_month[15]);
  EXPECT_EQ(c->months.count(), 3u);
  EXPECT_TRUE(c->months[1] && c->months[3]);
  EXPECT_EQ(c->days_of_week.count(), 5u);
  EXPECT_FALSE(c->days_of_week[0]);
  EXPECT_TRUE(c->day_of_month_restricted && c->day_of_week_restricted);
}

TEST(CronScheduleTest, SevenIsSundayAndValueSlashStepRunsToTheEnd) {
  auto c = ParseCronSchedule("5/20 0 * * 7");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->minutes.count(), 3u);  // 5, 25, 45
  EXPECT_TRUE(c->minutes[5] && c->minutes[25] && c->minutes[45]);
  EXPECT_TRUE(c->days_of_week[0]);
  EXPECT_FALSE(c->day_of_month_restricted);
}

TEST(CronScheduleTest, MacrosAndIntervals) {
  auto daily = ParseCronSchedule("@daily");
  ASSERT_TRUE(daily.ok());
  EXPECT_EQ(daily->minutes.count(), 1u);
  EXPECT_EQ(daily->hours.count(), 1u);
  EXPECT_EQ(daily->days_of_month.count(), 31u);
  auto weekly = ParseCronSchedule("@weekly");
  ASSERT_TRUE(weekly.ok());
  EXPECT_EQ(weekly->days_of_week.count(), 1u);
  auto every = ParseCronSchedule("@every 1h30m");
  ASSERT_TRUE(every.ok());
  EXPECT_TRUE(every->is_interval);
  EXPECT_EQ(every->interval, std::chrono::minutes(90));
  auto bare = ParseCronSchedule("15m");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->interval, std::chrono::minutes(15));
}

TEST(CronScheduleTest, BadInputSaysWhichField) {
  auto msg = [](std::string_view text) { return ParseCronSchedule(text).status().message(); };
  EXPECT_EQ(msg("60 * * * *"), "bad minute field '60' (values 0-59)");
  EXPECT_EQ(msg("* * 0 * *"), "bad day of month field '0' (values 1-31)");
  EXPECT_EQ(msg("* * * 1-13 *"), "bad month field '1-13' (values 1-12, or names)");
  EXPECT_EQ(msg("* * * * fri-mon"), "bad day of week field 'fri-mon' (values 0-7, or names)");
  EXPECT_EQ(msg("*/0 * * * *"), "bad minute field '*/0' (values 0-59)");
  EXPECT_EQ(msg("1,,2 * * * *"), "bad minute field '1,,2' (values 0-59)");
  EXPECT_EQ(msg("* * * *"),
            "a cron line has 5 fields (minute hour day-of-month month day-of-week), got 4");
  EXPECT_EQ(msg("@every 0s"), "the interval must be positive");
  EXPECT_EQ(msg("0s"), "the interval must be positive");
  EXPECT_EQ(msg("soon"), "expected a duration, '@hourly'-style macro or 5-field cron line");
  EXPECT_FALSE(ParseCronSchedule("@often").ok());
}

}  // namespace
}  // namespace sluice::base
