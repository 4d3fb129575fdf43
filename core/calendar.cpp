// Calendar expressions: parsing, normalization and next-elapse computation.
//
// How this file is organised (top to bottom):
//   1. Civil-time arithmetic and glibc's localtime()/mktime(), emulated on top of the date
//      library's tz database (plus the zone file's POSIX footer rule, which date ignores).
//   2. systemd OnCalendar= expressions: parser, normalizer, formatter (systemd 252 semantics).
//   3. systemd's next-elapse search (find_next() in calendarspec.c), emulated step by step.
//   4. Cron lines: parser, normalized form, next-elapse search.
//   5. DST policies layered on top: repeated (autumn) hours and skipped (spring) hours.
//   6. The public Schedule API.
//
// Why emulate glibc instead of "doing it right": the contract is that `crm-hygiene calendar`
// prints what `systemd-analyze calendar` prints. systemd's search walks local wall-clock fields
// and converts them with mktime(tm_isdst = -1). What happens in a DST gap or fold is therefore
// whatever glibc's mktime() does there: it probes offsets starting from the offset of its
// *previous* call (a hidden static cache), and in a gap it oscillates and picks one side. To get
// the same elapses we reproduce that algorithm, cache included. The cache lives in a Clock
// object per Next() call, so our code stays pure and thread-safe.
#include "core/calendar.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace crmh::calendar {
namespace {

using i64 = std::int64_t;

constexpr i64 kUsecPerSec = 1'000'000;
constexpr i64 kSecPerDay = 86'400;
// systemd's bounds on years (calendarspec.c MIN_YEAR/MAX_YEAR); the search gives up after
// MAX_YEAR, which is also what bounds our own searches.
constexpr int kMinYear = 1970;
constexpr int kMaxYear = 2199;
constexpr char kZoneInfoDir[] = "/usr/share/zoneinfo/";

// ---------------------------------------------------------------------------------------------
// 1. Civil time and glibc emulation
// ---------------------------------------------------------------------------------------------

i64 FloorDiv(i64 a, i64 b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
i64 FloorMod(i64 a, i64 b) { return a - FloorDiv(a, b) * b; }

bool IsLeap(i64 y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
i64 DaysFromCivil(i64 y, unsigned m, unsigned d) {
  y -= m <= 2;
  const i64 era = FloorDiv(y, 400);
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<i64>(doe) - 719468;
}

void CivilFromDays(i64 z, i64* y, unsigned* m, unsigned* d) {
  z += 719468;
  const i64 era = FloorDiv(z, 146097);
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<i64>(yoe) + era * 400 + (*m <= 2);
}

// struct tm, with the same conventions (year since 1900, month 0..11, wday 0 = Sunday).
struct Tm {
  int sec = 0, min = 0, hour = 0, mday = 1, mon = 0, year = 70, wday = 4, yday = 0, isdst = -1;
};

Tm BreakDown(i64 local_seconds, bool isdst) {
  Tm tm;
  const i64 days = FloorDiv(local_seconds, kSecPerDay);
  const i64 secs = local_seconds - days * kSecPerDay;
  i64 y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  tm.year = static_cast<int>(y - 1900);
  tm.mon = static_cast<int>(m) - 1;
  tm.mday = static_cast<int>(d);
  tm.hour = static_cast<int>(secs / 3600);
  tm.min = static_cast<int>(secs / 60 % 60);
  tm.sec = static_cast<int>(secs % 60);
  tm.wday = static_cast<int>(FloorMod(days + 4, 7));
  tm.yday = static_cast<int>(days - DaysFromCivil(y, 1, 1));
  tm.isdst = isdst ? 1 : 0;
  return tm;
}

// glibc's ydhms_diff(): seconds between two (year-1900, yday, h, m, s) tuples, fields may be out
// of range. Kept literally (including the leap-day arithmetic) because mktime's results depend
// on it for out-of-range fields such as mday = 0 or mon = 12.
i64 YdhmsDiff(i64 year1, i64 yday1, int hour1, int min1, int sec1, int year0, int yday0, int hour0,
              int min0, int sec0) {
  const i64 a4 = (year1 >> 2) + (1900 >> 2) - !(year1 & 3);
  const i64 b4 = (year0 >> 2) + (1900 >> 2) - !(year0 & 3);
  const i64 a100 = a4 / 25 - (a4 % 25 < 0);
  const i64 b100 = b4 / 25 - (b4 % 25 < 0);
  const i64 a400 = a100 >> 2;
  const i64 b400 = b100 >> 2;
  const i64 intervening_leap_days = (a4 - b4) - (a100 - b100) + (a400 - b400);
  const i64 years = year1 - year0;
  const i64 days = 365 * years + yday1 - yday0 + intervening_leap_days;
  const i64 hours = 24 * days + hour1 - hour0;
  const i64 minutes = 60 * hours + min1 - min0;
  return 60 * minutes + sec1 - sec0;
}

constexpr std::array<std::array<int, 13>, 2> kMonYday = {{
    {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365},
    {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366},
}};

// --- POSIX TZ strings (the footer of a TZif v2+ file), evaluated like glibc's tzset.c --------

struct PosixRule {
  enum class Kind { kJulian0, kJulian1, kMonthWeekDay };
  Kind kind = Kind::kJulian0;
  int day = 0, week = 0, month = 0;
  i64 secs = 7200;  // local time of day of the change
};

struct PosixTz {
  std::string std_name, dst_name;
  int std_off = 0, dst_off = 0;  // seconds east of UTC
  bool has_dst = false;
  PosixRule start, end;  // DST starts at `start` (standard time), ends at `end` (DST time)
};

class PosixTzParser {
 public:
  explicit PosixTzParser(std::string_view s) : s_(s) {}

  std::optional<PosixTz> Parse() {
    PosixTz tz;
    int off = 0;
    if (!Name(&tz.std_name) || !Hms(&off)) return std::nullopt;
    tz.std_off = -off;  // POSIX offsets count west of UTC
    if (AtEnd()) {
      tz.dst_name = tz.std_name;
      tz.dst_off = tz.std_off;
      return tz;
    }
    if (!Name(&tz.dst_name)) return std::nullopt;
    tz.has_dst = true;
    tz.dst_off = tz.std_off + 3600;
    if (!AtEnd() && Peek() != ',') {
      if (!Hms(&off)) return std::nullopt;
      tz.dst_off = -off;
    }
    // A DST name without rules means the US default rules in glibc; tzdata never does that.
    if (AtEnd() || Peek() != ',') return std::nullopt;
    ++i_;
    if (!Rule(&tz.start) || AtEnd() || Peek() != ',') return std::nullopt;
    ++i_;
    if (!Rule(&tz.end) || !AtEnd()) return std::nullopt;
    return tz;
  }

 private:
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return s_[i_]; }

  bool Name(std::string* out) {
    if (AtEnd()) return false;
    if (Peek() == '<') {
      const size_t close = s_.find('>', i_);
      if (close == std::string_view::npos) return false;
      *out = std::string(s_.substr(i_ + 1, close - i_ - 1));
      i_ = close + 1;
      return true;
    }
    const size_t b = i_;
    while (!AtEnd() && std::isalpha(static_cast<unsigned char>(Peek()))) ++i_;
    *out = std::string(s_.substr(b, i_ - b));
    return i_ - b >= 3;
  }

  bool Number(int* v) {
    if (AtEnd() || !std::isdigit(static_cast<unsigned char>(Peek()))) return false;
    int n = 0;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(Peek()))) {
      n = n * 10 + (Peek() - '0');
      ++i_;
      if (n > 100000) return false;
    }
    *v = n;
    return true;
  }

  // [+-]hh[:mm[:ss]] in seconds (sign kept as written).
  bool Hms(int* out) {
    int sign = 1;
    if (!AtEnd() && (Peek() == '+' || Peek() == '-')) {
      sign = Peek() == '-' ? -1 : 1;
      ++i_;
    }
    int h = 0, m = 0, s = 0;
    if (!Number(&h)) return false;
    if (!AtEnd() && Peek() == ':') {
      ++i_;
      if (!Number(&m)) return false;
      if (!AtEnd() && Peek() == ':') {
        ++i_;
        if (!Number(&s)) return false;
      }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
  }

  bool Rule(PosixRule* r) {
    if (AtEnd()) return false;
    if (Peek() == 'M') {
      ++i_;
      r->kind = PosixRule::Kind::kMonthWeekDay;
      if (!Number(&r->month) || AtEnd() || Peek() != '.') return false;
      ++i_;
      if (!Number(&r->week) || AtEnd() || Peek() != '.') return false;
      ++i_;
      if (!Number(&r->day)) return false;
      if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->day > 6) return false;
    } else if (Peek() == 'J') {
      ++i_;
      r->kind = PosixRule::Kind::kJulian1;
      if (!Number(&r->day) || r->day < 1 || r->day > 365) return false;
    } else {
      r->kind = PosixRule::Kind::kJulian0;
      if (!Number(&r->day) || r->day > 365) return false;
    }
    r->secs = 7200;
    if (!AtEnd() && Peek() == '/') {
      ++i_;
      int secs = 0;
      if (!Hms(&secs)) return false;
      r->secs = secs;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// glibc's compute_change(): the UTC instant at which `rule` fires in `year`; `offset` is the
// UTC offset in force just before the change.
i64 ComputeChange(const PosixRule& rule, i64 year, int offset) {
  i64 t = year > 1970 ? DaysFromCivil(year, 1, 1) * kSecPerDay : 0;
  switch (rule.kind) {
    case PosixRule::Kind::kJulian1:
      t += static_cast<i64>(rule.day - 1) * kSecPerDay;
      if (rule.day >= 60 && IsLeap(year)) t += kSecPerDay;
      break;
    case PosixRule::Kind::kJulian0:
      t += static_cast<i64>(rule.day) * kSecPerDay;
      break;
    case PosixRule::Kind::kMonthWeekDay: {
      const auto& myday = kMonYday[IsLeap(year) ? 1 : 0];
      t += static_cast<i64>(myday[rule.month - 1]) * kSecPerDay;
      // Zeller's congruence, exactly as glibc writes it.
      const int m1 = (rule.month + 9) % 12 + 1;
      const i64 yy0 = rule.month <= 2 ? year - 1 : year;
      const i64 yy1 = yy0 / 100;
      const i64 yy2 = yy0 % 100;
      i64 dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
      if (dow < 0) dow += 7;
      i64 d = rule.day - dow;
      if (d < 0) d += 7;
      for (int i = 1; i < rule.week; ++i) {
        if (d + 7 >= myday[rule.month] - myday[rule.month - 1]) break;
        d += 7;
      }
      t += d * kSecPerDay;
      break;
    }
  }
  return t - offset + rule.secs;
}

struct Offset {
  int utoff = 0;
  bool isdst = false;
};

// A stretch of time with one UTC offset.
struct Span {
  i64 begin, end;  // [begin, end) in seconds since the epoch
  int utoff;
  bool isdst;
};

constexpr i64 kFarPast = -(i64{1} << 40);
constexpr i64 kFarFuture = i64{1} << 40;

// Everything we know about one zone, shared by all schedules (immutable once built).
class ZoneData {
 public:
  explicit ZoneData(const date::time_zone* zone) : zone_(zone) {
    const auto last = zone_->get_info(date::sys_days{date::year{2600} / 1 / 1});
    const i64 last_begin = last.begin.time_since_epoch().count();
    // glibc uses the footer only at or after the last transition of the file; a zone without
    // transitions keeps its single type.
    if (last_begin > kFarPast) {
      footer_ = ReadFooter(zone_->name());
      if (footer_) footer_from_ = last_begin;
    }
  }

  const date::time_zone* zone() const { return zone_; }

  Offset At(i64 t) const {
    if (t >= footer_from_) return FooterAt(t);
    const auto info = zone_->get_info(date::sys_seconds{std::chrono::seconds{t}});
    return {static_cast<int>(info.offset.count()), info.save.count() != 0};
  }

  std::string AbbrevAt(i64 t) const {
    if (t >= footer_from_) return FooterAt(t).isdst ? footer_->dst_name : footer_->std_name;
    return zone_->get_info(date::sys_seconds{std::chrono::seconds{t}}).abbrev;
  }

  // The span of constant offset around t (boundaries where only the abbreviation changes may
  // split a span; callers compare offsets, so that is harmless).
  Span SpanAt(i64 t) const {
    if (t >= footer_from_) return FooterSpanAt(t);
    const auto info = zone_->get_info(date::sys_seconds{std::chrono::seconds{t}});
    Span s{std::max(info.begin.time_since_epoch().count(), kFarPast),
           std::min(info.end.time_since_epoch().count(), kFarFuture),
           static_cast<int>(info.offset.count()), info.save.count() != 0};
    s.end = std::min(s.end, footer_from_);
    return s;
  }

  // glibc's timezone/daylight globals describe the footer rule; systemd-analyze omits its
  // "(in UTC)" line when both are zero.
  bool utc_like() const {
    if (footer_) return !footer_->has_dst && footer_->std_off == 0;
    const Offset o = At(0);
    return o.utoff == 0 && !o.isdst;
  }

 private:
  static std::optional<PosixTz> ReadFooter(const std::string& name) {
    std::ifstream in(std::string(kZoneInfoDir) + name, std::ios::binary);
    if (!in) return std::nullopt;
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // TZif v2+ files end with "\n<POSIX TZ string>\n"; v1 files have no footer.
    if (data.size() < 6 || data.compare(0, 4, "TZif") != 0 || data[4] < '2' || data.back() != '\n')
      return std::nullopt;
    const size_t prev = data.rfind('\n', data.size() - 2);
    if (prev == std::string::npos) return std::nullopt;
    const std::string footer = data.substr(prev + 1, data.size() - prev - 2);
    if (footer.empty()) return std::nullopt;
    return PosixTzParser(footer).Parse();
  }

  // glibc's __tz_compute(): the rules are evaluated for the UTC year of t.
  Offset FooterAt(i64 t) const {
    const PosixTz& tz = *footer_;
    if (!tz.has_dst) return {tz.std_off, false};
    i64 y;
    unsigned m, d;
    CivilFromDays(FloorDiv(t, kSecPerDay), &y, &m, &d);
    const i64 start = ComputeChange(tz.start, y, tz.std_off);
    const i64 end = ComputeChange(tz.end, y, tz.dst_off);
    const bool isdst = start > end ? (t < end || t >= start) : (t >= start && t < end);
    return isdst ? Offset{tz.dst_off, true} : Offset{tz.std_off, false};
  }

  Span FooterSpanAt(i64 t) const {
    const Offset o = FooterAt(t);
    Span s{footer_from_, kFarFuture, o.utoff, o.isdst};
    if (!footer_->has_dst) return s;
    i64 y;
    unsigned m, d;
    CivilFromDays(FloorDiv(t, kSecPerDay), &y, &m, &d);
    for (i64 yy = y - 1; yy <= y + 1; ++yy) {
      for (const i64 c : {ComputeChange(footer_->start, yy, footer_->std_off),
                          ComputeChange(footer_->end, yy, footer_->dst_off)}) {
        if (c <= t && c > s.begin) s.begin = c;
        if (c > t && c < s.end) s.end = c;
      }
    }
    return s;
  }

  const date::time_zone* zone_;
  std::optional<PosixTz> footer_;
  i64 footer_from_ = kFarFuture + 1;
};

const ZoneData* ZoneDataFor(const date::time_zone* zone) {
  if (zone == nullptr) return nullptr;
  static std::mutex mu;
  static std::map<const date::time_zone*, std::unique_ptr<ZoneData>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[zone];
  if (!slot) slot = std::make_unique<ZoneData>(zone);
  return slot.get();
}

// localtime_r()/mktime() for one zone (or gmtime_r()/timegm() when zone is null), with
// mktime's "offset of the previous call" cache. One Clock per Next() call.
class Clock {
 public:
  explicit Clock(const ZoneData* zone) : zone_(zone) {}

  Offset OffsetAt(i64 t) {
    if (zone_ == nullptr) return {};
    if (t >= span_begin_ && t < span_end_) return span_offset_;
    // Remember the span so that the many probes of one search hit the tz database rarely.
    const Span s = zone_->SpanAt(t);
    span_begin_ = s.begin;
    span_end_ = s.end;
    span_offset_ = zone_->At(t);
    return span_offset_;
  }

  Tm Local(i64 t) {
    const Offset o = OffsetAt(t);
    return BreakDown(t + o.utoff, o.isdst);
  }

  // mktime()/timegm(): returns -1 on failure (leaving tm untouched), like glibc.
  i64 MkTime(Tm* tp) {
    if (zone_ == nullptr) return TimeGm(tp);
    return MkTimeLocal(tp);
  }

 private:
  static i64 TimeGm(Tm* tp) {
    const int mon_remainder = tp->mon % 12;
    const int negative = mon_remainder < 0;
    const int mon_years = tp->mon / 12 - negative;
    const i64 year = static_cast<i64>(tp->year) + mon_years;
    const i64 yday =
        kMonYday[IsLeap(year + 1900) ? 1 : 0][mon_remainder + 12 * negative] - 1 + tp->mday;
    const i64 t = YdhmsDiff(year, yday, tp->hour, tp->min, tp->sec, 70, 0, 0, 0, 0);
    *tp = BreakDown(t, false);
    return t;
  }

  static bool IsDstDiffer(int a, int b) { return (!a != !b) && a >= 0 && b >= 0; }

  // glibc's __mktime_internal() with localtime_r() as the conversion.
  i64 MkTimeLocal(Tm* tp) {
    int remaining_probes = 6;
    int sec = tp->sec;
    const int min = tp->min, hour = tp->hour, mday = tp->mday, mon = tp->mon;
    const int isdst = tp->isdst;
    int dst2 = 0;
    const int mon_remainder = mon % 12;
    const int negative_mon_remainder = mon_remainder < 0;
    const int mon_years = mon / 12 - negative_mon_remainder;
    const i64 year = static_cast<i64>(tp->year) + mon_years;
    const int mon_yday =
        kMonYday[IsLeap(year + 1900) ? 1 : 0][mon_remainder + 12 * negative_mon_remainder] - 1;
    const i64 yday = mon_yday + static_cast<i64>(mday);
    const i64 off = offset_cache_;
    const int sec_requested = sec;
    sec = std::clamp(sec, 0, 59);

    auto tm_diff = [&](const Tm& t) {
      return YdhmsDiff(year, yday, hour, min, sec, t.year, t.yday, t.hour, t.min, t.sec);
    };

    // First guess: the offset found by the previous call.
    const i64 t0 = YdhmsDiff(year, yday, hour, min, sec, 70, 0, 0, 0, static_cast<int>(-off));
    i64 t = t0, t1 = t0, t2 = t0;
    Tm tm;
    bool found = false;
    while (true) {
      tm = Local(t);
      const i64 dt = tm_diff(tm);
      if (dt == 0) break;
      // Oscillating between two probes: the requested time is in a spring-forward gap. glibc
      // then returns the probe that is DST (if only one is), i.e. it moves by the gap size.
      if (t == t1 && t != t2 &&
          (isdst < 0 ? dst2 <= (tm.isdst != 0) : (isdst != 0) != (tm.isdst != 0))) {
        found = true;
        break;
      }
      if (--remaining_probes == 0) return -1;
      t1 = t2;
      t2 = t;
      t += dt;
      dst2 = tm.isdst != 0;
    }
    if (!found && IsDstDiffer(isdst, tm.isdst)) {
      // The caller asked for a specific isdst (systemd does only for the instant it starts
      // from, so this resolves a fold to the side the start was on): find a nearby time with
      // that isdst and use its offset.
      constexpr int kStride = 601200;
      constexpr int kDeltaBound = 536454000 / 2 + kStride;
      bool ok = false;
      for (int delta = kStride; delta < kDeltaBound && !ok; delta += kStride) {
        for (int direction = -1; direction <= 1 && !ok; direction += 2) {
          const i64 ot = t + static_cast<i64>(delta) * direction;
          const Tm otm = Local(ot);
          if (!IsDstDiffer(isdst, otm.isdst)) {
            t = ot + tm_diff(otm);
            tm = Local(t);
            ok = true;
          }
        }
      }
      if (!ok) return -1;
    }
    offset_cache_ = off + t - t0;
    if (sec_requested != tm.sec) {
      t += sec_requested - sec;
      tm = Local(t);
    }
    *tp = tm;
    return t;
  }

  const ZoneData* zone_;
  i64 offset_cache_ = 0;
  i64 span_begin_ = 1, span_end_ = 0;
  Offset span_offset_;
};

// ---------------------------------------------------------------------------------------------
// 2. systemd OnCalendar= expressions
// ---------------------------------------------------------------------------------------------

// One element of a comma list: start[..stop][/repeat]. stop < 0 means "no stop".
struct Component {
  int start = 0;
  int stop = -1;
  int repeat = 0;
  friend bool operator==(const Component&, const Component&) = default;
};

// An empty chain means "*" (matches everything). The seconds chain is in microseconds and a
// written "*" there is the component {0, -1, 1s}, as in systemd.
using Chain = std::vector<Component>;

struct SystemdSpec {
  int weekdays_bits = -1;  // bit 0 = Monday; -1 = any day
  bool end_of_month = false;
  bool utc = false;
  std::string timezone;
  Chain year, month, day, hour, minute, usec;
};

constexpr int kAllWeekdays = 127;
constexpr int kMaxComponents = 240;  // systemd's CALENDARSPEC_COMPONENTS_MAX

// A parse failure: what went wrong and where (byte offset into the expression).
struct SyntaxError {
  size_t pos;
  std::string what;
};

bool StartsWithNoCase(const char* s, const char* prefix) {
  for (; *prefix; ++s, ++prefix) {
    if (std::tolower(static_cast<unsigned char>(*s)) !=
        std::tolower(static_cast<unsigned char>(*prefix)))
      return false;
  }
  return true;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// systemd's timezone_is_valid(): a plain relative path of [A-Za-z0-9_+-] segments naming a
// regular file that starts with the TZif magic.
bool TimezoneFileIsValid(std::string_view name) {
  if (name.empty() || name.front() == '/') return false;
  bool slash = false;
  for (char ch : name) {
    const bool ok = IsDigit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    ch == '-' || ch == '_' || ch == '+' || ch == '/';
    if (!ok) return false;
    if (ch == '/') {
      if (slash) return false;
      slash = true;
    } else {
      slash = false;
    }
  }
  if (slash || name.size() >= 4096) return false;
  const std::string path = std::string(kZoneInfoDir) + std::string(name);
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, 4)) return false;
  return std::memcmp(magic, "TZif", 4) == 0;
}

class SystemdParser {
 public:
  explicit SystemdParser(std::string text) : text_(std::move(text)) {}

  // Parses text_ (which has had any zone suffix removed) into spec.
  std::optional<SyntaxError> Parse(SystemdSpec* spec) {
    spec_ = spec;
    const char* p = text_.c_str();
    if (*p == 0) return Fail(p, "empty expression");
    if (ParseShorthand()) return std::nullopt;
    if (auto e = ParseWeekdays(&p)) return e;
    int date_result = 0;
    if (auto e = ParseDate(&p, &date_result)) return e;
    if (date_result == 0) {
      if (auto e = ParseTime(&p)) return e;
    }
    if (*p != 0) return Fail(p, "unexpected text");
    return std::nullopt;
  }

 private:
  std::optional<SyntaxError> Fail(const char* at, std::string what) {
    return SyntaxError{static_cast<size_t>(at - text_.c_str()), std::move(what)};
  }

  static Chain Const(int v) { return Chain{Component{v, -1, 0}}; }

  bool ParseShorthand() {
    const std::string_view p = text_;
    SystemdSpec& c = *spec_;
    auto midnight = [&] {
      c.hour = Const(0);
      c.minute = Const(0);
      c.usec = Const(0);
    };
    if (EqualsNoCase(p, "minutely")) {
      c.usec = Const(0);
    } else if (EqualsNoCase(p, "hourly")) {
      c.minute = Const(0);
      c.usec = Const(0);
    } else if (EqualsNoCase(p, "daily")) {
      midnight();
    } else if (EqualsNoCase(p, "monthly")) {
      c.day = Const(1);
      midnight();
    } else if (EqualsNoCase(p, "annually") || EqualsNoCase(p, "yearly") ||
               EqualsNoCase(p, "anually")) {
      c.month = Const(1);
      c.day = Const(1);
      midnight();
    } else if (EqualsNoCase(p, "weekly")) {
      c.weekdays_bits = 1;
      midnight();
    } else if (EqualsNoCase(p, "quarterly")) {
      c.month = Chain{{1, -1, 0}, {4, -1, 0}, {7, -1, 0}, {10, -1, 0}};
      c.day = Const(1);
      midnight();
    } else if (EqualsNoCase(p, "biannually") || EqualsNoCase(p, "bi-annually") ||
               EqualsNoCase(p, "semiannually") || EqualsNoCase(p, "semi-annually")) {
      c.month = Chain{{1, -1, 0}, {7, -1, 0}};
      c.day = Const(1);
      midnight();
    } else {
      return false;
    }
    return true;
  }

  // Weekday list/ranges ("Mon..Fri", "Sat,Sun", "Monday-Wednesday"). No weekday is fine.
  std::optional<SyntaxError> ParseWeekdays(const char** p) {
    static constexpr std::pair<const char*, int> kDays[] = {
        {"Monday", 0},   {"Mon", 0},      {"Tuesday", 1}, {"Tue", 1},    {"Wednesday", 2},
        {"Wed", 2},      {"Thursday", 3}, {"Thu", 3},     {"Friday", 4}, {"Fri", 4},
        {"Saturday", 5}, {"Sat", 5},      {"Sunday", 6},  {"Sun", 6}};
    int l = -1;
    bool first = true;
    for (;;) {
      const std::pair<const char*, int>* match = nullptr;
      for (const auto& d : kDays) {
        if (StartsWithNoCase(*p, d.first)) {
          match = &d;
          break;
        }
      }
      if (match == nullptr) {
        if (first) return std::nullopt;  // no weekday: the date follows
        return Fail(*p, "expected a weekday name");
      }
      const size_t skip = std::strlen(match->first);
      const char next = (*p)[skip];
      if (next != 0 && next != '-' && next != '.' && next != ',' && next != ' ')
        return Fail(*p, "bad weekday name");
      spec_->weekdays_bits = std::max(spec_->weekdays_bits, 0) | (1 << match->second);
      if (l >= 0) {
        if (l > match->second) return Fail(*p, "weekday range goes backwards");
        for (int j = l + 1; j < match->second; ++j) spec_->weekdays_bits |= 1 << j;
      }
      *p += skip;
      if (**p == 0) return std::nullopt;
      if (**p == ' ') {
        *p += std::strspn(*p, " ");
        return std::nullopt;
      }
      if (**p == '.') {
        if (l >= 0) return Fail(*p, "weekday range after a range");
        if ((*p)[1] != '.') return Fail(*p, "expected '..'");
        l = match->second;
        *p += 2;
      } else if (**p == '-') {  // "-" ranges: backwards compatibility in systemd
        if (l >= 0) return Fail(*p, "weekday range after a range");
        l = match->second;
        *p += 1;
      } else if (**p == ',') {
        l = -1;
        *p += 1;
      }
      // A trailing comma is allowed, an open range is not.
      if (**p == 0 || **p == ' ') {
        *p += std::strspn(*p, " ");
        if (l >= 0) return Fail(*p, "open weekday range");
        return std::nullopt;
      }
      first = false;
    }
  }

  // systemd's parse_fractional_part_u(): 6 digits, rounding on the 7th, the rest ignored.
  static bool FractionalMicros(const char** s, unsigned* res) {
    unsigned val = 0;
    const char* q = *s;
    for (size_t i = 0; i < 6; ++i, ++q) {
      if (!IsDigit(*q)) {
        if (i == 0) return false;
        for (; i < 6; ++i) val *= 10;
        break;
      }
      val = val * 10 + static_cast<unsigned>(*q - '0');
    }
    if (*q >= '5' && *q <= '9') ++val;
    while (IsDigit(*q)) ++q;
    *s = q;
    *res = val;
    return true;
  }

  std::optional<SyntaxError> Decimal(const char** p, bool usec, int* res) {
    const char* s = *p;
    if (!IsDigit(*s)) return Fail(s, "expected a number");
    errno = 0;
    char* end = nullptr;
    unsigned long long value = std::strtoull(s, &end, 10);
    if (errno != 0) return Fail(s, "number out of range");
    const char* e = end;
    if (usec) {
      if (value > ULLONG_MAX / kUsecPerSec) return Fail(s, "number out of range");
      value *= kUsecPerSec;
      // One "." is a decimal point, ".." is a range.
      if (e[0] == '.' && e[1] != '.') {
        ++e;
        unsigned add = 0;
        if (!FractionalMicros(&e, &add)) return Fail(e, "expected digits after '.'");
        value += add;
      }
    }
    if (value > static_cast<unsigned long long>(INT_MAX)) return Fail(s, "number out of range");
    *p = e;
    *res = static_cast<int>(value);
    return std::nullopt;
  }

  std::optional<SyntaxError> ParseChain(const char** p, bool usec, Chain* out) {
    const char* t = *p;
    out->clear();
    if (*t == '*') {
      if (usec) *out = Chain{Component{0, -1, static_cast<int>(kUsecPerSec)}};
      *p = t + 1;
      return std::nullopt;
    }
    for (int nesting = 0;; ++nesting) {
      if (nesting > kMaxComponents) return Fail(t, "too many list elements");
      Component c;
      const char* e = t;
      if (auto err = Decimal(&e, usec, &c.start)) return err;
      if (e[0] == '.' && e[1] == '.') {
        e += 2;
        if (auto err = Decimal(&e, usec, &c.stop)) return err;
        c.repeat = usec ? static_cast<int>(kUsecPerSec) : 1;
      }
      if (*e == '/') {
        ++e;
        const char* rs = e;
        if (auto err = Decimal(&e, usec, &c.repeat)) return err;
        if (c.repeat == 0) return Fail(rs, "repetition must not be zero");
      } else {
        if (c.start > INT_MAX - c.repeat) return Fail(t, "number out of range");
        // Without a repetition, a seconds range must span at least one second.
        if (usec && c.stop >= 0 && c.start + c.repeat > c.stop)
          return Fail(t, "seconds range shorter than one second");
      }
      if (*e != 0 && *e != ' ' && *e != ',' && *e != '-' && *e != '~' && *e != ':')
        return Fail(e, "unexpected character");
      out->push_back(c);
      t = e;
      if (*e != ',') break;
      ++t;
    }
    *p = t;
    return std::nullopt;
  }

  // [[year-]month-]day, or "@<seconds since the epoch>". *result = 1 means "no time follows".
  std::optional<SyntaxError> ParseDate(const char** p, int* result) {
    const char* t = *p;
    *result = 0;
    if (*t == 0) return std::nullopt;
    if (*t == '@') return ParseTimestamp(p, result);
    Chain first, second, third;
    if (auto e = ParseChain(&t, false, &first)) return e;
    // The end or a ':' already? Then this was a time, not a date: parse it again as one.
    if (*t == 0 || *t == ':') return std::nullopt;
    if (*t == '~') {
      spec_->end_of_month = true;
    } else if (*t != '-') {
      return Fail(t, "expected '-', '~' or ':'");
    }
    ++t;
    if (auto e = ParseChain(&t, false, &second)) return e;
    if (*t == 0 || *t == ' ') {  // month-day
      *p = t + std::strspn(t, " ");
      spec_->month = std::move(first);
      spec_->day = std::move(second);
      return std::nullopt;
    }
    if (spec_->end_of_month) return Fail(t, "'~' must separate month and day");
    if (*t == '~') {
      spec_->end_of_month = true;
    } else if (*t != '-') {
      return Fail(t, "expected '-' or '~'");
    }
    ++t;
    if (auto e = ParseChain(&t, false, &third)) return e;
    if (*t != 0 && *t != ' ') return Fail(t, "expected a space after the date");
    *p = t + std::strspn(t, " ");
    spec_->year = std::move(first);
    spec_->month = std::move(second);
    spec_->day = std::move(third);
    return std::nullopt;
  }

  std::optional<SyntaxError> ParseTimestamp(const char** p, int* result) {
    const char* t = *p + 1;
    if (!IsDigit(*t)) return Fail(t, "expected seconds since the epoch");
    errno = 0;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(t, &end, 10);
    if (errno != 0 || value > static_cast<unsigned long long>(kFarFuture))
      return Fail(t, "timestamp out of range");
    const Tm tm = BreakDown(static_cast<i64>(value), false);
    if (tm.year + 1900 > kMaxYear) return Fail(t, "timestamp out of range");
    spec_->year = Const(tm.year + 1900);
    spec_->month = Const(tm.mon + 1);
    spec_->day = Const(tm.mday);
    spec_->hour = Const(tm.hour);
    spec_->minute = Const(tm.min);
    spec_->usec = Const(tm.sec * static_cast<int>(kUsecPerSec));
    spec_->utc = true;  // a UNIX timestamp is always UTC
    *p = end;
    *result = 1;
    return std::nullopt;
  }

  // hour:minute[:second]; nothing at all means 00:00:00.
  std::optional<SyntaxError> ParseTime(const char** p) {
    const char* t = *p;
    Chain h, m, s;
    if (*t == 0) {
      h = Const(0);
      m = Const(0);
      s = Const(0);
    } else {
      if (auto e = ParseChain(&t, false, &h)) return e;
      if (*t != ':') return Fail(t, "expected ':'");
      ++t;
      if (auto e = ParseChain(&t, false, &m)) return e;
      if (*t == 0) {
        s = Const(0);
      } else {
        if (*t != ':') return Fail(t, "expected ':'");
        ++t;
        if (auto e = ParseChain(&t, true, &s)) return e;
        if (*t != 0) return Fail(t, "unexpected text after the seconds");
      }
    }
    *p = t;
    spec_->hour = std::move(h);
    spec_->minute = std::move(m);
    spec_->usec = std::move(s);
    return std::nullopt;
  }

  std::string text_;
  SystemdSpec* spec_ = nullptr;
};

// systemd's normalize_chain(): trim ranges to a multiple of the repetition, drop repetitions
// that cannot fire twice, sort, and remove duplicates.
void NormalizeChain(Chain* chain) {
  for (Component& c : *chain) {
    if (c.stop > c.start && c.repeat > 0) c.stop -= (c.stop - c.start) % c.repeat;
    if ((c.stop > c.start && c.repeat > 0 && c.start + c.repeat > c.stop) || c.start == c.stop) {
      c.repeat = 0;
      c.stop = -1;
    }
  }
  if (chain->size() <= 1) return;
  std::sort(chain->begin(), chain->end(), [](const Component& a, const Component& b) {
    return std::tie(a.start, a.stop, a.repeat) < std::tie(b.start, b.stop, b.repeat);
  });
  chain->erase(std::unique(chain->begin(), chain->end()), chain->end());
}

void FixYear(Chain* chain) {  // 12 -> 2012, 89 -> 1989
  for (Component& c : *chain) {
    if (c.start >= 0 && c.start < 70) c.start += 2000;
    if (c.stop >= 0 && c.stop < 70) c.stop += 2000;
    if (c.start >= 70 && c.start < 100) c.start += 1900;
    if (c.stop >= 70 && c.stop < 100) c.stop += 1900;
  }
}

void NormalizeSpec(SystemdSpec* c) {
  if (c->timezone == "UTC") {
    c->utc = true;
    c->timezone.clear();
  }
  if (c->weekdays_bits <= 0 || c->weekdays_bits >= kAllWeekdays) c->weekdays_bits = -1;
  if (c->end_of_month && c->day.empty()) c->end_of_month = false;
  FixYear(&c->year);
  for (Chain* chain : {&c->year, &c->month, &c->day, &c->hour, &c->minute, &c->usec})
    NormalizeChain(chain);
}

// systemd's chain_valid(); returns the reason when invalid.
std::optional<std::string> ChainInvalid(const Chain& chain, int from, int to, bool end_of_month,
                                        const char* field) {
  if (end_of_month) to -= 3;  // at most 28 days back from the end of the month
  for (const Component& c : chain) {
    const auto out_of_range = [&] {
      return fmt::format("{} out of range (allowed {}..{})", field, from, to);
    };
    if (c.start < from || c.start > to) return out_of_range();
    if (c.repeat > to - from) return fmt::format("{} repetition too large", field);
    if (c.stop >= 0) {
      if (c.stop < from || c.stop > to) return out_of_range();
      if (c.start + c.repeat > c.stop) return fmt::format("{} range is empty or backwards", field);
    } else {
      if (end_of_month && c.start - c.repeat < from)
        return fmt::format("{} repetition does not fit in the month", field);
      if (!end_of_month && c.start + c.repeat > to)
        return fmt::format("{} repetition cannot fire twice", field);
    }
  }
  return std::nullopt;
}

std::optional<std::string> SpecInvalid(const SystemdSpec& c) {
  if (auto e = ChainInvalid(c.year, kMinYear, kMaxYear, false, "year")) return e;
  if (auto e = ChainInvalid(c.month, 1, 12, false, "month")) return e;
  if (auto e = ChainInvalid(c.day, 1, 31, c.end_of_month, "day")) return e;
  if (auto e = ChainInvalid(c.hour, 0, 23, false, "hour")) return e;
  if (auto e = ChainInvalid(c.minute, 0, 59, false, "minute")) return e;
  if (auto e = ChainInvalid(c.usec, 0, 60 * static_cast<int>(kUsecPerSec) - 1, false, "second"))
    return e;
  return std::nullopt;
}

void FormatWeekdays(std::string* out, int bits) {
  static constexpr const char* kNames[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  bool need_comma = false;
  int l = -1, x = 0;
  for (; x < 7; ++x) {
    if (bits & (1 << x)) {
      if (l < 0) {
        if (need_comma) *out += ',';
        need_comma = true;
        *out += kNames[x];
        l = x;
      }
    } else if (l >= 0) {
      if (x > l + 1) {
        *out += x > l + 2 ? ".." : ",";
        *out += kNames[x - 1];
      }
      l = -1;
    }
  }
  if (l >= 0 && x > l + 1) {
    *out += x > l + 2 ? ".." : ",";
    *out += kNames[x - 1];
  }
}

// systemd's _format_chain(), including its quirks (e.g. "/0.420000" for a 0.42 s repetition).
void FormatChain(std::string* out, int width, const Chain& chain, bool usec) {
  const int d = usec ? static_cast<int>(kUsecPerSec) : 1;
  const bool star =
      chain.empty() || (usec && std::any_of(chain.begin(), chain.end(), [](const Component& c) {
                          return c.start == 0 && c.stop < 0 && c.repeat == kUsecPerSec;
                        }));
  if (star) {
    *out += '*';
    return;
  }
  bool first = true;
  for (const Component& c : chain) {
    if (!first) *out += ',';
    first = false;
    *out += fmt::format("{:0{}d}", c.start / d, width);
    if (c.start % d > 0) *out += fmt::format(".{:06d}", c.start % d);
    if (c.stop > 0) *out += fmt::format("..{:0{}d}", c.stop / d, width);
    if (c.stop % d > 0) *out += fmt::format(".{:06d}", c.stop % d);
    if (c.repeat > 0 && !(c.stop > 0 && c.repeat == d)) *out += fmt::format("/{}", c.repeat / d);
    if (c.repeat % d > 0) *out += fmt::format(".{:06d}", c.repeat % d);
  }
}

std::string FormatSpec(const SystemdSpec& c) {
  std::string out;
  if (c.weekdays_bits > 0 && c.weekdays_bits <= kAllWeekdays) {
    FormatWeekdays(&out, c.weekdays_bits);
    out += ' ';
  }
  FormatChain(&out, 4, c.year, false);
  out += '-';
  FormatChain(&out, 2, c.month, false);
  out += c.end_of_month ? '~' : '-';
  FormatChain(&out, 2, c.day, false);
  out += ' ';
  FormatChain(&out, 2, c.hour, false);
  out += ':';
  FormatChain(&out, 2, c.minute, false);
  out += ':';
  FormatChain(&out, 2, c.usec, true);
  if (c.utc) {
    out += " UTC";
  } else if (!c.timezone.empty()) {
    out += ' ';
    out += c.timezone;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. systemd's search (calendarspec.c: find_next() and helpers), step by step
// ---------------------------------------------------------------------------------------------

enum class Search { kFound, kNever, kStuck };

class SystemdSearch {
 public:
  SystemdSearch(const SystemdSpec& spec, Clock* clock) : spec_(spec), clock_(*clock) {}

  // calendar_spec_next_usec_impl(): the first elapse strictly after `after` (microseconds).
  Search Next(i64 after, i64* next) {
    const i64 usec = after + 1;
    const i64 t = FloorDiv(usec, kUsecPerSec);
    Tm tm = clock_.Local(t);
    int tm_usec = static_cast<int>(usec - t * kUsecPerSec);
    const Search r = FindNext(&tm, &tm_usec);
    if (r != Search::kFound) return r;
    const i64 result = clock_.MkTime(&tm);
    if (result < 0) return Search::kNever;
    *next = result * kUsecPerSec + tm_usec;
    return Search::kFound;
  }

 private:
  // The day of the month that is `day` days before the first of the next month, or -1.
  int FindEndOfMonth(const Tm& tm, int day) {
    Tm t = tm;
    t.mon++;
    t.mday = 1 - day;
    if (clock_.MkTime(&t) < 0 || t.mon != tm.mon) return -1;
    return t.mday;
  }

  // The earliest value >= *val matched by the chain: 1 if *val changed, 0 if not, -1 if none.
  int FindMatching(const Chain& chain, const Tm& tm, int* val) {
    if (chain.empty()) return 0;
    const bool end_of_month = spec_.end_of_month && &chain == &spec_.day;
    int d = -1;
    bool d_set = false;
    for (const Component& c : chain) {
      int start, stop;
      if (end_of_month) {
        start = FindEndOfMonth(tm, c.start);
        stop = FindEndOfMonth(tm, c.stop);
        if (stop > 0) std::swap(start, stop);
      } else {
        start = c.start;
        stop = c.stop;
      }
      if (start >= *val) {
        if (!d_set || start < d) {
          d = start;
          d_set = true;
        }
      } else if (c.repeat > 0) {
        const int k = start + c.repeat * ((*val - start + c.repeat - 1) / c.repeat);
        if ((!d_set || k < d) && (stop < 0 || k <= stop)) {
          d = k;
          d_set = true;
        }
      }
    }
    if (!d_set) return -1;
    const int r = *val != d;
    *val = d;
    return r;
  }

  // tm_within_bounds(): 1 if tm is a real time, 0 if mktime normalized it forward (tm is then
  // moved there, with the unit below the first changed one reset), -1 if it would go backwards
  // or past the last year.
  int WithinBounds(Tm* tm) {
    if (tm->year + 1900 > kMaxYear) return -1;
    Tm t = *tm;
    if (clock_.MkTime(&t) < 0) return -1;
    int cmp;
    if ((cmp = Cmp(t.year, tm->year)) != 0) {
      t.mon = 0;
    } else if ((cmp = Cmp(t.mon, tm->mon)) != 0) {
      t.mday = 1;
    } else if ((cmp = Cmp(t.mday, tm->mday)) != 0) {
      t.hour = 0;
    } else if ((cmp = Cmp(t.hour, tm->hour)) != 0) {
      t.min = 0;
    } else if ((cmp = Cmp(t.min, tm->min)) != 0) {
      t.sec = 0;
    } else {
      cmp = Cmp(t.sec, tm->sec);
    }
    if (cmp < 0) return -1;  // refuse to go backwards (systemd: -EDEADLK)
    if (cmp > 0) *tm = t;
    return cmp == 0;
  }

  static int Cmp(int a, int b) { return (a > b) - (a < b); }

  bool MatchesWeekday(const Tm& tm) {
    const int bits = spec_.weekdays_bits;
    if (bits < 0 || bits >= kAllWeekdays) return true;
    Tm t = tm;
    if (clock_.MkTime(&t) < 0) return false;
    const int k = t.wday == 0 ? 6 : t.wday - 1;
    return (bits & (1 << k)) != 0;
  }

  static int TmCompare(const Tm& a, const Tm& b) {
    if (int r = Cmp(a.year, b.year)) return r;
    if (int r = Cmp(a.mon, b.mon)) return r;
    if (int r = Cmp(a.mday, b.mday)) return r;
    if (int r = Cmp(a.hour, b.hour)) return r;
    if (int r = Cmp(a.min, b.min)) return r;
    return Cmp(a.sec, b.sec);
  }

  Search FindNext(Tm* tm, int* usec) {
    Tm c = *tm;
    int tm_usec = *usec;
    // Set once the search found a time that is not after its start (it happens in gaps of
    // zones with negative DST such as Europe/Dublin, where mktime() resolves a gap time
    // backwards): from then on the isdst that mktime() computed is kept instead of -1. This
    // is systemd PR 36897, which Debian's 252.39 carries.
    bool invalidate_dst = false;
    auto reset_below_day = [&] { c.hour = c.min = c.sec = tm_usec = 0; };
    // systemd's safety valve (MAX_CALENDAR_ITERATIONS); bounds the work per call.
    for (int iteration = 0; iteration < 1000; ++iteration) {
      clock_.MkTime(&c);  // normalize the current date
      if (!invalidate_dst) c.isdst = -1;

      c.year += 1900;
      int r = FindMatching(spec_.year, c, &c.year);
      c.year -= 1900;
      if (r > 0) {
        c.mon = 0;
        c.mday = 1;
        reset_below_day();
      }
      if (r < 0) return Search::kNever;
      if (WithinBounds(&c) <= 0) return Search::kNever;

      c.mon += 1;
      r = FindMatching(spec_.month, c, &c.mon);
      c.mon -= 1;
      if (r > 0) {
        c.mday = 1;
        reset_below_day();
      }
      if (r < 0 || (r = WithinBounds(&c)) < 0) {
        c.year++;
        c.mon = 0;
        c.mday = 1;
        reset_below_day();
        continue;
      }
      if (r == 0) continue;

      r = FindMatching(spec_.day, c, &c.mday);
      if (r > 0) reset_below_day();
      if (r < 0 || (r = WithinBounds(&c)) < 0) {
        c.mon++;
        c.mday = 1;
        reset_below_day();
        continue;
      }
      if (r == 0) continue;

      if (!MatchesWeekday(c)) {
        c.mday++;
        reset_below_day();
        continue;
      }

      r = FindMatching(spec_.hour, c, &c.hour);
      if (r > 0) c.min = c.sec = tm_usec = 0;
      if (r < 0 || (r = WithinBounds(&c)) < 0) {
        c.mday++;
        reset_below_day();
        continue;
      }
      if (r == 0) continue;  // the hour may not exist (DST): retry from the normalized time

      r = FindMatching(spec_.minute, c, &c.min);
      if (r > 0) c.sec = tm_usec = 0;
      if (r < 0 || (r = WithinBounds(&c)) < 0) {
        c.hour++;
        c.min = c.sec = tm_usec = 0;
        continue;
      }
      if (r == 0) continue;

      c.sec = c.sec * static_cast<int>(kUsecPerSec) + tm_usec;
      r = FindMatching(spec_.usec, c, &c.sec);
      tm_usec = c.sec % static_cast<int>(kUsecPerSec);
      c.sec /= static_cast<int>(kUsecPerSec);
      if (r < 0 || (r = WithinBounds(&c)) < 0) {
        c.min++;
        c.sec = tm_usec = 0;
        continue;
      }
      if (r == 0) continue;

      int order = TmCompare(*tm, c);
      if (order == 0) order = Cmp(*usec, tm_usec + 1);
      if (order >= 0) {  // stuck: advance, let mktime() decide the DST side, try again
        invalidate_dst = true;
        c.hour++;
        continue;
      }
      *tm = c;
      *usec = tm_usec;
      return Search::kFound;
    }
    return Search::kStuck;
  }

  const SystemdSpec& spec_;
  Clock& clock_;
};

// ---------------------------------------------------------------------------------------------
// 4. Cron lines
// ---------------------------------------------------------------------------------------------

struct CronSpec {
  // Bit i set = value i matches. Day of week: 0 = Sunday (7 is folded into 0).
  std::uint64_t minute = 0, hour = 0, dom = 0, month = 0, dow = 0;
  bool dom_restricted = false, dow_restricted = false;
};

struct CronField {
  const char* name;
  int min, max;
};
constexpr CronField kCronFields[] = {{"minute", 0, 59},
                                     {"hour", 0, 23},
                                     {"day-of-month", 1, 31},
                                     {"month", 1, 12},
                                     {"day-of-week", 0, 7}};

std::uint64_t FullMask(int lo, int hi) {
  std::uint64_t m = 0;
  for (int i = lo; i <= hi; ++i) m |= std::uint64_t{1} << i;
  return m;
}

std::optional<int> CronName(int field, std::string_view word) {
  static constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
  static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  if (field == 3) {
    for (int i = 0; i < 12; ++i)
      if (EqualsNoCase(word, kMonths[i])) return i + 1;
  } else if (field == 4) {
    for (int i = 0; i < 7; ++i)
      if (EqualsNoCase(word, kDays[i])) return i;
  }
  return std::nullopt;
}

// Parses one cron field into a bit mask; `offset` is the field's position in the line (for
// error messages).
std::optional<SyntaxError> ParseCronField(int field, std::string_view text, size_t offset,
                                          std::uint64_t* mask) {
  const CronField& f = kCronFields[field];
  auto fail = [&](size_t at, std::string what) {
    return SyntaxError{offset + at, fmt::format("{}: {}", f.name, what)};
  };
  *mask = 0;
  size_t i = 0;
  while (true) {
    const size_t item_begin = i;
    size_t item_end = text.find(',', i);
    if (item_end == std::string_view::npos) item_end = text.size();
    const std::string_view item = text.substr(i, item_end - i);
    if (item.empty()) return fail(i, "empty list element");

    auto value = [&](std::string_view v, size_t at, int* out) -> std::optional<SyntaxError> {
      if (v.empty()) return fail(at, "expected a value");
      if (std::all_of(v.begin(), v.end(), IsDigit)) {
        if (v.size() > 4) return fail(at, fmt::format("'{}' is out of range", v));
        *out = std::stoi(std::string(v));
      } else if (auto n = CronName(field, v)) {
        *out = *n;
      } else {
        return fail(at, fmt::format("'{}' is not a number or name", v));
      }
      if (*out < f.min || *out > f.max)
        return fail(at, fmt::format("{} is out of range {}..{}", *out, f.min, f.max));
      return std::nullopt;
    };

    std::string_view range = item;
    int step = 1;
    bool has_step = false;
    if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view s = item.substr(slash + 1);
      if (s.empty() || !std::all_of(s.begin(), s.end(), IsDigit) || s.size() > 4)
        return fail(item_begin + slash + 1, "expected a step number after '/'");
      step = std::stoi(std::string(s));
      if (step < 1) return fail(item_begin + slash + 1, "step must be at least 1");
      has_step = true;
    }
    // In the day of week, "*/2" and "1/2" run up to 7, which is Sunday again (cronie and
    // croniter do the same): 1/2 = Mon, Wed, Fri, Sun.
    int lo, hi;
    if (range == "*") {
      lo = f.min;
      hi = f.max;
    } else if (const size_t dash = range.find('-'); dash != std::string_view::npos) {
      if (auto e = value(range.substr(0, dash), item_begin, &lo)) return e;
      if (auto e = value(range.substr(dash + 1), item_begin + dash + 1, &hi)) return e;
      if (field == 4 && hi == 0 && lo > 0) hi = 7;  // "fri-sun" means 5..7
      if (lo > hi) return fail(item_begin, fmt::format("range {}-{} goes backwards", lo, hi));
    } else {
      if (auto e = value(range, item_begin, &lo)) return e;
      // "a/step" means "from a to the end of the field, every step" (cronie, croniter).
      hi = has_step ? f.max : lo;
    }
    for (int v = lo; v <= hi; v += step) *mask |= std::uint64_t{1} << (field == 4 ? v % 7 : v);
    if (item_end == text.size()) break;
    i = item_end + 1;
  }
  return std::nullopt;
}

// Canonical text for a cron field: "*" exactly when the field matches every value, then
// "*/s" for a step from the first value to the end, "a-b/s" for other progressions, else a
// sorted list in which runs of three or more become "a-b".
std::string FormatCronField(std::uint64_t mask, int lo, int hi) {
  std::vector<int> v;
  for (int i = lo; i <= hi; ++i)
    if (mask & (std::uint64_t{1} << i)) v.push_back(i);
  if (static_cast<int>(v.size()) == hi - lo + 1) return "*";
  if (v.size() >= 3) {
    const int s = v[1] - v[0];
    bool progression = s >= 2;
    for (size_t k = 2; progression && k < v.size(); ++k) progression = v[k] - v[k - 1] == s;
    if (progression) {
      if (v.front() == lo && v.back() + s > hi) return fmt::format("*/{}", s);
      return fmt::format("{}-{}/{}", v.front(), v.back(), s);
    }
  }
  std::string out;
  for (size_t k = 0; k < v.size();) {
    size_t j = k;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ',';
    if (j - k >= 2) {
      out += fmt::format("{}-{}", v[k], v[j]);
      k = j + 1;
    } else {
      out += std::to_string(v[k]);
      ++k;
    }
  }
  return out;
}

std::string FormatCron(const CronSpec& c) {
  return fmt::format("{} {} {} {} {}", FormatCronField(c.minute, 0, 59),
                     FormatCronField(c.hour, 0, 23), FormatCronField(c.dom, 1, 31),
                     FormatCronField(c.month, 1, 12), FormatCronField(c.dow, 0, 6));
}

std::optional<std::string_view> CronAlias(std::string_view word) {
  static constexpr std::pair<const char*, const char*> kAliases[] = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  for (const auto& [name, line] : kAliases)
    if (EqualsNoCase(word, name)) return std::string_view(line);
  return std::nullopt;
}

std::vector<std::pair<size_t, std::string_view>> SplitWords(std::string_view s) {
  std::vector<std::pair<size_t, std::string_view>> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const size_t b = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > b) words.emplace_back(b, s.substr(b, i - b));
  }
  return words;
}

std::optional<SyntaxError> ParseCron(std::string_view line, CronSpec* spec) {
  const auto words = SplitWords(line);
  if (words.size() != 5) return SyntaxError{0, "a cron line has five fields"};
  std::uint64_t* masks[] = {&spec->minute, &spec->hour, &spec->dom, &spec->month, &spec->dow};
  for (int f = 0; f < 5; ++f) {
    if (auto e = ParseCronField(f, words[f].second, words[f].first, masks[f])) return e;
  }
  // A day field is "restricted" when it does not match every value (croniter's rule; Vixie
  // cron instead looks at whether the text starts with '*'). docs/calendar.md has the details.
  spec->dom_restricted = spec->dom != FullMask(1, 31);
  spec->dow_restricted = spec->dow != FullMask(0, 6);
  return std::nullopt;
}

bool CronDayMatches(const CronSpec& c, i64 days) {
  i64 y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const bool dom = (c.dom >> d) & 1;
  const bool dow = (c.dow >> FloorMod(days + 4, 7)) & 1;
  if (c.dom_restricted && c.dow_restricted) return dom || dow;  // cron's OR
  return dom && dow;
}

// The first wall-clock time (seconds, as if UTC) strictly after `wall` that the cron line
// matches, jumping by fields; nullopt past kMaxYear.
std::optional<i64> CronNextWall(const CronSpec& c, i64 wall) {
  const i64 limit = DaysFromCivil(kMaxYear + 1, 1, 1) * kSecPerDay;
  i64 t = FloorDiv(wall, 60) * 60 + 60;
  while (t < limit) {
    const i64 days = FloorDiv(t, kSecPerDay);
    i64 y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    if (!((c.month >> m) & 1)) {  // to the first day of the next month
      t = DaysFromCivil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * kSecPerDay;
      continue;
    }
    if (!CronDayMatches(c, days)) {
      t = (days + 1) * kSecPerDay;
      continue;
    }
    const i64 midnight = days * kSecPerDay;
    const i64 hour = (t - midnight) / 3600;
    const i64 minute = (t - midnight) / 60 % 60;
    if (!((c.hour >> hour) & 1)) {  // to the next matching hour, or the next day
      i64 h = hour + 1;
      while (h < 24 && !((c.hour >> h) & 1)) ++h;
      t = midnight + h * 3600;
      continue;
    }
    if (!((c.minute >> minute) & 1)) {  // to the next matching minute, or the next hour
      i64 mi = minute + 1;
      while (mi < 60 && !((c.minute >> mi) & 1)) ++mi;
      t = midnight + hour * 3600 + mi * 60;
      continue;
    }
    return t;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// 5. DST policies on top of the wall-clock searches
// ---------------------------------------------------------------------------------------------

// A change of UTC offset: at instant `at` (seconds) the offset goes from `before` to `after`.
struct Transition {
  i64 at;
  int before, after;
  // Wall-clock seconds that are skipped (gap: [at+before, at+after)) or repeated
  // (fold: [at+after, at+before)).
  i64 wall_lo() const { return at + std::min(before, after); }
  i64 wall_hi() const { return at + std::max(before, after); }
};

// The first offset change at or after `from` and before `limit`.
std::optional<Transition> NextTransition(const ZoneData& zone, i64 from, i64 limit) {
  i64 t = from;
  // Spans can also end where only the abbreviation changes; step over those.
  for (int guard = 0; guard < 64 && t < limit; ++guard) {
    const int before = zone.At(t - 1).utoff;
    const int after = zone.At(t).utoff;
    if (before != after) return Transition{t, before, after};
    const Span s = zone.SpanAt(t);
    if (s.end <= t || s.end >= kFarFuture) return std::nullopt;
    t = s.end;
  }
  return std::nullopt;
}

// If instant t (seconds) lies in the second pass of a repeated interval, that transition.
std::optional<Transition> SecondPassAt(const ZoneData& zone, i64 t) {
  Span s = zone.SpanAt(t);
  const int off = zone.At(t).utoff;
  // Walk back over boundaries where the offset did not actually change.
  for (int guard = 0; guard < 8; ++guard) {
    const int before = zone.At(s.begin - 1).utoff;
    if (before != off) {
      if (before > off && t < s.begin + (before - off)) return Transition{s.begin, before, off};
      return std::nullopt;
    }
    if (s.begin <= kFarPast) return std::nullopt;
    s = zone.SpanAt(s.begin - 1);
  }
  return std::nullopt;
}

i64 LimitInstant() { return DaysFromCivil(kMaxYear + 1, 1, 2) * kSecPerDay; }

// ---------------------------------------------------------------------------------------------
// 6. Schedule
// ---------------------------------------------------------------------------------------------

std::string Quote(std::string_view s) { return fmt::format("\"{}\"", s); }

Error ExpressionError(std::string_view expression, const SyntaxError& e) {
  std::string token;
  if (e.pos < expression.size()) {
    size_t end = e.pos;
    while (end < expression.size() && expression[end] != ' ' && end - e.pos < 20) ++end;
    token = std::string(expression.substr(e.pos, std::max<size_t>(end - e.pos, 1)));
  }
  if (token.empty())
    return Error::Usage(
        fmt::format("invalid calendar expression {}: {}", Quote(expression), e.what));
  return Error::Usage(fmt::format("invalid calendar expression {}: {} at position {} ('{}')",
                                  Quote(expression), e.what, e.pos + 1, token));
}

}  // namespace

struct Schedule::Impl {
  std::string original, normalized, written_zone;
  bool cron = false;
  SystemdSpec spec;
  CronSpec cron_spec;
  const date::time_zone* spec_zone = nullptr;  // zone written in a systemd expression
  // Repeats within the day (hour or minute is "*" or a repetition): such a schedule keeps
  // firing through a repeated autumn hour; a fixed time of day fires once (cron's rule).
  bool wildcard = false;

  std::optional<i64> Next(i64 after, const date::time_zone* tz, DstGap gap) const;

 private:
  // systemd's search as systemd runs it; kStuck when its loop guard fires.
  Search SystemdNext(i64 after, const ZoneData* zone, i64* next) const;
  std::optional<i64> NaiveNext(i64 wall_after) const;
  // NaiveNext() for a series of rising queries: when a query from `from` found w, every query
  // from [from, w) finds w too. Keeps scans over decades of DST transitions cheap.
  auto NaiveMemo() const {
    return [this, have = false, from = i64{0}, result = std::optional<i64>()](i64 wall) mutable {
      if (have && wall >= from && (!result || wall < *result)) return result;
      result = NaiveNext(wall);
      from = wall;
      have = true;
      return result;
    };
  }
  Search SystemdSkip(i64 after, const ZoneData* zone, std::optional<i64>* next) const;
  std::optional<i64> WalkNext(i64 after, const ZoneData* zone, DstGap gap) const;
  std::optional<i64> GapElapse(i64 after, const ZoneData& zone, std::optional<i64> next) const;
};

Search Schedule::Impl::SystemdNext(i64 after, const ZoneData* zone, i64* next) const {
  Clock clock(zone);
  SystemdSearch search(spec, &clock);
  return search.Next(after, next);
}

// The first matching wall-clock time strictly after `wall_after` (microseconds), ignoring DST:
// for systemd expressions, systemd's own search run in UTC on wall-clock time.
std::optional<i64> Schedule::Impl::NaiveNext(i64 wall_after) const {
  if (cron) {
    const auto w = CronNextWall(cron_spec, FloorDiv(wall_after, kUsecPerSec));
    if (!w) return std::nullopt;
    return *w * kUsecPerSec;
  }
  i64 next = 0;
  if (SystemdNext(wall_after, nullptr, &next) != Search::kFound) return std::nullopt;
  return next;
}

// systemd's elapse with our one documented change in repeated hours:
//   * a fixed time of day fires once, at its first occurrence (systemd does too, except when
//     its search starts inside the repeated hour or its mktime cache was primed by a later
//     date: then it picks the second occurrence);
//   * a schedule that repeats within the day keeps firing in real time through the repeated
//     hour (systemd 252 skips from the end of the first pass to the end of the second one:
//     systemd issue 8647).
Search Schedule::Impl::SystemdSkip(i64 after, const ZoneData* zone,
                                   std::optional<i64>* next) const {
  i64 value = 0;
  Search r = SystemdNext(after, zone, &value);
  if (r == Search::kStuck) return r;
  std::optional<i64> c;
  if (r == Search::kFound) c = value;
  *next = c;
  if (zone == nullptr) return Search::kFound;
  if (!wildcard) {
    for (int guard = 0; c && guard < 16; ++guard) {
      const auto fold = SecondPassAt(*zone, FloorDiv(*c, kUsecPerSec));
      if (!fold) break;
      const i64 size = static_cast<i64>(fold->before - fold->after) * kUsecPerSec;
      if (*c - size > after) {  // the first occurrence is still ahead: take it
        c = *c - size;
        break;
      }
      r = SystemdNext(fold->at * kUsecPerSec + size - 1, zone, &value);
      if (r == Search::kStuck) return r;
      c.reset();
      if (r == Search::kFound) c = value;
    }
  }
  // Elapses inside repeated intervals that systemd's wall-clock walk did not produce.
  auto naive = NaiveMemo();
  const i64 limit = c ? FloorDiv(*c, kUsecPerSec) + 1 : LimitInstant();
  i64 from = FloorDiv(after, kUsecPerSec) - kSecPerDay;  // a fold may have begun before `after`
  for (int guard = 0; guard < 1000; ++guard) {
    const auto tr = NextTransition(*zone, from, limit + kSecPerDay);
    if (!tr) break;
    from = tr->at + 1;
    if (tr->after >= tr->before) continue;  // not a fold
    const i64 size = static_cast<i64>(tr->before - tr->after) * kUsecPerSec;
    const i64 second_begin = tr->at * kUsecPerSec, second_end = second_begin + size;
    const i64 first_begin = second_begin - size;
    if (c && first_begin >= *c) break;
    if (second_end <= after + 1) continue;
    // The repeated wall-clock interval [wall_lo, wall_hi) is lived first at offset `before`
    // (instants [first_begin, second_begin)), then at offset `after` ([second_begin, ...)).
    const i64 off1 = static_cast<i64>(tr->before) * kUsecPerSec;
    const i64 off2 = static_cast<i64>(tr->after) * kUsecPerSec;
    const i64 wall_lo = first_begin + off1, wall_hi = second_begin + off1;
    std::optional<i64> candidate;
    if (after + 1 < second_begin) {
      const i64 from_wall = std::max(after, first_begin - 1) + off1;
      if (auto w = naive(from_wall); w && *w < wall_hi) candidate = *w - off1;
    }
    if (!candidate && wildcard) {
      const i64 from_wall = std::max(after, second_begin - 1) + off2;
      if (auto w = naive(from_wall); w && *w < wall_hi && *w >= wall_lo) candidate = *w - off2;
    }
    if (candidate && (!c || *candidate < *c)) c = candidate;
    if (candidate) break;
  }
  *next = c;
  return Search::kFound;
}

// A walk over the zone's constant-offset spans, mapping wall-clock matches to instants: how
// cron lines are evaluated, and the fallback when systemd's own search gives up (its loop
// guard fires on some midnight DST gaps, e.g. America/Santiago). Gaps are skipped or fire at
// the transition; repeated hours follow the rule described at SystemdSkip().
std::optional<i64> Schedule::Impl::WalkNext(i64 after, const ZoneData* zone, DstGap gap) const {
  if (zone == nullptr) return NaiveNext(after);
  const i64 limit = LimitInstant() * kUsecPerSec;
  i64 t = after;  // look for instants > t (microseconds)
  for (int guard = 0; guard < 100000 && t < limit; ++guard) {
    const i64 probe = FloorDiv(t + 1, kUsecPerSec);
    const Span span = zone->SpanAt(probe);
    const int off = zone->At(probe).utoff;
    const i64 off_us = static_cast<i64>(off) * kUsecPerSec;
    i64 wall_from = t + off_us;
    // In the second pass of a repeated interval, fixed times already fired in the first pass.
    const int before = zone->At(span.begin - 1).utoff;
    if (!wildcard && before > off) {
      wall_from = std::max(wall_from, (span.begin + before) * kUsecPerSec - 1);
    }
    const auto w = NaiveNext(wall_from);
    if (!w) return std::nullopt;
    if (span.end >= kFarFuture || *w < (span.end + off) * kUsecPerSec) return *w - off_us;
    // The match lies beyond this span. Is it inside the gap that follows?
    const int next_off = zone->At(span.end).utoff;
    if (gap == DstGap::kRunAtTransition && next_off > off &&
        *w < (span.end + next_off) * kUsecPerSec)
      return span.end * kUsecPerSec;
    // Jump close to the match (UTC offsets are under a day): no span in between can hold a
    // match, and no gap either, since w is the first matching wall time after wall_from.
    t = std::max(span.end * kUsecPerSec - 1, *w - 2 * kSecPerDay * kUsecPerSec);
  }
  return std::nullopt;
}

// Run-at-transition: a wall time inside a spring-forward gap fires once, at the first instant
// after the gap, if that comes before `next` (the regular elapse).
std::optional<i64> Schedule::Impl::GapElapse(i64 after, const ZoneData& zone,
                                             std::optional<i64> next) const {
  auto naive = NaiveMemo();
  const i64 limit = next ? FloorDiv(*next, kUsecPerSec) : LimitInstant();
  i64 from = FloorDiv(after, kUsecPerSec) + 1;
  for (int guard = 0; guard < 1000; ++guard) {
    const auto tr = NextTransition(zone, from, limit);
    if (!tr) break;
    from = tr->at + 1;
    if (tr->after <= tr->before) continue;  // not a gap
    if (tr->at * kUsecPerSec <= after) continue;
    if (next && tr->at * kUsecPerSec >= *next) break;
    const auto w = naive(tr->wall_lo() * kUsecPerSec - 1);
    if (!w) break;  // nothing matches any more
    if (*w < tr->wall_hi() * kUsecPerSec) return tr->at * kUsecPerSec;
  }
  return next;
}

std::optional<i64> Schedule::Impl::Next(i64 after, const date::time_zone* tz, DstGap gap) const {
  if (cron) return WalkNext(after, ZoneDataFor(tz), gap);
  const ZoneData* zone = nullptr;
  if (spec.utc) {
    zone = nullptr;
  } else if (spec_zone != nullptr) {
    zone = ZoneDataFor(spec_zone);
  } else {
    zone = ZoneDataFor(tz);
  }
  std::optional<i64> c;
  if (SystemdSkip(after, zone, &c) == Search::kStuck) return WalkNext(after, zone, gap);
  if (gap == DstGap::kSkip || zone == nullptr) return c;
  return GapElapse(after, *zone, c);
}

Schedule::Schedule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Schedule::Schedule(const Schedule& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Schedule::Schedule(Schedule&&) noexcept = default;
Schedule& Schedule::operator=(const Schedule& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
Schedule& Schedule::operator=(Schedule&&) noexcept = default;
Schedule::~Schedule() = default;

const std::string& Schedule::original() const { return impl_->original; }
const std::string& Schedule::normalized() const { return impl_->normalized; }
const std::string& Schedule::zone() const { return impl_->written_zone; }
bool Schedule::is_cron() const { return impl_->cron; }

Result<Schedule> Schedule::Parse(std::string_view expression) {
  auto impl = std::make_unique<Impl>();
  impl->original = std::string(expression);
  if (expression.find('\0') != std::string_view::npos)
    return Error::Usage(
        fmt::format("invalid calendar expression {}: contains a NUL byte", Quote(expression)));

  // Cron: five whitespace-separated fields (no systemd expression has five), or an @alias.
  const auto words = SplitWords(expression);
  std::optional<std::string_view> alias;
  if (words.size() == 1) alias = CronAlias(words[0].second);
  if (words.size() == 5 || alias) {
    impl->cron = true;
    if (auto e = ParseCron(alias ? *alias : expression, &impl->cron_spec))
      return ExpressionError(alias ? *alias : expression, *e);
    impl->normalized = FormatCron(impl->cron_spec);
    // Repeats within the day when the minute or hour is "*" or "*/N" in normalized form.
    const auto fields = SplitWords(impl->normalized);
    impl->wildcard = fields[0].second.front() == '*' || fields[1].second.front() == '*';
    return Schedule(std::move(impl));
  }

  // systemd: strip a trailing " UTC" (any case) or " <IANA zone>".
  std::string text(expression);
  SystemdSpec& spec = impl->spec;
  if (text.size() >= 4 && EqualsNoCase(std::string_view(text).substr(text.size() - 4), " UTC")) {
    spec.utc = true;
    text.resize(text.size() - 4);
  } else if (const size_t sp = text.rfind(' '); sp != std::string::npos) {
    const std::string name = text.substr(sp + 1);
    if (TimezoneFileIsValid(name)) {
      spec.timezone = name;
      text.resize(sp);
    }
  }
  if (text.empty()) {
    return Error::Usage(fmt::format("invalid calendar expression {}: {}", Quote(expression),
                                    expression.empty() ? "empty" : "nothing before the zone"));
  }
  SystemdParser parser(text);
  if (auto e = parser.Parse(&spec)) {
    // "daily Europe/Nowhere": say that the zone is the problem, not the text before it.
    const size_t sp = text.rfind(' ');
    if (spec.timezone.empty() && !spec.utc && sp != std::string::npos) {
      const std::string_view last = std::string_view(text).substr(sp + 1);
      const auto is_letter = [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); };
      const bool looks_like_zone = last.find('/') != std::string_view::npos &&
                                   last.find(':') == std::string_view::npos &&
                                   std::any_of(last.begin(), last.end(), is_letter);
      if (looks_like_zone) {
        return Error::Usage(fmt::format("invalid calendar expression {}: unknown time zone \"{}\"",
                                        Quote(expression), last));
      }
    }
    return ExpressionError(expression, *e);
  }
  NormalizeSpec(&spec);
  if (auto why = SpecInvalid(spec)) {
    return Error::Usage(fmt::format("invalid calendar expression {}: {}", Quote(expression), *why));
  }
  if (!spec.timezone.empty()) {
    auto zone = LocateZone(spec.timezone);
    if (!zone.ok()) {
      return Error::Usage(fmt::format("invalid calendar expression {}: {}", Quote(expression),
                                      zone.error().message));
    }
    impl->spec_zone = *zone;
  }
  impl->written_zone = spec.utc ? "UTC" : spec.timezone;
  impl->normalized = FormatSpec(spec);
  // Repeats within the day when the hour or minute is "*" or carries a "/" repetition.
  auto repeats = [](const Chain& chain) {
    return chain.empty() || std::any_of(chain.begin(), chain.end(), [](const Component& c) {
             return c.repeat > 0 && !(c.stop > 0 && c.repeat == 1);
           });
  };
  impl->wildcard = repeats(spec.hour) || repeats(spec.minute);
  return Schedule(std::move(impl));
}

std::optional<SysMicros> Schedule::NextPrecise(SysMicros after, const date::time_zone* tz,
                                               DstGap gap) const {
  const auto r = impl_->Next(after.time_since_epoch().count(), tz, gap);
  if (!r) return std::nullopt;
  return SysMicros{std::chrono::microseconds{*r}};
}

std::optional<std::chrono::sys_seconds> Schedule::Next(std::chrono::sys_seconds after,
                                                       const date::time_zone* tz,
                                                       DstGap gap) const {
  const auto r =
      NextPrecise(std::chrono::time_point_cast<std::chrono::microseconds>(after), tz, gap);
  if (!r) return std::nullopt;
  return std::chrono::ceil<std::chrono::seconds>(*r);
}

Result<const date::time_zone*> LocateZone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return Error::Usage(fmt::format("unknown time zone \"{}\"", name));
  }
}

LocalTime ToLocal(std::chrono::sys_seconds t, const date::time_zone* tz) {
  const i64 s = t.time_since_epoch().count();
  const ZoneData* zone = ZoneDataFor(tz);
  if (zone == nullptr) return {std::chrono::local_seconds{std::chrono::seconds{s}}, "UTC", false};
  const Offset o = zone->At(s);
  return {std::chrono::local_seconds{std::chrono::seconds{s + o.utoff}}, zone->AbbrevAt(s),
          o.isdst};
}

bool IsUtcLike(const date::time_zone* tz) {
  const ZoneData* zone = ZoneDataFor(tz);
  return zone == nullptr || zone->utc_like();
}

}  // namespace crmh::calendar
