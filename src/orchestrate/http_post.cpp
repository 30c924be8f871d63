#include "orchestrate/http_post.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <cerrno>
#include <cstring>

namespace sluice::orchestrate {
namespace {

// Closes the descriptor on every path out.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

bool WaitFor(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  return r == 1;
}

}  // namespace

base::Status HttpPostJson(const std::string& url, const std::string& body, base::Duration timeout) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) return base::InvalidArgument("not an http:// URL: '" + url + "'");
  const std::string rest = url.substr(prefix.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority, port = "80";
  if (const size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  const int ms =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &addrs); rc != 0) {
    return base::Unavailable("cannot resolve '" + host + "': " + ::gai_strerror(rc));
  }
  Socket sock;
  std::string last_error = "no address";
  for (addrinfo* a = addrs; a; a = a->ai_next) {
    Socket s;
    s.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (s.fd < 0) continue;
    int rc = ::connect(s.fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS && WaitFor(s.fd, POLLOUT, ms)) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      std::swap(sock.fd, s.fd);
      break;
    }
    last_error = std::strerror(errno);
  }
  ::freeaddrinfo(addrs);
  if (sock.fd < 0) return base::Unavailable("cannot connect to " + authority + ": " + last_error);
  const std::string request =
      "POST " + path + " HTTP/1.1\r\nHost: " + authority +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    if (!WaitFor(sock.fd, POLLOUT, ms))
      return base::Timeout("sending to " + authority + " timed out");
    const ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return base::Unavailable("sending to " + authority + ": " + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  std::string response;
  while (response.find("\r\n") == std::string::npos && response.size() < 4096) {
    if (!WaitFor(sock.fd, POLLIN, ms)) return base::Timeout("no answer from " + authority);
    char buf[1024];
    const ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 201 Created"
  const size_t sp = response.find(' ');
  if (sp == std::string::npos || response.size() < sp + 4) {
    return base::Unavailable("no HTTP answer from " + authority);
  }
  const std::string status = response.substr(sp + 1, 3);
  if (status[0] != '2') {
    return base::Unavailable(url + " answered " +
                             response.substr(sp + 1, response.find("\r\n") - sp - 1));
  }
  return base::Status::Ok();
}

}  // namespace sluice::orchestrate
