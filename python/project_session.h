#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "lake/lake.h"
#include "lake/manifest.h"
#include "registry/registry.h"
#include "types/batch.h"

namespace sluice::serve {
class FeatureServer;
class Metrics;
}  // namespace sluice::serve

namespace sluice::python {

// What the Python module's `Project` does, without Python: a loaded project with its lake and
// registry, and the engine calls behind each method. Kept free of pybind11 so the adapter
// (sluice_module.cpp) only converts values. Not thread-safe: the adapter serializes calls.
class ProjectSession {
 public:
  static base::Result<std::unique_ptr<ProjectSession>> Open(const std::filesystem::path& dir);
  ~ProjectSession();
  ProjectSession(const ProjectSession&) = delete;
  ProjectSession& operator=(const ProjectSession&) = delete;

  const config::ProjectSpec& spec() const { return spec_; }

  struct TrainingSetData {
    lake::Manifest manifest;  // the version the rows come from
    types::Batch rows;        // columns and types as stored in the version's files
    bool built = false;       // true when this call built the version
  };
  // The current version of training set `name` read from its stored files (Parquet when it has
  // one, else CSV with the manifest's column types); built through the engine first when
  // `rebuild` is set or no version exists yet.
  base::Result<TrainingSetData> TrainingSet(const std::string& name, bool rebuild);

  // Every version of a dataset, oldest first.
  base::Result<std::vector<lake::Manifest>> Versions(const std::string& dataset) const;

  // Registry lineage edges into or out of `node`: a version id (or unique prefix of 6+
  // characters), an external input ("file:...") or a dataset name (its current version).
  base::Result<std::vector<registry::LineageEdge>> Lineage(const std::string& node);

  // POST /v1/features's answer for `request_json` (docs/serving.md), computed in-process by
  // the same serving core that `sluice serve` runs, against the online stores opened read-only.
  // Returns the HTTP status the server would answer and its JSON body (an error body for a
  // refusal, which the adapter raises with the server's message).
  struct OnlineReply {
    int http_status = 200;
    std::string body;
  };
  base::Result<OnlineReply> OnlineFeatures(const std::string& request_json);

 private:
  ProjectSession() = default;

  config::ProjectSpec spec_;
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<registry::Registry> registry_;
  // Opened on first use: opening plans every served view.
  std::unique_ptr<serve::Metrics> metrics_;
  std::unique_ptr<serve::FeatureServer> server_;
};

}  // namespace sluice::python
