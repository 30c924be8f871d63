#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

// Registered models: each version's artifact (path and SHA-256) beside the training-set version
// it was trained on, so the data behind any model can be found and restored. Its own tables and
// schema version (part "models") in the registry file.
namespace sluice::registry {

struct ModelVersion {
  std::string name;
  int version = 0;  // 1, 2, ... per name
  std::string artifact_path;
  std::string artifact_sha256;
  std::int64_t artifact_bytes = 0;
  std::string training_set;          // its name
  std::string training_set_version;  // the dataset version id
  std::string definition_hash;       // the training set's definition hash
  std::vector<std::pair<std::string, std::string>> metrics;
  std::string created_at;
  bool current = false;
};

class ModelRegistry {
 public:
  static base::Result<ModelRegistry> Open(const std::filesystem::path& path);
  ModelRegistry(ModelRegistry&&) noexcept;
  ModelRegistry& operator=(ModelRegistry&&) noexcept;
  ~ModelRegistry();

  // Records `v` as the next version of v.name and makes it current; returns it numbered.
  base::Result<ModelVersion> Register(ModelVersion v);
  // Every version of `name`, oldest first (empty when there is none).
  base::Result<std::vector<ModelVersion>> Versions(const std::string& name);
  // The current version of each model, by name.
  base::Result<std::vector<ModelVersion>> Current();
  // Makes the version before the current one current and returns it. FailedPrecondition when
  // the current version is the first; NotFound for an unknown model.
  base::Result<ModelVersion> Rollback(const std::string& name);

 private:
  struct Handle;
  explicit ModelRegistry(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

}  // namespace sluice::registry
