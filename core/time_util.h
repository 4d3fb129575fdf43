// Time and small text helpers shared by every layer. UTC on the wire, RFC 3339 in JSON.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace crmh {

using SysSeconds = std::chrono::sys_seconds;

// nullptr if the IANA zone name is unknown. "UTC" always resolves.
const date::time_zone* LookupZone(std::string_view name);

// 2026-03-29T01:30:00Z
std::string FormatRfc3339(SysSeconds t);
// Accepts 2026-03-29T01:30:00Z, 2026-03-29T01:30:00+02:00, "2026-03-29 01:30:00" (UTC).
std::optional<SysSeconds> ParseRfc3339(std::string_view text);
// "2026-03-29 01:30:00" — what SQL DATETIME columns hold (UTC on the wire).
std::string FormatSqlTime(SysSeconds t);
std::optional<SysSeconds> ParseSqlTime(std::string_view text);
// ISO 8601 week of `t` in zone `tz`: "2026-W48".
std::string IsoWeek(SysSeconds t, const date::time_zone* tz);

// A short, stable, non-cryptographic fingerprint (FNV-1a 64, hex).
std::string ShortHash(std::string_view bytes);
uint64_t Fnv1a64(std::string_view bytes);

}  // namespace crmh
