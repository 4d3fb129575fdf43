// Data for match/normalize.cpp: honorifics, name suffixes, nicknames, legal forms of companies,
// e-mail providers with sub-addressing, and the ISO 3166-1 country table. Only data lives here;
// the rules that use it are in normalize.cpp. The module has no private header, so the accessors
// at the bottom are declared again in normalize.cpp (keep the two in step).
//
// Conventions, checked by tests/normalize_test.cpp:
//  - name/company entries are lowercase ASCII tokens as normalize.cpp produces them (dots and
//    punctuation already turned into spaces: "S.A." is "s a", matched by the single-letter rule);
//  - a nickname's canonical form is never itself a nickname (one step maps to a fixed point);
//  - every country alias resolves to exactly one code.
#include <span>
#include <string_view>

namespace crmh::match::detail {

struct NicknamePair {
  std::string_view nick;
  std::string_view canonical;
};
struct CountryRow {
  std::string_view alpha2;
  std::string_view alpha3;   // "" where ISO assigns none (XK)
  std::string_view name;     // canonical English short name (what standardize writes)
  std::string_view aliases;  // '|'-separated: CLDR display names in other languages
};
struct CountryAliasRow {
  std::string_view alpha2;
  std::string_view aliases;  // '|'-separated
};

namespace {

// --- person names ---

// Whole tokens dropped from the FRONT of a person's name ("Prof. Dr. Anna Weber" → "anna weber").
// Only leading: "Sr"/"M" mid-name are kept. The Vietnamese "ông"/"bà" are not here: as ASCII they
// collide with the surname Ong and the middle name Bá, so they are dropped only when written with
// their accents (kVietnameseHonorifics, matched before transliteration).
// clang-format off
constexpr std::string_view kHonorifics[] = {
    "mr", "mrs", "ms", "miss", "mx", "mister", "dr", "doctor", "prof", "professor", "sir", "dame",
    "lord", "rev", "revd", "reverend",                     // English
    "herr", "frau", "hr", "fr", "dhr", "mevr", "mw",       // German, Dutch
    "m", "mme", "mlle", "monsieur", "madame", "mademoiselle",  // French
    "sr", "sra", "srta", "senor", "senora", "senorita",    // Spanish
    "sig", "signor", "signora", "dott",                    // Italian
};
// clang-format on
constexpr std::string_view kVietnameseHonorifics[] = {"ông", "bà"};

// Whole tokens (or token phrases) dropped from the END of a person's name: generational suffixes
// and degrees. "Ph.D." arrives as "ph d", "M.D." as "m d".
constexpr std::string_view kNameSuffixes[] = {
    "jr",  "jnr",  "junior", "sr",  "snr", "senior", "ii",  "iii", "iv",
    "phd", "ph d", "md",     "m d", "esq", "dds",    "mba", "cpa",
};

// Nickname → canonical given name. ~150 common English pairs plus spelling variants (catherine,
// kathryn → katherine; steven → stephen) and a few Spanish and Russian diminutives. Gender-
// ambiguous short forms (alex, chris, sam, pat, jo, jackie, terry, sandy, val) are deliberately
// absent: mapping "Chris" to "christopher" would make it differ from "Christine"; the comparator
// still sees what was typed (Record::first_raw_ascii). "sasha" is the exception the issue asked
// for.
// clang-format off
constexpr NicknamePair kNicknames[] = {
    {"bob", "robert"}, {"bobby", "robert"}, {"rob", "robert"}, {"robbie", "robert"},
    {"robby", "robert"},
    {"bill", "william"}, {"billy", "william"}, {"will", "william"}, {"willy", "william"},
    {"willie", "william"}, {"wm", "william"},
    {"liz", "elizabeth"}, {"lizzie", "elizabeth"}, {"lizzy", "elizabeth"}, {"beth", "elizabeth"},
    {"betty", "elizabeth"}, {"bette", "elizabeth"}, {"betsy", "elizabeth"}, {"eliza", "elizabeth"},
    {"elisabeth", "elizabeth"}, {"libby", "elizabeth"}, {"liza", "elizabeth"},
    {"bess", "elizabeth"}, {"bessie", "elizabeth"}, {"elsie", "elizabeth"},
    {"jim", "james"}, {"jimmy", "james"}, {"jimmie", "james"}, {"jas", "james"},
    {"mike", "michael"}, {"mikey", "michael"}, {"mick", "michael"}, {"mickey", "michael"},
    {"micky", "michael"},
    {"kate", "katherine"}, {"katie", "katherine"}, {"katy", "katherine"}, {"cathy", "katherine"},
    {"kathy", "katherine"}, {"kathie", "katherine"}, {"catherine", "katherine"},
    {"kathryn", "katherine"}, {"katharine", "katherine"}, {"kat", "katherine"},
    {"kitty", "katherine"}, {"cate", "katherine"}, {"cathryn", "katherine"},
    {"maggie", "margaret"}, {"meg", "margaret"}, {"peggy", "margaret"}, {"peg", "margaret"},
    {"marge", "margaret"}, {"margie", "margaret"}, {"madge", "margaret"},
    {"rick", "richard"}, {"ricky", "richard"}, {"rich", "richard"}, {"richie", "richard"},
    {"dick", "richard"}, {"dickie", "richard"},
    {"tom", "thomas"}, {"tommy", "thomas"}, {"thom", "thomas"},
    {"johnny", "john"},
    {"joe", "joseph"}, {"joey", "joseph"}, {"jos", "joseph"},
    {"charlie", "charles"}, {"charley", "charles"}, {"chuck", "charles"}, {"chas", "charles"},
    {"chaz", "charles"},
    {"ed", "edward"}, {"eddie", "edward"}, {"eddy", "edward"}, {"ted", "edward"},
    {"teddy", "edward"}, {"ned", "edward"},
    {"tony", "anthony"}, {"antony", "anthony"},
    {"dan", "daniel"}, {"danny", "daniel"},
    {"dave", "david"}, {"davey", "david"}, {"davy", "david"},
    {"steve", "stephen"}, {"stevie", "stephen"}, {"steven", "stephen"},
    {"matt", "matthew"}, {"matty", "matthew"},
    {"andy", "andrew"}, {"drew", "andrew"},
    {"ben", "benjamin"}, {"benny", "benjamin"}, {"benji", "benjamin"},
    {"nick", "nicholas"}, {"nicky", "nicholas"}, {"nicolas", "nicholas"},
    {"tim", "timothy"}, {"timmy", "timothy"},
    {"greg", "gregory"},
    {"jeff", "jeffrey"}, {"geoff", "jeffrey"}, {"geoffrey", "jeffrey"},
    {"ken", "kenneth"}, {"kenny", "kenneth"},
    {"ron", "ronald"}, {"ronnie", "ronald"},
    {"don", "donald"}, {"donnie", "donald"},
    {"doug", "douglas"},
    {"larry", "lawrence"}, {"laurence", "lawrence"},
    {"ray", "raymond"},
    {"gerry", "gerald"}, {"jerry", "gerald"},
    {"hank", "henry"}, {"harry", "henry"},
    {"fred", "frederick"}, {"freddie", "frederick"}, {"freddy", "frederick"},
    {"fritz", "frederick"},
    {"walt", "walter"}, {"wally", "walter"},
    {"gene", "eugene"},
    {"len", "leonard"}, {"lenny", "leonard"},
    {"theo", "theodore"},
    {"zach", "zachary"}, {"zack", "zachary"}, {"zak", "zachary"},
    {"vince", "vincent"}, {"vinny", "vincent"},
    {"phil", "philip"}, {"phillip", "philip"},
    {"pete", "peter"},
    {"ernie", "ernest"},
    {"gabe", "gabriel"},
    {"abe", "abraham"},
    {"jake", "jacob"},
    {"josh", "joshua"},
    {"mitch", "mitchell"},
    {"russ", "russell"},
    {"stan", "stanley"},
    {"vic", "victor"},
    {"brad", "bradley"},
    {"ollie", "oliver"},
    {"reggie", "reginald"}, {"reg", "reginald"},
    {"rudy", "rudolph"}, {"rudolf", "rudolph"},
    {"herb", "herbert"},
    {"alf", "alfred"}, {"alfie", "alfred"},
    {"art", "arthur"}, {"artie", "arthur"},
    {"cliff", "clifford"},
    {"dom", "dominic"}, {"dominick", "dominic"},
    {"gil", "gilbert"},
    {"monty", "montgomery"},
    {"stu", "stuart"}, {"stewart", "stuart"},
    {"sid", "sidney"},
    {"wes", "wesley"},
    {"jen", "jennifer"}, {"jenny", "jennifer"}, {"jenn", "jennifer"},
    {"sue", "susan"}, {"susie", "susan"}, {"suzy", "susan"}, {"suzie", "susan"},
    {"deb", "deborah"}, {"debbie", "deborah"}, {"debby", "deborah"}, {"debra", "deborah"},
    {"becky", "rebecca"}, {"becca", "rebecca"},
    {"barb", "barbara"}, {"babs", "barbara"},
    {"dot", "dorothy"}, {"dottie", "dorothy"},
    {"abby", "abigail"}, {"abbie", "abigail"},
    {"vicky", "victoria"}, {"vicki", "victoria"}, {"tori", "victoria"},
    {"chrissy", "christine"},
    {"jacqui", "jacqueline"},
    {"kim", "kimberly"}, {"kimmy", "kimberly"}, {"kimberley", "kimberly"},
    {"pam", "pamela"},
    {"cindy", "cynthia"},
    {"teresa", "theresa"}, {"tess", "theresa"}, {"terri", "theresa"},
    {"judy", "judith"},
    {"gwen", "gwendolyn"},
    {"ginny", "virginia"},
    {"fran", "frances"},
    {"josie", "josephine"},
    {"maddie", "madeline"}, {"maddy", "madeline"}, {"madeleine", "madeline"},
    {"missy", "melissa"},
    {"mandy", "amanda"},
    {"penny", "penelope"},
    {"ann", "anne"}, {"annie", "anne"},
    {"steph", "stephanie"},
    {"jess", "jessica"}, {"jessie", "jessica"},
    {"cassie", "cassandra"},
    {"patty", "patricia"}, {"patsy", "patricia"}, {"trish", "patricia"}, {"tricia", "patricia"},
    {"trisha", "patricia"},
    {"bobbi", "roberta"},
    {"hattie", "harriet"},
    {"tilly", "matilda"}, {"tillie", "matilda"},
    {"angie", "angela"},
    {"sara", "sarah"}, {"sally", "sarah"}, {"sadie", "sarah"},
    {"trudy", "gertrude"}, {"gertie", "gertrude"},
    {"winnie", "winifred"},
    {"flo", "florence"},
    {"bea", "beatrice"}, {"trixie", "beatrice"},
    {"connie", "constance"},
    {"sasha", "alexander"}, {"sascha", "alexander"}, {"aleksandr", "alexander"},
    {"alexandr", "alexander"}, {"aleksander", "alexander"}, {"xander", "alexander"},
    {"pepe", "jose"},
    {"paco", "francisco"}, {"pancho", "francisco"}, {"curro", "francisco"},
    {"nacho", "ignacio"},
    {"quique", "enrique"},
    {"memo", "guillermo"},
    {"manolo", "manuel"},
    {"lola", "dolores"},
    {"concha", "concepcion"}, {"conchita", "concepcion"},
    {"chucho", "jesus"}, {"chuy", "jesus"},
    {"lupe", "guadalupe"},
    {"dima", "dmitry"}, {"dmitri", "dmitry"}, {"dmitriy", "dmitry"},
    {"vanya", "ivan"},
    {"kolya", "nikolai"}, {"nikolay", "nikolai"},
    {"seryozha", "sergei"}, {"sergey", "sergei"},
    {"volodya", "vladimir"}, {"vova", "vladimir"},
    {"misha", "mikhail"},
    {"pasha", "pavel"},
    {"natasha", "natalia"}, {"natalya", "natalia"},
    {"katya", "ekaterina"},
    {"masha", "maria"},
    {"tanya", "tatiana"}, {"tatyana", "tatiana"},
    {"olya", "olga"},
};
// clang-format on

// --- companies ---

// Legal forms stripped from the END of a company name, repeatedly ("Foo GmbH & Co. KG" → "foo").
// Matched on units: a run of single-letter tokens counts as one unit, so "S.A.", "S. A." and "SA"
// all match "sa", and "S.A. de C.V." matches "sa de cv". Entries with spaces are unit phrases.
// clang-format off
constexpr std::string_view kLegalSuffixes[] = {
    // English
    "inc", "incorporated", "corp", "corporation", "co", "cos", "company", "ltd", "limited", "llc",
    "llp", "lllp", "lp", "plc", "pllc", "and co", "and company", "public limited company",
    "private limited", "pvt", "pvt ltd", "pte", "pte ltd", "pty", "pty ltd",
    // German, Dutch, Nordic, Central European
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "ug haftungsbeschrankt", "ev", "und co",
    "bv", "nv", "vof", "ab", "as", "asa", "aps", "oy", "oyj", "ehf", "sro", "spol", "sp zoo",
    "kft", "zrt", "nyrt", "doo", "dd",
    // Romance languages
    "sa", "sas", "sasu", "sarl", "eurl", "sca", "scs", "snc", "se", "srl", "srls", "spa", "sapa",
    "sl", "slu", "ltda", "lda", "cia", "cie", "y cia", "e cia", "et cie", "and cie",
    "sa de cv", "sab de cv", "de cv", "s de rl",
    // Asia (as ASCII; the CJK spellings are in kCjkLegalSuffixes)
    "kk", "kabushiki kaisha", "yk", "yugen kaisha", "gk", "godo kaisha", "sdn bhd", "bhd",
    "tnhh", "jsc", "ojsc", "cjsc", "pjsc", "oao", "ooo", "zao", "pao",
};
// clang-format on

// Legal forms stripped from the FRONT of a company name (token phrases, longest first is not
// required: normalize.cpp tries them all). Vietnamese puts the form first: "Công ty TNHH ABC";
// Russian usage puts it first too: ООО «Ромашка».
// clang-format off
constexpr std::string_view kLegalPrefixes[] = {
    "the", "cong ty tnhh mot thanh vien", "cong ty tnhh mtv", "cong ty tnhh", "cong ty co phan",
    "cong ty cp", "cong ty", "cty tnhh", "cty cp", "cty", "ctcp", "tnhh", "ooo", "oao", "zao",
    "pao", "ao", "pt", "kabushiki kaisha",
};
// clang-format on

// Legal forms in Chinese, Japanese and Korean, stripped from the end (and, for the Japanese and
// Korean ones that are also written first, from the front) BEFORE transliteration: as pinyin
// "youxian gongsi" would be split into syllables that also occur in real names.
constexpr std::string_view kCjkLegalSuffixes[] = {
    "股份有限公司", "有限责任公司", "有限責任公司", "有限公司", "股份公司", "公司",
    "株式会社",     "有限会社",     "合同会社",     "合資会社", "合名会社", "(株)",
    "(有)",         "주식회사",     "유한회사",     "(주)",
};
constexpr std::string_view kCjkLegalPrefixes[] = {
    "株式会社", "有限会社", "合同会社", "(株)", "(有)", "주식회사", "유한회사", "(주)",
};

// --- e-mail ---

// Domains whose mailboxes ignore a "+tag" in the local part (documented sub-addressing).
// Everything else keeps its "+": on a company's own server "sales+eu@" may be a distinct mailbox.
constexpr std::string_view kPlusTagDomains[] = {
    "gmail.com",   "googlemail.com", "outlook.com",   "hotmail.com", "live.com",
    "msn.com",     "icloud.com",     "me.com",        "mac.com",     "fastmail.com",
    "fastmail.fm", "protonmail.com", "protonmail.ch", "proton.me",   "pm.me",
    "yandex.ru",   "yandex.com",     "ya.ru",
};

// --- countries ---

// All 249 ISO 3166-1 alpha-2 codes plus XK (Kosovo: user-assigned, but used by the EU, CLDR and
// postal services). Generated from CLDR 42 (ICU 72: Locale::getISOCountries, getISO3Country,
// getDisplayCountry in en fr de es it pt nl ru zh zh_Hant ja ko vi fa ar am), then the English
// name edited to the common short form: "&" → "and", "St." → "Saint", "Hong Kong SAR China" →
// "Hong Kong", "Congo - Kinshasa" → "Democratic Republic of the Congo", "Myanmar (Burma)" →
// "Myanmar"; the CLDR spelling stays as an alias. Kept: "United States", "United Kingdom",
// "Vietnam", "Russia", "South Korea", "Iran", "Czechia", "Turkey".
constexpr CountryRow kCountries[] = {
    {"AD", "AND", "Andorra", "Andorre|Андорра|安道尔|安道爾|アンドラ|안도라|آندورا|أندورا|አንዶራ"},
    {"AE", "ARE", "United Arab Emirates",
     "Émirats arabes unis|Vereinigte Arabische Emirate|Emiratos Árabes Unidos"
     "|Emirati Arabi Uniti|Emirados Árabes Unidos|Verenigde Arabische Emiraten|ОАЭ"
     "|阿拉伯联合酋长国|阿拉伯聯合大公國|アラブ首長国連邦|아랍에미리트"
     "|Các Tiểu Vương quốc Ả Rập Thống nhất|امارات متحدهٔ عربی"
     "|الإمارات العربية المتحدة|የተባበሩት ዓረብ ኤምሬትስ"},
    {"AF", "AFG", "Afghanistan",
     "Afganistán|Afeganistão|Афганистан|阿富汗|アフガニスタン|아프가니스탄|افغانستان"
     "|أفغانستان|አፍጋኒስታን"},
    {"AG", "ATG", "Antigua and Barbuda",
     "Antigua & Barbuda|Antigua-et-Barbuda|Antigua und Barbuda|Antigua y Barbuda"
     "|Antigua e Barbuda|Antígua e Barbuda|Antigua en Barbuda"
     "|Антигуа и Барбуда|安提瓜和巴布达|安地卡及巴布達|アンティグア・バーブーダ|앤티가 "
     "바부다|Antigua và Barbuda"
     "|آنتیگوا و باربودا|أنتيغوا وبربودا|አንቲጓ እና ባሩዳ"},
    {"AI", "AIA", "Anguilla",
     "Anguila|Ангилья|安圭拉|安奎拉|アンギラ|앵귈라|آنگویلا|أنغويلا|አንጉይላ"},
    {"AL", "ALB", "Albania",
     "Albanie|Albanien|Albânia|Albanië|Албания|阿尔巴尼亚|阿爾巴尼亞|アルバニア|알바니아|آلبانی"
     "|ألبانيا|አልባኒያ"},
    {"AM", "ARM", "Armenia",
     "Arménie|Armenien|Armênia|Armenië|Армения|亚美尼亚|亞美尼亞|アルメニア|아르메니아|ارمنستان"
     "|أرمينيا|አርሜኒያ"},
    {"AO", "AGO", "Angola", "Ангола|安哥拉|アンゴラ|앙골라|آنگولا|أنغولا|አንጐላ"},
    {"AQ", "ATA", "Antarctica",
     "Antarctique|Antarktis|Antártida|Antartide|Антарктида|南极洲|南極洲|南極|남극 대륙|Nam Cực"
     "|جنوبگان|أنتاركتيكا|አንታርክቲካ"},
    {"AR", "ARG", "Argentina",
     "Argentine|Argentinien|Argentinië|Аргентина|阿根廷|アルゼンチン|아르헨티나|آرژانتین"
     "|الأرجنتين|አርጀንቲና"},
    {"AS", "ASM", "American Samoa",
     "Samoa américaines|Amerikanisch-Samoa|Samoa Americana|Samoa americane"
     "|Amerikaans-Samoa|Американское Самоа|美属萨摩亚|美屬薩摩亞|米領サモア|아메리칸 사모아"
     "|Samoa thuộc Mỹ|ساموآی امریکا|ساموا الأمريكية|የአሜሪካ ሳሞአ"},
    {"AT", "AUT", "Austria",
     "Autriche|Österreich|Áustria|Oostenrijk|Австрия|奥地利|奧地利|オーストリア|오스트리아|Áo"
     "|اتریش|النمسا|ኦስትሪያ"},
    {"AU", "AUS", "Australia",
     "Australie|Australien|Austrália|Australië|Австралия|澳大利亚|澳洲|オーストラリア"
     "|오스트레일리아|استرالیا|أستراليا|አውስትራልያ"},
    {"AW", "ABW", "Aruba", "Аруба|阿鲁巴|荷屬阿魯巴|アルバ|아루바|آروبا|أروبا|አሩባ"},
    {"AX", "ALA", "Åland Islands",
     "Îles Åland|Ålandinseln|Islas Aland|Isole Åland|Ilhas Aland|Åland"
     "|Аландские о-ва|奥兰群岛|奧蘭群島|オーランド諸島|올란드 제도|Quần đảo Åland|جزایر آلاند"
     "|جزر آلاند|የአላንድ ደሴቶች"},
    {"AZ", "AZE", "Azerbaijan",
     "Azerbaïdjan|Aserbaidschan|Azerbaiyán|Azerbaigian|Azerbaijão|Azerbeidzjan"
     "|Азербайджан|阿塞拜疆|亞塞拜然|アゼルバイジャン|아제르바이잔|جمهوری آذربایجان|أذربيجان"
     "|አዘርባጃን"},
    {"BA", "BIH", "Bosnia and Herzegovina",
     "Bosnia & Herzegovina|Bosnie-Herzégovine|Bosnien und Herzegowina"
     "|Bosnia y Herzegovina|Bosnia ed Erzegovina|Bósnia e Herzegovina"
     "|Bosnië en Herzegovina|Босния и Герцеговина|波斯尼亚和黑塞哥维那"
     "|波士尼亞與赫塞哥維納|ボスニア・ヘルツェゴビナ|보스니아 헤르체고비나|Bosnia và Herzegovina"
     "|بوسنی و هرزگوین|البوسنة والهرسك|ቦስኒያ እና ሄርዞጎቪኒያ"},
    {"BB", "BRB", "Barbados",
     "Barbade|Барбадос|巴巴多斯|巴貝多|バルバドス|바베이도스|باربادوس|بربادوس|ባርቤዶስ"},
    {"BD", "BGD", "Bangladesh",
     "Bangladesch|Bangladés|Бангладеш|孟加拉国|孟加拉|バングラデシュ|방글라데시|بنگلادش|بنغلاديش"
     "|ባንግላዲሽ"},
    {"BE", "BEL", "Belgium",
     "Belgique|Belgien|Bélgica|Belgio|België|Бельгия|比利时|比利時|ベルギー|벨기에|Bỉ|بلژیک"
     "|بلجيكا|ቤልጄም"},
    {"BF", "BFA", "Burkina Faso",
     "Burquina Faso|Буркина-Фасо|布基纳法索|布吉納法索|ブルキナファソ|부르키나파소|بورکینافاسو"
     "|بوركينا فاسو|ቡርኪና ፋሶ"},
    {"BG", "BGR", "Bulgaria",
     "Bulgarie|Bulgarien|Bulgária|Bulgarije|Болгария|保加利亚|保加利亞|ブルガリア|불가리아"
     "|بلغارستان|بلغاريا|ቡልጌሪያ"},
    {"BH", "BHR", "Bahrain",
     "Bahreïn|Baréin|Bahrein|Barein|Бахрейн|巴林|バーレーン|바레인|بحرین|البحرين|ባህሬን"},
    {"BI", "BDI", "Burundi", "Бурунди|布隆迪|蒲隆地|ブルンジ|부룬디|بوروندی|بوروندي|ብሩንዲ"},
    {"BJ", "BEN", "Benin", "Bénin|Benín|Бенин|贝宁|貝南|ベナン|베냉|بنین|بنين|ቤኒን"},
    {"BL", "BLM", "Saint Barthélemy",
     "St. Barthélemy|Saint-Barthélemy|San Bartolomé|São Bartolomeu"
     "|Сен-Бартелеми|圣巴泰勒米|聖巴瑟米|サン・バルテルミー|생바르텔레미|سن بارتلمی|سان بارتليمي"
     "|ቅዱስ በርቴሎሜ"},
    {"BM", "BMU", "Bermuda",
     "Bermudes|Bermudas|Бермудские о-ва|百慕大|百慕達|バミューダ|버뮤다|برمودا|ቤርሙዳ"},
    {"BN", "BRN", "Brunei",
     "Brunei Darussalam|Brunéi|Бруней|文莱|汶萊|ブルネイ|브루나이|برونئی|بروناي|ብሩኒ"},
    {"BO", "BOL", "Bolivia",
     "Bolivie|Bolivien|Bolívia|Боливия|玻利维亚|玻利維亞|ボリビア|볼리비아|بولیوی|بوليفيا|ቦሊቪያ"},
    {"BQ", "BES", "Caribbean Netherlands",
     "Pays-Bas caribéens|Karibische Niederlande|Caribe neerlandés|Caraibi olandesi"
     "|Países Baixos Caribenhos|Caribisch Nederland"
     "|Бонэйр, Синт-Эстатиус и Саба|荷属加勒比区|荷蘭加勒比區|オランダ領カリブ|네덜란드령 "
     "카리브|Ca-ri-bê Hà Lan"
     "|جزایر کارائیب هلند|هولندا الكاريبية|የካሪቢያን ኔዘርላንድስ"},
    {"BR", "BRA", "Brazil",
     "Brésil|Brasilien|Brasil|Brasile|Brazilië|Бразилия|巴西|ブラジル|브라질|برزیل"
     "|البرازيل|ብራዚል"},
    {"BS", "BHS", "Bahamas", "Bahama’s|Багамы|巴哈马|巴哈馬|バハマ|바하마|باهاما|جزر البهاما|ባሃማስ"},
    {"BT", "BTN", "Bhutan", "Bhoutan|Bután|Butão|Бутан|不丹|ブータン|부탄|بوتان|ቡህታን"},
    {"BV", "BVT", "Bouvet Island",
     "Île Bouvet|Bouvetinsel|Isla Bouvet|Isola Bouvet|Ilha Bouvet|Bouveteiland"
     "|о-в Буве|布韦岛|布威島|ブーベ島|부베섬|Đảo Bouvet|جزیرهٔ بووه|جزيرة بوفيه"
     "|ቡቬት ደሴት"},
    {"BW", "BWA", "Botswana", "Botsuana|Ботсвана|博茨瓦纳|波札那|ボツワナ|보츠와나|بوتسوانا|ቦትስዋና"},
    {"BY", "BLR", "Belarus",
     "Biélorussie|Bielorrusia|Bielorussia|Bielorrússia|Беларусь|白俄罗斯|白俄羅斯"
     "|ベラルーシ|벨라루스|بلاروس|بيلاروس|ቤላሩስ"},
    {"BZ", "BLZ", "Belize", "Belice|Белиз|伯利兹|貝里斯|ベリーズ|벨리즈|بلیز|بليز|በሊዝ"},
    {"CA", "CAN", "Canada", "Kanada|Canadá|Канада|加拿大|カナダ|캐나다|کانادا|كندا|ካናዳ"},
    {"CC", "CCK", "Cocos (Keeling) Islands",
     "Îles Cocos|Kokosinseln|Islas Cocos|Isole Cocos (Keeling)|Ilhas Cocos (Keeling)"
     "|Cocoseilanden|Кокосовые о-ва|科科斯（基林）群岛|科克斯（基靈）群島"
     "|ココス(キーリング)諸島|코코스 제도|Quần đảo Cocos (Keeling)|جزایر کوکوس"
     "|جزر كوكوس (كيلينغ)|ኮኮስ(ኬሊንግ) ደሴቶች"},
    {"CD", "COD", "Democratic Republic of the Congo",
     "Congo - Kinshasa|Congo-Kinshasa|Kongo-Kinshasa|República Democrática del Congo"
     "|Конго - Киншаса|刚果（金）|剛果（金夏沙）|コンゴ民主共和国(キンシャサ)|콩고-킨샤사|کنگو - "
     "کینشاسا"
     "|الكونغو - كينشاسا|ኮንጎ-ኪንሻሳ"},
    {"CF", "CAF", "Central African Republic",
     "République centrafricaine|Zentralafrikanische Republik|República Centroafricana"
     "|Repubblica Centrafricana|República Centro-Africana"
     "|Centraal-Afrikaanse Republiek"
     "|Центрально-Африканская Республика|中非共和国|中非共和國|中央アフリカ共和国"
     "|중앙 아프리카 공화국|Cộng hòa Trung Phi|جمهوری افریقای مرکزی"
     "|جمهورية أفريقيا الوسطى|ማዕከላዊ አፍሪካ ሪፑብሊክ"},
    {"CG", "COG", "Republic of the Congo",
     "Congo - Brazzaville|Congo-Brazzaville|Kongo-Brazzaville|Congo"
     "|República do Congo|Конго - Браззавиль|刚果（布）|剛果（布拉薩）"
     "|コンゴ共和国(ブラザビル)|콩고-브라자빌|کنگو - برازویل|الكونغو - برازافيل"
     "|ኮንጎ ብራዛቪል"},
    {"CH", "CHE", "Switzerland",
     "Suisse|Schweiz|Suiza|Svizzera|Suíça|Zwitserland|Швейцария|瑞士|スイス|스위스|Thụy Sĩ"
     "|سوئیس|سويسرا|ስዊዘርላንድ"},
    {"CI", "CIV", "Côte d'Ivoire",
     "Côte d’Ivoire|Costa d’Avorio|Costa do Marfim|Ivoorkust|Кот-д’Ивуар|科特迪瓦"
     "|象牙海岸|コートジボワール|코트디부아르|ساحل عاج|ساحل العاج|ኮት ዲቯር"},
    {"CK", "COK", "Cook Islands",
     "Îles Cook|Cookinseln|Islas Cook|Isole Cook|Ilhas Cook|Cookeilanden"
     "|о-ва Кука|库克群岛|庫克群島|クック諸島|쿡 제도|Quần đảo Cook|جزایر کوک|جزر كوك"
     "|ኩክ ደሴቶች"},
    {"CL", "CHL", "Chile", "Chili|Cile|Чили|智利|チリ|칠레|شیلی|تشيلي|ቺሊ"},
    {"CM", "CMR", "Cameroon",
     "Cameroun|Kamerun|Camerún|Camerun|Camarões|Kameroen|Камерун|喀麦隆|喀麥隆"
     "|カメルーン|카메룬|کامرون|الكاميرون|ካሜሩን"},
    {"CN", "CHN", "China", "Chine|Cina|Китай|中国|中國|중국|Trung Quốc|چین|الصين|ቻይና"},
    {"CO", "COL", "Colombia",
     "Colombie|Kolumbien|Colômbia|Колумбия|哥伦比亚|哥倫比亞|コロンビア|콜롬비아|کلمبیا"
     "|كولومبيا|ኮሎምቢያ"},
    {"CR", "CRI", "Costa Rica",
     "Коста-Рика|哥斯达黎加|哥斯大黎加|コスタリカ|코스타리카|کاستاریکا|كوستاريكا|ኮስታሪካ"},
    {"CU", "CUB", "Cuba", "Kuba|Куба|古巴|キューバ|쿠바|کوبا|كوبا|ኩባ"},
    {"CV", "CPV", "Cape Verde",
     "Cap-Vert|Cabo Verde|Capo Verde|Kaapverdië|Кабо-Верде|佛得角|維德角|カーボベルデ"
     "|카보베르데|کیپ‌ورد|الرأس الأخضر|ኬፕ ቬርዴ"},
    {"CW", "CUW", "Curaçao",
     "Curazao|Кюрасао|库拉索|庫拉索|キュラソー|퀴라소|کوراسائو|كوراساو|ኩራሳዎ"},
    {"CX", "CXR", "Christmas Island",
     "Île Christmas|Weihnachtsinsel|Isla de Navidad|Isola Christmas|Ilha Christmas"
     "|Christmaseiland|о-в Рождества|圣诞岛|聖誕島|クリスマス島|크리스마스섬|Đảo Giáng Sinh"
     "|جزیرهٔ کریسمس|جزيرة كريسماس|ክሪስማስ ደሴት"},
    {"CY", "CYP", "Cyprus",
     "Chypre|Zypern|Chipre|Cipro|Кипр|塞浦路斯|賽普勒斯|キプロス|키프로스|Síp|قبرس|قبرص"
     "|ሳይፕረስ"},
    {"CZ", "CZE", "Czechia",
     "Tchéquie|Tschechien|Chequia|Cechia|Tchéquia|Tsjechië|Чехия|捷克|チェコ|체코|Séc|چک"
     "|التشيك|ቼቺያ"},
    {"DE", "DEU", "Germany",
     "Allemagne|Deutschland|Alemania|Germania|Alemanha|Duitsland|Германия|德国|德國"
     "|ドイツ|독일|Đức|آلمان|ألمانيا|ጀርመን"},
    {"DJ", "DJI", "Djibouti",
     "Dschibuti|Yibuti|Gibuti|Djibuti|Джибути|吉布提|吉布地|ジブチ|지부티|جیبوتی|جيبوتي|ጂቡቲ"},
    {"DK", "DNK", "Denmark",
     "Danemark|Dänemark|Dinamarca|Danimarca|Denemarken|Дания|丹麦|丹麥|デンマーク|덴마크"
     "|Đan Mạch|دانمارک|الدانمرك|ዴንማርክ"},
    {"DM", "DMA", "Dominica",
     "Dominique|Доминика|多米尼克|ドミニカ国|도미니카|دومینیکا|دومينيكا|ዶሚኒካ"},
    {"DO", "DOM", "Dominican Republic",
     "République dominicaine|Dominikanische Republik|República Dominicana"
     "|Repubblica Dominicana|Dominicaanse Republiek"
     "|Доминиканская Республика|多米尼加共和国|多明尼加共和國|ドミニカ共和国|도미니카 공화국|Cộng "
     "hòa Dominica"
     "|جمهوری دومینیکن|جمهورية الدومينيكان|ዶመኒካን ሪፑብሊክ"},
    {"DZ", "DZA", "Algeria",
     "Algérie|Algerien|Argelia|Argélia|Algerije|Алжир|阿尔及利亚|阿爾及利亞|アルジェリア|알제리"
     "|الجزایر|الجزائر|አልጄሪያ"},
    {"EC", "ECU", "Ecuador",
     "Équateur|Equador|Эквадор|厄瓜多尔|厄瓜多|エクアドル|에콰도르|اکوادور|الإكوادور|ኢኳዶር"},
    {"EE", "EST", "Estonia",
     "Estonie|Estland|Estônia|Эстония|爱沙尼亚|愛沙尼亞|エストニア|에스토니아|استونی|إستونيا"
     "|ኤስቶኒያ"},
    {"EG", "EGY", "Egypt",
     "Égypte|Ägypten|Egipto|Egitto|Egito|Egypte|Египет|埃及|エジプト|이집트|Ai Cập|مصر"
     "|ግብጽ"},
    {"EH", "ESH", "Western Sahara",
     "Sahara occidental|Westsahara|Sáhara Occidental|Sahara occidentale"
     "|Saara Ocidental|Westelijke Sahara|Западная Сахара|西撒哈拉|西サハラ|서사하라|Tây Sahara"
     "|صحرای غربی|الصحراء الغربية|ምዕራባዊ ሳህራ"},
    {"ER", "ERI", "Eritrea",
     "Érythrée|Eritreia|Эритрея|厄立特里亚|厄利垂亞|エリトリア|에리트리아|اریتره|إريتريا|ኤርትራ"},
    {"ES", "ESP", "Spain",
     "Espagne|Spanien|España|Spagna|Espanha|Spanje|Испания|西班牙|スペイン|스페인|Tây Ban Nha"
     "|اسپانیا|إسبانيا|ስፔን"},
    {"ET", "ETH", "Ethiopia",
     "Éthiopie|Äthiopien|Etiopía|Etiopia|Etiópia|Ethiopië|Эфиопия|埃塞俄比亚|衣索比亞"
     "|エチオピア|에티오피아|اتیوپی|إثيوبيا|ኢትዮጵያ"},
    {"FI", "FIN", "Finland",
     "Finlande|Finnland|Finlandia|Finlândia|Финляндия|芬兰|芬蘭|フィンランド|핀란드|Phần Lan"
     "|فنلاند|فنلندا|ፊንላንድ"},
    {"FJ", "FJI", "Fiji", "Fidji|Fidschi|Fiyi|Figi|Фиджи|斐济|斐濟|フィジー|피지|فیجی|فيجي|ፊጂ"},
    {"FK", "FLK", "Falkland Islands",
     "Îles Malouines|Falklandinseln|Islas Malvinas|Isole Falkland|Ilhas Malvinas"
     "|Falklandeilanden|Фолклендские о-ва|福克兰群岛|福克蘭群島|フォークランド諸島|포클랜드 제도"
     "|Quần đảo Falkland|جزایر فالکلند|جزر فوكلاند|የፎክላንድ ደሴቶች"},
    {"FM", "FSM", "Micronesia",
     "Micronésie|Mikronesien|Micronésia"
     "|Федеративные Штаты "
     "Микронезии|密克罗尼西亚|密克羅尼西亞|ミクロネシア連邦|미크로네시아|میکرونزی"
     "|ميكرونيزيا|ሚክሮኔዢያ"},
    {"FO", "FRO", "Faroe Islands",
     "Îles Féroé|Färöer|Islas Feroe|Isole Fær Øer|Ilhas Faroé|Faeröer"
     "|Фарерские о-ва|法罗群岛|法羅群島|フェロー諸島|페로 제도|Quần đảo Faroe|جزایر فارو|جزر فارو"
     "|የፋሮ ደሴቶች"},
    {"FR", "FRA", "France",
     "Frankreich|Francia|França|Frankrijk|Франция|法国|法國|フランス|프랑스|Pháp|فرانسه"
     "|فرنسا|ፈረንሳይ"},
    {"GA", "GAB", "Gabon", "Gabun|Gabón|Gabão|Габон|加蓬|加彭|ガボン|가봉|گابن|الغابون|ጋቦን"},
    {"GB", "GBR", "United Kingdom",
     "Royaume-Uni|Vereinigtes Königreich|Reino Unido|Regno Unito|Verenigd Koninkrijk"
     "|Великобритания|英国|英國|イギリス|영국|Vương quốc Anh|بریتانیا"
     "|المملكة المتحدة|ዩናይትድ ኪንግደም"},
    {"GD", "GRD", "Grenada",
     "Grenade|Granada|Гренада|格林纳达|格瑞那達|グレナダ|그레나다|گرنادا|غرينادا|ግሬናዳ"},
    {"GE", "GEO", "Georgia",
     "Géorgie|Georgien|Geórgia|Georgië|Грузия|格鲁吉亚|喬治亞|ジョージア|조지아|گرجستان|جورجيا"
     "|ጆርጂያ"},
    {"GF", "GUF", "French Guiana",
     "Guyane française|Französisch-Guayana|Guayana Francesa|Guyana Francese"
     "|Guiana Francesa|Frans-Guyana|Французская Гвиана|法属圭亚那|法屬圭亞那|仏領ギアナ"
     "|프랑스령 기아나|Guiana thuộc Pháp|گویان فرانسه|غويانا الفرنسية"
     "|የፈረንሳይ ጉዊአና"},
    {"GG", "GGY", "Guernsey", "Guernesey|Гернси|根西岛|根息|ガーンジー|건지|گرنزی|غيرنزي|ጉርነሲ"},
    {"GH", "GHA", "Ghana", "Gana|Гана|加纳|迦納|ガーナ|가나|غنا|غانا|ጋና"},
    {"GI", "GIB", "Gibraltar",
     "Gibilterra|Гибралтар|直布罗陀|直布羅陀|ジブラルタル|지브롤터|جبل‌الطارق|جبل "
     "طارق"
     "|ጂብራልተር"},
    {"GL", "GRL", "Greenland",
     "Groenland|Grönland|Groenlandia|Groenlândia|Гренландия|格陵兰|格陵蘭"
     "|グリーンランド|그린란드|گرینلند|غرينلاند|ግሪንላንድ"},
    {"GM", "GMB", "Gambia",
     "Gambie|Gâmbia|Гамбия|冈比亚|甘比亞|ガンビア|감비아|گامبیا|غامبيا|ጋምቢያ"},
    {"GN", "GIN", "Guinea", "Guinée|Guiné|Guinee|Гвинея|几内亚|幾內亞|ギニア|기니|گینه|غينيا|ጊኒ"},
    {"GP", "GLP", "Guadeloupe",
     "Guadalupe|Guadalupa|Гваделупа|瓜德罗普|瓜地洛普|グアドループ|과들루프|گوادلوپ|غوادلوب"
     "|ጉዋደሉፕ"},
    {"GQ", "GNQ", "Equatorial Guinea",
     "Guinée équatoriale|Äquatorialguinea|Guinea Ecuatorial|Guinea Equatoriale"
     "|Guiné Equatorial|Equatoriaal-Guinea|Экваториальная Гвинея|赤道几内亚|赤道幾內亞"
     "|赤道ギニア|적도 기니|Guinea Xích Đạo|گینهٔ استوایی|غينيا الاستوائية"
     "|ኢኳቶሪያል ጊኒ"},
    {"GR", "GRC", "Greece",
     "Grèce|Griechenland|Grecia|Grécia|Griekenland|Греция|希腊|希臘|ギリシャ|그리스|Hy Lạp"
     "|یونان|اليونان|ግሪክ"},
    {"GS", "SGS", "South Georgia and the South Sandwich Islands",
     "South Georgia & South Sandwich Islands"
     "|Géorgie du Sud-et-les Îles Sandwich du Sud"
     "|Südgeorgien und die Südlichen Sandwichinseln"
     "|Islas Georgia del Sur y Sandwich del Sur|Georgia del Sud e Sandwich Australi"
     "|Ilhas Geórgia do Sul e Sandwich do Sul"
     "|Zuid-Georgia en Zuidelijke Sandwicheilanden"
     "|Южная Георгия и Южные Сандвичевы о-ва|南乔治亚和南桑威奇群岛"
     "|南喬治亞與南三明治群島|サウスジョージア・サウスサンドウィッチ諸島"
     "|사우스조지아 사우스샌드위치 제도|Nam Georgia & Quần đảo Nam Sandwich"
     "|جورجیای جنوبی و جزایر ساندویچ جنوبی"
     "|جورجيا الجنوبية وجزر ساندويتش الجنوبية"
     "|ደቡብ ጆርጂያ እና የደቡብ ሳንድዊች ደሴቶች"},
    {"GT", "GTM", "Guatemala",
     "Гватемала|危地马拉|瓜地馬拉|グアテマラ|과테말라|گواتمالا|غواتيمالا|ጉዋቲማላ"},
    {"GU", "GUM", "Guam", "Гуам|关岛|關島|グアム|괌|گوام|غوام|ጉዋም"},
    {"GW", "GNB", "Guinea-Bissau",
     "Guinée-Bissau|Guinea-Bisáu|Guiné-Bissau|Guinee-Bissau|Гвинея-Бисау"
     "|几内亚比绍|幾內亞比索|ギニアビサウ|기니비사우|گینهٔ بیسائو|غينيا بيساو|ጊኒ ቢሳኦ"},
    {"GY", "GUY", "Guyana", "Guiana|Гайана|圭亚那|蓋亞那|ガイアナ|가이아나|گویان|غيانا|ጉያና"},
    {"HK", "HKG", "Hong Kong",
     "Hong Kong SAR China|R.A.S. chinoise de Hong Kong"
     "|Sonderverwaltungsregion Hongkong|RAE de Hong Kong (China)|RAS di Hong Kong"
     "|Hong Kong, RAE da China|Hongkong SAR van China|Гонконг (САР)"
     "|中国香港特别行政区|中國香港特別行政區|中華人民共和国香港特別行政区|홍콩(중국 특별행정구)"
     "|Đặc khu Hành chính Hồng Kông, Trung Quốc"
     "|هنگ‌کنگ، منطقهٔ ویژهٔ اداری چین"
     "|هونغ كونغ الصينية (منطقة إدارية خاصة)"
     "|ሆንግ ኮንግ ልዩ የአስተዳደር ክልል ቻይና"},
    {"HM", "HMD", "Heard Island and McDonald Islands",
     "Heard & McDonald Islands|Îles Heard-et-MacDonald|Heard und McDonaldinseln"
     "|Islas Heard y McDonald|Isole Heard e McDonald|Ilhas Heard e McDonald"
     "|Heard en McDonaldeilanden|о-ва Херд и Макдональд|赫德岛和麦克唐纳群岛"
     "|赫德島及麥唐納群島|ハード島・マクドナルド諸島|허드 맥도널드 제도|Quần đảo Heard và McDonald"
     "|هرد و جزایر مک‌دونالد|جزيرة هيرد وجزر ماكدونالد"
     "|ኽርድ ደሴቶችና ማክዶናልድ ደሴቶች"},
    {"HN", "HND", "Honduras", "Гондурас|洪都拉斯|宏都拉斯|ホンジュラス|온두라스|هندوراس|ሆንዱራስ"},
    {"HR", "HRV", "Croatia",
     "Croatie|Kroatien|Croacia|Croazia|Croácia|Kroatië|Хорватия|克罗地亚|克羅埃西亞"
     "|クロアチア|크로아티아|کرواسی|كرواتيا|ክሮኤሽያ"},
    {"HT", "HTI", "Haiti", "Haïti|Haití|Гаити|海地|ハイチ|아이티|هائیتی|هايتي|ሀይቲ"},
    {"HU", "HUN", "Hungary",
     "Hongrie|Ungarn|Hungría|Ungheria|Hungria|Hongarije|Венгрия|匈牙利|ハンガリー|헝가리"
     "|مجارستان|هنغاريا|ሀንጋሪ"},
    {"ID", "IDN", "Indonesia",
     "Indonésie|Indonesien|Indonésia|Indonesië|Индонезия|印度尼西亚|印尼|インドネシア"
     "|인도네시아|اندونزی|إندونيسيا|ኢንዶኔዢያ"},
    {"IE", "IRL", "Ireland",
     "Irlande|Irland|Irlanda|Ierland|Ирландия|爱尔兰|愛爾蘭|アイルランド|아일랜드|ایرلند"
     "|أيرلندا|አየርላንድ"},
    {"IL", "ISR", "Israel",
     "Israël|Israele|Израиль|以色列|イスラエル|이스라엘|اسرائیل|إسرائيل|እስራኤል"},
    {"IM", "IMN", "Isle of Man",
     "Île de Man|Isla de Man|Isola di Man|Ilha de Man|о-в Мэн|马恩岛|曼島|マン島|맨섬|Đảo Man"
     "|جزیرهٔ من|جزيرة مان|አይል ኦፍ ማን"},
    {"IN", "IND", "India", "Inde|Indien|Índia|Индия|印度|インド|인도|Ấn Độ|هند|الهند|ህንድ"},
    {"IO", "IOT", "British Indian Ocean Territory",
     "Territoire britannique de l’océan Indien"
     "|Britisches Territorium im Indischen Ozean"
     "|Territorio Británico del Océano Índico"
     "|Territorio britannico dell’Oceano Indiano"
     "|Território Britânico do Oceano Índico|Brits Indische Oceaanterritorium"
     "|Британская территория в Индийском океане|英属印度洋领地|英屬印度洋領地"
     "|英領インド洋地域|영국령 인도양 식민지|Lãnh thổ Ấn Độ Dương thuộc Anh"
     "|قلمرو بریتانیا در اقیانوس هند"
     "|الإقليم البريطاني في المحيط الهندي"
     "|የብሪታኒያ ህንድ ውቂያኖስ ግዛት"},
    {"IQ", "IRQ", "Iraq", "Irak|Iraque|Ирак|伊拉克|イラク|이라크|عراق|العراق|ኢራቅ"},
    {"IR", "IRN", "Iran", "Irán|Irã|Иран|伊朗|イラン|이란|ایران|إيران|ኢራን"},
    {"IS", "ISL", "Iceland",
     "Islande|Island|Islandia|Islanda|Islândia|IJsland|Исландия|冰岛|冰島"
     "|アイスランド|아이슬란드|ایسلند|آيسلندا|አይስላንድ"},
    {"IT", "ITA", "Italy",
     "Italie|Italien|Italia|Itália|Italië|Италия|意大利|義大利|イタリア|이탈리아|ایتالیا"
     "|إيطاليا|ጣሊያን"},
    {"JE", "JEY", "Jersey", "Джерси|泽西岛|澤西島|ジャージー|저지|جرزی|جيرسي|ጀርሲ"},
    {"JM", "JAM", "Jamaica",
     "Jamaïque|Jamaika|Giamaica|Ямайка|牙买加|牙買加|ジャマイカ|자메이카|جامائیکا|جامايكا"
     "|ጃማይካ"},
    {"JO", "JOR", "Jordan",
     "Jordanie|Jordanien|Jordania|Giordania|Jordânia|Jordanië|Иордания|约旦|約旦"
     "|ヨルダン|요르단|اردن|الأردن|ጆርዳን"},
    {"JP", "JPN", "Japan", "Japon|Japón|Giappone|Japão|Япония|日本|일본|Nhật Bản|ژاپن|اليابان|ጃፓን"},
    {"KE", "KEN", "Kenya", "Kenia|Quênia|Кения|肯尼亚|肯亞|ケニア|케냐|کنیا|كينيا|ኬንያ"},
    {"KG", "KGZ", "Kyrgyzstan",
     "Kirghizstan|Kirgisistan|Kirguistán|Kirghizistan|Quirguistão|Kirgizië"
     "|Киргизия|吉尔吉斯斯坦|吉爾吉斯|キルギス|키르기스스탄|قرقیزستان|قيرغيزستان|ኪርጊስታን"},
    {"KH", "KHM", "Cambodia",
     "Cambodge|Kambodscha|Camboya|Cambogia|Camboja|Cambodja|Камбоджа|柬埔寨"
     "|カンボジア|캄보디아|Campuchia|کامبوج|كمبوديا|ካምቦዲያ"},
    {"KI", "KIR", "Kiribati",
     "Quiribati|Кирибати|基里巴斯|吉里巴斯|キリバス|키리바시|کیریباتی|كيريباتي|ኪሪባቲ"},
    {"KM", "COM", "Comoros",
     "Comores|Komoren|Comoras|Comore|Comoren|Коморы|科摩罗|葛摩|コモロ|코모로|کومور"
     "|جزر القمر|ኮሞሮስ"},
    {"KN", "KNA", "Saint Kitts and Nevis",
     "St. Kitts & Nevis|Saint-Christophe-et-Niévès|St. Kitts und Nevis"
     "|San Cristóbal y Nieves|Saint Kitts e Nevis|São Cristóvão e Névis"
     "|Saint Kitts en Nevis|Сент-Китс и Невис|圣基茨和尼维斯|聖克里斯多福及尼維斯"
     "|セントクリストファー・ネーヴィス|세인트키츠 네비스|St. Kitts và Nevis|سنت کیتس و نویس"
     "|سانت كيتس ونيفيس|ቅዱስ ኪትስ እና ኔቪስ"},
    {"KP", "PRK", "North Korea",
     "Corée du Nord|Nordkorea|Corea del Norte|Corea del Nord|Coreia do Norte"
     "|Noord-Korea|КНДР|朝鲜|北韓|北朝鮮|북한|Triều Tiên|کرهٔ شمالی|كوريا الشمالية"
     "|ሰሜን ኮሪያ"},
    {"KR", "KOR", "South Korea",
     "Corée du Sud|Südkorea|Corea del Sur|Corea del Sud|Coreia do Sul|Zuid-Korea"
     "|Республика Корея|韩国|南韓|韓国|대한민국|Hàn Quốc|کرهٔ جنوبی|كوريا الجنوبية"
     "|ደቡብ ኮሪያ"},
    {"KW", "KWT", "Kuwait", "Koweït|Koeweit|Кувейт|科威特|クウェート|쿠웨이트|کویت|الكويت|ክዌት"},
    {"KY", "CYM", "Cayman Islands",
     "Îles Caïmans|Kaimaninseln|Islas Caimán|Isole Cayman|Ilhas Cayman|Kaaimaneilanden"
     "|о-ва Кайман|开曼群岛|開曼群島|ケイマン諸島|케이맨 제도|Quần đảo Cayman|جزایر کِیمن"
     "|جزر كايمان|ካይማን ደሴቶች"},
    {"KZ", "KAZ", "Kazakhstan",
     "Kasachstan|Kazajistán|Kazakistan|Cazaquistão|Kazachstan|Казахстан"
     "|哈萨克斯坦|哈薩克|カザフスタン|카자흐스탄|قزاقستان|كازاخستان|ካዛኪስታን"},
    {"LA", "LAO", "Laos", "Лаос|老挝|寮國|ラオス|라오스|Lào|لائوس|لاوس|ላኦስ"},
    {"LB", "LBN", "Lebanon",
     "Liban|Libanon|Líbano|Libano|Ливан|黎巴嫩|レバノン|레바논|Li-băng|لبنان|ሊባኖስ"},
    {"LC", "LCA", "Saint Lucia",
     "St. Lucia|Sainte-Lucie|Santa Lucía|Santa Lúcia|Сент-Люсия|圣卢西亚|聖露西亞"
     "|セントルシア|세인트루시아|سنت لوسیا|سانت لوسيا|ሴንት ሉቺያ"},
    {"LI", "LIE", "Liechtenstein",
     "Лихтенштейн|列支敦士登|列支敦斯登|リヒテンシュタイン|리히텐슈타인|لیختن‌اشتاین|"
     "ليختنشتاين"
     "|ሊችተንስታይን"},
    {"LK", "LKA", "Sri Lanka",
     "Шри-Ланка|斯里兰卡|斯里蘭卡|スリランカ|스리랑카|سری‌لانکا|سريلانكا|"
     "ሲሪላንካ"},
    {"LR", "LBR", "Liberia",
     "Libéria|Либерия|利比里亚|賴比瑞亞|リベリア|라이베리아|لیبریا|ليبيريا|ላይቤሪያ"},
    {"LS", "LSO", "Lesotho", "Lesoto|Лесото|莱索托|賴索托|レソト|레소토|لسوتو|ليسوتو|ሌሶቶ"},
    {"LT", "LTU", "Lithuania",
     "Lituanie|Litauen|Lituania|Lituânia|Litouwen|Литва|立陶宛|リトアニア|리투아니아|Litva"
     "|لیتوانی|ليتوانيا|ሊቱዌኒያ"},
    {"LU", "LUX", "Luxembourg",
     "Luxemburg|Luxemburgo|Lussemburgo|Люксембург|卢森堡|盧森堡|ルクセンブルク|룩셈부르크"
     "|لوکزامبورگ|لوكسمبورغ|ሉክሰምበርግ"},
    {"LV", "LVA", "Latvia",
     "Lettonie|Lettland|Letonia|Lettonia|Letônia|Letland|Латвия|拉脱维亚|拉脫維亞|ラトビア"
     "|라트비아|لتونی|لاتفيا|ላትቪያ"},
    {"LY", "LBY", "Libya",
     "Libye|Libyen|Libia|Líbia|Libië|Ливия|利比亚|利比亞|リビア|리비아|لیبی|ليبيا|ሊቢያ"},
    {"MA", "MAR", "Morocco",
     "Maroc|Marokko|Marruecos|Marocco|Marrocos|Марокко|摩洛哥|モロッコ|모로코|Ma-rốc|مراکش"
     "|المغرب|ሞሮኮ"},
    {"MC", "MCO", "Monaco", "Mónaco|Mônaco|Монако|摩纳哥|摩納哥|モナコ|모나코|موناکو|موناكو|ሞናኮ"},
    {"MD", "MDA", "Moldova",
     "Moldavie|Republik Moldau|Moldavia|Moldávia|Moldavië|Молдова|摩尔多瓦|摩爾多瓦"
     "|モルドバ|몰도바|مولداوی|مولدوفا|ሞልዶቫ"},
    {"ME", "MNE", "Montenegro",
     "Monténégro|Черногория|黑山|蒙特內哥羅|モンテネグロ|몬테네그로|مونته‌نگرو|الجبل "
     "الأسود"
     "|ሞንተኔግሮ"},
    {"MF", "MAF", "Saint Martin",
     "St. Martin|Saint-Martin|San Martín|São Martinho|Сен-Мартен|法属圣马丁|法屬聖馬丁"
     "|サン・マルタン|생마르탱|سنت مارتین|سان مارتن|ሴንት ማርቲን"},
    {"MG", "MDG", "Madagascar",
     "Madagaskar|Мадагаскар|马达加斯加|馬達加斯加|マダガスカル|마다가스카르|ماداگاسکار|مدغشقر"
     "|ማዳጋስካር"},
    {"MH", "MHL", "Marshall Islands",
     "Îles Marshall|Marshallinseln|Islas Marshall|Isole Marshall|Ilhas Marshall"
     "|Marshalleilanden|Маршалловы о-ва|马绍尔群岛|馬紹爾群島|マーシャル諸島|마셜 제도"
     "|Quần đảo Marshall|جزایر مارشال|جزر مارشال|ማርሻል አይላንድ"},
    {"MK", "MKD", "North Macedonia",
     "Macédoine du Nord|Nordmazedonien|Macedonia del Norte|Macedonia del Nord"
     "|Macedônia do Norte|Noord-Macedonië|Северная Македония|北马其顿|北馬其頓"
     "|北マケドニア|북마케도니아|Bắc Macedonia|مقدونیهٔ شمالی|مقدونيا الشمالية"
     "|ሰሜን መቄዶንያ"},
    {"ML", "MLI", "Mali", "Мали|马里|馬利|マリ|말리|مالی|مالي|ማሊ"},
    {"MM", "MMR", "Myanmar",
     "Myanmar (Burma)|Myanmar (Birmanie)|Myanmar (Birmania)|Mianmar (Birmânia)"
     "|Myanmar (Birma)|Мьянма (Бирма)|缅甸|緬甸|ミャンマー (ビルマ)|미얀마|Myanmar (Miến Điện)"
     "|میانمار (برمه)|ميانمار (بورما)|ማይናማር(በርማ)"},
    {"MN", "MNG", "Mongolia",
     "Mongolie|Mongolei|Mongólia|Mongolië|Монголия|蒙古|モンゴル|몽골|Mông Cổ|مغولستان"
     "|منغوليا|ሞንጎሊያ"},
    {"MO", "MAC", "Macao",
     "Macao SAR China|R.A.S. chinoise de Macao|Sonderverwaltungsregion Macau"
     "|RAE de Macao (China)|RAS di Macao|Macau, RAE da China|Macau SAR van China"
     "|Макао (САР)|中国澳门特别行政区|中國澳門特別行政區|中華人民共和国マカオ特別行政区"
     "|마카오(중국 특별행정구)|Đặc khu Hành chính Macao, Trung Quốc"
     "|ماکائو، منطقهٔ ویژهٔ اداری چین"
     "|منطقة ماكاو الإدارية الخاصة"
     "|ማካኦ ልዩ የአስተዳደር ክልል ቻይና"},
    {"MP", "MNP", "Northern Mariana Islands",
     "Îles Mariannes du Nord|Nördliche Marianen|Islas Marianas del Norte"
     "|Isole Marianne settentrionali|Ilhas Marianas do Norte|Noordelijke Marianen"
     "|Северные Марианские о-ва|北马里亚纳群岛|北馬利安納群島|北マリアナ諸島|북마리아나제도"
     "|Quần đảo Bắc Mariana|جزایر ماریانای شمالی"
     "|جزر ماريانا الشمالية|የሰሜናዊ ማሪያና ደሴቶች"},
    {"MQ", "MTQ", "Martinique",
     "Martinica|Мартиника|马提尼克|馬丁尼克|マルティニーク|마르티니크|مارتینیک|جزر المارتينيك"
     "|ማርቲኒክ"},
    {"MR", "MRT", "Mauritania",
     "Mauritanie|Mauretanien|Mauritânia|Mauritanië|Мавритания|毛里塔尼亚|茅利塔尼亞"
     "|モーリタニア|모리타니|موریتانی|موريتانيا|ሞሪቴኒያ"},
    {"MS", "MSR", "Montserrat",
     "Монтсеррат|蒙特塞拉特|蒙哲臘|モントセラト|몬트세라트|مونت‌سرات|مونتسرات|"
     "ሞንትሴራት"},
    {"MT", "MLT", "Malta", "Malte|Мальта|马耳他|馬爾他|マルタ|몰타|مالت|مالطا|ማልታ"},
    {"MU", "MUS", "Mauritius",
     "Maurice|Mauricio|Maurício|Маврикий|毛里求斯|模里西斯|モーリシャス|모리셔스|موریس|موريشيوس"
     "|ሞሪሸስ"},
    {"MV", "MDV", "Maldives",
     "Malediven|Maldivas|Maldive|Maldiven|Мальдивы|马尔代夫|馬爾地夫|モルディブ|몰디브|مالدیو"
     "|جزر المالديف|ማልዲቭስ"},
    {"MW", "MWI", "Malawi", "Malaui|Малави|马拉维|馬拉威|マラウイ|말라위|مالاوی|ملاوي|ማላዊ"},
    {"MX", "MEX", "Mexico",
     "Mexique|Mexiko|México|Messico|Мексика|墨西哥|メキシコ|멕시코|مکزیک|المكسيك|ሜክሲኮ"},
    {"MY", "MYS", "Malaysia",
     "Malaisie|Malasia|Malásia|Maleisië|Малайзия|马来西亚|馬來西亞|マレーシア|말레이시아|مالزی"
     "|ماليزيا|ማሌዢያ"},
    {"MZ", "MOZ", "Mozambique",
     "Mosambik|Mozambico|Moçambique|Мозамбик|莫桑比克|莫三比克|モザンビーク|모잠비크|موزامبیک"
     "|موزمبيق|ሞዛምቢክ"},
    {"NA", "NAM", "Namibia",
     "Namibie|Namíbia|Namibië|Намибия|纳米比亚|納米比亞|ナミビア|나미비아|نامیبیا|ناميبيا|ናሚቢያ"},
    {"NC", "NCL", "New Caledonia",
     "Nouvelle-Calédonie|Neukaledonien|Nueva Caledonia|Nuova Caledonia|Nova Caledônia"
     "|Nieuw-Caledonië|Новая Каледония|新喀里多尼亚|新喀里多尼亞|ニューカレドニア|뉴칼레도니아"
     "|کالدونیای جدید|كاليدونيا الجديدة|ኒው ካሌዶኒያ"},
    {"NE", "NER", "Niger", "Níger|Нигер|尼日尔|尼日|ニジェール|니제르|نیجر|النيجر|ኒጀር"},
    {"NF", "NFK", "Norfolk Island",
     "Île Norfolk|Norfolkinsel|Isla Norfolk|Isola Norfolk|Ilha Norfolk|Norfolk"
     "|о-в Норфолк|诺福克岛|諾福克島|ノーフォーク島|노퍽섬|Đảo Norfolk|جزیرهٔ نورفولک"
     "|جزيرة نورفولك|ኖርፎልክ ደሴት"},
    {"NG", "NGA", "Nigeria",
     "Nigéria|Нигерия|尼日利亚|奈及利亞|ナイジェリア|나이지리아|نیجریه|نيجيريا|ናይጄሪያ"},
    {"NI", "NIC", "Nicaragua",
     "Nicarágua|Никарагуа|尼加拉瓜|ニカラグア|니카라과|نیکاراگوئه|نيكاراغوا|ኒካራጓ"},
    {"NL", "NLD", "Netherlands",
     "Pays-Bas|Niederlande|Países Bajos|Paesi Bassi|Países Baixos|Nederland"
     "|Нидерланды|荷兰|荷蘭|オランダ|네덜란드|Hà Lan|هلند|هولندا|ኔዘርላንድ"},
    {"NO", "NOR", "Norway",
     "Norvège|Norwegen|Noruega|Norvegia|Noorwegen|Норвегия|挪威|ノルウェー|노르웨이|Na Uy"
     "|نروژ|النرويج|ኖርዌይ"},
    {"NP", "NPL", "Nepal", "Népal|Непал|尼泊尔|尼泊爾|ネパール|네팔|نپال|نيبال|ኔፓል"},
    {"NR", "NRU", "Nauru", "Науру|瑙鲁|諾魯|ナウル|나우루|نائورو|ناورو|ናኡሩ"},
    {"NU", "NIU", "Niue", "Ниуэ|纽埃|紐埃島|ニウエ|니우에|نیوئه|نيوي|ኒኡይ"},
    {"NZ", "NZL", "New Zealand",
     "Nouvelle-Zélande|Neuseeland|Nueva Zelanda|Nuova Zelanda|Nova Zelândia"
     "|Nieuw-Zeeland|Новая Зеландия|新西兰|紐西蘭|ニュージーランド|뉴질랜드|نیوزیلند|نيوزيلندا"
     "|ኒው ዚላንድ"},
    {"OM", "OMN", "Oman", "Omán|Omã|Оман|阿曼|オマーン|오만|عمان|عُمان|ኦማን"},
    {"PA", "PAN", "Panama", "Panamá|Панама|巴拿马|巴拿馬|パナマ|파나마|پاناما|بنما|ፓናማ"},
    {"PE", "PER", "Peru", "Pérou|Perú|Perù|Перу|秘鲁|秘魯|ペルー|페루|پرو|بيرو|ፔሩ"},
    {"PF", "PYF", "French Polynesia",
     "Polynésie française|Französisch-Polynesien|Polinesia Francesa|Polinesia francese"
     "|Polinésia Francesa|Frans-Polynesië|Французская Полинезия|法属波利尼西亚"
     "|法屬玻里尼西亞|仏領ポリネシア|프랑스령 폴리네시아|Polynesia thuộc Pháp|پلی‌نزی "
     "فرانسه"
     "|بولينيزيا الفرنسية|የፈረንሳይ ፖሊኔዢያ"},
    {"PG", "PNG", "Papua New Guinea",
     "Papouasie-Nouvelle-Guinée|Papua-Neuguinea|Papúa Nueva Guinea|Papua Nuova Guinea"
     "|Papua-Nova Guiné|Papoea-Nieuw-Guinea|Папуа — Новая Гвинея|巴布亚新几内亚"
     "|巴布亞紐幾內亞|パプアニューギニア|파푸아뉴기니|پاپوا گینهٔ نو|بابوا غينيا الجديدة"
     "|ፓፑዋ ኒው ጊኒ"},
    {"PH", "PHL", "Philippines",
     "Philippinen|Filipinas|Filippine|Filipijnen|Филиппины|菲律宾|菲律賓|フィリピン|필리핀"
     "|فیلیپین|الفلبين|ፊሊፒንስ"},
    {"PK", "PAK", "Pakistan",
     "Pakistán|Paquistão|Пакистан|巴基斯坦|パキスタン|파키스탄|پاکستان|باكستان|ፓኪስታን"},
    {"PL", "POL", "Poland",
     "Pologne|Polen|Polonia|Polônia|Польша|波兰|波蘭|ポーランド|폴란드|Ba Lan|لهستان|بولندا"
     "|ፖላንድ"},
    {"PM", "SPM", "Saint Pierre and Miquelon",
     "St. Pierre & Miquelon|Saint-Pierre-et-Miquelon|St. Pierre und Miquelon"
     "|San Pedro y Miquelón|Saint-Pierre e Miquelon|São Pedro e Miquelão"
     "|Saint-Pierre en Miquelon|Сен-Пьер и Микелон|圣皮埃尔和密克隆群岛"
     "|聖皮埃與密克隆群島|サンピエール島・ミクロン島|생피에르 미클롱|Saint Pierre và Miquelon"
     "|سن پیر و میکلن|سان بيير ومكويلون|ቅዱስ ፒዬር እና ሚኩኤሎን"},
    {"PN", "PCN", "Pitcairn Islands",
     "Îles Pitcairn|Pitcairninseln|Islas Pitcairn|Isole Pitcairn|Ilhas Pitcairn"
     "|Pitcairneilanden|о-ва Питкэрн|皮特凯恩群岛|皮特肯群島|ピトケアン諸島|핏케언 제도"
     "|Quần đảo Pitcairn|جزایر پیت‌کرن|جزر بيتكيرن|ፒትካኢርን "
     "ደሴቶች"},
    {"PR", "PRI", "Puerto Rico",
     "Porto Rico|Portorico|Пуэрто-Рико|波多黎各|プエルトリコ|푸에르토리코|پورتوریکو|بورتوريكو"
     "|ፖርታ ሪኮ"},
    {"PS", "PSE", "Palestine",
     "Palestinian Territories|Territoires palestiniens"
     "|Palästinensische Autonomiegebiete|Territorios Palestinos|Territori palestinesi"
     "|Territórios palestinos|Palestijnse gebieden"
     "|Палестинские территории|巴勒斯坦领土|巴勒斯坦自治區|パレスチナ自治区|팔레스타인 지구|Lãnh "
     "thổ Palestine"
     "|سرزمین‌های فلسطینی|الأراضي الفلسطينية|የፍልስጤም "
     "ግዛት"},
    {"PT", "PRT", "Portugal",
     "Portogallo|Португалия|葡萄牙|ポルトガル|포르투갈|Bồ Đào Nha|پرتغال|البرتغال|ፖርቱጋል"},
    {"PW", "PLW", "Palau", "Palaos|Палау|帕劳|帛琉|パラオ|팔라우|پالائو|بالاو|ፓላው"},
    {"PY", "PRY", "Paraguay",
     "Paraguai|Парагвай|巴拉圭|パラグアイ|파라과이|پاراگوئه|باراغواي|ፓራጓይ"},
    {"QA", "QAT", "Qatar", "Katar|Catar|Катар|卡塔尔|卡達|カタール|카타르|قطر|ኳታር"},
    {"RE", "REU", "Réunion",
     "La Réunion|Reunión|Riunione|Reunião|Реюньон|留尼汪|留尼旺|レユニオン|레위니옹|رئونیون"
     "|روينيون|ሪዩኒየን"},
    {"RO", "ROU", "Romania",
     "Roumanie|Rumänien|Rumanía|Romênia|Roemenië|Румыния|罗马尼亚|羅馬尼亞|ルーマニア|루마니아"
     "|رومانی|رومانيا|ሮሜኒያ"},
    {"RS", "SRB", "Serbia",
     "Serbie|Serbien|Sérvia|Servië|Сербия|塞尔维亚|塞爾維亞|セルビア|세르비아|صربستان|صربيا"
     "|ሰርብያ"},
    {"RU", "RUS", "Russia",
     "Russie|Russland|Rusia|Rússia|Rusland|Россия|俄罗斯|俄羅斯|ロシア|러시아|Nga|روسیه|روسيا"
     "|ሩስያ"},
    {"RW", "RWA", "Rwanda", "Ruanda|Руанда|卢旺达|盧安達|ルワンダ|르완다|رواندا|ሩዋንዳ"},
    {"SA", "SAU", "Saudi Arabia",
     "Arabie saoudite|Saudi-Arabien|Arabia Saudí|Arabia Saudita|Arábia Saudita"
     "|Saoedi-Arabië|Саудовская Аравия|沙特阿拉伯|沙烏地阿拉伯|サウジアラビア|사우디아라비아|Ả Rập "
     "Xê-út"
     "|عربستان سعودی|المملكة العربية السعودية|ሳውድአረቢያ"},
    {"SB", "SLB", "Solomon Islands",
     "Îles Salomon|Salomonen|Islas Salomón|Isole Salomone|Ilhas Salomão"
     "|Salomonseilanden|Соломоновы о-ва|所罗门群岛|索羅門群島|ソロモン諸島|솔로몬 제도"
     "|Quần đảo Solomon|جزایر سلیمان|جزر سليمان|ሰሎሞን ደሴት"},
    {"SC", "SYC", "Seychelles",
     "Seychellen|Seicheles|Сейшельские о-ва|塞舌尔|塞席爾|セーシェル|세이셸|سیشل|سيشل|ሲሼልስ"},
    {"SD", "SDN", "Sudan",
     "Soudan|Sudán|Sudão|Soedan|Судан|苏丹|蘇丹|スーダン|수단|سودان|السودان|ሱዳን"},
    {"SE", "SWE", "Sweden",
     "Suède|Schweden|Suecia|Svezia|Suécia|Zweden|Швеция|瑞典|スウェーデン|스웨덴|Thụy Điển"
     "|سوئد|السويد|ስዊድን"},
    {"SG", "SGP", "Singapore",
     "Singapour|Singapur|Singapura|Сингапур|新加坡|シンガポール|싱가포르|سنگاپور|سنغافورة"
     "|ሲንጋፖር"},
    {"SH", "SHN", "Saint Helena",
     "St. Helena|Sainte-Hélène|Santa Elena|Sant’Elena|Santa Helena|Sint-Helena"
     "|о-в Св. Елены|圣赫勒拿|聖赫勒拿島|セントヘレナ|세인트헬레나|سنت هلن|سانت هيلينا|ሴንት ሄለና"},
    {"SI", "SVN", "Slovenia",
     "Slovénie|Slowenien|Eslovenia|Eslovênia|Slovenië|Словения|斯洛文尼亚|斯洛維尼亞"
     "|スロベニア|슬로베니아|اسلوونی|سلوفينيا|ስሎቬኒያ"},
    {"SJ", "SJM", "Svalbard and Jan Mayen",
     "Svalbard & Jan Mayen|Svalbard et Jan Mayen|Spitzbergen und Jan Mayen"
     "|Svalbard y Jan Mayen|Svalbard e Jan Mayen|Spitsbergen en Jan Mayen"
     "|Шпицберген и Ян-Майен|斯瓦尔巴和扬马延|挪威屬斯瓦巴及尖棉"
     "|スバールバル諸島・ヤンマイエン島|스발바르제도-얀마웬섬|Svalbard và Jan Mayen"
     "|سوالبارد و یان ماین|سفالبارد وجان ماين"
     "|ስቫልባርድ እና ጃን ማየን"},
    {"SK", "SVK", "Slovakia",
     "Slovaquie|Slowakei|Eslovaquia|Slovacchia|Eslováquia|Slowakije|Словакия"
     "|斯洛伐克|スロバキア|슬로바키아|اسلواکی|سلوفاكيا|ስሎቫኪያ"},
    {"SL", "SLE", "Sierra Leone",
     "Sierra Leona|Serra Leoa|Сьерра-Леоне|塞拉利昂|獅子山|シエラレオネ|시에라리온|سیرالئون"
     "|سيراليون|ሴራሊዮን"},
    {"SM", "SMR", "San Marino",
     "Saint-Marin|Сан-Марино|圣马力诺|聖馬利諾|サンマリノ|산마리노|سان‌مارینو|سان "
     "مارينو"
     "|ሳን ማሪኖ"},
    {"SN", "SEN", "Senegal",
     "Sénégal|Сенегал|塞内加尔|塞內加爾|セネガル|세네갈|سنگال|السنغال|ሴኔጋል"},
    {"SO", "SOM", "Somalia",
     "Somalie|Somália|Somalië|Сомали|索马里|索馬利亞|ソマリア|소말리아|سومالی|الصومال|ሱማሌ"},
    {"SR", "SUR", "Suriname", "Surinam|Суринам|苏里南|蘇利南|スリナム|수리남|سورینام|سورينام|ሱሪናም"},
    {"SS", "SSD", "South Sudan",
     "Soudan du Sud|Südsudan|Sudán del Sur|Sud Sudan|Sudão do Sul|Zuid-Soedan"
     "|Южный Судан|南苏丹|南蘇丹|南スーダン|남수단|Nam Sudan|سودان جنوبی|جنوب السودان"
     "|ደቡብ ሱዳን"},
    {"ST", "STP", "São Tomé and Príncipe",
     "São Tomé & Príncipe|Sao Tomé-et-Principe|São Tomé und Príncipe"
     "|Santo Tomé y Príncipe|São Tomé e Príncipe|Sao Tomé en Principe"
     "|Сан-Томе и Принсипи|圣多美和普林西比|聖多美普林西比|サントメ・プリンシペ|상투메 프린시페"
     "|São Tomé và Príncipe|سائوتومه و پرینسیپ|ساو تومي وبرينسيبي"
     "|ሳኦ ቶሜ እና ፕሪንሲፔ"},
    {"SV", "SLV", "El Salvador",
     "Salvador|Сальвадор|萨尔瓦多|薩爾瓦多|エルサルバドル|엘살바도르|السالوادور|السلفادور"
     "|ኤል ሳልቫዶር"},
    {"SX", "SXM", "Sint Maarten",
     "Saint-Martin (partie néerlandaise)|Sint-Maarten|Синт-Мартен|荷属圣马丁"
     "|荷屬聖馬丁|シント・マールテン|신트마르턴|سنت مارتن|سانت مارتن|ሲንት ማርተን"},
    {"SY", "SYR", "Syria",
     "Syrie|Syrien|Siria|Síria|Syrië|Сирия|叙利亚|敘利亞|シリア|시리아|سوریه|سوريا|ሲሪያ"},
    {"SZ", "SWZ", "Eswatini",
     "Esuatini|eSwatini|Essuatíni|Эсватини|斯威士兰|史瓦帝尼|エスワティニ|에스와티니|اسواتینی"
     "|إسواتيني|ሱዋዚላንድ"},
    {"TC", "TCA", "Turks and Caicos Islands",
     "Turks & Caicos Islands|Îles Turques-et-Caïques|Turks- und Caicosinseln"
     "|Islas Turcas y Caicos|Isole Turks e Caicos|Ilhas Turcas e Caicos"
     "|Turks- en Caicoseilanden|Тёркс и Кайкос|特克斯和凯科斯群岛|土克斯及開科斯群島"
     "|タークス・カイコス諸島|터크스 케이커스 제도|Quần đảo Turks và Caicos"
     "|جزایر تورکس و کایکوس|جزر توركس وكايكوس"
     "|የቱርኮችና የካኢኮስ ደሴቶች"},
    {"TD", "TCD", "Chad", "Tchad|Tschad|Ciad|Chade|Tsjaad|Чад|乍得|查德|チャド|차드|چاد|تشاد|ቻድ"},
    {"TF", "ATF", "French Southern Territories",
     "Terres australes françaises|Französische Süd- und Antarktisgebiete"
     "|Territorios Australes Franceses|Terre australi francesi"
     "|Territórios Franceses do Sul|Franse Gebieden in de zuidelijke Indische Oceaan"
     "|Французские Южные территории|法属南部领地|法屬南部屬地|仏領極南諸島|프랑스령 남방 지역"
     "|Lãnh thổ phía Nam Thuộc Pháp|سرزمین‌های جنوبی فرانسه"
     "|الأقاليم الجنوبية الفرنسية|የፈረንሳይ ደቡባዊ ግዛቶች"},
    {"TG", "TGO", "Togo", "Того|多哥|トーゴ|토고|توگو|توغو|ቶጐ"},
    {"TH", "THA", "Thailand",
     "Thaïlande|Tailandia|Thailandia|Tailândia|Таиланд|泰国|泰國|タイ|태국|Thái Lan"
     "|تایلند|تايلاند|ታይላንድ"},
    {"TJ", "TJK", "Tajikistan",
     "Tadjikistan|Tadschikistan|Tayikistán|Tagikistan|Tadjiquistão|Tadzjikistan"
     "|Таджикистан|塔吉克斯坦|塔吉克|タジキスタン|타지키스탄|تاجیکستان|طاجيكستان|ታጃኪስታን"},
    {"TK", "TKL", "Tokelau", "Токелау|托克劳|托克勞群島|トケラウ|토켈라우|توکلائو|توكيلو|ቶክላው"},
    {"TL", "TLS", "Timor-Leste",
     "Timor oriental|Timor Est|Oost-Timor|Восточный Тимор|东帝汶|東帝汶|東ティモール|동티모르"
     "|تیمور-لسته|تيمور - ليشتي|ቲሞር ሌስቴ"},
    {"TM", "TKM", "Turkmenistan",
     "Turkménistan|Turkmenistán|Turcomenistão|Туркменистан|土库曼斯坦|土庫曼"
     "|トルクメニスタン|투르크메니스탄|ترکمنستان|تركمانستان|ቱርክሜኒስታን"},
    {"TN", "TUN", "Tunisia",
     "Tunisie|Tunesien|Túnez|Tunísia|Tunesië|Тунис|突尼斯|突尼西亞|チュニジア|튀니지|تونس"
     "|ቱኒዚያ"},
    {"TO", "TON", "Tonga", "Тонга|汤加|東加|トンガ|통가|تونگا|تونغا|ቶንጋ"},
    {"TR", "TUR", "Turkey",
     "Turquie|Türkei|Turquía|Turchia|Turquia|Turkije|Турция|土耳其|トルコ|터키|Thổ Nhĩ Kỳ"
     "|ترکیه|تركيا|ቱርክ"},
    {"TT", "TTO", "Trinidad and Tobago",
     "Trinidad & Tobago|Trinité-et-Tobago|Trinidad und Tobago|Trinidad y Tobago"
     "|Trinidad e Tobago|Trinidad en Tobago|Тринидад и Тобаго|特立尼达和多巴哥"
     "|千里達及托巴哥|トリニダード・トバゴ|트리니다드 토바고|Trinidad và Tobago"
     "|ترینیداد و توباگو|ترينيداد وتوباغو|ትሪናዳድ እና ቶቤጎ"},
    {"TV", "TUV", "Tuvalu", "Тувалу|图瓦卢|吐瓦魯|ツバル|투발루|تووالو|توفالو|ቱቫሉ"},
    {"TW", "TWN", "Taiwan", "Taïwan|Taiwán|Тайвань|台湾|台灣|대만|Đài Loan|تایوان|تايوان|ታይዋን"},
    {"TZ", "TZA", "Tanzania",
     "Tanzanie|Tansania|Tanzânia|Танзания|坦桑尼亚|坦尚尼亞|タンザニア|탄자니아|تانزانیا|تنزانيا"
     "|ታንዛኒያ"},
    {"UA", "UKR", "Ukraine",
     "Ucrania|Ucraina|Ucrânia|Oekraïne|Украина|乌克兰|烏克蘭|ウクライナ|우크라이나|Ukraina"
     "|اوکراین|أوكرانيا|ዩክሬን"},
    {"UG", "UGA", "Uganda",
     "Ouganda|Oeganda|Уганда|乌干达|烏干達|ウガンダ|우간다|اوگاندا|أوغندا|ዩጋንዳ"},
    {"UM", "UMI", "United States Minor Outlying Islands",
     "U.S. Outlying Islands|Îles mineures éloignées des États-Unis"
     "|Amerikanische Überseeinseln|Islas menores alejadas de EE. UU."
     "|Isole Minori Esterne degli Stati Uniti|Ilhas Menores Distantes dos EUA"
     "|Kleine afgelegen eilanden van de Verenigde Staten"
     "|Внешние малые о-ва (США)|美国本土外小岛屿|美國本土外小島嶼|合衆国領有小離島|미국령 해외 제도"
     "|Các tiểu đảo xa của Hoa Kỳ"
     "|جزایر دورافتادهٔ ایالات متحده"
     "|جزر الولايات المتحدة النائية|የዩ ኤስ ጠረፍ ላይ ያሉ ደሴቶች"},
    {"US", "USA", "United States",
     "États-Unis|Vereinigte Staaten|Estados Unidos|Stati Uniti|Verenigde Staten"
     "|Соединенные Штаты|美国|美國|アメリカ合衆国|미국|Hoa Kỳ|ایالات متحده"
     "|الولايات المتحدة|ዩናይትድ ስቴትስ"},
    {"UY", "URY", "Uruguay",
     "Uruguai|Уругвай|乌拉圭|烏拉圭|ウルグアイ|우루과이|اروگوئه|أورغواي|ኡራጓይ"},
    {"UZ", "UZB", "Uzbekistan",
     "Ouzbékistan|Usbekistan|Uzbekistán|Uzbequistão|Oezbekistan|Узбекистан"
     "|乌兹别克斯坦|烏茲別克|ウズベキスタン|우즈베키스탄|ازبکستان|أوزبكستان|ኡዝቤኪስታን"},
    {"VA", "VAT", "Vatican City",
     "État de la Cité du Vatican|Vatikanstadt|Ciudad del Vaticano|Città del Vaticano"
     "|Cidade do Vaticano|Vaticaanstad|Ватикан|梵蒂冈|梵蒂岡|バチカン市国|바티칸 시국|Thành Vatican"
     "|واتیکان|الفاتيكان|ቫቲካን ከተማ"},
    {"VC", "VCT", "Saint Vincent and the Grenadines",
     "St. Vincent & Grenadines|Saint-Vincent-et-les Grenadines"
     "|St. Vincent und die Grenadinen|San Vicente y las Granadinas"
     "|Saint Vincent e Grenadine|São Vicente e Granadinas"
     "|Saint Vincent en de Grenadines|Сент-Винсент и Гренадины"
     "|圣文森特和格林纳丁斯|聖文森及格瑞那丁|セントビンセント及びグレナディーン諸島|"
     "세인트빈센트그레나딘|St. Vincent và Grenadines"
     "|سنت وینسنت و گرنادین|سانت فنسنت وجزر غرينادين"
     "|ቅዱስ ቪንሴንት እና ግሬናዲንስ"},
    {"VE", "VEN", "Venezuela",
     "Венесуэла|委内瑞拉|委內瑞拉|ベネズエラ|베네수엘라|ونزوئلا|فنزويلا|ቬንዙዌላ"},
    {"VG", "VGB", "British Virgin Islands",
     "Îles Vierges britanniques|Britische Jungferninseln|Islas Vírgenes Británicas"
     "|Isole Vergini Britanniche|Ilhas Virgens Britânicas|Britse Maagdeneilanden"
     "|Виргинские о-ва (Великобритания)|英属维尔京群岛|英屬維京群島|英領ヴァージン諸島"
     "|영국령 버진아일랜드|Quần đảo Virgin thuộc Anh|جزایر ویرجین بریتانیا"
     "|جزر فيرجن البريطانية|የእንግሊዝ ቨርጂን ደሴቶች"},
    {"VI", "VIR", "U.S. Virgin Islands",
     "Îles Vierges des États-Unis|Amerikanische Jungferninseln"
     "|Islas Vírgenes de EE. UU.|Isole Vergini Americane|Ilhas Virgens Americanas"
     "|Amerikaanse Maagdeneilanden|Виргинские о-ва (США)|美属维尔京群岛|美屬維京群島"
     "|米領ヴァージン諸島|미국령 버진아일랜드|Quần đảo Virgin thuộc Hoa Kỳ"
     "|جزایر ویرجین ایالات متحده"
     "|جزر فيرجن التابعة للولايات المتحدة|የአሜሪካ ቨርጂን ደሴቶች"},
    {"VN", "VNM", "Vietnam",
     "Viêt Nam|Vietnã|Вьетнам|越南|ベトナム|베트남|Việt Nam|ویتنام|فيتنام|ቬትናም"},
    {"VU", "VUT", "Vanuatu", "Вануату|瓦努阿图|萬那杜|バヌアツ|바누아투|وانواتو|فانواتو|ቫኑአቱ"},
    {"WF", "WLF", "Wallis and Futuna",
     "Wallis & Futuna|Wallis-et-Futuna|Wallis und Futuna|Wallis y Futuna"
     "|Wallis e Futuna|Wallis en Futuna|Уоллис и Футуна|瓦利斯和富图纳"
     "|瓦利斯群島和富圖那群島|ウォリス・フツナ|왈리스-푸투나 제도|Wallis và Futuna|والیس و فوتونا"
     "|جزر والس وفوتونا|ዋሊስ እና ፉቱና ደሴቶች"},
    {"WS", "WSM", "Samoa", "Самоа|萨摩亚|薩摩亞|サモア|사모아|ساموآ|ساموا|ሳሞአ"},
    {"XK", "", "Kosovo", "Косово|科索沃|コソボ|코소보|کوزوو|كوسوفو|ኮሶቮ"},
    {"YE", "YEM", "Yemen", "Yémen|Jemen|Iêmen|Йемен|也门|葉門|イエメン|예멘|یمن|اليمن|የመን"},
    {"YT", "MYT", "Mayotte", "Майотта|马约特|馬約特島|マヨット|마요트|مایوت|مايوت|ሜይኦቴ"},
    {"ZA", "ZAF", "South Africa",
     "Afrique du Sud|Südafrika|Sudáfrica|Sudafrica|África do Sul|Zuid-Afrika"
     "|Южно-Африканская Республика|南非|南アフリカ|남아프리카|Nam Phi|افریقای جنوبی"
     "|جنوب أفريقيا|ደቡብ አፍሪካ"},
    {"ZM", "ZMB", "Zambia",
     "Zambie|Sambia|Zâmbia|Замбия|赞比亚|尚比亞|ザンビア|잠비아|زامبیا|زامبيا|ዛምቢያ"},
    {"ZW", "ZWE", "Zimbabwe",
     "Simbabwe|Zimbabue|Zimbábue|Зимбабве|津巴布韦|辛巴威|ジンバブエ|짐바브웨|زیمبابوه"
     "|زيمبابوي|ዚምቧቤ"},
};

// Hand-curated aliases beyond CLDR: abbreviations, older and formal names, endonyms, and everyday
// names in the languages the CRM sees most (Vietnamese, Chinese, Persian, Russian, ...). Dots,
// case and accents need not be listed twice: lookups ignore dots and case and fall back to an
// accent-free comparison. Not listed on purpose: "Congo" alone is CG (its ISO short name), and no
// two-letter alias may shadow an alpha-2 code ("Mỹ" is listed, its ASCII form "My" is Malaysia).
constexpr CountryAliasRow kCountryAliases[] = {
    {"US",
     "USA|U.S.A.|U.S. of A.|United States of America|America|The States|Hoa Kỳ|Mỹ|Nước Mỹ"
     "|美國|美国|米国|アメリカ|アメリカ合衆国|미국|미합중국|ایالات متحده|ایالات متحده آمریکا"
     "|آمریکا|امریکا|Соединённые Штаты|Соединенные Штаты Америки|США|Америка"
     "|Estados Unidos de América|EE.UU.|EE. UU.|EUA|États-Unis d'Amérique"
     "|Vereinigte Staaten von Amerika|Stati Uniti d'America|Verenigde Staten van Amerika"
     "|الولايات المتحدة الأمريكية|أمريكا|አሜሪካ"},
    {"GB",
     "UK|U.K.|Great Britain|Britain|England|Scotland|Wales|Northern Ireland"
     "|United Kingdom of Great Britain and Northern Ireland|Anh|Nước Anh|Inglaterra"
     "|Angleterre|Großbritannien|Grande-Bretagne|Gran Bretaña|Gran Bretagna|Grã-Bretanha"
     "|Groot-Brittannië|Engeland|Англия|Британия|Соединённое Королевство|英格兰|英格蘭"
     "|大不列颠|イングランド|잉글랜드|انگلیس|انگلستان|إنجلترا|بريطانيا"},
    {"DE",
     "Deutschland|BRD|Bundesrepublik Deutschland|Federal Republic of Germany|Nước Đức"
     "|ФРГ|德意志联邦共和国|ドイツ連邦共和国|독일연방공화국|جمهوری فدرال آلمان"},
    {"FR",
     "French Republic|République française|Nước Pháp|Французская Республика|法兰西共和国"
     "|フランス共和国|프랑스 공화국"},
    {"VN",
     "Viet Nam|Socialist Republic of Vietnam|Cộng hòa Xã hội chủ nghĩa Việt Nam"
     "|越南社会主义共和国|ベトナム社会主義共和国|베트남 사회주의 공화국"},
    {"CN",
     "PRC|P.R.C.|PR China|P.R. China|People's Republic of China|Mainland China"
     "|中華人民共和國|中华人民共和国|中國|Trung Hoa|Cộng hòa Nhân dân Trung Hoa"
     "|Китайская Народная Республика|КНР|Volksrepublik China|République populaire de Chine"
     "|República Popular China|Repubblica Popolare Cinese|中華人民共和国|중화인민공화국"
     "|جمهوری خلق چین|جمهورية الصين الشعبية"},
    {"JP", "Nippon|Nihon|日本国|Nhật|Nước Nhật"},
    {"IR",
     "Persia|Islamic Republic of Iran|Iran, Islamic Republic of|Iran (Islamic Republic of)"
     "|جمهوری اسلامی ایران|Исламская Республика Иран|Persien|Perse|伊朗伊斯兰共和国"
     "|イラン・イスラム共和国|جمهورية إيران الإسلامية"},
    {"RU",
     "Russian Federation|Российская Федерация|РФ|Росія|Liên bang Nga|Nước Nga"
     "|Russische Föderation|Fédération de Russie|Federación de Rusia|Federazione Russa"
     "|俄罗斯联邦|俄羅斯聯邦|ロシア連邦|러시아 연방|فدراسیون روسیه|روسيا الاتحادية"},
    {"ES",
     "Espana|Kingdom of Spain|Reino de España|Royaume d'Espagne|Königreich Spanien"
     "|Королевство Испания|西班牙王国|スペイン王国"},
    {"MX",
     "Méjico|United Mexican States|Estados Unidos Mexicanos|Mexikanische Staaten"
     "|États-Unis du Mexique|Мексиканские Соединённые Штаты|墨西哥合众国"},
    {"BR", "Federative Republic of Brazil|República Federativa do Brasil"},
    {"IN", "Bharat|Bhārat|Republic of India|भारत|भारत गणराज्य|हिंदुस्तान|Hindustan"},
    {"IT", "Italian Republic|Repubblica Italiana|Ý|Nước Ý|Ý Đại Lợi|Итальянская Республика"},
    {"NL",
     "Holland|The Netherlands|Kingdom of the Netherlands|Koninkrijk der Nederlanden"
     "|Голландия|Hollande|Holanda|Olanda|荷蘭王國|オランダ王国|ホラント"},
    {"CA", "Ca-na-đa|Dominion of Canada"},
    {"AU", "Commonwealth of Australia|Aussie|Úc|Nước Úc|Австралийский Союз|澳大利亞"},
    {"ET",
     "Abyssinia|Federal Democratic Republic of Ethiopia|Êtiôpia|Ê-ti-ô-pi-a"
     "|የኢትዮጵያ ፌዴራላዊ ዲሞክራሲያዊ ሪፐብሊክ|አቢሲኒያ"},
    {"KR",
     "Korea|Republic of Korea|Korea, Republic of|Korea (South)|Korea South|S. Korea"
     "|한국|대한민국|韓國|大韩民国|大韓民國|大韓民国|Hàn|Южная Корея|Корея|Corée|Korea-Süd"
     "|Corea|Coreia|کره|کره جنوبی|كوريا"},
    {"KP",
     "Korea, Democratic People's Republic of|Democratic People's Republic of Korea|DPRK"
     "|Korea (North)|Korea North|N. Korea|조선|북한|조선민주주의인민공화국|朝鮮|Triều Tiên"
     "|Bắc Triều Tiên|Северная Корея|КНДР|کره شمالی"},
    {"AE", "UAE|U.A.E.|Emirates|Arab Emirates"},
    {"SA", "KSA|Kingdom of Saudi Arabia|Saudi|السعودية"},
    {"CZ", "Czech Republic|Czech|Česko|Česká republika|Чехия"},
    {"SK", "Slovak Republic|Slovensko"},
    {"CI", "Ivory Coast|Cote d Ivoire|Elfenbeinküste|Costa de Marfil|Bờ Biển Ngà"},
    {"MM", "Burma|Myanmar (Burma)|Miến Điện"},
    {"MK",
     "Macedonia|Republic of Macedonia|FYROM|Former Yugoslav Republic of Macedonia"
     "|Republic of North Macedonia|Македонија|Северна Македонија"},
    {"SZ", "Swaziland|Kingdom of Eswatini|Swasiland|Suazilandia"},
    {"TR", "Türkiye|Turkiye|Republic of Türkiye|Türkiye Cumhuriyeti"},
    {"CV", "Cabo Verde|Republic of Cabo Verde"},
    {"TL", "East Timor|Timor Leste|Timor-Leste (East Timor)|Đông Timor"},
    {"VA", "Vatican|Holy See|Holy See (Vatican City State)|Vatican City State|Città del Vaticano"},
    {"CD",
     "DR Congo|D.R. Congo|DRC|D.R.C.|Democratic Republic of Congo|Congo (Kinshasa)"
     "|Congo, Democratic Republic of the|Zaire|RDC|RD Congo|République démocratique du Congo"},
    {"CG",
     "Congo|Republic of Congo|Congo (Brazzaville)|Congo, Republic of the"
     "|République du Congo"},
    {"SY", "Syrian Arab Republic|Syrie|Syrien|Siria|سوريا|سوريه|سوریه"},
    {"LA", "Lao PDR|Lao People's Democratic Republic|Lao"},
    {"MD", "Republic of Moldova|Moldova, Republic of"},
    {"TZ", "United Republic of Tanzania|Tanzania, United Republic of"},
    {"VE", "Bolivarian Republic of Venezuela|Venezuela (Bolivarian Republic of)"},
    {"BO", "Plurinational State of Bolivia|Bolivia (Plurinational State of)"},
    {"FM", "Federated States of Micronesia|Micronesia, Federated States of"},
    {"TW",
     "Republic of China|R.O.C.|Taiwan, Province of China|Chinese Taipei|中華民國|中华民国"
     "|臺灣|台湾省"},
    {"HK", "Hongkong|Hong Kong SAR|HKSAR|香港|香港特別行政區|香港特别行政区|Hồng Kông"},
    {"MO", "Macau|Macau SAR|澳門|澳门|Ma Cao"},
    {"PS", "State of Palestine|Palestinian Territory|Palestine, State of|فلسطين|فلسطین"},
    {"IE", "Republic of Ireland|Eire|Éire|Poblacht na hÉireann"},
    {"BN", "Brunei Darussalam"},
    {"KG", "Kyrgyz Republic|Kirghizia"},
    {"BA", "Bosnia|Bosna i Hercegovina"},
    {"FK", "Falklands|Falkland Islands (Malvinas)|Malvinas|Islas Malvinas"},
    {"FO", "Faroes|Faeroe Islands|Føroyar"},
    {"BS", "The Bahamas|Commonwealth of The Bahamas"},
    {"GM", "The Gambia|Republic of The Gambia"},
    {"KN", "Saint Kitts|St Kitts|St. Kitts and Nevis|Saint Christopher and Nevis"},
    {"VC", "St. Vincent|Saint Vincent|St. Vincent and the Grenadines"},
    {"ST", "São Tomé|Sao Tome"},
    {"TT", "Trinidad|Tobago"},
    {"VI", "US Virgin Islands|Virgin Islands, U.S.|Virgin Islands (U.S.)"},
    {"VG", "BVI|Virgin Islands, British|Virgin Islands (British)"},
    {"GR", "Hellas|Hellenic Republic|Ελλάδα|Ελλάς|Ελληνική Δημοκρατία"},
    {"CH", "Confoederatio Helvetica|Swiss Confederation|Schweizerische Eidgenossenschaft|Svizra"},
    {"AT", "Republik Österreich|Republic of Austria"},
    {"BE", "Belgique|België|Belgien|Kingdom of Belgium"},
    {"DK", "Danmark"},
    {"SE", "Sverige"},
    {"NO", "Norge|Noreg"},
    {"FI", "Suomi"},
    {"IS", "Ísland"},
    {"PL", "Polska"},
    {"HU", "Magyarország"},
    {"HR", "Hrvatska"},
    {"RS", "Srbija|Србија"},
    {"SI", "Slovenija"},
    {"UA", "Україна|Ukraina"},
    {"BY", "Беларусь|Белоруссия|Byelorussia|Belorussia"},
    {"GE", "Sakartvelo|საქართველო"},
    {"AM", "Hayastan|Հայաստան"},
    {"IL", "ישראל|Yisrael"},
    {"EG", "مصر|Misr"},
    {"TH", "Siam|ประเทศไทย|ไทย|Prathet Thai"},
    {"ID", "Republik Indonesia"},
    {"MY", "Malaysia|Mã Lai"},
    {"PH", "Pilipinas|Filipinas"},
    {"KH", "Kampuchea|កម្ពុជា"},
    {"LK", "Ceylon|ශ්‍රී ලංකාව|இலங்கை"},
    {"PK", "پاکستان|Islamic Republic of Pakistan"},
    {"BD", "বাংলাদেশ"},
    {"NP", "नेपाल"},
    {"AF", "Islamic Republic of Afghanistan|Islamic Emirate of Afghanistan"},
    {"SO", "Soomaaliya|الصومال"},
    {"ER", "ኤርትራ"},
    {"ZA", "RSA|Republic of South Africa|Suid-Afrika"},
};

}  // namespace

std::span<const std::string_view> Honorifics() { return kHonorifics; }
std::span<const std::string_view> VietnameseHonorifics() { return kVietnameseHonorifics; }
std::span<const std::string_view> NameSuffixes() { return kNameSuffixes; }
std::span<const NicknamePair> Nicknames() { return kNicknames; }
std::span<const std::string_view> LegalSuffixes() { return kLegalSuffixes; }
std::span<const std::string_view> LegalPrefixes() { return kLegalPrefixes; }
std::span<const std::string_view> CjkLegalSuffixes() { return kCjkLegalSuffixes; }
std::span<const std::string_view> CjkLegalPrefixes() { return kCjkLegalPrefixes; }
std::span<const std::string_view> PlusTagDomains() { return kPlusTagDomains; }
std::span<const CountryRow> Countries() { return kCountries; }
std::span<const CountryAliasRow> CountryAliases() { return kCountryAliases; }

}  // namespace crmh::match::detail
