#include "orchestrate/schedule.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::orchestrate {
namespace {

base::ProcessingTime T(const std::string& iso) {
  return base::ProcessingTime(base::Duration(*base::ParseTimestampMicros(iso)));
}
std::int64_t S(const std::string& iso) {
  return *base::ParseTimestampMicros(iso) / 1'000'000;
}
std::string F(std::optional<base::ProcessingTime> t) {
  return t ? base::FormatTime(*t) : "none";
}

base::CronSchedule Cron(const std::string& text) {
  auto c = base::ParseCronSchedule(text);
  EXPECT_TRUE(c.ok()) << text;
  return *c;
}

std::string Next(const std::string& cron, const TimeZone& z, const std::string& after) {
  return F(NextFire(Cron(cron), z, T(after)));
}

// A TZif version 2 file with no transitions and the POSIX rule `rule` (RFC 8536 layout).
std::string TzifWithRule(std::int32_t utoff, const std::string& rule) {
  auto be32 = [](std::int32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i)
      s[static_cast<size_t>(i)] =
          static_cast<char>((static_cast<std::uint32_t>(v) >> (24 - 8 * i)) & 0xff);
    return s;
  };
  std::string header = std::string("TZif2") + std::string(15, '\0') + be32(0) + be32(0) + be32(0) +
                       be32(0) + be32(1) + be32(4);
  std::string block = be32(utoff) + std::string("\0\0", 2) + std::string("XXX\0", 4);
  return header + block + header + block + "\n" + rule + "\n";
}

TEST(TimeZoneTest, BerlinOffsetsAroundDaylightSavingChanges) {
  auto z = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(z->OffsetAt(S("2026-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(z->OffsetAt(S("2026-07-01T12:00:00Z")), 7200);
  EXPECT_EQ(z->OffsetAt(S("2026-03-29T00:59:59Z")), 3600);
  EXPECT_EQ(z->OffsetAt(S("2026-03-29T01:00:00Z")), 7200);
  EXPECT_EQ(z->OffsetAt(S("2026-10-25T00:59:59Z")), 7200);
  EXPECT_EQ(z->OffsetAt(S("2026-10-25T01:00:00Z")), 3600);
  // Past the file's transitions (2037), the POSIX rule takes over.
  EXPECT_EQ(z->OffsetAt(S("2045-07-01T00:00:00Z")), 7200);
  EXPECT_EQ(z->OffsetAt(S("2045-01-01T00:00:00Z")), 3600);
  EXPECT_EQ(z->OffsetAt(S("2045-03-26T01:00:00Z")), 7200);  // last Sunday of March 2045
  EXPECT_EQ(z->OffsetAt(S("2045-03-26T00:59:59Z")), 3600);
}

TEST(TimeZoneTest, PosixRuleOnItsOwn) {
  auto z = TimeZone::FromTzif(TzifWithRule(-18000, "EST5EDT,M3.2.0,M11.1.0"), "test/NY");
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(z->OffsetAt(S("2026-01-01T00:00:00Z")), -18000);
  EXPECT_EQ(z->OffsetAt(S("2026-03-08T06:59:59Z")), -18000);  // 01:59:59 EST
  EXPECT_EQ(z->OffsetAt(S("2026-03-08T07:00:00Z")), -14400);  // 03:00 EDT
  EXPECT_EQ(z->OffsetAt(S("2026-11-01T05:59:59Z")), -14400);
  EXPECT_EQ(z->OffsetAt(S("2026-11-01T06:00:00Z")), -18000);
  // Southern hemisphere: daylight time spans the new year.
  auto syd = TimeZone::FromTzif(TzifWithRule(36000, "AEST-10AEDT,M10.1.0,M4.1.0/3"), "test/SYD");
  ASSERT_TRUE(syd.ok());
  EXPECT_EQ(syd->OffsetAt(S("2026-01-15T00:00:00Z")), 39600);
  EXPECT_EQ(syd->OffsetAt(S("2026-07-15T00:00:00Z")), 36000);
  auto fixed = TimeZone::FromTzif(TzifWithRule(12600, "<+0330>-3:30"), "test/fixed");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->OffsetAt(S("2026-07-15T00:00:00Z")), 12600);
}

TEST(TimeZoneTest, BadNamesAndFiles) {
  EXPECT_EQ(TimeZone::Load("../etc/passwd").status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(TimeZone::Load("Mars/Olympus_Mons").status().code(), base::StatusCode::kNotFound);
  EXPECT_FALSE(
      TimeZone::FromTzif("not a tzif file at all, long enough to have a header...", "x").ok());
  EXPECT_FALSE(TimeZone::FromTzif(TzifWithRule(0, "XXX0YYY,J60,J300"), "x").ok());
  EXPECT_FALSE(TimeZone::FromTzif(TzifWithRule(0, "XXX0YYY,M13.1.0,M4.1.0"), "x").ok());
  EXPECT_TRUE(TimeZone::Load("UTC").ok());
}

// Offsets outside RFC 8536's range would break the scheduler's local-time arithmetic (it looks
// at most a day either side of a local time); such a file is refused, saying why.
TEST(TimeZoneTest, OffsetsOutsideTheRfcRangeAreRefused) {
  EXPECT_TRUE(TimeZone::FromTzif(TzifWithRule(93599, ""), "x").ok());
  EXPECT_TRUE(TimeZone::FromTzif(TzifWithRule(89999, "<+25>-24:59:59"), "x").ok());
  EXPECT_TRUE(TimeZone::FromTzif(TzifWithRule(-89999, "<-25>24:59:59"), "x").ok());
  auto far_east = TimeZone::FromTzif(TzifWithRule(93600, "<+26>-26"), "test/far");
  ASSERT_FALSE(far_east.ok());
  EXPECT_EQ(far_east.status().code(), base::StatusCode::kCorruption);
  EXPECT_NE(far_east.status().message().find("time zone file of 'test/far'"), std::string::npos);
  EXPECT_NE(far_east.status().message().find("93600"), std::string::npos);
  EXPECT_FALSE(TimeZone::FromTzif(TzifWithRule(-90000, "XXX0"), "x").ok());
  // The POSIX rule's own offsets and change times.
  EXPECT_FALSE(TimeZone::FromTzif(TzifWithRule(0, "XXX25"), "x").ok());
  EXPECT_FALSE(TimeZone::FromTzif(TzifWithRule(0, "XXX0YYY-25,M3.5.0,M10.5.0"), "x").ok());
  EXPECT_TRUE(TimeZone::FromTzif(TzifWithRule(0, "XXX0YYY,M3.5.0/167,M10.5.0/-167"), "x").ok());
  EXPECT_FALSE(TimeZone::FromTzif(TzifWithRule(0, "XXX0YYY,M3.5.0/168,M10.5.0"), "x").ok());
}

// Transition times must ascend (RFC 8536); a file whose do not is refused instead of giving
// offsets from a binary search over an unsorted table.
TEST(TimeZoneTest, TransitionsOutOfOrderAreRefused) {
  auto be = [](std::int64_t v, int n) {
    std::string s(static_cast<size_t>(n), '\0');
    for (int i = 0; i < n; ++i)
      s[static_cast<size_t>(i)] =
          static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * (n - 1 - i))) & 0xff);
    return s;
  };
  auto tzif = [&](std::int64_t first, std::int64_t second) {
    const std::string v1 = std::string("TZif2") + std::string(15, '\0') + be(0, 4) + be(0, 4) +
                           be(0, 4) + be(0, 4) + be(1, 4) + be(4, 4) + be(0, 4) +
                           std::string("\0\0", 2) + std::string("XXX\0", 4);
    const std::string v2_header = std::string("TZif2") + std::string(15, '\0') + be(0, 4) +
                                  be(0, 4) + be(0, 4) + be(2, 4) + be(2, 4) + be(8, 4);
    const std::string v2 = v2_header + be(first, 8) + be(second, 8) + std::string("\0\1", 2) +
                           be(0, 4) + std::string("\0\0", 2) + be(3600, 4) +
                           std::string("\1\4", 2) + std::string("XXX\0YYY\0", 8) + "\n\n";
    return v1 + v2;
  };
  auto ordered = TimeZone::FromTzif(tzif(1000, 2000), "x");
  ASSERT_TRUE(ordered.ok()) << ordered.status().message();
  EXPECT_EQ(ordered->OffsetAt(1500), 0);
  EXPECT_EQ(ordered->OffsetAt(2500), 3600);
  auto reversed = TimeZone::FromTzif(tzif(2000, 1000), "x");
  ASSERT_FALSE(reversed.ok());
  EXPECT_NE(reversed.status().message().find("not after the one before it"), std::string::npos);
}

TEST(NextFireTest, UtcFieldsAndMonthEnds) {
  const TimeZone utc = TimeZone::Utc();
  EXPECT_EQ(Next("30 2 * * *", utc, "2026-01-01T03:00:00Z"), "2026-01-02T02:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", utc, "2026-01-01T02:29:59.5Z"), "2026-01-01T02:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", utc, "2026-01-01T02:30:00Z"), "2026-01-02T02:30:00Z");
  EXPECT_EQ(Next("0 0 31 * *", utc, "2026-01-31T00:00:00Z"), "2026-03-31T00:00:00Z");
  EXPECT_EQ(Next("0 0 29 2 *", utc, "2026-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(Next("@monthly", utc, "2026-01-31T12:00:00Z"), "2026-02-01T00:00:00Z");
  EXPECT_EQ(Next("@yearly", utc, "2026-12-31T23:59:59Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(Next("@weekly", utc, "2026-01-01T00:00:00Z"), "2026-01-04T00:00:00Z");  // a Sunday
  // Both day fields restricted: either matches (Friday 2 January comes before the 13th).
  EXPECT_EQ(Next("0 0 13 * fri", utc, "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00Z");
  EXPECT_EQ(Next("0 0 13 * *", utc, "2026-01-01T00:00:00Z"), "2026-01-13T00:00:00Z");
  EXPECT_EQ(Next("*/20 9-10 * * mon-fri", utc, "2026-01-02T10:40:00Z"), "2026-01-05T09:00:00Z");
  EXPECT_EQ(Next("@every 15m", utc, "2026-01-01T00:07:00Z"), "2026-01-01T00:15:00Z");
  EXPECT_EQ(Next("@every 15m", utc, "2026-01-01T00:15:00Z"), "2026-01-01T00:30:00Z");
  EXPECT_EQ(Next("0 0 30 2 *", utc, "2026-01-01T00:00:00Z"), "none");
}

TEST(NextFireTest, BerlinDaylightSavingChanges) {
  auto z = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(z.ok());
  // Winter: 02:30 CET is 01:30 UTC; summer: 00:30 UTC.
  EXPECT_EQ(Next("30 2 * * *", *z, "2026-01-10T00:00:00Z"), "2026-01-10T01:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", *z, "2026-07-10T00:00:00Z"), "2026-07-10T00:30:00Z");
  // Spring forward (29 March, 02:00 -> 03:00): 02:30 does not exist and fires at 03:30 CEST.
  EXPECT_EQ(Next("30 2 * * *", *z, "2026-03-28T02:00:00Z"), "2026-03-29T01:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", *z, "2026-03-29T01:30:00Z"), "2026-03-30T00:30:00Z");
  // Hourly across it: 01:00 CET, then 03:00 CEST once (02:00 is the gap), then 04:00 CEST.
  EXPECT_EQ(Next("0 * * * *", *z, "2026-03-29T00:00:00Z"), "2026-03-29T01:00:00Z");
  EXPECT_EQ(Next("0 * * * *", *z, "2026-03-29T01:00:00Z"), "2026-03-29T02:00:00Z");
  // Fall back (25 October, 03:00 -> 02:00): 02:30 happens twice and fires once, the first time.
  EXPECT_EQ(Next("30 2 * * *", *z, "2026-10-24T12:00:00Z"), "2026-10-25T00:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", *z, "2026-10-25T00:30:00Z"), "2026-10-26T01:30:00Z");
  // A timer two hours apart locally: 02:00 CEST (00:00Z), 02:00 CET is skipped, 03:00 CET.
  EXPECT_EQ(Next("0 * * * *", *z, "2026-10-25T00:00:00Z"), "2026-10-25T02:00:00Z");
  // Day boundaries are local: midnight in Berlin is 23:00 UTC in winter.
  EXPECT_EQ(Next("@daily", *z, "2026-01-10T12:00:00Z"), "2026-01-10T23:00:00Z");
}

TEST(DueFiresTest, CatchUpPolicies) {
  const TimeZone utc = TimeZone::Utc();
  const auto daily = Cron("0 2 * * *");
  auto fmt = [](const std::vector<base::ProcessingTime>& v) {
    std::string out;
    for (auto t : v)
      out += base::FormatTime(t) + " ";
    return out;
  };
  const auto last = T("2026-01-01T02:00:00Z");
  const auto now = T("2026-01-05T03:00:00Z");
  EXPECT_EQ(fmt(DueFires(daily, utc, last, now, CatchUp::kAll)),
            "2026-01-02T02:00:00Z 2026-01-03T02:00:00Z 2026-01-04T02:00:00Z "
            "2026-01-05T02:00:00Z ");
  EXPECT_EQ(fmt(DueFires(daily, utc, last, now, CatchUp::kLatest)), "2026-01-05T02:00:00Z ");
  EXPECT_EQ(fmt(DueFires(daily, utc, last, now, CatchUp::kNone)), "");
  // On time (within the grace): every policy runs it.
  const auto on_time = T("2026-01-05T02:00:30Z");
  EXPECT_EQ(fmt(DueFires(daily, utc, T("2026-01-04T02:00:00Z"), on_time, CatchUp::kNone)),
            "2026-01-05T02:00:00Z ");
  EXPECT_EQ(fmt(DueFires(daily, utc, on_time, on_time, CatchUp::kAll)), "");
  // Intervals: latest jumps straight to the last one.
  const auto every = Cron("@every 10m");
  EXPECT_EQ(fmt(DueFires(every, utc, T("2026-01-01T00:00:00Z"), T("2026-03-01T00:05:00Z"),
                         CatchUp::kLatest)),
            "2026-03-01T00:00:00Z ");
  EXPECT_EQ(
      DueFires(every, utc, T("2026-01-01T00:00:00Z"), T("2026-01-01T01:00:00Z"), CatchUp::kAll)
          .size(),
      6u);
}

}  // namespace
}  // namespace sluice::orchestrate
