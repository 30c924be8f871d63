#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace sluice::orchestrate {

// What to start: argv[0] is the program's path (no PATH search).
struct ProcessSpec {
  std::vector<std::string> argv;
  std::filesystem::path cwd;
  std::filesystem::path log_path;  // stdout and stderr, appended; stdin is /dev/null
  std::vector<std::string> env;    // "KEY=value", added to (or replacing in) this environment
};

// How a process ended: an exit code, or the signal that killed it.
struct ExitInfo {
  std::optional<int> exit_code;
  int signal = 0;
};

// Which process `pid` is: "<boot id>/<start time in clock ticks since boot>" from /proc, stable
// for the process's life (exec keeps it) and different for any later process given the same
// pid. nullopt when there is no such process (or no /proc).
std::optional<std::string> ProcessStartId(pid_t pid);

// A child process in its own process group, so a timeout or a stop kills everything it started
// (a shell's children too). The destructor kills and reaps a child still running: no zombies,
// no orphans left behind by an early return.
class ChildProcess {
 public:
  static base::Result<ChildProcess> Start(const ProcessSpec& spec);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // A descriptor that poll(2) reports readable when the child ends (a pidfd), or -1 when the
  // kernel has none (then callers poll by time).
  int wait_fd() const { return pidfd_; }
  // The exit status if the child has ended (reaps it), without blocking.
  std::optional<ExitInfo> TryReap();
  // SIGKILL to the whole process group, then reaps the child.
  ExitInfo KillGroupAndReap();
  // Lets the child run on after this object is gone (it is no longer killed or reaped here).
  void Detach();

 private:
  ChildProcess(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  void Release();
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<ExitInfo> ended_;
};

}  // namespace sluice::orchestrate
