// Fuzzes the strict scan that finds the top-level keys of a JSON Lines file for the contract
// check (ScanJsonLinesKeys) in place of asking DuckDB. It must not crash, and its answer must be
// exactly that of a plain, slow model of the rules it documents: one recursive-descent parse
// per line, in the simplest code. Where the model is unsure, so must the scan be (and the
// reverse), and where both are sure, the keys, their order, the kinds of their values and the
// object line count must agree. The scan of the same bytes as a file, split in 1-3 parts
// however small, must give the same answer as the scan in memory.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/json_keys_scan.h"

namespace {

using sluice::connectors::JsonLinesKeys;

// One line's value, parsed by recursion. Every failure, also the deliberate ones ("unsure"),
// is a failure here: the model answers for the whole text only when every line passes.
class Model {
 public:
  explicit Model(std::string_view s) : s_(s) {}

  // True when the line is one value; `keys`/`kinds` get the top-level object's members.
  bool Line(bool& object, std::vector<std::string>& keys, std::vector<std::uint8_t>& kinds) {
    Space();
    object = At('{');
    if (!Value(0, &keys, &kinds)) return false;
    Space();
    return i_ == s_.size();
  }

 private:
  bool At(char c) const { return i_ < s_.size() && s_[i_] == c; }
  void Space() {
    while (At(' ') || At('\t'))
      ++i_;
  }

  bool Value(int depth, std::vector<std::string>* keys, std::vector<std::uint8_t>* kinds) {
    if (depth > 1000) return false;  // the scan keeps at most 1000 containers open
    Space();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      Space();
      if (At('}')) {
        ++i_;
        return true;
      }
      for (;;) {
        Space();
        std::string key;
        if (!At('"') || !String(&key, /*is_key=*/true)) return false;
        Space();
        if (!At(':')) return false;
        ++i_;
        Space();
        std::uint8_t kind = Kind();
        if (!Value(depth + 1, nullptr, nullptr)) return false;
        if (kind == 255) kind = LastNumberKind();
        if (keys != nullptr) {
          keys->push_back(key);
          kinds->push_back(kind);
        }
        Space();
        if (At(',')) {
          ++i_;
          continue;
        }
        if (At('}')) {
          ++i_;
          return true;
        }
        return false;
      }
    }
    if (c == '[') {
      ++i_;
      Space();
      if (At(']')) {
        ++i_;
        return true;
      }
      for (;;) {
        if (!Value(depth + 1, nullptr, nullptr)) return false;
        Space();
        if (At(',')) {
          ++i_;
          continue;
        }
        if (At(']')) {
          ++i_;
          return true;
        }
        return false;
      }
    }
    if (c == '"') return String(nullptr, false);
    for (const std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        return true;
      }
    }
    return Number();
  }

  // The kind of the value at i_, or 255 for a number (known once it is read).
  std::uint8_t Kind() const {
    if (At('{') || At('[')) return sluice::connectors::kJsonContainer;
    if (At('"')) return sluice::connectors::kJsonString;
    if (At('t') || At('f')) return sluice::connectors::kJsonBool;
    if (At('n')) return sluice::connectors::kJsonNull;
    return 255;
  }
  std::uint8_t LastNumberKind() const {
    return last_number_integer_ ? sluice::connectors::kJsonInteger
                                : sluice::connectors::kJsonOtherNumber;
  }

  bool Number() {
    const size_t start = i_;
    bool negative = false;
    if (At('-')) {
      negative = true;
      ++i_;
    }
    const size_t int_start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
      ++i_;
    const size_t int_digits = i_ - int_start;
    if (int_digits == 0) return false;
    if (int_digits > 1 && s_[int_start] == '0') return false;
    bool integer = int_digits <= 18 && !(negative && s_[int_start] == '0');
    if (At('.')) {
      integer = false;
      ++i_;
      const size_t f = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      if (i_ == f) return false;
    }
    if (At('e') || At('E')) {
      integer = false;
      ++i_;
      if (At('+') || At('-')) ++i_;
      const size_t e = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      if (i_ == e || i_ - e > 2) return false;
    }
    last_number_integer_ = integer;
    return i_ - start <= 40;
  }

  // A string at i_ (the quote). Keys may not have escapes; \u0000 and surrogates are refused.
  bool String(std::string* out, bool is_key) {
    ++i_;
    for (;;) {
      if (i_ >= s_.size()) return false;
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (is_key || i_ + 1 >= s_.size()) return false;
        const char e = s_[i_ + 1];
        if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
          i_ += 2;
          continue;
        }
        if (e != 'u' || i_ + 6 > s_.size()) return false;
        unsigned v = 0;
        for (size_t k = i_ + 2; k < i_ + 6; ++k) {
          const char h = s_[k];
          unsigned d;
          if (h >= '0' && h <= '9') {
            d = static_cast<unsigned>(h - '0');
          } else if (h >= 'a' && h <= 'f') {
            d = static_cast<unsigned>(h - 'a' + 10);
          } else if (h >= 'A' && h <= 'F') {
            d = static_cast<unsigned>(h - 'A' + 10);
          } else {
            return false;
          }
          v = v * 16 + d;
        }
        if (v == 0 || (v >= 0xD800 && v <= 0xDFFF)) return false;
        i_ += 6;
        continue;
      }
      if (c < 0x80) {
        if (out) out->push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      // Decode one UTF-8 sequence and refuse overlong forms, surrogates and values past
      // U+10FFFF.
      size_t n;
      unsigned cp;
      if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
      } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
      } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
      } else {
        return false;
      }
      if (i_ + n > s_.size()) return false;
      for (size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s_[i_ + k]);
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3F);
      }
      const unsigned min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
      if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
      if (out) out->append(s_.substr(i_, n));
      i_ += n;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  bool last_number_integer_ = false;
};

std::optional<JsonLinesKeys> ModelScan(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") return std::nullopt;
  std::vector<std::string_view> lines;
  size_t from = 0;
  for (size_t at; (at = text.find('\n', from)) != std::string_view::npos; from = at + 1)
    lines.push_back(text.substr(from, at - from));
  if (from < text.size()) lines.push_back(text.substr(from));
  std::map<std::string, std::pair<size_t, std::uint8_t>> found;  // key -> (first line, kinds)
  bool blank = false;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view line = lines[n];
    if (line.size() > 1'000'000) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      blank = true;
      continue;
    }
    bool object = false;
    std::vector<std::string> keys;
    std::vector<std::uint8_t> kinds;
    if (!Model(line).Line(object, keys, kinds)) return std::nullopt;
    for (size_t k = 0; k < keys.size(); ++k) {
      auto [it, added] = found.try_emplace(keys[k], n, kinds[k]);
      if (!added) it->second.second |= kinds[k];
    }
  }
  std::vector<std::pair<size_t, std::string>> ordered;
  for (const auto& [key, v] : found)
    ordered.emplace_back(v.first, key);
  std::sort(ordered.begin(), ordered.end());
  JsonLinesKeys out;
  for (const auto& [line, key] : ordered) {
    out.keys.push_back(key);
    out.kinds.push_back(found[key].second);
  }
  if (!blank) out.object_lines = static_cast<std::int64_t>(lines.size());
  return out;
}

bool Same(const std::optional<JsonLinesKeys>& a, const std::optional<JsonLinesKeys>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->keys == b->keys && a->kinds == b->kinds && a->object_lines == b->object_lines);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto scanned = sluice::connectors::ScanJsonLinesKeys(text);
  if (!Same(scanned, ModelScan(text))) __builtin_trap();

  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("sluice_json_keys_fuzz_" + std::to_string(::getpid()));
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !written) return 0;
  const auto from_file =
      sluice::connectors::ScanJsonLinesKeysFile(path, 1 + size % 3, /*min_part_bytes=*/1);
  if (!from_file.ok() || !Same(*from_file, scanned)) __builtin_trap();
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return 0;
}
