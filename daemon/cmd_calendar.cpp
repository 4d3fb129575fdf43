#include "daemon/cmd_calendar.h"

namespace crmh {
int RunCalendarCommand(const std::vector<std::string>&, std::ostream&, std::ostream& err) {
  err << "calendar: not implemented yet\n";
  return 2;
}
}  // namespace crmh
