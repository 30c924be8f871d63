// Redis URLs come from sluice.yaml and the environment. Whatever parses must name one endpoint
// (a host or an absolute socket path), a port and a database in range.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/redis_url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  auto ep = sluice::store::ParseRedisUrl(url);
  if (!ep.ok()) {
    if (ep.status().message().empty()) __builtin_trap();
    return 0;
  }
  if (ep->host.empty() == ep->unix_socket.empty()) __builtin_trap();  // exactly one of them
  if (!ep->unix_socket.empty() && ep->unix_socket[0] != '/') __builtin_trap();
  if (ep->port < 1 || ep->port > 65535 || ep->db < 0) __builtin_trap();
  // What logs show must name the same endpoint.
  if (ep->ToString().empty()) __builtin_trap();
  return 0;
}
