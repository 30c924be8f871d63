#include "serve/http_server.h"

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <thread>

#include "serve/json_writer.h"

namespace sluice::serve {

namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kPromText = "text/plain; version=0.0.4; charset=utf-8";

// Compares without an early exit, so the time taken does not reveal how much of a guessed
// token was right.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace

base::Result<std::pair<std::string, int>> ParseListenAddress(std::string_view address) {
  std::string host;
  std::string_view port_text;
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return base::InvalidArgument("address '" + std::string(address) + "': expected [IPv6]:PORT");
    }
    host = std::string(address.substr(1, close - 1));
    port_text = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return base::InvalidArgument("address '" + std::string(address) +
                                   "': expected HOST:PORT, for example 127.0.0.1:8080");
    }
    host = std::string(address.substr(0, colon));
    port_text = address.substr(colon + 1);
  }
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535 ||
      host.empty()) {
    return base::InvalidArgument("address '" + std::string(address) +
                                 "': the port must be a number from 0 to 65535");
  }
  return std::make_pair(host, port);
}

struct HttpServer::Impl {
  Impl(Backend& b, Metrics& m, base::Clock& c, HttpServerOptions o)
      : backend(b), metrics(m), clock(c), options(std::move(o)) {}

  bool Authorized(const httplib::Request& req) const {
    if (!options.token) return true;
    return ConstantTimeEquals(req.get_header_value("Authorization"), "Bearer " + *options.token);
  }

  void WriteError(httplib::Response& res, int status, std::string_view kind,
                  std::string_view message) {
    res.status = status;
    res.set_content(ErrorBody(status, kind, message), kJson);
    metrics.CountError(kind);
  }

  // Refuses an unauthenticated request; true when it may proceed.
  bool CheckAuth(const httplib::Request& req, httplib::Response& res) {
    if (Authorized(req)) return true;
    res.set_header("WWW-Authenticate", "Bearer");
    WriteError(res, 401, "unauthorized",
               req.has_header("Authorization")
                   ? "the bearer token is not valid"
                   : "this endpoint needs an \"Authorization: Bearer <token>\" header");
    return false;
  }

  void Install() {
    server.new_task_queue = [n = options.threads] {
      return new httplib::ThreadPool(static_cast<std::size_t>(n < 1 ? 1 : n));
    };
    server.set_tcp_nodelay(true);
    server.set_payload_max_length(options.max_body_bytes);
    server.set_keep_alive_timeout(options.keep_alive_timeout.count());
    // The library's default (5 requests per connection) would make load balancers and load
    // generators reconnect constantly.
    server.set_keep_alive_max_count(1'000'000);

    server.Post("/v1/features", [this](const httplib::Request& req, httplib::Response& res) {
      const auto started = clock.Now();
      if (CheckAuth(req, res)) {
        Reply reply = backend.Features(req.body);
        res.status = reply.http_status;
        res.set_content(std::move(reply.body), kJson);
        if (!reply.error_kind.empty()) metrics.CountError(reply.error_kind);
      }
      metrics.ObserveRequest(req.path, clock.Now() - started);
    });
    server.Get("/v1/features", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", "POST");
      WriteError(res, 405, "method_not_allowed", "use POST /v1/features with a JSON body");
    });
    server.Get("/healthz", [this](const httplib::Request& req, httplib::Response& res) {
      const auto started = clock.Now();
      res.set_content("{\"status\":\"ok\"}\n", kJson);
      metrics.ObserveRequest(req.path, clock.Now() - started);
    });
    server.Get("/readyz", [this](const httplib::Request& req, httplib::Response& res) {
      const auto started = clock.Now();
      Reply reply = backend.Ready();
      res.status = reply.http_status;
      res.set_content(std::move(reply.body), kJson);
      if (!reply.error_kind.empty()) metrics.CountError(reply.error_kind);
      metrics.ObserveRequest(req.path, clock.Now() - started);
    });
    server.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      const auto started = clock.Now();
      if (CheckAuth(req, res)) {
        // Observed before rendering, so a scrape includes itself in the histogram count.
        metrics.ObserveRequest(req.path, clock.Now() - started);
        res.set_content(metrics.Render() + backend.GaugesText(), kPromText);
      }
    });

    // Responses the library makes itself (no route, body over the limit, unreadable HTTP)
    // have no body: give them the same JSON error shape as every other refusal.
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          switch (res.status) {
            case 404:
              WriteError(res, 404, "not_found", "no route " + req.method + " " + req.path);
              break;
            case 413:
              WriteError(res, 413, "body_too_large",
                         "the request body exceeds the limit of " +
                             std::to_string(options.max_body_bytes) + " bytes");
              break;
            case 400:
              WriteError(res, 400, "bad_http", "the HTTP request could not be read");
              break;
            default:
              WriteError(res, res.status, "http_error", "HTTP error " + std::to_string(res.status));
          }
          return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_exception_handler(
        [this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          WriteError(res, 500, "internal", "internal error: " + what);
        });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      metrics.CountRequest(req.path, res.status);
    });
  }

  Backend& backend;
  Metrics& metrics;
  base::Clock& clock;
  HttpServerOptions options;
  httplib::Server server;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> running{false};
};

HttpServer::HttpServer(Backend& backend, Metrics& metrics, base::Clock& clock,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(backend, metrics, clock, std::move(options))) {
  impl_->Install();
}

HttpServer::~HttpServer() {
  Stop();
}

base::Result<int> HttpServer::Bind() {
  const auto& o = impl_->options;
  if (o.port == 0) {
    const int port = impl_->server.bind_to_any_port(o.host);
    if (port <= 0) return base::IoError("cannot listen on " + o.host + " (any port)");
    return port;
  }
  if (!impl_->server.bind_to_port(o.host, o.port)) {
    return base::IoError("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                         " (in use, or not an address of this machine)");
  }
  return o.port;
}

base::Status HttpServer::Run() {
  impl_->running = true;
  if (impl_->stop_requested) {
    impl_->running = false;
    return base::Status::Ok();
  }
  // Returns after stop(): the accept loop ends, then the worker pool finishes the connections
  // it holds (their in-flight requests are answered) and joins.
  const bool ok = impl_->server.listen_after_bind();
  impl_->running = false;
  if (!ok && !impl_->stop_requested) return base::IoError("the HTTP server stopped unexpectedly");
  return base::Status::Ok();
}

void HttpServer::Stop() {
  impl_->stop_requested = true;
  // The library ignores stop() until its accept loop has started: wait for that if Run is on
  // its way there (a few instructions), so a stop is never lost.
  while (impl_->running && !impl_->server.is_running())
    std::this_thread::yield();
  impl_->server.stop();
}

}  // namespace sluice::serve
