// Run checkpoints (state table <prefix>checkpoints, migration V7): how far a destructive run got.
// A run opens its row (`running`) before its first change set; each committed set advances it
// in the set's own transaction (AdvanceCheckpoint — so the checkpoint and the set commit or roll
// back together); the run closes it `done`, or `stopped` when pacing ended it early
// (max_runtime). A row still `running` or `stopped` is unfinished work: the next run of the job
// reports it as the point it resumes from and marks it `resumed`. `crm/` knows no job: what a
// key means is the job's business (prune: the last contact id of the set).
#pragma once

#include <string>
#include <vector>

#include "core/time_util.h"
#include "crm/db.h"

namespace crmh::crm {

struct Checkpoint {
  std::string run_id, job, status, last_key;
  long long sets_done = 0, items_done = 0;
  std::string started_at, updated_at;
};

Status OpenCheckpoint(Db& db, const std::string& job, const std::string& run_id, SysSeconds now);

// Inside the caller's transaction (throws on failure): one more set, `items` more items, the
// set's last key.
void AdvanceCheckpoint(Db& db, const std::string& run_id, const std::string& last_key,
                       long long items, SysSeconds now);

// status: done | stopped.
Status CloseCheckpoint(Db& db, const std::string& run_id, const std::string& status,
                       SysSeconds now);

// Unfinished checkpoints of `job` (running or stopped), oldest first, other than `except_run`.
Result<std::vector<Checkpoint>> UnfinishedCheckpoints(Db& db, const std::string& job,
                                                      const std::string& except_run);

// Marks the given runs' checkpoints `resumed` by `run_id`.
Status MarkResumed(Db& db, const std::vector<std::string>& runs, const std::string& run_id,
                   SysSeconds now);

// One run's checkpoint (tests, reports); nullopt if none.
Result<std::optional<Checkpoint>> ReadCheckpoint(Db& db, const std::string& run_id);

}  // namespace crmh::crm
