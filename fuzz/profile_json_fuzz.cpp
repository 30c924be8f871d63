// Profiles are stored beside manifests and read back by `sluice profile`, `sluice drift` and
// the monitors; a disk error or a hand edit can leave anything there. Whatever parses must be
// written back as JSON that parses again to the same text (a fixed point): a stored profile
// never changes by being read and written (a bare NaN would not parse again).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "quality/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto profile = sluice::quality::ParseProfile(json);
  if (!profile.ok()) {
    if (profile.status().message().empty()) __builtin_trap();
    return 0;
  }
  const std::string written = sluice::quality::ProfileToJson(*profile);
  auto again = sluice::quality::ParseProfile(written);
  if (!again.ok()) __builtin_trap();  // what we write, we must read
  if (sluice::quality::ProfileToJson(*again) != written) __builtin_trap();
  return 0;
}
