#include "base/http_post.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace sluice::base {
namespace {

// A one-shot HTTP receiver on loopback: accepts one connection, reads the request, answers
// `status_line`, and keeps what it read.
class OneShotReceiver {
 public:
  explicit OneShotReceiver(std::string status_line) : status_line_(std::move(status_line)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(fd_, 1), 0);
    thread_ = std::thread([this] {
      // Bounded: a client that never connects fails its test instead of hanging it.
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) != 1) return;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      // Read until the body (after the blank line) has arrived: the tests send "{}".
      while (request_.find("\r\n\r\n") == std::string::npos ||
             request_.size() < request_.find("\r\n\r\n") + 6) {
        const ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) break;
        request_.append(buf, static_cast<size_t>(n));
      }
      const std::string reply =
          status_line_ + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      (void)!::write(c, reply.data(), reply.size());
      ::close(c);
    });
  }
  ~OneShotReceiver() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  std::string status_line_;
  int fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(HttpPostTest, UnreachableAndBadUrlsAreErrors) {
  EXPECT_EQ(HttpPostJson("ftp://example.com/x", "{}", std::chrono::seconds(1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PostJson("file:///etc/passwd", "{}", std::chrono::seconds(1)).status().code(),
            StatusCode::kInvalidArgument);
  // https is accepted (and fails here only because nothing listens).
  EXPECT_EQ(HttpPostJson("https://127.0.0.1:1/x", "{}", std::chrono::seconds(1)).code(),
            StatusCode::kUnavailable);
  // Port 1 on loopback: nothing listens there. No answer: status 0 and why.
  auto answer = PostJson("http://127.0.0.1:1/x", "{}", std::chrono::seconds(1));
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 0);
  EXPECT_FALSE(answer->error.empty());
  const Status s = HttpPostJson("http://127.0.0.1:1/x", "{}", std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("POST http://127.0.0.1:1/x"), std::string::npos) << s.ToString();
}

TEST(HttpPostTest, SendsJsonAndReportsTheStatus) {
  OneShotReceiver ok("HTTP/1.1 204 No Content");
  EXPECT_TRUE(HttpPostJson(ok.url(), "{}", std::chrono::seconds(5)).ok());
  EXPECT_EQ(ok.request().rfind("POST /hook HTTP/1.1\r\n", 0), 0U) << ok.request();
  EXPECT_NE(ok.request().find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_EQ(ok.request().substr(ok.request().size() - 2), "{}");

  OneShotReceiver busy("HTTP/1.1 503 Service Unavailable");
  auto answer = PostJson(busy.url(), "{}", std::chrono::seconds(5));
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 503);
  OneShotReceiver refused("HTTP/1.1 400 Bad Request");
  const Status s = HttpPostJson(refused.url(), "{}", std::chrono::seconds(5));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("HTTP 400"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace sluice::base
