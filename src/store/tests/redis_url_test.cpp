#include "store/redis_url.h"

#include <gtest/gtest.h>

namespace sluice::store {
namespace {

TEST(RedisUrlTest, ParsesHostPortAndDatabase) {
  auto ep = ParseRedisUrl("redis://127.0.0.1:6380/2");
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->db, 2);
  EXPECT_EQ(ep->ToString(), "127.0.0.1:6380/2");

  ep = ParseRedisUrl("redis://cache.internal");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->port, kDefaultRedisPort);
  EXPECT_EQ(ep->db, 0);
  EXPECT_EQ(ep->ToString(), "cache.internal:6379/0");

  ep = ParseRedisUrl("redis://localhost:7000/");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->db, 0);

  ep = ParseRedisUrl("redis://[::1]:7001/3");
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 7001);
  EXPECT_EQ(ep->ToString(), "[::1]:7001/3");

  ep = ParseRedisUrl("unix:///run/redis/redis.sock?db=4");
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->unix_socket, "/run/redis/redis.sock");
  EXPECT_EQ(ep->db, 4);
  EXPECT_EQ(ep->ToString(), "unix:/run/redis/redis.sock/4");
}

// Each bad URL and a word its error must contain, so the user learns what to fix.
TEST(RedisUrlTest, ErrorsNameTheProblem) {
  const std::pair<std::string, std::string> cases[] = {
      {"http://localhost:6379", "expected redis://"},
      {"localhost:6379", "expected redis://"},
      {"redis://", "host is missing"},
      {"redis://:6379", "host is missing"},
      {"redis://localhost:", "empty port"},
      {"redis://localhost:abc", "port 'abc'"},
      {"redis://localhost:70000", "port '70000'"},
      {"redis://localhost:-1", "port '-1'"},
      {"redis://localhost:0", "port 0"},
      {"redis://localhost:6379/x", "database 'x'"},
      {"redis://localhost:6379/1/2", "database '1/2'"},
      {"redis://localhost:6379/-3", "database '-3'"},
      {"redis://localhost:6379?timeout=1", "query strings"},
      {"redis://[::1:6379", "unclosed '['"},
      {"redis://[::1]6379", "':PORT'"},
      {"rediss://localhost:6380", "TLS"},
      {"unix://relative.sock", "absolute socket path"},
      {"unix:///tmp/r.sock?database=1", "db=N"},
  };
  for (const auto& [url, needle] : cases) {
    auto ep = ParseRedisUrl(url);
    ASSERT_FALSE(ep.ok()) << url;
    EXPECT_EQ(ep.status().code(), base::StatusCode::kInvalidArgument) << url;
    EXPECT_NE(ep.status().message().find(needle), std::string::npos)
        << url << " -> " << ep.status().message();
  }
}

TEST(RedisUrlTest, PasswordsInUrlsAreRefusedWithoutBeingRepeated) {
  for (const std::string url : {"redis://:s3cret@localhost:6379", "redis://user:s3cret@host/0"}) {
    auto ep = ParseRedisUrl(url);
    ASSERT_FALSE(ep.ok());
    EXPECT_NE(ep.status().message().find("REDIS_PASSWORD"), std::string::npos);
    EXPECT_EQ(ep.status().ToString().find("s3cret"), std::string::npos) << ep.status().ToString();
  }
}

}  // namespace
}  // namespace sluice::store
