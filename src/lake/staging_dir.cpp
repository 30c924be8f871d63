#include "lake/staging_dir.h"

#include <unistd.h>

#include <random>
#include <string>
#include <system_error>

namespace sluice::lake {
namespace fs = std::filesystem;

base::Result<StagingDir> StagingDir::Create(const fs::path& lake_root) {
  std::random_device rd;
  fs::path dir = lake_root / "staging" / (std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::IoError("cannot create '" + dir.string() + "': " + ec.message());
  return StagingDir(std::move(dir));
}

StagingDir::StagingDir(StagingDir&& other) noexcept : dir_(std::move(other.dir_)) {
  other.dir_.clear();
}

StagingDir::~StagingDir() {
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

}  // namespace sluice::lake
