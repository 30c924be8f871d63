#include "orchestrate/scheduler.h"

#include <algorithm>

namespace sluice::orchestrate {

Scheduler::Scheduler(std::vector<ScheduledPipeline> pipelines, base::ProcessingTime start,
                     std::map<std::string, base::ProcessingTime> last_fires,
                     std::function<std::optional<std::string>(const std::string&)> version_of)
    : version_of_(std::move(version_of)) {
  for (auto& p : pipelines) {
    State s;
    auto it = last_fires.find(p.name);
    s.last = it != last_fires.end() ? it->second : start;
    // Versions present at start are not news.
    for (const auto& src : p.on_new_version)
      s.versions[src] = version_of_ ? version_of_(src) : std::nullopt;
    s.spec = std::move(p);
    states_.push_back(std::move(s));
  }
}

std::vector<Launch> Scheduler::Tick(base::ProcessingTime now) {
  std::vector<Launch> out;
  for (auto& s : states_) {
    if (s.spec.schedule && now > s.last) {
      for (auto fire : DueFires(*s.spec.schedule, s.spec.zone, s.last, now, s.spec.catchup))
        s.queue.push_back({s.spec.name, "schedule", fire});
      s.last = now;
    }
    for (auto& [src, seen] : s.versions) {
      auto current = version_of_ ? version_of_(src) : std::nullopt;
      if (current == seen) continue;
      seen = current;
      if (!current) continue;
      // A burst of versions while runs wait is one more run, not one per version.
      const std::string trigger = "source:" + src;
      const bool waiting = std::any_of(s.queue.begin(), s.queue.end(),
                                       [&](const Launch& l) { return l.trigger == trigger; });
      if (!waiting) s.queue.push_back({s.spec.name, trigger, std::nullopt});
    }
    while (!s.queue.empty() && s.active < s.spec.max_active_runs) {
      out.push_back(std::move(s.queue.front()));
      s.queue.pop_front();
      ++s.active;
    }
  }
  return out;
}

void Scheduler::Finished(const std::string& pipeline) {
  for (auto& s : states_) {
    if (s.spec.name == pipeline && s.active > 0) --s.active;
  }
}

std::optional<base::ProcessingTime> Scheduler::NextWake() const {
  std::optional<base::ProcessingTime> next;
  for (const auto& s : states_) {
    if (!s.spec.schedule) continue;
    auto t = NextFire(*s.spec.schedule, s.spec.zone, s.last);
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

int Scheduler::Active(const std::string& pipeline) const {
  for (const auto& s : states_) {
    if (s.spec.name == pipeline) return s.active;
  }
  return 0;
}

size_t Scheduler::Queued(const std::string& pipeline) const {
  for (const auto& s : states_) {
    if (s.spec.name == pipeline) return s.queue.size();
  }
  return 0;
}

}  // namespace sluice::orchestrate
