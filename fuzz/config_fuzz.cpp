// Feeds arbitrary bytes to the project loader: it must report diagnostics, never crash, hang or
// throw, whatever the input (bad YAML, deep nesting, alias bombs, absurd values).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "config/project_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<sluice::config::Diagnostic> diagnostics;
  auto spec = sluice::config::LoadProjectFromString(
      std::string_view(reinterpret_cast<const char*>(data), size), "sluice.yaml", &diagnostics);
  // Touch the results so the work is not optimized away and ToString is exercised too.
  size_t total = 0;
  for (const auto& d : diagnostics)
    total += d.ToString().size();
  if (spec.ok() && !diagnostics.empty()) __builtin_trap();  // errors must fail the load
  if (!spec.ok() && diagnostics.empty()) __builtin_trap();  // and a failure must say why
  return total == static_cast<size_t>(-1) ? 1 : 0;
}
