// Normalization for matching and standardizing: one module, one country table, shared by dedup,
// standardize and validation. Pure functions of their input (plus the options); nothing here
// touches a database.
//
// Cost matters (libphonenumber ≈ 22 µs per number, ICU Any-Latin 5–39 µs per name and internally
// locked), so a Normalizer creates its ICU transliterators and phone utility once, skips ICU for
// pure-ASCII strings, and memoizes per distinct value. A Normalizer is NOT thread-safe: give each
// worker thread its own (they are cheap to create and share nothing mutable).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmh::match {

struct NormalizeOptions {
  std::string default_region = "US";  // ISO 3166 alpha-2: phone numbers without a country code
  bool email_provider_rules = true;   // gmail.com/googlemail.com: dots and +tags in the local part
};

class Normalizer {
 public:
  // kNo: every call computes its value (no memo tables). For a caller whose values are nearly
  // all distinct — the dedup planner normalizing each merge member's e-mails and phones — the
  // tables' inserts and clears cost more than the values (8 % of a 1M dry run's planning CPU).
  enum class Memoize { kYes, kNo };
  explicit Normalizer(NormalizeOptions opt = {}, Memoize memoize = Memoize::kYes);
  ~Normalizer();
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  // --- emails ---
  // Trimmed, lowercased, spaces removed; with provider rules, "John.Doe+crm@GoogleMail.com" →
  // "johndoe@gmail.com". "" if the value does not look like an address at all (no '@').
  std::string Email(std::string_view v);
  // The local part of Email(v) ("johndoe"), "" if none.
  std::string EmailLocal(std::string_view v);

  // --- phones ---
  // Cheap blocking key: digits only, the default region's trunk prefix and international/
  // country prefixes handled so "+1 (415) 555-0100", "001 415 555 0100" and "(415) 555-0100"
  // give the same key for region US. "" if fewer than 6 digits.
  std::string PhoneKey(std::string_view v);
  // libphonenumber: E.164 ("+14155550100") if the number parses and is valid for its region;
  // nullopt otherwise.
  std::optional<std::string> PhoneE164(std::string_view v);

  // --- names ---
  // NFKC, transliterated to Latin ASCII (Vietnamese, Chinese, Persian/Arabic, Amharic,
  // Cyrillic, ...), case-folded, punctuation → space, whitespace collapsed, honorifics and
  // suffixes removed ("Dr. José  Núñez Jr." → "jose nunez"). Pure-ASCII input skips ICU.
  std::string Name(std::string_view v);
  // Name(v) of a given name with the nickname table applied to each token ("Bob" → "robert",
  // "Bill" → "william", "Liz" → "elizabeth").
  std::string GivenName(std::string_view v);
  // Transliteration only (NFKC + Any-Latin + Latin-ASCII), case and punctuation kept.
  std::string ToAscii(std::string_view v);

  // --- companies ---
  // Name()-style normalization with legal suffixes stripped (Inc, Ltd, LLC, GmbH, S.A., Co.,
  // Pty Ltd, AG, BV, SARL, Công ty TNHH, 有限公司, ...): "ACME, Inc." → "acme".
  std::string Company(std::string_view v);

  // --- countries ---
  // ISO 3166-1 alpha-2 code ("US") for a name, code or alias in many languages (USA, United
  // States, U.S.A., Hoa Kỳ, Mỹ, 美国, ایالات متحده, Deutschland, ...); "" if unknown.
  std::string CountryCode(std::string_view v);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Phonetic key of an ASCII word (Double Metaphone primary code, or a documented simpler
// algorithm); used for blocking. "" for "".
std::string PhoneticKey(std::string_view ascii_word);

// The versions of the libraries behind the normalizer ("icu 72.1"), for caches of its output.
std::string LibraryVersions();

// The canonical English short name for an ISO 3166-1 alpha-2 code ("DE" → "Germany"), "" if
// unknown. standardize rewrites countries with it.
std::string CountryName(std::string_view alpha2);

}  // namespace crmh::match
