#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "lake/manifest.h"

namespace sluice::lake {

// A private copy of an input file, hashed as it was written. An ingest reads the copy, so the
// rows it loads come from exactly the bytes the lake stores under sha256() even if the original
// changes meanwhile, and storing the copy is a rename: no second hash and copy of the input.
class StagedCopy {
 public:
  // Whether the copy goes through the page cache. A copy that is read next (DuckDB reads the
  // staged copy) should; one that is only stored is written with O_DIRECT where the file system
  // takes it: copying a file through the page cache costs about as much CPU as hashing it, plus
  // the kernel's writeback later, and fills memory with dirty pages nobody reads.
  enum class Cache { kKeep, kBypass };
  static constexpr size_t kDirectAlignment = 4096;

  // Copies `file` to `dest`, a new file (normally in a StagingDir, on the lake's file system),
  // and makes the copy read-only. Setting `*cancel` (from another thread) stops the copy with
  // an error.
  static base::Result<StagedCopy> Make(const std::filesystem::path& file,
                                       const std::filesystem::path& dest,
                                       const std::atomic<bool>* cancel = nullptr,
                                       Cache cache = Cache::kKeep);

  const std::filesystem::path& path() const { return path_; }
  const std::string& sha256() const { return sha256_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  StagedCopy(std::filesystem::path path, std::string sha256, std::uint64_t bytes)
      : path_(std::move(path)), sha256_(std::move(sha256)), bytes_(bytes) {}
  std::filesystem::path path_;
  std::string sha256_;
  std::uint64_t bytes_ = 0;
};

// The data lake on a local file system.
//
//   <root>/objects/ab/abcdef...      every file by SHA-256: raw inputs, typed Parquet parts,
//                                    quarantines. Stored once, never modified.
//   <root>/versions/<dataset>/<id>.json   one manifest per dataset version
//   <root>/staging/<pid>-<n>/         work in progress of one run; swept once the pid is gone
//   <root>/versions/<dataset>/.lock       flock(2) held while HISTORY is read and rewritten
//   <root>/versions/<dataset>/HISTORY     ids in publish order; its atomic rewrite is the
//                                          commit point of a publish
//   <root>/versions/<dataset>/<id>.profile.json   the version's statistical profile (derived
//                                          data written by src/quality; see SidecarPath)
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
  // Stores a staged copy under the hash computed while it was written, moving it (or, from
  // another file system, copying it), and returns the hash.
  base::Result<std::string> PutObject(const StagedCopy& copy);
  std::filesystem::path ObjectPath(const std::string& sha256) const;
  bool HasObject(const std::string& sha256) const;

  struct PublishResult {
    Manifest manifest;
    bool created = false;  // false: the content equals the current version; nothing changed
  };
  // Fills in the manifest's id and publishes it as the dataset's current version, unless the
  // current version already has that id. Every object the manifest names must be stored.
  base::Result<PublishResult> Publish(Manifest manifest);
  // Publish of the manifest `build` makes from the dataset's current version (nullopt: none),
  // read and published under the dataset's lock: writers that each add to the current version
  // (the workers of one stream) never drop each other's additions. An error from `build`
  // publishes nothing and is returned.
  using BuildOnto = std::function<base::Result<Manifest>(const std::optional<Manifest>& current)>;
  base::Result<PublishResult> PublishOnto(const std::string& dataset, const BuildOnto& build);

  // Drops every occurrence of `ids` from the dataset's HISTORY in one atomic rewrite, except the
  // current (last) version, which always stays; returns how many lines went. The manifests and
  // objects stay (see lake/gc.h for what removes them).
  base::Result<size_t> RemoveFromHistory(const std::string& dataset,
                                         const std::set<std::string>& ids);

  // The newest published version of a dataset, or nullopt if none.
  base::Result<std::optional<Manifest>> Current(const std::string& dataset) const;
  // Every version of a dataset, oldest first.
  base::Result<std::vector<Manifest>> History(const std::string& dataset) const;
  // Dataset names with at least one version, sorted.
  base::Result<std::vector<std::string>> Datasets() const;
  // A version by id or unique id prefix (at least 6 characters), across datasets.
  base::Result<Manifest> FindVersion(const std::string& id_or_prefix) const;

  // The stored Parquet files holding a version's rows: outputs "data" (sources, models) or
  // "data.parquet" (training sets), in manifest order.
  std::vector<std::filesystem::path> DataFiles(const Manifest& manifest) const;
  // A file kept beside a version's manifest, <versions>/<dataset>/<id><suffix> (its profile:
  // ".profile.json"). Derived from the version, so not part of its id; written atomically.
  std::filesystem::path SidecarPath(const Manifest& manifest, std::string_view suffix) const;

 private:
  // Puts `file`, whose content hash is `sha`, into the store (see PutObject).
  base::Result<std::string> Store(const std::filesystem::path& file, const std::string& sha,
                                  bool move);
  std::filesystem::path VersionsDir(const std::string& dataset) const;
  base::Result<std::vector<std::string>> ReadHistory(const std::string& dataset) const;
  base::Result<Manifest> ReadVersion(const std::string& dataset, const std::string& id) const;
  // Publish's work once the dataset's lock is held and its HISTORY read.
  base::Result<PublishResult> PublishLocked(Manifest manifest,
                                            const std::vector<std::string>& history);

  std::filesystem::path root_;
};

}  // namespace sluice::lake
