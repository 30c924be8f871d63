#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::cli {

// Each command takes its parsed options and returns a process exit code (see exit_code.h).
// Flag parsing lives in main.cpp, the only file that sees CLI11.

struct InitOptions {
  std::string dir;
  bool force = false;  // write into a non-empty folder, replacing template files
};
int RunInit(const InitOptions& options);

struct CheckOptions {
  std::string project = ".";
};
int RunCheck(const CheckOptions& options);

struct DemoDataOptions {
  std::string project = ".";
  std::string out;  // default: <project>/data
  std::int64_t transactions = 100'000;
  std::uint64_t seed = 42;
  std::string formats = "csv,jsonl,parquet";
};
int RunDemoData(const DemoDataOptions& options);

struct IngestOptions {
  std::string project = ".";
  std::vector<std::string> sources;  // empty: every source of the project
  int threads = 0;                   // DuckDB threads; 0 = all cores
};
int RunIngest(const IngestOptions& options);

struct VersionsOptions {
  std::string project = ".";
  std::string dataset;  // empty: every dataset
  bool json = false;
};
int RunVersions(const VersionsOptions& options);

struct ShowOptions {
  std::string project = ".";
  std::string version;  // id or unique prefix
  int quarantine = 10;  // quarantined rows to print
};
int RunShow(const ShowOptions& options);

struct TrainingSetCommandOptions {
  std::string project = ".";
  std::string name;
  std::string out;     // default: <project>/output
  int threads = 0;     // 0 = all cores
  int partitions = 0;  // 0 = from the data size
  std::int64_t memory_budget_mib = 2048;
  bool refit = false;
};
int RunTrainingSet(const TrainingSetCommandOptions& options);

struct ReproduceOptions {
  std::string project = ".";
  std::string version;
  int threads = 0;
};
int RunReproduce(const ReproduceOptions& options);

struct MaterializeOptions {
  std::string project = ".";
  std::vector<std::string> views;  // empty: every feature view
  std::string store;               // empty: the first online store
  int threads = 0;
  bool force = false;  // write even when the source and definition are unchanged
};
int RunMaterialize(const MaterializeOptions& options);

struct GetOptions {
  std::string project = ".";
  std::string view;
  std::string key;                    // "a" or "a,b" for composite keys
  std::string at;                     // ISO-8601; empty = now
  std::vector<std::string> features;  // empty: all
  std::string store;
};
int RunGet(const GetOptions& options);

struct ServeOptions {
  std::string project = ".";
  std::string address = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  std::string token_env;  // name of the environment variable holding the bearer token
  int threads = 0;        // HTTP event-loop threads (each serves many connections); 0 = cores
  std::string store;      // the store view requests read; empty = the first
  int refresh_ms = 1000;  // how often store metadata is re-read (new materializations)
  // Ignore monitoring.serving_log for this run.
  bool no_serving_log = false;
  // How often monitoring.freshness SLOs are checked and alerted on ("0s": never).
  std::string freshness_interval = "10s";
};
int RunServe(const ServeOptions& options);

struct UiOptions {
  std::string project = ".";
  std::string address = "127.0.0.1:8090";  // HOST:PORT; loopback; port 0 picks a free one
  std::string token_env;                   // as for serve: the variable holding the token
};
int RunUi(const UiOptions& options);

struct BuildOptions {
  std::string project = ".";
  std::vector<std::string> models;  // "name" or "+name" (with its upstream); empty: all
  int jobs = 0;                     // models built at once; 0: one per core (at most 4)
  bool full_refresh = false;        // rebuild even unchanged models; incremental from scratch
  // Values of {{ var('k') }}, {{ interval_start }}, {{ interval_end }} in the models' SQL.
  std::vector<std::string> vars;  // "k=v"
  std::string interval_start;     // both or neither
  std::string interval_end;
};
int RunBuild(const BuildOptions& options);

struct TestOptions {
  std::string project = ".";
  std::vector<std::string> models;  // "name" or "+name"; empty: all
  std::vector<std::string> vars;    // as for build
  std::string interval_start;
  std::string interval_end;
};
int RunTest(const TestOptions& options);

// `sluice stream`: follow a Kafka source, keep its streaming views online, archive the stream.
struct StreamCommandOptions {
  std::string project = ".";
  std::vector<std::string> views;         // empty: every view over a kafka source (one source)
  std::string store;                      // empty: the first online store
  bool stop_at_end = false;               // stop once caught up with the end offsets seen at start
  std::int64_t segment_rows = 1'000'000;  // lake segments roll at this many rows...
  int segment_seconds = 60;               // ...or this age
  std::string metrics;                    // HOST:PORT for GET /metrics; empty = none
  int idle_seconds = 30;                  // a silent partition stops holding back (0: never)
  int state_cache_mb = 256;               // decoded entity states kept per view (0: none)
  bool no_group = false;                  // shared store: take every partition, no group
};
int RunStream(const StreamCommandOptions& options);

struct ProfileOptions {
  std::string project = ".";
  std::string target;  // dataset name (its current version) or version id / prefix
  bool json = false;
  bool recompute = false;  // compute again even if a profile is stored
  std::string html;        // also write a self-contained HTML report here
  int threads = 0;
  std::string by;  // "hour" or "day": an append-only dataset's profile per period of landing
};
int RunProfile(const ProfileOptions& options);

struct DriftOptions {
  std::string project = ".";
  std::string reference;  // dataset, version, DATASET@-DURATION or DATASET[FROM,TO)
  std::string current;
  std::vector<std::string> columns;  // empty: every column
  std::string method;                // empty: monitoring.drift.method (default auto)
  bool json = false;
  bool fail_on_drift = false;  // exit 1 on dataset drift
  std::string html;            // write a self-contained HTML report here
  std::string label;           // concept drift: label rate per feature bin
  int threads = 0;
};
int RunDrift(const DriftOptions& options);

struct MonitorOptions {
  std::string project = ".";
  std::vector<std::string> monitors;  // empty: every declared monitor
  bool fail_on_alert = false;         // exit 1 when any monitor raised an alert
  bool json = false;
  int threads = 0;
};
int RunMonitor(const MonitorOptions& options);

struct SkewCommandOptions {
  std::string project = ".";
  std::string log;                 // serving log dataset or version; empty: the configured one
  std::vector<std::string> views;  // empty: every logged view
  std::string since;               // a duration: only rows served within it
  bool json = false;
  bool fail_on_skew = false;  // exit 1 on any difference
  int threads = 0;
};
int RunSkew(const SkewCommandOptions& options);

// --- pipelines (src/orchestrate) ---------------------------------------------------------------

struct RunOptions {
  std::string project = ".";
  std::string pipeline;
  std::vector<std::string> steps;  // only these steps; empty: all
  std::vector<std::string> vars;   // "k=v"
  bool resume = false;
  std::string resume_run;  // empty with resume: the pipeline's latest run
  int concurrency = 0;     // 0: the pipeline's
  std::string trigger = "manual";
  std::string scheduled_at;  // the fire time, for runs started by `sluice scheduler`
  bool no_retry = false;
};
int RunRun(const RunOptions& options);

struct SchedulerCommandOptions {
  std::string project = ".";
  bool once = false;  // start what is due now, wait for it, exit
  double poll_s = 5;  // how often source versions are looked at
};
int RunScheduler(const SchedulerCommandOptions& options);

struct BackfillOptions {
  std::string project = ".";
  std::string pipeline;
  std::string from;
  std::string to;
  int concurrency = 4;
  std::vector<std::string> vars;
};
int RunBackfill(const BackfillOptions& options);

struct ExportOptions {
  std::string project = ".";
  std::string tool;  // "airflow" or "dagster"
  std::string pipeline;
  std::string out;                // file; empty: stdout
  std::string sluice = "sluice";  // how the DAG's tasks call sluice
};
int RunExport(const ExportOptions& options);

struct LineageOptions {
  std::string project = ".";
  std::string node;  // a dataset name, version id (prefix), model:NAME or raw node
  bool upstream = false;
  bool downstream = false;
  bool dot = false;
  int depth = 50;
};
int RunLineage(const LineageOptions& options);

struct ModelOptions {
  std::string project = ".";
  std::string action;  // register, list, show, rollback
  std::string name;
  std::string training_set;          // register: a training-set version id or prefix
  std::string artifact;              // register: the model file
  std::vector<std::string> metrics;  // register: "k=v"
};
int RunModel(const ModelOptions& options);

struct RunsOptions {
  std::string project = ".";
  std::string pipeline;  // empty: all
  bool json = false;
  int limit = 20;
};
int RunRuns(const RunsOptions& options);

struct RunShowOptions {
  std::string project = ".";
  std::string run;
  bool json = false;
};
int RunRunShow(const RunShowOptions& options);

struct LogsOptions {
  std::string project = ".";
  std::string run;
  std::string step;  // empty: every step's last attempt
};
int RunLogs(const LogsOptions& options);
struct GcOptions {
  std::string project = ".";
  int keep = 1;
  bool keep_set = false;   // --keep given
  std::string older_than;  // a duration ("30d"); empty: not a rule
  std::string grace = "1h";
  bool dry_run = false;
};
int RunGc(const GcOptions& options);

}  // namespace sluice::cli
