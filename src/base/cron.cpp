#include "base/cron.h"

#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

namespace sluice::base {
namespace {

struct Field {
  const char* name;
  int min, max;
  const char* const* names;  // names[i] is value min + i; nullptr when the field has none
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",  "jul",
                                       "aug", "sep", "oct", "nov", "dec", nullptr};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

constexpr std::array<Field, 5> kFields = {{{"minute", 0, 59, nullptr},
                                           {"hour", 0, 23, nullptr},
                                           {"day of month", 1, 31, nullptr},
                                           {"month", 1, 12, kMonthNames},
                                           {"day of week", 0, 7, kDayNames}}};

std::optional<int> Value(std::string_view s, const Field& f) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!s.empty() && ec == std::errc() && ptr == s.data() + s.size()) return v;
  if (f.names && s.size() == 3) {
    std::string lower;
    for (char c : s)
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; f.names[i]; ++i) {
      if (lower == f.names[i]) return f.min + i;
    }
  }
  return std::nullopt;
}

// Sets the bits of one field's text in `bits` (indexed by value); false when it is malformed.
bool ParseField(std::string_view text, const Field& f, std::vector<bool>& bits) {
  if (text.empty()) return false;
  while (true) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    int step = 1;
    bool has_step = false;
    if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
      auto s = Value(item.substr(slash + 1), Field{f.name, 0, 0, nullptr});
      if (!s || *s <= 0) return false;
      step = *s;
      has_step = true;
      item = item.substr(0, slash);
    }
    int lo = 0, hi = 0;
    if (item == "*") {
      lo = f.min;
      hi = f.max;
    } else {
      const size_t dash = item.find('-');
      auto a = Value(item.substr(0, dash), f);
      if (!a) return false;
      lo = *a;
      if (dash != std::string_view::npos) {
        auto b = Value(item.substr(dash + 1), f);
        if (!b) return false;
        hi = *b;
      } else {
        hi = has_step ? f.max : lo;  // "5/10": from 5 to the end, every 10
      }
    }
    if (lo < f.min || hi > f.max || lo > hi) return false;
    for (int v = lo; v <= hi; v += step)
      bits[static_cast<size_t>(v)] = true;
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

Result<CronSchedule> ParseCronLine(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos < line.size()) {
    const size_t start = line.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    parts.push_back(line.substr(start, end - start));
    pos = end;
  }
  if (parts.size() != 5) {
    return InvalidArgument(
        "a cron line has 5 fields (minute hour day-of-month month day-of-week), got " +
        std::to_string(parts.size()));
  }
  CronSchedule c;
  for (size_t i = 0; i < 5; ++i) {
    const Field& f = kFields[i];
    std::vector<bool> bits(static_cast<size_t>(f.max) + 1, false);
    if (!ParseField(parts[i], f, bits)) {
      return InvalidArgument("bad " + std::string(f.name) + " field '" + std::string(parts[i]) +
                             "' (values " + std::to_string(f.min) + "-" + std::to_string(f.max) +
                             (f.names ? ", or names" : "") + ")");
    }
    for (size_t v = 0; v < bits.size(); ++v) {
      if (!bits[v]) continue;
      switch (i) {
        case 0:
          c.minutes.set(v);
          break;
        case 1:
          c.hours.set(v);
          break;
        case 2:
          c.days_of_month.set(v);
          break;
        case 3:
          c.months.set(v);
          break;
        case 4:
          c.days_of_week.set(v % 7);
          break;
      }
    }
  }
  c.day_of_month_restricted = parts[2] != "*";
  c.day_of_week_restricted = parts[4] != "*";
  return c;
}

}  // namespace

Result<CronSchedule> ParseCronSchedule(std::string_view text) {
  struct Macro {
    const char* name;
    const char* line;
  };
  static constexpr Macro kMacros[] = {{"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},
                                      {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
                                      {"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
                                      {"@annually", "0 0 1 1 *"}};
  for (const auto& m : kMacros) {
    if (text == m.name) return ParseCronLine(m.line);
  }
  auto interval = [](std::string_view d) -> Result<CronSchedule> {
    auto parsed = ParseDuration(d);
    if (!parsed.ok()) return parsed.status();
    if (parsed->count() <= 0) return InvalidArgument("the interval must be positive");
    CronSchedule c;
    c.is_interval = true;
    c.interval = *parsed;
    return c;
  };
  if (text.rfind("@every ", 0) == 0) return interval(text.substr(7));
  if (!text.empty() && text[0] == '@') {
    return InvalidArgument(
        "expected one of '@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@annually', "
        "'@midnight' or '@every <duration>'");
  }
  if (text.find_first_of(" \t") == std::string_view::npos) {
    auto c = interval(text);
    if (!c.ok() && c.status().message() != "the interval must be positive") {
      return InvalidArgument("expected a duration, '@hourly'-style macro or 5-field cron line");
    }
    return c;
  }
  return ParseCronLine(text);
}

}  // namespace sluice::base
