#include "base/workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace sluice::base {
namespace {

TEST(RunWorkersTest, EveryIndexRunsOnceAndWorkerZeroOnTheCaller) {
  for (const int n : {1, 2, 5}) {
    std::vector<int> runs(n, 0);
    std::set<std::thread::id> ids;
    std::mutex mu;
    std::thread::id zero;
    RunWorkers(n, [&](int w) {
      std::lock_guard lock(mu);
      ++runs[w];
      ids.insert(std::this_thread::get_id());
      if (w == 0) zero = std::this_thread::get_id();
    });
    EXPECT_EQ(runs, std::vector<int>(n, 1)) << n;
    EXPECT_EQ(ids.size(), static_cast<size_t>(n)) << n;  // all at once, each on its own thread
    EXPECT_EQ(zero, std::this_thread::get_id());
  }
}

TEST(RunWorkersTest, ReturnsOnlyAfterEveryWorkerFinished) {
  std::atomic<int> done{0};
  RunWorkers(4, [&](int w) {
    if (w != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    done.fetch_add(1);
  });
  EXPECT_EQ(done.load(), 4);
}

}  // namespace
}  // namespace sluice::base
