#include "config/map_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_map>

#include "base/text_distance.h"

namespace sluice::config {
namespace {

std::string Quote(std::string_view s) {
  constexpr size_t kMaxShown = 40;
  if (s.size() > kMaxShown) return "'" + std::string(s.substr(0, kMaxShown)) + "...'";
  return "'" + std::string(s) + "'";
}

// "a string 'abc'", "a list": what was found, for "expected X, got Y".
std::string Got(const YamlNode& node) {
  std::string out = DescribeYamlNode(node);
  if (node.kind == YamlKind::kScalar) out += " " + Quote(node.scalar);
  return out;
}

std::optional<bool> ParseBool(std::string_view s) {
  std::string lower(s);
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

template <typename N>
std::optional<N> ParseNumber(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  N v{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

void DiagnosticSink::Error(YamlMark mark, std::string key_path, std::string message,
                           std::optional<std::string> suggestion) {
  out_->push_back(Diagnostic{file_, mark.line, mark.column, std::move(key_path), std::move(message),
                             std::move(suggestion)});
}

std::optional<std::string> SuggestWord(std::string_view word,
                                       const std::vector<std::string>& candidates) {
  if (auto match = base::ClosestMatch(word, candidates)) return match;
  for (const auto& c : candidates) {
    if (c.size() != word.size() || c == word) continue;
    size_t i = 0;
    while (c[i] == word[i])
      ++i;
    if (i + 1 < c.size() && c[i] == word[i + 1] && c[i + 1] == word[i] &&
        c.substr(i + 2) == word.substr(i + 2)) {
      return c;
    }
  }
  return std::nullopt;
}

std::string JoinKeyPath(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  if (!key.empty() && key.front() == '[') return std::string(path) + std::string(key);
  return std::string(path) + "." + std::string(key);
}

MapReader::MapReader(DiagnosticSink& sink, const YamlNode& node, std::string path, Origin* origin,
                     std::string prefix)
    : sink_(sink),
      node_(node),
      path_(std::move(path)),
      origin_(origin),
      prefix_(std::move(prefix)) {
  if (prefix_.empty())
    origin_->at = SourceSpan{sink_.file(), node.mark.line, node.mark.column, path_};
  if (node.kind == YamlKind::kNull) {
    is_map_ = true;
    return;
  }
  if (node.kind != YamlKind::kMap) {
    sink_.Error(node.mark, path_, "expected a map, got " + Got(node));
    return;
  }
  is_map_ = true;
  std::unordered_map<std::string_view, YamlMark> first_seen;
  for (const auto& e : node.entries) {
    auto [it, inserted] = first_seen.emplace(e.key, e.key_mark);
    if (inserted) continue;
    sink_.Error(e.key_mark, JoinKeyPath(path_, e.key),
                "duplicate key " + Quote(e.key) + " (first at line " +
                    std::to_string(it->second.line) + ":" + std::to_string(it->second.column) +
                    ")");
  }
}

void MapReader::Record(std::string_view key, YamlMark mark) {
  origin_->fields[prefix_ + std::string(key)] =
      SourceSpan{sink_.file(), mark.line, mark.column, JoinKeyPath(path_, key)};
}

const YamlNode* MapReader::Value(std::string_view key, Presence presence) {
  declared_.emplace_back(key);
  const YamlEntry* entry = node_.kind == YamlKind::kMap ? node_.Find(key) : nullptr;
  if (entry && entry->value.kind != YamlKind::kNull) {
    Record(key, entry->value.mark);
    return &entry->value;
  }
  if (presence == Presence::kRequired && is_map_) {
    if (entry) {
      sink_.Error(entry->value.mark, JoinKeyPath(path_, key),
                  "required key " + Quote(key) + " has no value");
    } else {
      sink_.Error(node_.mark, JoinKeyPath(path_, key), "missing required key " + Quote(key));
    }
  }
  return nullptr;
}

void MapReader::Error(std::string_view key, std::string message,
                      std::optional<std::string> suggestion) {
  MarkInvalid(key);
  const YamlEntry* entry = node_.kind == YamlKind::kMap ? node_.Find(key) : nullptr;
  sink_.Error(entry ? entry->value.mark : node_.mark, JoinKeyPath(path_, key), std::move(message),
              std::move(suggestion));
}

bool MapReader::ExpectScalar(const YamlNode& node, const std::string& key_path,
                             std::string_view expected) {
  if (node.kind == YamlKind::kScalar) return true;
  sink_.Error(node.mark, key_path, "expected " + std::string(expected) + ", got " + Got(node));
  return false;
}

const YamlNode* MapReader::Scalar(std::string_view key, Presence presence,
                                  std::string_view expected) {
  const YamlNode* v = Value(key, presence);
  if (!v) return nullptr;
  if (!ExpectScalar(*v, JoinKeyPath(path_, key), expected)) {
    MarkInvalid(key);
    return nullptr;
  }
  return v;
}

const YamlNode* MapReader::List(std::string_view key, Presence presence) {
  const YamlNode* v = Value(key, presence);
  if (!v) return nullptr;
  if (v->kind != YamlKind::kSequence) {
    MarkInvalid(key);
    sink_.Error(v->mark, JoinKeyPath(path_, key), "expected a list, got " + Got(*v));
    return nullptr;
  }
  return v;
}

void MapReader::UnknownValue(const YamlNode& v, const std::string& key_path,
                             const std::vector<std::string>& candidates) {
  auto suggestion = SuggestWord(v.scalar, candidates);
  std::string message = "unknown value " + Quote(v.scalar);
  if (!suggestion) {
    message += " (expected one of:";
    for (size_t i = 0; i < candidates.size(); ++i) {
      message += (i == 0 ? " " : ", ") + candidates[i];
    }
    message += ")";
  }
  sink_.Error(v.mark, key_path, std::move(message), std::move(suggestion));
}

void MapReader::Read(std::string_view key, Presence presence, std::string* out) {
  const YamlNode* v = Scalar(key, presence, "a string");
  if (!v) return;
  if (presence == Presence::kRequired && v->scalar.empty()) {
    MarkInvalid(key);
    sink_.Error(v->mark, JoinKeyPath(path_, key), "must not be empty");
    return;
  }
  *out = v->scalar;
}

void MapReader::Read(std::string_view key, Presence presence, std::optional<std::string>* out) {
  if (const YamlNode* v = Scalar(key, presence, "a string")) *out = v->scalar;
}

void MapReader::Read(std::string_view key, Presence presence, std::optional<std::int64_t>* out) {
  const YamlNode* v = Scalar(key, presence, "an int");
  if (!v) return;
  if (auto n = ParseNumber<std::int64_t>(v->scalar)) {
    *out = *n;
  } else {
    MarkInvalid(key);
    sink_.Error(v->mark, JoinKeyPath(path_, key), "expected an int, got " + Got(*v));
  }
}

void MapReader::Read(std::string_view key, Presence presence, std::int64_t* out) {
  std::optional<std::int64_t> v;
  Read(key, presence, &v);
  if (v) *out = *v;
}

void MapReader::Read(std::string_view key, Presence presence, int* out) {
  std::optional<std::int64_t> v;
  Read(key, presence, &v);
  if (!v) return;
  if (*v < INT32_MIN || *v > INT32_MAX) {
    Error(key, "value " + std::to_string(*v) + " is out of range");
    return;
  }
  *out = static_cast<int>(*v);
}

void MapReader::Read(std::string_view key, Presence presence, bool* out) {
  const YamlNode* v = Scalar(key, presence, "a bool");
  if (!v) return;
  if (auto b = ParseBool(v->scalar)) {
    *out = *b;
  } else {
    MarkInvalid(key);
    sink_.Error(v->mark, JoinKeyPath(path_, key), "expected a bool, got " + Got(*v));
  }
}

void MapReader::Read(std::string_view key, Presence presence, std::optional<double>* out) {
  const YamlNode* v = Scalar(key, presence, "a number");
  if (!v) return;
  if (auto d = ParseNumber<double>(v->scalar)) {
    *out = *d;
  } else {
    MarkInvalid(key);
    sink_.Error(v->mark, JoinKeyPath(path_, key), "expected a number, got " + Got(*v));
  }
}

void MapReader::Read(std::string_view key, Presence presence, std::optional<base::Duration>* out) {
  const YamlNode* v = Scalar(key, presence, "a duration");
  if (!v) return;
  auto d = base::ParseDuration(v->scalar);
  if (d.ok()) {
    *out = *d;
  } else {
    MarkInvalid(key);
    sink_.Error(v->mark, JoinKeyPath(path_, key), d.status().message());
  }
}

void MapReader::Read(std::string_view key, Presence presence, base::Duration* out) {
  std::optional<base::Duration> v;
  Read(key, presence, &v);
  if (v) *out = *v;
}

void MapReader::Read(std::string_view key, Presence presence, std::optional<base::EventTime>* out) {
  const YamlNode* v = Scalar(key, presence, "a timestamp");
  if (!v) return;
  auto t = base::ParseEventTime(v->scalar);
  if (t.ok()) {
    *out = *t;
  } else {
    MarkInvalid(key);
    sink_.Error(v->mark, JoinKeyPath(path_, key), t.status().message());
  }
}

void MapReader::Read(std::string_view key, Presence presence, std::vector<std::string>* out) {
  const YamlNode* list = List(key, presence);
  if (!list) return;
  std::vector<std::string> values;
  for (size_t i = 0; i < list->items.size(); ++i) {
    const YamlNode& item = list->items[i];
    const std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    Record(item_key, item.mark);
    if (ExpectScalar(item, JoinKeyPath(path_, item_key), "a string")) {
      values.push_back(item.scalar);
    }
  }
  *out = std::move(values);
}

void MapReader::ReadMap(std::string_view key, Presence presence,
                        const std::function<void(MapReader&)>& fn) {
  const YamlNode* v = Value(key, presence);
  if (!v) return;
  MapReader nested(sink_, *v, JoinKeyPath(path_, key), origin_, prefix_ + std::string(key) + ".");
  if (!nested.is_map()) return;
  fn(nested);
  nested.Finish();
}

void MapReader::ReadScalarMap(std::string_view key, Presence presence,
                              std::map<std::string, std::string>* out) {
  const YamlNode* v = Value(key, presence);
  if (!v) return;
  const std::string path = JoinKeyPath(path_, key);
  if (v->kind != YamlKind::kMap) {
    sink_.Error(v->mark, path, "expected a map, got " + Got(*v));
    return;
  }
  for (const auto& e : v->entries) {
    const std::string entry_key = std::string(key) + "." + e.key;
    Record(entry_key, e.key_mark);
    if (!ExpectScalar(e.value, JoinKeyPath(path, e.key), "a scalar")) continue;
    if (!out->emplace(e.key, e.value.scalar).second) {
      sink_.Error(e.key_mark, JoinKeyPath(path, e.key), "duplicate key " + Quote(e.key));
    }
  }
}

void MapReader::ReadItems(std::string_view key, Presence presence,
                          const std::function<void(MapReader&, size_t)>& fn) {
  const YamlNode* list = List(key, presence);
  if (!list) return;
  for (size_t i = 0; i < list->items.size(); ++i) {
    const std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    Record(item_key, list->items[i].mark);
    MapReader item(sink_, list->items[i], JoinKeyPath(path_, item_key), origin_,
                   prefix_ + item_key + ".");
    // Called even for a non-map item (which reads as empty) so items stay aligned with indexes.
    fn(item, i);
    item.Finish();
  }
}

void MapReader::Finish() {
  if (node_.kind != YamlKind::kMap) return;
  for (const auto& e : node_.entries) {
    if (std::find(declared_.begin(), declared_.end(), e.key) != declared_.end()) continue;
    sink_.Error(e.key_mark, JoinKeyPath(path_, e.key), "unknown key " + Quote(e.key),
                SuggestWord(e.key, declared_));
  }
}

}  // namespace sluice::config
