// `dedup`: find duplicate contacts and merge them through the safe-change engine.
//
//   read (keyset pages, bounded memory) → normalize (match/normalize.h, both cores) → block,
//   compare, EM, cluster (match/matcher.h) → per cluster: auto (merge now) or review (queue for
//   a human) → each merge is ONE change set: the survivor filled from the losers (never a value
//   replaced by an empty one; consent OR-ed), every mapped child reference re-pointed (unique
//   conflicts by policy), losers removed the CRM's way. Ledger, limits, conflict check and
//   `restore RUN_ID` come from the engine (jobs/change.h). docs/dedup.md explains it to admins.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crm/review.h"
#include "jobs/change.h"
#include "jobs/job.h"

namespace crmh::jobs {

// One merge as planned: which contacts, and the change set that does it.
struct MergePlan {
  std::string survivor;
  std::vector<std::string> losers;
  long long review_id = 0;  // 0: an automatic merge
  ChangeSet set;
  long long children_repointed = 0;
  long long children_deduped = 0;
  std::vector<std::string> values_not_kept;  // "email2 'x@y' of 42: no free slot"
};

// How many pages the sweep's reader keeps in flight (read, being prepared, not yet appended) for
// `threads` workers and pages of `page_size` contacts: `threads` + 2, at most 60,000 contacts'
// worth (at least two pages) whatever `threads` says — the memory bound (docs/dedup.md §9).
size_t SweepReadAheadPages(int threads, int page_size);

class DedupJob final : public JobKind {
 public:
  bool destructive() const override { return true; }
  Status Plan(RunContext& ctx, RunReport& report) override;
  Status Apply(RunContext& ctx, RunReport& report) override;
  Status Record(RunContext& ctx, RunReport& report) override;

 private:
  std::vector<MergePlan> merges_;
  std::vector<crm::ReviewItem> to_queue_;
  // Approved review items that could not be merged, and why (closed `stale` by Record).
  std::vector<std::pair<long long, std::string>> review_stale_;
  bool full_scan_ = false;
  std::vector<int> applied_sets_;  // set numbers (1-based) the engine committed
};

}  // namespace crmh::jobs
