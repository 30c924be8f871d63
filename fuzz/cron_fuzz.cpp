// Schedules (`schedule:` in sluice.yaml) are typed by people. Whatever parses must give fire
// times the scheduler can trust: strictly after the instant asked about, on a minute the fields
// allow (in UTC, where local time is UTC), and on the interval's grid for "@every".
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "base/cron.h"
#include "base/time.h"
#include "orchestrate/schedule.h"
#include "orchestrate/time_zone.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sluice::base::ProcessingTime;
  // The first 4 bytes pick the instant (seconds from 1970 to about 2106); the rest is the text.
  if (size < 4) return 0;
  std::uint32_t seconds = 0;
  std::memcpy(&seconds, data, 4);
  const std::string_view text(reinterpret_cast<const char*>(data + 4), size - 4);
  auto schedule = sluice::base::ParseCronSchedule(text);
  if (!schedule.ok()) {
    if (schedule.status().message().empty()) __builtin_trap();  // a refusal must say why
    return 0;
  }
  const ProcessingTime after{sluice::base::Duration(std::int64_t{seconds} * 1'000'000 + 123)};
  const auto utc = sluice::orchestrate::TimeZone::Utc();
  const auto next = sluice::orchestrate::NextFire(*schedule, utc, after);
  if (!next) {
    if (schedule->is_interval) __builtin_trap();  // an interval always fires again
    return 0;
  }
  if (*next <= after) __builtin_trap();
  const std::int64_t us = next->time_since_epoch().count();
  if (schedule->is_interval) {
    const std::int64_t step = schedule->interval.count();
    if (us % step != 0 || *next - after > schedule->interval) __builtin_trap();
    return 0;
  }
  if (us % 60'000'000 != 0) __builtin_trap();  // cron fires on whole minutes
  const std::int64_t s = us / 1'000'000;
  const std::int64_t days = s / 86400;
  std::int64_t year;
  unsigned month, day;
  sluice::base::CivilFromDays(days, year, month, day);
  if (!schedule->minutes[static_cast<std::size_t>(s / 60 % 60)] ||
      !schedule->hours[static_cast<std::size_t>(s / 3600 % 24)] || !schedule->months[month]) {
    __builtin_trap();
  }
  return 0;
}
