// core/text.h: cutting UTF-8 text at a byte budget.
#include <doctest/doctest.h>

#include "core/text.h"

namespace crmh {

TEST_CASE("TruncateUtf8 never cuts a sequence and counts the ellipsis in the budget") {
  struct Case {
    const char* in;
    size_t max;
    const char* ellipsis;
    const char* want;
  } cases[] = {
      {"", 0, "", ""},
      {"abc", 3, "…", "abc"},         // fits: untouched, no ellipsis
      {"abcdef", 4, "", "abcd"},
      {"abcdef", 4, "…", "a…"},       // "…" is 3 bytes
      {"aé", 2, "", "a"},             // é = C3 A9: byte 2 is its second half
      {"aé", 3, "", "aé"},
      {"ề", 2, "", ""},               // nothing fits
      {"ab人c", 4, "", "ab"},         // 人 = 3 bytes
      {"ab人c", 5, "", "ab人"},
      {"日本語テキスト", 10, "…", "日本…"},  // 7 bytes of text + 3 of ellipsis
      {"abcdef", 2, "…", "…"},        // the ellipsis alone when the budget is smaller than it
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    CAPTURE(c.max);
    CHECK(TruncateUtf8(c.in, c.max, c.ellipsis) == c.want);
  }
}

}  // namespace crmh
