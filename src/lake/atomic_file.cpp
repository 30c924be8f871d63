#include "lake/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "base/kill_point.h"
#include "base/result.h"

namespace sluice::lake {
namespace fs = std::filesystem;

namespace {
base::Status ErrnoError(std::string what, const fs::path& path) {
  return base::IoError(what + " '" + path.string() + "': " + std::strerror(errno),
                       errno == EINTR || errno == EAGAIN);
}
}  // namespace

base::Status SyncPath(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot fsync", path);
  return base::Status::Ok();
}

base::Status WriteFileAtomic(const fs::path& path, std::string_view bytes,
                             std::string_view kill_point) {
  // A random suffix keeps two writers from sharing a temporary file.
  const fs::path tmp = path.string() + TemporarySuffix();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      base::Status s = ErrnoError("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    base::Status s = ErrnoError("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (!kill_point.empty()) base::KillPoint(kill_point);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    base::Status s = ErrnoError("cannot rename into place", path);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncPath(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

base::Status RenameDurable(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("cannot rename to", to);
  return SyncPath(to.parent_path().empty() ? fs::path(".") : to.parent_path());
}

namespace {

constexpr std::string_view kTemporaryMark = ".tmp-";

// Writes all of `data` to `fd`; false on an error (errno set).
bool WriteFully(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

base::Status CopyFileAtomic(const fs::path& from, const fs::path& to, std::string_view kill_point) {
  const fs::path dir = to.parent_path().empty() ? fs::path(".") : to.parent_path();
  const fs::path tmp = dir / ("." + to.filename().string() + TemporarySuffix());
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoError("cannot read", from);
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    base::Status s = ErrnoError("cannot create", tmp);
    ::close(in);
    return s;
  }
  auto fail = [&](base::Status s) {
    ::close(in);
    ::close(out);
    ::unlink(tmp.c_str());
    return s;
  };
  std::error_code size_ec;
  const std::uintmax_t total = fs::file_size(from, size_ec);
  const std::uintmax_t middle = size_ec ? 0 : total / 2;
  std::uintmax_t copied = 0;
  bool killed_midway = kill_point.empty();
  std::string buf(1 << 20, '\0');
  for (;;) {
    // Up to the middle first, so an armed kill point stops the copy with half of it written.
    size_t want = buf.size();
    if (!killed_midway && copied < middle) want = std::min<std::uintmax_t>(want, middle - copied);
    const ssize_t n = ::read(in, buf.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrnoError("cannot read", from));
    }
    if (n == 0) break;
    if (!WriteFully(out, buf.data(), static_cast<size_t>(n))) {
      return fail(ErrnoError("cannot write", tmp));
    }
    copied += static_cast<std::uintmax_t>(n);
    if (!killed_midway && copied >= middle) {
      base::KillPoint(kill_point);
      killed_midway = true;
    }
  }
  if (::fsync(out) != 0) return fail(ErrnoError("cannot fsync", tmp));
  ::close(in);
  if (::close(out) != 0) {
    base::Status s = ErrnoError("cannot write", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), to.c_str()) != 0) {
    base::Status s = ErrnoError("cannot rename into place", to);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncPath(dir);
}

std::string TemporarySuffix() {
  std::random_device rd;
  return std::string(kTemporaryMark) + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

bool IsAbandonedTemporary(const fs::path& path) {
  const std::string name = path.filename().string();
  const size_t mark = name.rfind(kTemporaryMark);
  if (mark == std::string::npos) return false;
  const char* digits = name.data() + mark + kTemporaryMark.size();
  const char* end = name.data() + name.size();
  pid_t pid = 0;
  const auto [ptr, ec] = std::from_chars(digits, end, pid);
  if (ec != std::errc() || ptr == end || *ptr != '-' || pid <= 0) return true;  // no pid in it
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

void RemoveAbandonedTemporaries(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (IsAbandonedTemporary(it->path())) {
      std::error_code rm_ec;
      fs::remove(it->path(), rm_ec);
    }
  }
}

base::Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in && errno == ENOENT) return base::NotFound("no file '" + path.string() + "'");
  if (!in) return base::IoError("cannot read '" + path.string() + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sluice::lake
