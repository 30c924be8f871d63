#include "lake/lake.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <system_error>
#include <utility>

#include "base/kill_point.h"
#include "lake/atomic_file.h"
#include "lake/content_hash.h"

namespace sluice::lake {
namespace fs = std::filesystem;

namespace {

base::Status FsError(const std::string& what, const fs::path& p, const std::error_code& ec) {
  return base::IoError(what + " '" + p.string() + "': " + ec.message());
}

bool IsHexId(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// An exclusive flock(2) on a dataset's lock file, held while its HISTORY is read, changed and
// written: two processes publishing (or a publish and a gc) never lose each other's line. The
// kernel drops the lock when the process dies, so a crash never leaves it held.
class DatasetLock {
 public:
  static base::Result<DatasetLock> Take(const fs::path& dir) {
    const fs::path path = dir / ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return base::IoError("cannot open the lock '" + path.string() + "': " + std::strerror(errno));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return base::IoError("cannot lock '" + path.string() + "': " + std::strerror(err));
    }
    return DatasetLock(fd);
  }
  DatasetLock(DatasetLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DatasetLock& operator=(DatasetLock&&) = delete;
  ~DatasetLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit DatasetLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace

base::Status Lake::Open() {
  std::error_code ec;
  for (const auto& dir : {root_ / "objects", root_ / "versions"}) {
    fs::create_directories(dir, ec);
    if (ec) return FsError("cannot create lake folder", dir, ec);
  }
  // Leftovers of an interrupted write are never referenced: a temporary name is only renamed
  // into place once complete. Those of a process still running are its work in progress.
  for (auto it = fs::recursive_directory_iterator(root_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && IsAbandonedTemporary(it->path())) {
      std::error_code rm_ec;
      fs::remove(it->path(), rm_ec);
    }
  }
  if (ec) return FsError("cannot scan lake", root_, ec);
  // Staging folders are named "<pid>-<random>"; those of processes that are gone belong to
  // interrupted runs and are never published from.
  ec.clear();
  for (auto it = fs::directory_iterator(root_ / "staging", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    pid_t pid = 0;
    std::from_chars(name.data(), name.data() + name.size(), pid);
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code rm_ec;
      fs::remove_all(it->path(), rm_ec);
    }
  }
  return base::Status::Ok();
}

fs::path Lake::ObjectPath(const std::string& sha256) const {
  return root_ / "objects" / sha256.substr(0, 2) / sha256;
}

bool Lake::HasObject(const std::string& sha256) const {
  std::error_code ec;
  return fs::exists(ObjectPath(sha256), ec);
}

namespace {

// Turns O_DIRECT off for `fd`: what is left to write is not whole blocks at aligned offsets.
bool EndDirect(int fd, bool& direct) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags == -1 || ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) == -1) return false;
  direct = false;
  return true;
}

// Writes all of `data` to `fd`, which may have O_DIRECT set (`direct`). O_DIRECT takes only
// whole blocks from aligned memory at aligned offsets: a tail that is not a whole block, or
// anything after a short write, goes through the page cache. False on an I/O error (errno set).
bool WriteAll(int fd, const char* data, size_t size, bool& direct) {
  constexpr size_t kBlock = StagedCopy::kDirectAlignment;
  while (size > 0) {
    if (direct && size % kBlock != 0 && !EndDirect(fd, direct)) return false;
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
    if (direct && static_cast<size_t>(n) % kBlock != 0 && !EndDirect(fd, direct)) return false;
  }
  return true;
}

// Fills `buf` from `fd` up to `size` bytes or the end of the file; -1 on an error.
ssize_t ReadFull(int fd, char* buf, size_t size) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buf + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

base::Result<StagedCopy> StagedCopy::Make(const fs::path& file, const fs::path& dest,
                                          const std::atomic<bool>* cancel, Cache cache) {
  const int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return base::IoError("cannot read '" + file.string() + "': " + std::strerror(errno));
  const int create = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  bool direct = cache == Cache::kBypass;
  int out = direct ? ::open(dest.c_str(), create | O_DIRECT, 0644) : -1;
  if (out < 0) {
    // Some file systems (tmpfs) refuse O_DIRECT: the page cache it is.
    direct = false;
    out = ::open(dest.c_str(), create, 0644);
  }
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return base::IoError("cannot create '" + dest.string() + "': " + std::strerror(err));
  }
  constexpr size_t kBuffer = 1 << 20;
  std::unique_ptr<char, decltype(&std::free)> buf(
      static_cast<char*>(std::aligned_alloc(kDirectAlignment, kBuffer)), &std::free);
  Sha256 h;
  std::uint64_t bytes = 0;
  bool read_failed = buf == nullptr;
  bool write_failed = false;
  bool cancelled = false;
  int write_errno = 0;
  while (!read_failed && !write_failed) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      cancelled = true;
      break;
    }
    const ssize_t n = ReadFull(in, buf.get(), kBuffer);
    if (n < 0) read_failed = true;
    if (n <= 0) break;
    h.Update({buf.get(), static_cast<size_t>(n)});
    if (!WriteAll(out, buf.get(), static_cast<size_t>(n), direct)) {
      write_failed = true;
      write_errno = errno;
    }
    bytes += static_cast<std::uint64_t>(n);
  }
  ::close(in);
  if (::close(out) != 0 && !write_failed) {
    write_failed = true;
    write_errno = errno;
  }
  if (read_failed || write_failed || cancelled) {
    std::error_code ec;
    fs::remove(dest, ec);
    if (cancelled) return base::Cancelled("the copy of '" + file.string() + "' was cancelled");
    return base::IoError(read_failed ? "error while reading '" + file.string() + "'"
                                     : "cannot write '" + dest.string() +
                                           "': " + std::strerror(write_errno));
  }
  std::error_code ec;
  fs::permissions(dest, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read, ec);
  return StagedCopy(dest, h.HexDigest(), bytes);
}

base::Result<std::string> Lake::PutObject(const StagedCopy& copy) {
  return Store(copy.path(), copy.sha256(), /*move=*/true);
}

base::Result<std::string> Lake::PutObject(const fs::path& file, bool move) {
  SLUICE_ASSIGN_OR_RETURN(std::string sha, Sha256File(file));
  return Store(file, sha, move);
}

base::Result<std::string> Lake::Store(const fs::path& file, const std::string& sha, bool move) {
  const fs::path dest = ObjectPath(sha);
  std::error_code ec;
  if (fs::exists(dest, ec)) {
    if (move) fs::remove(file, ec);
    return sha;
  }
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return FsError("cannot create", dest.parent_path(), ec);
  const fs::path tmp = dest.string() + TemporarySuffix();
  if (move) {
    fs::rename(file, tmp, ec);
    if (ec) {
      ec.clear();
      move = false;  // another file system: fall back to a copy
    }
  }
  if (!move) {
    fs::copy_file(file, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) return FsError("cannot copy into the lake", file, ec);
  }
  SLUICE_RETURN_IF_ERROR(SyncPath(tmp));
  // Objects are immutable: read-only makes accidental edits fail loudly.
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read, ec);
  SLUICE_RETURN_IF_ERROR(RenameDurable(tmp, dest));
  return sha;
}

fs::path Lake::VersionsDir(const std::string& dataset) const {
  return root_ / "versions" / dataset;
}

base::Result<std::vector<std::string>> Lake::ReadHistory(const std::string& dataset) const {
  const fs::path path = VersionsDir(dataset) / "HISTORY";
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::vector<std::string>{};
  SLUICE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<std::string> ids;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (!IsHexId(line)) {
      return base::Corruption("'" + path.string() + "' has a malformed line: '" + line + "'");
    }
    ids.push_back(line);
  }
  return ids;
}

base::Result<Manifest> Lake::ReadVersion(const std::string& dataset, const std::string& id) const {
  const fs::path path = VersionsDir(dataset) / (id + ".json");
  SLUICE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto m = ParseManifest(text);
  if (!m.ok()) return m.status().WithContext(path.string());
  if (m->id != id || !ManifestIsIntact(*m)) {
    return base::Corruption("'" + path.string() + "' does not match its id (damaged or edited)");
  }
  return m;
}

base::Result<Lake::PublishResult> Lake::Publish(Manifest manifest) {
  if (manifest.dataset.empty()) return base::InvalidArgument("a manifest needs a dataset name");
  const fs::path dir = VersionsDir(manifest.dataset);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FsError("cannot create", dir, ec);
  // Read-modify-write of HISTORY under the dataset's lock: of two runs publishing the same
  // content at once, the second finds it current and reports it unchanged.
  SLUICE_ASSIGN_OR_RETURN(DatasetLock lock, DatasetLock::Take(dir));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> history, ReadHistory(manifest.dataset));
  return PublishLocked(std::move(manifest), history);
}

base::Result<Lake::PublishResult> Lake::PublishOnto(const std::string& dataset,
                                                    const BuildOnto& build) {
  if (dataset.empty()) return base::InvalidArgument("a manifest needs a dataset name");
  const fs::path dir = VersionsDir(dataset);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FsError("cannot create", dir, ec);
  SLUICE_ASSIGN_OR_RETURN(DatasetLock lock, DatasetLock::Take(dir));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> history, ReadHistory(dataset));
  std::optional<Manifest> current;
  if (!history.empty()) {
    SLUICE_ASSIGN_OR_RETURN(Manifest m, ReadVersion(dataset, history.back()));
    current = std::move(m);
  }
  SLUICE_ASSIGN_OR_RETURN(Manifest manifest, build(current));
  if (manifest.dataset != dataset) {
    return base::Internal("publishing '" + dataset + "': the manifest names dataset '" +
                          manifest.dataset + "'");
  }
  return PublishLocked(std::move(manifest), history);
}

base::Result<Lake::PublishResult> Lake::PublishLocked(Manifest manifest,
                                                      const std::vector<std::string>& history) {
  for (const auto& out : manifest.outputs) {
    if (!HasObject(out.sha256)) {
      return base::Internal("publishing '" + manifest.dataset + "': output '" + out.name +
                            "' is not in the object store");
    }
  }
  manifest.format_version = Manifest::kFormatVersion;
  manifest.id = ComputeManifestId(manifest);
  manifest.checksum = ComputeManifestChecksum(manifest);
  const fs::path dir = VersionsDir(manifest.dataset);
  std::error_code ec;
  if (!history.empty() && history.back() == manifest.id) {
    SLUICE_ASSIGN_OR_RETURN(Manifest current, ReadVersion(manifest.dataset, manifest.id));
    return PublishResult{std::move(current), false};
  }
  const fs::path manifest_path = dir / (manifest.id + ".json");
  // Same content published before (or left by a crash before its commit): keep the first
  // manifest, so its created_at stays the time the content first appeared. A source version's id
  // does not cover its output files' bytes, so that manifest may name other (equally valid)
  // files than this run wrote; it is kept only while the files it names are all there.
  bool adopted = false;
  if (fs::exists(manifest_path, ec)) {
    auto earlier = ReadVersion(manifest.dataset, manifest.id);
    adopted = earlier.ok() && std::all_of(earlier->outputs.begin(), earlier->outputs.end(),
                                          [&](const OutputFile& o) { return HasObject(o.sha256); });
    if (adopted) manifest = std::move(earlier).value();
  }
  if (!adopted) {
    SLUICE_RETURN_IF_ERROR(WriteFileAtomic(manifest_path, ToPrettyJson(manifest) + "\n"));
  }
  base::KillPoint("lake.publish.after_manifest");
  std::string text;
  for (const auto& id : history)
    text += id + "\n";
  text += manifest.id + "\n";
  // The commit point.
  SLUICE_RETURN_IF_ERROR(
      WriteFileAtomic(dir / "HISTORY", text, "lake.publish.before_history_rename"));
  base::KillPoint("lake.publish.after_history_rename");
  return PublishResult{std::move(manifest), true};
}

base::Result<size_t> Lake::RemoveFromHistory(const std::string& dataset,
                                             const std::set<std::string>& ids) {
  const fs::path dir = VersionsDir(dataset);
  SLUICE_ASSIGN_OR_RETURN(DatasetLock lock, DatasetLock::Take(dir));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> history, ReadHistory(dataset));
  if (history.empty()) return size_t{0};
  std::string text;
  size_t removed = 0;
  for (size_t i = 0; i < history.size(); ++i) {
    // The current version stays, whatever was asked: it is what every reader resolves.
    if (i + 1 < history.size() && ids.count(history[i]) && history[i] != history.back()) {
      ++removed;
      continue;
    }
    text += history[i] + "\n";
  }
  if (removed == 0) return removed;
  SLUICE_RETURN_IF_ERROR(WriteFileAtomic(dir / "HISTORY", text, "gc.before_history_rename"));
  return removed;
}

base::Result<std::optional<Manifest>> Lake::Current(const std::string& dataset) const {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> history, ReadHistory(dataset));
  if (history.empty()) return std::optional<Manifest>();
  SLUICE_ASSIGN_OR_RETURN(Manifest m, ReadVersion(dataset, history.back()));
  return std::optional<Manifest>(std::move(m));
}

base::Result<std::vector<Manifest>> Lake::History(const std::string& dataset) const {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> ids, ReadHistory(dataset));
  std::vector<Manifest> out;
  for (const auto& id : ids) {
    SLUICE_ASSIGN_OR_RETURN(Manifest m, ReadVersion(dataset, id));
    out.push_back(std::move(m));
  }
  return out;
}

base::Result<std::vector<std::string>> Lake::Datasets() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(root_ / "versions", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && fs::exists(it->path() / "HISTORY", ec)) {
      names.push_back(it->path().filename().string());
    }
  }
  if (ec) return FsError("cannot list", root_ / "versions", ec);
  std::sort(names.begin(), names.end());
  return names;
}

base::Result<Manifest> Lake::FindVersion(const std::string& id_or_prefix) const {
  if (id_or_prefix.size() < 6 || !IsHexId(id_or_prefix)) {
    return base::InvalidArgument("'" + id_or_prefix +
                                 "' is not a version id (at least 6 lowercase hex characters)");
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> datasets, Datasets());
  std::vector<std::pair<std::string, std::string>> matches;
  for (const auto& d : datasets) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> ids, ReadHistory(d));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (const auto& id : ids) {
      if (id.compare(0, id_or_prefix.size(), id_or_prefix) == 0) matches.emplace_back(d, id);
    }
  }
  if (matches.empty()) return base::NotFound("no dataset version '" + id_or_prefix + "'");
  if (matches.size() > 1) {
    return base::InvalidArgument("version prefix '" + id_or_prefix + "' is ambiguous (" +
                                 std::to_string(matches.size()) + " versions match)");
  }
  return ReadVersion(matches[0].first, matches[0].second);
}

}  // namespace sluice::lake

namespace sluice::lake {

std::vector<std::filesystem::path> Lake::DataFiles(const Manifest& manifest) const {
  std::vector<std::filesystem::path> files;
  for (const auto& out : manifest.outputs) {
    if (out.name == "data" || out.name == "data.parquet") files.push_back(ObjectPath(out.sha256));
  }
  return files;
}

std::filesystem::path Lake::SidecarPath(const Manifest& manifest, std::string_view suffix) const {
  return VersionsDir(manifest.dataset) / (manifest.id + std::string(suffix));
}

}  // namespace sluice::lake
