#include "orchestrate/time_zone.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "base/time.h"

namespace sluice::orchestrate {
namespace {

std::int64_t BigEndian(std::string_view b, size_t at, size_t n) {
  std::uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

struct Counts {
  std::int64_t isut, isstd, leap, time, type, chars;
};

bool ReadCounts(std::string_view b, size_t at, Counts& c) {
  if (b.size() < at + 44 || b.substr(at, 4) != "TZif") return false;
  c.isut = BigEndian(b, at + 20, 4);
  c.isstd = BigEndian(b, at + 24, 4);
  c.leap = BigEndian(b, at + 28, 4);
  c.time = BigEndian(b, at + 32, 4);
  c.type = BigEndian(b, at + 36, 4);
  c.chars = BigEndian(b, at + 40, 4);
  return c.isut >= 0 && c.isstd >= 0 && c.leap >= 0 && c.time >= 0 && c.type > 0 && c.chars >= 0 &&
         c.time < 100000 && c.type < 256;
}

// "[+-]hh[:mm[:ss]]" -> seconds; advances `s`.
std::optional<std::int64_t> ParseHms(std::string_view& s) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  std::int64_t total = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (s.empty() || s[0] != ':') break;
      s.remove_prefix(1);
    }
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return std::nullopt;
    std::int64_t v = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0])) && v < 1000) {
      v = v * 10 + (s[0] - '0');
      s.remove_prefix(1);
    }
    total += v * (part == 0 ? 3600 : part == 1 ? 60 : 1);
  }
  return sign * total;
}

bool SkipName(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    const size_t close = s.find('>');
    if (close == std::string_view::npos) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n])))
    ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

std::optional<int> ParseInt(std::string_view& s) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return std::nullopt;
  int v = 0;
  while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0])) && v < 1000) {
    v = v * 10 + (s[0] - '0');
    s.remove_prefix(1);
  }
  return v;
}

// RFC 8536: a UT offset is in [-89999, 93599] seconds (about -25h to +26h), the range the
// scheduler's local-time arithmetic relies on; a POSIX rule's offsets stay within +-24:59:59 and
// its transition times within +-167 hours (the RFC's extension of POSIX).
constexpr std::int64_t kMinUtOffset = -89999;
constexpr std::int64_t kMaxUtOffset = 93599;
constexpr std::int64_t kMaxRuleOffset = 89999;
constexpr std::int64_t kMaxRuleTime = 167 * 3600 + 59 * 60 + 59;

bool IsLeap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
int DaysInMonth(std::int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

TimeZone TimeZone::Utc() {
  return TimeZone();
}

base::Result<TimeZone> TimeZone::Load(std::string_view name,
                                      const std::filesystem::path& zoneinfo) {
  if (name == "UTC" || name == "Etc/UTC") return Utc();
  const bool ok_chars = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
  if (!ok_chars || name.find("..") != std::string_view::npos || name[0] == '/') {
    return base::InvalidArgument("'" + std::string(name) +
                                 "' is not a time zone name (expected an IANA name such as "
                                 "'Europe/Berlin')");
  }
  const auto path = zoneinfo / std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return base::NotFound("unknown time zone '" + std::string(name) + "' (no " + path.string() +
                          ")");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return FromTzif(ss.str(), std::string(name));
}

base::Result<TimeZone> TimeZone::FromTzif(std::string_view b, std::string name) {
  auto bad = [&](const std::string& why) {
    return base::Corruption("time zone file of '" + name + "' is not valid TZif: " + why);
  };
  Counts c{};
  if (!ReadCounts(b, 0, c)) return bad("bad header");
  const size_t v1_size =
      static_cast<size_t>(c.time * 5 + c.type * 6 + c.chars + c.leap * 8 + c.isstd + c.isut);
  size_t at = 44;
  int time_bytes = 4;
  if (b[4] >= '2') {
    at = 44 + v1_size;
    if (!ReadCounts(b, at, c)) return bad("bad second header");
    at += 44;
    time_bytes = 8;
  }
  const size_t tb = static_cast<size_t>(time_bytes);
  const size_t need = static_cast<size_t>(c.time) * (tb + 1) + static_cast<size_t>(c.type) * 6 +
                      static_cast<size_t>(c.chars) + static_cast<size_t>(c.leap) * (tb + 4) +
                      static_cast<size_t>(c.isstd + c.isut);
  if (b.size() < at + need) return bad("truncated");
  TimeZone z;
  const size_t idx_at = at + static_cast<size_t>(c.time) * tb;
  const size_t types_at = idx_at + static_cast<size_t>(c.time);
  std::vector<std::int64_t> type_offsets;
  for (std::int64_t i = 0; i < c.type; ++i) {
    const std::int64_t offset = BigEndian(b, types_at + static_cast<size_t>(i) * 6, 4);
    if (offset < kMinUtOffset || offset > kMaxUtOffset) {
      return bad("UT offset " + std::to_string(offset) + " s of local time type " +
                 std::to_string(i) + " is outside [-89999, 93599]");
    }
    type_offsets.push_back(offset);
  }
  for (std::int64_t i = 0; i < c.time; ++i) {
    const auto idx = static_cast<unsigned char>(b[idx_at + static_cast<size_t>(i)]);
    if (idx >= type_offsets.size()) return bad("transition type out of range");
    const std::int64_t when = BigEndian(b, at + static_cast<size_t>(i) * tb, tb);
    if (!z.transitions_.empty() && when <= z.transitions_.back()) {
      return bad("transition " + std::to_string(i) + " is not after the one before it");
    }
    z.transitions_.push_back(when);
    z.offsets_.push_back(type_offsets[idx]);
  }
  z.initial_offset_ = type_offsets[0];
  if (time_bytes == 8) {
    const size_t footer = at + need;
    if (footer < b.size() && b[footer] == '\n') {
      const size_t end = b.find('\n', footer + 1);
      if (end != std::string_view::npos && end > footer + 1) {
        auto rule = ParseRule(b.substr(footer + 1, end - footer - 1));
        if (!rule.ok()) return bad(rule.status().message());
        z.rule_ = *rule;
      }
    }
  }
  z.name_ = std::move(name);  // only now: `bad` names the zone in every error above
  return z;
}

base::Result<TimeZone::Rule> TimeZone::ParseRule(std::string_view s) {
  const std::string text(s);
  auto bad = [&] { return base::InvalidArgument("unsupported TZ rule '" + text + "'"); };
  Rule r;
  if (!SkipName(s)) return bad();
  auto std_off = ParseHms(s);
  if (!std_off || *std_off < -kMaxRuleOffset || *std_off > kMaxRuleOffset) return bad();
  r.std_offset = -*std_off;  // POSIX offsets are west of UTC
  if (s.empty()) return r;
  if (!SkipName(s)) return bad();
  r.dst_offset = r.std_offset + 3600;
  if (!s.empty() && s[0] != ',') {
    auto d = ParseHms(s);
    if (!d || *d < -kMaxRuleOffset || *d > kMaxRuleOffset) return bad();
    r.dst_offset = -*d;
  }
  for (Rule::When* w : {&r.start, &r.end}) {
    if (s.size() < 2 || s[0] != ',' || s[1] != 'M') return bad();  // Jn and n are not used
    s.remove_prefix(2);
    auto m = ParseInt(s);
    if (!m || s.empty() || s[0] != '.') return bad();
    s.remove_prefix(1);
    auto wk = ParseInt(s);
    if (!wk || s.empty() || s[0] != '.') return bad();
    s.remove_prefix(1);
    auto d = ParseInt(s);
    if (!d || *m < 1 || *m > 12 || *wk < 1 || *wk > 5 || *d > 6) return bad();
    *w = Rule::When{*m, *wk, *d, 7200};
    if (!s.empty() && s[0] == '/') {
      s.remove_prefix(1);
      auto t = ParseHms(s);
      if (!t || *t < -kMaxRuleTime || *t > kMaxRuleTime) return bad();
      w->seconds = *t;
    }
  }
  if (!s.empty()) return bad();
  return r;
}

std::int64_t TimeZone::RuleOffset(const Rule& r, std::int64_t utc) {
  if (!r.dst_offset) return r.std_offset;
  std::int64_t year;
  unsigned month, day;
  base::CivilFromDays((utc + r.std_offset) / 86400 - ((utc + r.std_offset) % 86400 < 0), year,
                      month, day);
  // The UTC instant of a change in `year`: its local time is in the offset before the change.
  auto change = [&](const Rule::When& w, std::int64_t offset_before) {
    const std::int64_t first = base::DaysFromCivil(year, static_cast<unsigned>(w.month), 1);
    const int first_weekday = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01: Thu
    int mday = 1 + (w.weekday - first_weekday + 7) % 7 + 7 * (w.week - 1);
    while (mday > DaysInMonth(year, w.month))
      mday -= 7;
    return (first + mday - 1) * 86400 + w.seconds - offset_before;
  };
  const std::int64_t start = change(r.start, r.std_offset);
  const std::int64_t end = change(r.end, *r.dst_offset);
  const bool dst = start < end ? (utc >= start && utc < end) : (utc < end || utc >= start);
  return dst ? *r.dst_offset : r.std_offset;
}

std::int64_t TimeZone::OffsetAt(std::int64_t utc) const {
  if (transitions_.empty() || utc < transitions_.front()) {
    if (transitions_.empty() && rule_) return RuleOffset(*rule_, utc);
    return initial_offset_;
  }
  if (utc >= transitions_.back() && rule_) return RuleOffset(*rule_, utc);
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

}  // namespace sluice::orchestrate
