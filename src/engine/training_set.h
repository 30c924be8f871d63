#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "engine/keyed_replay.h"
#include "lake/lake.h"
#include "registry/registry.h"

namespace sluice::engine {

struct TrainingSetOptions {
  int threads = 0;     // 0 = all cores; the output is identical for any value
  int partitions = 0;  // key-partitioned passes; 0 = chosen from the data size
  std::int64_t memory_budget_bytes = std::int64_t{2} << 30;  // per pass, for choosing partitions
  bool refit = false;                // fit transforms fitted on this training set again
  std::filesystem::path output_dir;  // copies of the outputs (also unpublished); empty = none
  // Reproduction: dataset versions and transform artifacts to use instead of the current ones,
  // and no publishing (the rebuilt files are compared with the manifest instead).
  std::map<std::string, std::string> pinned_versions;   // dataset -> version id
  std::map<std::string, std::string> pinned_artifacts;  // "view.feature" -> artifact object sha
  bool publish = true;
  std::function<void(const std::string& stage, double fraction)> progress;
};

struct TrainingSetResult {
  lake::Manifest manifest;                   // published (or, unpublished, as rebuilt)
  bool created = false;                      // false: the same content is already current
  std::vector<std::filesystem::path> files;  // user-facing copies in output_dir
  ReplayCounts counts;
  std::vector<std::string> fitted;  // transforms fitted by this run
  double seconds = 0;
  int partitions = 1;
};

// Builds a point-in-time-correct training set: one row per spine row, with every requested
// feature as of that row's timestamp (see docs/features.md), fitted transforms applied, written
// as Parquet and/or CSV into the lake as a dataset version whose manifest names its input
// versions, definition hashes, transform artifacts and output hashes.
base::Result<TrainingSetResult> BuildTrainingSet(const config::ProjectSpec& project,
                                                 const config::TrainingSetSpec& spec,
                                                 lake::Lake& lake, registry::Registry& registry,
                                                 base::Clock& clock,
                                                 const TrainingSetOptions& options);

struct ReproduceResult {
  lake::Manifest manifest;  // the version that was reproduced
  bool identical = false;
  std::vector<std::string> differences;  // per output: expected vs rebuilt hash
};

// Why a training set's values may differ from this sluice's: set when its manifest records an
// engine semantics version (kSemanticsVersion; none recorded = 1) other than this one.
std::optional<std::string> SemanticsChangeNote(const lake::Manifest& manifest);

// Rebuilds the training set of `version` from the input versions and artifacts its manifest
// names, and compares the output hashes.
base::Result<ReproduceResult> ReproduceTrainingSet(const config::ProjectSpec& project,
                                                   const std::string& version, lake::Lake& lake,
                                                   registry::Registry& registry, base::Clock& clock,
                                                   int threads);

}  // namespace sluice::engine
