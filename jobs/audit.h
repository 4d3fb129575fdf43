// `audit`: counts contacts and measures completeness of the mandatory fields, per field and per
// owner, with optional weights for critical fields. Never destructive; records a snapshot per
// run (week-stamped) for trends.
#pragma once

#include "jobs/job.h"

namespace crmh::jobs {

class AuditJob final : public JobKind {
 public:
  bool destructive() const override { return false; }
  Status Plan(RunContext& ctx, RunReport& report) override;
  Status Apply(RunContext&, RunReport&) override { return Status::Ok(); }
  Status Record(RunContext& ctx, RunReport& report) override;

 private:
  std::vector<crm::AuditCell> cells_;
};

}  // namespace crmh::jobs
