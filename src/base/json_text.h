#pragma once

#include <string>
#include <string_view>

namespace sluice::base {

// JSON string escaping, the one piece of JSON writing both the engine (last_k lists) and the
// serving path need. Appends `s` as the inside of a JSON string: '"', '\\' and control
// characters escaped; other bytes (UTF-8) verbatim.
void AppendJsonEscaped(std::string& out, std::string_view s);

// `s` as a complete JSON string, quotes included.
std::string JsonQuoted(std::string_view s);

}  // namespace sluice::base
