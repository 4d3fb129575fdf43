// Small text helpers shared by every layer.
#pragma once

#include <string>
#include <string_view>

namespace crmh {

// At most `max` bytes of `s`, never cutting a UTF-8 sequence; `ellipsis` is appended (and counts
// towards `max`) when something was cut. Labels, ledger notes and journal messages go into
// columns of bounded size and into a utf8mb4 server that rejects a cut sequence.
inline std::string TruncateUtf8(std::string_view s, size_t max, std::string_view ellipsis = {}) {
  if (s.size() <= max) return std::string(s);
  size_t n = max > ellipsis.size() ? max - ellipsis.size() : 0;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out(s.substr(0, n));
  out += ellipsis;
  return out;
}

}  // namespace crmh
