// `sluice run`, `sluice runs`, `sluice runs show`, `sluice logs`: pipeline runs (src/orchestrate).
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/clock.h"
#include "base/json_text.h"
#include "base/text_distance.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/progress_meter.h"
#include "cli/project_context.h"
#include "cli/version.h"
#include "config/project_validator.h"
#include "lake/atomic_file.h"
#include "models/template.h"
#include "orchestrate/airflow_export.h"
#include "orchestrate/backfill.h"
#include "orchestrate/dagster_export.h"
#include "orchestrate/interrupted_runs.h"
#include "orchestrate/openlineage.h"
#include "orchestrate/partition.h"
#include "orchestrate/pipeline_runner.h"
#include "orchestrate/scheduler_loop.h"
#include "registry/pipeline_history.h"

namespace sluice::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) {
  g_stop.store(true);
}

// SIGINT/SIGTERM stop the run cleanly (steps killed, run recorded as interrupted). No
// SA_RESTART, so the runner's poll(2) wakes up.
void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

base::Result<std::int64_t> ParseRunId(const std::string& text) {
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || id <= 0) {
    return base::InvalidArgument("'" + text + "' is not a run id (a positive number)");
  }
  return id;
}

base::Result<const config::PipelineSpec*> FindPipeline(const config::ProjectSpec& spec,
                                                       const std::string& name) {
  if (const auto* p = spec.FindPipeline(name)) return p;
  std::vector<std::string> names;
  for (const auto& p : spec.pipelines)
    names.push_back(p.name);
  std::string msg = "no pipeline '" + name + "' in the project";
  if (auto close = base::ClosestMatch(name, names)) msg += " (did you mean '" + *close + "'?)";
  if (names.empty()) msg += " (it declares no pipelines)";
  return base::InvalidArgument(msg);
}

// The same rule as `sluice build --var`, which the build steps pass them on to.
base::Result<std::vector<std::pair<std::string, std::string>>> ParseVars(
    const std::vector<std::string>& vars) {
  SLUICE_ASSIGN_OR_RETURN(auto parsed, models::ParseVarAssignments(vars));
  return std::vector<std::pair<std::string, std::string>>(parsed.begin(), parsed.end());
}

std::filesystem::path SelfBinary() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("/proc/self/exe") : p;
}

base::Result<base::ProcessingTime> ParseInstant(const std::string& flag, const std::string& text) {
  auto t = base::ParseTimestampMicros(text);
  if (!t.ok()) return base::InvalidArgument(flag + " '" + text + "': " + t.status().message());
  return base::ProcessingTime(base::Duration(*t));
}

base::Result<registry::PipelineHistory> OpenHistory(const ProjectContext& ctx) {
  return registry::PipelineHistory::Open(ResolvePath(ctx.spec, ctx.spec.registry.path));
}

std::string Seconds(const std::string& from, const std::string& to) {
  auto a = base::ParseTimestampMicros(from);
  auto b = base::ParseTimestampMicros(to);
  if (!a.ok() || !b.ok()) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(*b - *a) / 1e6);
  return buf;
}

void PrintEvent(const orchestrate::StepEvent& e) {
  using K = orchestrate::StepEvent::Kind;
  switch (e.kind) {
    case K::kStarted:
      std::fprintf(stderr, "%s: started (attempt %d)\n", e.step.c_str(), e.attempt);
      break;
    case K::kSucceeded:
      std::fprintf(stderr, "%s: succeeded\n", e.step.c_str());
      break;
    case K::kFailed:
    case K::kTimedOut:
      std::fprintf(stderr, "%s: %s (attempt %d): %s; log: %s\n", e.step.c_str(),
                   e.kind == K::kFailed ? "failed" : "timed out", e.attempt, e.detail.c_str(),
                   e.log_path.c_str());
      break;
    case K::kRetrying:
      std::fprintf(stderr, "%s: retrying in %s\n", e.step.c_str(), e.detail.c_str());
      break;
    case K::kSkipped:
      std::fprintf(stderr, "%s: skipped (%s)\n", e.step.c_str(), e.detail.c_str());
      break;
    case K::kReused:
      std::fprintf(stderr, "%s: not run again (%s)\n", e.step.c_str(), e.detail.c_str());
      break;
  }
}

std::string RunJson(const registry::PipelineRun& r) {
  std::string out = "{\"id\":" + std::to_string(r.id) +
                    ",\"pipeline\":" + base::JsonQuoted(r.pipeline) +
                    ",\"status\":" + base::JsonQuoted(r.status) +
                    ",\"started_at\":" + base::JsonQuoted(r.started_at) +
                    ",\"finished_at\":" + base::JsonQuoted(r.finished_at) +
                    ",\"trigger\":" + base::JsonQuoted(r.trigger) +
                    ",\"resumed_from\":" + std::to_string(r.resumed_from) +
                    ",\"pid\":" + std::to_string(r.pid) + ",\"host\":" + base::JsonQuoted(r.host);
  if (!r.interval_start.empty()) {
    out += ",\"interval_start\":" + base::JsonQuoted(r.interval_start) +
           ",\"interval_end\":" + base::JsonQuoted(r.interval_end);
  }
  out += ",\"error\":" + base::JsonQuoted(r.error) + ",\"params\":[";
  for (size_t i = 0; i < r.params.size(); ++i) {
    out += (i ? "," : "") + std::string("{\"name\":") + base::JsonQuoted(r.params[i].first) +
           ",\"value\":" + base::JsonQuoted(r.params[i].second) + "}";
  }
  return out + "]}";
}

std::string AttemptJson(const registry::StepAttempt& a) {
  return "{\"step\":" + base::JsonQuoted(a.step) + ",\"attempt\":" + std::to_string(a.attempt) +
         ",\"status\":" + base::JsonQuoted(a.status) +
         ",\"started_at\":" + base::JsonQuoted(a.started_at) +
         ",\"finished_at\":" + base::JsonQuoted(a.finished_at) +
         ",\"exit_code\":" + (a.exit_code ? std::to_string(*a.exit_code) : std::string("null")) +
         ",\"timed_out\":" + (a.timed_out ? "true" : "false") +
         ",\"error\":" + base::JsonQuoted(a.error) + ",\"log\":" + base::JsonQuoted(a.log_path) +
         ",\"pid\":" + std::to_string(a.pid) + "}";
}

// The run named by `text`, which must exist.
base::Result<registry::PipelineRun> LoadRun(registry::PipelineHistory& history,
                                            const std::string& text) {
  SLUICE_ASSIGN_OR_RETURN(auto id, ParseRunId(text));
  SLUICE_ASSIGN_OR_RETURN(auto run, history.Run(id));
  if (!run) return base::NotFound("no pipeline run " + text + " (see `sluice runs`)");
  return *run;
}

}  // namespace

int RunRun(const RunOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  auto pipeline = FindPipeline(ctx->spec, options.pipeline);
  if (!pipeline.ok()) return ReportFailure(pipeline.status());
  auto history = OpenHistory(*ctx);
  if (!history.ok()) return ReportFailure(history.status());

  orchestrate::RunRequest req;
  req.project = &ctx->spec;
  req.pipeline = *pipeline;
  req.steps = options.steps;
  req.concurrency = options.concurrency;
  auto vars = ParseVars(options.vars);
  if (!vars.ok()) return ReportFailure(vars.status());
  req.vars = *vars;
  req.trigger = options.trigger;
  req.no_retries = options.no_retry;
  std::optional<base::ProcessingTime> scheduled_at;
  if (!options.scheduled_at.empty()) {
    auto t = ParseInstant("--scheduled-at", options.scheduled_at);
    if (!t.ok()) return ReportFailure(t.status());
    scheduled_at = *t;
    req.params.emplace_back("scheduled_at", base::FormatTime(*t));
  }
  if (req.pipeline->partition) {
    auto length = orchestrate::PartitionLength(*req.pipeline->partition);
    if (!length.ok()) return ReportFailure(length.status());
    req.interval = orchestrate::PartitionBefore(
        *length, scheduled_at.value_or(base::SystemClock::Instance().Now()));
  }
  if (options.resume) {
    if (auto rec = orchestrate::RecoverInterruptedRuns(
            *history, base::FormatTime(base::SystemClock::Instance().Now()));
        !rec.ok()) {
      return ReportFailure(rec.status());
    }
    registry::PipelineRun from;
    if (options.resume_run.empty()) {
      auto runs = history->Runs(options.pipeline, 1);
      if (!runs.ok()) return ReportFailure(runs.status());
      if (runs->empty()) {
        return ReportFailure(
            base::NotFound("pipeline '" + options.pipeline + "' has no run to resume"));
      }
      from = runs->front();
    } else {
      auto run = LoadRun(*history, options.resume_run);
      if (!run.ok()) return ReportFailure(run.status());
      from = *run;
      if (from.pipeline != options.pipeline) {
        return ReportFailure(base::InvalidArgument("run " + options.resume_run +
                                                   " is of pipeline '" + from.pipeline +
                                                   "', not '" + options.pipeline + "'"));
      }
    }
    if (from.status == "running") {
      return ReportFailure(
          base::FailedPrecondition("run " + std::to_string(from.id) + " is still running (pid " +
                                   std::to_string(from.pid) + " on " + from.host + ")"));
    }
    if (from.status == "succeeded") {
      std::printf("run %lld of pipeline %s succeeded; nothing to resume\n",
                  static_cast<long long>(from.id), from.pipeline.c_str());
      return kExitOk;
    }
    req.resume_from = from.id;
    // A partition is resumed as the same partition, whenever the resume happens.
    if (!from.interval_start.empty()) {
      auto start = ParseInstant("interval_start", from.interval_start);
      auto end = ParseInstant("interval_end", from.interval_end);
      if (!start.ok() || !end.ok()) {
        return ReportFailure(base::Corruption("run " + std::to_string(from.id) +
                                              " has a bad interval in the registry"));
      }
      req.interval = orchestrate::Interval{*start, *end};
    }
    // The resumed run's parameters, unless given again.
    for (const auto& [k, v] : from.params) {
      if (k == "step" && options.steps.empty()) req.steps.push_back(v);
      if (k.rfind("var.", 0) == 0 && options.vars.empty()) req.vars.emplace_back(k.substr(4), v);
      if (k == "scheduled_at" && options.scheduled_at.empty()) req.params.emplace_back(k, v);
    }
  }

  orchestrate::RunnerOptions opt;
  opt.sluice_binary = SelfBinary();
  opt.log_dir = ctx->spec.dir / ".sluice" / "runs";
  opt.stop = &g_stop;
  opt.on_event = PrintEvent;
  std::optional<orchestrate::OpenLineageEmitter> lineage;
  if (const auto& r = ctx->spec.registry; r.openlineage_url || r.openlineage_file) {
    orchestrate::OpenLineageSink sink;
    sink.url = r.openlineage_url;
    if (r.openlineage_file) sink.file = ResolvePath(ctx->spec, *r.openlineage_file);
    sink.job_namespace = r.openlineage_namespace.value_or("sluice/" + ctx->spec.name);
    sink.producer = std::string("https://github.com/sluice/sluice/tree/") + kVersion;
    lineage.emplace(ctx->spec, *req.pipeline, sink, base::SystemClock::Instance());
    opt.observer = &*lineage;
  }
  opt.on_run_started = [&](std::int64_t id) {
    std::fprintf(
        stderr, "run %lld of pipeline %s%s\n", static_cast<long long>(id),
        req.pipeline->name.c_str(),
        req.resume_from ? (" (resuming run " + std::to_string(req.resume_from) + ")").c_str() : "");
  };
  InstallStopHandlers();
  auto out = orchestrate::RunPipeline(req, opt, base::SystemClock::Instance(), *history);
  if (!out.ok()) return ReportFailure(out.status());
  auto run = history->Run(out->run_id);
  std::printf("run %lld of pipeline %s: %s", static_cast<long long>(out->run_id),
              req.pipeline->name.c_str(), out->status.c_str());
  if (run.ok() && *run)
    std::printf(" in %s", Seconds((*run)->started_at, (*run)->finished_at).c_str());
  std::printf("\n");
  for (const auto& [step, status] : out->steps)
    std::printf("  %-24s %s\n", step.c_str(), status.c_str());
  return out->status == "succeeded" ? kExitOk : kExitRuntimeFailure;
}

int RunRuns(const RunsOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  if (!options.pipeline.empty()) {
    if (auto p = FindPipeline(ctx->spec, options.pipeline); !p.ok())
      return ReportFailure(p.status());
  }
  auto history = OpenHistory(*ctx);
  if (!history.ok()) return ReportFailure(history.status());
  if (auto rec = orchestrate::RecoverInterruptedRuns(
          *history, base::FormatTime(base::SystemClock::Instance().Now()));
      !rec.ok()) {
    return ReportFailure(rec.status());
  }
  auto runs = history->Runs(options.pipeline, options.limit);
  if (!runs.ok()) return ReportFailure(runs.status());
  if (options.json) {
    std::printf("[");
    for (size_t i = 0; i < runs->size(); ++i)
      std::printf("%s%s", i ? ",\n" : "", RunJson((*runs)[i]).c_str());
    std::printf("]\n");
    return kExitOk;
  }
  std::printf("%-6s %-16s %-12s %-22s %9s %-10s %s\n", "RUN", "PIPELINE", "STATUS", "STARTED",
              "DURATION", "TRIGGER", "PARAMETERS");
  for (const auto& r : *runs) {
    std::string params;
    for (const auto& [k, v] : r.params)
      params += (params.empty() ? "" : " ") + k + "=" + v;
    if (r.resumed_from)
      params +=
          (params.empty() ? "" : " ") + std::string("resumes=") + std::to_string(r.resumed_from);
    std::printf("%-6lld %-16s %-12s %-22s %9s %-10s %s\n", static_cast<long long>(r.id),
                r.pipeline.c_str(), r.status.c_str(), r.started_at.c_str(),
                r.finished_at.empty() ? "-" : Seconds(r.started_at, r.finished_at).c_str(),
                r.trigger.c_str(), params.c_str());
  }
  return kExitOk;
}

int RunRunShow(const RunShowOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  auto history = OpenHistory(*ctx);
  if (!history.ok()) return ReportFailure(history.status());
  if (auto rec = orchestrate::RecoverInterruptedRuns(
          *history, base::FormatTime(base::SystemClock::Instance().Now()));
      !rec.ok()) {
    return ReportFailure(rec.status());
  }
  auto run = LoadRun(*history, options.run);
  if (!run.ok()) return ReportFailure(run.status());
  auto attempts = history->Attempts(run->id);
  if (!attempts.ok()) return ReportFailure(attempts.status());
  if (options.json) {
    std::string out = RunJson(*run);
    out.pop_back();
    out += ",\"attempts\":[";
    for (size_t i = 0; i < attempts->size(); ++i)
      out += (i ? "," : "") + AttemptJson((*attempts)[i]);
    std::printf("%s]}\n", out.c_str());
    return kExitOk;
  }
  std::printf("run %lld of pipeline %s: %s\n", static_cast<long long>(run->id),
              run->pipeline.c_str(), run->status.c_str());
  std::printf("  started %s by pid %lld on %s (%s)\n", run->started_at.c_str(),
              static_cast<long long>(run->pid), run->host.c_str(), run->trigger.c_str());
  if (!run->finished_at.empty()) {
    std::printf("  finished %s (%s)\n", run->finished_at.c_str(),
                Seconds(run->started_at, run->finished_at).c_str());
  }
  if (run->resumed_from)
    std::printf("  resumes run %lld\n", static_cast<long long>(run->resumed_from));
  if (!run->interval_start.empty()) {
    std::printf("  interval [%s, %s)\n", run->interval_start.c_str(), run->interval_end.c_str());
  }
  for (const auto& [k, v] : run->params)
    std::printf("  %s = %s\n", k.c_str(), v.c_str());
  if (!run->error.empty()) std::printf("  error: %s\n", run->error.c_str());
  std::printf("%-20s %7s %-12s %8s %9s %8s  %s\n", "STEP", "ATTEMPT", "STATUS", "EXIT", "DURATION",
              "PID", "ERROR / LOG");
  for (const auto& a : *attempts) {
    const std::string exit = a.exit_code ? std::to_string(*a.exit_code) : "-";
    std::printf("%-20s %7d %-12s %8s %9s %8lld  %s\n", a.step.c_str(), a.attempt, a.status.c_str(),
                exit.c_str(),
                a.finished_at.empty() ? "-" : Seconds(a.started_at, a.finished_at).c_str(),
                static_cast<long long>(a.pid),
                (a.error.empty() ? a.log_path : a.error + "; " + a.log_path).c_str());
  }
  return kExitOk;
}

int RunLogs(const LogsOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  auto history = OpenHistory(*ctx);
  if (!history.ok()) return ReportFailure(history.status());
  auto run = LoadRun(*history, options.run);
  if (!run.ok()) return ReportFailure(run.status());
  auto attempts = history->Attempts(run->id);
  if (!attempts.ok()) return ReportFailure(attempts.status());
  bool found = false;
  for (const auto& a : *attempts) {
    if (!options.step.empty() && a.step != options.step) continue;
    found = true;
    if (a.log_path.empty()) continue;
    std::printf("==> %s attempt %d (%s) %s <==\n", a.step.c_str(), a.attempt, a.status.c_str(),
                a.log_path.c_str());
    std::fflush(stdout);
    std::ifstream in(a.log_path, std::ios::binary);
    if (!in) {
      std::printf("(log file missing)\n");
      continue;
    }
    std::cout << in.rdbuf();
    std::cout.flush();
  }
  if (!found) {
    return ReportFailure(
        base::NotFound("run " + options.run + " has no step '" + options.step + "'"));
  }
  return kExitOk;
}

int RunScheduler(const SchedulerCommandOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  auto history = OpenHistory(*ctx);
  if (!history.ok()) return ReportFailure(history.status());
  orchestrate::SchedulerOptions o;
  o.project = &ctx->spec;
  o.sluice_binary = SelfBinary();
  o.log_dir = ctx->spec.dir / ".sluice" / "scheduler";
  o.poll =
      std::chrono::duration_cast<base::Duration>(std::chrono::duration<double>(options.poll_s));
  o.once = options.once;
  o.stop = &g_stop;
  lake::Lake* lake = ctx->lake.get();
  // The current version id of a source: one small read of its HISTORY file, no registry write.
  o.version_of = [lake](const std::string& source) -> std::optional<std::string> {
    auto m = lake->Current(source);
    if (!m.ok() || !*m) return std::nullopt;
    return (*m)->id;
  };
  o.on_message = [](const std::string& line) {
    std::fprintf(stderr, "%s %s\n", base::FormatTime(base::SystemClock::Instance().Now()).c_str(),
                 line.c_str());
  };
  InstallStopHandlers();
  if (base::Status s = orchestrate::RunScheduler(o, base::SystemClock::Instance(), *history);
      !s.ok()) {
    return ReportFailure(s);
  }
  return kExitOk;
}

int RunBackfill(const BackfillOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  auto pipeline = FindPipeline(ctx->spec, options.pipeline);
  if (!pipeline.ok()) return ReportFailure(pipeline.status());
  orchestrate::BackfillRequest req;
  req.project = &ctx->spec;
  req.pipeline = *pipeline;
  req.concurrency = options.concurrency;
  auto from = ParseInstant("--from", options.from);
  if (!from.ok()) return ReportFailure(from.status());
  auto to = ParseInstant("--to", options.to);
  if (!to.ok()) return ReportFailure(to.status());
  req.from = *from;
  req.to = *to;
  auto vars = ParseVars(options.vars);
  if (!vars.ok()) return ReportFailure(vars.status());
  req.vars = *vars;
  orchestrate::RunnerOptions opt;
  opt.sluice_binary = SelfBinary();
  opt.log_dir = ctx->spec.dir / ".sluice" / "runs";
  opt.stop = &g_stop;
  InstallStopHandlers();
  std::optional<ProgressMeter> meter;
  auto out = orchestrate::RunBackfill(req, opt, ResolvePath(ctx->spec, ctx->spec.registry.path),
                                      [&](const orchestrate::BackfillProgress& p) {
                                        if (!meter) {
                                          meter.emplace("partitions", p.total - p.done_before,
                                                        base::SystemClock::Instance());
                                        }
                                        meter->Update(p.succeeded + p.failed);
                                      });
  if (meter) meter->Finish();
  if (!out.ok()) return ReportFailure(out.status());
  std::printf(
      "backfill of pipeline %s: %lld partitions, %lld already done, %lld succeeded, %lld "
      "failed%s\n",
      req.pipeline->name.c_str(), static_cast<long long>(out->total),
      static_cast<long long>(out->done_before), static_cast<long long>(out->succeeded),
      static_cast<long long>(out->failed), g_stop.load() ? " (stopped)" : "");
  if (out->failed > 0 || g_stop.load()) {
    std::printf("run it again to retry what failed: partitions that succeeded are skipped\n");
    return kExitRuntimeFailure;
  }
  return kExitOk;
}

int RunExport(const ExportOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  auto pipeline = FindPipeline(ctx->spec, options.pipeline);
  if (!pipeline.ok()) return ReportFailure(pipeline.status());
  std::error_code ec;
  const auto dir = std::filesystem::absolute(ctx->spec.dir, ec);
  const std::filesystem::path project_dir = ec ? ctx->spec.dir : dir.lexically_normal();
  const bool airflow = options.tool == "airflow";
  const std::string dag = airflow
                              ? orchestrate::AirflowDag(**pipeline, project_dir, options.sluice)
                              : orchestrate::DagsterJob(**pipeline, project_dir, options.sluice);
  if (options.out.empty()) {
    std::fwrite(dag.data(), 1, dag.size(), stdout);
    return kExitOk;
  }
  // Whole or not at all, like every file sluice writes for a user: an orchestrator watching its
  // DAG folder never loads half a DAG.
  if (base::Status s = lake::WriteFileAtomic(options.out, dag); !s.ok()) return ReportFailure(s);
  std::printf("wrote %s (%s sluice_%s, %zu %s)\n", options.out.c_str(),
              airflow ? "Airflow DAG" : "Dagster job", (*pipeline)->name.c_str(),
              (*pipeline)->steps.size(), airflow ? "tasks" : "ops");
  return kExitOk;
}

}  // namespace sluice::cli
