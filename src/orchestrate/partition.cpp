#include "orchestrate/partition.h"

#include <string>

namespace sluice::orchestrate {
namespace {

base::ProcessingTime Floor(base::Duration length, base::ProcessingTime t) {
  const std::int64_t us = t.time_since_epoch().count();
  const std::int64_t step = length.count();
  const std::int64_t q = us / step - ((us % step != 0) && (us < 0));
  return base::ProcessingTime(base::Duration(q * step));
}

}  // namespace

base::Result<base::Duration> PartitionLength(std::string_view partition) {
  if (partition == "hour") return base::Duration(std::chrono::hours(1));
  if (partition == "day") return base::Duration(std::chrono::hours(24));
  return base::InvalidArgument("unknown partition '" + std::string(partition) +
                               "' (expected hour or day)");
}

Interval PartitionBefore(base::Duration length, base::ProcessingTime t) {
  const base::ProcessingTime end = Floor(length, t);
  return {end - length, end};
}

std::vector<Interval> PartitionsBetween(base::Duration length, base::ProcessingTime from,
                                        base::ProcessingTime to) {
  std::vector<Interval> out;
  for (base::ProcessingTime s = Floor(length, from); s < to; s += length)
    out.push_back({s, s + length});
  return out;
}

}  // namespace sluice::orchestrate
