// The HTTP layer against a fake backend: routing, auth, limits, JSON errors, metrics and a
// graceful stop that answers the request in flight. Real sockets on loopback, port 0.
#include "serve/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

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
      return Reply{200, "{\"released\":true}", ""};
    }
    if (body == "bad") return Reply{400, "{\"error\":{}}", "invalid_request"};
    return Reply{200, "{\"echo\":\"" + std::string(body) + "\"}", ""};
  }
  Reply Ready() override { return Reply{503, "{\"ready\":false}", "not_ready"}; }
  std::string GaugesText() const override { return "sluice_serve_view_ready{view=\"v\"} 0\n"; }

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

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    server_ = std::make_unique<HttpServer>(backend_, metrics_, clock_, options);
    auto port = server_->Bind();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    run_ = std::async(std::launch::async, [this] { return server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      EXPECT_TRUE(run_.get().ok());
    }
  }
  httplib::Client Client() { return httplib::Client("127.0.0.1", port_); }

  FakeBackend backend_;
  Metrics metrics_;
  base::ManualClock clock_{base::ProcessingTime(std::chrono::seconds(1'700'000'000))};
  std::unique_ptr<HttpServer> server_;
  std::future<base::Status> run_;
  int port_ = 0;
};

TEST_F(HttpServerTest, RoutesAndJsonErrors) {
  Start({});
  auto c = Client();
  auto r = c.Post("/v1/features", "hello", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"echo\":\"hello\"}");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");

  r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"status\":\"ok\"}\n");

  r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);

  r = c.Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("\"kind\":\"not_found\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("no route GET /nope"), std::string::npos) << r->body;

  r = c.Get("/v1/features");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");

  r = c.Post("/v1/features", "bad", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);

  r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("sluice_serve_requests_total{endpoint=\"/v1/features\",code=\"200\"} 1"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("sluice_serve_requests_total{endpoint=\"other\",code=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(r->body.find("sluice_serve_errors_total{kind=\"invalid_request\"} 1"),
            std::string::npos);
  EXPECT_NE(r->body.find("sluice_serve_errors_total{kind=\"not_ready\"} 1"), std::string::npos);
  EXPECT_NE(r->body.find("sluice_serve_view_ready{view=\"v\"} 0"), std::string::npos);
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413WithJson) {
  HttpServerOptions o;
  o.max_body_bytes = 100;
  Start(o);
  auto c = Client();
  auto r = c.Post("/v1/features", std::string(101, 'x'), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("\"kind\":\"body_too_large\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("the limit of 100 bytes"), std::string::npos) << r->body;
  r = c.Post("/v1/features", std::string(100, 'x'), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, BearerToken) {
  HttpServerOptions o;
  o.token = "s3cret";
  Start(o);
  auto c = Client();
  auto r = c.Post("/v1/features", "x", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_NE(r->body.find("\"kind\":\"unauthorized\""), std::string::npos);
  EXPECT_EQ(r->body.find("s3cret"), std::string::npos);

  r = c.Post("/v1/features", {{"Authorization", "Bearer s3cre"}}, "x", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("not valid"), std::string::npos);

  r = c.Post("/v1/features", {{"Authorization", "Bearer s3cret"}}, "x", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  // Probes stay open; metrics do not.
  r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Get("/metrics", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, StopAnswersTheRequestInFlight) {
  Start({});
  auto in_flight = std::async(std::launch::async, [this] {
    auto c = Client();
    auto r = c.Post("/v1/features", "block", "application/json");
    return r ? r->status : -1;
  });
  backend_.WaitEntered();
  server_->Stop();
  // The listener is closed, but the request already being handled still gets its answer.
  backend_.Release();
  EXPECT_EQ(in_flight.get(), 200);
  EXPECT_TRUE(run_.get().ok());
  server_.reset();
  EXPECT_FALSE(Client().Get("/healthz"));  // nothing listens any more
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
