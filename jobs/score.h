// `score`: a weekly hygiene score 0–100 per CRM user (the owner / assigned user of contacts),
// from transparent components whose points add up to the score exactly (docs/score.md):
//   completeness  weighted share of the mandatory fields filled on the user's records
//   validity      share of the user's records without an open validation flag
//   duplicates    1 - penalty × (duplicates the user created and dedup merged this week) / records
//   improvement   share of the records that needed fixing at the previous scored week which are
//                 better now — fixes crm-hygiene made itself earn nobody credit
//   staleness     share of the user's records with activity within stale_days
// Every share is per record, so a big book is not punished for its size. Idempotent per ISO week
// (the job's time zone): re-running a week replaces that week's scores. Never changes CRM rows.
#pragma once

#include "crm/scores.h"
#include "jobs/job.h"

namespace date {
class time_zone;
}

namespace crmh::jobs {

class ScoreJob final : public JobKind {
 public:
  bool destructive() const override { return false; }
  Status Plan(RunContext& ctx, RunReport& report) override;
  Status Apply(RunContext&, RunReport&) override { return Status::Ok(); }
  Status Record(RunContext& ctx, RunReport& report) override;

 private:
  crm::ScoreWeek week_;
  std::vector<crm::ScoreRow> rows_;
  std::vector<crm::RecordQuality> records_;
};

// Monday 00:00 of t's ISO week in `tz` (the first instant of that local day), as UTC.
SysSeconds IsoWeekStart(SysSeconds t, const date::time_zone* tz);

// Splits 10000 hundredths over `weights` in proportion (largest remainder): the maxima always
// add up to exactly 100.00 points. Zero or negative weights get 0.
std::vector<long long> SplitPoints(const std::vector<double>& weights);

}  // namespace crmh::jobs
