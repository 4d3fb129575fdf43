// Streaming a SELECT's rows as text, one row at a time: the fast way to read many rows.
//
// What it is for: reading a large table in keyset pages (the dedup sweep reads 1M contacts).
// Through soci::rowset<soci::row> every cell becomes a holder, a typed copy and then a
// std::string again (CellText), and SOCI's MySQL backend buffers the whole result first; here, on
// MySQL/MariaDB, the connection's own MYSQL* streams the rows (mysql_use_result, as
// `mariadb --quick` does) and each cell is a view of the client library's row buffer. On SQLite
// it is SOCI's rowset with CellText (SQLite is not where the large reads happen).
//
// Values are exactly CellText's (crm/db.h) for the same query: NULL is "" (TextRow::null tells
// it apart); strings, blobs and JSON are their bytes as the server sent them; integers in
// decimal; DOUBLE, FLOAT and DECIMAL as fmt's shortest form of the double SOCI would have
// parsed; DATE, DATETIME, TIMESTAMP and TIME as "YYYY-MM-DD HH:MM:SS" (TIME on 1900-01-01),
// fractions of a second dropped. tests/text_rows_test.cpp compares the two on every type.
//
// Thread safety: as Db (one thread at a time). While the stream runs, the connection is busy:
// the callback must not use `db`.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "crm/db.h"

namespace crmh::crm {

// One row: a view per cell, valid only during the callback that receives it.
class TextRow {
 public:
  size_t size() const { return cells_.size(); }
  // The cell's text; "" for NULL.
  std::string_view operator[](size_t i) const { return cells_[i]; }
  bool null(size_t i) const { return nulls_[i] != 0; }

 private:
  friend class TextRowFiller;
  std::vector<std::string_view> cells_;
  std::vector<char> nulls_;
};

// `:name` placeholders in the SQL and their values, bound as strings (as soci::use(std::string)).
// A placeholder without a value is an error on every backend (SOCI's SQLite would read NULL).
using TextParams = std::vector<std::pair<std::string, std::string>>;

// Runs `sql` and calls `on_row` for each row of its result, in order. Errors as Guard gives them,
// with `what` as context: a lost connection is Error::Db, any other failure (also an exception
// thrown by `on_row`, which ends the stream) Error::Failed. The statement goes through the
// session's logger like any SOCI statement (the fault-injection and SQL-trace hooks count it).
Status ForEachTextRow(Db& db, std::string_view what, const std::string& sql,
                      const TextParams& params, const std::function<void(const TextRow&)>& on_row);

// ForEachTextRow in two halves, for a query that the server works on while this thread goes on
// (MySQL/MariaDB only). SendTextQuery logs `sql` (the fault-injection and SQL-trace hooks count
// it here, in this thread's order of statements) and sends it without waiting for the result;
// returns false, sending nothing, where it cannot (SQLite: use ForEachTextRow), else true with
// the send's outcome in `*sent`. ReadTextRows then waits for the result and streams its rows,
// from any one thread at a time. Between the two the session must not be used for anything
// else, and after a successful send ReadTextRows must be called before the session is.
bool SendTextQuery(Db& db, std::string_view what, const std::string& sql, Status* sent);
Status ReadTextRows(Db& db, std::string_view what, const std::function<void(const TextRow&)>& on_row);

// `sql` with each `:name` outside quotes and backquotes replaced by `quote(value)`; a placeholder
// without a value throws. Exposed for the tests.
std::string BindNamedText(const std::string& sql, const TextParams& params,
                          const std::function<std::string(const std::string&)>& quote);

}  // namespace crmh::crm
