// `audit`: counts contacts and measures completeness of the mandatory fields, per field and per
// owner, with optional weights for critical fields. Never destructive; records a snapshot per
// run (week-stamped) for trends.
#pragma once

#include <map>
#include <string>

#include "jobs/job.h"

namespace crmh::jobs {

// SQL that is 1 when the logical field `f` holds a non-blank value for the contact aliased `c`
// (a column of the contacts table, or a value in a related table), else 0.
std::string FilledExpr(crm::Db& db, const Mapping& m, const FieldMap& f);

// SQL for the latest timestamp (as text, NULL when none) of one activity source for the contact
// aliased `c`: its own column, or MAX over a child table's live rows (polymorphic type filtered).
// The child must be declared in mapping.children (config loading checks it).
std::string ActivityExpr(const crm::Db& db, const Mapping& m, const ActivitySource& a);

// Owner id → display name from the mapping's users table (empty when none is mapped). SOCI
// throws: call it inside crm::Guard.
std::map<std::string, std::string> OwnerNames(crm::Db& db, const Mapping& m);

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
