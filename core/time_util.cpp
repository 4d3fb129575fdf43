#include "core/time_util.h"

#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <sstream>

namespace crmh {

const date::time_zone* LookupZone(std::string_view name) {
  if (name.empty()) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string FormatRfc3339(SysSeconds t) { return date::format("%Y-%m-%dT%H:%M:%SZ", t); }

std::string FormatSqlTime(SysSeconds t) { return date::format("%Y-%m-%d %H:%M:%S", t); }

std::optional<SysSeconds> ParseRfc3339(std::string_view text) {
  std::string s(text);
  for (const char* fmt : {"%Y-%m-%dT%H:%M:%S%Ez", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S%Ez",
                          "%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S"}) {
    std::istringstream in(s);
    date::sys_time<std::chrono::microseconds> tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) {
      return std::chrono::floor<std::chrono::seconds>(tp);
    }
  }
  return std::nullopt;
}

std::optional<SysSeconds> ParseSqlTime(std::string_view text) {
  // The canonical "YYYY-MM-DD HH:MM:SS" (every DATETIME the server sends) without a stream: a
  // prune plan parses a million of them. Anything else — other widths, out-of-range fields —
  // takes date::parse below, which decides as before.
  if (text.size() >= 19 && text[4] == '-' && text[7] == '-' && text[10] == ' ' &&
      text[13] == ':' && text[16] == ':') {
    auto num = [&](size_t at, size_t len, int& out) {
      out = 0;
      for (size_t i = at; i < at + len; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        out = out * 10 + (text[i] - '0');
      }
      return true;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (num(0, 4, y) && num(5, 2, mo) && num(8, 2, d) && num(11, 2, h) && num(14, 2, mi) &&
        num(17, 2, sec) && h < 24 && mi < 60 && sec < 60) {
      const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                     date::day{static_cast<unsigned>(d)}};
      if (ymd.ok()) {
        return SysSeconds{date::sys_days{ymd}.time_since_epoch() + std::chrono::hours{h} +
                          std::chrono::minutes{mi} + std::chrono::seconds{sec}};
      }
    }
  }
  // DATETIME(6) values carry a fraction; sqlite TEXT may not.
  std::string s(text.substr(0, 19));
  std::istringstream in(s);
  SysSeconds tp;
  in >> date::parse("%Y-%m-%d %H:%M:%S", tp);
  if (in.fail()) return std::nullopt;
  return tp;
}

std::string IsoWeek(SysSeconds t, const date::time_zone* tz) {
  auto local = tz ? date::make_zoned(tz, t).get_local_time()
                  : date::local_seconds{t.time_since_epoch()};
  auto day = date::floor<date::days>(local);
  iso_week::year_weeknum_weekday iw{date::local_days{day}};
  return fmt::format("{}-W{:02}", static_cast<int>(iw.year()),
                     static_cast<unsigned>(iw.weeknum()));
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string ShortHash(std::string_view bytes) { return fmt::format("{:016x}", Fnv1a64(bytes)); }

}  // namespace crmh
