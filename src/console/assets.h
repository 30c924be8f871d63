#pragma once

#include <string_view>
#include <vector>

namespace sluice::console {

// A file under src/console/assets/, compiled into the binary at build time
// (cmake/embed_files.cmake), so the console needs no files and no network at run time.
struct Asset {
  std::string_view path;  // relative to assets/, e.g. "console.js"
  std::string_view content;
};

const std::vector<Asset>& Assets();

}  // namespace sluice::console
