#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::serve {

// What a request head may hold before it is refused.
struct HttpLimits {
  std::size_t max_head_bytes = 8192;  // request line + headers + the blank line
  std::size_t max_headers = 100;
  std::size_t max_body_bytes = 1 << 20;
};

// The parts of a request head the server acts on. Views point into the parsed buffer.
struct RequestHead {
  std::string_view method;
  std::string_view target;     // as sent, query included
  std::string_view path;       // target up to '?'
  int minor_version = 1;       // HTTP/1.x
  std::size_t head_bytes = 0;  // through the blank line; the body starts here
  std::size_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;
  bool has_authorization = false;
  std::string_view authorization;
  std::string_view cookie;  // the Cookie header (the console's token in a browser), if any
};

enum class HeadState { kIncomplete, kComplete, kError };

struct HeadParse {
  HeadState state = HeadState::kIncomplete;
  // Filled as far as parsing got: method and path are set whenever the request line was valid,
  // so an error after it (a bad header, a body over the limit) can still be counted per route.
  RequestHead head;
  // kError only: the HTTP status to answer (400, 413, 431, 501, 505), the error kind for
  // /metrics and a message for the JSON body. The connection cannot be read further.
  int status = 0;
  std::string_view kind;
  std::string message;
};

// Parses the HTTP/1.x request head at the start of `data` (RFC 9112): kIncomplete while the
// blank line that ends it has not arrived and nothing seen so far is wrong, kComplete with
// head_bytes set, or kError. A pure function of its input, fuzzed by fuzz/http_head_fuzz.cpp.
// Hand-written because the serving path's transport is (see README.md); it accepts the subset
// a JSON API needs: origin-form targets, Content-Length bodies. Transfer-Encoding (chunked
// bodies) is refused with 501 rather than half-supported.
HeadParse ParseRequestHead(std::string_view data, const HttpLimits& limits);

// The reason phrase for a status this server sends ("OK", "Not Found", ...).
std::string_view ReasonPhrase(int status);

}  // namespace sluice::serve
