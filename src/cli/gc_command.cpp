// `sluice gc`: removes dataset versions by a retention rule and lake files nothing references.
// The rules and the crash-safe order live in lake/gc.h; this file finds the versions that
// something outside the lake still needs (the pinned roots) and prints the outcome.
#include <cstdio>
#include <functional>

#include "base/clock.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_context.h"
#include "lake/gc.h"
#include "registry/model_registry.h"
#include "store/online_store.h"

namespace sluice::cli {

namespace {

using Pinned = std::vector<std::pair<std::string, std::string>>;  // (version id, reason)

// The source version every materialized feature view was computed from: an incremental
// materialize continues from it, and `sluice serve` loads the view's plan from it.
base::Result<Pinned> OnlineStoreRoots(const ProjectContext& project) {
  Pinned out;
  store::StoreOptions options;
  options.follow_interval = std::chrono::milliseconds(0);
  for (const auto& spec : project.spec.online_stores) {
    auto store = store::OpenOnlineStore(spec, project.spec.dir, /*read_only=*/true, options);
    if (!store.ok() && store.status().code() == base::StatusCode::kNotFound) continue;  // empty
    if (!store.ok()) {
      return store.status().WithContext("reading online store '" + spec.name +
                                        "' (gc must know which versions it serves)");
    }
    for (const auto& view : project.spec.feature_views) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<store::ViewMeta> meta, (*store)->Meta(view.name));
      if (meta && !meta->source_version.empty()) {
        out.emplace_back(meta->source_version, "online store '" + spec.name + "' serves view '" +
                                                   view.name + "' from it");
      }
    }
  }
  return out;
}

// The training-set version behind every registered model version (not only the current one:
// `sluice model rollback` restores an earlier one, and its data must still be there).
base::Result<Pinned> ModelRoots(const ProjectContext& project) {
  Pinned out;
  SLUICE_ASSIGN_OR_RETURN(
      registry::ModelRegistry models,
      registry::ModelRegistry::Open(ResolvePath(project.spec, project.spec.registry.path)));
  SLUICE_ASSIGN_OR_RETURN(std::vector<registry::ModelVersion> current, models.Current());
  for (const auto& m : current) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<registry::ModelVersion> versions, models.Versions(m.name));
    for (const auto& v : versions) {
      if (v.training_set_version.empty()) continue;
      out.emplace_back(
          v.training_set_version,
          "model '" + v.name + "' version " + std::to_string(v.version) + " was trained on it");
    }
  }
  return out;
}

// Where gc learns which versions are needed outside the lake: the online stores' and the
// registered models'. Running streams (the version a stream appends to) add a provider here;
// each returns the version ids to keep and why.
const std::vector<std::function<base::Result<Pinned>(const ProjectContext&)>>& RootProviders() {
  static const std::vector<std::function<base::Result<Pinned>(const ProjectContext&)>> providers = {
      OnlineStoreRoots,
      ModelRoots,
  };
  return providers;
}

std::string Bytes(std::uint64_t n) {
  char buf[32];
  if (n >= (1u << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(n) / (1u << 30));
  } else if (n >= (1u << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(n) / (1u << 20));
  } else if (n >= 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", static_cast<double>(n) / 1024);
  } else {
    std::snprintf(buf, sizeof(buf), "%llu bytes", static_cast<unsigned long long>(n));
  }
  return buf;
}

}  // namespace

int RunGc(const GcOptions& options) {
  lake::GcPolicy policy;
  if (options.keep_set) policy.keep = options.keep;
  if (!options.older_than.empty()) {
    auto d = base::ParseDuration(options.older_than);
    if (!d.ok()) {
      ReportFailure(d.status().WithContext("--older-than"));
      return kExitUsageError;
    }
    policy.older_than = *d;
  }
  auto grace = base::ParseDuration(options.grace);
  if (!grace.ok()) {
    ReportFailure(grace.status().WithContext("--grace"));
    return kExitUsageError;
  }
  policy.grace = *grace;
  policy.dry_run = options.dry_run;
  policy.now = base::SystemClock::Instance().Now();

  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  for (const auto& provider : RootProviders()) {
    auto pinned = provider(*project);
    if (!pinned.ok()) {
      RecordFailedRun(*project->registry, "gc", project->spec.name, pinned.status());
      return ReportFailure(pinned.status().WithContext("gc: nothing was removed"));
    }
    policy.pinned.insert(policy.pinned.end(), pinned->begin(), pinned->end());
  }
  const std::string started = base::FormatTime(policy.now);
  auto run = options.dry_run ? base::Result<std::int64_t>(std::int64_t{0})
                             : project->registry->BeginRun("gc", project->spec.name, started);
  auto report = lake::CollectGarbage(*project->lake, policy);
  if (!options.dry_run && run.ok()) {
    registry::RunRecord r;
    r.id = *run;
    r.status = report.ok() ? "succeeded" : "failed";
    r.error = report.ok() ? "" : report.status().ToString();
    r.finished_at = base::FormatTime(base::SystemClock::Instance().Now());
    (void)project->registry->FinishRun(r);
  }
  if (!report.ok()) return ReportFailure(report.status().WithContext("gc"));
  const char* verb = options.dry_run ? "would remove" : "removed";
  for (const auto& v : report->versions) {
    std::printf("  %s %-24s %s (created %s)\n", verb, v.dataset.c_str(), v.id.substr(0, 12).c_str(),
                v.created_at.c_str());
  }
  for (const auto& k : report->kept) {
    std::printf("  kept    %-24s %s: %s\n", k.dataset.c_str(), k.id.substr(0, 12).c_str(),
                k.reason.c_str());
  }
  const std::string sidecars = report->sidecars == 0 ? ""
                                                     : " (and " + std::to_string(report->sidecars) +
                                                           " profile or sidecar file" +
                                                           (report->sidecars == 1 ? "" : "s") + ")";
  std::printf("gc%s: %s %zu version%s, %lld object%s and %lld manifest%s%s; %s %s\n",
              options.dry_run ? " (dry run)" : "", verb, report->versions.size(),
              report->versions.size() == 1 ? "" : "s", static_cast<long long>(report->objects),
              report->objects == 1 ? "" : "s", static_cast<long long>(report->manifests),
              report->manifests == 1 ? "" : "s", sidecars.c_str(),
              options.dry_run ? "would free" : "freed", Bytes(report->bytes).c_str());
  return kExitOk;
}

}  // namespace sluice::cli
