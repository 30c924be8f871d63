#pragma once

#include <bitset>
#include <string_view>

#include "base/result.h"
#include "base/time.h"

namespace sluice::base {

// A parsed `schedule:`: a 5-field cron line (or a macro standing for one), or a fixed interval.
struct CronSchedule {
  bool is_interval = false;
  Duration interval{0};  // "@every 15m" or a bare "15m"
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bits 1-31
  std::bitset<13> months;         // bits 1-12
  std::bitset<7> days_of_week;    // 0 = Sunday (7 in the text is Sunday too)
  // Vixie cron's rule: when both day fields are restricted, a day matches if either does.
  bool day_of_month_restricted = false;
  bool day_of_week_restricted = false;
};

// Parses "@hourly", "@daily"/"@midnight", "@weekly", "@monthly", "@yearly"/"@annually",
// "@every <duration>", a bare duration ("15m"), or 5 fields "minute hour day-of-month month
// day-of-week" with `*`, values, ranges `a-b`, steps `*/n`, `a-b/n`, `a/n`, lists `a,b`, and
// names (jan-dec, sun-sat, any case). InvalidArgument says which field is wrong and why.
Result<CronSchedule> ParseCronSchedule(std::string_view text);

}  // namespace sluice::base
