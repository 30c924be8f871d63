#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/html_text.h"

namespace sluice::console {

// Every value the console renders goes through base::EscapeHtml.
using base::EscapeHtml;

// Percent-encodes everything but unreserved characters (RFC 3986), for a path segment or a
// query value in a link.
std::string UrlEncode(std::string_view text);

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query values); nullopt for
// a malformed escape or a NUL byte, escaped or not.
std::optional<std::string> UrlDecode(std::string_view text, bool plus_is_space);

// "a=1&b=x%20y" -> {a: "1", b: "x y"}. Malformed pairs are left out; the first of repeated
// keys wins.
std::map<std::string, std::string> ParseQuery(std::string_view query);

// Bytes for people: "812 B", "1.4 KiB", "3.0 MiB".
std::string FormatBytes(double bytes);

}  // namespace sluice::console
