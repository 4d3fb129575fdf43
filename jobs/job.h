// The job framework: every kind is read → detect → plan → (apply) → record.
//
// A job gets what it needs passed in (a Db session, the config, a clock, a stop flag); it never
// includes daemon code. Dry-run is honoured by construction: the runner does not call Apply()
// on a dry run, so a kind cannot write by forgetting to check a flag.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/config.h"
#include "crm/db.h"
#include "crm/lock.h"
#include "crm/state.h"

namespace crmh::jobs {

struct RunContext {
  crm::Db& db;
  const Config& cfg;
  const JobConfig& job;
  const Clock& clock;
  std::string run_id;
  bool dry_run = false;
  crm::JobLock* lock = nullptr;                   // re-check before each destructive batch
  const std::atomic<bool>* stop_requested = nullptr;  // reach a batch boundary and return
  std::optional<long long> review_now;  // dedup: merge only this approved review item
  // More sessions to the same database, for a job that applies on several connections at once
  // (prune's `connections`); empty: the job uses `db` alone.
  crm::DbFactory open_db;
};

// A dedup report's clusters, each held as the text `RunReport::WriteJson` writes for it — what
// `dump(2)` writes for {"decision", "matched", "members", "score", "survivor", "why"} as an
// element of the report's top-level "clusters" array — and written as it is planned. Held as
// json values they were ~16 nodes a cluster (1.3M at 1M contacts), and writing and freeing them
// after planning was ~0.4 s of a 6.5 s dry run (session 17); written here, on the planning
// thread while it waits for the database, the report is spliced together at once.
class ClusterList {
 public:
  // `members`: CRM primary keys, the survivor first; `why` empty: no "why" key.
  void Add(const std::vector<std::string>& members, std::string_view decision, double score,
           const std::vector<std::string>& matched, std::string_view why);
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The clusters as a json array (read back from the text): for callers that look inside.
  nlohmann::json Json() const;
  // The elements, each line indented by 4, separated by ",\n" ("" when empty).
  const std::string& text() const { return text_; }
  bool operator==(const ClusterList&) const = default;

 private:
  std::string text_;
  size_t count_ = 0;
};

// What a run reports (`run --json`, the journal's counts column).
struct RunReport {
  std::string run_id;
  std::string job;
  std::string kind;
  std::string status;  // running | ok | failed | refused | interrupted | skipped
  std::string reason;  // for skipped
  bool dry_run = false;
  std::optional<SysSeconds> slot;
  SysSeconds started_at{};
  SysSeconds finished_at{};
  nlohmann::json counts = nlohmann::json::object();
  nlohmann::json details = nlohmann::json::object();  // kind-specific (audit: per field/owner)
  std::optional<ClusterList> clusters;  // dedup's: "clusters" in the report (absent: no key)
  std::string message;
  Exit exit = Exit::kOk;
  // The kind stopped at a batch boundary because a stop was requested (SIGTERM): the run is
  // journaled `interrupted`; what it committed stays (and can be restored), the rest is planned
  // again by the next run.
  bool interrupted = false;

  nlohmann::json ToJson() const&;
  // The same, moving counts and details into the result (the report keeps its other members).
  nlohmann::json ToJson() &&;
  // Writes `std::move(report).ToJson().dump(2)`, byte for byte (tests/runner_test.cpp), with a
  // dedup report's clusters as ClusterList wrote them (82k clusters, 24 MB of text at 1M
  // contacts) instead of read back and written again. Leaves the report as ToJson() && does.
  void WriteJson(std::ostream& out) &&;
};

class JobKind {
 public:
  virtual ~JobKind() = default;
  // True if Apply() changes CRM rows (such kinds never overlap and re-check the lock).
  virtual bool destructive() const = 0;
  // read → detect → plan. Must not write to CRM tables.
  virtual Status Plan(RunContext& ctx, RunReport& report) = 0;
  // apply: never called on a dry run.
  virtual Status Apply(RunContext& ctx, RunReport& report) = 0;
  // record: results into the state tables (not on a dry run).
  virtual Status Record(RunContext& ctx, RunReport& report) = 0;
};

Result<std::unique_ptr<JobKind>> MakeJob(const JobConfig& job);
bool IsDestructiveKind(std::string_view kind);

struct RunRequest {
  const Config* cfg = nullptr;
  const JobConfig* job = nullptr;
  std::optional<SysSeconds> slot;  // scheduled runs claim their slot; manual runs have none
  bool dry_run = false;
  const Clock* clock = nullptr;
  const std::atomic<bool>* stop_requested = nullptr;
  std::string run_id;  // empty: ExecuteRun makes one (the daemon makes it first, to log with it)
  std::optional<long long> review_now;  // dedup: `review approve ID --now`
};

// The one path every run takes, scheduled or manual:
// open session → lock (skip: lock_held) → claim slot + open journal row (skip: already_ran) →
// plan → apply → record → close the journal row. Never throws; the outcome is in the report
// (status + exit code). A dry run is journaled (dry_run = 1) but claims no slot, and its
// kind's Apply() and Record() are never called.
RunReport ExecuteRun(const RunRequest& req, const crm::DbFactory& open_db);

}  // namespace crmh::jobs
