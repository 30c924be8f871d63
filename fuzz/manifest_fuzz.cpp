// Feeds arbitrary bytes to the manifest parser (manifests are read back from the lake, where a
// disk error or a hand edit can leave anything). Whatever parses must survive a round trip:
// canonical JSON re-parses to an equal Manifest, is a fixed point, and keeps the version id,
// the checksum and whether both match;
// otherwise a stored version could change its id or content when read and written again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lake/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sluice::lake::Manifest;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = sluice::lake::ParseManifest(text);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) __builtin_trap();  // a failure must say why
    return 0;
  }
  const Manifest& m = *parsed;
  const std::string canonical = sluice::lake::ToCanonicalJson(m);
  auto again = sluice::lake::ParseManifest(canonical);
  if (!again.ok()) __builtin_trap();  // what we write, we must read
  if (!(*again == m)) __builtin_trap();
  if (sluice::lake::ToCanonicalJson(*again) != canonical) __builtin_trap();
  if (sluice::lake::ComputeManifestId(*again) != sluice::lake::ComputeManifestId(m) ||
      sluice::lake::ComputeManifestChecksum(*again) != sluice::lake::ComputeManifestChecksum(m) ||
      sluice::lake::ManifestIsIntact(*again) != sluice::lake::ManifestIsIntact(m)) {
    __builtin_trap();
  }
  // `sluice show` prints the pretty form; it must describe the same manifest.
  auto pretty = sluice::lake::ParseManifest(sluice::lake::ToPrettyJson(m));
  if (!pretty.ok() || !(*pretty == m)) __builtin_trap();
  return 0;
}
