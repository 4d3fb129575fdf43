// Calendar expressions: systemd OnCalendar= (systemd.time(7)) and 5-field cron lines.
//
// Pure: knows no database, no daemon, no wall clock. The scheduler asks for the next elapse
// after an instant; tests compare against `systemd-analyze calendar` and python3-croniter.
//
// Normalized form: for systemd expressions, exactly what systemd 252 prints as "Normalized form".
// For cron lines, see docs/calendar.md (cron's OR of day-of-month and day-of-week is kept).
//
// Next elapses of systemd expressions reproduce systemd 252 exactly (it is a wall-clock search
// driven by glibc's mktime(); we emulate both), with one documented exception: in a repeated
// autumn hour, expressions that repeat within the day keep firing in real time (systemd issue
// 8647). docs/calendar.md describes the DST policies.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace date {
class time_zone;
}

namespace crmh::calendar {

// What to do when a local wall time does not exist (spring-forward gap).
enum class DstGap {
  kSkip,             // like systemd: the slot does not happen that day
  kRunAtTransition,  // like cron: run once at the first instant after the gap
};

using SysMicros = std::chrono::sys_time<std::chrono::microseconds>;

class Schedule {
 public:
  // Parses a systemd calendar expression or (if it has exactly five whitespace-separated fields
  // and parses as such) a cron line. The error message names the expression and what is wrong.
  static Result<Schedule> Parse(std::string_view expression);

  Schedule(const Schedule&);
  Schedule(Schedule&&) noexcept;
  Schedule& operator=(const Schedule&);
  Schedule& operator=(Schedule&&) noexcept;
  ~Schedule();

  const std::string& original() const;
  const std::string& normalized() const;
  // IANA zone (or "UTC") written in the expression; empty if none was written.
  const std::string& zone() const;
  bool is_cron() const;

  // The first elapse strictly after `after`, evaluated in the expression's own zone if it wrote
  // one, else in `tz` (nullptr means UTC). nullopt means "never" (e.g. *-02-30); never loops.
  // An elapse with a fractional second (systemd allows `*:*:0.5`) is rounded up to the next
  // whole second, so feeding the result back in always makes progress.
  std::optional<std::chrono::sys_seconds> Next(std::chrono::sys_seconds after,
                                               const date::time_zone* tz = nullptr,
                                               DstGap gap = DstGap::kSkip) const;

  // Same, with systemd's microsecond resolution (what `crm-hygiene calendar` iterates with).
  std::optional<SysMicros> NextPrecise(SysMicros after, const date::time_zone* tz = nullptr,
                                       DstGap gap = DstGap::kSkip) const;

  struct Impl;

 private:
  explicit Schedule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Looks up an IANA zone name ("Europe/Berlin", "UTC") in the system tz database.
Result<const date::time_zone*> LocateZone(std::string_view name);

// How glibc's localtime() shows an instant in a zone (nullptr = UTC): wall time, abbreviation
// ("CEST", "+1030") and the DST flag. Beyond the last transition listed in the zone file the
// file's POSIX TZ rule applies (date's own get_info() stops at 2037; glibc does not).
struct LocalTime {
  std::chrono::local_seconds time;
  std::string abbreviation;
  bool is_dst = false;
};
LocalTime ToLocal(std::chrono::sys_seconds t, const date::time_zone* tz);

// True when the zone is UTC in all but name (no offset, no DST rule): systemd then omits its
// "(in UTC)" line.
bool IsUtcLike(const date::time_zone* tz);

}  // namespace crmh::calendar
