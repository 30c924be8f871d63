#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/cron.h"
#include "base/time.h"
#include "orchestrate/schedule.h"
#include "orchestrate/time_zone.h"

namespace sluice::orchestrate {

// A pipeline as the scheduler sees it.
struct ScheduledPipeline {
  std::string name;
  std::optional<base::CronSchedule> schedule;
  TimeZone zone = TimeZone::Utc();
  CatchUp catchup = CatchUp::kNone;
  int max_active_runs = 1;
  std::vector<std::string> on_new_version;  // sources
};

// A run to start now.
struct Launch {
  std::string pipeline;
  std::string trigger;  // "schedule" or "source:<name>"
  std::optional<base::ProcessingTime> scheduled_at;
};

// The scheduler's decisions, without processes or sleeping (RunScheduler adds those): which
// fires are due, which source versions are new, and which runs may start given each pipeline's
// maximum of active runs (the rest wait, in order).
class Scheduler {
 public:
  // `last_fires`: each pipeline's latest scheduled fire already run (from the run history);
  // pipelines without one start counting at `start`. `version_of` returns a source's current
  // version id (nullopt if it has none); it is called once per source per Tick.
  Scheduler(std::vector<ScheduledPipeline> pipelines, base::ProcessingTime start,
            std::map<std::string, base::ProcessingTime> last_fires,
            std::function<std::optional<std::string>(const std::string& source)> version_of);

  std::vector<Launch> Tick(base::ProcessingTime now);
  // A run started by a Launch of `pipeline` has ended.
  void Finished(const std::string& pipeline);
  // When Tick next has something to do for a schedule (source versions need polling besides).
  std::optional<base::ProcessingTime> NextWake() const;
  int Active(const std::string& pipeline) const;
  size_t Queued(const std::string& pipeline) const;

 private:
  struct State {
    ScheduledPipeline spec;
    base::ProcessingTime last;  // fires up to here are handled
    std::map<std::string, std::optional<std::string>> versions;
    std::deque<Launch> queue;
    int active = 0;
  };
  std::vector<State> states_;
  std::function<std::optional<std::string>(const std::string&)> version_of_;
};

}  // namespace sluice::orchestrate
