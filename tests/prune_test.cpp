// prune (issue 5): notice → rescue → prune → restore on SQLite and MariaDB, generic and SuiteCRM
// profiles. Every expectation is read back with the test's own SQL: which contacts are deleted,
// which child rows point at a removed contact, whole-table checksums before and after restore.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "crm/notices.h"
#include "crm/state.h"
#include "demo_fixture.h"
#include "jobs/change.h"
#include "jobs/prune.h"
#include "crm/checkpoints.h"
#include "crm/ledger.h"
#include "jobs/retention.h"

namespace crmh {
namespace {

using std::chrono::days;
using test::DemoCrm;

std::set<std::string> Ids(const test::TempDb& t, const std::string& sql) {
  auto s = t.Session();
  std::set<std::string> out;
  soci::rowset<soci::row> rs = s->prepare << sql;
  for (const auto& r : rs) out.insert(crm::CellText(r, 0));
  return out;
}

long long Count(const test::TempDb& t, const std::string& sql) {
  auto s = t.Session();
  long long n = 0;
  *s << sql, soci::into(n);
  return n;
}

// The generic schema with hand-made contacts, each there for one rule. "Now" is 2026-11-23.
struct PruneCrm : DemoCrm {
  explicit PruneCrm(Backend b) : DemoCrm(b, 0) {
    auto s = t.Session();
    auto contact = [&](int id, const std::string& created, const std::string& last_contacted,
                       const std::string& status, int opt_out, int bounced, int hold, int deleted) {
      *s << "INSERT INTO contacts (id, first_name, last_name, email, status, owner_id, created_at, "
            "updated_at, last_contacted_at, email_opt_out, email_bounced, legal_hold, deleted) "
            "VALUES (" + std::to_string(id) + ", 'First" + std::to_string(id) + "', 'Last', 'c" +
                std::to_string(id) + "@example.com', '" + status + "', 1, '" + created + "', '" +
                created + "', " + (last_contacted.empty() ? "NULL" : "'" + last_contacted + "'") +
                ", " + std::to_string(opt_out) + ", " + std::to_string(bounced) + ", " +
                std::to_string(hold) + ", " + std::to_string(deleted) + ")";
    };
    const std::string old = "2023-01-10 09:00:00", stale = "2024-02-01 10:00:00";
    contact(1, old, stale, "lead", 0, 0, 0, 0);        // inactive → pruned
    contact(2, old, stale, "customer", 0, 0, 0, 0);    // protected: customer
    contact(3, old, stale, "lead", 0, 0, 1, 0);        // protected: legal hold
    contact(4, old, stale, "lead", 0, 0, 0, 0);        // protected: open deal
    contact(5, old, stale, "lead", 0, 0, 0, 0);        // protected: keep tag (keep_if)
    contact(6, old, "2026-10-01 10:00:00", "lead", 0, 0, 0, 0);  // active: stays
    contact(7, old, "2026-11-01 10:00:00", "lead", 1, 0, 0, 0);  // opted out → pruned
    contact(8, "2025-01-05 10:00:00", "", "lead", 0, 0, 0, 0);   // never contacted → pruned
    contact(9, "2026-11-10 10:00:00", "", "lead", 1, 1, 0, 0);   // protected: recently created
    contact(10, old, stale, "lead", 0, 0, 0, 0);       // rescued
    contact(11, old, stale, "lead", 0, 0, 0, 0);       // activity after the notice
    contact(12, old, stale, "lead", 0, 0, 0, 1);       // already deleted by the CRM
    contact(13, old, "2026-09-01 10:00:00", "lead", 0, 1, 0, 0);  // bounced → pruned
    // Children: contact 1 has everything, so its removal shows every policy.
    *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, "
          "created_by, deleted) VALUES (1, 'Contacts', 1, 'call', 'old call', '2024-01-15 10:00:00', "
          "1, 0), (2, 'Contacts', 1, 'note', 'deleted note', '2023-05-01 10:00:00', 1, 1), (3, "
          "'Deals', 1, 'call', 'a deal, not a contact', '2026-11-01 10:00:00', 1, 0), (4, "
          "'Contacts', 6, 'meeting', 'recent', '2026-10-02 10:00:00', 1, 0), (5, 'Contacts', 13, "
          "'email', 'bounce', '2026-09-01 10:00:00', 1, 0)";
    *s << "INSERT INTO deals (id, contact_id, name, stage, amount, created_at, deleted) VALUES "
          "(1, 1, 'lost deal', 'lost', 10.50, '2023-02-01 10:00:00', 0), (2, 4, 'open deal', "
          "'open', 99.99, '2024-01-01 10:00:00', 0)";
    *s << "INSERT INTO contact_tags (id, contact_id, tag, deleted) VALUES (1, 1, 'newsletter', 0), "
          "(2, 5, 'keep', 0), (3, 10, 'keep', 1)";
    JobConfig& j = AddJob("prune", "prune");
    PruneOptions& p = j.prune;
    p.inactive_months = 12;
    p.never_contacted_months = 6;
    p.opted_out = true;
    p.bounced = PruneCondition{"", "email_bounced", {}, {}, ""};
    p.created_within_days = 30;
    p.customer = PruneCondition{"", "status", {"customer"}, {}, ""};
    p.legal_hold = PruneCondition{"", "legal_hold", {}, {}, ""};
    p.open_deals = PruneCondition{"deals", "stage", {"open"}, {}, ""};
    p.keep_if = {PruneCondition{"tags", "tag", {"keep"}, {}, ""}};
    j.batch_size = 2;
  }
  JobConfig& Job() { return cfg.jobs.back(); }
  std::vector<crm::NoticeRow> Notices(bool open_only) {
    auto db = crm::Open(cfg.database, cfg.state);
    REQUIRE(db.ok());
    auto n = crm::ListNotices(**db, "prune", open_only);
    REQUIRE(n.ok());
    return *n;
  }
  std::map<std::string, std::string> NoticeStatus() {
    std::map<std::string, std::string> m;
    for (const auto& n : Notices(false)) m[n.contact_id] = n.status;  // newest wins
    return m;
  }
  std::set<std::string> OpenNoticeIds() {
    std::set<std::string> s;
    for (const auto& n : Notices(true)) s.insert(n.contact_id);
    return s;
  }
};

TEST_CASE("prune: months arithmetic clamps to the month's last day") {
  CHECK(FormatRfc3339(jobs::MonthsBefore(*ParseRfc3339("2026-03-31T12:00:00Z"), 1)) ==
        "2026-02-28T12:00:00Z");
  CHECK(FormatRfc3339(jobs::MonthsBefore(*ParseRfc3339("2026-11-23T06:00:00Z"), 12)) ==
        "2025-11-23T06:00:00Z");
  CHECK(FormatRfc3339(jobs::MonthsBefore(*ParseRfc3339("2026-01-15T00:00:00Z"), 2)) ==
        "2025-11-15T00:00:00Z");
}

TEST_CASE("prune: notice → rescue → activity → prune (soft delete) → restore, generic profile") {
  // Both paths of the engine's steps: CASE lists (small sets) and the temporary-table join.
  for (size_t join_above : {size_t{64}, size_t{0}}) {
  crm::ShadowTable::SetJoinThreshold(join_above);
  CAPTURE(join_above);
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    const auto at_start = f.Checksums();

    // Phase 1: notices only; no CRM row changes.
    auto first = f.Run("prune");
    REQUIRE_MESSAGE(first.status == "ok", first.message);
    CHECK(f.OpenNoticeIds() == std::set<std::string>{"1", "7", "8", "10", "11", "13"});
    CHECK(first.counts["contacts_due"].get<long long>() == 0);
    CHECK(f.Checksums() == at_start);
    for (const auto& n : f.Notices(true)) {
      CHECK(FormatRfc3339(n.prune_after) == "2026-12-07T06:00:00Z");  // 14 days
    }
    // The protections, each counted.
    CHECK(first.counts["protections"]["customer"].get<long long>() == 1);
    CHECK(first.counts["protections"]["legal_hold"].get<long long>() == 1);
    CHECK(first.counts["protections"]["open_deals"].get<long long>() == 1);
    CHECK(first.counts["protections"]["keep_if"].get<long long>() == 1);
    CHECK(first.counts["protections"]["recently_created"].get<long long>() == 1);

    // A second run a week later: notices are immature, nothing is pruned, no duplicate notice.
    f.clock.Advance(days(7));
    auto week = f.Run("prune");
    REQUIRE_MESSAGE(week.status == "ok", week.message);
    CHECK(week.counts["contacts_due"].get<long long>() == 0);
    CHECK(week.counts["notices_opened"].get<long long>() == 0);
    CHECK(f.Notices(true).size() == 6);
    CHECK(f.Checksums() == at_start);

    // A human rescues 10; contact 11 gets a call after its notice.
    {
      auto db = crm::Open(f.cfg.database, f.cfg.state);
      REQUIRE(db.ok());
      auto r = crm::RescueContact(**db, "10", "tester", f.clock.Now());
      REQUIRE(r.ok());
      CHECK(*r == 1);
      auto s = f.t.Session();
      *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, "
            "created_by, deleted) VALUES (6, 'Contacts', 11, 'call', 'answered!', "
            "'2026-12-01 10:00:00', 1, 0)";
    }
    f.clock.Advance(days(8));  // 15 days after the notices
    const auto before = f.Checksums();

    // A dry run writes nothing (not even notices) and shows the plan.
    const size_t notices_before = f.Notices(false).size();
    auto dry = f.Run("prune", std::nullopt, /*dry=*/true);
    REQUIRE_MESSAGE(dry.status == "ok", dry.message);
    CHECK(dry.counts["contacts_due"].get<long long>() == 4);
    CHECK(dry.details["plan"]["tables"]["contacts"]["soft_delete"].get<long long>() == 4);
    CHECK(f.Checksums() == before);
    CHECK(f.Notices(false).size() == notices_before);
    CHECK(f.OpenNoticeIds() == std::set<std::string>{"1", "7", "8", "11", "13"});

    auto run = f.Run("prune");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["contacts_pruned"].get<long long>() == 4);
    CHECK(Ids(f.t, "SELECT id FROM contacts WHERE deleted = 1") ==
          std::set<std::string>{"1", "7", "8", "12", "13"});
    // Soft delete: the contact's live child rows go with it, other children are untouched; the
    // live activity of contact 1's soft-deleted deal (3, a second-level row) is soft-deleted too.
    CHECK(Ids(f.t, "SELECT id FROM activities WHERE deleted = 1") ==
          std::set<std::string>{"1", "2", "3", "5"});
    CHECK(Count(f.t, "SELECT deleted FROM deals WHERE id = 1") == 1);
    CHECK(Count(f.t, "SELECT deleted FROM contact_tags WHERE id = 1") == 1);
    // No live child row points at a removed contact.
    CHECK(Count(f.t, "SELECT COUNT(*) FROM activities a JOIN contacts c ON c.id = a.parent_id "
                     "WHERE a.parent_type = 'Contacts' AND a.deleted = 0 AND c.deleted = 1") == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM deals d JOIN contacts c ON c.id = d.contact_id WHERE "
                     "d.deleted = 0 AND c.deleted = 1") == 0);
    // The modified-by convention.
    CHECK(Count(f.t, "SELECT modified_by FROM contacts WHERE id = 1") ==
          std::stoll(f.cfg.system_user));
    auto status = f.NoticeStatus();
    CHECK(status["1"] == "pruned");
    CHECK(status["7"] == "pruned");
    CHECK(status["8"] == "pruned");
    CHECK(status["13"] == "pruned");
    CHECK(status["10"] == "rescued");
    CHECK(status["11"] == "activity");
    CHECK(f.Notices(true).empty());

    // Restore: every table back to its checksum before the prune.
    {
      auto db = crm::Open(f.cfg.database, f.cfg.state);
      REQUIRE(db.ok());
      auto restored = jobs::RestoreRun(**db, run.run_id, {});
      REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    }
    CHECK(f.Checksums() == before);

    // Restored contacts still qualify, but without a notice they are not pruned again: they get
    // a new one. The rescued contact gets none.
    auto again = f.Run("prune");
    REQUIRE_MESSAGE(again.status == "ok", again.message);
    CHECK(again.counts["contacts_due"].get<long long>() == 0);
    CHECK(f.Checksums() == before);
    CHECK(f.OpenNoticeIds() == std::set<std::string>{"1", "7", "8", "13"});
  }
  }
  crm::ShadowTable::SetJoinThreshold(64);
}

TEST_CASE("prune: hard delete with a blocking child policy leaves no orphans and restores exactly") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().prune.action = "delete";
    // Contacts 1 (a live tag), 5 (keep) and 10 (a soft-deleted tag, which a hard delete would
    // orphan) are blocked.
    f.Job().prune.children["tags"] = "block";
    auto first = f.Run("prune");
    REQUIRE_MESSAGE(first.status == "ok", first.message);
    CHECK(f.OpenNoticeIds() == std::set<std::string>{"7", "8", "11", "13"});
    CHECK(first.counts["protections"]["blocked_by_tags"].get<long long>() == 3);
    f.clock.Advance(days(14));
    const auto before = f.Checksums();
    auto run = f.Run("prune");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["contacts_pruned"].get<long long>() == 4);
    CHECK(Ids(f.t, "SELECT id FROM contacts") ==
          std::set<std::string>{"1", "2", "3", "4", "5", "6", "9", "10", "12"});
    for (const char* orphans :
         {"SELECT COUNT(*) FROM activities a WHERE a.parent_type = 'Contacts' AND NOT EXISTS "
          "(SELECT 1 FROM contacts c WHERE c.id = a.parent_id)",
          "SELECT COUNT(*) FROM deals d WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = "
          "d.contact_id)",
          "SELECT COUNT(*) FROM contact_tags x WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE "
          "c.id = x.contact_id)"}) {
      CAPTURE(orphans);
      CHECK(Count(f.t, orphans) == 0);
    }
    CHECK(Count(f.t, "SELECT COUNT(*) FROM activities WHERE id = 3") == 1);  // a deal's activity
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("prune: limits refuse (exit 4) and change nothing, a dry run is refused the same way") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().max_rows = 3;  // 6 contacts + their child rows would be due
    REQUIRE(f.Run("prune").status == "ok");  // notices only
    f.clock.Advance(days(15));
    const auto before = f.Checksums();
    auto dry = f.Run("prune", std::nullopt, true);
    CHECK(dry.status == "refused");
    CHECK(dry.exit == Exit::kRefused);
    auto run = f.Run("prune");
    CHECK(run.status == "refused");
    CHECK(run.exit == Exit::kRefused);
    CHECK(run.message.find("max_rows") != std::string::npos);
    CHECK(f.Checksums() == before);
    CHECK(f.Notices(true).size() == 6);  // nobody pruned, every notice still open
    f.Job().max_rows = 0;
    f.Job().max_fraction = 0.2;  // 6 of 13 contacts is 46%
    auto frac = f.Run("prune");
    CHECK(frac.exit == Exit::kRefused);
    CHECK(frac.message.find("max_fraction") != std::string::npos);
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("prune: a protected contact is never pruned, whatever its notice says") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    REQUIRE(f.Run("prune").status == "ok");
    REQUIRE(f.OpenNoticeIds().count("1"));
    // After the notice, contact 1 becomes a customer and contact 7 gets a legal hold.
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET status = 'customer' WHERE id = 1";
      *s << "UPDATE contacts SET legal_hold = 1 WHERE id = 7";
    }
    f.clock.Advance(days(30));
    auto run = f.Run("prune");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(Count(f.t, "SELECT deleted FROM contacts WHERE id = 1") == 0);
    CHECK(Count(f.t, "SELECT deleted FROM contacts WHERE id = 7") == 0);
    for (const std::string id : {"2", "3", "4", "5", "6", "9"}) {  // never qualified
      CAPTURE(id);
      CHECK(Count(f.t, "SELECT deleted FROM contacts WHERE id = " + id) == 0);
    }
    auto status = f.NoticeStatus();
    CHECK(status["1"] == "cleared");
    CHECK(status["7"] == "cleared");
    CHECK(status["8"] == "pruned");
    CHECK(status["10"] == "pruned");  // nobody rescued it here
    // Data-protection erasure takes the contact's notices too.
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto forgot = jobs::ForgetContact(**db, f.cfg, "8");
    if (!forgot.ok()) FAIL(forgot.error().message);
    CHECK(forgot->notices == 1);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_notices WHERE contact_id = '8'") == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_notices WHERE contact_id = '1'") == 1);
  }
}

// Without an inactivity criterion the scan does not compute every contact's latest activity;
// it reads it afterwards only for contacts with a reason or an open notice. The outcome must be
// the one of a scan that reads it for all: a contact with activity after its notice leaves the
// list ("activity"), whether it still qualifies or not.
TEST_CASE("prune: activity after the notice closes it also when no inactivity criterion is "
          "configured (the scan reads activity only where it decides)") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    std::map<int, std::map<std::string, std::string>> status;  // by inactive_months
    std::map<int, std::set<std::string>> pruned, last_activity;
    for (int inactive_months : {0, 1200}) {
      CAPTURE(inactive_months);
      PruneCrm f(b);
      PruneOptions& p = f.Job().prune;
      p.inactive_months = inactive_months;  // 1200: reads every contact's activity, none inactive
      p.never_contacted_months = 0;
      {
        auto s = f.t.Session();
        const std::string cols =
            "INSERT INTO contacts (id, first_name, last_name, status, owner_id, created_at, "
            "updated_at, last_contacted_at, email_opt_out, email_bounced, legal_hold, deleted) "
            "VALUES ";
        *s << cols + "(14, 'F14', 'L', 'lead', 1, '2023-01-10 09:00:00', '2023-01-10 09:00:00', "
                     "'2024-02-01 10:00:00', 1, 0, 0, 0), (15, 'F15', 'L', 'lead', 1, '2023-01-10 "
                     "09:00:00', '2023-01-10 09:00:00', NULL, 1, 0, 0, 0)";
      }
      auto first = f.Run("prune");
      REQUIRE_MESSAGE(first.status == "ok", first.message);
      // Opted out: 7, 14, 15; bounced: 13; 9 has both but is protected (recently created).
      CHECK(f.OpenNoticeIds() == std::set<std::string>{"7", "13", "14", "15"});
      const long long scanned = first.counts["contacts_scanned"].get<long long>();
      if (inactive_months == 0) {
        CHECK(first.counts["activity_read"].get<long long>() == 5);  // 7, 9, 13, 14, 15
      } else {
        CHECK(first.counts["activity_read"].get<long long>() == scanned);
      }
      for (const auto& n : f.Notices(true)) {
        last_activity[inactive_months].insert(n.contact_id + "=" + n.last_activity);
      }
      // After the notices: 7 (still opted out) gets a call, 14 stops opting out and is called
      // (last_contacted_at), 15 stops opting out without activity; 13 stays as it was.
      {
        auto s = f.t.Session();
        *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, "
              "created_by, deleted) VALUES (7, 'Contacts', 7, 'call', 'answered', "
              "'2026-11-25 10:00:00', 1, 0)";
        *s << "UPDATE contacts SET email_opt_out = 0, last_contacted_at = '2026-11-26 10:00:00' "
              "WHERE id = 14";
        *s << "UPDATE contacts SET email_opt_out = 0 WHERE id = 15";
      }
      f.clock.Advance(days(15));
      auto run = f.Run("prune");
      REQUIRE_MESSAGE(run.status == "ok", run.message);
      if (inactive_months == 0) {
        // 7 and 13 (reasons) and 14, 15 (open notices): not the other contacts.
        CHECK(run.counts["activity_read"].get<long long>() == 5);
        CHECK(run.counts["activity_read"].get<long long>() < run.counts["contacts_scanned"].get<long long>());
      }
      CHECK(run.counts["notices_closing"]["activity"].get<long long>() == 2);
      CHECK(run.counts["notices_closing"]["cleared"].get<long long>() == 1);
      status[inactive_months] = f.NoticeStatus();
      pruned[inactive_months] = Ids(f.t, "SELECT id FROM contacts WHERE deleted = 1");
      CHECK(status[inactive_months]["7"] == "activity");
      CHECK(status[inactive_months]["14"] == "activity");
      CHECK(status[inactive_months]["15"] == "cleared");
      CHECK(status[inactive_months]["13"] == "pruned");
      CHECK(pruned[inactive_months] == std::set<std::string>{"12", "13"});
    }
    CHECK(status[0] == status[1200]);
    CHECK(pruned[0] == pruned[1200]);
    CHECK(last_activity[0] == last_activity[1200]);
    CHECK(last_activity[0].count("7=2026-11-01 10:00:00"));
    CHECK(last_activity[0].count("13=2026-09-01 10:00:00"));
  }
}

TEST_CASE("prune: a mapping without the named child or column is a config error (exit 2)") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().prune.keep_if.push_back(PruneCondition{"", "vip_flag", {}, {}, "x.yaml:9:7"});
    auto run = f.Run("prune");
    CHECK(run.exit == Exit::kUsage);
    CHECK(run.message.find("x.yaml:9:7") != std::string::npos);
    CHECK(run.message.find("contacts.vip_flag") != std::string::npos);
    f.Job().prune.keep_if.back() = PruneCondition{"invoices", "", {}, {}, "x.yaml:9:7"};
    run = f.Run("prune");
    CHECK(run.exit == Exit::kUsage);
    CHECK(run.message.find("child 'invoices'") != std::string::npos);
    CHECK(f.Notices(false).empty());
  }
}

TEST_CASE("prune: options parse from YAML, mistakes name file:line:column") {
  const std::string head =
      "database: {backend: sqlite, path: /tmp/x.db}\njobs:\n  p:\n    kind: prune\n";
  auto ok = ParseConfig(head +
                            "    options:\n"
                            "      action: delete\n"
                            "      notice_days: 7\n"
                            "      criteria: {inactive_months: 6, opted_out: true, bounced: "
                            "{column: email_bounced}}\n"
                            "      protect:\n"
                            "        created_within_days: 30\n"
                            "        customer: {column: status, in: [customer]}\n"
                            "        open_deals: {child: deals, column: stage, in: [open]}\n"
                            "        keep_if:\n"
                            "          - {child: tags, column: tag, in: [keep]}\n"
                            "          - {column: status, not_in: [lead, former]}\n"
                            "      children: {tags: block, deals: detach}\n",
                        "t.yaml");
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  const PruneOptions& p = ok->jobs[0].prune;
  CHECK(p.action == "delete");
  CHECK(p.notice_days == 7);
  CHECK(p.inactive_months == 6);
  CHECK(p.opted_out);
  REQUIRE(p.bounced);
  CHECK(p.bounced->column == "email_bounced");
  CHECK(p.created_within_days == 30);
  REQUIRE(p.open_deals);
  CHECK(p.open_deals->child == "deals");
  REQUIRE(p.keep_if.size() == 2);
  CHECK(p.keep_if[1].not_in == std::vector<std::string>{"lead", "former"});
  CHECK(p.children.at("tags") == "block");
  CHECK(p.children.at("deals") == "detach");

  struct Bad {
    std::string yaml, want;
  };
  const Bad bad[] = {
      {"    options: {notice_days: 7}\n", "needs at least one criterion"},
      {"    options: {criteria: {inactive_month: 6}}\n", "did you mean 'inactive_months'"},
      {"    options: {action: purge, criteria: {opted_out: true}}\n", "'action' must be one of"},
      {"    options: {action: delete, criteria: {opted_out: true}, children: {tags: keep}}\n",
       "orphaned"},
      {"    options: {criteria: {opted_out: true}, protect: {keep_if: [{column: 'x;drop'}]}}\n",
       "not a valid table/column name"},
      {"    options: {criteria: {opted_out: true}, protect: {customer: {in: [x]}}}\n",
       "needs a column"},
  };
  for (const auto& c : bad) {
    CAPTURE(c.yaml);
    auto r = ParseConfig(head + c.yaml, "t.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().exit == Exit::kUsage);
    CHECK(r.error().message.find(c.want) != std::string::npos);
    CHECK(r.error().message.rfind("t.yaml:", 0) == 0);
  }
}

// Every row of `table` matching `where`, as exact row text over the live table's columns, sorted;
// from `from` (the table itself, or its archive — same columns plus our own keys).
std::vector<std::string> RowTexts(const test::TempDb& t, const std::string& table,
                                  const std::string& from, const std::string& where) {
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
  std::vector<std::string> out;
  soci::rowset<std::string> rs = s->prepare << "SELECT " + expr + " FROM " + from + " WHERE " + where;
  for (const auto& r : rs) out.push_back(r);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("prune archive: rows move into archive tables equal to the originals, restore puts them "
          "back exactly, forget and retention erase them") {
  // Both paths of the engine's steps: CASE lists (small sets) and the temporary-table join.
  for (size_t join_above : {size_t{64}, size_t{0}}) {
  crm::ShadowTable::SetJoinThreshold(join_above);
  CAPTURE(join_above);
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().prune.action = "archive";
    REQUIRE(f.Run("prune").status == "ok");
    f.clock.Advance(days(15));
    const std::string gone_ids = "1, 7, 8, 10, 11, 13";
    // The rows an archive takes, by our own SQL: the contacts, every row of their children (a
    // hard removal takes soft-deleted child rows too).
    const std::map<std::string, std::string> where = {
        {"contacts", "id IN (" + gone_ids + ")"},
        {"activities", "(parent_type = 'Contacts' AND parent_id IN (" + gone_ids + ")) OR "
                       "(parent_type = 'Deals' AND parent_id IN (SELECT id FROM deals WHERE "
                       "contact_id IN (" + gone_ids + ")))"},
        {"deals", "contact_id IN (" + gone_ids + ")"},
        {"contact_tags", "contact_id IN (" + gone_ids + ")"}};
    std::map<std::string, std::vector<std::string>> originals;
    for (const auto& [table, w] : where) originals[table] = RowTexts(f.t, table, table, w);
    CHECK(originals["activities"].size() == 4);   // 1, 2 (soft-deleted), 5 and deal 1's 3
    CHECK(originals["contact_tags"].size() == 2);  // 1 and 3 (soft-deleted)
    const auto before = f.Checksums();

    auto run = f.Run("prune");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["contacts_pruned"].get<long long>() == 6);
    CHECK(Ids(f.t, "SELECT id FROM contacts") ==
          std::set<std::string>{"2", "3", "4", "5", "6", "9", "12"});
    for (const auto& [table, w] : where) {
      CAPTURE(table);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM " + table + " WHERE " + w) == 0);
      CHECK(RowTexts(f.t, table, "crmh_ar_" + table, "1 = 1") == originals[table]);
      // One archived row per ledger row of the op, stamped with the run.
      CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_" + table + " WHERE crmh_run_id = '" +
                           run.run_id + "'") ==
            Count(f.t, "SELECT COUNT(*) FROM crmh_ledger WHERE op = 'archive' AND table_name = '" +
                           table + "' AND run_id = '" + run.run_id + "'"));
    }
    CHECK(Count(f.t, "SELECT COUNT(*) FROM activities WHERE id = 3") == 0);  // deal 1's, archived
    CHECK(f.NoticeStatus()["1"] == "pruned");
    // The archived row is the before-image: no second copy in the shadow tables.
    for (const auto& [table, w] : where) {
      CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_bk_" + table + " WHERE crmh_run_id = '" +
                           run.run_id + "'") == 0);
    }

    // Restore: the CRM back to its checksums, the archive empty again.
    {
      auto db = crm::Open(f.cfg.database, f.cfg.state);
      REQUIRE(db.ok());
      auto restored = jobs::RestoreRun(**db, run.run_id, {});
      REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    }
    CHECK(f.Checksums() == before);
    for (const auto& [table, w] : where) {
      CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_" + table) == 0);
    }

    // Archive again (a new notice first), then erase contact 1 and let retention purge the rest.
    REQUIRE(f.Run("prune").status == "ok");
    f.clock.Advance(days(15));
    auto second = f.Run("prune");
    REQUIRE_MESSAGE(second.status == "ok", second.message);
    CHECK(second.counts["contacts_pruned"].get<long long>() == 6);
    const long long archived = Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contacts") +
                               Count(f.t, "SELECT COUNT(*) FROM crmh_ar_activities") +
                               Count(f.t, "SELECT COUNT(*) FROM crmh_ar_deals") +
                               Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contact_tags");
    CHECK(archived == 6 + 4 + 1 + 2);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    // Contact 1's ledger rows (its own, activities 1 and 2, deal 1, tag 1) go with its archive.
    const std::string ones =
        "SELECT COUNT(*) FROM crmh_ledger WHERE run_id = '" + second.run_id + "' AND ((table_name "
        "= 'contacts' AND row_id = '1') OR (table_name = 'activities' AND row_id IN ('1', '2')) "
        "OR (table_name IN ('deals', 'contact_tags') AND row_id = '1'))";
    CHECK(Count(f.t, ones) == 5);
    auto forgot = jobs::ForgetContact(**db, f.cfg, "1");
    if (!forgot.ok()) FAIL(forgot.error().message);
    CHECK(forgot->archived == 1 + 2 + 1 + 1);  // contact 1, activities 1 and 2, deal 1, tag 1
    CHECK(Count(f.t, ones) == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contacts WHERE id = 1") == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_activities WHERE parent_type = 'Contacts' AND "
                     "parent_id = 1") == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contacts WHERE id = 7") == 1);
    // Retention: nothing is older than 30 days yet; 31 days later everything is. An archived
    // row is its run's before-image: it stays while its run's ledger does, however old.
    {
      auto s = f.t.Session();
      *s << "UPDATE crmh_ar_contacts SET crmh_archived_at = '2000-01-01 00:00:00' WHERE id = 7";
    }
    auto kept = jobs::PurgeOlderThan(**db, f.cfg, f.clock.Now() - days(30));
    REQUIRE(kept.ok());
    CHECK(kept->archived == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contacts WHERE id = 7") == 1);
    auto purged = jobs::PurgeOlderThan(**db, f.cfg, f.clock.Now() + days(1));
    REQUIRE(purged.ok());
    CHECK(purged->archived == archived - 5);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contacts") == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_activities") == 0);
  }
  }
  crm::ShadowTable::SetJoinThreshold(64);
}

TEST_CASE("prune archive: a row changed between plan and apply skips its set, byte for byte "
          "(trailing space, NULL vs empty), nothing archived") {
  for (size_t join_above : {size_t{64}, size_t{0}}) {
    crm::ShadowTable::SetJoinThreshold(join_above);
    CAPTURE(join_above);
    for (Backend b : test::Backends()) {
      CAPTURE(test::Name(b));
      PruneCrm f(b);
      f.Job().prune.action = "archive";
      f.Job().batch_size = 1;
      REQUIRE(f.Run("prune").status == "ok");
      f.clock.Advance(days(15));
      auto db = crm::Open(f.cfg.database, f.cfg.state);
      REQUIRE(db.ok());
      jobs::PruneJob job;
      jobs::RunContext ctx{**db, f.cfg, f.Job(), f.clock, "run-edited"};
      jobs::RunReport report;
      REQUIRE(job.Plan(ctx, report).ok());
      CHECK(report.counts["contacts_due"].get<long long>() == 6);
      {
        // Edits a case-insensitive, PAD SPACE collation calls equal, and NULL → ''.
        auto s = f.t.Session();
        *s << "UPDATE activities SET subject = 'old call ' WHERE id = 1";  // contact 1's child
        *s << "UPDATE contacts SET email2 = '' WHERE id = 8";             // was NULL
      }
      Status applied = job.Apply(ctx, report);
      REQUIRE_MESSAGE(applied.ok(), (applied.ok() ? "" : applied.error().message));
      CHECK(report.counts["changed_since_plan"].get<long long>() == 2);
      CHECK(report.counts["contacts_pruned"].get<long long>() == 4);
      CHECK(Ids(f.t, "SELECT id FROM contacts WHERE id IN (1, 7, 8, 10, 11, 13)") ==
            std::set<std::string>{"1", "8"});
      CHECK(Count(f.t, "SELECT COUNT(*) FROM activities WHERE id = 1 AND subject = 'old call '") ==
            1);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM activities WHERE id = 2") == 1);
      CHECK(Ids(f.t, "SELECT id FROM crmh_ar_contacts") ==
            std::set<std::string>{"7", "10", "11", "13"});
      CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_activities WHERE id IN (1, 2)") == 0);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ledger WHERE table_name = 'contacts' AND "
                       "row_id IN ('1', '8')") == 0);
      // The next run plans them again from the rows as they are now.
      auto next = f.Run("prune");
      REQUIRE_MESSAGE(next.status == "ok", next.message);
      CHECK(next.counts["contacts_pruned"].get<long long>() == 2);
      CHECK(RowTexts(f.t, "activities", "crmh_ar_activities", "id = 1")[0].find("'old call '") !=
            std::string::npos);
    }
  }
  crm::ShadowTable::SetJoinThreshold(64);
}

TEST_CASE("prune archive: a run whose images are also in the shadow tables (made before the "
          "archive held them) restores exactly, once") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().prune.action = "archive";
    REQUIRE(f.Run("prune").status == "ok");
    f.clock.Advance(days(15));
    const auto before = f.Checksums();
    auto run = f.Run("prune");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    REQUIRE(run.counts["contacts_pruned"].get<long long>() == 6);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    // What the engine wrote before: the before-image in the shadow table and a copy of it in
    // the archive.
    for (const std::string table : {"contacts", "activities", "deals", "contact_tags"}) {
      auto cols = crm::OrderedColumns(**db, table);
      REQUIRE(cols.ok());
      std::string list;
      for (const auto& c : *cols) list += ", " + (*db)->Q(c);
      auto s = f.t.Session();
      *s << "INSERT INTO crmh_bk_" + table + " (crmh_run_id, crmh_set, crmh_op, crmh_image" + list +
                ") SELECT crmh_run_id, crmh_set, crmh_op, 'b'" + list + " FROM crmh_ar_" + table;
      CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_bk_" + table) ==
            Count(f.t, "SELECT COUNT(*) FROM crmh_ar_" + table));
    }
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(restored->rows_restored == run.counts["rows_changed"].get<long long>());
    CHECK(f.Checksums() == before);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contacts") == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_activities") == 0);
  }
}

TEST_CASE("prune pacing: max_runtime stops after N sets, the next run resumes from the checkpoint") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().batch_size = 1;
    f.Job().prune.sleep = 10;  // seconds after each set, on the fake clock
    f.Job().prune.max_runtime = std::chrono::seconds(25);
    REQUIRE(f.Run("prune").status == "ok");
    f.clock.Advance(days(15));
    const auto slept_before = f.clock.slept();
    // Sets at t = 0, 10, 20; at 30 the run is over its 25 s.
    auto first = f.Run("prune");
    REQUIRE_MESSAGE(first.status == "ok", first.message);
    CHECK(first.counts["contacts_due"].get<long long>() == 6);
    CHECK(first.counts["change_sets_applied"].get<long long>() == 3);
    CHECK(first.counts["stopped"].get<std::string>() == "max_runtime");
    CHECK(first.counts["pacing"]["slept_seconds"].get<double>() == 30);
    CHECK(f.clock.slept() - slept_before == std::chrono::seconds(30));
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto cp = crm::ReadCheckpoint(**db, first.run_id);
    REQUIRE(cp.ok());
    REQUIRE(cp->has_value());
    CHECK((*cp)->status == "stopped");
    CHECK((*cp)->items_done == 3);
    CHECK((*cp)->sets_done == 3);
    const auto done_first = Ids(f.t, "SELECT row_id FROM crmh_ledger WHERE table_name = 'contacts' "
                                     "AND run_id = '" + first.run_id + "'");
    CHECK(done_first.size() == 3);
    CHECK((*cp)->last_key == *std::max_element(done_first.begin(), done_first.end(),
                                               [](const auto& x, const auto& y) {
                                                 return std::stoll(x) < std::stoll(y);
                                               }));
    // The next run takes over: the other three, nothing twice.
    auto second = f.Run("prune");
    REQUIRE_MESSAGE(second.status == "ok", second.message);
    REQUIRE(second.details.contains("resumed_from"));
    CHECK(second.details["resumed_from"][0]["run_id"].get<std::string>() == first.run_id);
    CHECK(second.details["resumed_from"][0]["contacts_done"].get<long long>() == 3);
    CHECK(second.counts["contacts_pruned"].get<long long>() == 3);
    CHECK_FALSE(second.counts.contains("stopped"));
    const auto done_second = Ids(f.t, "SELECT row_id FROM crmh_ledger WHERE table_name = "
                                      "'contacts' AND run_id = '" + second.run_id + "'");
    std::set<std::string> all = done_first;
    all.insert(done_second.begin(), done_second.end());
    CHECK(all.size() == 6);
    CHECK(all == std::set<std::string>{"1", "7", "8", "10", "11", "13"});
    cp = crm::ReadCheckpoint(**db, first.run_id);
    REQUIRE(cp.ok());
    CHECK((*cp)->status == "resumed");
    cp = crm::ReadCheckpoint(**db, second.run_id);
    REQUIRE(cp.ok());
    CHECK((*cp)->status == "done");
    for (const auto& [id, st] : f.NoticeStatus()) {
      if (all.count(id)) CHECK(st == "pruned");
    }
  }
}

TEST_CASE("prune: two connections prune exactly what one does, checkpoint and notices exact, restore exact") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    auto before = f.Checksums();
    f.Job().batch_size = 1;
    f.Job().prune.connections = 2;  // MariaDB: two sets at a time; SQLite: one writer
    f.Job().prune.action = "archive";
    REQUIRE(f.Run("prune").status == "ok");
    f.clock.Advance(days(15));
    auto run = f.Run("prune");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(run.counts["change_sets_applied"].get<long long>() == 6);
    CHECK(run.counts["contacts_pruned"].get<long long>() == 6);
    CHECK(run.counts["changed_since_plan"].get<long long>() == 0);
    CHECK(run.counts.value("connections", 1) == (b == Backend::kMysql ? 2 : 1));
    const std::set<std::string> pruned{"1", "7", "8", "10", "11", "13"};
    CHECK(Ids(f.t, "SELECT row_id FROM crmh_ledger WHERE table_name = 'contacts' AND run_id = '" +
                       run.run_id + "'") == pruned);
    CHECK(Ids(f.t, "SELECT CAST(id AS CHAR) FROM crmh_ar_contacts") == pruned);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM contacts WHERE id IN (1, 7, 8, 10, 11, 13)") == 0);
    CHECK(Count(f.t, "SELECT COUNT(*) FROM activities WHERE parent_type = 'Contacts' AND parent_id "
                     "IN (1, 7, 8, 10, 11, 13)") == 0);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto cp = crm::ReadCheckpoint(**db, run.run_id);
    REQUIRE(cp.ok());
    REQUIRE(cp->has_value());
    CHECK((*cp)->status == "done");
    CHECK((*cp)->sets_done == 6);
    CHECK((*cp)->items_done == 6);
    for (const auto& [id, st] : f.NoticeStatus()) CHECK(st == (pruned.count(id) ? "pruned" : "open"));
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("prune pacing: a Threads_running limit throttles (MariaDB) and is reported, SQLite "
          "ignores it") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().prune.max_threads_running = 0;  // at least our own thread always runs
    f.Job().prune.max_runtime = std::chrono::seconds(5);
    f.Job().prune.throttle_check = std::chrono::seconds(1);
    REQUIRE(f.Run("prune").status == "ok");
    f.clock.Advance(days(15));
    const auto before = f.Checksums();
    auto run = f.Run("prune");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    if (b == Backend::kMysql) {
      CHECK(run.counts["change_sets_applied"].get<long long>() == 0);
      CHECK(run.counts["stopped"].get<std::string>() == "max_runtime");
      CHECK(run.counts["pacing"]["throttled"]["threads_running"].get<long long>() == 5);
      CHECK(run.counts["pacing"]["threads_running_last"].get<long long>() >= 1);
      CHECK(f.Checksums() == before);
      CHECK(f.OpenNoticeIds().size() == 6);
      // A limit above what the server runs lets it through.
      f.Job().prune.max_threads_running = 10000;
      auto open = f.Run("prune");
      REQUIRE_MESSAGE(open.status == "ok", open.message);
      CHECK(open.counts["contacts_pruned"].get<long long>() == 6);
      CHECK(open.counts["pacing"]["throttled"].empty());
    } else {
      CHECK(run.counts["contacts_pruned"].get<long long>() == 6);
      CHECK(run.counts["pacing"]["throttled"].empty());
    }
  }
}

TEST_CASE("prune: a keep tag or a rescue between plan and apply skips the set (checked inside "
          "its transaction)") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().batch_size = 1;
    REQUIRE(f.Run("prune").status == "ok");
    f.clock.Advance(days(15));
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    jobs::PruneJob job;
    jobs::RunContext ctx{**db, f.cfg, f.Job(), f.clock, "run-between"};
    jobs::RunReport report;
    REQUIRE(job.Plan(ctx, report).ok());
    CHECK(report.counts["contacts_due"].get<long long>() == 6);
    {
      auto s = f.t.Session();
      *s << "INSERT INTO contact_tags (id, contact_id, tag, deleted) VALUES (10, 1, 'keep', 0)";
    }
    auto rescued = crm::RescueContact(**db, "7", "tester", f.clock.Now());
    REQUIRE(rescued.ok());
    Status applied = job.Apply(ctx, report);
    REQUIRE_MESSAGE(applied.ok(), (applied.ok() ? "" : applied.error().message));
    CHECK(report.counts["sets_skipped"]["protected_since_plan"].get<long long>() == 1);
    CHECK(report.counts["sets_skipped"]["notice_closed_since_plan"].get<long long>() == 1);
    CHECK(report.counts["contacts_pruned"].get<long long>() == 4);
    CHECK(Count(f.t, "SELECT deleted FROM contacts WHERE id = 1") == 0);
    CHECK(Count(f.t, "SELECT deleted FROM contacts WHERE id = 7") == 0);
    CHECK(Ids(f.t, "SELECT id FROM contacts WHERE deleted = 1") ==
          std::set<std::string>{"8", "10", "11", "12", "13"});
    // The next run closes 1's notice as cleared (it is protected now).
    auto next = f.Run("prune");
    REQUIRE_MESSAGE(next.status == "ok", next.message);
    CHECK(f.NoticeStatus()["1"] == "cleared");
    CHECK(f.NoticeStatus()["7"] == "rescued");
  }
}

// --- Second level: rows that point at a child the prune removes (issue 5). Orphans are counted
// with the test's own SQL over every reference of the schema.
long long GenericOrphans(const test::TempDb& t, bool hard) {
  if (hard) {
    return Count(t, "SELECT COUNT(*) FROM activities a WHERE (a.parent_type = 'Contacts' AND NOT "
                    "EXISTS (SELECT 1 FROM contacts c WHERE c.id = a.parent_id)) OR (a.parent_type "
                    "= 'Deals' AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.id = a.parent_id))") +
           Count(t, "SELECT COUNT(*) FROM deals d WHERE NOT EXISTS (SELECT 1 FROM contacts c "
                    "WHERE c.id = d.contact_id)") +
           Count(t, "SELECT COUNT(*) FROM contact_tags x WHERE NOT EXISTS (SELECT 1 FROM contacts "
                    "c WHERE c.id = x.contact_id)");
  }
  // Soft delete: no live row under a deleted one.
  return Count(t, "SELECT COUNT(*) FROM activities a JOIN deals d ON d.id = a.parent_id WHERE "
                  "a.parent_type = 'Deals' AND a.deleted = 0 AND d.deleted = 1") +
         Count(t, "SELECT COUNT(*) FROM activities a JOIN contacts c ON c.id = a.parent_id WHERE "
                  "a.parent_type = 'Contacts' AND a.deleted = 0 AND c.deleted = 1") +
         Count(t, "SELECT COUNT(*) FROM deals d JOIN contacts c ON c.id = d.contact_id WHERE "
                  "d.deleted = 0 AND c.deleted = 1");
}

TEST_CASE("prune second level: a deal's activities go with the deal (delete, archive, soft "
          "delete), no orphans, restore exact") {
  for (const std::string action : {"delete", "archive", "soft_delete"}) {
    for (Backend b : test::Backends()) {
      CAPTURE(test::Name(b));
      CAPTURE(action);
      PruneCrm f(b);
      f.Job().prune.action = action;
      {
        auto s = f.t.Session();
        // Contact 7 (opted out, pruned) gets a deal with a live and a soft-deleted activity;
        // contact 4's open deal (protected) gets one that must stay; an Accounts activity whose
        // parent_id collides with deal 1's id must stay too.
        *s << "INSERT INTO deals (id, contact_id, name, stage, amount, created_at, deleted) VALUES "
              "(3, 7, 'old deal', 'lost', 1.00, '2023-03-01 10:00:00', 0)";
        *s << "INSERT INTO activities (id, parent_type, parent_id, kind, subject, occurred_at, "
              "created_by, deleted) VALUES (7, 'Deals', 3, 'call', 'deal call', "
              "'2024-01-01 10:00:00', 1, 0), (8, 'Deals', 3, 'note', 'deleted deal note', "
              "'2024-01-02 10:00:00', 1, 1), (9, 'Deals', 2, 'call', 'open deal call', "
              "'2024-02-01 10:00:00', 1, 0), (10, 'Accounts', 1, 'call', 'an account', "
              "'2024-02-01 10:00:00', 1, 0)";
      }
      REQUIRE(f.Run("prune").status == "ok");  // notices
      f.clock.Advance(days(15));
      const bool hard = action != "soft_delete";
      // What must leave, by our own SQL: deal rows of the pruned contacts and their activities.
      const std::string due = "1, 7, 8, 10, 11, 13";
      const std::string deal_acts =
          "parent_type = 'Deals' AND parent_id IN (SELECT id FROM deals WHERE contact_id IN (" +
          due + "))";
      const auto deal_act_rows = RowTexts(f.t, "activities", "activities", deal_acts);
      REQUIRE(deal_act_rows.size() == 3);  // 3, 7, 8
      REQUIRE(GenericOrphans(f.t, hard) == 0);
      const auto before = f.Checksums();
      auto run = f.Run("prune");
      REQUIRE_MESSAGE(run.status == "ok", run.message);
      CHECK(run.counts["contacts_pruned"].get<long long>() == 6);
      CHECK(GenericOrphans(f.t, hard) == 0);
      if (hard) {
        CHECK(Ids(f.t, "SELECT id FROM activities WHERE parent_type = 'Deals' OR parent_type = "
                       "'Accounts'") == std::set<std::string>{"9", "10"});
        CHECK(run.counts["child_rows_planned"]["deal_activities"].get<long long>() == 3);
      } else {
        // Live ones soft-deleted (8 was already); 9 and 10 untouched.
        CHECK(Ids(f.t, "SELECT id FROM activities WHERE deleted = 1 AND parent_type <> "
                       "'Contacts'") == std::set<std::string>{"3", "7", "8"});
        CHECK(Count(f.t, "SELECT COUNT(*) FROM activities WHERE id IN (9, 10) AND deleted = 0") ==
              2);
        CHECK(run.counts["child_rows_planned"]["deal_activities"].get<long long>() == 2);
      }
      if (action == "archive") {
        CHECK(RowTexts(f.t, "activities", "crmh_ar_activities", "parent_type = 'Deals'") ==
              deal_act_rows);
      }
      auto db = crm::Open(f.cfg.database, f.cfg.state);
      REQUIRE(db.ok());
      auto restored = jobs::RestoreRun(**db, run.run_id, {});
      REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
      CHECK(f.Checksums() == before);
      if (action == "archive") CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_activities") == 0);
    }
  }
}

TEST_CASE("prune second level: block on a grandchild keeps the contact, keep under a removed "
          "parent is refused") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().prune.action = "delete";
    // block: contact 1's deal has activity 3, so contact 1 is kept (with its deal).
    f.Job().prune.children["deal_activities"] = "block";
    auto first = f.Run("prune");
    REQUIRE_MESSAGE(first.status == "ok", first.message);
    CHECK(first.counts["protections"]["blocked_by_deal_activities"].get<long long>() == 1);
    CHECK(f.OpenNoticeIds().count("1") == 0);
    // keep: the activity would point at a removed deal — refused (exit 2), nothing changes.
    f.Job().prune.children["deal_activities"] = "keep";
    const auto before = f.Checksums();
    auto kept = f.Run("prune");
    CHECK(kept.exit == Exit::kUsage);
    CHECK(kept.message.find("deal_activities") != std::string::npos);
    CHECK(kept.message.find("orphaned") != std::string::npos);
    CHECK(f.Checksums() == before);
  }
}

TEST_CASE("prune second level: a foreign key onto a removed table that the mapping does not "
          "name is refused (exit 2), mapped it is followed and restored") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    PruneCrm f(b);
    f.Job().prune.action = "delete";
    {
      auto s = f.t.Session();
      if (b == Backend::kMysql) {
        *s << "CREATE TABLE deal_files (id BIGINT NOT NULL PRIMARY KEY, deal_id BIGINT NOT NULL, "
              "name VARCHAR(100), FOREIGN KEY (deal_id) REFERENCES deals (id)) ENGINE=InnoDB";
      } else {
        *s << "CREATE TABLE deal_files (id INTEGER PRIMARY KEY, deal_id INTEGER NOT NULL "
              "REFERENCES deals (id), name TEXT)";
      }
      *s << "INSERT INTO deal_files (id, deal_id, name) VALUES (1, 1, 'contract.pdf'), (2, 2, "
            "'offer.pdf')";
    }
    const auto at_start = f.Checksums();
    const std::string files_at_start = test::TableChecksum(f.t, "deal_files", "id");
    auto refused = f.Run("prune");
    CHECK(refused.exit == Exit::kUsage);
    CHECK(refused.message.find("deal_files.deal_id references deals") != std::string::npos);
    CHECK(f.Notices(false).empty());
    CHECK(f.Checksums() == at_start);
    // soft_delete keeps the deal rows: nothing would be orphaned, nothing is refused.
    f.Job().prune.action = "soft_delete";
    auto dry = f.Run("prune", std::nullopt, /*dry=*/true);
    CHECK_MESSAGE(dry.status == "ok", dry.message);
    f.Job().prune.action = "delete";
    // Mapped as a grandchild of deals: followed.
    ChildRef files{"deal_files", "deal_files", "deal_id", "", "", "id", "", {}};
    files.parent = "deals";
    f.cfg.mapping.grandchildren.push_back(files);
    REQUIRE(f.Run("prune").status == "ok");
    f.clock.Advance(days(15));
    const auto before = f.Checksums();
    const std::string files_before = test::TableChecksum(f.t, "deal_files", "id");
    CHECK(files_before == files_at_start);
    auto run = f.Run("prune");
    REQUIRE_MESSAGE(run.status == "ok", run.message);
    CHECK(Ids(f.t, "SELECT id FROM deal_files") == std::set<std::string>{"2"});
    CHECK(Count(f.t, "SELECT COUNT(*) FROM deal_files x WHERE NOT EXISTS (SELECT 1 FROM deals d "
                     "WHERE d.id = x.deal_id)") == 0);
    CHECK(GenericOrphans(f.t, true) == 0);
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto restored = jobs::RestoreRun(**db, run.run_id, {});
    REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
    CHECK(f.Checksums() == before);
    CHECK(test::TableChecksum(f.t, "deal_files", "id") == files_before);
  }
}

TEST_CASE("prune second level: grandchildren parse from YAML, an unknown parent or a cycle is "
          "an error") {
  const std::string head = "database: {backend: sqlite, path: /tmp/x.db}\nmapping:\n";
  auto ok = ParseConfig(head +
                            "  grandchildren:\n"
                            "    - {name: deal_files, table: deal_files, column: deal_id, parent: "
                            "deals}\n"
                            "    - {name: file_pages, table: pages, column: file_id, parent: "
                            "deal_files, optional: true}\n",
                        "t.yaml");
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  REQUIRE(ok->mapping.grandchildren.size() == 2);
  CHECK(ok->mapping.grandchildren[1].parent == "deal_files");
  CHECK(ok->mapping.grandchildren[1].optional);
  // The generic profile's own: a deal's activities.
  auto profile = ParseConfig(head + "  profile: generic\n", "t.yaml");
  REQUIRE(profile.ok());
  REQUIRE(profile->mapping.grandchildren.size() == 1);
  CHECK(profile->mapping.grandchildren[0].type_value == "Deals");
  // Redefined children without deals: the profile's deal_activities goes with them.
  auto own = ParseConfig(head + "  children:\n    - {name: activities, table: activities, column: "
                                "parent_id, type_column: parent_type, type_value: Contacts}\n",
                         "t.yaml");
  REQUIRE_MESSAGE(own.ok(), (own.ok() ? "" : own.error().message));
  CHECK(own->mapping.grandchildren.empty());
  CHECK_FALSE(own->mapping.children[0].optional);
  // A child reference may be optional too (left out where the table is missing).
  auto opt = ParseConfig(head + "  children:\n    - {name: activities, table: activities, "
                                "column: contact_id, optional: true}\n",
                         "t.yaml");
  REQUIRE_MESSAGE(opt.ok(), (opt.ok() ? "" : opt.error().message));
  CHECK(opt->mapping.children[0].optional);
  struct Bad {
    std::string yaml, want;
  };
  const Bad bad[] = {
      {"  grandchildren:\n    - {name: x, table: x, column: y, parent: invoices}\n",
       "names parent 'invoices'"},
      {"  grandchildren:\n    - {name: a, table: x, column: y, parent: b}\n"
       "    - {name: b, table: x, column: y, parent: a}\n",
       "cycle"},
      {"  grandchildren:\n    - {name: deals, table: x, column: y, parent: deals}\n",
       "used twice"},
      {"  grandchildren:\n    - {name: a, table: x, column: y, parent: deals}\n"
       "    - {name: b, table: x, column: y, parent: a}\n"
       "    - {name: c, table: x, column: y, parent: b}\n"
       "    - {name: d, table: x, column: y, parent: c}\n",
       "nests more than 4 levels"},
      {"  grandchildren:\n    - {name: a, table: x, column: y}\n", "parent"},
  };
  for (const auto& c : bad) {
    CAPTURE(c.yaml);
    auto r = ParseConfig(head + c.yaml, "t.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().exit == Exit::kUsage);
    CHECK(r.error().message.find(c.want) != std::string::npos);
  }
}

// --- SuiteCRM 7: UUID ids, contacts_cstm, activities through calls/meetings/notes, the email
// opt-out on the shared email_addresses row.
struct SuiteCrm {
  explicit SuiteCrm(Backend b) : t(b) {
    test::LoadSuiteCrmFixture(t);
    cfg.database = t.database();
    cfg.instance_id = "test";
    cfg.system_user = "c0ffee00-0000-4000-8000-00000000c1ea";
    cfg.mapping = *BuiltinProfile("suitecrm");
    state_dir = std::filesystem::temp_directory_path() / test::UniqueName("crmh_state_");
    cfg.state.directory = state_dir.string();
    JobConfig j;
    j.name = "prune";
    j.kind = "prune";
    j.max_rows = 0;
    j.max_fraction = 0;
    j.batch_size = 1;
    j.prune.inactive_months = 12;
    j.prune.never_contacted_months = 6;
    j.prune.opted_out = true;
    j.prune.keep_if = {PruneCondition{"accounts", "", {}, {}, ""}};  // linked to an account
    j.prune.children = {{"calls", "detach"},
                        {"meetings", "detach"},
                        {"notes", "detach"},
                        {"notes_contact", "detach"}};
    cfg.jobs.push_back(j);
  }
  ~SuiteCrm() {
    std::error_code ec;
    std::filesystem::remove_all(state_dir, ec);
  }
  std::map<std::string, std::string> Checksums() {
    return test::SuiteCrmChecksums(t, extra_tables);
  }
  jobs::RunReport Run() {
    jobs::RunRequest req{&cfg, &cfg.jobs[0], std::nullopt, false, &clock, nullptr};
    return jobs::ExecuteRun(req, crm::MakeFactory(cfg));
  }
  test::TempDb t;
  Config cfg;
  std::filesystem::path state_dir;
  std::vector<std::string> extra_tables;  // checksummed too (AddSuiteCrmRelations)
  FakeClock clock{*ParseRfc3339("2026-11-23T06:00:00Z")};
};

TEST_CASE("prune suitecrm: UUID contacts, contacts_cstm and relation rows go together, restore "
          "is exact") {
  const std::string kNguyen = "0a1b2c3d-0000-4000-8000-000000000001";  // has an account: kept
  const std::string kJohn = "0a1b2c3d-0000-4000-8000-000000000002";    // opted out, a call, cstm
  const std::string kFatemeh = "0a1b2c3d-0000-4000-8000-000000000003";  // a note in 2025-09
  const std::string kClean = "0a1b2c3d-0000-4000-8000-000000000005";    // never contacted
  for (const char* action : {"delete", "soft_delete", "archive"}) {
    for (Backend b : test::Backends()) {
      CAPTURE(test::Name(b));
      CAPTURE(action);
      SuiteCrm f(b);
      f.cfg.jobs[0].prune.action = action;
      // John also has a document, a security group, a task (parent and contact) and a note
      // about an account whose contact he is.
      f.extra_tables = test::AddSuiteCrmRelations(f.t, kJohn);
      const auto at_start = f.Checksums();
      auto first = f.Run();
      REQUIRE_MESSAGE(first.status == "ok", first.message);
      CHECK(f.Checksums() == at_start);
      std::map<std::string, std::string> reasons;
      {
        auto db = crm::Open(f.cfg.database, f.cfg.state);
        REQUIRE(db.ok());
        auto notices = crm::ListNotices(**db, "prune", true);
        REQUIRE(notices.ok());
        for (const auto& n : *notices) reasons[n.contact_id] = n.reasons;
      }
      // John's call (2025-10-01) is older than 12 months; the opt-out lives on email_addresses.
      CHECK(reasons == std::map<std::string, std::string>{{kJohn, "inactive,opted_out"},
                                                          {kFatemeh, "inactive"},
                                                          {kClean, "never_contacted"}});
      f.clock.Advance(days(14));
      const auto before = f.Checksums();
      auto run = f.Run();
      REQUIRE_MESSAGE(run.status == "ok", run.message);
      CHECK(run.counts["contacts_pruned"].get<long long>() == 3);
      CHECK(run.counts["change_sets_applied"].get<long long>() == 3);  // batch_size 1
      const bool hard = std::string(action) != "soft_delete";
      const std::string live = hard ? "" : " WHERE deleted = 0";
      CHECK(Ids(f.t, "SELECT id FROM contacts" + live) ==
            (hard
                 ? std::set<std::string>{kNguyen, "0a1b2c3d-0000-4000-8000-000000000004"}
                 : std::set<std::string>{kNguyen}));
      // The call is detached from John, not deleted; his relation rows are gone (or deleted).
      CHECK(Count(f.t, "SELECT COUNT(*) FROM calls WHERE parent_id IS NULL") == 1);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM calls_contacts" + live) == 0);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM email_addr_bean_rel" + live) == 1);
      // Nothing points at a pruned contact any more: the optional relation rows went with it
      // (soft-deleted by soft_delete), the other module's security-group row stayed; notes and
      // the account note were detached on both of their links.
      const std::string pruned = "('" + kJohn + "', '" + kFatemeh + "', '" + kClean + "')";
      CHECK(Count(f.t, "SELECT COUNT(*) FROM documents_contacts WHERE contact_id IN " + pruned +
                           (hard ? "" : " AND deleted = 0")) == 0);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM securitygroups_records WHERE module = 'Contacts' AND "
                       "record_id IN " + pruned + (hard ? "" : " AND deleted = 0")) == 0);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM securitygroups_records WHERE module = 'Accounts'") == 1);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM tasks WHERE (parent_id IN " + pruned +
                           " OR contact_id IN " + pruned + ")" + (hard ? "" : " AND deleted = 0")) == 0);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM notes WHERE parent_id IN " + pruned +
                           " OR contact_id IN " + pruned) == 0);
      CHECK(Count(f.t, "SELECT COUNT(*) FROM notes") == 2);  // detached, not removed
      if (std::string(action) == "archive") {
        // The three contacts, their relation rows and John's contacts_cstm row, in the archive.
        CHECK(Ids(f.t, "SELECT id FROM crmh_ar_contacts") ==
              std::set<std::string>{kJohn, kFatemeh, kClean});
        CHECK(Ids(f.t, "SELECT id_c FROM crmh_ar_contacts_cstm") ==
              std::set<std::string>{kJohn});
        CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_calls_contacts") ==
              Count(f.t, "SELECT COUNT(*) FROM crmh_ledger WHERE table_name = 'calls_contacts' AND "
                         "op = 'archive'"));
        // The archived rows are the before-images: none in the shadow tables.
        CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_bk_contacts") == 0);
        CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_bk_contacts_cstm") == 0);
      }
      if (hard) {
        // No orphans: the extension rows of removed contacts are gone too.
        CHECK(Count(f.t, "SELECT COUNT(*) FROM contacts_cstm x WHERE NOT EXISTS (SELECT 1 FROM "
                         "contacts c WHERE c.id = x.id_c)") == 0);
        CHECK(Ids(f.t, "SELECT id_c FROM contacts_cstm") == std::set<std::string>{kNguyen});
      } else {
        CHECK(Count(f.t, "SELECT COUNT(*) FROM contacts_cstm") == 2);  // kept with the row
        CHECK(Count(f.t, "SELECT COUNT(*) FROM contacts WHERE deleted = 1 AND modified_user_id = "
                         "'c0ffee00-0000-4000-8000-00000000c1ea'") == 3);
      }
      auto db = crm::Open(f.cfg.database, f.cfg.state);
      REQUIRE(db.ok());
      auto restored = jobs::RestoreRun(**db, run.run_id, {});
      REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
      CHECK(f.Checksums() == before);
      if (std::string(action) == "archive") {
        CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contacts") == 0);
        CHECK(Count(f.t, "SELECT COUNT(*) FROM crmh_ar_contacts_cstm") == 0);
      }
    }
  }
}

// Nguyen (kept: an account) was invited to John's (pruned) call; a note hangs on the call; a
// meeting of John's has Nguyen as invitee: rows reached from two contacts and two levels.
void AddCallInvitees(SuiteCrm& f) {
  const std::string kNguyen = "0a1b2c3d-0000-4000-8000-000000000001";
  const std::string kJohn = "0a1b2c3d-0000-4000-8000-000000000002";
  const std::string kCall = "ca000000-0000-4000-8000-000000000001";  // John's (parent) call
  auto s = f.t.Session();
  *s << "INSERT INTO calls_contacts (id, call_id, contact_id, deleted) VALUES "
        "('cc000000-0000-4000-8000-000000000002', '" + kCall + "', '" + kNguyen + "', 0)";
  *s << "INSERT INTO notes (id, name, date_entered, parent_type, parent_id, deleted) VALUES "
        "('n0000000-0000-4000-8000-000000000002', 'Call minutes', '2025-10-01 10:00:00', "
        "'Calls', '" + kCall + "', 0)";
  *s << "INSERT INTO meetings (id, name, date_entered, date_start, parent_type, parent_id, "
        "deleted) VALUES ('me000000-0000-4000-8000-000000000001', 'Demo', "
        "'2025-09-01 10:00:00', '2025-09-02 10:00:00', 'Contacts', '" + kJohn + "', 0)";
  *s << "INSERT INTO meetings_contacts (id, meeting_id, contact_id, deleted) VALUES "
        "('mc000000-0000-4000-8000-000000000001', 'me000000-0000-4000-8000-000000000001', '" +
        kNguyen + "', 0)";
}

TEST_CASE("prune suitecrm second level: a call's invitees and notes go with the call, no orphans, "
          "restore exact") {
  for (const std::string action : {"delete", "archive", "soft_delete"}) {
    for (Backend b : test::Backends()) {
      CAPTURE(test::Name(b));
      CAPTURE(action);
      SuiteCrm f(b);
      f.cfg.jobs[0].prune.action = action;
      f.cfg.jobs[0].prune.children.clear();  // calls, meetings, notes: delete with the contact
      AddCallInvitees(f);
      const bool hard = action != "soft_delete";
      // Every reference of the fixture, counted with our own SQL: rows (live rows, for a soft
      // delete) pointing at a missing (deleted) row.
      auto orphans = [&] {
        struct Ref {
          const char *table, *column, *parent, *type;
        };
        const Ref refs[] = {{"calls", "parent_id", "contacts", "Contacts"},
                            {"meetings", "parent_id", "contacts", "Contacts"},
                            {"notes", "parent_id", "contacts", "Contacts"},
                            {"notes", "parent_id", "calls", "Calls"},
                            {"notes", "parent_id", "meetings", "Meetings"},
                            {"calls_contacts", "call_id", "calls", nullptr},
                            {"calls_contacts", "contact_id", "contacts", nullptr},
                            {"meetings_contacts", "meeting_id", "meetings", nullptr},
                            {"meetings_contacts", "contact_id", "contacts", nullptr},
                            {"accounts_contacts", "contact_id", "contacts", nullptr},
                            {"opportunities_contacts", "contact_id", "contacts", nullptr},
                            {"email_addr_bean_rel", "bean_id", "contacts", "Contacts"}};
        long long n = 0;
        for (const auto& r : refs) {
          std::string type = r.type ? std::string(" AND x.") +
                                          (std::string(r.table) == "email_addr_bean_rel"
                                               ? "bean_module"
                                               : "parent_type") +
                                          " = '" + r.type + "'"
                                    : "";
          std::string sql =
              hard ? fmt::format("SELECT COUNT(*) FROM {} x WHERE x.{} IS NOT NULL{} AND NOT "
                                 "EXISTS (SELECT 1 FROM {} p WHERE p.id = x.{})",
                                 r.table, r.column, type, r.parent, r.column)
                   : fmt::format("SELECT COUNT(*) FROM {} x JOIN {} p ON p.id = x.{} WHERE "
                                 "x.deleted = 0 AND p.deleted = 1{}",
                                 r.table, r.parent, r.column, type);
          const long long k = Count(f.t, sql);
          if (k != 0) MESSAGE(sql << " → " << k);
          n += k;
        }
        return n + Count(f.t, "SELECT COUNT(*) FROM contacts_cstm x WHERE NOT EXISTS (SELECT 1 "
                              "FROM contacts c WHERE c.id = x.id_c)");
      };
      REQUIRE(f.Run().status == "ok");
      f.clock.Advance(days(14));
      const long long orphans_before = orphans();  // soft delete: contact 4 is already deleted
      const auto before = f.Checksums();
      auto run = f.Run();
      REQUIRE_MESSAGE(run.status == "ok", run.message);
      CHECK(run.counts["contacts_pruned"].get<long long>() == 3);
      CHECK(orphans() == orphans_before);
      if (hard) {
        CHECK(Count(f.t, "SELECT COUNT(*) FROM calls") == 0);
        CHECK(Count(f.t, "SELECT COUNT(*) FROM calls_contacts") == 0);  // Nguyen's invite too
        CHECK(Count(f.t, "SELECT COUNT(*) FROM meetings_contacts") == 0);
        CHECK(Count(f.t, "SELECT COUNT(*) FROM notes WHERE parent_type = 'Calls'") == 0);
      } else {
        CHECK(Count(f.t, "SELECT COUNT(*) FROM calls_contacts WHERE deleted = 0") == 0);
        CHECK(Count(f.t, "SELECT COUNT(*) FROM meetings_contacts WHERE deleted = 0") == 0);
        CHECK(Count(f.t, "SELECT deleted FROM notes WHERE parent_type = 'Calls'") == 1);
      }
      if (action == "archive") {
        CHECK(Ids(f.t, "SELECT id FROM crmh_ar_calls_contacts") ==
              std::set<std::string>{"cc000000-0000-4000-8000-000000000001",
                                    "cc000000-0000-4000-8000-000000000002"});
        CHECK(Ids(f.t, "SELECT id FROM crmh_ar_notes WHERE parent_type = 'Calls'") ==
              std::set<std::string>{"n0000000-0000-4000-8000-000000000002"});
      }
      auto db = crm::Open(f.cfg.database, f.cfg.state);
      REQUIRE(db.ok());
      auto restored = jobs::RestoreRun(**db, run.run_id, {});
      REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().message));
      CHECK(f.Checksums() == before);
    }
  }
}

// With several connections planning reads ahead on all of them (the first-level rows of later
// sets while a set is built); the plan must be exactly the one a single connection makes: the
// same rows in the same sets and order, a row two sets reach planned once. Checked on the
// SuiteCRM second-level fixture (rows reached from two contacts and through calls/meetings).
TEST_CASE("prune suitecrm: two connections plan exactly the sets and rows one connection plans") {
  for (const std::string action : {"delete", "soft_delete"}) {
    for (Backend b : test::Backends()) {
      CAPTURE(test::Name(b));
      CAPTURE(action);
      std::vector<std::string> ledgers[2];
      std::map<std::string, std::string> after[2];
      std::string plans[2];
      for (int conns : {1, 2}) {
        SuiteCrm f(b);
        f.cfg.jobs[0].prune.action = action;
        f.cfg.jobs[0].prune.children.clear();  // calls, meetings, notes: delete with the contact
        f.cfg.jobs[0].prune.connections = conns;
        AddCallInvitees(f);
        REQUIRE(f.Run().status == "ok");
        f.clock.Advance(days(14));
        auto run = f.Run();
        REQUIRE_MESSAGE(run.status == "ok", run.message);
        CHECK(run.counts["contacts_pruned"].get<long long>() == 3);
        plans[conns - 1] = run.details["plan"].dump() + run.counts["child_rows_planned"].dump();
        auto s = f.t.Session();
        soci::rowset<soci::row> rs = (s->prepare << "SELECT set_no, op_no, table_name, row_id, op, "
                                                    "label FROM crmh_ledger WHERE run_id = '" +
                                                        run.run_id + "' ORDER BY set_no, op_no");
        for (const auto& r : rs) {
          ledgers[conns - 1].push_back(fmt::format(
              "{} {} {} {} {} {}", crm::CellInt(r, 0), crm::CellInt(r, 1), crm::CellText(r, 2),
              crm::CellText(r, 3), crm::CellText(r, 4), crm::CellText(r, 5)));
        }
        after[conns - 1] = f.Checksums();
      }
      CHECK(ledgers[0].size() > 6);
      CHECK(ledgers[0] == ledgers[1]);
      CHECK(plans[0] == plans[1]);
      CHECK(after[0] == after[1]);
    }
  }
}

}  // namespace
}  // namespace crmh
