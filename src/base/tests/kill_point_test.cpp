#include "base/kill_point.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace sluice::base {
namespace {

// Each case arms its points in a child of its own.

TEST(KillPointDeathTest, ExitsAtAnArmedPointWithItsCodeAndName) {
  EXPECT_EXIT(
      {
        ::setenv("SLUICE_KILL_AT", "lake.other,ingest.after_staging", 1);
        KillPoint("ingest.after_stagin");  // a prefix is not the name
        KillPoint("ingest.after_staging");
        std::exit(0);
      },
      testing::ExitedWithCode(kKillPointExitCode), "killed at ingest.after_staging");
}

TEST(KillPointDeathTest, UnarmedPointsAreNoOps) {
  EXPECT_EXIT(
      {
        ::setenv("SLUICE_KILL_AT", "a.b", 1);
        KillPoint("a.c");
        KillPoint("");
        std::exit(KillPointArmed("a.b") && !KillPointArmed("a") ? 3 : 4);
      },
      testing::ExitedWithCode(3), "");
  EXPECT_EXIT(
      {
        ::unsetenv("SLUICE_KILL_AT");
        KillPoint("a.b");
        std::exit(5);
      },
      testing::ExitedWithCode(5), "");
}

}  // namespace
}  // namespace sluice::base
