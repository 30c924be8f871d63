#include "base/http_post.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>

namespace sluice::base {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

// libcurl wants curl_global_init once per process before any handle, and not concurrently:
// a function-local static is initialized exactly once, thread-safely.
void InitCurlOnce() {
  struct Global {
    Global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~Global() { curl_global_cleanup(); }
  };
  static Global global;
}

}  // namespace

Result<HttpAnswer> PostJson(const std::string& url, std::string_view body, Duration timeout) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return InvalidArgument("not an http:// or https:// URL: '" + url + "'");
  }
  InitCurlOnce();
  HttpAnswer answer;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    answer.error = "cannot start an HTTP client";
    return answer;
  }
  const long timeout_ms = std::max<long>(
      1, static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  // No signals: callers share the process with a stop handler and other threads.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  } else {
    answer.error = error[0] ? error : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

Status HttpPostJson(const std::string& url, std::string_view body, Duration timeout) {
  SLUICE_ASSIGN_OR_RETURN(HttpAnswer answer, PostJson(url, body, timeout));
  if (answer.status == 0) return Unavailable("POST " + url + ": " + answer.error);
  if (answer.status < 200 || answer.status >= 300) {
    return Unavailable("POST " + url + ": HTTP " + std::to_string(answer.status));
  }
  return Status::Ok();
}

}  // namespace sluice::base
