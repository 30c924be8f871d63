#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "lake/lake.h"

namespace sluice::lake {

// What `sluice gc` may remove. A version is removed only when every given rule selects it
// (none given: no version is removed, only unreferenced objects and leftovers).
struct GcPolicy {
  std::optional<int> keep;                   // keep the newest N versions of each dataset
  std::optional<base::Duration> older_than;  // remove versions created before now - this
  // Versions something outside the lake still needs (the online store's source versions,
  // registered models, running streams): kept with everything they were derived from. The
  // string is the reason printed for a version kept because of it.
  std::vector<std::pair<std::string, std::string>> pinned;  // (version id, reason)
  // Unreferenced files younger than this may belong to a command still running (objects stored
  // before its publish), so they stay.
  base::Duration grace = std::chrono::hours(1);
  base::ProcessingTime now;
  bool dry_run = false;
};

struct GcReport {
  struct Removed {
    std::string dataset;
    std::string id;
    std::string created_at;
  };
  std::vector<Removed> versions;  // removed (or, dry run, to be removed)
  struct Kept {
    std::string dataset;
    std::string id;
    std::string reason;  // why a version the rules selected stays
  };
  std::vector<Kept> kept;
  std::int64_t objects = 0;  // object files removed
  std::int64_t manifests = 0;
  std::int64_t sidecars = 0;  // files kept beside a removed manifest (Lake::SidecarPath)
  std::uint64_t bytes = 0;    // freed by objects and manifests
};

// Removes dataset versions by `policy` and then every object, manifest and sidecar (a profile)
// no remaining version names. Never removes a dataset's current version, a version a pinned or
// remaining version was derived from (its parents, transitively), or a file of a version that
// stays.
//
// Crash-safe in the order it works: (1) each dataset's HISTORY is rewritten atomically under the
// dataset's lock, (2) the removed versions' manifests are deleted, (3) objects no manifest left
// in the lake names are deleted. A kill at any point leaves every listed version whole; what was
// not yet deleted is found unreferenced by the next gc. Kill points: gc.before_history_rename,
// gc.after_history_rewrite, gc.mid_manifest_delete, gc.mid_object_delete.
base::Result<GcReport> CollectGarbage(Lake& lake, const GcPolicy& policy);

}  // namespace sluice::lake
