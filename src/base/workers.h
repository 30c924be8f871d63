#pragma once

#include <thread>
#include <vector>

namespace sluice::base {

// Runs fn(w) for every w in [0, workers) at once, fn(0) on the calling thread and each other w
// on a thread of its own, and returns when all have returned. For fork-join phases whose
// workers split the work by index; fn must not throw.
template <typename Fn>
void RunWorkers(int workers, const Fn& fn) {
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w)
    pool.emplace_back([&fn, w] { fn(w); });
  fn(0);
  for (auto& t : pool)
    t.join();
}

}  // namespace sluice::base
