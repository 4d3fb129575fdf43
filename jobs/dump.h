// The optional verified logical dump a destructive job takes before its first change
// (`dump: true`): mysqldump --single-transaction of the tables the plan touches (SQLite:
// VACUUM INTO a copy of the file), verified — non-empty, complete, every table present with
// exactly the live row count — or the run is refused (exit 4).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/job.h"

namespace crmh::jobs {

// Writes the dump under <state.directory>/dumps/<run_id>/ and verifies it. Returns what was
// written (path, bytes, rows per table) or Error::Refused.
Result<nlohmann::json> VerifiedDump(RunContext& ctx, const std::vector<std::string>& tables);

}  // namespace crmh::jobs
