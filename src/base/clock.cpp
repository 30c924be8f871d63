#include "base/clock.h"

#include <thread>

namespace sluice::base {

ProcessingTime SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

void SystemClock::SleepUntil(ProcessingTime deadline) {
  std::this_thread::sleep_until(deadline);
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

ProcessingTime ManualClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void ManualClock::SleepUntil(ProcessingTime deadline) {
  std::lock_guard lock(mu_);
  if (deadline > now_) now_ = deadline;
}

void ManualClock::Advance(Duration d) {
  std::lock_guard lock(mu_);
  now_ += d;
}

void ManualClock::Set(ProcessingTime t) {
  std::lock_guard lock(mu_);
  now_ = t;
}

}  // namespace sluice::base
