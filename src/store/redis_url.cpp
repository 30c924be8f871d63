#include "store/redis_url.h"

#include <charconv>

namespace sluice::store {
namespace {

// Redis' own default is 16 databases, but servers may configure more: only the sign and the
// syntax are checked here; the server rejects a database it does not have.
base::Result<int> ParseNumber(std::string_view text, std::string_view what, int max,
                              std::string_view url) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0 || value > max) {
    return base::InvalidArgument("redis URL '" + std::string(url) + "': " + std::string(what) +
                                 " '" + std::string(text) + "' is not a number from 0 to " +
                                 std::to_string(max));
  }
  return value;
}

base::Status UrlError(std::string_view url, std::string_view problem) {
  return base::InvalidArgument("redis URL '" + std::string(url) + "': " + std::string(problem));
}

constexpr int kMaxDb = 1 << 20;

base::Result<RedisEndpoint> ParseUnix(std::string_view url, std::string_view rest) {
  RedisEndpoint ep;
  const auto q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  if (path.empty() || path[0] != '/') {
    return UrlError(url, "expected an absolute socket path, as in unix:///run/redis/redis.sock");
  }
  ep.unix_socket = std::string(path);
  if (q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    if (query.substr(0, 3) != "db=") {
      return UrlError(url, "the only query parameter understood is db=N");
    }
    SLUICE_ASSIGN_OR_RETURN(ep.db, ParseNumber(query.substr(3), "database", kMaxDb, url));
  }
  return ep;
}

}  // namespace

std::string RedisEndpoint::ToString() const {
  std::string s;
  if (!unix_socket.empty()) {
    s = "unix:" + unix_socket;
  } else if (host.find(':') != std::string::npos) {
    s = "[" + host + "]:" + std::to_string(port);
  } else {
    s = host + ":" + std::to_string(port);
  }
  return s + "/" + std::to_string(db);
}

base::Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kRedis = "redis://";
  constexpr std::string_view kUnix = "unix://";
  if (url.substr(0, 9) == "rediss://") {
    return UrlError(url,
                    "TLS (rediss://) is not supported by this build (hiredis 0.14 has no TLS); "
                    "use redis:// through a TLS tunnel such as stunnel");
  }
  if (url.substr(0, kUnix.size()) == kUnix) return ParseUnix(url, url.substr(kUnix.size()));
  if (url.substr(0, kRedis.size()) != kRedis) {
    return UrlError(url, "expected redis://HOST[:PORT][/DB] or unix://PATH[?db=DB]");
  }
  std::string_view rest = url.substr(kRedis.size());
  if (rest.find('@') != std::string_view::npos) {
    // The URL itself is not repeated: it holds the secret.
    return base::InvalidArgument(
        "redis URL: credentials in the URL are not accepted (they would be printed and "
        "committed); set the REDIS_PASSWORD environment variable instead");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return UrlError(url, "query strings and fragments are not understood");
  }

  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  RedisEndpoint ep;
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      SLUICE_ASSIGN_OR_RETURN(ep.db, ParseNumber(db, "database", kMaxDb, url));
    }
  }

  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return UrlError(url, "unclosed '[' in the host");
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return UrlError(url, "expected ':PORT' after ']'");
      port = after.substr(1);
      if (port.empty()) return UrlError(url, "empty port after ':'");
    }
  } else {
    const auto colon = authority.find(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return UrlError(url, "empty port after ':'");
    }
  }
  if (ep.host.empty()) return UrlError(url, "the host is missing");
  ep.port = kDefaultRedisPort;
  if (!port.empty()) {
    SLUICE_ASSIGN_OR_RETURN(ep.port, ParseNumber(port, "port", 65535, url));
    if (ep.port == 0) return UrlError(url, "port 0 is not a port a server listens on");
  }
  return ep;
}

}  // namespace sluice::store
