#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/json_text.h"
#include "types/column.h"

namespace sluice::serve {

// Hand-written JSON output for the serving path: responses are appended to one string with no
// intermediate document, which is what keeps rendering cheap next to a store read. Shared with
// `sluice get` so the command line prints values exactly as the server does.

// The inside of a JSON string (base/json_text.h).
using base::AppendJsonEscaped;
std::string JsonEscape(std::string_view s);

// Appends `s` as a quoted JSON string.
void AppendJsonString(std::string& out, std::string_view s);

// Appends row `row` of `c` as a JSON value: null, true/false, an integer, a double with 17
// significant digits (exact round trip), or a string (text, timestamps as ISO 8601 UTC, dates as
// YYYY-MM-DD). JSON has no NaN or infinity: those are written as the strings "NaN", "Infinity"
// and "-Infinity".
void AppendJsonValue(std::string& out, const types::Column& c, std::size_t row = 0);
std::string JsonValue(const types::Column& c, std::size_t row = 0);

// {"error":{"code":N,"kind":"...","message":"..."}}: the body of every error response.
std::string ErrorBody(int http_status, std::string_view kind, std::string_view message);

}  // namespace sluice::serve
