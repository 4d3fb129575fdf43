// Scheduling policy with a fake clock: DST gap and fold, jitter, persistent catch-up, overlap,
// deadlines.
#include <doctest/doctest.h>

#include <set>

#include "core/clock.h"
#include "daemon/scheduler.h"

namespace crmh {
namespace {

SysSeconds T(const char* s) { return *ParseRfc3339(s); }

JobConfig Job(const char* schedule, const char* tz) {
  JobConfig j;
  j.name = "audit";
  j.kind = "audit";
  j.schedule = schedule;
  j.time_zone = tz;
  return j;
}

calendar::Schedule Spec(const JobConfig& j) {
  auto s = calendar::Schedule::Parse(j.schedule);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return *s;
}

TEST_CASE("spring-forward gap: run_at_transition runs once at 03:00, skip waits a day") {
  JobConfig j = Job("*-*-* 02:30", "Europe/Berlin");
  auto spec = Spec(j);
  FakeClock clock(T("2026-03-28T12:00:00Z"));
  j.dst_gap = calendar::DstGap::kRunAtTransition;
  auto s = sched::NextSlot(j, spec, "host", clock.Now());
  REQUIRE(s);
  CHECK(FormatRfc3339(s->slot) == "2026-03-29T01:00:00Z");  // 03:00 CEST
  auto after = sched::NextSlot(j, spec, "host", s->slot);
  CHECK(FormatRfc3339(after->slot) == "2026-03-30T00:30:00Z");

  j.dst_gap = calendar::DstGap::kSkip;
  s = sched::NextSlot(j, spec, "host", clock.Now());
  CHECK(FormatRfc3339(s->slot) == "2026-03-30T00:30:00Z");
}

TEST_CASE("autumn fold: a fixed time in the repeated hour runs once") {
  JobConfig j = Job("*-*-* 02:30", "Europe/Berlin");
  auto spec = Spec(j);
  auto s = sched::NextSlot(j, spec, "host", T("2026-10-24T12:00:00Z"));
  CHECK(FormatRfc3339(s->slot) == "2026-10-25T00:30:00Z");  // 02:30 CEST, the first one
  auto n = sched::NextSlot(j, spec, "host", s->slot);
  CHECK(FormatRfc3339(n->slot) == "2026-10-26T01:30:00Z");  // not 02:30 CET the same day
}

TEST_CASE("jitter is stable per job and host, bounded, and spreads jobs") {
  JobConfig j = Job("*-*-* 02:30", "UTC");
  j.jitter = std::chrono::seconds{600};
  auto a1 = sched::JitterOffset(j, "host-a");
  CHECK(a1 == sched::JitterOffset(j, "host-a"));
  std::set<long long> seen;
  for (int i = 0; i < 20; ++i) {
    auto o = sched::JitterOffset(j, "host-" + std::to_string(i));
    CHECK(o.count() >= 0);
    CHECK(o.count() <= 600);
    seen.insert(o.count());
  }
  CHECK(seen.size() > 10);
  auto s = sched::NextSlot(j, Spec(j), "host-a", T("2026-11-22T00:00:00Z"));
  CHECK(s->fire_at - s->slot == a1);
  j.jitter = std::chrono::seconds{0};
  CHECK(sched::JitterOffset(j, "host-a").count() == 0);
}

TEST_CASE("persistent catch-up runs the newest missed slot once, never a burst") {
  JobConfig j = Job("Mon *-*-* 07:00", "Europe/Berlin");
  auto spec = Spec(j);
  SysSeconds last = T("2026-11-02T06:00:00Z");  // Monday 07:00 CET
  SysSeconds now = T("2026-11-18T12:00:00Z");   // Wednesday, two Mondays missed
  CHECK_FALSE(sched::MissedSlot(j, spec, last, now));  // not persistent
  j.persistent = true;
  auto m = sched::MissedSlot(j, spec, last, now);
  REQUIRE(m);
  CHECK(FormatRfc3339(*m) == "2026-11-16T06:00:00Z");
  CHECK_FALSE(sched::MissedSlot(j, spec, std::nullopt, now));  // first start: nothing to catch up
  CHECK_FALSE(sched::MissedSlot(j, spec, T("2026-11-16T06:00:00Z"), now));  // nothing missed
}

TEST_CASE("persistent catch-up of a minutely job after a long outage stays bounded") {
  JobConfig j = Job("minutely", "UTC");
  j.persistent = true;
  auto m = sched::MissedSlot(j, Spec(j), T("2025-01-01T00:00:00Z"), T("2026-11-22T10:15:30Z"));
  REQUIRE(m);
  CHECK(FormatRfc3339(*m) == "2026-11-22T10:15:00Z");
}

TEST_CASE("overlap and deadline decisions") {
  JobConfig j = Job("hourly", "UTC");
  SysSeconds slot = T("2026-11-22T10:00:00Z");
  CHECK(sched::Decide(j, slot, slot, false) == sched::FireDecision::kRun);
  CHECK(sched::Decide(j, slot, slot, true) == sched::FireDecision::kSkipOverlap);
  j.overlap = Overlap::kQueue;
  CHECK(sched::Decide(j, slot, slot, true) == sched::FireDecision::kQueue);
  j.starting_deadline = std::chrono::seconds{300};
  CHECK(sched::Decide(j, slot, slot + std::chrono::seconds{299}, false) == sched::FireDecision::kRun);
  CHECK(sched::Decide(j, slot, slot + std::chrono::seconds{301}, false) ==
        sched::FireDecision::kSkipDeadline);
  CHECK(std::string(sched::ReasonFor(sched::FireDecision::kSkipDeadline)) == "deadline");
  CHECK(std::string(sched::ReasonFor(sched::FireDecision::kSkipOverlap)) == "overlap");
}

TEST_CASE("a job without a schedule or with an impossible one never fires") {
  JobConfig j = Job("*-02-30", "UTC");
  CHECK_FALSE(sched::NextSlot(j, Spec(j), "h", T("2026-11-22T00:00:00Z")));
}

}  // namespace
}  // namespace crmh
