#include "orchestrate/pipeline_runner.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <set>

#include "orchestrate/child_process.h"
#include "orchestrate/interrupted_runs.h"
#include "orchestrate/retry_policy.h"
#include "orchestrate/step_command.h"

namespace sluice::orchestrate {
namespace {

using base::ProcessingTime;
using Clock = base::Clock;

// With a clock other than the wall clock (tests), running children get this much real time to
// end before the clock is moved to the next deadline: timeouts and backoffs take no real time.
constexpr std::chrono::milliseconds kManualClockSlice{50};
// Without pidfds (old kernels), how often running children are checked.
constexpr std::chrono::milliseconds kFallbackPoll{10};

enum class State { kPending, kRunning, kSucceeded, kFailed, kSkipped, kReused };

struct StepRun {
  const config::StepSpec* spec = nullptr;
  State state = State::kPending;
  int attempts = 0;      // started so far
  int max_attempts = 1;  // 1 + retries
  base::Duration backoff{0};
  std::optional<base::Duration> timeout;
  std::optional<ProcessingTime> not_before;  // retry wait
  std::optional<ProcessingTime> deadline;    // timeout of the running attempt
  std::optional<ChildProcess> child;
  bool child_started = false;  // this attempt's process was started (observers saw it start)
  registry::StepAttempt record;
  std::vector<size_t> deps;  // indices of selected steps this one waits for
};

std::string Now(Clock& clock) {
  return base::FormatTime(clock.Now());
}

std::string DescribeExit(const ExitInfo& e) {
  if (e.exit_code) return "exit code " + std::to_string(*e.exit_code);
  if (e.signal) return "killed by signal " + std::to_string(e.signal);
  return "ended (status unknown)";
}

std::string StateName(State s) {
  switch (s) {
    case State::kPending:
      return "pending";
    case State::kRunning:
      return "running";
    case State::kSucceeded:
      return "succeeded";
    case State::kFailed:
      return "failed";
    case State::kSkipped:
      return "skipped";
    case State::kReused:
      return "reused";
  }
  return "unknown";
}

std::filesystem::path AbsolutePath(const std::filesystem::path& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return ec ? p : abs.lexically_normal();
}

bool Done(State s) {
  return s == State::kSucceeded || s == State::kReused;
}

class Runner {
 public:
  Runner(const RunRequest& request, const RunnerOptions& options, Clock& clock,
         registry::PipelineHistory& history)
      : req_(request),
        opt_(options),
        clock_(clock),
        history_(history),
        real_time_(dynamic_cast<base::SystemClock*>(&clock) != nullptr),
        project_dir_(AbsolutePath(request.project->dir)),
        log_dir_(AbsolutePath(options.log_dir)) {}

  base::Result<RunOutcome> Run() {
    SLUICE_RETURN_IF_ERROR(Plan());
    if (req_.recover_interrupted) {
      SLUICE_RETURN_IF_ERROR(RecoverInterruptedRuns(history_, Now(clock_)).status());
    }
    registry::PipelineRun run;
    run.pipeline = req_.pipeline->name;
    run.started_at = Now(clock_);
    run.resumed_from = req_.resume_from;
    run.trigger = req_.trigger;
    if (req_.interval) {
      run.interval_start = base::FormatTime(req_.interval->start);
      run.interval_end = base::FormatTime(req_.interval->end);
    }
    for (const auto& s : req_.steps)
      run.params.emplace_back("step", s);
    for (const auto& [k, v] : req_.vars)
      run.params.emplace_back("var." + k, v);
    run.params.insert(run.params.end(), req_.params.begin(), req_.params.end());
    SLUICE_ASSIGN_OR_RETURN(run_id_, history_.BeginRun(run, LockKey(req_)));
    rng_.seed(opt_.jitter_seed.value_or(static_cast<std::uint64_t>(run_id_)));
    if (opt_.on_run_started) opt_.on_run_started(run_id_);
    if (opt_.observer) opt_.observer->RunStarted(run_id_);

    base::Status loop = Reuse();
    if (loop.ok()) loop = Loop();
    RunOutcome out;
    out.run_id = run_id_;
    bool all_ok = true;
    for (const auto& s : steps_) {
      out.steps[s.spec->name] = StateName(s.state);
      all_ok = all_ok && Done(s.state);
    }
    out.status = stopped_ ? "interrupted" : all_ok ? "succeeded" : "failed";
    std::string error = loop.ok() ? FailureSummary() : loop.ToString();
    if (!loop.ok()) out.status = "failed";
    SLUICE_RETURN_IF_ERROR(history_.FinishRun(run_id_, out.status, Now(clock_), error));
    if (opt_.observer) opt_.observer->RunEnded(run_id_, out.status, error);
    if (!loop.ok()) return loop;
    return out;
  }

 private:
  base::Status Plan() {
    const auto& p = *req_.pipeline;
    std::set<std::string> selected(req_.steps.begin(), req_.steps.end());
    for (const auto& name : selected) {
      const bool known = std::any_of(p.steps.begin(), p.steps.end(),
                                     [&](const config::StepSpec& s) { return s.name == name; });
      if (!known) {
        return base::InvalidArgument("pipeline '" + p.name + "' has no step '" + name + "'");
      }
    }
    std::map<std::string, size_t> index;
    for (const auto& s : p.steps) {
      if (!selected.empty() && !selected.count(s.name)) continue;
      StepRun r;
      r.spec = &s;
      r.max_attempts = req_.no_retries ? 1 : 1 + static_cast<int>(s.retries.value_or(p.retries));
      r.backoff = s.retry_backoff.value_or(p.retry_backoff);
      r.timeout = s.timeout ? s.timeout : p.timeout;
      index[s.name] = steps_.size();
      steps_.push_back(std::move(r));
    }
    for (auto& r : steps_) {
      for (const auto& d : r.spec->depends_on) {
        if (auto it = index.find(d); it != index.end()) r.deps.push_back(it->second);
      }
    }
    concurrency_ = req_.concurrency > 0 ? req_.concurrency : static_cast<int>(p.concurrency);
    concurrency_ = std::max(concurrency_, 1);
    return base::Status::Ok();
  }

  // Steps that succeeded in the run being resumed (or were reused by it) are not run again.
  base::Status Reuse() {
    if (req_.resume_from == 0) return base::Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(auto attempts, history_.Attempts(req_.resume_from));
    std::set<std::string> done;
    for (const auto& a : attempts) {
      if (a.status == "succeeded" || a.status == "reused") done.insert(a.step);
    }
    for (auto& s : steps_) {
      if (!done.count(s.spec->name)) continue;
      s.state = State::kReused;
      registry::StepAttempt a;
      a.run_id = run_id_;
      a.step = s.spec->name;
      a.status = "reused";
      a.started_at = a.finished_at = Now(clock_);
      a.error = "succeeded in run " + std::to_string(req_.resume_from);
      SLUICE_RETURN_IF_ERROR(history_.BeginAttempt(a).status());
      Emit(StepEvent::Kind::kReused, s, a.error);
    }
    return base::Status::Ok();
  }

  void Emit(StepEvent::Kind kind, const StepRun& s, std::string detail) {
    if (!opt_.on_event) return;
    StepEvent e;
    e.kind = kind;
    e.step = s.spec->name;
    e.attempt = s.attempts;
    e.detail = std::move(detail);
    e.log_path = s.record.log_path;
    opt_.on_event(e);
  }

  base::Status Loop() {
    while (true) {
      if (opt_.stop && opt_.stop->load()) return Stop();
      SLUICE_RETURN_IF_ERROR(StartReady());
      const bool running = std::any_of(steps_.begin(), steps_.end(),
                                       [](const StepRun& s) { return s.state == State::kRunning; });
      const bool waiting = std::any_of(steps_.begin(), steps_.end(), [](const StepRun& s) {
        return s.state == State::kPending && s.not_before.has_value();
      });
      if (!running && !waiting) break;  // everything left is terminal or blocked for good
      Wait();
      SLUICE_RETURN_IF_ERROR(Reap());
    }
    // Pending steps whose upstream never succeeded were skipped when it failed; any left here
    // depend on nothing runnable, which validation rules out (no cycles).
    return base::Status::Ok();
  }

  int Running() const {
    return static_cast<int>(std::count_if(
        steps_.begin(), steps_.end(), [](const StepRun& s) { return s.state == State::kRunning; }));
  }

  base::Status StartReady() {
    const ProcessingTime now = clock_.Now();
    for (auto& s : steps_) {
      if (Running() >= concurrency_) break;
      if (s.state != State::kPending) continue;
      if (s.not_before && now < *s.not_before) continue;
      const bool ready = std::all_of(s.deps.begin(), s.deps.end(),
                                     [&](size_t d) { return Done(steps_[d].state); });
      if (!ready) continue;
      SLUICE_RETURN_IF_ERROR(StartAttempt(s));
    }
    return base::Status::Ok();
  }

  std::vector<std::string> StepEnv(const StepRun& s) const {
    std::vector<std::string> env = {
        "SLUICE_PIPELINE=" + req_.pipeline->name,
        "SLUICE_RUN_ID=" + std::to_string(run_id_),
        "SLUICE_STEP=" + s.spec->name,
        "SLUICE_ATTEMPT=" + std::to_string(s.attempts),
        "SLUICE_PROJECT_DIR=" + project_dir_.string(),
    };
    if (req_.interval) {
      env.push_back("SLUICE_INTERVAL_START=" + base::FormatTime(req_.interval->start));
      env.push_back("SLUICE_INTERVAL_END=" + base::FormatTime(req_.interval->end));
    }
    for (const auto& [k, v] : req_.vars)
      env.push_back("SLUICE_VAR_" + k + "=" + v);
    return env;
  }

  base::Status StartAttempt(StepRun& s) {
    ++s.attempts;
    s.child_started = false;
    s.not_before.reset();
    s.record = registry::StepAttempt{};
    s.record.run_id = run_id_;
    s.record.step = s.spec->name;
    s.record.attempt = s.attempts;
    s.record.status = "running";
    s.record.started_at = Now(clock_);
    s.record.log_path = (log_dir_ / std::to_string(run_id_) /
                         (s.spec->name + "." + std::to_string(s.attempts) + ".log"))
                            .string();
    ProcessSpec ps;
    StepValues values;
    if (req_.interval) {
      values.interval.emplace(base::FormatTime(req_.interval->start),
                              base::FormatTime(req_.interval->end));
    }
    values.vars = req_.vars;
    ps.argv = StepArgv(*s.spec, project_dir_, opt_.sluice_binary, values);
    ps.cwd = project_dir_;
    ps.log_path = s.record.log_path;
    ps.env = StepEnv(s);
    auto child = ChildProcess::Start(ps);
    // Recorded once the process exists, with its pid: one registry write per start.
    if (child.ok()) {
      s.record.pid = child->pid();
      s.record.process_start = ProcessStartId(child->pid()).value_or("");
    }
    SLUICE_ASSIGN_OR_RETURN(s.record.id, history_.BeginAttempt(s.record));
    if (!child.ok()) {
      s.record.error = child.status().ToString();
      return AttemptFailed(s, false);
    }
    s.child.emplace(std::move(child).value());
    s.child_started = true;
    s.state = State::kRunning;
    if (s.timeout) s.deadline = clock_.Now() + *s.timeout;
    Emit(StepEvent::Kind::kStarted, s, "");
    if (opt_.observer) opt_.observer->StepStarted(*s.spec, s.attempts);
    return base::Status::Ok();
  }

  // The earliest timeout or retry time, if any.
  std::optional<ProcessingTime> NextDeadline() const {
    std::optional<ProcessingTime> next;
    for (const auto& s : steps_) {
      std::optional<ProcessingTime> t;
      if (s.state == State::kRunning) t = s.deadline;
      if (s.state == State::kPending) t = s.not_before;
      if (t && (!next || *t < *next)) next = t;
    }
    return next;
  }

  // Blocks until a child may have ended or the next deadline is due.
  void Wait() {
    std::vector<pollfd> fds;
    bool have_all_fds = true;
    for (const auto& s : steps_) {
      if (s.state != State::kRunning) continue;
      if (s.child->wait_fd() < 0) have_all_fds = false;
      fds.push_back({s.child->wait_fd(), POLLIN, 0});
    }
    const auto deadline = NextDeadline();
    int timeout_ms = -1;
    if (!real_time_) {
      timeout_ms = fds.empty() ? 0 : static_cast<int>(kManualClockSlice.count());
    } else if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock_.Now());
      timeout_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
    }
    if (!have_all_fds && (timeout_ms < 0 || timeout_ms > kFallbackPoll.count())) {
      timeout_ms = static_cast<int>(kFallbackPoll.count());
    }
    int ready = 0;
    if (!fds.empty() || timeout_ms > 0) {
      ready = ::poll(fds.empty() ? nullptr : fds.data(), fds.size(), timeout_ms);
    }
    if (ready == 0 && !real_time_ && deadline) clock_.SleepUntil(*deadline);
  }

  base::Status Reap() {
    const ProcessingTime now = clock_.Now();
    for (auto& s : steps_) {
      if (s.state != State::kRunning) continue;
      if (auto ended = s.child->TryReap()) {
        s.record.exit_code = ended->exit_code;
        s.child.reset();
        if (ended->exit_code == 0) {
          SLUICE_RETURN_IF_ERROR(AttemptSucceeded(s));
        } else {
          s.record.error = DescribeExit(*ended);
          SLUICE_RETURN_IF_ERROR(AttemptFailed(s, false));
        }
      } else if (s.deadline && now >= *s.deadline) {
        s.child->KillGroupAndReap();
        s.child.reset();
        s.record.error = "timed out after " + base::FormatDuration(*s.timeout) +
                         "; its process group was killed";
        SLUICE_RETURN_IF_ERROR(AttemptFailed(s, true));
      }
    }
    return base::Status::Ok();
  }

  base::Status AttemptSucceeded(StepRun& s) {
    s.state = State::kSucceeded;
    s.record.status = "succeeded";
    s.record.finished_at = Now(clock_);
    SLUICE_RETURN_IF_ERROR(history_.FinishAttempt(s.record));
    Emit(StepEvent::Kind::kSucceeded, s, "");
    if (opt_.observer) opt_.observer->StepEnded(*s.spec, s.attempts, true, "");
    return base::Status::Ok();
  }

  base::Status AttemptFailed(StepRun& s, bool timed_out) {
    s.record.status = timed_out ? "timed_out" : "failed";
    s.record.timed_out = timed_out;
    s.record.finished_at = Now(clock_);
    s.deadline.reset();
    SLUICE_RETURN_IF_ERROR(history_.FinishAttempt(s.record));
    Emit(timed_out ? StepEvent::Kind::kTimedOut : StepEvent::Kind::kFailed, s, s.record.error);
    if (opt_.observer && s.child_started)
      opt_.observer->StepEnded(*s.spec, s.attempts, false, s.record.error);
    if (s.attempts < s.max_attempts) {
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      const base::Duration delay =
          RetryDelay(s.attempts, s.backoff, req_.pipeline->retry_backoff_max, unit(rng_));
      s.state = State::kPending;
      s.not_before = clock_.Now() + delay;
      Emit(StepEvent::Kind::kRetrying, s, base::FormatDuration(delay));
      return base::Status::Ok();
    }
    s.state = State::kFailed;
    return SkipDependents(s);
  }

  // Every pending step downstream of `failed` is skipped, recorded with the reason.
  base::Status SkipDependents(const StepRun& failed) {
    bool changed = true;
    while (changed) {
      changed = false;
      for (auto& s : steps_) {
        if (s.state != State::kPending) continue;
        for (size_t d : s.deps) {
          const State ds = steps_[d].state;
          if (ds != State::kFailed && ds != State::kSkipped) continue;
          s.state = State::kSkipped;
          registry::StepAttempt a;
          a.run_id = run_id_;
          a.step = s.spec->name;
          a.status = "skipped";
          a.started_at = a.finished_at = Now(clock_);
          a.error = "upstream step '" + steps_[d].spec->name + "' " +
                    (ds == State::kFailed ? "failed" : "was skipped");
          SLUICE_RETURN_IF_ERROR(history_.BeginAttempt(a).status());
          Emit(StepEvent::Kind::kSkipped, s, a.error);
          changed = true;
          break;
        }
      }
    }
    (void)failed;
    return base::Status::Ok();
  }

  base::Status Stop() {
    stopped_ = true;
    for (auto& s : steps_) {
      if (s.state != State::kRunning) continue;
      s.child->KillGroupAndReap();
      s.child.reset();
      s.state = State::kFailed;
      s.record.status = "interrupted";
      s.record.error = "stopped: sluice run was interrupted";
      s.record.finished_at = Now(clock_);
      SLUICE_RETURN_IF_ERROR(history_.FinishAttempt(s.record));
      if (opt_.observer) opt_.observer->StepEnded(*s.spec, s.attempts, false, s.record.error);
    }
    return base::Status::Ok();
  }

  std::string FailureSummary() const {
    if (stopped_) return "interrupted by a signal";
    std::string out;
    for (const auto& s : steps_) {
      if (s.state != State::kFailed) continue;
      if (!out.empty()) out += "; ";
      out += s.spec->name + ": " + s.record.error;
    }
    return out;
  }

  const RunRequest& req_;
  const RunnerOptions& opt_;
  Clock& clock_;
  registry::PipelineHistory& history_;
  const bool real_time_;
  // Absolute: steps run with the project as working directory, so `-p examples/fraud` would
  // name examples/fraud/examples/fraud there.
  const std::filesystem::path project_dir_;
  const std::filesystem::path log_dir_;
  std::vector<StepRun> steps_;
  int concurrency_ = 1;
  std::int64_t run_id_ = 0;
  std::mt19937_64 rng_;
  bool stopped_ = false;
};

}  // namespace

std::string LockKey(const RunRequest& request) {
  std::string key = request.pipeline->name;
  if (!request.steps.empty()) {
    std::vector<std::string> steps = request.steps;
    std::sort(steps.begin(), steps.end());
    key += "[";
    for (size_t i = 0; i < steps.size(); ++i)
      key += (i ? "," : "") + steps[i];
    key += "]";
  }
  if (request.interval) key += "@" + base::FormatTime(request.interval->start);
  return key;
}

base::Result<RunOutcome> RunPipeline(const RunRequest& request, const RunnerOptions& options,
                                     base::Clock& clock, registry::PipelineHistory& history) {
  if (!request.project || !request.pipeline) {
    return base::InvalidArgument("RunPipeline needs a project and a pipeline");
  }
  return Runner(request, options, clock, history).Run();
}

}  // namespace sluice::orchestrate
