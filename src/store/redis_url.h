#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::store {

// Where a Redis server listens: TCP host and port, or a unix socket path; and the database.
struct RedisEndpoint {
  std::string host;         // empty for a unix socket
  int port = 6379;          // TCP only
  std::string unix_socket;  // empty for TCP
  int db = 0;

  // "HOST:PORT/DB" or "unix:PATH/DB": no credentials ever appear here.
  std::string ToString() const;
};

inline constexpr int kDefaultRedisPort = 6379;

// Parses `redis://HOST[:PORT][/DB]` (HOST may be a bracketed IPv6 address) and
// `unix://PATH[?db=DB]`. Errors are kInvalidArgument naming the problem. A password in the URL
// is refused (it would end up in project files and logs): it belongs in REDIS_PASSWORD. So is
// rediss:// (the hiredis this build uses has no TLS).
base::Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace sluice::store
