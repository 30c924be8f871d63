#pragma once

#include <optional>
#include <string>

namespace sluice::base {

// Which process `pid` is: "<boot id>/<start time in clock ticks since boot>" from /proc, stable
// for the process's life (exec keeps it) and different for any later process given the same
// pid. nullopt when there is no such process (or no /proc). Recorded beside a pid, it tells a
// later reader whether the pid still names that process before anything signals it.
std::optional<std::string> ProcessStartId(long pid);

}  // namespace sluice::base
