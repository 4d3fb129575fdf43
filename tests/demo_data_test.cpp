// The demo CRM (daemon/demo_data.h): every number in its summary is checked against real SELECTs,
// on SQLite and (when the harness started one) MariaDB.
#include "daemon/demo_data.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "test_db.h"

namespace crmh {
namespace {

using Cell = std::optional<std::string>;
using Rows = std::vector<std::vector<Cell>>;

// Default now is 2026-11-22 00:00:00; twelve months (365 days) earlier:
constexpr const char* kNow = "2026-11-22 00:00:00";
constexpr const char* kCutoff = "2025-11-22 00:00:00";

// clang-format off
const std::vector<std::string> kContactColumns = {
    "id", "first_name", "last_name", "email", "email2", "phone", "mobile", "company", "address1",
    "address2", "city", "postcode", "region", "country", "birthdate", "status", "owner_id",
    "created_by", "modified_by", "created_at", "updated_at", "last_contacted_at", "email_opt_out",
    "do_not_call", "email_bounced", "legal_hold", "deleted", "notes"};
// clang-format on

long long Count(soci::session& sql, const std::string& q) {
  long long n = -1;
  sql << q, soci::into(n);
  return n;
}

// Runs a query whose every column is text (CAST(... AS CHAR) works on both backends).
Rows Select(soci::session& sql, const std::string& q) {
  Rows out;
  soci::rowset<soci::row> rs = (sql.prepare << q);
  for (const auto& r : rs) {
    std::vector<Cell> row;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (r.get_indicator(i) == soci::i_null) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(r.get<std::string>(i));
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

std::string Text(const Cell& c) { return c.value_or(""); }

bool HasHighByte(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char ch) { return static_cast<unsigned char>(ch) > 0x7F; });
}

// Code points of a UTF-8 string (the generator writes valid UTF-8 only).
std::vector<char32_t> CodePoints(const std::string& s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(n);
  }
  return out;
}

std::string Hex(const std::string& s) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// Every contact row, every column as text (NULL distinct from ''), in id order.
std::string DumpContacts(soci::session& sql) {
  std::string q = "SELECT ";
  for (std::size_t i = 0; i < kContactColumns.size(); ++i) {
    q += (i ? ", CAST(" : "CAST(") + kContactColumns[i] + " AS CHAR)";
  }
  q += " FROM contacts ORDER BY id";
  std::string out;
  for (const auto& row : Select(sql, q)) {
    for (const auto& c : row) {
      out += c ? *c : std::string("\\N");
      out += '\x1f';
    }
    out += '\n';
  }
  return out;
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

demo::DemoDataSummary CreateOk(test::TempDb& t, const demo::DemoDataOptions& opt) {
  auto s = t.Session();
  auto r = demo::CreateDemoCrm(*s, t.backend_name(), opt);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

TEST_CASE("demo CRM: the generic schema is what the generic mapping profile expects") {
  CHECK(demo::GenericSchemaTables() ==
        std::vector<std::string>{"users", "contacts", "activities", "deals", "contact_tags"});
  CHECK(demo::GenericSchemaDdl("oracle").empty());
  CHECK(demo::GenericSchemaDdl("sqlite3") == demo::GenericSchemaDdl("sqlite"));
  CHECK(demo::GenericSchemaDdl("mariadb") == demo::GenericSchemaDdl("mysql"));
  auto m = BuiltinProfile("generic");
  REQUIRE(m.ok());
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    demo::DemoDataOptions opt;
    opt.contacts = 20;
    CreateOk(t, opt);
    auto s = t.Session();
    // A SELECT naming a missing column throws; every mapped column must be there.
    for (const auto& [field, f] : m->fields) {
      CAPTURE(field);
      REQUIRE(!f.column.empty());
      CHECK_NOTHROW(Count(*s, "SELECT COUNT(" + f.column + ") FROM " + m->contacts_table));
    }
    CHECK_NOTHROW(Count(*s, "SELECT COUNT(" + m->soft_delete + ") FROM contacts"));
    for (const auto& c : m->children) {
      CAPTURE(c.table);
      std::string cols = c.column + ", " + c.id_column + ", " + c.soft_delete;
      if (!c.type_column.empty()) cols += ", " + c.type_column;
      for (const auto& u : c.unique_key) cols += ", " + u;
      CHECK_NOTHROW(Count(*s, "SELECT COUNT(*) FROM (SELECT " + cols + " FROM " + c.table + ") x"));
    }
    CHECK_NOTHROW(Count(*s, "SELECT COUNT(" + m->users_name + ") FROM " + m->users_table));
    CHECK_NOTHROW(Count(*s, "SELECT COUNT(last_contacted_at) FROM contacts"));
    CHECK_NOTHROW(Count(*s, "SELECT COUNT(occurred_at) FROM activities"));
  }
}

TEST_CASE("demo CRM: the summary equals a recount from the database") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    const auto t0 = std::chrono::steady_clock::now();
    const demo::DemoDataSummary sum = CreateOk(t, demo::DemoDataOptions{});
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE(test::Name(b) << ": 3000 demo contacts in " << secs << " s");
    if (b == Backend::kSqlite) CHECK(secs < 5.0);  // ~0.1 s in practice; catches a lost transaction
    auto s = t.Session();
    soci::session& sql = *s;

    CHECK(sum.contacts == 3000);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts") == sum.contacts);
    CHECK(Count(sql, "SELECT COUNT(*) FROM users") == sum.users);
    CHECK(Count(sql, "SELECT COUNT(*) FROM activities") == sum.activities);
    CHECK(Count(sql, "SELECT COUNT(*) FROM deals") == sum.deals);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contact_tags") == sum.tags);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE deleted = 1") == sum.deleted_contacts);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND email_opt_out = 1") ==
          sum.opted_out);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND do_not_call = 1") ==
          sum.do_not_call);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND email_bounced = 1") ==
          sum.bounced);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND legal_hold = 1") ==
          sum.legal_hold);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND status = 'customer'") ==
          sum.customers);
    CHECK(Count(sql, "SELECT COUNT(*) FROM deals WHERE deleted = 0 AND stage = 'open'") ==
          sum.open_deals);

    // Users: reps plus exactly one system user, `crm-hygiene`.
    auto sys = Select(sql, "SELECT CAST(id AS CHAR), user_name FROM users WHERE is_system = 1");
    REQUIRE(sys.size() == 1);
    CHECK(Text(sys[0][0]) == sum.system_user_id);
    CHECK(Text(sys[0][1]) == "crm-hygiene");
    CHECK(sum.users >= 7);
    // Nobody creates or owns contacts as the system user; owners have uneven books.
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE owner_id = " + sum.system_user_id +
                         " OR created_by = " + sum.system_user_id) == 0);
    auto books = Select(sql, "SELECT CAST(COUNT(*) AS CHAR) FROM contacts GROUP BY owner_id");
    std::vector<long long> sizes;
    for (const auto& r : books) sizes.push_back(std::stoll(Text(r[0])));
    REQUIRE(sizes.size() >= 6);
    CHECK(*std::max_element(sizes.begin(), sizes.end()) >=
          3 * *std::min_element(sizes.begin(), sizes.end()));

    // Non-Latin or diacritic names: counted right, and at least a quarter.
    int high = 0;
    auto names = Select(sql, "SELECT first_name, last_name FROM contacts");
    for (const auto& r : names) high += HasHighByte(Text(r[0])) || HasHighByte(Text(r[1]));
    CHECK(high == sum.non_latin_or_diacritic);
    CHECK(high * 4 >= sum.contacts);

    // Stale / never contacted / protected, recounted from the rows with the header's definitions.
    std::map<std::string, std::string> latest;  // contact id -> latest live Contacts activity
    for (const auto& r : Select(sql,
                                "SELECT CAST(parent_id AS CHAR), CAST(MAX(occurred_at) AS CHAR) "
                                "FROM activities WHERE parent_type = 'Contacts' AND deleted = 0 "
                                "GROUP BY parent_id")) {
      latest[Text(r[0])] = Text(r[1]);
    }
    std::set<std::string> open_deal, keep;
    for (const auto& r : Select(sql,
                                "SELECT CAST(contact_id AS CHAR) FROM deals "
                                "WHERE deleted = 0 AND stage = 'open'")) {
      open_deal.insert(Text(r[0]));
    }
    for (const auto& r : Select(sql,
                                "SELECT CAST(contact_id AS CHAR) FROM contact_tags "
                                "WHERE deleted = 0 AND tag = 'keep'")) {
      keep.insert(Text(r[0]));
    }
    int stale = 0, stale_protected = 0, never = 0;
    for (const auto& r : Select(sql,
                                "SELECT CAST(id AS CHAR), CAST(last_contacted_at AS CHAR), "
                                "status, CAST(legal_hold AS CHAR) FROM contacts "
                                "WHERE deleted = 0")) {
      std::string id = Text(r[0]);
      std::string last = std::max(Text(r[1]), latest.count(id) ? latest[id] : std::string());
      if (last.empty()) {
        ++never;
      } else if (last < kCutoff) {
        ++stale;
        stale_protected +=
            Text(r[2]) == "customer" || Text(r[3]) == "1" || open_deal.count(id) || keep.count(id);
      }
    }
    CHECK(stale == sum.stale);
    CHECK(stale_protected == sum.stale_protected);
    CHECK(never == sum.never_contacted);

    // The shape the jobs are tested against.
    CHECK(sum.stale * 100 >= sum.contacts * 10);
    CHECK(sum.stale * 100 <= sum.contacts * 20);
    CHECK(sum.stale_protected > 0);
    CHECK(sum.stale_protected < sum.stale);
    CHECK(sum.never_contacted > 0);
    CHECK(sum.opted_out * 100 >= sum.contacts * 3);
    CHECK(sum.opted_out * 100 <= sum.contacts * 8);
    CHECK(sum.bounced > 0);
    CHECK(sum.legal_hold > 0);
    CHECK(sum.customers > 0);
    CHECK(sum.deleted_contacts > 0);
    CHECK(sum.open_deals > 0);
    CHECK(sum.activities >= 2 * sum.contacts);
    CHECK(sum.activities <= 4 * sum.contacts);
    CHECK(Count(sql, "SELECT COUNT(*) FROM activities WHERE deleted = 1") > 0);
    CHECK(Count(sql, "SELECT COUNT(*) FROM activities WHERE parent_type = 'Deals'") > 0);
    // Stale contacts with protections of every kind, and never-contacted old contacts.
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND last_contacted_at IS NULL "
                "AND created_at < '2025-01-01' AND NOT EXISTS (SELECT 1 FROM activities a "
                "WHERE a.parent_type = 'Contacts' AND a.parent_id = contacts.id AND "
                "a.deleted = 0)") > 0);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contact_tags WHERE tag = 'keep' AND deleted = 0") > 0);

    // Referential sanity: every child points at a real parent.
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM activities a WHERE a.parent_type = 'Contacts' AND "
                "NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = a.parent_id)") == 0);
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM activities a WHERE a.parent_type = 'Deals' AND "
                "NOT EXISTS (SELECT 1 FROM deals d WHERE d.id = a.parent_id)") == 0);
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM activities WHERE parent_type NOT IN "
                "('Contacts', 'Deals') OR kind NOT IN ('call', 'meeting', 'email', 'note')") == 0);
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM deals d WHERE NOT EXISTS "
                "(SELECT 1 FROM contacts c WHERE c.id = d.contact_id)") == 0);
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM contact_tags t WHERE NOT EXISTS "
                "(SELECT 1 FROM contacts c WHERE c.id = t.contact_id)") == 0);
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM users u "
                "WHERE u.id = c.owner_id) OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = "
                "c.created_by) OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = "
                "c.modified_by)") == 0);
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM contacts WHERE status NOT IN "
                "('lead', 'customer', 'former')") == 0);
    CHECK(Count(sql, "SELECT COUNT(*) FROM deals WHERE stage NOT IN ('open', 'won', 'lost')") == 0);

    // Time: about three years of history, nothing after now, updated_at >= created_at.
    auto span = Select(sql,
                       "SELECT CAST(MIN(created_at) AS CHAR), CAST(MAX(created_at) AS CHAR), "
                       "CAST(MAX(updated_at) AS CHAR), CAST(MAX(last_contacted_at) AS CHAR) "
                       "FROM contacts");
    CHECK(Text(span[0][0]) >= "2023-11-01");
    CHECK(Text(span[0][0]) < "2024-01-01");
    for (int i = 1; i <= 3; ++i) CHECK(Text(span[0][i]) <= kNow);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE updated_at < created_at") == 0);
    CHECK(Count(sql, std::string("SELECT COUNT(*) FROM activities WHERE occurred_at > '") + kNow +
                         "'") == 0);
    CHECK(Count(sql, std::string("SELECT COUNT(*) FROM deals WHERE created_at > '") + kNow + "'") ==
          0);
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM deals d JOIN contacts c ON c.id = d.contact_id "
                "WHERE d.created_at < c.created_at") == 0);
    // Amounts carry cents.
    CHECK(Count(sql, "SELECT COUNT(*) FROM deals WHERE amount * 100 <> FLOOR(amount) * 100") > 0);
  }
}

TEST_CASE("demo CRM: planted duplicates, placeholders and dirt are where the summary says") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    const demo::DemoDataSummary sum = CreateOk(t, demo::DemoDataOptions{});
    auto s = t.Session();
    soci::session& sql = *s;

    // Ground truth: groups of 2-4 live contacts, ids ascending, groups ordered by first id,
    // ~8-12 % of the contacts, placeholders in no group.
    REQUIRE(sum.duplicate_groups == static_cast<int>(sum.duplicate_truth.size()));
    REQUIRE(sum.duplicate_variations.size() == sum.duplicate_truth.size());
    CHECK(sum.duplicate_contacts * 100 >= sum.contacts * 8);
    CHECK(sum.duplicate_contacts * 100 <= sum.contacts * 12);
    std::set<std::string> in_group;
    int members = 0;
    long long prev_first = 0;
    std::map<std::string, int> variation_kinds;
    for (std::size_t g = 0; g < sum.duplicate_truth.size(); ++g) {
      const auto& ids = sum.duplicate_truth[g];
      CAPTURE(g);
      CHECK(ids.size() >= 2);
      CHECK(ids.size() <= 4);
      CHECK(std::stoll(ids[0]) > prev_first);
      prev_first = std::stoll(ids[0]);
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) CHECK(std::stoll(ids[i - 1]) < std::stoll(ids[i]));
        CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND id = " + ids[i]) ==
              1);
        CHECK(in_group.insert(ids[i]).second);
        ++members;
      }
      CHECK(!sum.duplicate_variations[g].empty());
      std::string v = sum.duplicate_variations[g] + ",";
      for (std::size_t at = 0, comma; (comma = v.find(',', at)) != std::string::npos;
           at = comma + 1) {
        ++variation_kinds[v.substr(at, comma - at)];
      }
    }
    CHECK(members == sum.duplicate_contacts);
    for (const char* kind :
         {"typo", "swapped", "nickname", "diacritics", "transliteration", "phone_format",
          "email_case", "email_other", "company_suffix", "missing_field", "consent", "owner",
          "created_by", "shared_tag", "shared_activity"}) {
      CAPTURE(kind);
      CHECK(variation_kinds[kind] > 0);
    }
    CHECK(sum.placeholders == static_cast<int>(sum.placeholder_ids.size()));
    CHECK(sum.placeholders > 0);
    for (const auto& id : sum.placeholder_ids) {
      CHECK(in_group.count(id) == 0);
      CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE id = " + id) == 1);
    }

    // What the variations promise is in the rows: a shared tag (a merge hits UNIQUE(contact_id,
    // tag)), conflicting consent, a shared activity.
    int tag_conflicts = 0, consent_conflicts = 0, shared_activities = 0;
    for (std::size_t g = 0; g < sum.duplicate_truth.size(); ++g) {
      std::string in;
      for (const auto& id : sum.duplicate_truth[g]) in += (in.empty() ? "" : ", ") + id;
      const std::string& v = sum.duplicate_variations[g];
      if (v.find("shared_tag") != std::string::npos) {
        tag_conflicts += Count(sql,
                               "SELECT COUNT(*) FROM (SELECT tag FROM contact_tags WHERE "
                               "deleted = 0 AND contact_id IN (" +
                                   in +
                                   ") GROUP BY tag "
                                   "HAVING COUNT(*) > 1) x") > 0;
      }
      if (v.find("consent") != std::string::npos) {
        consent_conflicts +=
            Count(sql, "SELECT COUNT(DISTINCT email_opt_out) FROM contacts WHERE id IN (" + in +
                           ")") == 2;
      }
      if (v.find("shared_activity") != std::string::npos) {
        shared_activities +=
            Count(sql,
                  "SELECT COUNT(*) FROM (SELECT subject, occurred_at FROM activities WHERE "
                  "parent_type = 'Contacts' AND deleted = 0 AND parent_id IN (" +
                      in + ") GROUP BY subject, occurred_at HAVING COUNT(*) > 1) x") > 0;
      }
    }
    CHECK(tag_conflicts == variation_kinds["shared_tag"]);
    CHECK(consent_conflicts == variation_kinds["consent"]);
    CHECK(shared_activities == variation_kinds["shared_activity"]);

    // Dirt, looked for in C++ (a _ci collation would make 'us' = 'US' and 'Nguyen' = 'Nguyễn').
    auto rows = Select(sql, "SELECT first_name, last_name, email, phone, country FROM contacts");
    std::set<std::string> first, last, country;
    int upper = 0, lower = 0, email_caps = 0, email_space = 0, typo_domain = 0, role = 0,
        disposable = 0, paren = 0, dotted = 0, double_zero = 0, ext = 0;
    std::map<std::string, bool> script;
    for (const auto& r : rows) {
      std::string f = Text(r[0]), l = Text(r[1]), e = Text(r[2]), p = Text(r[3]);
      first.insert(f);
      last.insert(l);
      country.insert(Text(r[4]));
      bool has_upper = false, has_lower = false;
      for (char ch : f + l) {
        has_upper |= ch >= 'A' && ch <= 'Z';
        has_lower |= ch >= 'a' && ch <= 'z';
      }
      upper += has_upper && !has_lower && l.size() > 2;
      lower += has_lower && !has_upper && l.size() > 2;
      email_caps += e.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos;
      email_space += !e.empty() && (e.front() == ' ' || e.back() == ' ');
      typo_domain +=
          e.find("@gmial.com") != std::string::npos || e.find("@hotmial.com") != std::string::npos;
      role += e.rfind("info@", 0) == 0 || e.rfind("sales@", 0) == 0;
      disposable += e.find("@mailinator.com") != std::string::npos ||
                    e.find("@yopmail.com") != std::string::npos ||
                    e.find("@guerrillamail.com") != std::string::npos;
      paren += p.find('(') != std::string::npos;
      dotted += p.find('.') != std::string::npos;
      double_zero += p.rfind("00", 0) == 0;
      ext += p.find(" ext") != std::string::npos || p.find(" x") != std::string::npos;
      for (char32_t c : CodePoints(f + l)) {
        if (c >= 0x600 && c <= 0x6FF) script["arabic"] = true;
        if (c >= 0x4E00 && c <= 0x9FFF) script["han"] = true;
        if (c >= 0x1200 && c <= 0x137F) script["ethiopic"] = true;
        if (c >= 0x400 && c <= 0x4FF) script["cyrillic"] = true;
        if ((c >= 0x1EA0 && c <= 0x1EF9) || c == 0x111 || c == 0x1B0 || c == 0x1A1) {
          script["vietnamese"] = true;
        }
        if (c == U'ü' || c == U'ö' || c == U'ä') script["umlaut"] = true;
        if (c == U'é' || c == U'è' || c == U'ç') script["french"] = true;
      }
    }
    for (const char* k :
         {"arabic", "han", "ethiopic", "cyrillic", "vietnamese", "umlaut", "french"}) {
      CAPTURE(k);
      CHECK(script[k]);
    }
    // Vietnamese with and without diacritics, Chinese in Han and in pinyin, Persian, Amharic.
    CHECK(last.count("Nguyễn"));
    CHECK(last.count("Nguyen"));
    CHECK(last.count("王"));
    CHECK(last.count("Wang"));
    CHECK(last.count("رضایی"));
    CHECK(last.count("Rezaei"));
    CHECK(last.count("በቂላ"));
    // Legit mixed-case names that a re-caser must leave alone.
    for (const char* n : {"McDonald", "O'Neil", "van der Berg", "de la Cruz"}) {
      CAPTURE(n);
      CHECK(last.count(n));
    }
    CHECK(first.count("DeAndre"));
    for (const char* c : {"USA", "United States", "U.S.", "us", "Hoa Kỳ", "Mỹ", "美国",
                          "ایالات متحده", "Deutschland", "Germany", "DE", "Vietnam", "Việt Nam"}) {
      CAPTURE(c);
      CHECK(country.count(c));
    }
    CHECK(upper > 0);
    CHECK(lower > 0);
    CHECK(email_caps > 0);
    CHECK(email_space > 0);
    CHECK(typo_domain > 0);
    CHECK(role > 0);
    CHECK(disposable > 0);
    CHECK(paren > 0);
    CHECK(dotted > 0);
    CHECK(double_zero > 0);
    CHECK(ext > 0);
    // Placeholders: junk names, names that are emails, fake phones.
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM contacts WHERE first_name = 'Mickey' OR first_name = "
                "'test' OR first_name = 'asdf' OR first_name = 'N/A' OR last_name LIKE '%@%' "
                "OR first_name LIKE '%@%'") > 0);
    CHECK(Count(sql,
                "SELECT COUNT(*) FROM contacts WHERE phone IN ('555-0100', '0000000', "
                "'+1 555 0100')") > 0);
    // Empty mandatory fields, at rates that differ per owner; as NULL and as ''.
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE email IS NULL") > 0);
    CHECK(Count(sql, "SELECT COUNT(*) FROM contacts WHERE email = ''") > 0);
    auto rates = Select(sql,
                        "SELECT CAST(SUM(CASE WHEN phone IS NULL OR TRIM(phone) = '' THEN 1 "
                        "ELSE 0 END) * 1000 / COUNT(*) AS CHAR) FROM contacts "
                        "GROUP BY owner_id");
    std::vector<double> r;
    for (const auto& row : rates) r.push_back(std::stod(Text(row[0])));
    REQUIRE(!r.empty());
    CHECK(*std::max_element(r.begin(), r.end()) >= 3 * *std::min_element(r.begin(), r.end()));
  }
}

TEST_CASE("demo CRM: the same seed gives the same rows, another seed other rows") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    demo::DemoDataOptions opt;
    opt.contacts = 400;
    test::TempDb t1(b), t2(b), t3(b);
    auto s1 = CreateOk(t1, opt);
    auto s2 = CreateOk(t2, opt);
    opt.seed += 1;
    auto s3 = CreateOk(t3, opt);
    std::string d1 = DumpContacts(*t1.Session()), d2 = DumpContacts(*t2.Session()),
                d3 = DumpContacts(*t3.Session());
    CHECK(d1.size() > 400 * 50);
    CHECK(Fnv1a(d1) == Fnv1a(d2));
    CHECK(d1 == d2);
    CHECK(Fnv1a(d1) != Fnv1a(d3));
    CHECK(s1.duplicate_truth == s2.duplicate_truth);
    CHECK(s1.duplicate_variations == s2.duplicate_variations);
    CHECK(s1.placeholder_ids == s2.placeholder_ids);
    CHECK(s1.stale == s2.stale);
    CHECK(s1.activities == s2.activities);
    CHECK(s1.duplicate_truth != s3.duplicate_truth);
    // Children too.
    auto children = [](test::TempDb& t) {
      auto s = t.Session();
      std::string out;
      for (const auto& r : Select(*s,
                                  "SELECT CAST(id AS CHAR), parent_type, CAST(parent_id AS "
                                  "CHAR), kind, subject, CAST(occurred_at AS CHAR), "
                                  "CAST(deleted AS CHAR) FROM activities ORDER BY id")) {
        for (const auto& c : r) out += Text(c) + "|";
      }
      for (const auto& r : Select(*s,
                                  "SELECT CAST(id AS CHAR), CAST(contact_id AS CHAR), tag, "
                                  "CAST(deleted AS CHAR) FROM contact_tags ORDER BY id")) {
        for (const auto& c : r) out += Text(c) + "|";
      }
      return out;
    };
    CHECK(children(t1) == children(t2));
  }
}

TEST_CASE("demo CRM: names round-trip byte-exactly, both backends hold the same rows") {
  std::map<Backend, std::string> dumps;
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    demo::DemoDataOptions opt;
    opt.contacts = 1000;
    CreateOk(t, opt);
    auto s = t.Session();
    // The stored bytes, as the server sees them (HEX), equal the UTF-8 we meant.
    for (const std::string name : {"Nguyễn", "王", "Иванова", "رضایی", "በቂላ", "Müller"}) {
      CAPTURE(name);
      std::string id;
      for (const auto& r : Select(*s,
                                  "SELECT CAST(id AS CHAR), last_name FROM contacts "
                                  "ORDER BY id")) {
        if (Text(r[1]) == name) {
          id = Text(r[0]);
          break;
        }
      }
      REQUIRE_MESSAGE(!id.empty(), "no contact with last_name " << name);
      auto hex = Select(*s, "SELECT HEX(last_name) FROM contacts WHERE id = " + id);
      CHECK(Text(hex[0][0]) == Hex(name));
    }
    dumps[b] = DumpContacts(*s);
  }
  if (dumps.size() == 2) CHECK(dumps[Backend::kSqlite] == dumps[Backend::kMysql]);
}

TEST_CASE("demo CRM: a database that already has the tables is refused and left untouched") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    {
      test::TempDb t(b);
      demo::DemoDataOptions opt;
      opt.contacts = 50;
      auto first = CreateOk(t, opt);
      auto s = t.Session();
      std::string before = DumpContacts(*s);
      long long acts = Count(*s, "SELECT COUNT(*) FROM activities");
      auto again = demo::CreateDemoCrm(*s, t.backend_name(), opt);
      REQUIRE_FALSE(again.ok());
      CHECK(again.error().exit == Exit::kJobFailed);
      CHECK(again.error().message.find("contacts") != std::string::npos);
      CHECK(DumpContacts(*s) == before);
      CHECK(Count(*s, "SELECT COUNT(*) FROM activities") == acts);
      CHECK(Count(*s, "SELECT COUNT(*) FROM users") == first.users);
    }
    {  // One foreign table with a demo name: refused, it survives, nothing else is created.
      test::TempDb t(b);
      auto s = t.Session();
      *s << "CREATE TABLE deals (id INTEGER PRIMARY KEY, title VARCHAR(20))";
      *s << "INSERT INTO deals (id, title) VALUES (7, 'keep me')";
      auto r = demo::CreateDemoCrm(*s, t.backend_name(), demo::DemoDataOptions{});
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().message.find("deals") != std::string::npos);
      CHECK(Count(*s, "SELECT COUNT(*) FROM deals WHERE title = 'keep me'") == 1);
      CHECK_THROWS(Count(*s, "SELECT COUNT(*) FROM contacts"));
      CHECK_THROWS(Count(*s, "SELECT COUNT(*) FROM users"));
    }
  }
}

TEST_CASE("demo CRM: a failure part-way leaves no demo table behind") {
  {  // SQLite: an index name that clashes makes the schema step fail inside the transaction.
    test::TempDb t(Backend::kSqlite);
    auto s = t.Session();
    *s << "CREATE TABLE other (x INTEGER)";
    *s << "CREATE INDEX deals_contact_id_idx ON other (x)";
    auto r = demo::CreateDemoCrm(*s, "sqlite", demo::DemoDataOptions{});
    REQUIRE_FALSE(r.ok());
    CHECK(Count(*s, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('users', 'contacts', "
                    "'activities', 'deals', 'contact_tags')") == 0);
    CHECK(Count(*s, "SELECT COUNT(*) FROM other") == 0);
  }
  if (test::MysqlSocket().empty()) return;
  // MariaDB: DDL commits at once, so a user who may CREATE and DROP but not INSERT gets the
  // tables created, the fill refused, and the tables dropped again.
  test::TempDb t(Backend::kMysql);
  const std::string user = test::UniqueName("crmh_ro_");
  auto root = t.Session();
  *root << "CREATE USER '" + user + "'@'localhost' IDENTIFIED BY 'pw'";
  *root << "GRANT CREATE, DROP, SELECT ON `" + t.name() + "`.* TO '" + user + "'@'localhost'";
  *root << "CREATE TABLE unrelated (id INT PRIMARY KEY)";
  {
    soci::session s(soci::mysql, "unix_socket=" + test::MysqlSocket() + " user=" + user +
                                     " password=pw charset=utf8mb4 db=" + t.name());
    auto r = demo::CreateDemoCrm(s, "mariadb", demo::DemoDataOptions{});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("INSERT") != std::string::npos);
  }
  CHECK(Count(*root, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '" +
                         t.name() + "'") == 1);  // only `unrelated`
  *root << "DROP USER '" + user + "'@'localhost'";
}

TEST_CASE("demo CRM: bad arguments are errors, not exceptions") {
  test::TempDb t(Backend::kSqlite);
  auto s = t.Session();
  demo::DemoDataOptions opt;
  opt.contacts = 10;
  auto unknown = demo::CreateDemoCrm(*s, "oracle", opt);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().exit == Exit::kUsage);
  auto mismatch = demo::CreateDemoCrm(*s, "mysql", opt);  // a SQLite session
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().exit == Exit::kUsage);
  opt.contacts = -1;
  CHECK_FALSE(demo::CreateDemoCrm(*s, "sqlite", opt).ok());
  opt.contacts = 2'000'001;
  CHECK_FALSE(demo::CreateDemoCrm(*s, "sqlite", opt).ok());
  CHECK_THROWS(Count(*s, "SELECT COUNT(*) FROM contacts"));  // none of that created anything
  opt.contacts = 10;
  CHECK(demo::CreateDemoCrm(*s, "sqlite3", opt).ok());
}

TEST_CASE("demo CRM: tiny data sets work") {
  for (int n : {0, 1, 9, 25, 150}) {
    CAPTURE(n);
    test::TempDb t(Backend::kSqlite);
    demo::DemoDataOptions opt;
    opt.contacts = n;
    auto sum = CreateOk(t, opt);
    auto s = t.Session();
    CHECK(sum.contacts == n);
    CHECK(Count(*s, "SELECT COUNT(*) FROM contacts") == n);
    CHECK(Count(*s, "SELECT COUNT(*) FROM users WHERE is_system = 1") == 1);
    CHECK(sum.duplicate_contacts <= n);
    if (n >= 150) CHECK(sum.duplicate_groups > 0);
  }
}

TEST_CASE("demo CRM: the reference time moves every timestamp with it") {
  test::TempDb t(Backend::kSqlite);
  demo::DemoDataOptions opt;
  opt.contacts = 200;
  opt.now = std::chrono::sys_days{std::chrono::year{2030} / 6 / 1};
  auto sum = CreateOk(t, opt);
  auto s = t.Session();
  CHECK(Count(*s,
              "SELECT COUNT(*) FROM contacts WHERE created_at > '2030-06-01 00:00:00' OR "
              "created_at < '2027-05-01'") == 0);
  CHECK(Count(*s, "SELECT COUNT(*) FROM activities WHERE occurred_at > '2030-06-01 00:00:00'") ==
        0);
  CHECK(sum.stale > 0);
}

}  // namespace
}  // namespace crmh
