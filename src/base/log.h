#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::base {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// Process-wide logging to stderr. Messages are complete sentences composed by the caller;
// spdlog stays behind this interface.
void SetLogLevel(LogLevel level);
Result<LogLevel> ParseLogLevel(std::string_view name);
void Log(LogLevel level, std::string_view message);
// Whether a message at `level` would be written (to skip composing costly ones).
bool LogEnabled(LogLevel level);
inline void LogDebug(std::string_view m) {
  Log(LogLevel::kDebug, m);
}
inline void LogInfo(std::string_view m) {
  Log(LogLevel::kInfo, m);
}
inline void LogWarn(std::string_view m) {
  Log(LogLevel::kWarn, m);
}
inline void LogError(std::string_view m) {
  Log(LogLevel::kError, m);
}

// Logs how long one stage of a command took, at debug level (`sluice --log-level debug ...`):
// where the time of a slow run goes, without a profiler. "<scope>: <stage> took 1.234s".
class StageTimer {
 public:
  StageTimer(std::string_view scope, std::string_view stage);
  ~StageTimer();
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  std::string label_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace sluice::base
