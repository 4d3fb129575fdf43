// standardize (issue 6, first slice): every rule as a table of input → output, every validator
// as a table, and on SQLite and MariaDB: all rules → restore to the exact pre-run checksums,
// flags that open, stay open and clear themselves when a rep fixes the value, and a dry run that
// writes nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "crm/flags.h"
#include "crm/state.h"
#include "demo_fixture.h"
#include "jobs/change.h"
#include "jobs/standardize.h"
#include "match/validate.h"

namespace crmh {
namespace {

using test::DemoCrm;

struct Case {
  std::string_view in;
  std::string_view want;
};

TEST_CASE("standardize rule name_case: only ALL-UPPER or all-lower values, hard names kept") {
  const Case cases[] = {
      {"JOHN", "John"},
      {"john smith", "John Smith"},
      {"DeAndre", "DeAndre"},      // mixed case is somebody's deliberate spelling
      {"McDonald", "McDonald"},
      {"van Gogh", "van Gogh"},
      {"MCDONALD", "McDonald"},
      {"mcdonald", "McDonald"},
      {"MACARTHUR", "Macarthur"},  // Mac is not safe (Mack, Macy, Machado): no inner capital
      {"mc", "Mc"},
      {"mcx", "Mcx"},
      {"O'NEIL", "O'Neil"},
      {"o'neil", "O'Neil"},
      {"d\u2019arcy", "D\u2019Arcy"},
      {"N'DIAYE", "N'Diaye"},
      {"VAN DER BERG", "Van der Berg"},
      {"DE LA CRUZ", "De la Cruz"},
      {"VAN GOGH", "Van Gogh"},
      {"de", "De"},
      {"jan van der berg", "Jan van der Berg"},
      {"maria de la cruz", "Maria de la Cruz"},
      {"PEDRO DE SOUZA", "Pedro de Souza"},
      {"ludwig van beethoven", "Ludwig Van Beethoven"},  // weak particle alone: could be Văn
      {"NGUYEN VAN AN", "Nguyen Van An"},
      {"NGUYEN LE MINH", "Nguyen Le Minh"},
      {"NGUYỄN VĂN AN", "Nguyễn Văn An"},
      {"nguyễn văn an", "Nguyễn Văn An"},
      {"ÉMILE ZOLA", "Émile Zola"},
      {"müller-lüdenscheidt", "Müller-Lüdenscheidt"},
      {"JEAN-PIERRE", "Jean-Pierre"},
      {"JOHN SMITH III", "John Smith III"},
      {"ST. JOHN", "St. John"},
      {"  JOHN  ", "  John  "},  // whitespace is trim_whitespace's business
      {"a", "A"},
      {"", ""},
      {"张三", "张三"},            // non-Latin scripts are left alone
      {"ИВАН ПЕТРОВ", "ИВАН ПЕТРОВ"},
      {"محمد", "محمد"},
      {"ALİ YILMAZ", "ALİ YILMAZ"},  // Turkish dotted I: casing needs a locale we do not know
      {"JOHN2", "JOHN2"},
      {"JOHN@EXAMPLE.COM", "JOHN@EXAMPLE.COM"},
      {"-", "-"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    CHECK(match::NameCase(c.in) == c.want);
    CHECK(match::NameCase(match::NameCase(c.in)) == match::NameCase(c.in));  // idempotent
  }
}

TEST_CASE("standardize rule company_suffix: only the legal-form token's spelling") {
  const Case cases[] = {
      {"acme inc", "acme Inc."},
      {"Acme, INC.", "Acme, Inc."},
      {"Acme Inc.", "Acme Inc."},
      {"Widgets ltd.", "Widgets Ltd"},
      {"Widgets LTD", "Widgets Ltd"},
      {"Foo Pty ltd", "Foo Pty Ltd"},
      {"Foo l.l.c.", "Foo LLC"},
      {"Foo Llc", "Foo LLC"},
      {"Baker llp", "Baker LLP"},
      {"Müller GMBH", "Müller GmbH"},
      {"Müller gmbh", "Müller GmbH"},
      {"Bayer ag", "Bayer AG"},
      {"Initech corp", "Initech Corp."},
      {"ACME INC ", "ACME Inc. "},
      {"Inc", "Inc"},               // one token: a name, not a suffix
      {"Incorporated Things", "Incorporated Things"},
      {"Acme Incorporated", "Acme Incorporated"},
      {"Công ty TNHH ABC", "Công ty TNHH ABC"},
      {"", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    CHECK(jobs::CompanySuffix(c.in) == c.want);
  }
}

TEST_CASE("standardize rules phone_e164 and country_canonical") {
  jobs::Standardizer us(jobs::StandardizeRules(), "US");
  const Case phones[] = {
      {"(650) 253-0000", "+16502530000"},
      {"650.253.0000", "+16502530000"},
      {"+1 650 253 0000", "+16502530000"},
      {"+16502530000", "+16502530000"},
      {"1-650-253-0000", "+16502530000"},
      {"650-253-0000 ext. 12", "+16502530000 ext. 12"},
      {"+16502530000 ext. 12", "+16502530000 ext. 12"},
      {"0049 30 12345678", "+493012345678"},
      {"+44 (0)20 7946 0000", "+442079460000"},
      {"12", "12"},                    // cannot parse: left alone (and flagged)
      {"call me", "call me"},
      {"555-0100", "555-0100"},
  };
  for (const auto& c : phones) {
    CAPTURE(c.in);
    CHECK(us.PhoneE164(c.in) == c.want);
    CHECK(us.PhoneE164(us.PhoneE164(c.in)) == us.PhoneE164(c.in));
  }
  // A national number is read as one of the contact's own country, when the row says which.
  CHECK(us.PhoneE164("030 12345678", "DE") == "+493012345678");
  CHECK(us.PhoneE164("030 12345678") == "030 12345678");
  CHECK(us.PhoneE164("+1 650 253 0000", "DE") == "+16502530000");
  CHECK(us.Apply("phone", "030 12345678", nullptr, "DE") == "+493012345678");
  // Extensions the demo's reps type: kept, or the value is left alone; never dropped.
  for (std::string_view ext : {"650-253-0000 x12", "650-253-0000 ext 12", "650-253-0000 #12",
                               "650-253-0000 ext. 12"}) {
    CAPTURE(ext);
    std::string out = us.PhoneE164(ext);
    CHECK((out == "+16502530000 ext. 12" || out == ext));
  }
  jobs::Standardizer de(jobs::StandardizeRules(), "DE");
  CHECK(de.PhoneE164("030 12345678") == "+493012345678");
  CHECK(de.PhoneE164("(0)30 / 1234 5678") == "+493012345678");

  const std::string us_name = match::CountryName("US");
  REQUIRE(!us_name.empty());
  const Case countries[] = {
      {"USA", us_name},        {"usa", us_name},          {"U.S.A.", us_name},
      {"Hoa Kỳ", us_name},     {"美国", us_name},          {"Deutschland", "Germany"},
      {"DE", "Germany"},       {"Germany", "Germany"},    {"Narnia", "Narnia"},
      {"", ""},
  };
  for (const auto& c : countries) {
    CAPTURE(c.in);
    CHECK(us.CountryCanonical(c.in) == c.want);
  }
}

TEST_CASE("standardize rules run in a fixed order per field and name themselves") {
  jobs::Standardizer s({"company_suffix", "name_case", "trim_whitespace", "phone_e164",
                        "country_canonical", "lowercase_email"},
                       "US");
  struct Row {
    std::string_view field, in, want;
    std::vector<std::string> rules;
  };
  const Row rows[] = {
      {"first_name", "  JOHN  ", "John", {"trim_whitespace", "name_case"}},
      {"email", " John@Example.COM", "john@example.com", {"trim_whitespace", "lowercase_email"}},
      {"phone", " (650) 253-0000 ", "+16502530000", {"trim_whitespace", "phone_e164"}},
      {"country", "usa ", match::CountryName("US"), {"trim_whitespace", "country_canonical"}},
      {"company", "acme   inc", "acme Inc.", {"trim_whitespace", "company_suffix"}},
      {"city", "  BERLIN ", "BERLIN", {"trim_whitespace"}},  // no other rule touches a city
      {"last_name", "McDonald", "McDonald", {}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    std::vector<std::string> applied;
    CHECK(s.Apply(r.field, r.in, &applied) == r.want);
    CHECK(applied == r.rules);
  }
  jobs::Standardizer only_trim({"trim_whitespace"}, "US");
  CHECK(only_trim.Apply("phone", " (650) 253-0000") == "(650) 253-0000");
  CHECK(only_trim.Apply("first_name", "JOHN") == "JOHN");
}

TEST_CASE("validate: email syntax, typo domains, disposable and role accounts") {
  struct E {
    std::string_view email;
    bool ok;
  };
  const E syntax[] = {
      {"anna@example.com", true},        {"anna.maria+crm@sub.example.co.uk", true},
      {"o'neil@example.ie", true},       {"nguyễn@ví-dụ.vn", true},
      {"a@b.xn--p1ai", true},            {"anna@example", false},
      {"anna@@example.com", false},      {"anna@example..com", false},
      {".anna@example.com", false},      {"anna.@example.com", false},
      {"an..na@example.com", false},     {"anna example@example.com", false},
      {"anna@-example.com", false},      {"anna@example.c", false},
      {"anna@example.c0m", false},       {"@example.com", false},
      {"anna", false},                   {"x@x.x", false},
  };
  for (const auto& c : syntax) {
    CAPTURE(c.email);
    CHECK(match::EmailSyntaxOk(c.email) == c.ok);
  }
  const Case typos[] = {
      {"gmial.com", "gmail.com"},    {"gmai.com", "gmail.com"},    {"gmail.co", "gmail.com"},
      {"gmail.cmo", "gmail.com"},    {"GMIAL.COM", "gmail.com"},   {"hotmial.com", "hotmail.com"},
      {"hotmial.fr", "hotmail.fr"},  {"yaho.com", "yahoo.com"},    {"outlok.com", "outlook.com"},
      {"iclod.com", "icloud.com"},   {"gmail.com", ""},            {"mail.com", ""},
      {"email.com", ""},             {"ymail.com", ""},            {"aon.com", ""},
      {"gmx.at", ""},                {"hotmail.dk", ""},           {"example.com", ""},
  };
  for (const auto& c : typos) {
    CAPTURE(c.in);
    CHECK(match::TypoDomainSuggestion(c.in) == c.want);
  }
  CHECK(match::IsDisposableDomain("mailinator.com"));
  CHECK(match::IsDisposableDomain("foo.mailinator.com"));
  CHECK(match::IsDisposableDomain("YOPMAIL.COM"));
  CHECK_FALSE(match::IsDisposableDomain("notmailinator.com"));
  CHECK_FALSE(match::IsDisposableDomain("gmail.com"));
  for (std::string_view role : {"info", "sales", "admin", "support", "noreply", "no-reply",
                                "Info", "sales+eu"}) {
    CAPTURE(role);
    CHECK(match::IsRoleAccount(role));
  }
  for (std::string_view person : {"anna", "informatics", "salesforce.anna", "john.admin"}) {
    CAPTURE(person);
    CHECK_FALSE(match::IsRoleAccount(person));
  }
}

TEST_CASE("validate: placeholders, names that are emails or phones") {
  struct P {
    std::string_view field, value;
    bool placeholder;
  };
  const P cases[] = {
      {"first_name", "test", true},      {"first_name", "Test", true},
      {"first_name", "asdf", true},      {"last_name", "N/A", true},
      {"last_name", "xxx", true},        {"company", "none", true},
      {"company", "-", true},            {"last_name", ".", true},
      {"first_name", "Na", false},       {"first_name", "A", false},
      {"first_name", "Xu", false},       {"last_name", "Testa", false},
      {"first_name", "张三", false},      {"country", "unknown", true},
      {"phone", "0000000", true},        {"phone", "000-000-0000", true},
      {"phone", "1111111111", true},     {"phone", "123456789", true},
      {"phone", "555-0100", true},       {"phone", "555-0199", true},
      {"phone", "+1 555 0100", true},    {"phone", "(415) 555-0123", true},
      {"phone", "+1 415 555 0123", true}, {"phone", "(415) 555-0200", false},
      {"phone", "+49 30 12345678", false}, {"phone", "n/a", true},
      {"email", "test@test.com", true},  {"email", "asdf@asdf.com", true},
      {"email", "noemail@noemail.com", true}, {"email", "anna@example.com", true},
      {"email", "none", true},           {"email", "anna@firma.de", false},
      {"email", "testa@firma.de", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.field);
    CAPTURE(c.value);
    CHECK(match::PlaceholderReason(c.field, c.value).empty() == !c.placeholder);
  }
  CHECK(!match::PlaceholderFullName("Mickey", "Mouse").empty());
  CHECK(!match::PlaceholderFullName("max", "MUSTERMANN").empty());
  CHECK(!match::PlaceholderFullName("a", "a").empty());
  CHECK(match::PlaceholderFullName("Anna", "Mouse").empty());
  CHECK(match::PlaceholderFullName("", "Mouse").empty());
  CHECK(match::LooksLikeEmail(" john.doe@gmail.com "));
  CHECK_FALSE(match::LooksLikeEmail("O'Neil"));
  CHECK(match::LooksLikePhone("+1 415 555 0100"));
  CHECK(match::LooksLikePhone("(030) 1234-567"));
  CHECK_FALSE(match::LooksLikePhone("Louis XIV"));
  CHECK_FALSE(match::LooksLikePhone("12"));
}

TEST_CASE("validate: ValidateValue gives the stable codes per field") {
  match::Normalizer norm({"US", true});
  match::PhoneChecker phones("US");
  struct V {
    std::string_view field, value;
    std::vector<std::string> codes;
    std::string_view detail;  // of the first finding, if given
  };
  const V cases[] = {
      {"email", "anna@gmial.com", {"email_typo_domain"}, "gmail.com"},
      {"email", "anna@example", {"email_syntax"}, ""},
      {"email", "x@x.x", {"email_syntax"}, ""},
      {"email", "anna@mailinator.com", {"email_disposable"}, ""},
      {"email", "info@firma.de", {"email_role"}, "info"},
      {"email2", "support@mailinator.com", {"email_disposable", "email_role"}, ""},
      {"email", "test@test.com", {"placeholder"}, ""},
      {"email", "anna@firma.de", {}, ""},
      {"phone", "+1 650 253 0000", {}, ""},
      {"phone", "12345", {"phone_invalid"}, ""},
      {"phone", "call me", {"phone_invalid"}, "unparsable"},
      {"phone", "0000000", {"placeholder"}, "repeated digits"},
      {"phone", "+1 900 555 0123", {"placeholder"}, ""},
      {"mobile", "+49 30 12345678", {"phone_type"}, "fixed_line"},
      {"phone", "+49 30 12345678", {}, ""},
      {"mobile", "+49 151 23456789", {}, ""},
      {"first_name", "john.doe@gmail.com", {"name_is_email"}, ""},
      {"last_name", "+1 415 555 0100", {"name_is_phone"}, ""},
      {"last_name", "+1 650 253 0000", {"name_is_phone"}, ""},
      {"first_name", "Anna", {}, ""},
      {"first_name", "asdf", {"placeholder"}, "'asdf'"},
      {"country", "Narnia", {"country_unknown"}, ""},
      {"country", "Hoa Kỳ", {}, ""},
      {"country", "N/A", {"placeholder"}, ""},
      {"company", "xxx", {"placeholder"}, ""},
      {"city", "xxx", {}, ""},  // not a validated field
      {"email", "   ", {}, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.field);
    CAPTURE(c.value);
    auto found = match::ValidateValue(c.field, c.value, norm, phones);
    std::vector<std::string> codes;
    for (const auto& f : found) codes.push_back(f.code);
    CHECK(codes == c.codes);
    if (!c.detail.empty() && !found.empty()) CHECK(found[0].detail == c.detail);
    for (const auto& code : codes) {
      CHECK(std::find(match::FlagCodes().begin(), match::FlagCodes().end(), code) !=
            match::FlagCodes().end());
    }
  }
}

TEST_CASE("standardize config: every rule the job knows is accepted, typos are named") {
  std::string all;
  for (const auto& r : jobs::StandardizeRules()) all += (all.empty() ? "" : ", ") + r;
  auto cfg = ParseConfig("database:\n  backend: sqlite\n  path: /tmp/x.db\njobs:\n  std:\n"
                         "    kind: standardize\n    options:\n      rules: [" + all + "]\n"
                         "      default_region: DE\n      flags: false\n",
                         "t.yaml");
  REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
  CHECK(cfg->jobs[0].rules == jobs::StandardizeRules());
  CHECK(cfg->jobs[0].default_region == "DE");
  CHECK_FALSE(cfg->jobs[0].flags);

  auto def = ParseConfig("database:\n  backend: sqlite\n  path: /tmp/x.db\njobs:\n  std:\n"
                         "    kind: standardize\n", "t.yaml");
  REQUIRE(def.ok());
  CHECK(def->jobs[0].default_region == "US");
  CHECK(def->jobs[0].flags);

  auto typo = ParseConfig("database:\n  backend: sqlite\n  path: /tmp/x.db\njobs:\n  std:\n"
                          "    kind: standardize\n    options:\n      rules: [phone_e146]\n",
                          "t.yaml");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().message.find("did you mean 'phone_e164'") != std::string::npos);
  auto region = ParseConfig("database:\n  backend: sqlite\n  path: /tmp/x.db\njobs:\n  std:\n"
                            "    kind: standardize\n    options:\n      default_region: germany\n",
                            "t.yaml");
  REQUIRE_FALSE(region.ok());
  CHECK(region.error().message.find("t.yaml:8:") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// On the databases
// ---------------------------------------------------------------------------------------------

std::string Value(DemoCrm& f, const std::string& column, int id) {
  auto s = f.t.Session();
  std::string v;
  soci::indicator ind = soci::i_null;
  *s << "SELECT " + column + " FROM contacts WHERE id = " + std::to_string(id), soci::into(v, ind);
  return ind == soci::i_ok ? v : "<NULL>";
}

std::vector<crm::FlagRow> Flags(crm::Db& db, bool open_only) {
  auto flags = crm::ListFlags(db, open_only);
  REQUIRE_MESSAGE(flags.ok(), (flags.ok() ? "" : flags.error().message));
  return *flags;
}

// The open flags as "contact field code" strings.
std::set<std::string> OpenFlags(crm::Db& db) {
  std::set<std::string> out;
  auto flags = crm::ListFlags(db, true);
  REQUIRE_MESSAGE(flags.ok(), (flags.ok() ? "" : flags.error().message));
  for (const auto& fl : *flags) out.insert(fl.contact_id + " " + fl.field + " " + fl.code);
  return out;
}

TEST_CASE("standardize with all rules → restore returns every mapped table to its exact checksum") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET first_name = 'JOHN', last_name = 'o''neil', "
            "email = ' John.ONeil@Gmial.com ', phone = '(650) 253-0000', mobile = '12', "
            "country = 'usa', company = 'acme inc' WHERE id = 1";
      *s << "UPDATE contacts SET first_name = 'maria', last_name = 'DE LA CRUZ', country = 'Narnia', "
            "company = 'Widgets ltd.' WHERE id = 2";
      *s << "UPDATE contacts SET first_name = 'DeAndre', last_name = 'McDonald', "
            "phone = '030 12345678', country = 'Deutschland' WHERE id = 3";
    }
    JobConfig& job = f.AddJob("std", "standardize");
    job.rules = jobs::StandardizeRules();
    job.batch_size = 25;
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    REQUIRE(crm::Migrate(**db).ok());
    auto before = f.Checksums();

    auto dry = f.Run("std", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(dry.status == "ok", dry.message);
    CHECK(f.Checksums() == before);      // a dry run changes no CRM row ...
    CHECK(OpenFlags(**db).empty());      // ... and writes no flag
    long long planned = dry.counts["rows_planned"].get<long long>();
    CHECK(planned > 3);
    for (const auto& rule : jobs::StandardizeRules()) {
      CAPTURE(rule);
      CHECK(dry.counts["fields_changed"].contains(rule));
    }
    CHECK(dry.counts["flags"]["email_typo_domain"].get<long long>() >= 1);
    CHECK(dry.counts["flags"]["country_unknown"].get<long long>() >= 1);
    CHECK(dry.counts["flags"]["phone_invalid"].get<long long>() >= 1);
    std::set<std::string> sample_rules;
    for (const auto& smp : dry.details["samples"]) {
      for (const auto& r : smp["rules"]) sample_rules.insert(r.get<std::string>());
      CHECK(smp["before"] != smp["after"]);
    }
    for (const auto& rule : jobs::StandardizeRules()) {
      CAPTURE(rule);
      CHECK(sample_rules.contains(rule));  // the dry run shows every rule at work
    }

    auto run = f.Run("std");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["rows_changed"].get<long long>() == planned);
    CHECK(Value(f, "first_name", 1) == "John");
    CHECK(Value(f, "last_name", 1) == "O'Neil");
    CHECK(Value(f, "email", 1) == "john.oneil@gmial.com");  // a typo is flagged, never "fixed"
    CHECK(Value(f, "phone", 1) == "+16502530000");
    CHECK(Value(f, "mobile", 1) == "12");
    CHECK(Value(f, "country", 1) == match::CountryName("US"));
    CHECK(Value(f, "company", 1) == "acme Inc.");
    CHECK(Value(f, "first_name", 2) == "Maria");
    CHECK(Value(f, "last_name", 2) == "De la Cruz");
    CHECK(Value(f, "country", 2) == "Narnia");
    CHECK(Value(f, "company", 2) == "Widgets Ltd");
    CHECK(Value(f, "first_name", 3) == "DeAndre");
    CHECK(Value(f, "last_name", 3) == "McDonald");
    CHECK(Value(f, "phone", 3) == "+493012345678");  // read as a German number: the row says so
    CHECK(Value(f, "country", 3) == "Germany");
    auto open = OpenFlags(**db);
    CHECK(open.contains("1 email email_typo_domain"));
    CHECK(open.contains("1 mobile phone_invalid"));
    CHECK(open.contains("2 country country_unknown"));
    CHECK(run.counts["flags_opened"].get<long long>() == static_cast<long long>(open.size()));

    auto again = f.Run("std");  // idempotent: every rule's output is a fixed point
    REQUIRE_MESSAGE(again.status == "ok", again.message);
    CHECK(again.counts["rows_planned"].get<long long>() == 0);
    CHECK(again.details["samples"].empty());
    CHECK(again.counts["flags_opened"].get<long long>() == 0);
    CHECK(again.counts["flags_cleared"].get<long long>() == 0);

    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(restored->rows_restored == planned);
    CHECK(f.Checksums() == before);  // exactly the pre-run state
  }
}

TEST_CASE("standardize flags open, stay open, and clear themselves when a rep fixes the value") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET email = 'anna@gmial.com', phone = '12', country = 'Narnia', "
            "first_name = 'Anna', last_name = 'Berg' WHERE id = 1";
      *s << "UPDATE contacts SET first_name = 'Mickey', last_name = 'Mouse' WHERE id = 2";
    }
    JobConfig& job = f.AddJob("std", "standardize");
    job.rules = {"trim_whitespace"};
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());

    auto r1 = f.Run("std");
    REQUIRE_MESSAGE(r1.status == "ok", r1.message);
    auto open = OpenFlags(**db);
    CHECK(open.contains("1 email email_typo_domain"));
    CHECK(open.contains("1 phone phone_invalid"));
    CHECK(open.contains("1 country country_unknown"));
    CHECK(open.contains("2 name placeholder"));
    long long total = 0;
    for (const auto& [code, n] : r1.counts["flags"].items()) total += n.get<long long>();
    CHECK(total == static_cast<long long>(open.size()));
    CHECK(r1.counts["flags_opened"].get<long long>() == total);
    std::string opened_at;
    for (const auto& fl : Flags(**db, true)) {
      if (fl.contact_id == "1" && fl.field == "country") {
        opened_at = fl.opened_at;
        CHECK(fl.first_seen_run == r1.run_id);
      }
      if (fl.contact_id == "1" && fl.field == "email") CHECK(fl.detail == "gmail.com");
    }
    REQUIRE(!opened_at.empty());

    // A rep fixes the email and the phone; the country stays wrong.
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET email = 'anna@gmail.com', phone = '+1 650 253 0000' WHERE id = 1";
    }
    f.clock.Advance(std::chrono::hours(24));
    auto r2 = f.Run("std");
    REQUIRE_MESSAGE(r2.status == "ok", r2.message);
    CHECK(r2.counts["flags_cleared"].get<long long>() == 2);
    CHECK(r2.counts["flags_opened"].get<long long>() == 0);
    open = OpenFlags(**db);
    CHECK_FALSE(open.contains("1 email email_typo_domain"));
    CHECK_FALSE(open.contains("1 phone phone_invalid"));
    CHECK(open.contains("1 country country_unknown"));
    int cleared = 0;
    for (const auto& fl : Flags(**db, false)) {
      if (fl.contact_id != "1") continue;
      if (fl.field == "country") {
        CHECK(fl.opened_at == opened_at);  // still the same episode
        CHECK(fl.first_seen_run == r1.run_id);
        CHECK(fl.last_seen_run == r2.run_id);
        CHECK(fl.cleared_at.empty());
      } else {
        ++cleared;
        CHECK(fl.cleared_run == r2.run_id);
        CHECK(!fl.cleared_at.empty());
      }
    }
    CHECK(cleared == 2);

    // A job validating only the email does not clear the country's flag it never looked at.
    JobConfig& only_email = f.AddJob("std-email", "standardize");
    only_email.rules = {"trim_whitespace"};
    only_email.fields = {"email"};
    auto r3 = f.Run("std-email");
    REQUIRE_MESSAGE(r3.status == "ok", r3.message);
    CHECK(OpenFlags(**db).contains("1 country country_unknown"));

    // The typo comes back: a new episode, the old one stays as history.
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET email = 'anna@gmial.com' WHERE id = 1";
    }
    auto r4 = f.Run("std");
    REQUIRE_MESSAGE(r4.status == "ok", r4.message);
    CHECK(r4.counts["flags_opened"].get<long long>() == 1);
    int episodes = 0;
    for (const auto& fl : Flags(**db, false)) {
      if (fl.contact_id == "1" && fl.field == "email") ++episodes;
    }
    CHECK(episodes == 2);

    // flags: false validates nothing and leaves the table alone.
    JobConfig& quiet = f.AddJob("std-quiet", "standardize");
    quiet.flags = false;
    auto before = OpenFlags(**db);
    auto r5 = f.Run("std-quiet");
    REQUIRE_MESSAGE(r5.status == "ok", r5.message);
    CHECK_FALSE(r5.counts.contains("flags"));
    CHECK(OpenFlags(**db) == before);
  }
}

}  // namespace
}  // namespace crmh

namespace crmh {
namespace {

TEST_CASE("standardize phone_format: national and international after E.164, idempotent") {
  jobs::Standardizer nat(jobs::StandardizeRules(), "US");
  nat.SetPhoneFormat("national");
  struct FCase {
    std::string_view in, region, want, rule;
  };
  const FCase nat_cases[] = {
      {"+1 650 253 0000", "", "(650) 253-0000", "phone_national"},
      {"650.253.0000", "US", "(650) 253-0000", "phone_national"},
      {"(650) 253-0000", "", "(650) 253-0000", ""},  // already national: unchanged
      {"650-253-0000 ext. 12", "", "(650) 253-0000 ext. 12", "phone_national"},
      {"030 12345678", "DE", "030 12345678", ""},
      {"+49 30 12345678", "DE", "030 12345678", "phone_national"},
      // Another country's number keeps its country code (international form).
      {"+49 30 12345678", "", "+49 30 12345678", ""},
      {"+493012345678", "US", "+49 30 12345678", "phone_national"},
      {"12", "", "12", ""},
      {"call me", "", "call me", ""},
  };
  for (const auto& c : nat_cases) {
    CAPTURE(c.in);
    CAPTURE(c.region);
    std::vector<std::string> applied;
    std::string out = nat.Apply("phone", c.in, &applied, c.region);
    CHECK(out == c.want);
    CHECK(applied == (c.rule.empty() ? std::vector<std::string>{} : std::vector<std::string>{std::string(c.rule)}));
    std::vector<std::string> again;
    CHECK(nat.Apply("phone", out, &again, c.region) == out);
    CHECK(again.empty());
    // What the rule writes validates clean in the contact's region.
    if (!c.rule.empty()) {
      for (const auto& finding : nat.Validate("phone", out, c.region)) CHECK(finding.code != "phone_invalid");
    }
  }
  jobs::Standardizer intl(jobs::StandardizeRules(), "US");
  intl.SetPhoneFormat("international");
  std::vector<std::string> applied;
  CHECK(intl.Apply("phone", "(650) 253-0000", &applied) == "+1 650-253-0000");
  CHECK(applied == std::vector<std::string>{"phone_international"});
  CHECK(intl.Apply("mobile", "+1 650-253-0000") == "+1 650-253-0000");
  CHECK(intl.Apply("phone", "030 12345678", nullptr, "DE") == "+49 30 12345678");
  CHECK(match::FormatPhone("+16502530000", "e164", "US") == "+16502530000");
}

TEST_CASE("standardize alias rules: named admin tables, reported under their own name") {
  jobs::Standardizer s({"trim_whitespace"}, "US");
  s.SetAliases({{"company_names", "company", {{"IBM Corp", "IBM"}, {"Intl Business Machines", "IBM"}}},
                {"country_fixes", "country", {{"Untied States", "United States"}}}});
  std::vector<std::string> applied;
  CHECK(s.Apply("company", "  intl business machines ", &applied) == "IBM");
  CHECK(applied == std::vector<std::string>{"trim_whitespace", "company_names"});
  applied.clear();
  CHECK(s.Apply("company", "IBM", &applied) == "IBM");
  CHECK(applied.empty());
  CHECK(s.Apply("company", "IBM Corporation") == "IBM Corporation");  // exact values only
  CHECK(s.Apply("country", "UNTIED STATES") == "United States");
  CHECK(s.Apply("city", "Untied States") == "Untied States");  // only its own field

  auto parse = [](const std::string& options) {
    return ParseConfig("database: {backend: sqlite, path: /tmp/x.db}\njobs:\n  s:\n    kind: standardize\n"
                       "    options:\n" + options,
                       "t.yaml");
  };
  auto ok = parse("      phone_format: national\n      aliases:\n        company_names:\n"
                  "          field: company\n          map: {IBM Corp: IBM, Big Blue: IBM}\n");
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  CHECK(ok->jobs[0].phone_format == "national");
  REQUIRE(ok->jobs[0].aliases.size() == 1);
  CHECK(ok->jobs[0].aliases[0].name == "company_names");
  CHECK(ok->jobs[0].aliases[0].map.size() == 2);
  auto bad_format = parse("      phone_format: nationl\n");
  REQUIRE_FALSE(bad_format.ok());
  CHECK(bad_format.error().message.find("did you mean 'national'") != std::string::npos);
  auto bad_field = parse("      aliases:\n        x:\n          field: compny\n          map: {a: b}\n");
  REQUIRE_FALSE(bad_field.ok());
  CHECK(bad_field.error().message.find("t.yaml:8:") != std::string::npos);
  CHECK(bad_field.error().message.find("did you mean 'company'") != std::string::npos);
  auto builtin = parse("      aliases:\n        name_case:\n          field: company\n          map: {a: b}\n");
  REQUIRE_FALSE(builtin.ok());
  auto empty = parse("      aliases:\n        x:\n          field: company\n");
  REQUIRE_FALSE(empty.ok());
}

TEST_CASE("standardize phone_format and alias rules through the engine: named in the report and ledger, restorable") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET phone = '+1 650 253 0000', country = 'Untied States' WHERE id = 1";
    }
    const auto before = f.Checksums();
    JobConfig& job = f.AddJob("std", "standardize");
    job.rules = {"phone_e164"};
    job.phone_format = "national";
    job.aliases = {{"country_fixes", "country", {{"Untied States", "United States"}}}};
    auto r = f.Run("std");
    REQUIRE_MESSAGE(r.status == "ok", r.message);
    CHECK(r.counts["fields_changed"]["country_fixes"].get<long long>() == 1);
    CHECK(r.counts["fields_changed"]["phone_national"].get<long long>() >= 1);
    CHECK_FALSE(r.counts["fields_changed"].contains("phone_e164"));
    {
      auto s = f.t.Session();
      std::string phone, country, label;
      *s << "SELECT phone, country FROM contacts WHERE id = 1", soci::into(phone), soci::into(country);
      CHECK(phone == "(650) 253-0000");
      CHECK(country == "United States");
      *s << "SELECT label FROM crmh_ledger WHERE run_id = '" + r.run_id + "' AND row_id = '1'",
          soci::into(label);
      CHECK(label.find("country_fixes(country)") != std::string::npos);
      CHECK(label.find("phone_national(phone)") != std::string::npos);
    }
    // A second run finds nothing more to do; restore returns the exact checksums.
    auto again = f.Run("std");
    REQUIRE_MESSAGE(again.status == "ok", again.message);
    CHECK(again.counts["rows_planned"].get<long long>() == 0);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto restored = jobs::RestoreRun(**db, r.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("standardize phone_format national reads a number in the country this run leaves: a second run changes nothing") {
  // Found by the crash sweep: run 1 formatted a phone for the region of the raw country
  // ("Deutchland", unknown → default US), its alias table made the country Germany, and run 2
  // re-read the national number as German and rewrote it — a number corrupted by re-running.
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET phone = '+1 206 718 1153', mobile = '030 12345678', country = "
            "'Deutchland' WHERE id = 1";
    }
    const auto before = f.Checksums();
    JobConfig& job = f.AddJob("std", "standardize");
    job.rules = {"phone_e164"};
    job.phone_format = "national";
    job.aliases = {{"de_typo", "country", {{"Deutchland", "Germany"}}}};
    auto r = f.Run("std");
    REQUIRE_MESSAGE(r.status == "ok", r.message);
    {
      auto s = f.t.Session();
      std::string phone, mobile, country;
      *s << "SELECT phone, mobile, country FROM contacts WHERE id = 1", soci::into(phone),
          soci::into(mobile), soci::into(country);
      CHECK(country == "Germany");
      CHECK(phone == "+1 206-718-1153");  // not Germany's: international, its country code kept
      CHECK(mobile == "030 12345678");    // read as German from the start
    }
    auto again = f.Run("std");
    REQUIRE_MESSAGE(again.status == "ok", again.message);
    CHECK(again.counts["rows_planned"].get<long long>() == 0);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto restored = jobs::RestoreRun(**db, r.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

}  // namespace
}  // namespace crmh
