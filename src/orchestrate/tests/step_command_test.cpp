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
