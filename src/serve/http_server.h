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
  // Event-loop threads. Each serves any number of connections; requests are handled on the
  // loop's thread, so a request waiting on a store holds up only its own loop's connections.
  int threads = 8;
  // When set, every endpoint except /healthz and /readyz requires "Authorization: Bearer <token>".
  std::optional<std::string> token;
  std::size_t max_body_bytes = kDefaultMaxBodyBytes;
  // How long a connection may stay silent (idle between requests, or part-way through one)
  // before it is closed; also the longest a graceful stop waits for a half-sent request.
  std::chrono::seconds keep_alive_timeout{5};
  // The whole head and body of a request must arrive within this, however steadily the client
  // trickles them (a byte every second never looks silent); then it gets 408 and is closed.
  std::chrono::milliseconds request_timeout{10'000};
  // Open connections at most; one more is answered 503 and closed at once (counted in
  // /metrics). 0: the open-file limit less `reserved_fds`.
  std::size_t max_connections = 0;
  // File descriptors kept free for everything but connections: the online store's files,
  // DuckDB, the lake. A flood of connections must not starve a store read.
  std::size_t reserved_fds = 512;
};

// "HOST:PORT" or "[IPv6]:PORT" -> (host, port). Port 0..65535.
base::Result<std::pair<std::string, int>> ParseListenAddress(std::string_view address);

// The HTTP/1.1 front of the serving API (routes in docs/serving.md): POST /v1/features,
// GET /healthz, /readyz, /metrics. Non-blocking sockets, `threads` epoll loops, keep-alive and
// pipelining, Content-Length bodies (chunked ones get 501). Counts every response in
// `metrics`. Error responses always carry ErrorBody JSON, including transport refusals
// (unknown route, body over the limit, malformed HTTP, oversized head).
class HttpServer {
 public:
  HttpServer(Backend& backend, Metrics& metrics, base::Clock& clock, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0). Call before Run.
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
