// `sluice build` and `sluice test`: SQL models in the warehouse and their data tests.
#include <chrono>
#include <cstdio>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_context.h"
#include "cli/publish_profile.h"
#include "models/runner.h"
#include "warehouse/warehouse.h"

namespace sluice::cli {

namespace {

std::string Short(const std::string& version) {
  return version.substr(0, 12);
}

void PrintTests(const models::ModelOutcome& o) {
  for (const auto& t : o.tests) {
    if (t.passed) continue;
    if (!t.error.empty()) {
      std::fprintf(stderr, "  test %s (%s) could not run: %s\n", t.name.c_str(), t.where.c_str(),
                   t.error.c_str());
      continue;
    }
    std::fprintf(stderr, "  test %s (%s) failed: %lld failing row%s", t.name.c_str(),
                 t.where.c_str(), static_cast<long long>(t.failing_rows),
                 t.failing_rows == 1 ? "" : "s");
    const auto rows = models::FormatRows(t.sample);
    if (!rows.empty() && static_cast<std::int64_t>(rows.size()) < t.failing_rows) {
      std::fprintf(stderr, "; first %zu:\n", rows.size());
    } else {
      std::fprintf(stderr, ":\n");
    }
    for (const auto& r : rows)
      std::fprintf(stderr, "    %s\n", r.c_str());
  }
}

std::string TestSummary(const models::ModelOutcome& o) {
  if (o.tests.empty()) return "";
  int passed = 0;
  for (const auto& t : o.tests)
    passed += t.passed ? 1 : 0;
  return "  tests " + std::to_string(passed) + "/" + std::to_string(o.tests.size()) + " passed";
}

void PrintBuilt(const models::ModelOutcome& o) {
  const std::string kind(config::Name(o.materialized));
  std::string detail;
  switch (o.status) {
    case models::ModelStatus::kBuilt:
    case models::ModelStatus::kUnchanged:
      if (o.materialized == config::Materialization::kView) {
        detail = "view of " + std::to_string(o.parents.size()) + " input version" +
                 (o.parents.size() == 1 ? "" : "s");
      } else {
        detail = std::string(o.new_version || o.status == models::ModelStatus::kUnchanged
                                 ? "version "
                                 : "same rows as version ") +
                 Short(o.version) + "  " + std::to_string(o.rows) + " rows";
        if (o.new_rows >= 0) detail += " (+" + std::to_string(o.new_rows) + " new)";
      }
      break;
    case models::ModelStatus::kFailed:
      detail = "see below";
      break;
    case models::ModelStatus::kSkipped:
      detail = "upstream model '" + o.upstream + "' failed";
      break;
  }
  std::printf("%-20s %-12s %-10s %s%s  %.2fs\n", o.model.c_str(), kind.c_str(),
              std::string(models::Name(o.status)).c_str(), detail.c_str(), TestSummary(o).c_str(),
              o.seconds);
  std::fflush(stdout);
  if (o.status == models::ModelStatus::kFailed) {
    std::fprintf(stderr, "error: %s\n", o.error.c_str());
    PrintTests(o);
  }
}

struct Opened {
  std::optional<ProjectContext> project;
  std::optional<models::ModelGraph> graph;
  std::unique_ptr<warehouse::Warehouse> warehouse;
};

// The target a run of the whole command is recorded under: its selectors, or every model.
std::string RunTarget(const std::vector<std::string>& selectors) {
  std::string out;
  for (const auto& s : selectors)
    out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "(all models)" : out;
}

// Loads the project and its models and connects to the warehouse; on failure returns nullopt
// with *code set.
std::optional<Opened> Open(const std::string& dir, const char* kind,
                           const std::vector<std::string>& selectors, int* code) {
  Opened o;
  o.project = OpenProject(dir, code);
  if (!o.project) return std::nullopt;
  auto graph = models::ModelGraph::Load(o.project->spec);
  if (!graph.ok()) {
    // Every line already names the file, line and column.
    std::fprintf(stderr, "%s\n", graph.status().message().c_str());
    *code = kExitUsageError;
    return std::nullopt;
  }
  o.graph.emplace(std::move(graph).value());
  auto w = warehouse::OpenWarehouse(o.project->spec.warehouse, o.project->spec.dir);
  if (!w.ok()) {
    RecordFailedRun(*o.project->registry, kind, RunTarget(selectors), w.status());
    *code = ReportFailure(w.status());
    return std::nullopt;
  }
  o.warehouse = std::move(w).value();
  return o;
}

int Summarize(const char* verb, const models::BuildReport& r, double seconds) {
  using models::ModelStatus;
  if (std::string(verb) == "build") {
    std::printf("build: %d built, %d unchanged, %d failed, %d skipped in %.2fs\n",
                r.Count(ModelStatus::kBuilt), r.Count(ModelStatus::kUnchanged),
                r.Count(ModelStatus::kFailed), r.Count(ModelStatus::kSkipped), seconds);
  } else {
    std::printf("test: %d models passed, %d failed in %.2fs\n", r.Count(ModelStatus::kBuilt),
                r.Count(ModelStatus::kFailed), seconds);
  }
  return r.ok() ? kExitOk : kExitRuntimeFailure;
}

base::Result<models::TemplateValues> ValuesOf(const std::vector<std::string>& vars,
                                              const std::string& start, const std::string& end) {
  models::TemplateValues values;
  SLUICE_ASSIGN_OR_RETURN(values.vars, models::ParseVarAssignments(vars));
  if (start.empty() != end.empty()) {
    return base::InvalidArgument("--interval-start and --interval-end go together");
  }
  if (start.empty()) return values;
  auto a = base::ParseTimestampMicros(start);
  if (!a.ok())
    return base::InvalidArgument("--interval-start '" + start + "': " + a.status().message());
  auto b = base::ParseTimestampMicros(end);
  if (!b.ok())
    return base::InvalidArgument("--interval-end '" + end + "': " + b.status().message());
  if (*b <= *a) {
    return base::InvalidArgument("--interval-end '" + end + "' is not after --interval-start '" +
                                 start + "'");
  }
  values.interval_start = base::ProcessingTime(base::Duration(*a));
  values.interval_end = base::ProcessingTime(base::Duration(*b));
  return values;
}

}  // namespace

int RunBuild(const BuildOptions& options) {
  auto values = ValuesOf(options.vars, options.interval_start, options.interval_end);
  if (!values.ok()) {
    std::fprintf(stderr, "error: %s\n", values.status().message().c_str());
    return kExitUsageError;
  }
  int code = kExitOk;
  auto opened = Open(options.project, "build", options.models, &code);
  if (!opened) return code;
  if (opened->graph->models().empty()) {
    std::printf("project '%s' has no models (%s/*.sql)\n", opened->project->spec.name.c_str(),
                opened->project->spec.models.dir.c_str());
    return kExitOk;
  }
  auto& clock = base::SystemClock::Instance();
  const auto started = clock.Now();
  models::ModelsContext ctx{opened->project->spec, *opened->project->lake,
                            *opened->project->registry, clock, *opened->warehouse};
  models::BuildOptions build;
  build.selectors = options.models;
  build.jobs = options.jobs;
  build.full_refresh = options.full_refresh;
  build.on_done = PrintBuilt;
  build.values = *values;
  auto report = models::BuildModels(*opened->graph, ctx, build);
  if (!report.ok()) {
    RecordFailedRun(*opened->project->registry, "build", RunTarget(options.models),
                    report.status());
    return ReportFailure(report.status());
  }
  for (const auto& o : report->models) {
    if (!o.new_version) continue;
    if (auto m = opened->project->lake->FindVersion(o.version); m.ok()) {
      ProfilePublishedVersion(*opened->project, *m);
    }
  }
  return Summarize("build", *report, std::chrono::duration<double>(clock.Now() - started).count());
}

int RunTest(const TestOptions& options) {
  auto values = ValuesOf(options.vars, options.interval_start, options.interval_end);
  if (!values.ok()) {
    std::fprintf(stderr, "error: %s\n", values.status().message().c_str());
    return kExitUsageError;
  }
  int code = kExitOk;
  auto opened = Open(options.project, "test", options.models, &code);
  if (!opened) return code;
  auto& clock = base::SystemClock::Instance();
  const auto started = clock.Now();
  models::ModelsContext ctx{opened->project->spec, *opened->project->lake,
                            *opened->project->registry, clock, *opened->warehouse};
  auto report = models::TestModels(
      *opened->graph, ctx, options.models,
      [](const models::ModelOutcome& o) {
        std::printf("%-20s %-6s %zu test%s  %.2fs\n", o.model.c_str(),
                    o.status == models::ModelStatus::kBuilt ? "passed" : "failed", o.tests.size(),
                    o.tests.size() == 1 ? "" : "s", o.seconds);
        std::fflush(stdout);
        if (o.status != models::ModelStatus::kBuilt) {
          std::fprintf(stderr, "error: %s\n", o.error.c_str());
          PrintTests(o);
        }
      },
      *values);
  if (!report.ok()) {
    RecordFailedRun(*opened->project->registry, "test", RunTarget(options.models), report.status());
    return ReportFailure(report.status());
  }
  return Summarize("test", *report, std::chrono::duration<double>(clock.Now() - started).count());
}

}  // namespace sluice::cli
