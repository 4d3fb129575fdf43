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
//
// The generic schema (what the `generic` mapping profile in core/config.cpp expects):
//   users(id, user_name UNIQUE, full_name, email, is_system)   reps + the system user crm-hygiene
//   contacts(id, first_name, last_name, email, email2, phone, mobile, company, address1, address2,
//            city, postcode, region, country, birthdate, status lead|customer|former, owner_id,
//            created_by, modified_by, created_at, updated_at, last_contacted_at, email_opt_out,
//            do_not_call, email_bounced, legal_hold, deleted, notes)
//   activities(id, parent_type Contacts|Deals, parent_id, kind call|meeting|email|note, subject,
//              occurred_at, created_by, deleted)      parent_id is a deal id when parent_type=Deals
//   deals(id, contact_id, name, stage open|won|lost, amount DECIMAL(12,2), created_at, deleted)
//   contact_tags(id, contact_id, tag vip|newsletter|keep|event-2026, deleted,
//                UNIQUE(contact_id, tag))
// Timestamps are UTC 'YYYY-MM-DD HH:MM:SS' (SQLite TEXT, MySQL DATETIME); flags are 0/1. Only the
// FK columns are indexed; there are no FOREIGN KEY constraints (CRMs rarely have them). Contact ids
// are 1..contacts and ascend with created_at; the reps are users 1..8, the system user comes last.
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
  int duplicate_contacts = 0;      // contacts that belong to a duplicate group
  int non_latin_or_diacritic = 0;  // contacts whose first_name or last_name has a byte > 0x7F
  // (live) the latest of last_contacted_at and the live parent_type='Contacts' activities is
  // before now - 365 days. A contact with neither is never_contacted, not stale.
  int stale = 0;
  // (live) stale and customer, legal hold, open live deal or live 'keep' tag
  int stale_protected = 0;
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
  // "typo,phone_format,company_suffix,owner". Placeholder rows are in no group; members are live.
  // The vocabulary, in this order: typo, swapped (first/last), nickname (Bob/Robert), diacritics
  // (Nguyễn/Nguyen), transliteration (王伟/Wang Wei), case (ALL-UPPER/lower), phone_format,
  // email_case (capitals/spaces), email_other (another address; the phone still matches),
  // company_suffix, missing_field (phone, email or company empty on one member), consent (members
  // disagree on email_opt_out), owner, created_by, shared_tag (two members carry the same live tag:
  // re-pointing hits UNIQUE(contact_id, tag)), shared_activity (the same activity on two members).
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
