// core/time_util.h: SQL DATETIME text to time points. The canonical form is parsed by hand (a
// prune plan reads a million); every answer must be date::parse's.
#include <doctest/doctest.h>
#include <date/date.h>
#include <fmt/format.h>

#include <sstream>

#include "core/time_util.h"

namespace crmh {
namespace {

std::optional<SysSeconds> Reference(std::string_view text) {
  std::istringstream in(std::string(text.substr(0, 19)));
  SysSeconds tp;
  in >> date::parse("%Y-%m-%d %H:%M:%S", tp);
  if (in.fail()) return std::nullopt;
  return tp;
}

TEST_CASE("ParseSqlTime answers as date::parse does, canonical or not") {
  const char* cases[] = {
      "2026-12-06 18:20:24", "1970-01-01 00:00:00", "2024-02-29 23:59:59",
      "2023-02-29 10:00:00",         // no such day
      "2026-13-01 00:00:00",         // no such month
      "2026-00-10 00:00:00", "2026-04-31 12:00:00", "2026-04-00 12:00:00",
      "2026-12-06 24:00:00", "2026-12-06 23:60:00", "2026-12-06 23:59:60",
      "2026-12-06 18:20:24.123456",  // DATETIME(6)
      "2026-12-06T18:20:24",         // not the SQL separator
      "2026-12-06 18:20",            // too short
      "2026-1-06 18:20:24", "20x6-12-06 18:20:24", "0000-01-01 00:00:00",
      "9999-12-31 23:59:59", "", "2026-12-06 18:20:2x",
  };
  for (const char* c : cases) {
    CAPTURE(c);
    CHECK(ParseSqlTime(c) == Reference(c));
  }
  // Every second of a day and a day of every month over a leap and a common year.
  for (int s = 0; s < 86400; s += 37) {
    const std::string t = fmt::format("2024-02-29 {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    CAPTURE(t);
    REQUIRE(ParseSqlTime(t) == Reference(t));
  }
  for (int y : {2023, 2024}) {
    for (int m = 1; m <= 12; ++m) {
      for (int d = 1; d <= 31; ++d) {
        const std::string t = fmt::format("{}-{:02}-{:02} 07:08:09", y, m, d);
        CAPTURE(t);
        REQUIRE(ParseSqlTime(t) == Reference(t));
      }
    }
  }
  CHECK(ParseSqlTime("2026-12-06 18:20:24").has_value());
}

}  // namespace
}  // namespace crmh
