// The ledger: exact before-images of every CRM row a run changes, and the text of each row as
// the run left it (its after-image), kept inside the CRM server (or the CRM's SQLite file) so the
// backup commits in the same transaction as the change (DESIGN.md invariants 1 and 2).
//
// Before-images are copied server-side (INSERT … SELECT) into one shadow table per CRM table,
// `<prefix>bk_<table>`, created from the live table so every column keeps its exact type —
// never through soci::row (which rounds DECIMAL and drops DATETIME fractions); restore puts them
// back. Rows are compared as "row text": every column quoted by the server (QUOTE()/quote(): NULL
// and '' differ) and joined, so a comparison is exact and needs no client-side type conversion.
// After-images are only ever compared (restore's conflict check: is the row still as the run left
// it?), so the ledger row keeps them as row text (`after_text`, state V9), written by the same
// statement that writes the ledger row after the change. Runs made before V9 have typed
// after-images in the shadow tables (image 'a'); restore and score still read those.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

// The row text as the ledger's `after_text` stores it and compares it: MySQL, the bytes the client
// would receive (utf8mb4, or raw for a binary text) as a binary string; SQLite, the text itself.
// `charset` is CHARSET() of the MySQL expression (see ShadowTable); ignored for SQLite.
std::string RowTextBytes(const Db& db, const std::vector<std::string>& cols, const std::string& a,
                         const std::string& charset);
// A row text (as RowTextExpr/RowTextBytes make it) split back into its values, in column order
// (nullopt = NULL): MySQL QUOTE()'s 'text' with backslash escapes; SQLite quote()'s 'text' with
// '' for a quote, bare numbers, and X'…' blobs (kept as written). nullopt if it does not parse.
std::optional<std::vector<std::optional<std::string>>> SplitRowText(const Db& db,
                                                                    std::string_view text);
// CHARSET() of a table's row-text expression (MySQL; "" for SQLite).
Result<std::string> RowTextCharset(Db& db, const std::string& table,
                                   const std::vector<std::string>& cols);

// The live row's text; nullopt if the row does not exist. `for_update` locks it (MySQL).
Result<std::optional<std::string>> LiveRowText(Db& db, const std::vector<std::string>& cols,
                                               const RowRef& row, bool for_update);

// What a run committed, from its ledger rows: the truth after a failure whose last COMMIT may or
// may not have reached the server (the connection died with the answer).
struct RunTally {
  long long sets = 0;  // change sets committed
  long long rows = 0;  // row operations committed
};
Result<RunTally> TallyRun(Db& db, const std::string& run_id);

// Removes images (retention, forget).
Status DeleteImages(Db& db, const std::string& table, const std::string& run_id);

// A bound value of a Statements call: text (kept alive by the caller), bytes or an integer.
// Bytes are bound as a binary string on MySQL/MariaDB (MYSQL_TYPE_BLOB: the server takes them
// as they are, with no character-set conversion — a row text compared byte for byte), as text
// on SQLite (where a row text is text, and a BLOB never equals a TEXT).
struct SqlParam {
  const std::string* text = nullptr;
  long long integer = 0;
  bool bytes = false;
  static SqlParam Text(const std::string& s) { return {&s, 0, false}; }
  static SqlParam Bytes(const std::string& s) { return {&s, 0, true}; }
  static SqlParam Int(long long v) { return {nullptr, v, false}; }
};

// Runs the engine's statements, each text prepared once per run on the session's own
// connection (SOCI prepares every statement anew, and its MySQL backend sends it as text for
// the server to parse each time). MySQL/MariaDB: server-side prepared statements (binary
// protocol), `?` in place of each `:name`; SQLite: sqlite3_prepare_v2, reset after each use.
// Every execution goes through the session's logger first, so the statement trace and the crash
// hook (CRM_HYGIENE_FAULT) see it like any other statement.
// Throws on failure (std::runtime_error with the server's message, which crm::Guard classifies).
// Not thread-safe; the Db must outlive it.
class Statements {
 public:
  explicit Statements(Db& db);
  ~Statements();
  Statements(const Statements&) = delete;
  Statements& operator=(const Statements&) = delete;

  // Executes a statement; returns the affected rows.
  long long Exec(const std::string& sql, const std::vector<SqlParam>& params);
  // Runs a query whose `ncols` columns are integers (NULL reads as 0); returns its rows.
  std::vector<std::vector<long long>> Query(const std::string& sql,
                                            const std::vector<SqlParam>& params, size_t ncols);

 private:
  struct Native;
  Native* Prepare(const std::string& sql);
  Db& db_;
  std::map<std::string, std::unique_ptr<Native>> cache_;
};

// One CRM table as the safe-change engine and restore use it for a whole run: its columns, its
// shadow table, and the statement texts of every step, built once per shape (step and row count)
// and reused. Each step is one statement per table and change set, whatever the row count; a
// single-row set costs BEGIN, CopyIfUnchanged, the change, RecordVerified, COMMIT.
//
// Exactness: rows are compared as row text (RowTextExpr), byte for byte. CopyIfUnchanged
// compares the live row with the planner's text inside the server: on MySQL as the bytes the
// client would have received (the server's text converted to utf8mb4 as character_set_results
// does, or raw when the text is binary), sent as binary parameters (SqlParam::Bytes: no
// character-set conversion, no literal reinterpreted) into a binary column of the plan table; on
// SQLite with `=` on text (memcmp). RecordVerified reads each stored before-image back and
// compares it with the planned text the same way; after-images are compared with live rows as
// binary strings (MySQL) or with `=` (SQLite): no collation calls 'A' and 'a' or 'x' and 'x '
// equal. Not thread-safe; the Db must outlive it.
class ShadowTable {
 public:
  // `ensure`: create the shadow table, or add columns the live table gained (DDL: outside any
  // transaction). Restore passes false: it only reads and writes existing images.
  static Result<std::unique_ptr<ShadowTable>> Open(Db& db, const std::string& table,
                                                   const std::string& id_column, bool ensure);

  const std::string& table() const { return table_; }
  const std::string& id_column() const { return id_column_; }
  const std::vector<std::string>& columns() const { return cols_; }

  struct Planned {
    std::string id;
    int op_no = 0;
    const std::string* expect = nullptr;  // the row text the plan saw
    // The op's ledger fields (may be null here): with them, a step over more rows than the join
    // threshold fills the plan table once for CopyIfUnchanged and RecordVerified both.
    const std::string* opname = nullptr;
    const std::string* label = nullptr;
  };
  // Lock, compare and back up in one statement: copies into the shadow table, under
  // (run, set, op, 'b'), each row of `rows` whose live text equals its planned text exactly,
  // locking the rows it reads (FOR UPDATE; SQLite: the caller's BEGIN IMMEDIATE). Returns rows
  // copied: fewer than rows.size() means a row changed since the plan or is gone. The ids must be
  // distinct (a row met twice goes in a second call).
  // `archived_at` (the `archive` op, crm/archive.h): the before-image IS the archived row — it
  // goes into the table's archive under (run, set, op), stamped with this time, instead of the
  // shadow table; RecordVerified, CheckImages and PutBackImages read it there (`archive` true).
  // One row write per row instead of two. The archive must exist.
  Result<long long> CopyIfUnchanged(const std::vector<Planned>& rows, const std::string& run_id,
                                    int set_no, const std::string* archived_at = nullptr);

  struct LedgerRow {
    int op_no = 0;
    std::string row_id, op, label;
    const std::string* expect = nullptr;  // the planned row text (as given to CopyIfUnchanged)
  };
  // Verification and ledger in one statement, run AFTER the set's changes: for each of this
  // set's before-images of this table that equals its planned text byte for byte (the text
  // CopyIfUnchanged found the locked live row at, so: the image equals the row as it was), writes
  // the ledger row of its op (`rows`, by op_no) with `after_text` = the row's text now (NULL
  // when the row is gone). Returns ledger rows written: fewer than rows.size() means a backup
  // could not be verified.
  // `archive`: the images are the archived rows (CopyIfUnchanged with archived_at).
  Result<long long> RecordVerified(const std::vector<LedgerRow>& rows, const std::string& run_id,
                                   int set_no, const std::string& now, bool archive = false);

  // Restore's view of one before-image: is its row live, is there an after-image (the ledger
  // row's after_text, or a typed image 'a' from before V9), and does the live row equal it
  // (server-side, byte for byte).
  struct ImageState {
    int set_no = 0;
    int op_no = 0;
    bool present = false;
    bool has_after = false;
    bool after_equals_live = false;
    bool archived = false;  // the image is the archived row (CheckImages with `archive`)
  };
  // Every before-image of the run (or of one set), one statement; `for_update` locks the live
  // rows (and the gaps of missing ones) on MySQL. `archive`: the images kept as archived rows
  // (archive runs made before 2026-12-06 kept their images in the shadow table and a copy in the
  // archive — the caller prefers the shadow's image when both exist).
  Result<std::vector<ImageState>> CheckImages(const std::string& run_id, std::optional<int> set_no,
                                              bool for_update, bool archive = false);
  // Puts the before-images of (run, set, op) back for the rows (id, op): `insert` for rows that
  // are gone (they come back with their ids), else one UPDATE … JOIN. Ids distinct. Returns rows
  // put back (UPDATE: rows verified equal to their images when MySQL reports unchanged rows as
  // unaffected).
  Result<long long> PutBackImages(const std::string& run_id, int set_no,
                                  const std::vector<std::pair<std::string, int>>& id_ops,
                                  bool insert, bool archive = false);

  // Restore of archived rows: removes the set's rows from the archive (after PutBackImages has
  // read them). Returns rows removed.
  Result<long long> DropArchived(const std::string& run_id, int set_no);
  // Deletes the rows with these ids in one statement. Ids distinct. Returns rows deleted.
  Result<long long> DeleteRows(const std::vector<std::string>& ids);

  // Steps over more rows than this (default 64) send the per-row values (planned text, op, ledger
  // label) as rows of a per-connection temporary table and join it, instead of CASE lists whose
  // evaluation grows with rows × rows (a 1,000-contact prune set has ~5,000 child rows). Tests set
  // it to 0 to run the join path on small sets.
  static void SetJoinThreshold(size_t rows);

 private:
  ShadowTable(Db& db, std::string table, std::string id_column)
      : db_(db), stmts_(db), table_(std::move(table)), id_column_(std::move(id_column)) {}
  const std::string& Text(const std::string& key, const std::function<std::string()>& make);
  SqlParam Id(const std::string& id) const;  // an integer for an integer id column (MySQL)

  Db& db_;
  Statements stmts_;
  std::string table_, id_column_;
  std::vector<std::string> cols_;
  std::string shadow_, archive_, qtable_, qid_, list_;
  std::string live_cmp_;  // the live row's text as compared with a planned text
  std::string eq_bt_;     // image b equal to live row t
  std::string eq_at_;     // image a equal to live row t (typed after-images made before V9)
  std::string b_cmp_;     // image b's text as compared with a planned text
  std::string t_bytes_;   // live row t's text as after_text stores it
  bool id_int_ = false;   // MySQL: the id column is an integer type
  std::string tmp_;       // the temporary table of the join path ("" = not created: CASE only)

  struct TmpRow {
    int op_no = 0;
    const std::string* id = nullptr;
    const std::string* expect = nullptr;  // or null
    const std::string* opname = nullptr;
    const std::string* label = nullptr;
  };
  bool UseJoin(size_t n, const std::vector<const std::string*>& ids) const;
  void FillTmp(const std::vector<TmpRow>& rows);  // throws
  // What the plan table holds now (FillTmp): run, set and ops, so RecordVerified can reuse a
  // fill CopyIfUnchanged made with the ledger fields.
  std::string tmp_run_;
  int tmp_set_ = 0;
  std::vector<int> tmp_ops_;
  bool tmp_has_ledger_ = false;
  std::string TmpJoin(const std::string& t, const std::string& p) const;  // "t.id = p.…"
  std::map<std::string, std::string> texts_;
};

}  // namespace crmh::crm
