#include "orchestrate/child_process.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

namespace sluice::orchestrate {
namespace {
namespace fs = std::filesystem;

// Whether `pid` is a live process: gone, or a zombie nobody reaped yet (a container's pid 1 may
// never reap), both count as dead.
bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ChildProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_child_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ExitInfo WaitFor(ChildProcess& c) {
    while (true) {
      if (auto e = c.TryReap()) return *e;
      pollfd fd{c.wait_fd(), POLLIN, 0};
      ::poll(&fd, c.wait_fd() >= 0 ? 1 : 0, 10);
    }
  }
  fs::path dir_;
};

TEST_F(ChildProcessTest, CapturesOutputExitCodeCwdAndEnvironment) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "pwd; echo out $SLUICE_X; echo err >&2; exit 7"};
  spec.cwd = dir_;
  spec.log_path = dir_ / "logs" / "a.log";
  spec.env = {"SLUICE_X=hello"};
  auto child = ChildProcess::Start(spec);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(::getpgid(child->pid()), child->pid()) << "not its own process group";
  const ExitInfo e = WaitFor(*child);
  ASSERT_TRUE(e.exit_code.has_value());
  EXPECT_EQ(*e.exit_code, 7);
  EXPECT_EQ(ReadFile(spec.log_path), fs::canonical(dir_).string() + "\nout hello\nerr\n");
}

TEST_F(ChildProcessTest, KillingTheGroupKillsGrandchildren) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "sleep 60 & echo $! > grandchild; wait"};
  spec.cwd = dir_;
  spec.log_path = dir_ / "b.log";
  auto child = ChildProcess::Start(spec);
  ASSERT_TRUE(child.ok());
  while (ReadFile(dir_ / "grandchild").empty())
    ::usleep(5000);
  const pid_t grandchild = std::stoi(ReadFile(dir_ / "grandchild"));
  const ExitInfo e = child->KillGroupAndReap();
  EXPECT_EQ(e.signal, SIGKILL);
  // The grandchild was killed too (it may linger as a zombie of init for a moment).
  for (int i = 0; i < 200 && Alive(grandchild); ++i)
    ::usleep(5000);
  EXPECT_FALSE(Alive(grandchild));
}

TEST_F(ChildProcessTest, MissingProgramAndUnwritableLogAreErrors) {
  ProcessSpec spec;
  spec.argv = {(dir_ / "no_such_program").string()};
  spec.cwd = dir_;
  spec.log_path = dir_ / "c.log";
  auto child = ChildProcess::Start(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("no_such_program"), std::string::npos);

  spec.argv = {"/bin/true"};
  spec.log_path = dir_ / "c.log" / "under_a_file.log";
  auto bad_log = ChildProcess::Start(spec);
  ASSERT_FALSE(bad_log.ok());
  EXPECT_NE(bad_log.status().message().find("cannot open log file"), std::string::npos);
}

}  // namespace
}  // namespace sluice::orchestrate
