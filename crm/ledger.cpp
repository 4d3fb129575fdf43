#include "crm/ledger.h"

#include <fmt/format.h>

#include <set>


namespace crmh::crm {
namespace {

std::string Shadow(const Db& db, const std::string& table) { return db.State("bk_" + table); }

std::string KeyWhere(const Db& db, const std::string& alias) {
  (void)db;
  return fmt::format("{0}crmh_run_id = :run AND {0}crmh_set = :set AND {0}crmh_op = :op AND "
                     "{0}crmh_image = :img",
                     alias.empty() ? "" : alias + ".");
}

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
        db.sql() << fmt::format(
            // (Nullable: strict mode rejects NOT NULL columns without defaults in CREATE … SELECT.)
            "CREATE TABLE IF NOT EXISTS {} (crmh_run_id VARCHAR(64) NULL, crmh_set INT NULL, "
            "crmh_op INT NULL, crmh_image CHAR(1) NULL, KEY crmh_key (crmh_run_id, crmh_set, "
            "crmh_op, crmh_image)) ENGINE=InnoDB SELECT * FROM {} WHERE 1 = 0",
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

Result<long long> CopyImage(Db& db, const std::vector<std::string>& cols, const RowRef& row,
                            const ImageKey& key) {
  long long copied = 0;
  Status st = Guard(fmt::format("backing up {} {}", row.table, row.id), [&] {
    std::string list;
    for (const auto& c : cols) list += (list.empty() ? "" : ", ") + db.Q(c);
    std::string img(1, key.image);
    soci::statement s =
        (db.sql().prepare << fmt::format("INSERT INTO {} (crmh_run_id, crmh_set, crmh_op, "
                                         "crmh_image, {}) SELECT :run, :set, :op, :img, {} FROM "
                                         "{} WHERE {} = :id",
                                         Shadow(db, row.table), list, list, db.Q(row.table),
                                         db.Q(row.id_column)),
         soci::use(key.run_id), soci::use(key.set_no), soci::use(key.op_no), soci::use(img),
         soci::use(row.id));
    s.execute(true);
    copied = s.get_affected_rows();
  });
  if (!st) return st.error();
  return copied;
}

Result<std::optional<std::string>> ImageText(Db& db, const std::vector<std::string>& cols,
                                             const RowRef& row, const ImageKey& key) {
  std::optional<std::string> out;
  Status st = Guard(fmt::format("reading the backup of {} {}", row.table, row.id), [&] {
    std::string text;
    soci::indicator ind = soci::i_null;
    std::string img(1, key.image);
    soci::statement s =
        (db.sql().prepare << fmt::format("SELECT {} FROM {} WHERE {} AND {} = :id",
                                         RowTextExpr(db, cols, ""), Shadow(db, row.table),
                                         KeyWhere(db, ""), db.Q(row.id_column)),
         soci::use(key.run_id), soci::use(key.set_no), soci::use(key.op_no), soci::use(img),
         soci::use(row.id), soci::into(text, ind));
    s.execute(true);
    if (s.got_data()) out = ind == soci::i_null ? std::string{} : text;
  });
  if (!st) return st.error();
  return out;
}

Status PutBack(Db& db, const std::vector<std::string>& cols, const RowRef& row,
               const ImageKey& key) {
  return Guard(fmt::format("restoring {} {}", row.table, row.id), [&] {
    std::string img(1, key.image);
    auto live = LiveRowText(db, {row.id_column}, row, /*for_update=*/true);
    if (!live) throw std::runtime_error(live.error().message);
    std::string list, assign;
    for (const auto& c : cols) {
      list += (list.empty() ? "" : ", ") + db.Q(c);
      assign += fmt::format("{}{} = b.{}", assign.empty() ? "" : ", ",
                            db.mysql() ? "t." + db.Q(c) : db.Q(c), db.Q(c));
    }
    std::string sql;
    if (!live->has_value()) {
      sql = fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} WHERE {} AND {} = :id",
                        db.Q(row.table), list, list, Shadow(db, row.table), KeyWhere(db, ""),
                        db.Q(row.id_column));
    } else if (db.mysql()) {
      sql = fmt::format("UPDATE {} t JOIN {} b ON {} AND b.{} = t.{} SET {} WHERE t.{} = :id",
                        db.Q(row.table), Shadow(db, row.table), KeyWhere(db, "b"),
                        db.Q(row.id_column), db.Q(row.id_column), assign, db.Q(row.id_column));
    } else {
      sql = fmt::format("UPDATE {} SET {} FROM {} AS b WHERE {} AND b.{} = {}.{} AND {}.{} = :id",
                        db.Q(row.table), assign, Shadow(db, row.table), KeyWhere(db, "b"),
                        db.Q(row.id_column), db.Q(row.table), db.Q(row.id_column),
                        db.Q(row.table), db.Q(row.id_column));
    }
    soci::statement s = (db.sql().prepare << sql, soci::use(key.run_id), soci::use(key.set_no),
                         soci::use(key.op_no), soci::use(img), soci::use(row.id));
    s.execute(true);
    if (s.get_affected_rows() != 1) {
      // MySQL reports 0 affected rows when the values were already equal: re-check by text.
      auto now_text = LiveRowText(db, cols, row, false);
      auto want = ImageText(db, cols, row, key);
      if (!now_text || !want || *now_text != *want) {
        throw std::runtime_error(fmt::format("restoring {} {} did not take effect", row.table, row.id));
      }
    }
  });
}

namespace {

// ":p0, :p1, …" and the binds for a list of values (kept alive by the caller's vector).
std::string Placeholders(const std::string& prefix, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("{}:{}{}", i ? ", " : "", prefix, i);
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> LiveRowTexts(Db& db, const std::vector<std::string>& cols,
                                                         const std::string& table,
                                                         const std::string& id_column,
                                                         const std::vector<std::string>& ids,
                                                         bool for_update) {
  std::map<std::string, std::string> out;
  Status st = Guard(fmt::format("reading {} rows of {}", ids.size(), table), [&] {
    soci::statement s(db.sql());
    std::string id, text;
    soci::indicator id_ind = soci::i_ok, text_ind = soci::i_ok;
    for (const auto& v : ids) s.exchange(soci::use(v));
    s.exchange(soci::into(id, id_ind));
    s.exchange(soci::into(text, text_ind));
    s.alloc();
    s.prepare(fmt::format("SELECT CAST({} AS CHAR), {} FROM {} WHERE {} IN ({}){}",
                          db.Q(id_column), RowTextExpr(db, cols, ""), db.Q(table), db.Q(id_column),
                          Placeholders("i", ids.size()),
                          for_update && db.mysql() ? " FOR UPDATE" : ""));
    s.define_and_bind();
    for (bool got = s.execute(true); got; got = s.fetch()) out[id] = text;
  });
  if (!st) return st.error();
  return out;
}

Result<long long> CopyImages(Db& db, const std::vector<std::string>& cols, const std::string& table,
                             const std::string& id_column,
                             const std::vector<std::pair<std::string, int>>& id_ops,
                             const std::string& run_id, int set_no, char image) {
  long long copied = 0;
  Status st = Guard(fmt::format("backing up {} rows of {}", id_ops.size(), table), [&] {
    std::string list;
    for (const auto& c : cols) list += (list.empty() ? "" : ", ") + db.Q(c);
    std::string cases;
    std::vector<std::string> ids;
    std::vector<int> ops;
    ids.reserve(id_ops.size());
    ops.reserve(id_ops.size());
    for (size_t i = 0; i < id_ops.size(); ++i) {
      cases += fmt::format(" WHEN :w{} THEN :o{}", i, i);
      ids.push_back(id_ops[i].first);
      ops.push_back(id_ops[i].second);
    }
    std::string img(1, image);
    soci::statement s(db.sql());
    s.exchange(soci::use(run_id));
    s.exchange(soci::use(set_no));
    for (size_t i = 0; i < ids.size(); ++i) {
      s.exchange(soci::use(ids[i]));
      s.exchange(soci::use(ops[i]));
    }
    s.exchange(soci::use(img));
    for (const auto& v : ids) s.exchange(soci::use(v));
    s.alloc();
    s.prepare(fmt::format("INSERT INTO {} (crmh_run_id, crmh_set, crmh_op, crmh_image, {}) SELECT "
                          ":run, :set, CASE CAST({} AS CHAR){} END, :img, {} FROM {} WHERE {} IN "
                          "({})",
                          Shadow(db, table), list, db.Q(id_column), cases, list, db.Q(table),
                          db.Q(id_column), Placeholders("i", ids.size())));
    s.define_and_bind();
    s.execute(true);
    copied = s.get_affected_rows();
  });
  if (!st) return st.error();
  return copied;
}

Result<long long> CountImagesEqualLive(Db& db, const std::vector<std::string>& cols,
                                       const std::string& table, const std::string& id_column,
                                       const std::string& run_id, int set_no, char image) {
  long long n = 0;
  Status st = Guard(fmt::format("verifying the backup of {}", table), [&] {
    std::string img(1, image);
    // BINARY: a collation must not call 'A' and 'a', or 'x' and 'x ', equal.
    std::string b = RowTextExpr(db, cols, "b"), t = RowTextExpr(db, cols, "t");
    if (db.mysql()) {
      b = "BINARY " + b;
      t = "BINARY " + t;
    }
    db.sql() << fmt::format("SELECT COUNT(*) FROM {} b JOIN {} t ON t.{} = b.{} WHERE "
                            "b.crmh_run_id = :run AND b.crmh_set = :set AND b.crmh_image = :img "
                            "AND {} = {}",
                            Shadow(db, table), db.Q(table), db.Q(id_column), db.Q(id_column), b, t),
        soci::use(run_id), soci::use(set_no), soci::use(img), soci::into(n);
  });
  if (!st) return st.error();
  return n;
}

Status DeleteImages(Db& db, const std::string& table, const std::string& run_id) {
  return Guard("deleting backup images", [&] {
    db.sql() << fmt::format("DELETE FROM {} WHERE crmh_run_id = :run", Shadow(db, table)),
        soci::use(run_id);
  });
}

}  // namespace crmh::crm
