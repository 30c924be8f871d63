#include "quality/alert_sink.h"

#include <algorithm>

#include "base/http_post.h"

namespace sluice::quality {

Delivery PostWebhook(const config::AlertSinkSpec& sink, const std::string& json,
                     base::Clock& clock) {
  Delivery d;
  const std::string url = sink.url.value_or("");
  const auto deadline = clock.Now() + sink.timeout;
  base::Duration backoff = std::chrono::milliseconds(250);
  std::string last_error;
  for (std::int64_t attempt = 0; attempt <= sink.retries; ++attempt) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.Now()).count();
    if (left <= 0) break;
    ++d.attempts;
    auto answer = base::PostJson(url, json, std::chrono::milliseconds(left));
    if (!answer.ok()) {  // a URL no retry can fix
      last_error = answer.status().message();
      break;
    }
    d.http_status = answer->status;
    const std::string& error = answer->error;
    if (d.http_status >= 200 && d.http_status < 300) {
      d.delivered = true;
      d.detail = "webhook " + sink.name + ": HTTP " + std::to_string(d.http_status) + " after " +
                 std::to_string(d.attempts) + " attempt" + (d.attempts == 1 ? "" : "s");
      return d;
    }
    last_error = d.http_status ? "HTTP " + std::to_string(d.http_status) : error;
    const bool retryable = d.http_status == 0 || d.http_status >= 500 || d.http_status == 429;
    if (!retryable) break;
    if (attempt < sink.retries) {
      const auto wake = std::min(clock.Now() + backoff, deadline);
      clock.SleepUntil(wake);
      backoff *= 2;
    }
  }
  d.detail = "webhook " + sink.name + ": not delivered after " + std::to_string(d.attempts) +
             " attempt" + (d.attempts == 1 ? "" : "s") + " (" + last_error + ")";
  return d;
}

}  // namespace sluice::quality
