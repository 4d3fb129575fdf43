// The demo CRM: a realistic, deliberately dirty contact database in the generic schema.
//
// It is the test bed of every job: dedup (planted duplicate groups with a recorded ground truth),
// prune (stale, never-contacted, opted-out, bounced contacts, and protected ones among them),
// standardize/validate (phones in many formats, country spelled a dozen ways, ALL-UPPER names,
// typo domains, role accounts, placeholders) and audit/score (owners with uneven books and uneven
// care). Everything is a pure function of (seed, contacts, now), so tests can pin numbers.
//
// Works on any soci::session of the sqlite3 or mysql backend. MySQL sessions must speak utf8mb4;
// CreateDemoCrm sets `SET NAMES utf8mb4` itself before writing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace soci {
class session;
}

namespace crmh::demo {

// 2026-11-22 00:00:00 UTC: the default reference time, so default options reproduce byte-identical
// data. `crm-hygiene demo` passes the real clock instead so prune's "12 months ago" means today.
inline constexpr std::chrono::sys_seconds kDefaultDemoNow{
    std::chrono::sys_days{std::chrono::year{2026} / 11 / 22}};

struct DemoDataOptions {
  int contacts = 3000;  // 0 .. 2,000,000
  uint64_t seed = 20261122;
  std::chrono::sys_seconds now = kDefaultDemoNow;  // "now" for every generated timestamp
};

// What was generated. Counts marked (live) are over contacts with deleted = 0.
// All ids are the CRM primary keys as strings (DESIGN.md: ids are strings at every interface).
struct DemoDataSummary {
  int contacts = 0;    // rows in contacts, soft-deleted included
  int users = 0;       // sales reps + the system user
  int activities = 0;  // rows in activities (soft-deleted and parent_type='Deals' included)
  int deals = 0;
  int tags = 0;  // rows in contact_tags

  int duplicate_groups = 0;
  int duplicate_contacts = 0;        // contacts that belong to a duplicate group
  int non_latin_or_diacritic = 0;    // contacts whose first_name or last_name has a byte > 0x7F
  int stale = 0;             // (live) latest of live Contacts activity / last_contacted_at < now-365d
  int stale_protected = 0;   // (live) stale and customer, legal hold, open live deal or live 'keep' tag
  int never_contacted = 0;   // (live) no live Contacts activity and last_contacted_at NULL
  int opted_out = 0;         // (live) email_opt_out = 1
  int do_not_call = 0;       // (live)
  int bounced = 0;           // (live) email_bounced = 1
  int legal_hold = 0;        // (live)
  int customers = 0;         // (live) status = 'customer'
  int open_deals = 0;        // live deals with stage 'open'
  int deleted_contacts = 0;  // contacts already soft-deleted by the CRM
  int placeholders = 0;      // junk rows: "test test", "Mickey Mouse", a name that is an email...

  std::string system_user_id;  // users.id of `crm-hygiene` (is_system = 1)

  // Ground truth for dedup: each planted group's contact ids (ascending), groups ordered by their
  // first id; `duplicate_variations[i]` says how group i's members differ, e.g.
  // "typo,phone_format,company_suffix,owner". Placeholder rows are in no group.
  std::vector<std::vector<std::string>> duplicate_truth;
  std::vector<std::string> duplicate_variations;
  std::vector<std::string> placeholder_ids;
};

// Creates the generic schema tables (failing if any exists) and fills them in one transaction.
// backend: "sqlite" (or "sqlite3") / "mysql" (or "mariadb"); it must match the session.
// On MySQL, DDL commits implicitly, so the tables are created first and dropped again if filling
// them fails; tables that existed before are never touched. Never throws.
Result<DemoDataSummary> CreateDemoCrm(soci::session& sql, std::string_view backend,
                                      const DemoDataOptions& opt);

// The CREATE TABLE / CREATE INDEX statements of the generic schema for a backend, in order
// (users, contacts, activities, deals, contact_tags). Empty for an unknown backend.
std::vector<std::string> GenericSchemaDdl(std::string_view backend);

// The generic schema's table names, in creation order.
std::vector<std::string> GenericSchemaTables();

}  // namespace crmh::demo
