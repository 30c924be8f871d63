#include "base/kill_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include <cstdlib>
#include <string>

namespace sluice::base {

namespace {

// Whether the comma-separated list `armed` names `name`.
bool Names(std::string_view armed, std::string_view name) {
  while (!armed.empty()) {
    const size_t comma = armed.find(',');
    if (armed.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    armed.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

// The environment is read at each call, not once: a kill point sits on a step that does file
// I/O, next to which getenv costs nothing, and a test may arm a point in a forked child.
bool KillPointArmed(std::string_view name) {
  const char* env = std::getenv("SLUICE_KILL_AT");
  return env != nullptr && !name.empty() && Names(env, name);
}

void KillPoint(std::string_view name) {
  if (!KillPointArmed(name)) return;
  // write(2), not stdio: nothing buffered may reach the disk after the "crash".
  const std::string line = "sluice: killed at " + std::string(name) + " (SLUICE_KILL_AT)\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(kKillPointExitCode);
}

void StallPoint(std::string_view name) {
  const char* env = std::getenv("SLUICE_STALL_AT");
  if (env == nullptr || name.empty() || !Names(env, name)) return;
  static std::atomic<bool> stalled{false};
  if (stalled.exchange(true)) return;
  const std::string line = "sluice: stalled at " + std::string(name) + " (SLUICE_STALL_AT)\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  ::raise(SIGSTOP);
}

}  // namespace sluice::base
