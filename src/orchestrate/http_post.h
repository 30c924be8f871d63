#pragma once

#include <string>

#include "base/status.h"
#include "base/time.h"

namespace sluice::orchestrate {

// POSTs `body` (application/json) to an http:// or https:// URL (libcurl; TLS certificates are
// verified against the system's CA store, no redirects followed) within `timeout` overall; OK
// for a 2xx answer. Any other answer, or none, is Unavailable naming the URL and what happened;
// a URL of another scheme is InvalidArgument.
base::Status HttpPostJson(const std::string& url, const std::string& body, base::Duration timeout);

}  // namespace sluice::orchestrate
