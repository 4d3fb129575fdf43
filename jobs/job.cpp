#include "jobs/job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <algorithm>
#include <new>
#include <thread>

#include "crm/ledger.h"
#include "crm/schema.h"
#include "jobs/audit.h"
#include "jobs/dedup.h"
#include "jobs/digest.h"
#include "jobs/prune.h"
#include "jobs/retention.h"
#include "jobs/score.h"
#include "jobs/standardize.h"

namespace crmh::jobs {

nlohmann::json RunReport::ToJson() const& {
  RunReport copy = *this;
  return std::move(copy).ToJson();
}

nlohmann::json RunReport::ToJson() && {
  nlohmann::json j;
  j["run_id"] = run_id;
  j["job"] = job;
  j["kind"] = kind;
  j["status"] = status;
  if (!reason.empty()) j["reason"] = reason;
  j["dry_run"] = dry_run;
  j["slot"] = slot ? nlohmann::json(FormatRfc3339(*slot)) : nlohmann::json(nullptr);
  j["started_at"] = FormatRfc3339(started_at);
  j["finished_at"] = FormatRfc3339(finished_at);
  j["counts"] = std::move(counts);
  if (!details.empty()) j["details"] = std::move(details);
  if (clusters) j["clusters"] = clusters->Json();
  if (!message.empty()) j["message"] = message;
  return j;
}

namespace {

// A string as dump() writes it: plain printable ASCII as it is, anything else through the json
// library (its escapes; invalid UTF-8 replaced rather than thrown on halfway through a report).
void AppendString(std::string& out, std::string_view s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += s;
    out += '"';
  } else {
    out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

// An array of strings as dump(2) writes it at the given indent (of its key's line).
void AppendStrings(std::string& out, const std::vector<std::string>& v, std::string_view indent) {
  if (v.empty()) {
    out += "[]";
    return;
  }
  out += "[\n";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ",\n";
    out += indent;
    out += "  ";
    AppendString(out, v[i]);
  }
  out += '\n';
  out += indent;
  out += ']';
}

}  // namespace

void ClusterList::Add(const std::vector<std::string>& members, std::string_view decision,
                      double score, const std::vector<std::string>& matched, std::string_view why) {
  // The keys in the order a json object (a std::map) keeps them.
  constexpr std::string_view kIn = "      ";  // a key's line: the element at 4, its keys at 6
  if (count_ > 0) text_ += ",\n";
  text_ += "    {\n";
  text_ += kIn;
  text_ += "\"decision\": ";
  AppendString(text_, decision);
  text_ += ",\n";
  text_ += kIn;
  text_ += "\"matched\": ";
  AppendStrings(text_, matched, kIn);
  text_ += ",\n";
  text_ += kIn;
  text_ += "\"members\": ";
  AppendStrings(text_, members, kIn);
  text_ += ",\n";
  text_ += kIn;
  text_ += "\"score\": ";
  text_ += nlohmann::json(score).dump();
  text_ += ",\n";
  text_ += kIn;
  text_ += "\"survivor\": ";
  AppendString(text_, members.empty() ? std::string_view() : std::string_view(members.front()));
  if (!why.empty()) {
    text_ += ",\n";
    text_ += kIn;
    text_ += "\"why\": ";
    AppendString(text_, why);
  }
  text_ += "\n    }";
  ++count_;
}

nlohmann::json ClusterList::Json() const {
  return nlohmann::json::parse("[" + text_ + "]");
}

void RunReport::WriteJson(std::ostream& out) && {
  if (!clusters || clusters->empty()) {
    out << std::move(*this).ToJson().dump(2);
    return;
  }
  // The rest of the report with a stand-in for the clusters, replaced by their text. The
  // stand-in is found as the value of the top-level key "clusters" (a line of its own at indent
  // 2), where no value of the report can be.
  const ClusterList list = std::move(*clusters);
  clusters.reset();
  const std::string stand_in = nlohmann::json("\x01crm-hygiene:clusters\x01").dump();
  nlohmann::json j = std::move(*this).ToJson();
  j["clusters"] = "\x01crm-hygiene:clusters\x01";
  const std::string head = j.dump(2);
  const std::string key = "\n  \"clusters\": " + stand_in;
  const size_t at = head.find(key);
  if (at == std::string::npos) {  // cannot happen; if it did, the plain way
    j["clusters"] = list.Json();
    out << j.dump(2);
    return;
  }
  const std::string_view text(head);
  out << text.substr(0, at + key.size() - stand_in.size()) << "[\n"
      << list.text() << "\n  ]" << text.substr(at + key.size());
}

bool IsDestructiveKind(std::string_view kind) {
  return kind == "dedup" || kind == "prune" || kind == "standardize" || kind == "retention";
}

Result<std::unique_ptr<JobKind>> MakeJob(const JobConfig& job) {
  if (job.kind == "audit") return std::unique_ptr<JobKind>(std::make_unique<AuditJob>());
  if (job.kind == "standardize") return std::unique_ptr<JobKind>(std::make_unique<StandardizeJob>());
  if (job.kind == "retention") return std::unique_ptr<JobKind>(std::make_unique<RetentionJob>());
  if (job.kind == "dedup") return std::unique_ptr<JobKind>(std::make_unique<DedupJob>());
  if (job.kind == "prune") return std::unique_ptr<JobKind>(std::make_unique<PruneJob>());
  if (job.kind == "score") return std::unique_ptr<JobKind>(std::make_unique<ScoreJob>());
  if (job.kind == "digest") return std::unique_ptr<JobKind>(std::make_unique<DigestJob>());
  return Error::Config(fmt::format("job '{}': kind '{}' is not available in this version",
                                   job.name, job.kind));
}

namespace {

// glibc's allocator hands a freed block of more than a few MiB back to the kernel at once, and
// its heap top above 128 KiB. A job's stages each build and free vectors of tens to hundreds of
// MiB (a 1M dedup sweep: the read pages, the cache, blocking's buffers, the pairs), so the next
// stage faulted the same memory in again: ≈ 410k page faults and ≈ 1 s of a repeated 1M sweep's
// CPU (docs/benchmarks.md, session 12). From the first run on — process-wide, for the daemon's
// lifetime: mallopt cannot be undone — blocks under 32 MiB come from the heap and up to 512 MiB
// of free heap stay mapped (peak RSS of that sweep 860 → 887 MiB); after each run whatever is
// free goes back (malloc_trim), so the daemon does not keep a run's peak between runs. Another
// run going on meanwhile only loses the memory it had freed (it faults it in again).
// One arena for all threads: a worker's allocations (a Record's strings and lists, clusters)
// otherwise came from a per-thread arena, whose 64 MiB heaps glibc maps in 4 KiB pages even
// with the heap in 2 MiB pages (core/memory.h), and whose free memory no other thread reuses —
// a repeated 10M sweep took 0.40M page faults, 20k with one arena; at 1M 50k → 5k faults and
// peak RSS 832–843 → 800 MiB (docs/benchmarks.md, session 19).
class RunMemory {
 public:
  RunMemory() {
    static const bool set = [] {
      mallopt(M_ARENA_MAX, 1);
      mallopt(M_MMAP_THRESHOLD, 32 << 20);
      mallopt(M_TRIM_THRESHOLD, 512 << 20);
      return true;
    }();
    (void)set;
  }
  ~RunMemory() { malloc_trim(0); }
  RunMemory(const RunMemory&) = delete;
  RunMemory& operator=(const RunMemory&) = delete;
};


std::string StatusFor(Exit e) {
  switch (e) {
    case Exit::kOk:
      return "ok";
    case Exit::kRefused:
      return "refused";
    default:
      return "failed";
  }
}

}  // namespace

RunReport ExecuteRun(const RunRequest& req, const crm::DbFactory& open_db) {
  const RunMemory memory;
  const JobConfig& job = *req.job;
  const Clock& clock = *req.clock;
  RunReport rep;
  rep.job = job.name;
  rep.kind = job.kind;
  rep.dry_run = req.dry_run;
  rep.slot = req.slot;
  rep.started_at = clock.Now();
  rep.run_id = req.run_id.empty() ? crm::NewRunId(rep.started_at) : req.run_id;
  auto conclude = [&](Exit e, std::string status, std::string msg) {
    rep.exit = e;
    rep.status = std::move(status);
    rep.message = std::move(msg);
    rep.finished_at = clock.Now();
  };
  // For the early returns (before a kind ran: the report is small).
  auto finish = [&](Exit e, std::string status, std::string msg) {
    conclude(e, std::move(status), std::move(msg));
    return rep;
  };

  auto kind = MakeJob(job);
  if (!kind) return finish(kind.error().exit, "failed", kind.error().message);

  auto db = open_db();
  if (!db) return finish(db.error().exit, "failed", db.error().message);
  // The live schema may have changed since start-up: a missing mapped column is a config error
  // (exit 2) before anything runs, not a SQL error halfway through. The job runs on the mapping
  // as this database holds it (optional references whose table is missing left out).
  auto resolved = crm::ResolveMapping(**db, req.cfg->mapping);
  if (!resolved) return finish(resolved.error().exit, "failed", resolved.error().message);
  Config live = *req.cfg;
  live.mapping = std::move(*resolved);
  if (auto m = crm::VerifyMapping(**db, live.mapping); !m) {
    return finish(m.error().exit, "failed", m.error().message);
  }
  if (Status st = crm::Migrate(**db); !st) return finish(st.error().exit, "failed", st.error().message);

  crm::RunRow row;
  row.run_id = rep.run_id;
  row.job = job.name;
  row.kind = job.kind;
  row.slot = req.slot;
  row.instance_id = req.cfg->instance_id;
  row.dry_run = req.dry_run;
  row.started_at = rep.started_at;
  row.config_hash = req.cfg->hash;

  // The lock first: only its holder may claim the slot.
  auto lock = crm::AcquireJobLock(*req.cfg, job.name);
  if (!lock) {
    if (lock.error().exit != Exit::kRefused) {
      return finish(lock.error().exit, "failed", lock.error().message);
    }
    row.reason = "lock_held";
    row.message = lock.error().message;
    (void)crm::RecordSkip(**db, row);
    rep.reason = "lock_held";
    return finish(Exit::kRefused, "skipped", lock.error().message);
  }

  // Holding the lock, no live process runs this job: a `running` row of it is a crash.
  if (auto dead = crm::MarkJobInterrupted(**db, job.name, rep.started_at); dead) {
    for (const auto& r : *dead) {
      spdlog::warn("[{}] earlier run {} of job '{}' was interrupted (its process died)", rep.run_id,
                   r.run_id, r.job);
    }
  }

  // Dry runs are journaled but never claim the slot.
  if (req.dry_run) row.slot.reset();
  auto claim = crm::OpenRun(**db, row);
  if (!claim) return finish(claim.error().exit, "failed", claim.error().message);
  if (*claim == crm::Claim::kAlreadyRan) {
    row.slot = req.slot;
    row.run_id = crm::NewRunId(rep.started_at);
    row.reason = "already_ran";
    row.message = "another instance already ran this slot";
    (void)crm::RecordSkip(**db, row);
    rep.run_id = row.run_id;
    rep.reason = "already_ran";
    return finish(Exit::kOk, "skipped", row.message);
  }

  RunContext ctx{**db, live, job, clock, rep.run_id, req.dry_run, lock->get(),
                 req.stop_requested, req.review_now, open_db};
  // Kinds return errors as values; an exception that still escapes (std::bad_alloc while
  // matching a huge table, say) ends the run as `failed` with a journal row, not an abort.
  // Every committed change set is whole, so failing between sets leaves nothing half-applied.
  Status st = Status::Ok();
  try {
    st = kind.value()->Plan(ctx, rep);
    if (st && !req.dry_run) st = kind.value()->Apply(ctx, rep);
    if (st && !req.dry_run) st = kind.value()->Record(ctx, rep);
  } catch (const std::bad_alloc&) {
    st = Error::Failed("out of memory (std::bad_alloc); lower the job's page_size/max_block or "
                       "give the service more memory");
  } catch (const std::exception& e) {
    st = Error::Failed(fmt::format("unexpected error: {}", e.what()));
  }
  // Not finish(): its copy of the report (a dedup report's clusters: 77k at 1M contacts) would
  // be made and thrown away.
  if (st && rep.interrupted) {
    conclude(Exit::kOk, "interrupted", rep.message + " (stopped at a change-set boundary)");
  } else if (st) {
    conclude(Exit::kOk, "ok", rep.message);
  } else {
    conclude(st.error().exit, StatusFor(st.error().exit), st.error().message);
  }

  row.status = rep.status;
  row.finished_at = rep.finished_at;
  row.message = rep.message;
  // A failed run reports what it committed as the ledger says, not as it counted: a COMMIT whose
  // answer was lost with the connection may have been applied.
  auto close = [&](crm::Db& d) {
    if (!st && !req.dry_run) {
      auto tally = crm::TallyRun(d, rep.run_id);
      if (tally && (tally->rows > 0 || rep.counts.contains("rows_changed") ||
                    rep.counts.contains("rows_planned"))) {
        rep.counts["change_sets_applied"] = tally->sets;
        rep.counts["rows_changed"] = tally->rows;
      }
    }
    row.counts_json = rep.counts.dump();
    return crm::CloseRun(d, row);
  };
  Status closed = close(**db);
  if (!closed && closed.error().exit == Exit::kDbUnreachable) {
    // The database went away mid-run: the open transaction died with the connection (nothing
    // half-applied). Reconnect to record the outcome, so the journal does not say `running`.
    for (int attempt = 0; attempt < 30 && !closed; ++attempt) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (auto again = open_db()) closed = close(**again);
    }
  }
  if (!closed) {
    spdlog::error("[{}] {}", rep.run_id, closed.error().message);
    if (rep.exit == Exit::kOk) {
      rep.exit = closed.error().exit;
      rep.status = "failed";
      rep.message = closed.error().message;
    }
  }
  return rep;
}

}  // namespace crmh::jobs
