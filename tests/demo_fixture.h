// A demo CRM (generic profile) in a fresh SQLite file or MariaDB database, plus a Config for it,
// and a checksum the tests compute themselves over every column of every mapped table.
#pragma once

#include <cstdio>
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/time_util.h"
#include "crm/db.h"
#include "daemon/demo_data.h"
#include "jobs/job.h"
#include "test_db.h"

namespace crmh::test {

// Our own checksum: every column of every row, each value quoted by the server (NULL and ''
// differ), rows in `order_by` order, hashed here — independent of the ledger's code. On MariaDB
// CHECKSUM TABLE is appended too.
inline std::string TableChecksum(const TempDb& t, const std::string& table,
                                 const std::string& order_by) {
  auto s = t.Session();
  std::vector<std::string> cols;
  if (t.backend() == Backend::kMysql) {
    soci::rowset<std::string> rs =
        (s->prepare << "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                       "DATABASE() AND table_name = :t ORDER BY ordinal_position",
         soci::use(table));
    for (const auto& c : rs) cols.push_back(c);
  } else {
    soci::rowset<std::string> rs =
        (s->prepare << "SELECT name FROM pragma_table_info(:t) ORDER BY cid", soci::use(table));
    for (const auto& c : rs) cols.push_back(c);
  }
  REQUIRE(!cols.empty());
  std::string expr;
  for (const auto& c : cols) {
    std::string q = t.backend() == Backend::kMysql ? "QUOTE(`" + c + "`)" : "quote(\"" + c + "\")";
    expr += (expr.empty() ? "" : t.backend() == Backend::kMysql ? ", '|', " : " || '|' || ") + q;
  }
  if (t.backend() == Backend::kMysql) expr = "CONCAT(" + expr + ")";
  uint64_t h = 1469598103934665603ULL;
  long long rows = 0;
  soci::rowset<std::string> rs =
      s->prepare << "SELECT " + expr + " FROM " + table + " ORDER BY " + order_by;
  for (const auto& r : rs) {
    h ^= Fnv1a64(r);
    h *= 1099511628211ULL;
    ++rows;
  }
  std::string out = std::to_string(rows) + ":" + std::to_string(h);
  if (t.backend() == Backend::kMysql) {
    soci::row r;
    *s << "CHECKSUM TABLE " + table, soci::into(r);
    out += ":" + crm::CellText(r, 1);
  }
  return out;
}

// Loads tests/fixtures/suitecrm7.sql (statements end with ";\n", "--" lines are comments) into
// `t`; on MariaDB the tables are InnoDB, utf8mb4 with SuiteCRM's collation.
inline void LoadSuiteCrmFixture(const TempDb& t) {
  std::ifstream in(std::string(CRMH_SOURCE_DIR) + "/tests/fixtures/suitecrm7.sql");
  REQUIRE(in.good());
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string sql = buf.str();
  auto s = t.Session();
  size_t pos = 0;
  while (pos < sql.size()) {
    size_t end = sql.find(";\n", pos);
    if (end == std::string::npos) end = sql.size();
    const std::string stmt = sql.substr(pos, end - pos);
    pos = end + 2;
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
}

// Our checksum of every table of the SuiteCRM fixture (and of `more`, keyed by id).
inline std::map<std::string, std::string> SuiteCrmChecksums(
    const TempDb& t, const std::vector<std::string>& more = {}) {
  std::map<std::string, std::string> m;
  for (const char* table : {"users", "contacts", "email_addresses", "email_addr_bean_rel",
                            "accounts", "accounts_contacts", "calls", "calls_contacts",
                            "meetings", "meetings_contacts", "notes", "opportunities_contacts"}) {
    m[table] = TableChecksum(t, table, "id");
  }
  m["contacts_cstm"] = TableChecksum(t, "contacts_cstm", "id_c");
  for (const auto& table : more) m[table] = TableChecksum(t, table, "id");
  return m;
}

// SuiteCRM 7 relation tables the suitecrm profile maps as optional (the fixture
// suitecrm7.sql lacks them): documents_contacts, securitygroups_records (polymorphic, with a row
// of another module) and tasks (one task points at `contact` twice: as parent and as contact),
// plus a note whose contact_id (not its parent) is `contact`. Returns the new tables.
inline std::vector<std::string> AddSuiteCrmRelations(const TempDb& t, const std::string& contact) {
  const std::string ext = t.backend() == Backend::kMysql ? " ENGINE=InnoDB" : "";
  auto s = t.Session();
  *s << "CREATE TABLE documents_contacts (id char(36) NOT NULL PRIMARY KEY, date_modified "
        "datetime, deleted tinyint(1) DEFAULT 0, document_id char(36), contact_id char(36))" + ext;
  *s << "CREATE TABLE securitygroups_records (id char(36) NOT NULL PRIMARY KEY, securitygroup_id "
        "char(36), record_id char(36), module varchar(100), date_modified datetime, deleted "
        "tinyint(1) DEFAULT 0)" + ext;
  *s << "CREATE TABLE tasks (id char(36) NOT NULL PRIMARY KEY, name varchar(50), deleted "
        "tinyint(1) DEFAULT 0, parent_type varchar(255), parent_id char(36), contact_id char(36))" +
            ext;
  *s << "INSERT INTO documents_contacts (id, deleted, document_id, contact_id) VALUES "
        "('dc000000-0000-4000-8000-000000000001', 0, 'd1', '" + contact + "')";
  *s << "INSERT INTO securitygroups_records (id, securitygroup_id, record_id, module, deleted) "
        "VALUES ('sg000000-0000-4000-8000-000000000001', 'g1', '" + contact + "', 'Contacts', 0), "
        "('sg000000-0000-4000-8000-000000000002', 'g1', '" + contact + "', 'Accounts', 0)";
  *s << "INSERT INTO tasks (id, name, deleted, parent_type, parent_id, contact_id) VALUES "
        "('t0000000-0000-4000-8000-000000000001', 'Send offer', 0, 'Contacts', '" + contact +
        "', '" + contact + "')";
  *s << "INSERT INTO notes (id, name, deleted, parent_type, parent_id, contact_id) VALUES "
        "('n0000000-0000-4000-8000-000000000002', 'About the account', 0, 'Accounts', "
        "'a0000000-0000-4000-8000-000000000001', '" + contact + "')";
  return {"documents_contacts", "securitygroups_records", "tasks"};
}

struct DemoCrm {
  explicit DemoCrm(Backend b, int contacts = 150) : t(b) {
    auto s = t.Session();
    demo::DemoDataOptions opt;
    opt.contacts = contacts;
    auto made = demo::CreateDemoCrm(*s, t.backend_name(), opt);
    REQUIRE_MESSAGE(made.ok(), (made.ok() ? "" : made.error().message));
    summary = *made;
    cfg.database = t.database();
    cfg.instance_id = "test";
    cfg.system_user = summary.system_user_id;
    cfg.mapping = *BuiltinProfile("generic");
    state_dir = std::filesystem::temp_directory_path() / UniqueName("crmh_state_");
    cfg.state.directory = state_dir.string();
  }
  ~DemoCrm() {
    std::error_code ec;
    std::filesystem::remove_all(state_dir, ec);
  }

  JobConfig& AddJob(const std::string& name, const std::string& kind) {
    JobConfig j;
    j.name = name;
    j.kind = kind;
    if (kind == "audit") j.mandatory = {"first_name", "email", "phone"};
    if (kind == "standardize") j.rules = {"trim_whitespace", "lowercase_email"};
    j.max_fraction = 0;  // tests set limits explicitly
    j.max_rows = 0;
    cfg.jobs.push_back(j);
    return cfg.jobs.back();
  }

  jobs::RunReport Run(const std::string& job, std::optional<SysSeconds> slot = std::nullopt,
                      bool dry = false) {
    jobs::RunRequest req{&cfg, cfg.FindJob(job), slot, dry, &clock, nullptr};
    jobs::RunReport report = jobs::ExecuteRun(req, crm::MakeFactory(cfg));
    // A run that did not end ok says why in the test's output (a rare failure under load was
    // otherwise only "failed == ok").
    if (report.status != "ok") {
      std::fprintf(stderr, "run %s of job %s: %s: %s\n", report.run_id.c_str(), job.c_str(),
                   report.status.c_str(), report.message.c_str());
    }
    return report;
  }

  std::string Checksum(const std::string& table) { return TableChecksum(t, table, "id"); }

  std::map<std::string, std::string> Checksums() {
    std::map<std::string, std::string> m;
    for (const auto& table : demo::GenericSchemaTables()) m[table] = Checksum(table);
    return m;
  }

  TempDb t;
  std::filesystem::path state_dir;
  Config cfg;
  demo::DemoDataSummary summary;
  FakeClock clock{*ParseRfc3339("2026-11-23T06:00:00Z")};
};

}  // namespace crmh::test
