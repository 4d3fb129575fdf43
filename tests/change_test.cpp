// The safe-change engine and its first consumer (standardize): backup in the same transaction,
// limits, dry run, conflict check, exact restore — on SQLite and MariaDB.
#include "jobs/change.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <fmt/format.h>
#include <soci/soci.h>

#include "crm/ledger.h"
#include "demo_fixture.h"
#include "jobs/read_ahead.h"
#include "jobs/retention.h"
#include "jobs/standardize.h"

namespace crmh {
namespace {

using test::DemoCrm;

// Dirties a few contacts the way reps do, so standardize has work.
void Dirty(DemoCrm& f) {
  auto s = f.t.Session();
  *s << "UPDATE contacts SET first_name = '  Anna   Maria ', email = ' Anna.Maria@Example.COM ' "
        "WHERE id = 1";
  *s << "UPDATE contacts SET last_name = 'Nguyễn\tVăn  An' WHERE id = 2";
  *s << "UPDATE contacts SET company = 'ACME   Inc.', city = NULL WHERE id = 3";
}

TEST_CASE("rules: trim_whitespace and lowercase_email") {
  struct Case {
    const char* in;
    const char* trimmed;
    const char* email;
  };
  const Case cases[] = {
      {"  Anna   Maria ", "Anna Maria", "annamaria"},
      {"Nguyễn\tVăn\n An", "Nguyễn Văn An", "nguyễnvănan"},
      {"\xC2\xA0" "Bob\xC2\xA0\xC2\xA0" "Smith", "Bob Smith", "bobsmith"},
      {" Anna.Maria@Example.COM ", "Anna.Maria@Example.COM", "anna.maria@example.com"},
      {"", "", ""},
      {"   ", "", ""},
      {"already clean", "already clean", "alreadyclean"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.in));
    CHECK(jobs::TrimWhitespace(c.in) == c.trimmed);
    CHECK(jobs::LowercaseEmail(c.in) == c.email);
  }
}

TEST_CASE("standardize → restore returns every mapped table to its exact pre-run checksum") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    Dirty(f);
    f.AddJob("std", "standardize").batch_size = 7;
    auto before = f.Checksums();

    // Our checksum sees a one-byte change.
    {
      auto s = f.t.Session();
      std::string notes;
      soci::indicator ind = soci::i_null;
      *s << "SELECT notes FROM contacts WHERE id = 5", soci::into(notes, ind);
      std::string changed = (ind == soci::i_ok ? notes : "") + "x";
      *s << "UPDATE contacts SET notes = :n WHERE id = 5", soci::use(changed);
      CHECK(f.Checksum("contacts") != before["contacts"]);
      *s << "UPDATE contacts SET notes = :n WHERE id = 5", soci::use(notes, ind);
      CHECK(f.Checksum("contacts") == before["contacts"]);
    }
    auto dry = f.Run("std", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(dry.status == "ok", dry.message);
    long long planned = dry.counts["rows_planned"].get<long long>();
    CHECK(planned >= 3);
    CHECK(f.Checksums() == before);  // a dry run writes nothing to the CRM

    auto run = f.Run("std");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["rows_changed"].get<long long>() == planned);
    CHECK(run.counts["changed_since_plan"].get<long long>() == 0);
    CHECK(run.counts["change_sets_applied"].get<long long>() == (planned + 6) / 7);
    {
      auto s = f.t.Session();
      std::string first, email, modified_by;
      *s << "SELECT first_name, email, CAST(modified_by AS CHAR) FROM contacts WHERE id = 1",
          soci::into(first), soci::into(email), soci::into(modified_by);
      CHECK(first == "Anna Maria");
      CHECK(email == "anna.maria@example.com");
      CHECK(modified_by == f.summary.system_user_id);
      std::string last;
      *s << "SELECT last_name FROM contacts WHERE id = 2", soci::into(last);
      CHECK(last == "Nguyễn Văn An");
    }
    CHECK(f.Checksums() != before);

    auto again = f.Run("std");  // idempotent: nothing left to do
    CHECK(again.counts["rows_planned"].get<long long>() == 0);

    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(restored->rows_restored == planned);
    CHECK(f.Checksums() == before);  // exactly the pre-run state

    auto twice = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE(twice.ok());
    CHECK(twice->already_restored);
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("a user's edit between plan and apply is never overwritten") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    Dirty(f);
    JobConfig& job = f.AddJob("std", "standardize");
    job.batch_size = 1;
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(crm::Migrate(**db).ok());
    jobs::RunContext ctx{**db, f.cfg, job, f.clock, "run-concurrent", false, nullptr, nullptr};
    jobs::StandardizeJob std_job;
    jobs::RunReport report;
    REQUIRE(std_job.Plan(ctx, report).ok());
    long long planned = report.counts["rows_planned"].get<long long>();
    {
      auto s = f.t.Session();  // "a user" edits contact 1 after the plan
      *s << "UPDATE contacts SET first_name = 'Annamaria (edited)' WHERE id = 1";
    }
    REQUIRE(std_job.Apply(ctx, report).ok());
    CHECK(report.counts["changed_since_plan"].get<long long>() == 1);
    CHECK(report.counts["rows_changed"].get<long long>() == planned - 1);
    auto s = f.t.Session();
    std::string first, email;
    *s << "SELECT first_name, email FROM contacts WHERE id = 1", soci::into(first), soci::into(email);
    CHECK(first == "Annamaria (edited)");          // the rep's edit stands
    CHECK(email == " Anna.Maria@Example.COM ");    // and nothing else of that set was applied
  }
}

TEST_CASE("limits refuse the whole run before anything changes (exit 4, numbers in the message)") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    Dirty(f);
    JobConfig& job = f.AddJob("std", "standardize");
    job.max_rows = 2;
    auto before = f.Checksums();
    auto rep = f.Run("std");
    CHECK(rep.status == "refused");
    CHECK(rep.exit == Exit::kRefused);
    CHECK(rep.message.find("max_rows = 2") != std::string::npos);
    CHECK(f.Checksums() == before);

    f.cfg.jobs[0].max_rows = 0;
    f.cfg.jobs[0].max_fraction = 0.001;
    rep = f.Run("std");
    CHECK(rep.status == "refused");
    CHECK(rep.message.find("max_fraction") != std::string::npos);
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("restore refuses (exit 4) when a touched row changed since, listing it, --force overrides") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    Dirty(f);
    f.AddJob("std", "standardize");
    auto before = f.Checksums();
    auto run = f.Run("std");
    REQUIRE(run.status == "ok");
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET city = 'Hanoi' WHERE id = 2";
    }
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    auto refused = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().exit == Exit::kRefused);
    CHECK(refused.error().message.find("contacts 2: changed since run") != std::string::npos);
    auto dry = jobs::RestoreRun(**db, run.run_id, {true, true});
    REQUIRE(dry.ok());
    CHECK(dry->conflicts.size() == 1);
    auto forced = jobs::RestoreRun(**db, run.run_id, {false, true});
    REQUIRE(forced.ok());
    CHECK(f.Checksums() == before);  // the before-images win, the later edit included
  }
}

TEST_CASE("an edit landing between restore's check and its transaction is not overwritten") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    Dirty(f);
    f.AddJob("std", "standardize").batch_size = 1;
    auto run = f.Run("std");
    REQUIRE(run.status == "ok");
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    jobs::RestoreOptions opt;
    opt.after_check = [&] {
      auto s = f.t.Session();  // "a user", after the check passed
      *s << "UPDATE contacts SET city = 'Late edit' WHERE id = 1";
    };
    auto res = jobs::RestoreRun(**db, run.run_id, opt);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().exit == Exit::kRefused);
    CHECK(res.error().message.find("contacts 1: changed since run") != std::string::npos);
    std::string city;
    (*db)->sql() << "SELECT city FROM contacts WHERE id = 1", soci::into(city);
    CHECK(city == "Late edit");
  }
}

TEST_CASE("engine: delete and soft delete come back exactly, with their original ids") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    auto before = f.Checksums();
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(crm::Migrate(**db).ok());
    auto text = [&](const std::string& table, const std::string& id) {
      auto cols = crm::OrderedColumns(**db, table);
      return **crm::LiveRowText(**db, *cols, {table, "id", id}, false);
    };
    jobs::ChangeSet cs;
    cs.label = "test: soft-delete contact 4, delete its deal and a tag";
    std::string deal_id, tag_id;
    {
      auto s = f.t.Session();
      *s << "SELECT CAST(MIN(id) AS CHAR) FROM deals", soci::into(deal_id);
      *s << "SELECT CAST(MIN(id) AS CHAR) FROM contact_tags", soci::into(tag_id);
    }
    cs.ops.push_back({jobs::OpKind::kSoftDelete, "contacts", "id", "4", {{"deleted", "1"}}, text("contacts", "4")});
    cs.ops.push_back({jobs::OpKind::kDelete, "deals", "id", deal_id, {}, text("deals", deal_id)});
    cs.ops.push_back({jobs::OpKind::kDelete, "contact_tags", "id", tag_id, {}, text("contact_tags", tag_id)});
    auto stats = jobs::ApplyPlan(**db, "run-del", {cs}, nullptr, nullptr);
    REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
    CHECK(stats->rows_changed == 3);
    CHECK(f.Checksums() != before);
    auto restored = jobs::RestoreRun(**db, "run-del", {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("dump: true takes a verified dump before the first change, an unverifiable one refuses") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    Dirty(f);
    f.AddJob("std", "standardize").dump = true;
    auto run = f.Run("std");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    const auto& dump = run.details["dump"];
    long long live = -1;
    f.t.Session()->operator<<("SELECT COUNT(*) FROM contacts"), soci::into(live);
    CHECK(dump["rows"]["contacts"].get<long long>() == live);
    CHECK(std::filesystem::file_size(dump["path"].get<std::string>()) > 1000);

    // A dump that cannot be written refuses the run before anything changes.
    DemoCrm g(b);
    Dirty(g);
    g.AddJob("std", "standardize").dump = true;
    g.cfg.state.directory = "/proc/crm-hygiene-cannot-write-here";
    auto before = g.Checksums();
    auto refused = g.Run("std");
    CHECK(refused.status == "refused");
    CHECK(refused.exit == Exit::kRefused);
    CHECK(refused.message.find("dump") != std::string::npos);
    CHECK(g.Checksums() == before);
  }
}

TEST_CASE("forget erases a contact from the ledger, the rest of the run still restores") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    Dirty(f);
    f.AddJob("std", "standardize").dump = true;
    auto run = f.Run("std");
    REQUIRE(run.status == "ok");
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    auto count = [&](const std::string& sql) {
      long long n = -1;
      (*db)->sql() << sql, soci::into(n);
      return n;
    };
    CHECK(count("SELECT COUNT(*) FROM crmh_bk_contacts WHERE id = 1") == 1);  // the before-image
    // The after-image is text in the ledger row: it holds the person's data too.
    CHECK(count("SELECT COUNT(*) FROM crmh_ledger WHERE table_name = 'contacts' AND row_id = '1' "
                "AND after_text IS NOT NULL") == 1);
    auto stats = jobs::ForgetContact(**db, f.cfg, "1");
    REQUIRE(stats.ok());
    CHECK(stats->images == 1);
    CHECK(stats->ledger_rows == 1);
    CHECK(count("SELECT COUNT(*) FROM crmh_ledger WHERE after_text IS NOT NULL") ==
          run.counts["rows_changed"].get<long long>() - 1);
    CHECK(stats->dumps == 1);
    CHECK(count("SELECT COUNT(*) FROM crmh_bk_contacts WHERE id = 1") == 0);
    CHECK(count("SELECT COUNT(*) FROM crmh_ledger WHERE table_name = 'contacts' AND row_id = '1'") == 0);
    CHECK_FALSE(std::filesystem::exists(f.state_dir / "dumps" / run.run_id));
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE(restored.ok());
    CHECK(restored->rows_restored == run.counts["rows_changed"].get<long long>() - 1);
    std::string first;
    (*db)->sql() << "SELECT first_name FROM contacts WHERE id = 1", soci::into(first);
    CHECK(first == "Anna Maria");  // forgotten: no longer restorable
  }
}

TEST_CASE("retention purges ledger entries and dumps older than retention_days") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    Dirty(f);
    f.AddJob("std", "standardize").dump = true;
    auto run = f.Run("std");
    REQUIRE(run.status == "ok");
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    SysSeconds now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    auto none = jobs::PurgeOlderThan(**db, f.cfg, now - std::chrono::hours(24));
    REQUIRE(none.ok());
    CHECK(none->runs == 0);  // a fresh run is kept
    auto purged = jobs::PurgeOlderThan(**db, f.cfg, now + std::chrono::hours(1));
    REQUIRE(purged.ok());
    CHECK(purged->runs == 1);
    CHECK(purged->ledger_rows == run.counts["rows_changed"].get<long long>());
    CHECK(purged->images == purged->ledger_rows);  // a before-image per op (after: ledger text)
    CHECK(purged->dumps == 1);
    auto restore = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_FALSE(restore.ok());
    CHECK(restore.error().exit == Exit::kUsage);
  }
}

TEST_CASE("engine: a set that touches one row twice (a statement per occurrence) restores") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    auto before = f.Checksums();
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(crm::Migrate(**db).ok());
    auto cols = crm::OrderedColumns(**db, "contacts");
    std::string expect = **crm::LiveRowText(**db, *cols, {"contacts", "id", "8"}, false);
    jobs::ChangeSet cs;
    cs.label = "contact 8 twice";
    cs.ops.push_back({jobs::OpKind::kUpdate, "contacts", "id", "8", {{"city", "Lyon"}}, expect});
    jobs::RowOp second{jobs::OpKind::kSoftDelete, "contacts", "id", "8", {{"deleted", "1"}}, expect};
    cs.ops.push_back(second);
    auto stats = jobs::ApplyPlan(**db, "run-twice", {cs}, nullptr, nullptr);
    REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
    std::string city;
    int deleted = 0;
    (*db)->sql() << "SELECT city, deleted FROM contacts WHERE id = 8", soci::into(city), soci::into(deleted);
    CHECK(city == "Lyon");
    CHECK(deleted == 1);
    auto restored = jobs::RestoreRun(**db, "run-twice", {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("a failing statement inside a change set rolls the whole set back") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    auto before = f.Checksums();
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(crm::Migrate(**db).ok());
    auto cols = crm::OrderedColumns(**db, "contacts");
    jobs::ChangeSet cs;
    cs.label = "second op fails";
    cs.ops.push_back({jobs::OpKind::kUpdate, "contacts", "id", "6", {{"city", "Berlin"}},
                      **crm::LiveRowText(**db, *cols, {"contacts", "id", "6"}, false)});
    cs.ops.push_back({jobs::OpKind::kUpdate, "contacts", "id", "7", {{"no_such_column", "x"}},
                      **crm::LiveRowText(**db, *cols, {"contacts", "id", "7"}, false)});
    auto stats = jobs::ApplyPlan(**db, "run-fail", {cs}, nullptr, nullptr);
    CHECK_FALSE(stats.ok());
    CHECK(f.Checksums() == before);  // contact 6 untouched: nothing half-applied
    long long ledger = -1;
    (*db)->sql() << "SELECT COUNT(*) FROM crmh_ledger WHERE run_id = 'run-fail'", soci::into(ledger);
    CHECK(ledger == 0);
  }
}

TEST_CASE("engine: a row updated and then deleted in one set comes back exactly") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    auto before = f.Checksums();
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(crm::Migrate(**db).ok());
    auto cols = crm::OrderedColumns(**db, "contacts");
    std::string expect = **crm::LiveRowText(**db, *cols, {"contacts", "id", "9"}, false);
    jobs::ChangeSet cs;
    cs.label = "contact 9: re-point, then delete (a merge's loser)";
    cs.ops.push_back({jobs::OpKind::kUpdate, "contacts", "id", "9", {{"city", "Lyon"}}, expect});
    cs.ops.push_back({jobs::OpKind::kDelete, "contacts", "id", "9", {}, expect});
    auto stats = jobs::ApplyPlan(**db, "run-upd-del", {cs}, nullptr, nullptr);
    REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
    long long n = -1;
    (*db)->sql() << "SELECT COUNT(*) FROM contacts WHERE id = 9", soci::into(n);
    CHECK(n == 0);
    auto restored = jobs::RestoreRun(**db, "run-upd-del", {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(restored->rows_restored == 2);
    CHECK(f.Checksums() == before);
  }
}

// A table with the values a lossy comparison gets wrong. On MariaDB its collation is the
// database's utf8mb4_unicode_ci ('A' = 'a', 'x' = 'x '), and it holds a BLOB (the row text is
// binary) with bytes that are not UTF-8; `latin` has latin1 columns (the row text is converted).
void CreateOddTables(test::TempDb& t) {
  auto s = t.Session();
  bool my = t.backend() == Backend::kMysql;
  *s << std::string("CREATE TABLE odd (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(20), note ") +
            "VARCHAR(20), amount DECIMAL(12,4), at " + (my ? "DATETIME(6)" : "TEXT") +
            ", data BLOB)";
  *s << std::string("CREATE TABLE latin (id INT NOT NULL PRIMARY KEY, name VARCHAR(20)") +
            (my ? " CHARACTER SET latin1" : "") + ")";
  // Ids 2^53 and 2^53 + 1 (equal as doubles) and their neighbours.
  for (int k = 0; k < 8; ++k) {
    std::string id = std::to_string(9007199254740992LL + k);
    std::string name = k == 3 ? "Bob" : "Anna";
    *s << "INSERT INTO odd (id, name, note, amount, at, data) VALUES (" + id + ", '" + name +
              "', NULL, 1.5000, '2025-01-02 03:04:05.123456', X'00FF80C3')";
  }
  *s << "INSERT INTO latin (id, name) VALUES (1, 'Zoë'), (2, 'Ångström')";
}

TEST_CASE(
    "engine: rows compare exactly (case, trailing space, NULL vs '', DECIMAL, DATETIME "
    "fractions, BLOB bytes, latin1, ids equal as doubles)") {
  // Both paths: the planned texts as parameters of the statement (CASE lists) and in the plan
  // table (the join path), bound as bytes either way.
  for (size_t join_above : {size_t{64}, size_t{0}}) {
  crm::ShadowTable::SetJoinThreshold(join_above);
  CAPTURE(join_above);
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    CreateOddTables(f.t);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(crm::Migrate(**db).ok());
    auto odd_cols = *crm::OrderedColumns(**db, "odd");
    auto latin_cols = *crm::OrderedColumns(**db, "latin");
    auto text = [&](const std::string& table, long long id) {
      return **crm::LiveRowText(**db, table == "odd" ? odd_cols : latin_cols,
                                {table, "id", std::to_string(id)}, false);
    };
    const long long base = 9007199254740992LL;
    // Plan: one set per edited row, then one set with the two ids that are equal as doubles,
    // then one on the latin1 table.
    std::vector<jobs::ChangeSet> plan;
    for (int k = 2; k < 8; ++k) {
      jobs::ChangeSet cs;
      cs.label = "edited " + std::to_string(k);
      cs.ops.push_back({jobs::OpKind::kUpdate,
                        "odd",
                        "id",
                        std::to_string(base + k),
                        {{"name", "planned"}},
                        text("odd", base + k)});
      plan.push_back(cs);
    }
    jobs::ChangeSet pair;
    pair.label = "2^53 + 1 and 2^53";
    for (int k : {1, 0}) {
      pair.ops.push_back({jobs::OpKind::kUpdate,
                          "odd",
                          "id",
                          std::to_string(base + k),
                          {{"note", "op for " + std::to_string(k)}},
                          text("odd", base + k)});
    }
    plan.push_back(pair);
    jobs::ChangeSet latin;
    latin.label = "latin1";
    for (int id : {1, 2}) {
      latin.ops.push_back({jobs::OpKind::kUpdate,
                           "latin",
                           "id",
                           std::to_string(id),
                           {{"name", "x"}},
                           text("latin", id)});
    }
    plan.push_back(latin);
    // And on contacts, whose row text is utf8mb4 under a case- and pad-insensitive collation.
    auto contact_cols = *crm::OrderedColumns(**db, "contacts");
    for (const char* id : {"13", "14"}) {
      jobs::ChangeSet cs;
      cs.label = std::string("contact ") + id;
      cs.ops.push_back({jobs::OpKind::kUpdate,
                        "contacts",
                        "id",
                        id,
                        {{"city", "planned"}},
                        **crm::LiveRowText(**db, contact_cols, {"contacts", "id", id}, false)});
      plan.push_back(cs);
    }
    // "Users" edit eight rows after the plan, each in a way only an exact comparison sees.
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET last_name = UPPER(last_name) WHERE id = 13";
      *s << std::string("UPDATE contacts SET last_name = ") +
                (b == Backend::kMysql ? "CONCAT(last_name, ' ')" : "last_name || ' '") +
                " WHERE id = 14";
      auto id = [&](int k) { return std::to_string(base + k); };
      *s << "UPDATE odd SET name = 'ANNA' WHERE id = " + id(2);
      *s << "UPDATE odd SET name = 'Bob ' WHERE id = " + id(3);
      *s << "UPDATE odd SET note = '' WHERE id = " + id(4);
      *s << "UPDATE odd SET amount = 1.5001 WHERE id = " + id(5);
      *s << "UPDATE odd SET at = '2025-01-02 03:04:05.123457' WHERE id = " + id(6);
      *s << "UPDATE odd SET data = X'00FF80C4' WHERE id = " + id(7);
    }
    auto edited = test::TableChecksum(f.t, "odd", "id");
    auto latin_before = test::TableChecksum(f.t, "latin", "id");
    auto stats = jobs::ApplyPlan(**db, "run-odd", plan, nullptr, nullptr);
    REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
    CHECK(stats->changed_since_plan == 8);
    CHECK(stats->sets_applied == 2);
    CHECK(stats->rows_changed == 4);
    // Each op's image and ledger row belong to its own row.
    for (int k : {0, 1}) {
      std::string note, row_id;
      (*db)->sql() << "SELECT note FROM odd WHERE id = " + std::to_string(base + k),
          soci::into(note);
      CHECK(note == "op for " + std::to_string(k));
      int op = k == 1 ? 0 : 1;
      long long image_id = 0;
      (*db)->sql() << "SELECT l.row_id, b.id FROM crmh_ledger l JOIN crmh_bk_odd b ON "
                      "b.crmh_run_id = l.run_id AND b.crmh_set = l.set_no AND b.crmh_op = "
                      "l.op_no AND b.crmh_image = 'b' WHERE l.run_id = 'run-odd' AND l.op_no = " +
                          std::to_string(op) + " AND l.table_name = 'odd'",
          soci::into(row_id), soci::into(image_id);
      CHECK(row_id == std::to_string(base + k));
      CHECK(image_id == base + k);
    }
    auto restored = jobs::RestoreRun(**db, "run-odd", {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(restored->rows_restored == 4);
    CHECK(test::TableChecksum(f.t, "odd", "id") == edited);
    CHECK(test::TableChecksum(f.t, "latin", "id") == latin_before);
  }
  }
  crm::ShadowTable::SetJoinThreshold(64);
}

// After-images are stored as row text; score splits them back into values. Table-driven: each
// value goes through the server's own quoting and must come back as the test wrote it.
TEST_CASE("row text splits back into its values (NULL, empty, quotes, commas, backslashes)") {
  const std::vector<std::optional<std::string>> cases = {
      std::nullopt, std::string(""), std::string("a,b"), std::string("O'Brien"),
      std::string("back\\slash"), std::string("'',''"), std::string("NULL"), std::string("  "),
      std::string("Tòa nhà, \"x\"")};
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    auto db = crm::Open(t.database(), StateConfig{});
    REQUIRE(db.ok());
    std::vector<std::string> cols;
    std::string ddl;
    for (size_t i = 0; i < cases.size(); ++i) {
      cols.push_back(fmt::format("c{}", i));
      ddl += fmt::format(", c{} VARCHAR(40) NULL", i);
    }
    (*db)->sql() << "CREATE TABLE split_t (id INTEGER PRIMARY KEY, n INTEGER NULL" + ddl + ")";
    cols.insert(cols.begin(), {"id", "n"});
    std::string ins = "INSERT INTO split_t VALUES (7, 42";
    for (const auto& v : cases) {
      if (!v) {
        ins += ", NULL";
        continue;
      }
      std::string lit;
      for (char c : *v) {
        if (c == '\'') lit += "''";
        else if (c == '\\' && b == Backend::kMysql) lit += "\\\\";
        else lit += c;
      }
      ins += ", '" + lit + "'";
    }
    (*db)->sql() << ins + ")";
    auto text = crm::LiveRowText(**db, cols, {"split_t", "id", "7"}, false);
    REQUIRE(text.ok());
    REQUIRE(text->has_value());
    auto values = crm::SplitRowText(**db, **text);
    REQUIRE(values.has_value());
    REQUIRE(values->size() == cols.size());
    CHECK((*values)[0] == std::optional<std::string>("7"));
    CHECK((*values)[1] == std::optional<std::string>("42"));
    for (size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(i);
      CHECK((*values)[i + 2] == cases[i]);
    }
    CHECK_FALSE(crm::SplitRowText(**db, "'unclosed").has_value());
    CHECK_FALSE(crm::SplitRowText(**db, "1,,2").has_value());
  }
}

// Records every statement the session sends.
class StatementLog final : public soci::logger_impl {
 public:
  explicit StatementLog(std::vector<std::string>* out) : out_(out) {}
  void start_query(std::string const& query) override { out_->push_back(query); }

 private:
  logger_impl* do_clone() const override { return new StatementLog(out_); }
  std::vector<std::string>* out_;
};

TEST_CASE("engine: a single-row change set is four statements on MariaDB (five on SQLite), its restore five") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    auto before = f.Checksums();
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(crm::Migrate(**db).ok());
    auto cols = *crm::OrderedColumns(**db, "contacts");
    std::vector<jobs::ChangeSet> plan;
    for (const char* id : {"11", "12"}) {
      jobs::ChangeSet cs;
      cs.ops.push_back({jobs::OpKind::kUpdate,
                        "contacts",
                        "id",
                        id,
                        {{"city", "Lyon"}},
                        **crm::LiveRowText(**db, cols, {"contacts", "id", id}, false)});
      plan.push_back(cs);
    }
    std::vector<std::string> log;
    (*db)->sql().set_logger(new StatementLog(&log));
    auto stats = jobs::ApplyPlan(**db, "run-six", plan, nullptr, nullptr);
    REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
    auto kinds = [&](size_t from) {
      std::vector<std::string> out;
      for (size_t i = from; i < log.size(); ++i) {
        const std::string& q = log[i];
        std::string k = q.substr(0, q.find(' '));
        if (q.rfind("INSERT INTO", 0) == 0) k = q.find("crmh_ledger") < 40 ? "ledger" : "image";
        if (q.rfind("BEGIN", 0) == 0) k = "START";
        if (q == "SET autocommit = 0") k = "autocommit off";
        if (q == "SET autocommit = 1") k = "autocommit on";
        if (q.rfind("SET SESSION TRANSACTION ISOLATION LEVEL ", 0) == 0) k = "isolation";
        out.push_back(k);
      }
      return out;
    };
    size_t first = 0;
    while (first < log.size() && log[first].rfind("SET autocommit", 0) != 0 &&
           log[first].rfind("BEGIN", 0) != 0) {
      ++first;
    }
    // Lock + compare + before-image, the change, verify + ledger + after-image text, COMMIT; on
    // MariaDB the set's first statement opens its transaction (autocommit is off for the plan),
    // SQLite opens it with BEGIN IMMEDIATE.
    std::vector<std::string> one = {"image", "UPDATE", "ledger", "COMMIT"};
    if (b != Backend::kMysql) one.insert(one.begin(), "START");
    std::vector<std::string> two;
    if (b == Backend::kMysql) two.push_back("autocommit off");
    two.insert(two.end(), one.begin(), one.end());
    two.insert(two.end(), one.begin(), one.end());
    if (b == Backend::kMysql) {
      // The session's own isolation level back (the test server's default, REPEATABLE READ).
      two.push_back("isolation");
      two.push_back("autocommit on");
      // READ COMMITTED while the plan was applied: set once, before the first set.
      CHECK(std::find(log.begin(), log.begin() + static_cast<long>(first),
                      "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED") !=
            log.begin() + static_cast<long>(first));
      CHECK(log[log.size() - 2] == "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    }
    CHECK(kinds(first) == two);
    // Each ledger row carries its row's text as the run left it (the test's own quoting, not
    // the product's RowTextExpr): what restore compares the live row with.
    std::string text;
    for (const auto& c : cols) {
      text += b == Backend::kMysql ? fmt::format("{}QUOTE(c.`{}`)", text.empty() ? "" : ", ", c)
                                   : fmt::format("{}quote(c.\"{}\")", text.empty() ? "" : " || ',' || ", c);
    }
    if (b == Backend::kMysql) text = "CAST(CONCAT_WS(',', " + text + ") AS BINARY)";
    long long equal = -1;
    (*db)->sql() << "SELECT COUNT(*) FROM crmh_ledger l JOIN contacts c ON c.id = l.row_id WHERE "
                    "l.run_id = 'run-six' AND l.after_text = " + text,
        soci::into(equal);
    CHECK(equal == 2);
    log.clear();
    auto restored = jobs::RestoreRun(**db, "run-six", {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    first = 0;
    while (first < log.size() && log[first].rfind("START", 0) != 0 &&
           log[first].rfind("BEGIN", 0) != 0) {
      ++first;
    }
    CHECK(log.size() - first == 10);  // per set: BEGIN, check, put back, ledger, COMMIT
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("engine: two connections apply sets at once, a row two sets plan is changed once, restore is exact") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    auto before = f.Checksums();
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(crm::Migrate(**db).ok());
    auto cols = *crm::OrderedColumns(**db, "contacts");
    // Sixteen sets: set i (from 0) changes contact i+1 and contact 30 + i % 8, which set i+8 —
    // in the other connection's half of the plan, applied at about the same time — also plans.
    // Whichever locks the shared row first changes it; the other finds it changed.
    std::vector<jobs::ChangeSet> plan;
    for (int i = 0; i < 16; ++i) {
      jobs::ChangeSet cs;
      cs.label = fmt::format("set {}", i + 1);
      for (int id : {i + 1, 30 + i % 8}) {
        const std::string sid = std::to_string(id);
        cs.ops.push_back({jobs::OpKind::kUpdate,
                          "contacts",
                          "id",
                          sid,
                          {{"city", fmt::format("Set {}", i + 1)}},
                          **crm::LiveRowText(**db, cols, {"contacts", "id", sid}, false)});
      }
      plan.push_back(cs);
    }
    int opened = 0;
    jobs::ApplyOptions options;
    options.connections = 2;
    options.open_db = [&]() {
      ++opened;
      return crm::Open(f.cfg.database, f.cfg.state);
    };
    auto stats = jobs::ApplyPlan(**db, "run-two", plan, nullptr, nullptr, options);
    REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
    CHECK(opened == (b == Backend::kMysql ? 1 : 0));  // SQLite has one writer
    CHECK(stats->sets_applied == 8);
    CHECK(stats->changed_since_plan == 8);
    CHECK(stats->rows_changed == 16);
    // Every applied set left both its rows as it planned them, with one ledger row each.
    auto s = f.t.Session();
    soci::rowset<soci::row> rs = s->prepare << "SELECT l.row_id, c.city FROM crmh_ledger l JOIN "
                                               "contacts c ON c.id = l.row_id WHERE l.run_id = "
                                               "'run-two' ORDER BY l.set_no";
    std::map<std::string, std::string> city;
    for (const auto& r : rs) {
      CHECK(city.emplace(crm::CellText(r, 0), crm::CellText(r, 1)).second);  // once per row
    }
    CHECK(city.size() == 16);
    for (int j = 0; j < 8; ++j) {
      const std::string shared = city[std::to_string(30 + j)];
      CAPTURE(shared);
      // The shared row's set is j+1 or j+9 (sets named from 1); the winner's own row (contact
      // j+1 or j+9) carries the same name, the loser's is untouched.
      const bool first = shared == fmt::format("Set {}", j + 1);
      CHECK((first || shared == fmt::format("Set {}", j + 9)));
      CHECK(city[std::to_string(first ? j + 1 : j + 9)] == shared);
      CHECK(city.count(std::to_string(first ? j + 9 : j + 1)) == 0);
    }
    auto restored = jobs::RestoreRun(**db, "run-two", {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(restored->rows_restored == 16);
    CHECK(f.Checksums() == before);
  }
}

// A connection whose share is done takes sets from the far end of the other's share: a slow
// first half (its precheck sleeps) is finished partly by the second connection, every set once.
TEST_CASE("engine: a connection done with its share takes sets from the far end of the other's") {
  const auto backends = test::Backends();
  if (std::find(backends.begin(), backends.end(), Backend::kMysql) == backends.end()) {
    return;  // SQLite has one writer: one connection
  }
  DemoCrm f(Backend::kMysql);
  auto before = f.Checksums();
  auto db = crm::Open(f.cfg.database, f.cfg.state);
  REQUIRE(crm::Migrate(**db).ok());
  auto cols = *crm::OrderedColumns(**db, "contacts");
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, crm::Db*> applied_by;  // set number → the session its precheck ran on
  bool stolen = false;                 // a set of the first share ran on the other session
  crm::Db* const first = db->get();
  std::vector<jobs::ChangeSet> plan;
  for (int i = 1; i <= 24; ++i) {
    jobs::ChangeSet cs;
    cs.label = fmt::format("set {}", i);
    const std::string sid = std::to_string(i);
    cs.ops.push_back({jobs::OpKind::kUpdate,
                      "contacts",
                      "id",
                      sid,
                      {{"city", fmt::format("Set {}", i)}},
                      **crm::LiveRowText(**db, cols, {"contacts", "id", sid}, false)});
    // The first share's first set holds its session until the other session, done with its own
    // share, took one of the first share's (it was: each of those sets 100 ms slower, and the
    // other session had to finish its share within them).
    cs.precheck = [&, i](crm::Db& d) -> std::optional<std::string> {
      std::unique_lock<std::mutex> g(mu);
      CHECK(applied_by.emplace(i, &d).second);  // (a retry would run it twice: none here)
      if (i <= 12 && &d != first) {
        stolen = true;
        cv.notify_all();
      }
      if (i == 1) CHECK(cv.wait_for(g, std::chrono::minutes(2), [&] { return stolen; }));
      return std::nullopt;
    };
    plan.push_back(cs);
  }
  jobs::ApplyOptions options;
  options.connections = 2;
  options.open_db = [&]() { return crm::Open(f.cfg.database, f.cfg.state); };
  auto stats = jobs::ApplyPlan(**db, "run-steal", plan, nullptr, nullptr, options);
  REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
  CHECK(stats->sets_applied == 24);
  CHECK(stats->rows_changed == 24);
  REQUIRE(applied_by.size() == 24);
  int taken = 0;
  for (int i = 1; i <= 12; ++i) taken += applied_by[i] != db->get() ? 1 : 0;
  CHECK(taken >= 1);
  // Taken from the far end: if set i of the first share went to the second connection, so did
  // every set after it in that share.
  for (int i = 1; i < 12; ++i) {
    if (applied_by[i] != db->get()) CHECK(applied_by[i + 1] != db->get());
  }
  for (int i = 13; i <= 24; ++i) CHECK(applied_by[i] != db->get());
  auto restored = jobs::RestoreRun(**db, "run-steal", {});
  REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
  CHECK(restored->rows_restored == 24);
  CHECK(f.Checksums() == before);
}

// The read-ahead planning uses (prune with several connections): items come out in order, each
// read on session i % sessions, never more than `window` ahead; a failed read reaches the
// consumer at its item; destroying it early stops the readers.
TEST_CASE("read-ahead hands items over in order, at most window ahead, and stops at an error") {
  struct Session {
    int no;
    std::atomic<int> reads{0};
  };
  Session a{0}, b{1}, c{2};
  std::atomic<size_t> highest{0};
  std::atomic<size_t> consumed{0};
  std::atomic<bool> too_far{false};
  auto read = [&](Session& s, size_t i) -> Result<std::pair<size_t, int>> {
    // (+1: the test's count lags the consumer's by the moment between Next() and the update)
    if (i >= consumed.load() + 4 + 1) too_far = true;
    size_t h = highest.load();
    while (i > h && !highest.compare_exchange_weak(h, i)) {}
    ++s.reads;
    if (i == 37) return Error::Db("the server went away at item 37");
    return std::make_pair(i, s.no);
  };
  {
    jobs::ReadAhead<Session, std::pair<size_t, int>> ahead({&a, &b, &c}, 60, 4, read);
    for (size_t i = 0; i < 37; ++i) {
      auto got = ahead.Next();
      REQUIRE(got);
      CHECK(got->first == i);
      CHECK(got->second == static_cast<int>(i % 3));
      consumed = i + 1;
    }
    auto failed = ahead.Next();
    REQUIRE_FALSE(failed);
    CHECK(failed.error().message.find("item 37") != std::string::npos);
    // Not consumed further: the destructor stops the other two readers while they wait.
  }
  CHECK_FALSE(too_far.load());
  CHECK(highest.load() <= 38 + 3);  // the error consumed: at most window past it
  CHECK(a.reads + b.reads + c.reads <= 42);
  // Session 1 read item 37 and stopped: nothing after it on that session.
  CHECK(b.reads.load() == 13);

  // One session, window 1: strictly one item ahead.
  Session only{7};
  jobs::ReadAhead<Session, std::pair<size_t, int>> one({&only}, 5, 1,
                                                       [&](Session& s, size_t i) -> Result<std::pair<size_t, int>> {
                                                         ++s.reads;
                                                         return std::make_pair(i, s.no);
                                                       });
  for (size_t i = 0; i < 5; ++i) {
    auto got = one.Next();
    REQUIRE(got);
    CHECK(got->first == i);
  }
  CHECK(only.reads.load() == 5);
}

// The queue prune's scan feeds (the latest activity of each chunk of contacts, read on the other
// connections while the scan runs): every read queued runs once, on some session, the helper
// included; the first failure is returned and the reads still queued are dropped.
TEST_CASE("read queue runs every queued read once, the helper too, and stops at a failure") {
  struct Session {
    int no;
    std::atomic<int> reads{0};
  };
  {
    // The sessions' threads each hold their first read until the helper has read one: the
    // helper joins in whatever the threads' timing (it was "queued faster than two threads
    // read", which a loaded machine or one core did not always do).
    Session a{0}, b{1}, helper{2};
    std::vector<std::atomic<int>> ran(200);
    std::promise<void> helper_read;
    std::shared_future<void> gate = helper_read.get_future().share();
    std::once_flag opened;
    jobs::ReadQueue<Session> q({&a, &b});
    for (size_t i = 0; i < ran.size(); ++i) {
      q.Add([&, i](Session& s) -> Status {
        ++s.reads;
        ++ran[i];
        if (&s == &helper) {
          std::call_once(opened, [&] { helper_read.set_value(); });
        } else {
          gate.wait();
        }
        return Status::Ok();
      });
    }
    REQUIRE(q.Finish(&helper));
    for (size_t i = 0; i < ran.size(); ++i) CHECK(ran[i].load() == 1);
    CHECK(a.reads + b.reads + helper.reads == 200);
    CHECK(helper.reads.load() > 0);
  }
  {
    Session a{0};
    std::atomic<int> runs{0};
    jobs::ReadQueue<Session> q({&a});
    for (int i = 0; i < 100; ++i) {
      q.Add([&runs, i](Session&) -> Status {
        ++runs;
        if (i == 10) return Error::Db("the server went away at read 10");
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        return Status::Ok();
      });
    }
    Status st = q.Finish(nullptr);
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find("read 10") != std::string::npos);
    CHECK(runs.load() == 11);  // one session, in order: nothing after the failure
  }
  {
    // Destroyed without Finish(): what is queued is dropped, the threads are joined. A read
    // holds its thread until a queued read was dropped (its captured state destroyed unrun):
    // only the destructor drops one here, so at most the read in flight runs — not "fewer than
    // 50 if the destructor came within 100 ms", which a loaded machine did not always give.
    struct Item {
      explicit Item(std::atomic<bool>& d) : dropped(d) {}
      std::atomic<bool>& dropped;
      bool ran = false;
      ~Item() {
        if (!ran) dropped = true;
      }
    };
    Session a{0};
    std::atomic<int> runs{0};
    std::atomic<bool> dropped{false};
    {
      jobs::ReadQueue<Session> q({&a});
      for (int i = 0; i < 50; ++i) {
        auto item = std::make_shared<Item>(dropped);
        q.Add([&runs, &dropped, item](Session&) -> Status {
          item->ran = true;
          ++runs;
          while (!dropped.load()) std::this_thread::yield();
          return Status::Ok();
        });
      }
    }
    CHECK(dropped.load());
    CHECK(runs.load() <= 1);
  }
}

}  // namespace
}  // namespace crmh
