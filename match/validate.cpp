// Validation checks and name re-casing (contract in validate.h).
//
// Decisions worth knowing before changing anything here:
//  - The tables are deliberately small and packaged here: a disposable-domain subscription or a
//    full role-name list would flag more, but every false flag costs a rep's trust.
//  - Typo detection is a known-typo table, then distance 1 on the provider's name (≥ 5 letters,
//    same rest: "hotmial.fr") or a ".com" typo on an exact provider name ("gmail.cmo"). Short
//    providers (aol, gmx, web) have too many real neighbours (aon.com, gmx.at) to guess.
//  - NameCase works on code points with ICU's simple case mappings, so the byte length of a
//    Latin value may change only where upper and lower forms differ in UTF-8 length (rare) and
//    nothing is ever inserted or removed.
#include "match/validate.h"

#include <phonenumbers/phonenumberutil.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <set>

#include "match/normalize.h"

namespace crmh::match {
namespace {

namespace pn = i18n::phonenumbers;

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

template <size_t N>
bool In(const std::array<std::string_view, N>& table, std::string_view v) {
  return std::find(table.begin(), table.end(), v) != table.end();
}

// Optimal string alignment distance, capped: returns max+1 as soon as it must exceed max.
size_t Distance(std::string_view a, std::string_view b, size_t max) {
  if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > max) return max + 1;
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// clang-format off
constexpr std::array<std::string_view, 20> kProviders = {
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com",
    "protonmail.com", "hotmail.co.uk", "yahoo.co.uk", "hotmail.fr", "yahoo.fr", "hotmail.de",
    "yahoo.de", "outlook.de", "live.com", "aol.com", "gmx.de", "web.de", "t-online.de", "mail.ru"};
// Real domains within distance 1 of a provider: never "typos".
constexpr std::array<std::string_view, 6> kRealNeighbours = {
    "mail.com", "email.com", "ymail.com", "cloud.com", "gmail.de", "yahoo.co"};
constexpr std::array<std::string_view, 10> kComTypos = {
    "co", "con", "cm", "om", "comm", "cpm", "vom", "xom", "ocm", "cmo"};
struct Typo { std::string_view typo, fix; };
constexpr std::array<Typo, 30> kTypos = {{
    {"gmial.com", "gmail.com"}, {"gmai.com", "gmail.com"}, {"gmal.com", "gmail.com"},
    {"gamil.com", "gmail.com"}, {"gnail.com", "gmail.com"}, {"gmaill.com", "gmail.com"},
    {"gmail.co", "gmail.com"}, {"gmail.con", "gmail.com"}, {"gmail.cm", "gmail.com"},
    {"gmail.om", "gmail.com"}, {"gmailcom", "gmail.com"}, {"gmail.comm", "gmail.com"},
    {"hotmial.com", "hotmail.com"}, {"hotmai.com", "hotmail.com"}, {"hotmal.com", "hotmail.com"},
    {"hotamil.com", "hotmail.com"}, {"hotmail.co", "hotmail.com"}, {"hotmail.con", "hotmail.com"},
    {"yaho.com", "yahoo.com"}, {"yahooo.com", "yahoo.com"}, {"yhaoo.com", "yahoo.com"},
    {"yahoo.con", "yahoo.com"}, {"yahho.com", "yahoo.com"},
    {"outlok.com", "outlook.com"}, {"outllok.com", "outlook.com"}, {"outlook.co", "outlook.com"},
    {"iclod.com", "icloud.com"}, {"icloud.co", "icloud.com"}, {"aol.co", "aol.com"},
    {"aoll.com", "aol.com"}}};
constexpr std::array<std::string_view, 24> kDisposable = {
    "mailinator.com", "guerrillamail.com", "guerrillamail.net", "sharklasers.com",
    "10minutemail.com", "tempmail.com", "temp-mail.org", "tempmail.net", "yopmail.com",
    "yopmail.fr", "trashmail.com", "trashmail.de", "getnada.com", "dispostable.com",
    "maildrop.cc", "throwawaymail.com", "fakeinbox.com", "mailnesia.com", "discard.email",
    "spamgourmet.com", "mintemail.com", "emailondeck.com", "mohmal.com", "tempr.email"};
constexpr std::array<std::string_view, 30> kRoles = {
    "info", "sales", "admin", "administrator", "support", "noreply", "no-reply", "no_reply",
    "donotreply", "do-not-reply", "contact", "office", "hello", "help", "helpdesk", "billing",
    "accounts", "accounting", "marketing", "hr", "jobs", "careers", "webmaster", "postmaster",
    "hostmaster", "abuse", "team", "enquiries", "inquiries", "service"};
// Whole values (trimmed, ASCII-lowercased) that are placeholders in any checked field.
constexpr std::array<std::string_view, 34> kPlaceholderWords = {
    "test", "testing", "tester", "test test", "asdf", "asdfg", "asdfgh", "asdfasdf", "asd",
    "qwerty", "qwertz", "n/a", "n.a.", "n.a", "#n/a", "none", "null", "nil", "nothing",
    "unknown", "tbd", "todo", "dummy", "fake", "sample", "noname", "no name", "-none-",
    "not available", "not applicable", "keine", "k.a.", "ka", "blah"};
constexpr std::array<std::string_view, 13> kPlaceholderDomains = {
    "example.com", "example.org", "example.net", "test.com", "test.de", "test.org",
    "noemail.com", "nomail.com", "none.com", "no.email", "fake.com", "asdf.com", "email.test"};
constexpr std::array<std::string_view, 4> kPlaceholderTlds = {"test", "example", "invalid",
                                                              "localhost"};
struct NamePair { std::string_view first, last; };
constexpr std::array<NamePair, 12> kPlaceholderNames = {{
    {"mickey", "mouse"}, {"minnie", "mouse"}, {"donald", "duck"}, {"max", "mustermann"},
    {"erika", "mustermann"}, {"john", "doe"}, {"jane", "doe"}, {"test", "user"},
    {"test", "test"}, {"asdf", "asdf"}, {"foo", "bar"}, {"first", "last"}}};
// clang-format on

// "xxx", "aaaa", "zzz": one ASCII letter repeated ≥ 3 times.
bool RepeatedLetter(std::string_view t) {
  return t.size() >= 3 && IsAlpha(t[0]) &&
         std::all_of(t.begin(), t.end(), [&](char c) { return c == t[0]; });
}

std::string Digits(std::string_view v) {
  std::string d;
  for (char c : v) {
    if (IsDigit(c)) d += c;
  }
  return d;
}

std::string GenericPlaceholder(std::string_view value) {
  const std::string t = AsciiLower(Trim(value));
  if (t.empty()) return {};
  if (In(kPlaceholderWords, t)) return "'" + t + "'";
  if (RepeatedLetter(t)) return "repeated letter";
  // Only punctuation ("-", ".", "?", "--"): non-ASCII bytes count as letters.
  bool any_alnum = std::any_of(t.begin(), t.end(), [](char c) {
    return IsDigit(c) || IsAlpha(c) || static_cast<unsigned char>(c) >= 0x80;
  });
  if (!any_alnum) return "punctuation only";
  return {};
}

std::string PhonePlaceholder(std::string_view value) {
  std::string d = Digits(value);
  if (d.size() < 6) return {};
  if (std::all_of(d.begin(), d.end(), [&](char c) { return c == d[0]; })) return "repeated digits";
  if (std::string_view("1234567890").starts_with(d) ||
      std::string_view("0123456789").starts_with(d)) {
    return "sequential digits";
  }
  // NANP fictional range 555-0100..555-0199, with or without area code and country code.
  if (d[0] == '1' && (d.size() == 8 || d.size() == 11)) d.erase(0, 1);
  if ((d.size() == 10 && d.compare(3, 5, "55501") == 0) ||
      (d.size() == 7 && d.compare(0, 5, "55501") == 0)) {
    return "555-01xx";
  }
  return {};
}

std::string EmailPlaceholder(std::string_view value) {
  const std::string t = AsciiLower(Trim(value));
  const size_t at = t.rfind('@');
  if (at == std::string::npos) return {};
  const std::string local = t.substr(0, at), domain = t.substr(at + 1);
  if (In(kPlaceholderDomains, domain)) return "domain " + domain;
  const size_t dot = domain.rfind('.');
  if (dot != std::string::npos && In(kPlaceholderTlds, std::string_view(domain).substr(dot + 1))) {
    return "domain " + domain;
  }
  if (In(kPlaceholderWords, local) || RepeatedLetter(local)) return "local part " + local;
  return {};
}

const char* TypeName(pn::PhoneNumberUtil::PhoneNumberType t) {
  using U = pn::PhoneNumberUtil;
  switch (t) {
    case U::FIXED_LINE: return "fixed_line";
    case U::MOBILE: return "mobile";
    case U::FIXED_LINE_OR_MOBILE: return "fixed_line_or_mobile";
    case U::TOLL_FREE: return "toll_free";
    case U::PREMIUM_RATE: return "premium_rate";
    case U::SHARED_COST: return "shared_cost";
    case U::VOIP: return "voip";
    case U::PERSONAL_NUMBER: return "personal_number";
    case U::PAGER: return "pager";
    case U::UAN: return "uan";
    case U::VOICEMAIL: return "voicemail";
    default: return "unknown";
  }
}

// --- NameCase ---

// Lead particles are lowercased when not the first word even alone ("Pedro de Souza"); weak ones
// only inside a run of ≥ 2 particles ("van der Berg", "de la Cruz"), because alone they are often
// a name: Vietnamese Văn/Lê/Đa written in ASCII, Chinese Di/Du.
constexpr std::array<std::string_view, 14> kLeadParticles = {
    "von", "de", "del", "della", "des", "dos", "das", "zu", "vom", "zum", "ten", "ter", "dei",
    "degli"};
constexpr std::array<std::string_view, 12> kWeakParticles = {
    "van", "der", "den", "la", "le", "las", "los", "di", "da", "du", "het", "y"};
constexpr std::array<std::string_view, 3> kRoman = {"ii", "iii", "iv"};

bool IsApostrophe(UChar32 c) { return c == '\'' || c == 0x2019 || c == 0x02BC; }

std::string Encode(const std::vector<UChar32>& cps, size_t b, size_t e) {
  std::string out;
  for (size_t i = b; i < e; ++i) {
    uint8_t buf[4];
    int32_t n = 0;
    UBool err = false;
    U8_APPEND(buf, n, 4, cps[i], err);
    (void)err;  // a code point from U8_NEXT always fits in 4 bytes
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

const std::vector<std::string_view>& FlagCodes() {
  static const std::vector<std::string_view> k = {
      kEmailSyntax, kEmailTypoDomain, kEmailDisposable, kEmailRole,   kPhoneInvalid,
      kPhoneType,   kPlaceholder,     kNameIsEmail,     kNameIsPhone, kCountryUnknown};
  return k;
}

bool EmailSyntaxOk(std::string_view email) {
  const size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view local = email.substr(0, at), domain = email.substr(at + 1);
  if (local.empty() || local.size() > 64 || domain.empty() || domain.size() > 253) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  static constexpr std::string_view kAtext = "!#$%&'*+/=?^_`{|}~.-";
  for (char c : local) {
    if (!(IsAlpha(c) || IsDigit(c) || static_cast<unsigned char>(c) >= 0x80 ||
          kAtext.find(c) != std::string_view::npos)) {
      return false;
    }
  }
  size_t labels = 0;
  std::string_view last;
  for (size_t b = 0; b <= domain.size();) {
    size_t e = domain.find('.', b);
    if (e == std::string_view::npos) e = domain.size();
    const std::string_view label = domain.substr(b, e - b);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!(IsAlpha(c) || IsDigit(c) || c == '-' || static_cast<unsigned char>(c) >= 0x80)) {
        return false;
      }
    }
    ++labels;
    last = label;
    b = e + 1;
  }
  if (labels < 2) return false;
  if (last.starts_with("xn--") || last.starts_with("XN--")) return true;
  return last.size() >= 2 && std::all_of(last.begin(), last.end(), [](char c) {
           return IsAlpha(c) || static_cast<unsigned char>(c) >= 0x80;
         });
}

std::string TypoDomainSuggestion(std::string_view domain) {
  const std::string d = AsciiLower(Trim(domain));
  if (d.empty() || In(kProviders, d) || In(kRealNeighbours, d)) return {};
  for (const auto& t : kTypos) {
    if (t.typo == d) return std::string(t.fix);
  }
  // Provider name and the rest compared separately: "hotmial.fr" → "hotmail.fr", "gmail.cmo" →
  // "gmail.com"; but never across country domains ("hotmail.dk" is not a typo of "hotmail.de").
  const size_t dot = d.find('.');
  if (dot == std::string::npos) return {};
  const std::string_view name = std::string_view(d).substr(0, dot);
  const std::string_view rest = std::string_view(d).substr(dot + 1);
  for (auto p : kProviders) {
    const size_t pdot = p.find('.');
    const std::string_view pname = p.substr(0, pdot), prest = p.substr(pdot + 1);
    if (name == pname && prest == "com" && In(kComTypos, rest)) return std::string(p);
    if (rest == prest && pname.size() >= 5 && Distance(name, pname, 1) == 1) return std::string(p);
  }
  return {};
}

bool IsDisposableDomain(std::string_view domain) {
  const std::string d = AsciiLower(Trim(domain));
  for (auto x : kDisposable) {
    if (d == x || (d.size() > x.size() && d.ends_with(x) && d[d.size() - x.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

bool IsRoleAccount(std::string_view local_part) {
  std::string l = AsciiLower(Trim(local_part));
  if (size_t plus = l.find('+'); plus != std::string::npos) l.resize(plus);
  return In(kRoles, l);
}

std::string PlaceholderReason(std::string_view field, std::string_view value) {
  if (std::string r = GenericPlaceholder(value); !r.empty()) return r;
  if (field == "phone" || field == "mobile") return PhonePlaceholder(value);
  if (field == "email" || field == "email2") return EmailPlaceholder(value);
  return {};
}

std::string PlaceholderFullName(std::string_view first, std::string_view last) {
  const std::string f = AsciiLower(Trim(first)), l = AsciiLower(Trim(last));
  if (f.empty() || l.empty()) return {};
  for (const auto& p : kPlaceholderNames) {
    if (p.first == f && p.last == l) return "'" + f + " " + l + "'";
  }
  if (f == l && f.size() == 1) return "same letter twice";
  return {};
}

bool LooksLikeEmail(std::string_view v) {
  const std::string_view t = Trim(v);
  return t.find('@') != std::string_view::npos && EmailSyntaxOk(t);
}

bool LooksLikePhone(std::string_view v) {
  const std::string_view t = Trim(v);
  static constexpr std::string_view kPunct = " +()-./";
  if (!std::all_of(t.begin(), t.end(),
                   [](char c) { return IsDigit(c) || kPunct.find(c) != std::string_view::npos; })) {
    return false;
  }
  return Digits(t).size() >= 6;
}

PhoneChecker::PhoneChecker(std::string default_region) : region_(std::move(default_region)) {
  for (char& c : region_) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
}

PhoneFacts PhoneChecker::Check(std::string_view v) const {
  std::string key(v);
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  if (memo_.size() >= 100000) memo_.clear();
  return memo_.emplace(std::move(key), Parse(v)).first->second;
}

std::string FormatPhone(std::string_view e164, std::string_view format, std::string_view region) {
  if (format != "national" && format != "international") return std::string(e164);
  const pn::PhoneNumberUtil* util = pn::PhoneNumberUtil::GetInstance();
  pn::PhoneNumber number;
  if (util->Parse(std::string(e164), "ZZ", &number) != pn::PhoneNumberUtil::NO_PARSING_ERROR) {
    return std::string(e164);
  }
  if (!util->IsValidNumber(number)) return std::string(e164);
  std::string own;
  util->GetRegionCodeForNumber(number, &own);
  const bool national = format == "national" && !region.empty() && own == region;
  std::string out;
  util->Format(number, national ? pn::PhoneNumberUtil::NATIONAL : pn::PhoneNumberUtil::INTERNATIONAL,
               &out);
  return out.empty() ? std::string(e164) : out;
}

PhoneFacts PhoneChecker::Parse(std::string_view v) const {
  PhoneFacts f;
  if (v.size() > 250) return f;
  const pn::PhoneNumberUtil* util = pn::PhoneNumberUtil::GetInstance();
  auto attempt = [&](const std::string& text) {
    pn::PhoneNumber number;
    if (util->Parse(text, region_, &number) != pn::PhoneNumberUtil::NO_PARSING_ERROR) return false;
    f.parsed = true;
    f.valid = util->IsValidNumber(number);
    f.national_number.clear();
    util->GetNationalSignificantNumber(number, &f.national_number);
    f.extension = number.has_extension() ? number.extension() : std::string();
    f.type = f.valid ? TypeName(util->GetNumberType(number)) : "unknown";
    return f.valid;
  };
  if (attempt(std::string(v))) return f;
  // The same fallback as Normalizer::PhoneE164: "00 49 30 ..." where the region's own
  // international prefix is something else (US: 011).
  const std::string_view t = Trim(v);
  if (t.starts_with("00") && t.size() > 2) {
    PhoneFacts first = f;
    if (!attempt("+" + std::string(t.substr(2)))) f = first;
  }
  return f;
}

std::vector<Finding> ValidateValue(std::string_view field, std::string_view value,
                                   Normalizer& norm, const PhoneChecker& phones) {
  std::vector<Finding> out;
  const std::string_view t = Trim(value);
  if (t.empty()) return out;
  const bool email = field == "email" || field == "email2";
  const bool phone = field == "phone" || field == "mobile";
  const bool name = field == "first_name" || field == "last_name";
  if (!(email || phone || name || field == "company" || field == "country")) return out;
  if (std::string why = PlaceholderReason(field, t); !why.empty()) {
    out.push_back({std::string(kPlaceholder), why});
    return out;
  }
  if (email) {
    if (!EmailSyntaxOk(t)) {
      out.push_back({std::string(kEmailSyntax), ""});
      return out;
    }
    const size_t at = t.rfind('@');
    const std::string_view local = t.substr(0, at), domain = t.substr(at + 1);
    if (std::string fix = TypoDomainSuggestion(domain); !fix.empty()) {
      out.push_back({std::string(kEmailTypoDomain), fix});
    }
    if (IsDisposableDomain(domain)) out.push_back({std::string(kEmailDisposable), ""});
    if (IsRoleAccount(local)) out.push_back({std::string(kEmailRole), AsciiLower(local)});
  } else if (phone) {
    if (!norm.PhoneE164(t)) {
      PhoneFacts f = phones.Check(t);
      out.push_back({std::string(kPhoneInvalid), f.parsed ? "not a valid number" : "unparsable"});
      return out;
    }
    // A mobile field holding a definite landline, or any premium-rate number: worth a look.
    PhoneFacts f = phones.Check(t);
    if ((field == "mobile" && f.type == "fixed_line") || f.type == "premium_rate") {
      out.push_back({std::string(kPhoneType), f.type});
    }
  } else if (name) {
    if (LooksLikeEmail(t)) out.push_back({std::string(kNameIsEmail), ""});
    if (LooksLikePhone(t)) out.push_back({std::string(kNameIsPhone), ""});
  } else if (field == "country") {
    if (norm.CountryCode(t).empty()) out.push_back({std::string(kCountryUnknown), ""});
  }
  return out;
}

std::string NameCase(std::string_view v) {
  std::vector<UChar32> cps;
  const auto* s = reinterpret_cast<const uint8_t*>(v.data());
  const auto len = static_cast<int32_t>(v.size());
  bool upper = false, lower = false;
  for (int32_t i = 0; i < len;) {
    UChar32 c = 0;
    U8_NEXT(s, i, len, c);
    if (c < 0) return std::string(v);  // not UTF-8: leave it to a human
    if (u_isdigit(c) || c == '@' || c == 0x130 || c == 0x131) return std::string(v);
    if (u_isalpha(c)) {
      UErrorCode err = U_ZERO_ERROR;
      UScriptCode script = uscript_getScript(c, &err);
      if (U_FAILURE(err) ||
          (script != USCRIPT_LATIN && script != USCRIPT_COMMON && script != USCRIPT_INHERITED)) {
        return std::string(v);
      }
    }
    if (u_isupper(c) || u_istitle(c)) upper = true;
    if (u_islower(c)) lower = true;
    cps.push_back(c);
  }
  if (upper == lower) return std::string(v);  // mixed case, or nothing cased at all
  for (auto& c : cps) c = u_tolower(c);

  // Words: runs between whitespace.
  struct Word {
    size_t b, e;
    std::string ascii;  // lowercased text, for the particle tables
  };
  std::vector<Word> words;
  for (size_t i = 0; i < cps.size();) {
    while (i < cps.size() && u_isUWhiteSpace(cps[i])) ++i;
    size_t b = i;
    while (i < cps.size() && !u_isUWhiteSpace(cps[i])) ++i;
    if (i > b) words.push_back({b, i, Encode(cps, b, i)});
  }
  auto lead = [&](size_t w) { return In(kLeadParticles, words[w].ascii); };
  auto particle = [&](size_t w) { return lead(w) || In(kWeakParticles, words[w].ascii); };
  std::vector<bool> keep_lower(words.size(), false);
  size_t w0 = 1;
  if (!words.empty() && particle(0)) {
    // The value starts with its particles ("VAN DER BERG" as a last name): the first one is
    // capitalized like any first word, the rest of a run of two follow the rule below.
    size_t e = 0;
    while (e < words.size() && particle(e)) ++e;
    if (e >= 2 && e < words.size()) {
      for (size_t k = 1; k < e; ++k) keep_lower[k] = true;
    }
    w0 = e;
  }
  for (size_t w = w0; w < words.size();) {
    if (!particle(w)) {
      ++w;
      continue;
    }
    size_t e = w;
    while (e < words.size() && particle(e)) ++e;
    // A run needs a following name ("Nguyen Van De" keeps "De") and either two particles or a
    // lead one ("de Souza", "van der Berg", "de la Cruz"; not "Van" alone).
    if (e < words.size() && (e - w >= 2 || lead(w))) {
      for (size_t k = w; k < e; ++k) keep_lower[k] = true;
    }
    w = e;
  }
  for (size_t w = 0; w < words.size(); ++w) {
    const Word& word = words[w];
    if (keep_lower[w]) continue;
    if (w > 0 && In(kRoman, word.ascii)) {
      for (size_t i = word.b; i < word.e; ++i) cps[i] = u_toupper(cps[i]);
      continue;
    }
    // Segments inside a word start after '-', '.', '(' or an apostrophe.
    size_t seg_start = word.b;
    bool cap_next = true;
    for (size_t i = word.b; i < word.e; ++i) {
      UChar32 c = cps[i];
      if (c == '-' || c == '.' || c == '(' || c == '/') {
        cap_next = true;
        seg_start = i + 1;
        continue;
      }
      if (IsApostrophe(c)) {
        // O'Neil, D'Arcy, N'Diaye: one letter before the apostrophe. "Ng'ang'a" stays lower.
        size_t letters = 0;
        for (size_t k = seg_start; k < i; ++k) letters += u_isalpha(cps[k]) ? 1 : 0;
        cap_next = letters == 1;
        seg_start = i + 1;
        continue;
      }
      if (cap_next && u_isalpha(c)) {
        cps[i] = u_totitle(c);
        cap_next = false;
        // McDonald: "mc" + at least two more letters in the segment.
        if (i == seg_start && c == 'm' && i + 3 < word.e && cps[i + 1] == 'c' &&
            u_isalpha(cps[i + 2]) && u_isalpha(cps[i + 3])) {
          cps[i + 2] = u_totitle(cps[i + 2]);
        }
      }
    }
  }
  return Encode(cps, 0, cps.size());
}

}  // namespace crmh::match
