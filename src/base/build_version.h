#pragma once

namespace sluice::base {

// The version of this build, from the CMake project version: the one source of the version that
// `sluice --version` prints and every manifest records.
extern const char* const kBuildVersion;

}  // namespace sluice::base
