#include "orchestrate/retry_policy.h"

#include <algorithm>

namespace sluice::orchestrate {

base::Duration RetryDelay(int retry, base::Duration base, base::Duration cap, double unit) {
  if (retry < 1 || base.count() <= 0) return base::Duration(0);
  base::Duration d = base;
  for (int i = 1; i < retry && d < cap; ++i)
    d *= 2;
  d = std::min(d, cap);
  const auto half = d.count() / 2;
  const double u = std::clamp(unit, 0.0, 1.0);
  return base::Duration(d.count() - half +
                        static_cast<std::int64_t>(static_cast<double>(half) * u));
}

}  // namespace sluice::orchestrate
