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

Status DeleteImages(Db& db, const std::string& table, const std::string& run_id) {
  return Guard("deleting backup images", [&] {
    db.sql() << fmt::format("DELETE FROM {} WHERE crmh_run_id = :run", Shadow(db, table)),
        soci::use(run_id);
  });
}

}  // namespace crmh::crm
