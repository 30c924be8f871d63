#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "serve/backend.h"
#include "serve/catalog.h"
#include "serve/metrics.h"

namespace sluice::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = 8080;                 // 0 = any free port (Bind returns it)
  // Worker threads. Each serves one connection at a time for as long as it is kept alive (the
  // HTTP library's model), so this is also the number of concurrent connections served.
  int threads = 8;
  // When set, every endpoint except /healthz and /readyz requires "Authorization: Bearer <token>".
  std::optional<std::string> token;
  std::size_t max_body_bytes = kDefaultMaxBodyBytes;
  // How long an idle keep-alive connection is held open; also the longest a graceful stop
  // waits for an idle client to go away.
  std::chrono::seconds keep_alive_timeout{5};
};

// "HOST:PORT" or "[IPv6]:PORT" -> (host, port). Port 0..65535.
base::Result<std::pair<std::string, int>> ParseListenAddress(std::string_view address);

// The HTTP/JSON front of the serving API (routes in docs/serving.md): POST /v1/features,
// GET /healthz, /readyz, /metrics. Counts every response in `metrics`. Error responses always
// carry ErrorBody JSON, including those the HTTP library produces itself (unknown route, body
// over the limit, malformed HTTP).
class HttpServer {
 public:
  HttpServer(Backend& backend, Metrics& metrics, base::Clock& clock, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0).
  base::Result<int> Bind();
  // Serves until Stop. Returns after every request already received has been answered.
  base::Status Run();
  // Stops accepting connections and makes Run return once in-flight requests are done.
  // Thread-safe, idempotent, and effective when called before Run starts.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::serve
