#include "daemon/metrics.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crmh::metrics {
namespace {

const std::vector<std::string> kResults = {"ok", "failed", "refused", "interrupted"};
const std::vector<std::string> kReasons = {"overlap", "lock_held", "already_ran", "deadline"};

// kind → (rows label, report count). One count per kind; see the header.
const std::map<std::string, std::pair<std::string, std::string>>& RowCounts() {
  static const std::map<std::string, std::pair<std::string, std::string>> k = {
      {"dedup", {"merged", "contacts_merged"}},
      {"standardize", {"standardized", "rows_changed"}},
      {"prune", {"pruned", "contacts_pruned"}},
  };
  return k;
}

long long CountOf(const nlohmann::json& counts, const std::string& key) {
  auto it = counts.find(key);
  if (it == counts.end() || !it->is_number()) return 0;
  return it->is_number_integer() ? it->get<long long>() : static_cast<long long>(it->get<double>());
}

std::string Seconds(SysSeconds t) { return std::to_string(t.time_since_epoch().count()); }

class Writer {
 public:
  void Family(const std::string& name, const char* type, const std::string& help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Sample(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels,
              const std::string& value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        out_ += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, EscapeLabel(labels[i].second));
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

Result<Snapshot> Read(crm::Db& db, const Config& cfg, SysSeconds now) {
  Snapshot snap;
  snap.taken_at = now;
  std::map<std::string, size_t> index;
  for (const auto& j : cfg.jobs) {
    index[j.name] = snap.jobs.size();
    JobMetrics m;
    m.job = j.name;
    m.kind = j.kind;
    for (const auto& r : kResults) m.runs[r] = 0;
    for (const auto& r : kReasons) m.skipped[r] = 0;
    if (auto rc = RowCounts().find(j.kind); rc != RowCounts().end()) m.rows[rc->second.first] = 0;
    if (j.kind == "digest") m.deliveries = {{"ok", 0}, {"failed", 0}};
    snap.jobs.push_back(std::move(m));
  }
  // Rows of a configured job with its configured kind (not restores/reviews journaled under
  // its name).
  auto find = [&](const std::string& job, const std::string& kind) -> JobMetrics* {
    auto it = index.find(job);
    if (it == index.end()) return nullptr;
    JobMetrics& m = snap.jobs[it->second];
    return m.kind == kind ? &m : nullptr;
  };
  const std::string runs = db.State("runs");
  Status st = crm::Guard("reading the run journal for /metrics", [&] {
    soci::rowset<soci::row> counted = db.sql().prepare << fmt::format(
        "SELECT job, kind, status, reason, COUNT(*) FROM {} WHERE dry_run = 0 "
        "GROUP BY job, kind, status, reason",
        runs);
    for (const auto& r : counted) {
      JobMetrics* m = find(crm::CellText(r, 0), crm::CellText(r, 1));
      if (!m) continue;
      std::string status = crm::CellText(r, 2);
      long long n = crm::CellInt(r, 4);
      if (status == "skipped") {
        std::string reason = crm::CellText(r, 3);
        m->skipped[reason.empty() ? "unknown" : reason] += n;
      } else if (status != "running") {
        m->runs[status] += n;
      }
    }
    soci::rowset<soci::row> success = db.sql().prepare << fmt::format(
        "SELECT job, kind, CAST(MAX(finished_at) AS CHAR) FROM {} WHERE dry_run = 0 AND status = 'ok' "
        "GROUP BY job, kind",
        runs);
    for (const auto& r : success) {
      JobMetrics* m = find(crm::CellText(r, 0), crm::CellText(r, 1));
      if (m) {
        if (auto t = ParseSqlTime(crm::CellText(r, 2))) m->last_success = *t;
      }
    }
    for (auto& m : snap.jobs) {
      std::string started, finished;
      soci::indicator i1 = soci::i_null, i2 = soci::i_null;
      db.sql() << fmt::format(
          "SELECT CAST(started_at AS CHAR), CAST(finished_at AS CHAR) FROM {} "
          "WHERE job = :j AND kind = :k AND dry_run = 0 AND status IN ('ok', 'failed', 'refused') "
          "AND finished_at IS NOT NULL ORDER BY finished_at DESC, run_id DESC LIMIT 1",
          runs),
          soci::use(m.job), soci::use(m.kind), soci::into(started, i1), soci::into(finished, i2);
      if (!db.sql().got_data() || i1 != soci::i_ok || i2 != soci::i_ok) continue;
      auto s = ParseSqlTime(started);
      auto f = ParseSqlTime(finished);
      if (!s || !f) continue;
      m.last_completion = *f;
      m.last_duration_seconds = (*f - *s).count();
    }
    soci::rowset<soci::row> reported = db.sql().prepare << fmt::format(
        "SELECT job, kind, counts FROM {} WHERE dry_run = 0 "
        "AND kind IN ('dedup', 'standardize', 'prune', 'digest') AND counts IS NOT NULL",
        runs);
    for (const auto& r : reported) {
      JobMetrics* m = find(crm::CellText(r, 0), crm::CellText(r, 1));
      if (!m) continue;
      auto counts = nlohmann::json::parse(crm::CellText(r, 2), nullptr, false);
      if (counts.is_discarded() || !counts.is_object()) continue;
      if (auto rc = RowCounts().find(m->kind); rc != RowCounts().end()) {
        m->rows[rc->second.first] += CountOf(counts, rc->second.second);
      }
      if (m->kind == "digest") {
        m->deliveries["ok"] += CountOf(counts, "delivered");
        m->deliveries["failed"] += CountOf(counts, "delivery_failed");
      }
    }
    snap.review = {{"open", 0}, {"approved", 0}};
    soci::rowset<soci::row> review = db.sql().prepare << fmt::format(
        "SELECT status, COUNT(*) FROM {} WHERE status IN ('open', 'approved') GROUP BY status",
        db.State("review"));
    for (const auto& r : review) snap.review[crm::CellText(r, 0)] = crm::CellInt(r, 1);
    long long flags = 0;
    db.sql() << fmt::format("SELECT COUNT(*) FROM {} WHERE cleared_at IS NULL", db.State("flags")),
        soci::into(flags);
    snap.flags_open = flags;
  });
  if (!st) return st.error();
  return snap;
}

std::string Render(const Snapshot& snap, const std::map<std::string, Live>& live,
                   const Process& process) {
  Writer w;
  auto job_labels = [](const JobMetrics& m) {
    return std::vector<std::pair<std::string, std::string>>{{"job_name", m.job}, {"kind", m.kind}};
  };
  auto with = [&](const JobMetrics& m, const std::string& k, const std::string& v) {
    auto l = job_labels(m);
    l.emplace_back(k, v);
    return l;
  };
  const Live none;
  auto live_of = [&](const JobMetrics& m) -> const Live& {
    auto it = live.find(m.job);
    return it == live.end() ? none : it->second;
  };

  w.Family("crm_hygiene_up", "gauge", "1 while the daemon serves this endpoint.");
  w.Sample("crm_hygiene_up", {}, "1");
  w.Family("crm_hygiene_start_time_seconds", "gauge", "When this daemon process started (Unix time).");
  w.Sample("crm_hygiene_start_time_seconds", {}, Seconds(process.start_time));
  w.Family("crm_hygiene_database_up", "gauge",
           "1 if the last read of the state tables succeeded, 0 if it failed (the values below are then from the last good read).");
  w.Sample("crm_hygiene_database_up", {}, process.database_up ? "1" : "0");
  if (process.snapshot_time) {
    w.Family("crm_hygiene_metrics_snapshot_timestamp_seconds", "gauge",
             "When the run journal was last read for these values (Unix time).");
    w.Sample("crm_hygiene_metrics_snapshot_timestamp_seconds", {}, Seconds(*process.snapshot_time));
  }

  w.Family("crm_hygiene_job_last_success_timestamp_seconds", "gauge",
           "Finish time of the job's newest ok run (dry runs excluded); absent before the first.");
  for (const auto& m : snap.jobs) {
    if (m.last_success) w.Sample("crm_hygiene_job_last_success_timestamp_seconds", job_labels(m), Seconds(*m.last_success));
  }
  w.Family("crm_hygiene_job_last_completion_timestamp_seconds", "gauge",
           "Finish time of the job's newest ok, failed or refused run.");
  for (const auto& m : snap.jobs) {
    if (m.last_completion) w.Sample("crm_hygiene_job_last_completion_timestamp_seconds", job_labels(m), Seconds(*m.last_completion));
  }
  w.Family("crm_hygiene_job_last_duration_seconds", "gauge",
           "Duration of the job's last completed run.");
  for (const auto& m : snap.jobs) {
    if (m.last_duration_seconds) w.Sample("crm_hygiene_job_last_duration_seconds", job_labels(m), std::to_string(*m.last_duration_seconds));
  }
  w.Family("crm_hygiene_job_next_run_timestamp_seconds", "gauge",
           "When this daemon fires the job's next slot; absent for jobs without a schedule.");
  for (const auto& m : snap.jobs) {
    if (const Live& l = live_of(m); l.next_run) w.Sample("crm_hygiene_job_next_run_timestamp_seconds", job_labels(m), Seconds(*l.next_run));
  }
  w.Family("crm_hygiene_job_period_seconds", "gauge",
           "Gap between the job's next slot and the one after it (the alert rules use 2x this).");
  for (const auto& m : snap.jobs) {
    if (const Live& l = live_of(m); l.period_seconds) w.Sample("crm_hygiene_job_period_seconds", job_labels(m), std::to_string(*l.period_seconds));
  }
  w.Family("crm_hygiene_job_running", "gauge", "1 while this daemon runs the job.");
  for (const auto& m : snap.jobs) w.Sample("crm_hygiene_job_running", job_labels(m), live_of(m).running ? "1" : "0");
  w.Family("crm_hygiene_job_runs_total", "counter", "Runs in the journal by result (dry runs excluded).");
  for (const auto& m : snap.jobs) {
    for (const auto& [result, n] : m.runs) w.Sample("crm_hygiene_job_runs_total", with(m, "result", result), std::to_string(n));
  }
  w.Family("crm_hygiene_job_skipped_total", "counter", "Slots skipped, by reason.");
  for (const auto& m : snap.jobs) {
    for (const auto& [reason, n] : m.skipped) w.Sample("crm_hygiene_job_skipped_total", with(m, "reason", reason), std::to_string(n));
  }
  const std::vector<std::pair<std::string, std::string>> row_families = {
      {"merged", "Contacts merged into a survivor by dedup runs."},
      {"pruned", "Contacts pruned by prune runs."},
      {"standardized", "Rows rewritten by standardize runs."}};
  for (const auto& [what, help] : row_families) {
    std::string name = fmt::format("crm_hygiene_rows_{}_total", what);
    w.Family(name, "counter", help);
    for (const auto& m : snap.jobs) {
      if (auto it = m.rows.find(what); it != m.rows.end()) w.Sample(name, job_labels(m), std::to_string(it->second));
    }
  }
  w.Family("crm_hygiene_digest_deliveries_total", "counter", "Digest deliveries by result.");
  for (const auto& m : snap.jobs) {
    for (const auto& [result, n] : m.deliveries) w.Sample("crm_hygiene_digest_deliveries_total", with(m, "result", result), std::to_string(n));
  }
  w.Family("crm_hygiene_review_queue_size", "gauge", "Dedup review items waiting, by status.");
  for (const auto& [status, n] : snap.review) w.Sample("crm_hygiene_review_queue_size", {{"status", status}}, std::to_string(n));
  w.Family("crm_hygiene_validation_flags_open", "gauge", "Validation flags not yet cleared.");
  w.Sample("crm_hygiene_validation_flags_open", {}, std::to_string(snap.flags_open));
  return w.Take();
}

}  // namespace crmh::metrics
