#pragma once

#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"

namespace sluice::quality {

// What one delivery attempt sequence achieved, for the registry and the terminal.
struct Delivery {
  bool delivered = false;
  int attempts = 0;
  long http_status = 0;  // the last response's status, 0 if none came
  std::string detail;    // "webhook ops: HTTP 200 after 1 attempt" or why it failed
};

// POSTs `json` to the sink's URL (Content-Type: application/json). A 2xx answer delivers it;
// connection failures, timeouts, 5xx and 429 are retried with doubling delays (250 ms first) up to
// `retries` more times, all within the sink's `timeout` in total, so a dead receiver holds a
// pipeline for at most that long. Other 4xx are not retried. Never fails: the result says.
Delivery PostWebhook(const config::AlertSinkSpec& sink, const std::string& json,
                     base::Clock& clock);

}  // namespace sluice::quality
