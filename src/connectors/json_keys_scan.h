#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::connectors {

// What one strict pass over the bytes of an uncompressed JSON Lines file learns: the top-level
// keys the contract check needs (ObserveSql's answer) and the line count the direct read needs
// (CountJsonObjectLines's answer), without DuckDB parsing every line a second time.
struct JsonLinesKeys {
  // The top-level keys of the object lines, ordered by the line each first appears on, then
  // by name (bytes): exactly ObserveSql's column_name rows.
  std::vector<std::string> keys;
  // For each key, the kinds of value it has on any line (kJson* bits, OR-ed).
  std::vector<std::uint8_t> kinds;
  // CountJsonObjectLines's answer for the same bytes.
  std::optional<std::int64_t> object_lines;
};

// Kinds of top-level values. An integer is a number without fraction or exponent of at most 18
// digits: it fits in BIGINT, and DuckDB's JSON reader takes it as exactly that integer.
inline constexpr std::uint8_t kJsonNull = 1;
inline constexpr std::uint8_t kJsonInteger = 2;
inline constexpr std::uint8_t kJsonOtherNumber = 4;
inline constexpr std::uint8_t kJsonString = 8;
inline constexpr std::uint8_t kJsonBool = 16;
inline constexpr std::uint8_t kJsonContainer = 32;  // object or array

// Scans `text` as the lines a JSON Lines file holds. The answer is only given where it is
// certain to equal DuckDB's: every line is blank or one RFC 8259 JSON value (which DuckDB's
// JSON reader accepts too) in valid UTF-8, and no top-level key has an escape. nullopt
// ("unsure") for anything else: a malformed line (DuckDB accepts some, e.g. trailing commas,
// NaN), a lone CR (a line end to DuckDB's CSV reader), a byte order mark, control bytes, a line
// over 1 MB (DuckDB's line limit), numbers whose double value may overflow, escaped surrogates
// or NUL, nesting deeper than 1000. The caller then asks DuckDB, as before.
std::optional<JsonLinesKeys> ScanJsonLinesKeys(std::string_view text);

// The same for a file, read in `parts` pieces split at line ends, each on its own thread (a
// file of less than `min_part_bytes` in one piece).
base::Result<std::optional<JsonLinesKeys>> ScanJsonLinesKeysFile(
    const std::filesystem::path& file, int parts, std::int64_t min_part_bytes = 16 << 20);

}  // namespace sluice::connectors
