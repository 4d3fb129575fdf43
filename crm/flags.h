// Validation flags in the state schema (table <prefix>flags, migration V4): what standardize's
// validation found wrong with a contact's field, under a stable code (match/validate.h). Never
// destructive: a flag is a note for a human, the digest and the score.
//
// A flag is an episode: opened when a run first sees (contact, field, code), kept (last_seen_*)
// while runs keep seeing it, cleared (cleared_at, cleared_run) by the first run that validates
// that field and no longer sees it — the data was fixed, or the contact is gone. A flag that comes
// back later opens a new row; the old one stays as history.
#pragma once

#include <string>
#include <vector>

#include "core/time_util.h"
#include "crm/db.h"

namespace crmh::crm {

struct FoundFlag {
  std::string contact_id;
  std::string field;   // logical field ("email"), or "name" for first + last together
  std::string code;    // stable code (match::FlagCodes())
  std::string detail;  // suggestion / type / reason; never the whole value
};

struct FlagSyncStats {
  long long opened = 0;   // new this run
  long long kept = 0;     // open before and seen again (opened_at unchanged)
  long long cleared = 0;  // open before, not seen by this run
};

// Makes the open flags of `fields` exactly `found`, in one transaction: flags of other fields
// (validated by a job with a different field list) are not touched. Duplicates in `found` count
// once.
Result<FlagSyncStats> SyncFlags(Db& db, const std::string& run_id, SysSeconds now,
                                const std::vector<std::string>& fields,
                                const std::vector<FoundFlag>& found);

struct FlagRow {
  long long id = 0;
  std::string contact_id, field, code, detail;
  std::string first_seen_run, last_seen_run, cleared_run;
  std::string opened_at, last_seen_at, cleared_at;  // SQL text; cleared_at "" while open
};
// Flags ordered by id; open_only: cleared ones left out.
Result<std::vector<FlagRow>> ListFlags(Db& db, bool open_only);

// Data-protection erasure (`forget CONTACT_ID`): every flag row of the contact, open or not.
// Returns how many.
Result<long long> ForgetFlags(Db& db, const std::string& contact_id);

}  // namespace crmh::crm
