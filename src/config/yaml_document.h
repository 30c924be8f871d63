#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/diagnostic.h"

namespace sluice::config {

// A position in a YAML file, 1-based; 0 means unknown.
struct YamlMark {
  int line = 0;
  int column = 0;
};

enum class YamlKind { kNull, kScalar, kSequence, kMap };

struct YamlEntry;

// sluice's own YAML tree, so that nothing outside yaml_document.cpp sees yaml-cpp. Aliases are
// expanded; map entries keep file order and duplicates (the reader reports those).
struct YamlNode {
  YamlKind kind = YamlKind::kNull;
  YamlMark mark;
  std::string scalar;              // text of a kScalar
  bool quoted = false;             // a kScalar written in quotes: "true" is a string, not a bool
  std::vector<YamlNode> items;     // elements of a kSequence
  std::vector<YamlEntry> entries;  // key/value pairs of a kMap

  // First entry with `key` in a kMap, else nullptr.
  const YamlEntry* Find(std::string_view key) const;
};

struct YamlEntry {
  std::string key;  // a non-scalar key is rendered as "<complex key>"
  YamlMark key_mark;
  YamlNode value;
};

struct YamlDocument {
  std::string file;  // as it should appear in diagnostics
  YamlNode root;     // kNull for an empty file
};

// Limits that keep hostile input (deep nesting, alias bombs) from exhausting stack or memory.
inline constexpr int kMaxYamlDepth = 64;
inline constexpr size_t kMaxYamlNodes = 200'000;
inline constexpr size_t kMaxYamlBytes = 8u << 20;

// Parses one YAML document. On a syntax error (or a limit above) appends a Diagnostic at the
// parser's position and returns kInvalidArgument. Never throws.
base::Result<YamlDocument> ParseYamlDocument(std::string_view text, std::string file,
                                             std::vector<Diagnostic>* diagnostics);

// "a map", "a list", "null", "a bool", "an int", "a number", "a string": what a node is, for
// "expected X, got Y" messages.
std::string DescribeYamlNode(const YamlNode& node);

}  // namespace sluice::config
