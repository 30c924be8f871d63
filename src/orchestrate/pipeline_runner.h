#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "registry/pipeline_history.h"

namespace sluice::orchestrate {

// A partition's half-open interval [start, end), for partitioned pipelines and backfills.
struct Interval {
  base::ProcessingTime start;
  base::ProcessingTime end;
};

// What to run.
struct RunRequest {
  const config::ProjectSpec* project = nullptr;
  const config::PipelineSpec* pipeline = nullptr;
  std::vector<std::string> steps;  // only these (their dependencies count as done); empty: all
  std::vector<std::pair<std::string, std::string>> vars;  // --var k=v, as SLUICE_VAR_k
  std::int64_t resume_from = 0;     // a run id: its succeeded steps are reused, not run again
  int concurrency = 0;              // 0: the pipeline's
  bool no_retries = false;          // one attempt per step (an outer orchestrator retries)
  bool recover_interrupted = true;  // first mark runs of dead processes interrupted
  std::string trigger = "manual";
  std::optional<Interval> interval;
  std::vector<std::pair<std::string, std::string>> params;  // recorded too (scheduled_at)
};

// One thing that happened to a step, for progress output.
struct StepEvent {
  enum class Kind { kStarted, kSucceeded, kFailed, kTimedOut, kRetrying, kSkipped, kReused };
  Kind kind = Kind::kStarted;
  std::string step;
  int attempt = 0;
  std::string detail;  // the error, or the retry delay
  std::string log_path;
};

// Told as a run and its step attempts start and end (OpenLineage events hang off this).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void RunStarted(std::int64_t run_id) = 0;
  virtual void RunEnded(std::int64_t run_id, const std::string& status,
                        const std::string& error) = 0;
  virtual void StepStarted(const config::StepSpec& step, int attempt) = 0;
  virtual void StepEnded(const config::StepSpec& step, int attempt, bool succeeded,
                         const std::string& error) = 0;
};

// Lets one step at a time through, across the runs that share it (a backfill's partitions, each
// its own run on its own thread): the steps that open a single-writer store, the embedded DuckDB
// warehouse file (build, test) or a RocksDB online store (materialize), which one process at a
// time may hold. Other steps of those runs go on in parallel.
class StepGate {
 public:
  bool TryEnter();
  void Leave();

 private:
  std::mutex mu_;
  bool busy_ = false;
};

// Whether a step of this kind goes through a StepGate.
bool NeedsStoreGate(config::StepKind kind);

struct RunnerOptions {
  std::filesystem::path sluice_binary;  // runs the verb steps
  std::filesystem::path log_dir;        // <log_dir>/<run id>/<step>.<attempt>.log
  std::function<void(std::int64_t run_id)> on_run_started;
  std::function<void(const StepEvent&)> on_event;
  const std::atomic<bool>* stop = nullptr;   // set (e.g. by SIGINT): kill steps, run interrupted
  std::optional<std::uint64_t> jitter_seed;  // default: the run id
  RunObserver* observer = nullptr;
  StepGate* store_gate = nullptr;  // shared by concurrent runs; none: steps start when ready
};

struct RunOutcome {
  std::int64_t run_id = 0;
  std::string status;                        // "succeeded", "failed", "interrupted"
  std::map<std::string, std::string> steps;  // step -> final status
};

// Runs the pipeline's DAG: steps whose dependencies succeeded start, up to the concurrency, as
// child processes in their own process groups (cwd = the project folder, output to a log file
// per attempt). A failed attempt is retried after RetryDelay; an attempt past its timeout has its
// process group killed and counts as timed out. A step that fails for good skips its dependents;
// other branches go on. Every run and attempt is recorded in `history` as it happens.
// Errors are for things that stop the run from being recorded (registry, lock held by another
// live run, unknown steps); step failures are in the outcome.
base::Result<RunOutcome> RunPipeline(const RunRequest& request, const RunnerOptions& options,
                                     base::Clock& clock, registry::PipelineHistory& history);

// The lock a run holds: the pipeline, narrowed by its step selection and its interval, so
// Airflow's per-step tasks and a backfill's partitions do not block one another.
std::string LockKey(const RunRequest& request);

}  // namespace sluice::orchestrate
