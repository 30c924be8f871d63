// Time zone files (TZif, RFC 8536) are read from the system's tz database, which a broken
// package or a hand-copied file can leave in any state. Whatever is accepted must give offsets
// inside the RFC's range (the scheduler's local-time arithmetic relies on it), and a daily
// schedule in that zone must still fire after the instant asked about.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/cron.h"
#include "base/time.h"
#include "orchestrate/schedule.h"
#include "orchestrate/time_zone.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sluice::orchestrate::TimeZone;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto zone = TimeZone::FromTzif(bytes, "fuzz");
  if (!zone.ok()) {
    if (zone.status().message().empty()) __builtin_trap();
    return 0;
  }
  // 1901, 1970, 2000, 2038 and 2200: before, inside and past any table the file may hold.
  for (std::int64_t t : {-2208988800LL, 0LL, 946684800LL, 2147483648LL, 7258118400LL}) {
    const std::int64_t off = zone->OffsetAt(t);
    if (off < -89999 || off > 93599) __builtin_trap();
  }
  static const auto daily = sluice::base::ParseCronSchedule("30 2 * * *");
  const sluice::base::ProcessingTime after{sluice::base::Duration(1'700'000'000'000'000LL)};
  const auto next = sluice::orchestrate::NextFire(*daily, *zone, after);
  if (!next || *next <= after) __builtin_trap();
  return 0;
}
