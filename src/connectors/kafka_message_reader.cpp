#include "connectors/kafka_message_reader.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "base/time.h"

namespace sluice::connectors {
namespace {

using types::LogicalType;

// A JSON value's kind, as reasons name it.
enum class Kind : std::uint8_t { kString, kBool, kNull, kInteger, kNumber, kList, kObject };

const char* KindText(Kind k) {
  switch (k) {
    case Kind::kString:
      return "a string";
    case Kind::kBool:
      return "a boolean";
    case Kind::kInteger:
      return "an integer";
    case Kind::kNumber:
      return "a number";
    case Kind::kList:
      return "a list";
    case Kind::kObject:
      return "an object";
    case Kind::kNull:
      break;
  }
  return "null";
}

const char* Expected(LogicalType t) {
  switch (t) {
    case LogicalType::kBool:
      return "a boolean";
    case LogicalType::kInt64:
      return "an integer";
    case LogicalType::kDouble:
      return "a number";
    case LogicalType::kString:
      return "a string";
    case LogicalType::kTimestamp:
    case LogicalType::kDate:
      break;
  }
  return "an ISO-8601 time string";
}

constexpr std::int64_t kMicrosPerDay = std::int64_t{86400} * 1000000;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A JSON number: an integer that fits 64 bits (non-negative ones as unsigned, like
// nlohmann-json), else a double, correctly rounded.
struct Number {
  Kind kind = Kind::kInteger;
  bool negative = false;
  std::uint64_t magnitude = 0;  // kInteger
  double d = 0;                 // kNumber

  double AsDouble() const {
    if (kind == Kind::kNumber) return d;
    return negative ? static_cast<double>(-static_cast<std::int64_t>(magnitude - 1) - 1)
                    : static_cast<double>(magnitude);
  }
};

}  // namespace

// One pass over a message: checks the JSON grammar and hands each declared field's value to
// its slot, converted. Any false return means the bytes are not JSON.
class KafkaMessageReader::Scanner {
 public:
  Scanner(std::string_view text, KafkaMessageReader& reader)
      : p_(text.data()), end_(text.data() + text.size()), r_(reader) {}

  // The whole message; `top` is the kind of its one value.
  bool Message(Kind* top) {
    // A UTF-8 byte order mark may lead (nlohmann-json skips it too).
    if (p_ < end_ && static_cast<unsigned char>(*p_) == 0xEF) {
      if (end_ - p_ < 3 || static_cast<unsigned char>(p_[1]) != 0xBB ||
          static_cast<unsigned char>(p_[2]) != 0xBF) {
        return false;
      }
      p_ += 3;
    }
    Ws();
    if (p_ < end_ && *p_ == '{') {
      *top = Kind::kObject;
      if (!Object()) return false;
    } else if (!SkipValue(top)) {
      return false;
    }
    Ws();
    return p_ == end_;
  }

 private:
  void Ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
      ++p_;
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // One multi-byte UTF-8 sequence at p_ (RFC 3629: no overlong forms, no surrogates, nothing
  // above U+10FFFF).
  bool Utf8() {
    const auto c = static_cast<unsigned char>(*p_);
    auto in = [&](std::ptrdiff_t k, unsigned lo, unsigned hi) {
      if (end_ - p_ <= k) return false;
      const auto b = static_cast<unsigned char>(p_[k]);
      return b >= lo && b <= hi;
    };
    std::ptrdiff_t n = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = in(1, 0x80, 0xBF) ? 2 : 0;
    } else if (c == 0xE0) {
      n = in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      n = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    } else if (c == 0xED) {
      n = in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
    } else if (c == 0xF0) {
      n = in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    } else if (c >= 0xF1 && c <= 0xF3) {
      n = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    } else if (c == 0xF4) {
      n = in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    }
    p_ += n;
    return n != 0;
  }

  bool Hex4(std::uint32_t* out) {
    if (end_ - p_ < 4) return false;
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    *out = v;
    return true;
  }

  // Passes over string bytes that need no check beyond their own value, 8 at a time: printable
  // ASCII other than '"' and '\\' (most of a message's text). Stops at the first byte that
  // needs one (or where fewer than 8 bytes are left), which the byte-wise loop then reads.
  void SkipPlain() {
    if constexpr (std::endian::native == std::endian::little) {
      constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
      constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
      // The high bit of each byte of `x` below 0x20 (of each zero byte, for 0x01): exact up to
      // the lowest byte that is, which is all that is used (a borrow may flag bytes above it).
      auto below = [](std::uint64_t x, std::uint64_t n) { return (x - kOnes * n) & ~x & kHigh; };
      while (end_ - p_ >= 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p_, 8);
        const std::uint64_t special = below(w ^ (kOnes * '"'), 1) | below(w ^ (kOnes * '\\'), 1) |
                                      below(w, 0x20) | (w & kHigh);
        if (special != 0) {
          p_ += std::countr_zero(special) / 8;
          return;
        }
        p_ += 8;
      }
    }
  }

  // A string, after its opening quote. `*out` is its text: a view of the message when it has no
  // escapes, else unescaped into `buf` (nullptr: only checked, `*out` unset).
  bool String(std::string* buf, std::string_view* out) {
    const char* start = p_;
    while (p_ < end_) {
      SkipPlain();
      if (p_ >= end_) break;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        *out = std::string_view(start, static_cast<size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\') break;
      if (c < 0x20) return false;
      if (c < 0x80) {
        ++p_;
      } else if (!Utf8()) {
        return false;
      }
    }
    if (p_ >= end_) return false;
    if (buf != nullptr) buf->assign(start, static_cast<size_t>(p_ - start));
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        if (buf != nullptr) *out = *buf;
        return true;
      }
      if (c == '\\') {
        if (++p_ >= end_) return false;
        char e = *p_++;
        switch (e) {
          case '"':
          case '\\':
          case '/':
            break;
          case 'b':
            e = '\b';
            break;
          case 'f':
            e = '\f';
            break;
          case 'n':
            e = '\n';
            break;
          case 'r':
            e = '\r';
            break;
          case 't':
            e = '\t';
            break;
          case 'u': {
            std::uint32_t cp = 0;
            if (!Hex4(&cp)) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              std::uint32_t low = 0;
              if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
              p_ += 2;
              if (!Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              return false;
            }
            if (buf != nullptr) AppendUtf8(*buf, cp);
            continue;
          }
          default:
            return false;
        }
        if (buf != nullptr) *buf += e;
      } else if (c < 0x20) {
        return false;
      } else if (c < 0x80) {
        if (buf != nullptr) *buf += static_cast<char>(c);
        ++p_;
      } else {
        const char* from = p_;
        if (!Utf8()) return false;
        if (buf != nullptr) buf->append(from, static_cast<size_t>(p_ - from));
      }
    }
    return false;
  }

  // A number at p_ ('-' or a digit), by JSON's grammar.
  bool ScanNumber(Number* n) {
    const char* start = p_;
    n->negative = *p_ == '-';
    if (n->negative) ++p_;
    if (p_ >= end_ || !IsDigit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && IsDigit(*p_))
        ++p_;
    }
    const char* int_end = p_;
    bool integer = true;
    if (p_ < end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ >= end_ || !IsDigit(*p_)) return false;
      while (p_ < end_ && IsDigit(*p_))
        ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || !IsDigit(*p_)) return false;
      while (p_ < end_ && IsDigit(*p_))
        ++p_;
    }
    if (integer) {
      std::uint64_t m = 0;
      bool fits = true;
      for (const char* q = start + (n->negative ? 1 : 0); q < int_end; ++q) {
        const auto digit = static_cast<std::uint64_t>(*q - '0');
        if (m > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
          fits = false;
          break;
        }
        m = m * 10 + digit;
      }
      // Negative integers down to INT64_MIN, others up to UINT64_MAX; beyond, a double.
      if (fits && (!n->negative || m <= std::uint64_t{1} << 63)) {
        n->kind = Kind::kInteger;
        n->magnitude = m;
        return true;
      }
    }
    n->kind = Kind::kNumber;
    const auto len = static_cast<size_t>(p_ - start);
    double d = 0;
    const auto [ptr, ec] = std::from_chars(start, p_, d);
    if (ec != std::errc() || ptr != p_ || !std::isnormal(d)) {
      // Zero and subnormals exactly as strtod gives them, as nlohmann-json reads numbers.
      r_.scratch_.assign(start, len);
      d = std::strtod(r_.scratch_.c_str(), nullptr);
    }
    n->d = d;
    // A number beyond the doubles is an error, not infinity (as in nlohmann-json).
    return std::isfinite(d);
  }

  // A scalar at p_ (not a list or object); `kind` (may be null) gets its kind.
  bool Scalar(Kind* kind) {
    Kind k = Kind::kNull;
    switch (*p_) {
      case '"': {
        ++p_;
        std::string_view ignored;
        if (!String(nullptr, &ignored)) return false;
        k = Kind::kString;
        break;
      }
      case 't':
        if (!Literal("true")) return false;
        k = Kind::kBool;
        break;
      case 'f':
        if (!Literal("false")) return false;
        k = Kind::kBool;
        break;
      case 'n':
        if (!Literal("null")) return false;
        break;
      default: {
        if (*p_ != '-' && !IsDigit(*p_)) return false;
        Number n;
        if (!ScanNumber(&n)) return false;
        k = n.kind;
      }
    }
    if (kind != nullptr) *kind = k;
    return true;
  }

  // `"key" :` inside an object being skipped.
  bool SkippedKey() {
    Ws();
    if (p_ >= end_ || *p_ != '"') return false;
    ++p_;
    std::string_view ignored;
    if (!String(nullptr, &ignored)) return false;
    Ws();
    if (p_ >= end_ || *p_ != ':') return false;
    ++p_;
    return true;
  }

  // Any value, checked and passed over without recursion (nesting may be deep); `kind` (may be
  // null) gets its kind.
  bool SkipValue(Kind* kind) {
    std::vector<char>& open = r_.nesting_;
    open.clear();
    while (true) {
      Ws();
      if (p_ >= end_) return false;
      const char c = *p_;
      if (c == '{' || c == '[') {
        if (kind != nullptr && open.empty()) *kind = c == '{' ? Kind::kObject : Kind::kList;
        ++p_;
        Ws();
        if (p_ < end_ && *p_ == (c == '{' ? '}' : ']')) {
          ++p_;
        } else {
          open.push_back(c);
          if (c == '{' && !SkippedKey()) return false;
          continue;
        }
      } else if (!Scalar(open.empty() ? kind : nullptr)) {
        return false;
      }
      // After a value: close what ends here, then on to the next element.
      while (true) {
        if (open.empty()) return true;
        Ws();
        if (p_ >= end_) return false;
        const char top = open.back();
        if (*p_ == ',') {
          ++p_;
          if (top == '{' && !SkippedKey()) return false;
          break;
        }
        if (*p_ != (top == '{' ? '}' : ']')) return false;
        ++p_;
        open.pop_back();
      }
    }
  }

  static void Wrong(Slot& slot, const types::Field& f, Kind got) {
    slot.state = Slot::State::kWrong;
    slot.why = "field '" + f.name + "': expected " + Expected(f.type) + ", got " + KindText(got);
  }

  // The value of declared field `f`, at p_, into `slot`.
  bool FieldValue(const types::Field& f, Slot& slot) {
    const char c = *p_;
    if (c == '"') {
      ++p_;
      std::string_view s;
      if (f.type == LogicalType::kString) {
        if (!String(&slot.unescaped, &s)) return false;
        slot.state = Slot::State::kValue;
        slot.s = s;
        return true;
      }
      if (f.type != LogicalType::kTimestamp && f.type != LogicalType::kDate) {
        if (!String(nullptr, &s)) return false;
        Wrong(slot, f, Kind::kString);
        return true;
      }
      if (!String(&r_.scratch_, &s)) return false;
      auto micros = base::ParseTimestampMicros(s);
      if (!micros.ok()) {
        slot.state = Slot::State::kWrong;
        slot.why = "field '" + f.name + "': " + micros.status().message();
        return true;
      }
      slot.state = Slot::State::kValue;
      slot.i = *micros;
      if (f.type == LogicalType::kDate) {
        const std::int64_t days = *micros >= 0 ? *micros / kMicrosPerDay
                                               : -((-*micros + kMicrosPerDay - 1) / kMicrosPerDay);
        if (days * kMicrosPerDay != *micros) {
          slot.state = Slot::State::kWrong;
          slot.why = "field '" + f.name + "': expected a date, got a time";
          return true;
        }
        slot.i = days;
      }
      return true;
    }
    if (c == '-' || IsDigit(c)) {
      Number n;
      if (!ScanNumber(&n)) return false;
      if (f.type == LogicalType::kDouble) {
        slot.state = Slot::State::kValue;
        slot.d = n.AsDouble();
      } else if (f.type != LogicalType::kInt64 || n.kind != Kind::kInteger) {
        Wrong(slot, f, n.kind);
      } else if (n.negative) {
        slot.state = Slot::State::kValue;
        // Down to INT64_MIN without overflow (0 - 1 wraps to -1, giving 0).
        slot.i = -static_cast<std::int64_t>(n.magnitude - 1) - 1;
      } else if (n.magnitude >
                 static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        slot.state = Slot::State::kWrong;
        slot.why = "field '" + f.name + "': " + std::to_string(n.magnitude) +
                   " does not fit a 64-bit integer";
      } else {
        slot.state = Slot::State::kValue;
        slot.i = static_cast<std::int64_t>(n.magnitude);
      }
      return true;
    }
    if (c == 't' || c == 'f') {
      if (!Literal(c == 't' ? "true" : "false")) return false;
      if (f.type != LogicalType::kBool) {
        Wrong(slot, f, Kind::kBool);
        return true;
      }
      slot.state = Slot::State::kValue;
      slot.i = c == 't' ? 1 : 0;
      return true;
    }
    if (c == 'n') {
      if (!Literal("null")) return false;
      slot.state = Slot::State::kNull;
      return true;
    }
    Kind k = Kind::kNull;
    if (!SkipValue(&k)) return false;
    Wrong(slot, f, k);
    return true;
  }

  // The declared field named `key`, trying the one after the last first (messages usually
  // list fields in declaration order); -1 when undeclared.
  int FieldIndex(std::string_view key) {
    const auto& fields = r_.schema_.fields();
    const size_t n = fields.size();
    if (n == 0) return -1;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (next_ + k) % n;
      if (fields[i].name == key) {
        next_ = i + 1;
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  // The key at p_ (after its opening quote) when it is, byte for byte, the declared field
  // after the last one (messages usually list fields in declaration order) and that name needs
  // no escaping: its index, with p_ past the closing quote. Else -1, p_ unmoved.
  int ExpectedKey() {
    const size_t n = r_.quoted_names_.size();
    if (n == 0) return -1;
    const size_t i = next_ % n;
    const std::string& quoted = r_.quoted_names_[i];
    if (quoted.empty() || static_cast<size_t>(end_ - p_) < quoted.size() ||
        std::memcmp(p_, quoted.data(), quoted.size()) != 0) {
      return -1;
    }
    p_ += quoted.size();
    next_ = i + 1;
    return static_cast<int>(i);
  }

  bool Object() {
    ++p_;  // '{'
    Ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      if (p_ >= end_ || *p_ != '"') return false;
      ++p_;
      std::string_view key;
      int field = ExpectedKey();
      if (field < 0) {
        if (!String(&r_.key_, &key)) return false;
        field = FieldIndex(key);
      }
      Ws();
      if (p_ >= end_ || *p_ != ':') return false;
      ++p_;
      Ws();
      if (p_ >= end_) return false;
      if (field < 0) {
        // Reasons name the smallest undeclared key (nlohmann-json's objects are sorted maps).
        if (r_.reject_extra_ && (!r_.has_undeclared_ || key < r_.first_undeclared_)) {
          r_.first_undeclared_.assign(key);
          r_.has_undeclared_ = true;
        }
        if (!SkipValue(nullptr)) return false;
      } else if (!FieldValue(r_.schema_.field(static_cast<size_t>(field)),
                             r_.slots_[static_cast<size_t>(field)])) {
        return false;
      }
      Ws();
      if (p_ >= end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      Ws();
    }
  }

  const char* p_;
  const char* end_;
  KafkaMessageReader& r_;
  size_t next_ = 0;
};

KafkaMessageReader::KafkaMessageReader(const config::SourceSpec& source)
    : reject_extra_(source.extra_columns == config::ExtraColumns::kFail) {
  auto schema = source.Schema();
  // Validation rejects duplicate columns, the only way Schema() fails.
  if (schema.ok()) schema_ = std::move(*schema);
  slots_.resize(schema_.fields().size());
  for (const types::Field& f : schema_.fields()) {
    const bool plain = std::all_of(f.name.begin(), f.name.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
    });
    quoted_names_.push_back(plain ? f.name + '"' : std::string());
  }
}

types::Batch KafkaMessageReader::NewBatch() const {
  return types::Batch(schema_);
}

std::optional<std::string> KafkaMessageReader::Parse(std::string_view payload) {
  for (Slot& s : slots_)
    s.state = Slot::State::kAbsent;
  has_undeclared_ = false;
  Kind top = Kind::kNull;
  Scanner scanner(payload, *this);
  if (!scanner.Message(&top)) return "not JSON";
  if (top != Kind::kObject) return std::string("not a JSON object (got ") + KindText(top) + ")";
  if (has_undeclared_) return "undeclared field '" + first_undeclared_ + "'";
  const auto& fields = schema_.fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    const Slot& s = slots_[i];
    switch (s.state) {
      case Slot::State::kValue:
        break;
      case Slot::State::kAbsent:
        if (!fields[i].nullable) return "missing required field '" + fields[i].name + "'";
        break;
      case Slot::State::kNull:
        if (!fields[i].nullable) return "field '" + fields[i].name + "' is null but not nullable";
        break;
      case Slot::State::kWrong:
        return s.why;
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> KafkaMessageReader::TimeMicros(size_t column) const {
  const Slot& s = slots_[column];
  if (s.state != Slot::State::kValue) return std::nullopt;
  return schema_.field(column).type == LogicalType::kDate ? s.i * kMicrosPerDay : s.i;
}

void KafkaMessageReader::AppendParsed(types::Batch& rows) const {
  const auto& fields = schema_.fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    const Slot& s = slots_[i];
    types::Column& col = rows.column(i);
    if (s.state != Slot::State::kValue) {
      col.AppendNull();
      continue;
    }
    switch (fields[i].type) {
      case LogicalType::kBool:
        col.AppendBool(s.i != 0);
        break;
      case LogicalType::kInt64:
        col.AppendInt64(s.i);
        break;
      case LogicalType::kDouble:
        col.AppendDouble(s.d);
        break;
      case LogicalType::kString:
        col.AppendString(s.s);
        break;
      case LogicalType::kTimestamp:
        col.AppendTimestamp(s.i);
        break;
      case LogicalType::kDate:
        col.AppendDate(static_cast<std::int32_t>(s.i));
        break;
    }
  }
}

std::optional<std::string> KafkaMessageReader::Append(std::string_view payload,
                                                      types::Batch& rows) {
  if (auto why = Parse(payload)) return why;
  AppendParsed(rows);
  return std::nullopt;
}

}  // namespace sluice::connectors
