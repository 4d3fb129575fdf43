// The dedup review queue: clusters between the review and auto thresholds wait here for a human
// (`crm-hygiene review list / approve ID / reject ID`). A cluster is queued once (open_key is
// unique while an item is open or approved); a rejected cluster's pairs are remembered in
// rejected_pairs and never proposed again.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/time_util.h"
#include "crm/db.h"

namespace crmh::crm {

struct ReviewItem {
  long long id = 0;
  std::string job;
  std::string cluster_key;  // ClusterKey(members)
  std::string survivor;
  std::vector<std::string> members;  // CRM ids, survivor first
  double score = 0.0;
  std::vector<std::string> matched;
  std::string why;
  std::string status;  // open | approved | rejected | merged | stale
  std::string created_run, seen_run, merged_run;
  std::string created_at, decided_at, decided_by, note;
};

// A stable key for a set of member ids (order-independent).
std::string ClusterKey(std::vector<std::string> members);

// Queues an item, or — if the same cluster is already open or approved — refreshes it (score,
// why, seen_run). Returns true if a new item was queued.
Result<bool> QueueReview(Db& db, const ReviewItem& item, SysSeconds now);
// Open items of `job` not seen by `run_id` no longer describe a live cluster: they become
// `stale` (kept for the record). Returns how many.
Result<long long> StaleUnseen(Db& db, const std::string& job, const std::string& run_id,
                              SysSeconds now);

Result<std::vector<ReviewItem>> ListReview(Db& db, const std::string& status_filter = {},
                                           int limit = 1000);
Result<std::optional<ReviewItem>> GetReview(Db& db, long long id);
Result<std::vector<ReviewItem>> ApprovedItems(Db& db, const std::string& job);

// approve: the next run of the item's job merges it (re-checking the rows first).
// reject: every pair of its members goes into rejected_pairs, in the same transaction.
// Only an open item can be decided (an approved one can still be rejected).
Status ApproveReview(Db& db, long long id, const std::string& who, SysSeconds now);
Status RejectReview(Db& db, long long id, const std::string& who, SysSeconds now);
// After the merge run: merged (with the run id) or stale (with why it could not be merged).
Status CloseReview(Db& db, long long id, const std::string& status, const std::string& run_id,
                   const std::string& note, SysSeconds now);

// Every rejected pair, as (smaller id, larger id).
Result<std::set<std::pair<std::string, std::string>>> RejectedPairs(Db& db);

}  // namespace crmh::crm
