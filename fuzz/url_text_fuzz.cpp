// The console reads its links' query strings from the browser. Percent-encoding must round-trip
// any text without NUL bytes (links built with UrlEncode lead back to the same dataset or run),
// and query parsing must never fail on what a browser sends.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "console/html_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string encoded = sluice::console::UrlEncode(text);
  for (unsigned char c : encoded) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || c == '%';
    if (!unreserved) __builtin_trap();
  }
  const auto decoded = sluice::console::UrlDecode(encoded, true);
  if (text.find('\0') == std::string_view::npos) {
    if (!decoded || *decoded != text) __builtin_trap();
  } else if (decoded) {
    __builtin_trap();  // a NUL byte is refused, not passed on
  }
  for (const auto& [key, value] : sluice::console::ParseQuery(text)) {
    if (key.empty() || key.find('\0') != std::string::npos ||
        value.find('\0') != std::string::npos) {
      __builtin_trap();
    }
  }
  return 0;
}
