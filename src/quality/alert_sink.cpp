#include "quality/alert_sink.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace sluice::quality {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

void InitCurlOnce() {
  static CurlGlobal global;  // thread-safe static init; libcurl wants it once per process
}

// One POST. Returns the HTTP status, or 0 with `error` set when no response came.
long PostOnce(const std::string& url, const std::string& body, long timeout_ms,
              std::string* error) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    *error = "cannot start an HTTP client";
    return 0;
  }
  char err[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, std::max(timeout_ms, 1L));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::max(timeout_ms, 1L));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  } else {
    *error = err[0] ? err : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return status;
}

}  // namespace

Delivery PostWebhook(const config::AlertSinkSpec& sink, const std::string& json,
                     base::Clock& clock) {
  InitCurlOnce();
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
    std::string error;
    d.http_status = PostOnce(url, json, static_cast<long>(left), &error);
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
