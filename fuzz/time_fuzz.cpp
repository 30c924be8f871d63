// Duration and timestamp parsers: never crash, and whatever parses formats back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/time.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = sluice::base::ParseDuration(text); d.ok()) {
    auto again = sluice::base::ParseDuration(sluice::base::FormatDuration(*d));
    if (!again.ok() || *again != *d) std::abort();
  }
  if (auto t = sluice::base::ParseTimestampMicros(text); t.ok()) {
    auto again = sluice::base::ParseTimestampMicros(sluice::base::FormatTimestampMicros(*t));
    if (!again.ok() || *again != *t) std::abort();
  }
  return 0;
}
