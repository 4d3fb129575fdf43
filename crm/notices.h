// Prune notices in the state schema (table <prefix>notices, migration V5): each contact a prune
// job means to remove is announced first, with the date it will go. A notice is an episode:
// `open` until the job prunes the contact (`pruned`), a human takes it off the list
// (`rescued`: `crm-hygiene rescue CONTACT_ID`), the contact shows activity after the notice
// (`activity`), stops qualifying or becomes protected (`cleared`), or leaves the CRM some other
// way (`gone`). A closed notice stays as history; a contact may be noticed again later as a new
// row. `crm/` knows no job: the rules for opening and closing are in jobs/prune.cpp.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time_util.h"
#include "crm/db.h"

namespace crmh::crm {

struct NoticeRow {
  long long id = 0;
  std::string job, contact_id, owner, reasons, last_activity, noticed_run;
  SysSeconds noticed_at{}, prune_after{};
  std::string status;  // open | pruned | rescued | activity | cleared | gone
  std::optional<SysSeconds> closed_at;
  std::string closed_run, closed_by;
};

// Notices ordered by id; `job` empty = every job; open_only: closed ones left out.
Result<std::vector<NoticeRow>> ListNotices(Db& db, const std::string& job, bool open_only);

// What planning needs of an open notice (ListNotices reads every column: 3 s for 200k).
struct OpenNotice {
  long long id = 0;
  std::string contact_id;
  SysSeconds noticed_at{}, prune_after{};
};

// The open notices of `job`, ordered by id.
Result<std::vector<OpenNotice>> ListOpenNotices(Db& db, const std::string& job);

struct NewNotice {
  std::string contact_id, owner, reasons;
  std::string last_activity;  // SQL time text, "" = never
};

// Opens one notice per contact in one transaction; a contact that already has an open notice of
// `job` keeps it (counted out). Returns how many were opened.
Result<long long> OpenNotices(Db& db, const std::string& job, const std::string& run_id,
                              SysSeconds now, SysSeconds prune_after,
                              const std::vector<NewNotice>& notices);

// Closes open notices (by id) with `status`, in one transaction. Returns how many.
Result<long long> CloseNotices(Db& db, const std::vector<long long>& ids, const std::string& status,
                               const std::string& run_id, const std::string& by, SysSeconds now);

// `crm-hygiene rescue`: closes every open notice of the contact as `rescued`. Returns how many
// (0: the contact has no open notice).
Result<long long> RescueContact(Db& db, const std::string& contact_id, const std::string& by,
                                SysSeconds now);

// Contacts of `job` rescued at or after `since` (they get no new notice yet).
Result<std::vector<std::string>> RescuedSince(Db& db, const std::string& job, SysSeconds since);

// Data-protection erasure (`forget CONTACT_ID`): every notice row of the contact. Returns how many.
Result<long long> ForgetNotices(Db& db, const std::string& contact_id);

}  // namespace crmh::crm
