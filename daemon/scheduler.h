// Scheduling policy, as pure functions of (job config, calendar, instant): which slot comes
// next, when it fires (with jitter), what a persistent job missed, and what to do when a slot
// fires late or while the previous run is still going. Knows no database and no timers; the
// daemon feeds it instants from its Clock, tests feed it a fake one.
#pragma once

#include <optional>
#include <string>

#include "core/calendar.h"
#include "core/config.h"
#include "core/time_util.h"

namespace crmh::sched {

struct Slot {
  SysSeconds slot;     // the nominal time the calendar names (what the journal claims)
  SysSeconds fire_at;  // slot + this job's stable jitter
};

// Stable per job and host: the same instance always fires the same job at the same offset,
// different jobs/hosts spread out. In [0, jitter].
std::chrono::seconds JitterOffset(const JobConfig& job, const std::string& instance_id);

// The first slot strictly after `after` (nullopt: never, or the job has no schedule).
std::optional<Slot> NextSlot(const JobConfig& job, const calendar::Schedule& spec,
                             const std::string& instance_id, SysSeconds after);

// Persistent catch-up at start: the most recent slot in (last_claimed, now], if any — at most
// one, never a burst. Without a last claimed slot (first start), nothing is caught up.
std::optional<SysSeconds> MissedSlot(const JobConfig& job, const calendar::Schedule& spec,
                                     std::optional<SysSeconds> last_claimed, SysSeconds now);

enum class FireDecision { kRun, kQueue, kSkipOverlap, kSkipDeadline };

// A slot fires at `now`; `busy` says whether the job's previous run is still going.
FireDecision Decide(const JobConfig& job, SysSeconds slot, SysSeconds now, bool busy);

const char* ReasonFor(FireDecision d);  // "overlap" | "deadline" | ""

}  // namespace crmh::sched
