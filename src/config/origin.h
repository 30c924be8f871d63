#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace sluice::config {

// Where something was written: file, 1-based line/column, and its key path in that file.
struct SourceSpan {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key_path;  // e.g. "sources[1].format"

  // "sluice.yaml:10:5"
  std::string Where() const;
};

// Where a spec element and each of its values were written, so validation (which never sees the
// YAML) can point at the exact value. Keys of `fields` are relative key paths: "format",
// "entity_keys[1]", "csv.delimiter", "columns[2].name".
struct Origin {
  SourceSpan at;  // the element's own map (or list item)
  std::map<std::string, SourceSpan, std::less<>> fields;
  // Keys whose value was written but could not be read (already reported). Validation skips
  // checks that depend on them rather than report follow-on noise.
  std::set<std::string, std::less<>> invalid;

  bool Has(std::string_view key) const { return fields.find(key) != fields.end(); }
  bool Invalid(std::string_view key) const { return invalid.find(key) != invalid.end(); }
  // Written and read successfully.
  bool Valid(std::string_view key) const { return Has(key) && !Invalid(key); }
  // The value's span, or the element's own position with the key appended when it was absent.
  SourceSpan Of(std::string_view key) const;
};

}  // namespace sluice::config
