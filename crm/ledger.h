// The ledger: exact before- and after-images of every CRM row a run changes, kept inside the
// CRM server (or the CRM's SQLite file) so the backup commits in the same transaction as the
// change (DESIGN.md invariants 1 and 2).
//
// Images are copied server-side (INSERT … SELECT) into one shadow table per CRM table,
// `<prefix>bk_<table>`, created from the live table so every column keeps its exact type —
// never through soci::row (which rounds DECIMAL and drops DATETIME fractions). Rows are compared
// as "row text": every column quoted by the server (QUOTE()/quote(): NULL and '' differ) and
// joined, so a comparison is exact and needs no client-side type conversion.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crm/db.h"

namespace crmh::crm {

struct RowRef {
  std::string table;
  std::string id_column;
  std::string id;
};

// Column names of `table` in table order (empty if the table does not exist).
Result<std::vector<std::string>> OrderedColumns(Db& db, const std::string& table);

// Creates the shadow table of `table`, or adds columns the live table gained since. DDL: call it
// outside any transaction (MySQL commits implicitly on DDL).
Status EnsureShadow(Db& db, const std::string& table);

// The SQL expression of a row's text over `cols` for alias `a` (exact, NULL-safe).
std::string RowTextExpr(const Db& db, const std::vector<std::string>& cols, const std::string& a);

// The live row's text; nullopt if the row does not exist. `for_update` locks it (MySQL).
Result<std::optional<std::string>> LiveRowText(Db& db, const std::vector<std::string>& cols,
                                               const RowRef& row, bool for_update);

struct ImageKey {
  std::string run_id;
  int set_no = 0;
  int op_no = 0;
  char image = 'b';  // 'b' before, 'a' after
};

// Copies the live row into the shadow table under `key`; returns rows copied (0 or 1).
Result<long long> CopyImage(Db& db, const std::vector<std::string>& cols, const RowRef& row,
                            const ImageKey& key);
// The stored image's text over `cols`; nullopt if there is no such image.
Result<std::optional<std::string>> ImageText(Db& db, const std::vector<std::string>& cols,
                                             const RowRef& row, const ImageKey& key);
// Puts the stored image back: UPDATE the live row from it, or INSERT it if the row is gone.
Status PutBack(Db& db, const std::vector<std::string>& cols, const RowRef& row,
               const ImageKey& key);
// Set-at-a-time forms (one statement for many rows of one table; the engine's fast path).
// The live rows' texts keyed by their id as text; `for_update` locks them (MySQL).
Result<std::map<std::string, std::string>> LiveRowTexts(Db& db, const std::vector<std::string>& cols,
                                                         const std::string& table,
                                                         const std::string& id_column,
                                                         const std::vector<std::string>& ids,
                                                         bool for_update);
// Copies the rows' images under (run, set, op of each id, image); returns rows copied.
Result<long long> CopyImages(Db& db, const std::vector<std::string>& cols, const std::string& table,
                             const std::string& id_column,
                             const std::vector<std::pair<std::string, int>>& id_ops,
                             const std::string& run_id, int set_no, char image);
// How many of this set's stored images of `table` equal their live rows, byte for byte.
Result<long long> CountImagesEqualLive(Db& db, const std::vector<std::string>& cols,
                                       const std::string& table, const std::string& id_column,
                                       const std::string& run_id, int set_no, char image);

// Removes images (retention, forget).
Status DeleteImages(Db& db, const std::string& table, const std::string& run_id);

}  // namespace crmh::crm
