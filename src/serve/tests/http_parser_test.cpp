// The HTTP request-head parser: what it accepts, every refusal (status, kind, message), and
// that it waits for more input rather than guessing.
#include "serve/http_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::serve {
namespace {

HeadParse Parse(std::string_view data, HttpLimits limits = {}) {
  return ParseRequestHead(data, limits);
}

void ExpectError(std::string_view data, int status, std::string_view kind,
                 std::string_view message_part, HttpLimits limits = {}) {
  const HeadParse p = ParseRequestHead(data, limits);
  ASSERT_EQ(p.state, HeadState::kError) << data;
  EXPECT_EQ(p.status, status) << data;
  EXPECT_EQ(p.kind, kind) << data;
  EXPECT_NE(p.message.find(message_part), std::string::npos) << p.message;
}

TEST(ParseRequestHead, PostWithBody) {
  const std::string req =
      "POST /v1/features?debug=1 HTTP/1.1\r\nHost: x\r\ncontent-length:  12 \r\n"
      "Authorization: Bearer abc\r\nExpect: 100-Continue\r\n\r\n{\"view\":\"v\"}";
  const HeadParse p = Parse(req);
  ASSERT_EQ(p.state, HeadState::kComplete) << p.message;
  EXPECT_EQ(p.head.method, "POST");
  EXPECT_EQ(p.head.target, "/v1/features?debug=1");
  EXPECT_EQ(p.head.path, "/v1/features");
  EXPECT_EQ(p.head.minor_version, 1);
  EXPECT_EQ(p.head.content_length, 12u);
  EXPECT_EQ(req.substr(p.head.head_bytes), "{\"view\":\"v\"}");
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_TRUE(p.head.expect_continue);
  ASSERT_TRUE(p.head.has_authorization);
  EXPECT_EQ(p.head.authorization, "Bearer abc");
  EXPECT_TRUE(p.head.cookie.empty());
}

TEST(ParseRequestHead, CookieHeader) {
  HttpLimits limits;
  auto p = ParseRequestHead("GET / HTTP/1.1\r\nCookie: a=1; sluice_token=t\r\n\r\n", limits);
  ASSERT_EQ(p.state, HeadState::kComplete) << p.message;
  EXPECT_EQ(p.head.cookie, "a=1; sluice_token=t");
  p = ParseRequestHead("GET / HTTP/1.1\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n", limits);
  EXPECT_EQ(p.state, HeadState::kError);
  EXPECT_EQ(p.status, 400);
  EXPECT_NE(p.message.find("Cookie"), std::string::npos);
}

TEST(ParseRequestHead, EveryPrefixIsIncomplete) {
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
  for (std::size_t n = 0; n < req.size(); ++n) {
    EXPECT_EQ(Parse(req.substr(0, n)).state, HeadState::kIncomplete) << n;
  }
  EXPECT_EQ(Parse(req).state, HeadState::kComplete);
}

TEST(ParseRequestHead, PipelinedStopsAtTheFirstBlankLine) {
  const std::string first = "GET /healthz HTTP/1.1\r\n\r\n";
  const std::string both = first + "GET /readyz HTTP/1.1\r\n\r\n";  // views point into it
  const HeadParse p = Parse(both);
  ASSERT_EQ(p.state, HeadState::kComplete);
  EXPECT_EQ(p.head.head_bytes, first.size());
  EXPECT_EQ(p.head.path, "/healthz");
  EXPECT_EQ(p.head.content_length, 0u);
}

TEST(ParseRequestHead, LeadingEmptyLinesAreSkipped) {
  const HeadParse p = Parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(p.state, HeadState::kComplete);
  EXPECT_EQ(p.head.path, "/");
  EXPECT_EQ(p.head.head_bytes, 22u);
}

TEST(ParseRequestHead, ConnectionOptions) {
  EXPECT_TRUE(Parse("GET / HTTP/1.1\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  const HeadParse p = Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_EQ(p.head.minor_version, 0);
  // A later 1.x is read as 1.1.
  EXPECT_EQ(Parse("GET / HTTP/1.7\r\n\r\n").head.minor_version, 1);
}

TEST(ParseRequestHead, MalformedRequestLine) {
  ExpectError("GET /\r\n\r\n", 400, "bad_http", "is not 'METHOD /path HTTP/1.1'");
  ExpectError("GET  / HTTP/1.1\r\n\r\n", 400, "bad_http", "is not 'METHOD /path HTTP/1.1'");
  ExpectError(" GET / HTTP/1.1\r\n\r\n", 400, "bad_http", "is not 'METHOD /path HTTP/1.1'");
  ExpectError("G(T / HTTP/1.1\r\n\r\n", 400, "bad_http", "the method 'G(T'");
  ExpectError("GET http://x/ HTTP/1.1\r\n\r\n", 400, "bad_http", "does not start with '/'");
  ExpectError("GET /a\x01 HTTP/1.1\r\n\r\n", 400, "bad_http", "control character");
  ExpectError("GET / HTTP/1.1 \r\n\r\n", 400, "bad_http", "is not HTTP/1.0 or HTTP/1.1");
  ExpectError("GET / FTP/1.1\r\n\r\n", 400, "bad_http", "is not HTTP/1.0 or HTTP/1.1");
  ExpectError("GET / HTTP/2.0\r\n\r\n", 505, "http_version_not_supported", "use HTTP/1.1");
  // Rejected as soon as the bad line is complete, without waiting for the rest of the head.
  ExpectError("BAD\r\n", 400, "bad_http", "request line 'BAD'");
}

TEST(ParseRequestHead, LinesMustEndWithCrlf) {
  ExpectError("GET / HTTP/1.1\n\n", 400, "bad_http", "does not end with CRLF");
  ExpectError("GET / HTTP/1.1\r\nHost: x\n\r\n", 400, "bad_http", "does not end with CRLF");
}

TEST(ParseRequestHead, MalformedHeaders) {
  ExpectError("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "bad_http", "is not 'Name: value'");
  ExpectError("GET / HTTP/1.1\r\n: empty\r\n\r\n", 400, "bad_http", "is not 'Name: value'");
  ExpectError("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "bad_http", "header name 'Host '");
  ExpectError("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, "bad_http", "folded");
  ExpectError(std::string("GET / HTTP/1.1\r\nA: b") + '\0' + "c\r\n\r\n", 400, "bad_http",
              "control character");
  ExpectError("GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n", 400, "bad_http",
              "more than one Authorization");
}

TEST(ParseRequestHead, BadContentLength) {
  for (const char* bad : {"abc", "-1", "", "1 2", "+5", "0x10", "1234567890123456789"}) {
    ExpectError(std::string("POST / HTTP/1.1\r\nContent-Length: ") + bad + "\r\n\r\n", 400,
                "bad_http", "is not a number of bytes");
  }
  ExpectError("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, "bad_http",
              "two Content-Length headers disagree");
  const HeadParse same = Parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
  ASSERT_EQ(same.state, HeadState::kComplete);
  EXPECT_EQ(same.head.content_length, 5u);
}

TEST(ParseRequestHead, BodyOverTheLimitKeepsTheRoute) {
  HttpLimits limits;
  limits.max_body_bytes = 100;
  EXPECT_EQ(Parse("POST /v1/features HTTP/1.1\r\nContent-Length: 100\r\n\r\n", limits).state,
            HeadState::kComplete);
  const HeadParse p = Parse("POST /v1/features HTTP/1.1\r\nContent-Length: 101\r\n\r\n", limits);
  ASSERT_EQ(p.state, HeadState::kError);
  EXPECT_EQ(p.status, 413);
  EXPECT_EQ(p.kind, "body_too_large");
  EXPECT_EQ(p.message, "the request body exceeds the limit of 100 bytes");
  EXPECT_EQ(p.head.path, "/v1/features");  // counted under its route in /metrics
}

TEST(ParseRequestHead, TransferEncodingIsNotImplemented) {
  ExpectError("POST /v1/features HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
              "not_implemented", "send the body with a Content-Length");
  // Together with a Content-Length (a classic smuggling pattern) as well.
  ExpectError("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
              "not_implemented", "Transfer-Encoding");
}

TEST(ParseRequestHead, OversizeHeads) {
  HttpLimits limits;
  limits.max_head_bytes = 64;
  limits.max_headers = 3;
  // No end in sight after the limit: refused without waiting for the rest.
  ExpectError("GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), 431, "header_too_large",
              "exceeds the limit of 64 bytes", limits);
  // Complete, but too long.
  ExpectError("GET / HTTP/1.1\r\nX: " + std::string(60, 'a') + "\r\n\r\n", 431, "header_too_large",
              "64 bytes", limits);
  ExpectError("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431, "header_too_large",
              "3 header fields", limits);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits).state,
            HeadState::kComplete);
  // Up to the limit, an unfinished head is just incomplete.
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nX: " + std::string(40, 'a'), limits).state,
            HeadState::kIncomplete);
}

TEST(ParseRequestHead, MessagesAreBounded) {
  const HeadParse p = Parse(std::string(5000, '(') + " / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(p.state, HeadState::kError);
  EXPECT_LT(p.message.size(), 200u);
}

TEST(ReasonPhrase, KnownAndFallback) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(413), "Content Too Large");
  EXPECT_EQ(ReasonPhrase(418), "Bad Request");
  EXPECT_EQ(ReasonPhrase(599), "Internal Server Error");
}

}  // namespace
}  // namespace sluice::serve
