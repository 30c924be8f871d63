#pragma once

#include <mutex>

#include "base/time.h"

namespace sluice::base {

// The injected source of processing time. Code that waits or schedules takes a Clock& so tests
// can drive time deterministically with ManualClock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual ProcessingTime Now() const = 0;
  // Blocks until Now() >= deadline (ManualClock returns at once after advancing to it).
  virtual void SleepUntil(ProcessingTime deadline) = 0;
  void SleepFor(Duration d) { SleepUntil(Now() + d); }
};

// The machine's wall clock.
class SystemClock final : public Clock {
 public:
  ProcessingTime Now() const override;
  void SleepUntil(ProcessingTime deadline) override;
  // A process-wide instance for production wiring (tests inject their own).
  static SystemClock& Instance();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(ProcessingTime start) : now_(start) {}
  ProcessingTime Now() const override;
  void SleepUntil(ProcessingTime deadline) override;
  void Advance(Duration d);
  void Set(ProcessingTime t);

 private:
  mutable std::mutex mu_;
  ProcessingTime now_;
};

}  // namespace sluice::base
