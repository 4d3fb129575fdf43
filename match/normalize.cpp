// Normalization for matching and standardizing (contract in normalize.h; data in
// normalize_tables.cpp).
//
// Decisions worth knowing before changing anything here:
//  - Bytes that are not valid UTF-8 are read as Windows-1252 (legacy CRM exports are mostly
//    Latin-1/CP1252), so "M\xFCller" normalizes like "Müller". Nothing here throws on bad input.
//  - Names: apostrophes are removed, joining ("O'Neil" → "oneil", "D'Arcy" → "darcy"); every other
//    punctuation mark is a separator ("Jean-Pierre" → "jean pierre"). A lone "o" is joined to the
//    next token, so "O'Neil", "ONeil" and "O Neil" all give "oneil".
//  - Honorifics are dropped only at the front, generational suffixes and degrees only at the end,
//    and never the last remaining token ("Dr." stays "dr").
//  - Transliteration is ICU's "Any-Latin; Latin-ASCII", run as two transliterators so the
//    expensive parts can be skipped with the same result (tests compare against the ICU chain):
//    Latin-script text skips Any-Latin, and FoldToAscii (NFD, marks dropped, a dozen letters such
//    as đ/ø/ß mapped) replaces Latin-ASCII whenever it covers every character.
//  - Company names are not stripped of honorifics ("Dr. Oetker"), only of legal forms.
//  - E-mail: "+tag" is cut only for providers that document sub-addressing (kPlusTagDomains in
//    normalize_tables.cpp); elsewhere "sales+eu@" may be a real, separate mailbox. Dots are
//    ignored only by Gmail.
//  - PhoneKey is the calling code followed by the national significant number, i.e. the E.164
//    digits when the number is well formed, whatever the default region: "+1 415 555 0100" has
//    the same key for a US and a DE Normalizer.
//  - Memo tables are per Normalizer and per function, cleared (not evicted) at kMemoLimit entries.
//    The limit is a memory bound: at 1M contacts almost every e-mail, phone and street is
//    distinct, so an unbounded memo kept ≈ 1M entries per function and thread (≈ 170 bytes each,
//    ≈ 0.4 GiB in all) that were never hit again; the values that do repeat (names, cities,
//    companies) are back in the table soon after a clear.
#include "match/normalize.h"

#include <phonenumbers/phonenumberutil.h>
#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/uversion.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>

namespace crmh::match {

// Accessors of normalize_tables.cpp (no private header: keep these in step with that file).
namespace detail {
struct NicknamePair {
  std::string_view nick;
  std::string_view canonical;
};
struct CountryRow {
  std::string_view alpha2;
  std::string_view alpha3;
  std::string_view name;
  std::string_view aliases;
};
struct CountryAliasRow {
  std::string_view alpha2;
  std::string_view aliases;
};
std::span<const std::string_view> Honorifics();
std::span<const std::string_view> VietnameseHonorifics();
std::span<const std::string_view> NameSuffixes();
std::span<const NicknamePair> Nicknames();
std::span<const std::string_view> LegalSuffixes();
std::span<const std::string_view> LegalPrefixes();
std::span<const std::string_view> CjkLegalSuffixes();
std::span<const std::string_view> CjkLegalPrefixes();
std::span<const std::string_view> PlusTagDomains();
std::span<const CountryRow> Countries();
std::span<const CountryAliasRow> CountryAliases();

// Test seam: what is wrong with the tables (an entry that is not lowercase ASCII tokens, a
// nickname whose target is itself a nickname, a country alias claimed by two codes, a code-like
// alias such as "UAE" that is another country's code). Empty when the tables are sound.
std::vector<std::string> TableProblems();
}  // namespace detail

namespace {

namespace pn = i18n::phonenumbers;

constexpr size_t kMemoLimit = 32'768;

// ---------------------------------------------------------------------------------------------
// Small string helpers (ASCII only; non-ASCII bytes pass through untouched).

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}
bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Memo: one hash map per function, heterogeneous lookup so a hit allocates nothing.

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class V>
class Memo {
 public:
  void set_enabled(bool on) { on_ = on; }

  template <class F>
  const V& Get(std::string_view key, F&& compute) {
    if (!on_) return last_ = compute(key);
    if (auto it = map_.find(key); it != map_.end()) return it->second;
    V value = compute(key);
    if (map_.size() >= kMemoLimit) map_.clear();
    return map_.emplace(std::string(key), std::move(value)).first->second;
  }

 private:
  std::unordered_map<std::string, V, StringHash, std::equal_to<>> map_;
  bool on_ = true;
  V last_{};  // what Get returns when off
};

// ---------------------------------------------------------------------------------------------
// Unicode: lenient decoding, NFKC, transliteration, folding.

// Windows-1252 0x80..0x9F (undefined slots map to the C1 control of the same value).
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// UTF-8 → UTF-16; each byte that does not start a well-formed sequence (overlong forms,
// surrogates and values above U+10FFFF included) is taken as one Windows-1252 character.
icu::UnicodeString DecodeLenient(std::string_view s) {
  icu::UnicodeString u;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  auto cont = [&](size_t k, unsigned lo, unsigned hi) {
    return i + k < n && p[i + k] >= lo && p[i + k] <= hi;
  };
  while (i < n) {
    const unsigned b = p[i];
    UChar32 cp = -1;
    size_t len = 1;
    if (b < 0x80) {
      cp = static_cast<UChar32>(b);
    } else if (b >= 0xC2 && b <= 0xDF && cont(1, 0x80, 0xBF)) {
      cp = static_cast<UChar32>(((b & 0x1F) << 6) | (p[i + 1] & 0x3F));
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF &&
               cont(1, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF) && cont(2, 0x80, 0xBF)) {
      cp = static_cast<UChar32>(((b & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F));
      len = 3;
    } else if (b >= 0xF0 && b <= 0xF4 &&
               cont(1, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF) && cont(2, 0x80, 0xBF) &&
               cont(3, 0x80, 0xBF)) {
      cp = static_cast<UChar32>(((b & 0x07) << 18) | ((p[i + 1] & 0x3F) << 12) |
                                ((p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F));
      len = 4;
    } else {
      cp = b < 0xA0 ? static_cast<UChar32>(kCp1252High[b - 0x80]) : static_cast<UChar32>(b);
    }
    u.append(cp);
    i += len;
  }
  return u;
}

std::string ToUtf8(const icu::UnicodeString& u) {
  std::string out;
  u.toUTF8String(out);
  return out;
}

// ICU's normalizer singletons, looked up once (nullptr if ICU's data is missing: then text is
// left as it is rather than failing).
template <const icu::Normalizer2* (*Get)(UErrorCode&)>
const icu::Normalizer2* CachedNormalizer() {
  static const icu::Normalizer2* const n = [] {
    UErrorCode st = U_ZERO_ERROR;
    const icu::Normalizer2* r = Get(st);
    return U_SUCCESS(st) ? r : nullptr;
  }();
  return n;
}
const icu::Normalizer2* Nfkc() { return CachedNormalizer<&icu::Normalizer2::getNFKCInstance>(); }
const icu::Normalizer2* Nfkd() { return CachedNormalizer<&icu::Normalizer2::getNFKDInstance>(); }
const icu::Normalizer2* Nfd() { return CachedNormalizer<&icu::Normalizer2::getNFDInstance>(); }
const icu::Normalizer2* Nfc() { return CachedNormalizer<&icu::Normalizer2::getNFCInstance>(); }

void Normalize(const icu::Normalizer2* n, icu::UnicodeString& u) {
  if (n == nullptr) return;
  UErrorCode st = U_ZERO_ERROR;
  icu::UnicodeString out = n->normalize(u, st);
  if (U_SUCCESS(st)) u = std::move(out);
}

// Decoded and NFKC-normalized ("ﬁ" → "fi", full-width → ASCII, "㈱" → "(株)").
icu::UnicodeString DecodeNfkc(std::string_view s) {
  icu::UnicodeString u = DecodeLenient(s);
  Normalize(Nfkc(), u);
  return u;
}

void TrimSpaces(icu::UnicodeString& u) {
  int32_t b = 0;
  int32_t e = u.length();
  while (b < e && u_isUWhiteSpace(u.charAt(b))) ++b;
  while (e > b && u_isUWhiteSpace(u.charAt(e - 1))) --e;
  // In place. Not `u = u.tempSubString(...)`: assigning from a read-only alias of u's own buffer
  // frees that buffer before copying from it (a use-after-free that made a long company name
  // normalize differently from one call to the next).
  if (b > 0 || e < u.length()) u.retainBetween(b, e);
}

// Letters that NFD does not decompose, with what ICU's Latin-ASCII makes of them, plus the
// punctuation that most often survives NFKC. Used by FoldToAscii; anything else goes to ICU.
struct LetterFold {
  UChar32 from;
  const char* to;
};
constexpr LetterFold kLatinFolds[] = {
    {0x0110, "D"},  {0x0111, "d"},  {0x00D0, "D"},  {0x00F0, "d"},  {0x00D8, "O"},
    {0x00F8, "o"},  {0x0141, "L"},  {0x0142, "l"},  {0x0131, "i"},  {0x0126, "H"},
    {0x0127, "h"},  {0x00C6, "AE"}, {0x00E6, "ae"}, {0x0152, "OE"}, {0x0153, "oe"},
    {0x00DE, "TH"}, {0x00FE, "th"}, {0x00DF, "ss"}, {0x1E9E, "SS"}, {0x2018, "'"},
    {0x2019, "'"},  {0x201C, "\""}, {0x201D, "\""}, {0x2013, "-"},  {0x2014, "-"},
};
const char* LatinFold(UChar32 c) {
  for (const auto& f : kLatinFolds) {
    if (f.from == c) return f.to;
  }
  return nullptr;
}

// True when every character is Latin, Common (punctuation, digits) or Inherited (marks): such
// text needs no Any-Latin.
bool AllLatin(const icu::UnicodeString& u) {
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (c < 0x80) continue;
    UErrorCode st = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &st);
    if (script != USCRIPT_LATIN && script != USCRIPT_COMMON && script != USCRIPT_INHERITED) {
      return false;
    }
  }
  return true;
}

// What ICU's Latin-ASCII does for the common case, ~10x cheaper: NFD, marks dropped, the letters
// of kLatinFolds mapped. False (and `out` unspecified) when something else is left.
bool FoldToAscii(icu::UnicodeString u, std::string& out) {
  Normalize(Nfd(), u);
  out.clear();
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (u_charType(c) == U_NON_SPACING_MARK) {
      continue;
    } else if (const char* ascii = LatinFold(c)) {
      out.append(ascii);
    } else {
      return false;
    }
  }
  return true;
}

// Compiled once per process and cloned per Normalizer: createInstance costs ~150 µs (40 ms the
// first time), a clone a few µs.
std::unique_ptr<icu::Transliterator> CreateTransliterator(const char* id) {
  UErrorCode st = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> t(
      icu::Transliterator::createInstance(id, UTRANS_FORWARD, st));
  if (U_FAILURE(st)) t.reset();
  return t;
}
std::unique_ptr<icu::Transliterator> Clone(const std::unique_ptr<icu::Transliterator>& proto) {
  return proto == nullptr ? nullptr : std::unique_ptr<icu::Transliterator>(proto->clone());
}
std::unique_ptr<icu::Transliterator> NewAnyLatin() {
  static const std::unique_ptr<icu::Transliterator> proto = CreateTransliterator("Any-Latin");
  return Clone(proto);
}
std::unique_ptr<icu::Transliterator> NewLatinAscii() {
  static const std::unique_ptr<icu::Transliterator> proto = CreateTransliterator("Latin-ASCII");
  return Clone(proto);
}

// ---------------------------------------------------------------------------------------------
// Table indexes, built once per process (read-only afterwards, so shared by all Normalizers).

struct NameTables {
  std::unordered_set<std::string_view> honorifics;
  std::vector<icu::UnicodeString> vietnamese_honorifics;  // case-folded
  std::vector<std::vector<std::string_view>> name_suffixes;
  std::unordered_map<std::string_view, std::string_view> nicknames;
  std::vector<std::vector<std::string_view>> legal_suffixes;
  std::vector<std::vector<std::string_view>> legal_prefixes;
  std::vector<icu::UnicodeString> cjk_suffixes;
  std::vector<icu::UnicodeString> cjk_prefixes;
  std::unordered_set<std::string_view> plus_tag_domains;
};

const NameTables& Tables() {
  static const NameTables t = [] {
    NameTables r;
    for (auto h : detail::Honorifics()) r.honorifics.insert(h);
    for (auto h : detail::VietnameseHonorifics()) {
      r.vietnamese_honorifics.push_back(DecodeNfkc(h).foldCase());
    }
    for (auto s : detail::NameSuffixes()) r.name_suffixes.push_back(SplitSpaces(s));
    for (const auto& p : detail::Nicknames()) r.nicknames.emplace(p.nick, p.canonical);
    for (auto s : detail::LegalSuffixes()) r.legal_suffixes.push_back(SplitSpaces(s));
    for (auto s : detail::LegalPrefixes()) r.legal_prefixes.push_back(SplitSpaces(s));
    for (auto s : detail::CjkLegalSuffixes()) r.cjk_suffixes.push_back(DecodeNfkc(s));
    for (auto s : detail::CjkLegalPrefixes()) r.cjk_prefixes.push_back(DecodeNfkc(s));
    for (auto d : detail::PlusTagDomains()) r.plus_tag_domains.insert(d);
    return r;
  }();
  return t;
}

// ---------------------------------------------------------------------------------------------
// Names and companies (on ASCII text).

// Lowercase letters and digits; apostrophes dropped (joining); anything else one space.
std::string CleanAscii(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsAsciiAlnum(c)) {
      out.push_back(Lower(c));
    } else if (c == '\'' || c == '`') {
      continue;
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Joins tokens with single spaces, gluing a lone "o" to a following word ("o neil" → "oneil").
std::string JoinTokens(std::span<const std::string_view> t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    const bool glue = i > 0 && t[i - 1] == "o" && t[i].size() >= 2;
    if (i > 0 && !glue) out.push_back(' ');
    out.append(t[i]);
  }
  return out;
}

bool EndsWithPhrase(std::span<const std::string_view> t,
                    const std::vector<std::string_view>& phrase) {
  return !phrase.empty() && phrase.size() <= t.size() &&
         std::equal(phrase.begin(), phrase.end(), t.end() - static_cast<ptrdiff_t>(phrase.size()));
}

// Drops honorifics from the front and suffixes from the end, keeping at least one token.
std::span<const std::string_view> StripPersonAffixes(std::span<const std::string_view> t) {
  const NameTables& tab = Tables();
  size_t b = 0;
  size_t e = t.size();
  while (e - b > 1 && tab.honorifics.contains(t[b])) ++b;
  for (bool again = true; again;) {
    again = false;
    for (const auto& phrase : tab.name_suffixes) {
      if (e - b > phrase.size() && EndsWithPhrase(t.first(e), phrase)) {
        e -= phrase.size();
        again = true;
        break;
      }
    }
  }
  return t.subspan(b, e - b);
}

std::string PersonNameFromAscii(std::string_view ascii) {
  const std::string clean = CleanAscii(ascii);
  const std::vector<std::string_view> tokens = SplitSpaces(clean);
  return JoinTokens(StripPersonAffixes(tokens));
}

// "&" between two letters disappears ("AT&T" → "ATT"); elsewhere it reads "and".
std::string ExpandAmpersand(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
    } else if (i > 0 && i + 1 < s.size() && IsAsciiAlnum(s[i - 1]) && IsAsciiAlnum(s[i + 1])) {
      continue;
    } else {
      out.append(" and ");
    }
  }
  return out;
}

// Units for matching legal forms at the end: a run of single-letter tokens is one unit ("s a" →
// "sa"). Returns the last few units, last first, each with the number of tokens it covers.
struct Unit {
  std::string text;
  size_t tokens;
};
std::vector<Unit> TrailingUnits(std::span<const std::string_view> t, size_t max_units) {
  std::vector<Unit> units;
  size_t i = t.size();
  while (i > 0 && units.size() < max_units) {
    size_t j = i - 1;
    if (t[j].size() == 1) {
      while (j > 0 && t[j - 1].size() == 1) --j;
    }
    Unit u{{}, i - j};
    for (size_t k = j; k < i; ++k) u.text.append(t[k]);
    units.push_back(std::move(u));
    i = j;
  }
  return units;
}

void StripLegalForms(std::vector<std::string_view>& t) {
  const NameTables& tab = Tables();
  for (bool again = true; again;) {
    again = false;
    for (const auto& p : tab.legal_prefixes) {
      if (t.size() > p.size() && std::equal(p.begin(), p.end(), t.begin())) {
        t.erase(t.begin(), t.begin() + static_cast<ptrdiff_t>(p.size()));
        again = true;
        break;
      }
    }
    if (again) continue;
    const std::vector<Unit> units = TrailingUnits(t, 4);
    size_t best = 0;  // tokens to drop
    for (const auto& s : tab.legal_suffixes) {
      if (s.size() > units.size()) continue;
      size_t covered = 0;
      bool match = true;
      for (size_t k = 0; k < s.size() && match; ++k) {
        match = units[k].text == s[s.size() - 1 - k];
        covered += units[k].tokens;
      }
      if (match && covered == t.size()) return;  // the name is a bare legal form: keep it
      if (match) best = std::max(best, covered);
    }
    if (best > 0) {
      t.resize(t.size() - best);
      again = true;
    }
  }
}

void StripCjkLegalForms(icu::UnicodeString& u) {
  const NameTables& tab = Tables();
  TrimSpaces(u);
  for (bool again = true; again;) {
    again = false;
    for (const auto& s : tab.cjk_suffixes) {
      if (u == s) return;  // a bare legal form: keep it
      if (u.length() > s.length() && u.endsWith(s)) {
        icu::UnicodeString rest(u, 0, u.length() - s.length());  // a copy: u = rest below
        TrimSpaces(rest);
        if (rest.isEmpty()) continue;
        u = rest;
        again = true;
      }
    }
    for (const auto& s : tab.cjk_prefixes) {
      if (u == s) return;
      if (u.length() > s.length() && u.startsWith(s)) {
        icu::UnicodeString rest(u, s.length());
        TrimSpaces(rest);
        if (rest.isEmpty()) continue;
        u = rest;
        again = true;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Countries.

// Lookup key: NFKC, case-folded, dots/apostrophes/format characters removed, "&" → "and", other
// punctuation and symbols → one space. Letters, digits and combining marks of any script stay.
std::string CountryKey(std::string_view v) {
  std::string out;
  if (IsAscii(v)) {
    for (char c : ExpandAmpersand(v)) {
      if (IsAsciiAlnum(c)) {
        out.push_back(Lower(c));
      } else if (c == '.' || c == '\'' || c == '`') {
        continue;
      } else if (!out.empty() && out.back() != ' ') {
        out.push_back(' ');
      }
    }
  } else {
    icu::UnicodeString u = DecodeNfkc(v);
    u.foldCase();
    icu::UnicodeString k;
    for (int32_t i = 0; i < u.length();) {
      const UChar32 c = u.char32At(i);
      i += U16_LENGTH(c);
      const int8_t type = u_charType(c);
      if (c == '.' || c == '\'' || c == 0x2019 || c == 0x02BC || c == 0x02BB || c == 0x3002 ||
          c == 0x0640 /* tatweel */ || type == U_FORMAT_CHAR) {
        continue;
      }
      if (c == '&') {
        k.append(icu::UnicodeString(u" and "));
      } else if (u_isalnum(c) || type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK) {
        k.append(c);
      } else if (!k.isEmpty() && k.charAt(k.length() - 1) != u' ') {
        k.append(u' ');
      }
    }
    out = ToUtf8(k);
    // collapse the spaces "&" may have doubled
    std::string collapsed;
    for (char c : out) {
      if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
      collapsed.push_back(c);
    }
    out = std::move(collapsed);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Arabic-script letters typed interchangeably in Persian text, unified for country lookups.
constexpr std::pair<UChar32, UChar32> kArabicFolds[] = {
    {0x064A, 0x06CC}, {0x0649, 0x06CC}, {0x0643, 0x06A9}, {0x0629, 0x0647}};  // ي ى→ی ك→ک ة→ه

// Accent-free form of a key: marks removed after NFKD, letters without a decomposition mapped by
// hand (đ, ø, ł, æ, ...), and Arabic/Persian letter variants unified (ي/ی, ك/ک, ى, ة/ه).
std::string FoldCountryKey(const std::string& key) {
  if (IsAscii(key)) return key;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(key);
  Normalize(Nfkd(), u);
  icu::UnicodeString f;
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    if (const char* ascii = LatinFold(c)) {
      f.append(icu::UnicodeString(ascii, -1, icu::UnicodeString::kInvariant));
      continue;
    }
    UChar32 out = c;
    for (const auto& [from, to] : kArabicFolds) {
      if (from == c) out = to;
    }
    f.append(out);
  }
  Normalize(Nfc(), f);
  return ToUtf8(f);
}

bool IsUpperCode(std::string_view v) {
  v = Trim(v);
  return (v.size() == 2 || v.size() == 3) &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

struct CountryIndex {
  std::vector<std::string_view> names;                               // by row
  std::vector<std::string_view> codes;                               // by row
  std::unordered_map<std::string, int> alpha2, alpha3, raw, folded;  // folded: -1 = ambiguous
  std::vector<std::string> problems;
};

const CountryIndex& CountryIdx() {
  static const CountryIndex idx = [] {
    CountryIndex x;
    const auto rows = detail::Countries();
    std::unordered_map<std::string_view, int> row_of;
    for (size_t r = 0; r < rows.size(); ++r) {
      const int row = static_cast<int>(r);
      x.names.push_back(rows[r].name);
      x.codes.push_back(rows[r].alpha2);
      row_of.emplace(rows[r].alpha2, row);
      x.alpha2.emplace(CountryKey(rows[r].alpha2), row);
      if (!rows[r].alpha3.empty()) x.alpha3.emplace(CountryKey(rows[r].alpha3), row);
    }
    auto add = [&](std::string_view alias, int row) {
      const std::string key = CountryKey(alias);
      if (key.empty()) return;
      // An alias written like a code ("UAE") must not collide with another country's code; one
      // written as a word ("Nga", Vietnamese for Russia, vs. NGA) is fine: see FindCountry.
      if (IsUpperCode(alias)) {
        auto& codes = key.size() == 2 ? x.alpha2 : x.alpha3;
        if (auto it = codes.find(key); it != codes.end() && it->second != row) {
          x.problems.push_back("alias '" + std::string(alias) + "' of " +
                               std::string(x.codes[row]) + " shadows code of " +
                               std::string(x.codes[it->second]));
        }
      }
      auto [it, inserted] = x.raw.emplace(key, row);
      if (!inserted && it->second != row) {
        x.problems.push_back("alias '" + std::string(alias) + "' claimed by " +
                             std::string(x.codes[it->second]) + " and " +
                             std::string(x.codes[row]));
      }
      // Folded keys this short would shadow codes ("Mỹ" → "my" is Malaysia): not indexed.
      const std::string f = FoldCountryKey(key);
      if (f.size() <= 2) return;
      auto [ft, finserted] = x.folded.emplace(f, row);
      if (!finserted && ft->second != row) ft->second = -1;
    };
    auto each_alias = [&](std::string_view list, int row) {
      while (!list.empty()) {
        const size_t bar = list.find('|');
        add(list.substr(0, bar), row);
        if (bar == std::string_view::npos) break;
        list.remove_prefix(bar + 1);
      }
    };
    for (size_t r = 0; r < rows.size(); ++r) {
      add(rows[r].name, static_cast<int>(r));
      each_alias(rows[r].aliases, static_cast<int>(r));
    }
    for (const auto& a : detail::CountryAliases()) {
      auto it = row_of.find(a.alpha2);
      if (it == row_of.end()) {
        x.problems.push_back("aliases for unknown code " + std::string(a.alpha2));
        continue;
      }
      each_alias(a.aliases, it->second);
    }
    return x;
  }();
  return idx;
}

// Order: an upper-case "NGA" is a code first; otherwise names win over codes, so the Vietnamese
// "Nga" (Russia) is not Nigeria's alpha-3; then codes; then the accent-free form; then all of it
// again without a leading "the".
int FindCountry(std::string_view v) {
  const CountryIndex& x = CountryIdx();
  std::string key = CountryKey(v);
  auto code = [&x](const std::string& k) {
    const auto& codes = k.size() == 2 ? x.alpha2 : x.alpha3;
    if (k.size() != 2 && k.size() != 3) return -1;
    auto it = codes.find(k);
    return it == codes.end() ? -1 : it->second;
  };
  if (key.empty()) return -1;
  if (IsUpperCode(v)) {
    if (const int row = code(key); row >= 0) return row;
  }
  for (int pass = 0; pass < 2; ++pass) {
    if (auto it = x.raw.find(key); it != x.raw.end()) return it->second;
    if (const int row = code(key); row >= 0) return row;
    if (auto it = x.folded.find(FoldCountryKey(key)); it != x.folded.end() && it->second >= 0) {
      return it->second;
    }
    if (!key.starts_with("the ")) break;
    key.erase(0, 4);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Phones.

// Digits of a phone number as typed: ASCII, full-width, Arabic-Indic and Persian digits; a
// leading '+'; "(0)" after an international prefix dropped; stops at an extension ("x", "ext",
// '#', ';') once six digits are in. Other letters (vanity numbers) are ignored.
struct PhoneDigits {
  std::string digits;
  bool plus = false;
};
PhoneDigits ExtractPhoneDigits(std::string_view v) {
  PhoneDigits r;
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t i = 0; i < v.size(); ++i) {
    const unsigned char c = p[i];
    if (c >= '0' && c <= '9') {
      r.digits.push_back(static_cast<char>(c));
    } else if (c == '+') {
      if (r.digits.empty()) r.plus = true;
    } else if (c == '(' && v.substr(i, 3) == "(0)" && (r.plus || r.digits.starts_with("00"))) {
      i += 2;
    } else if (r.digits.size() >= 6 && (c == 'x' || c == 'X' || c == '#' || c == ';' ||
                                        StartsWithNoCase(v.substr(i), "ext"))) {
      break;
    } else if (c == 0xEF && i + 2 < v.size() && p[i + 1] == 0xBC && p[i + 2] >= 0x90 &&
               p[i + 2] <= 0x99) {  // U+FF10..FF19 full-width
      r.digits.push_back(static_cast<char>('0' + (p[i + 2] - 0x90)));
      i += 2;
    } else if (c == 0xD9 && i + 1 < v.size() && p[i + 1] >= 0xA0 && p[i + 1] <= 0xA9) {  // U+0660
      r.digits.push_back(static_cast<char>('0' + (p[i + 1] - 0xA0)));
      i += 1;
    } else if (c == 0xDB && i + 1 < v.size() && p[i + 1] >= 0xB0 && p[i + 1] <= 0xB9) {  // U+06F0
      r.digits.push_back(static_cast<char>('0' + (p[i + 1] - 0xB0)));
      i += 1;
    } else if (c == 0xEF && i + 2 < v.size() && p[i + 1] == 0xBC && p[i + 2] == 0x8B) {  // ＋
      if (r.digits.empty()) r.plus = true;
      i += 2;
    }
  }
  return r;
}

// International call prefixes other than "00" that the key recognises. "00" itself is accepted
// everywhere: it is the ITU-recommended prefix and what people abroad type.
std::vector<std::string> ExtraIntlPrefixes(std::string_view region, int cc) {
  if (cc == 1) return {"011"};
  if (region == "AU") return {"0011"};
  if (region == "JP") return {"010"};
  if (region == "KR") return {"001", "002", "005", "006", "008", "00700"};
  if (region == "RU" || region == "KZ") return {"810"};
  return {};
}

// Rough "starts with a known calling code" on international digits; 0 when none matches.
int LeadingCallingCode(std::string_view intl, const std::set<int>& codes) {
  int cc = 0;
  for (size_t len = 1; len <= 3 && len <= intl.size(); ++len) {
    cc = cc * 10 + (intl[len - 1] - '0');
    if (codes.contains(cc)) return cc;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Double Metaphone (primary code only).

class Metaphone {
 public:
  explicit Metaphone(std::string_view word) {
    for (char c : word) {
      if (IsAsciiAlpha(c))
        s_.push_back(static_cast<char>(c & ~0x20));
      else if (c == ' ')
        s_.push_back(' ');
    }
    length_ = static_cast<int>(s_.size());
    last_ = length_ - 1;
    s_.append(5, ' ');
    slavo_germanic_ = s_.find('W') != std::string::npos || s_.find('K') != std::string::npos ||
                      s_.find("CZ") != std::string::npos || s_.find("WITZ") != std::string::npos;
  }
  std::string Primary();

 private:
  char At(int i) const { return i >= 0 && i < static_cast<int>(s_.size()) ? s_[i] : '\0'; }
  bool IsVowel(int i) const {
    if (i < 0 || i >= length_) return false;
    const char c = s_[i];
    return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' || c == 'Y';
  }
  bool StrAt(int start, std::initializer_list<std::string_view> options) const {
    if (start < 0) return false;
    for (auto o : options) {
      if (static_cast<size_t>(start) + o.size() <= s_.size() &&
          std::string_view(s_).substr(static_cast<size_t>(start), o.size()) == o) {
        return true;
      }
    }
    return false;
  }
  void HandleC(int& cur);
  void HandleG(int& cur);
  void HandleS(int& cur);

  std::string s_;
  std::string out_;
  int length_ = 0;
  int last_ = -1;
  bool slavo_germanic_ = false;
};

void Metaphone::HandleC(int& cur) {
  // Germanic "ach" (but not "bacher"/"macher" exceptions reversed)
  if (cur > 1 && !IsVowel(cur - 2) && StrAt(cur - 1, {"ACH"}) && At(cur + 2) != 'I' &&
      (At(cur + 2) != 'E' || StrAt(cur - 2, {"BACHER", "MACHER"}))) {
    out_ += 'K';
    cur += 2;
    return;
  }
  if (cur == 0 && StrAt(cur, {"CAESAR"})) {
    out_ += 'S';
    cur += 2;
    return;
  }
  if (StrAt(cur, {"CHIA"})) {  // "chianti"
    out_ += 'K';
    cur += 2;
    return;
  }
  if (StrAt(cur, {"CH"})) {
    if (cur > 0 && StrAt(cur, {"CHAE"})) {  // "michael"
      out_ += 'K';
    } else if (cur == 0 &&
               (StrAt(cur + 1, {"HARAC", "HARIS"}) ||
                StrAt(cur + 1, {"HOR", "HYM", "HIA", "HEM"})) &&
               !StrAt(0, {"CHORE"})) {  // Greek roots: "chemistry", "chorus"
      out_ += 'K';
    } else if (StrAt(0, {"VAN ", "VON ", "SCH"}) ||
               StrAt(cur - 2, {"ORCHES", "ARCHIT", "ORCHID"}) || StrAt(cur + 2, {"T", "S"}) ||
               ((StrAt(cur - 1, {"A", "O", "U", "E"}) || cur == 0) &&
                StrAt(cur + 2, {"L", "R", "N", "M", "B", "H", "F", "V", "W", " "}))) {
      out_ += 'K';
    } else if (cur > 0) {
      out_ += StrAt(0, {"MC"}) ? 'K' : 'X';
    } else {
      out_ += 'X';
    }
    cur += 2;
    return;
  }
  if (StrAt(cur, {"CZ"}) && !StrAt(cur - 2, {"WICZ"})) {  // "czerny"
    out_ += 'S';
    cur += 2;
    return;
  }
  if (StrAt(cur + 1, {"CIA"})) {  // "focaccia"
    out_ += 'X';
    cur += 3;
    return;
  }
  if (StrAt(cur, {"CC"}) && !(cur == 1 && At(0) == 'M')) {  // not "McClellan"
    if (StrAt(cur + 2, {"I", "E", "H"}) && !StrAt(cur + 2, {"HU"})) {
      // "accident", "accede", "succeed" vs. "bacci", "bertucci"
      out_ += ((cur == 1 && At(cur - 1) == 'A') || StrAt(cur - 1, {"UCCEE", "UCCES"})) ? "KS" : "X";
      cur += 3;
    } else {  // Pierce's rule
      out_ += 'K';
      cur += 2;
    }
    return;
  }
  if (StrAt(cur, {"CK", "CG", "CQ"})) {
    out_ += 'K';
    cur += 2;
    return;
  }
  if (StrAt(cur, {"CI", "CE", "CY"})) {
    out_ += 'S';
    cur += 2;
    return;
  }
  out_ += 'K';
  if (StrAt(cur + 1, {" C", " Q", " G"})) {  // "mac caffrey", "mac gregor"
    cur += 3;
  } else if (StrAt(cur + 1, {"C", "K", "Q"}) && !StrAt(cur + 1, {"CE", "CI"})) {
    cur += 2;
  } else {
    cur += 1;
  }
}

void Metaphone::HandleG(int& cur) {
  if (At(cur + 1) == 'H') {
    if (cur > 0 && !IsVowel(cur - 1)) {
      out_ += 'K';
      cur += 2;
      return;
    }
    if (cur == 0) {  // "ghislane", "ghiradelli"
      out_ += At(cur + 2) == 'I' ? 'J' : 'K';
      cur += 2;
      return;
    }
    // Parker's rule: "hugh", "bough", "broughton"
    if ((cur > 1 && StrAt(cur - 2, {"B", "H", "D"})) ||
        (cur > 2 && StrAt(cur - 3, {"B", "H", "D"})) || (cur > 3 && StrAt(cur - 4, {"B", "H"}))) {
      cur += 2;
      return;
    }
    if (cur > 2 && At(cur - 1) == 'U' && StrAt(cur - 3, {"C", "G", "L", "R", "T"})) {
      out_ += 'F';  // "laugh", "McLaughlin", "cough", "rough"
    } else if (cur > 0 && At(cur - 1) != 'I') {
      out_ += 'K';
    }
    cur += 2;
    return;
  }
  if (At(cur + 1) == 'N') {
    if (cur == 1 && IsVowel(0) && !slavo_germanic_) {
      out_ += "KN";
    } else if (!StrAt(cur + 2, {"EY"}) && At(cur + 1) != 'Y' && !slavo_germanic_) {
      out_ += 'N';  // not "cagney"
    } else {
      out_ += "KN";
    }
    cur += 2;
    return;
  }
  if (StrAt(cur + 1, {"LI"}) && !slavo_germanic_) {  // "tagliaro"
    out_ += "KL";
    cur += 2;
    return;
  }
  // -ges-, -gep-, -gel-, -gie- at the beginning
  if (cur == 0 && (At(cur + 1) == 'Y' || StrAt(cur + 1, {"ES", "EP", "EB", "EL", "EY", "IB", "IL",
                                                         "IN", "IE", "EI", "ER"}))) {
    out_ += 'K';
    cur += 2;
    return;
  }
  // -ger-, -gy-
  if ((StrAt(cur + 1, {"ER"}) || At(cur + 1) == 'Y') && !StrAt(0, {"DANGER", "RANGER", "MANGER"}) &&
      !StrAt(cur - 1, {"E", "I"}) && !StrAt(cur - 1, {"RGY", "OGY"})) {
    out_ += 'K';
    cur += 2;
    return;
  }
  // Italian "biaggi"
  if (StrAt(cur + 1, {"E", "I", "Y"}) || StrAt(cur - 1, {"AGGI", "OGGI"})) {
    if (StrAt(0, {"VAN ", "VON ", "SCH"}) || StrAt(cur + 1, {"ET"})) {
      out_ += 'K';  // obviously Germanic
    } else {
      out_ += 'J';  // includes the French ending "-gier"
    }
    cur += 2;
    return;
  }
  cur += At(cur + 1) == 'G' ? 2 : 1;
  out_ += 'K';
}

void Metaphone::HandleS(int& cur) {
  if (StrAt(cur - 1, {"ISL", "YSL"})) {  // "island", "isle", "carlisle"
    cur += 1;
    return;
  }
  if (cur == 0 && StrAt(cur, {"SUGAR"})) {
    out_ += 'X';
    cur += 1;
    return;
  }
  if (StrAt(cur, {"SH"})) {
    out_ += StrAt(cur + 1, {"HEIM", "HOEK", "HOLM", "HOLZ"}) ? 'S' : 'X';  // Germanic
    cur += 2;
    return;
  }
  if (StrAt(cur, {"SIO", "SIA"}) || StrAt(cur, {"SIAN"})) {  // Italian, Armenian
    out_ += 'S';
    cur += 3;
    return;
  }
  // "smith" matches "schmidt", "snider" matches "schneider"; Slavic "-sz-"
  if ((cur == 0 && StrAt(cur + 1, {"M", "N", "L", "W"})) || StrAt(cur + 1, {"Z"})) {
    out_ += 'S';
    cur += StrAt(cur + 1, {"Z"}) ? 2 : 1;
    return;
  }
  if (StrAt(cur, {"SC"})) {
    if (At(cur + 2) == 'H') {                                      // Schlesinger's rule
      if (StrAt(cur + 3, {"OO", "ER", "EN", "UY", "ED", "EM"})) {  // Dutch "school", "schooner"
        out_ += StrAt(cur + 3, {"ER", "EN"}) ? "X" : "SK";         // "schermerhorn", "schenker"
      } else {
        out_ += 'X';
      }
      cur += 3;
      return;
    }
    out_ += StrAt(cur + 2, {"I", "E", "Y"}) ? "S" : "SK";
    cur += 3;
    return;
  }
  if (!(cur == last_ && StrAt(cur - 2, {"AI", "OI"}))) out_ += 'S';  // French "resnais", "artois"
  cur += StrAt(cur + 1, {"S", "Z"}) ? 2 : 1;
}

std::string Metaphone::Primary() {
  if (length_ == 0) return {};
  int cur = 0;
  if (StrAt(0, {"GN", "KN", "PN", "WR", "PS"})) cur = 1;
  if (At(0) == 'X') {  // "Xavier"
    out_ += 'S';
    cur = 1;
  }
  while (out_.size() < 4 && cur < length_) {
    const char c = At(cur);
    switch (c) {
      case 'A':
      case 'E':
      case 'I':
      case 'O':
      case 'U':
      case 'Y':
        if (cur == 0) out_ += 'A';
        cur += 1;
        break;
      case 'B':
        out_ += 'P';
        cur += At(cur + 1) == 'B' ? 2 : 1;
        break;
      case 'C':
        HandleC(cur);
        break;
      case 'D':
        if (StrAt(cur, {"DG"})) {
          if (StrAt(cur + 2, {"I", "E", "Y"})) {  // "edge"
            out_ += 'J';
            cur += 3;
          } else {  // "edgar"
            out_ += "TK";
            cur += 2;
          }
        } else {
          out_ += 'T';
          cur += StrAt(cur, {"DT", "DD"}) ? 2 : 1;
        }
        break;
      case 'F':
        out_ += 'F';
        cur += At(cur + 1) == 'F' ? 2 : 1;
        break;
      case 'G':
        HandleG(cur);
        break;
      case 'H':  // kept only first or between vowels
        if ((cur == 0 || IsVowel(cur - 1)) && IsVowel(cur + 1)) {
          out_ += 'H';
          cur += 2;
        } else {
          cur += 1;
        }
        break;
      case 'J':
        if (StrAt(cur, {"JOSE"}) || StrAt(0, {"SAN "})) {  // Spanish "jose", "san jacinto"
          out_ += ((cur == 0 && At(cur + 4) == ' ') || StrAt(0, {"SAN "})) ? 'H' : 'J';
          cur += 1;
          break;
        }
        if (cur == 0) {
          out_ += 'J';
        } else if (IsVowel(cur - 1) && !slavo_germanic_ &&
                   (At(cur + 1) == 'A' || At(cur + 1) == 'O')) {
          out_ += 'J';  // Spanish "bajador"
        } else if (cur == last_) {
          out_ += 'J';
        } else if (!StrAt(cur + 1, {"L", "T", "K", "S", "N", "M", "B", "Z"}) &&
                   !StrAt(cur - 1, {"S", "K", "L"})) {
          out_ += 'J';
        }
        cur += At(cur + 1) == 'J' ? 2 : 1;
        break;
      case 'K':
        out_ += 'K';
        cur += At(cur + 1) == 'K' ? 2 : 1;
        break;
      case 'L':
        if (At(cur + 1) == 'L') {
          // Spanish "cabrillo", "gallegos": silent in the secondary code only
          cur += 2;
        } else {
          cur += 1;
        }
        out_ += 'L';
        break;
      case 'M':
        out_ += 'M';
        cur += ((StrAt(cur - 1, {"UMB"}) && (cur + 1 == last_ || StrAt(cur + 2, {"ER"}))) ||
                At(cur + 1) == 'M')
                   ? 2
                   : 1;
        break;
      case 'N':
        out_ += 'N';
        cur += At(cur + 1) == 'N' ? 2 : 1;
        break;
      case 'P':
        if (At(cur + 1) == 'H') {
          out_ += 'F';
          cur += 2;
        } else {
          out_ += 'P';
          cur += StrAt(cur + 1, {"P", "B"}) ? 2 : 1;  // "campbell", "raspberry"
        }
        break;
      case 'Q':
        out_ += 'K';
        cur += At(cur + 1) == 'Q' ? 2 : 1;
        break;
      case 'R':
        // French "rogier": silent in the primary code (but not "hochmeier")
        if (!(cur == last_ && !slavo_germanic_ && StrAt(cur - 2, {"IE"}) &&
              !StrAt(cur - 4, {"ME", "MA"}))) {
          out_ += 'R';
        }
        cur += At(cur + 1) == 'R' ? 2 : 1;
        break;
      case 'S':
        HandleS(cur);
        break;
      case 'T':
        if (StrAt(cur, {"TION"})) {
          out_ += 'X';
          cur += 3;
        } else if (StrAt(cur, {"TIA", "TCH"})) {
          out_ += 'X';
          cur += 3;
        } else if (StrAt(cur, {"TH", "TTH"})) {
          // "thomas", "thames", or Germanic: T; otherwise the "th" sound, written 0
          out_ += (StrAt(cur + 2, {"OM", "AM"}) || StrAt(0, {"VAN ", "VON ", "SCH"})) ? 'T' : '0';
          cur += 2;
        } else {
          out_ += 'T';
          cur += StrAt(cur + 1, {"T", "D"}) ? 2 : 1;
        }
        break;
      case 'V':
        out_ += 'F';
        cur += At(cur + 1) == 'V' ? 2 : 1;
        break;
      case 'W':
        if (StrAt(cur, {"WR"})) {
          out_ += 'R';
          cur += 2;
          break;
        }
        if (cur == 0 && (IsVowel(cur + 1) || StrAt(cur, {"WH"}))) out_ += 'A';  // "Wasserman"
        if ((cur == last_ && IsVowel(cur - 1)) ||
            StrAt(cur - 1, {"EWSKI", "EWSKY", "OWSKI", "OWSKY"}) || StrAt(0, {"SCH"})) {
          cur += 1;  // "Arnow" ~ "Arnoff": F in the secondary code only
          break;
        }
        if (StrAt(cur, {"WICZ", "WITZ"})) {  // Polish "filipowicz"
          out_ += "TS";
          cur += 4;
          break;
        }
        cur += 1;
        break;
      case 'X':
        if (!(cur == last_ && (StrAt(cur - 3, {"IAU", "EAU"}) || StrAt(cur - 2, {"AU", "OU"})))) {
          out_ += "KS";  // not French "breaux"
        }
        cur += StrAt(cur + 1, {"C", "X"}) ? 2 : 1;
        break;
      case 'Z':
        if (At(cur + 1) == 'H') {  // pinyin "zhao"
          out_ += 'J';
          cur += 2;
          break;
        }
        out_ += 'S';
        cur += At(cur + 1) == 'Z' ? 2 : 1;
        break;
      default:
        cur += 1;
    }
  }
  if (out_.size() > 4) out_.resize(4);
  return out_;
}

}  // namespace

// =============================================================================================

struct Normalizer::Impl {
  explicit Impl(NormalizeOptions o) : opt(std::move(o)) {
    for (char& c : opt.default_region) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    phone = pn::PhoneNumberUtil::GetInstance();
    country_code = phone->GetCountryCodeForRegion(opt.default_region);
    if (country_code != 0) {
      phone->GetNddPrefixForRegion(opt.default_region, true, &trunk_prefix);
      intl_prefixes = ExtraIntlPrefixes(opt.default_region, country_code);
    }
    intl_prefixes.push_back("00");
    phone->GetSupportedCallingCodes(&calling_codes);
  }

  // ICU "Any-Latin; Latin-ASCII" for NFKC-normalized text, in two steps so that each can be
  // skipped: Any-Latin when the text is Latin already, Latin-ASCII (the slower half) when
  // FoldToAscii covers every character. Characters still not ASCII after ICU (emoji, the ʿayn of
  // romanized Arabic) are dropped. The transliterators are cloned on first use.
  std::string Transliterate(icu::UnicodeString u) {
    if (!AllLatin(u)) {
      if (!any_latin) any_latin = NewAnyLatin();
      if (any_latin) any_latin->transliterate(u);
    }
    std::string out;
    if (FoldToAscii(u, out)) return out;
    if (!latin_ascii) latin_ascii = NewLatinAscii();
    if (latin_ascii) latin_ascii->transliterate(u);
    out = ToUtf8(u);
    std::erase_if(out, [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    return out;
  }

  std::string ToAscii(std::string_view v) {
    if (IsAscii(v)) return std::string(v);
    return Transliterate(DecodeNfkc(v));
  }

  std::string Name(std::string_view v) {
    if (IsAscii(v)) return PersonNameFromAscii(v);
    icu::UnicodeString u = DecodeNfkc(v);
    TrimSpaces(u);
    // Vietnamese "Ông"/"Bà" as the first word, when more follows.
    int32_t space = 0;
    while (space < u.length() && !u_isUWhiteSpace(u.charAt(space))) ++space;
    if (space < u.length()) {
      icu::UnicodeString first(u, 0, space);
      first.foldCase();
      for (const auto& h : Tables().vietnamese_honorifics) {
        if (first == h) {
          u.remove(0, space + 1);
          break;
        }
      }
    }
    return PersonNameFromAscii(Transliterate(std::move(u)));
  }

  std::string GivenName(std::string_view v) {
    const std::string& name = name_memo.Get(v, [this](std::string_view k) { return Name(k); });
    const auto& nick = Tables().nicknames;
    std::string out;
    for (std::string_view t : SplitSpaces(name)) {
      if (!out.empty()) out.push_back(' ');
      auto it = nick.find(t);
      out.append(it == nick.end() ? t : it->second);
    }
    return out;
  }

  std::string Company(std::string_view v) {
    std::string ascii;
    if (IsAscii(v)) {
      ascii = std::string(v);
    } else {
      icu::UnicodeString u = DecodeNfkc(v);
      StripCjkLegalForms(u);
      ascii = Transliterate(std::move(u));
    }
    const std::string clean = CleanAscii(ExpandAmpersand(ascii));
    std::vector<std::string_view> tokens = SplitSpaces(clean);
    StripLegalForms(tokens);
    return JoinTokens(tokens);
  }

  std::string Email(std::string_view v) {
    std::string_view s = Trim(v);
    if (StartsWithNoCase(s, "mailto:")) s.remove_prefix(7);
    // "Jane Doe <jane@x.org>" → the address inside the brackets
    if (const size_t lt = s.find('<'); lt != std::string_view::npos) {
      if (const size_t gt = s.find('>', lt);
          gt != std::string_view::npos &&
          s.substr(lt, gt - lt).find('@') != std::string_view::npos) {
        s = s.substr(lt + 1, gt - lt - 1);
      }
    }
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (IsAsciiSpace(c)) continue;
      // no-break space, zero-width space, BOM and ideographic space are spaces too
      if (s.substr(i, 2) == "\xC2\xA0") {
        i += 1;
        continue;
      }
      if (s.substr(i, 3) == "\xE2\x80\x8B" || s.substr(i, 3) == "\xEF\xBB\xBF" ||
          s.substr(i, 3) == "\xE3\x80\x80") {
        i += 2;
        continue;
      }
      out.push_back(Lower(c));
    }
    const size_t at = out.rfind('@');
    if (at == std::string::npos) return {};
    std::string local = out.substr(0, at);
    std::string domain = out.substr(at + 1);
    while (!domain.empty() && domain.back() == '.') domain.pop_back();
    if (opt.email_provider_rules) {
      if (domain == "googlemail.com") domain = "gmail.com";
      if (Tables().plus_tag_domains.contains(domain)) {
        if (const size_t plus = local.find('+'); plus != std::string::npos && plus > 0) {
          local.resize(plus);
        }
      }
      if (domain == "gmail.com") std::erase(local, '.');
    }
    return local + "@" + domain;
  }

  std::string PhoneKey(std::string_view v) {
    PhoneDigits pd = ExtractPhoneDigits(v);
    const std::string& d = pd.digits;
    if (d.size() < 6) return {};
    std::string intl;  // calling code + national significant number
    if (pd.plus) {
      intl = d;
    } else {
      bool international = false;
      for (const auto& prefix : intl_prefixes) {
        if (d.starts_with(prefix)) {
          intl = d.substr(prefix.size());
          international = true;
          break;
        }
      }
      if (!international) {
        if (country_code == 0) return d;  // unknown default region: digits as typed
        std::string_view national = d;
        if (!trunk_prefix.empty() && national.starts_with(trunk_prefix)) {
          national.remove_prefix(trunk_prefix.size());
        }
        return std::to_string(country_code) + std::string(national);
      }
    }
    // A trunk "0" written after the calling code ("+44 020 ...") is dropped for countries whose
    // trunk prefix is "0"; their national numbers never start with it.
    if (const int cc = LeadingCallingCode(intl, calling_codes); cc != 0) {
      const size_t cc_len = std::to_string(cc).size();
      if (intl.size() > cc_len && intl[cc_len] == '0' && TrunkPrefixOf(cc) == "0") {
        intl.erase(cc_len, 1);
      }
    }
    return intl;
  }

  std::optional<std::string> PhoneE164(std::string_view v) {
    if (v.size() > 250) return std::nullopt;  // libphonenumber's own limit
    auto attempt = [this](const std::string& text) -> std::optional<std::string> {
      pn::PhoneNumber number;
      if (phone->Parse(text, opt.default_region, &number) !=
              pn::PhoneNumberUtil::NO_PARSING_ERROR ||
          !phone->IsValidNumber(number)) {
        return std::nullopt;
      }
      std::string out;
      phone->Format(number, pn::PhoneNumberUtil::E164, &out);
      return out;
    };
    std::string text(v);
    if (auto r = attempt(text)) return r;
    // "00 49 30 ..." where the region's own international prefix is something else (US: 011).
    const std::string_view t = Trim(text);
    if (t.starts_with("00") && t.size() > 2) {
      if (auto r = attempt("+" + std::string(t.substr(2)))) return r;
    }
    return std::nullopt;
  }

  const std::string& TrunkPrefixOf(int cc) {
    auto it = trunk_by_cc.find(cc);
    if (it == trunk_by_cc.end()) {
      std::string region;
      std::string prefix;
      phone->GetRegionCodeForCountryCode(cc, &region);
      phone->GetNddPrefixForRegion(region, true, &prefix);
      it = trunk_by_cc.emplace(cc, std::move(prefix)).first;
    }
    return it->second;
  }

  NormalizeOptions opt;
  const pn::PhoneNumberUtil* phone = nullptr;
  int country_code = 0;
  std::string trunk_prefix;
  std::vector<std::string> intl_prefixes;
  std::set<int> calling_codes;
  std::map<int, std::string> trunk_by_cc;
  std::unique_ptr<icu::Transliterator> any_latin;    // created on first non-Latin value
  std::unique_ptr<icu::Transliterator> latin_ascii;  // created on first value FoldToAscii misses

  Memo<std::string> email_memo, phone_key_memo, name_memo, given_memo, ascii_memo, company_memo,
      country_memo;
  Memo<std::optional<std::string>> e164_memo;
};

Normalizer::Normalizer(NormalizeOptions opt, Memoize memoize)
    : impl_(std::make_unique<Impl>(std::move(opt))) {
  if (memoize == Memoize::kNo) {
    for (auto* m : {&impl_->email_memo, &impl_->phone_key_memo, &impl_->name_memo,
                    &impl_->given_memo, &impl_->ascii_memo, &impl_->company_memo,
                    &impl_->country_memo}) {
      m->set_enabled(false);
    }
    impl_->e164_memo.set_enabled(false);
  }
}
Normalizer::~Normalizer() = default;

std::string Normalizer::Email(std::string_view v) {
  return impl_->email_memo.Get(v, [this](std::string_view k) { return impl_->Email(k); });
}

std::string Normalizer::EmailLocal(std::string_view v) {
  const std::string& e =
      impl_->email_memo.Get(v, [this](std::string_view k) { return impl_->Email(k); });
  const size_t at = e.rfind('@');
  return at == std::string::npos ? std::string() : e.substr(0, at);
}

std::string Normalizer::PhoneKey(std::string_view v) {
  return impl_->phone_key_memo.Get(v, [this](std::string_view k) { return impl_->PhoneKey(k); });
}

std::optional<std::string> Normalizer::PhoneE164(std::string_view v) {
  return impl_->e164_memo.Get(v, [this](std::string_view k) { return impl_->PhoneE164(k); });
}

std::string Normalizer::Name(std::string_view v) {
  return impl_->name_memo.Get(v, [this](std::string_view k) { return impl_->Name(k); });
}

std::string Normalizer::GivenName(std::string_view v) {
  return impl_->given_memo.Get(v, [this](std::string_view k) { return impl_->GivenName(k); });
}

std::string Normalizer::ToAscii(std::string_view v) {
  return impl_->ascii_memo.Get(v, [this](std::string_view k) { return impl_->ToAscii(k); });
}

std::string Normalizer::Company(std::string_view v) {
  return impl_->company_memo.Get(v, [this](std::string_view k) { return impl_->Company(k); });
}

std::string Normalizer::CountryCode(std::string_view v) {
  return impl_->country_memo.Get(v, [](std::string_view k) {
    const int row = FindCountry(k);
    return row < 0 ? std::string() : std::string(CountryIdx().codes[static_cast<size_t>(row)]);
  });
}

std::string PhoneticKey(std::string_view ascii_word) {
  // Double Metaphone rather than NYSIIS: it was designed for the mix of origins a CRM holds
  // (Germanic, Slavic, Italian, Spanish, Chinese pinyin), and its 4-character primary code is a
  // coarse enough block key. Only the primary code is kept; the secondary would double the
  // block count for a small recall gain.
  return Metaphone(ascii_word).Primary();
}

std::string LibraryVersions() {
  UVersionInfo v;
  u_getVersion(v);
  char text[U_MAX_VERSION_STRING_LENGTH] = {};
  u_versionToString(v, text);
  return std::string("icu ") + text;
}

std::string CountryName(std::string_view alpha2) {
  const std::string_view t = Trim(alpha2);
  if (t.size() != 2) return {};
  const CountryIndex& x = CountryIdx();
  const std::string key{Lower(t[0]), Lower(t[1])};
  auto it = x.alpha2.find(key);
  return it == x.alpha2.end() ? std::string()
                              : std::string(x.names[static_cast<size_t>(it->second)]);
}

std::vector<std::string> detail::TableProblems() {
  std::vector<std::string> problems = CountryIdx().problems;
  auto check_tokens = [&](std::string_view what, std::string_view entry) {
    const bool ok = !entry.empty() && entry.front() != ' ' && entry.back() != ' ' &&
                    entry.find("  ") == std::string_view::npos &&
                    std::all_of(entry.begin(), entry.end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || IsAsciiDigit(c) || c == ' ';
                    });
    if (!ok) problems.push_back(std::string(what) + " entry '" + std::string(entry) + "'");
  };
  for (auto e : detail::Honorifics()) check_tokens("honorific", e);
  for (auto e : detail::NameSuffixes()) check_tokens("name suffix", e);
  for (auto e : detail::LegalSuffixes()) check_tokens("legal suffix", e);
  for (auto e : detail::LegalPrefixes()) check_tokens("legal prefix", e);
  const auto& nick = Tables().nicknames;
  for (const auto& p : detail::Nicknames()) {
    check_tokens("nickname", p.nick);
    check_tokens("nickname target", p.canonical);
    if (nick.contains(p.canonical)) {
      problems.push_back("nickname target '" + std::string(p.canonical) + "' is itself a nickname");
    }
  }
  if (nick.size() != detail::Nicknames().size()) problems.push_back("duplicate nickname");
  return problems;
}

}  // namespace crmh::match
