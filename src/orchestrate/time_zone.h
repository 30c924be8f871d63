#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::orchestrate {

// A time zone's UTC offsets over time, read from the system's tz database (TZif files, RFC 8536)
// because GCC 12's libstdc++ has no std::chrono::tzdb. Instants past the file's last transition
// follow its POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3").
class TimeZone {
 public:
  static TimeZone Utc();
  // /usr/share/zoneinfo/NAME; NotFound for an unknown zone, InvalidArgument for a bad name.
  static base::Result<TimeZone> Load(std::string_view name,
                                     const std::filesystem::path& zoneinfo = "/usr/share/zoneinfo");
  // The contents of a TZif file (tests).
  static base::Result<TimeZone> FromTzif(std::string_view bytes, std::string name);

  const std::string& name() const { return name_; }
  // Seconds east of UTC in effect at `utc_seconds` (seconds since the Unix epoch).
  std::int64_t OffsetAt(std::int64_t utc_seconds) const;

 private:
  struct Rule {  // a POSIX TZ string's daylight rule
    std::int64_t std_offset = 0;
    std::optional<std::int64_t> dst_offset;
    struct When {
      int month = 0, week = 0, weekday = 0;
      std::int64_t seconds = 7200;  // local time of day of the change
    } start, end;
  };
  static base::Result<Rule> ParseRule(std::string_view tz);
  static std::int64_t RuleOffset(const Rule& r, std::int64_t utc_seconds);

  std::string name_ = "UTC";
  std::vector<std::int64_t> transitions_;  // UTC seconds, ascending
  std::vector<std::int64_t> offsets_;      // in effect from transitions_[i]
  std::int64_t initial_offset_ = 0;        // before the first transition
  std::optional<Rule> rule_;
};

}  // namespace sluice::orchestrate
