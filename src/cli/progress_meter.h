#pragma once

#include <cstdint>
#include <string>

#include "base/clock.h"

namespace sluice::cli {

// A one-line progress display on stderr ("rows 1.2M/10M  12% 850k rows/s  ETA 10s"), redrawn at
// most a few times a second. Silent unless stderr is a terminal, so piped output and logs stay
// clean. Takes the clock so tests can drive it.
class ProgressMeter {
 public:
  ProgressMeter(std::string label, std::int64_t total, base::Clock& clock,
                bool enabled_for_terminal_only = true);
  ~ProgressMeter();

  void Update(std::int64_t done);
  // For work measured in stages rather than rows: "ingest tx: loading data/tx.csv 42%".
  // A negative fraction means unknown.
  void UpdateStage(const std::string& stage, double fraction);
  // Clears the line (a terminal) so the caller's summary follows cleanly.
  void Finish();

  // The text Update would draw, exposed for tests.
  std::string Render(std::int64_t done) const;

 private:
  std::string label_;
  std::int64_t total_;
  base::Clock& clock_;
  bool enabled_;
  base::ProcessingTime start_;
  base::ProcessingTime last_draw_;
  bool drawn_ = false;
  std::string last_stage_;
};

// "950", "12.3k", "4.5M", "1.2G".
std::string HumanCount(double n);
// "512 B", "1.5 KiB", "3.2 MiB".
std::string HumanBytes(std::uint64_t bytes);

}  // namespace sluice::cli
