#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/time.h"

namespace sluice::base {

// What one HTTP POST got back: the response's status, or 0 and why no response came.
struct HttpAnswer {
  long status = 0;
  std::string error;  // set when status is 0
};

// POSTs `body` as application/json to an http:// or https:// URL within `timeout` overall
// (connection included), once: TLS certificates are verified against the system's CA store, no
// redirects are followed, the response body is discarded. A URL of another scheme is
// InvalidArgument; everything else, a refused connection or a 500 alike, is an answer for the
// caller to judge (its own retries, its own wording).
Result<HttpAnswer> PostJson(const std::string& url, std::string_view body, Duration timeout);

// PostJson, OK for a 2xx answer; any other answer, or none, is Unavailable naming the URL and
// what happened.
Status HttpPostJson(const std::string& url, std::string_view body, Duration timeout);

}  // namespace sluice::base
