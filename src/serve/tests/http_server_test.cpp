// The HTTP layer against a fake backend: routing, auth, limits, JSON errors, metrics,
// keep-alive, pipelining, malformed input and a graceful stop that answers the request in
// flight. Real sockets on loopback, port 0, and a raw client, so tests control every byte.
#include "serve/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace sluice::serve {
namespace {

// Echoes the body; the body "block" waits until Release() before answering.
class FakeBackend final : public Backend {
 public:
  Reply Features(std::string_view body) override {
    if (body == "block") {
      std::unique_lock lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_; });
      return Reply{200, "{\"released\":true}", "", {}};
    }
    if (body == "bad") return Reply{400, "{\"error\":{}}", "invalid_request", {}};
    return Reply{200, "{\"echo\":\"" + std::string(body) + "\"}", "", {}};
  }
  Reply Ready() override { return Reply{503, "{\"ready\":false}", "not_ready", {}}; }
  std::string GaugesText() const override { return "sluice_serve_view_ready{view=\"v\"} 0\n"; }
  // Pages: "/page..." answers HTML echoing the target and whether the request was authorized;
  // anything else is not a route.
  std::optional<Reply> Get(std::string_view target, bool authorized) override {
    if (!target.starts_with("/page")) return std::nullopt;
    Reply r{200, "<p>" + std::string(target) + (authorized ? " yes" : " no") + "</p>", "",
            "text/html; charset=utf-8"};
    return r;
  }

  void WaitEntered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

struct HttpReply {
  int status = -1;
  std::string head;  // status line and headers
  std::string body;

  // The value of header `name` (as the server spells it), or "".
  std::string Header(const std::string& name) const {
    const auto at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    const auto start = at + name.size() + 4;
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

// A blocking HTTP/1.1 client over one TCP connection, with a receive timeout so a server that
// never answers fails the test instead of hanging it.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  // Whether the server has sent something (or closed) within `ms` milliseconds.
  bool Readable(int ms) {
    if (!buf_.empty()) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (framed by Content-Length); nullopt on EOF, error or timeout.
  std::optional<HttpReply> Read() {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    HttpReply r;
    r.head = buf_.substr(0, end + 2);
    r.status = std::stoi(r.head.substr(9, 3));
    const std::string length = r.Header("Content-Length");
    const std::size_t n = length.empty() ? 0 : std::stoul(length);
    while (buf_.size() < end + 4 + n) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buf_.substr(end + 4, n);
    buf_.erase(0, end + 4 + n);
    return r;
  }

  // Sends one request and reads its answer.
  std::optional<HttpReply> Request(const std::string& method, const std::string& path,
                                   const std::string& body = "",
                                   const std::string& extra_headers = "") {
    if (!Send(Format(method, path, body, extra_headers))) return std::nullopt;
    return Read();
  }

  // True when the server has closed the connection (after whatever it had sent was read).
  bool ClosedByServer() {
    while (Fill()) {
    }
    return eof_;
  }

  static std::string Format(const std::string& method, const std::string& path,
                            const std::string& body, const std::string& extra_headers = "") {
    std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
    if (method == "POST") r += "Content-Type: application/json\r\n";
    if (!body.empty() || method == "POST")
      r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return r + "\r\n" + body;
  }

 private:
  bool Fill() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      eof_ = n == 0;
      return false;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options, int threads = 4) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = threads;
    server_ = std::make_unique<HttpServer>(backend_, metrics_, clock_, options);
    auto port = server_->Bind();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    run_ = std::async(std::launch::async, [this] { return server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      if (run_.valid()) {
        EXPECT_TRUE(run_.get().ok());
      }
    }
  }
  // One request on a fresh connection.
  std::optional<HttpReply> Once(const std::string& method, const std::string& path,
                                const std::string& body = "",
                                const std::string& extra_headers = "") {
    RawClient c(port_);
    if (!c.connected()) return std::nullopt;
    return c.Request(method, path, body, extra_headers);
  }

  FakeBackend backend_;
  Metrics metrics_;
  base::ManualClock clock_{base::ProcessingTime(std::chrono::seconds(1'700'000'000))};
  std::unique_ptr<HttpServer> server_;
  std::future<base::Status> run_;
  int port_ = 0;
};

TEST_F(HttpServerTest, RoutesAndJsonErrors) {
  Start({});
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  auto r = c.Request("POST", "/v1/features", "hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"echo\":\"hello\"}");
  EXPECT_EQ(r->Header("Content-Type"), "application/json");

  r = c.Request("GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"status\":\"ok\"}\n");

  r = c.Request("GET", "/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->head.substr(0, 34), "HTTP/1.1 503 Service Unavailable\r\n");

  r = c.Request("GET", "/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("\"kind\":\"not_found\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("no route GET /nope"), std::string::npos) << r->body;

  r = c.Request("POST", "/healthz", "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  r = c.Request("GET", "/v1/features");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("Allow"), "POST");

  r = c.Request("POST", "/v1/features", "bad");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);

  // A query string does not change the route.
  r = c.Request("GET", "/healthz?verbose=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  r = c.Request("GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("sluice_serve_requests_total{endpoint=\"/v1/features\",code=\"200\"} 1"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("sluice_serve_requests_total{endpoint=\"other\",code=\"404\"} 1"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("sluice_serve_requests_total{endpoint=\"/healthz\",code=\"404\"} 1"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("sluice_serve_errors_total{kind=\"invalid_request\"} 1"),
            std::string::npos);
  EXPECT_NE(r->body.find("sluice_serve_errors_total{kind=\"not_ready\"} 1"), std::string::npos);
  EXPECT_NE(r->body.find("sluice_serve_view_ready{view=\"v\"} 0"), std::string::npos);
}

TEST_F(HttpServerTest, HeadAnswersWithoutABody) {
  Start({});
  RawClient c(port_);
  ASSERT_TRUE(c.Send("HEAD /healthz HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n"));
  auto r = c.Read();  // HEAD: Content-Length of the GET answer, but no body follows
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Length"), "16");
  // Read() framed the HEAD answer as 16 body bytes: they must be the GET answer's head.
  EXPECT_EQ(r->body.substr(0, 15), "HTTP/1.1 200 OK");
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413WithJson) {
  HttpServerOptions o;
  o.max_body_bytes = 100;
  Start(o);
  RawClient c(port_);
  auto r = c.Request("POST", "/v1/features", std::string(101, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("\"kind\":\"body_too_large\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("the limit of 100 bytes"), std::string::npos) << r->body;
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(c.ClosedByServer());
  r = Once("POST", "/v1/features", std::string(100, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = Once("GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("sluice_serve_requests_total{endpoint=\"/v1/features\",code=\"413\"} 1"),
            std::string::npos)
      << r->body;
}

TEST_F(HttpServerTest, BearerToken) {
  HttpServerOptions o;
  o.token = "s3cret";
  Start(o);
  RawClient c(port_);
  auto r = c.Request("POST", "/v1/features", "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->Header("WWW-Authenticate"), "Bearer");
  EXPECT_NE(r->body.find("\"kind\":\"unauthorized\""), std::string::npos);
  EXPECT_EQ(r->body.find("s3cret"), std::string::npos);

  r = c.Request("POST", "/v1/features", "x", "Authorization: Bearer s3cre\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("not valid"), std::string::npos);

  r = c.Request("POST", "/v1/features", "x", "Authorization: Bearer s3cret\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  // Probes stay open; metrics do not.
  r = c.Request("GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Request("GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Request("GET", "/metrics", "", "Authorization: Bearer s3cret\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, OtherGetRoutesGoToTheBackendWithTheirAuthorization) {
  HttpServerOptions o;
  o.token = "s3cret";
  Start(o);
  RawClient c(port_);
  auto r = c.Request("GET", "/page/a?x=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->body, "<p>/page/a?x=1 no</p>");
  r = c.Request("GET", "/page", "", "Authorization: Bearer s3cret\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "<p>/page yes</p>");
  // A browser's cookie carries the token too, among other cookies; a wrong one does not.
  r = c.Request("GET", "/page", "", "Cookie: a=b; sluice_token=s3cret; c=d\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "<p>/page yes</p>");
  r = c.Request("GET", "/page", "", "Cookie: sluice_token=s3cre\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "<p>/page no</p>");
  r = c.Request("POST", "/v1/features", "x", "Cookie: sluice_token=s3cret\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Not a page of the backend: the JSON 404; and pages are GET-only.
  r = c.Request("GET", "/other");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("\"kind\":\"not_found\""), std::string::npos);
  RawClient c2(port_);
  r = c2.Request("POST", "/page", "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  Start({});
  RawClient c(port_);
  for (int i = 0; i < 200; ++i) {
    auto r = c.Request("POST", "/v1/features", std::to_string(i));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, "{\"echo\":\"" + std::to_string(i) + "\"}");
    EXPECT_EQ(r->Header("Connection"), "");
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start({});
  RawClient c(port_);
  std::string burst;
  for (int i = 0; i < 50; ++i) {
    burst += RawClient::Format("POST", "/v1/features", "p" + std::to_string(i));
    if (i % 10 == 0) burst += RawClient::Format("GET", "/healthz", "");
  }
  ASSERT_TRUE(c.Send(burst));
  for (int i = 0; i < 50; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, "{\"echo\":\"p" + std::to_string(i) + "\"}");
    if (i % 10 == 0) {
      r = c.Read();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, "{\"status\":\"ok\"}\n");
    }
  }
}

TEST_F(HttpServerTest, RequestSplitIntoSingleBytes) {
  Start({});
  RawClient c(port_);
  const std::string req = RawClient::Format("POST", "/v1/features", "slowly");
  for (char ch : req)
    ASSERT_TRUE(c.Send(std::string_view(&ch, 1)));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{\"echo\":\"slowly\"}");
}

TEST_F(HttpServerTest, ExpectContinue) {
  Start({});
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("POST /v1/features HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 100);
  ASSERT_TRUE(c.Send("body"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"echo\":\"body\"}");
}

TEST_F(HttpServerTest, MalformedHttpGetsJsonAndTheConnectionCloses) {
  Start({});
  struct Case {
    std::string request;
    int status;
    std::string kind;
  };
  const std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", 400, "bad_http"},
      {"GET / HTTP/1.1\n\n", 400, "bad_http"},
      {"POST /v1/features HTTP/1.1\r\nContent-Length: -3\r\n\r\n", 400, "bad_http"},
      {"POST /v1/features HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n",
       501, "not_implemented"},
      {"GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", 431, "header_too_large"},
      {"GET / HTTP/3.0\r\n\r\n", 505, "http_version_not_supported"},
  };
  for (const auto& k : cases) {
    RawClient c(port_);
    ASSERT_TRUE(c.Send(k.request));
    auto r = c.Read();
    ASSERT_TRUE(r) << k.request.substr(0, 40);
    EXPECT_EQ(r->status, k.status) << k.request.substr(0, 40);
    EXPECT_EQ(r->Header("Content-Type"), "application/json");
    EXPECT_NE(r->body.find("\"kind\":\"" + k.kind + "\""), std::string::npos) << r->body;
    EXPECT_EQ(r->Header("Connection"), "close");
    EXPECT_TRUE(c.ClosedByServer()) << k.request.substr(0, 40);
  }
  auto r = Once("GET", "/healthz");  // the server is unharmed
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, ConnectionCloseAndHttp10) {
  Start({});
  {
    RawClient c(port_);
    auto r = c.Request("GET", "/healthz", "", "Connection: close\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Header("Connection"), "close");
    EXPECT_TRUE(c.ClosedByServer());
  }
  {
    RawClient c(port_);
    ASSERT_TRUE(c.Send("GET /healthz HTTP/1.0\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(c.ClosedByServer());
  }
  {
    RawClient c(port_);
    ASSERT_TRUE(c.Send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Header("Connection"), "keep-alive");
    r = c.Request("GET", "/healthz");  // still open
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

// More concurrent keep-alive connections than threads: every connection is served (a loop
// holds many connections), not only the first `threads` of them.
TEST_F(HttpServerTest, MoreConnectionsThanThreads) {
  Start({}, /*threads=*/2);
  constexpr int kClients = 16;
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(clients.back()->connected());
  }
  std::vector<std::future<int>> done;
  for (int i = 0; i < kClients; ++i) {
    done.push_back(std::async(std::launch::async, [&c = *clients[i], i] {
      int ok = 0;
      for (int j = 0; j < 50; ++j) {
        const std::string body = std::to_string(i) + "." + std::to_string(j);
        auto r = c.Request("POST", "/v1/features", body);
        if (r && r->body == "{\"echo\":\"" + body + "\"}") ++ok;
      }
      return ok;
    }));
  }
  for (auto& d : done)
    EXPECT_EQ(d.get(), 50);
}

// A client that trickles a request a byte at a time never looks idle to the keep-alive timeout;
// the request deadline closes it with a 408. (It used to stay open for good, and enough of them
// exhausted the process's file descriptors.)
TEST_F(HttpServerTest, ATricklingClientIsAnswered408AndClosed) {
  HttpServerOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  Start(options);
  RawClient slow(port_);
  ASSERT_TRUE(slow.connected());
  const std::string request =
      RawClient::Format("POST", "/v1/features", "{\"view\": \"v\"}") + std::string(400, ' ');
  size_t sent = 0;
  // A byte every 50 ms, far more often than the keep-alive timeout, until the server answers.
  while (sent < request.size() && !slow.Readable(50)) {
    if (!slow.Send(std::string_view(request).substr(sent, 1))) break;
    ++sent;
  }
  ASSERT_LT(sent, request.size()) << "the server waited for the whole trickled request";
  auto r = slow.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 408);
  EXPECT_NE(r->body.find("\"kind\":\"request_timeout\""), std::string::npos) << r->body;
  EXPECT_TRUE(slow.ClosedByServer());
  // A prompt client on another connection is served as usual.
  auto ok = Once("POST", "/v1/features", "fast");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(metrics_.Render().find("sluice_serve_errors_total{kind=\"request_timeout\"} 1"),
            std::string::npos);
}

// Connections over the cap get a clean 503 and are closed at once, counted in /metrics; the
// connections already open are served, and a freed slot takes a new one.
TEST_F(HttpServerTest, ConnectionsOverTheCapAreRefusedAndCounted) {
  HttpServerOptions options;
  options.max_connections = 2;
  Start(options, /*threads=*/1);
  auto a = std::make_unique<RawClient>(port_);
  RawClient b(port_);
  ASSERT_TRUE(a->Request("GET", "/healthz").has_value());
  ASSERT_TRUE(b.Request("GET", "/healthz").has_value());
  RawClient refused(port_);
  auto r = refused.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("\"kind\":\"connection_limit\""), std::string::npos) << r->body;
  EXPECT_TRUE(refused.ClosedByServer());
  auto metrics = b.Request("GET", "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_NE(metrics->body.find("sluice_serve_connections_refused_total 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("sluice_serve_connections_open 2\n"), std::string::npos);
  a.reset();
  // The server frees the slot when it sees the close; until then a newcomer may be refused.
  std::optional<HttpReply> later;
  for (int attempt = 0; attempt < 100; ++attempt) {
    RawClient c(port_);
    later = c.Request("GET", "/healthz");
    if (later && later->status == 200) break;
  }
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->status, 200);
}

TEST_F(HttpServerTest, StopAnswersTheRequestInFlight) {
  Start({});
  RawClient idle(port_);  // an idle keep-alive connection must not hold the stop up
  ASSERT_TRUE(idle.Request("GET", "/healthz"));
  auto in_flight = std::async(std::launch::async, [this] {
    auto r = Once("POST", "/v1/features", "block");
    return r ? r->status : -1;
  });
  backend_.WaitEntered();
  server_->Stop();
  // The listener stops accepting, but the request already being handled still gets its answer.
  backend_.Release();
  EXPECT_EQ(in_flight.get(), 200);
  EXPECT_TRUE(run_.get().ok());
  EXPECT_TRUE(idle.ClosedByServer());
  server_.reset();
  RawClient late(port_);
  EXPECT_FALSE(late.connected());  // nothing listens any more
}

TEST(HttpServer, StopBeforeRunIsNotLost) {
  FakeBackend backend;
  Metrics metrics;
  base::ManualClock clock{base::ProcessingTime(std::chrono::seconds(0))};
  HttpServerOptions o;
  o.port = 0;
  HttpServer server(backend, metrics, clock, o);
  ASSERT_TRUE(server.Bind().ok());
  server.Stop();
  EXPECT_TRUE(server.Run().ok());
}

TEST(HttpServer, BindFailureNamesTheAddress) {
  FakeBackend backend;
  Metrics metrics;
  base::ManualClock clock{base::ProcessingTime(std::chrono::seconds(0))};
  HttpServerOptions o;
  o.port = 0;
  HttpServer first(backend, metrics, clock, o);
  auto port = first.Bind();
  ASSERT_TRUE(port.ok());
  o.port = *port;
  HttpServer second(backend, metrics, clock, o);
  auto again = second.Bind();
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().ToString().find("127.0.0.1:" + std::to_string(*port)), std::string::npos)
      << again.status().ToString();
}

TEST(ParseListenAddress, Forms) {
  auto a = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8080);
  a = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "::1");
  EXPECT_EQ(a->second, 0);
  EXPECT_FALSE(ParseListenAddress("8080").ok());
  EXPECT_FALSE(ParseListenAddress(":8080").ok());
  EXPECT_FALSE(ParseListenAddress("localhost:99999").ok());
  EXPECT_FALSE(ParseListenAddress("localhost:80x").ok());
  EXPECT_FALSE(ParseListenAddress("[::1]8080").ok());
}

}  // namespace
}  // namespace sluice::serve
