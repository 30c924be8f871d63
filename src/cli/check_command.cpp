#include <cstdio>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "config/project_loader.h"
#include "models/model_graph.h"

namespace sluice::cli {

int RunCheck(const CheckOptions& options) {
  std::vector<config::Diagnostic> diagnostics;
  auto project = config::LoadProject(options.project, &diagnostics);
  for (const auto& d : diagnostics)
    std::fprintf(stderr, "%s\n", d.ToString().c_str());
  if (!project.ok()) {
    std::fprintf(stderr, "error: %s\n", project.status().ToString().c_str());
    return kExitUsageError;
  }
  const auto& p = *project;
  // The models' SQL: templates, references, cycles, and intervals a pipeline cannot give.
  if (!p.models.files.empty() || !p.models.configs.empty()) {
    auto graph = models::ModelGraph::Load(p);
    if (!graph.ok()) {
      std::fprintf(stderr, "%s\n", graph.status().message().c_str());
      return kExitUsageError;
    }
    const auto problems = models::IntervalsPipelinesCannotGive(*graph, p);
    for (const auto& line : problems)
      std::fprintf(stderr, "%s\n", line.c_str());
    if (!problems.empty()) return kExitUsageError;
  }
  std::printf(
      "project '%s' is valid: %zu sources, %zu entities, %zu feature views, %zu training sets, "
      "%zu online stores, %zu feature services, %zu pipelines\n",
      p.name.c_str(), p.sources.size(), p.entities.size(), p.feature_views.size(),
      p.training_sets.size(), p.online_stores.size(), p.feature_services.size(),
      p.pipelines.size());
  return kExitOk;
}

}  // namespace sluice::cli
