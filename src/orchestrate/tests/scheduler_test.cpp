#include "orchestrate/scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "config/project_loader.h"
#include "orchestrate/scheduler_loop.h"

namespace sluice::orchestrate {
namespace {
namespace fs = std::filesystem;

base::ProcessingTime T(const std::string& iso) {
  return base::ProcessingTime(base::Duration(*base::ParseTimestampMicros(iso)));
}

ScheduledPipeline Every(const std::string& name, const std::string& cron, CatchUp c, int max) {
  ScheduledPipeline p;
  p.name = name;
  p.schedule = *base::ParseCronSchedule(cron);
  p.catchup = c;
  p.max_active_runs = max;
  return p;
}

std::string Names(const std::vector<Launch>& v) {
  std::string out;
  for (const auto& l : v)
    out += l.pipeline + "/" + l.trigger +
           (l.scheduled_at ? "@" + base::FormatTime(*l.scheduled_at).substr(11, 5) : "") + " ";
  return out;
}

TEST(SchedulerTest, MaxActiveRunsQueuesCaughtUpFiresInOrder) {
  Scheduler s({Every("p", "* * * * *", CatchUp::kAll, 2)}, T("2026-01-01T00:00:00Z"),
              {{"p", T("2026-01-01T00:00:00Z")}}, nullptr);
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:05:00Z"))), "p/schedule@00:01 p/schedule@00:02 ");
  EXPECT_EQ(s.Active("p"), 2);
  EXPECT_EQ(s.Queued("p"), 3u);
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:05:10Z"))), "");  // still two running
  s.Finished("p");
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:05:20Z"))), "p/schedule@00:03 ");
  s.Finished("p");
  s.Finished("p");
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:06:00Z"))), "p/schedule@00:04 p/schedule@00:05 ");
  EXPECT_EQ(s.Queued("p"), 1u);  // 00:06 waits
  EXPECT_EQ(base::FormatTime(*s.NextWake()), "2026-01-01T00:07:00Z");
}

TEST(SchedulerTest, CatchUpNoneStartsFromNow) {
  Scheduler s({Every("p", "0 * * * *", CatchUp::kNone, 1)}, T("2026-01-02T00:30:00Z"),
              {{"p", T("2026-01-01T00:00:00Z")}}, nullptr);
  EXPECT_EQ(Names(s.Tick(T("2026-01-02T00:30:00Z"))), "");
  EXPECT_EQ(Names(s.Tick(T("2026-01-02T01:00:00Z"))), "p/schedule@01:00 ");
}

TEST(SchedulerTest, NewSourceVersionsTriggerOneRunPerBurst) {
  std::map<std::string, std::optional<std::string>> versions = {{"tx", "v1"}};
  ScheduledPipeline p;
  p.name = "p";
  p.on_new_version = {"tx"};
  int probes = 0;
  Scheduler s({p}, T("2026-01-01T00:00:00Z"), {}, [&](const std::string& src) {
    ++probes;
    return versions[src];
  });
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:00:01Z"))), "");  // v1 was there at start
  versions["tx"] = "v2";
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:00:02Z"))), "p/source:tx ");
  versions["tx"] = "v3";
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:00:03Z"))), "");  // one run active
  versions["tx"] = "v4";
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:00:04Z"))), "");
  EXPECT_EQ(s.Queued("p"), 1u);  // v3 and v4: one run waiting, not two
  s.Finished("p");
  EXPECT_EQ(Names(s.Tick(T("2026-01-01T00:00:05Z"))), "p/source:tx ");
  EXPECT_EQ(probes, 6);  // one look per tick (and one at start), nothing else
  EXPECT_FALSE(s.NextWake().has_value());
}

class SchedulerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_sched_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // A stand-in for the sluice binary: records how it was called.
    std::ofstream(dir_ / "fake_sluice")
        << "#!/bin/sh\necho \"$@\" >> " << (dir_ / "calls").string() << "\n";
    fs::permissions(dir_ / "fake_sluice", fs::perms::owner_all);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SchedulerLoopTest, StartsDueRunsAsProcessesAndRecordsNothingItself) {
  auto spec = config::LoadProjectFromString(
      "name: t\npipelines:\n  - name: p\n    schedule: '*/10 * * * *'\n    catchup: all\n"
      "    steps: [{name: a, run: command, command: 'true'}]\n"
      "  - name: q\n    steps: [{name: a, run: command, command: 'true'}]\n",
      "sluice.yaml", nullptr);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  spec->dir = dir_;
  auto history = registry::PipelineHistory::Open(dir_ / "registry.sqlite");
  ASSERT_TRUE(history.ok());
  // A scheduled run at 00:10 already happened: catch-up starts after it.
  registry::PipelineRun r;
  r.pipeline = "p";
  r.started_at = "2026-01-01T00:10:00Z";
  r.trigger = "schedule";
  r.params = {{"scheduled_at", "2026-01-01T00:10:00Z"}};
  auto id = history->BeginRun(r, "p");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(history->FinishRun(*id, "succeeded", "2026-01-01T00:11:00Z", "").ok());

  base::ManualClock clock(T("2026-01-01T00:35:00Z"));
  std::atomic<bool> stop{false};
  SchedulerOptions o;
  o.project = &*spec;
  o.sluice_binary = dir_ / "fake_sluice";
  o.log_dir = dir_ / "logs";
  o.stop = &stop;
  std::vector<std::string> messages;
  int ended = 0;
  o.on_message = [&](const std::string& m) {
    messages.push_back(m);
    // Stop after the two catch-up runs (one at a time: max_active_runs is 1).
    if (m.find("run ended: succeeded") != std::string::npos && ++ended == 2) stop = true;
  };
  ASSERT_TRUE(RunScheduler(o, clock, *history).ok());
  std::ifstream in(dir_ / "calls");
  std::stringstream calls;
  calls << in.rdbuf();
  const std::string d = dir_.string();
  EXPECT_EQ(calls.str(),
            "run p -p " + d + " --trigger schedule --scheduled-at 2026-01-01T00:20:00Z\n" +
                "run p -p " + d + " --trigger schedule --scheduled-at 2026-01-01T00:30:00Z\n");
  EXPECT_EQ(messages.front(), "scheduling pipeline p (schedule)");
  EXPECT_LT(clock.Now(), T("2026-01-01T00:40:00Z"));
}

TEST(ScheduledPipelinesTest, UnknownZoneNamesThePipeline) {
  auto spec = config::LoadProjectFromString(
      "name: t\npipelines:\n  - name: p\n    schedule: '@daily'\n    timezone: Mars/Base\n"
      "    steps: [{name: a, run: command, command: 'true'}]\n",
      "sluice.yaml", nullptr);
  ASSERT_TRUE(spec.ok());
  auto out = ScheduledPipelines(*spec);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().ToString().find("pipeline 'p'"), std::string::npos);
  EXPECT_NE(out.status().ToString().find("unknown time zone 'Mars/Base'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::orchestrate
