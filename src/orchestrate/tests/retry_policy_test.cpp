#include "orchestrate/retry_policy.h"

#include <gtest/gtest.h>

namespace sluice::orchestrate {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(RetryDelayTest, DoublesPerRetryWithinTheJitterBand) {
  // unit 0 gives the band's low end (half), unit -> 1 its high end (the full doubled delay).
  EXPECT_EQ(RetryDelay(1, seconds(10), minutes(10), 0.0), seconds(5));
  EXPECT_EQ(RetryDelay(2, seconds(10), minutes(10), 0.0), seconds(10));
  EXPECT_EQ(RetryDelay(3, seconds(10), minutes(10), 0.0), seconds(20));
  EXPECT_EQ(RetryDelay(3, seconds(10), minutes(10), 0.5), seconds(30));
  EXPECT_EQ(RetryDelay(3, seconds(10), minutes(10), 1.0), seconds(40));
}

TEST(RetryDelayTest, CappedAndSafeForManyRetries) {
  EXPECT_EQ(RetryDelay(10, seconds(10), minutes(1), 1.0), minutes(1));
  EXPECT_EQ(RetryDelay(10, seconds(10), minutes(1), 0.0), seconds(30));
  EXPECT_EQ(RetryDelay(100000, seconds(10), minutes(1), 1.0), minutes(1));
}

TEST(RetryDelayTest, ZeroBackoffAndNonRetries) {
  EXPECT_EQ(RetryDelay(1, seconds(0), minutes(1), 0.7), seconds(0));
  EXPECT_EQ(RetryDelay(0, seconds(10), minutes(1), 0.7), seconds(0));
}

}  // namespace
}  // namespace sluice::orchestrate
