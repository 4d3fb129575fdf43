// `standardize`: rewrites mapped contact fields to one standard form through the safe-change
// engine, and (option `flags`) validates them into the state schema's flags table.
//
// Rules, each named so reports and the digest can say what it fixed. Per field they run in this
// fixed order, whatever order the YAML lists them in (StandardizeRules()):
//   trim_whitespace   every text field: trim, collapse whitespace runs (NBSP included)
//   lowercase_email   email, email2: trim, drop inner spaces, lowercase
//   (alias rules)     the admin's named alias tables (options.aliases), exact value → value
//   phone_e164        phone, mobile: E.164 (or options.phone_format) via libphonenumber, a national number read as one of
//                     the contact's own country (its country field), else of the job's
//                     default_region ("+14155550100"; an extension is kept as " ext. 12"). A
//                     number it cannot
//                     parse, or whose digits would not all survive, is left alone (and flagged)
//   country_canonical country: the canonical English name for any known code, name or alias
//                     ("USA", "Hoa Kỳ", "美国" → "United States"); unknown values are left alone
//   name_case         first_name, last_name: re-cased only when ALL-UPPER or all-lower
//                     (match::NameCase); mixed case is someone's deliberate spelling
//   company_suffix    company: only the final legal-form token's spelling (CompanySuffix)
// Every rewrite is a change set: ledger, limits, conflict check, `restore RUN_ID`.
//
// Fields the mapping reads from a related table (SuiteCRM's email from email_addresses, company
// from accounts) are not rewritten: such a row can be shared by other records (another contact,
// an account, a lead), and SuiteCRM keeps a second copy (email_address_caps) in step. The generic
// rules skip them (counted as related_fields_skipped); a rule the admin aimed at one — an alias
// table on it, or phone_format on a related phone — is a configuration error
// (CheckStandardizeJob), so nobody believes a rule runs that cannot.
//
// Validation (match::ValidateValue) looks at the value the plan writes (or the value as it is,
// when no rule changes it); Record() syncs the flags of the validated fields (crm/flags.h). A set
// skipped as changed-since-plan is validated again by the next run.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/flags.h"
#include "jobs/change.h"
#include "jobs/job.h"
#include "match/normalize.h"
#include "match/validate.h"

namespace crmh::jobs {

// The rules in the order they run on a field.
const std::vector<std::string>& StandardizeRules();

// The rules as pure functions (table-tested).
std::string TrimWhitespace(std::string_view v);
std::string LowercaseEmail(std::string_view v);
// The last token's spelling of a legal form, nothing else: "acme inc" → "acme Inc.",
// "Widgets ltd." → "Widgets Ltd", "Foo l.l.c." → "Foo LLC", "Bar GMBH" → "Bar GmbH"; also Corp.,
// LLP, AG. A one-token value ("Inc") is left alone.
std::string CompanySuffix(std::string_view v);

// The per-field pipeline: the enabled rules (a subset of StandardizeRules()) in their fixed order,
// sharing memoized Normalizers and PhoneCheckers (one per region).
//
// `region` is the contact's own country (ISO alpha-2, from its country field) when known: a
// national number ("030 1234567") is read as a number of that country; "" = the job's
// default_region. A number written with its country code is the same whatever the region.
class Standardizer {
 public:
  Standardizer(std::vector<std::string> rules, std::string default_region);
  ~Standardizer();
  // `value` of logical `field` after every enabled rule; `applied` (if given) receives the names
  // of the rules that changed it, in order.
  std::string Apply(std::string_view field, std::string_view value,
                    std::vector<std::string>* applied = nullptr, std::string_view region = {});
  // The phone_e164 rule alone (also used by Apply).
  std::string PhoneE164(std::string_view value, std::string_view region = {});
  // The country_canonical rule alone.
  std::string CountryCanonical(std::string_view value);
  // The ISO code of a country value, "" if unknown (the region for the contact's phones).
  std::string CountryCode(std::string_view value);
  std::vector<match::Finding> Validate(std::string_view field, std::string_view value,
                                       std::string_view region = {});
  // Option phone_format: e164 (default) | national | international. The phone_e164 rule then
  // writes that format and reports itself as phone_national / phone_international.
  void SetPhoneFormat(std::string format) { phone_format_ = std::move(format); }
  // Admin alias tables (options.aliases), applied right after trim_whitespace on their field,
  // whatever `rules` says; each reports under its own name.
  void SetAliases(std::vector<AliasRule> aliases) { aliases_ = std::move(aliases); }

 private:
  struct Region;
  Region& ForRegion(std::string_view region);
  bool On(std::string_view rule) const;
  std::vector<std::string> rules_;
  std::string default_region_;
  std::map<std::string, std::unique_ptr<Region>, std::less<>> regions_;
  std::string phone_format_ = "e164";
  std::vector<AliasRule> aliases_;
};

// Exit 2 (Error::Config) when an alias table or phone_format targets a field the mapping reads
// from a related table; run by Plan and by `check`.
Status CheckStandardizeJob(const Mapping& m, const JobConfig& job);

class StandardizeJob final : public JobKind {
 public:
  bool destructive() const override { return true; }
  Status Plan(RunContext& ctx, RunReport& report) override;
  Status Apply(RunContext& ctx, RunReport& report) override;
  Status Record(RunContext& ctx, RunReport& report) override;

 private:
  std::vector<ChangeSet> plan_;
  std::vector<std::string> flag_fields_;  // fields validated this run ("name": first + last)
  std::vector<crm::FoundFlag> flags_;
};

}  // namespace crmh::jobs
