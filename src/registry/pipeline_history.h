#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

// Pipeline runs, their step attempts and the per-pipeline run lock, in the registry's SQLite
// file. Kept apart from registry.h's verb runs: its own tables and its own schema version
// (table `registry_parts`, part "pipelines"), so neither migrates the other.
namespace sluice::registry {

// One execution of a pipeline (or of one partition of it).
struct PipelineRun {
  std::int64_t id = 0;
  std::string pipeline;
  std::string status;  // "running", "succeeded", "failed", "interrupted"
  std::int64_t pid = 0;
  std::string host;
  std::string started_at;  // ISO-8601 processing time
  std::string finished_at;
  std::int64_t resumed_from = 0;  // the run this one resumes; 0 = none
  std::string trigger;            // "manual", "schedule", "backfill", "source:<name>"
  std::string interval_start;     // partitioned runs only
  std::string interval_end;
  std::string error;
  // --var k=v and --step S, as given (name "var.<k>" or "step").
  std::vector<std::pair<std::string, std::string>> params;
};

// One try of one step. Steps never tried get one row too: attempt 0, status "skipped" (an
// upstream step failed) or "reused" (succeeded in the run this one resumes).
struct StepAttempt {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::string step;
  int attempt = 0;
  std::string status;  // "running", "succeeded", "failed", "timed_out", "interrupted",
                       // "skipped", "reused"
  std::string started_at;
  std::string finished_at;
  std::optional<int> exit_code;
  std::string error;
  bool timed_out = false;
  std::string log_path;
  std::int64_t pid = 0;       // also its process group (steps lead their own)
  std::string process_start;  // which process `pid` was: "<boot id>/<start time ticks>"
};

// Who holds a pipeline's run lock.
struct LockHolder {
  std::string key;
  std::int64_t run_id = 0;
  std::int64_t pid = 0;
  std::string host;
  std::string acquired_at;
};

class PipelineHistory {
 public:
  static base::Result<PipelineHistory> Open(const std::filesystem::path& path);
  PipelineHistory(PipelineHistory&&) noexcept;
  PipelineHistory& operator=(PipelineHistory&&) noexcept;
  ~PipelineHistory();

  // Runs left "running" by a process of this host that no longer exists become "interrupted"
  // (with their running attempts) and their locks are released. Returns their ids.
  base::Result<std::vector<std::int64_t>> RecoverInterrupted(const std::string& now);

  // Records `run` as running under the lock `lock_key` (the pipeline, or pipeline@partition).
  // FailedPrecondition naming the holder (pid, host, run id) when a live process holds it; a
  // lock of a dead process on this host is taken over after its run is marked interrupted.
  base::Result<std::int64_t> BeginRun(const PipelineRun& run, const std::string& lock_key);
  // Stores the final status and releases the run's lock.
  base::Status FinishRun(std::int64_t id, const std::string& status, const std::string& finished_at,
                         const std::string& error);

  base::Result<std::int64_t> BeginAttempt(const StepAttempt& attempt);
  base::Status FinishAttempt(const StepAttempt& attempt);  // by id
  base::Status UpdateAttemptPid(std::int64_t attempt_id, std::int64_t pid);

  // Newest first; `pipeline` empty = all.
  base::Result<std::vector<PipelineRun>> Runs(const std::string& pipeline, int limit = 50);
  base::Result<std::optional<PipelineRun>> Run(std::int64_t id);
  // In the order they were recorded.
  base::Result<std::vector<StepAttempt>> Attempts(std::int64_t run_id);
  base::Result<std::optional<LockHolder>> Lock(const std::string& key);
  // interval_start of every succeeded partitioned run of `pipeline` (what a backfill skips).
  base::Result<std::set<std::string>> SucceededIntervals(const std::string& pipeline);

 private:
  struct Handle;
  explicit PipelineHistory(std::unique_ptr<Handle> handle);
  base::Status ReadParams(PipelineRun& run);
  std::unique_ptr<Handle> handle_;
};

// This machine's host name (for lock holders).
std::string HostName();

}  // namespace sluice::registry
