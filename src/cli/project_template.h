#pragma once

#include <string_view>
#include <vector>

namespace sluice::cli {

// One file of the project `sluice init` writes, with its path relative to the project folder.
struct TemplateFile {
  std::string_view path;
  std::string_view content;
};

// The example project (examples/fraud), embedded at build time.
const std::vector<TemplateFile>& ProjectTemplate();

}  // namespace sluice::cli
