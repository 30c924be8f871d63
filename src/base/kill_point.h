#pragma once

#include <string_view>

namespace sluice::base {

// Named crash points for crash-safety tests. With SLUICE_KILL_AT=<name> in the environment (a
// comma-separated list names several), the process ends at once with _exit(kKillPointExitCode)
// the first time it reaches KillPoint(<name>): no destructor, flush or atexit handler runs, as
// after a kill -9 or a power cut at that step. Without the variable a kill point costs a
// getenv; points sit on steps that do file I/O. The points are listed in docs/crash-testing.md.
inline constexpr int kKillPointExitCode = 86;

void KillPoint(std::string_view name);

// Whether SLUICE_KILL_AT names `name` (for a step that must prepare before it can stop halfway,
// such as a copy that stops in its middle).
bool KillPointArmed(std::string_view name);

// Named stall points for tests of stalled processes. With SLUICE_STALL_AT=<name> in the
// environment, the process stops itself (SIGSTOP) the first time it reaches StallPoint(<name>),
// as a process paused by the OS, a VM migration or a long GC would, and goes on from there when
// it receives SIGCONT. Without the variable a stall point costs a getenv.
void StallPoint(std::string_view name);

}  // namespace sluice::base
