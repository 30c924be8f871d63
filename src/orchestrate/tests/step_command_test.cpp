#include "orchestrate/step_command.h"

#include <gtest/gtest.h>

namespace sluice::orchestrate {
namespace {

using V = std::vector<std::string>;

TEST(StepArgvTest, VerbsAndCommands) {
  config::StepSpec s;
  s.run = config::StepKind::kIngest;
  s.sources = {"tx", "users"};
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice"),
            (V{"/bin/sluice", "ingest", "-p", "/proj", "tx", "users"}));
  s = {};
  s.run = config::StepKind::kTrainingSet;
  s.training_set = "train";
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice"),
            (V{"/bin/sluice", "training-set", "-p", "/proj", "train"}));
  s = {};
  s.run = config::StepKind::kCommand;
  s.command = "echo hi";
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice"), (V{"/bin/sh", "-c", "echo hi"}));
  s = {};
  s.run = config::StepKind::kDrift;
  s.sources = {"tx"};
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice"),
            (V{"/bin/sluice", "monitor", "-p", "/proj", "--fail-on-alert"}));
  s.training_set = "train";
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice"),
            (V{"/bin/sluice", "drift", "-p", "/proj", "--reference", "train", "--current", "tx",
               "--fail-on-drift"}));
}

TEST(StepArgvTest, MonitorStepsRunTheirMonitors) {
  config::StepSpec s;
  s.run = config::StepKind::kMonitor;
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice"), (V{"/bin/sluice", "monitor", "-p", "/proj"}));
  s.monitors = {"rows", "drift_amount"};
  s.fail_on_alert = true;
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice"), (V{"/bin/sluice", "monitor", "-p", "/proj", "rows",
                                                    "drift_amount", "--fail-on-alert"}));
}

TEST(StepArgvTest, ModelStepsGetTheRunsIntervalAndVars) {
  StepValues values;
  values.interval.emplace("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z");
  values.vars = {{"day", "--full-refresh"}, {"q", "it's"}};
  config::StepSpec s;
  s.run = config::StepKind::kBuild;
  s.models = {"daily"};
  // Each value is part of one --opt=value argument, so none can pass for a flag.
  EXPECT_EQ(
      StepArgv(s, "/proj", "/bin/sluice", values),
      (V{"/bin/sluice", "build", "-p", "/proj", "daily", "--interval-start=2024-01-01T00:00:00Z",
         "--interval-end=2024-01-02T00:00:00Z", "--var=day=--full-refresh", "--var=q=it's"}));
  s.run = config::StepKind::kTest;
  s.models.clear();
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice", values)[1], "test");
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice", values).size(), 8u);
  // Other verbs do not render model SQL and take no such flags.
  s.run = config::StepKind::kIngest;
  s.sources = {"tx"};
  EXPECT_EQ(StepArgv(s, "/proj", "/bin/sluice", values),
            (V{"/bin/sluice", "ingest", "-p", "/proj", "tx"}));
}

TEST(StepArgvTest, SeveralInvocationsBecomeOneQuotedShellLine) {
  config::StepSpec s;
  s.run = config::StepKind::kProfile;
  s.sources = {"tx", "it's"};
  EXPECT_EQ(StepArgv(s, "/my proj", "/bin/sluice"),
            (V{"/bin/sh", "-c",
               "'/bin/sluice' 'profile' '-p' '/my proj' 'tx' && '/bin/sluice' 'profile' '-p' "
               "'/my proj' 'it'\\''s'"}));
}

}  // namespace
}  // namespace sluice::orchestrate
