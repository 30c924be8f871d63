#pragma once

#include <string>
#include <string_view>

namespace sluice::serve {

// An answer for the HTTP layer to write: status, JSON body, and for errors the kind counted in
// /metrics (sluice_serve_errors_total).
struct Reply {
  int http_status = 200;
  std::string body;
  std::string error_kind;  // empty on success
};

// What the HTTP layer serves, apart from HTTP itself: FeatureServer in production, a fake in
// the HTTP layer's tests. Every method is called from many request threads at once.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Reply Features(std::string_view body) = 0;  // POST /v1/features
  virtual Reply Ready() = 0;                          // GET /readyz
  virtual std::string GaugesText() const = 0;         // appended to GET /metrics
};

}  // namespace sluice::serve
