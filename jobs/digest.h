// `digest`: the weekly hygiene report the team reads (docs/digest.md).
//
// A pure reader of the state schema: the run journal, the review queue, the validation flags and
// the audit snapshots (and the notices and scores tables when a build that has them created
// them). It reads the CRM only for the names of the contacts waiting for review, masked as
// configured (DigestOptions: emails, phones).
//
// Weeks are ISO 8601 weeks in the job's time zone ("2026-W48", Monday 00:00 to Monday 00:00
// local). A `Mon 08:00` digest reports the last complete week by default (`week: previous`).
//
// Plan builds the model (a dry run stops there: its counts are the headline numbers); Record
// renders it to text and HTML, writes <archive_dir>/<week>.html (charts as data: URIs), and — if
// configured and asked to — mails it (jobs/digest_mail.h). A failed delivery fails the run with
// its attempts in the journal's counts; the archive is written first, either way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crm/scores.h"
#include "jobs/job.h"

namespace date {
class time_zone;
}

namespace crmh::jobs {
namespace digest {

struct Week {
  std::string label;  // 2026-W48
  SysSeconds start{};  // Monday 00:00 local, as UTC
  SysSeconds end{};    // the next Monday 00:00 local, as UTC
};
// The ISO week containing `t` in `tz`; Shift(w, -1) is the week before.
Week WeekOf(SysSeconds t, const date::time_zone* tz);
Week Shift(const Week& w, int weeks, const date::time_zone* tz);

// Headline numbers of one week (definitions in docs/digest.md).
struct Headline {
  long long runs = 0;          // journal rows started in the week, not dry, not skipped
  long long runs_failed = 0;   // failed | refused | interrupted
  long long skips = 0;
  long long duplicates_found = 0;   // clusters merged automatically + clusters queued for review
  long long contacts_merged = 0;    // Σ contacts_merged of dedup runs
  long long review_open = 0;        // review items open at the end of the week
  long long fields_standardized = 0;  // Σ fields_changed of standardize runs that ended ok
  long long flags_open = 0;           // validation flags open at the end of the week
  std::optional<long long> contacts;  // the week's latest audit snapshot
  std::optional<double> completeness_pct;  // filled mandatory cells / all of them, latest audit
};

struct ReviewLine {
  long long id = 0;
  double score = 0;
  std::string survivor;  // "Jane D. · j***@example.com · ***67" (masked as configured)
  std::vector<std::string> members;  // CRM ids
  std::string created_at;            // UTC, SQL text
};

struct JobHealth {
  std::string job, kind;
  long long ok = 0, failed = 0, refused = 0, interrupted = 0, skipped = 0;
  std::string last_status, last_started, last_message;  // newest run up to the week's end
  double last_seconds = 0, max_seconds = 0;             // durations (finished - started)
};

struct FieldPct {
  std::string field;
  long long filled = 0, total = 0;
  double pct = 0;
};

struct TrendPoint {
  std::string week;
  long long contacts_merged = 0, flags_open = 0, duplicates_found = 0;
  std::optional<double> completeness_pct;
};

// Prune notices (crm/notices.h) open when the digest is made.
struct NoticesSummary {
  long long open = 0;
  long long due_soon = 0;               // due within 7 days of the digest
  std::optional<SysSeconds> next_due;   // the earliest prune_after
};

// The owner scores (crm/scores.h) of the newest scored week up to the report's week.
struct Leaderboard {
  std::string job, week;
  std::vector<crm::ScoreRow> rows;  // by rank
};

struct Model {
  std::string title, time_zone;
  SysSeconds generated_at{};
  Week week, previous;
  Headline now, before;
  std::vector<ReviewLine> review;  // the oldest open items, up to review_limit
  long long review_total = 0;
  std::vector<std::pair<std::string, long long>> flags_by_code;  // open now, most first
  std::vector<FieldPct> fields;  // the week's latest audit, by field
  std::vector<TrendPoint> trend;  // 12 weeks, the oldest first, ending with `week`
  std::vector<JobHealth> health;
  NoticesSummary notices;
  Leaderboard scores;
};

Result<Model> BuildModel(crm::Db& db, const Config& cfg, const JobConfig& job, SysSeconds now);

// A PNG chart: mail refers to it as cid:<cid>, the archive embeds it as a data: URI.
struct Chart {
  std::string cid;  // e.g. trend-2026-W48@crm-hygiene
  std::string name;  // file name, e.g. trend.png
  std::string alt;
  std::string png;  // the bytes
};
// 12-week trends (duplicates, flags; completeness) and completeness by field (cairo).
Result<std::vector<Chart>> RenderCharts(const Model& m);

enum class ImageRefs { kDataUri, kCid };
std::string RenderText(const Model& m);
std::string RenderHtml(const Model& m, const std::vector<Chart>& charts, ImageRefs refs);
std::string Subject(const Model& m);

std::string HtmlEscape(std::string_view s);
std::string MaskEmail(std::string_view email);  // jane.doe@example.com → j***@example.com
std::string MaskPhone(std::string_view phone);  // +1 555 123 4567 → ***67

// Where the archive goes: options.archive_dir, else <state.directory>/digests.
std::string ArchiveDir(const Config& cfg, const JobConfig& job);

}  // namespace digest

class DigestJob final : public JobKind {
 public:
  bool destructive() const override { return false; }
  Status Plan(RunContext& ctx, RunReport& report) override;
  Status Apply(RunContext&, RunReport&) override { return Status::Ok(); }
  Status Record(RunContext& ctx, RunReport& report) override;

 private:
  Status RecordOwners(RunContext& ctx, RunReport& report, const std::string& archive_dir,
                      std::vector<std::string>& failures);
  std::optional<digest::Model> model_;
};

}  // namespace crmh::jobs
