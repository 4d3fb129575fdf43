// `crm-hygiene calendar EXPR... [--tz Z] [--after TIME] [--count N] [--dst-gap skip|run_at_transition] [--json]`
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace crmh {

// args: everything after the word "calendar". Returns the process exit code
// (0 ok, 2 usage error or an expression that does not parse).
int RunCalendarCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace crmh
