#include "cli/progress_meter.h"

#include <unistd.h>

#include <cstdio>

namespace sluice::cli {

namespace {
constexpr auto kRedrawEvery = std::chrono::milliseconds(200);
}

ProgressMeter::ProgressMeter(std::string label, std::int64_t total, base::Clock& clock,
                             bool enabled_for_terminal_only)
    : label_(std::move(label)),
      total_(total),
      clock_(clock),
      enabled_(!enabled_for_terminal_only || isatty(STDERR_FILENO) == 1),
      start_(clock.Now()),
      last_draw_(start_) {}

ProgressMeter::~ProgressMeter() {
  Finish();
}

std::string HumanCount(double n) {
  char buf[32];
  if (n < 1e3) {
    std::snprintf(buf, sizeof(buf), "%.0f", n);
  } else if (n < 1e6) {
    std::snprintf(buf, sizeof(buf), "%.1fk", n / 1e3);
  } else if (n < 1e9) {
    std::snprintf(buf, sizeof(buf), "%.1fM", n / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1fG", n / 1e9);
  }
  return buf;
}

std::string HumanBytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string ProgressMeter::Render(std::int64_t done) const {
  const double secs = std::chrono::duration<double>(clock_.Now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string out = label_ + " " + HumanCount(static_cast<double>(done));
  if (total_ > 0) {
    char pct[16];
    std::snprintf(
        pct, sizeof(pct), " %3d%%",
        static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total_)));
    out += "/" + HumanCount(static_cast<double>(total_)) + pct;
  }
  if (rate > 0) {
    out += "  " + HumanCount(rate) + " rows/s";
    if (total_ > done) {
      const auto eta = static_cast<std::int64_t>(static_cast<double>(total_ - done) / rate);
      out += "  ETA " + std::to_string(eta / 60) + "m" + std::to_string(eta % 60) + "s";
    }
  }
  return out;
}

void ProgressMeter::Update(std::int64_t done) {
  if (!enabled_) return;
  const auto now = clock_.Now();
  if (drawn_ && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  drawn_ = true;
  std::fprintf(stderr, "\r\033[K%s", Render(done).c_str());
  std::fflush(stderr);
}

void ProgressMeter::UpdateStage(const std::string& stage, double fraction) {
  if (!enabled_) return;
  const auto now = clock_.Now();
  if (drawn_ && now - last_draw_ < kRedrawEvery && stage == last_stage_) return;
  last_draw_ = now;
  last_stage_ = stage;
  drawn_ = true;
  std::string line = label_ + ": " + stage;
  if (fraction >= 0) {
    char pct[64];
    const double secs = std::chrono::duration<double>(now - start_).count();
    if (fraction > 0.01 && fraction < 1) {
      const auto eta = static_cast<std::int64_t>(secs / fraction * (1 - fraction));
      std::snprintf(pct, sizeof(pct), " %3d%%  ETA %lldm%llds", static_cast<int>(fraction * 100),
                    static_cast<long long>(eta / 60), static_cast<long long>(eta % 60));
    } else {
      std::snprintf(pct, sizeof(pct), " %3d%%", static_cast<int>(fraction * 100));
    }
    line += pct;
  }
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

void ProgressMeter::Finish() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace sluice::cli
