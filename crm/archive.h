// Archive tables: where the `archive` action of a prune moves CRM rows (issue 5), inside the
// state schema (or the CRM's SQLite file) so the move commits in the same transaction as the
// delete. One table per CRM table, `<prefix>ar_<table>`, created on demand from the live table
// like the engine's shadow tables (CREATE … SELECT: every column keeps its exact type), plus
// four keys of our own: the run, change set and op that archived the row (the ledger row it
// belongs to) and when. Archives follow the retention policy (jobs/retention.h purges rows older
// than retention_days; `forget CONTACT_ID` erases a person's rows) and `restore RUN_ID` takes a
// run's rows out again as it puts them back in the CRM.
#pragma once

#include <string>
#include <vector>

#include "core/time_util.h"
#include "crm/db.h"

namespace crmh::crm {

// The archive table of CRM table `table`, qualified and quoted.
std::string ArchiveName(const Db& db, const std::string& table);

// Creates the archive of `table`, or adds columns the live table gained since. DDL: call it
// outside any transaction.
Status EnsureArchive(Db& db, const std::string& table);

// CRM tables that have an archive table.
Result<std::vector<std::string>> ArchivedTables(Db& db);

// Retention: deletes archive rows archived before `cutoff` whose run has no ledger rows left
// (the archived row is the run's before-image: purge the run first), every archive table.
// Returns rows.
Result<long long> PurgeArchivesBefore(Db& db, SysSeconds cutoff);

// Erasure: deletes the archive rows of `table` whose `column` equals `value` (and, when
// type_column is set, whose type_column equals type_value). No archive table: 0.
Result<long long> EraseArchived(Db& db, const std::string& table, const std::string& column,
                                const std::string& value, const std::string& type_column = {},
                                const std::string& type_value = {});

}  // namespace crmh::crm
