#pragma once

#include <string>
#include <string_view>

namespace sluice::base {

// `text` with &, <, >, " and ' replaced by character references: safe inside element content
// and inside quoted attribute values. Every value sluice renders into HTML (reports, console)
// goes through it.
std::string EscapeHtml(std::string_view text);

}  // namespace sluice::base
