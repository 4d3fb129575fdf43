// Weekly history in the state schema (migration V6): the audit's completeness per ISO week and the
// score job's per-user scores, plus the per-record quality the score job compares against next
// week (credit for improvement).
//
// Everything here is keyed by (job, ISO week): saving a week replaces that week's rows in one
// transaction, so re-running a week never doubles anything. Weeks are "2026-W48" strings in the
// job's time zone; they sort chronologically as text.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time_util.h"
#include "crm/db.h"
#include "crm/state.h"

namespace crmh::crm {

// --- audit: one completeness snapshot per job and week (the last run of the week wins) ---

struct AuditWeekCell {
  std::string week;
  std::string owner;  // "" = all contacts
  std::string field;  // "" = the complete-contacts row
  long long filled = 0;
  long long total = 0;
};

Status SaveAuditWeek(Db& db, const std::string& job, const std::string& week,
                     const std::string& run_id, SysSeconds taken_at,
                     const std::vector<AuditCell>& cells);
// The cells of the last `weeks` weeks of `job` up to and including `up_to_week` (all weeks if
// empty), oldest week first.
Result<std::vector<AuditWeekCell>> AuditWeeks(Db& db, const std::string& job, int weeks,
                                              const std::string& up_to_week = {});

// --- score ---

struct ScoreWeek {
  std::string job;
  std::string week;
  std::string run_id;
  SysSeconds scored_at{};
};

struct ScoreRow {
  std::string owner;
  std::string name;
  long long score_centi = 0;  // the score in hundredths: exactly the sum of its components'
  long long records = 0;
  int rank = 0;
  std::optional<long long> delta_centi;  // against the previous scored week
  int streak = 0;
  std::string components_json = "{}";
  std::string badges_json = "[]";
};

// What next week's improvement credit compares against: one row per live contact.
struct RecordQuality {
  std::string contact_id;
  std::string owner;
  double completeness = 0.0;  // weighted share of mandatory fields filled, 0..1
  bool flagged = false;       // an open validation flag
};

// Replaces the week's scores and record qualities in one transaction, and drops record qualities
// of weeks older than this one's predecessor (only the latest is ever compared against).
Status SaveScoreWeek(Db& db, const ScoreWeek& week, const std::vector<ScoreRow>& rows,
                     const std::vector<RecordQuality>& records);
// The newest scored week of `job` before `week` (text order), if any.
Result<std::optional<ScoreWeek>> PreviousScoreWeek(Db& db, const std::string& job,
                                                   const std::string& week);
Result<std::vector<RecordQuality>> LoadRecordQualities(Db& db, const std::string& job,
                                                       const std::string& week);
Result<std::vector<ScoreRow>> LoadScores(Db& db, const std::string& job, const std::string& week);

struct ScoreHistoryRow {
  std::string week;
  std::string owner;
  long long score_centi = 0;
  int rank = 0;
};
// The last `weeks` scored weeks of `job` up to and including `up_to_week`, oldest first.
Result<std::vector<ScoreHistoryRow>> ScoreHistory(Db& db, const std::string& job, int weeks,
                                                  const std::string& up_to_week);

// The V6 migration's statements (crm/state.cpp runs them).
std::vector<std::string> ScoreTablesV6(Db& db);

}  // namespace crmh::crm
