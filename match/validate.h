// Validation and the name/phone rewrites standardize needs beyond match/normalize.h. Pure
// functions of their input (plus the options); nothing here touches a database, and nothing here
// decides to change a value — standardize rewrites, validation only reports (stable codes).
//
// Conservative by design: a flag is a hint for a human, so every check prefers a miss to a false
// alarm on a real person ("Na" is a Korean surname, "aon.com" a real company, "mail.com" a real
// provider).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace crmh::match {

class Normalizer;

// --- the stable flag codes (stored in the state schema; never rename one) ---
inline constexpr std::string_view kEmailSyntax = "email_syntax";
inline constexpr std::string_view kEmailTypoDomain = "email_typo_domain";
inline constexpr std::string_view kEmailDisposable = "email_disposable";
inline constexpr std::string_view kEmailRole = "email_role";
inline constexpr std::string_view kPhoneInvalid = "phone_invalid";
inline constexpr std::string_view kPhoneType = "phone_type";
inline constexpr std::string_view kPlaceholder = "placeholder";
inline constexpr std::string_view kNameIsEmail = "name_is_email";
inline constexpr std::string_view kNameIsPhone = "name_is_phone";
inline constexpr std::string_view kCountryUnknown = "country_unknown";
const std::vector<std::string_view>& FlagCodes();

// --- emails ---
// A practical RFC 5322 subset: one '@'; local part 1–64 of atext and dots (no leading, trailing or
// doubled dot); domain ≤ 253 with ≥ 2 labels of letters, digits and inner hyphens, the last one
// alphabetic (or xn--). Bytes ≥ 0x80 are allowed (internationalized addresses). No quoted local
// parts, comments or IP literals: a CRM address that needs them is worth a human's look anyway.
bool EmailSyntaxOk(std::string_view email);
// The provider a mistyped domain was meant to be ("gmial.com" → "gmail.com"), "" if none: a
// table of known typos first, then Damerau–Levenshtein distance 1 to a top provider — except for
// domains that are real providers themselves (mail.com, email.com, ymail.com, ...).
std::string TypoDomainSuggestion(std::string_view domain);
// A throwaway-mailbox domain (mailinator.com, yopmail.com, ...; subdomains too). A small packaged
// list, not a subscription.
bool IsDisposableDomain(std::string_view domain);
// A role mailbox rather than a person (info@, sales@, support@, noreply@, ...). Any "+tag" is
// ignored.
bool IsRoleAccount(std::string_view local_part);

// --- placeholders / fake entries ---
// What marks `value` of logical `field` as a placeholder ("test", "asdf", "N/A", "xxx", "none",
// "-", "0000000", 555-01xx, "test@test.com", ...), or "" if it looks real. The returned text is
// the reason, stored as the flag's detail.
std::string PlaceholderReason(std::string_view field, std::string_view value);
// The pair (first, last) as a whole: "Mickey Mouse", "Max Mustermann", "John Doe", "test test".
std::string PlaceholderFullName(std::string_view first, std::string_view last);
bool LooksLikeEmail(std::string_view v);  // a name field holding an address
bool LooksLikePhone(std::string_view v);  // a name field holding a number: phone punctuation only, ≥ 6 digits

// --- phones (libphonenumber) ---
struct PhoneFacts {
  bool parsed = false;
  bool valid = false;
  std::string national_number;  // national significant number, leading zero included
  std::string extension;        // "" if none
  std::string type;  // fixed_line | mobile | fixed_line_or_mobile | toll_free | premium_rate |
                     // shared_cost | voip | personal_number | pager | uan | voicemail | unknown
};
// Parses like Normalizer::PhoneE164 (same default region, same "00" fallback). Not thread-safe
// in the same way as Normalizer: one per worker.
// Memoizes per distinct value (cleared at 100k entries, like Normalizer's memos).
class PhoneChecker {
 public:
  explicit PhoneChecker(std::string default_region);
  PhoneFacts Check(std::string_view v) const;

 private:
  PhoneFacts Parse(std::string_view v) const;
  std::string region_;
  mutable std::unordered_map<std::string, PhoneFacts> memo_;
};

// An E.164 number ("+16502530000") in libphonenumber's `format`: "national" ("(650) 253-0000")
// or "international" ("+1 650-253-0000"); "e164" or anything unparsable is returned unchanged.
// National format is only used when the number belongs to `region` (the contact's own country, or
// the default region): a national number of another country would lose its country code.
std::string FormatPhone(std::string_view e164, std::string_view format, std::string_view region);

// --- one value of one logical field ---
struct Finding {
  std::string code;    // one of FlagCodes()
  std::string detail;  // the suggestion, the phone type, what looked fake; never the whole value
};
// Every check that applies to `field` (email/email2, phone/mobile, first_name/last_name, company,
// country; other fields: none). A placeholder is reported alone: "0000000" is a placeholder, not
// also an invalid number. `norm` supplies PhoneE164 and CountryCode, so a value flagged here is
// exactly one the phone_e164 / country_canonical rules leave alone.
std::vector<Finding> ValidateValue(std::string_view field, std::string_view value,
                                   Normalizer& norm, const PhoneChecker& phones);

// --- rewrites ---
// Re-cases a name ONLY when it is all upper or all lower case ("JOHN O'NEIL" → "John O'Neil",
// "maria de la cruz" → "Maria de la Cruz", "MCDONALD" → "McDonald"); mixed case ("DeAndre",
// "McDonald", "van Gogh") is returned unchanged, as are non-Latin scripts, values with digits or
// '@', and Turkish dotted/dotless i (the right casing depends on a locale we do not know).
// Particles (van, der, de, la, von, ...) are lowercased when not the first word; Roman numerals
// (II, III, IV) stay upper; a one-letter word before an apostrophe keeps the next letter upper
// (O'Neil, D'Arcy); "Mc" + ≥ 2 letters becomes McX ("Mac" is left alone: Mack, Macy, Machado).
std::string NameCase(std::string_view v);

}  // namespace crmh::match
