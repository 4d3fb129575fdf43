#include "crm/ledger.h"

#include <fmt/format.h>
#include <soci/mysql/soci-mysql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <stdexcept>

namespace crmh::crm {
namespace {

std::string Shadow(const Db& db, const std::string& table) { return db.State("bk_" + table); }

size_t g_join_threshold = 64;

}  // namespace

Result<std::vector<std::string>> OrderedColumns(Db& db, const std::string& table) {
  std::vector<std::string> cols;
  Status st = Guard(fmt::format("reading the columns of {}", table), [&] {
    soci::rowset<soci::row> rs =
        db.mysql() ? (db.sql().prepare << "SELECT column_name FROM information_schema.columns "
                                          "WHERE table_schema = DATABASE() AND table_name = :t "
                                          "ORDER BY ordinal_position",
                      soci::use(table))
                   : (db.sql().prepare << "SELECT name FROM pragma_table_info(:t) ORDER BY cid",
                      soci::use(table));
    for (const auto& r : rs) cols.push_back(CellText(r, 0));
  });
  if (!st) return st.error();
  return cols;
}

std::string RowTextExpr(const Db& db, const std::vector<std::string>& cols, const std::string& a) {
  std::string prefix = a.empty() ? "" : a + ".";
  std::string out;
  if (db.mysql()) {
    out = "CONCAT_WS(','";
    for (const auto& c : cols) out += fmt::format(", QUOTE({}{})", prefix, db.Q(c));
    return out + ")";
  }
  for (const auto& c : cols) {
    out += (out.empty() ? "" : " || ',' || ") + fmt::format("quote({}{})", prefix, db.Q(c));
  }
  return out.empty() ? "''" : out;
}

std::string RowTextBytes(const Db& db, const std::vector<std::string>& cols, const std::string& a,
                         const std::string& charset) {
  std::string text = RowTextExpr(db, cols, a);
  if (!db.mysql()) return text;
  // The bytes the client receives for the row text: the server converts non-binary results to
  // character_set_results (utf8mb4); a binary text (a BLOB/BINARY column) goes raw.
  return charset == "binary" || charset == "utf8mb4"
             ? fmt::format("CAST({} AS BINARY)", text)
             : fmt::format("CAST(CONVERT({} USING utf8mb4) AS BINARY)", text);
}

std::optional<std::vector<std::optional<std::string>>> SplitRowText(const Db& db,
                                                                    std::string_view text) {
  std::vector<std::optional<std::string>> out;
  const bool my = db.mysql();
  size_t i = 0;
  for (;;) {
    if (i < text.size() && text[i] == '\'') {
      std::string v;
      bool closed = false;
      for (++i; i < text.size();) {
        char c = text[i];
        if (my && c == '\\' && i + 1 < text.size()) {
          char e = text[i + 1];
          v += e == '0' ? '\0' : (e == 'Z' ? '\x1a' : e);
          i += 2;
        } else if (c == '\'') {
          if (!my && i + 1 < text.size() && text[i + 1] == '\'') {
            v += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        } else {
          v += c;
          ++i;
        }
      }
      if (!closed) return std::nullopt;
      out.emplace_back(std::move(v));
    } else {
      size_t end = text.find(',', i);
      if (end == std::string_view::npos) end = text.size();
      std::string_view f = text.substr(i, end - i);
      if (f.empty()) return std::nullopt;
      if (f == "NULL") {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::string(f));
      }
      i = end;
    }
    if (i == text.size()) break;
    if (text[i] != ',') return std::nullopt;
    ++i;
  }
  return out;
}

Result<std::string> RowTextCharset(Db& db, const std::string& table,
                                   const std::vector<std::string>& cols) {
  if (!db.mysql()) return std::string{};
  std::string charset;
  Status st = Guard(fmt::format("reading the row-text character set of {}", table), [&] {
    soci::indicator ind = soci::i_null;
    // (An empty derived table: the expression's type without reading a row.)
    db.sql() << fmt::format(
        "SELECT CHARSET(crmh_d.x) FROM (SELECT 1 AS crmh_one) crmh_o LEFT JOIN (SELECT {} AS x "
        "FROM {} LIMIT 0) crmh_d ON 1 = 1",
        RowTextExpr(db, cols, ""), db.Q(table)),
        soci::into(charset, ind);
    if (ind != soci::i_ok) charset.clear();
  });
  if (!st) return st.error();
  if (charset.empty()) {
    return Error::Db(fmt::format("could not determine the character set of {}'s row text", table));
  }
  return charset;
}

Status EnsureShadow(Db& db, const std::string& table) {
  auto live = OrderedColumns(db, table);
  if (!live) return live.error();
  if (live->empty()) return Error::Config(fmt::format("table {} does not exist", table));
  std::string shadow_name = db.state_config().table_prefix + "bk_" + table;
  return Guard(fmt::format("preparing the backup table for {}", table), [&] {
    // Does the shadow exist, and with which columns?
    std::set<std::string> have;
    if (db.mysql()) {
      std::string schema = db.state_config().schema;
      soci::rowset<soci::row> rs =
          (db.sql().prepare << "SELECT column_name FROM information_schema.columns WHERE "
                               "table_schema = COALESCE(NULLIF(:s, ''), DATABASE()) AND "
                               "table_name = :t",
           soci::use(schema), soci::use(shadow_name));
      for (const auto& r : rs) have.insert(CellText(r, 0));
    } else {
      soci::rowset<soci::row> rs =
          (db.sql().prepare << "SELECT name FROM pragma_table_info(:t)", soci::use(shadow_name));
      for (const auto& r : rs) have.insert(CellText(r, 0));
    }
    if (have.empty()) {
      if (db.mysql()) {
        // CREATE … SELECT copies each column's exact type (no keys, no AUTO_INCREMENT).
        // The image key is the primary key: InnoDB keeps one B-tree per shadow table (no hidden
        // row id plus a secondary index), and an image can exist only once. (The defaults:
        // strict mode rejects NOT NULL columns without one in CREATE … SELECT.) Shadow tables
        // made by earlier versions keep their nullable key columns and non-unique index.
        db.sql() << fmt::format(
            "CREATE TABLE IF NOT EXISTS {} (crmh_run_id VARCHAR(64) NOT NULL DEFAULT '', "
            "crmh_set INT NOT NULL DEFAULT 0, crmh_op INT NOT NULL DEFAULT 0, crmh_image CHAR(1) "
            "NOT NULL DEFAULT '', PRIMARY KEY (crmh_run_id, crmh_set, crmh_op, crmh_image)) "
            "ENGINE=InnoDB SELECT * FROM {} WHERE 1 = 0",
            Shadow(db, table), db.Q(table));
      } else {
        db.sql() << fmt::format(
            "CREATE TABLE IF NOT EXISTS {} AS SELECT '' AS crmh_run_id, 0 AS crmh_set, 0 AS "
            "crmh_op, '' AS crmh_image, * FROM {} WHERE 0",
            Shadow(db, table), db.Q(table));
        db.sql() << fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (crmh_run_id, crmh_set, "
                                "crmh_op, crmh_image)",
                                db.Q(shadow_name + "_key"), Shadow(db, table));
      }
      return;
    }
    // The CRM gained columns since: add them to the shadow with the same type.
    for (const auto& c : *live) {
      if (have.count(c)) continue;
      std::string type = "TEXT";
      if (db.mysql()) {
        db.sql() << "SELECT column_type FROM information_schema.columns WHERE table_schema = "
                    "DATABASE() AND table_name = :t AND column_name = :c",
            soci::use(table), soci::use(c), soci::into(type);
      }
      db.sql() << fmt::format("ALTER TABLE {} ADD COLUMN {} {} NULL", Shadow(db, table), db.Q(c),
                              type);
    }
  });
}

Result<std::optional<std::string>> LiveRowText(Db& db, const std::vector<std::string>& cols,
                                               const RowRef& row, bool for_update) {
  std::optional<std::string> out;
  Status st = Guard(fmt::format("reading {} {}", row.table, row.id), [&] {
    std::string text;
    soci::indicator ind = soci::i_null;
    std::string sql = fmt::format("SELECT {} FROM {} WHERE {} = :id{}", RowTextExpr(db, cols, ""),
                                  db.Q(row.table), db.Q(row.id_column),
                                  for_update && db.mysql() ? " FOR UPDATE" : "");
    soci::statement s = (db.sql().prepare << sql, soci::use(row.id), soci::into(text, ind));
    s.execute(true);
    if (s.got_data()) out = ind == soci::i_null ? std::string{} : text;
  });
  if (!st) return st.error();
  return out;
}

namespace {

// ":p0, :p1, …".
std::string Placeholders(const std::string& prefix, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("{}:{}{}", i ? ", " : "", prefix, i);
  return out;
}

// "CASE WHEN {x} = :{a}0 THEN :{b}0 … END", or ":{b}0" for one row.
std::string CaseWhen(const std::string& x, const std::string& a, const std::string& b, size_t n) {
  if (n == 1) return ":" + b + "0";
  std::string out = "CASE";
  for (size_t i = 0; i < n; ++i) out += fmt::format(" WHEN {} = :{}{} THEN :{}{}", x, a, i, b, i);
  return out + " END";
}

// "{x} = :{p}0", or "{x} IN (:{p}0, …)".
std::string InList(const std::string& x, const std::string& p, size_t n) {
  if (n == 1) return fmt::format("{} = :{}0", x, p);
  return fmt::format("{} IN ({})", x, Placeholders(p, n));
}

}  // namespace

Result<std::unique_ptr<ShadowTable>> ShadowTable::Open(Db& db, const std::string& table,
                                                       const std::string& id_column, bool ensure) {
  if (ensure) {
    if (Status st = EnsureShadow(db, table); !st) return st.error();
  }
  auto cols = OrderedColumns(db, table);
  if (!cols) return cols.error();
  if (cols->empty()) return Error::Config(fmt::format("table {} does not exist", table));
  if (std::find(cols->begin(), cols->end(), id_column) == cols->end()) {
    return Error::Config(fmt::format("table {} has no column {}", table, id_column));
  }
  std::unique_ptr<ShadowTable> t(new ShadowTable(db, table, id_column));
  t->cols_ = std::move(*cols);
  t->shadow_ = Shadow(db, table);
  t->archive_ = db.State("ar_" + table);
  t->qtable_ = db.Q(table);
  t->qid_ = db.Q(id_column);
  for (const auto& c : t->cols_) t->list_ += (t->list_.empty() ? "" : ", ") + db.Q(c);
  std::string b = RowTextExpr(db, t->cols_, "b"), a = RowTextExpr(db, t->cols_, "a"),
              lt = RowTextExpr(db, t->cols_, "t");
  auto charset = RowTextCharset(db, table, t->cols_);
  if (!charset) return charset.error();
  t->live_cmp_ = RowTextBytes(db, t->cols_, "", *charset);
  t->b_cmp_ = RowTextBytes(db, t->cols_, "b", *charset);
  t->t_bytes_ = RowTextBytes(db, t->cols_, "t", *charset);
  if (db.mysql()) {
    // The id column's type: integer ids are bound as integers, so `id = ?` compares exactly (an
    // integer column against a string compares as doubles, which cannot tell large ids apart).
    std::string id_type;
    Status st = Guard(fmt::format("reading the id type of {}", table), [&] {
      soci::indicator type_ind = soci::i_null;
      db.sql() << "SELECT DATA_TYPE FROM information_schema.columns WHERE table_schema = "
                  "DATABASE() AND table_name = :t AND column_name = :c",
          soci::use(table), soci::use(id_column), soci::into(id_type, type_ind);
      if (type_ind != soci::i_ok) id_type.clear();
    });
    if (!st) return st.error();
    t->eq_bt_ = fmt::format("BINARY {} = BINARY {}", b, lt);
    t->eq_at_ = fmt::format("BINARY {} = BINARY {}", a, lt);
    for (const char* int_type : {"tinyint", "smallint", "mediumint", "int", "bigint"}) {
      if (id_type == int_type) t->id_int_ = true;
    }
  } else {
    t->eq_bt_ = fmt::format("{} = {}", b, lt);
    t->eq_at_ = fmt::format("{} = {}", a, lt);
  }
  if (ensure) {
    // The join path's temporary table (per connection; DDL, so here, outside any transaction).
    // Its columns are named crmh_* so they never clash with the CRM table's unqualified columns.
    t->tmp_ = db.Q(db.state_config().table_prefix + "tmp_" + table);
    Status st = Guard(fmt::format("preparing the plan table for {}", table), [&] {
      db.sql() << fmt::format(
          fmt::runtime(db.mysql()
              ? "CREATE TEMPORARY TABLE IF NOT EXISTS {} (crmh_op INT NOT NULL PRIMARY KEY, "
                "crmh_row_id VARCHAR(255) NOT NULL, crmh_row_int BIGINT NULL, crmh_expect "
                "LONGBLOB NULL, crmh_opname VARCHAR(16) NULL, crmh_label VARCHAR(255) NULL) "
                "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
              : "CREATE TEMP TABLE IF NOT EXISTS {} (crmh_op INTEGER PRIMARY KEY, crmh_row_id "
                "TEXT NOT NULL, crmh_row_int INTEGER, crmh_expect BLOB, crmh_opname TEXT, "
                "crmh_label TEXT)"),
          t->tmp_);
    });
    // Without CREATE TEMPORARY TABLES (a least-privilege account) large steps use the CASE
    // lists: correct, only slower.
    if (!st) t->tmp_.clear();
  }
  return t;
}

void ShadowTable::SetJoinThreshold(size_t rows) { g_join_threshold = rows; }

bool ShadowTable::UseJoin(size_t n, const std::vector<const std::string*>& ids) const {
  if (tmp_.empty() || n <= g_join_threshold) return false;
  if (id_int_) {
    for (const auto* id : ids) {
      if (Id(*id).text) return false;  // a non-canonical integer id: the CASE path compares it
    }
  }
  return true;
}

std::string ShadowTable::TmpJoin(const std::string& t, const std::string& p) const {
  return fmt::format("{}.{} = {}.{}", t, qid_, p, id_int_ ? "crmh_row_int" : "crmh_row_id");
}

void ShadowTable::FillTmp(const std::vector<TmpRow>& rows) {
  tmp_ops_.clear();
  tmp_run_.clear();
  tmp_has_ledger_ = false;
  stmts_.Exec(Text("tmp-clear", [&] { return fmt::format("DELETE FROM {}", tmp_); }), {});
  constexpr size_t kChunk = 1000;  // 6 values a row: within SQLite's 32,766 and MySQL's 65,535
  for (size_t start = 0; start < rows.size(); start += kChunk) {
    const size_t m = std::min(kChunk, rows.size() - start);
    const std::string& sql = Text(fmt::format("tmp-fill {}", m), [&] {
      std::string values;
      for (size_t i = 0; i < m; ++i) {
        values += fmt::format("{}(:o{i}, :r{i}, :n{i}, :e{i}, :k{i}, :l{i})", i ? ", " : "",
                              fmt::arg("i", i));
      }
      return fmt::format("INSERT INTO {} (crmh_op, crmh_row_id, crmh_row_int, crmh_expect, "
                         "crmh_opname, crmh_label) VALUES {}",
                         tmp_, values);
    });
    static const std::string kEmpty;
    std::vector<SqlParam> p;
    p.reserve(6 * m);
    for (size_t i = start; i < start + m; ++i) {
      const TmpRow& r = rows[i];
      p.push_back(SqlParam::Int(r.op_no));
      p.push_back(SqlParam::Text(*r.id));
      SqlParam as_int = Id(*r.id);
      p.push_back(as_int.text ? SqlParam::Int(0) : as_int);
      p.push_back(SqlParam::Bytes(r.expect ? *r.expect : kEmpty));
      p.push_back(SqlParam::Text(r.opname ? *r.opname : kEmpty));
      p.push_back(SqlParam::Text(r.label ? *r.label : kEmpty));
    }
    stmts_.Exec(sql, p);
  }
}

SqlParam ShadowTable::Id(const std::string& id) const {
  if (id_int_) {
    // Only the canonical form ("42", "-7"; not "042" or "+4"), which the integer prints back as.
    long long v = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
    if (ec == std::errc() && end == id.data() + id.size() && std::to_string(v) == id) {
      return SqlParam::Int(v);
    }
  }
  return SqlParam::Text(id);
}

const std::string& ShadowTable::Text(const std::string& key,
                                     const std::function<std::string()>& make) {
  auto it = texts_.find(key);
  if (it == texts_.end()) it = texts_.emplace(key, make()).first;
  return it->second;
}

Result<long long> ShadowTable::CopyIfUnchanged(const std::vector<Planned>& rows,
                                               const std::string& run_id, int set_no,
                                               const std::string* archived_at) {
  const size_t n = rows.size();
  if (n == 0) return 0LL;
  const bool archive = archived_at != nullptr;
  // Where the image goes: the shadow table (image 'b'), or for an archive op the archive itself.
  auto head = [&](const std::string& op) {
    return archive ? fmt::format("INSERT INTO {} (crmh_run_id, crmh_set, crmh_op, crmh_archived_at, "
                                 "{}) SELECT :run, :set, {}, :now, {}",
                                 archive_, list_, op, list_)
                   : fmt::format("INSERT INTO {} (crmh_run_id, crmh_set, crmh_op, crmh_image, {}) "
                                 "SELECT :run, :set, {}, 'b', {}",
                                 shadow_, list_, op, list_);
  };
  const char* what = archive ? "archiving" : "backing up";
  long long copied = 0;
  std::vector<const std::string*> ids;
  ids.reserve(n);
  for (const auto& r : rows) ids.push_back(&r.id);
  if (UseJoin(n, ids)) {
    Status st = Guard(fmt::format("{} {} row(s) of {}", what, n, table_), [&] {
      std::vector<TmpRow> tmp;
      tmp.reserve(n);
      bool with_ledger = true;
      for (size_t i = 0; i < n; ++i) {
        tmp.push_back({rows[i].op_no, &rows[i].id, rows[i].expect, rows[i].opname, rows[i].label});
        with_ledger = with_ledger && rows[i].opname && rows[i].label;
      }
      FillTmp(tmp);
      tmp_run_ = run_id;
      tmp_set_ = set_no;
      for (const auto& r : rows) tmp_ops_.push_back(r.op_no);
      tmp_has_ledger_ = with_ledger;
      const std::string& sql = Text(archive ? "copy-ar join" : "copy-b join", [&] {
        return fmt::format("{} FROM {} p JOIN {} t ON {} WHERE {} = p.crmh_expect{}",
                           head("p.crmh_op"), tmp_, qtable_, TmpJoin("t", "p"), live_cmp_,
                           db_.mysql() ? " FOR UPDATE" : "");
      });
      std::vector<SqlParam> p{SqlParam::Text(run_id), SqlParam::Int(set_no)};
      if (archive) p.push_back(SqlParam::Text(*archived_at));
      copied = stmts_.Exec(sql, p);
    });
    if (!st) return st.error();
    return copied;
  }
  Status st = Guard(fmt::format("{} {} row(s) of {}", what, n, table_), [&] {
    const std::string& sql = Text(fmt::format("copy-{} {}", archive ? "ar" : "b", n), [&] {
      return fmt::format("{} FROM {} WHERE {} AND {} = {}{}", head(CaseWhen(qid_, "w", "o", n)),
                         qtable_, InList(qid_, "i", n), live_cmp_, CaseWhen(qid_, "a", "e", n),
                         db_.mysql() ? " FOR UPDATE" : "");
    });
    std::vector<SqlParam> p{SqlParam::Text(run_id), SqlParam::Int(set_no)};
    if (n == 1) {
      p.push_back(SqlParam::Int(rows[0].op_no));
    } else {
      for (const auto& r : rows) {
        p.push_back(Id(r.id));
        p.push_back(SqlParam::Int(r.op_no));
      }
    }
    if (archive) p.push_back(SqlParam::Text(*archived_at));
    for (const auto& r : rows) p.push_back(Id(r.id));
    for (size_t i = 0; i < n; ++i) {
      if (n > 1) p.push_back(Id(rows[i].id));
      p.push_back(SqlParam::Bytes(*rows[i].expect));
    }
    copied = stmts_.Exec(sql, p);
  });
  if (!st) return st.error();
  return copied;
}

Result<long long> ShadowTable::RecordVerified(const std::vector<LedgerRow>& rows,
                                              const std::string& run_id, int set_no,
                                              const std::string& now, bool archive) {
  const size_t n = rows.size();
  if (n == 0) return 0LL;
  long long written = 0;
  std::vector<const std::string*> ids;
  ids.reserve(n);
  for (const auto& r : rows) ids.push_back(&r.row_id);
  // The row's text now: its after-image; NULL for a row the set removed. An archived row is gone
  // (the DELETE's row count was checked): no look-up.
  const std::string after =
      archive ? "NULL" : fmt::format("CASE WHEN t.{} IS NULL THEN NULL ELSE {} END", qid_, t_bytes_);
  const std::string live_join =
      archive ? "" : fmt::format(" LEFT JOIN {} t ON t.{} = b.{}", qtable_, qid_, qid_);
  // The images: the shadow table's 'b' rows, or the archived rows themselves.
  const std::string& images = archive ? archive_ : shadow_;
  const std::string image_b = archive ? "" : " AND b.crmh_image = 'b'";
  const std::string ledger_cols =
      "run_id, set_no, op_no, table_name, id_column, row_id, op, label, created_at, after_text";
  if (UseJoin(n, ids)) {
    Status st = Guard(fmt::format("verifying the backup of {}", table_), [&] {
      // The plan table as CopyIfUnchanged filled it for this set, if it holds these ops with
      // their ledger fields; else fill it again.
      bool reuse = tmp_has_ledger_ && tmp_run_ == run_id && tmp_set_ == set_no &&
                   tmp_ops_.size() == n;
      for (size_t i = 0; reuse && i < n; ++i) reuse = tmp_ops_[i] == rows[i].op_no;
      if (!reuse) {
        std::vector<TmpRow> tmp;
        tmp.reserve(n);
        for (size_t i = 0; i < n; ++i) {
          tmp.push_back({rows[i].op_no, &rows[i].row_id, rows[i].expect, &rows[i].op, &rows[i].label});
        }
        FillTmp(tmp);
      }
      const std::string& sql = Text(archive ? "ledger-ar join" : "ledger join", [&] {
        return fmt::format(
            "INSERT INTO {} ({}) SELECT :run, :set, b.crmh_op, :t, :c, p.crmh_row_id, "
            "p.crmh_opname, p.crmh_label, :now, {} FROM {} p JOIN {} b ON b.crmh_run_id = :run2 "
            "AND b.crmh_set = :set2{} AND b.crmh_op = p.crmh_op{} WHERE {} = p.crmh_expect",
            db_.State("ledger"), ledger_cols, after, tmp_, images, image_b, live_join, b_cmp_);
      });
      written = stmts_.Exec(sql, {SqlParam::Text(run_id), SqlParam::Int(set_no),
                                  SqlParam::Text(table_), SqlParam::Text(id_column_),
                                  SqlParam::Text(now), SqlParam::Text(run_id),
                                  SqlParam::Int(set_no)});
    });
    if (!st) return st.error();
    return written;
  }
  Status st = Guard(fmt::format("verifying the backup of {}", table_), [&] {
    const std::string& sql = Text(fmt::format("ledger{} {}", archive ? "-ar" : "", n), [&] {
      return fmt::format(
          "INSERT INTO {} ({}) SELECT :run, :set, b.crmh_op, :t, :c, {}, {}, {}, :now, {} FROM {} "
          "b{} WHERE b.crmh_run_id = :run2 AND b.crmh_set = :set2{} AND {} AND {} = {}",
          db_.State("ledger"), ledger_cols, CaseWhen("b.crmh_op", "p", "r", n),
          CaseWhen("b.crmh_op", "q", "k", n), CaseWhen("b.crmh_op", "s", "l", n), after, images,
          live_join, image_b, InList("b.crmh_op", "o", n), b_cmp_,
          CaseWhen("b.crmh_op", "x", "e", n));
    });
    std::vector<SqlParam> p{SqlParam::Text(run_id), SqlParam::Int(set_no), SqlParam::Text(table_),
                            SqlParam::Text(id_column_)};
    for (auto field : {&LedgerRow::row_id, &LedgerRow::op, &LedgerRow::label}) {
      for (const auto& r : rows) {
        if (n > 1) p.push_back(SqlParam::Int(r.op_no));
        p.push_back(SqlParam::Text(r.*field));
      }
    }
    p.push_back(SqlParam::Text(now));
    p.push_back(SqlParam::Text(run_id));
    p.push_back(SqlParam::Int(set_no));
    for (const auto& r : rows) p.push_back(SqlParam::Int(r.op_no));
    for (size_t i = 0; i < n; ++i) {
      if (n > 1) p.push_back(SqlParam::Int(rows[i].op_no));
      p.push_back(SqlParam::Bytes(*rows[i].expect));
    }
    written = stmts_.Exec(sql, p);
  });
  if (!st) return st.error();
  return written;
}

Result<std::vector<ShadowTable::ImageState>> ShadowTable::CheckImages(const std::string& run_id,
                                                                      std::optional<int> set_no,
                                                                      bool for_update,
                                                                      bool archive) {
  std::vector<ImageState> out;
  Status st = Guard(fmt::format("checking the rows of {} against their images", table_), [&] {
    const std::string& sql =
        Text(fmt::format("check {} {} {}", set_no.has_value(), for_update, archive), [&] {
          const std::string where = fmt::format(
              "b.crmh_run_id = :run{}", set_no ? " AND b.crmh_set = :set" : "");
          const std::string lock = for_update && db_.mysql() ? " FOR UPDATE" : "";
          if (archive) {
            // An archived row has no typed after-image (runs before V9 had none for removed rows).
            return fmt::format(
                "SELECT b.crmh_set, b.crmh_op, CASE WHEN t.{0} IS NULL THEN 0 ELSE 1 END, CASE "
                "WHEN l.after_text IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN t.{0} IS NOT NULL AND "
                "l.after_text IS NOT NULL AND {1} = l.after_text THEN 1 ELSE 0 END FROM {2} b "
                "LEFT JOIN {3} l ON l.run_id = b.crmh_run_id AND l.set_no = b.crmh_set AND "
                "l.op_no = b.crmh_op LEFT JOIN {4} t ON t.{0} = b.{0} WHERE {5}{6}",
                qid_, t_bytes_, archive_, db_.State("ledger"), qtable_, where, lock);
          }
          // The after-image: the ledger row's after_text, or a typed image 'a' (runs before V9).
          return fmt::format(
              "SELECT b.crmh_set, b.crmh_op, CASE WHEN t.{0} IS NULL THEN 0 ELSE 1 END, CASE WHEN "
              "a.crmh_op IS NOT NULL OR l.after_text IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN t.{0} "
              "IS NOT NULL AND ((a.crmh_op IS NOT NULL AND {1}) OR (a.crmh_op IS NULL AND "
              "l.after_text IS NOT NULL AND {6} = l.after_text)) THEN 1 ELSE 0 END FROM {2} b LEFT "
              "JOIN {2} a ON a.crmh_run_id = b.crmh_run_id AND a.crmh_set = b.crmh_set AND a.crmh_op "
              "= b.crmh_op AND a.crmh_image = 'a' LEFT JOIN {7} l ON l.run_id = b.crmh_run_id AND "
              "l.set_no = b.crmh_set AND l.op_no = b.crmh_op LEFT JOIN {3} t ON t.{0} = b.{0} WHERE "
              "{4} AND b.crmh_image = 'b'{5}",
              qid_, eq_at_, shadow_, qtable_, where, lock, t_bytes_, db_.State("ledger"));
        });
    std::vector<SqlParam> p{SqlParam::Text(run_id)};
    if (set_no) p.push_back(SqlParam::Int(*set_no));
    for (const auto& r : stmts_.Query(sql, p, 5)) {
      out.push_back({static_cast<int>(r[0]), static_cast<int>(r[1]), r[2] != 0, r[3] != 0,
                     r[4] != 0, archive});
    }
  });
  if (!st) return st.error();
  return out;
}

Result<long long> ShadowTable::PutBackImages(const std::string& run_id, int set_no,
                                             const std::vector<std::pair<std::string, int>>& id_ops,
                                             bool insert, bool archive) {
  const size_t n = id_ops.size();
  if (n == 0) return 0LL;
  long long done = 0;
  const std::string& images = archive ? archive_ : shadow_;
  const std::string tag = archive ? "-ar" : "";
  Status st = Guard(fmt::format("restoring {} row(s) of {}", n, table_), [&] {
    const std::string where =
        fmt::format("b.crmh_run_id = :run AND b.crmh_set = :set{} AND {}",
                    archive ? "" : " AND b.crmh_image = 'b'", InList("b.crmh_op", "o", n));
    std::vector<SqlParam> p{SqlParam::Text(run_id), SqlParam::Int(set_no)};
    for (const auto& [id, op] : id_ops) p.push_back(SqlParam::Int(op));
    if (insert) {
      done =
          stmts_.Exec(Text(fmt::format("insert{} {}", tag, n),
                           [&] {
                             std::string blist;
                             for (const auto& c : cols_)
                               blist += (blist.empty() ? "b." : ", b.") + db_.Q(c);
                             return fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} b WHERE {}",
                                                qtable_, list_, blist, images, where);
                           }),
                      p);
      if (done != static_cast<long long>(n)) {
        throw std::runtime_error(
            fmt::format("restoring {} deleted row(s) of {} inserted {}", n, table_, done));
      }
      return;
    }
    // The live rows' ids too: the server then reads them first (by primary key) and updates
    // them on the fly, instead of collecting them in a temporary table.
    for (const auto& [id, op] : id_ops) p.push_back(Id(id));
    const std::string live_ids = InList(db_.mysql() ? "t." + qid_ : qtable_ + "." + qid_, "i", n);
    done = stmts_.Exec(
        Text(fmt::format("update{} {}", tag, n),
             [&] {
               std::string assign;
               for (const auto& c : cols_) {
                 assign += fmt::format("{}{}{} = b.{}", assign.empty() ? "" : ", ",
                                       db_.mysql() ? "t." : "", db_.Q(c), db_.Q(c));
               }
               if (db_.mysql()) {
                 return fmt::format("UPDATE {} t JOIN {} b ON b.{} = t.{} SET {} WHERE {} AND {}",
                                    qtable_, images, qid_, qid_, assign, where, live_ids);
               }
               return fmt::format(
                   "UPDATE {0} SET {1} FROM {2} AS b WHERE {3} AND b.{4} = {0}.{4} AND {5}",
                   qtable_, assign, images, where, qid_, live_ids);
             }),
        p);
    if (done != static_cast<long long>(n)) {
      // MySQL counts only rows whose values changed: check the rest by text.
      auto rows =
          stmts_.Query(Text(fmt::format("restored{} {}", tag, n),
                            [&] {
                              return fmt::format(
                                  "SELECT COUNT(*) FROM {} b JOIN {} t ON t.{} = b.{} WHERE {} "
                                  "AND {}",
                                  images, qtable_, qid_, qid_, where, eq_bt_);
                            }),
                       std::vector<SqlParam>(p.begin(), p.begin() + 2 + n), 1);
      long long equal = rows.empty() ? 0 : rows[0][0];
      if (equal != static_cast<long long>(n)) {
        throw std::runtime_error(
            fmt::format("restoring {} row(s) of {} did not take effect ({} "
                        "equal to their images)",
                        n, table_, equal));
      }
      done = equal;
    }
  });
  if (!st) return st.error();
  return done;
}

Result<long long> ShadowTable::DropArchived(const std::string& run_id, int set_no) {
  long long n = 0;
  Status st = Guard(fmt::format("taking restored rows of {} out of the archive", table_), [&] {
    n = stmts_.Exec(Text("unarchive",
                         [&] {
                           return fmt::format(
                               "DELETE FROM {} WHERE crmh_run_id = :run AND crmh_set = :set",
                               db_.State("ar_" + table_));
                         }),
                    {SqlParam::Text(run_id), SqlParam::Int(set_no)});
  });
  if (!st) return st.error();
  return n;
}

Result<long long> ShadowTable::DeleteRows(const std::vector<std::string>& ids) {
  const size_t n = ids.size();
  if (n == 0) return 0LL;
  long long deleted = 0;
  Status st = Guard(fmt::format("deleting {} row(s) of {}", n, table_), [&] {
    const std::string& sql = Text(fmt::format("delete {}", n), [&] {
      return fmt::format("DELETE FROM {} WHERE {}", qtable_, InList(qid_, "i", n));
    });
    std::vector<SqlParam> p;
    p.reserve(n);
    for (const auto& id : ids) p.push_back(Id(id));
    deleted = stmts_.Exec(sql, p);
  });
  if (!st) return st.error();
  return deleted;
}

// --- Statements --------------------------------------------------------------------------------

namespace {

// The statement with each `:name` placeholder turned into `?` (outside quotes).
std::string QuestionMarks(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      out += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      quote = c;
      out += c;
      continue;
    }
    if (c == ':' && i + 1 < sql.size() &&
        (std::isalpha(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_')) {
      out += '?';
      ++i;
      while (i + 1 < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_')) {
        ++i;
      }
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

struct Statements::Native {
  MYSQL_STMT* my = nullptr;
  sqlite_api::sqlite3_stmt* lite = nullptr;
  std::string text;  // as prepared, for the logger
  ~Native() {
    if (my) mysql_stmt_close(my);
    if (lite) sqlite_api::sqlite3_finalize(lite);
  }
};

Statements::Statements(Db& db) : db_(db) {}
Statements::~Statements() = default;

namespace {

sqlite_api::sqlite3* SqliteConn(Db& db) {
  return static_cast<soci::sqlite3_session_backend*>(db.sql().get_backend())->conn_;
}

MYSQL* MysqlConn(Db& db) {
  return static_cast<soci::mysql_session_backend*>(db.sql().get_backend())->conn_;
}

}  // namespace

Statements::Native* Statements::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  if (cache_.size() >= 256) cache_.clear();  // many shapes (set sizes): start over
  auto n = std::make_unique<Native>();
  if (db_.mysql()) {
    MYSQL* conn = MysqlConn(db_);
    n->text = QuestionMarks(sql);
    n->my = mysql_stmt_init(conn);
    if (!n->my) throw std::runtime_error(mysql_error(conn));
    if (mysql_stmt_prepare(n->my, n->text.data(), n->text.size()) != 0) {
      throw std::runtime_error(mysql_stmt_error(n->my));
    }
  } else {
    // SQLite numbers named parameters in order of first appearance; ours are all distinct.
    n->text = sql;
    if (sqlite_api::sqlite3_prepare_v2(SqliteConn(db_), sql.c_str(), static_cast<int>(sql.size()),
                                       &n->lite, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite_api::sqlite3_errmsg(SqliteConn(db_)));
    }
  }
  return cache_.emplace(sql, std::move(n)).first->second.get();
}

namespace {

// Binds `params` to a prepared MySQL statement (the vectors keep the buffers alive).
void BindMysql(MYSQL_STMT* stmt, const std::vector<SqlParam>& params,
               std::vector<MYSQL_BIND>& binds, std::vector<unsigned long>& lengths,
               std::vector<long long>& ints) {
  if (mysql_stmt_param_count(stmt) != params.size()) {
    throw std::logic_error(fmt::format("statement has {} placeholders, {} values given",
                                       mysql_stmt_param_count(stmt), params.size()));
  }
  binds.assign(params.size(), MYSQL_BIND{});
  lengths.assign(params.size(), 0);
  ints.assign(params.size(), 0);
  for (size_t i = 0; i < params.size(); ++i) {
    MYSQL_BIND& b = binds[i];
    if (params[i].text) {
      b.buffer_type = params[i].bytes ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
      b.buffer = const_cast<char*>(params[i].text->data());
      b.buffer_length = params[i].text->size();
      lengths[i] = params[i].text->size();
      b.length = &lengths[i];
    } else {
      ints[i] = params[i].integer;
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = &ints[i];
    }
  }
  if (!params.empty() && mysql_stmt_bind_param(stmt, binds.data()) != 0) {
    throw std::runtime_error(mysql_stmt_error(stmt));
  }
}

// A prepared SQLite statement, bound; reset (locks released, bindings cleared) when done.
class LiteRun {
 public:
  LiteRun(sqlite_api::sqlite3* conn, sqlite_api::sqlite3_stmt* stmt,
          const std::vector<SqlParam>& params)
      : conn_(conn), stmt_(stmt) {
    if (sqlite_api::sqlite3_bind_parameter_count(stmt) != static_cast<int>(params.size())) {
      throw std::logic_error(fmt::format("statement has {} placeholders, {} values given",
                                         sqlite_api::sqlite3_bind_parameter_count(stmt),
                                         params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int rc = params[i].text
                   ? sqlite_api::sqlite3_bind_text(stmt, static_cast<int>(i + 1),
                                                   params[i].text->data(),
                                                   static_cast<int>(params[i].text->size()),
                                                   SQLITE_STATIC)
                   : sqlite_api::sqlite3_bind_int64(stmt, static_cast<int>(i + 1),
                                                    params[i].integer);
      if (rc != SQLITE_OK) throw std::runtime_error(sqlite_api::sqlite3_errmsg(conn));
    }
  }
  ~LiteRun() {
    sqlite_api::sqlite3_reset(stmt_);
    sqlite_api::sqlite3_clear_bindings(stmt_);
  }
  LiteRun(const LiteRun&) = delete;
  LiteRun& operator=(const LiteRun&) = delete;
  // The next row; false when done. Throws on error.
  bool Step() {
    int rc = sqlite_api::sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(sqlite_api::sqlite3_errmsg(conn_));
  }

 private:
  sqlite_api::sqlite3* conn_;
  sqlite_api::sqlite3_stmt* stmt_;
};

}  // namespace

long long Statements::Exec(const std::string& sql, const std::vector<SqlParam>& params) {
  Native* n = Prepare(sql);
  if (n->lite) {
    LiteRun run(SqliteConn(db_), n->lite, params);
    db_.sql().log_query(n->text);
    while (run.Step()) {
    }
    return sqlite_api::sqlite3_changes(SqliteConn(db_));
  }
  std::vector<MYSQL_BIND> binds;
  std::vector<unsigned long> lengths;
  std::vector<long long> ints;
  BindMysql(n->my, params, binds, lengths, ints);
  db_.sql().log_query(n->text);
  if (mysql_stmt_execute(n->my) != 0) throw std::runtime_error(mysql_stmt_error(n->my));
  auto affected = static_cast<long long>(mysql_stmt_affected_rows(n->my));
  if (mysql_stmt_field_count(n->my) > 0) mysql_stmt_free_result(n->my);
  return affected;
}

std::vector<std::vector<long long>> Statements::Query(const std::string& sql,
                                                      const std::vector<SqlParam>& params,
                                                      size_t ncols) {
  std::vector<std::vector<long long>> out;
  Native* n = Prepare(sql);
  if (n->lite) {
    if (sqlite_api::sqlite3_column_count(n->lite) != static_cast<int>(ncols)) {
      throw std::logic_error(fmt::format("query has {} columns, {} expected",
                                         sqlite_api::sqlite3_column_count(n->lite), ncols));
    }
    LiteRun run(SqliteConn(db_), n->lite, params);
    db_.sql().log_query(n->text);
    while (run.Step()) {
      std::vector<long long> r(ncols);
      for (size_t i = 0; i < ncols; ++i) {
        r[i] = sqlite_api::sqlite3_column_int64(n->lite, static_cast<int>(i));  // NULL: 0
      }
      out.push_back(std::move(r));
    }
    return out;
  }
  std::vector<MYSQL_BIND> binds;
  std::vector<unsigned long> lengths;
  std::vector<long long> ints;
  BindMysql(n->my, params, binds, lengths, ints);
  if (mysql_stmt_field_count(n->my) != ncols) {
    throw std::logic_error(fmt::format("query has {} columns, {} expected",
                                       mysql_stmt_field_count(n->my), ncols));
  }
  db_.sql().log_query(n->text);
  if (mysql_stmt_execute(n->my) != 0) throw std::runtime_error(mysql_stmt_error(n->my));
  std::vector<long long> row(ncols);
  std::vector<my_bool> nulls(ncols);
  std::vector<MYSQL_BIND> res(ncols, MYSQL_BIND{});
  for (size_t i = 0; i < ncols; ++i) {
    res[i].buffer_type = MYSQL_TYPE_LONGLONG;
    res[i].buffer = &row[i];
    res[i].is_null = &nulls[i];
  }
  struct FreeResult {
    MYSQL_STMT* s;
    ~FreeResult() { mysql_stmt_free_result(s); }
  } free_result{n->my};
  if (mysql_stmt_bind_result(n->my, res.data()) != 0 || mysql_stmt_store_result(n->my) != 0) {
    throw std::runtime_error(mysql_stmt_error(n->my));
  }
  for (;;) {
    int rc = mysql_stmt_fetch(n->my);
    if (rc == MYSQL_NO_DATA) break;
    if (rc != 0 && rc != MYSQL_DATA_TRUNCATED) throw std::runtime_error(mysql_stmt_error(n->my));
    std::vector<long long> r(ncols);
    for (size_t i = 0; i < ncols; ++i) r[i] = nulls[i] ? 0 : row[i];
    out.push_back(std::move(r));
  }
  return out;
}

Result<RunTally> TallyRun(Db& db, const std::string& run_id) {
  RunTally t;
  Status st = Guard("counting the run's ledger rows", [&] {
    db.sql() << fmt::format("SELECT COUNT(DISTINCT set_no), COUNT(*) FROM {} WHERE run_id = :r",
                            db.State("ledger")),
        soci::use(run_id), soci::into(t.sets), soci::into(t.rows);
  });
  if (!st) return st.error();
  return t;
}

Status DeleteImages(Db& db, const std::string& table, const std::string& run_id) {
  return Guard("deleting backup images", [&] {
    db.sql() << fmt::format("DELETE FROM {} WHERE crmh_run_id = :run", Shadow(db, table)),
        soci::use(run_id);
  });
}

}  // namespace crmh::crm
