#pragma once

#include <string>

#include "base/status.h"
#include "base/time.h"

namespace sluice::orchestrate {

// POSTs `body` (application/json) to an http:// URL and waits for the status line; OK for 2xx.
// Plain HTTP/1.1 over one connection with `timeout` for connect, send and receive: enough for a
// lineage collector on the local network (no TLS, no redirects).
base::Status HttpPostJson(const std::string& url, const std::string& body, base::Duration timeout);

}  // namespace sluice::orchestrate
