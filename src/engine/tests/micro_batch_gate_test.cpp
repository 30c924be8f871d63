#include "engine/micro_batch_gate.h"

#include <gtest/gtest.h>

#include "base/clock.h"

namespace sluice::engine {
namespace {

using std::chrono::milliseconds;

MicroBatchGate::Limits Limits() {
  return {.messages = 1000,
          .linger = milliseconds(10),
          .catch_up_messages = 50000,
          .catch_up_linger = milliseconds(500)};
}

// Following live (the backlog below one micro-batch), a batch is applied after its linger, not
// before, and a poll waits only for what is left of it.
TEST(MicroBatchGateTest, LiveBatchIsDueAfterItsLinger) {
  base::ManualClock clock(base::ProcessingTime(std::chrono::seconds(100)));
  MicroBatchGate gate(Limits());
  EXPECT_EQ(gate.PollWait(clock.Now(), milliseconds(50)), milliseconds(50));  // nothing gathered
  EXPECT_FALSE(gate.Add(300, clock.Now(), /*backlog=*/200));
  EXPECT_FALSE(gate.catching_up());
  EXPECT_EQ(gate.PollMax(), 700u);
  clock.Advance(milliseconds(4));
  EXPECT_EQ(gate.PollWait(clock.Now(), milliseconds(50)), milliseconds(6));
  EXPECT_FALSE(gate.Add(300, clock.Now(), 200));
  clock.Advance(milliseconds(6));
  EXPECT_TRUE(gate.Add(100, clock.Now(), 200));
  EXPECT_EQ(gate.gathered(), 700u);
  gate.Applied();
  EXPECT_EQ(gate.gathered(), 0u);
  EXPECT_EQ(gate.PollMax(), 1000u);
  EXPECT_EQ(gate.PollWait(clock.Now(), milliseconds(50)), milliseconds(50));
}

// A live batch is also due when full, and when a poll found nothing more (the topic went quiet);
// an empty poll with nothing gathered is not a batch.
TEST(MicroBatchGateTest, LiveBatchIsDueWhenFullOrQuiet) {
  base::ManualClock clock(base::ProcessingTime(std::chrono::seconds(100)));
  MicroBatchGate gate(Limits());
  EXPECT_FALSE(gate.Add(0, clock.Now(), 0));
  EXPECT_FALSE(gate.Add(999, clock.Now(), 999));
  EXPECT_EQ(gate.PollMax(), 1u);
  EXPECT_TRUE(gate.Add(1, clock.Now(), 999));
  gate.Applied();
  EXPECT_FALSE(gate.Add(10, clock.Now(), 0));
  EXPECT_TRUE(gate.Add(0, clock.Now(), 0));
}

// Far behind (a backlog of at least one live micro-batch), the batch grows to the catch-up bound
// and gathers for the catch-up linger; once the backlog is gone the live bounds apply again, so
// what was gathered is applied at once.
TEST(MicroBatchGateTest, CatchUpGathersLargerBatchesUntilTheBacklogIsGone) {
  base::ManualClock clock(base::ProcessingTime(std::chrono::seconds(100)));
  MicroBatchGate gate(Limits());
  EXPECT_FALSE(gate.Add(1000, clock.Now(), /*backlog=*/100000));
  EXPECT_TRUE(gate.catching_up());
  EXPECT_EQ(gate.PollMax(), 49000u);
  clock.Advance(milliseconds(100));  // past the live linger, within the catch-up one
  EXPECT_EQ(gate.PollWait(clock.Now(), milliseconds(50)), milliseconds(50));
  EXPECT_FALSE(gate.Add(20000, clock.Now(), 80000));
  clock.Advance(milliseconds(350));
  EXPECT_EQ(gate.PollWait(clock.Now(), milliseconds(500)), milliseconds(50));
  EXPECT_FALSE(gate.Add(20000, clock.Now(), 60000));
  EXPECT_TRUE(gate.Add(9000, clock.Now(), 51000));  // full: 50000
  EXPECT_TRUE(gate.catching_up());
  gate.Applied();

  // The catch-up linger bounds a batch too.
  EXPECT_FALSE(gate.Add(5000, clock.Now(), 40000));
  clock.Advance(milliseconds(500));
  EXPECT_TRUE(gate.Add(5000, clock.Now(), 30000));
  gate.Applied();

  // Caught up: the last piece of the backlog makes the batch due under the live bounds.
  EXPECT_FALSE(gate.Add(5000, clock.Now(), 25000));
  EXPECT_TRUE(gate.Add(24900, clock.Now(), 100));
  EXPECT_FALSE(gate.catching_up());
  gate.Applied();
  EXPECT_EQ(gate.PollMax(), 1000u);
}

// With catch-up batches turned off (or no larger than a live one), a backlog changes nothing.
TEST(MicroBatchGateTest, NoCatchUpBatchesWhenTurnedOff) {
  base::ManualClock clock(base::ProcessingTime(std::chrono::seconds(100)));
  MicroBatchGate::Limits limits = Limits();
  limits.catch_up_messages = 0;
  MicroBatchGate gate(limits);
  EXPECT_FALSE(gate.Add(600, clock.Now(), 1000000));
  EXPECT_FALSE(gate.catching_up());
  EXPECT_EQ(gate.PollMax(), 400u);
  EXPECT_TRUE(gate.Add(400, clock.Now(), 1000000));
  gate.Applied();
  EXPECT_FALSE(gate.Add(1, clock.Now(), 1000000));
  clock.Advance(milliseconds(10));
  EXPECT_TRUE(gate.Add(1, clock.Now(), 1000000));
}

}  // namespace
}  // namespace sluice::engine
