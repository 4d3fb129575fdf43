// normalize_bench: what match/normalize costs per value, and what its memo saves.
//
// Corpus (generated, seeded, embedded lists): person names in ten scripts/languages (ASCII
// English/Spanish/German, accented Latin, Vietnamese, Chinese, Cyrillic, Persian/Arabic, Greek,
// Amharic, Korean), company names with legal forms, and phone numbers in the formats people type
// (US and DE regions; +CC, 00, 011, trunk 0/1, punctuation, "(0)", extensions).
//
// Measured, each on a fresh Normalizer so nothing is memoized unless stated:
//   cold   every distinct value once: the real per-value cost (ICU, libphonenumber)
//   warm   the same values again on the same Normalizer: a memo hit
//   stream a record stream drawn from the distinct values with a skewed (Zipf s=1) choice, as
//          a CRM repeats names, companies and switchboard numbers; reports values/s and the memo
//          hit rate (1 - distinct seen / calls)
// Times are the minimum over --reps repetitions (default 5) of each measurement.
//
// Usage: normalize_bench [--distinct N] [--stream N] [--reps N] [--seed N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "match/normalize.h"

namespace {

using crmh::match::NormalizeOptions;
using crmh::match::Normalizer;
using Clock = std::chrono::steady_clock;

struct Script {
  const char* name;
  std::vector<const char*> given;
  std::vector<const char*> family;
  const char* join;  // between given and family name
};

const std::vector<Script>& Scripts() {
  static const std::vector<Script> s = {
      {"ascii",
       {"John", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "William", "Linda",
        "Dr. James", "Mrs. Susan", "Bob", "Liz", "O'Brien", "Jean-Luc", "Kate", "Steve"},
       {"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "O'Neil",
        "Rodriguez", "Martinez", "Schmidt", "Mueller", "Wilson Jr.", "Taylor", "Anderson, PhD"},
       " "},
      {"latin-accented",
       {"José", "María", "François", "Zoë", "Jürgen", "Łukasz", "Søren", "Ángel", "Inês", "Çağla",
        "Miloš", "Ådne"},
       {"Núñez", "Müller", "Lefèvre", "Kowalczyk", "Øvergård", "Gonçalves", "Şahin", "Dvořák",
        "Straße", "Ibáñez", "Björk", "Fernández"},
       " "},
      {"vietnamese",
       {"Văn Đức", "Thị Ánh", "Minh Tuấn", "Thu Hương", "Quốc Bảo", "Ngọc Lan", "Đình Phúc",
        "Hoàng Yến"},
       {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Đặng", "Bùi"},
       " "},
      {"chinese",
       {"小明", "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊"},
       {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"},
       ""},
      {"cyrillic",
       {"Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Наталья", "Сергей", "Елена"},
       {"Петров", "Иванова", "Смирнов", "Кузнецова", "Попов", "Соколова", "Лебедев", "Новикова"},
       " "},
      {"persian-arabic",
       {"محمد", "علی", "فاطمه", "زهرا", "حسین", "مریم", "رضا", "أحمد"},
       {"رضایی", "محمدی", "حسینی", "احمدی", "کریمی", "موسوی", "العلي", "حسن"},
       " "},
      {"greek",
       {"Γιώργος", "Μαρία", "Νίκος", "Ελένη", "Δημήτρης", "Κατερίνα"},
       {"Παπαδόπουλος", "Παπαδοπούλου", "Γεωργίου", "Νικολάου", "Οικονόμου", "Δημητρίου"},
       " "},
      {"amharic",
       {"አበበ", "ኃይሌ", "መሰረት", "ጥሩነሽ", "ቀነኒሳ", "ደራርቱ"},
       {"ቢቂላ", "ገብረሥላሴ", "ደፋር", "ዲባባ", "በቀለ", "ቱሉ"},
       " "},
      {"korean",
       {"민준", "서연", "지훈", "하은", "도윤", "지우"},
       {"김", "이", "박", "최", "정", "강"},
       ""},
  };
  return s;
}

// `n` distinct names of one script (index into Scripts()), or of all non-ASCII scripts (-1).
std::vector<std::string> DistinctNames(size_t n, std::mt19937& rng, int script) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  const auto& scripts = Scripts();
  size_t attempts = 0;
  while (out.size() < n && attempts++ < n * 50) {
    const Script& s = script >= 0 ? scripts[static_cast<size_t>(script)]
                                  : scripts[1 + rng() % (scripts.size() - 1)];
    std::string name;
    if (s.join[0] == '\0') {  // CJK: family name first, no space
      name = std::string(s.family[rng() % s.family.size()]) + s.given[rng() % s.given.size()];
    } else {
      name =
          std::string(s.given[rng() % s.given.size()]) + s.join + s.family[rng() % s.family.size()];
    }
    // Vary the string (as real data does: spacing, a middle initial, a number) for many distinct.
    switch (rng() % 4) {
      case 0:
        break;
      case 1:
        name = "  " + name;
        break;
      case 2:
        name += " " + std::string(1, static_cast<char>('A' + rng() % 26)) + ".";
        break;
      case 3:
        name += " " + std::to_string(rng() % 1000);
        break;
    }
    if (seen.insert(name).second) out.push_back(std::move(name));
  }
  return out;
}

std::vector<std::string> DistinctPhones(size_t n, std::mt19937& rng) {
  static const char* const kFormats[] = {
      "+1 (%03u) 555-%04u", "001 %03u 555 %04u", "1-%03u-555-%04u",     "(%03u) 555-%04u",
      "%03u.555.%04u x12",  "+49 30 %03u%04u",   "0049 30 %03u %04u",   "+49 (0)30 %03u%04u",
      "+84 28 3%03u %04u",  "+44 20 7%03u %04u", "011 33 1 4%03u %04u", "+61 2 9%03u %04u"};
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  while (out.size() < n) {
    char buf[64];
    const char* fmt = kFormats[rng() % std::size(kFormats)];
    std::snprintf(buf, sizeof buf, fmt, 200 + rng() % 700, rng() % 10000);
    if (seen.insert(buf).second) out.emplace_back(buf);
  }
  return out;
}

std::vector<std::string> DistinctCompanies(size_t n, std::mt19937& rng) {
  static const char* const kStems[] = {"Acme",
                                       "Globex",
                                       "Initech",
                                       "Umbrella",
                                       "Hooli",
                                       "Vandelay",
                                       "Công ty TNHH Minh Phát",
                                       "北京华为科技",
                                       "Müller & Söhne",
                                       "ООО Ромашка",
                                       "Stark Industries",
                                       "Wayne Enterprises"};
  static const char* const kForms[] = {", Inc.", " Ltd",        " GmbH & Co. KG", " S.A.",
                                       " LLC",   "有限公司",    " Pty Ltd",       " AG",
                                       "",       " Corporation"};
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  size_t attempts = 0;
  while (out.size() < n && attempts++ < n * 50) {
    std::string c = std::string(kStems[rng() % std::size(kStems)]) + " " +
                    std::to_string(rng() % 5000) + kForms[rng() % std::size(kForms)];
    if (seen.insert(c).second) out.push_back(std::move(c));
  }
  return out;
}

// A stream of `n` picks from `values`, Zipf(s=1)-distributed over a shuffled order.
std::vector<const std::string*> Stream(const std::vector<std::string>& values, size_t n,
                                       std::mt19937& rng) {
  std::vector<double> w(values.size());
  for (size_t i = 0; i < w.size(); ++i) w[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<size_t> pick(w.begin(), w.end());
  std::vector<size_t> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<const std::string*> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(&values[order[pick(rng)]]);
  return out;
}

using Fn = std::function<void(Normalizer&, const std::string&)>;

// Minimum over reps of the time per value, µs. `warm`: a first untimed pass fills the memo.
double PerValueUs(const std::vector<std::string>& values, const Fn& fn, int reps, bool warm,
                  const NormalizeOptions& opt) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    Normalizer n(opt);
    if (warm) {
      for (const auto& v : values) fn(n, v);
    }
    const auto t0 = Clock::now();
    for (const auto& v : values) fn(n, v);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    best = std::min(best, us / static_cast<double>(values.size()));
  }
  return best;
}

struct StreamResult {
  double per_second;
  double hit_rate;
};
StreamResult RunStream(const std::vector<const std::string*>& stream, const Fn& fn, int reps,
                       const NormalizeOptions& opt) {
  std::unordered_set<const std::string*> distinct(stream.begin(), stream.end());
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    Normalizer n(opt);
    const auto t0 = Clock::now();
    for (const auto* v : stream) fn(n, *v);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return {static_cast<double>(stream.size()) / best,
          1.0 - static_cast<double>(distinct.size()) / static_cast<double>(stream.size())};
}

size_t ArgValue(int argc, char** argv, const char* flag, size_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0)
      return static_cast<size_t>(std::strtoull(argv[i + 1], nullptr, 10));
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::puts("usage: normalize_bench [--distinct N] [--stream N] [--reps N] [--seed N]");
      return 0;
    }
  }
  const size_t distinct = ArgValue(argc, argv, "--distinct", 5000);
  const size_t stream_len = ArgValue(argc, argv, "--stream", 200000);
  const int reps = static_cast<int>(ArgValue(argc, argv, "--reps", 5));
  std::mt19937 rng(static_cast<unsigned>(ArgValue(argc, argv, "--seed", 42)));

  const auto names_ascii = DistinctNames(distinct, rng, 0);
  const auto names_intl = DistinctNames(distinct, rng, -1);
  const auto phones = DistinctPhones(distinct, rng);
  const auto companies = DistinctCompanies(distinct, rng);
  std::vector<std::string> names_mixed = names_ascii;  // half ASCII, half other scripts
  names_mixed.insert(names_mixed.end(), names_intl.begin(), names_intl.end());

  const NormalizeOptions us;
  const Fn name = [](Normalizer& n, const std::string& v) { (void)n.Name(v); };
  const Fn given = [](Normalizer& n, const std::string& v) { (void)n.GivenName(v); };
  const Fn company = [](Normalizer& n, const std::string& v) { (void)n.Company(v); };
  const Fn key = [](Normalizer& n, const std::string& v) { (void)n.PhoneKey(v); };
  const Fn e164 = [](Normalizer& n, const std::string& v) { (void)n.PhoneE164(v); };

  {  // process-wide one-time costs (ICU data, libphonenumber metadata, tables) not counted
    Normalizer warmup(us);
    (void)warmup.Name("Иван 王");
    (void)warmup.ToAscii("«x»");
    (void)warmup.Company("x");
    (void)warmup.CountryCode("x");
    (void)warmup.PhoneE164("+1 415 555 0100");
  }
  const auto t_create0 = Clock::now();
  for (int i = 0; i < 10; ++i) Normalizer n(us);
  const double create_us =
      std::chrono::duration<double, std::micro>(Clock::now() - t_create0).count() / 10;

  std::printf(
      "normalize_bench: %zu distinct values per kind (ASCII names %zu, other scripts %zu), "
      "stream %zu, reps %d\n\n",
      distinct, names_ascii.size(), names_intl.size(), stream_len, reps);
  std::printf("%-34s %12s %12s\n", "per value (min of reps)", "cold µs", "memo hit µs");
  auto row = [&](const char* label, const std::vector<std::string>& v, const Fn& fn) {
    std::printf("%-34s %12.3f %12.3f\n", label, PerValueUs(v, fn, reps, false, us),
                PerValueUs(v, fn, reps, true, us));
  };
  row("Name, ASCII", names_ascii, name);
  row("Name, other scripts (mix)", names_intl, name);
  for (size_t i = 1; i < Scripts().size(); ++i) {
    const std::string label = std::string("  Name, ") + Scripts()[i].name;
    row(label.c_str(), DistinctNames(distinct / 4, rng, static_cast<int>(i)), name);
  }
  row("GivenName, ASCII", names_ascii, given);
  row("Company, mixed", companies, company);
  row("PhoneKey", phones, key);
  row("PhoneE164 (libphonenumber)", phones, e164);
  std::printf("%-34s %12.1f\n\n", "Normalizer construction", create_us);
  // (the first non-Latin name also clones Any-Latin, the first odd character Latin-ASCII)

  std::printf("%-34s %12s %12s\n", "Zipf stream (values/s)", "values/s", "memo hits");
  auto srow = [&](const char* label, const std::vector<std::string>& v, const Fn& fn) {
    const auto stream = Stream(v, stream_len, rng);
    const StreamResult r = RunStream(stream, fn, reps, us);
    std::printf("%-34s %12.0f %11.1f%%\n", label, r.per_second, 100.0 * r.hit_rate);
  };
  srow("Name, half ASCII / half scripts", names_mixed, name);
  srow("PhoneKey", phones, key);
  srow("PhoneE164", phones, e164);
  srow("Company", companies, company);
  return 0;
}
