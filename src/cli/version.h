#pragma once

namespace sluice::cli {

// Set from the CMake project version at build time.
extern const char* const kVersion;

}  // namespace sluice::cli
