#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice::serve {

// An answer for the HTTP layer to write: status, JSON body, and for errors the kind counted in
// /metrics (sluice_serve_errors_total).
struct Reply {
  int http_status = 200;
  std::string body;
  std::string error_kind;  // empty on success
  // Empty = application/json. Must view static storage (a string literal): the HTTP layer
  // keeps the view after the Reply is gone.
  std::string_view content_type;
};

// What the HTTP layer serves, apart from HTTP itself: FeatureServer in production, a fake in
// the HTTP layer's tests. Every method is called from many request threads at once.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Reply Features(std::string_view body) = 0;  // POST /v1/features
  virtual Reply Ready() = 0;                          // GET /readyz
  virtual std::string GaugesText() const = 0;         // appended to GET /metrics
  // Any other GET (or HEAD) request, `target` as sent (path and query): the console's pages.
  // `authorized` is false when the server has a token and the request did not carry it; the
  // backend must then answer only what needs no token (a log-in page) and 401 otherwise.
  // nullopt = no such route (404).
  virtual std::optional<Reply> Get(std::string_view target, bool authorized) {
    (void)target;
    (void)authorized;
    return std::nullopt;
  }
};

}  // namespace sluice::serve
