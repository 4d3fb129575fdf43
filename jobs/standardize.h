// `standardize` (first slice): rewrites mapped text fields through the safe-change engine.
// Rules: trim_whitespace (trim and collapse runs of whitespace, NBSP included) and
// lowercase_email (trim + lowercase the email fields). Every rewrite is a change set: ledger,
// limits, conflict check, `restore RUN_ID`. The full standardize job (phones, countries, names)
// arrives with issue 6 and adds rules here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jobs/change.h"
#include "jobs/job.h"

namespace crmh::jobs {

// The rules as pure functions (table-tested).
std::string TrimWhitespace(std::string_view v);
std::string LowercaseEmail(std::string_view v);

class StandardizeJob final : public JobKind {
 public:
  bool destructive() const override { return true; }
  Status Plan(RunContext& ctx, RunReport& report) override;
  Status Apply(RunContext& ctx, RunReport& report) override;
  Status Record(RunContext&, RunReport&) override { return Status::Ok(); }

 private:
  std::vector<ChangeSet> plan_;
};

}  // namespace crmh::jobs
