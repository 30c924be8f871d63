#include <cstdio>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/progress_meter.h"
#include "cli/project_context.h"
#include "cli/publish_profile.h"
#include "engine/training_set.h"

namespace sluice::cli {

int RunTrainingSet(const TrainingSetCommandOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  const auto* spec = project->spec.FindTrainingSet(options.name);
  if (spec == nullptr) {
    return ReportFailure(base::InvalidArgument("no training set '" + options.name +
                                               "' in project '" + project->spec.name + "'"));
  }
  // A streaming view's events are the stream's archive in the lake, written by `sluice stream`.
  for (const auto& feature : spec->features) {
    const auto* view = project->spec.FindFeatureView(feature.substr(0, feature.find(':')));
    const auto* source = view ? project->spec.FindSource(view->source) : nullptr;
    if (source == nullptr || source->type != config::SourceType::kKafka) continue;
    auto current = project->lake->Current(source->name);
    if (current.ok() && !*current) {
      return ReportFailure(base::FailedPrecondition(
          "training set '" + spec->name + "' uses streaming view '" + view->name +
          "', whose kafka source '" + source->name +
          "' has no archive in the lake yet: run `sluice stream " + view->name +
          "` (with --stop-at-end to catch up and stop) first"));
    }
  }
  engine::TrainingSetOptions build;
  build.threads = options.threads;
  build.partitions = options.partitions;
  build.memory_budget_bytes = options.memory_budget_mib << 20;
  build.refit = options.refit;
  build.output_dir =
      options.out.empty() ? project->spec.dir / "output" : std::filesystem::path(options.out);
  ProgressMeter meter("training set " + spec->name, 0, base::SystemClock::Instance());
  build.progress = [&](const std::string& stage, double f) { meter.UpdateStage(stage, f); };
  auto result = engine::BuildTrainingSet(project->spec, *spec, *project->lake, *project->registry,
                                         base::SystemClock::Instance(), build);
  meter.Finish();
  if (!result.ok()) return ReportFailure(result.status());
  const auto& m = result->manifest;
  ProfilePublishedVersion(*project, m);
  std::printf("training set %s: %s version %s, %lld rows, %zu columns, in %.1fs (%d pass%s)\n",
              spec->name.c_str(), result->created ? "new" : "unchanged", m.id.substr(0, 12).c_str(),
              static_cast<long long>(m.rows.loaded), m.schema.size(), result->seconds,
              result->partitions, result->partitions == 1 ? "" : "es");
  const auto& c = result->counts;
  std::printf(
      "  events read %lld (dropped: %lld with a NULL key, %lld with a NULL time); spine "
      "rows without key or time: %lld\n",
      static_cast<long long>(c.events), static_cast<long long>(c.events_null_key),
      static_cast<long long>(c.events_null_time), static_cast<long long>(c.spine_null_key_or_time));
  for (const auto& f : result->fitted)
    std::printf("  fitted %s\n", f.c_str());
  for (const auto& f : result->files)
    std::printf("  wrote %s\n", f.c_str());
  return kExitOk;
}

int RunReproduce(const ReproduceOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  auto result = engine::ReproduceTrainingSet(project->spec, options.version, *project->lake,
                                             *project->registry, base::SystemClock::Instance(),
                                             options.threads);
  if (!result.ok()) return ReportFailure(result.status());
  for (const auto& d : result->differences)
    std::printf("  %s\n", d.c_str());
  if (!result->identical) {
    std::printf("training set %s version %s: NOT reproduced\n", result->manifest.dataset.c_str(),
                result->manifest.id.substr(0, 12).c_str());
    return kExitRuntimeFailure;
  }
  std::printf("training set %s version %s: reproduced bit for bit (",
              result->manifest.dataset.c_str(), result->manifest.id.substr(0, 12).c_str());
  for (size_t i = 0; i < result->manifest.outputs.size(); ++i) {
    const auto& o = result->manifest.outputs[i];
    std::printf("%s%s %s", i ? ", " : "", o.name.c_str(), o.sha256.substr(0, 12).c_str());
  }
  std::printf(")\n");
  return kExitOk;
}

}  // namespace sluice::cli
