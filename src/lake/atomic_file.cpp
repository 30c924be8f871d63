#include "lake/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

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

base::Status WriteFileAtomic(const fs::path& path, std::string_view bytes) {
  // A random suffix keeps two writers from sharing a temporary file.
  std::random_device rd;
  const fs::path tmp = path.string() + ".tmp-" + std::to_string(rd());
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

base::Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in && errno == ENOENT) return base::NotFound("no file '" + path.string() + "'");
  if (!in) return base::IoError("cannot read '" + path.string() + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sluice::lake
