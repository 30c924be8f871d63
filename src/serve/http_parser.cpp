#include "serve/http_parser.h"

#include <cstdint>

namespace sluice::serve {

namespace {

// RFC 9110 tchar: what a method or a header name may consist of.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != lower_b[i]) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// A piece of the client's input for an error message: bounded, so a message never grows with
// the input (the JSON writer escapes whatever bytes it holds).
std::string Quote(std::string_view s) {
  constexpr std::size_t kMax = 40;
  return "'" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...'" : "'");
}

// Sets the error in `p` and returns a copy of it (errors are the cold path).
HeadParse Fail(HeadParse& p, int status, std::string_view kind, std::string message) {
  p.state = HeadState::kError;
  p.status = status;
  p.kind = kind;
  p.message = std::move(message);
  return p;
}

HeadParse Malformed(HeadParse& p, std::string message) {
  return Fail(p, 400, "bad_http", "malformed HTTP request: " + std::move(message));
}

HeadParse TooLarge(HeadParse& p, const HttpLimits& limits) {
  return Fail(p, 431, "header_too_large",
              "the request head exceeds the limit of " + std::to_string(limits.max_head_bytes) +
                  " bytes or " + std::to_string(limits.max_headers) + " header fields");
}

// Parses "METHOD SP TARGET SP HTTP/1.x" into p.head; false after Fail/Malformed set the error.
bool ParseRequestLine(std::string_view line, HeadParse& p) {
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    Malformed(p, "the request line " + Quote(line) + " is not 'METHOD /path HTTP/1.1'");
    return false;
  }
  const std::string_view method = line.substr(0, sp1);
  for (char c : method) {
    if (!IsTokenChar(c)) {
      Malformed(p, "the method " + Quote(method) + " holds a character a method may not");
      return false;
    }
  }
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    Malformed(p, "the request line " + Quote(line) + " is not 'METHOD /path HTTP/1.1'");
    return false;
  }
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      Malformed(p, "the request target holds a control character");
      return false;
    }
  }
  if (target.front() != '/') {
    Malformed(p, "the request target " + Quote(target) + " does not start with '/'");
    return false;
  }
  const std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    Malformed(p, "the protocol " + Quote(version) + " is not HTTP/1.0 or HTTP/1.1");
    return false;
  }
  p.head.method = method;
  p.head.target = target;
  p.head.path = target.substr(0, target.find('?'));
  if (version[5] != '1') {
    Fail(p, 505, "http_version_not_supported",
         "the protocol " + Quote(version) + " is not served: use HTTP/1.1");
    return false;
  }
  // Any later 1.x minor version is read as 1.1 (RFC 9110, section 2.5).
  p.head.minor_version = version[7] == '0' ? 0 : 1;
  p.head.keep_alive = p.head.minor_version >= 1;
  return true;
}

}  // namespace

HeadParse ParseRequestHead(std::string_view data, const HttpLimits& limits) {
  HeadParse p;
  std::size_t pos = 0;
  // A client may send empty lines before a request (RFC 9112, section 2.2), for instance
  // after a previous body; they count toward the head's size.
  while (data.substr(pos, 2) == "\r\n")
    pos += 2;

  bool request_line_done = false;
  bool content_length_seen = false;
  bool transfer_encoding_seen = false;
  std::size_t headers = 0;
  while (true) {
    const auto nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (data.size() > limits.max_head_bytes) return TooLarge(p, limits);
      p.state = HeadState::kIncomplete;
      return p;
    }
    if (nl + 1 > limits.max_head_bytes) return TooLarge(p, limits);
    if (nl == pos || data[nl - 1] != '\r') {
      return Malformed(p, "a line of the request head does not end with CRLF");
    }
    const std::string_view line = data.substr(pos, nl - 1 - pos);
    pos = nl + 1;
    if (!request_line_done) {
      if (!ParseRequestLine(line, p)) return p;
      request_line_done = true;
      continue;
    }
    if (line.empty()) break;  // the blank line: the head is complete

    if (++headers > limits.max_headers) return TooLarge(p, limits);
    if (line.front() == ' ' || line.front() == '\t') {
      return Malformed(p, "folded header lines (starting with whitespace) are not accepted");
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Malformed(p, "the header line " + Quote(line) + " is not 'Name: value'");
    }
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) {
        return Malformed(p, "the header name " + Quote(name) + " holds a character a name may not");
      }
    }
    const std::string_view value = TrimOws(line.substr(colon + 1));
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return Malformed(p, "the value of header " + Quote(name) + " holds a control character");
      }
    }

    if (EqualsIgnoreCase(name, "content-length")) {
      // Digits only, at most 18 of them (no overflow); a repeated header must agree, since two
      // readings of one body's length are how requests get smuggled past a proxy.
      bool digits = !value.empty() && value.size() <= 18;
      std::uint64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (!digits) {
        return Malformed(p, "Content-Length " + Quote(value) + " is not a number of bytes");
      }
      if (content_length_seen && n != p.head.content_length) {
        return Malformed(p, "two Content-Length headers disagree");
      }
      content_length_seen = true;
      p.head.content_length = static_cast<std::size_t>(n);
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      transfer_encoding_seen = true;
    } else if (EqualsIgnoreCase(name, "connection")) {
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view option = TrimOws(rest.substr(0, comma));
        if (EqualsIgnoreCase(option, "close")) {
          p.head.keep_alive = false;
        } else if (EqualsIgnoreCase(option, "keep-alive") && p.head.minor_version == 0) {
          p.head.keep_alive = true;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (EqualsIgnoreCase(name, "expect")) {
      p.head.expect_continue = EqualsIgnoreCase(value, "100-continue");
    } else if (EqualsIgnoreCase(name, "authorization")) {
      if (p.head.has_authorization) return Malformed(p, "more than one Authorization header");
      p.head.has_authorization = true;
      p.head.authorization = value;
    } else if (EqualsIgnoreCase(name, "cookie")) {
      if (!p.head.cookie.empty()) return Malformed(p, "more than one Cookie header");
      p.head.cookie = value;
    }
  }

  p.head.head_bytes = pos;
  if (transfer_encoding_seen) {
    return Fail(p, 501, "not_implemented",
                "Transfer-Encoding (chunked request bodies) is not supported: send the body with "
                "a Content-Length header");
  }
  if (p.head.content_length > limits.max_body_bytes) {
    return Fail(p, 413, "body_too_large",
                "the request body exceeds the limit of " + std::to_string(limits.max_body_bytes) +
                    " bytes");
  }
  p.state = HeadState::kComplete;
  return p;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

}  // namespace sluice::serve
