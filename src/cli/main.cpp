// The `sluice` command: flag parsing (the only file that sees CLI11) and dispatch to commands.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/version.h"

namespace {

constexpr const char* kFooter =
    "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.\n"
    "Docs: docs/cli.md and docs/project-file.md in the sluice repository.";

void AddProjectOption(CLI::App* cmd, std::string& project) {
  cmd->add_option("-p,--project", project, "Project folder (holds sluice.yaml)")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice::cli;

  CLI::App app{"sluice: one engine for the data pipelines of production ML"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sluice ") + kVersion);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")
      ->capture_default_str();

  InitOptions init;
  auto* init_cmd = app.add_subcommand("init", "Scaffold a working example project in DIR");
  init_cmd->add_option("DIR", init.dir, "Folder to create (may exist if empty)")->required();
  init_cmd->add_flag("--force", init.force, "Overwrite template files that already exist");
  init_cmd->footer(kFooter);

  CheckOptions check;
  auto* check_cmd = app.add_subcommand("check", "Validate a project and print every error");
  AddProjectOption(check_cmd, check.project);
  check_cmd->footer(kFooter);

  DemoDataOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo-data",
      "Generate the deterministic synthetic fraud data set (users, transactions, labels)");
  AddProjectOption(demo_cmd, demo.project);
  demo_cmd->add_option("-o,--out", demo.out, "Output folder (default: <project>/data)");
  demo_cmd->add_option("-n,--transactions", demo.transactions, "Number of transactions")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1'000}, std::int64_t{100'000'000}));
  demo_cmd->add_option("--seed", demo.seed, "Seed: same seed, same bytes")->capture_default_str();
  demo_cmd
      ->add_option("--formats", demo.formats,
                   "Comma-separated transaction file formats: csv, jsonl, parquet")
      ->capture_default_str();
  demo_cmd->footer(kFooter);

  IngestOptions ingest;
  auto* ingest_cmd = app.add_subcommand(
      "ingest", "Land sources in the lake: contract check, quarantine, new dataset version");
  AddProjectOption(ingest_cmd, ingest.project);
  ingest_cmd->add_option("SOURCE", ingest.sources, "Sources to ingest (default: all)");
  ingest_cmd->add_option("--threads", ingest.threads, "DuckDB threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  ingest_cmd->footer(kFooter);

  VersionsOptions versions;
  auto* versions_cmd =
      app.add_subcommand("versions", "List dataset versions (id, time, rows, bytes, quarantined)");
  AddProjectOption(versions_cmd, versions.project);
  versions_cmd->add_option("DATASET", versions.dataset, "Only this dataset");
  versions_cmd->add_flag("--json", versions.json, "JSON instead of a table");
  versions_cmd->footer(kFooter);

  ShowOptions show;
  auto* show_cmd =
      app.add_subcommand("show", "Print a dataset version's manifest and quarantined rows");
  AddProjectOption(show_cmd, show.project);
  show_cmd->add_option("VERSION", show.version, "Version id or unique prefix (6+ characters)")
      ->required();
  show_cmd->add_option("--quarantine", show.quarantine, "Quarantined rows to print")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  show_cmd->footer(kFooter);

  TrainingSetCommandOptions training;
  auto* training_cmd = app.add_subcommand(
      "training-set", "Build a point-in-time-correct training set (Parquet/CSV) with a manifest");
  AddProjectOption(training_cmd, training.project);
  training_cmd->add_option("NAME", training.name, "Training set name")->required();
  training_cmd->add_option("-o,--out", training.out,
                           "Folder for copies (default <project>/output)");
  training_cmd->add_option("--threads", training.threads, "Threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  training_cmd
      ->add_option("--partitions", training.partitions,
                   "Key-partitioned passes (0 = from the data size and memory budget)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  training_cmd
      ->add_option("--memory-budget", training.memory_budget_mib,
                   "MiB one pass may hold (events, spine rows); an entity needing more is refused")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  training_cmd->add_flag("--refit", training.refit,
                         "Fit this training set's transforms again (a new artifact version)");
  training_cmd->footer(kFooter);

  ReproduceOptions reproduce;
  auto* reproduce_cmd = app.add_subcommand(
      "reproduce", "Rebuild a training set version from its manifest and verify its hash");
  AddProjectOption(reproduce_cmd, reproduce.project);
  reproduce_cmd->add_option("VERSION", reproduce.version, "Training set version id or prefix")
      ->required();
  reproduce_cmd->add_option("--threads", reproduce.threads, "Threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  reproduce_cmd->footer(kFooter);

  MaterializeOptions materialize;
  auto* materialize_cmd = app.add_subcommand(
      "materialize", "Load feature views' per-entity state into the online store");
  AddProjectOption(materialize_cmd, materialize.project);
  materialize_cmd->add_option("VIEW", materialize.views, "Feature views (default: all)");
  materialize_cmd->add_option("--store", materialize.store, "Online store (default: the first)");
  materialize_cmd->add_option("--threads", materialize.threads, "Threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  materialize_cmd->add_flag("--force", materialize.force, "Write even if nothing changed");
  materialize_cmd->footer(kFooter);

  StreamCommandOptions stream;
  auto* stream_cmd = app.add_subcommand(
      "stream", "Follow a Kafka source: streaming views online, every event in the lake");
  AddProjectOption(stream_cmd, stream.project);
  stream_cmd->add_option("VIEW", stream.views, "Streaming views (default: all, one source)");
  stream_cmd->add_option("--store", stream.store, "Online store (default: the first)");
  stream_cmd->add_flag("--stop-at-end", stream.stop_at_end,
                       "Stop once every partition reached the end offset it had at start");
  stream_cmd->add_option("--segment-rows", stream.segment_rows, "Lake segment size in rows")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  stream_cmd->add_option("--segment-seconds", stream.segment_seconds, "Lake segment age")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  stream_cmd->add_option("--metrics", stream.metrics,
                         "Serve Prometheus metrics on HOST:PORT (GET /metrics)");
  stream_cmd
      ->add_option("--idle-timeout", stream.idle_seconds,
                   "Seconds after which a silent partition stops holding events back (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  stream_cmd
      ->add_option("--state-cache-mb", stream.state_cache_mb,
                   "Entity states kept decoded between micro-batches, per view (MB; 0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  stream_cmd->add_flag("--no-group", stream.no_group,
                       "On a shared store, take every partition instead of joining the group "
                       "(one worker; rebuilds a changed view)");
  stream_cmd->footer(kFooter);

  GetOptions get;
  auto* get_cmd = app.add_subcommand("get", "Read one entity's online features (JSON)");
  AddProjectOption(get_cmd, get.project);
  get_cmd->add_option("VIEW", get.view, "Feature view")->required();
  get_cmd->add_option("KEY", get.key, "Entity key (a,b for composite keys)")->required();
  get_cmd->add_option("--at", get.at, "As of this ISO-8601 time (default: now)");
  get_cmd->add_option("--features", get.features, "Only these features")->delimiter(',');
  get_cmd->add_option("--store", get.store, "Online store (default: the first)");
  get_cmd->footer(kFooter);

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "HTTP/JSON feature serving API with /healthz, /readyz and /metrics");
  AddProjectOption(serve_cmd, serve.project);
  serve_cmd->add_option("--address", serve.address, "HOST:PORT to listen on (port 0: any free)")
      ->capture_default_str();
  serve_cmd->add_option("--token-env", serve.token_env,
                        "Require this environment variable's value as a bearer token");
  serve_cmd
      ->add_option("--threads", serve.threads,
                   "HTTP event-loop threads, each serving many connections (0 = one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  serve_cmd->add_option("--store", serve.store,
                        "Online store for view requests (default: the first)");
  serve_cmd
      ->add_option("--refresh-ms", serve.refresh_ms,
                   "How often to look for new materializations, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(10, 3'600'000));
  serve_cmd->add_flag("--no-serving-log", serve.no_serving_log,
                      "Do not log served values even when monitoring.serving_log is set");
  serve_cmd
      ->add_option("--freshness-interval", serve.freshness_interval,
                   "How often the monitoring.freshness SLOs of served views are checked and "
                   "alerted on (0s: never)")
      ->capture_default_str();
  serve_cmd->footer(kFooter);

  UiOptions ui;
  auto* ui_cmd = app.add_subcommand(
      "ui", "Read-only web console: datasets, versions, lineage, feature views, runs");
  AddProjectOption(ui_cmd, ui.project);
  ui_cmd->add_option("--address", ui.address, "HOST:PORT to listen on (port 0: any free)")
      ->capture_default_str();
  ui_cmd->add_option("--token-env", ui.token_env,
                     "Require this environment variable's value as a token (header or cookie)");
  ui_cmd->footer(kFooter);

  BuildOptions build;
  auto* build_cmd = app.add_subcommand(
      "build", "Build SQL models in the warehouse, run their tests, publish tables to the lake");
  AddProjectOption(build_cmd, build.project);
  build_cmd->add_option(
      "MODEL", build.models,
      "Models to build; +MODEL adds upstream, MODEL+ downstream models (default: all)");
  build_cmd->add_option("-j,--jobs", build.jobs, "Models built at once (0 = one per core, max 4)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  build_cmd->add_flag("--full-refresh", build.full_refresh,
                      "Rebuild unchanged models too; incremental models from scratch");
  build_cmd->add_option("--var", build.vars, "NAME=VALUE for {{ var('NAME') }} in model SQL");
  build_cmd->add_option("--interval-start", build.interval_start,
                        "{{ interval_start }} of model SQL (ISO-8601; with --interval-end)");
  build_cmd->add_option("--interval-end", build.interval_end,
                        "{{ interval_end }} of model SQL (ISO-8601; with --interval-start)");
  build_cmd->footer(kFooter);

  TestOptions test;
  auto* test_cmd = app.add_subcommand("test", "Run the data tests of SQL models in the warehouse");
  AddProjectOption(test_cmd, test.project);
  test_cmd->add_option("MODEL", test.models,
                       "Models to test; +MODEL adds upstream, MODEL+ downstream (default: all)");
  test_cmd->add_option("--var", test.vars, "NAME=VALUE for {{ var('NAME') }} in test SQL");
  test_cmd->add_option("--interval-start", test.interval_start,
                       "{{ interval_start }} of test SQL (with --interval-end)");
  test_cmd->add_option("--interval-end", test.interval_end,
                       "{{ interval_end }} of test SQL (with --interval-start)");
  test_cmd->footer(kFooter);

  ProfileOptions profile;
  auto* profile_cmd = app.add_subcommand(
      "profile", "Statistical profile of a dataset version (counts, moments, quantiles, top)");
  AddProjectOption(profile_cmd, profile.project);
  profile_cmd->add_option("TARGET", profile.target, "Dataset (its current version) or version id")
      ->required();
  profile_cmd->add_flag("--json", profile.json, "Print JSON");
  profile_cmd->add_flag("--recompute", profile.recompute, "Scan again even if one is stored");
  profile_cmd->add_option("--html", profile.html, "Also write a self-contained HTML report");
  profile_cmd->add_option("--by", profile.by,
                          "hour|day: a stream's profile per period it landed in, merged from "
                          "its segments' profiles (no rescan)");
  profile_cmd->add_option("--threads", profile.threads, "DuckDB threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  profile_cmd->footer(kFooter);

  DriftOptions drift;
  auto* drift_cmd = app.add_subcommand(
      "drift", "Data drift of current rows against reference rows, column by column");
  AddProjectOption(drift_cmd, drift.project);
  drift_cmd
      ->add_option("--reference", drift.reference,
                   "DATASET, VERSION, DATASET@-DURATION or DATASET[FROM,TO)")
      ->required();
  drift_cmd->add_option("--current", drift.current, "Same forms as --reference")->required();
  drift_cmd->add_option("--columns", drift.columns, "Only these columns")->delimiter(',');
  drift_cmd->add_option("--method", drift.method,
                        "auto, ks, wasserstein, psi, jensenshannon, chisquare or ztest");
  drift_cmd->add_flag("--json", drift.json, "Print JSON");
  drift_cmd->add_flag("--fail-on-drift", drift.fail_on_drift, "Exit 1 on dataset drift");
  drift_cmd->add_option("--html", drift.html, "Also write a self-contained HTML report");
  drift_cmd->add_option("--label", drift.label,
                        "Concept drift: compare this label's rate per feature bin");
  drift_cmd->add_option("--threads", drift.threads, "DuckDB threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  drift_cmd->footer(kFooter);

  MonitorOptions monitor;
  auto* monitor_cmd = app.add_subcommand(
      "monitor", "Run the monitors of sluice.yaml once; alerts go to their sinks and the registry");
  AddProjectOption(monitor_cmd, monitor.project);
  monitor_cmd->add_option("MONITOR", monitor.monitors, "Monitors to run (default: all)");
  monitor_cmd->add_flag("--fail-on-alert", monitor.fail_on_alert, "Exit 1 when an alert fires");
  monitor_cmd->add_flag("--json", monitor.json, "Print JSON");
  monitor_cmd->add_option("--threads", monitor.threads, "DuckDB threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  monitor_cmd->footer(kFooter);

  SkewCommandOptions skew;
  auto* skew_cmd = app.add_subcommand(
      "skew", "Recompute logged served values from the lake and report every difference");
  AddProjectOption(skew_cmd, skew.project);
  skew_cmd->add_option("--log", skew.log,
                       "Serving log dataset or version (default: monitoring.serving_log.dataset)");
  skew_cmd->add_option("--view", skew.views, "Only these views (repeatable)");
  skew_cmd->add_option("--since", skew.since, "Only values served within this duration (1h)");
  skew_cmd->add_flag("--json", skew.json, "Print JSON");
  skew_cmd->add_flag("--fail-on-skew", skew.fail_on_skew,
                     "Exit 1 when any served value differs from its recomputation");
  skew_cmd->add_option("--threads", skew.threads, "Training-set threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  skew_cmd->footer(kFooter);
  // Pipelines (src/orchestrate).
  RunOptions run;
  auto* run_cmd = app.add_subcommand(
      "run", "Run a pipeline's steps as a DAG: retries, timeouts, parallel branches, resume");
  AddProjectOption(run_cmd, run.project);
  run_cmd->add_option("PIPELINE", run.pipeline, "Pipeline name")->required();
  run_cmd->add_option("--step", run.steps, "Run only these steps (repeatable)");
  run_cmd->add_option("--var", run.vars, "NAME=VALUE given to steps as SLUICE_VAR_NAME");
  auto* resume_opt = run_cmd
                         ->add_option("--resume", run.resume_run,
                                      "Resume RUN (default: the latest run): steps that "
                                      "succeeded are not run again")
                         ->expected(0, 1);
  run_cmd->add_option("--concurrency", run.concurrency, "Steps at once (0 = the pipeline's)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  run_cmd->add_option("--trigger", run.trigger, "Recorded as what started the run")
      ->capture_default_str();
  run_cmd->add_option("--scheduled-at", run.scheduled_at,
                      "The schedule's fire time this run is for (set by sluice scheduler)");
  run_cmd->add_flag("--no-retry", run.no_retry,
                    "One attempt per step (for an outer orchestrator that retries itself)");
  run_cmd->footer(kFooter);

  SchedulerCommandOptions scheduler;
  auto* scheduler_cmd = app.add_subcommand(
      "scheduler", "Run pipelines on their schedules and on new source versions (long-running)");
  AddProjectOption(scheduler_cmd, scheduler.project);
  scheduler_cmd->add_flag("--once", scheduler.once, "Start what is due now, wait for it, exit");
  scheduler_cmd->add_option("--poll", scheduler.poll_s, "Seconds between looks at source versions")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  scheduler_cmd->footer(kFooter);

  BackfillOptions backfill;
  auto* backfill_cmd = app.add_subcommand(
      "backfill", "Run a partitioned pipeline for every partition in [--from, --to), resumable");
  AddProjectOption(backfill_cmd, backfill.project);
  backfill_cmd->add_option("PIPELINE", backfill.pipeline, "Pipeline (declares partition)")
      ->required();
  backfill_cmd->add_option("--from", backfill.from, "First partition's start (ISO-8601)")
      ->required();
  backfill_cmd->add_option("--to", backfill.to, "End, exclusive (ISO-8601)")->required();
  backfill_cmd->add_option("--concurrency", backfill.concurrency, "Partitions at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  backfill_cmd->add_option("--var", backfill.vars, "NAME=VALUE given to steps as SLUICE_VAR_NAME");
  backfill_cmd->footer(kFooter);

  ExportOptions export_opts;
  auto* export_cmd = app.add_subcommand(
      "export", "Write a pipeline as another orchestrator's DAG (airflow, dagster)");
  AddProjectOption(export_cmd, export_opts.project);
  export_cmd->add_option("TOOL", export_opts.tool, "airflow or dagster")
      ->required()
      ->check(CLI::IsMember({"airflow", "dagster"}));
  export_cmd->add_option("PIPELINE", export_opts.pipeline, "Pipeline")->required();
  export_cmd->add_option("-o,--out", export_opts.out, "Output file (default: stdout)");
  export_cmd->add_option("--sluice", export_opts.sluice, "The sluice command the tasks run")
      ->capture_default_str();
  export_cmd->footer(kFooter);

  LineageOptions lineage;
  auto* lineage_cmd = app.add_subcommand(
      "lineage", "What a dataset version was derived from, and what was derived from it");
  AddProjectOption(lineage_cmd, lineage.project);
  lineage_cmd
      ->add_option("NODE", lineage.node,
                   "Dataset name (its current version), version id or prefix, model:NAME, or a "
                   "raw node such as file:PATH@SHA")
      ->required();
  auto* up_flag = lineage_cmd->add_flag("--upstream", lineage.upstream, "Only what it came from");
  lineage_cmd->add_flag("--downstream", lineage.downstream, "Only what came from it")
      ->excludes(up_flag);
  lineage_cmd->add_flag("--dot", lineage.dot, "Graphviz DOT instead of text");
  lineage_cmd->add_option("--depth", lineage.depth, "Edges to follow from NODE")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  lineage_cmd->footer(kFooter);

  ModelOptions model;
  auto* model_cmd =
      app.add_subcommand("model", "Registered models and the exact data they were trained on");
  model_cmd->require_subcommand(1);
  auto* model_register = model_cmd->add_subcommand(
      "register", "Record a model version: artifact hash, training-set version, metrics");
  AddProjectOption(model_register, model.project);
  model_register->add_option("NAME", model.name, "Model name")->required();
  model_register
      ->add_option("--training-set", model.training_set, "Training-set version id or prefix")
      ->required();
  model_register->add_option("--artifact", model.artifact, "The model file")->required();
  model_register->add_option("--metric", model.metrics, "NAME=VALUE (repeatable)");
  model_register->footer(kFooter);
  auto* model_list = model_cmd->add_subcommand("list", "Each model's current version");
  AddProjectOption(model_list, model.project);
  model_list->footer(kFooter);
  auto* model_show =
      model_cmd->add_subcommand("show", "A model's versions and the data its current one needs");
  AddProjectOption(model_show, model.project);
  model_show->add_option("NAME", model.name, "Model name")->required();
  model_show->footer(kFooter);
  auto* model_rollback = model_cmd->add_subcommand(
      "rollback", "Make the previous version current; print the data and definitions it needs");
  AddProjectOption(model_rollback, model.project);
  model_rollback->add_option("NAME", model.name, "Model name")->required();
  model_rollback->footer(kFooter);

  RunsOptions runs;
  auto* runs_cmd = app.add_subcommand("runs", "List pipeline runs, newest first");
  AddProjectOption(runs_cmd, runs.project);
  runs_cmd->add_option("PIPELINE", runs.pipeline, "Only this pipeline");
  runs_cmd->add_flag("--json", runs.json, "JSON instead of a table");
  runs_cmd->add_option("-n,--limit", runs.limit, "Runs to list")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  runs_cmd->footer(kFooter);
  RunShowOptions run_show;
  auto* run_show_cmd =
      runs_cmd->add_subcommand("show", "A run's steps and attempts: status, exit code, log");
  AddProjectOption(run_show_cmd, run_show.project);
  run_show_cmd->add_option("RUN", run_show.run, "Run id")->required();
  run_show_cmd->add_flag("--json", run_show.json, "JSON instead of text");
  run_show_cmd->footer(kFooter);

  LogsOptions logs;
  auto* logs_cmd = app.add_subcommand("logs", "Print the logs of a run's step attempts");
  AddProjectOption(logs_cmd, logs.project);
  logs_cmd->add_option("RUN", logs.run, "Run id")->required();
  logs_cmd->add_option("STEP", logs.step, "Only this step (default: all)");
  logs_cmd->footer(kFooter);
  GcOptions gc;
  auto* gc_cmd = app.add_subcommand(
      "gc", "Remove old dataset versions and lake files nothing references; print what it frees");
  AddProjectOption(gc_cmd, gc.project);
  auto* gc_keep =
      gc_cmd->add_option("--keep", gc.keep, "Keep the newest N versions of each dataset")
          ->check(CLI::Range(1, 1'000'000));
  gc_cmd->add_option("--older-than", gc.older_than,
                     "Remove versions created longer ago than this duration (e.g. 30d, 12h)");
  gc_cmd
      ->add_option("--grace", gc.grace,
                   "Keep never-referenced files younger than this (a running command's)")
      ->capture_default_str();
  gc_cmd->add_flag("-n,--dry-run", gc.dry_run, "Print what would be removed; remove nothing");
  gc_cmd->footer(kFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help/version (exit 0) and usage errors (exit 2, our usage code).
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsageError;
  }

  auto level = sluice::base::ParseLogLevel(log_level);
  if (!level.ok()) return ReportFailure(level.status());
  sluice::base::SetLogLevel(*level);

  if (*init_cmd) return RunInit(init);
  if (*check_cmd) return RunCheck(check);
  if (*demo_cmd) return RunDemoData(demo);
  if (*ingest_cmd) return RunIngest(ingest);
  if (*versions_cmd) return RunVersions(versions);
  if (*show_cmd) return RunShow(show);
  if (*build_cmd) return RunBuild(build);
  if (*test_cmd) return RunTest(test);
  if (*training_cmd) return RunTrainingSet(training);
  if (*reproduce_cmd) return RunReproduce(reproduce);
  if (*materialize_cmd) return RunMaterialize(materialize);
  if (*get_cmd) return RunGet(get);
  if (*serve_cmd) return RunServe(serve);
  if (*stream_cmd) return RunStream(stream);
  if (*ui_cmd) return RunUi(ui);
  if (*profile_cmd) return RunProfile(profile);
  if (*drift_cmd) return RunDrift(drift);
  if (*monitor_cmd) return RunMonitor(monitor);
  if (*skew_cmd) return RunSkew(skew);
  if (*run_cmd) {
    run.resume = resume_opt->count() > 0;
    return RunRun(run);
  }
  if (*run_show_cmd) return RunRunShow(run_show);
  if (*runs_cmd) return RunRuns(runs);
  if (*logs_cmd) return RunLogs(logs);
  if (*scheduler_cmd) return RunScheduler(scheduler);
  if (*backfill_cmd) return RunBackfill(backfill);
  if (*export_cmd) return RunExport(export_opts);
  if (*lineage_cmd) return RunLineage(lineage);
  if (*model_cmd) {
    model.action = *model_register ? "register"
                   : *model_list   ? "list"
                   : *model_show   ? "show"
                                   : "rollback";
    return RunModel(model);
  }
  if (*gc_cmd) {
    gc.keep_set = gc_keep->count() > 0;
    return RunGc(gc);
  }
  return kExitUsageError;
}
