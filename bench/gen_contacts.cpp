// gen_contacts: a large, realistic, dirty contact CRM in the generic schema, written as TSV files
// for `LOAD DATA LOCAL INFILE` (bench/dedup_scale.py loads them into MariaDB), with the ground
// truth of every duplicate group.
//
//   gen_contacts --contacts N [--seed S] --out DIR
//
// DIR receives schema.sql (the generic profile's MySQL DDL, exactly what `crm-hygiene demo` and
// the tests create: daemon/demo_data.h GenericSchemaDdl), users.tsv, contacts.tsv,
// activities.tsv, deals.tsv, contact_tags.tsv, truth.tsv (contact id → person id, one line per
// contact: contacts with one person id are true duplicates) and summary.json (the realized
// distribution). The distribution is documented in docs/dedup.md ("Scale benchmark"); every
// number there is a constant in this file. Deterministic: the same (N, seed) gives identical
// files.
//
// Shape: people live in "units" (a unit of 1 person, or a household of 2–4 sharing surname,
// street address and landline); a person may work at a company (Zipf over companies; some use
// the company's switchboard number, shared by every such colleague). Originals get ids
// 1..P in creation order; duplicate records (FEBRL-style corruptions of a person) come after
// them, in random order, as if entered again later.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/demo_data.h"

namespace {

// --- deterministic randomness ---------------------------------------------------------------
uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(Mix(seed)) {}
  uint64_t Next() {
    s += 0x9e3779b97f4a7c15ULL;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double U() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
  bool P(double p) { return U() < p; }
  int Range(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<size_t>(hi - lo + 1))); }
  // Zipf-like rank in [0, n): P(k) ∝ 1/(k+1)^s, by inversion on the continuous approximation.
  size_t Zipf(size_t n, double exponent = 1.0) {
    if (n <= 1) return 0;
    double u = U();
    if (std::abs(exponent - 1.0) < 1e-9) {
      double k = std::exp(u * std::log(static_cast<double>(n) + 1.0)) - 1.0;
      return std::min(n - 1, static_cast<size_t>(k));
    }
    double a = 1.0 - exponent;
    double hi = std::pow(static_cast<double>(n) + 1.0, a);
    double k = std::pow(1.0 + u * (hi - 1.0), 1.0 / a) - 1.0;
    return std::min(n - 1, static_cast<size_t>(k));
  }
  template <class T>
  const T& Pick(const std::vector<T>& v) { return v[Below(v.size())]; }
};

// A name in its native script and its Latin spelling (equal for Latin-script names).
struct Name {
  std::string native, latin;
};

// --- country data -----------------------------------------------------------------------------
struct Country {
  std::string code;
  double weight;
  double native_share;  // share of records whose names are typed in the native script
  std::vector<std::string> spellings;  // how the country column is typed
  std::vector<Name> given, surname;    // surname list in frequency order (Zipf)
  double surname_zipf;                  // exponent: VN/CN surnames are very concentrated
  std::vector<Name> middle;             // VN: middle names prefixed to the given name
  std::vector<std::string> cities;      // "city|region|postcode pattern|area code"
  std::vector<std::string> streets;     // pattern, # = digit
  std::string cc, trunk;
  int subscriber_digits;
  std::vector<std::string> mobile_prefix;
  std::vector<std::string> domains;
  std::vector<std::string> legal;  // company name patterns, {} = the company stem
};

std::vector<Name> Same(std::initializer_list<const char*> names) {
  std::vector<Name> v;
  for (const char* n : names) v.push_back({n, n});
  return v;
}
std::vector<Name> Pairs(std::initializer_list<std::pair<const char*, const char*>> names) {
  std::vector<Name> v;
  for (const auto& [a, b] : names) v.push_back({a, b});
  return v;
}
// Latin-script surnames: the real common ones first, then prefix×suffix compounds (the long tail).
std::vector<Name> Compound(std::vector<Name> head, std::initializer_list<const char*> pre,
                           std::initializer_list<const char*> suf) {
  for (const char* p : pre) {
    for (const char* s : suf) {
      std::string n = std::string(p) + s;
      head.push_back({n, n});
    }
  }
  return head;
}

// Cyrillic → Latin (for e-mail local parts only).
std::string CyrToLatin(std::string_view s) {
  static const std::map<std::string, std::string> k = {
      {"а", "a"}, {"б", "b"}, {"в", "v"}, {"г", "g"}, {"д", "d"}, {"е", "e"}, {"ё", "e"},
      {"ж", "zh"}, {"з", "z"}, {"и", "i"}, {"й", "y"}, {"к", "k"}, {"л", "l"}, {"м", "m"},
      {"н", "n"}, {"о", "o"}, {"п", "p"}, {"р", "r"}, {"с", "s"}, {"т", "t"}, {"у", "u"},
      {"ф", "f"}, {"х", "kh"}, {"ц", "ts"}, {"ч", "ch"}, {"ш", "sh"}, {"щ", "shch"}, {"ъ", ""},
      {"ы", "y"}, {"ь", ""}, {"э", "e"}, {"ю", "yu"}, {"я", "ya"}, {"А", "A"}, {"Б", "B"},
      {"В", "V"}, {"Г", "G"}, {"Д", "D"}, {"Е", "E"}, {"Ж", "Zh"}, {"З", "Z"}, {"И", "I"},
      {"К", "K"}, {"Л", "L"}, {"М", "M"}, {"Н", "N"}, {"О", "O"}, {"П", "P"}, {"Р", "R"},
      {"С", "S"}, {"Т", "T"}, {"У", "U"}, {"Ф", "F"}, {"Х", "Kh"}, {"Ц", "Ts"}, {"Ч", "Ch"},
      {"Ш", "Sh"}, {"Э", "E"}, {"Ю", "Yu"}, {"Я", "Ya"}};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t len = (static_cast<unsigned char>(s[i]) & 0x80) ? 2 : 1;
    std::string ch(s.substr(i, len));
    auto it = k.find(ch);
    out += it == k.end() ? ch : it->second;
    i += len;
  }
  return out;
}
std::vector<Name> Russian() {
  const char* stems[] = {"Иван", "Смирн", "Кузнец", "Поп", "Васил", "Петр", "Соколо", "Михайл",
                         "Новик", "Федор", "Мороз", "Волк", "Алексе", "Лебед", "Семен", "Егор",
                         "Павл", "Козл", "Степан", "Николае", "Орл", "Андре", "Макар", "Никит",
                         "Захар", "Зайц", "Солов", "Борис", "Яковл", "Григор", "Роман", "Воробь",
                         "Серге", "Кузьмин", "Фрол", "Александр", "Дмитри", "Королё", "Гусе",
                         "Киселё", "Ильин", "Максим", "Поляк", "Сорокин", "Виноград", "Ковалё",
                         "Белоус", "Медвед", "Антон", "Тарас", "Жук", "Баран", "Куликов", "Комар"};
  const char* suf[] = {"ов", "ев", "ин"};
  std::vector<Name> v;
  for (const char* st : stems) {
    for (const char* sf : suf) {
      std::string n = std::string(st) + sf;
      v.push_back({n, CyrToLatin(n)});
    }
  }
  return v;
}
std::vector<Name> ChineseGiven() {
  // One or two characters; each with its pinyin.
  static const std::vector<std::pair<const char*, const char*>> c = {
      {"伟", "wei"},   {"芳", "fang"},  {"娜", "na"},    {"敏", "min"},   {"静", "jing"},
      {"丽", "li"},    {"强", "qiang"}, {"磊", "lei"},   {"军", "jun"},   {"洋", "yang"},
      {"勇", "yong"},  {"艳", "yan"},   {"杰", "jie"},   {"娟", "juan"},  {"涛", "tao"},
      {"明", "ming"},  {"超", "chao"},  {"秀", "xiu"},   {"霞", "xia"},   {"平", "ping"},
      {"刚", "gang"},  {"桂", "gui"},   {"英", "ying"},  {"华", "hua"},   {"兰", "lan"},
      {"建", "jian"},  {"国", "guo"},   {"文", "wen"},   {"辉", "hui"},   {"玲", "ling"},
      {"鹏", "peng"},  {"宇", "yu"},    {"浩", "hao"},   {"晨", "chen"},  {"欣", "xin"},
      {"博", "bo"},    {"志", "zhi"},   {"海", "hai"},   {"雪", "xue"},   {"梅", "mei"},
      {"琳", "lin"},   {"婷", "ting"},  {"慧", "hui"},   {"佳", "jia"},   {"子", "zi"},
      {"晓", "xiao"},  {"天", "tian"},  {"嘉", "jia"},   {"俊", "jun"},   {"凯", "kai"},
      {"睿", "rui"},   {"思", "si"},    {"雨", "yu"},    {"泽", "ze"},    {"轩", "xuan"},
      {"涵", "han"},   {"怡", "yi"},    {"昊", "hao"},   {"瑶", "yao"},   {"锦", "jin"}};
  std::vector<Name> v;
  for (const auto& [a, b] : c) v.push_back({a, b});
  for (size_t i = 0; i < c.size(); i += 1) {
    for (size_t j = 0; j < c.size(); j += 3) {
      if (i == j) continue;
      v.push_back({std::string(c[i].first) + c[j].first, std::string(c[i].second) + c[j].second});
    }
  }
  return v;
}

std::vector<Country> Countries() {
  std::vector<Country> v;
  // clang-format off
  v.push_back({"US", 20, 0, {"United States", "USA", "US", "U.S.A.", "united states", "Hoa Kỳ", "Mỹ", "美国", "ایالات متحده"},
      Same({"James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles",
            "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Andrew", "Joshua", "Kevin", "Brian",
            "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
            "Nancy", "Margaret", "Lisa", "Betty", "Sandra", "Ashley", "Kimberly", "Emily", "Donna", "Michelle",
            "Katherine", "Rebecca", "Deborah", "Stephanie", "Jacob", "Ethan", "Olivia", "Emma", "Ava", "Sophia"}),
      Compound(Same({"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
                     "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
                     "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
                     "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter",
                     "Mitchell", "Roberts", "O'Brien", "McDonald", "Kowalski", "Nguyen", "Patel", "Kim"}),
               {"Ash", "Black", "Brad", "Brook", "Cald", "Crane", "Dun", "Elm", "Fair", "Gold", "Hart", "Hol",
                "Kings", "Lang", "Mar", "Nor", "Oak", "Pen", "Red", "Stan", "Thorn", "Under", "West", "Whit",
                "Wood", "Hamp", "Chest", "Bel", "Rad", "Sum"},
               {"ford", "well", "ley", "ton", "wood", "field", "worth", "by", "ridge", "more", "stead", "wick",
                "shaw", "mond", "hurst", "brook", "land", "ham", "dale", "er"}),
      1.0, {},
      {"New York|NY|100##|212", "Los Angeles|CA|900##|213", "Chicago|IL|606##|312", "Houston|TX|770##|713",
       "Phoenix|AZ|850##|602", "Philadelphia|PA|191##|215", "San Antonio|TX|782##|210", "San Diego|CA|921##|619",
       "Dallas|TX|752##|214", "Austin|TX|787##|512", "Seattle|WA|981##|206", "Denver|CO|802##|303",
       "Boston|MA|021##|617", "Portland|OR|972##|503", "Atlanta|GA|303##|404", "Miami|FL|331##|305"},
      {"### Main St", "#### Oak Avenue", "## Maple Dr.", "### Washington Blvd", "#### Park Ave, Apt #B",
       "### Cedar Lane", "## Elm Street", "#### Lake View Rd", "### Pine St, Suite ###", "## Sunset Blvd"},
      "1", "1", 7, {"", ""}, {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com", "icloud.com"},
      {"{} Inc.", "{}, Inc.", "{} LLC", "{} Corp.", "{} Corporation", "{}"}});
  v.push_back({"GB", 7, 0, {"United Kingdom", "UK", "GB", "Great Britain", "England", "U.K.", "Vương quốc Anh"},
      Same({"Oliver", "George", "Harry", "Jack", "William", "Robert", "Alistair", "Rhys", "Thomas", "James",
            "Amelia", "Isla", "Charlotte", "Siobhan", "Fiona", "Margaret", "Elizabeth", "Emily", "Sophie", "Grace",
            "Alfie", "Charlie", "Freddie", "Archie", "Poppy", "Evie", "Ruby", "Imogen", "Hamish", "Niamh"}),
      Compound(Same({"Taylor", "Evans", "Wilson", "Davies", "Walker", "O'Brien", "McKenzie", "Hughes",
                     "Fitzgerald", "Smythe", "Patel", "Roberts", "Wright", "Thompson", "Edwards", "Green"}),
               {"Ash", "Bram", "Carl", "Dart", "Eas", "Fel", "Grim", "Hal", "Ing", "Kel", "Lud", "Mal", "Ned",
                "Ott", "Pad", "Rams", "Sed", "Tad", "Wal", "Yar"},
               {"ington", "bury", "combe", "den", "field", "gate", "ham", "ley", "low", "more", "sey", "ton",
                "well", "wick", "worth"}),
      1.0, {},
      {"London|England|SW1A #@@|20", "Manchester|England|M# #@@|161", "Edinburgh|Scotland|EH# #@@|131",
       "Bristol|England|BS# #@@|117", "Leeds|England|LS# #@@|113", "Cardiff|Wales|CF## #@@|29"},
      {"## High Street", "# Baker Street", "## Station Road", "Flat #, ## Church Lane", "### London Road"},
      "44", "0", 7, {"7700", "7911", "7400"}, {"gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"},
      {"{} Ltd", "{} Limited", "{} Ltd.", "{} PLC", "{}"}});
  v.push_back({"DE", 9, 0.85, {"Germany", "Deutschland", "DE", "germany", "GER", "Đức", "德国", "آلمان"},
      Pairs({{"Jürgen", "Juergen"}, {"Günther", "Guenther"}, {"Jörg", "Joerg"}, {"Björn", "Bjoern"},
             {"Lukas", "Lukas"}, {"Maximilian", "Maximilian"}, {"Stefan", "Stefan"}, {"Uwe", "Uwe"},
             {"Sören", "Soeren"}, {"Klaus", "Klaus"}, {"Wolfgang", "Wolfgang"}, {"Felix", "Felix"},
             {"Anna", "Anna"}, {"Sophie", "Sophie"}, {"Katharina", "Katharina"}, {"Claudia", "Claudia"},
             {"Petra", "Petra"}, {"Sabine", "Sabine"}, {"Jördis", "Joerdis"}, {"Bärbel", "Baerbel"},
             {"Ursula", "Ursula"}, {"Heike", "Heike"}, {"Lena", "Lena"}, {"Mia", "Mia"}}),
      Compound(Pairs({{"Müller", "Mueller"}, {"Schmidt", "Schmidt"}, {"Schneider", "Schneider"},
                      {"Fischer", "Fischer"}, {"Weber", "Weber"}, {"Meyer", "Meyer"}, {"Schäfer", "Schaefer"},
                      {"Köhler", "Koehler"}, {"Groß", "Gross"}, {"Krüger", "Krueger"}, {"Weiß", "Weiss"},
                      {"Hoffmann", "Hoffmann"}, {"Wagner", "Wagner"}, {"Becker", "Becker"}}),
               {"Ober", "Unter", "Stein", "Berg", "Roth", "Schwarz", "Hoch", "Neu", "Alt", "Kirch", "Lind",
                "Rosen", "Wald", "Brück", "Feld", "Grün"},
               {"mann", "berger", "er", "hofer", "meier", "huber", "bauer", "hausen", "thal", "feld"}),
      1.0, {},
      {"Berlin|Berlin|10###|30", "München|Bayern|80###|89", "Hamburg|Hamburg|20###|40",
       "Köln|Nordrhein-Westfalen|50###|221", "Frankfurt am Main|Hessen|60###|69", "Stuttgart|Baden-Württemberg|70###|711"},
      {"Hauptstraße ##", "Bahnhofstr. #", "Schillerstraße ##a", "Am Markt #", "Goethestraße ###", "Lindenallee ##"},
      "49", "0", 8, {"151", "160", "170", "176"}, {"web.de", "gmx.de", "gmail.com", "t-online.de", "gmx.net"},
      {"{} GmbH", "{} GmbH & Co. KG", "{} AG", "{} Gmbh", "{}"}});
  v.push_back({"FR", 6, 0.8, {"France", "FR", "france", "République française", "Pháp", "法国"},
      Pairs({{"François", "Francois"}, {"Jérôme", "Jerome"}, {"Théo", "Theo"}, {"Nicolas", "Nicolas"},
             {"Julien", "Julien"}, {"Mathieu", "Mathieu"}, {"Cédric", "Cedric"}, {"Pierre", "Pierre"},
             {"Hélène", "Helene"}, {"Amélie", "Amelie"}, {"Céline", "Celine"}, {"Chloé", "Chloe"},
             {"Camille", "Camille"}, {"Léa", "Lea"}, {"Émilie", "Emilie"}, {"Maëlle", "Maelle"},
             {"Louis", "Louis"}, {"Hugo", "Hugo"}, {"Manon", "Manon"}, {"Inès", "Ines"}}),
      Compound(Pairs({{"Lefèvre", "Lefevre"}, {"Dubois", "Dubois"}, {"Moreau", "Moreau"}, {"Laurent", "Laurent"},
                      {"Girard", "Girard"}, {"Bonnet", "Bonnet"}, {"Dupont", "Dupont"}, {"Béranger", "Beranger"},
                      {"Mercier", "Mercier"}, {"de la Tour", "de la Tour"}, {"Lemaître", "Lemaitre"},
                      {"Martin", "Martin"}, {"Bernard", "Bernard"}, {"Petit", "Petit"}}),
               {"Beau", "Belle", "Ch", "Du", "Fon", "Gar", "Le", "Mal", "Mont", "Ro", "Ste", "Vil"},
               {"champ", "mont", "ville", "lier", "rand", "roux", "not", "vert", "ard", "quet"}),
      1.0, {},
      {"Paris|Île-de-France|750##|1", "Lyon|Auvergne-Rhône-Alpes|6900#|4", "Marseille|Provence-Alpes-Côte d'Azur|130##|4",
       "Toulouse|Occitanie|31###|5", "Lille|Hauts-de-France|59###|3"},
      {"## rue de la Paix", "# avenue des Champs-Élysées", "## boulevard Voltaire", "# place Bellecour", "### rue Lafayette"},
      "33", "0", 8, {"6", "7"}, {"orange.fr", "free.fr", "gmail.com", "laposte.net", "sfr.fr"},
      {"{} SA", "{} S.A.", "{} SARL", "{} SAS", "{}"}});
  v.push_back({"BR", 8, 0.75, {"Brazil", "Brasil", "BR", "brazil", "República Federativa do Brasil", "Ba Tây"},
      Pairs({{"João", "Joao"}, {"José", "Jose"}, {"Antônio", "Antonio"}, {"Lucas", "Lucas"}, {"Gabriel", "Gabriel"},
             {"Thiago", "Thiago"}, {"Sebastião", "Sebastiao"}, {"Rafael", "Rafael"}, {"Pedro", "Pedro"},
             {"Ana", "Ana"}, {"Maria", "Maria"}, {"Beatriz", "Beatriz"}, {"Júlia", "Julia"}, {"Larissa", "Larissa"},
             {"Conceição", "Conceicao"}, {"Fernanda", "Fernanda"}, {"Letícia", "Leticia"}, {"Vitória", "Vitoria"}}),
      Compound(Pairs({{"Silva", "Silva"}, {"Santos", "Santos"}, {"Oliveira", "Oliveira"}, {"Souza", "Souza"},
                      {"Pereira", "Pereira"}, {"Lima", "Lima"}, {"Gonçalves", "Goncalves"}, {"Araújo", "Araujo"},
                      {"Ribeiro", "Ribeiro"}, {"Magalhães", "Magalhaes"}, {"da Costa", "da Costa"},
                      {"Carvalho", "Carvalho"}, {"Almeida", "Almeida"}, {"Rocha", "Rocha"}}),
               {"Silva ", "Santos ", "Costa ", "Lima ", "Souza ", "Alves "},
               {"Ferreira", "Rodrigues", "Gomes", "Martins", "Barbosa", "Cardoso", "Teixeira", "Moreira",
                "Nunes", "Mendes"}),
      1.0, {},
      {"São Paulo|SP|0####-###|11", "Rio de Janeiro|RJ|2####-###|21", "Belo Horizonte|MG|30###-###|31",
       "Curitiba|PR|80###-###|41", "Salvador|BA|40###-###|71"},
      {"Rua Augusta, ####", "Av. Paulista, ####, cj. ##", "Rua da Conceição, ##", "Rua das Flores, ###"},
      "55", "0", 8, {"119", "219", "319"}, {"gmail.com", "uol.com.br", "hotmail.com", "bol.com.br"},
      {"{} Ltda.", "{} LTDA", "{} S.A.", "{} Ltda", "{} ME"}});
  v.push_back({"VN", 14, 0.85, {"Vietnam", "Việt Nam", "Viet Nam", "VN", "vietnam", "越南", "VIET NAM"},
      Pairs({{"An", "An"}, {"Tuấn", "Tuan"}, {"Anh", "Anh"}, {"Huy", "Huy"}, {"Nam", "Nam"}, {"Hùng", "Hung"},
             {"Tùng", "Tung"}, {"Bảo", "Bao"}, {"Mai", "Mai"}, {"Lan", "Lan"}, {"Ánh", "Anh"}, {"Trang", "Trang"},
             {"Hương", "Huong"}, {"Linh", "Linh"}, {"Hằng", "Hang"}, {"Ngọc", "Ngoc"}, {"Dũng", "Dung"},
             {"Khoa", "Khoa"}, {"Long", "Long"}, {"Phúc", "Phuc"}, {"Quân", "Quan"}, {"Sơn", "Son"},
             {"Thảo", "Thao"}, {"Vy", "Vy"}, {"Yến", "Yen"}, {"Hà", "Ha"}, {"Hiếu", "Hieu"}, {"Khánh", "Khanh"},
             {"Minh", "Minh"}, {"Nhung", "Nhung"}, {"Phương", "Phuong"}, {"Quỳnh", "Quynh"}, {"Tâm", "Tam"},
             {"Thắng", "Thang"}, {"Trung", "Trung"}, {"Uyên", "Uyen"}, {"Việt", "Viet"}, {"Xuân", "Xuan"},
             {"Đạt", "Dat"}, {"Duy", "Duy"}, {"Giang", "Giang"}, {"Hải", "Hai"}, {"Hoa", "Hoa"}, {"Kiên", "Kien"},
             {"Lộc", "Loc"}, {"Nga", "Nga"}, {"Oanh", "Oanh"}, {"Phong", "Phong"}, {"Thủy", "Thuy"}, {"Vinh", "Vinh"}}),
      Pairs({{"Nguyễn", "Nguyen"}, {"Trần", "Tran"}, {"Lê", "Le"}, {"Phạm", "Pham"}, {"Hoàng", "Hoang"},
             {"Huỳnh", "Huynh"}, {"Phan", "Phan"}, {"Vũ", "Vu"}, {"Võ", "Vo"}, {"Đặng", "Dang"}, {"Bùi", "Bui"},
             {"Đỗ", "Do"}, {"Hồ", "Ho"}, {"Ngô", "Ngo"}, {"Dương", "Duong"}, {"Lý", "Ly"}, {"Trương", "Truong"},
             {"Đinh", "Dinh"}, {"Lâm", "Lam"}, {"Mai", "Mai"}, {"Tô", "To"}, {"Cao", "Cao"}, {"Lương", "Luong"},
             {"Tạ", "Ta"}, {"Chu", "Chu"}}),
      1.3,
      Pairs({{"Văn", "Van"}, {"Thị", "Thi"}, {"Minh", "Minh"}, {"Ngọc", "Ngoc"}, {"Đức", "Duc"},
             {"Thanh", "Thanh"}, {"Quốc", "Quoc"}, {"Hoàng", "Hoang"}, {"Thu", "Thu"}, {"Phương", "Phuong"},
             {"Bảo", "Bao"}, {"Hữu", "Huu"}, {"Gia", "Gia"}, {"Kim", "Kim"}, {"Xuân", "Xuan"}, {"Công", "Cong"}}),
      {"Hà Nội|Hà Nội|100000|24", "TP. Hồ Chí Minh|TP.HCM|700000|28", "Đà Nẵng|Đà Nẵng|550000|236",
       "Hải Phòng|Hải Phòng|180000|225", "Cần Thơ|Cần Thơ|900000|292", "Huế|Thừa Thiên Huế|530000|234"},
      {"## Lê Lợi, Phường Bến Nghé, Quận #", "### Nguyễn Trãi, Thanh Xuân", "Số ## Trần Phú",
       "## Hai Bà Trưng, Quận #", "Ngõ ## Phố Huế", "### Điện Biên Phủ, Phường #"},
      "84", "0", 7, {"91", "98", "90", "93", "97"}, {"gmail.com", "yahoo.com.vn", "outlook.com"},
      {"Công ty TNHH {}", "Cong ty TNHH {}", "{} Co., Ltd", "Công ty Cổ phần {}", "{} JSC", "CÔNG TY TNHH {}"}});
  v.push_back({"CN", 14, 0.7, {"China", "中国", "CN", "PRC", "People's Republic of China", "Trung Quốc", "china"},
      ChineseGiven(),
      Pairs({{"王", "Wang"}, {"李", "Li"}, {"张", "Zhang"}, {"刘", "Liu"}, {"陈", "Chen"}, {"杨", "Yang"},
             {"黄", "Huang"}, {"赵", "Zhao"}, {"吴", "Wu"}, {"周", "Zhou"}, {"徐", "Xu"}, {"孙", "Sun"},
             {"马", "Ma"}, {"朱", "Zhu"}, {"胡", "Hu"}, {"郭", "Guo"}, {"何", "He"}, {"高", "Gao"},
             {"林", "Lin"}, {"罗", "Luo"}, {"郑", "Zheng"}, {"梁", "Liang"}, {"谢", "Xie"}, {"宋", "Song"},
             {"唐", "Tang"}, {"许", "Xu"}, {"韩", "Han"}, {"冯", "Feng"}, {"邓", "Deng"}, {"曹", "Cao"},
             {"彭", "Peng"}, {"曾", "Zeng"}, {"肖", "Xiao"}, {"田", "Tian"}, {"董", "Dong"}, {"袁", "Yuan"},
             {"潘", "Pan"}, {"于", "Yu"}, {"蒋", "Jiang"}, {"蔡", "Cai"}, {"余", "Yu"}, {"杜", "Du"},
             {"叶", "Ye"}, {"程", "Cheng"}, {"苏", "Su"}, {"魏", "Wei"}, {"吕", "Lu"}, {"丁", "Ding"},
             {"任", "Ren"}, {"沈", "Shen"}, {"欧阳", "Ouyang"}, {"司马", "Sima"}}),
      1.0, {},
      {"北京|北京市|100###|10", "上海|上海市|200###|21", "深圳|广东省|518###|755", "广州|广东省|510###|20",
       "成都|四川省|610###|28", "杭州|浙江省|310###|571", "武汉|湖北省|430###|27"},
      {"朝阳区建国路##号", "浦东新区世纪大道###号", "海淀区中关村大街##号", "天河区天河路###号", "## Jianguo Rd, Chaoyang"},
      "86", "0", 8, {"138", "139", "186", "135", "150"}, {"qq.com", "163.com", "126.com", "gmail.com"},
      {"{}有限公司", "{} Co., Ltd.", "{} Co. Ltd", "{}股份有限公司", "{} Ltd."}});
  v.push_back({"RU", 10, 0.7, {"Russia", "Россия", "Russian Federation", "RU", "russia", "Российская Федерация", "Nga"},
      Pairs({{"Иван", "Ivan"}, {"Дмитрий", "Dmitry"}, {"Алексей", "Alexey"}, {"Сергей", "Sergey"},
             {"Михаил", "Mikhail"}, {"Андрей", "Andrey"}, {"Николай", "Nikolay"}, {"Владимир", "Vladimir"},
             {"Павел", "Pavel"}, {"Артём", "Artyom"}, {"Максим", "Maksim"}, {"Егор", "Egor"},
             {"Анна", "Anna"}, {"Ольга", "Olga"}, {"Наталья", "Natalia"}, {"Елена", "Elena"}, {"Мария", "Maria"},
             {"Татьяна", "Tatiana"}, {"Ирина", "Irina"}, {"Светлана", "Svetlana"}, {"Екатерина", "Ekaterina"},
             {"Юлия", "Yulia"}, {"Дарья", "Darya"}, {"Ксения", "Ksenia"}}),
      Russian(), 1.0, {},
      {"Москва|Москва|101###|495", "Санкт-Петербург|Санкт-Петербург|190###|812",
       "Новосибирск|Новосибирская область|630###|383", "Казань|Татарстан|420###|843", "Екатеринбург|Свердловская область|620###|343"},
      {"ул. Тверская, д. ##", "Невский пр., д. ###", "ул. Ленина, д. ##, кв. ##", "пр. Мира, д. ###"},
      "7", "8", 7, {"916", "903", "926", "985"}, {"yandex.ru", "mail.ru", "gmail.com", "bk.ru"},
      {"ООО «{}»", "OOO {}", "{} LLC", "АО «{}»", "ООО {}"}});
  v.push_back({"IR", 7, 0.65, {"Iran", "ایران", "IR", "Islamic Republic of Iran", "Iran, Islamic Republic of", "Persia"},
      Pairs({{"علی", "Ali"}, {"محمد", "Mohammad"}, {"حسین", "Hossein"}, {"رضا", "Reza"}, {"مهدی", "Mehdi"},
             {"امیر", "Amir"}, {"حمید", "Hamid"}, {"سعید", "Saeed"}, {"مجید", "Majid"}, {"کاوه", "Kaveh"},
             {"بهرام", "Bahram"}, {"داریوش", "Dariush"}, {"فاطمه", "Fatemeh"}, {"زهرا", "Zahra"},
             {"مریم", "Maryam"}, {"سارا", "Sara"}, {"نرگس", "Narges"}, {"لیلا", "Leila"}, {"شیرین", "Shirin"},
             {"پریسا", "Parisa"}, {"نازنین", "Nazanin"}, {"مینا", "Mina"}, {"الهام", "Elham"}, {"آزاده", "Azadeh"}}),
      Compound(Pairs({{"رضایی", "Rezaei"}, {"محمدی", "Mohammadi"}, {"حسینی", "Hosseini"}, {"احمدی", "Ahmadi"},
                      {"کریمی", "Karimi"}, {"موسوی", "Mousavi"}, {"جعفری", "Jafari"}, {"صادقی", "Sadeghi"},
                      {"کاظمی", "Kazemi"}, {"تهرانی", "Tehrani"}}),
               {}, {}),
      1.0, {},
      {"تهران|Tehran|1#####-####|21", "اصفهان|Isfahan|81###-#####|31", "شیراز|Fars|71###-#####|71",
       "مشهد|Razavi Khorasan|91###-#####|51", "تبریز|East Azerbaijan|51###-#####|41"},
      {"خیابان ولیعصر، پلاک ##", "خیابان انقلاب، پلاک ###", "No. ##, Valiasr St.", "خیابان آزادی، کوچه #، پلاک ##"},
      "98", "0", 8, {"912", "935", "919"}, {"gmail.com", "yahoo.com", "chmail.ir"},
      {"شرکت {}", "{} Co.", "{} Ltd.", "{} Company", "{}"}});
  v.push_back({"ET", 5, 0.5, {"Ethiopia", "ኢትዮጵያ", "ET", "ethiopia", "Federal Democratic Republic of Ethiopia"},
      Pairs({{"አበበ", "Abebe"}, {"ዳዊት", "Dawit"}, {"ሄኖክ", "Henok"}, {"ብርሃኑ", "Birhanu"}, {"ተስፋዬ", "Tesfaye"},
             {"ኃይሌ", "Haile"}, {"ዮሐንስ", "Yohannes"}, {"ሰላም", "Selam"}, {"መሰረት", "Meseret"}, {"ትግስት", "Tigist"},
             {"ጥሩነሽ", "Tirunesh"}, {"ሜሮን", "Meron"}, {"ሳምራዊት", "Samrawit"}, {"ግርማ", "Girma"}, {"ደስታ", "Desta"},
             {"በቀለ", "Bekele"}, {"ከበደ", "Kebede"}, {"ታደሰ", "Tadesse"}, {"አለሙ", "Alemu"}, {"ሙሉጌታ", "Mulugeta"},
             {"ሀና", "Hana"}, {"ብሩክ", "Biruk"}, {"ኤልሳ", "Elsa"}, {"ፍቅሩ", "Fikru"}}),
      {},  // Ethiopian surnames are fathers' given names: filled below
      1.0, {},
      {"አዲስ አበባ|Addis Ababa|1000|11", "ባሕር ዳር|Amhara|6000|58", "ሐዋሳ|Sidama|1000|46", "ድሬ ዳዋ|Dire Dawa|3000|25"},
      {"Bole Road, Kebele ##", "Churchill Ave, House No. ###", "ቦሌ መንገድ ##"},
      "251", "0", 7, {"91", "92", "93"}, {"gmail.com", "yahoo.com", "ethionet.et"},
      {"{} PLC", "{} P.L.C.", "{} Share Company", "{} S.C.", "{}"}});
  // clang-format on
  for (auto& c : v) {
    if (c.surname.empty()) c.surname = c.given;
  }
  return v;
}

// Company stems (Latin); a company is stem + " " + stem2 in some country's legal form.
const std::vector<std::string>& CompanyWords() {
  static const std::vector<std::string> k = {
      "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Blue", "Bright", "Cedar", "Citadel", "Coastal",
      "Delta", "Eagle", "Echo", "Emerald", "Falcon", "Frontier", "Global", "Golden", "Granite",
      "Harbor", "Horizon", "Iron", "Jade", "Keystone", "Lotus", "Lumen", "Maple", "Meridian", "Nova",
      "Oak", "Orion", "Pacific", "Phoenix", "Pinnacle", "Prime", "Quantum", "Red", "River", "Sage",
      "Sapphire", "Sierra", "Silver", "Summit", "Sun", "Titan", "Trident", "Unity", "Vertex", "Vista",
      "Zenith", "Minh Phát", "Sài Gòn", "华信", "长城", "Волга", "Сибирь", "پارس", "Habesha"};
  return k;
}
const std::vector<std::string>& CompanyKinds() {
  static const std::vector<std::string> k = {
      "Logistics", "Software", "Trading", "Consulting", "Foods", "Energy", "Textiles", "Media",
      "Systems", "Partners", "Holdings", "Electronics", "Pharma", "Capital", "Builders", "Labs",
      "Motors", "Insurance", "Retail", "Studios", "Telecom", "Farms", "Design", "Health"};
  return k;
}

std::string Fill(std::string_view pattern, Rng& r) {
  std::string out;
  for (char c : pattern) {
    if (c == '#') {
      out += static_cast<char>('0' + r.Below(10));
    } else if (c == '@') {
      out += static_cast<char>('A' + r.Below(26));
    } else {
      out += c;
    }
  }
  return out;
}
std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> v;
  size_t from = 0;
  for (;;) {
    size_t at = s.find(sep, from);
    v.push_back(s.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) return v;
    from = at + 1;
  }
}
std::string Base36(uint64_t v) {
  std::string out;
  do {
    out.insert(out.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
    v /= 36;
  } while (v > 0);
  return out;
}
bool NonAscii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}
std::string Slug(std::string_view s) {
  std::string out;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
    if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// --- phone numbers --------------------------------------------------------------------------
// A number is its national significant digits (area/mobile prefix + subscriber); Format() writes
// it in one of the ways people type numbers.
std::string FormatPhone(const Country& c, const std::string& nsn, int style) {
  std::string a = nsn.substr(0, 3), b = nsn.substr(3, 3), d = nsn.substr(6);
  switch (style % 6) {
    case 0: return "+" + c.cc + " " + a + " " + b + " " + d;
    case 1: return "+" + c.cc + nsn;
    case 2: return c.trunk + nsn;
    case 3: return "(" + c.trunk + a + ") " + b + "-" + d;
    case 4: return "00" + c.cc + " " + nsn;
    default: return c.trunk + a + "." + b + "." + d;
  }
}
std::string NewNsn(const Country& c, const std::string& area, bool mobile, Rng& r) {
  std::string p = mobile && !c.mobile_prefix.empty() && !c.mobile_prefix[0].empty()
                      ? c.mobile_prefix[r.Below(c.mobile_prefix.size())]
                      : area;
  std::string s = p;
  while (static_cast<int>(s.size()) < static_cast<int>(p.size()) + c.subscriber_digits) {
    s += static_cast<char>('0' + (s.size() == p.size() ? 2 + r.Below(8) : r.Below(10)));
  }
  return s;
}

// --- the generator --------------------------------------------------------------------------
struct Options {
  long long contacts = 1000000;
  uint64_t seed = 20261205;
  std::string out;
};

struct Person {
  int country = 0;
  bool native = false;  // names typed in the native script
  Name first, last;
  std::string first_typed, last_typed;  // what the record holds (native or Latin spelling)
  std::string tag;   // person-unique suffix of e-mail local parts
  std::string nick;  // an English nickname, if the first name has a common one
  std::string birthdate;
  std::string email, email2, phone, mobile, company;
  std::string address1, address2, city, postcode, region, country_text;
  int owner = 1;
  long long company_id = -1;
};

// Constants of the published distribution (docs/dedup.md, "Scale benchmark").
constexpr double kHouseholdShare = 0.12;   // of units: households of 2–4 people
constexpr double kCompanyShare = 0.55;     // people with an employer
constexpr double kSwitchboardShare = 0.25; // of the employed: phone = the company switchboard
constexpr double kDuplicateShare = 0.10;   // duplicate records among all contacts
constexpr int kReps = 40;                  // sales reps (users 1..40), system user 41
constexpr double kJunkShare = 0.003;       // placeholder records ("test", "asdf", ...)

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o), countries_(Countries()) {
    double total = 0;
    for (const auto& c : countries_) total += c.weight;
    double acc = 0;
    for (const auto& c : countries_) {
      acc += c.weight / total;
      cum_.push_back(acc);
    }
    companies_ = std::max<long long>(1000, o.contacts / 20);
  }

  int Run() {
    namespace fs = std::filesystem;
    fs::create_directories(o_.out);
    {
      std::ofstream ddl(fs::path(o_.out) / "schema.sql");
      for (const auto& s : crmh::demo::GenericSchemaDdl("mysql")) ddl << s << ";\n";
    }
    Open("users.tsv", users_);
    Open("contacts.tsv", contacts_);
    Open("activities.tsv", activities_);
    Open("deals.tsv", deals_);
    Open("contact_tags.tsv", tags_);
    Open("truth.tsv", truth_);
    for (int u = 1; u <= kReps; ++u) {
      fmt::print(users_, "{}\trep{:02}\tSales Rep {}\trep{:02}@example.com\t0\n", u, u, u, u);
    }
    fmt::print(users_, "{}\tcrm-hygiene\tcrm-hygiene\t\\N\t1\n", kReps + 1);

    // Originals: units of people until the budget for originals is used.
    const long long originals = static_cast<long long>(std::llround(o_.contacts * (1.0 - kDuplicateShare)));
    struct Ref {
      long long unit;
      int member;
      long long person;  // contact id of the original
    };
    std::vector<Ref> people;
    people.reserve(static_cast<size_t>(originals));
    long long unit = 0;
    while (static_cast<long long>(people.size()) < originals) {
      Rng ur(o_.seed ^ Mix(static_cast<uint64_t>(unit) * 2 + 1));
      int size = ur.P(kHouseholdShare) ? ur.Range(2, 4) : 1;
      if (size > 1) ++households_;
      for (int m = 0; m < size && static_cast<long long>(people.size()) < originals; ++m) {
        long long id = static_cast<long long>(people.size()) + 1;
        people.push_back({unit, m, id});
        Person p = MakePerson(unit, m);
        Rng rr(o_.seed ^ Mix(static_cast<uint64_t>(id) * 7 + 3));
        if (rr.P(kJunkShare)) Junk(p, rr), ++junk_;
        WriteContact(id, p, id, rr, false);
      }
      ++unit;
    }
    // Duplicates: FEBRL-style — which originals get duplicates (1 to 4 of them, mostly 1), in
    // random order after all originals.
    const long long dup_budget = o_.contacts - originals;
    std::vector<long long> dup_of;
    dup_of.reserve(static_cast<size_t>(dup_budget));
    Rng dr(o_.seed ^ 0xd0d0);
    while (static_cast<long long>(dup_of.size()) < dup_budget) {
      long long p = static_cast<long long>(dr.Below(people.size()));
      int n = 1 + static_cast<int>(dr.Zipf(4, 2.0));  // 1: ~70 %, 2: ~18 %, 3, 4
      for (int k = 0; k < n && static_cast<long long>(dup_of.size()) < dup_budget; ++k) dup_of.push_back(p);
    }
    std::shuffle(dup_of.begin(), dup_of.end(), std::mt19937_64(o_.seed));
    long long id = originals;
    for (long long p : dup_of) {
      ++id;
      const Ref& ref = people[static_cast<size_t>(p)];
      Person person = MakePerson(ref.unit, ref.member);
      Rng rr(o_.seed ^ Mix(static_cast<uint64_t>(id) * 11 + 5));
      Corrupt(person, rr);
      WriteContact(id, person, ref.person, rr, true);
    }
    WriteSummary(originals, static_cast<long long>(dup_of.size()));
    return 0;
  }

 private:
  void Open(const char* name, std::ofstream& f) {
    f.open(std::filesystem::path(o_.out) / name, std::ios::binary);
  }

  int PickCountry(Rng& r) {
    double u = r.U();
    for (size_t i = 0; i < cum_.size(); ++i) {
      if (u < cum_[i]) return static_cast<int>(i);
    }
    return static_cast<int>(cum_.size()) - 1;
  }

  // Company c: country, name, switchboard number (deterministic from c).
  struct Company {
    int country;
    std::string name, domain, switchboard_nsn, address1, city_line;
  };
  Company MakeCompany(long long c) {
    Rng r(o_.seed ^ Mix(static_cast<uint64_t>(c) * 13 + 7));
    Company co;
    co.country = PickCountry(r);
    const Country& k = countries_[static_cast<size_t>(co.country)];
    std::string stem = CompanyWords()[r.Below(CompanyWords().size())] + " " +
                       CompanyKinds()[r.Below(CompanyKinds().size())];
    if (c >= static_cast<long long>(CompanyWords().size() * CompanyKinds().size())) {
      stem += " " + std::to_string(c % 997);  // the long tail: distinct names
    }
    co.name = stem;
    co.domain = Slug(stem) + ".com";
    auto city = Split(k.cities[r.Below(k.cities.size())], '|');
    co.switchboard_nsn = NewNsn(k, city[3], false, r);
    co.address1 = Fill(k.streets[r.Below(k.streets.size())], r);
    co.city_line = k.cities[r.Below(k.cities.size())];
    return co;
  }

  Person MakePerson(long long unit, int member) {
    Rng ur(o_.seed ^ Mix(static_cast<uint64_t>(unit) * 2 + 2));  // shared by the household
    Rng r(o_.seed ^ Mix(static_cast<uint64_t>(unit) * 1000003 + static_cast<uint64_t>(member) * 17 + 9));
    Person p;
    p.country = PickCountry(ur);
    const Country& c = countries_[static_cast<size_t>(p.country)];
    p.native = ur.P(c.native_share);
    p.last = c.surname[ur.Zipf(c.surname.size(), c.surname_zipf)];
    if (c.code == "ET") p.last = c.given[ur.Below(c.given.size())];  // father's given name
    p.first = c.given[r.Zipf(c.given.size(), 0.7)];
    if (!c.middle.empty()) {
      const Name& mid = c.middle[r.Zipf(c.middle.size(), 0.8)];
      p.first = {mid.native + " " + p.first.native, mid.latin + " " + p.first.latin};
    }
    static const std::map<std::string, std::string> kNick = {
        {"Robert", "Bob"}, {"William", "Bill"}, {"Richard", "Dick"}, {"James", "Jim"},
        {"Michael", "Mike"}, {"Elizabeth", "Liz"}, {"Margaret", "Maggie"}, {"Katherine", "Kate"},
        {"Christopher", "Chris"}, {"Anthony", "Tony"}, {"Daniel", "Dan"}, {"Joseph", "Joe"},
        {"Thomas", "Tom"}, {"Charles", "Charlie"}, {"Jennifer", "Jenny"}, {"Patricia", "Pat"},
        {"Rebecca", "Becky"}, {"Deborah", "Debbie"}, {"Matthew", "Matt"}, {"Andrew", "Andy"},
        {"Steven", "Steve"}, {"Nicolas", "Nico"}, {"Alexey", "Alex"}};
    auto nk = kNick.find(p.first.latin);
    if (nk != kNick.end()) p.nick = nk->second;
    if (r.P(0.7)) {
      p.birthdate = fmt::format("{}-{:02}-{:02}", r.Range(1940, 2004), r.Range(1, 12), r.Range(1, 28));
    }
    // Address and landline: shared by the household.
    auto city = Split(c.cities[ur.Below(c.cities.size())], '|');
    if (ur.P(0.8)) {
      p.address1 = Fill(c.streets[ur.Below(c.streets.size())], ur);
      p.city = city[0];
      p.region = city[1];
      p.postcode = Fill(city[2], ur);
      p.country_text = c.spellings[ur.Zipf(c.spellings.size(), 1.2)];
    } else if (ur.P(0.5)) {
      p.country_text = c.spellings[ur.Zipf(c.spellings.size(), 1.2)];
      p.city = city[0];
    }
    const std::string home_nsn = NewNsn(c, city[3], false, ur);
    const bool has_landline = ur.P(0.5);
    // Employer.
    if (r.P(kCompanyShare)) {
      p.company_id = static_cast<long long>(r.Zipf(static_cast<size_t>(companies_), 1.05));
    }
    std::string work_domain;
    if (p.company_id >= 0) {
      Company co = MakeCompany(p.company_id);
      const Country& cc = countries_[static_cast<size_t>(co.country)];
      p.company = fmt::format(fmt::runtime(cc.legal[r.Below(cc.legal.size())]), co.name);
      work_domain = co.domain;
      if (r.P(kSwitchboardShare)) {
        p.phone = FormatPhone(cc, co.switchboard_nsn, static_cast<int>(r.Below(6)));
        ++switchboard_;
      }
    }
    // Phones.
    const std::string mobile_nsn = NewNsn(c, city[3], true, r);
    if (p.phone.empty()) {
      if (has_landline && r.P(0.7)) {
        p.phone = FormatPhone(c, home_nsn, static_cast<int>(r.Below(6)));
      } else if (r.P(0.75)) {
        p.phone = FormatPhone(c, mobile_nsn, static_cast<int>(r.Below(6)));
      }
    }
    if (r.P(0.35)) p.mobile = FormatPhone(c, mobile_nsn, static_cast<int>(r.Below(6)));
    if (p.mobile == p.phone) p.mobile.clear();
    // Emails (Latin spelling of the name).
    std::string fl = Slug(p.first.latin), ll = Slug(p.last.latin);
    if (fl.empty()) fl = "user";
    if (ll.empty()) ll = "x";
    // An address belongs to one person: every local part ends in a person-unique tag (two John
    // Smiths never share john.smith@gmail.com, as no mail provider allows).
    p.tag = Base36(static_cast<uint64_t>(unit) * 8 + static_cast<uint64_t>(member));
    auto local = [&](Rng& rr) {
      switch (rr.Below(5)) {
        case 0: return fl + "." + ll + "." + p.tag;
        case 1: return fl.substr(0, 1) + ll + p.tag;
        case 2: return fl + ll + p.tag;
        case 3: return fl + "_" + ll + "_" + p.tag;
        default: return ll + "." + fl + "." + p.tag;
      }
    };
    if (r.P(0.8)) {
      if (!work_domain.empty() && r.P(0.5)) {
        p.email = local(r) + "@" + work_domain;
      } else {
        p.email = local(r) + "@" + c.domains[r.Zipf(c.domains.size(), 1.0)];
      }
    }
    if (r.P(0.12)) p.email2 = local(r) + std::to_string(r.Range(1, 9)) + "@" + c.domains[r.Below(c.domains.size())];
    p.owner = 1 + static_cast<int>(r.Zipf(kReps, 0.6));
    p.first_typed = p.native ? p.first.native : p.first.latin;
    p.last_typed = p.native ? p.last.native : p.last.latin;
    return p;
  }

  // Placeholder data that real CRMs collect.
  void Junk(Person& p, Rng& r) {
    static const std::vector<std::pair<std::string, std::string>> names = {
        {"test", "test"}, {"asdf", "asdf"}, {"N/A", "N/A"}, {"Mickey", "Mouse"}, {"x", "x"}, {"", "Unknown"}};
    auto n = names[r.Below(names.size())];
    p.first = {n.first, n.first};
    p.last = {n.second, n.second};
    p.first_typed = n.first;
    p.last_typed = n.second;
    p.email = r.P(0.6) ? std::string("test@test.com") : "";
    p.phone = r.P(0.5) ? std::string("0000000") : "555-0100";
    p.mobile.clear();
    p.birthdate.clear();
  }

  // FEBRL-style: 1–3 corruptions per duplicate record.
  static std::string Typo(const std::string& s, Rng& r) {
    // Operates on UTF-8 code points so non-Latin names get non-Latin typos.
    std::vector<std::string> cps;
    for (size_t i = 0; i < s.size();) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
      cps.push_back(s.substr(i, len));
      i += len;
    }
    if (cps.size() < 2) return s;
    size_t at = 1 + r.Below(cps.size() - 1);
    switch (r.Below(4)) {
      case 0: cps.erase(cps.begin() + static_cast<long>(at)); break;                 // deletion
      case 1: std::swap(cps[at - 1], cps[at]); break;                                 // transposition
      case 2: cps.insert(cps.begin() + static_cast<long>(at), cps[at]); break;       // double key
      default:
        if (cps[at].size() == 1) cps[at] = std::string(1, static_cast<char>('a' + r.Below(26)));  // substitution
        else cps.erase(cps.begin() + static_cast<long>(at));
    }
    std::string out;
    for (const auto& c : cps) out += c;
    return out;
  }

  void Corrupt(Person& p, Rng& r) {
    const Country& c = countries_[static_cast<size_t>(p.country)];
    int n = 1 + static_cast<int>(r.Zipf(3, 1.5));
    for (int k = 0; k < n; ++k) {
      switch (r.Below(12)) {
        case 0: p.first_typed = Typo(p.first_typed, r); break;
        case 1: p.last_typed = Typo(p.last_typed, r); break;
        case 2: std::swap(p.first_typed, p.last_typed); break;
        case 3:
          if (!p.nick.empty()) p.first_typed = p.nick;
          else p.first_typed = Typo(p.first_typed, r);
          break;
        case 4:  // re-typed in the other script (Nguyễn ↔ Nguyen, Иванов ↔ Ivanov, 王 ↔ Wang)
          if (p.first.native != p.first.latin || p.last.native != p.last.latin) {
            bool was_native = p.last_typed == p.last.native && p.first_typed == p.first.native;
            p.first_typed = was_native ? p.first.latin : p.first.native;
            p.last_typed = was_native ? p.last.latin : p.last.native;
          } else {
            p.last_typed = Typo(p.last_typed, r);
          }
          break;
        case 5: p.email.clear(); break;
        case 6: p.phone.clear(); break;
        case 7: p.address1.clear(), p.city.clear(), p.postcode.clear(), p.region.clear(); break;
        case 8: p.birthdate.clear(); break;
        case 9:  // the e-mail in another case, or a fresh address (new job)
          if (!p.email.empty() && r.P(0.6)) {
            p.email[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(p.email[0])));
            for (char& ch : p.email) if (ch == '@') break; else if (r.P(0.2)) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          } else {
            p.email = Slug(p.first.latin) + std::to_string(r.Range(1, 999)) + "x" + p.tag + "@" + c.domains[r.Below(c.domains.size())];
          }
          break;
        case 10:  // birthdate: day and month swapped, or a digit typo
          if (p.birthdate.size() == 10) {
            if (r.P(0.5) && std::stoi(p.birthdate.substr(8, 2)) <= 12) {
              p.birthdate = p.birthdate.substr(0, 5) + p.birthdate.substr(8, 2) + "-" + p.birthdate.substr(5, 2);
            } else {
              p.birthdate[3] = static_cast<char>('0' + r.Below(10));
            }
          }
          break;
        default:  // postcode typo or the company dropped
          if (!p.postcode.empty() && r.P(0.5)) p.postcode = Typo(p.postcode, r);
          else p.company.clear();
      }
    }
    if (r.P(0.1)) {  // ALL CAPS re-entry
      for (char& ch : p.last_typed) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
  }

  static void Tsv(std::string& line, const std::string& v) {
    line += '\t';
    if (v.empty()) {
      line += "\\N";
      return;
    }
    for (char c : v) {
      if (c == '\t') line += "\\t";
      else if (c == '\n') line += "\\n";
      else if (c == '\\') line += "\\\\";
      else line += c;
    }
  }

  std::string Time(long long id, Rng& r, int extra_days) const {
    // created_at ascends with id over ~8 years before 2026-12-01.
    long long span = 8LL * 365 * 86400;
    long long t = 1764547200LL - span + span * id / std::max<long long>(1, o_.contacts) +
                  static_cast<long long>(r.Below(3600)) + extra_days * 86400LL;
    t = std::min<long long>(t, 1764547200LL);
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }

  void WriteContact(long long id, const Person& p, long long person, Rng& r, bool dup) {
    std::string line = std::to_string(id);
    const std::string created = Time(id, r, 0);
    const std::string updated = Time(id, r, static_cast<int>(r.Below(400)));
    Tsv(line, p.first_typed);
    Tsv(line, p.last_typed);
    Tsv(line, p.email);
    Tsv(line, p.email2);
    Tsv(line, p.phone);
    Tsv(line, p.mobile);
    Tsv(line, p.company);
    Tsv(line, p.address1);
    Tsv(line, p.address2);
    Tsv(line, p.city);
    Tsv(line, p.postcode);
    Tsv(line, p.region);
    Tsv(line, p.country_text);
    Tsv(line, p.birthdate);
    static const std::vector<std::string> status = {"lead", "lead", "lead", "customer", "former"};
    Tsv(line, status[r.Below(status.size())]);
    Tsv(line, std::to_string(p.owner));
    Tsv(line, std::to_string(r.P(0.8) ? p.owner : 1 + static_cast<int>(r.Below(kReps))));
    Tsv(line, std::to_string(p.owner));
    Tsv(line, created);
    Tsv(line, std::max(created, updated));
    Tsv(line, r.P(0.6) ? Time(id, r, static_cast<int>(r.Below(300))) : "");
    Tsv(line, r.P(0.08) ? "1" : "0");  // email_opt_out
    Tsv(line, r.P(0.04) ? "1" : "0");  // do_not_call
    Tsv(line, r.P(0.03) ? "1" : "0");  // email_bounced
    Tsv(line, r.P(0.002) ? "1" : "0");  // legal_hold
    Tsv(line, "0");                     // deleted
    Tsv(line, r.P(0.1) ? std::string("Met at trade fair") : "");
    line += '\n';
    contacts_ << line;
    fmt::print(truth_, "{}\t{}\n", id, person);
    ++written_;
    if (NonAscii(p.first_typed) || NonAscii(p.last_typed)) ++non_ascii_;
    if (dup) ++dups_;
    // Children: activities (Poisson-ish, mean 1.5), deals (0.25), tags (0.2).
    int acts = static_cast<int>(r.Zipf(6, 0.9));
    for (int a = 0; a < acts; ++a) {
      static const char* kinds[] = {"call", "meeting", "email", "note"};
      fmt::print(activities_, "{}\tContacts\t{}\t{}\tFollow-up {}\t{}\t{}\t0\n", ++activity_id_, id,
                 kinds[r.Below(4)], a + 1, Time(id, r, static_cast<int>(r.Below(500))), p.owner);
    }
    if (r.P(0.25)) {
      static const char* stages[] = {"open", "won", "lost"};
      ++deal_id_;
      fmt::print(deals_, "{}\t{}\tDeal {}\t{}\t{}.00\t{}\t0\n", deal_id_, id, deal_id_,
                 stages[r.Below(3)], 500 + r.Below(50000), created);
      if (r.P(0.5)) {
        fmt::print(activities_, "{}\tDeals\t{}\tmeeting\tDeal review\t{}\t{}\t0\n", ++activity_id_,
                   deal_id_, Time(id, r, 30), p.owner);
      }
    }
    if (r.P(0.2)) {
      static const char* tags[] = {"vip", "newsletter", "keep", "event-2026"};
      size_t first = r.Below(4);
      fmt::print(tags_, "{}\t{}\t{}\t0\n", ++tag_id_, id, tags[first]);
      if (r.P(0.3)) fmt::print(tags_, "{}\t{}\t{}\t0\n", ++tag_id_, id, tags[(first + 1) % 4]);
    }
  }

  void WriteSummary(long long originals, long long dups) {
    std::ofstream f(std::filesystem::path(o_.out) / "summary.json");
    f << fmt::format(
        "{{\"contacts\": {}, \"originals\": {}, \"duplicate_records\": {}, \"seed\": {}, "
        "\"non_ascii_name_share\": {:.4f}, \"households\": {}, \"switchboard_phones\": {}, "
        "\"companies\": {}, \"junk_records\": {}, \"activities\": {}, \"deals\": {}, \"tags\": {}}}\n",
        written_, originals, dups, o_.seed,
        static_cast<double>(non_ascii_) / static_cast<double>(std::max<long long>(1, written_)),
        households_, switchboard_, companies_, junk_, activity_id_, deal_id_, tag_id_);
  }

  Options o_;
  std::vector<Country> countries_;
  std::vector<double> cum_;
  long long companies_ = 0;
  std::ofstream users_, contacts_, activities_, deals_, tags_, truth_;
  long long written_ = 0, non_ascii_ = 0, dups_ = 0, households_ = 0, switchboard_ = 0, junk_ = 0;
  long long activity_id_ = 0, deal_id_ = 0, tag_id_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "gen_contacts: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--contacts") o.contacts = std::stoll(next());
    else if (a == "--seed") o.seed = std::stoull(next());
    else if (a == "--out") o.out = next();
    else {
      std::cerr << "usage: gen_contacts --contacts N [--seed S] --out DIR\n";
      return 2;
    }
  }
  if (o.out.empty() || o.contacts < 10) {
    std::cerr << "usage: gen_contacts --contacts N [--seed S] --out DIR\n";
    return 2;
  }
  return Generator(o).Run();
}
