#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "config/diagnostic.h"
#include "config/enum_words.h"
#include "config/origin.h"
#include "config/yaml_document.h"

// A small declarative reader over YamlNode maps: each section says which keys it has, whether
// they are required and what type they hold; the reader converts values, records where each one
// was written (Origin) and reports every problem as a Diagnostic instead of stopping. Adding a
// key to a section is one Read() call. Internal to config.
namespace sluice::config {

enum class Presence { kOptional, kRequired };

// Collects diagnostics for one file.
class DiagnosticSink {
 public:
  DiagnosticSink(std::string file, std::vector<Diagnostic>* out)
      : file_(std::move(file)), out_(out) {}

  void Error(YamlMark mark, std::string key_path, std::string message,
             std::optional<std::string> suggestion = std::nullopt);
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic>* out_;
};

// The candidate `word` is most plausibly a typo of: base::ClosestMatch, or else a candidate
// that differs by one swap of adjacent letters ("cvs" -> "csv"), which plain edit distance counts
// as two edits.
std::optional<std::string> SuggestWord(std::string_view word,
                                       const std::vector<std::string>& candidates);

// "a.b", "a[2]": the key path of `key` under `path`.
std::string JoinKeyPath(std::string_view path, std::string_view key);

class MapReader {
 public:
  // Reads `node` (a map; null reads as an empty map) at key path `path`. Spans of the values read
  // go to `origin->fields` under `prefix` (e.g. "csv." for a nested map); when `prefix` is empty
  // the map's own span becomes `origin->at`.
  MapReader(DiagnosticSink& sink, const YamlNode& node, std::string path, Origin* origin,
            std::string prefix = "");

  // Each Read declares `key`, converts its value into `*out` (left untouched when absent or on
  // error) and reports: missing required key, wrong type, unparsable value.
  void Read(std::string_view key, Presence presence, std::string* out);
  void Read(std::string_view key, Presence presence, std::optional<std::string>* out);
  void Read(std::string_view key, Presence presence, std::int64_t* out);
  void Read(std::string_view key, Presence presence, std::optional<std::int64_t>* out);
  void Read(std::string_view key, Presence presence, int* out);
  void Read(std::string_view key, Presence presence, bool* out);
  void Read(std::string_view key, Presence presence, std::optional<double>* out);
  void Read(std::string_view key, Presence presence, base::Duration* out);
  void Read(std::string_view key, Presence presence, std::optional<base::Duration>* out);
  // An ISO-8601 instant (see base::ParseTimestampMicros).
  void Read(std::string_view key, Presence presence, std::optional<base::EventTime>* out);
  // A list of scalars. Spans of items are recorded as "key[i]".
  void Read(std::string_view key, Presence presence, std::vector<std::string>* out);

  template <typename E, size_t N>
  void ReadEnum(std::string_view key, Presence presence, const EnumWords<E, N>& words, E* out) {
    if (const YamlNode* v = Scalar(key, presence, "a string")) {
      if (auto e = ParseEnum(*v, JoinKeyPath(path_, key), words)) {
        *out = *e;
      } else {
        MarkInvalid(key);
      }
    }
  }
  template <typename E, size_t N>
  void ReadEnum(std::string_view key, Presence presence, const EnumWords<E, N>& words,
                std::optional<E>* out) {
    E value{};
    ReadEnum(key, presence, words, &value);
    if (origin_->Valid(prefix_ + std::string(key))) *out = value;
  }
  template <typename E, size_t N>
  void ReadEnumList(std::string_view key, Presence presence, const EnumWords<E, N>& words,
                    std::vector<E>* out) {
    const YamlNode* list = List(key, presence);
    if (!list) return;
    std::vector<E> values;
    for (size_t i = 0; i < list->items.size(); ++i) {
      const YamlNode& item = list->items[i];
      const std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
      Record(item_key, item.mark);
      if (!ExpectScalar(item, JoinKeyPath(path_, item_key), "a string")) continue;
      if (auto e = ParseEnum(item, JoinKeyPath(path_, item_key), words)) values.push_back(*e);
    }
    *out = std::move(values);
  }

  // A map with free-form keys and scalar values (spans recorded as "key.<k>").
  void ReadScalarMap(std::string_view key, Presence presence,
                     std::map<std::string, std::string>* out);

  // A nested map, read by `fn` into the same Origin under the prefix "key.".
  void ReadMap(std::string_view key, Presence presence, const std::function<void(MapReader&)>& fn);

  // A list of maps; each item becomes a T (which has an `Origin origin`) read by `fn`.
  template <typename T>
  void ReadList(std::string_view key, Presence presence, std::vector<T>* out,
                const std::function<void(MapReader&, T&)>& fn) {
    const YamlNode* list = List(key, presence);
    if (!list) return;
    for (size_t i = 0; i < list->items.size(); ++i) {
      T item;
      MapReader r(sink_, list->items[i], JoinKeyPath(path_, key) + "[" + std::to_string(i) + "]",
                  &item.origin);
      if (!r.is_map()) continue;
      fn(r, item);
      r.Finish();
      out->push_back(std::move(item));
    }
  }

  // A list of maps whose items belong to this element: item i is read by `fn` with the Origin
  // prefix "key[i]." (e.g. a source's columns).
  void ReadItems(std::string_view key, Presence presence,
                 const std::function<void(MapReader&, size_t)>& fn);

  // Declares `key` and returns its value when present and not null, for values read by hand.
  // Reports a missing required key.
  const YamlNode* Value(std::string_view key, Presence presence);
  // Reports a problem with the value of `key`.
  void Error(std::string_view key, std::string message,
             std::optional<std::string> suggestion = std::nullopt);

  // Reports every key that no Read declared, suggesting the closest declared one.
  void Finish();

  // Records that `key` (relative to this map) was written at `mark`.
  void Record(std::string_view key, YamlMark mark);
  // Records that the value of `key` was reported as unreadable.
  void MarkInvalid(std::string_view key) { origin_->invalid.insert(prefix_ + std::string(key)); }

  bool is_map() const { return is_map_; }
  const std::string& path() const { return path_; }
  DiagnosticSink& sink() { return sink_; }

 private:
  const YamlNode* Scalar(std::string_view key, Presence presence, std::string_view expected);
  const YamlNode* List(std::string_view key, Presence presence);
  bool ExpectScalar(const YamlNode& node, const std::string& key_path, std::string_view expected);

  template <typename E, size_t N>
  std::optional<E> ParseEnum(const YamlNode& v, const std::string& key_path,
                             const EnumWords<E, N>& words) {
    std::vector<std::string> candidates;
    for (const auto& w : words) {
      if (w.word == v.scalar) return w.value;
      candidates.emplace_back(w.word);
    }
    UnknownValue(v, key_path, candidates);
    return std::nullopt;
  }
  void UnknownValue(const YamlNode& v, const std::string& key_path,
                    const std::vector<std::string>& candidates);

  DiagnosticSink& sink_;
  const YamlNode& node_;
  std::string path_;
  Origin* origin_;
  std::string prefix_;
  bool is_map_ = false;
  std::vector<std::string> declared_;
};

}  // namespace sluice::config
