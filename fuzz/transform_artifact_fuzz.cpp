// Transform artifact parser: never crash, and whatever parses re-serializes to a canonical form
// that is a fixed point (parse it again and it writes the same bytes, so the artifact id is
// stable).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/transform.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = sluice::engine::ParseTransformArtifact(text);
  if (!parsed.ok()) return 0;
  const std::string canonical = sluice::engine::ToJson(*parsed);
  auto again = sluice::engine::ParseTransformArtifact(canonical);
  if (!again.ok()) std::abort();
  if (sluice::engine::ToJson(*again) != canonical) std::abort();
  if (sluice::engine::ArtifactId(*again) != sluice::engine::ArtifactId(*parsed)) std::abort();
  return 0;
}
