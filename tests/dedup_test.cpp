// dedup on a real database (SQLite and MariaDB): what a merge does to the rows, that it never
// loses a value, a child row or an opt-out, that a user's edit after the plan wins, that restore
// undoes it exactly, and the review queue's lifecycle.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <tuple>

#include "crm/review.h"
#include "crm/state.h"
#include "demo_fixture.h"
#include "jobs/change.h"
#include "jobs/dedup.h"
#include "jobs/dedup_cache.h"
#include "jobs/retention.h"

namespace crmh {
namespace {

using test::DemoCrm;

// A dedup report's clusters as json (null for a report without them).
nlohmann::json ClustersOf(const jobs::RunReport& r) {
  return r.clusters ? r.clusters->Json() : nlohmann::json();
}

// Three records of one person (9001 most complete → survivor), plus their child rows.
void PlantPerson(DemoCrm& f) {
  auto s = f.t.Session();
  *s << "INSERT INTO contacts (id, first_name, last_name, email, email2, phone, mobile, company, "
        "address1, city, country, created_at, updated_at, email_opt_out, do_not_call, status) "
        "VALUES (9001, 'Anna', 'Smith', 'anna@x.com', NULL, NULL, NULL, 'Acme Inc', NULL, NULL, "
        "NULL, '2020-01-01 10:00:00', '2020-01-01 10:00:00', 0, 0, 'lead')";
  *s << "INSERT INTO contacts (id, first_name, last_name, email, email2, phone, mobile, company, "
        "address1, city, country, created_at, updated_at, email_opt_out, do_not_call, status) "
        "VALUES (9002, 'Anna', 'Smith', 'ANNA.SMITH@work.com', 'anna@x.com', '+1 415 555 0100', "
        "NULL, '', '1 Main St', 'Springfield', 'US', '2021-01-01 10:00:00', '2021-01-01 "
        "10:00:00', 1, 0, 'lead')";
  *s << "INSERT INTO contacts (id, first_name, last_name, email, created_at, updated_at, "
        "email_opt_out, do_not_call, status) VALUES (9003, 'Ann', 'Smith', 'third@y.com', "
        "'2022-01-01 10:00:00', '2022-01-01 10:00:00', 0, 1, 'lead')";
  *s << "INSERT INTO contact_tags (id, contact_id, tag, deleted) VALUES (99001, 9001, 'vip', 0)";
  *s << "INSERT INTO contact_tags (id, contact_id, tag, deleted) VALUES (99002, 9002, 'vip', 0)";
  *s << "INSERT INTO contact_tags (id, contact_id, tag, deleted) VALUES (99003, 9002, 'new', 0)";
  *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, deleted) "
        "VALUES (99001, 'Contacts', 9002, 'call', 'hello', '2023-01-01 10:00:00', 0)";
  *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, deleted) "
        "VALUES (99002, 'Contacts', 9003, 'note', 'n', '2023-02-01 10:00:00', 0)";
  // Same parent_id, another parent type: not this contact's row.
  *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, deleted) "
        "VALUES (99003, 'Deals', 9002, 'note', 'deal note', '2023-02-01 10:00:00', 0)";
  *s << "INSERT INTO deals (id, contact_id, name, stage, amount, created_at, deleted) VALUES "
        "(99001, 9003, 'big', 'open', 1234.56, '2023-01-01 10:00:00', 0)";
}

// The planted person and a dedup job that plans in batches of 3 clusters (on MariaDB the
// batches after the first are read ahead on the run's reader sessions), without the sweep cache.
void AddBatchedDedup(DemoCrm& f) {
  PlantPerson(f);
  JobConfig& job = f.AddJob("dedup", "dedup");
  job.dedup.sweep_cache = false;
  job.dedup.plan_batch = 3;
}

long long Approve(DemoCrm& f, const std::string& job, std::vector<std::string> members) {
  auto db = crm::Open(f.cfg.database, f.cfg.state);
  REQUIRE(db.ok());
  REQUIRE(crm::Migrate(**db).ok());
  crm::ReviewItem item;
  item.job = job;
  item.members = members;
  item.survivor = members.front();
  item.cluster_key = crm::ClusterKey(members);
  item.score = 0.9;
  item.seen_run = "test";
  REQUIRE(crm::QueueReview(**db, item, f.clock.Now()).ok());
  auto open = crm::ListReview(**db, "open");
  REQUIRE(open.ok());
  REQUIRE(!open->empty());
  long long id = open->back().id;
  REQUIRE(crm::ApproveReview(**db, id, "tester", f.clock.Now()).ok());
  return id;
}

// `review approve ID --now`: a run of the dedup job that merges only this approved item.
jobs::RunReport MergeNow(DemoCrm& f, long long item) {
  jobs::RunRequest req{&f.cfg, f.cfg.FindJob("dedup"), std::nullopt, false, &f.clock, nullptr};
  req.review_now = item;
  return jobs::ExecuteRun(req, crm::MakeFactory(f.cfg));
}

struct Row {
  std::string first, email, email2, phone, address1, city, country, company;
  int opt_out = 0, dnc = 0, deleted = 0;
};

Row ReadContact(DemoCrm& f, int id) {
  auto s = f.t.Session();
  soci::row r;
  *s << "SELECT first_name, email, email2, phone, address1, city, country, company, "
        "email_opt_out, do_not_call, deleted FROM contacts WHERE id = :id",
      soci::use(id), soci::into(r);
  Row out;
  out.first = crm::CellText(r, 0);
  out.email = crm::CellText(r, 1);
  out.email2 = crm::CellText(r, 2);
  out.phone = crm::CellText(r, 3);
  out.address1 = crm::CellText(r, 4);
  out.city = crm::CellText(r, 5);
  out.country = crm::CellText(r, 6);
  out.company = crm::CellText(r, 7);
  out.opt_out = static_cast<int>(crm::CellInt(r, 8));
  out.dnc = static_cast<int>(crm::CellInt(r, 9));
  out.deleted = static_cast<int>(crm::CellInt(r, 10));
  return out;
}

long long Count(DemoCrm& f, const std::string& sql) {
  auto s = f.t.Session();
  long long n = 0;
  *s << sql, soci::into(n);
  return n;
}

// Two dry runs planned the same: clusters, plan and counts (not the sweep's timing).
void CheckSamePlan(const jobs::RunReport& got, const jobs::RunReport& want) {
  CHECK(got.clusters == want.clusters);
  CHECK(got.details["plan"] == want.details["plan"]);
  auto a = got.counts, d = want.counts;
  a.erase("sweep_seconds");
  d.erase("sweep_seconds");
  CHECK(a == d);
}

}  // namespace

TEST_CASE("dedup merge: nothing lost — values filled, consent OR-ed, every child re-pointed, "
          "restore is exact") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 30);
    PlantPerson(f);
    f.AddJob("dedup", "dedup");
    const long long children_before =
        Count(f, "SELECT COUNT(*) FROM activities") + Count(f, "SELECT COUNT(*) FROM deals") +
        Count(f, "SELECT COUNT(*) FROM contact_tags");
    long long item = Approve(f, "dedup", {"9001", "9002", "9003"});
    auto before = f.Checksums();

    jobs::RunReport run = MergeNow(f, item);
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["merges_applied"].get<long long>() == 1);
    CHECK(run.counts["contacts_merged"].get<long long>() == 2);

    Row a = ReadContact(f, 9001);
    CHECK(a.first == "Anna");                  // never replaced
    CHECK(a.email == "anna@x.com");            // kept
    CHECK(a.email2 == "ANNA.SMITH@work.com");  // the loser's other address, in the free slot
    CHECK(a.phone == "+1 415 555 0100");       // filled from a loser
    CHECK(a.company == "Acme Inc");            // a loser's '' never replaces a value
    CHECK(a.address1 == "1 Main St");          // the address as a whole, from one loser
    CHECK(a.city == "Springfield");
    CHECK(a.country == "US");
    CHECK(a.opt_out == 1);  // the most restrictive consent
    CHECK(a.dnc == 1);
    CHECK(a.deleted == 0);
    CHECK(ReadContact(f, 9002).deleted == 1);
    CHECK(ReadContact(f, 9003).deleted == 1);
    CHECK(run.counts["values_without_a_free_field"].get<long long>() == 1);  // third@y.com

    // Child rows: none deleted, all re-pointed, the duplicate tag soft-deleted in place.
    CHECK(Count(f, "SELECT COUNT(*) FROM activities") + Count(f, "SELECT COUNT(*) FROM deals") +
              Count(f, "SELECT COUNT(*) FROM contact_tags") ==
          children_before);
    CHECK(Count(f, "SELECT COUNT(*) FROM activities WHERE parent_type = 'Contacts' AND parent_id "
                   "= 9001") == 2);
    CHECK(Count(f, "SELECT COUNT(*) FROM activities WHERE id = 99003 AND parent_id = 9002") == 1);
    CHECK(Count(f, "SELECT COUNT(*) FROM deals WHERE id = 99001 AND contact_id = 9001") == 1);
    CHECK(Count(f, "SELECT COUNT(*) FROM contact_tags WHERE id = 99003 AND contact_id = 9001") == 1);
    CHECK(Count(f, "SELECT COUNT(*) FROM contact_tags WHERE id = 99002 AND contact_id = 9002 AND "
                   "deleted = 1") == 1);

    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto item_after = crm::GetReview(**db, item);
    REQUIRE(item_after.ok());
    REQUIRE(item_after->has_value());
    CHECK((*item_after)->status == "merged");
    CHECK((*item_after)->merged_run == run.run_id);

    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

// Regression: the ledger note quoted a value cut at 40 bytes, in the middle of "ề"; MariaDB
// (utf8mb4, strict) rejected the note and the merge failed.
TEST_CASE("dedup: a note quoting a long non-ASCII value is cut at a character boundary") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 30);
    PlantPerson(f);
    const std::string address = "Lầu 5, Tòa nhà Bitexco, 2 Hải Triều, Bến Nghé, Quận 1";
    REQUIRE((static_cast<unsigned char>(address[40]) & 0xC0) == 0x80);  // byte 40 is mid-sequence
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET address1 = :a WHERE id = 9002", soci::use(address);
    }
    f.AddJob("dedup", "dedup");
    long long item = Approve(f, "dedup", {"9001", "9002"});
    jobs::RunReport run = MergeNow(f, item);
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["merges_applied"].get<long long>() == 1);
    CHECK(ReadContact(f, 9001).address1 == address);
  }
}

TEST_CASE("dedup: no cluster grows beyond max_cluster, the links that would are counted") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 600);
    size_t big_groups = 0;
    for (const auto& g : f.summary.duplicate_truth) big_groups += g.size() > 2 ? 1 : 0;
    REQUIRE(big_groups > 0);
    JobConfig& job = f.AddJob("dedup", "dedup");
    job.dedup.max_cluster = 2;
    auto before = f.Checksums();
    jobs::RunReport run = f.Run("dedup");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["links_over_max_cluster"].get<long long>() > 0);
    long long auto_clusters = 0;
    for (const auto& c : ClustersOf(run)) {
      CHECK(c["members"].size() <= 2);
      if (c["decision"] == "auto") ++auto_clusters;
    }
    CHECK(auto_clusters > 0);
    CHECK(run.counts.value("contacts_merged", 0LL) == auto_clusters);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto open = crm::ListReview(**db, "open");
    REQUIRE(open.ok());
    for (const auto& item : *open) CHECK(item.members.size() <= 2);
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("dedup: a user's edit between plan and apply wins, the merge waits for the next run") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 30);
    PlantPerson(f);
    JobConfig& job = f.AddJob("dedup", "dedup");
    long long item = Approve(f, "dedup", {"9001", "9002"});
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    jobs::RunContext ctx{**db, f.cfg, job, f.clock, "run-edit", false, nullptr, nullptr, item};
    jobs::DedupJob dedup;
    jobs::RunReport report;
    REQUIRE(dedup.Plan(ctx, report).ok());
    REQUIRE(report.counts["merges_planned"].get<long long>() == 1);
    {
      auto s = f.t.Session();  // a rep fills the survivor's phone after the plan
      *s << "UPDATE contacts SET phone = '030 1234567' WHERE id = 9001";
    }
    REQUIRE(dedup.Apply(ctx, report).ok());
    REQUIRE(dedup.Record(ctx, report).ok());
    CHECK(report.counts["changed_since_plan"].get<long long>() == 1);
    CHECK(report.counts["merges_applied"].get<long long>() == 0);
    CHECK(ReadContact(f, 9001).phone == "030 1234567");
    CHECK(ReadContact(f, 9002).deleted == 0);
    auto still = crm::GetReview(**db, item);
    REQUIRE(still.ok());
    CHECK((*still)->status == "approved");  // merged by the next run, on the new values
  }
}

TEST_CASE("dedup: an approved item whose contact is gone is closed stale, nothing changes") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 30);
    PlantPerson(f);
    f.AddJob("dedup", "dedup");
    long long item = Approve(f, "dedup", {"9001", "9002"});
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET deleted = 1 WHERE id = 9002";
    }
    auto before = f.Checksums();
    jobs::RunReport run = MergeNow(f, item);
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["merges_planned"].get<long long>() == 0);
    CHECK(f.Checksums() == before);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    auto closed = crm::GetReview(**db, item);
    REQUIRE(closed.ok());
    CHECK((*closed)->status == "stale");
    CHECK((*closed)->note.find("9002") != std::string::npos);
  }
}

TEST_CASE("dedup: a child conflict under on_conflict: block sends the cluster to review") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 30);
    PlantPerson(f);
    for (auto& c : f.cfg.mapping.children) {
      if (c.name == "tags") c.on_conflict = "block";
    }
    f.AddJob("dedup", "dedup");
    long long item = Approve(f, "dedup", {"9001", "9002"});
    auto before = f.Checksums();
    jobs::RunReport run = MergeNow(f, item);
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(f.Checksums() == before);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    auto closed = crm::GetReview(**db, item);
    REQUIRE(closed.ok());
    CHECK((*closed)->status == "stale");
    CHECK((*closed)->note.find("on_conflict: block") != std::string::npos);
  }
}

TEST_CASE("dedup dry run: its clusters, counts and plan are what the real run then does "
          "(the dry run plans without row text)") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 600);
    PlantPerson(f);
    JobConfig& job = f.AddJob("dedup", "dedup");
    job.dedup.sweep_cache = false;  // both runs sweep alike
    auto before = f.Checksums();

    jobs::RunReport dry = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(dry.status == "ok", dry.message);
    CHECK(f.Checksums() == before);
    const long long planned = dry.counts["merges_planned"].get<long long>();
    REQUIRE(planned > 0);
    REQUIRE(dry.counts["children_to_repoint"].get<long long>() > 0);
    const long long plan_rows = dry.details["plan"]["rows"].get<long long>();

    // Planned in batches of 3 clusters (on MariaDB each batch read ahead on a second session
    // while the one before is planned): the same report as in one batch.
    REQUIRE(dry.counts["clusters"].get<long long>() > 3 * 3);
    job.dedup.plan_batch = 3;
    jobs::RunReport small = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(small.status == "ok", small.message);
    CheckSamePlan(small, dry);

    // The limits are checked on the same plan: one row under it refuses both runs alike.
    job.max_rows = plan_rows - 1;
    jobs::RunReport dry_refused = f.Run("dedup", std::nullopt, /*dry=*/true);
    jobs::RunReport refused = f.Run("dedup");
    CHECK(dry_refused.status == "refused");
    CHECK(refused.status == "refused");
    CHECK(dry_refused.message == refused.message);
    CHECK(dry_refused.message.find(std::to_string(plan_rows) + " rows") != std::string::npos);
    CHECK(f.Checksums() == before);
    job.max_rows = 0;

    // The real run plans in small batches (read ahead on MariaDB), the dry run did in one.
    jobs::RunReport real = f.Run("dedup");
    REQUIRE_MESSAGE(real.status == "ok", real.message);
    CHECK(real.clusters == dry.clusters);
    CHECK(real.details["plan"] == dry.details["plan"]);
    for (const char* k : {"clusters", "clusters_auto", "clusters_review", "merges_blocked",
                          "changed_since_read", "merges_planned", "contacts_to_merge",
                          "children_to_repoint", "children_to_dedupe",
                          "values_without_a_free_field", "review_items"}) {
      CAPTURE(k);
      CHECK(real.counts[k] == dry.counts[k]);
    }
    // ... and it did exactly that: every planned merge applied, every planned row changed.
    CHECK(real.counts["changed_since_plan"].get<long long>() == 0);
    CHECK(real.counts["merges_applied"].get<long long>() == planned);
    CHECK(real.counts["contacts_merged"] == dry.counts["contacts_to_merge"]);
    CHECK(real.counts["rows_changed"].get<long long>() == plan_rows);
    std::map<std::string, long long> dry_by_table;
    for (const auto& [table, ops] : dry.details["plan"]["tables"].items()) {
      for (const auto& [op, n] : ops.items()) dry_by_table[table] += n.get<long long>();
    }
    CHECK(real.counts["rows_by_table"] == nlohmann::json(dry_by_table));
    // The ledger holds one entry per planned op, by table and kind as the dry run counted them.
    for (const auto& [table, ops] : dry.details["plan"]["tables"].items()) {
      for (const auto& [op, n] : ops.items()) {
        CAPTURE(table);
        CAPTURE(op);
        CHECK(Count(f, "SELECT COUNT(*) FROM crmh_ledger WHERE run_id = '" + real.run_id +
                           "' AND table_name = '" + table + "' AND op = '" + op + "'") ==
              n.get<long long>());
      }
    }
    long long repointed = 0;
    for (const char* t : {"activities", "deals", "contact_tags"}) {
      repointed += Count(f, "SELECT COUNT(*) FROM crmh_ledger WHERE run_id = '" + real.run_id +
                                "' AND table_name = '" + t + "' AND op = 'update'");
    }
    CHECK(repointed == dry.counts["children_to_repoint"].get<long long>());
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto restored = jobs::RestoreRun(**db, real.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

namespace {
// Kills `victim`'s connection from another session (MariaDB): its next statement fails as if
// the server had dropped it.
void KillConnection(const crm::DbFactory& open, crm::Db& victim) {
  long long id = 0;
  victim.sql() << "SELECT CONNECTION_ID()", soci::into(id);
  auto killer = open();
  REQUIRE(killer.ok());
  (*killer)->sql() << "KILL " + std::to_string(id);
}
}  // namespace

TEST_CASE("dedup planning: a read-ahead session that fails ends the run failed, nothing changed") {
  // On MariaDB the batches after the first are read on three more sessions (batch b on reader
  // (b - 1) % 3). Here the second reader's connection is killed before it reads: batch 1 is
  // read and planned, batch 2's read fails, and the run ends there — failed, with the read's
  // error, its readers joined, nothing written.
  for (Backend b : test::Backends()) {
    if (b != Backend::kMysql) continue;
    DemoCrm f(b, 600);
    AddBatchedDedup(f);
    auto before = f.Checksums();
    for (bool dry : {true, false}) {
      CAPTURE(dry);
      int opened = 0;
      crm::DbFactory plain = crm::MakeFactory(f.cfg);
      crm::DbFactory factory = [&]() -> Result<std::unique_ptr<crm::Db>> {
        auto s = plain();
        // 1: the run's own session, 2: the contact count beside the read, 3 to 5: the readers.
        if (s && ++opened == 4) KillConnection(plain, **s);
        return s;
      };
      jobs::RunRequest req{&f.cfg, f.cfg.FindJob("dedup"), std::nullopt, dry, &f.clock, nullptr};
      jobs::RunReport rep = jobs::ExecuteRun(req, factory);
      CHECK(opened == 5);
      CHECK(rep.status == "failed");
      CHECK(rep.exit == Exit::kDbUnreachable);
      CHECK(rep.message.find("reading merge candidates") != std::string::npos);
      CHECK(f.Checksums() == before);
    }
  }
}

TEST_CASE("dedup planning: a read-ahead session that cannot be opened means fewer readers, the "
          "same plan") {
  // The extra sessions come from the run's session factory (1: the run's own session, 2: the
  // contact count made beside the sweep's read, 3 to 5: the planning readers). When a reader
  // cannot be opened (max_connections reached, ...) the run goes on with the readers it has
  // (none: the planner reads every batch itself) and plans exactly what it plans with all.
  // Without the count's session the run's own session counts first, as before; a count session
  // that dies before it counts leaves the vectors unreserved — slower, the same result.
  for (Backend b : test::Backends()) {
    if (b != Backend::kMysql) continue;
    DemoCrm f(b, 600);
    AddBatchedDedup(f);
    auto before = f.Checksums();
    jobs::RunReport both = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(both.status == "ok", both.message);
    REQUIRE(both.counts["merges_planned"].get<long long>() > 9);  // more than three batches
    for (int fail_at : {2, 3, 4, 5, -2}) {  // -2: session 2 opens, and is killed before it counts
      CAPTURE(fail_at);
      int opened = 0;
      crm::DbFactory plain = crm::MakeFactory(f.cfg);
      crm::DbFactory factory = [&]() -> Result<std::unique_ptr<crm::Db>> {
        if (++opened == fail_at) return Error::Db("Too many connections (test)");
        auto s = plain();
        if (s && opened == -fail_at) KillConnection(plain, **s);
        return s;
      };
      jobs::RunRequest req{&f.cfg, f.cfg.FindJob("dedup"), std::nullopt, true, &f.clock, nullptr};
      jobs::RunReport rep = jobs::ExecuteRun(req, factory);
      REQUIRE_MESSAGE(rep.status == "ok", rep.message);
      // No further reader after the one that failed; the count's session is not a reader.
      CHECK(opened == (fail_at <= 2 ? 5 : fail_at));
      CheckSamePlan(rep, both);
      CHECK(f.Checksums() == before);
    }
  }
}

TEST_CASE("dedup sweep: the read-ahead ring is bounded in contacts whatever threads says") {
  CHECK(jobs::SweepReadAheadPages(2, 10000) == 4);   // the default: threads + 2
  CHECK(jobs::SweepReadAheadPages(1, 10000) == 4);   // four pages when 40,000 contacts hold them
  CHECK(jobs::SweepReadAheadPages(4, 10000) == 6);
  CHECK(jobs::SweepReadAheadPages(16, 10000) == 6);  // not 18: at most 60,000 contacts
  CHECK(jobs::SweepReadAheadPages(64, 10000) == 6);
  CHECK(jobs::SweepReadAheadPages(16, 100) == 18);   // small pages: threads + 2 fit
  CHECK(jobs::SweepReadAheadPages(2, 7) == 4);
  CHECK(jobs::SweepReadAheadPages(2, 100000) == 2);  // two pages at least
  CHECK(jobs::SweepReadAheadPages(16, 1000000) == 2);
}

TEST_CASE("dedup on the demo CRM: auto merges are true duplicates, re-runs queue nothing twice, "
          "a rejected pair never returns, restore is exact") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 600);
    JobConfig& job = f.AddJob("dedup", "dedup");
    auto before = f.Checksums();

    jobs::RunReport dry = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(dry.status == "ok", dry.message);
    CHECK(f.Checksums() == before);  // a dry run writes nothing
    REQUIRE(ClustersOf(dry).is_array());
    CHECK(ClustersOf(dry).size() > 10);
    CHECK(dry.counts["reduction_ratio"].get<double>() >= 0.9);

    // What would be merged automatically is always one planted group (precision 1); review
    // proposals may be wrong — that is what the humans are for.
    std::map<std::string, size_t> group_of;
    for (size_t g = 0; g < f.summary.duplicate_truth.size(); ++g) {
      for (const auto& id : f.summary.duplicate_truth[g]) group_of[id] = g;
    }
    long long autos = 0;
    for (const auto& c : ClustersOf(dry)) {
      CHECK(c["survivor"].is_string());
      if (c["decision"] != "auto") continue;
      ++autos;
      bool same = true;
      auto first = group_of.find(c["members"][0].get<std::string>());
      for (const auto& m : c["members"]) {
        auto it = group_of.find(m.get<std::string>());
        same = same && it != group_of.end() && first != group_of.end() && it->second == first->second;
      }
      CHECK_MESSAGE(same, "an automatic merge of contacts that are not one planted group: " << c.dump());
    }
    CHECK(autos >= static_cast<long long>(f.summary.duplicate_truth.size()) / 2);

    job.dedup.auto_merge = false;  // now: everything to review
    jobs::RunReport first = f.Run("dedup");
    REQUIRE_MESSAGE(first.status == "ok", first.message);
    CHECK(f.Checksums() == before);  // auto_merge off: nothing merged
    long long queued = first.counts["review_items_new"].get<long long>();
    CHECK(queued == first.counts["clusters"].get<long long>());
    jobs::RunReport again = f.Run("dedup");
    REQUIRE_MESSAGE(again.status == "ok", again.message);
    CHECK(again.counts["review_items_new"].get<long long>() == 0);

    auto db = crm::Open(f.cfg.database, f.cfg.state);
    auto open = crm::ListReview(**db, "open");
    REQUIRE(open.ok());
    REQUIRE(static_cast<long long>(open->size()) == queued);
    const crm::ReviewItem rejected = open->front();
    REQUIRE(crm::RejectReview(**db, rejected.id, "tester", f.clock.Now()).ok());
    jobs::RunReport third = f.Run("dedup");
    REQUIRE_MESSAGE(third.status == "ok", third.message);
    for (const auto& c : ClustersOf(third)) {
      std::set<std::string> ms;
      for (const auto& m : c["members"]) ms.insert(m.get<std::string>());
      bool both = ms.count(rejected.members[0]) && ms.count(rejected.members[1]);
      CHECK_MESSAGE(!both, "a rejected pair came back");
    }

    // Now let it merge what it is sure of.
    job.dedup.auto_merge = true;
    jobs::RunReport merge = f.Run("dedup");
    REQUIRE_MESSAGE(merge.status == "ok", merge.message);
    long long merged = merge.counts.value("contacts_merged", 0LL);
    CHECK(merged > 0);
    for (const auto& c : ClustersOf(merge)) {
      if (c["decision"] != "auto") continue;
      auto g = group_of.find(c["survivor"].get<std::string>());
      REQUIRE(g != group_of.end());
      for (const auto& m : c["members"]) {
        auto it = group_of.find(m.get<std::string>());
        CHECK((it != group_of.end() && it->second == g->second));
      }
    }
    auto restored = jobs::RestoreRun(**db, merge.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}


TEST_CASE("dedup survivor most_recent_activity: activity in a child table counts") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 30);
    {
      auto s = f.t.Session();
      // One person twice. 9101 was edited last (updated_at 2024) but nobody talked to them since;
      // 9102 has an older row but a call logged in 2025 (activities, a polymorphic child), plus a
      // newer deleted activity and a newer one of another parent type, neither of which counts.
      for (const char* row :
           {"(9101, 'Wilhelmina', 'Oyelaran-Quist', 'w.oq@quist.example', '+44 20 7946 0958', "
            "'2019-01-01 10:00:00', '2024-06-01 10:00:00')",
            "(9102, 'Wilhelmina', 'Oyelaran-Quist', 'w.oq@quist.example', '+44 20 7946 0958', "
            "'2019-02-01 10:00:00', '2020-01-01 10:00:00')"}) {
        *s << std::string("INSERT INTO contacts (id, first_name, last_name, email, phone, "
                          "created_at, updated_at) VALUES ") +
                  row;
      }
      *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, "
            "deleted) VALUES (99101, 'Contacts', 9102, 'call', 'c', '2025-03-01 09:00:00', 0)";
      *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, "
            "deleted) VALUES (99102, 'Contacts', 9101, 'call', 'gone', '2026-01-01 09:00:00', 1)";
      *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, "
            "deleted) VALUES (99103, 'Deals', 9101, 'note', 'n', '2026-01-01 09:00:00', 0)";
    }
    // Own SQL: 9102's latest live activity is newer than anything 9101 has.
    CHECK(Count(f, "SELECT COUNT(*) FROM activities WHERE parent_type = 'Contacts' AND deleted = 0 "
                   "AND parent_id = 9102 AND occurred_at > '2024-06-01 10:00:00'") == 1);
    CHECK(Count(f, "SELECT COUNT(*) FROM activities WHERE parent_type = 'Contacts' AND deleted = 0 "
                   "AND parent_id = 9101") == 0);

    auto survivor_of = [&](const std::string& rule) {
      f.cfg.jobs.clear();
      f.AddJob("dedup", "dedup").dedup.survivor = rule;
      jobs::RunReport dry = f.Run("dedup", std::nullopt, /*dry=*/true);
      REQUIRE_MESSAGE(dry.status == "ok", dry.message);
      for (const auto& c : ClustersOf(dry)) {
        for (const auto& m : c["members"]) {
          if (m == "9101") return c["survivor"].get<std::string>();
        }
      }
      return std::string("none");
    };
    CHECK(survivor_of("most_recent_activity") == "9102");  // the 2025 call wins
    CHECK(survivor_of("oldest") == "9101");
  }
}

// --- the sweep cache (jobs/dedup_cache.h): a pure optimization -------------------------------

TEST_CASE("dedup sweep cache file: records round-trip, a changed raw hash or an unknown id is a miss") {
  const auto dir = std::filesystem::temp_directory_path() / test::UniqueName("crmh_swc_");
  const std::string path = jobs::SweepCachePath(dir.string(), "nightly dedup/x");
  CHECK(std::filesystem::path(path).filename() == "dedup-nightly_dedup_x.sweep-cache");
  match::Record a;
  a.id = "42";
  a.first = "robert";
  a.first_raw_ascii = "bob";
  a.last = "a surname longer than fifteen bytes";
  a.emails = {"bob@example.com", "robert.the.second@example.org"};
  a.phones = {"4155550100"};
  a.company = "acme";
  a.street = "12 main st apt 4";
  a.city = "springfield";
  a.postcode = "sw1a1aa";
  a.region = "ca";
  a.country = "US";
  a.birthdate = "19800327";
  a.extra = {{"ssn", "123"}, {"vat", "de 1"}};
  match::Record b;
  b.id = "43";
  const std::vector<std::string> va = {"Bob", "x"}, vb = {"", ""};
  const std::vector<jobs::RawHash> hashes = {jobs::HashRawValues(va, 2), jobs::HashRawValues(vb, 2)};
  CHECK(!(hashes[0] == hashes[1]));
  // Length-prefixed values: ("ab", "") and ("a", "b") differ.
  CHECK(!(jobs::HashRawValues({"ab", ""}, 2) == jobs::HashRawValues({"a", "b"}, 2)));
  CHECK(!(jobs::HashRawValues({"", "ab"}, 2) == jobs::HashRawValues({"ab", ""}, 2)));
  CHECK(!(jobs::HashRawValues({"a", "b", ""}, 3) == jobs::HashRawValues({"a", "b"}, 2)));
  // The views the sweep hashes (one page buffer) and the strings planning re-reads agree.
  const std::string page = "Bobx";
  const std::string_view views[] = {std::string_view(page).substr(0, 3), std::string_view(page).substr(3)};
  CHECK(jobs::HashRawValues(views, 2) == hashes[0]);
  CHECK(jobs::HashRawValues(va, 1) == jobs::HashRawValues(std::vector<std::string>{"Bob"}, 1));
  REQUIRE(jobs::WriteSweepCache(path, "fp", 7, {a, b}, hashes).ok());
  CHECK(!std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
  // Contacts' normalized names and emails: readable by the service user only.
  CHECK((std::filesystem::status(path).permissions() &
         (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
        std::filesystem::perms::none);

  auto c = jobs::SweepCache::Load(path, "fp");
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  CHECK(c->size() == 2);
  CHECK(c->generation() == 7);
  uint32_t position = 99;
  auto got = c->Find("42", hashes[0], &position);
  REQUIRE(got.has_value());
  CHECK(position == 0);
  CHECK(got->id == a.id);
  CHECK(got->first == a.first);
  CHECK(got->first_raw_ascii == a.first_raw_ascii);
  CHECK(got->last == a.last);
  CHECK(got->emails == a.emails);
  CHECK(got->phones == a.phones);
  CHECK(got->company == a.company);
  CHECK(got->street == a.street);
  CHECK(got->city == a.city);
  CHECK(got->postcode == a.postcode);
  CHECK(got->region == a.region);
  CHECK(got->country == a.country);
  CHECK(got->birthdate == a.birthdate);
  CHECK(got->extra == a.extra);
  CHECK(c->Find("43", hashes[1]).has_value());
  CHECK(!c->Find("42", hashes[1]).has_value());  // the contact changed
  CHECK(!c->Find("44", hashes[1]).has_value());  // a new contact
  // A hint (where the contact is likely to be) is only looked at first: right, wrong or out of
  // range, the answer is the search's.
  for (uint32_t hint : {0u, 1u, 2u, jobs::kNotCached}) {
    CAPTURE(hint);
    position = 99;
    auto hinted = c->Find("43", hashes[1], &position, hint);
    REQUIRE(hinted.has_value());
    CHECK(position == 1);
    CHECK(hinted->id == b.id);
    CHECK(hinted->last == b.last);
    CHECK(!c->Find("42", hashes[1], nullptr, hint).has_value());  // changed, at or away from the hint
    CHECK(!c->Find("44", hashes[1], nullptr, hint).has_value());
  }
  // The index of ids is made on the first search, once, whichever thread asks first: a fresh
  // cache searched from two threads at once answers each the same.
  {
    auto fresh = jobs::SweepCache::Load(path, "fp");
    REQUIRE(fresh.ok());
    std::atomic<int> right{0};
    auto ask = [&] {
      for (int i = 0; i < 200; ++i) {
        uint32_t at = 99;
        const bool found = fresh->Find("43", hashes[1], &at).has_value() && at == 1 &&
                           !fresh->Find("44", hashes[1]).has_value() &&
                           fresh->Find("42", hashes[0], nullptr, 1).has_value();
        if (found) ++right;
      }
    };
    std::thread t1(ask), t2(ask);
    t1.join();
    t2.join();
    CHECK(right.load() == 400);
  }
  CHECK(!jobs::SweepCache::Load(path, "another fingerprint").ok());
  CHECK(!jobs::SweepCache::Load(path + ".missing", "fp").ok());
  std::filesystem::remove_all(dir);
}

// The pairs file's header (jobs/dedup_cache.cpp): magic, format, 9 u64 fields.
constexpr size_t kPairsHeaderBytes = 8 + 4 + 9 * 8;

TEST_CASE("dedup sweep cache pairs file: vectors by cached position, another generation or a "
          "corrupt block is not used") {
  const auto dir = std::filesystem::temp_directory_path() / test::UniqueName("crmh_swp_");
  const std::string path = jobs::PairsPath(jobs::SweepCachePath(dir.string(), "dedup"));
  // 200,000 pairs (4 blocks) among the positions of the last sweep: (i, i + 1) and (i, i + 2).
  match::CompareHooks::Pairs old_pairs;
  std::vector<uint64_t> old_packed;
  for (uint32_t i = 0; old_pairs.size() < 200000; ++i) {
    old_pairs.emplace_back(i, i + 1);
    old_packed.push_back(i % 4096);
    old_pairs.emplace_back(i, i + 2);
    old_packed.push_back((i + 1) % 4096);
  }
  std::vector<match::KeyMask> old_keys;
  for (size_t k = 0; k < old_pairs.size(); ++k) old_keys.push_back(static_cast<match::KeyMask>(1 + k % 2047));
  match::CandidateStats counts;
  counts.blocks_capped = 3;
  counts.largest_block = 77;
  counts.blocks_windowed = 5;
  counts.blocks_refined = 9;
  REQUIRE(jobs::WritePairsCache(path, 11, 11, 5, old_pairs, old_packed, old_keys, counts).ok());
  // The blocking's counts come back from the header, for this sweep and blocking only.
  const auto saved = jobs::PairsBlockingStats(path, 11, 11, 5);
  REQUIRE(saved.has_value());
  CHECK(saved->candidate_pairs == 200000);
  CHECK(saved->blocks_capped == 3);
  CHECK(saved->largest_block == 77);
  CHECK(saved->blocks_windowed == 5);
  CHECK(saved->blocks_refined == 9);
  CHECK_FALSE(jobs::PairsBlockingStats(path, 12, 11, 5).has_value());
  CHECK_FALSE(jobs::PairsBlockingStats(path, 11, 12, 5).has_value());
  CHECK_FALSE(jobs::PairsBlockingStats(path, 11, 11, 6).has_value());
  // This sweep: record 0 is new, the others moved up by one; pairs (j, j + 1) for all j, and
  // one (0, 2) with the new record.
  std::vector<uint32_t> position_of(100001);
  position_of[0] = jobs::kNotCached;
  for (uint32_t j = 1; j < position_of.size(); ++j) position_of[j] = j - 1;
  match::CompareHooks::Pairs pairs;
  for (uint32_t j = 0; j + 1 < position_of.size(); ++j) pairs.emplace_back(j, j + 1);
  auto fill = [&](uint64_t generation, size_t fields) {
    std::vector<uint64_t> packed(pairs.size(), match::kUnknownComparison);
    jobs::PairsFill r = jobs::FillFromPairsCache(path, generation, fields, position_of, pairs, packed);
    return std::make_pair(r, packed);
  };
  auto [ok, packed] = fill(11, 11);
  CHECK(ok.why_not == "");
  CHECK(ok.reused == static_cast<long long>(pairs.size()) - 1);
  CHECK(packed[0] == match::kUnknownComparison);  // touches the new record
  CHECK(packed[1] == 0);                           // positions (0, 1)
  CHECK(packed[5000] == 4999 % 4096);              // positions (4999, 5000)
  CHECK(packed.back() == (position_of.size() - 3) % 4096);
  CHECK(fill(12, 11).first.reused == 0);  // another sweep's pairs
  CHECK(fill(11, 12).first.reused == 0);  // another field list
  // The blocking history's pairs: those of two reused records, by their indexes now, with their
  // keys and vectors; none under other blocking options or when the records are out of order.
  {
    using Kept = std::tuple<uint32_t, uint32_t, match::KeyMask, uint64_t>;
    std::vector<Kept> got;
    auto collect = [&](const match::BlockingHistory::Kept* p, size_t count) {
      for (size_t i = 0; i < count; ++i) got.emplace_back(p[i].a, p[i].b, p[i].keys, p[i].packed);
    };
    const jobs::KeptPairs k = jobs::ForEachKeptPair(path, 11, 11, 5, position_of, collect);
    CHECK(k.why_not == "");
    CHECK(k.in_file == 200000);
    CHECK(k.given == 199997);  // positions 0..99999 are reused: not (99998, 100000), (99999, 100000/1)
    REQUIRE(got.size() == 199997);
    CHECK(got[0] == Kept{1, 2, 1, 0});  // positions (0, 1) are records (1, 2) now
    CHECK(got[1] == Kept{1, 3, 2, 1});
    CHECK(got[5001] == Kept{2501, 2503, 1 + 5001 % 2047, 2501});  // positions (2500, 2502)
    CHECK(std::is_sorted(got.begin(), got.end()));
    // After many changes (a run of kept positions between each two): the pairs of kept
    // positions, each mapped to its index now, as a table of every position maps them.
    std::vector<Kept> by_position = got;  // positions (p, q) were given as (p + 1, q + 1)
    for (Kept& x : by_position) {
      --std::get<0>(x);
      --std::get<1>(x);
    }
    std::vector<uint32_t> sparse;  // position_of
    std::vector<uint32_t> now(100000, jobs::kNotCached);
    for (uint32_t p = 0; p < 100000; ++p) {
      if (p % 300 == 5) sparse.push_back(jobs::kNotCached);  // a new contact
      if (p % 7 == 3 || p % 1000 == 998) continue;           // changed or deleted
      now[p] = static_cast<uint32_t>(sparse.size());
      sparse.push_back(p);
    }
    std::vector<Kept> want;
    for (const auto& [p, q, keys, vec] : by_position) {
      if (now[p] != jobs::kNotCached && now[q] != jobs::kNotCached) {
        want.emplace_back(now[p], now[q], keys, vec);
      }
    }
    got.clear();
    const jobs::KeptPairs many = jobs::ForEachKeptPair(path, 11, 11, 5, sparse, collect);
    CHECK(many.why_not == "");
    CHECK(many.given == static_cast<long long>(want.size()));
    CHECK(want.size() > 100000);
    CHECK(got == want);
    got.clear();
    CHECK(jobs::ForEachKeptPair(path, 11, 11, 6, position_of, collect).why_not ==
          "the pairs file is of other blocking options");
    CHECK(jobs::ForEachKeptPair(path, 12, 11, 5, position_of, collect).why_not ==
          "pairs file of another sweep, or corrupt header");
    std::vector<uint32_t> swapped = position_of;
    std::swap(swapped[10], swapped[20]);
    CHECK(jobs::ForEachKeptPair(path, 11, 11, 5, swapped, collect).why_not ==
          "the contacts are not in the last sweep's order");
    CHECK(got.empty());
  }
  // A corrupt second block: the first block's pairs are used, none after it.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kPairsHeaderBytes + 65536 * 18 + 8 + 1000);  // the header, block 0, into block 1
    f.put('\x5a');
  }
  auto [part, part_packed] = fill(11, 11);
  CHECK(part.why_not.find("block 1") != std::string::npos);
  CHECK(part.reused > 0);
  CHECK(part.reused < 40000);
  CHECK(part_packed.back() == match::kUnknownComparison);
  std::filesystem::resize_file(path, 50);
  CHECK(fill(11, 11).first.reused == 0);
  CHECK_FALSE(jobs::PairsBlockingStats(path, 11, 11, 5).has_value());  // a truncated header
  std::filesystem::remove_all(dir);
}

namespace {
// The parts of a dry run's report that are its result (not its timings or the cache's details).
std::string SweepResult(const jobs::RunReport& r) {
  nlohmann::json counts = r.counts;
  counts.erase("sweep_seconds");
  nlohmann::json out = {{"clusters", ClustersOf(r)}, {"counts", counts},
                        {"model", r.details["model"]}, {"pairs_by_key", r.details["pairs_by_key"]}};
  return out.dump(1);
}

void CorruptByte(const std::string& path, size_t at_fraction_of_1000) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const auto size = static_cast<long long>(f.tellg());
  const long long at = size * static_cast<long long>(at_fraction_of_1000) / 1000;
  f.seekg(at);
  char c = 0;
  f.get(c);
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x5a));
}
}  // namespace

TEST_CASE("dedup sweep cache: after edits, inserts and deletes the repeated sweep reports exactly "
          "what a full sweep does, a bad cache means a full sweep") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 600);
    PlantPerson(f);
    {
      auto s = f.t.Session();
      *s << "INSERT INTO contacts (id, first_name, last_name, email, created_at, updated_at) "
            "VALUES (9004, 'Anna', 'Smith', 'anna@x.com', '2024-01-01 10:00:00', "
            "'2024-01-01 10:00:00')";
    }
    JobConfig& job = f.AddJob("dedup", "dedup");
    const std::string path = jobs::SweepCachePath(f.cfg.state.directory, "dedup");
    auto before = f.Checksums();
    auto run = [&] {
      jobs::RunReport r = f.Run("dedup", std::nullopt, /*dry=*/true);
      REQUIRE_MESSAGE(r.status == "ok", r.message);
      return r;
    };
    auto cache = [](const jobs::RunReport& r) { return r.details["sweep_cache"]; };

    // First sweep: no cache yet; it is written (a dry run writes it: derived data, not the CRM).
    jobs::RunReport first = run();
    CHECK(cache(first)["used"] == false);
    CHECK(cache(first)["why_not"].get<std::string>().find("no cache file") != std::string::npos);
    CHECK(cache(first)["written"] == true);
    CHECK(cache(first)["pairs_written"] == true);
    CHECK(cache(first)["blocking"] == "full");
    CHECK(cache(first)["blocking_full_because"].get<std::string>().find("no cache file") != std::string::npos);
    CHECK(std::filesystem::exists(path));
    CHECK(f.Checksums() == before);
    const long long contacts = first.counts["contacts_read"].get<long long>();
    CHECK(cache(first)["records_prepared"].get<long long>() == contacts);

    // Unchanged: every record reused, the same result.
    jobs::RunReport same = run();
    CHECK(cache(same)["used"] == true);
    CHECK(cache(same)["records_reused"].get<long long>() == contacts);
    CHECK(cache(same)["records_prepared"].get<long long>() == 0);
    CHECK(cache(same)["pairs_reused"] == same.counts["candidate_pairs"]);
    CHECK(cache(same)["pairs_compared"].get<long long>() == 0);
    // Blocking pairs no block again: every pair and the keys that proposed it are the last's,
    // and so are the block counts (nothing is grouped: "unchanged").
    CHECK(cache(same)["blocking"] == "unchanged");
    CHECK(cache(same)["blocking_dirty_records"] == 0);
    CHECK(SweepResult(same) == SweepResult(first));
    // Nothing changed: the pairs file already holds exactly these pairs, and is not rewritten.
    CHECK(cache(first).value("pairs_unchanged", false) == false);
    CHECK(cache(same)["unchanged"] == true);
    CHECK(cache(same)["pairs_unchanged"] == true);
    CHECK(cache(same)["pairs_written"] == true);
    CHECK(!cache(same).contains("pairs_write_seconds"));

    // Edits (a planted record loses its email, another a letter of its name, a demo duplicate
    // gets another surname), inserts (a fourth record of the planted person, a stranger),
    // deletes (soft: a demo duplicate; hard: 9004, planted before the first sweep).
    REQUIRE(f.summary.duplicate_truth.size() >= 2);
    const std::string g0 = f.summary.duplicate_truth[0].back();
    const std::string g1 = f.summary.duplicate_truth[1].back();
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET email = NULL WHERE id = 9002";
      *s << "UPDATE contacts SET first_name = 'Anan' WHERE id = 9001";
      *s << "UPDATE contacts SET last_name = 'Quennell-Abernathy' WHERE id = " + g0;
      *s << "UPDATE contacts SET deleted = 1 WHERE id = " + g1;
      *s << "DELETE FROM contacts WHERE id = 9004";
      *s << "INSERT INTO contacts (id, first_name, last_name, email, phone, created_at, "
            "updated_at) VALUES (9005, 'Anna', 'Smith', 'anna@x.com', '+1 415 555 0100', "
            "'2023-01-01 10:00:00', '2023-01-01 10:00:00')";
      *s << "INSERT INTO contacts (id, first_name, last_name, email, created_at, updated_at) "
            "VALUES (9006, 'Þórunn', 'Guðmundsdóttir', 'thorunn@example.is', "
            "'2023-01-01 10:00:00', '2023-01-01 10:00:00')";
    }
    jobs::RunReport repeated = run();
    CHECK(cache(repeated)["used"] == true);
    // 3 edited + 2 inserted are prepared; the deleted ones drop out.
    CHECK(cache(repeated)["records_prepared"].get<long long>() == 5);
    CHECK(cache(repeated)["records_reused"].get<long long>() == contacts - 2 - 3);
    CHECK(repeated.counts["contacts_read"].get<long long>() == contacts - 2 + 2);
    CHECK(cache(repeated)["pairs_reused"].get<long long>() > 0);
    CHECK(cache(repeated)["pairs_compared"].get<long long>() > 0);
    CHECK(cache(repeated)["blocking"] == "incremental");  // 7 of ~600 changed
    // The demo CRM's blocks are small (all pairs before and after, or split by the given
    // initial both times): the changes make no pair of two other records, nor take one away.
    CHECK(cache(repeated)["blocking_dirty_records"].get<long long>() == 0);
    std::filesystem::remove(path);
    jobs::RunReport full = run();
    CHECK(cache(full)["used"] == false);
    CHECK(SweepResult(repeated) == SweepResult(full));
    CHECK(SweepResult(repeated) != SweepResult(first));  // the edits did change something

    // A corrupt, truncated or foreign cache: a full sweep, the same result, a fresh cache.
    REQUIRE(std::filesystem::exists(path));
    CorruptByte(path, 500);
    jobs::RunReport corrupt = run();
    CHECK(cache(corrupt)["used"] == false);
    CHECK(cache(corrupt)["why_not"].get<std::string>().find("corrupt") != std::string::npos);
    CHECK(SweepResult(corrupt) == SweepResult(full));
    CHECK(cache(run())["used"] == true);  // rewritten by the corrupt run
    // A corrupt pairs file: records reused, pairs compared, the same result.
    const std::string pairs_path = jobs::PairsPath(path);
    CorruptByte(pairs_path, 100);
    jobs::RunReport corrupt_pairs = run();
    CHECK(cache(corrupt_pairs)["used"] == true);
    CHECK(cache(corrupt_pairs)["pairs_why_not"].get<std::string>().find("corrupt") != std::string::npos);
    CHECK(SweepResult(corrupt_pairs) == SweepResult(full));
    CHECK(cache(corrupt_pairs)["blocking"] == "full");
    CHECK(cache(corrupt_pairs)["blocking_full_because"].get<std::string>().find("corrupt") != std::string::npos);
    std::filesystem::remove(pairs_path);
    jobs::RunReport no_pairs = run();
    CHECK(cache(no_pairs)["pairs_reused"] == 0);
    CHECK(SweepResult(no_pairs) == SweepResult(full));
    CHECK(cache(run())["pairs_reused"] == full.counts["candidate_pairs"]);
    CHECK(cache(corrupt_pairs).value("pairs_unchanged", false) == false);
    CHECK(cache(no_pairs).value("pairs_unchanged", false) == false);
    // The same records under other blocking options propose other pairs (a subset, then a
    // superset of the file's): the pairs file is rewritten each time, and kept once it holds them.
    const int max_block = job.dedup.max_block;
    job.dedup.max_block = 2;
    jobs::RunReport capped = run();
    CHECK(cache(capped)["unchanged"] == true);
    CHECK(capped.counts["candidate_pairs"] != full.counts["candidate_pairs"]);
    CHECK(cache(capped).value("pairs_unchanged", false) == false);
    CHECK(cache(capped)["blocking_full_because"] == "the pairs file is of other blocking options");
    CHECK(cache(run())["pairs_unchanged"] == true);
    job.dedup.max_block = max_block;
    jobs::RunReport uncapped = run();
    CHECK(cache(uncapped).value("pairs_unchanged", false) == false);
    CHECK(SweepResult(uncapped) == SweepResult(full));
    jobs::RunReport after_uncapped = run();
    CHECK(cache(after_uncapped)["pairs_unchanged"] == true);
    CHECK(cache(after_uncapped)["blocking"] == "unchanged");
    CHECK(SweepResult(after_uncapped) == SweepResult(full));
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    jobs::RunReport truncated = run();
    CHECK(cache(truncated)["used"] == false);
    CHECK(cache(truncated)["why_not"].get<std::string>().find("truncated") != std::string::npos);
    CHECK(SweepResult(truncated) == SweepResult(full));
    { std::ofstream(path, std::ios::trunc) << "not a cache"; }
    CHECK(cache(run())["used"] == false);
    // Another normalizer option: the cached records are not what this config prepares.
    job.dedup.email_provider_rules = false;
    jobs::RunReport other = run();
    CHECK(cache(other)["used"] == false);
    CHECK(cache(other)["why_not"].get<std::string>().find("fingerprint") != std::string::npos);
    CHECK(cache(run())["used"] == true);
    // Switched off: neither read nor written (and the old files are removed: see below).
    job.dedup.sweep_cache = false;
    jobs::RunReport off = run();
    CHECK(cache(off)["enabled"] == false);
    CHECK(!std::filesystem::exists(path));
  }
}

TEST_CASE("dedup sweep cache: forget deletes the cache files (they hold the contact's normalized "
          "names, emails and phones)") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 100);
    f.AddJob("dedup", "dedup");
    jobs::RunReport r = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(r.status == "ok", r.message);
    const std::string path = jobs::SweepCachePath(f.cfg.state.directory, "dedup");
    REQUIRE(std::filesystem::exists(path));
    REQUIRE(std::filesystem::exists(jobs::PairsPath(path)));
    // A temporary file left by a run that was killed while writing holds the same data.
    { std::ofstream(path + ".tmp.12345") << "partial"; }
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto stats = jobs::ForgetContact(**db, f.cfg, "1");
    REQUIRE(stats.ok());
    CHECK(stats->sweep_caches == 3);
    CHECK(!std::filesystem::exists(path));
    CHECK(!std::filesystem::exists(jobs::PairsPath(path)));
    CHECK(!std::filesystem::exists(path + ".tmp.12345"));
    // The next sweep prepares every contact again.
    jobs::RunReport again = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(again.status == "ok", again.message);
    CHECK(again.details["sweep_cache"]["used"] == false);
  }
}

namespace {
std::filesystem::perms Mode(const std::filesystem::path& p) {
  return std::filesystem::status(p).permissions() & std::filesystem::perms::mask;
}
// A pid that no process has: a child that has exited and been reaped.
pid_t DeadPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}
}  // namespace

TEST_CASE("dedup sweep cache: a new state directory is 0700 and the files 0600 whatever the umask") {
  const auto root = std::filesystem::temp_directory_path() / test::UniqueName("crmh_swm_");
  std::filesystem::create_directories(root);
  const auto open_dir = std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                        std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                        std::filesystem::perms::others_exec;
  std::filesystem::permissions(root, open_dir);
  const auto state = root / "state" / "deeper";  // neither exists yet
  const std::string path = jobs::SweepCachePath(state.string(), "dedup");
  struct UmaskGuard {  // the process's umask back whatever fails
    mode_t old;
    ~UmaskGuard() { ::umask(old); }
  } guard{::umask(0)};
  REQUIRE(jobs::WriteSweepCache(path, "fp", 1, {}, {}).ok());
  REQUIRE(jobs::WritePairsCache(jobs::PairsPath(path), 1, 11, 5, {}, {}, {}).ok());
  const auto rw = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
  CHECK(Mode(state.parent_path()) == std::filesystem::perms::owner_all);
  CHECK(Mode(state) == std::filesystem::perms::owner_all);
  CHECK(Mode(path) == rw);
  CHECK(Mode(jobs::PairsPath(path)) == rw);
  // A umask that strips the owner's write bit; and a temp file a killed writer left under the
  // pid that is now ours, readable by everyone (O_TRUNC alone would keep its mode).
  ::umask(0277);
  const std::string own_tmp = path + ".tmp." + std::to_string(::getpid());
  { std::ofstream(own_tmp) << "partial"; }
  std::filesystem::permissions(own_tmp, std::filesystem::perms::all);
  REQUIRE(jobs::WriteSweepCache(path, "fp", 2, {}, {}).ok());
  CHECK(Mode(path) == rw);
  CHECK(!std::filesystem::exists(own_tmp));
  const auto other_state = root / "other";
  const std::string other = jobs::SweepCachePath(other_state.string(), "dedup");
  REQUIRE(jobs::WriteSweepCache(other, "fp", 3, {}, {}).ok());
  CHECK(Mode(other_state) == std::filesystem::perms::owner_all);
  CHECK(Mode(other) == rw);
  // A directory that exists keeps its mode (the admin's or systemd's StateDirectoryMode).
  CHECK(Mode(root) == open_dir);
  std::filesystem::remove_all(root);
}

TEST_CASE("dedup sweep cache: temp files of a killed writer are removed, a live writer's kept") {
  const auto dir = std::filesystem::temp_directory_path() / test::UniqueName("crmh_swt_");
  std::filesystem::create_directories(dir);
  const std::string path = jobs::SweepCachePath(dir.string(), "dedup");
  const std::string pairs = jobs::PairsPath(path);
  const pid_t dead = DeadPid();
  // A live writer: a child that sleeps until it is killed.
  const pid_t live = ::fork();
  if (live == 0) {
    ::pause();
    ::_exit(0);
  }
  REQUIRE(live > 0);
  const std::string own = std::to_string(::getpid());
  auto touch = [](const std::string& p) { std::ofstream(p) << "partial"; };
  const std::string dead_records = path + ".tmp." + std::to_string(dead);
  const std::string dead_pairs = pairs + ".tmp." + std::to_string(dead);
  const std::string live_records = path + ".tmp." + std::to_string(live);
  const std::string own_old = pairs + ".tmp." + own;
  const std::string other_job = jobs::SweepCachePath(dir.string(), "other") + ".tmp." + std::to_string(dead);
  const std::string not_a_pid = path + ".tmp.12x";
  for (const auto& p : {dead_records, dead_pairs, live_records, own_old, other_job, not_a_pid}) touch(p);
  touch(path);
  touch(pairs);
  // This process's own temp file from before the run: a leftover; one from after: this run's.
  std::filesystem::last_write_time(own_old, std::filesystem::file_time_type::clock::now() -
                                               std::chrono::hours(1));
  const auto run_start = std::filesystem::file_time_type::clock::now() - std::chrono::minutes(1);
  CHECK(jobs::RemoveStaleSweepTemps(path, run_start) == 3);
  CHECK(!std::filesystem::exists(dead_records));
  CHECK(!std::filesystem::exists(dead_pairs));
  CHECK(!std::filesystem::exists(own_old));
  CHECK(std::filesystem::exists(live_records));  // may be being written right now
  CHECK(std::filesystem::exists(other_job));     // another job's: its own run cleans it
  CHECK(std::filesystem::exists(not_a_pid));
  CHECK(std::filesystem::exists(path));
  CHECK(std::filesystem::exists(pairs));
  const std::string own_new = path + ".tmp." + own;
  touch(own_new);
  CHECK(jobs::RemoveStaleSweepTemps(path, run_start) == 0);
  CHECK(std::filesystem::exists(own_new));
  ::kill(live, SIGKILL);
  ::waitpid(live, nullptr, 0);
  CHECK(jobs::RemoveStaleSweepTemps(path, run_start) == 1);  // its writer is gone now
  CHECK(!std::filesystem::exists(live_records));
  std::filesystem::remove_all(dir);
}

TEST_CASE("dedup sweep cache: a run removes a killed writer's temp files, and with sweep_cache "
          "off the job's cache files") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 100);
    JobConfig& job = f.AddJob("dedup", "dedup");
    const std::string path = jobs::SweepCachePath(f.cfg.state.directory, "dedup");
    const std::string other = jobs::SweepCachePath(f.cfg.state.directory, "another");
    std::filesystem::create_directories(f.cfg.state.directory);
    const std::string dead_tmp = path + ".tmp." + std::to_string(DeadPid());
    { std::ofstream(dead_tmp) << "partial"; }
    { std::ofstream(other) << "another job's cache"; }
    jobs::RunReport on = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(on.status == "ok", on.message);
    CHECK(on.details["sweep_cache"]["files_removed"] == 1);
    CHECK(!std::filesystem::exists(dead_tmp));
    REQUIRE(std::filesystem::exists(path));
    REQUIRE(std::filesystem::exists(jobs::PairsPath(path)));
    jobs::RunReport again = f.Run("dedup", std::nullopt, /*dry=*/true);
    CHECK(!again.details["sweep_cache"].contains("files_removed"));

    // Off: the files hold contacts' personal data that nothing will read; they go (a real run
    // and a dry run alike), another job's stay.
    job.dedup.sweep_cache = false;
    const std::string dead_pairs_tmp = jobs::PairsPath(path) + ".tmp." + std::to_string(DeadPid());
    { std::ofstream(dead_pairs_tmp) << "partial"; }
    jobs::RunReport off = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(off.status == "ok", off.message);
    CHECK(off.details["sweep_cache"]["enabled"] == false);
    CHECK(off.details["sweep_cache"]["files_removed"] == 3);
    CHECK(!std::filesystem::exists(path));
    CHECK(!std::filesystem::exists(jobs::PairsPath(path)));
    CHECK(!std::filesystem::exists(dead_pairs_tmp));
    CHECK(std::filesystem::exists(other));
    CHECK(SweepResult(off) == SweepResult(again));
    jobs::RunReport off_again = f.Run("dedup", std::nullopt, /*dry=*/true);
    CHECK(!off_again.details["sweep_cache"].contains("files_removed"));
  }
}

TEST_CASE("dedup sweep cache: a cache path that cannot be read or written never fails the run") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 100);
    f.AddJob("dedup", "dedup");
    const std::string path = jobs::SweepCachePath(f.cfg.state.directory, "dedup");
    // A directory where the cache file should be: not readable as a file, not replaceable.
    std::filesystem::create_directories(std::filesystem::path(path) / "x");
    jobs::RunReport r = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(r.status == "ok", r.message);
    CHECK(r.details["sweep_cache"]["used"] == false);
    CHECK(r.details["sweep_cache"]["written"] == false);
    std::filesystem::remove_all(path);
    jobs::RunReport ok = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(ok.status == "ok", ok.message);
    CHECK(ok.details["sweep_cache"]["written"] == true);
  }
}

TEST_CASE("dedup sweep cache: contacts that fill whole pages (the read ends on an empty page) "
          "reuse every record and every pair") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 100);
    JobConfig& job = f.AddJob("dedup", "dedup");
    jobs::RunReport first = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(first.status == "ok", first.message);
    const long long contacts = first.counts["contacts_read"].get<long long>();
    REQUIRE(contacts % 2 == 0);
    job.dedup.page_size = static_cast<int>(contacts / 2);
    jobs::RunReport again = f.Run("dedup", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(again.status == "ok", again.message);
    CHECK(again.details["sweep_cache"]["records_reused"].get<long long>() == contacts);
    CHECK(again.details["sweep_cache"]["pairs_reused"] == again.counts["candidate_pairs"]);
    CHECK(SweepResult(again) == SweepResult(first));
  }
}

TEST_CASE("dedup sweep: more pages than the read-ahead ring holds, with one or three workers, "
          "give the full sweep's result with or without a cache, and an unchanged repeated "
          "sweep keeps the cache file as it was") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 300);
    JobConfig& job = f.AddJob("dedup", "dedup");
    const std::string path = jobs::SweepCachePath(f.cfg.state.directory, "dedup");
    auto run = [&] {
      jobs::RunReport r = f.Run("dedup", std::nullopt, /*dry=*/true);
      REQUIRE_MESSAGE(r.status == "ok", r.message);
      return r;
    };
    auto bytes = [](const std::string& p) {
      std::ifstream in(p, std::ios::binary);
      return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    auto cache = [](const jobs::RunReport& r) { return r.details["sweep_cache"]; };
    jobs::RunReport first = run();  // default pages: one page, a full sweep
    CHECK(cache(first)["written"] == true);
    CHECK(!cache(first).contains("unchanged"));
    const long long contacts = first.counts["contacts_read"].get<long long>();
    // Pages of 7 contacts: many more than the ring holds (threads + 2 pages), so the reader
    // waits for the workers and reuses every slot several times.
    job.dedup.page_size = 7;
    REQUIRE(contacts / 7 > 3 * 5);
    std::string written = bytes(path);
    for (int threads : {1, 3}) {
      CAPTURE(threads);
      job.dedup.threads = threads;
      jobs::RunReport same = run();
      CHECK(cache(same)["used"] == true);
      CHECK(cache(same)["records_reused"].get<long long>() == contacts);
      CHECK(cache(same)["unchanged"] == true);
      CHECK(cache(same)["written"] == true);
      CHECK(cache(same)["pairs_reused"] == same.counts["candidate_pairs"]);
      CHECK(SweepResult(same) == SweepResult(first));
      CHECK(bytes(path) == written);  // not rewritten: the same generation, the same records
      // A missing, then a corrupt cache: every contact prepared, page by page, the same result.
      std::filesystem::remove(path);
      jobs::RunReport missing = run();
      CHECK(cache(missing)["used"] == false);
      CHECK(cache(missing)["records_prepared"].get<long long>() == contacts);
      CHECK(!cache(missing).contains("unchanged"));
      CHECK(SweepResult(missing) == SweepResult(first));
      CorruptByte(path, 500);
      jobs::RunReport corrupt = run();
      CHECK(cache(corrupt)["used"] == false);
      CHECK(cache(corrupt)["records_prepared"].get<long long>() == contacts);
      CHECK(SweepResult(corrupt) == SweepResult(first));
      // The rewritten cache, then one contact changed: the file is written again.
      jobs::RunReport reused = run();
      CHECK(cache(reused)["unchanged"] == true);
      CHECK(cache(reused)["pairs_reused"] == reused.counts["candidate_pairs"]);
      {
        auto s = f.t.Session();
        *s << "UPDATE contacts SET first_name = 'Zebedee' WHERE id = 5";
      }
      jobs::RunReport changed = run();
      CHECK(cache(changed)["records_prepared"] == 1);
      CHECK(!cache(changed).contains("unchanged"));
      {
        auto s = f.t.Session();
        *s << "UPDATE contacts SET first_name = 'Zebediah' WHERE id = 5";
      }
      jobs::RunReport back = run();
      CHECK(cache(back)["records_prepared"] == 1);
      job.dedup.page_size = 1000;
      std::filesystem::remove(path);
      jobs::RunReport full = run();
      CHECK(SweepResult(back) == SweepResult(full));
      job.dedup.page_size = 7;
      first = full;
      written = bytes(path);
    }
  }
}

TEST_CASE("dedup sweep cache pairs file: a block of another sweep's file fails its checksum") {
  const auto dir = std::filesystem::temp_directory_path() / test::UniqueName("crmh_swg_");
  const std::string path = jobs::PairsPath(jobs::SweepCachePath(dir.string(), "dedup"));
  const std::string other = path + ".other";
  // Two sweeps with the same pairs (the same layout) and different vectors.
  match::CompareHooks::Pairs pairs;
  for (uint32_t i = 0; pairs.size() < 100000; ++i) pairs.emplace_back(i, i + 1);
  std::vector<uint64_t> mine(pairs.size(), 1), theirs(pairs.size(), 2);
  const std::vector<match::KeyMask> keys(pairs.size(), 3);
  REQUIRE(jobs::WritePairsCache(path, 11, 11, 5, pairs, mine, keys).ok());
  REQUIRE(jobs::WritePairsCache(other, 12, 11, 5, pairs, theirs, keys).ok());
  // Block 1 of the other sweep's file spliced into this one's (what two writers of one file do).
  {
    std::ifstream in(other, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t block1 = kPairsHeaderBytes + 65536 * 18 + 8;
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(block1));
    f.write(all.data() + block1, static_cast<std::streamsize>(all.size() - block1));
  }
  std::vector<uint32_t> position_of(pairs.size() + 1);
  for (uint32_t j = 0; j < position_of.size(); ++j) position_of[j] = j;
  std::vector<uint64_t> packed(pairs.size(), match::kUnknownComparison);
  jobs::PairsFill r = jobs::FillFromPairsCache(path, 11, 11, position_of, pairs, packed);
  CHECK(r.why_not.find("block 1") != std::string::npos);
  CHECK(r.reused == 65536);
  CHECK(std::count(packed.begin(), packed.end(), uint64_t{2}) == 0);
  std::filesystem::remove_all(dir);
}
}  // namespace crmh
