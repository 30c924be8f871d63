// `sluice model register|list|show|rollback`: the model registry (src/registry/model_registry.h)
// and the data behind each version (src/orchestrate/data_behind.h).
#include <cstdio>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_context.h"
#include "config/project_validator.h"
#include "lake/content_hash.h"
#include "orchestrate/data_behind.h"
#include "registry/model_registry.h"

namespace sluice::cli {
namespace {

void PrintVersion(const registry::ModelVersion& v) {
  std::printf("%s v%d%s\n", v.name.c_str(), v.version, v.current ? " (current)" : "");
  std::printf("  artifact       %s (sha256 %s, %lld bytes)\n", v.artifact_path.c_str(),
              v.artifact_sha256.c_str(), static_cast<long long>(v.artifact_bytes));
  std::printf("  training set   %s@%s (definition %s)\n", v.training_set.c_str(),
              v.training_set_version.c_str(), v.definition_hash.c_str());
  std::printf("  registered     %s\n", v.created_at.c_str());
  for (const auto& [k, val] : v.metrics)
    std::printf("  metric         %s = %s\n", k.c_str(), val.c_str());
}

// What rebuilding `v`'s training data exactly takes: every version behind it, with the
// definition hash that produced it and, for sources, the input files by content hash.
int PrintNeeds(const ProjectContext& ctx, const registry::ModelVersion& v) {
  auto needs = orchestrate::DataBehind(*ctx.lake, v.training_set_version);
  if (!needs.ok()) return ReportFailure(needs.status().WithContext("model " + v.name));
  std::printf("needs (inputs first):\n");
  for (const auto& m : *needs) {
    std::printf("  %-13s %-20s %s  definition %s\n", m.kind.c_str(), m.dataset.c_str(),
                m.id.c_str(), m.definition_hash.c_str());
    for (const auto& in : m.inputs)
      std::printf("  %-13s %-20s %s  sha256 %s\n", "input file", "", in.path.c_str(),
                  in.sha256.c_str());
  }
  std::printf("rebuild: sluice reproduce %s -p %s\n", v.training_set_version.c_str(),
              ctx.spec.dir.string().c_str());
  return kExitOk;
}

}  // namespace

int RunModel(const ModelOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  const auto registry_path = ResolvePath(ctx->spec, ctx->spec.registry.path);
  auto models = registry::ModelRegistry::Open(registry_path);
  if (!models.ok()) return ReportFailure(models.status());

  if (options.action == "register") {
    auto ts = ctx->lake->FindVersion(options.training_set);
    if (!ts.ok()) return ReportFailure(ts.status());
    if (ts->kind != "training_set") {
      return ReportFailure(base::InvalidArgument("version " + ts->id.substr(0, 12) + " is a " +
                                                 ts->kind + " (" + ts->dataset +
                                                 "), not a training set"));
    }
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(options.artifact, ec);
    if (ec) {
      return ReportFailure(
          base::NotFound("cannot read artifact '" + options.artifact + "': " + ec.message()));
    }
    auto sha = lake::Sha256File(options.artifact);
    if (!sha.ok()) return ReportFailure(sha.status());
    registry::ModelVersion v;
    v.name = options.name;
    if (!config::IsValidName(v.name)) {
      return ReportFailure(
          base::InvalidArgument("model name '" + v.name + "' must match [a-z_][a-z0-9_]*"));
    }
    v.artifact_path = std::filesystem::absolute(options.artifact, ec).string();
    v.artifact_sha256 = *sha;
    v.artifact_bytes = static_cast<std::int64_t>(bytes);
    v.training_set = ts->dataset;
    v.training_set_version = ts->id;
    v.definition_hash = ts->definition_hash;
    v.created_at = base::FormatTime(base::SystemClock::Instance().Now());
    for (const auto& kv : options.metrics) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return ReportFailure(base::InvalidArgument("--metric '" + kv + "': expected NAME=VALUE"));
      }
      v.metrics.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    auto done = models->Register(v);
    if (!done.ok()) return ReportFailure(done.status());
    // Lineage: the training-set version -> this model version (recorded under a registry run).
    auto run = ctx->registry->BeginRun("model_register", v.name, v.created_at);
    if (run.ok()) {
      const std::string node = "model:" + v.name + "@v" + std::to_string(done->version);
      base::Status s = ctx->registry->AddLineage({{ts->id, node, *run}});
      registry::RunRecord rec;
      rec.id = *run;
      rec.status = s.ok() ? "succeeded" : "failed";
      rec.finished_at = v.created_at;
      rec.inputs = ts->id;
      rec.output_version = node;
      rec.error = s.ok() ? "" : s.ToString();
      if (base::Status f = ctx->registry->FinishRun(rec); !f.ok()) return ReportFailure(f);
      if (!s.ok()) return ReportFailure(s);
    } else {
      return ReportFailure(run.status());
    }
    std::printf("registered %s v%d (training set %s@%s)\n", done->name.c_str(), done->version,
                done->training_set.c_str(), done->training_set_version.substr(0, 12).c_str());
    return kExitOk;
  }
  if (options.action == "list") {
    auto current = models->Current();
    if (!current.ok()) return ReportFailure(current.status());
    std::printf("%-20s %8s %-20s %-14s %s\n", "MODEL", "CURRENT", "TRAINING SET", "VERSION",
                "REGISTERED");
    for (const auto& v : *current) {
      std::printf("%-20s %8s %-20s %-14s %s\n", v.name.c_str(),
                  ("v" + std::to_string(v.version)).c_str(), v.training_set.c_str(),
                  v.training_set_version.substr(0, 12).c_str(), v.created_at.c_str());
    }
    return kExitOk;
  }
  auto versions = models->Versions(options.name);
  if (!versions.ok()) return ReportFailure(versions.status());
  if (versions->empty()) {
    return ReportFailure(
        base::NotFound("no registered model '" + options.name + "' (see `sluice model list`)"));
  }
  if (options.action == "show") {
    const registry::ModelVersion* current = nullptr;
    for (const auto& v : *versions) {
      PrintVersion(v);
      if (v.current) current = &v;
    }
    return current ? PrintNeeds(*ctx, *current) : kExitOk;
  }
  // rollback
  auto back = models->Rollback(options.name);
  if (!back.ok()) return ReportFailure(back.status());
  std::printf("%s: v%d is current again\n", back->name.c_str(), back->version);
  PrintVersion(*back);
  return PrintNeeds(*ctx, *back);
}

}  // namespace sluice::cli
