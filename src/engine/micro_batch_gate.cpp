#include "engine/micro_batch_gate.h"

#include <algorithm>

namespace sluice::engine {

std::size_t MicroBatchGate::MaxMessages() const {
  return catching_up_ ? std::max(limits_.messages, limits_.catch_up_messages) : limits_.messages;
}

std::chrono::milliseconds MicroBatchGate::Linger() const {
  return catching_up_ ? std::max(limits_.linger, limits_.catch_up_linger) : limits_.linger;
}

std::size_t MicroBatchGate::PollMax() const {
  const std::size_t max = MaxMessages();
  return std::max<std::size_t>(1, max - std::min(gathered_, max));
}

std::chrono::milliseconds MicroBatchGate::PollWait(base::ProcessingTime now,
                                                   std::chrono::milliseconds timeout) const {
  if (gathered_ == 0) return timeout;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(since_ + Linger() - now);
  return std::clamp(left, std::chrono::milliseconds(0), timeout);
}

bool MicroBatchGate::Add(std::size_t polled, base::ProcessingTime now, std::int64_t backlog) {
  if (gathered_ == 0 && polled > 0) since_ = now;
  gathered_ += polled;
  // Behind by more than a live micro-batch beyond what is gathered: more is there to be read at
  // once, so the batch can grow without waiting for anything. Once less is left, the live bounds
  // apply at once (a batch that stayed a catch-up one would, on a live topic, never see a quiet
  // poll and hold its events for the whole catch-up linger).
  catching_up_ = limits_.catch_up_messages > limits_.messages &&
                 backlog >= static_cast<std::int64_t>(limits_.messages);
  if (gathered_ == 0) return false;
  return gathered_ >= MaxMessages() || polled == 0 || now - since_ >= Linger();
}

}  // namespace sluice::engine
