#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

namespace sluice::base {
namespace {

spdlog::logger& Logger() {
  // stderr keeps stdout clean for command output that scripts parse.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("sluice");
    l->set_pattern("%^%l%$ %Y-%m-%dT%H:%M:%S.%e %v");
    l->set_level(spdlog::level::warn);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

void SetLogLevel(LogLevel level) {
  Logger().set_level(ToSpd(level));
}

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  if (name == "off") return LogLevel::kOff;
  return InvalidArgument("unknown log level '" + std::string(name) +
                         "' (expected debug, info, warn, error or off)");
}

bool LogEnabled(LogLevel level) {
  return Logger().should_log(ToSpd(level));
}

void Log(LogLevel level, std::string_view message) {
  Logger().log(ToSpd(level), "{}", message);
}

StageTimer::StageTimer(std::string_view scope, std::string_view stage)
    : label_(std::string(scope) + ": " + std::string(stage)),
      started_(std::chrono::steady_clock::now()) {}

StageTimer::~StageTimer() {
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3fs", s);
  LogDebug(label_ + " took " + buf);
}

}  // namespace sluice::base
