// The demo's 12 weeks: `crm-hygiene demo` creates its CRM as it was 11 weeks ago and lives through
// the weeks under a fake clock (core/clock.h), so the digest's 12-week trends come from real runs.
//
// Each week the CRM's users do what users do — the reps fix some of their own records (the careful
// ones more than the sloppy ones; one rep, mnguyen, cleans up her book week after week), new leads
// arrive (some dirty: capitals and spaces in emails, phones in every format, fields left empty),
// some contacts are entered a second time by a rep who did not search first, and reps log calls on
// some contacts (which closes their prune notices) — then every demo job runs once, on Monday
// morning in the team's zone: audit, standardize, dedup, prune (notices), score, digest.
//
// Deterministic: the changes are a pure function of (seed, week index, the CRM's rows).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace date {
class time_zone;
}
namespace soci {
class session;
}

namespace crmh::crm {
class Db;
}

namespace crmh::demo {

// `weeks` run times, one per consecutive ISO week in `tz`, oldest first, each at the same offset
// from its Monday 00:00 local. The last is `now` minus 10 minutes, kept at least two hours from
// both ends of its week (so a DST hour or the jobs' minutes never spill into a neighbour week);
// when `now` is within two hours of its week's start, the last simulated week is the one before.
std::vector<std::chrono::sys_seconds> SimulationTimes(std::chrono::sys_seconds now,
                                                      const date::time_zone* tz, int weeks);

struct WeekChanges {
  int fixed = 0;        // records a rep fixed (a field filled, a flagged value corrected)
  int junk_removed = 0; // placeholder contacts a rep deleted (soft)
  int arrived = 0;      // new contacts
  int duplicates = 0;   // new contacts that repeat an existing one
  int calls = 0;        // activities logged
};

// One week of user activity on the demo CRM (SQLite, generic schema, state prefix crmh_), stamped
// `now`. Week 0 is the CRM as generated: call it for weeks 1.. only.
Result<WeekChanges> SimulateWeek(soci::session& sql, int week, std::chrono::sys_seconds now,
                                 uint64_t seed);

struct ReviewWork {
  int approved = 0;  // the next dedup run merges them
  int rejected = 0;  // their pairs are never proposed again
};

// A human works the review queue (crm/review.h), as `review approve/reject` would: approves open
// items of at most 3 members scoring 0.90 or more (up to 10 a week) and rejects the oldest open
// items that chain more than 5 members or score below 0.50 (up to 15 a week).
Result<ReviewWork> WorkReviewQueue(crm::Db& db, std::chrono::sys_seconds now);

}  // namespace crmh::demo
