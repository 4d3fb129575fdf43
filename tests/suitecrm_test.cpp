// The suitecrm profile against a SuiteCRM 7 schema subset (tests/fixtures/suitecrm7.sql):
// UUID ids, the email on the shared email_addresses row, `deleted` flags — on SQLite and MariaDB.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "crm/schema.h"
#include "demo_fixture.h"
#include "crm/review.h"
#include "crm/state.h"
#include "jobs/change.h"
#include "jobs/standardize.h"

namespace crmh {
namespace {

struct SuiteCrm {
  explicit SuiteCrm(Backend b) : t(b) {
    test::LoadSuiteCrmFixture(t);
    cfg.database = t.database();
    cfg.instance_id = "test";
    cfg.system_user = "c0ffee00-0000-4000-8000-00000000c1ea";
    cfg.mapping = *BuiltinProfile("suitecrm");
    JobConfig std_job;
    std_job.name = "std";
    std_job.kind = "standardize";
    std_job.rules = {"trim_whitespace", "lowercase_email"};
    std_job.max_rows = 0;
    std_job.max_fraction = 0;
    cfg.jobs.push_back(std_job);
    JobConfig audit;
    audit.name = "audit";
    audit.kind = "audit";
    audit.mandatory = {"first_name", "last_name", "email", "phone", "country"};
    cfg.jobs.push_back(audit);
  }
  std::map<std::string, std::string> Checksums() { return test::SuiteCrmChecksums(t); }
  jobs::RunReport Run(const std::string& job) {
    jobs::RunRequest req{&cfg, cfg.FindJob(job), std::nullopt, false, &clock, nullptr};
    return jobs::ExecuteRun(req, crm::MakeFactory(cfg));
  }
  test::TempDb t;
  Config cfg;
  FakeClock clock{*ParseRfc3339("2026-11-23T06:00:00Z")};
};

TEST_CASE("suitecrm: the profile matches a SuiteCRM 7 schema, a missing column is named") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    SuiteCrm f(b);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto ok = crm::VerifyMapping(**db, f.cfg.mapping);
    REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
    (*db)->sql() << "ALTER TABLE email_addr_bean_rel DROP COLUMN primary_address";
    auto missing = crm::VerifyMapping(**db, f.cfg.mapping);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().exit == Exit::kUsage);
    CHECK(missing.error().message.find("column email_addr_bean_rel.primary_address") !=
          std::string::npos);
  }
}

TEST_CASE("suitecrm: audit reads the primary email through email_addr_bean_rel") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    SuiteCrm f(b);
    auto rep = f.Run("audit");
    REQUIRE_MESSAGE(rep.status == "ok", rep.message);
    CHECK(rep.counts["contacts"].get<long long>() == 4);  // the deleted one is not counted
    CHECK(rep.details["fields"]["email"]["filled"].get<long long>() == 2);
    CHECK(rep.details["fields"]["phone"]["filled"].get<long long>() == 3);
  }
}

TEST_CASE("suitecrm: standardize on UUID ids restores to the exact pre-run checksums") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    SuiteCrm f(b);
    auto before = f.Checksums();
    auto run = f.Run("std");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["rows_changed"].get<long long>() == 3);  // contacts 1, 2, 3; not the deleted one
    // email (email_addresses) and company (accounts) live on related tables: not rewritten yet
    CHECK(run.counts["related_fields_skipped"].get<long long>() == 2);
    auto s = f.t.Session();
    std::string first, city, modified_by, date_modified;
    *s << "SELECT first_name, primary_address_city, modified_user_id, date_modified FROM contacts "
          "WHERE id = '0a1b2c3d-0000-4000-8000-000000000001'",
        soci::into(first), soci::into(city), soci::into(modified_by), soci::into(date_modified);
    CHECK(first == "Nguyễn");
    CHECK(city == "Hà Nội");
    CHECK(modified_by == f.cfg.system_user);
    CHECK(date_modified.rfind("2026-11-23 06:00:00", 0) == 0);
    CHECK(f.Checksums() != before);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

const std::string kJohn = "0a1b2c3d-0000-4000-8000-000000000002";  // opted out, do_not_call
const std::string kJohn2 = "0a1b2c3d-0000-4000-8000-000000000006";

// A second John Smith (not opted out, his own work e-mail, a link to John's account), approved
// for review as a merge of John into John2, then merged at once (`review approve --now`);
// `before` receives the tables' checksums just before the merge.
jobs::RunReport MergeJohns(SuiteCrm& f, std::map<std::string, std::string>& before,
                           const std::vector<std::string>& more_tables = {}) {
  {
    auto s = f.t.Session();
    *s << "INSERT INTO contacts (id, date_entered, date_modified, modified_user_id, created_by, "
          "deleted, assigned_user_id, first_name, last_name, phone_work, phone_mobile, "
          "primary_address_street, primary_address_city, primary_address_country, do_not_call) "
          "VALUES ('" + kJohn2 + "', '2023-01-01 10:00:00', '2025-01-01 10:00:00', '1', '1', 0, "
          "'1', 'John', 'Smith', NULL, NULL, NULL, NULL, NULL, 0)";
    *s << "INSERT INTO email_addresses (id, email_address, email_address_caps, opt_out, "
          "date_created, deleted) VALUES ('e0000000-0000-4000-8000-000000000006', "
          "'jsmith@work.example', 'JSMITH@WORK.EXAMPLE', 0, '2023-01-01 10:00:00', 0)";
    *s << "INSERT INTO email_addr_bean_rel (id, email_address_id, bean_id, bean_module, "
          "primary_address, deleted) VALUES ('r0000000-0000-4000-8000-000000000006', "
          "'e0000000-0000-4000-8000-000000000006', '" + kJohn2 + "', 'Contacts', 1, 0)";
    // Both linked to the same account: the loser's link is a duplicate (dedupe).
    *s << "INSERT INTO accounts_contacts (id, contact_id, account_id, deleted) VALUES "
          "('ac000000-0000-4000-8000-000000000002', '" + kJohn + "', "
          "'a0000000-0000-4000-8000-000000000001', 0), ('ac000000-0000-4000-8000-000000000006', '" +
          kJohn2 + "', 'a0000000-0000-4000-8000-000000000001', 0)";
  }
  JobConfig dedup;
  dedup.name = "dedup";
  dedup.kind = "dedup";
  dedup.max_rows = 0;
  dedup.max_fraction = 0;
  f.cfg.jobs.push_back(dedup);
  auto db = crm::Open(f.cfg.database, f.cfg.state);
  REQUIRE(db.ok());
  REQUIRE(crm::Migrate(**db).ok());
  crm::ReviewItem item;
  item.job = "dedup";
  item.members = {kJohn2, kJohn};  // survivor first: the record that is not opted out
  item.survivor = kJohn2;
  item.cluster_key = crm::ClusterKey(item.members);
  item.seen_run = "test";
  REQUIRE(crm::QueueReview(**db, item, f.clock.Now()).ok());
  auto open = crm::ListReview(**db, "open");
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  REQUIRE(crm::ApproveReview(**db, open->front().id, "tester", f.clock.Now()).ok());
  before = test::SuiteCrmChecksums(f.t, more_tables);

  jobs::RunRequest req{&f.cfg, f.cfg.FindJob("dedup"), std::nullopt, false, &f.clock, nullptr};
  req.review_now = open->front().id;
  jobs::RunReport run = jobs::ExecuteRun(req, crm::MakeFactory(f.cfg));
  REQUIRE_MESSAGE(run.status == "ok", run.message);
  CHECK(run.counts["contacts_merged"].get<long long>() == 1);
  return run;
}

TEST_CASE("suitecrm: a merge re-points relations, demotes the second primary email, ORs the "
          "shared email opt-out, and restores exactly") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    SuiteCrm f(b);
    std::map<std::string, std::string> before;
    jobs::RunReport run = MergeJohns(f, before);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());

    auto s = f.t.Session();
    auto text = [&](const std::string& sql) {
      soci::row r;
      *s << sql, soci::into(r);
      return crm::CellText(r, 0);
    };
    CHECK(text("SELECT CAST(deleted AS CHAR) FROM contacts WHERE id = '" + kJohn + "'") == "1");
    CHECK(text("SELECT CAST(do_not_call AS CHAR) FROM contacts WHERE id = '" + kJohn2 + "'") == "1");
    CHECK(text("SELECT phone_work FROM contacts WHERE id = '" + kJohn2 + "'") == "(415) 555-0132");
    CHECK(text("SELECT primary_address_city FROM contacts WHERE id = '" + kJohn2 + "'") ==
          "San  Francisco");
    CHECK(text("SELECT modified_user_id FROM contacts WHERE id = '" + kJohn2 + "'") ==
          f.cfg.system_user);
    // The loser's email link now belongs to the survivor, no longer primary.
    CHECK(text("SELECT bean_id FROM email_addr_bean_rel WHERE id = "
               "'r0000000-0000-4000-8000-000000000002'") == kJohn2);
    CHECK(text("SELECT CAST(primary_address AS CHAR) FROM email_addr_bean_rel WHERE id = "
               "'r0000000-0000-4000-8000-000000000002'") == "0");
    // The survivor's own address takes the opt-out (most restrictive consent).
    CHECK(text("SELECT CAST(opt_out AS CHAR) FROM email_addresses WHERE id = "
               "'e0000000-0000-4000-8000-000000000006'") == "1");
    // Calls follow the survivor (polymorphic parent and the relation table).
    CHECK(text("SELECT parent_id FROM calls WHERE id = 'ca000000-0000-4000-8000-000000000001'") == kJohn2);
    CHECK(text("SELECT contact_id FROM calls_contacts WHERE id = "
               "'cc000000-0000-4000-8000-000000000001'") == kJohn2);
    // The duplicate account link is soft-deleted in place, not lost.
    CHECK(text("SELECT CAST(deleted AS CHAR) FROM accounts_contacts WHERE id = "
               "'ac000000-0000-4000-8000-000000000002'") == "1");
    CHECK(text("SELECT contact_id FROM accounts_contacts WHERE id = "
               "'ac000000-0000-4000-8000-000000000002'") == kJohn);

    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("suitecrm: documents, security groups, tasks and notes follow a merge where the CRM has "
          "those tables, and are left out where it has not") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    SuiteCrm f(b);
    auto names = [&](const Mapping& m) {
      std::set<std::string> out;
      for (const auto& c : m.children) out.insert(c.name);
      return out;
    };
    {
      auto db = crm::Open(f.cfg.database, f.cfg.state);
      REQUIRE(db.ok());
      auto plain = crm::ResolveMapping(**db, f.cfg.mapping);
      REQUIRE(plain.ok());
      // notes.contact_id exists in the fixture; the relation tables do not.
      CHECK(names(*plain).count("notes_contact") == 1);
      CHECK(names(*plain).count("documents") == 0);
      CHECK(names(*plain).count("security_groups") == 0);
      CHECK(names(*plain).count("tasks") == 0);
      CHECK(crm::VerifyMapping(**db, f.cfg.mapping).ok());
    }
    const std::vector<std::string> more = test::AddSuiteCrmRelations(f.t, kJohn);
    std::map<std::string, std::string> before;
    jobs::RunReport run = MergeJohns(f, before, more);
    auto s = f.t.Session();
    auto text = [&](const std::string& sql) {
      soci::row r;
      *s << sql, soci::into(r);
      return crm::CellText(r, 0);
    };
    CHECK(text("SELECT contact_id FROM documents_contacts WHERE id = "
               "'dc000000-0000-4000-8000-000000000001'") == kJohn2);
    CHECK(text("SELECT record_id FROM securitygroups_records WHERE id = "
               "'sg000000-0000-4000-8000-000000000001'") == kJohn2);
    // Another module's row with the same id value is not John's.
    CHECK(text("SELECT record_id FROM securitygroups_records WHERE id = "
               "'sg000000-0000-4000-8000-000000000002'") == kJohn);
    CHECK(text("SELECT parent_id FROM tasks WHERE id = 't0000000-0000-4000-8000-000000000001'") ==
          kJohn2);
    CHECK(text("SELECT contact_id FROM tasks WHERE id = 't0000000-0000-4000-8000-000000000001'") ==
          kJohn2);
    CHECK(text("SELECT contact_id FROM notes WHERE id = 'n0000000-0000-4000-8000-000000000002'") ==
          kJohn2);
    CHECK(text("SELECT parent_id FROM notes WHERE id = 'n0000000-0000-4000-8000-000000000002'") ==
          "a0000000-0000-4000-8000-000000000001");

    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(test::SuiteCrmChecksums(f.t, more) == before);
  }
}

}  // namespace
}  // namespace crmh

namespace crmh {
namespace {

TEST_CASE("suitecrm: score reads the related email, a record crm-hygiene touched credits nobody") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    SuiteCrm f(b);
    JobConfig score;
    score.name = "score";
    score.kind = "score";
    score.mandatory = {"first_name", "last_name", "email", "phone", "country"};
    f.cfg.jobs.push_back(score);
    auto s = f.t.Session();
    // The test's own count of complete live contacts per owner (email through the relation).
    auto complete = [&]() {
      std::map<std::string, long long> out;
      soci::rowset<soci::row> rs = s->prepare <<
          "SELECT assigned_user_id, COUNT(*) FROM contacts c WHERE deleted = 0 AND "
          "assigned_user_id IS NOT NULL AND first_name <> '' AND last_name <> '' AND phone_work "
          "<> '' AND primary_address_country <> '' AND EXISTS (SELECT 1 FROM email_addr_bean_rel "
          "r JOIN email_addresses e ON e.id = r.email_address_id WHERE r.bean_id = c.id AND "
          "r.bean_module = 'Contacts' AND r.primary_address = 1 AND r.deleted = 0 AND "
          "e.email_address <> '') GROUP BY assigned_user_id";
      for (const auto& r : rs) out[crm::CellText(r, 0)] = crm::CellInt(r, 1);
      return out;
    };
    auto check = [&](const jobs::RunReport& rep) {
      const auto want = complete();
      long long records = 0;
      for (const auto& u : rep.details["users"]) {
        double sum = 0;
        for (const auto& [name, c] : u["components"].items()) sum += c["points"].get<double>();
        CHECK(std::abs(sum - u["score"].get<double>()) < 1e-6);
        const std::string owner = u["owner"].get<std::string>();
        CHECK(u["components"]["completeness"]["complete_records"].get<long long>() ==
              (want.count(owner) ? want.at(owner) : 0));
        records += u["records"].get<long long>();
      }
      long long live = 0;
      *s << "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND assigned_user_id IS NOT NULL",
          soci::into(live);
      CHECK(records == live);
    };
    const std::string k3 = "0a1b2c3d-0000-4000-8000-000000000003";  // owner 1, no phone
    const std::string k5 = "0a1b2c3d-0000-4000-8000-000000000005";  // owner seed_sally_id
    *s << "UPDATE contacts SET primary_address_country = NULL WHERE id = '" + k5 + "'";
    auto v48 = f.Run("std");  // validates: the baseline's flags
    REQUIRE_MESSAGE(v48.status == "ok", v48.message);
    auto w48 = f.Run("score");
    REQUIRE_MESSAGE(w48.status == "ok", w48.message);
    check(w48);
    // Week 49: a rep types a phone for contact 3 with stray spaces, which standardize then trims
    // (crm-hygiene touched the record); after that run another rep fills contact 5's country.
    f.clock.Advance(std::chrono::hours(24 * 7));
    *s << "UPDATE contacts SET phone_work = ' +1 650 253 0000 ' WHERE id = '" + k3 + "'";
    auto v49 = f.Run("std");
    REQUIRE_MESSAGE(v49.status == "ok", v49.message);
    long long touched = 0;
    *s << "SELECT COUNT(*) FROM crmh_ledger WHERE run_id = '" + v49.run_id + "' AND row_id = '" + k3 +
              "'",
        soci::into(touched);
    CHECK(touched == 1);
    *s << "UPDATE contacts SET primary_address_country = 'Germany' WHERE id = '" + k5 + "'";
    auto w49 = f.Run("score");
    REQUIRE_MESSAGE(w49.status == "ok", w49.message);
    check(w49);
    // The email lives in a related table the contact's images cannot show: a record crm-hygiene
    // touched this week earns nobody credit; the untouched one its rep fixed does.
    for (const auto& u : w49.details["users"]) {
      const auto& imp = u["components"]["improvement"];
      CAPTURE(u["owner"].get<std::string>());
      if (u["owner"] == "1") {
        CHECK(imp["improved"].get<long long>() == 0);
        CHECK(imp["fixed_by_crm_hygiene"].get<long long>() == 1);
      } else if (u["owner"] == "seed_sally_id") {
        CHECK(imp["improved"].get<long long>() == 1);
        CHECK(imp["fixed_by_crm_hygiene"].get<long long>() == 0);
      }
    }
    CHECK(w49.counts["improved_records"].get<long long>() == 1);
    CHECK(w49.counts["fixed_by_crm_hygiene"].get<long long>() == 1);
  }
}

TEST_CASE("suitecrm: phone_format and aliases rewrite contact columns, aimed at a related field they are refused") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    SuiteCrm f(b);
    const auto before = f.Checksums();
    JobConfig& job = f.cfg.jobs.front();  // "std"
    REQUIRE(job.name == "std");
    job.rules = {"trim_whitespace", "phone_e164"};
    job.phone_format = "international";
    job.aliases = {{"vn", "country", {{"Việt Nam", "Vietnam"}}}};
    auto r = f.Run("std");
    REQUIRE_MESSAGE(r.status == "ok", r.message);
    CHECK(r.counts["fields_changed"]["vn"].get<long long>() == 1);
    CHECK(r.counts["fields_changed"]["phone_international"].get<long long>() >= 2);
    {
      auto s = f.t.Session();
      std::string phone, mobile, country;
      *s << "SELECT phone_work, primary_address_country FROM contacts WHERE id = "
            "'0a1b2c3d-0000-4000-8000-000000000001'",
          soci::into(phone), soci::into(country);
      CHECK(phone == "+84 24 3825 4321");
      CHECK(country == "Vietnam");
      *s << "SELECT phone_mobile FROM contacts WHERE id = '0a1b2c3d-0000-4000-8000-000000000002'",
          soci::into(mobile);
      CHECK(mobile == "+1 415-555-0199");
    }
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto restored = jobs::RestoreRun(**db, r.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);

    // Aimed at a field on a shared related row: refused (exit 2), naming the table; nothing changes.
    struct Case {
      std::vector<AliasRule> aliases;
      std::string phone_format;
      std::string mobile_related;  // "" = phone_mobile stays a contacts column
      std::string needle;
    };
    const std::vector<Case> cases = {
        {{{"mail_fix", "email", {{"AN.NGUYEN@EXAMPLE.VN", "an@example.vn"}}}}, "e164", "",
         "alias table 'mail_fix' rewrites 'email', which the mapping reads from a related table "
         "(email_addresses.email_address via email_addr_bean_rel)"},
        {{{"acme", "company", {{"Acme", "ACME Inc."}}}}, "e164", "", "alias table 'acme' rewrites 'company'"},
        {{}, "national", "yes", "phone_format 'national' would rewrite 'mobile'"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.needle);
      Config cfg = f.cfg;
      JobConfig& j = cfg.jobs.front();  // "std"
      j.aliases = c.aliases;
      j.phone_format = c.phone_format;
      if (!c.mobile_related.empty()) cfg.mapping.fields["mobile"] = cfg.mapping.fields["email"];
      jobs::RunRequest req{&cfg, cfg.FindJob("std"), std::nullopt, false, &f.clock, nullptr};
      auto refused = jobs::ExecuteRun(req, crm::MakeFactory(cfg));
      CHECK(refused.status == "failed");
      CHECK(refused.exit == Exit::kUsage);
      CHECK_MESSAGE(refused.message.find(c.needle) != std::string::npos, refused.message);
      CHECK(refused.message.find("shared by other records") != std::string::npos);
      CHECK(jobs::CheckStandardizeJob(cfg.mapping, j).error().exit == Exit::kUsage);
      CHECK(f.Checksums() == before);
    }
  }
}

}  // namespace
}  // namespace crmh
