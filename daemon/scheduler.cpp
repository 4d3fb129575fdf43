#include "daemon/scheduler.h"


namespace crmh::sched {

std::chrono::seconds JitterOffset(const JobConfig& job, const std::string& instance_id) {
  if (job.jitter.count() <= 0) return std::chrono::seconds{0};
  uint64_t h = Fnv1a64(job.name + "\n" + instance_id);
  return std::chrono::seconds{static_cast<long long>(h % static_cast<uint64_t>(job.jitter.count() + 1))};
}

std::optional<Slot> NextSlot(const JobConfig& job, const calendar::Schedule& spec,
                             const std::string& instance_id, SysSeconds after) {
  auto next = spec.Next(after, LookupZone(job.time_zone), job.dst_gap);
  if (!next) return std::nullopt;
  return Slot{*next, *next + JitterOffset(job, instance_id)};
}

std::optional<SysSeconds> MissedSlot(const JobConfig& job, const calendar::Schedule& spec,
                                     std::optional<SysSeconds> last_claimed, SysSeconds now) {
  if (!job.persistent || !last_claimed) return std::nullopt;
  const date::time_zone* tz = LookupZone(job.time_zone);
  std::optional<SysSeconds> missed;
  SysSeconds t = *last_claimed;
  // Walk forward to the newest slot <= now. A minutely job down for a year is ~500k steps:
  // bound the walk and, past the bound, jump close to now and look just behind it.
  for (int i = 0; i < 10000; ++i) {
    auto n = spec.Next(t, tz, job.dst_gap);
    if (!n || *n > now) return missed;
    missed = *n;
    t = *n;
  }
  for (auto back : {std::chrono::hours(1), std::chrono::hours(24 * 40), std::chrono::hours(24 * 800)}) {
    SysSeconds from = std::max(t, now - back);
    std::optional<SysSeconds> latest;
    for (auto n = spec.Next(from, tz, job.dst_gap); n && *n <= now; n = spec.Next(*n, tz, job.dst_gap)) {
      latest = n;
    }
    if (latest) return latest;
  }
  return missed;
}

FireDecision Decide(const JobConfig& job, SysSeconds slot, SysSeconds now, bool busy) {
  // Jitter is part of the plan, not lateness: allow for the largest offset.
  if (job.starting_deadline.count() > 0 && now > slot + job.jitter + job.starting_deadline) {
    return FireDecision::kSkipDeadline;
  }
  if (busy) {
    if (job.overlap == Overlap::kQueue) return FireDecision::kQueue;
    return FireDecision::kSkipOverlap;
  }
  return FireDecision::kRun;
}

const char* ReasonFor(FireDecision d) {
  switch (d) {
    case FireDecision::kSkipOverlap:
      return "overlap";
    case FireDecision::kSkipDeadline:
      return "deadline";
    default:
      return "";
  }
}

}  // namespace crmh::sched
