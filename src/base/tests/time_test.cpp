#include "base/time.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::base {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("30s"), seconds(30));
  EXPECT_EQ(*ParseDuration("15m"), minutes(15));
  EXPECT_EQ(*ParseDuration("1h"), hours(1));
  EXPECT_EQ(*ParseDuration("7d"), hours(24 * 7));
  EXPECT_EQ(*ParseDuration("2w"), hours(24 * 14));
  EXPECT_EQ(*ParseDuration("5us"), Duration(5));
  EXPECT_EQ(*ParseDuration("0s"), Duration(0));
}

TEST(DurationTest, ParsesCompoundAndFractional) {
  EXPECT_EQ(*ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*ParseDuration("1.5h"), minutes(90));
  EXPECT_EQ(*ParseDuration("0.1s"), milliseconds(100));
  EXPECT_EQ(*ParseDuration("1d12h"), hours(36));
}

struct BadDuration {
  const char* text;
  const char* why;
};

TEST(DurationTest, RejectsMalformedWithReason) {
  const BadDuration cases[] = {
      {"", "empty"},
      {"5", "missing unit"},
      {"h", "expected a number"},
      {"5x", "unknown unit 'x'"},
      {"5 s", "unknown unit ' s'"},
      {"-5s", "negative"},
      {"1.2.3s", "malformed number"},
      {"0.5us", "finer than a microsecond"},
      {"99999999999999999999d", "too large"},
      {"9999999999999w", "too large"},
      {"1hour", "unknown unit 'hour'"},
  };
  for (const auto& c : cases) {
    auto r = ParseDuration(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.why), std::string::npos)
        << c.text << " -> " << r.status().message();
    EXPECT_NE(r.status().message().find(std::string("'") + c.text + "'"), std::string::npos);
  }
}

TEST(DurationTest, FormatsShortestExactForm) {
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(hours(24 * 14)), "14d");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(Duration(1500)), "1ms500us");
  for (const char* text : {"1h30m", "7d", "250ms", "1d2h3m4s5ms6us"}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(*ParseDuration(text))), *ParseDuration(text)) << text;
  }
}

TEST(TimestampTest, ParsesIso8601Forms) {
  EXPECT_EQ(*ParseTimestampMicros("1970-01-01"), 0);
  EXPECT_EQ(*ParseTimestampMicros("1970-01-01T00:00:01Z"), 1'000'000);
  EXPECT_EQ(*ParseTimestampMicros("2024-03-01T12:00:00Z"), 1709294400LL * 1'000'000);
  EXPECT_EQ(*ParseTimestampMicros("2024-03-01 12:00:00"), 1709294400LL * 1'000'000);
  EXPECT_EQ(*ParseTimestampMicros("2024-03-01T12:00"), 1709294400LL * 1'000'000);
  EXPECT_EQ(*ParseTimestampMicros("2024-03-01T14:00:00+02:00"), 1709294400LL * 1'000'000);
  EXPECT_EQ(*ParseTimestampMicros("2024-03-01T06:30:00-0530"), 1709294400LL * 1'000'000);
  EXPECT_EQ(*ParseTimestampMicros("2024-03-01T12:00:00.5Z"), 1709294400LL * 1'000'000 + 500'000);
  EXPECT_EQ(*ParseTimestampMicros("2024-03-01T12:00:00.000001Z"), 1709294400LL * 1'000'000 + 1);
  EXPECT_EQ(*ParseTimestampMicros("1969-12-31T23:59:59Z"), -1'000'000);
  EXPECT_EQ(*ParseTimestampMicros("2024-02-29"), 19782LL * 86'400 * 1'000'000);
}

TEST(TimestampTest, RejectsMalformedWithReason) {
  const BadDuration cases[] = {
      {"", "4-digit year"},
      {"24-03-01", "4-digit year"},
      {"2024/03/01", "'-' after the year"},
      {"2024-13-01", "month 13"},
      {"2023-02-29", "day 29 does not exist in 2023-02"},
      {"2024-04-31", "day 31"},
      {"2024-03-01X12:00", "'T' or a space"},
      {"2024-03-01T25:00:00Z", "hour 25"},
      {"2024-03-01T12:60:00Z", "minute 60"},
      {"2024-03-01T12:00:60Z", "leap seconds"},
      {"2024-03-01T12:00:00.1234567Z", "more than 6 fractional digits"},
      {"2024-03-01T12:00:00.Z", "digits after the decimal point"},
      {"2024-03-01T12:00:00+2", "offset hour"},
      {"2024-03-01T12:00:00+19:00", "offset out of range"},
      {"2024-03-01T12:00:00Zjunk", "after the UTC offset"},
      {"2024-03-01T12:00:00 UTC", "unexpected ' '"},
  };
  for (const auto& c : cases) {
    auto r = ParseTimestampMicros(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.why), std::string::npos)
        << c.text << " -> " << r.status().message();
  }
}

TEST(TimestampTest, FormatRoundTrips) {
  for (const char* text : {"2024-03-01T12:00:00Z", "1969-07-20T20:17:40Z",
                           "2000-02-29T23:59:59.999999Z", "1900-01-01T00:00:00.000001Z"}) {
    auto micros = ParseTimestampMicros(text);
    ASSERT_TRUE(micros.ok()) << text;
    EXPECT_EQ(FormatTimestampMicros(*micros), text);
  }
}

TEST(TimestampTest, CivilDayConversionIsExactOverCenturies) {
  for (std::int64_t days = -800'000; days <= 800'000; days += 997) {
    std::int64_t y = 0;
    unsigned m = 0, d = 0;
    CivilFromDays(days, y, m, d);
    EXPECT_EQ(DaysFromCivil(y, m, d), days);
  }
}

TEST(TimestampTest, EventTimeIsItsOwnType) {
  auto t = ParseEventTime("2024-03-01T12:00:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatTime(*t + std::chrono::hours(1)), "2024-03-01T13:00:00Z");
  // Mixing EventTime and ProcessingTime does not compile; this checks the types differ.
  static_assert(!std::is_same_v<EventTime, ProcessingTime>);
}

}  // namespace
}  // namespace sluice::base
