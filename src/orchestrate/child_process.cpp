#include "orchestrate/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

extern char** environ;

namespace sluice::orchestrate {
namespace {

ExitInfo FromWaitStatus(int status) {
  ExitInfo info;
  if (WIFEXITED(status)) info.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) info.signal = WTERMSIG(status);
  return info;
}

// The environment for the child: ours with `extra` added or replacing same-named entries.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> by_key;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    by_key[kv.substr(0, kv.find('='))] = kv;
  }
  for (const auto& kv : extra)
    by_key[kv.substr(0, kv.find('='))] = kv;
  std::vector<std::string> out;
  out.reserve(by_key.size());
  for (auto& [k, kv] : by_key)
    out.push_back(std::move(kv));
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::optional<std::string> ProcessStartId(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::string boot_id;
  std::getline(boot, boot_id);
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // Fields after the command name (which may hold spaces and parentheses): state is field 3,
  // starttime field 22.
  const size_t paren = stat.rfind(')');
  if (boot_id.empty() || paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  return boot_id + "/" + field;
}

base::Result<ChildProcess> ChildProcess::Start(const ProcessSpec& spec) {
  if (spec.argv.empty()) return base::InvalidArgument("a process needs a program");
  std::error_code ec;
  std::filesystem::create_directories(spec.log_path.parent_path(), ec);
  const int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return base::IoError("cannot open log file '" + spec.log_path.string() +
                         "': " + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group (pgid = pid), default signal handling and an empty mask, whatever the
  // parent installed.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP})
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv = spec.argv;
  std::vector<std::string> env = ChildEnvironment(spec.env);
  std::vector<char*> argv_ptrs = Pointers(argv);
  std::vector<char*> env_ptrs = Pointers(env);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, argv[0].c_str(), &actions, &attr, argv_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(log_fd);
  if (rc != 0) {
    return base::IoError("cannot start '" + argv[0] + "' in '" + spec.cwd.string() +
                         "': " + std::strerror(rc));
  }
  // pidfds are close-on-exec from birth, so steps started by other threads do not inherit it.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return ChildProcess(pid, pidfd < 0 ? -1 : pidfd);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), pidfd_(other.pidfd_), ended_(other.ended_) {
  other.pid_ = -1;
  other.pidfd_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Release();
    pid_ = other.pid_;
    pidfd_ = other.pidfd_;
    ended_ = other.ended_;
    other.pid_ = -1;
    other.pidfd_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  Release();
}

void ChildProcess::Release() {
  if (pid_ > 0 && !ended_) KillGroupAndReap();
  if (pidfd_ >= 0) ::close(pidfd_);
  pid_ = -1;
  pidfd_ = -1;
}

void ChildProcess::Detach() {
  if (pidfd_ >= 0) ::close(pidfd_);
  pid_ = -1;
  pidfd_ = -1;
}

std::optional<ExitInfo> ChildProcess::TryReap() {
  if (ended_) return ended_;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    ended_ = FromWaitStatus(status);
    // The step is over; whatever it left running in its group goes with it.
    ::kill(-pid_, SIGKILL);
  } else if (r < 0 && errno == ECHILD) {
    ended_ = ExitInfo{};
  }
  return ended_;
}

ExitInfo ChildProcess::KillGroupAndReap() {
  if (ended_) return *ended_;
  ::kill(-pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  ended_ = r == pid_ ? FromWaitStatus(status) : ExitInfo{};
  return *ended_;
}

}  // namespace sluice::orchestrate
