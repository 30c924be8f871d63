#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace sluice::base {

// Strict parsing of one scalar from user text (config values, flags, defaults): the whole text
// must be the value, with no surrounding blanks. Errors say what the text is instead ("'abc' is
// not an integer", "... is out of the int64 range"). Built on std::from_chars: no exceptions,
// no locale.
Result<std::int64_t> ParseInt64(std::string_view text);
// A finite or infinite decimal number ("1", "-2.5", "1e3", "inf"); not "nan".
Result<double> ParseDouble(std::string_view text);
// "true" or "false".
Result<bool> ParseBool(std::string_view text);

}  // namespace sluice::base
