#include "cli/project_context.h"

#include <cstdio>

#include "base/clock.h"
#include "base/log.h"
#include "base/time.h"
#include "cli/exit_code.h"
#include "config/project_loader.h"

namespace sluice::cli {

std::filesystem::path ResolvePath(const config::ProjectSpec& spec, const std::string& path) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? p : spec.dir / p;
}

void RecordFailedRun(registry::Registry& registry, const std::string& kind,
                     const std::string& target, const base::Status& failure) {
  const std::string now = base::FormatTime(base::SystemClock::Instance().Now());
  auto id = registry.BeginRun(kind, target, now);
  base::Status recorded = id.status();
  if (id.ok()) {
    registry::RunRecord run;
    run.id = *id;
    run.status = "failed";
    run.finished_at = now;
    run.error = failure.ToString();
    recorded = registry.FinishRun(run);
  }
  if (!recorded.ok()) base::LogWarn("could not record the failed run: " + recorded.ToString());
}

std::optional<ProjectContext> OpenProject(const std::string& dir, int* exit_code) {
  std::vector<config::Diagnostic> diagnostics;
  auto spec = config::LoadProject(dir, &diagnostics);
  for (const auto& d : diagnostics)
    std::fprintf(stderr, "%s\n", d.ToString().c_str());
  if (!spec.ok()) {
    std::fprintf(stderr, "error: %s\n", spec.status().ToString().c_str());
    *exit_code = kExitUsageError;
    return std::nullopt;
  }
  ProjectContext ctx;
  ctx.spec = std::move(spec).value();
  ctx.lake = std::make_unique<lake::Lake>(ResolvePath(ctx.spec, ctx.spec.lake.path));
  if (base::Status s = ctx.lake->Open(); !s.ok()) {
    *exit_code = ReportFailure(s.WithContext("opening the lake"));
    return std::nullopt;
  }
  auto reg = registry::Registry::Open(ResolvePath(ctx.spec, ctx.spec.registry.path));
  if (!reg.ok()) {
    *exit_code = ReportFailure(reg.status());
    return std::nullopt;
  }
  ctx.registry = std::make_unique<registry::Registry>(std::move(reg).value());
  return ctx;
}

}  // namespace sluice::cli
