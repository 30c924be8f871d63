#include "connectors/json_keys_scan.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/workers.h"

namespace sluice::connectors {
namespace {

// DuckDB's CSV reader, which cuts the lines for ObserveSql, fails on lines over 2 MB; well
// below that nothing is in doubt.
constexpr size_t kMaxLine = 1'000'000;
constexpr size_t kMaxDepth = 1000;
// A number of at most 40 characters with a two-digit exponent is far inside double's range:
// DuckDB's parser (yyjson) can never fail on it for overflow.
constexpr ptrdiff_t kMaxNumber = 40;
constexpr size_t kBlock = 4 << 20;

// Bytes a JSON string holds as they are: not the quote, the backslash, a control byte, or
// the lead of a multi-byte UTF-8 sequence (those are checked one by one).
constexpr std::array<bool, 256> MakePlain() {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c)
    plain[c] = c != '"' && c != '\\';
  return plain;
}
constexpr std::array<bool, 256> kPlain = MakePlain();

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
// nothing past U+10FFFF) starting with the byte >= 0x80 at `p`, or 0.
size_t Utf8Length(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  const auto cont = [&](size_t i, unsigned lo, unsigned hi) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// The lines of one part of a file, in order. Every method returns false for "unsure".
class PartScanner {
 public:
  // One line without its '\n'.
  bool Line(const char* begin, const char* end) {
    const std::int64_t line = lines_++;
    if (static_cast<size_t>(end - begin) > kMaxLine) return false;
    // CRLF: the CR is part of the line end. Any other CR is a line end to DuckDB's CSV reader
    // and a character of the line here, so it makes the scan unsure (it is no JSON whitespace).
    if (end > begin && end[-1] == '\r') --end;
    const char* p = SkipSpace(begin, end);
    if (p == end) {
      blank_ = true;
      return true;
    }
    const bool object = *p == '{';
    matched_ = 0;
    diverged_ = false;
    members_ = 0;
    if (!Value(p, end)) return false;
    if (!object) return true;
    // Nearly every line has the keys of the line before: then only the kinds of its values can
    // be new.
    if (!diverged_ && matched_ == previous_keys_.size()) {
      for (size_t i = 0; i < members_; ++i)
        previous_kinds_[i] = static_cast<char>(previous_kinds_[i] | kinds_[i]);
      return true;
    }
    if (!diverged_) keys_.assign(previous_keys_, 0, matched_);  // a prefix of the last keys
    Flush();
    for (size_t from = 0; from < keys_.size();) {
      const size_t to = keys_.find('"', from);
      first_line_.try_emplace(keys_.substr(from, to - from), line);
      from = to + 1;
    }
    previous_keys_.swap(keys_);
    previous_kinds_.assign(kinds_.data(), members_);
    return true;
  }

  // Adds the kinds gathered for the last run of lines with the same keys to every key's kinds.
  void Flush() {
    size_t i = 0;
    for (size_t from = 0; from < previous_keys_.size(); ++i) {
      const size_t to = previous_keys_.find('"', from);
      auto& k = kinds_of_[previous_keys_.substr(from, to - from)];
      k = static_cast<std::uint8_t>(k | static_cast<std::uint8_t>(previous_kinds_[i]));
      from = to + 1;
    }
    previous_keys_.clear();
    previous_kinds_.clear();
  }

  std::int64_t lines() const { return lines_; }
  bool blank() const { return blank_; }
  const std::unordered_map<std::string, std::int64_t>& first_line() const { return first_line_; }
  const std::unordered_map<std::string, std::uint8_t>& kinds_of() const { return kinds_of_; }

 private:
  static const char* SkipSpace(const char* p, const char* end) {
    while (p < end && (*p == ' ' || *p == '\t'))
      ++p;
    return p;
  }

  // One JSON value spanning [p, end) but for spaces around it; objects and arrays are walked
  // without recursion, with the open containers in stack_.
  bool Value(const char* p, const char* end) {
    depth_ = 0;
    for (;;) {
      p = SkipSpace(p, end);
      if (p == end) return false;
      const bool member = depth_ == 1 && stack_[0] == '{';
      switch (*p) {
        case '{':
        case '[': {
          const char open = *p;
          if (member) Kind(kJsonContainer);
          p = SkipSpace(p + 1, end);
          if (p < end && *p == (open == '{' ? '}' : ']')) {
            ++p;
            break;
          }
          if (depth_ == kMaxDepth) return false;
          stack_[depth_++] = open;
          if (open == '{' && !Member(p, end)) return false;
          continue;
        }
        case '"':
          if (member) Kind(kJsonString);
          if (!String(p, end, /*key=*/false)) return false;
          break;
        case 't':
          if (member) Kind(kJsonBool);
          if (!Literal(p, end, "true")) return false;
          break;
        case 'f':
          if (member) Kind(kJsonBool);
          if (!Literal(p, end, "false")) return false;
          break;
        case 'n':
          if (member) Kind(kJsonNull);
          if (!Literal(p, end, "null")) return false;
          break;
        default: {
          bool integer = false;
          if (!Number(p, end, integer)) return false;
          if (member) Kind(integer ? kJsonInteger : kJsonOtherNumber);
          break;
        }
      }
      // After a value: close containers until the next value is due or the line ends.
      for (;;) {
        p = SkipSpace(p, end);
        if (depth_ == 0) return p == end;
        if (p == end) return false;
        const char c = *p++;
        const char open = stack_[depth_ - 1];
        if (c == ',') {
          if (open == '{' && !Member(p, end)) return false;
          break;
        }
        if (c != (open == '{' ? '}' : ']')) return false;
        --depth_;
      }
    }
  }

  // `"key" :` inside an object; the keys of the line's own object are collected.
  bool Member(const char*& p, const char* end) {
    p = SkipSpace(p, end);
    if (p == end || *p != '"' || !String(p, end, /*key=*/depth_ == 1)) return false;
    p = SkipSpace(p, end);
    if (p == end || *p != ':') return false;
    ++p;
    return true;
  }

  bool String(const char*& at, const char* end, bool key) {
    // A local cursor: one behind a reference would be stored on every step.
    const char* p = at + 1;
    const char* start = p;
    for (;;) {
#if defined(__SSE2__)
      // 16 bytes at a time up to the first that is not plain: the quote, the backslash, or a
      // byte below 0x20 or from 0x80 (both are below 0x20 as signed bytes).
      while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                             _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        const int mask = _mm_movemask_epi8(special);
        if (mask != 0) {
          p += __builtin_ctz(static_cast<unsigned>(mask));
          break;
        }
        p += 16;
      }
#endif
      while (p < end && kPlain[static_cast<unsigned char>(*p)])
        ++p;
      if (p == end) return false;
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        // A key's text is its bytes (no escapes are allowed in keys, below); '"' cannot be
        // one of them, so it separates the keys of the line.
        if (key) Key(start, p);
        at = p + 1;
        return true;
      }
      if (c >= 0x80) {
        const size_t n = Utf8Length(reinterpret_cast<const unsigned char*>(p),
                                    reinterpret_cast<const unsigned char*>(end));
        if (n == 0) return false;
        p += n;
        continue;
      }
      // An escaped key would have to be decoded exactly as DuckDB does; not worth the risk.
      if (c != '\\' || key || end - p < 2) return false;
      const char e = p[1];
      if (e == 'u') {
        if (end - p < 6) return false;
        int v = 0;
        for (int i = 2; i < 6; ++i) {
          const int d = HexDigit(p[i]);
          if (d < 0) return false;
          v = v * 16 + d;
        }
        // Surrogates (paired or not) and NUL are where JSON parsers differ.
        if (v == 0 || (v >= 0xD800 && v <= 0xDFFF)) return false;
        p += 6;
      } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                 e == 'r' || e == 't') {
        p += 2;
      } else {
        return false;
      }
    }
  }

  // A key of the line's object, compared with the keys of the line before for as long as they
  // agree, and only copied from where they differ.
  void Key(const char* begin, const char* end) {
    const auto n = static_cast<size_t>(end - begin);
    if (!diverged_) {
      if (matched_ + n < previous_keys_.size() && previous_keys_[matched_ + n] == '"' &&
          std::memcmp(previous_keys_.data() + matched_, begin, n) == 0) {
        matched_ += n + 1;
        return;
      }
      diverged_ = true;
      keys_.assign(previous_keys_, 0, matched_);
    }
    keys_.append(begin, end).push_back('"');
  }

  void Kind(std::uint8_t kind) {
    if (members_ == kinds_.size()) kinds_.resize(2 * members_ + 16);
    kinds_[members_++] = static_cast<char>(kind);
  }

  static bool Literal(const char*& p, const char* end, std::string_view word) {
    if (static_cast<size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()))
      return false;
    p += word.size();
    return true;
  }

  static bool Number(const char*& p, const char* end, bool& integer) {
    const char* start = p;
    if (*p == '-') ++p;
    const char* digits = p;
    if (p == end) return false;
    if (*p == '0') {
      ++p;
    } else if (IsDigit(*p)) {
      while (p < end && IsDigit(*p))
        ++p;
    } else {
      return false;
    }
    // "-0" may be read as the double -0.0, whose text is not an integer's.
    integer = p - digits <= 18 && !(start != digits && *digits == '0');
    if (p < end && *p == '.') {
      integer = false;
      ++p;
      if (p == end || !IsDigit(*p)) return false;
      while (p < end && IsDigit(*p))
        ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      integer = false;
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      const char* exponent = p;
      while (p < end && IsDigit(*p))
        ++p;
      if (p == exponent || p - exponent > 2) return false;
    }
    return p - start <= kMaxNumber;
  }

  std::int64_t lines_ = 0;
  bool blank_ = false;
  std::unordered_map<std::string, std::int64_t> first_line_;  // key -> first line in the part
  // The current line's top-level keys, each followed by '"', where they differ from the last
  // line's (diverged_); until then matched_ bytes of previous_keys_ were the same.
  std::string keys_;
  size_t matched_ = 0;
  bool diverged_ = false;
  std::string previous_keys_;  // the same for the last object line whose keys were new
  std::string kinds_;          // the kind of each of the line's values (members_ of them)
  size_t members_ = 0;
  std::string previous_kinds_;  // the kinds of previous_keys_'s values on the lines since
  std::unordered_map<std::string, std::uint8_t> kinds_of_;  // key -> kinds, but previous_kinds_
  std::array<char, kMaxDepth> stack_{};                     // open containers, '{' or '['
  size_t depth_ = 0;
};

bool HasByteOrderMark(std::string_view text) {
  return text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF";
}

// The parts' findings as one answer: a key's first line is its first in the first part that
// has it, counted after the lines of the parts before.
JsonLinesKeys Merge(std::vector<PartScanner>& parts) {
  std::unordered_map<std::string, std::int64_t> first;
  std::unordered_map<std::string, std::uint8_t> kinds;
  std::int64_t offset = 0;
  bool blank = false;
  for (auto& part : parts) {
    part.Flush();
    for (const auto& [key, line] : part.first_line())
      first.try_emplace(key, offset + line);
    for (const auto& [key, k] : part.kinds_of())
      kinds[key] = static_cast<std::uint8_t>(kinds[key] | k);
    offset += part.lines();
    blank = blank || part.blank();
  }
  std::vector<std::pair<std::int64_t, std::string>> ordered;
  ordered.reserve(first.size());
  for (auto& [key, line] : first)
    ordered.emplace_back(line, key);
  std::sort(ordered.begin(), ordered.end());
  JsonLinesKeys out;
  for (auto& [line, key] : ordered) {
    out.kinds.push_back(kinds[key]);
    out.keys.push_back(std::move(key));
  }
  if (!blank) out.object_lines = offset;
  return out;
}

// The lines of [begin, end): each ends at a '\n'; what follows the last '\n' is a line if it
// is not empty (as CountJsonObjectLines counts).
bool ScanLines(PartScanner& scanner, const char* begin, const char* end, bool final) {
  const char* p = begin;
  while (p < end) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) break;
    if (!scanner.Line(p, nl)) return false;
    p = nl + 1;
  }
  return !final || p == end || scanner.Line(p, end);
}

// Reads [from, to) of `fd` into `scanner`, line by line. Returns false when unsure (or when
// another part was, per `stop`); errno is set when a read failed.
bool ScanRange(int fd, std::int64_t from, std::int64_t to, bool final, PartScanner& scanner,
               const std::atomic<bool>& stop, bool& failed) {
  // Room for a block and an unfinished line before it, neither longer than the range.
  const auto range = static_cast<size_t>(std::max<std::int64_t>(to - from, 0));
  std::vector<char> buf(std::min(range, kBlock) + std::min(range, kMaxLine + 1));
  size_t held = 0;  // bytes of an unfinished line carried over at the front of buf
  for (std::int64_t at = from; at < to;) {
    if (stop.load(std::memory_order_relaxed)) return false;
    const auto want = static_cast<size_t>(std::min<std::int64_t>(to - at, kBlock));
    const ssize_t n = ::pread(fd, buf.data() + held, want, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = true;
      return false;
    }
    if (n == 0) break;  // the file got shorter: whatever is left is the last line
    at += n;
    const char* begin = buf.data();
    const char* end = begin + held + static_cast<size_t>(n);
    const char* last_nl = nullptr;
    for (const char* q = end; q > begin;) {
      if (*--q == '\n') {
        last_nl = q;
        break;
      }
    }
    if (last_nl == nullptr) {
      held = static_cast<size_t>(end - begin);
      if (held > kMaxLine) return false;
      continue;
    }
    if (!ScanLines(scanner, begin, last_nl + 1, false)) return false;
    held = static_cast<size_t>(end - (last_nl + 1));
    if (held > kMaxLine) return false;
    std::memmove(buf.data(), last_nl + 1, held);
  }
  return !final || held == 0 || scanner.Line(buf.data(), buf.data() + held);
}

// The offset just past the first '\n' at or after `offset`, or `size` if there is none.
base::Result<std::int64_t> NextLineStart(int fd, std::int64_t offset, std::int64_t size) {
  std::vector<char> buf(64 << 10);
  while (offset < size) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::IoError("read failed");
    if (n == 0) return size;
    const void* nl = std::memchr(buf.data(), '\n', static_cast<size_t>(n));
    if (nl != nullptr) return offset + (static_cast<const char*>(nl) - buf.data()) + 1;
    offset += n;
  }
  return size;
}

}  // namespace

std::optional<JsonLinesKeys> ScanJsonLinesKeys(std::string_view text) {
  if (HasByteOrderMark(text)) return std::nullopt;
  std::vector<PartScanner> parts(1);
  if (!ScanLines(parts[0], text.data(), text.data() + text.size(), true)) return std::nullopt;
  return Merge(parts);
}

base::Result<std::optional<JsonLinesKeys>> ScanJsonLinesKeysFile(const std::filesystem::path& file,
                                                                 int parts,
                                                                 std::int64_t min_part_bytes) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return base::IoError("cannot read '" + file.string() + "'");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const std::int64_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) return base::IoError("cannot read '" + file.string() + "'");
  char head[3] = {};
  if (::pread(fd, head, sizeof(head), 0) == 3 && HasByteOrderMark({head, 3})) {
    return std::optional<JsonLinesKeys>();
  }
  // Small files are not worth a thread.
  const int n = size < min_part_bytes ? 1 : std::max(1, parts);
  std::vector<std::int64_t> starts{0};
  for (int k = 1; k < n; ++k) {
    auto start = NextLineStart(fd, size * k / n, size);
    if (!start.ok()) return base::IoError("cannot read '" + file.string() + "'");
    starts.push_back(std::max(*start, starts.back()));
  }
  starts.push_back(size);
  std::vector<PartScanner> scanners(static_cast<size_t>(n));
  std::vector<char> sure(static_cast<size_t>(n)), failed(static_cast<size_t>(n));
  std::atomic<bool> stop{false};
  const auto scan = [&](int k) {
    bool read_failed = false;
    // The part that reaches the end holds the last line, which may have no '\n' (the parts
    // after it are empty).
    const bool final = starts[k + 1] == size && (k == 0 || starts[k] < size);
    sure[k] = ScanRange(fd, starts[k], starts[k + 1], final, scanners[k], stop, read_failed);
    failed[k] = read_failed;
    if (!sure[k]) stop.store(true, std::memory_order_relaxed);
  };
  base::RunWorkers(n, scan);
  for (int k = 0; k < n; ++k) {
    if (failed[k]) return base::IoError("error while reading '" + file.string() + "'");
  }
  for (int k = 0; k < n; ++k) {
    if (!sure[k]) return std::optional<JsonLinesKeys>();
  }
  return std::optional<JsonLinesKeys>(Merge(scanners));
}

}  // namespace sluice::connectors
