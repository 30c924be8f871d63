#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "base/time.h"

namespace sluice::engine {

// When `sluice stream` applies the micro-batch it is gathering (docs/streaming.md,
// "Micro-batches"). Following a live stream, a micro-batch is applied when it holds `messages`,
// when `linger` has passed since its first message, or when a poll finds nothing more (the topic
// went quiet). Far behind the partitions' high watermarks (a catch-up, a backlog after a
// restart or a stall), it gathers up to `catch_up_messages` for up to `catch_up_linger` instead:
// each micro-batch pays the store write with the cursor, the row SQL and the per-entity state
// work once, and a catch-up of small batches spent most of its time there. Events are already
// late for freshness then; the bound returns to the live one as soon as the backlog is gone.
class MicroBatchGate {
 public:
  struct Limits {
    std::size_t messages = 20000;
    std::chrono::milliseconds linger{10};
    // 0 (or not more than `messages`): no catch-up micro-batches.
    std::size_t catch_up_messages = 500000;
    std::chrono::milliseconds catch_up_linger{1000};
  };
  explicit MicroBatchGate(const Limits& limits) : limits_(limits) {}

  // The most messages the next poll may return.
  std::size_t PollMax() const;
  // How long the next poll may wait for its first message: `timeout`, or less while a
  // micro-batch gathers (what is left of its linger).
  std::chrono::milliseconds PollWait(base::ProcessingTime now,
                                     std::chrono::milliseconds timeout) const;
  // Counts `polled` messages that a poll returned at `now`, with `backlog` messages known to wait
  // in the partitions beyond them (high watermarks less the next offsets); true when the
  // micro-batch is due now (then the caller applies it and calls Applied).
  bool Add(std::size_t polled, base::ProcessingTime now, std::int64_t backlog);
  void Applied() { gathered_ = 0; }

  std::size_t gathered() const { return gathered_; }
  // Whether the last Add found the stream far behind (catch-up bounds in force).
  bool catching_up() const { return catching_up_; }

 private:
  std::size_t MaxMessages() const;
  std::chrono::milliseconds Linger() const;

  Limits limits_;
  std::size_t gathered_ = 0;
  base::ProcessingTime since_{};  // the micro-batch's first message
  bool catching_up_ = false;
};

}  // namespace sluice::engine
