#include "orchestrate/backfill.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/project_loader.h"
#include "orchestrate/partition.h"

namespace sluice::orchestrate {
namespace {
namespace fs = std::filesystem;

base::ProcessingTime T(const std::string& iso) {
  return base::ProcessingTime(base::Duration(*base::ParseTimestampMicros(iso)));
}

std::vector<std::string> Lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PartitionTest, IntervalsOnUtcBoundaries) {
  const auto day = *PartitionLength("day");
  const Interval i = PartitionBefore(day, T("2026-03-05T02:00:00Z"));
  EXPECT_EQ(base::FormatTime(i.start), "2026-03-04T00:00:00Z");
  EXPECT_EQ(base::FormatTime(i.end), "2026-03-05T00:00:00Z");
  const auto hour = *PartitionLength("hour");
  auto parts = PartitionsBetween(hour, T("2026-03-05T10:30:00Z"), T("2026-03-05T13:00:00Z"));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(base::FormatTime(parts[0].start), "2026-03-05T10:00:00Z");
  EXPECT_EQ(base::FormatTime(parts[2].end), "2026-03-05T13:00:00Z");
  EXPECT_FALSE(PartitionLength("week").ok());
}

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_backfill_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Load(const std::string& keys, const std::string& command) {
    auto spec = config::LoadProjectFromString("name: t\npipelines:\n  - name: p\n" + keys +
                                                  "    steps: [{name: a, run: command, command: '" +
                                                  command + "'}]\n",
                                              "sluice.yaml", nullptr);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = std::move(spec).value();
    spec_.dir = dir_;
  }

  base::Result<BackfillProgress> Backfill(const std::string& from, const std::string& to) {
    BackfillRequest r;
    r.project = &spec_;
    r.pipeline = &spec_.pipelines[0];
    r.from = T(from);
    r.to = T(to);
    r.concurrency = 3;
    RunnerOptions o;
    o.sluice_binary = "/bin/false";
    o.log_dir = dir_ / "runs";
    calls_ = 0;
    return RunBackfill(r, o, dir_ / "registry.sqlite", [&](const BackfillProgress&) { ++calls_; });
  }

  fs::path dir_;
  config::ProjectSpec spec_;
  int calls_ = 0;
};

TEST_F(BackfillTest, EveryPartitionOnceWithItsIntervalAndResumable) {
  Load("    partition: day\n",
       "echo $SLUICE_INTERVAL_START-$SLUICE_INTERVAL_END >> parts; [ "
       "$SLUICE_INTERVAL_START != 2026-01-03T00:00:00Z ] || test -e fixed");
  auto first = Backfill("2026-01-01", "2026-01-06");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->total, 5);
  EXPECT_EQ(first->succeeded, 4);
  EXPECT_EQ(first->failed, 1);
  EXPECT_EQ(calls_, 6);  // once at the start, once per partition
  EXPECT_EQ(
      Lines(dir_ / "parts"),
      (std::vector<std::string>{
          "2026-01-01T00:00:00Z-2026-01-02T00:00:00Z", "2026-01-02T00:00:00Z-2026-01-03T00:00:00Z",
          "2026-01-03T00:00:00Z-2026-01-04T00:00:00Z", "2026-01-04T00:00:00Z-2026-01-05T00:00:00Z",
          "2026-01-05T00:00:00Z-2026-01-06T00:00:00Z"}));
  std::ofstream(dir_ / "fixed") << "";
  fs::remove(dir_ / "parts");
  auto second = Backfill("2026-01-01", "2026-01-06");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->done_before, 4);
  EXPECT_EQ(second->succeeded, 1);
  EXPECT_EQ(second->failed, 0);
  EXPECT_EQ(Lines(dir_ / "parts"),
            std::vector<std::string>{"2026-01-03T00:00:00Z-2026-01-04T00:00:00Z"});
  auto history = registry::PipelineHistory::Open(dir_ / "registry.sqlite");
  auto runs = history->Runs("p", 100);
  ASSERT_EQ(runs->size(), 6u);
  EXPECT_EQ(runs->front().trigger, "backfill");
  EXPECT_EQ(runs->front().interval_start, "2026-01-03T00:00:00Z");
}

TEST_F(BackfillTest, BadRequests) {
  Load("", "true");
  auto unpartitioned = Backfill("2026-01-01", "2026-01-06");
  ASSERT_FALSE(unpartitioned.ok());
  EXPECT_NE(unpartitioned.status().message().find("declares no partition"), std::string::npos);
  Load("    partition: hour\n", "true");
  auto backwards = Backfill("2026-01-06", "2026-01-01");
  ASSERT_FALSE(backwards.ok());
  EXPECT_NE(backwards.status().message().find("must be after"), std::string::npos);
}

TEST_F(BackfillTest, StoreStepsOfPartitionsTakeTurns) {
  // A stand-in for the sluice binary: its `build` holds a directory for a while; a second
  // `build` finding it taken notes an overlap. It records its interval flags too.
  const fs::path fake = dir_ / "fake_sluice";
  std::ofstream(fake) << "#!/bin/sh\n"
                         "if [ \"$1\" = build ]; then\n"
                         "  mkdir \"$SLUICE_PROJECT_DIR/busy\" 2>/dev/null || echo overlap >> "
                         "\"$SLUICE_PROJECT_DIR/overlaps\"\n"
                         "  echo \"$4 $5\" >> \"$SLUICE_PROJECT_DIR/builds\"\n"
                         "  sleep 0.2\n"
                         "  rmdir \"$SLUICE_PROJECT_DIR/busy\"\n"
                         "fi\n";
  fs::permissions(fake, fs::perms::owner_all);
  auto spec = config::LoadProjectFromString(
      "name: t\npipelines:\n  - name: p\n    partition: day\n    steps:\n"
      "      - {name: b, run: build}\n"
      "      - {name: c, run: command, command: 'echo $SLUICE_INTERVAL_START >> commands', "
      "depends_on: [b]}\n",
      "sluice.yaml", nullptr);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  spec_ = std::move(spec).value();
  spec_.dir = dir_;
  BackfillRequest r;
  r.project = &spec_;
  r.pipeline = &spec_.pipelines[0];
  r.from = T("2026-01-01T00:00:00Z");
  r.to = T("2026-01-04T00:00:00Z");
  r.concurrency = 3;
  RunnerOptions o;
  o.sluice_binary = fake;
  o.log_dir = dir_ / "runs";
  auto out = RunBackfill(r, o, dir_ / "registry.sqlite", nullptr);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->succeeded, 3);
  EXPECT_FALSE(fs::exists(dir_ / "overlaps")) << "two partitions' build steps ran at once";
  EXPECT_EQ(Lines(dir_ / "builds"),
            (std::vector<std::string>{"--interval-start=2026-01-01T00:00:00Z "
                                      "--interval-end=2026-01-02T00:00:00Z",
                                      "--interval-start=2026-01-02T00:00:00Z "
                                      "--interval-end=2026-01-03T00:00:00Z",
                                      "--interval-start=2026-01-03T00:00:00Z "
                                      "--interval-end=2026-01-04T00:00:00Z"}));
  EXPECT_EQ(Lines(dir_ / "commands").size(), 3u);
}

}  // namespace
}  // namespace sluice::orchestrate
