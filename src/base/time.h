#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::base {

// All sluice time is microsecond precision, matching DuckDB's TIMESTAMP.
using Duration = std::chrono::microseconds;

// The clock of the data: when an event happened, as recorded in the event itself. It has no
// now(); event time only comes from data. Kept a distinct type from processing time so the two
// cannot be mixed up by accident (a compile error, not a skew bug).
struct EventClock {
  using rep = std::int64_t;
  using period = std::micro;
  using duration = std::chrono::microseconds;
  using time_point = std::chrono::time_point<EventClock, duration>;
  static constexpr bool is_steady = false;
};
using EventTime = EventClock::time_point;

// The wall clock of the machine running sluice: when something was processed. Read it only
// through an injected base::Clock.
using ProcessingTime = std::chrono::time_point<std::chrono::system_clock, Duration>;

// Parses "250ms", "30s", "15m", "1h", "7d", "2w", also compound "1h30m" and "1.5h". Units: us,
// ms, s, m, h, d, w. Rejects empty strings, missing units, negative values and overflow.
Result<Duration> ParseDuration(std::string_view text);
// Shortest exact form: 90s -> "1m30s", 0 -> "0s".
std::string FormatDuration(Duration d);

// Parses ISO-8601 / RFC 3339 instants: "2024-03-01", "2024-03-01T12:00:00Z",
// "2024-03-01 12:00:00.123456+02:00", "...-0530". No offset means UTC. Up to 6 fractional
// digits (more is an error, not silent truncation).
Result<std::int64_t> ParseTimestampMicros(std::string_view text);
Result<EventTime> ParseEventTime(std::string_view text);

// "2024-03-01T12:00:00Z", or with ".123456" when there are fractional microseconds.
std::string FormatTimestampMicros(std::int64_t micros_since_epoch);
inline std::string FormatTime(EventTime t) {
  return FormatTimestampMicros(t.time_since_epoch().count());
}
inline std::string FormatTime(ProcessingTime t) {
  return FormatTimestampMicros(t.time_since_epoch().count());
}

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day);
void CivilFromDays(std::int64_t days, std::int64_t& year, unsigned& month, unsigned& day);

}  // namespace sluice::base
