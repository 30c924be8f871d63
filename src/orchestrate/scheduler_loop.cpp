#include "orchestrate/scheduler_loop.h"

#include <poll.h>

#include <algorithm>
#include <list>

#include "orchestrate/child_process.h"

namespace sluice::orchestrate {
namespace {

constexpr std::chrono::milliseconds kManualClockSlice{50};

void Say(const SchedulerOptions& o, const std::string& line) {
  if (o.on_message) o.on_message(line);
}

}  // namespace

base::Result<std::vector<ScheduledPipeline>> ScheduledPipelines(
    const config::ProjectSpec& project, const std::filesystem::path& zoneinfo) {
  std::vector<ScheduledPipeline> out;
  for (const auto& p : project.pipelines) {
    if (!p.schedule && p.on_new_version.empty()) continue;
    ScheduledPipeline s;
    s.name = p.name;
    if (p.schedule) {
      auto c = base::ParseCronSchedule(*p.schedule);
      if (!c.ok()) return c.status().WithContext("pipeline '" + p.name + "'");
      s.schedule = *c;
    }
    if (p.timezone) {
      auto z = TimeZone::Load(*p.timezone, zoneinfo);
      if (!z.ok()) return z.status().WithContext("pipeline '" + p.name + "'");
      s.zone = *z;
    }
    s.catchup = p.catchup == "all"      ? CatchUp::kAll
                : p.catchup == "latest" ? CatchUp::kLatest
                                        : CatchUp::kNone;
    s.max_active_runs = static_cast<int>(std::max<std::int64_t>(1, p.max_active_runs));
    s.on_new_version = p.on_new_version;
    out.push_back(std::move(s));
  }
  return out;
}

base::Result<std::map<std::string, base::ProcessingTime>> LastFires(
    registry::PipelineHistory& history, const std::vector<ScheduledPipeline>& pipelines) {
  std::map<std::string, base::ProcessingTime> out;
  for (const auto& p : pipelines) {
    SLUICE_ASSIGN_OR_RETURN(auto runs, history.Runs(p.name, 500));
    for (const auto& r : runs) {
      for (const auto& [k, v] : r.params) {
        if (k != "scheduled_at") continue;
        auto t = base::ParseTimestampMicros(v);
        if (!t.ok()) continue;
        const base::ProcessingTime fire{base::Duration(*t)};
        auto [it, inserted] = out.emplace(p.name, fire);
        if (!inserted && it->second < fire) it->second = fire;
      }
    }
  }
  return out;
}

base::Status RunScheduler(const SchedulerOptions& o, base::Clock& clock,
                          registry::PipelineHistory& history) {
  if (!o.project) return base::InvalidArgument("RunScheduler needs a project");
  SLUICE_ASSIGN_OR_RETURN(auto pipelines, ScheduledPipelines(*o.project));
  if (pipelines.empty()) {
    return base::FailedPrecondition(
        "no pipeline has a schedule or on_new_version; nothing to schedule");
  }
  SLUICE_ASSIGN_OR_RETURN(auto last, LastFires(history, pipelines));
  for (const auto& p : pipelines) {
    std::string what = p.schedule ? "schedule" : "";
    if (!p.on_new_version.empty()) {
      what += std::string(what.empty() ? "" : " and ") + "new versions of";
      for (const auto& s : p.on_new_version)
        what += " " + s;
    }
    Say(o, "scheduling pipeline " + p.name + " (" + what + ")");
  }
  Scheduler scheduler(std::move(pipelines), clock.Now(), std::move(last), o.version_of);
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::absolute(o.project->dir, ec);
  const bool real_time = dynamic_cast<base::SystemClock*>(&clock) != nullptr;
  struct Running {
    std::string pipeline;
    ChildProcess child;
  };
  std::list<Running> running;
  int started = 0;
  bool first_round = true;
  while (!(o.stop && o.stop->load())) {
    if (!o.once || first_round) {
      for (auto& l : scheduler.Tick(clock.Now())) {
        ProcessSpec ps;
        ps.argv = {o.sluice_binary.string(),
                   "run",
                   l.pipeline,
                   "-p",
                   (ec ? o.project->dir : dir).string(),
                   "--trigger",
                   l.trigger};
        if (l.scheduled_at) {
          ps.argv.push_back("--scheduled-at");
          ps.argv.push_back(base::FormatTime(*l.scheduled_at));
        }
        ps.cwd = ec ? o.project->dir : dir;
        ps.log_path = o.log_dir / (l.pipeline + "." + std::to_string(++started) + ".log");
        auto child = ChildProcess::Start(ps);
        if (!child.ok()) {
          Say(o, "cannot start pipeline " + l.pipeline + ": " + child.status().ToString());
          scheduler.Finished(l.pipeline);
          continue;
        }
        Say(o, "started pipeline " + l.pipeline + " (" + l.trigger +
                   (l.scheduled_at ? " " + base::FormatTime(*l.scheduled_at) : "") +
                   "), output in " + ps.log_path.string());
        running.push_back({l.pipeline, std::move(child).value()});
      }
      first_round = false;
    }
    if (o.once && running.empty()) break;
    // Sleep until the next fire, the next source poll, or a run ending.
    std::vector<pollfd> fds;
    for (auto& r : running)
      fds.push_back({r.child.wait_fd(), POLLIN, 0});
    base::ProcessingTime wake = clock.Now() + o.poll;
    if (auto next = scheduler.NextWake(); next && *next < wake) wake = *next;
    int timeout_ms;
    if (real_time) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - clock.Now());
      timeout_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
    } else {
      timeout_ms = fds.empty() ? 0 : static_cast<int>(kManualClockSlice.count());
    }
    const bool no_pidfd =
        std::any_of(fds.begin(), fds.end(), [](const pollfd& f) { return f.fd < 0; });
    if (no_pidfd) timeout_ms = std::min(timeout_ms, 10);
    int ready = 0;
    if (!fds.empty() || timeout_ms > 0) ready = ::poll(fds.data(), fds.size(), timeout_ms);
    // A manual clock (tests) moves only while no run is going: runs take real time, and the
    // clock must not race past fires while one is still starting up.
    if (!real_time && ready == 0 && fds.empty()) clock.SleepUntil(wake);
    for (auto it = running.begin(); it != running.end();) {
      if (auto e = it->child.TryReap()) {
        Say(o,
            "pipeline " + it->pipeline + " run ended: " +
                (e->exit_code ? (*e->exit_code == 0 ? std::string("succeeded")
                                                    : "exit code " + std::to_string(*e->exit_code))
                              : "killed by signal " + std::to_string(e->signal)));
        scheduler.Finished(it->pipeline);
        it = running.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Runs already started finish on their own; the next scheduler sees them in the history.
  for (auto& r : running)
    r.child.Detach();
  return base::Status::Ok();
}

}  // namespace sluice::orchestrate
