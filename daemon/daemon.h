// `crm-hygiene daemon`: run forever on one io_context — one absolute-time timer per job,
// signals (SIGTERM/SIGINT stop, SIGHUP reload), the systemd watchdog — with jobs executed on
// worker threads (SOCI blocks) whose results are posted back to the loop.
#pragma once

#include <string>

#include "core/clock.h"

namespace crmh {

// Returns the process exit code: 0 after a clean stop, 2 for a bad config at start, 3 if the
// database stayed unreachable past daemon.db_give_up.
int RunDaemon(const std::string& config_path, const Clock& clock);

}  // namespace crmh
