#include "orchestrate/interrupted_runs.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "base/process_identity.h"
#include "orchestrate/child_process.h"

namespace sluice::orchestrate {
namespace {
namespace fs = std::filesystem;

// Live: not gone and not a zombie (a container's pid 1 may never reap the orphans).
bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

bool DiesSoon(pid_t pid) {
  for (int i = 0; i < 500 && Alive(pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return !Alive(pid);
}

// True once `pid` runs `program` (its comm), i.e. the shell's fork has exec'd: before that the
// fork still carries the step's environment, whatever `env -u` is about to strip.
bool ExecsSoon(pid_t pid, const std::string& program) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    if (std::getline(in, comm) && comm == program) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

pid_t ReadPid(const fs::path& file) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(file);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

class InterruptedRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_interrupted_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    for (pid_t pid : started_) {
      if (Alive(pid)) ::kill(pid, SIGKILL);
    }
    // Orphans this process adopted as a subreaper.
    for (pid_t pid : started_)
      ::waitpid(pid, nullptr, WNOHANG);
    fs::remove_all(dir_);
  }

  // What a `sluice run` killed with -9 leaves: in a process that then dies, a run and an attempt
  // running `script` as a step (own process group, the step's environment), recorded with
  // `process_start` (empty: the real one). Returns the step's pid.
  pid_t DeadRunWithStep(const std::string& script, const std::string& process_start = "") {
    const fs::path pid_file = dir_ / "step.pid";
    fs::remove(pid_file);
    const pid_t runner = ::fork();
    if (runner == 0) {
      auto history = registry::PipelineHistory::Open(dir_ / "registry.sqlite");
      if (!history.ok()) ::_exit(3);
      registry::PipelineRun run;
      run.pipeline = "p";
      run.started_at = "2026-01-01T00:00:00Z";
      auto id = history->BeginRun(run, "p");
      if (!id.ok()) ::_exit(4);
      ProcessSpec spec;
      spec.argv = {"/bin/sh", "-c", "echo $$ > step.pid; " + script};
      spec.cwd = dir_;
      spec.log_path = dir_ / "step.log";
      spec.env = {"SLUICE_RUN_ID=" + std::to_string(*id), "SLUICE_STEP=s"};
      auto child = ChildProcess::Start(spec);
      if (!child.ok()) ::_exit(5);
      registry::StepAttempt a;
      a.run_id = *id;
      a.step = "s";
      a.attempt = 1;
      a.status = "running";
      a.pid = child->pid();
      a.process_start =
          process_start.empty() ? base::ProcessStartId(child->pid()).value_or("") : process_start;
      if (!history->BeginAttempt(a).ok()) ::_exit(6);
      child->Detach();
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(runner, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    const pid_t step = ReadPid(pid_file);
    started_.push_back(step);
    return step;
  }

  Recovery Recover() {
    auto history = registry::PipelineHistory::Open(dir_ / "registry.sqlite");
    EXPECT_TRUE(history.ok());
    auto r = RecoverInterruptedRuns(*history, "2026-01-01T00:01:00Z");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Recovery{};
  }

  fs::path dir_;
  std::vector<pid_t> started_;
};

TEST_F(InterruptedRunsTest, ProcessStartIdTellsProcessesApart) {
  const auto self = base::ProcessStartId(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(base::ProcessStartId(::getpid()), self);
  EXPECT_NE(self->find('/'), std::string::npos);
  // A process started later (by more than a clock tick, the start time's resolution) differs;
  // once gone it has none.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  const auto other = base::ProcessStartId(child);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other, self);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(base::ProcessStartId(child), std::nullopt);
  EXPECT_EQ(base::ProcessStartId(0), std::nullopt);
  EXPECT_EQ(base::ProcessStartId(-1), std::nullopt);
}

TEST_F(InterruptedRunsTest, TheDeadRunsStepGroupIsKilled) {
  // The shell leads its group; its sleeping child is in it too.
  const pid_t step = DeadRunWithStep("sleep 60 & echo $! > child.pid; wait");
  ASSERT_GT(step, 0);
  const pid_t child = ReadPid(dir_ / "child.pid");
  ASSERT_GT(child, 0);
  started_.push_back(child);
  ASSERT_TRUE(Alive(step));
  const Recovery r = Recover();
  ASSERT_EQ(r.runs.size(), 1u);
  ASSERT_EQ(r.killed.size(), 1u);
  EXPECT_EQ(r.killed[0],
            "run " + std::to_string(r.runs[0]) + " step s: process group " + std::to_string(step));
  EXPECT_TRUE(DiesSoon(step));
  EXPECT_TRUE(DiesSoon(child));
  // Recovered once: a second start finds nothing to do.
  EXPECT_TRUE(Recover().runs.empty());
}

TEST_F(InterruptedRunsTest, AnotherProcessWithTheRecordedPidIsLeftAlone) {
  // The pid's recorded identity is not the live process's: as if the step ended and the pid
  // went to an unrelated program. It must survive.
  const pid_t step = DeadRunWithStep("exec env -u SLUICE_RUN_ID sleep 60", "not-this-boot/1");
  ASSERT_GT(step, 0);
  const Recovery r = Recover();
  ASSERT_EQ(r.runs.size(), 1u);
  EXPECT_TRUE(r.killed.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(Alive(step));
}

TEST_F(InterruptedRunsTest, MembersLeftByAGoneLeaderAreKilledOnlyWithTheStepsEnvironment) {
  // The leader exits at once; two sleepers stay in its group, one of them with the step's
  // environment stripped (it could be anything; it is not provably the step's). This process
  // adopts the orphans, so the leader is really gone once reaped here (a container's pid 1 may
  // leave it a zombie, which still proves the group is the step's: then the group is killed).
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  const pid_t step = DeadRunWithStep(
      "sleep 60 & echo $! > ours.pid; env -u SLUICE_RUN_ID sleep 60 & echo $! > other.pid");
  ASSERT_GT(step, 0);
  const pid_t ours = ReadPid(dir_ / "ours.pid");
  const pid_t other = ReadPid(dir_ / "other.pid");
  ASSERT_GT(ours, 0);
  ASSERT_GT(other, 0);
  started_.push_back(ours);
  started_.push_back(other);
  // On a loaded machine the recovery could otherwise see `other` before `env` stripped the
  // variable, and rightly kill it as the step's.
  ASSERT_TRUE(ExecsSoon(ours, "sleep"));
  ASSERT_TRUE(ExecsSoon(other, "sleep"));
  int status = 0;
  ASSERT_EQ(::waitpid(step, &status, 0), step);  // the leader is gone
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  const Recovery r = Recover();
  ASSERT_EQ(r.killed.size(), 1u);
  EXPECT_NE(
      r.killed[0].find("processes " + std::to_string(ours) + " of group " + std::to_string(step)),
      std::string::npos)
      << r.killed[0];
  EXPECT_TRUE(DiesSoon(ours));
  EXPECT_TRUE(Alive(other));
}

}  // namespace
}  // namespace sluice::orchestrate
