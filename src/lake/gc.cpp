#include "lake/gc.h"

#include <algorithm>
#include <map>
#include <system_error>

#include "base/kill_point.h"
#include "lake/atomic_file.h"

namespace sluice::lake {
namespace fs = std::filesystem;

namespace {

bool IsHexName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// Whether the file was last written before now - grace.
bool OlderThanGrace(const fs::path& p, const GcPolicy& policy) {
  std::error_code ec;
  const auto written = fs::last_write_time(p, ec);
  if (ec) return false;
  const auto written_sys = std::chrono::file_clock::to_sys(written);
  return written_sys < policy.now - policy.grace;
}

}  // namespace

base::Result<GcReport> CollectGarbage(Lake& lake, const GcPolicy& policy) {
  GcReport report;
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> datasets, lake.Datasets());

  // Every listed version, and the ones the rules select.
  std::map<std::string, Manifest> versions;  // id -> manifest
  std::map<std::string, std::vector<std::string>>
      histories;  // dataset -> distinct ids, oldest first
  std::set<std::string> selected;
  for (const auto& d : datasets) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<Manifest> history, lake.History(d));
    std::vector<std::string> ids;
    for (auto& m : history) {
      ids.erase(std::remove(ids.begin(), ids.end(), m.id), ids.end());
      ids.push_back(m.id);  // a version published again counts as its newest publish
      versions[m.id] = std::move(m);
    }
    const bool any_rule = policy.keep || policy.older_than;
    for (size_t i = 0; any_rule && i + 1 < ids.size(); ++i) {
      const Manifest& m = versions[ids[i]];
      const size_t newer = ids.size() - 1 - i;
      bool remove = true;
      if (policy.keep && static_cast<std::int64_t>(newer) < *policy.keep) remove = false;
      if (policy.older_than) {
        auto created = base::ParseTimestampMicros(m.created_at);
        const auto cutoff = policy.now - *policy.older_than;
        if (!created.ok() || *created >= cutoff.time_since_epoch().count()) remove = false;
      }
      if (remove) selected.insert(ids[i]);
    }
    histories[d] = std::move(ids);
  }

  // What stays: the versions not selected and the pinned ones, with everything they were derived
  // from. A selected version found on the way is kept, with the reason.
  std::map<std::string, std::string> why_kept;
  std::vector<std::string> queue;
  for (const auto& [id, m] : versions) {
    if (!selected.count(id)) queue.push_back(id);
  }
  for (const auto& [id, reason] : policy.pinned) {
    if (selected.count(id)) why_kept.emplace(id, reason);
    queue.push_back(id);
  }
  std::set<std::string> kept;
  while (!queue.empty()) {
    const std::string id = queue.back();
    queue.pop_back();
    if (!kept.insert(id).second) continue;
    auto it = versions.find(id);
    if (it == versions.end()) continue;
    for (const auto& parent : it->second.parents) {
      if (selected.count(parent) && !why_kept.count(parent)) {
        why_kept.emplace(parent, "version " + id.substr(0, 12) + " of '" + it->second.dataset +
                                     "' was derived from it");
      }
      queue.push_back(parent);
    }
  }
  std::map<std::string, std::set<std::string>> removing;  // dataset -> ids
  for (const auto& [dataset, ids] : histories) {          // by dataset, oldest version first
    for (const auto& id : ids) {
      if (!selected.count(id)) continue;
      if (kept.count(id)) {
        report.kept.push_back({dataset, id, why_kept[id]});
        continue;
      }
      removing[dataset].insert(id);
      report.versions.push_back({dataset, id, versions[id].created_at});
    }
  }

  // (1) The commit point of each dataset: its HISTORY without the removed versions.
  if (!policy.dry_run) {
    for (const auto& [dataset, ids] : removing) {
      SLUICE_RETURN_IF_ERROR(lake.RemoveFromHistory(dataset, ids).status());
    }
    base::KillPoint("gc.after_history_rewrite");
  }

  // (2) Manifests no HISTORY lists: the removed versions' and those a crashed publish left
  // (after the grace, since a running publish writes its manifest before its HISTORY).
  std::set<std::string> referenced;
  auto reference = [&](const Manifest& m) {
    for (const auto& in : m.inputs)
      referenced.insert(in.sha256);
    for (const auto& out : m.outputs)
      referenced.insert(out.sha256);
  };
  for (const auto& [id, m] : versions) {
    if (!removing.count(m.dataset) || !removing[m.dataset].count(id)) reference(m);
  }
  bool first_manifest = true;
  for (const auto& d : datasets) {
    const fs::path dir = lake.root() / "versions" / d;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      // "<id>.json" is a manifest; "<id><suffix>" a sidecar derived from it (a profile).
      const fs::path p = it->path();
      const std::string name = p.filename().string();
      const size_t dot = name.find('.');
      if (dot == std::string::npos || !IsHexName(name.substr(0, dot))) continue;
      const std::string id = name.substr(0, dot);
      const bool is_manifest = name.substr(dot) == ".json";
      const bool listed = versions.count(id) && !(removing.count(d) && removing[d].count(id));
      if (listed) continue;
      const bool removed_now = removing.count(d) && removing[d].count(id);
      if (!removed_now && !OlderThanGrace(p, policy)) {
        // A publish in progress, perhaps: what it names stays too.
        if (!is_manifest) continue;
        auto text = ReadFile(p);
        auto m = text.ok() ? ParseManifest(*text) : base::Result<Manifest>(text.status());
        if (m.ok()) reference(*m);
        continue;
      }
      std::error_code size_ec;
      const auto bytes = fs::file_size(p, size_ec);
      ++(is_manifest ? report.manifests : report.sidecars);
      report.bytes += size_ec ? 0 : bytes;
      if (policy.dry_run) continue;
      if (!first_manifest) base::KillPoint("gc.mid_manifest_delete");
      first_manifest = false;
      std::error_code rm_ec;
      fs::remove(p, rm_ec);
      if (rm_ec) return base::IoError("cannot remove '" + p.string() + "': " + rm_ec.message());
    }
    if (ec) return base::IoError("cannot list '" + dir.string() + "': " + ec.message());
  }

  // (3) Objects no remaining manifest names. One never referenced is left for the grace period:
  // a running command stores its objects before it publishes.
  std::set<std::string> was_referenced;
  for (const auto& [id, m] : versions) {
    for (const auto& in : m.inputs)
      was_referenced.insert(in.sha256);
    for (const auto& out : m.outputs)
      was_referenced.insert(out.sha256);
  }
  bool first_object = true;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(lake.root() / "objects", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const fs::path p = it->path();
    const std::string sha = p.filename().string();
    if (!IsHexName(sha) || referenced.count(sha)) continue;
    if (!was_referenced.count(sha) && !OlderThanGrace(p, policy)) continue;
    std::error_code size_ec;
    const auto bytes = fs::file_size(p, size_ec);
    ++report.objects;
    report.bytes += size_ec ? 0 : bytes;
    if (policy.dry_run) continue;
    if (!first_object) base::KillPoint("gc.mid_object_delete");
    first_object = false;
    std::error_code rm_ec;
    fs::remove(p, rm_ec);
    if (rm_ec) return base::IoError("cannot remove '" + p.string() + "': " + rm_ec.message());
  }
  if (ec) return base::IoError("cannot list the lake's objects: " + ec.message());
  return report;
}

}  // namespace sluice::lake
