#include "base/process_identity.h"

#include <fstream>
#include <sstream>

namespace sluice::base {

std::optional<std::string> ProcessStartId(long pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::string boot_id;
  std::getline(boot, boot_id);
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // Fields after the command name (which may hold spaces and parentheses): state is field 3,
  // starttime field 22.
  const size_t paren = stat.rfind(')');
  if (boot_id.empty() || paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  return boot_id + "/" + field;
}

}  // namespace sluice::base
