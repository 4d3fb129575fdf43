// The suitecrm profile against a SuiteCRM 7 schema subset (tests/fixtures/suitecrm7.sql):
// UUID ids, the email on the shared email_addresses row, `deleted` flags — on SQLite and MariaDB.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "crm/schema.h"
#include "demo_fixture.h"
#include "jobs/change.h"

namespace crmh {
namespace {

struct SuiteCrm {
  explicit SuiteCrm(Backend b) : t(b) {
    std::ifstream in(std::string(CRMH_SOURCE_DIR) + "/tests/fixtures/suitecrm7.sql");
    std::stringstream buf;
    buf << in.rdbuf();
    std::string sql = buf.str(), stmt;
    auto s = t.Session();
    size_t pos = 0;
    while (pos < sql.size()) {
      size_t end = sql.find(";\n", pos);
      if (end == std::string::npos) end = sql.size();
      stmt = sql.substr(pos, end - pos);
      pos = end + 2;
      // Drop comment lines; what remains is one statement.
      std::string body;
      std::istringstream lines(stmt);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("--", 0) != 0) body += line + "\n";
      }
      if (body.find_first_not_of(" \n") == std::string::npos) continue;
      if (t.backend() == Backend::kMysql && body.rfind("CREATE TABLE", 0) == 0) {
        body.pop_back();
        body += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
      }
      *s << body;
    }
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
  std::map<std::string, std::string> Checksums() {
    std::map<std::string, std::string> m;
    for (const char* table : {"users", "contacts", "email_addresses", "email_addr_bean_rel",
                              "accounts", "accounts_contacts", "calls", "calls_contacts",
                              "meetings", "meetings_contacts", "notes", "opportunities_contacts"}) {
      m[table] = test::TableChecksum(t, table, "id");
    }
    m["contacts_cstm"] = test::TableChecksum(t, "contacts_cstm", "id_c");
    return m;
  }
  jobs::RunReport Run(const std::string& job) {
    jobs::RunRequest req{&cfg, cfg.FindJob(job), std::nullopt, false, &clock, nullptr};
    return jobs::ExecuteRun(req, crm::MakeFactory(cfg));
  }
  test::TempDb t;
  Config cfg;
  FakeClock clock{*ParseRfc3339("2026-11-23T06:00:00Z")};
};

TEST_CASE("suitecrm: the profile matches a SuiteCRM 7 schema; a missing column is named") {
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

}  // namespace
}  // namespace crmh
