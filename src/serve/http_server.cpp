#include "serve/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "serve/http_parser.h"
#include "serve/json_writer.h"

namespace sluice::serve {

namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPromText = "text/plain; version=0.0.4; charset=utf-8";
// Bytes read per recv: a whole pipelined burst of small requests, or a good part of a body.
constexpr std::size_t kReadChunk = 64 * 1024;
// After the last response on a connection the server closes its side and discards what the
// client still sends for this long, so a client writing a body we refused gets the answer
// instead of a reset (closing a socket with unread data makes the kernel send RST).
constexpr std::chrono::milliseconds kLingerTime{1000};
// How often an event loop looks for connections that outlived their timeouts.
constexpr int kSweepMillis = 250;

// Compares without an early exit, so the time taken does not reveal how much of a guessed
// token was right.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string Errno(int err) {
  return std::strerror(err);
}

// One answer before it is written to the connection.
struct Response {
  int status = 200;
  std::string body;
  std::string_view content_type = kJson;
  std::string_view allow;         // "Allow" header when set
  bool www_authenticate = false;  // "WWW-Authenticate: Bearer"
};

using SteadyTime = std::chrono::steady_clock::time_point;

struct Connection {
  int fd = -1;
  std::string in;  // received, not yet consumed (from in_start)
  std::size_t in_start = 0;
  std::string out;  // to send, from out_sent
  std::size_t out_sent = 0;
  bool continue_sent = false;  // "100 Continue" already sent for the request being received
  bool close_after_write = false;
  bool lingering = false;      // our side is shut down; discarding input until EOF
  bool writing = false;        // registered for EPOLLOUT instead of EPOLLIN
  bool in_request = false;     // part of a request has arrived, not all of it
  SteadyTime request_started;  // when the first byte of that request arrived
  SteadyTime last_activity;
  std::list<Connection>::iterator self;
};

}  // namespace

base::Result<std::pair<std::string, int>> ParseListenAddress(std::string_view address) {
  std::string host;
  std::string_view port_text;
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return base::InvalidArgument("address '" + std::string(address) + "': expected [IPv6]:PORT");
    }
    host = std::string(address.substr(1, close - 1));
    port_text = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return base::InvalidArgument("address '" + std::string(address) +
                                   "': expected HOST:PORT, for example 127.0.0.1:8080");
    }
    host = std::string(address.substr(0, colon));
    port_text = address.substr(colon + 1);
  }
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535 ||
      host.empty()) {
    return base::InvalidArgument("address '" + std::string(address) +
                                 "': the port must be a number from 0 to 65535");
  }
  return std::make_pair(host, port);
}

struct HttpServer::Impl {
  Impl(Backend& b, Metrics& m, base::Clock& c, HttpServerOptions o)
      : backend(b), metrics(m), clock(c), options(std::move(o)) {
    limits.max_body_bytes = options.max_body_bytes;
    bearer = options.token ? "Bearer " + *options.token : "";
  }

  ~Impl() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (stop_fd >= 0) ::close(stop_fd);
    if (spare_fd >= 0) ::close(spare_fd);
  }

  // ---- request handling: routes, auth, metrics (independent of the transport) ----------

  void SetError(Response& res, int status, std::string_view kind, std::string_view message) {
    res.status = status;
    res.body = ErrorBody(status, kind, message);
    res.content_type = kJson;
    metrics.CountError(kind);
  }

  // The token in a "sluice_token=<token>" cookie: how a browser (the console) sends it.
  bool CookieHasToken(std::string_view cookie) const {
    constexpr std::string_view kName = "sluice_token=";
    while (!cookie.empty()) {
      const auto semi = cookie.find(';');
      std::string_view pair = cookie.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ')
        pair.remove_prefix(1);
      if (pair.starts_with(kName) &&
          ConstantTimeEquals(pair.substr(kName.size()), *options.token)) {
        return true;
      }
      if (semi == std::string_view::npos) break;
      cookie.remove_prefix(semi + 1);
    }
    return false;
  }

  bool Authorized(const RequestHead& head) const {
    if (!options.token) return true;
    if (head.has_authorization && ConstantTimeEquals(head.authorization, bearer)) return true;
    return !head.cookie.empty() && CookieHasToken(head.cookie);
  }

  // Refuses an unauthenticated request; true when it may proceed.
  bool CheckAuth(const RequestHead& head, Response& res) {
    if (Authorized(head)) return true;
    res.www_authenticate = true;
    SetError(res, 401, "unauthorized",
             head.has_authorization
                 ? "the bearer token is not valid"
                 : "this endpoint needs an \"Authorization: Bearer <token>\" header");
    return false;
  }

  Response Handle(const RequestHead& head, std::string_view body) {
    Response res;
    const std::string_view path = head.path;
    const bool get = head.method == "GET" || head.method == "HEAD";
    const auto started = clock.Now();
    if (path == "/v1/features" && head.method == "POST") {
      if (CheckAuth(head, res)) {
        Reply reply = backend.Features(body);
        res.status = reply.http_status;
        res.body = std::move(reply.body);
        if (!reply.error_kind.empty()) metrics.CountError(reply.error_kind);
      }
      metrics.ObserveRequest(path, clock.Now() - started);
    } else if (path == "/v1/features" && get) {
      res.allow = "POST";
      SetError(res, 405, "method_not_allowed", "use POST /v1/features with a JSON body");
    } else if (path == "/healthz" && get) {
      res.body = "{\"status\":\"ok\"}\n";
      metrics.ObserveRequest(path, clock.Now() - started);
    } else if (path == "/readyz" && get) {
      Reply reply = backend.Ready();
      res.status = reply.http_status;
      res.body = std::move(reply.body);
      if (!reply.error_kind.empty()) metrics.CountError(reply.error_kind);
      metrics.ObserveRequest(path, clock.Now() - started);
    } else if (path == "/metrics" && get) {
      if (CheckAuth(head, res)) {
        // Observed before rendering, so a scrape includes itself in the histogram count.
        metrics.ObserveRequest(path, clock.Now() - started);
        res.body = metrics.Render() + backend.GaugesText();
        res.content_type = kPromText;
      }
    } else if (std::optional<Reply> page;
               get && (page = backend.Get(head.target, Authorized(head)))) {
      res.status = page->http_status;
      res.body = std::move(page->body);
      if (!page->content_type.empty()) res.content_type = page->content_type;
      if (res.status == 401) res.www_authenticate = true;
      if (!page->error_kind.empty()) metrics.CountError(page->error_kind);
    } else {
      std::string message = "no route ";
      message += head.method;
      message += ' ';
      message += path;
      SetError(res, 404, "not_found", message);
    }
    return res;
  }

  // Appends the response to `out`. `head_only` (a HEAD request) keeps the headers of the GET
  // answer and drops the body.
  static void Serialize(const Response& res, bool close, bool keep_alive_header, bool head_only,
                        std::string& out) {
    char number[24];
    out += "HTTP/1.1 ";
    auto r = std::to_chars(number, number + sizeof(number), res.status);
    out.append(number, r.ptr);
    out += ' ';
    out += ReasonPhrase(res.status);
    out += "\r\nContent-Type: ";
    out += res.content_type;
    out += "\r\nContent-Length: ";
    r = std::to_chars(number, number + sizeof(number), res.body.size());
    out.append(number, r.ptr);
    out += "\r\n";
    if (!res.allow.empty()) {
      out += "Allow: ";
      out += res.allow;
      out += "\r\n";
    }
    if (res.www_authenticate) out += "WWW-Authenticate: Bearer\r\n";
    if (close) {
      out += "Connection: close\r\n";
    } else if (keep_alive_header) {
      out += "Connection: keep-alive\r\n";
    }
    out += "\r\n";
    if (!head_only) out += res.body;
  }

  // ---- transport -------------------------------------------------------------------------

  base::Status Listen() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string port_text = std::to_string(options.port);
    const std::string where = options.host + (options.port == 0 ? " (any port)" : ":" + port_text);
    const int gai = ::getaddrinfo(options.host.c_str(), port_text.c_str(), &hints, &found);
    if (gai != 0) {
      return base::IoError("cannot listen on " + where + ": " + ::gai_strerror(gai));
    }
    int err = 0;
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      const int fd =
          ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) {
        err = errno;
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
        listen_fd = fd;
        break;
      }
      err = errno;
      ::close(fd);
    }
    ::freeaddrinfo(found);
    if (listen_fd < 0) {
      return base::IoError(
          "cannot listen on " + where + " (" + Errno(err) +
          (options.port == 0 ? ")" : "; in use, or not an address of this machine)"));
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);
    port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    // The cap keeps `reserved_fds` of the open-file limit for the store and the rest of the
    // process; with a limit too small for that, half of it.
    rlimit files{};
    std::size_t cap = 1024;
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
      const auto limit = static_cast<std::size_t>(files.rlim_cur);
      cap = limit > 2 * options.reserved_fds ? limit - options.reserved_fds : limit / 2;
    }
    connection_cap = options.max_connections > 0 ? std::min(cap, options.max_connections) : cap;
    // Held so a loop can still take (and close) a connection once the limit is hit anyway.
    spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return base::Status::Ok();
  }

  // One event loop: accepts connections (the listening socket is shared by every loop, and the
  // kernel wakes one idle loop per connection), reads requests, answers them in order, and on
  // stop finishes what it holds. Requests are handled on the loop's own thread: a backend call
  // that waits (Redis, DuckDB) holds up this loop's other connections, which is why there are
  // several loops.
  class Loop {
   public:
    explicit Loop(Impl& impl) : impl_(impl) {}
    ~Loop() {
      for (auto& c : connections_)
        ::close(c.fd);
      if (epoll_fd_ >= 0) ::close(epoll_fd_);
    }

    base::Status Init() {
      epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
      if (epoll_fd_ < 0) return base::IoError("epoll_create1: " + Errno(errno));
      epoll_event ev{};
      // Exclusive: a new connection wakes one waiting loop, not all of them.
      ev.events = EPOLLIN | EPOLLEXCLUSIVE;
      ev.data.ptr = &listen_tag_;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, impl_.listen_fd, &ev) != 0) {
        return base::IoError("epoll_ctl (listening socket): " + Errno(errno));
      }
      ev.events = EPOLLIN;
      ev.data.ptr = &stop_tag_;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, impl_.stop_fd, &ev) != 0) {
        return base::IoError("epoll_ctl (stop event): " + Errno(errno));
      }
      return base::Status::Ok();
    }

    void Run() {
      std::vector<epoll_event> events(64);
      auto next_sweep = std::chrono::steady_clock::now();
      while (!stopping_ || !connections_.empty()) {
        const int n =
            ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), kSweepMillis);
        if (n < 0 && errno != EINTR) break;  // only EBADF/EINVAL: a bug, not a client
        bool stop_seen = false;
        for (int i = 0; i < n; ++i) {
          void* tag = events[i].data.ptr;
          if (tag == &listen_tag_) {
            Accept();
          } else if (tag == &stop_tag_) {
            stop_seen = true;
          } else {
            // May close (and free) this connection, never another: events later in this
            // round still point at live connections.
            OnEvent(*static_cast<Connection*>(tag), events[i].events);
          }
        }
        // After the round, because it may close any connection, including ones with events
        // still to be handled above.
        if (stop_seen && !stopping_) BeginStop();
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_sweep) {
          Sweep(now);
          next_sweep = now + std::chrono::milliseconds(kSweepMillis);
        }
      }
    }

   private:
    void Accept() {
      // A handful per wake-up, so one loop does not take a burst of connections that several
      // idle loops could share.
      for (int i = 0; i < 8 && !stopping_; ++i) {
        const int fd = ::accept4(impl_.listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          // Out of descriptors in spite of the cap: the pending connection would wake every
          // loop forever. Give up the spare descriptor to take it, refuse it, take the spare back.
          if ((errno == EMFILE || errno == ENFILE) && impl_.TakeSpare()) {
            const int refused = ::accept4(impl_.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (refused >= 0) Refuse(refused);
            impl_.RestoreSpare();
            continue;
          }
          return;  // EAGAIN: another loop took it; anything else: the client's problem
        }
        if (impl_.open_connections.fetch_add(1) >= impl_.connection_cap) {
          impl_.open_connections.fetch_sub(1);
          Refuse(fd);
          continue;
        }
        impl_.metrics.AddOpenConnections(1);
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        connections_.emplace_front();
        Connection& c = connections_.front();
        c.fd = fd;
        c.self = connections_.begin();
        c.last_activity = std::chrono::steady_clock::now();
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = &c;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) Close(c);
      }
    }

    // A connection over the cap: a 503 if the socket takes it at once, then closed. The request
    // is never read, so clients see the answer, or a reset if they were still sending.
    void Refuse(int fd) {
      Response res;
      impl_.SetError(res, 503, "connection_limit",
                     "too many connections: the server is at its connection limit; retry later");
      std::string out;
      Serialize(res, /*close=*/true, false, false, out);
      (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      impl_.metrics.CountRefusedConnection();
      impl_.metrics.CountRequest("", 503);
    }

    // Stop: no new connections; idle ones close now, the others once their requests are
    // answered (or they time out).
    void BeginStop() {
      stopping_ = true;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, impl_.listen_fd, nullptr);
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, impl_.stop_fd, nullptr);
      for (auto it = connections_.begin(); it != connections_.end();) {
        Connection& c = *it++;
        // A request may be waiting in the socket: read it before deciding the connection is
        // idle. OnReadable closes the connection when that leaves nothing to do.
        if (!c.writing && !c.lingering) OnReadable(c);
      }
    }

    void Sweep(SteadyTime now) {
      for (auto it = connections_.begin(); it != connections_.end();) {
        Connection& c = *it++;
        const auto idle = now - c.last_activity;
        if (c.lingering ? idle >= kLingerTime : idle >= impl_.options.keep_alive_timeout) {
          Close(c);
        } else if (c.in_request && !c.writing && !c.lingering && !c.close_after_write &&
                   now - c.request_started >= impl_.options.request_timeout) {
          TimeOut(c);
        }
      }
    }

    // The request did not arrive in time: 408, then the connection closes (its stream cannot be
    // framed any more).
    void TimeOut(Connection& c) {
      Response res;
      impl_.SetError(res, 408, "request_timeout",
                     "the request's head and body did not arrive within " +
                         std::to_string(impl_.options.request_timeout.count()) + " ms");
      impl_.metrics.CountRequest("", 408);
      Serialize(res, /*close=*/true, false, false, c.out);
      c.close_after_write = true;
      c.in_request = false;
      c.in.clear();
      c.in_start = 0;
      Flush(c);
    }

    void OnEvent(Connection& c, std::uint32_t events) {
      if (events & (EPOLLERR | EPOLLHUP)) {
        Close(c);
        return;
      }
      if (c.writing) {
        if (events & EPOLLOUT) Flush(c);
        return;
      }
      if (events & (EPOLLIN | EPOLLRDHUP)) OnReadable(c);
    }

    void OnReadable(Connection& c) {
      char buf[kReadChunk];
      const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          if (stopping_ && Idle(c)) Close(c);
          return;
        }
        Close(c);
        return;
      }
      if (n == 0) {  // the client closed its side: nothing more will arrive
        Close(c);
        return;
      }
      c.last_activity = std::chrono::steady_clock::now();
      if (c.lingering) return;  // discarded
      if (!c.in_request && !c.close_after_write) {
        c.in_request = true;
        c.request_started = c.last_activity;
      }
      c.in.append(buf, static_cast<std::size_t>(n));
      Process(c);
    }

    static bool Idle(const Connection& c) { return c.in_start == c.in.size() && c.out.empty(); }

    // Answers every complete request in the input, in order, into one output buffer (a
    // pipelining client gets all its answers in one write), then writes.
    void Process(Connection& c) {
      while (!c.close_after_write) {
        const std::string_view pending = std::string_view(c.in).substr(c.in_start);
        if (pending.empty()) break;
        HeadParse p = ParseRequestHead(pending, impl_.limits);
        if (p.state == HeadState::kIncomplete) break;
        if (p.state == HeadState::kError) {
          Response res;
          impl_.SetError(res, p.status, p.kind, p.message);
          impl_.metrics.CountRequest(p.head.path, res.status);
          // The rest of the stream cannot be framed any more: answer and close.
          Serialize(res, /*close=*/true, false, false, c.out);
          c.close_after_write = true;
          c.in.clear();
          c.in_start = 0;
          break;
        }
        const RequestHead& head = p.head;
        if (pending.size() - head.head_bytes < head.content_length) {
          if (head.expect_continue && !c.continue_sent) {
            c.out += "HTTP/1.1 100 Continue\r\n\r\n";
            c.continue_sent = true;
          }
          break;
        }
        const std::string_view body = pending.substr(head.head_bytes, head.content_length);
        Response res;
        try {
          res = impl_.Handle(head, body);
        } catch (const std::exception& e) {
          res = Response();
          impl_.SetError(res, 500, "internal", std::string("internal error: ") + e.what());
        } catch (...) {
          res = Response();
          impl_.SetError(res, 500, "internal", "internal error: unknown exception");
        }
        impl_.metrics.CountRequest(head.path, res.status);
        const bool close = !head.keep_alive || stopping_;
        Serialize(res, close, head.keep_alive && head.minor_version == 0, head.method == "HEAD",
                  c.out);
        c.in_start += head.head_bytes + head.content_length;
        c.continue_sent = false;
        // A pipelined request behind this one starts its clock now.
        c.request_started = std::chrono::steady_clock::now();
        if (close) c.close_after_write = true;
      }
      // Keep the unread rest at the front: a connection holds at most one partial request.
      if (c.in_start == c.in.size()) {
        c.in.clear();
        c.in_start = 0;
        c.in_request = false;
      } else if (c.in_start > 0) {
        c.in.erase(0, c.in_start);
        c.in_start = 0;
      }
      Flush(c);
    }

    void Flush(Connection& c) {
      while (c.out_sent < c.out.size()) {
        const ssize_t n =
            ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) {
            // The client reads slower than we answer: wait for room, and read no more requests
            // from it until then.
            Watch(c, /*writing=*/true);
            return;
          }
          Close(c);
          return;
        }
        c.out_sent += static_cast<std::size_t>(n);
        c.last_activity = std::chrono::steady_clock::now();
      }
      c.out.clear();
      c.out_sent = 0;
      if (c.close_after_write) {
        Linger(c);
        return;
      }
      if (c.writing) {
        if (!Watch(c, /*writing=*/false)) return;
        // Requests that arrived while we were waiting to write are already in the buffer.
        if (c.in_start < c.in.size()) {
          Process(c);
          return;
        }
      }
      if (stopping_ && Idle(c)) Close(c);
    }

    void Linger(Connection& c) {
      ::shutdown(c.fd, SHUT_WR);
      c.lingering = true;
      c.in.clear();
      c.in_start = 0;
      c.last_activity = std::chrono::steady_clock::now();
      if (c.writing) Watch(c, /*writing=*/false);
    }

    // False when the connection had to be closed (and `c` is gone).
    bool Watch(Connection& c, bool writing) {
      epoll_event ev{};
      ev.events = writing ? EPOLLOUT : (EPOLLIN | EPOLLRDHUP);
      ev.data.ptr = &c;
      c.writing = writing;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) == 0) return true;
      Close(c);
      return false;
    }

    void Close(Connection& c) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      connections_.erase(c.self);
      impl_.open_connections.fetch_sub(1);
      impl_.metrics.AddOpenConnections(-1);
    }

    Impl& impl_;
    int epoll_fd_ = -1;
    char listen_tag_ = 0;
    char stop_tag_ = 0;
    bool stopping_ = false;
    std::list<Connection> connections_;
  };

  Backend& backend;
  Metrics& metrics;
  base::Clock& clock;
  HttpServerOptions options;
  HttpLimits limits;
  std::string bearer;  // "Bearer <token>"
  int listen_fd = -1;
  int stop_fd = -1;
  int port = 0;
  std::atomic<bool> stop_requested{false};
  std::size_t connection_cap = 0;  // set by Listen
  std::atomic<std::size_t> open_connections{0};
  // A descriptor held in reserve (see Loop::Accept); -1 while a loop uses its slot.
  std::mutex spare_mu;
  int spare_fd = -1;

  bool TakeSpare() {
    std::lock_guard lock(spare_mu);
    if (spare_fd < 0) return false;
    ::close(spare_fd);
    spare_fd = -1;
    return true;
  }
  void RestoreSpare() {
    std::lock_guard lock(spare_mu);
    if (spare_fd < 0) spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
};

HttpServer::HttpServer(Backend& backend, Metrics& metrics, base::Clock& clock,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(backend, metrics, clock, std::move(options))) {
  // Level-triggered and never read: once written, every loop sees it until the loop removes it.
  impl_->stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

HttpServer::~HttpServer() {
  Stop();
}

base::Result<int> HttpServer::Bind() {
  if (impl_->stop_fd < 0) return base::IoError("eventfd: " + Errno(errno));
  if (impl_->listen_fd < 0) SLUICE_RETURN_IF_ERROR(impl_->Listen());
  return impl_->port;
}

base::Status HttpServer::Run() {
  if (impl_->listen_fd < 0) return base::FailedPrecondition("HttpServer::Run before Bind");
  if (impl_->stop_requested) return base::Status::Ok();
  const int n = std::max(1, impl_->options.threads);
  std::vector<std::unique_ptr<Impl::Loop>> loops;
  for (int i = 0; i < n; ++i) {
    loops.push_back(std::make_unique<Impl::Loop>(*impl_));
    SLUICE_RETURN_IF_ERROR(loops.back()->Init());
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i)
    threads.emplace_back([&loop = *loops[i]] { loop.Run(); });
  loops[0]->Run();
  for (auto& t : threads)
    t.join();
  // Nothing accepts any more: refuse new connections instead of leaving them in the backlog.
  ::close(impl_->listen_fd);
  impl_->listen_fd = -1;
  return base::Status::Ok();
}

void HttpServer::Stop() {
  impl_->stop_requested = true;
  if (impl_->stop_fd >= 0) {
    const std::uint64_t one = 1;
    // Cannot fail short of a counter overflow; the eventfd stays readable either way.
    (void)!::write(impl_->stop_fd, &one, sizeof(one));
  }
}

}  // namespace sluice::serve
