#include "daemon/notify.h"

#include <systemd/sd-daemon.h>

#include <string>

namespace crmh {

void Notify(std::string_view state) {
  // unset_environment=0: children (mysqldump later) must not inherit it, but we notify many times.
  (void)sd_notify(0, std::string(state).c_str());
}

std::optional<std::chrono::microseconds> WatchdogPingInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds{static_cast<long long>(usec / 2)};
}

}  // namespace crmh
