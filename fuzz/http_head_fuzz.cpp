// Feeds arbitrary bytes to the HTTP request-head parser of `sluice serve`, as any client on the
// network can. It must never crash, hang or read past its input; what it accepts must be
// self-consistent (the head ends with the blank line, the body length is within the limit, the
// path is a prefix of the target), and a refusal must be a 4xx/5xx with a kind and a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serve/http_parser.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  sluice::serve::HttpLimits limits;
  // Small limits, so the fuzzer reaches them with short inputs.
  limits.max_head_bytes = 512;
  limits.max_headers = 8;
  limits.max_body_bytes = 64;
  const auto p = sluice::serve::ParseRequestHead(input, limits);
  const auto& h = p.head;
  switch (p.state) {
    case sluice::serve::HeadState::kIncomplete:
      Check(input.size() <= limits.max_head_bytes);
      break;
    case sluice::serve::HeadState::kComplete:
      Check(h.head_bytes >= 4 && h.head_bytes <= input.size() &&
            h.head_bytes <= limits.max_head_bytes);
      Check(input.substr(h.head_bytes - 4, 4) == "\r\n\r\n");
      Check(h.content_length <= limits.max_body_bytes);
      Check(!h.method.empty() && !h.target.empty() && h.target.front() == '/');
      Check(h.target.substr(0, h.path.size()) == h.path);
      Check(h.minor_version == 0 || h.minor_version == 1);
      break;
    case sluice::serve::HeadState::kError:
      Check(p.status >= 400 && p.status <= 505);
      Check(!p.kind.empty() && !p.message.empty() && p.message.size() < 400);
      Check(!sluice::serve::ReasonPhrase(p.status).empty());
      break;
  }
  return 0;
}
