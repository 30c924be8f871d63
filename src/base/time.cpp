#include "base/time.h"

#include <array>
#include <cstdio>
#include <limits>

namespace sluice::base {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

struct Unit {
  std::string_view name;
  std::int64_t micros;
};
// Longest names first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 7> kUnits = {{{"us", 1},
                                         {"ms", 1'000},
                                         {"s", kMicrosPerSecond},
                                         {"m", 60 * kMicrosPerSecond},
                                         {"h", 3'600 * kMicrosPerSecond},
                                         {"d", kMicrosPerDay},
                                         {"w", 7 * kMicrosPerDay}}};

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

Status DurationError(std::string_view text, std::string why) {
  return InvalidArgument("invalid duration '" + std::string(text) + "': " + why +
                         " (expected e.g. 250ms, 30s, 15m, 1h, 7d; units us, ms, s, m, h, d, w)");
}

Status TimestampError(std::string_view text, std::string why) {
  return InvalidArgument("invalid timestamp '" + std::string(text) + "': " + why +
                         " (expected ISO-8601, e.g. 2024-03-01T12:00:00Z or "
                         "2024-03-01 12:00:00.5+02:00)");
}

// Reads exactly `n` digits at `pos`.
bool ReadDigits(std::string_view s, size_t& pos, int n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool IsLeap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned DaysInMonth(std::int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return DurationError(text, "empty");
  if (text.front() == '-') return DurationError(text, "negative durations are not allowed");
  constexpr __int128 kMax = std::numeric_limits<std::int64_t>::max();
  size_t pos = 0;
  __int128 total = 0;
  while (pos < text.size()) {
    size_t start = pos;
    // Integer and fraction are read as integers so "0.1s" is exactly 100000us.
    __int128 whole = 0, frac = 0, frac_scale = 1;
    bool any_digit = false, seen_point = false;
    for (; pos < text.size() && (IsDigit(text[pos]) || text[pos] == '.'); ++pos) {
      if (text[pos] == '.') {
        if (seen_point) return DurationError(text, "malformed number");
        seen_point = true;
        continue;
      }
      any_digit = true;
      if (seen_point) {
        if (frac_scale > kMax) return DurationError(text, "too many fractional digits");
        frac = frac * 10 + (text[pos] - '0');
        frac_scale *= 10;
      } else {
        whole = whole * 10 + (text[pos] - '0');
        if (whole > kMax) return DurationError(text, "too large");
      }
    }
    if (!any_digit) {
      return DurationError(text, "expected a number at position " + std::to_string(start + 1));
    }
    size_t unit_start = pos;
    while (pos < text.size() && !IsDigit(text[pos]) && text[pos] != '.')
      ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    if (unit.empty()) return DurationError(text, "missing unit after the number");
    const Unit* found = nullptr;
    for (const auto& u : kUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) return DurationError(text, "unknown unit '" + std::string(unit) + "'");
    __int128 frac_us = frac * found->micros;
    if (frac_us % frac_scale != 0) return DurationError(text, "finer than a microsecond");
    total += whole * found->micros + frac_us / frac_scale;
    if (total > kMax) return DurationError(text, "too large");
  }
  return Duration(static_cast<std::int64_t>(total));
}

std::string FormatDuration(Duration d) {
  std::int64_t us = d.count();
  if (us == 0) return "0s";
  std::string out;
  if (us < 0) {
    out = "-";
    us = -us;
  }
  // Weeks are left out on purpose: "14d" reads better than "2w" in logs.
  for (size_t i = kUnits.size() - 1; i-- > 0;) {
    const Unit& u = kUnits[i];
    if (us >= u.micros) {
      out += std::to_string(us / u.micros);
      out += u.name;
      us %= u.micros;
    }
  }
  return out;
}

std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar.
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

Result<std::int64_t> ParseTimestampMicros(std::string_view s) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!ReadDigits(s, pos, 4, year)) return TimestampError(s, "expected a 4-digit year");
  if (pos >= s.size() || s[pos++] != '-') return TimestampError(s, "expected '-' after the year");
  if (!ReadDigits(s, pos, 2, month)) return TimestampError(s, "expected a 2-digit month");
  if (pos >= s.size() || s[pos++] != '-') return TimestampError(s, "expected '-' after the month");
  if (!ReadDigits(s, pos, 2, day)) return TimestampError(s, "expected a 2-digit day");
  if (month < 1 || month > 12) {
    return TimestampError(s, "month " + std::to_string(month) + " is out of range 1-12");
  }
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month)) {
    return TimestampError(s, "day " + std::to_string(day) + " does not exist in " +
                                 std::to_string(year) + "-" + (month < 10 ? "0" : "") +
                                 std::to_string(month));
  }
  std::int64_t micros = DaysFromCivil(year, month, day) * kMicrosPerDay;
  if (pos == s.size()) return micros;

  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') {
    return TimestampError(s, "expected 'T' or a space after the date");
  }
  ++pos;
  int hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, pos, 2, hour)) return TimestampError(s, "expected a 2-digit hour");
  if (pos >= s.size() || s[pos++] != ':') return TimestampError(s, "expected ':' after the hour");
  if (!ReadDigits(s, pos, 2, minute)) return TimestampError(s, "expected 2-digit minutes");
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!ReadDigits(s, pos, 2, second)) return TimestampError(s, "expected 2-digit seconds");
  }
  if (hour > 23) return TimestampError(s, "hour " + std::to_string(hour) + " is out of range");
  if (minute > 59)
    return TimestampError(s, "minute " + std::to_string(minute) + " is out of range");
  if (second > 59) {
    return TimestampError(s, "second " + std::to_string(second) +
                                 " is out of range (leap seconds are not supported)");
  }
  micros += (static_cast<std::int64_t>(hour) * 3600 + minute * 60 + second) * kMicrosPerSecond;

  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int digits = 0;
    std::int64_t frac = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (++digits > 6) {
        return TimestampError(s, "more than 6 fractional digits (precision is 1 microsecond)");
      }
      frac = frac * 10 + (s[pos++] - '0');
    }
    if (digits == 0) return TimestampError(s, "expected digits after the decimal point");
    for (int i = digits; i < 6; ++i)
      frac *= 10;
    micros += frac;
  }

  if (pos == s.size()) return micros;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos++] == '-' ? -1 : 1;
    int off_h = 0, off_m = 0;
    if (!ReadDigits(s, pos, 2, off_h))
      return TimestampError(s, "expected a 2-digit UTC offset hour");
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (pos < s.size() && !ReadDigits(s, pos, 2, off_m)) {
      return TimestampError(s, "expected 2-digit UTC offset minutes");
    }
    if (off_h > 18 || off_m > 59) return TimestampError(s, "UTC offset out of range");
    micros -= sign * (static_cast<std::int64_t>(off_h) * 3600 + off_m * 60) * kMicrosPerSecond;
  } else {
    return TimestampError(
        s, "unexpected '" + std::string(1, s[pos]) + "' at position " + std::to_string(pos + 1));
  }
  if (pos != s.size()) {
    return TimestampError(
        s, "unexpected text after the UTC offset at position " + std::to_string(pos + 1));
  }
  return micros;
}

Result<EventTime> ParseEventTime(std::string_view text) {
  SLUICE_ASSIGN_OR_RETURN(std::int64_t micros, ParseTimestampMicros(text));
  return EventTime(Duration(micros));
}

std::string FormatTimestampMicros(std::int64_t micros) {
  std::int64_t days = micros / kMicrosPerDay;
  std::int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, y, m, d);
  const std::int64_t secs = rem / kMicrosPerSecond;
  const std::int64_t frac = rem % kMicrosPerSecond;
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                        static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string out(buf, n);
  if (frac != 0) {
    n = std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    out.append(buf, n);
  }
  out += 'Z';
  return out;
}

}  // namespace sluice::base
