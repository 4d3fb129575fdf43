// The demo CRM generator (see demo_data.h for the contract).
//
// How it works, in one pass and bounded memory (2M contacts fit):
//   1. Plan: which contact slots are duplicate-group members and which are placeholders
//      (a seeded shuffle of the slot numbers). Contact ids are slot + 1 and ascend with
//      created_at, as in a real CRM.
//   2. Stream: each contact is generated from the seed in slot order and written at once through
//      prepared statements (one per table, reused for every row) inside one transaction, together
//      with its deals, activities and tags. A duplicate group's base person is generated when its
//      first member is reached and kept until its last member is written.
//   3. Summary: counted from the rows as they are written, with the header's definitions.
//
// Randomness: std::mt19937_64 with our own range mapping (multiply-shift), never the standard
// distributions, whose output differs between standard libraries.
#include "daemon/demo_data.h"

#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <random>
#include <unordered_set>
#include <utility>

namespace crmh::demo {
namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_seconds;

// ----------------------------------------------------------------------------------------------
// Randomness
// ----------------------------------------------------------------------------------------------

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Mix(uint64_t a, uint64_t b) { return SplitMix(a ^ SplitMix(b + 0x632be59bd9b4e019ULL)); }

__extension__ using Uint128 = unsigned __int128;  // GCC/Clang; __extension__ for -Wpedantic

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t Next() { return g_(); }
  // Uniform in [0, n) by multiply-shift (Lemire), n > 0; 0 for n == 0.
  uint64_t Below(uint64_t n) {
    return n == 0 ? 0 : static_cast<uint64_t>((static_cast<Uint128>(g_()) * n) >> 64);
  }
  int Int(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  long long Long(long long lo, long long hi) {  // inclusive
    return hi <= lo ? lo : lo + static_cast<long long>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  double Unit() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  template <class C>
  const auto& Pick(const C& c) {
    return c[Below(c.size())];
  }
  // Index by weights (need not sum to 1).
  template <class C>
  size_t Weighted(const C& w) {
    double total = 0;
    for (double x : w) total += x;
    double r = Unit() * total;
    for (size_t i = 0; i < w.size(); ++i) {
      if (r < w[i]) return i;
      r -= w[i];
    }
    return w.size() - 1;
  }
  // Exponential-ish skew: floor(-mean * ln(1-u)).
  int Skewed(double mean) { return static_cast<int>(std::floor(-mean * std::log(1.0 - Unit()))); }

 private:
  std::mt19937_64 g_;
};

// ----------------------------------------------------------------------------------------------
// Text helpers
// ----------------------------------------------------------------------------------------------

std::string FormatTime(sys_seconds t) {
  auto day = std::chrono::floor<days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

bool HasHighByte(std::string_view s) {
  for (unsigned char c : s) {
    if (c > 0x7F) return true;
  }
  return false;
}

std::vector<char32_t> Decode(std::string_view s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string Encode(const std::vector<char32_t>& cps) {
  std::string out;
  for (char32_t cp : cps) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

// Case mapping for the scripts the demo uses: ASCII, Latin-1 letters, the Vietnamese letters
// (ă đ ĩ ũ ơ ư and U+1EA0..U+1EF9, where even = upper, odd = lower) and basic Cyrillic.
// Scripts without case (Han, Arabic, Ethiopic) pass through, as does ß.
char32_t UpperCp(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 0x20;
  if (c == 0x103 || c == 0x111 || c == 0x129 || c == 0x169 || c == 0x1A1 || c == 0x1B0)
    return c - 1;
  if (c >= 0x1EA0 && c <= 0x1EF9 && (c & 1)) return c - 1;
  if (c >= 0x430 && c <= 0x44F) return c - 0x20;
  if (c == 0x451) return 0x401;
  return c;
}

char32_t LowerCp(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c == 0x102 || c == 0x110 || c == 0x128 || c == 0x168 || c == 0x1A0 || c == 0x1AF)
    return c + 1;
  if (c >= 0x1EA0 && c <= 0x1EF9 && !(c & 1)) return c + 1;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c == 0x401) return 0x451;
  return c;
}

std::string Upper(std::string_view s) {
  auto cps = Decode(s);
  for (auto& c : cps) c = UpperCp(c);
  return Encode(cps);
}

std::string Lower(std::string_view s) {
  auto cps = Decode(s);
  for (auto& c : cps) c = LowerCp(c);
  return Encode(cps);
}

// Lowercase ASCII letters and digits only: "O'Neil" -> "oneil", "van der Berg" -> "vanderberg".
std::string Slug(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) && c < 0x80) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

std::string Replace(std::string pattern, std::string_view what, std::string_view with) {
  auto pos = pattern.find(what);
  if (pos != std::string::npos) pattern.replace(pos, what.size(), with);
  return pattern;
}

// '#' -> a random digit, '@' -> a random capital letter.
std::string FillPattern(std::string_view pattern, Rng& rng) {
  std::string out;
  for (char c : pattern) {
    if (c == '#') {
      out += static_cast<char>('0' + rng.Below(10));
    } else if (c == '@') {
      out += static_cast<char>('A' + rng.Below(26));
    } else {
      out += c;
    }
  }
  return out;
}

// A keyboard slip in a name: swap, drop or double a letter, or hit a neighbouring key (ASCII).
// Never touches the first letter, so the result still looks like the same name.
std::string Typo(std::string_view s, Rng& rng) {
  auto cps = Decode(s);
  if (cps.size() < 3) {
    cps.push_back(cps.empty() ? U'x' : cps.back());
    return Encode(cps);
  }
  size_t i = 1 + rng.Below(cps.size() - 1);
  switch (rng.Below(4)) {
    case 0:
      if (i + 1 < cps.size() && cps[i] != cps[i + 1]) {
        std::swap(cps[i], cps[i + 1]);
      } else {
        std::swap(cps[i - 1 == 0 ? 1 : i - 1], cps[i]);
      }
      break;
    case 1:
      if (cps.size() > 3) {
        cps.erase(cps.begin() + static_cast<long>(i));
      } else {
        cps.insert(cps.begin() + static_cast<long>(i), cps[i]);
      }
      break;
    case 2:
      cps.insert(cps.begin() + static_cast<long>(i), cps[i]);
      break;
    default: {
      static constexpr std::string_view kRows[] = {"qwertyuiop", "asdfghjkl", "zxcvbnm"};
      char32_t c = cps[i];
      bool done = false;
      for (auto row : kRows) {
        auto p = row.find(static_cast<char>(c < 0x80 ? c : 0));
        if (c < 0x80 && p != std::string_view::npos) {
          cps[i] = static_cast<char32_t>(p + 1 < row.size() ? row[p + 1] : row[p - 1]);
          done = true;
          break;
        }
      }
      if (!done) cps.insert(cps.begin() + static_cast<long>(i), cps[i]);
    }
  }
  return Encode(cps);
}

// ----------------------------------------------------------------------------------------------
// Name pools and places. A Name holds the native spelling, the Latin/ASCII one where it differs
// (what people type on an ASCII keyboard or in a passport), and an English nickname.
// ----------------------------------------------------------------------------------------------

struct Name {
  const char* native;
  const char* latin = nullptr;  // nullptr: same as native
  const char* nick = nullptr;
  std::string_view Latin() const { return latin ? latin : native; }
};

struct City {
  const char* native;
  const char* latin;
  const char* region;
  const char* postcode;  // pattern: '#' digit, '@' letter
  const char* area;      // landline area code (national significant part)
};

enum class Script { kLatin, kDiacritic, kOther };  // how a Name's native form is written

struct Country {
  const char* iso;
  Script script;
  double native_share;                 // share of contacts whose name is in the native spelling
  std::vector<const char*> spellings;  // [0] canonical; the rest are what reps type
  std::vector<Name> male, female, last;
  std::vector<City> cities;
  std::vector<Name> companies;      // base names
  std::vector<const char*> forms;   // legal forms, "{}" is the base name
  std::vector<Name> streets;        // '#' digits
  const char* cc;                   // calling code
  const char* trunk;                // national trunk prefix
  std::vector<const char*> mobile;  // mobile prefixes (national significant part)
  int nsn;                          // landline national significant number length (0: area + 8)
  int mobile_len;                   // mobile digits after the mobile prefix
  std::vector<const char*> free_mail;
  const char* tld;
  int owner;  // index of the rep whose territory it is
};

// clang-format off
const std::vector<Country>& Countries() {
  static const std::vector<Country> k = {
      {"US", Script::kLatin, 1.0,
       {"United States", "USA", "U.S.", "us", "US", "United States of America", "U.S.A.",
        "Hoa Kỳ", "Mỹ", "美国", "ایالات متحده", "america"},
       {{"Robert", nullptr, "Bob"}, {"William", nullptr, "Bill"}, {"James", nullptr, "Jim"},
        {"Michael", nullptr, "Mike"}, {"Richard", nullptr, "Rick"}, {"Thomas", nullptr, "Tom"},
        {"Joseph", nullptr, "Joe"}, {"Christopher", nullptr, "Chris"}, {"Daniel", nullptr, "Dan"},
        {"DeAndre"}, {"Tyrone"}, {"Kevin"}},
       {{"Elizabeth", nullptr, "Liz"}, {"Katherine", nullptr, "Kate"},
        {"Margaret", nullptr, "Peggy"},
        {"Jennifer", nullptr, "Jen"}, {"Patricia", nullptr, "Patty"}, {"Jessica"}, {"Ashley"},
        {"LaToya"}, {"Emily"}, {"Sarah"}},
       {{"Smith"}, {"Johnson"}, {"Williams"}, {"Brown"}, {"Garcia"}, {"Miller"}, {"Davis"},
        {"McDonald"}, {"O'Neil"}, {"Rodriguez"}, {"Washington"}, {"de la Cruz"}, {"van der Berg"},
        {"Thompson"}, {"MacArthur"}, {"Nguyen"}, {"Kowalski"}, {"Lee"}},
       {{"San Francisco", "San Francisco", "CA", "941##", "415"},
        {"New York", "New York", "NY", "100##", "212"},
        {"Chicago", "Chicago", "IL", "606##", "312"},
        {"Austin", "Austin", "TX", "787##", "512"},
        {"Seattle", "Seattle", "WA", "981##", "206"},
        {"Boston", "Boston", "MA", "021##", "617"}},
       {{"Northwind Traders"}, {"Bluebird Logistics"}, {"Summit Analytics"}, {"Pioneer Health"},
        {"Lakeside Foods"}, {"Redwood Software"}, {"Granite Partners"}, {"Harbor Freight Lines"}},
       {"{} Inc.", "{}, Inc.", "{} Inc", "{} LLC", "{} Corp.", "{} Corporation"},
       {{"# Market St"}, {"## Main Street"}, {"### Broadway"}, {"#### Elm Ave, Apt #B"}},
       "1", "1", {"415", "646", "312", "512"}, 10, 7,
       {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com"}, "com", 0},
      {"GB", Script::kLatin, 1.0,
       {"United Kingdom", "UK", "GB", "Great Britain", "England", "U.K.", "united kingdom",
        "Vương quốc Anh"},
       {{"Oliver"}, {"George"}, {"Harry"}, {"Jack"}, {"William", nullptr, "Bill"},
        {"Robert", nullptr, "Bob"}, {"Alistair"}, {"Rhys"}},
       {{"Amelia"}, {"Isla"}, {"Charlotte"}, {"Siobhan"}, {"Fiona"},
        {"Margaret", nullptr, "Maggie"},
        {"Elizabeth", nullptr, "Beth"}},
       {{"Taylor"}, {"Evans"}, {"Wilson"}, {"Davies"}, {"Walker"}, {"O'Brien"}, {"McKenzie"},
        {"Hughes"}, {"Fitzgerald"}, {"Smythe"}, {"Patel"}},
       {{"London", "London", "England", "SW1A #@@", "20"},
        {"Manchester", "Manchester", "England", "M# #@@", "161"},
        {"Edinburgh", "Edinburgh", "Scotland", "EH# #@@", "131"},
        {"Bristol", "Bristol", "England", "BS# #@@", "117"}},
       {{"Thames Consulting"}, {"Albion Textiles"}, {"Kestrel Energy"}, {"Highland Distillers"},
        {"Brightside Media"}},
       {"{} Ltd", "{} Limited", "{} Ltd.", "{} PLC", "{} LTD"},
       {{"## High Street"}, {"# Baker Street"}, {"## Station Road"}, {"Flat #, ## Church Lane"}},
       "44", "0", {"7700", "7911", "7400"}, 10, 6,
       {"gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"}, "co.uk", 0},
      {"DE", Script::kDiacritic, 0.85,
       {"Germany", "Deutschland", "DE", "germany", "GER", "Đức", "德国", "آلمان", "BRD"},
       {{"Jürgen", "Juergen"}, {"Günther", "Guenther"}, {"Jörg", "Joerg"}, {"Björn", "Bjoern"},
        {"Lukas"}, {"Maximilian"}, {"Stefan"}, {"Uwe"}, {"Sören", "Soeren"}},
       {{"Anna"}, {"Sophie"}, {"Katharina"}, {"Claudia"}, {"Petra"}, {"Sabine"},
        {"Jördis", "Joerdis"}, {"Bärbel", "Baerbel"}},
       {{"Müller", "Mueller"}, {"Schmidt"}, {"Schneider"}, {"Fischer"}, {"Weber"}, {"Meyer"},
        {"Schäfer", "Schaefer"}, {"Köhler", "Koehler"}, {"Groß", "Gross"}, {"Krüger", "Krueger"},
        {"Weiß", "Weiss"}, {"Hoffmann"}, {"von Bülow", "von Buelow"}},
       {{"Berlin", "Berlin", "Berlin", "10###", "30"},
        {"München", "Munich", "Bayern", "80###", "89"},
        {"Hamburg", "Hamburg", "Hamburg", "20###", "40"},
        {"Köln", "Cologne", "Nordrhein-Westfalen", "50###", "221"},
        {"Frankfurt am Main", "Frankfurt", "Hessen", "60###", "69"}},
       {{"Müller Maschinenbau", "Mueller Maschinenbau"}, {"Schwarzwald Elektronik"},
        {"Rheinland Logistik"}, {"Bäckerei Köhler", "Baeckerei Koehler"}, {"Nordlicht Software"}},
       {"{} GmbH", "{} GmbH & Co. KG", "{} AG", "{} Gmbh", "{}"},
       {{"Hauptstraße ##", "Hauptstrasse ##"}, {"Bahnhofstr. #", "Bahnhofstr. #"},
        {"Schillerstraße ##a", "Schillerstrasse ##a"}, {"Am Markt #"}},
       "49", "0", {"151", "160", "170", "176"}, 10, 8,
       {"web.de", "gmx.de", "gmail.com", "t-online.de", "gmx.net"}, "de", 2},
      {"FR", Script::kDiacritic, 0.8,
       {"France", "FR", "france", "République française", "Pháp", "法国", "FRANCE"},
       {{"François", "Francois"}, {"Jérôme", "Jerome"}, {"Théo", "Theo"}, {"Nicolas"}, {"Julien"},
        {"Mathieu"}, {"Cédric", "Cedric"}},
       {{"Hélène", "Helene"}, {"Amélie", "Amelie"}, {"Céline", "Celine"}, {"Chloé", "Chloe"},
        {"Camille"}, {"Léa", "Lea"}, {"Émilie", "Emilie"}, {"Maëlle", "Maelle"}},
       {{"Lefèvre", "Lefevre"}, {"Dubois"}, {"Moreau"}, {"Laurent"}, {"Girard"}, {"Bonnet"},
        {"Dupont"}, {"Béranger", "Beranger"}, {"Mercier"}, {"de la Tour"},
        {"Lemaître", "Lemaitre"}},
       {{"Paris", "Paris", "Île-de-France", "750##", "1"},
        {"Lyon", "Lyon", "Auvergne-Rhône-Alpes", "6900#", "4"},
        {"Marseille", "Marseille", "Provence-Alpes-Côte d'Azur", "130##", "4"},
        {"Toulouse", "Toulouse", "Occitanie", "31###", "5"},
        {"Lille", "Lille", "Hauts-de-France", "59###", "3"}},
       {{"Lumière Conseil", "Lumiere Conseil"}, {"Atelier Dupont"}, {"Boulangerie Moreau"},
        {"Électricité du Rhône", "Electricite du Rhone"}, {"Vignobles Girard"}},
       {"{} SA", "{} S.A.", "{} SARL", "{} SAS", "{}"},
       {{"## rue de la Paix"}, {"# avenue des Champs-Élysées", "# avenue des Champs-Elysees"},
        {"## boulevard Voltaire"}, {"# place Bellecour"}},
       "33", "0", {"6", "7"}, 9, 8, {"orange.fr", "free.fr", "gmail.com", "laposte.net", "sfr.fr"},
       "fr", 3},
      {"VN", Script::kDiacritic, 0.6,
       {"Vietnam", "Việt Nam", "Viet Nam", "VN", "vietnam", "越南", "Vietnamese", "VIET NAM"},
       {{"Văn An", "Van An"}, {"Minh Tuấn", "Minh Tuan"}, {"Đức Anh", "Duc Anh"},
        {"Quang Huy"}, {"Hoàng Nam", "Hoang Nam"}, {"Văn Hùng", "Van Hung"},
        {"Thanh Tùng", "Thanh Tung"}, {"Quốc Bảo", "Quoc Bao"}},
       {{"Thị Mai", "Thi Mai"}, {"Thị Lan", "Thi Lan"}, {"Ngọc Ánh", "Ngoc Anh"}, {"Thu Trang"},
        {"Thị Hương", "Thi Huong"}, {"Phương Linh", "Phuong Linh"}, {"Thanh Hằng", "Thanh Hang"},
        {"Bảo Ngọc", "Bao Ngoc"}},
       {{"Nguyễn", "Nguyen"}, {"Trần", "Tran"}, {"Lê", "Le"}, {"Phạm", "Pham"},
        {"Hoàng", "Hoang"}, {"Huỳnh", "Huynh"}, {"Phan"}, {"Vũ", "Vu"}, {"Võ", "Vo"},
        {"Đặng", "Dang"}, {"Bùi", "Bui"}, {"Đỗ", "Do"}},
       {{"Hà Nội", "Hanoi", "Hà Nội", "100000", "24"},
        {"TP. Hồ Chí Minh", "Ho Chi Minh City", "TP.HCM", "700000", "28"},
        {"Đà Nẵng", "Da Nang", "Đà Nẵng", "550000", "236"},
        {"Hải Phòng", "Hai Phong", "Hải Phòng", "180000", "225"}},
       {{"Minh Phát", "Minh Phat"}, {"Sài Gòn Xanh", "Sai Gon Xanh"}, {"Thành Công", "Thanh Cong"},
        {"Việt Tiến", "Viet Tien"}, {"Hoa Sen"}},
       {"Công ty TNHH {}", "Cong ty TNHH {}", "{} Co., Ltd", "Công ty Cổ phần {}", "{} JSC",
        "CÔNG TY TNHH {}"},
       {{"## Lê Lợi, Phường Bến Nghé, Quận 1", "## Le Loi, Ben Nghe Ward, District 1"},
        {"### Nguyễn Trãi, Thanh Xuân", "### Nguyen Trai, Thanh Xuan"},
        {"Số ## Trần Phú", "So ## Tran Phu"}},
       "84", "0", {"91", "98", "90", "93"}, 10, 7,
       {"gmail.com", "yahoo.com.vn", "outlook.com"}, "vn", 1},
      {"IR", Script::kOther, 0.5,
       {"Iran", "ایران", "IR", "Islamic Republic of Iran", "Iran, Islamic Republic of", "iran",
        "Persia"},
       {{"علی", "Ali"}, {"محمد", "Mohammad"}, {"حسین", "Hossein"}, {"رضا", "Reza"},
        {"مهدی", "Mehdi"}, {"امیر", "Amir"}},
       {{"فاطمه", "Fatemeh"}, {"زهرا", "Zahra"}, {"مریم", "Maryam"}, {"سارا", "Sara"},
        {"نرگس", "Narges"}, {"لیلا", "Leila"}},
       {{"رضایی", "Rezaei"}, {"محمدی", "Mohammadi"}, {"حسینی", "Hosseini"}, {"احمدی", "Ahmadi"},
        {"کریمی", "Karimi"}, {"موسوی", "Mousavi"}, {"جعفری", "Jafari"}, {"صادقی", "Sadeghi"},
        {"کاظمی", "Kazemi"}, {"تهرانی", "Tehrani"}},
       {{"تهران", "Tehran", "Tehran", "1#####-####", "21"},
        {"اصفهان", "Isfahan", "Isfahan", "81###-#####", "31"},
        {"شیراز", "Shiraz", "Fars", "71###-#####", "71"},
        {"مشهد", "Mashhad", "Razavi Khorasan", "91###-#####", "51"}},
       {{"پارس تجارت", "Pars Tejarat"}, {"آریا صنعت", "Arya Sanat"}, {"کاوه", "Kaveh"},
        {"سپهر داده", "Sepehr Dadeh"}},
       {"شرکت {}", "{} Co.", "{} Ltd.", "{} Company", "{}"},
       {{"خیابان ولیعصر، پلاک ##", "No. ##, Valiasr St."},
        {"خیابان انقلاب، پلاک ###", "No. ###, Enghelab St."}},
       "98", "0", {"912", "935", "919"}, 10, 7, {"gmail.com", "yahoo.com", "chmail.ir"}, "ir", 4},
      {"CN", Script::kOther, 0.55,
       {"China", "中国", "CN", "PRC", "People's Republic of China", "Trung Quốc", "china",
        "P.R. China"},
       {{"伟", "Wei"}, {"强", "Qiang"}, {"磊", "Lei"}, {"军", "Jun"}, {"勇", "Yong"},
        {"杰", "Jie"}, {"涛", "Tao"}, {"明", "Ming"}, {"建国", "Jianguo"}},
       {{"芳", "Fang"}, {"娜", "Na"}, {"秀英", "Xiuying"}, {"敏", "Min"}, {"静", "Jing"},
        {"丽", "Li"}, {"艳", "Yan"}, {"秀兰", "Xiulan"}},
       {{"王", "Wang"}, {"李", "Li"}, {"张", "Zhang"}, {"刘", "Liu"}, {"陈", "Chen"},
        {"杨", "Yang"}, {"黄", "Huang"}, {"赵", "Zhao"}, {"吴", "Wu"}, {"周", "Zhou"},
        {"徐", "Xu"}, {"孙", "Sun"}, {"马", "Ma"}, {"欧阳", "Ouyang"}},
       {{"北京", "Beijing", "北京市", "100###", "10"},
        {"上海", "Shanghai", "上海市", "200###", "21"},
        {"深圳", "Shenzhen", "广东省", "518###", "755"},
        {"广州", "Guangzhou", "广东省", "510###", "20"},
        {"成都", "Chengdu", "四川省", "610###", "28"}},
       {{"华信科技", "Huaxin Technology"}, {"长城贸易", "Changcheng Trading"},
        {"东方电子", "Dongfang Electronics"}, {"金龙物流", "Jinlong Logistics"}},
       {"{}有限公司", "{} Co., Ltd.", "{} Co. Ltd", "{}股份有限公司", "{} Ltd."},
       {{"朝阳区建国路##号", "## Jianguo Rd, Chaoyang"},
        {"浦东新区世纪大道###号", "### Century Ave, Pudong"}},
       "86", "0", {"138", "139", "186", "135"}, 0, 8, {"qq.com", "163.com", "126.com", "gmail.com"},
       "cn", 5},
      {"ET", Script::kOther, 0.4,
       {"Ethiopia", "ኢትዮጵያ", "ET", "ethiopia", "Federal Democratic Republic of Ethiopia",
        "Ethiopie"},
       {{"አበበ", "Abebe"}, {"ዳዊት", "Dawit"}, {"ሄኖክ", "Henok"}, {"ብርሃኑ", "Birhanu"},
        {"ተስፋዬ", "Tesfaye"}, {"ኃይሌ", "Haile"}, {"ዮሐንስ", "Yohannes"}},
       {{"ሰላም", "Selam"}, {"መሰረት", "Meseret"}, {"ትግስት", "Tigist"}, {"ጥሩነሽ", "Tirunesh"},
        {"ሜሮን", "Meron"}, {"ሳምራዊት", "Samrawit"}},
       {{"በቂላ", "Bikila"}, {"ከበደ", "Kebede"}, {"ታደሰ", "Tadesse"}, {"አለሙ", "Alemu"},
        {"ግርማ", "Girma"}, {"ደስታ", "Desta"}, {"በቀለ", "Bekele"}, {"ዲባባ", "Dibaba"},
        {"ገብረሥላሴ", "Gebrselassie"}},
       {{"አዲስ አበባ", "Addis Ababa", "Addis Ababa", "1000", "11"},
        {"ባሕር ዳር", "Bahir Dar", "Amhara", "6000", "58"},
        {"ሐዋሳ", "Hawassa", "Sidama", "1000", "46"},
        {"ድሬ ዳዋ", "Dire Dawa", "Dire Dawa", "3000", "25"}},
       {{"Abyssinia Coffee Export"}, {"Habesha Textiles"}, {"Addis Logistics"},
        {"ሸገር ትሬዲንግ", "Sheger Trading"}},
       {"{} PLC", "{} P.L.C.", "{} Share Company", "{} S.C.", "{}"},
       {{"Bole Road, Kebele ##"}, {"Churchill Ave, House No. ###"}, {"ቦሌ መንገድ ##", "Bole Road ##"}},
       "251", "0", {"91", "92", "93"}, 9, 7, {"gmail.com", "yahoo.com", "ethionet.et"}, "et", 6},
      {"BR", Script::kDiacritic, 0.75,
       {"Brazil", "Brasil", "BR", "brazil", "República Federativa do Brasil", "Ba Tây", "BRASIL"},
       {{"João", "Joao"}, {"José", "Jose"}, {"Antônio", "Antonio"}, {"Lucas"}, {"Gabriel"},
        {"Thiago"}, {"Sebastião", "Sebastiao"}},
       {{"Ana"}, {"Maria"}, {"Beatriz"}, {"Júlia", "Julia"}, {"Larissa"},
        {"Conceição", "Conceicao"}, {"Fernanda"}},
       {{"Silva"}, {"Santos"}, {"Oliveira"}, {"Souza"}, {"Pereira"}, {"Lima"},
        {"Gonçalves", "Goncalves"}, {"Araújo", "Araujo"}, {"Ribeiro"}, {"Magalhães", "Magalhaes"},
        {"da Costa"}},
       {{"São Paulo", "Sao Paulo", "SP", "0####-###", "11"},
        {"Rio de Janeiro", "Rio de Janeiro", "RJ", "2####-###", "21"},
        {"Belo Horizonte", "Belo Horizonte", "MG", "30###-###", "31"},
        {"Curitiba", "Curitiba", "PR", "80###-###", "41"}},
       {{"Construtora Horizonte"}, {"Café Paulista", "Cafe Paulista"}, {"Transportes Araújo",
                                                                          "Transportes Araujo"},
        {"Tecnologia Verde"}},
       {"{} Ltda.", "{} LTDA", "{} S.A.", "{} Ltda", "{} ME"},
       {{"Rua Augusta, ####"}, {"Av. Paulista, ####, cj. ##"}, {"Rua da Conceição, ##",
                                                               "Rua da Conceicao, ##"}},
       "55", "0", {"11", "21", "31"}, 10, 9,
       {"gmail.com", "uol.com.br", "hotmail.com", "bol.com.br"},
       "com.br", 7},
      {"RU", Script::kOther, 0.6,
       {"Russia", "Россия", "Russian Federation", "RU", "russia", "Российская Федерация", "Nga"},
       {{"Иван", "Ivan"}, {"Дмитрий", "Dmitry"}, {"Алексей", "Alexey", "Alex"},
        {"Сергей", "Sergey"}, {"Михаил", "Mikhail"}, {"Андрей", "Andrey"}},
       {{"Анна", "Anna"}, {"Ольга", "Olga"}, {"Наталья", "Natalia", "Natasha"}, {"Елена", "Elena"},
        {"Мария", "Maria"}, {"Татьяна", "Tatiana", "Tanya"}},
       {{"Иванов", "Ivanov"}, {"Смирнов", "Smirnov"}, {"Кузнецов", "Kuznetsov"}, {"Попов", "Popov"},
        {"Соколов", "Sokolov"}, {"Лебедев", "Lebedev"}, {"Козлов", "Kozlov"},
        {"Новиков", "Novikov"}, {"Морозов", "Morozov"}, {"Волков", "Volkov"}},
       {{"Москва", "Moscow", "Москва", "101###", "495"},
        {"Санкт-Петербург", "Saint Petersburg", "Санкт-Петербург", "190###", "812"},
        {"Новосибирск", "Novosibirsk", "Новосибирская область", "630###", "383"},
        {"Казань", "Kazan", "Татарстан", "420###", "843"}},
       {{"Сибирь Логистик", "Sibir Logistik"}, {"Волга Трейд", "Volga Trade"},
        {"Технопром", "Tekhnoprom"}},
       {"ООО «{}»", "OOO {}", "{} LLC", "АО «{}»", "ООО {}"},
       {{"ул. Тверская, д. ##", "Tverskaya St ##"}, {"Невский пр., д. ###", "Nevsky Pr ###"}},
       "7", "8", {"916", "903", "926", "985"}, 10, 7,
       {"yandex.ru", "mail.ru", "gmail.com", "bk.ru"},
       "ru", 4},
  };
  return k;
}

// clang-format on

// Share of contacts per country (same order as Countries()).
constexpr std::array<double, 10> kCountryWeights = {22, 9, 12, 9, 13, 7, 10, 5, 7, 6};

struct Rep {
  const char* user_name;
  const char* full_name;
  double book;    // relative size of the rep's book
  double sloppy;  // how often the rep leaves fields empty or dirty
};

// Uneven books and uneven care. Index = users.id - 1; the system user comes after them.
constexpr std::array<Rep, 8> kReps = {{
    {"jsmith", "John Smith", 24, 0.04},
    {"mnguyen", "Nguyễn Thị Mai", 18, 0.10},
    {"lschulz", "Lena Schulz", 15, 0.02},
    {"cdubois", "Camille Dubois", 11, 0.22},
    {"arahimi", "Arash Rahimi", 10, 0.08},
    {"lwei", "李伟 (Li Wei)", 9, 0.15},
    {"tbekele", "Tigist Bekele", 8, 0.30},
    {"rsilva", "Rafael Silva", 5, 0.45},
}};
constexpr const char* kSystemUser = "crm-hygiene";

constexpr std::array<const char*, 5> kTypoDomains = {"gmial.com", "hotmial.com", "yaho.com",
                                                     "gmail.con", "outlok.com"};
constexpr std::array<const char*, 4> kDisposable = {"mailinator.com", "guerrillamail.com",
                                                    "yopmail.com", "10minutemail.com"};
constexpr std::array<const char*, 5> kRoleLocal = {"info", "sales", "contact", "office", "admin"};

// ----------------------------------------------------------------------------------------------
// Phones: one number, many spellings
// ----------------------------------------------------------------------------------------------

struct Phone {
  int country = 0;
  std::string area;  // area code or mobile prefix (national significant part)
  std::string sub;   // subscriber digits
  bool empty() const { return sub.empty(); }
};

enum PhoneStyle {
  kE164,        // +14155550132
  kIntlSpaced,  // +1 415 555 0132
  kNational,    // (415) 555-0132 / 030 1234567 / 8 (916) 123-45-67
  kDoubleZero,  // 004930123456
  kDotted,      // 415.555.0132
  kDashed,      // 415-555-0132 / 030-1234567 / 1-415-555-0132
  kIntlTrunk,   // +49 (0)30 1234567
  kDigits,      // 4155550132 / 0301234567
  kStyleCount
};

std::string Group(std::string_view d, char sep) {
  std::vector<size_t> parts;
  switch (d.size()) {
    case 6:
      parts = {3, 3};
      break;
    case 7:
      parts = {3, 4};
      break;
    case 8:
      parts = {4, 4};
      break;
    case 9:
      parts = {3, 3, 3};
      break;
    default:
      parts = {3, d.size() > 3 ? d.size() - 3 : 0};
  }
  std::string out;
  size_t at = 0;
  for (size_t n : parts) {
    if (n == 0 || at >= d.size()) break;
    if (!out.empty()) out += sep;
    out += d.substr(at, n);
    at += n;
  }
  return out;
}

// The same number and style always give the same text (duplicates vary only where recorded).
std::string FormatPhone(const Phone& p, int style) {
  const Country& c = Countries()[static_cast<size_t>(p.country)];
  std::string cc = c.cc;
  std::string trunk = c.trunk;
  bool nanp = cc == "1";
  std::string nsn = p.area + p.sub;
  std::string sub3 = p.sub.substr(0, 3), sub4 = p.sub.substr(3);
  switch (style) {
    case kE164:
      return "+" + cc + nsn;
    case kIntlSpaced:
      return "+" + cc + " " + p.area + " " + Group(p.sub, ' ');
    case kNational:
      if (nanp) return "(" + p.area + ") " + sub3 + "-" + sub4;
      if (cc == "7") {
        return trunk + " (" + p.area + ") " + sub3 + "-" + p.sub.substr(3, 2) + "-" +
               p.sub.substr(5);
      }
      if (cc == "33") {  // 01 23 45 67 89
        std::string d = trunk + nsn, out;
        for (size_t i = 0; i < d.size(); i += 2) out += (i ? " " : "") + d.substr(i, 2);
        return out;
      }
      if (cc == "55") {  // (11) 3456-7890, (11) 93456-7890
        return "(" + p.area + ") " + p.sub.substr(0, p.sub.size() - 4) + "-" +
               p.sub.substr(p.sub.size() - 4);
      }
      return trunk + p.area + " " + Group(p.sub, ' ');
    case kDoubleZero:
      return "00" + cc + nsn;
    case kDotted:
      if (nanp) return p.area + "." + sub3 + "." + sub4;
      return trunk + p.area + "." + Group(p.sub, '.');
    case kDashed:
      if (nanp) return (p.sub.back() < '3' ? "1-" : "") + p.area + "-" + sub3 + "-" + sub4;
      if (cc == "49" && p.sub.back() < '5') return trunk + p.area + "/" + p.sub;
      return trunk + p.area + "-" + Group(p.sub, '-');
    case kIntlTrunk:
      if (trunk == "0") return "+" + cc + " (0)" + p.area + " " + p.sub;
      return "+" + cc + " (" + p.area + ") " + Group(p.sub, '-');
    default:
      return (nanp ? "" : trunk) + nsn;
  }
}

std::string PhoneExtension(Rng& rng) {
  static constexpr std::array<const char*, 4> kForms = {" ext. ", " x", " ext ", " #"};
  return kForms[rng.Below(kForms.size())] + std::to_string(rng.Int(2, 499));
}

Phone MakePhone(int country, bool mobile, const City& city, Rng& rng) {
  const Country& c = Countries()[static_cast<size_t>(country)];
  Phone p;
  p.country = country;
  int len;
  if (mobile) {
    p.area = rng.Pick(c.mobile);
    len = c.mobile_len;
  } else {
    p.area = city.area;
    len = c.nsn == 0 ? 8 : c.nsn - static_cast<int>(p.area.size());
  }
  for (int i = 0; i < len; ++i) {
    p.sub += static_cast<char>(i == 0 && !mobile ? '2' + rng.Below(8) : '0' + rng.Below(10));
  }
  if (mobile && std::string_view(c.iso) == "BR") p.sub[0] = '9';  // (11) 9xxxx-xxxx
  // NANP: no 555 exchange (555-01xx is the fictional range our placeholders use).
  if (std::string(c.cc) == "1" && p.sub.compare(0, 3, "555") == 0) p.sub[1] = '7';
  return p;
}

// ----------------------------------------------------------------------------------------------
// People
// ----------------------------------------------------------------------------------------------

// A person as the CRM should hold them, before reps mistype anything.
struct Person {
  int country = 0;
  std::string first_native, first_latin, last_native, last_latin;
  const char* nick = nullptr;  // English short form of the first name, if any
  bool native = true;          // names, city and address in the native spelling
  bool one_field = false;      // a Chinese name typed whole into last_name
  int city = 0;
  int company = -1;  // index into the country's companies, -1: none
  int form = 0;      // legal form
  std::string address1, address2, postcode;
  int spelling = 0;  // index into the country's spellings
  Phone phone, mobile;
  int phone_style = kE164, mobile_style = kE164;
  std::string phone_ext;
  std::string email, email2, personal_email;
  std::string birthdate;
  bool email_typo = false;
};

std::string CompanyName(const Person& p, bool native) {
  if (p.company < 0) return {};
  const Country& c = Countries()[static_cast<size_t>(p.country)];
  const Name& base = c.companies[static_cast<size_t>(p.company)];
  std::string form = c.forms[static_cast<size_t>(p.form)];
  std::string name(native ? std::string_view(base.native) : base.Latin());
  // A Latin base in a native-script form ("ООО «Sibir»") reads oddly: use the Latin forms then.
  if (!native && HasHighByte(form) && !HasHighByte(name)) form = "{} Ltd.";
  return Replace(form, "{}", name);
}

// The given name as it appears in an email address: Vietnamese and Chinese given names are the
// last word ("Van An" -> "an").
std::string EmailGiven(const Person& p) {
  std::string_view f = p.first_latin;
  const char* iso = Countries()[static_cast<size_t>(p.country)].iso;
  if (std::string_view(iso) == "VN") {
    auto sp = f.rfind(' ');
    if (sp != std::string_view::npos) f = f.substr(sp + 1);
  }
  return Slug(f);
}

class EmailBook {
 public:
  // Registers and returns `local@domain`, adding digits until no other person uses it.
  std::string Claim(std::string local, const std::string& domain, Rng& rng) {
    for (int attempt = 0;; ++attempt) {
      std::string e = local + "@" + domain;
      if (used_.insert(std::hash<std::string>{}(e)).second) return e;
      local += std::to_string(rng.Below(attempt < 3 ? 10 : 100));
    }
  }

 private:
  std::unordered_set<size_t> used_;
};

std::string LocalPart(const Person& p, Rng& rng) {
  std::string f = EmailGiven(p), l = Slug(p.last_latin);
  if (f.empty()) f = "contact";
  if (l.empty()) l = "crm";
  switch (rng.Below(7)) {
    case 0:
      return f + "." + l;
    case 1:
      return f + l;
    case 2:
      return f.substr(0, 1) + l;
    case 3:
      return f + "_" + l;
    case 4:
      return l + "." + f;
    case 5:
      return f + "." + l + std::to_string(rng.Int(1, 99));
    default:
      return f + std::to_string(rng.Int(70, 99));
  }
}

Person MakePerson(int country, Rng& rng, EmailBook& emails) {
  const Country& c = Countries()[static_cast<size_t>(country)];
  Person p;
  p.country = country;
  bool female = rng.Chance(0.5);
  const Name& first = rng.Pick(female ? c.female : c.male);
  const Name& last = rng.Pick(c.last);
  p.first_native = first.native;
  p.first_latin = first.Latin();
  p.nick = first.nick;
  p.last_native = last.native;
  p.last_latin = last.Latin();
  if (female && std::string_view(c.iso) == "RU") {  // Иванов -> Иванова
    p.last_native += "а";
    p.last_latin += "a";
  }
  p.native = rng.Chance(c.native_share);
  p.one_field = std::string_view(c.iso) == "CN" && p.native && rng.Chance(0.1);
  p.city = static_cast<int>(rng.Below(c.cities.size()));
  const City& city = c.cities[static_cast<size_t>(p.city)];
  if (rng.Chance(0.8)) {
    p.company = static_cast<int>(rng.Below(c.companies.size()));
    p.form = static_cast<int>(rng.Below(c.forms.size()));
  }
  const Name& street = rng.Pick(c.streets);
  p.address1 = FillPattern(p.native ? street.native : street.Latin(), rng);
  if (p.address1.size() > 1 && p.address1[0] == '0') p.address1[0] = '1';
  if (rng.Chance(0.15)) {
    static constexpr std::array<const char*, 5> kLine2 = {"Suite ###", "Floor #", "Apt #B",
                                                          "Building @", "c/o Reception"};
    p.address2 = FillPattern(rng.Pick(kLine2), rng);
  }
  p.postcode = FillPattern(city.postcode, rng);
  // Canonical spelling most of the time; otherwise what someone typed.
  p.spelling = rng.Chance(0.55) ? 0 : static_cast<int>(rng.Below(c.spellings.size()));
  p.phone = MakePhone(country, false, city, rng);
  p.phone_style = static_cast<int>(rng.Below(kStyleCount));
  if (rng.Chance(0.04)) p.phone_ext = PhoneExtension(rng);
  if (rng.Chance(0.45)) {
    p.mobile = MakePhone(country, true, city, rng);
    p.mobile_style = static_cast<int>(rng.Below(kStyleCount));
  }
  // Emails: a work address at the company's domain or a personal one at a free provider.
  std::string company_domain =
      p.company >= 0 ? Slug(c.companies[static_cast<size_t>(p.company)].Latin()) + "." + c.tld : "";
  std::string free = rng.Pick(c.free_mail);
  p.personal_email = emails.Claim(LocalPart(p, rng), free, rng);
  if (!company_domain.empty() && rng.Chance(0.55)) {
    double r = rng.Unit();
    if (r < 0.04) {
      p.email = emails.Claim(kRoleLocal[rng.Below(kRoleLocal.size())], company_domain, rng);
    } else {
      p.email = emails.Claim(LocalPart(p, rng), company_domain, rng);
    }
    if (rng.Chance(0.3)) p.email2 = p.personal_email;
  } else {
    double r = rng.Unit();
    if (r < 0.035) {
      p.email = emails.Claim(LocalPart(p, rng), kTypoDomains[rng.Below(kTypoDomains.size())], rng);
      p.email_typo = true;
    } else if (r < 0.05) {
      p.email = emails.Claim(LocalPart(p, rng), kDisposable[rng.Below(kDisposable.size())], rng);
    } else {
      p.email = p.personal_email;
    }
  }
  if (rng.Chance(0.45)) {
    int year = rng.Int(1950, 2003);
    int month = rng.Int(1, 12), day = rng.Int(1, 28);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
    p.birthdate = rng.Chance(0.01) ? "1900-01-01" : buf;
  }
  return p;
}

// ----------------------------------------------------------------------------------------------
// Rows and the prepared statements that write them
// ----------------------------------------------------------------------------------------------

struct Text {
  std::string v;
  soci::indicator ind = soci::i_ok;
  void Set(std::string s) {
    v = std::move(s);
    ind = soci::i_ok;
  }
  void Null() {
    v.clear();
    ind = soci::i_null;
  }
  bool Blank() const {
    if (ind == soci::i_null) return true;
    for (unsigned char ch : v) {
      if (!std::isspace(ch)) return false;
    }
    return true;
  }
};

struct ContactRow {
  long long id = 0;
  Text first_name, last_name, email, email2, phone, mobile, company, address1, address2, city,
      postcode, region, country, birthdate;
  std::string status;
  long long owner_id = 0, created_by = 0, modified_by = 0;
  std::string created_at, updated_at;
  Text last_contacted_at, notes;
  int email_opt_out = 0, do_not_call = 0, email_bounced = 0, legal_hold = 0, deleted = 0;
};

struct ActivityRow {
  long long id = 0;
  std::string parent_type;
  long long parent_id = 0;
  std::string kind, subject, occurred_at;
  long long created_by = 0;
  int deleted = 0;
};

struct DealRow {
  long long id = 0, contact_id = 0;
  std::string name, stage, amount, created_at;
  int deleted = 0;
};

struct TagRow {
  long long id = 0, contact_id = 0;
  std::string tag;
  int deleted = 0;
};

struct UserRow {
  long long id = 0;
  std::string user_name, full_name, email;
  int is_system = 0;
};

class Writer {
 public:
  explicit Writer(soci::session& sql)
      : users_((sql.prepare << "INSERT INTO users (id, user_name, full_name, email, is_system) "
                               "VALUES (:id, :user_name, :full_name, :email, :is_system)",
                soci::use(u.id), soci::use(u.user_name), soci::use(u.full_name), soci::use(u.email),
                soci::use(u.is_system))),
        contacts_((
            sql.prepare << "INSERT INTO contacts (id, first_name, last_name, email, email2, phone, "
                           "mobile, company, address1, address2, city, postcode, region, country, "
                           "birthdate, status, owner_id, created_by, modified_by, created_at, "
                           "updated_at, last_contacted_at, email_opt_out, do_not_call, "
                           "email_bounced, legal_hold, deleted, notes) VALUES (:id, :first_name, "
                           ":last_name, :email, :email2, :phone, :mobile, :company, :address1, "
                           ":address2, :city, :postcode, :region, :country, :birthdate, :status, "
                           ":owner_id, :created_by, :modified_by, :created_at, :updated_at, "
                           ":last_contacted_at, :email_opt_out, :do_not_call, :email_bounced, "
                           ":legal_hold, :deleted, :notes)",
            soci::use(c.id), soci::use(c.first_name.v, c.first_name.ind),
            soci::use(c.last_name.v, c.last_name.ind), soci::use(c.email.v, c.email.ind),
            soci::use(c.email2.v, c.email2.ind), soci::use(c.phone.v, c.phone.ind),
            soci::use(c.mobile.v, c.mobile.ind), soci::use(c.company.v, c.company.ind),
            soci::use(c.address1.v, c.address1.ind), soci::use(c.address2.v, c.address2.ind),
            soci::use(c.city.v, c.city.ind), soci::use(c.postcode.v, c.postcode.ind),
            soci::use(c.region.v, c.region.ind), soci::use(c.country.v, c.country.ind),
            soci::use(c.birthdate.v, c.birthdate.ind), soci::use(c.status), soci::use(c.owner_id),
            soci::use(c.created_by), soci::use(c.modified_by), soci::use(c.created_at),
            soci::use(c.updated_at), soci::use(c.last_contacted_at.v, c.last_contacted_at.ind),
            soci::use(c.email_opt_out), soci::use(c.do_not_call), soci::use(c.email_bounced),
            soci::use(c.legal_hold), soci::use(c.deleted), soci::use(c.notes.v, c.notes.ind))),
        activities_((sql.prepare << "INSERT INTO activities (id, parent_type, parent_id, kind, "
                                    "subject, occurred_at, created_by, deleted) VALUES (:id, "
                                    ":parent_type, :parent_id, :kind, :subject, :occurred_at, "
                                    ":created_by, :deleted)",
                     soci::use(a.id), soci::use(a.parent_type), soci::use(a.parent_id),
                     soci::use(a.kind), soci::use(a.subject), soci::use(a.occurred_at),
                     soci::use(a.created_by), soci::use(a.deleted))),
        deals_((sql.prepare << "INSERT INTO deals (id, contact_id, name, stage, amount, "
                               "created_at, deleted) VALUES (:id, :contact_id, :name, :stage, "
                               ":amount, :created_at, :deleted)",
                soci::use(d.id), soci::use(d.contact_id), soci::use(d.name), soci::use(d.stage),
                soci::use(d.amount), soci::use(d.created_at), soci::use(d.deleted))),
        tags_((sql.prepare << "INSERT INTO contact_tags (id, contact_id, tag, deleted) VALUES "
                              "(:id, :contact_id, :tag, :deleted)",
               soci::use(t.id), soci::use(t.contact_id), soci::use(t.tag), soci::use(t.deleted))) {}

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void User() { users_.execute(true); }
  void Contact() { contacts_.execute(true); }
  void Activity() { activities_.execute(true); }
  void Deal() { deals_.execute(true); }
  void Tag() { tags_.execute(true); }

  // The statements read these at execute time; they are declared (and so constructed) first.
  UserRow u;
  ContactRow c;
  ActivityRow a;
  DealRow d;
  TagRow t;

 private:
  soci::statement users_, contacts_, activities_, deals_, tags_;
};

// ----------------------------------------------------------------------------------------------
// Duplicate variations
// ----------------------------------------------------------------------------------------------

enum Var : uint32_t {
  kTypo = 1u << 0,        // a keyboard slip in the first or last name
  kSwapped = 1u << 1,     // first and last name swapped
  kNickname = 1u << 2,    // Bob for Robert
  kDiacritics = 1u << 3,  // Nguyễn / Nguyen, Müller / Mueller
  kTransliteration = 1u << 4,  // 王伟 / Wang Wei, Иван / Ivan, فاطمه / Fatemeh, አበበ / Abebe
  kCase = 1u << 5,             // ALL-UPPER or all-lower
  kPhoneFormat = 1u << 6,    // the same number spelled another way
  kEmailCase = 1u << 7,      // the same address with capitals or spaces
  kEmailOther = 1u << 8,     // a different address (work vs personal); the phone still matches
  kCompanySuffix = 1u << 9,  // Inc. / LLC, GmbH / AG, Công ty TNHH / Co., Ltd
  kMissingField = 1u << 10,  // phone, email or company left empty on one member
  kConsent = 1u << 11,       // one member opted out (and maybe do-not-call), another not
  kOwner = 1u << 12,         // members owned by different reps
  kCreatedBy = 1u << 13,     // members created by different reps
  kSharedTag = 1u << 14,     // two members carry the same tag: a merge hits UNIQUE(contact_id, tag)
  kSharedActivity = 1u << 15,  // the same activity logged on two members
};
constexpr std::array<const char*, 16> kVarNames = {
    "typo",         "swapped",    "nickname",    "diacritics",     "transliteration", "case",
    "phone_format", "email_case", "email_other", "company_suffix", "missing_field",   "consent",
    "owner",        "created_by", "shared_tag",  "shared_activity"};

std::string VarString(uint32_t v) {
  std::string out;
  for (size_t i = 0; i < kVarNames.size(); ++i) {
    if (v & (1u << i)) out += (out.empty() ? "" : ",") + std::string(kVarNames[i]);
  }
  return out;
}

// True when a string holds letters of a script other than Latin (Latin-1, Latin Extended and
// Vietnamese count as Latin), where a keyboard-slip typo makes no sense.
bool NonLatinScript(std::string_view s) {
  for (char32_t c : Decode(s)) {
    if (c >= 0x370 && !(c >= 0x1E00 && c <= 0x1EFF)) return true;
  }
  return false;
}

std::string EmailVariant(const std::string& e, Rng& rng) {
  switch (rng.Below(3)) {
    case 0:
      return Upper(e);
    case 1: {  // John.Smith@Gmail.com
      std::string out = e;
      bool start = true;
      for (char& ch : out) {
        if (start && ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 32);
        start = ch == '.' || ch == '@' || ch == '_';
      }
      if (out == e) out = Upper(e);
      return out;
    }
    default:
      return rng.Chance(0.5) ? " " + e + " " : e + " ";
  }
}

// How one rep left a field: NULL, '' or a lone space.
void Blank(Text& t, Rng& rng) {
  double r = rng.Unit();
  if (r < 0.55) {
    t.Null();
  } else if (r < 0.9) {
    t.Set("");
  } else {
    t.Set(" ");
  }
}

void SetOrNull(Text& t, std::string v) {
  if (v.empty()) {
    t.Null();
  } else {
    t.Set(std::move(v));
  }
}

// What varies on one member of a duplicate group (member 0 is the base itself).
struct MemberPlan {
  uint32_t kinds = 0;
  int missing = -1;  // kMissingField: 0 phone, 1 email, 2 company, -1 none
  std::string other_email;
};

// Writes the person's fields into the row; returns the variations actually applied.
uint32_t RenderPerson(const Person& p, const MemberPlan& m, Rng& rng, ContactRow& c) {
  const Country& co = Countries()[static_cast<size_t>(p.country)];
  const City& city = co.cities[static_cast<size_t>(p.city)];
  uint32_t applied = 0;
  bool native = p.native;
  if (m.kinds & (kDiacritics | kTransliteration)) {
    native = !native;
    if (p.first_native != p.first_latin || p.last_native != p.last_latin) {
      applied |= m.kinds & (kDiacritics | kTransliteration);
    }
  }
  std::string first = native ? p.first_native : p.first_latin;
  std::string last = native ? p.last_native : p.last_latin;
  if (p.one_field && native && !(m.kinds & (kDiacritics | kTransliteration))) {
    last += first;
    first.clear();
  }
  if ((m.kinds & kNickname) && p.nick) {
    first = p.nick;
    applied |= kNickname;
  }
  if (m.kinds & kTypo) {
    bool on_last = rng.Chance(0.6);
    std::string& target = on_last ? last : first;
    std::string& other = on_last ? first : last;
    if (!target.empty() && !NonLatinScript(target)) {
      target = Typo(target, rng);
      applied |= kTypo;
    } else if (!other.empty() && !NonLatinScript(other)) {
      other = Typo(other, rng);
      applied |= kTypo;
    }
  }
  if (m.kinds & kSwapped) {
    std::swap(first, last);
    applied |= kSwapped;
  }
  if (m.kinds & kCase) {
    bool up = rng.Chance(0.7);
    std::string f = up ? Upper(first) : Lower(first);
    std::string l = up ? Upper(last) : Lower(last);
    if (f != first || l != last) applied |= kCase;
    first = std::move(f);
    last = std::move(l);
  }
  SetOrNull(c.first_name, first);
  SetOrNull(c.last_name, last);

  Person q = p;
  if ((m.kinds & kCompanySuffix) && p.company >= 0 && co.forms.size() > 1) {
    q.form = static_cast<int>((static_cast<size_t>(p.form) + 1 + rng.Below(co.forms.size() - 1)) %
                              co.forms.size());
    applied |= kCompanySuffix;
  }
  SetOrNull(c.company, CompanyName(q, native));

  int style = p.phone_style;
  if (m.kinds & kPhoneFormat) {
    style = static_cast<int>((static_cast<size_t>(style) + 1 + rng.Below(kStyleCount - 1)) %
                             kStyleCount);
    applied |= kPhoneFormat;
  }
  SetOrNull(c.phone, FormatPhone(p.phone, style) + p.phone_ext);
  SetOrNull(c.mobile, p.mobile.empty() ? "" : FormatPhone(p.mobile, p.mobile_style));

  std::string email = p.email;
  if ((m.kinds & kEmailOther) && !m.other_email.empty()) {
    email = m.other_email;
    applied |= kEmailOther;
  }
  if (m.kinds & kEmailCase) {
    email = EmailVariant(email, rng);
    applied |= kEmailCase;
  }
  SetOrNull(c.email, email);
  SetOrNull(c.email2, p.email2 == email ? "" : p.email2);

  SetOrNull(c.address1, p.address1);
  SetOrNull(c.address2, p.address2);
  SetOrNull(c.city, native ? city.native : city.latin);
  SetOrNull(c.postcode, p.postcode);
  SetOrNull(c.region, city.region);
  SetOrNull(c.country, co.spellings[static_cast<size_t>(p.spelling)]);
  SetOrNull(c.birthdate, p.birthdate);

  if ((m.kinds & kMissingField) && m.missing >= 0) {
    Text& t = m.missing == 0 ? c.phone : m.missing == 1 ? c.email : c.company;
    if (!t.Blank()) {
      Blank(t, rng);
      applied |= kMissingField;
    }
  }
  return applied;
}

// ----------------------------------------------------------------------------------------------
// The generator
// ----------------------------------------------------------------------------------------------

constexpr int32_t kNoGroup = -1;
constexpr int32_t kPlaceholderSlot = -2;
constexpr long long kSystemUserId = static_cast<long long>(kReps.size()) + 1;
constexpr long long kDay = 86400;

// clang-format off
constexpr std::array<std::array<const char*, 2>, 16> kJunkNames = {{
    {"test", "test"}, {"Test", "User"}, {"asdf", "asdf"}, {"N/A", "N/A"}, {"Mickey", "Mouse"},
    {"Donald", "Duck"}, {"xxx", "xxx"}, {"Max", "Mustermann"}, {"Nguyễn Văn", "A"}, {"", "张三"},
    {"", "john.doe@gmail.com"}, {"info@firma.de", ""}, {"", "+1 415 555 0100"}, {"John", "Doe"},
    {"a", "a"}, {".", "."},
}};
constexpr std::array<const char*, 9> kJunkEmails = {
    "test@test.com", "asdf@asdf.com", "noemail@noemail.com", "none", "x@x.x", "mickey@disney.com",
    "a@a.a", "", "n/a"};
// clang-format on
constexpr std::array<const char*, 8> kJunkPhones = {
    "555-0100", "0000000", "123456789", "+1 555 0100", "1111111111", "n/a", "000-000-0000", ""};
constexpr std::array<const char*, 6> kJunkText = {"test", "N/A", "-", "", "asdf", "xxx"};

const std::array<std::vector<const char*>, 4>& Subjects() {  // call, meeting, email, note
  static const std::array<std::vector<const char*>, 4> k = {{
      {"Intro call", "Follow-up call", "Left voicemail", "Cold call", "Callback requested",
       "Gọi điện tư vấn", "Rückruf", "Appel de suivi", "电话跟进", "Звонок клиенту"},
      {"Product demo", "Quarterly review", "Site visit", "Lunch meeting", "Kick-off",
       "Gặp mặt khách hàng", "Termin vor Ort", "Réunion de lancement", "客户会议"},
      {"Sent pricing", "Re: proposal", "Newsletter reply", "Sent contract", "Re: invoice",
       "Angebot gesendet", "Devis envoyé", "Gửi báo giá", "ارسال پیش‌فاکتور"},
      {"Prefers email", "Budget next quarter", "Decision maker", "Changed jobs?", "Call after 3pm",
       "Hat Interesse", "Quan tâm sản phẩm", "对价格敏感"},
  }};
  return k;
}
constexpr std::array<const char*, 4> kKinds = {"call", "meeting", "email", "note"};
constexpr std::array<double, 4> kKindWeights = {35, 15, 35, 15};
constexpr std::array<const char*, 7> kProducts = {
    "Annual license",  "Pilot project",  "Support renewal", "Onboarding package",
    "Enterprise plan", "Hardware order", "Consulting days"};
constexpr std::array<const char*, 10> kNotes = {
    "Met at trade fair",       "Prefers WhatsApp",       "Gặp tại hội chợ",     "Rückruf erwünscht",
    "Ne pas appeler le lundi", "VIP — handle with care", "Call only, no email", "对价格敏感",
    "Referral from partner",   "Старый клиент"};

struct GroupState {
  Person base;
  std::vector<MemberPlan> members;
  uint32_t applied = 0;  // union of what the members actually got
  long long owner0 = 0, creator0 = 0;
  int consent_member = -1;
  std::string shared_tag;
  bool has_shared_activity = false;
  ActivityRow shared_activity;
  std::vector<std::string> ids;
};

struct Truth {
  long long first_id = 0;
  std::vector<std::string> ids;
  std::string variations;
};

class Generator {
 public:
  Generator(const DemoDataOptions& opt, Writer& w)
      : opt_(opt),
        w_(w),
        now_(opt.now),
        start_(opt.now - days(3 * 365)),
        cutoff_(opt.now - days(365)),
        cutoff_text_(FormatTime(cutoff_)) {}

  DemoDataSummary Run() {
    Plan();
    Users();
    for (uint32_t slot = 0; slot < static_cast<uint32_t>(opt_.contacts); ++slot) Contact(slot);
    std::sort(truths_.begin(), truths_.end(),
              [](const Truth& a, const Truth& b) { return a.first_id < b.first_id; });
    for (auto& t : truths_) {
      s_.duplicate_contacts += static_cast<int>(t.ids.size());
      s_.duplicate_truth.push_back(std::move(t.ids));
      s_.duplicate_variations.push_back(std::move(t.variations));
    }
    s_.duplicate_groups = static_cast<int>(s_.duplicate_truth.size());
    s_.system_user_id = std::to_string(kSystemUserId);
    return std::move(s_);
  }

 private:
  // Which slots are duplicate-group members (groups of 2-4, ~10 % of the contacts) and which
  // are placeholder junk (~1.5 %).
  void Plan() {
    const uint32_t n = static_cast<uint32_t>(opt_.contacts);
    slot_group_.assign(n, kNoGroup);
    slot_member_.assign(n, 0);
    Rng rng(Mix(opt_.seed, 0x706c616eULL));
    long long dup_target = n >= 10 ? std::llround(n * 0.10) : 0;
    long long placeholders = n >= 40 ? std::max<long long>(1, std::llround(n * 0.015)) : 0;
    std::vector<int> sizes;
    long long used = 0;
    while (true) {
      double r = rng.Unit();
      long long size = r < 0.70 ? 2 : r < 0.92 ? 3 : 4;
      size = std::min(size, dup_target - used);
      if (size < 2) break;
      sizes.push_back(static_cast<int>(size));
      used += size;
    }
    std::vector<uint32_t> perm(n);
    for (uint32_t i = 0; i < n; ++i) perm[i] = i;
    const auto take = static_cast<size_t>(used + placeholders);
    for (size_t i = 0; i < take && i < n; ++i) {
      size_t j = i + rng.Below(n - i);
      std::swap(perm[i], perm[j]);
    }
    size_t at = 0;
    groups_.resize(sizes.size());
    for (size_t g = 0; g < sizes.size(); ++g) {
      auto& slots = groups_[g];
      slots.assign(perm.begin() + static_cast<long>(at),
                   perm.begin() + static_cast<long>(at + static_cast<size_t>(sizes[g])));
      at += static_cast<size_t>(sizes[g]);
      std::sort(slots.begin(), slots.end());
      for (size_t m = 0; m < slots.size(); ++m) {
        slot_group_[slots[m]] = static_cast<int32_t>(g);
        slot_member_[slots[m]] = static_cast<uint8_t>(m);
      }
    }
    for (long long k = 0; k < placeholders; ++k) slot_group_[perm[at++]] = kPlaceholderSlot;
  }

  void Users() {
    UserRow& u = w_.u;
    for (size_t i = 0; i <= kReps.size(); ++i) {
      bool system = i == kReps.size();
      u.id = static_cast<long long>(i) + 1;
      u.user_name = system ? kSystemUser : kReps[i].user_name;
      u.full_name = system ? "crm-hygiene (automated data hygiene)" : kReps[i].full_name;
      u.email = u.user_name + "@example.com";
      u.is_system = system ? 1 : 0;
      w_.User();
      ++s_.users;
    }
  }

  // Contact ids ascend with created_at, spread over three years with a growing intake.
  sys_seconds CreatedAt(uint32_t slot) const {
    double jitter = static_cast<double>(Mix(opt_.seed, 0xc0ffee00ULL + slot) >> 11) * 0x1.0p-53;
    double x = (slot + jitter) / std::max(1, opt_.contacts);
    double f = 1.25 * x - 0.25 * x * x;
    auto span = static_cast<double>((now_ - start_).count());
    sys_seconds t = start_ + seconds(std::llround(f * span));
    return std::min(t, now_ - seconds(600));
  }

  sys_seconds Between(sys_seconds a, sys_seconds b, Rng& rng) const {
    if (b <= a) return a;
    return a + seconds(rng.Long(0, (b - a).count()));
  }

  static long long PickOwner(int country, Rng& rng) {
    if (rng.Chance(0.55)) return Countries()[static_cast<size_t>(country)].owner + 1;
    std::array<double, kReps.size()> w{};
    for (size_t i = 0; i < kReps.size(); ++i) w[i] = kReps[i].book;
    return static_cast<long long>(rng.Weighted(w)) + 1;
  }

  static long long OtherRep(long long not_this, Rng& rng) {
    long long r = static_cast<long long>(rng.Below(kReps.size() - 1)) + 1;
    return r >= not_this ? r + 1 : r;
  }

  static double Sloppy(long long rep) { return kReps[static_cast<size_t>(rep - 1)].sloppy; }

  GroupState& Group(int32_t gid) {
    auto it = open_.find(gid);
    if (it != open_.end()) return it->second;
    Rng rng(Mix(opt_.seed ^ 0x6a09e667f3bcc909ULL, static_cast<uint64_t>(gid) + 1));
    const auto& slots = groups_[static_cast<size_t>(gid)];
    GroupState g;
    int country = static_cast<int>(rng.Weighted(kCountryWeights));
    const Country& co = Countries()[static_cast<size_t>(country)];
    g.base = MakePerson(country, rng, emails_);
    Person& b = g.base;

    auto pick = [&rng](std::vector<std::pair<uint32_t, double>> opts, int n) {
      uint32_t out = 0;
      for (int k = 0; k < n && !opts.empty(); ++k) {
        std::vector<double> w;
        for (auto& o : opts) w.push_back(o.second);
        size_t i = rng.Weighted(w);
        out |= opts[i].first;
        opts.erase(opts.begin() + static_cast<long>(i));
      }
      return out;
    };
    std::vector<std::pair<uint32_t, double>> name_opts = {{kTypo, 3}, {kSwapped, 2}, {kCase, 1}};
    if (b.nick) name_opts.push_back({kNickname, 4});
    if (co.script == Script::kDiacritic &&
        (b.first_native != b.first_latin || b.last_native != b.last_latin)) {
      name_opts.push_back({kDiacritics, 5});
    }
    if (co.script == Script::kOther) name_opts.push_back({kTransliteration, 5});
    uint32_t core = pick(name_opts, rng.Chance(0.85) ? 1 : rng.Chance(0.5) ? 2 : 0);
    core |= pick({{kPhoneFormat, 3},
                  {kEmailCase, 3},
                  {kEmailOther, 2},
                  {kCompanySuffix, 2},
                  {kMissingField, 2}},
                 rng.Chance(0.4) ? 2 : 1);
    if ((core & kCompanySuffix) && b.company < 0) {
      b.company = static_cast<int>(rng.Below(co.companies.size()));
      b.form = static_cast<int>(rng.Below(co.forms.size()));
    }
    std::string other_email;
    if (core & kEmailOther) {
      if (b.email != b.personal_email) {
        other_email = b.personal_email;  // work address on one member, personal on another
      } else {
        bool outlook = b.email.ends_with("@outlook.com");
        other_email = emails_.Claim(LocalPart(b, rng), outlook ? "gmail.com" : "outlook.com", rng);
      }
    }
    // One member lacks a field, but keeps something to match on: with email_other only the
    // company may go, so that the phone still matches.
    int missing = (core & kEmailOther) ? 2 : static_cast<int>(rng.Below(3));
    if (missing == 2 && b.company < 0) missing = (core & kEmailOther) ? -1 : 1;
    uint32_t per_member = (rng.Chance(0.45) ? kOwner : 0u) | (rng.Chance(0.3) ? kCreatedBy : 0u);

    g.owner0 = PickOwner(country, rng);
    g.creator0 = rng.Chance(0.75) ? g.owner0 : OtherRep(g.owner0, rng);
    g.members.resize(slots.size());
    for (size_t m = 1; m < slots.size(); ++m) {
      uint32_t kinds = core;
      if (m >= 2) {  // later members vary in a subset
        uint32_t kept = 0;
        for (uint32_t bit = 1; bit <= kMissingField; bit <<= 1) {
          if ((core & bit) && rng.Chance(0.7)) kept |= bit;
        }
        kinds = kept ? kept : core;
      }
      g.members[m] = MemberPlan{kinds | per_member, missing, other_email};
    }
    if (rng.Chance(0.15)) g.consent_member = static_cast<int>(rng.Below(slots.size()));
    if (rng.Chance(0.3)) g.shared_tag = rng.Chance(0.5) ? "vip" : "newsletter";
    if (rng.Chance(0.25)) {
      g.has_shared_activity = true;
      ActivityRow& a = g.shared_activity;
      size_t k = rng.Weighted(kKindWeights);
      a.parent_type = "Contacts";
      a.kind = kKinds[k];
      a.subject = rng.Pick(Subjects()[k]);
      a.occurred_at = FormatTime(Between(CreatedAt(slots[1]), now_, rng));
      a.created_by = g.owner0;
    }
    return open_.emplace(gid, std::move(g)).first->second;
  }

  void Placeholder(Rng& rng, ContactRow& c) {
    const auto& n = rng.Pick(kJunkNames);
    c.first_name.Set(n[0]);
    c.last_name.Set(n[1]);
    SetOrNull(c.email, rng.Pick(kJunkEmails));
    SetOrNull(c.phone, rng.Pick(kJunkPhones));
    SetOrNull(c.company, rng.Pick(kJunkText));
    double r = rng.Unit();
    if (r < 0.4) {
      Blank(c.country, rng);
    } else if (r < 0.6) {
      c.country.Set(rng.Chance(0.5) ? "N/A" : "xx");
    } else {
      const Country& co = Countries()[rng.Weighted(kCountryWeights)];
      c.country.Set(rng.Pick(co.spellings));
    }
    SetOrNull(c.city, rng.Pick(kJunkText));
    SetOrNull(c.address1, rng.Chance(0.3) ? "test" : "");
    for (Text* t : {&c.email2, &c.mobile, &c.address2, &c.postcode, &c.region, &c.birthdate}) {
      t->Null();
    }
  }

  // What a rep in a hurry does to a record: empty fields, ALL-UPPER or all-lower names, stray
  // spaces, honorifics in the name, capitals in the email.
  void Dirt(ContactRow& c, double s, Rng& rng) {
    double r = rng.Unit();
    if (r < 0.02 + s * 0.15) {
      c.first_name.Set(Upper(c.first_name.v));
      c.last_name.Set(Upper(c.last_name.v));
    } else if (r < 0.035 + s * 0.25) {
      c.first_name.Set(Lower(c.first_name.v));
      c.last_name.Set(Lower(c.last_name.v));
    }
    if (rng.Chance(0.02) && !c.last_name.v.empty()) {
      c.last_name.v = rng.Chance(0.5) ? c.last_name.v + " " : " " + c.last_name.v;
    }
    if (rng.Chance(0.01) && !c.first_name.v.empty() && !NonLatinScript(c.first_name.v)) {
      static constexpr std::array<const char*, 4> kHonorifics = {"Dr. ", "Mr. ", "Mrs. ", "Prof. "};
      c.first_name.v = rng.Pick(kHonorifics) + c.first_name.v;
    }
    if (rng.Chance(0.07) && !c.email.v.empty()) c.email.v = EmailVariant(c.email.v, rng);
    if (rng.Chance(0.03) && !c.city.v.empty()) {
      c.city.v = rng.Chance(0.5) ? Upper(c.city.v) : Lower(c.city.v);
    }
    auto maybe_blank = [&](Text& t, double p) {
      if (rng.Chance(p)) Blank(t, rng);
    };
    maybe_blank(c.first_name, s * 0.25);
    maybe_blank(c.last_name, s * 0.08);
    maybe_blank(c.email, 0.04 + s * 0.8);
    maybe_blank(c.phone, 0.06 + s * 0.9);
    maybe_blank(c.company, 0.08 + s * 0.5);
    maybe_blank(c.address1, 0.08 + s);
    maybe_blank(c.city, 0.04 + s * 0.6);
    maybe_blank(c.postcode, 0.08 + s * 0.8);
    maybe_blank(c.region, 0.15 + s * 0.5);
    maybe_blank(c.country, 0.03 + s * 0.7);
    if (rng.Chance(s * 0.3)) c.birthdate.Null();  // a DATE column takes no '' (strict MySQL)
  }

  void AddActivity(std::string_view parent_type, long long parent_id, sys_seconds when,
                   long long owner, int deleted, Rng& rng) {
    ActivityRow a;
    size_t k = rng.Weighted(kKindWeights);
    a.parent_type = parent_type;
    a.parent_id = parent_id;
    a.kind = kKinds[k];
    a.subject = rng.Pick(Subjects()[k]);
    a.occurred_at = FormatTime(when);
    a.created_by = rng.Chance(0.85) ? owner : OtherRep(owner, rng);
    a.deleted = deleted;
    acts_.push_back(std::move(a));
  }

  void Contact(uint32_t slot);

  const DemoDataOptions& opt_;
  Writer& w_;
  const sys_seconds now_, start_, cutoff_;
  const std::string cutoff_text_;
  DemoDataSummary s_;
  std::vector<int32_t> slot_group_;
  std::vector<uint8_t> slot_member_;
  std::vector<std::vector<uint32_t>> groups_;
  std::map<int32_t, GroupState> open_;
  std::vector<Truth> truths_;
  EmailBook emails_;
  long long next_activity_ = 1, next_deal_ = 1, next_tag_ = 1;
  std::vector<ActivityRow> acts_;
  std::vector<DealRow> deals_;
  std::vector<sys_seconds> deal_times_;
  std::vector<std::pair<std::string, int>> tags_;
};

void Generator::Contact(uint32_t slot) {
  Rng rng(Mix(opt_.seed, static_cast<uint64_t>(slot) + 1));
  ContactRow& c = w_.c;
  c = ContactRow{};
  c.id = static_cast<long long>(slot) + 1;
  const sys_seconds created = CreatedAt(slot);
  const int32_t gid = slot_group_[slot];
  const bool placeholder = gid == kPlaceholderSlot;
  GroupState* grp = gid >= 0 ? &Group(gid) : nullptr;
  const int member = grp ? slot_member_[slot] : 0;
  bool email_typo = false;

  // Who they are, and whose they are.
  if (placeholder) {
    Placeholder(rng, c);
    std::array<double, kReps.size()> w{};
    for (size_t i = 0; i < kReps.size(); ++i) w[i] = kReps[i].book * (0.3 + kReps[i].sloppy * 6);
    c.owner_id = static_cast<long long>(rng.Weighted(w)) + 1;
    c.created_by = rng.Chance(0.8) ? c.owner_id : OtherRep(c.owner_id, rng);
  } else if (grp) {
    const MemberPlan& mp = grp->members[static_cast<size_t>(member)];
    grp->applied |= RenderPerson(grp->base, mp, rng, c);
    c.owner_id = (mp.kinds & kOwner) ? OtherRep(grp->owner0, rng) : grp->owner0;
    c.created_by = (mp.kinds & kCreatedBy) ? OtherRep(grp->creator0, rng) : grp->creator0;
    grp->applied |= mp.kinds & (kOwner | kCreatedBy);
    email_typo = grp->base.email_typo;
  } else {
    int country = static_cast<int>(rng.Weighted(kCountryWeights));
    Person p = MakePerson(country, rng, emails_);
    (void)RenderPerson(p, MemberPlan{}, rng, c);
    c.owner_id = PickOwner(country, rng);
    c.created_by = rng.Chance(0.75) ? c.owner_id : OtherRep(c.owner_id, rng);
    Dirt(c, Sloppy(c.owner_id), rng);
    email_typo = p.email_typo;
  }
  c.created_at = FormatTime(created);
  sys_seconds updated = rng.Chance(0.6) ? Between(created, now_, rng) : created;
  c.updated_at = FormatTime(updated);
  c.modified_by = updated == created ? c.created_by
                  : rng.Chance(0.7)  ? c.owner_id
                                     : OtherRep(c.owner_id, rng);

  // How engaged: active, stale (nothing in the last 12 months) or never contacted.
  enum { kActive, kStale, kNever } profile = kActive;
  const bool old = created < cutoff_ - days(30);
  double r = rng.Unit();
  if (placeholder) {
    profile = r < 0.7 ? kNever : kActive;
  } else if (old) {
    profile = r < 0.27 ? kStale : r < 0.37 ? kNever : kActive;
  } else {
    profile = r < 0.18 ? kNever : kActive;
  }
  sys_seconds end = now_;  // the latest contact moment the profile allows
  if (profile == kStale) {
    long long room = (cutoff_ - created).count() - 3600;
    end = rng.Chance(0.03) ? cutoff_ - seconds(rng.Long(60, 3 * kDay))  // just over the line
                           : cutoff_ - seconds(rng.Long(kDay, std::min(room, 500 * kDay)));
  }

  // Status and deals.
  r = rng.Unit();
  c.status = placeholder ? "lead" : r < 0.22 ? "customer" : r < 0.32 ? "former" : "lead";
  deals_.clear();
  deal_times_.clear();
  int n_deals = 0;
  if (c.status == "customer") {
    n_deals = 1 + std::min(4, rng.Skewed(0.7));
  } else if (c.status == "former") {
    n_deals = rng.Chance(0.8) ? 1 : 0;
  } else if (!placeholder) {
    n_deals = rng.Chance(0.28) ? 1 : 0;
  }
  for (int k = 0; k < n_deals; ++k) {
    DealRow d;
    d.id = next_deal_++;
    d.contact_id = c.id;
    if (c.status == "customer") {
      d.stage = k == 0 ? "won" : rng.Chance(0.4) ? "open" : rng.Chance(0.67) ? "won" : "lost";
    } else if (c.status == "former") {
      d.stage = rng.Chance(0.6) ? "won" : "lost";
    } else {
      d.stage = rng.Chance(0.7) ? "open" : "lost";
    }
    std::string who = !c.company.Blank() ? c.company.v : c.last_name.v;
    d.name = (who.empty() ? std::string("Deal") : who) + " – " + rng.Pick(kProducts);
    double v = std::exp(std::log(300.0) + rng.Unit() * (std::log(120000.0) - std::log(300.0)));
    long long cents = std::llround(v) * 100 + (rng.Chance(0.35) ? 0 : rng.Int(1, 99));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld.%02lld", cents / 100, cents % 100);
    d.amount = buf;
    deal_times_.push_back(Between(created, end, rng));
    d.created_at = FormatTime(deal_times_.back());
    d.deleted = rng.Chance(0.03) ? 1 : 0;
    deals_.push_back(std::move(d));
  }

  // Activities on the contact (and a few on its deals).
  acts_.clear();
  const long long owner = c.owner_id;
  std::string last_contacted;
  if (profile == kActive) {
    const bool only_column = rng.Chance(0.05);  // contacted per last_contacted_at only
    const bool borderline = old && rng.Chance(0.02);
    const sys_seconds hi = borderline ? cutoff_ + seconds(rng.Long(60, 3 * kDay)) : now_;
    int n = only_column ? 0 : 1 + rng.Skewed(2.6) + (rng.Chance(0.03) ? rng.Int(8, 30) : 0);
    for (int k = 0; k < n; ++k) {
      AddActivity("Contacts", c.id, Between(created, hi, rng), owner, rng.Chance(0.04), rng);
    }
    sys_seconds recent = borderline ? hi : Between(std::max(created, cutoff_ + days(1)), now_, rng);
    if (n > 0) {  // at least one live activity inside the last 12 months
      acts_[0].occurred_at = FormatTime(recent);
      acts_[0].deleted = 0;
    }
    std::string latest;
    for (const auto& a : acts_) {
      if (!a.deleted) latest = std::max(latest, a.occurred_at);
    }
    double lr = rng.Unit();
    if (only_column) {
      last_contacted = FormatTime(recent);
    } else if (lr < 0.65) {
      last_contacted = std::max(latest, FormatTime(std::min(recent + seconds(rng.Long(0, 2 * kDay)),
                                                            borderline ? hi : now_)));
    } else if (lr < 0.75) {
      last_contacted = FormatTime(Between(created, recent, rng));
    }
  } else if (profile == kStale) {
    int n = 1 + rng.Skewed(1.4);
    for (int k = 0; k < n; ++k) {
      bool at_end = k == 0;
      AddActivity("Contacts", c.id, at_end ? end : Between(created, end, rng), owner,
                  !at_end && rng.Chance(0.04), rng);
    }
    if (rng.Chance(0.12)) {  // a recent activity that was deleted does not count
      AddActivity("Contacts", c.id, Between(cutoff_ + days(1), now_, rng), owner, 1, rng);
    }
    if (rng.Chance(0.6)) {
      last_contacted = FormatTime(std::max(created, end - seconds(rng.Long(0, 10 * kDay))));
    }
  } else if (rng.Chance(0.06)) {  // never contacted; a deleted activity does not count
    AddActivity("Contacts", c.id, Between(created, now_, rng), owner, 1, rng);
  }
  for (size_t i = 0; i < deals_.size(); ++i) {  // parent_id is a deal id, not a contact id
    if (rng.Chance(0.22)) {
      int n = rng.Int(1, 2);
      for (int k = 0; k < n; ++k) {
        AddActivity("Deals", deals_[i].id, Between(deal_times_[i], now_, rng), owner,
                    rng.Chance(0.05), rng);
      }
    }
  }
  if (grp && grp->has_shared_activity && member <= 1) {
    ActivityRow a = grp->shared_activity;
    a.parent_id = c.id;
    acts_.push_back(std::move(a));
  }
  std::sort(acts_.begin(), acts_.end(), [](const ActivityRow& a, const ActivityRow& b) {
    return a.occurred_at < b.occurred_at;
  });
  SetOrNull(c.last_contacted_at, last_contacted);

  // Consent, bounces, holds, deletion.
  c.email_opt_out = rng.Chance(profile == kStale ? 0.08 : 0.04) ? 1 : 0;
  c.do_not_call = rng.Chance(0.035) ? 1 : 0;
  if (grp && grp->consent_member >= 0) {
    c.email_opt_out = member == grp->consent_member ? 1 : 0;
    c.do_not_call = c.email_opt_out && rng.Chance(0.4) ? 1 : 0;
  }
  c.email_bounced = rng.Chance(email_typo ? 0.7 : profile == kStale ? 0.05 : 0.015) ? 1 : 0;
  if (placeholder) c.email_bounced = rng.Chance(0.15) ? 1 : 0;
  if (c.email.Blank()) c.email_bounced = 0;
  c.legal_hold = rng.Chance(profile == kStale ? 0.06 : 0.004) ? 1 : 0;
  c.deleted = !grp && !placeholder && rng.Chance(0.02) ? 1 : 0;
  if (rng.Chance(0.12))
    c.notes.Set(rng.Pick(kNotes));
  else
    c.notes.Null();

  // Tags.
  tags_.clear();
  auto add_tag = [this](const char* tag, int deleted) {
    for (const auto& t : tags_) {
      if (t.first == tag) return;
    }
    tags_.emplace_back(tag, deleted);
  };
  if (grp && !grp->shared_tag.empty() && member <= 1) add_tag(grp->shared_tag.c_str(), 0);
  auto soft = [&rng] { return rng.Chance(0.03) ? 1 : 0; };
  if (rng.Chance(c.status == "customer" ? 0.2 : 0.05)) add_tag("vip", soft());
  if (rng.Chance(c.email_opt_out ? 0.1 : 0.22)) add_tag("newsletter", soft());
  if (created > now_ - days(330) && rng.Chance(0.15)) add_tag("event-2026", soft());
  if (profile == kStale) {
    double k = rng.Unit();
    if (k < 0.06)
      add_tag("keep", 0);
    else if (k < 0.075)
      add_tag("keep", 1);  // a removed rescue tag protects nothing
  } else if (rng.Chance(0.01)) {
    add_tag("keep", 0);
  }

  // Write: contact, deals, activities, tags.
  w_.Contact();
  for (const auto& d : deals_) {
    w_.d = d;
    w_.Deal();
  }
  for (auto& a : acts_) {
    a.id = next_activity_++;
    w_.a = a;
    w_.Activity();
  }
  for (const auto& [tag, deleted] : tags_) {
    w_.t.id = next_tag_++;
    w_.t.contact_id = c.id;
    w_.t.tag = tag;
    w_.t.deleted = deleted;
    w_.Tag();
  }

  // Count, with the header's definitions.
  ++s_.contacts;
  s_.deals += static_cast<int>(deals_.size());
  s_.activities += static_cast<int>(acts_.size());
  s_.tags += static_cast<int>(tags_.size());
  for (const auto& d : deals_) s_.open_deals += !d.deleted && d.stage == "open";
  if (HasHighByte(c.first_name.v) || HasHighByte(c.last_name.v)) ++s_.non_latin_or_diacritic;
  if (placeholder) {
    ++s_.placeholders;
    s_.placeholder_ids.push_back(std::to_string(c.id));
  }
  if (c.deleted) {
    ++s_.deleted_contacts;
  } else {
    s_.opted_out += c.email_opt_out;
    s_.do_not_call += c.do_not_call;
    s_.bounced += c.email_bounced;
    s_.legal_hold += c.legal_hold;
    s_.customers += c.status == "customer";
    std::string latest = last_contacted;
    for (const auto& a : acts_) {
      if (!a.deleted && a.parent_type == "Contacts") latest = std::max(latest, a.occurred_at);
    }
    if (latest.empty()) {
      ++s_.never_contacted;
    } else if (latest < cutoff_text_) {
      ++s_.stale;
      bool open_deal = false, keep = false;
      for (const auto& d : deals_) open_deal |= !d.deleted && d.stage == "open";
      for (const auto& [tag, deleted] : tags_) keep |= !deleted && tag == "keep";
      if (c.status == "customer" || c.legal_hold || open_deal || keep) ++s_.stale_protected;
    }
  }

  if (grp) {
    grp->ids.push_back(std::to_string(c.id));
    if (grp->ids.size() == grp->members.size()) {
      uint32_t v = grp->applied;
      if (grp->consent_member >= 0) v |= kConsent;
      if (!grp->shared_tag.empty()) v |= kSharedTag;
      if (grp->has_shared_activity) v |= kSharedActivity;
      truths_.push_back({static_cast<long long>(groups_[static_cast<size_t>(gid)][0]) + 1,
                         std::move(grp->ids), VarString(v)});
      open_.erase(gid);
    }
  }
}

// "sqlite" / "mysql", or "" for a backend we do not know.
std::string NormalizeBackend(std::string_view backend) {
  std::string b;
  for (char ch : backend) b += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (b == "sqlite" || b == "sqlite3") return "sqlite";
  if (b == "mysql" || b == "mariadb") return "mysql";
  return {};
}

// "CREATE TABLE name (" -> "name"; "" for other statements.
std::string CreatedTable(std::string_view ddl) {
  constexpr std::string_view kPrefix = "CREATE TABLE ";
  if (ddl.substr(0, kPrefix.size()) != kPrefix) return {};
  ddl.remove_prefix(kPrefix.size());
  return std::string(ddl.substr(0, ddl.find_first_of(" (")));
}

}  // namespace

std::vector<std::string> GenericSchemaTables() {
  return {"users", "contacts", "activities", "deals", "contact_tags"};
}

std::vector<std::string> GenericSchemaDdl(std::string_view backend) {
  const std::string b = NormalizeBackend(backend);
  if (b == "sqlite") {
    return {
        "CREATE TABLE users (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  user_name TEXT NOT NULL UNIQUE,\n"
        "  full_name TEXT,\n"
        "  email TEXT,\n"
        "  is_system INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE contacts (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  first_name TEXT, last_name TEXT, email TEXT, email2 TEXT, phone TEXT, mobile TEXT,\n"
        "  company TEXT, address1 TEXT, address2 TEXT, city TEXT, postcode TEXT, region TEXT,\n"
        "  country TEXT,\n"
        "  birthdate TEXT,\n"
        "  status TEXT NOT NULL DEFAULT 'lead',\n"
        "  owner_id INTEGER, created_by INTEGER, modified_by INTEGER,\n"
        "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_contacted_at TEXT,\n"
        "  email_opt_out INTEGER NOT NULL DEFAULT 0, do_not_call INTEGER NOT NULL DEFAULT 0,\n"
        "  email_bounced INTEGER NOT NULL DEFAULT 0, legal_hold INTEGER NOT NULL DEFAULT 0,\n"
        "  deleted INTEGER NOT NULL DEFAULT 0,\n"
        "  notes TEXT)",
        "CREATE INDEX contacts_owner_id_idx ON contacts (owner_id)",
        "CREATE INDEX contacts_created_by_idx ON contacts (created_by)",
        "CREATE INDEX contacts_modified_by_idx ON contacts (modified_by)",
        "CREATE TABLE activities (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  parent_type TEXT NOT NULL,\n"
        "  parent_id INTEGER NOT NULL,\n"
        "  kind TEXT NOT NULL,\n"
        "  subject TEXT,\n"
        "  occurred_at TEXT NOT NULL,\n"
        "  created_by INTEGER,\n"
        "  deleted INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX activities_parent_idx ON activities (parent_id, parent_type)",
        "CREATE INDEX activities_created_by_idx ON activities (created_by)",
        "CREATE TABLE deals (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  contact_id INTEGER NOT NULL,\n"
        "  name TEXT,\n"
        "  stage TEXT NOT NULL,\n"
        "  amount DECIMAL(12,2),\n"
        "  created_at TEXT NOT NULL,\n"
        "  deleted INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX deals_contact_id_idx ON deals (contact_id)",
        "CREATE TABLE contact_tags (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  contact_id INTEGER NOT NULL,\n"
        "  tag TEXT NOT NULL,\n"
        "  deleted INTEGER NOT NULL DEFAULT 0,\n"
        "  UNIQUE (contact_id, tag))",
    };
  }
  if (b == "mysql") {
    const std::string table_options =
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
    return {
        "CREATE TABLE users (\n"
        "  id BIGINT NOT NULL AUTO_INCREMENT,\n"
        "  user_name VARCHAR(60) NOT NULL,\n"
        "  full_name VARCHAR(150) NULL,\n"
        "  email VARCHAR(255) NULL,\n"
        "  is_system TINYINT(1) NOT NULL DEFAULT 0,\n"
        "  PRIMARY KEY (id),\n"
        "  UNIQUE KEY users_user_name_uq (user_name))" +
            table_options,
        "CREATE TABLE contacts (\n"
        "  id BIGINT NOT NULL AUTO_INCREMENT,\n"
        "  first_name VARCHAR(100) NULL, last_name VARCHAR(100) NULL,\n"
        "  email VARCHAR(255) NULL, email2 VARCHAR(255) NULL,\n"
        "  phone VARCHAR(50) NULL, mobile VARCHAR(50) NULL,\n"
        "  company VARCHAR(150) NULL,\n"
        "  address1 VARCHAR(255) NULL, address2 VARCHAR(255) NULL,\n"
        "  city VARCHAR(100) NULL, postcode VARCHAR(20) NULL, region VARCHAR(100) NULL,\n"
        "  country VARCHAR(100) NULL,\n"
        "  birthdate DATE NULL,\n"
        "  status VARCHAR(20) NOT NULL DEFAULT 'lead',\n"
        "  owner_id BIGINT NULL, created_by BIGINT NULL, modified_by BIGINT NULL,\n"
        "  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,\n"
        "  last_contacted_at DATETIME NULL,\n"
        "  email_opt_out TINYINT(1) NOT NULL DEFAULT 0, do_not_call TINYINT(1) NOT NULL DEFAULT "
        "0,\n"
        "  email_bounced TINYINT(1) NOT NULL DEFAULT 0, legal_hold TINYINT(1) NOT NULL DEFAULT 0,\n"
        "  deleted TINYINT(1) NOT NULL DEFAULT 0,\n"
        "  notes TEXT NULL,\n"
        "  PRIMARY KEY (id),\n"
        "  KEY contacts_owner_id_idx (owner_id),\n"
        "  KEY contacts_created_by_idx (created_by),\n"
        "  KEY contacts_modified_by_idx (modified_by))" +
            table_options,
        "CREATE TABLE activities (\n"
        "  id BIGINT NOT NULL AUTO_INCREMENT,\n"
        "  parent_type VARCHAR(20) NOT NULL,\n"
        "  parent_id BIGINT NOT NULL,\n"
        "  kind VARCHAR(20) NOT NULL,\n"
        "  subject VARCHAR(255) NULL,\n"
        "  occurred_at DATETIME NOT NULL,\n"
        "  created_by BIGINT NULL,\n"
        "  deleted TINYINT(1) NOT NULL DEFAULT 0,\n"
        "  PRIMARY KEY (id),\n"
        "  KEY activities_parent_idx (parent_id, parent_type),\n"
        "  KEY activities_created_by_idx (created_by))" +
            table_options,
        "CREATE TABLE deals (\n"
        "  id BIGINT NOT NULL AUTO_INCREMENT,\n"
        "  contact_id BIGINT NOT NULL,\n"
        "  name VARCHAR(255) NULL,\n"
        "  stage VARCHAR(20) NOT NULL,\n"
        "  amount DECIMAL(12,2) NULL,\n"
        "  created_at DATETIME NOT NULL,\n"
        "  deleted TINYINT(1) NOT NULL DEFAULT 0,\n"
        "  PRIMARY KEY (id),\n"
        "  KEY deals_contact_id_idx (contact_id))" +
            table_options,
        "CREATE TABLE contact_tags (\n"
        "  id BIGINT NOT NULL AUTO_INCREMENT,\n"
        "  contact_id BIGINT NOT NULL,\n"
        "  tag VARCHAR(50) NOT NULL,\n"
        "  deleted TINYINT(1) NOT NULL DEFAULT 0,\n"
        "  PRIMARY KEY (id),\n"
        "  UNIQUE KEY contact_tags_contact_tag_uq (contact_id, tag))" +
            table_options,
    };
  }
  return {};
}

Result<DemoDataSummary> CreateDemoCrm(soci::session& sql, std::string_view backend,
                                      const DemoDataOptions& opt) {
  const std::string kind = NormalizeBackend(backend);
  if (kind.empty()) {
    return Error::Usage("demo CRM: unknown backend '" + std::string(backend) +
                        "' (sqlite or mysql)");
  }
  if (opt.contacts < 0 || opt.contacts > 2'000'000) {
    return Error::Usage("demo CRM: contacts must be between 0 and 2000000, not " +
                        std::to_string(opt.contacts));
  }
  const bool mysql = kind == "mysql";
  try {
    const std::string actual = sql.get_backend_name();
    if (actual != (mysql ? "mysql" : "sqlite3")) {
      return Error::Usage("demo CRM: backend '" + std::string(backend) +
                          "' does not match the session's backend '" + actual + "'");
    }
    if (mysql) sql << "SET NAMES utf8mb4";
    std::string existing;
    for (const std::string& t : GenericSchemaTables()) {
      int n = 0;
      if (mysql) {
        sql << "SELECT COUNT(*) FROM information_schema.tables "
               "WHERE table_schema = DATABASE() AND LOWER(table_name) = :t",
            soci::use(t), soci::into(n);
      } else {
        sql << "SELECT COUNT(*) FROM sqlite_master "
               "WHERE type IN ('table', 'view') AND LOWER(name) = :t",
            soci::use(t), soci::into(n);
      }
      if (n > 0) existing += (existing.empty() ? "" : ", ") + t;
    }
    if (!existing.empty()) {
      return Error::Failed("demo CRM: the database already has table(s) " + existing +
                           "; the demo needs a database without them (nothing was changed)");
    }
  } catch (const std::exception& e) {
    return Error::Failed(std::string("demo CRM: cannot inspect the database: ") + e.what());
  }

  DemoDataSummary summary;
  if (!mysql) {
    // SQLite: DDL is transactional, so schema and data commit (or vanish) together.
    try {
      soci::transaction tr(sql);
      for (const std::string& ddl : GenericSchemaDdl(kind)) sql << ddl;
      {
        Writer w(sql);
        summary = Generator(opt, w).Run();
      }
      tr.commit();
    } catch (const std::exception& e) {
      return Error::Failed(std::string("demo CRM: cannot create the demo data: ") + e.what());
    }
    return summary;
  }

  // MySQL/MariaDB: DDL commits implicitly. Create the tables, fill them in one transaction, and
  // drop what we created if anything fails.
  std::vector<std::string> created;
  try {
    for (const std::string& ddl : GenericSchemaDdl(kind)) {
      sql << ddl;
      if (auto t = CreatedTable(ddl); !t.empty()) created.push_back(t);
    }
    soci::transaction tr(sql);
    {
      Writer w(sql);
      summary = Generator(opt, w).Run();
    }
    tr.commit();
  } catch (const std::exception& e) {
    std::string msg = std::string("demo CRM: cannot create the demo data: ") + e.what();
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
      try {
        sql << "DROP TABLE " + *it;
      } catch (const std::exception& drop) {
        msg += "; and dropping table " + *it + " failed: " + drop.what();
      }
    }
    return Error::Failed(msg);
  }
  return summary;
}

}  // namespace crmh::demo
