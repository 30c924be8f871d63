#include "orchestrate/pipeline_runner.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>

#include "config/project_loader.h"
#include "orchestrate/retry_policy.h"

namespace sluice::orchestrate {
namespace {
namespace fs = std::filesystem;
using registry::StepAttempt;

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

base::ProcessingTime At(const std::string& iso) {
  return base::ProcessingTime(base::Duration(*base::ParseTimestampMicros(iso)));
}

class PipelineRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_runner_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto h = registry::PipelineHistory::Open(dir_ / ".sluice" / "registry.sqlite");
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    history_.emplace(std::move(h).value());
  }
  void TearDown() override {
    history_.reset();
    fs::remove_all(dir_);
  }

  // Loads a project whose only pipeline "p" has `steps` (YAML list items, indented 6).
  void Load(const std::string& pipeline_keys, const std::string& steps) {
    const std::string yaml =
        "name: t\npipelines:\n  - name: p\n" + pipeline_keys + "    steps:\n" + steps;
    std::vector<config::Diagnostic> diags;
    auto spec = config::LoadProjectFromString(yaml, "sluice.yaml", &diags);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString() << "\n"
                           << (diags.empty() ? "" : diags[0].ToString());
    spec_ = std::move(spec).value();
    spec_.dir = dir_;
  }

  base::Result<RunOutcome> Run(std::vector<std::string> steps = {}, std::int64_t resume = 0) {
    RunRequest req;
    req.project = &spec_;
    req.pipeline = &spec_.pipelines[0];
    req.steps = std::move(steps);
    req.resume_from = resume;
    req.vars = {{"day", "2026-01-01"}};
    RunnerOptions opt;
    opt.sluice_binary = "/bin/false";
    opt.log_dir = dir_ / ".sluice" / "runs";
    opt.jitter_seed = 7;
    opt.stop = &stop_;
    opt.on_event = [this](const StepEvent& e) {
      events_.push_back(e);
      if (stop_on_start_ && e.kind == StepEvent::Kind::kStarted) stop_ = true;
    };
    return RunPipeline(req, opt, clock_, *history_);
  }

  std::vector<StepAttempt> AttemptsOf(std::int64_t run, const std::string& step) {
    auto attempts = history_->Attempts(run);
    EXPECT_TRUE(attempts.ok());
    std::vector<StepAttempt> out;
    if (!attempts.ok()) return out;
    for (auto& a : *attempts)
      if (a.step == step) out.push_back(a);
    return out;
  }

  fs::path dir_;
  base::ManualClock clock_{At("2026-01-01T00:00:00Z")};
  std::optional<registry::PipelineHistory> history_;
  config::ProjectSpec spec_;
  std::vector<StepEvent> events_;
  std::atomic<bool> stop_{false};
  bool stop_on_start_ = false;
};

TEST_F(PipelineRunnerTest, RunsInDependencyOrderWithParallelBranches) {
  // b and c wait for each other's start file: they only both finish if they run at once.
  Load("    concurrency: 2\n",
       "      - {name: a, run: command, command: 'echo a >> order'}\n"
       "      - {name: b, run: command, depends_on: [a], command: 'touch b.up; i=0; while [ ! -e "
       "c.up ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; test -e c.up && echo b >> "
       "order'}\n"
       "      - {name: c, run: command, depends_on: [a], command: 'touch c.up; i=0; while [ ! -e "
       "b.up ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; test -e b.up && echo c >> "
       "order'}\n"
       "      - {name: d, run: command, depends_on: [b, c], command: 'echo "
       "d-$SLUICE_VAR_day-$SLUICE_STEP >> order'}\n");
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->status, "succeeded");
  const std::string order = ReadFile(dir_ / "order");
  EXPECT_TRUE(order == "a\nb\nc\nd-2026-01-01-d\n" || order == "a\nc\nb\nd-2026-01-01-d\n")
      << order;
  auto run = *history_->Run(out->run_id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->status, "succeeded");
  EXPECT_EQ(run->params,
            (std::vector<std::pair<std::string, std::string>>{{"var.day", "2026-01-01"}}));
  auto a = AttemptsOf(out->run_id, "a");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].exit_code, 0);
  EXPECT_TRUE(fs::exists(a[0].log_path));
}

TEST_F(PipelineRunnerTest, ConcurrencyOneRunsBranchesOneAtATime) {
  // With one slot, b never sees c started (and the other way round): exactly one of them fails.
  Load("    concurrency: 1\n",
       "      - {name: b, run: command, command: 'touch b.up; test ! -e c.up'}\n"
       "      - {name: c, run: command, command: 'touch c.up; test ! -e b.up'}\n");
  auto out = Run();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, "failed");
  EXPECT_NE(out->steps["b"], out->steps["c"]);
}

TEST_F(PipelineRunnerTest, RetriesWithExponentialBackoffAndJitter) {
  Load("    retries: 2\n    retry_backoff: 10s\n",
       "      - {name: flaky, run: command, command: 'echo try >> tries; exit 3'}\n");
  auto out = Run();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, "failed");
  EXPECT_EQ(ReadFile(dir_ / "tries"), "try\ntry\ntry\n");
  auto attempts = AttemptsOf(out->run_id, "flaky");
  ASSERT_EQ(attempts.size(), 3u);
  // The same draws the runner made with seed 7.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(attempts[i].attempt, i + 1);
    EXPECT_EQ(attempts[i].status, "failed");
    EXPECT_EQ(attempts[i].exit_code, 3);
    EXPECT_EQ(attempts[i].error, "exit code 3");
    if (i == 0) continue;
    const base::Duration gap = At(attempts[i].started_at) - At(attempts[i - 1].finished_at);
    EXPECT_EQ(gap, RetryDelay(i, std::chrono::seconds(10), std::chrono::minutes(10), unit(rng)));
  }
}

TEST_F(PipelineRunnerTest, TimeoutKillsTheProcessGroup) {
  Load("",
       "      - {name: slow, run: command, timeout: 5s, command: 'sleep 60 & echo $! > pid; "
       "wait'}\n"
       "      - {name: after, run: command, depends_on: [slow], command: 'true'}\n");
  auto out = Run();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, "failed");
  auto slow = AttemptsOf(out->run_id, "slow");
  ASSERT_EQ(slow.size(), 1u);
  EXPECT_EQ(slow[0].status, "timed_out");
  EXPECT_TRUE(slow[0].timed_out);
  EXPECT_FALSE(slow[0].exit_code.has_value());
  EXPECT_EQ(At(slow[0].finished_at) - At(slow[0].started_at), std::chrono::seconds(5));
  auto after = AttemptsOf(out->run_id, "after");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].status, "skipped");
  EXPECT_EQ(after[0].error, "upstream step 'slow' failed");
  const std::string pid_text = ReadFile(dir_ / "pid");
  if (!pid_text.empty()) {
    const pid_t grandchild = std::stoi(pid_text);
    for (int i = 0; i < 200 && Alive(grandchild); ++i)
      ::usleep(5000);
    EXPECT_FALSE(Alive(grandchild)) << "the step's background process survived";
  }
}

TEST_F(PipelineRunnerTest, FailureSkipsDependentsOtherBranchesGoOn) {
  Load("",
       "      - {name: bad, run: command, command: 'exit 1'}\n"
       "      - {name: child, run: command, depends_on: [bad], command: 'touch child'}\n"
       "      - {name: grandchild, run: command, depends_on: [child], command: 'true'}\n"
       "      - {name: other, run: command, command: 'touch other'}\n");
  auto out = Run();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, "failed");
  EXPECT_EQ(out->steps["bad"], "failed");
  EXPECT_EQ(out->steps["child"], "skipped");
  EXPECT_EQ(out->steps["grandchild"], "skipped");
  EXPECT_EQ(out->steps["other"], "succeeded");
  EXPECT_FALSE(fs::exists(dir_ / "child"));
  EXPECT_TRUE(fs::exists(dir_ / "other"));
  EXPECT_EQ(AttemptsOf(out->run_id, "grandchild")[0].error, "upstream step 'child' was skipped");
  EXPECT_EQ(history_->Run(out->run_id)->value().error, "bad: exit code 1");
}

TEST_F(PipelineRunnerTest, ResumeRunsOnlyWhatDidNotSucceed) {
  Load("",
       "      - {name: a, run: command, command: 'echo a >> ran'}\n"
       "      - {name: b, run: command, depends_on: [a], command: 'test -e fixed && echo b >> "
       "ran'}\n"
       "      - {name: c, run: command, depends_on: [b], command: 'echo c >> ran'}\n");
  auto first = Run();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, "failed");
  EXPECT_EQ(ReadFile(dir_ / "ran"), "a\n");
  std::ofstream(dir_ / "fixed") << "";
  auto second = Run({}, first->run_id);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, "succeeded");
  EXPECT_EQ(second->steps["a"], "reused");
  EXPECT_EQ(ReadFile(dir_ / "ran"), "a\nb\nc\n");
  EXPECT_EQ(history_->Run(second->run_id)->value().resumed_from, first->run_id);
  // A resume of the resume reuses everything.
  auto third = Run({}, second->run_id);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->status, "succeeded");
  EXPECT_EQ(third->steps["c"], "reused");
  EXPECT_EQ(ReadFile(dir_ / "ran"), "a\nb\nc\n");
}

TEST_F(PipelineRunnerTest, StepSelectionRunsOnlyThoseSteps) {
  Load("",
       "      - {name: a, run: command, command: 'echo a >> ran'}\n"
       "      - {name: b, run: command, depends_on: [a], command: 'echo b >> ran'}\n");
  auto out = Run({"b"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, "succeeded");
  EXPECT_EQ(ReadFile(dir_ / "ran"), "b\n");
  auto bad = Run({"nope"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "pipeline 'p' has no step 'nope'");
}

TEST_F(PipelineRunnerTest, ASecondRunOfAPipelineIsRefusedNamingTheHolder) {
  Load("", "      - {name: a, run: command, command: 'true'}\n");
  registry::PipelineRun holder;
  holder.pipeline = "p";
  holder.started_at = "2026-01-01T00:00:00Z";
  auto held = history_->BeginRun(holder, "p");
  ASSERT_TRUE(held.ok());
  auto out = Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(out.status().message(), "pipeline 'p' is already running: run " +
                                        std::to_string(*held) + " by pid " +
                                        std::to_string(::getpid()) + " on " + registry::HostName() +
                                        " since 2026-01-01T00:00:00Z");
  // Another step selection is another lock.
  EXPECT_TRUE(Run({"a"}).ok());
}

TEST_F(PipelineRunnerTest, ARunWhoseProcessDiedIsInterruptedAndItsLockFreed) {
  Load("", "      - {name: a, run: command, command: 'true'}\n");
  const fs::path db = dir_ / ".sluice" / "registry.sqlite";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto h = registry::PipelineHistory::Open(db);
    registry::PipelineRun r;
    r.pipeline = "p";
    r.started_at = "2026-01-01T00:00:00Z";
    ::_exit(h.ok() && h->BeginRun(r, "p").ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->status, "succeeded");
  auto runs = *history_->Runs("p");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].status, "interrupted");
  EXPECT_EQ(runs[1].pid, pid);
}

TEST_F(PipelineRunnerTest, StopKillsRunningStepsAndMarksTheRunInterrupted) {
  Load("", "      - {name: a, run: command, command: 'sleep 60'}\n");
  stop_on_start_ = true;
  auto out = Run();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, "interrupted");
  auto a = AttemptsOf(out->run_id, "a");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].status, "interrupted");
  EXPECT_FALSE(history_->Lock("p")->has_value());
}

}  // namespace
}  // namespace sluice::orchestrate
