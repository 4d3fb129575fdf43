// What /metrics says, in two halves: a snapshot read from the state tables (blocking SOCI, so
// the daemon reads it on a worker thread and keeps the result), and the rendering into the
// Prometheus text format (pure; the daemon adds what only the scheduler knows: next slots).
//
// Every value comes from the run journal, the review queue and the flags table — nothing the
// daemon counts in memory — so all daemons on one database report the same totals, a restart
// loses nothing, and a test can recompute each value with its own SQL. No PII: labels are job
// names, kinds, statuses and reasons only. The job label is `job_name`: Prometheus sets `job`
// on every scraped series itself.
//
// Definitions (docs/operations.md repeats them for operators):
// - A run of job J is a journal row with job = J, kind = J's configured kind and dry_run = 0
//   (restores and review decisions journaled under J's name, and dry runs, are not runs of J).
// - last success: max(finished_at) of its `ok` runs. Last completion: the run with the greatest
//   finished_at (then run_id) among its ok | failed | refused runs; duration = finished_at −
//   started_at of that run.
// - runs_total{result}: its runs by status (ok, failed, refused, interrupted; `running` is not
//   a result); skipped_total{reason}: its `skipped` rows by reason.
// - rows totals: the sum over its runs (any status: a failed run may have committed sets) of
//   one count of the run report — dedup `contacts_merged`, standardize `rows_changed`, prune
//   `contacts_pruned`; digest deliveries: digest `deliveries_ok` / `deliveries_failed`.
// The journal is purged by `retention` jobs: totals cover the runs still in it, so a purge
// looks like a counter reset to Prometheus (rate()/increase() handle that).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/time_util.h"
#include "crm/db.h"

namespace crmh::metrics {

struct JobMetrics {
  std::string job;
  std::string kind;
  std::optional<SysSeconds> last_success;
  std::optional<SysSeconds> last_completion;
  std::optional<long long> last_duration_seconds;
  std::map<std::string, long long> runs;     // result → count (ok, failed, refused, interrupted)
  std::map<std::string, long long> skipped;  // reason → count
  std::map<std::string, long long> rows;     // merged | pruned | standardized → total
  std::map<std::string, long long> deliveries;  // digest: ok | failed → total
};

struct Snapshot {
  SysSeconds taken_at{};
  std::vector<JobMetrics> jobs;  // one per configured job, in config order
  std::map<std::string, long long> review;  // open | approved → items
  long long flags_open = 0;
};

// Reads everything for `cfg`'s jobs. Errors (SOCI) come back as values.
Result<Snapshot> Read(crm::Db& db, const Config& cfg, SysSeconds now);

// What only the running scheduler knows, per job.
struct Live {
  std::optional<SysSeconds> next_run;   // the next slot's fire time
  std::optional<long long> period_seconds;  // next slot to the one after (calendar gap)
  bool running = false;
};

struct Process {
  SysSeconds start_time{};
  bool database_up = false;        // did the last snapshot read succeed?
  std::optional<SysSeconds> snapshot_time;  // the snapshot the numbers come from
};

// Prometheus text exposition format 0.0.4.
std::string Render(const Snapshot& snap, const std::map<std::string, Live>& live,
                   const Process& process);

// A label value escaped for the text format (\\, \", \n).
std::string EscapeLabel(std::string_view value);

}  // namespace crmh::metrics
