// sd_notify(3) for Type=notify: READY, RELOADING, STOPPING, STATUS, WATCHDOG, EXTEND_TIMEOUT.
// Without $NOTIFY_SOCKET (not under systemd) every call is a no-op.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace crmh {

void Notify(std::string_view state);

// Half of what systemd asks for ($WATCHDOG_USEC, when $WATCHDOG_PID is ours or unset).
std::optional<std::chrono::microseconds> WatchdogPingInterval();

}  // namespace crmh
