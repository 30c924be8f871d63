#pragma once

#include <string_view>

#include "base/result.h"

namespace sluice::base {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// Process-wide logging to stderr. Messages are complete sentences composed by the caller;
// spdlog stays behind this interface.
void SetLogLevel(LogLevel level);
Result<LogLevel> ParseLogLevel(std::string_view name);
void Log(LogLevel level, std::string_view message);
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

}  // namespace sluice::base
