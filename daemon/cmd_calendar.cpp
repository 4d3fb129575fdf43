// `crm-hygiene calendar EXPR... [--tz Z] [--after TIME] [--count N]
//                      [--dst-gap skip|run_at_transition] [--json]`
//
// Text output mimics `systemd-analyze calendar` (systemd 252): right-aligned labels, the
// "Original form" line only when it differs from the normalized form, times shown in the
// display zone (--tz, else UTC) with a "(in UTC)" line when that zone is not UTC, and
// "Iter. #N" lines for further iterations. `--tz` plays the role of systemd's TZ=.
#include "daemon/cmd_calendar.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/result.h"

namespace crmh {
namespace {

using calendar::DstGap;
using calendar::Schedule;
using calendar::SysMicros;
using std::chrono::microseconds;
using std::chrono::seconds;

constexpr std::string_view kUsage =
    "usage: crm-hygiene calendar EXPR... [--tz ZONE] [--after TIME] [--count N]\n"
    "                            [--dst-gap skip|run_at_transition] [--json]\n"
    "  EXPR        a systemd OnCalendar= expression or a 5-field cron line (quote it)\n"
    "  --tz ZONE   zone for expressions that name none, and for display (like TZ=)\n"
    "  --after T   base time (default: now), e.g. 2026-03-28T00:00:00Z,\n"
    "              '2026-03-28 00:00:00 UTC', '2026-03-28 02:30' (in --tz), @1774656000\n"
    "  --count N   number of elapses to show (default 1)\n"
    "  --dst-gap   what a wall time inside a spring-forward gap does (default skip,\n"
    "              like systemd; run_at_transition runs it once after the gap, like cron)\n"
    "  --json      [{\"expression\":...,\"normalized\":...,\"next\":[RFC 3339 UTC...]}]\n";

struct Options {
  bool help = false;
  std::vector<std::string> expressions;
  std::string tz_name;
  std::optional<std::string> after;
  int count = 1;
  DstGap gap = DstGap::kSkip;
  bool json = false;
};

Result<Options> ParseArgs(const std::vector<std::string>& args) {
  Options o;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.empty() || a[0] != '-' || a == "-") {
      o.expressions.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    // --name value and --name=value
    std::string name = a, value;
    bool has_value = false;
    if (const size_t eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    auto take_value = [&]() -> Result<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return Error::Usage(fmt::format("{} needs a value", name));
      return args[++i];
    };
    if ((name == "--help" || name == "-h") && !has_value) {
      o.help = true;
      return o;
    }
    if (name == "--json" && !has_value) {
      o.json = true;
    } else if (name == "--tz") {
      auto v = take_value();
      if (!v) return v.error();
      o.tz_name = *v;
    } else if (name == "--after") {
      auto v = take_value();
      if (!v) return v.error();
      o.after = *v;
    } else if (name == "--count") {
      auto v = take_value();
      if (!v) return v.error();
      int n = 0;
      const auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || ptr != v->data() + v->size() || n < 1 || n > 100000)
        return Error::Usage(fmt::format("--count wants a number from 1 to 100000, not \"{}\"", *v));
      o.count = n;
    } else if (name == "--dst-gap") {
      auto v = take_value();
      if (!v) return v.error();
      if (*v == "skip") {
        o.gap = DstGap::kSkip;
      } else if (*v == "run_at_transition") {
        o.gap = DstGap::kRunAtTransition;
      } else {
        return Error::Usage(
            fmt::format("--dst-gap wants skip or run_at_transition, not \"{}\"", *v));
      }
    } else {
      return Error::Usage(fmt::format("unknown option \"{}\"", a));
    }
  }
  if (o.expressions.empty()) return Error::Usage("no calendar expression given");
  return o;
}

// --- base time ---------------------------------------------------------------------------------

class TimeParser {
 public:
  explicit TimeParser(std::string_view s) : s_(s) {}

  bool Digits(int n, int* out) {
    int v = 0;
    for (int k = 0; k < n; ++k) {
      if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '9') return false;
      v = v * 10 + (s_[i_++] - '0');
    }
    *out = v;
    return true;
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return s_[i_]; }
  std::string_view Rest() const { return s_.substr(i_); }
  void SkipSpaces() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  // Microseconds from ".ffffff" (any number of digits, truncated to 6).
  bool Fraction(int* us) {
    *us = 0;
    if (!Eat('.') && !Eat(',')) return true;
    int digits = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (digits < 6) *us = *us * 10 + (s_[i_] - '0');
      ++digits;
      ++i_;
    }
    for (int k = digits; k < 6; ++k) *us *= 10;
    return digits > 0;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// A local wall time in `tz` to an instant: the earlier one in a fold, shifted forward by the gap
// in a gap (how systemd's parse_timestamp() via mktime() treats such times, roughly).
SysMicros FromLocal(date::local_time<microseconds> local, const date::time_zone* tz) {
  if (tz == nullptr) return SysMicros{local.time_since_epoch()};
  const auto secs = date::floor<seconds>(local);
  const auto frac = local - secs;
  // For both a fold and a gap, the offset in force before the transition is the right one:
  // it picks the first occurrence, and moves a gap time forward by the gap size.
  const auto info = tz->get_info(secs);
  const date::sys_seconds sys{secs.time_since_epoch() - info.first.offset};
  return SysMicros{sys.time_since_epoch() + frac};
}

// Accepts RFC 3339 ("2026-03-28T00:00:00Z", "...+01:00", fractions), systemd's
// "[Weekday ]2026-03-28 00:00[:00] [UTC|Zone]", a bare date, "@<epoch seconds>" and "now".
// Without a zone the time is local to --tz (UTC if none), as systemd reads --base-time in TZ.
Result<SysMicros> ParseBaseTime(std::string_view text, const date::time_zone* tz) {
  auto bad = [&] {
    return Error::Usage(fmt::format(
        "cannot parse time \"{}\" (try 2026-03-28T00:00:00Z or '2026-03-28 00:00:00 UTC')", text));
  };
  if (text == "now") {
    return std::chrono::time_point_cast<microseconds>(std::chrono::system_clock::now());
  }
  if (!text.empty() && text[0] == '@') {
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) return bad();
    return SysMicros{seconds{v}};
  }
  std::string_view s = text;
  // Optional leading weekday name, as systemd prints it ("Sat 2026-03-28 ...").
  if (s.size() > 4 && s[3] == ' ' && std::isalpha(static_cast<unsigned char>(s[0])))
    s.remove_prefix(4);
  TimeParser p(s);
  int y, mo, d, h = 0, mi = 0, se = 0, us = 0;
  if (!p.Digits(4, &y) || !p.Eat('-') || !p.Digits(2, &mo) || !p.Eat('-') || !p.Digits(2, &d))
    return bad();
  if (!p.AtEnd()) {
    if (!p.Eat('T') && !p.Eat('t') && !p.Eat(' ')) return bad();
    p.SkipSpaces();
    if (!p.Digits(2, &h) || !p.Eat(':') || !p.Digits(2, &mi)) return bad();
    if (p.Eat(':')) {
      if (!p.Digits(2, &se) || !p.Fraction(&us)) return bad();
    }
  }
  const date::year_month_day ymd{date::year{y}, date::month(static_cast<unsigned>(mo)),
                                 date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad();
  const auto local = date::local_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
                     seconds{se} + microseconds{us};
  const auto as_utc = SysMicros{local.time_since_epoch()};
  if (p.AtEnd()) return FromLocal(local, tz);
  if (p.Eat('Z') || p.Eat('z')) {
    if (!p.AtEnd()) return bad();
    return as_utc;
  }
  if (!p.AtEnd() && (p.Peek() == '+' || p.Peek() == '-')) {
    const int sign = p.Peek() == '-' ? -1 : 1;
    p.Eat(p.Peek());
    int oh = 0, om = 0;
    if (!p.Digits(2, &oh)) return bad();
    p.Eat(':');
    if (!p.AtEnd() && !p.Digits(2, &om)) return bad();
    if (!p.AtEnd()) return bad();
    return as_utc - sign * (std::chrono::hours{oh} + std::chrono::minutes{om});
  }
  p.SkipSpaces();
  const std::string_view zone_name = p.Rest();
  if (zone_name == "UTC" || zone_name == "utc" || zone_name == "Z") return as_utc;
  auto zone = calendar::LocateZone(zone_name);
  if (!zone) return bad();
  return FromLocal(local, *zone);
}

// --- output ------------------------------------------------------------------------------------

std::string Rfc3339(SysMicros t) {
  const auto secs = date::floor<seconds>(t);
  const auto us = (t - secs).count();
  std::string out = date::format("%Y-%m-%dT%H:%M:%S", secs);
  if (us != 0) out += fmt::format(".{:06d}", us);
  return out + "Z";
}

// systemd's format_timestamp(): "Sat 2026-03-28 01:30:00 UTC" (seconds, truncated).
std::string SystemdTimestamp(SysMicros t, const date::time_zone* tz) {
  const auto lt = calendar::ToLocal(date::floor<seconds>(t), tz);
  return date::format("%a %Y-%m-%d %H:%M:%S ", date::local_seconds{lt.time.time_since_epoch()}) +
         lt.abbreviation;
}

// systemd's format_timestamp_relative().
std::string Relative(SysMicros t, SysMicros now) {
  using u64 = unsigned long long;
  constexpr u64 kSec = 1000000, kMin = 60 * kSec, kHour = 60 * kMin, kDay = 24 * kHour,
                kWeek = 7 * kDay, kMonth = 2629800 * kSec, kYear = 31557600 * kSec;
  const char* s;
  u64 d;
  if (now > t) {
    d = static_cast<u64>((now - t).count());
    s = "ago";
  } else {
    d = static_cast<u64>((t - now).count());
    s = "left";
  }
  auto plural = [](u64 n, const char* one, const char* many) { return n == 1 ? one : many; };
  if (d >= kYear) {
    const u64 years = d / kYear, months = (d % kYear) / kMonth;
    return fmt::format("{} {} {} {} {}", years, plural(years, "year", "years"), months,
                       plural(months, "month", "months"), s);
  }
  if (d >= kMonth) {
    const u64 months = d / kMonth, days = (d % kMonth) / kDay;
    return fmt::format("{} {} {} {} {}", months, plural(months, "month", "months"), days,
                       plural(days, "day", "days"), s);
  }
  if (d >= kWeek) {
    const u64 weeks = d / kWeek, days = (d % kWeek) / kDay;
    return fmt::format("{} {} {} {} {}", weeks, plural(weeks, "week", "weeks"), days,
                       plural(days, "day", "days"), s);
  }
  if (d >= 2 * kDay) return fmt::format("{} days {}", d / kDay, s);
  if (d >= 25 * kHour) return fmt::format("1 day {}h {}", (d - kDay) / kHour, s);
  if (d >= 6 * kHour) return fmt::format("{}h {}", d / kHour, s);
  if (d >= kHour) return fmt::format("{}h {}min {}", d / kHour, (d % kHour) / kMin, s);
  if (d >= 5 * kMin) return fmt::format("{}min {}", d / kMin, s);
  if (d >= kMin) return fmt::format("{}min {}s {}", d / kMin, (d % kMin) / kSec, s);
  if (d >= kSec) return fmt::format("{}s {}", d / kSec, s);
  if (d >= 1000) return fmt::format("{}ms {}", d / 1000, s);
  if (d > 0) return fmt::format("{}us {}", d, s);
  return "now";
}

void Line(std::string* out, std::string_view label, std::string_view value) {
  *out += fmt::format("{:>16} {}\n", label, value);
}

}  // namespace

int RunCalendarCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto opts = ParseArgs(args);
  if (!opts) {
    err << "calendar: " << opts.error().message << "\n" << kUsage;
    return static_cast<int>(Exit::kUsage);
  }
  if (opts->help) {
    out << kUsage;
    return 0;
  }
  const date::time_zone* tz = nullptr;
  if (!opts->tz_name.empty()) {
    auto zone = calendar::LocateZone(opts->tz_name);
    if (!zone) {
      err << "calendar: --tz: " << zone.error().message << "\n";
      return static_cast<int>(Exit::kUsage);
    }
    tz = *zone;
  }
  const SysMicros now =
      std::chrono::time_point_cast<microseconds>(std::chrono::system_clock::now());
  SysMicros base = now;
  if (opts->after) {
    auto parsed = ParseBaseTime(*opts->after, tz);
    if (!parsed) {
      err << "calendar: --after: " << parsed.error().message << "\n";
      return static_cast<int>(Exit::kUsage);
    }
    base = *parsed;
  }

  // Parse everything first: one bad expression fails the command and prints nothing else.
  std::vector<Schedule> schedules;
  bool failed = false;
  for (const std::string& e : opts->expressions) {
    auto s = Schedule::Parse(e);
    if (!s) {
      err << "calendar: " << s.error().message << "\n";
      failed = true;
      continue;
    }
    schedules.push_back(std::move(*s));
  }
  if (failed) return static_cast<int>(Exit::kUsage);

  auto elapses = [&](const Schedule& s) {
    std::vector<SysMicros> next;
    SysMicros from = base;
    for (int i = 0; i < opts->count; ++i) {
      const auto n = s.NextPrecise(from, tz, opts->gap);
      if (!n) break;
      next.push_back(*n);
      from = *n;
    }
    return next;
  };

  if (opts->json) {
    auto result = nlohmann::ordered_json::array();
    for (const Schedule& s : schedules) {
      nlohmann::ordered_json item;
      item["expression"] = s.original();
      item["normalized"] = s.normalized();
      auto next = nlohmann::ordered_json::array();
      for (const SysMicros t : elapses(s)) next.push_back(Rfc3339(t));
      item["next"] = std::move(next);
      result.push_back(std::move(item));
    }
    out << result.dump() << "\n";
    return 0;
  }

  const bool show_utc = !calendar::IsUtcLike(tz);
  std::string text;
  for (size_t k = 0; k < schedules.size(); ++k) {
    const Schedule& s = schedules[k];
    if (k > 0) text += "\n";
    if (s.original() != s.normalized()) Line(&text, "Original form:", s.original());
    Line(&text, "Normalized form:", s.normalized());
    const auto next = elapses(s);
    if (next.empty()) Line(&text, "Next elapse:", "never");
    for (size_t i = 0; i < next.size(); ++i) {
      Line(&text, i == 0 ? std::string("Next elapse:") : fmt::format("Iter. #{}:", i + 1),
           SystemdTimestamp(next[i], tz));
      if (show_utc) Line(&text, "(in UTC):", SystemdTimestamp(next[i], nullptr));
      Line(&text, "From now:", Relative(next[i], now));
    }
  }
  out << text;
  return 0;
}

}  // namespace crmh
