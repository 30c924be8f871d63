#include "orchestrate/schedule.h"

namespace sluice::orchestrate {
namespace {

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kDay = 86400;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

bool DayMatches(const base::CronSchedule& c, std::int64_t days) {
  std::int64_t y;
  unsigned m, d;
  base::CivilFromDays(days, y, m, d);
  if (!c.months[m]) return false;
  const auto weekday = static_cast<size_t>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  const bool dom = c.days_of_month[d];
  const bool dow = c.days_of_week[weekday];
  if (c.day_of_month_restricted && c.day_of_week_restricted) return dom || dow;
  return dom && dow;
}

// The UTC instant (seconds) a fire at local time `local` happens: its first occurrence, or for a
// local time in a gap the instant shifted forward by the gap.
std::int64_t FromLocal(const TimeZone& zone, std::int64_t local) {
  // Offsets around `local` (zone offsets are within +-26h).
  const std::int64_t before = zone.OffsetAt(local - kDay);
  const std::int64_t later = zone.OffsetAt(local + kDay);
  std::optional<std::int64_t> best;
  for (std::int64_t off : {before, later}) {
    const std::int64_t utc = local - off;
    if (utc + zone.OffsetAt(utc) != local) continue;
    if (!best || utc < *best) best = utc;
  }
  return best ? *best : local - before;
}

}  // namespace

std::optional<base::ProcessingTime> NextFire(const base::CronSchedule& c, const TimeZone& zone,
                                             base::ProcessingTime after) {
  const std::int64_t after_us = after.time_since_epoch().count();
  if (c.is_interval) {
    const std::int64_t step = c.interval.count();
    return base::ProcessingTime(base::Duration((FloorDiv(after_us, step) + 1) * step));
  }
  const std::int64_t after_s = FloorDiv(after_us, 1'000'000);
  // Local times map to UTC in order except around a daylight-saving change, which moves a local
  // time by at most kMaxShift: look that far before `after`'s local time (a skipped 02:30 fires
  // at 03:30) and that far past the first match for an earlier one.
  constexpr std::int64_t kMaxShift = 3 * 3600;
  const std::int64_t local_from = after_s + zone.OffsetAt(after_s) - kMaxShift;
  std::optional<std::int64_t> best_us;
  std::optional<std::int64_t> stop_local;
  const std::int64_t first_day = FloorDiv(local_from, kDay);
  for (std::int64_t day = first_day; day < first_day + 8 * 366 + 2; ++day) {
    if (stop_local && day * kDay > *stop_local) break;
    if (!DayMatches(c, day)) continue;
    for (size_t h = 0; h < 24; ++h) {
      if (!c.hours[h]) continue;
      for (size_t m = 0; m < 60; ++m) {
        if (!c.minutes[m]) continue;
        const std::int64_t local = day * kDay + static_cast<std::int64_t>(h) * 3600 +
                                   static_cast<std::int64_t>(m) * kMinute;
        if (local < local_from) continue;
        if (stop_local && local > *stop_local) break;
        // Compared in microseconds: `after` may carry a fraction of a second.
        const std::int64_t utc_us = FromLocal(zone, local) * 1'000'000;
        if (utc_us <= after_us) continue;
        if (!best_us || utc_us < *best_us) best_us = utc_us;
        if (!stop_local) stop_local = local + kMaxShift;
      }
    }
  }
  if (best_us) return base::ProcessingTime(base::Duration(*best_us));
  return std::nullopt;
}

std::vector<base::ProcessingTime> DueFires(const base::CronSchedule& c, const TimeZone& zone,
                                           base::ProcessingTime last, base::ProcessingTime now,
                                           CatchUp policy) {
  std::vector<base::ProcessingTime> due;
  base::ProcessingTime t = last;
  while (true) {
    auto next = NextFire(c, zone, t);
    if (!next || *next > now) break;
    if (policy == CatchUp::kAll) {
      if (due.size() == kMaxCatchUp) due.erase(due.begin());
      due.push_back(*next);
    } else {
      due.assign(1, *next);
    }
    t = *next;
    if (policy != CatchUp::kAll && c.is_interval) {
      // Jump to the last interval before now instead of walking every one.
      const std::int64_t step = c.interval.count();
      const std::int64_t last_fire = FloorDiv(now.time_since_epoch().count(), step) * step;
      due.assign(1, base::ProcessingTime(base::Duration(last_fire)));
      break;
    }
  }
  if (policy == CatchUp::kNone && !due.empty() && now - due.back() > kCatchUpGrace) due.clear();
  return due;
}

}  // namespace sluice::orchestrate
