// The run journal, slot claims and job locks, against SQLite and a real MariaDB.
#include <doctest/doctest.h>

#include "crm/db.h"
#include "crm/lock.h"
#include "crm/state.h"
#include "test_db.h"

namespace crmh {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

SysSeconds T(const char* s) { return *ParseRfc3339(s); }

Config ConfigFor(const test::TempDb& t) {
  Config c;
  c.database = t.database();
  c.instance_id = "test-a";
  return c;
}

// Regression: an error quoting a multi-row INSERT with every bound value made a message of
// megabytes; closing the journal row failed and the run stayed `running`.
TEST_CASE("journal: a huge error message is cut so the run can still be closed") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    Config cfg = ConfigFor(t);
    auto db = crm::Open(cfg.database, cfg.state);
    REQUIRE(db.ok());
    REQUIRE(crm::Migrate(**db).ok());
    crm::RunRow r;
    r.run_id = "run-big";
    r.job = "dedup";
    r.kind = "dedup";
    r.instance_id = "host-a";
    r.started_at = T("2026-11-23T06:00:01Z");
    REQUIRE(*crm::OpenRun(**db, r) == crm::Claim::kClaimed);
    r.status = "failed";
    r.finished_at = T("2026-11-23T06:00:02Z");
    r.message = "writing the ledger: ";
    while (r.message.size() < 3'000'000) r.message += "Nguyễn Thị Minh Khai, ";
    REQUIRE(crm::CloseRun(**db, r).ok());
    auto runs = crm::ListRuns(**db, "dedup");
    REQUIRE(runs.ok());
    REQUIRE(runs->size() == 1);
    CHECK(runs->front().status == "failed");
    const std::string& m = runs->front().message;
    CHECK(m.size() <= 8000);
    CHECK(m.rfind("writing the ledger: Nguyễn", 0) == 0);
    CHECK(m.find(" […]") == m.size() - std::string(" […]").size());
  }
}

TEST_CASE("journal: migrate, claim a slot once, skip without claiming, interrupted runs") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    Config cfg = ConfigFor(t);
    auto db = crm::Open(cfg.database, cfg.state);
    REQUIRE_MESSAGE(db.ok(), (db.ok() ? "" : db.error().message));
    REQUIRE(crm::Migrate(**db).ok());
    REQUIRE(crm::Migrate(**db).ok());  // idempotent
    CHECK(*crm::StateVersion(**db) == crm::kStateSchemaVersion);

    crm::RunRow a;
    a.run_id = "run-a";
    a.job = "audit";
    a.kind = "audit";
    a.slot = T("2026-11-23T06:00:00Z");
    a.instance_id = "host-a";
    a.started_at = T("2026-11-23T06:00:01Z");
    REQUIRE(*crm::OpenRun(**db, a) == crm::Claim::kClaimed);

    // A lock_held skip for the same slot claims nothing...
    crm::RunRow s = a;
    s.run_id = "run-skip";
    s.instance_id = "host-b";
    s.reason = "lock_held";
    REQUIRE(crm::RecordSkip(**db, s).ok());
    // ...so a second claim of the same slot is what reports already_ran.
    crm::RunRow b2 = a;
    b2.run_id = "run-b";
    b2.instance_id = "host-b";
    CHECK(*crm::OpenRun(**db, b2) == crm::Claim::kAlreadyRan);

    // Manual runs (no slot) never collide.
    crm::RunRow m1 = a, m2 = a;
    m1.run_id = "manual-1";
    m2.run_id = "manual-2";
    m1.slot.reset();
    m2.slot.reset();
    CHECK(*crm::OpenRun(**db, m1) == crm::Claim::kClaimed);
    CHECK(*crm::OpenRun(**db, m2) == crm::Claim::kClaimed);

    a.status = "ok";
    a.finished_at = T("2026-11-23T06:00:05Z");
    a.counts_json = R"({"contacts":3})";
    REQUIRE(crm::CloseRun(**db, a).ok());

    auto last = crm::LastClaimedSlot(**db, "audit");
    REQUIRE(last.ok());
    CHECK(**last == T("2026-11-23T06:00:00Z"));

    // m1, m2 are still running under host-a: a restart of host-a marks them interrupted.
    auto interrupted = crm::MarkInterrupted(**db, "host-a", T("2026-11-23T07:00:00Z"));
    REQUIRE(interrupted.ok());
    CHECK(interrupted->size() == 2);
    auto none = crm::MarkInterrupted(**db, "host-b", T("2026-11-23T07:00:00Z"));
    CHECK(none->empty());

    auto runs = crm::ListRuns(**db, "audit", 10);
    REQUIRE(runs.ok());
    CHECK(runs->size() == 4);
    int ok = 0, skipped = 0, inter = 0;
    for (const auto& r : *runs) {
      ok += r.status == "ok";
      skipped += r.status == "skipped";
      inter += r.status == "interrupted";
      if (r.run_id == "run-a") {
        CHECK(r.counts_json == R"({"contacts":3})");
        CHECK(r.finished_at == T("2026-11-23T06:00:05Z"));
        CHECK(r.slot == T("2026-11-23T06:00:00Z"));
      }
      if (r.run_id == "run-skip") CHECK(r.reason == "lock_held");
    }
    CHECK(ok == 1);
    CHECK(skipped == 1);
    CHECK(inter == 2);
  }
}

TEST_CASE("job lock: a second holder is refused, the lock dies with its holder") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    Config cfg = ConfigFor(t);
    {
      auto first = crm::AcquireJobLock(cfg, "prune");
      REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
      CHECK((*first)->Check().ok());
      auto second = crm::AcquireJobLock(cfg, "prune");
      REQUIRE_FALSE(second.ok());
      CHECK(second.error().exit == Exit::kRefused);
      CHECK(second.error().message.find("lock held") != std::string::npos);
      auto other_job = crm::AcquireJobLock(cfg, "audit");
      CHECK(other_job.ok());
    }
    auto again = crm::AcquireJobLock(cfg, "prune");
    CHECK(again.ok());
  }
}

TEST_CASE("lock names longer than GET_LOCK's 64 characters are hashed") {
  Config cfg;
  cfg.database.name = std::string(60, 'd');
  std::string n = crm::LockName(cfg, "a-job-with-a-long-name");
  CHECK(n.size() <= 64);
  CHECK(n == crm::LockName(cfg, "a-job-with-a-long-name"));
  CHECK(n != crm::LockName(cfg, "another-job-with-a-long-name"));
}

TEST_CASE("an unreachable database is Exit 3 with the place named") {
  DatabaseConfig d;
  d.backend = Backend::kMysql;
  d.socket = "/nonexistent/mysqld.sock";
  d.user = "u";
  d.name = "crm";
  auto db = crm::Open(d, StateConfig{});
  REQUIRE_FALSE(db.ok());
  CHECK(db.error().exit == Exit::kDbUnreachable);
  CHECK(db.error().message.find("/nonexistent/mysqld.sock") != std::string::npos);

  DatabaseConfig s;
  s.backend = Backend::kSqlite;
  s.path = "/nonexistent/crm.db";
  auto sdb = crm::Open(s, StateConfig{});
  REQUIRE_FALSE(sdb.ok());
  CHECK(sdb.error().exit == Exit::kDbUnreachable);
}

}  // namespace
}  // namespace crmh
