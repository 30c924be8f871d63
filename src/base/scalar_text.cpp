#include "base/scalar_text.h"

#include <charconv>
#include <cmath>
#include <string>

namespace sluice::base {

namespace {

std::string Quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

}  // namespace

Result<std::int64_t> ParseInt64(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    return InvalidArgument(Quoted(text) + " is out of the int64 range");
  }
  if (ec != std::errc() || ptr != end || text.empty()) {
    return InvalidArgument(Quoted(text) + " is not an integer");
  }
  return value;
}

Result<double> ParseDouble(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  // from_chars takes no leading '+', which people write.
  const char* begin = text.data();
  if (!text.empty() && text[0] == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc::result_out_of_range) {
    return InvalidArgument(Quoted(text) + " is out of the range of a double");
  }
  if (ec != std::errc() || ptr != end || begin == end || std::isnan(value)) {
    return InvalidArgument(Quoted(text) + " is not a number");
  }
  return value;
}

Result<bool> ParseBool(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return InvalidArgument(Quoted(text) + " is not a boolean (true or false)");
}

}  // namespace sluice::base
