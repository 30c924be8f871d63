#include <cstdio>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/progress_meter.h"
#include "cli/project_context.h"
#include "cli/publish_profile.h"
#include "connectors/ingest.h"

namespace sluice::cli {

namespace {

void PrintReport(const connectors::IngestReport& r) {
  const auto& m = r.manifest;
  if (!r.created) {
    std::printf("%-16s unchanged   version %s (%lld rows)\n", r.source.c_str(),
                m.id.substr(0, 12).c_str(), static_cast<long long>(m.rows.loaded));
    return;
  }
  const auto& f = r.fresh;
  const double pct =
      f.read > 0 ? 100.0 * static_cast<double>(f.quarantined) / static_cast<double>(f.read) : 0.0;
  std::printf("%-16s new version %s  read %lld  loaded %lld  quarantined %lld (%.2f%%)  in %.1fs",
              r.source.c_str(), m.id.substr(0, 12).c_str(), static_cast<long long>(f.read),
              static_cast<long long>(f.loaded), static_cast<long long>(f.quarantined), pct,
              r.seconds);
  if (m.rows.read != f.read) {
    std::printf("  (dataset now %lld rows)", static_cast<long long>(m.rows.loaded));
  }
  std::printf("\n");
  for (const auto& w : r.warnings)
    std::printf("  warning: %s\n", w.c_str());
  if (!r.samples.empty()) {
    std::printf("  quarantined rows (first %zu; all in `sluice show %s`):\n", r.samples.size(),
                m.id.substr(0, 12).c_str());
    for (const auto& q : r.samples) {
      std::printf("    %s: %s\n", connectors::Where(q).c_str(),
                  connectors::Printable(q.reason).c_str());
    }
  }
}

}  // namespace

int RunIngest(const IngestOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;

  std::vector<const config::SourceSpec*> sources;
  if (options.sources.empty()) {
    for (const auto& s : project->spec.sources)
      sources.push_back(&s);
  } else {
    for (const auto& name : options.sources) {
      const auto* s = project->spec.FindSource(name);
      if (s == nullptr) {
        return ReportFailure(base::InvalidArgument("no source '" + name + "' in project '" +
                                                   project->spec.name + "'"));
      }
      sources.push_back(s);
    }
  }
  if (sources.empty()) {
    std::printf("project '%s' declares no sources\n", project->spec.name.c_str());
    return kExitOk;
  }

  int failures = 0;
  for (const auto* source : sources) {
    ProgressMeter meter("ingest " + source->name, 0, base::SystemClock::Instance());
    connectors::IngestContext ctx{
        project->spec,
        *project->lake,
        *project->registry,
        base::SystemClock::Instance(),
        options.threads,
        [&](const std::string& stage, double fraction) { meter.UpdateStage(stage, fraction); }};
    auto report = connectors::Ingest(*source, ctx);
    meter.Finish();
    if (!report.ok()) {
      ReportFailure(report.status());
      ++failures;
      continue;
    }
    PrintReport(*report);
    ProfilePublishedVersion(*project, report->manifest);
  }
  return failures == 0 ? kExitOk : kExitRuntimeFailure;
}

}  // namespace sluice::cli
