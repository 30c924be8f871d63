#include "store/redis_store.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "store/online_store.h"
#include "store/tests/store_conformance.h"

extern char** environ;

// Runs against a real Redis server: ctest starts one with tests/redis/redis_server.sh (fixture
// "redis") and points SLUICE_REDIS_ENV at the env file it writes. Without a server every test
// fails (never skips), so a broken set-up cannot pass unnoticed. A few tests start private
// servers of their own (a password, a restart) from the same redis-server binary.
namespace sluice::store {
namespace {

namespace fs = std::filesystem;
using test_support::Backend;
using test_support::BackendParam;
using test_support::StoreConformanceTest;

struct Server {
  RedisEndpoint endpoint;
  std::string server_binary;  // redis-server, for the private servers
  std::string error;          // why the server cannot be used, or ""
};

const Server& TestServer() {
  static const Server server = [] {
    Server s;
    const char* env = std::getenv("SLUICE_REDIS_ENV");
    if (!env) {
      s.error =
          "SLUICE_REDIS_ENV is not set (start a server with tests/redis/redis_server.sh "
          "start DIR and point it at DIR/env; ctest does it through the redis fixture)";
      return s;
    }
    std::ifstream in(env);
    if (!in) {
      s.error = std::string("cannot read ") + env;
      return s;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("export ", 0) == 0) line = line.substr(7);
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string name = line.substr(0, eq), value = line.substr(eq + 1);
      if (name == "REDIS_HOST") s.endpoint.host = value;
      if (name == "REDIS_PORT") s.endpoint.port = std::atoi(value.c_str());
      if (name == "REDIS_SERVER") s.server_binary = value;
    }
    if (s.endpoint.host.empty() || s.server_binary.empty()) {
      s.error = std::string(env) + " lacks REDIS_HOST, REDIS_PORT or REDIS_SERVER";
    }
    return s;
  }();
  return server;
}

StoreOptions TestOptions() {
  StoreOptions o;
  // Small MSETs so that every batch of the conformance tests spans several commands inside its
  // MULTI/EXEC: atomicity must come from the transaction, not from one MSET.
  o.max_keys_per_command = 7;
  return o;
}

class RedisBackend : public Backend {
 public:
  base::Result<std::unique_ptr<OnlineStore>> Open(bool read_only) override {
    const Server& s = TestServer();
    if (!s.error.empty()) return base::FailedPrecondition(s.error);
    return OpenRedisStore(s.endpoint, {}, read_only, TestOptions());
  }
};

INSTANTIATE_TEST_SUITE_P(Redis, StoreConformanceTest,
                         ::testing::Values(BackendParam{
                             "redis", [] { return std::make_unique<RedisBackend>(); }}),
                         [](const auto& info) { return info.param.name; });

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(TestServer().error, ""); }
};

// A loopback port nothing listens on (bound, read and closed again).
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A redis-server of the test's own on a free loopback port, for what the shared server must not
// be put through (a password, being killed and restarted).
class PrivateServer {
 public:
  explicit PrivateServer(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    std::string tmpl = (fs::temp_directory_path() / "sluice-redis-test.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    port_ = ClosedPort();
  }
  ~PrivateServer() {
    Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  RedisEndpoint endpoint() const {
    RedisEndpoint ep;
    ep.host = "127.0.0.1";
    ep.port = port_;
    return ep;
  }

  // Starts the server and waits until it answers (a NOAUTH answer counts).
  bool Start() {
    std::vector<std::string> args = {TestServer().server_binary,
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_.string(),
                                     "--logfile",
                                     (dir_ / "redis.log").string()};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return false;
    for (int attempt = 0; attempt < 400; ++attempt) {
      auto store = OpenRedisStore(endpoint(), {}, true, {});
      if (store.ok() || store.status().code() != base::StatusCode::kUnavailable) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

 private:
  std::vector<std::string> extra_;
  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

TEST_F(RedisStoreTest, AnUnreachableServerIsARetryableErrorNamingIt) {
  RedisEndpoint ep;
  ep.host = "127.0.0.1";
  ep.port = ClosedPort();
  auto store = OpenRedisStore(ep, {}, false, {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), base::StatusCode::kUnavailable);
  EXPECT_TRUE(store.status().retryable());
  EXPECT_NE(store.status().message().find("127.0.0.1:" + std::to_string(ep.port)),
            std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("refused"), std::string::npos)
      << store.status().message();
}

TEST_F(RedisStoreTest, OpenOnlineStoreParsesTheUrlAndNamesTheStore) {
  config::OnlineStoreSpec spec;
  spec.name = "shared";
  spec.type = config::OnlineStoreType::kRedis;
  spec.url = "redis://127.0.0.1:notaport/0";
  auto store = OpenOnlineStore(spec, "/", false, TestOptions());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().ToString().find("online store 'shared'"), std::string::npos);
  EXPECT_NE(store.status().ToString().find("port 'notaport'"), std::string::npos)
      << store.status().ToString();

  spec.url = "redis://" + TestServer().endpoint.host + ":" +
             std::to_string(TestServer().endpoint.port) + "/5";
  store = OpenOnlineStore(spec, "/", false, TestOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe(), "redis at " + TestServer().endpoint.host + ":" +
                                      std::to_string(TestServer().endpoint.port) + "/5");
}

TEST_F(RedisStoreTest, DatabasesAreSeparateAndABadOneIsNamed) {
  RedisEndpoint db3 = TestServer().endpoint;
  db3.db = 3;
  RedisEndpoint db4 = TestServer().endpoint;
  db4.db = 4;
  auto a = OpenRedisStore(db3, {}, false, TestOptions());
  auto b = OpenRedisStore(db4, {}, false, TestOptions());
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string view = "dbs-" + std::to_string(::getpid());
  ASSERT_TRUE((*a)->Write(view, {{"k", "in 3"}}, {}).ok());
  auto got = (*b)->MultiGet(view, {"k"});
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE((*got)[0].has_value());
  got = (*a)->MultiGet(view, {"k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0], std::optional<std::string>("in 3"));

  RedisEndpoint missing = TestServer().endpoint;
  missing.db = 99999;  // the server has 16
  auto bad = OpenRedisStore(missing, {}, false, TestOptions());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("database 99999"), std::string::npos)
      << bad.status().message();
}

TEST_F(RedisStoreTest, PasswordsComeFromTheEnvironmentAndAreNeverPrinted) {
  const std::string password = "pw-" + std::to_string(::getpid()) + "-secret";
  PrivateServer server({"--requirepass", password});
  ASSERT_TRUE(server.Start());

  auto none = OpenRedisStore(server.endpoint(), {}, false, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("REDIS_PASSWORD"), std::string::npos)
      << none.status().message();

  RedisAuth wrong;
  wrong.password = password + "-wrong";
  auto bad = OpenRedisStore(server.endpoint(), wrong, false, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad.status().ToString().find(password), std::string::npos);

  config::OnlineStoreSpec spec;
  spec.name = "secured";
  spec.type = config::OnlineStoreType::kRedis;
  spec.url = "redis://127.0.0.1:" + std::to_string(server.endpoint().port);
  ::setenv("REDIS_PASSWORD", password.c_str(), 1);
  auto store = OpenOnlineStore(spec, "/", false, {});
  ::unsetenv("REDIS_PASSWORD");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe().find(password), std::string::npos);
  ASSERT_TRUE((*store)->Write("v", {{"k", "v"}}, {}).ok());
  auto got = (*store)->MultiGet("v", {"k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0], std::optional<std::string>("v"));
}

TEST_F(RedisStoreTest, AStoreReconnectsAfterTheServerComesBack) {
  PrivateServer server;
  ASSERT_TRUE(server.Start());
  auto store = OpenRedisStore(server.endpoint(), {}, false, {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Write("v", {{"k", "before"}}, {}).ok());

  server.Stop();
  auto down = (*store)->MultiGet("v", {"k"});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), base::StatusCode::kUnavailable);
  EXPECT_TRUE(down.status().retryable());
  EXPECT_NE(down.status().message().find(server.endpoint().ToString()), std::string::npos)
      << down.status().message();
  EXPECT_FALSE((*store)->Write("v", {{"k", "lost"}}, {}).ok());

  ASSERT_TRUE(server.Start());  // same port, empty (no persistence)
  auto got = (*store)->MultiGet("v", {"k"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE((*got)[0].has_value());
  ASSERT_TRUE((*store)->Write("v", {{"k", "after"}}, {}).ok());
  got = (*store)->MultiGet("v", {"k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0], std::optional<std::string>("after"));
}

}  // namespace
}  // namespace sluice::store
