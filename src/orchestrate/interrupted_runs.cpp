#include "orchestrate/interrupted_runs.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <fstream>
#include <iterator>
#include <sstream>

#include "base/log.h"
#include "orchestrate/child_process.h"

namespace sluice::orchestrate {
namespace {

pid_t ParsePid(const std::string& text) {
  pid_t pid = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  return ec == std::errc() && ptr == text.data() + text.size() ? pid : -1;
}

// The process group of `pid` from /proc (field 5 of stat), or -1.
pid_t GroupOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 1));
  std::string state, ppid, pgrp;
  if (!(fields >> state >> ppid >> pgrp)) return -1;
  return ParsePid(pgrp);
}

// Whether `pid`'s environment holds every one of `entries` ("KEY=value").
bool HasEnvironment(pid_t pid, const std::vector<std::string>& entries) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  if (!in) return false;
  const std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& e : entries) {
    const std::string needle = e + '\0';
    const bool first = env.compare(0, needle.size(), needle) == 0;
    if (!first && env.find('\0' + needle) == std::string::npos) return false;
  }
  return true;
}

std::vector<pid_t> ProcessesInGroup(pid_t pgid) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* e = ::readdir(dir)) {
    const pid_t pid = ParsePid(e->d_name);
    if (pid > 0 && GroupOf(pid) == pgid) out.push_back(pid);
  }
  ::closedir(dir);
  return out;
}

// Kills what is left of one step attempt; returns a description of what was killed, or "".
std::string KillLeftovers(const registry::StepAttempt& a) {
  if (a.pid <= 1 || a.process_start.empty()) return "";
  const auto pid = static_cast<pid_t>(a.pid);
  if (pid == ::getpid()) return "";
  // The group leader, still the process the run started (alive, or a zombie nobody reaped): its
  // group is the step's, since the kernel keeps a pid from reuse while its group exists.
  if (ProcessStartId(pid) == a.process_start && GroupOf(pid) == pid) {
    if (::kill(-pid, SIGKILL) == 0) return "process group " + std::to_string(pid);
    return "";
  }
  // The leader is gone (or is another process now). The kernel does not hand out a pid while a
  // group of that id exists, but the group may be a newer one: kill only members that carry
  // this run's and step's environment and started in the same boot.
  const std::string boot = a.process_start.substr(0, a.process_start.find('/'));
  const std::vector<std::string> env = {"SLUICE_RUN_ID=" + std::to_string(a.run_id),
                                        "SLUICE_STEP=" + a.step};
  std::string killed;
  for (pid_t member : ProcessesInGroup(pid)) {
    auto id = ProcessStartId(member);
    if (!id || id->substr(0, id->find('/')) != boot) continue;
    if (!HasEnvironment(member, env)) continue;
    if (::kill(member, SIGKILL) == 0)
      killed += (killed.empty() ? "" : ",") + std::to_string(member);
  }
  return killed.empty() ? "" : "processes " + killed + " of group " + std::to_string(pid);
}

}  // namespace

base::Result<Recovery> RecoverInterruptedRuns(registry::PipelineHistory& history,
                                              const std::string& now) {
  Recovery out;
  SLUICE_ASSIGN_OR_RETURN(out.runs, history.RecoverInterrupted(now));
  for (std::int64_t run : out.runs) {
    auto attempts = history.Attempts(run);
    if (!attempts.ok()) {
      base::LogWarn("run " + std::to_string(run) + " was interrupted, but its attempts cannot be " +
                    "read to stop their processes: " + attempts.status().ToString());
      continue;
    }
    for (const auto& a : *attempts) {
      if (a.status != "interrupted") continue;
      const std::string what = KillLeftovers(a);
      if (what.empty()) continue;
      out.killed.push_back("run " + std::to_string(run) + " step " + a.step + ": " + what);
      base::LogWarn("run " + std::to_string(run) + " was interrupted (its sluice process is " +
                    "gone); killed what its step '" + a.step + "' left running: " + what);
    }
  }
  return out;
}

}  // namespace sluice::orchestrate
