#pragma once

#include <filesystem>

#include "base/result.h"

namespace sluice::lake {

// A private folder under <lake>/staging for one command's intermediate files, named
// "<pid>-<random>" and removed however the command ends; Lake::Open sweeps those of processes
// that died. On the lake's file system, so finished files move into the object store by rename.
class StagingDir {
 public:
  static base::Result<StagingDir> Create(const std::filesystem::path& lake_root);
  StagingDir(StagingDir&& other) noexcept;
  StagingDir& operator=(StagingDir&&) = delete;
  StagingDir(const StagingDir&) = delete;
  ~StagingDir();

  const std::filesystem::path& path() const { return dir_; }

 private:
  explicit StagingDir(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

}  // namespace sluice::lake
