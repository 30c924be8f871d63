#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "lake/manifest.h"

namespace sluice::lake {

// The data lake on a local file system.
//
//   <root>/objects/ab/abcdef...      every file by SHA-256: raw inputs, typed Parquet parts,
//                                    quarantines. Stored once, never modified.
//   <root>/versions/<dataset>/<id>.json   one manifest per dataset version
//   <root>/staging/<pid>-<n>/         work in progress of one run; swept once the pid is gone
//   <root>/versions/<dataset>/HISTORY     ids in publish order; its atomic rewrite is the
//                                          commit point of a publish
//
// A crash at any point leaves either the previous HISTORY or the new one: objects and manifests
// written before the commit are unreferenced leftovers that the next publish of the same content
// adopts (same content, same id) and that Recover() sweeps otherwise.
class Lake {
 public:
  explicit Lake(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }

  // Creates the folders and removes temporary files left by an interrupted run.
  base::Status Open();

  // Stores `file` under its content hash and returns the hash. With `move`, the file is renamed
  // into the store (same file system) instead of copied. Storing existing content is a no-op.
  base::Result<std::string> PutObject(const std::filesystem::path& file, bool move = false);
  std::filesystem::path ObjectPath(const std::string& sha256) const;
  bool HasObject(const std::string& sha256) const;

  struct PublishResult {
    Manifest manifest;
    bool created = false;  // false: the content equals the current version; nothing changed
  };
  // Fills in the manifest's id and publishes it as the dataset's current version, unless the
  // current version already has that id. Every object the manifest names must be stored.
  base::Result<PublishResult> Publish(Manifest manifest);

  // The newest published version of a dataset, or nullopt if none.
  base::Result<std::optional<Manifest>> Current(const std::string& dataset) const;
  // Every version of a dataset, oldest first.
  base::Result<std::vector<Manifest>> History(const std::string& dataset) const;
  // Dataset names with at least one version, sorted.
  base::Result<std::vector<std::string>> Datasets() const;
  // A version by id or unique id prefix (at least 6 characters), across datasets.
  base::Result<Manifest> FindVersion(const std::string& id_or_prefix) const;

 private:
  std::filesystem::path VersionsDir(const std::string& dataset) const;
  base::Result<std::vector<std::string>> ReadHistory(const std::string& dataset) const;
  base::Result<Manifest> ReadVersion(const std::string& dataset, const std::string& id) const;

  std::filesystem::path root_;
};

}  // namespace sluice::lake
