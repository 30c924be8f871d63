// `sluice skew`: the live skew check (docs/monitoring.md#live-skew): values `sluice serve`
// logged, recomputed from the lake with the training-set path and compared.
#include <cstdio>
#include <string>

#include "base/clock.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_context.h"
#include "quality/skew.h"

namespace sluice::cli {

namespace {

std::string Cut(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 3) + "...";
}

}  // namespace

int RunSkew(const SkewCommandOptions& options) {
  quality::SkewOptions skew;
  skew.log = options.log;
  skew.views = options.views;
  skew.threads = options.threads;
  if (!options.since.empty()) {
    auto since = base::ParseDuration(options.since);
    if (!since.ok() || since->count() <= 0) {
      return ReportFailure(base::InvalidArgument(
          "--since: expected a positive duration such as 1h or 30m, got '" + options.since + "'"));
    }
    skew.since = *since;
  }
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  auto report = quality::CheckSkew(project->spec, *project->lake, *project->registry,
                                   base::SystemClock::Instance(), skew);
  if (!report.ok()) return ReportFailure(report.status());
  bool problems = false;
  for (const auto& v : report->views)
    problems = problems || !v.problem.empty();
  const bool skewed = report->skewed > 0 || problems;
  if (options.json) {
    std::fputs(quality::SkewReportJson(*report).c_str(), stdout);
  } else {
    std::printf("serving log %s (version %s): %lld rows, %lld values compared\n",
                report->log.c_str(), report->version.substr(0, 12).c_str(),
                static_cast<long long>(report->rows), static_cast<long long>(report->values));
    std::printf("%-20s %-12s %8s %8s %8s  %s\n", "view", "source", "rows", "values", "skewed",
                "definition");
    for (const auto& v : report->views) {
      std::string definition = v.served_definition.substr(0, 12);
      if (!v.current_definition.empty() && v.current_definition != v.served_definition) {
        definition += " (changed since: now " + v.current_definition.substr(0, 12) + ")";
      }
      std::printf("%-20s %-12s %8lld %8lld %8lld  %s\n", Cut(v.view, 20).c_str(),
                  v.source_version.substr(0, 12).c_str(), static_cast<long long>(v.rows),
                  static_cast<long long>(v.values), static_cast<long long>(v.skewed),
                  definition.c_str());
      if (!v.problem.empty()) std::printf("  not checked: %s\n", v.problem.c_str());
    }
    if (!report->differences.empty()) {
      std::printf("\n%-20s %-24s %-20s %-24s %-9s %-18s %s\n", "view", "entity", "at", "feature",
                  "status", "online", "offline");
      for (const auto& d : report->differences) {
        std::printf("%-20s %-24s %-20s %-24s %-9s %-18s %s\n", Cut(d.view, 20).c_str(),
                    Cut(d.entity, 24).c_str(), d.at.c_str(), Cut(d.feature, 24).c_str(),
                    d.online_status.c_str(), Cut(d.online, 18).c_str(),
                    d.offline.empty() ? "(no such feature)" : Cut(d.offline, 40).c_str());
      }
    }
    std::printf("%s\n", skewed ? "SKEW: served values differ from their recomputation"
                               : "no skew: every served value equals its recomputation");
  }
  return options.fail_on_skew && skewed ? kExitRuntimeFailure : kExitOk;
}

}  // namespace sluice::cli
