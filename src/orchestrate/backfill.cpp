#include "orchestrate/backfill.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "base/workers.h"
#include "orchestrate/interrupted_runs.h"
#include "orchestrate/partition.h"

namespace sluice::orchestrate {

base::Result<BackfillProgress> RunBackfill(
    const BackfillRequest& req, const RunnerOptions& options,
    const std::filesystem::path& registry_path,
    const std::function<void(const BackfillProgress&)>& on_progress) {
  if (!req.project || !req.pipeline) return base::InvalidArgument("RunBackfill needs a pipeline");
  if (!req.pipeline->partition) {
    return base::InvalidArgument("pipeline '" + req.pipeline->name +
                                 "' declares no partition (hour or day), so it has nothing to "
                                 "backfill");
  }
  if (req.to <= req.from) {
    return base::InvalidArgument("--to (" + base::FormatTime(req.to) + ") must be after --from (" +
                                 base::FormatTime(req.from) + ")");
  }
  SLUICE_ASSIGN_OR_RETURN(auto length, PartitionLength(*req.pipeline->partition));
  const std::vector<Interval> all = PartitionsBetween(length, req.from, req.to);

  std::set<std::string> done;
  {
    SLUICE_ASSIGN_OR_RETURN(auto history, registry::PipelineHistory::Open(registry_path));
    // Once here rather than once per partition: runs would contend for the write lock.
    SLUICE_RETURN_IF_ERROR(
        RecoverInterruptedRuns(history, base::FormatTime(base::SystemClock::Instance().Now()))
            .status());
    SLUICE_ASSIGN_OR_RETURN(done, history.SucceededIntervals(req.pipeline->name));
  }
  std::vector<Interval> todo;
  for (const auto& i : all) {
    if (!done.count(base::FormatTime(i.start))) todo.push_back(i);
  }
  BackfillProgress progress;
  progress.total = static_cast<std::int64_t>(all.size());
  progress.done_before = progress.total - static_cast<std::int64_t>(todo.size());
  if (on_progress) on_progress(progress);

  std::atomic<size_t> next{0};
  std::mutex mu;
  base::Status first_error;
  const int workers = std::max(1, std::min<int>(req.concurrency, static_cast<int>(todo.size())));
  auto work = [&](int) {
    // One registry connection per thread: SQLite connections are not shared across threads.
    auto history = registry::PipelineHistory::Open(registry_path);
    if (!history.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (first_error.ok()) first_error = history.status();
      return;
    }
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= todo.size()) return;
      if (options.stop && options.stop->load()) return;
      RunRequest r;
      r.project = req.project;
      r.pipeline = req.pipeline;
      r.vars = req.vars;
      r.trigger = "backfill";
      r.interval = todo[i];
      r.recover_interrupted = false;
      RunnerOptions o = options;
      o.on_event = nullptr;  // per-step lines of thousands of runs would drown the progress
      o.on_run_started = nullptr;
      auto out = RunPipeline(r, o, base::SystemClock::Instance(), *history);
      std::lock_guard<std::mutex> lock(mu);
      if (!out.ok()) {
        if (first_error.ok()) first_error = out.status();
        ++progress.failed;
      } else if (out->status == "succeeded") {
        ++progress.succeeded;
      } else {
        ++progress.failed;
      }
      if (on_progress) on_progress(progress);
    }
  };
  base::RunWorkers(workers, work);
  if (!first_error.ok() && progress.succeeded == 0) return first_error;
  return progress;
}

}  // namespace sluice::orchestrate
