// `prune`: remove stale and unresponsive contacts — announced first, in batches, undoable.
//
// Every run does both phases (docs/prune.md):
//   read: every live contact with its latest activity (mapping.activity: contact columns and
//         max over child references, polymorphic links included), the criteria (inactive,
//         never contacted, opted out, bounced, invalid email) and the protections (customer,
//         legal hold, open deals, recently created, keep_if, a `block` child) as SQL the
//         server evaluates — structured conditions from the YAML, never raw SQL.
//   notice: a qualifying contact without an open notice gets one (crm/notices.h) dated
//         now + notice_days; an open notice closes when the contact shows activity after it
//         (`activity`), stops qualifying or becomes protected (`cleared`) or left the CRM
//         (`gone`); `crm-hygiene rescue` closes it as `rescued`.
//   prune: only contacts whose open notice is at least notice_days old and that still qualify,
//         batch_size contacts per change set (jobs/change.h): child rows by per-reference policy
//         (delete with the contact, detach, block, keep), the rows pointing at removed child rows
//         (mapping.grandchildren, same policies, deepest first), the extension row (SuiteCRM
//         contacts_cstm) with a hard delete, then the contact — no orphans: a live foreign key
//         onto a removed table that the mapping does not name refuses the run (exit 2).
//         No notice, no prune.
// A dry run writes nothing (not even notices) and reports what each phase would do; the limits
// (max_rows, max_fraction) refuse it as they would refuse the real run.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "jobs/change.h"
#include "jobs/job.h"

namespace crmh::jobs {

// What `check` and every run verify first: the tables/columns the job's options name exist
// (Error::Config, exit 2, naming the YAML line), and — with `grants` — the session may UPDATE
// and (where the job deletes) DELETE every table a prune touches.
Status CheckPruneJob(crm::Db& db, const Mapping& m, const JobConfig& job, bool grants);

// `check`'s server probes for a prune job (MariaDB/MySQL; SQLite: none). With max_replica_lag
// set, the session must be allowed SHOW REPLICA STATUS (REPLICATION CLIENT; MariaDB >= 10.5
// SLAVE MONITOR) — Error::Config (exit 2) otherwise, as the pacer could not read the lag.
// Returns warnings: without CREATE TEMPORARY TABLES on the CRM database the engine falls back
// to CASE lists (correct, slower).
// Each of options.replica_dsns is connected to and must allow SHOW REPLICA STATUS (exit 2/3
// otherwise).
Result<std::vector<std::string>> ProbePruneServer(crm::Db& db, const Config& cfg,
                                                  const JobConfig& job);

// A replica DSN as a full connection: unset keys are the CRM database's.
DatabaseConfig ReplicaDatabase(const DatabaseConfig& crm, const PruneOptions::ReplicaDsn& r);

// `t` minus `months` calendar months (the day clamped to the month's last day).
SysSeconds MonthsBefore(SysSeconds t, int months);

class PruneJob final : public JobKind {
 public:
  bool destructive() const override { return true; }
  Status Plan(RunContext& ctx, RunReport& report) override;
  Status Apply(RunContext& ctx, RunReport& report) override;
  Status Record(RunContext& ctx, RunReport& report) override;

  struct Candidate {
    std::string id, owner, reasons, last_activity;
  };

 private:
  std::vector<Candidate> to_notice_;                       // new notices
  std::map<std::string, std::vector<long long>> to_close_;  // status → notice ids
  std::unordered_map<std::string, long long> due_notice_;  // contact id → its open notice
  std::vector<ChangeSet> plan_;
  std::vector<std::string> resumed_runs_;  // unfinished checkpoints this run takes over

  // pt-archiver-like pacing between change sets (options sleep, sleep_coef, max_runtime,
  // max_threads_running, max_replica_lag): sleeps and waits through the clock seam.
  class Pacer {
   public:
    explicit Pacer(RunContext& ctx);
    // `db`: the session about to apply the set (the server limits are read on it).
    std::optional<std::string> BeforeSet(crm::Db& db, int set_no, double last_set_seconds);
    void Report(RunReport& report) const;

   private:
    std::optional<std::string> Throttle(crm::Db& db);
    RunContext& ctx_;
    SysSeconds start_;
    double slept_ = 0, throttled_seconds_ = 0;
    std::map<std::string, long long> throttled_;
    long long last_threads_running_ = 0;
    bool replica_seen_ = false;
    // options.replica_dsns: one session each, opened at the first check.
    std::vector<std::unique_ptr<crm::Db>> replicas_;
    std::vector<std::string> replica_names_;
  };
};

}  // namespace crmh::jobs
