// Retention and erasure of what the safe-change engine keeps: ledger entries with their row
// images, and verified dumps.
//
// `retention` (a job kind, typically daily) purges runs older than `retention_days` (default 30):
// after that a run can no longer be restored. `crm-hygiene forget CONTACT_ID` erases one person
// from every backup we hold (data-protection erasure) and journals that it happened without the
// personal data.
#pragma once

#include <string>

#include "jobs/job.h"

namespace crmh::jobs {

struct PurgeStats {
  long long runs = 0;
  long long ledger_rows = 0;
  long long images = 0;
  long long dumps = 0;
  long long flags = 0;  // forget: validation flags about the contact (they quote its values)
  long long notices = 0;  // forget: prune notices about the contact
  long long archived = 0;  // archive rows (crm/archive.h) purged or erased
  long long sweep_caches = 0;  // forget: dedup sweep cache files deleted (jobs/dedup_cache.h)
};

// Purges ledger entries, images and dumps of runs whose changes are older than `cutoff`.
Result<PurgeStats> PurgeOlderThan(crm::Db& db, const Config& cfg, SysSeconds cutoff);

// Erases a contact (and its child rows' images) from the ledger, its validation flags, and deletes
// every dump and every dedup sweep cache that may contain it (neither can be edited safely; a
// missing sweep cache only means the next sweep prepares every contact).
Result<PurgeStats> ForgetContact(crm::Db& db, const Config& cfg, const std::string& contact_id);

class RetentionJob final : public JobKind {
 public:
  bool destructive() const override { return false; }  // touches no CRM row
  Status Plan(RunContext& ctx, RunReport& report) override;
  Status Apply(RunContext& ctx, RunReport& report) override;
  Status Record(RunContext&, RunReport&) override { return Status::Ok(); }
};

}  // namespace crmh::jobs
