// The state tables the daemon owns inside the CRM server (or the CRM's SQLite file): the
// schema version, the run journal, audit snapshots — and later the ledger, review queue,
// notices, flags and scores. Created and upgraded by versioned migrations.
//
// The run journal is the daemon's "dirty bit" (osquery): a row is opened before a job starts
// and closed after; a row still `running` at start-up means a crash and becomes `interrupted`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time_util.h"
#include "crm/db.h"

namespace crmh::crm {

inline constexpr int kStateSchemaVersion = 9;

// Column types and table options of the state tables, per backend; every migration (here and in
// crm/scores.cpp) builds its DDL from these, so a charset or type change is made once.
struct StateDdl {
  const char* ts;      // a UTC time: DATETIME | TEXT
  const char* engine;  // table options after the column list (InnoDB, utf8mb4_bin) | ""
  const char* id;      // an auto-increment primary key column
};
inline StateDdl StateDdlFor(const Db& db) {
  if (db.mysql()) {
    return {"DATETIME", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"};
  }
  return {"TEXT", "", "INTEGER PRIMARY KEY AUTOINCREMENT"};
}

// Creates/upgrades the state tables. Safe to call concurrently from several daemons (every
// step is idempotent) and on every start.
Status Migrate(Db& db);
Result<int> StateVersion(Db& db);  // 0 if never migrated
// Proves (and changes nothing) that this session may create and write the state tables:
// an INSERT into the journal rolled back, or a probe table created and dropped.
Status ProbeStateWrite(Db& db);

struct RunRow {
  std::string run_id;
  std::string job;
  std::string kind;
  std::optional<SysSeconds> slot;  // the scheduled time this run is for (UTC); none = manual
  std::string instance_id;
  std::string status;  // running | ok | failed | refused | interrupted | skipped
  std::string reason;  // skipped: overlap | lock_held | already_ran | deadline
  bool dry_run = false;
  SysSeconds started_at{};
  std::optional<SysSeconds> finished_at;
  std::string counts_json = "{}";
  std::string message;
  std::string config_hash;
};

std::string NewRunId(SysSeconds now);

enum class Claim { kClaimed, kAlreadyRan };

// Inserts a `running` row. With a slot, the insert claims (job, slot) under a unique key:
// kAlreadyRan if another instance claimed it first.
Result<Claim> OpenRun(Db& db, const RunRow& row);
Status CloseRun(Db& db, const RunRow& row);
// A run that never started (skipped): one row, already finished, claiming nothing.
Status RecordSkip(Db& db, const RunRow& row);
// Runs of `instance_id` left `running` (a crash) become `interrupted`; returns them.
Result<std::vector<RunRow>> MarkInterrupted(Db& db, const std::string& instance_id,
                                            SysSeconds now);
// Runs of `job` left `running` become `interrupted`. Only call it holding the job's lock: then
// no live process can be running that job.
Result<std::vector<RunRow>> MarkJobInterrupted(Db& db, const std::string& job, SysSeconds now);
Result<std::vector<RunRow>> ListRuns(Db& db, const std::string& job = {}, int limit = 100);
// The latest slot claimed by `job` (persistent catch-up reads this).
Result<std::optional<SysSeconds>> LastClaimedSlot(Db& db, const std::string& job);
// The newest finished run of `job` (for `schedule`).
Result<std::optional<RunRow>> LastRun(Db& db, const std::string& job);

struct AuditCell {
  std::string owner;  // "" = all contacts
  std::string field;  // "" = the contacts count row
  long long filled = 0;
  long long total = 0;
};
Status SaveAuditSnapshot(Db& db, const std::string& run_id, const std::string& week,
                         const std::vector<AuditCell>& cells);

}  // namespace crmh::crm
