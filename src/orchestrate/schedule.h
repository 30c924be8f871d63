#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "base/cron.h"
#include "base/time.h"
#include "orchestrate/time_zone.h"

namespace sluice::orchestrate {

// What the scheduler does with fire times it missed (downtime, a stalled machine).
enum class CatchUp {
  kNone,    // skip them; only a fire less than kCatchUpGrace late still runs
  kLatest,  // run the most recent one
  kAll,     // run every one, oldest first (at most kMaxCatchUp)
};

inline constexpr base::Duration kCatchUpGrace = std::chrono::minutes(1);
inline constexpr std::size_t kMaxCatchUp = 10'000;

// The first fire time strictly after `after`. Cron fields are matched in `zone`'s local time:
// a local time that a daylight-saving change skips fires when the gap ends, shifted by the gap
// (02:30 on a spring-forward night fires at 03:30), and one the change repeats fires once, at
// its first occurrence. Intervals ("@every 15m") are aligned to the Unix epoch in UTC. nullopt
// when nothing matches within 8 years (e.g. "0 0 31 2 *").
std::optional<base::ProcessingTime> NextFire(const base::CronSchedule& schedule,
                                             const TimeZone& zone, base::ProcessingTime after);

// The fire times in (last, now] that `policy` says to run now, oldest first.
std::vector<base::ProcessingTime> DueFires(const base::CronSchedule& schedule, const TimeZone& zone,
                                           base::ProcessingTime last, base::ProcessingTime now,
                                           CatchUp policy);

}  // namespace sluice::orchestrate
