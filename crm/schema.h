// Live-schema checks: does every table/column the mapping names exist, and may we read/write it?
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "crm/db.h"

namespace crmh::crm {

// Column names of `table` (empty set if the table does not exist).
Result<std::set<std::string>> ListColumns(Db& db, const std::string& table);

// How a column of a MySQL/MariaDB table is read as exactly `CAST(col AS CHAR)`'s bytes, cheaper:
// - kPlain: character strings (CHAR, VARCHAR, the TEXT types) in a character set, not binary —
//   the session's results are utf8mb4 as CAST's are. The CAST cost the server ~0.6 s of CPU in a
//   1M-contact sweep's read of 13 string columns (session 14).
// - kBinary: numbers, dates and times (their text is ASCII): `CAST(col AS BINARY)`, the same
//   bytes without the conversion to utf8mb4 (~0.45 s of server CPU at 1M contacts for an id,
//   a birthdate, three times and two flags; session 20). Read plainly, they would be typed
//   values that crm::ForEachTextRow formats as SOCI would (dates with a time, decimals as doubles).
// Other columns (binary strings, ENUM, SET, BIT, MySQL's JSON) are not named and keep the CAST.
// Empty on SQLite (whose values keep their CAST).
enum class TextRead { kPlain, kBinary };
using TextReads = std::map<std::string, TextRead>;
Result<TextReads> TextColumns(Db& db, const std::string& table);

// `sql`, the SQL naming column `column` of the table `reads` describes, as CAST(sql AS CHAR)'s
// text.
std::string AsText(const TextReads& reads, const std::string& column, const std::string& sql);

struct SchemaCheck {
  std::vector<std::string> missing;  // "contacts.email2", "table calls_contacts"
  std::vector<std::string> checked;  // what was verified, for `check`'s report
  std::vector<std::string> grants;   // grant problems
};

// The mapping as this database holds it: `optional` references (children and grandchildren)
// whose table does not exist are left out, and so are the grandchildren below a reference left
// out. Jobs run on the resolved mapping (jobs/job.cpp), so an optional table is either followed
// everywhere or nowhere.
Result<Mapping> ResolveMapping(Db& db, const Mapping& m);

// Verifies every table and column the (resolved) mapping names against the live schema and that
// the session may SELECT them. Error::Config (exit 2) naming each missing table/column.
Result<SchemaCheck> VerifyMapping(Db& db, const Mapping& m);

// Proves the session may UPDATE (and, with `deletes`, DELETE from) `table` without changing a
// row: statements matching nothing, inside a transaction that is rolled back. Error::Config
// naming the grant otherwise.
Status ProbeWriteGrants(Db& db, const std::string& table, const std::string& id_column,
                        bool deletes);

// A foreign key of the live schema: `table`.`column` references `referenced` (same database).
struct ForeignKey {
  std::string table, column, referenced;
};

// Every foreign key (in the CRM database) that references one of `tables`: SQLite's
// pragma_foreign_key_list, MariaDB's information_schema.KEY_COLUMN_USAGE.
Result<std::vector<ForeignKey>> ForeignKeysTo(Db& db, const std::set<std::string>& tables);

// The contact columns the mapping reads from the contacts table itself (id first).
std::vector<std::string> ContactColumns(const Mapping& m);

}  // namespace crmh::crm
