#pragma once

#include <cstdint>

#include "base/time.h"

namespace sluice::orchestrate {

// The wait before retry number `retry` (1 = the first retry): `base` doubled per retry, capped
// at `cap`, then "equal jitter": a uniform draw from [d/2, d] with `unit` in [0, 1), so retries of
// many failing steps spread out instead of hitting a struggling service at once.
base::Duration RetryDelay(int retry, base::Duration base, base::Duration cap, double unit);

}  // namespace sluice::orchestrate
