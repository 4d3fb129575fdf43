// The safe-change engine: the one mechanism every destructive job goes through.
//
// A job's plan is a list of ChangeSets (one merge cluster, one prune batch, one batch of field
// rewrites); each is a list of RowOps carrying the row text the planner saw. Applying a set:
//   begin → lock and re-read every row, copying the before-images of those equal to what the
//   plan saw (one statement) → if any row differs, roll back and count the set
//   `changed_since_plan` (the next run plans it again) → apply → verify every stored
//   before-image against the text its row was locked at and write the ledger rows with each
//   row's after-image text (one statement) → commit.
// Any failure rolls back: nothing changed, nothing half-applied. Limits are checked on the whole
// plan before the first set; a dry run never reaches Apply (jobs/job.h).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crm/db.h"
#include "crm/lock.h"

namespace crmh::jobs {

// kArchive: the row is copied into its archive table (crm/archive.h, the before-image as
// verified) and deleted, in the set's transaction; restore inserts it back and takes it out of
// the archive.
enum class OpKind { kUpdate, kSoftDelete, kDelete, kArchive };
const char* OpName(OpKind k);

struct RowOp {
  OpKind kind = OpKind::kUpdate;
  std::string table;
  std::string id_column;
  std::string id;
  // update / soft delete: column → new value (nullopt = NULL).
  std::vector<std::pair<std::string, std::optional<std::string>>> set;
  std::string expect;  // the row text (crm::RowTextExpr over all columns) when planned
  std::string note;    // what and why, kept in the ledger ("trim_whitespace(first_name)")
};

struct ChangeSet {
  std::string label;  // for logs: "contacts 1..42 (7 rows)"
  std::vector<RowOp> ops;
  // Runs inside the set's transaction after its changes, just before COMMIT (a job's own
  // bookkeeping that must commit with the set — prune's checkpoint and notices). A throw rolls
  // the set back and stops the run. Not called for a set skipped as changed_since_plan.
  std::function<void(crm::Db&)> before_commit;
  // Runs inside the set's transaction before the set's rows are locked or copied; returning a
  // reason skips the set (rolled back, with whatever the precheck itself wrote; counted in
  // ApplyStats::skipped by reason; the next run plans it again). Prune re-checks its protections
  // here and closes the set's notices, which fails the check if one is no longer open.
  std::function<std::optional<std::string>(crm::Db&)> precheck;
};

// The bare change of one row — no check, no backup, no transaction. The engine's apply step
// (inside its transaction) and the benchmark's baseline both use it. Throws SOCI errors.
void ExecuteRowOp(crm::Db& db, const RowOp& op);

struct Limits {
  long long max_rows = 0;     // 0 = no limit
  double max_fraction = 0.0;  // of each table's rows; 0 = no limit
};

// Refuses (Error::Refused, exit 4) a plan touching more rows than the limits allow; the message
// carries the numbers.
Status CheckLimits(crm::Db& db, const std::vector<ChangeSet>& plan, const Limits& limits);

// What CheckLimits and DescribePlan need of a plan, gathered one set at a time: a job can tally
// each set as it plans it (and a dry run, which never applies, can drop the set's ops then).
// Check() and Describe() answer exactly what CheckLimits and DescribePlan do for the same sets
// in the same order (both are written on it).
class PlanTally {
 public:
  explicit PlanTally(size_t sample = 10) : sample_(sample) {}
  void Add(const ChangeSet& set);
  Status Check(crm::Db& db, const Limits& limits);
  nlohmann::json Describe() const;
  // Whether the next set's ops may still go into the sample (their notes are read).
  bool Sampling() const { return samples_.size() < sample_; }

 private:
  size_t sample_;
  size_t sets_ = 0;
  long long rows_ = 0;
  std::map<std::string, std::map<std::string, long long>> counts_;  // table → op → rows
  // table → row ids, made distinct by Check() (a vector of short strings, not a hash set: one
  // allocation per id was most of tallying a 1M dry run's 367k rows)
  std::map<std::string, std::vector<std::string>> ids_;
  std::vector<std::string> samples_;
};

struct ApplyStats {
  long long sets_applied = 0;
  long long changed_since_plan = 0;
  long long rows_changed = 0;
  std::map<std::string, long long> rows_by_table;
  bool stopped = false;  // a stop request ended the run at a set boundary; the rest is unplanned
  std::string stop_reason;  // why the run ended early: "stop" (SIGTERM) or the hook's reason
  std::map<std::string, long long> skipped;  // sets skipped by a precheck, by reason
  long long lock_retries = 0;  // sets rolled back by a deadlock / lock wait timeout, tried again
  int connections = 1;         // sessions that applied sets
};

// How a plan is applied beyond the defaults.
//
// `before_set` (prune's pt-archiver-like pacing) runs before each set outside any transaction,
// on the session that will apply the set (set_no from 1; last_set_seconds: how long that
// session's previous set took, 0 before its first); returning a reason ends the run there
// (ApplyStats::stop_reason), not an error: what was committed stays. Calls never overlap: while
// one session pauses in it, the others start no new set.
//
// `connections` > 1 (MariaDB/MySQL only; SQLite has one writer and ignores it) applies that many
// sets at once, each on its own session from `open_db`, each in its own transaction exactly as
// alone. Each session applies its own contiguous share of the plan, in order (neighbouring sets
// hold neighbouring keys, and would wait for each other); a session whose share is done takes
// sets from the far end of the share with the most left. Sets commit out of order, so they must
// not depend on one another: a row two sets both plan is changed by the first to lock it, and
// the other finds it changed (changed_since_plan), as it would one after the other.
struct ApplyOptions {
  std::function<std::optional<std::string>(crm::Db& db, int set_no, double last_set_seconds)>
      before_set;
  int connections = 1;
  crm::DbFactory open_db;
};

// Applies the plan set by set; returns what happened. An Error means the set in progress was
// rolled back and the run stops (earlier sets stay committed, each with its ledger; with several
// connections, sets already begun on the others finish first).
// `lock` is re-checked before each set; `stop` (SIGTERM) ends the run at a set boundary.
// A set that meets a deadlock or a lock wait timeout (another session, e.g. a rep's, holding its
// rows) is rolled back and tried again, kLockAttempts attempts in all (ApplyStats::lock_retries).
inline constexpr int kLockAttempts = 3;
Result<ApplyStats> ApplyPlan(crm::Db& db, const std::string& run_id,
                             const std::vector<ChangeSet>& plan, crm::JobLock* lock,
                             const std::atomic<bool>* stop, const ApplyOptions& options = {});

struct RunContext;
struct RunReport;

// Seconds since `start`, to two decimals: the phase timings a run report carries.
double SecondsSince(std::chrono::steady_clock::time_point start);

// What every destructive job's Apply does: check the limits, take the verified dump if the job
// asks for one (`dump: true`), apply the plan, and report the counts.
Status ApplyGuarded(RunContext& ctx, const std::vector<ChangeSet>& plan, RunReport& report);
// The same with options; also reports `stopped` (the hook's reason) and `sets_skipped`.
Status ApplyGuarded(RunContext& ctx, const std::vector<ChangeSet>& plan, RunReport& report,
                    const ApplyOptions& options);

// Counts per table and a sample of before → after, for reports and dry runs.
nlohmann::json DescribePlan(const std::vector<ChangeSet>& plan, size_t sample = 10);

struct RestoreOptions {
  bool dry_run = false;
  bool force = false;
  std::function<void()> after_check;  // test seam: runs between the conflict check and applying
};

struct RestoreResult {
  long long rows_restored = 0;
  long long sets_restored = 0;
  std::vector<std::string> conflicts;  // "contacts 42: changed since run R"
  bool already_restored = false;
};

// Undoes a run exactly, newest change first. Refuses (exit 4, conflicts listed) if a later run
// or a user changed any touched row, unless force. Restoring twice is harmless.
Result<RestoreResult> RestoreRun(crm::Db& db, const std::string& run_id,
                                 const RestoreOptions& opt);

}  // namespace crmh::jobs
