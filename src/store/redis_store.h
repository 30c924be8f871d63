#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "store/online_store.h"
#include "store/redis_url.h"

namespace sluice::store {

// Credentials for a Redis server that requires them; never printed.
struct RedisAuth {
  std::optional<std::string> user;  // Redis 6 ACL user; the default user when absent
  std::optional<std::string> password;
};

// REDIS_USERNAME and REDIS_PASSWORD from the environment.
RedisAuth RedisAuthFromEnvironment();

// The shared backend: a Redis server reached with hiredis. Keys are "sluice:" followed by the
// key layout of key_layout.h. A pool of connections serves concurrent callers; a connection that
// fails is dropped and replaced on the next call (one immediate retry when a pooled connection
// turns out to be dead, which is what a server restart looks like). Connects, authenticates
// and selects the database before returning; an unreachable server is kUnavailable
// (retryable).
//
// hiredis writes to sockets with write(2), which raises SIGPIPE when the server has gone away;
// opening a Redis store therefore ignores SIGPIPE process-wide if it was at its default
// (which would kill the process), and the error comes back as a retryable Status instead.
base::Result<std::unique_ptr<OnlineStore>> OpenRedisStore(const RedisEndpoint& endpoint,
                                                          const RedisAuth& auth, bool read_only,
                                                          const StoreOptions& options);

// The prefix of every key sluice writes to Redis, so that a shared server's other keys are
// recognizably not ours.
inline constexpr std::string_view kRedisNamespace = "sluice:";

}  // namespace sluice::store
