#include "crm/schema.h"

#include <fmt/format.h>

#include <map>
#include <set>

namespace crmh::crm {

Result<std::set<std::string>> ListColumns(Db& db, const std::string& table) {
  std::set<std::string> cols;
  Status st = Guard(fmt::format("reading the columns of {}", table), [&] {
    soci::rowset<soci::row> rs =
        db.mysql()
            ? (db.sql().prepare << "SELECT column_name FROM information_schema.columns "
                                   "WHERE table_schema = DATABASE() AND table_name = :t",
               soci::use(table))
            : (db.sql().prepare << "SELECT name FROM pragma_table_info(:t)", soci::use(table));
    for (const auto& r : rs) cols.insert(r.get<std::string>(0));
  });
  if (!st) return st.error();
  return cols;
}

Result<TextReads> TextColumns(Db& db, const std::string& table) {
  TextReads cols;
  if (!db.mysql()) return cols;
  Status st = Guard(fmt::format("reading the column types of {}", table), [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << "SELECT column_name, CASE WHEN character_set_name IS NULL THEN 'b' "
                             "ELSE 'p' END FROM information_schema.columns "
                             "WHERE table_schema = DATABASE() AND table_name = :t AND "
                             "((character_set_name IS NOT NULL AND data_type IN ('char', "
                             "'varchar', 'tinytext', 'text', 'mediumtext', 'longtext')) OR "
                             "data_type IN ('tinyint', 'smallint', 'mediumint', 'int', 'bigint', "
                             "'decimal', 'float', 'double', 'date', 'datetime', 'timestamp', "
                             "'time', 'year'))",
         soci::use(table));
    for (const auto& r : rs) {
      cols[r.get<std::string>(0)] =
          r.get<std::string>(1) == "p" ? TextRead::kPlain : TextRead::kBinary;
    }
  });
  if (!st) return st.error();
  return cols;
}

std::string AsText(const TextReads& reads, const std::string& column, const std::string& sql) {
  auto it = reads.find(column);
  if (it == reads.end()) return fmt::format("CAST({} AS CHAR)", sql);
  return it->second == TextRead::kPlain ? sql : fmt::format("CAST({} AS BINARY)", sql);
}

Status ProbeWriteGrants(Db& db, const std::string& table, const std::string& id_column,
                        bool deletes) {
  Status st = Guard("", [&] {
    soci::transaction tx(db.sql());
    db.sql() << fmt::format("UPDATE {} SET {} = {} WHERE 1 = 0", db.Q(table), db.Q(id_column),
                            db.Q(id_column));
    if (deletes) db.sql() << fmt::format("DELETE FROM {} WHERE 1 = 0", db.Q(table));
    tx.rollback();
  });
  if (!st) {
    if (st.error().exit == Exit::kDbUnreachable) return st;
    return Error::Config(fmt::format("no grant to {} {}: {}", deletes ? "UPDATE/DELETE" : "UPDATE",
                                     table, st.error().message));
  }
  return Status::Ok();
}

Result<std::vector<ForeignKey>> ForeignKeysTo(Db& db, const std::set<std::string>& tables) {
  std::vector<ForeignKey> out;
  Status st = Guard("reading foreign keys", [&] {
    if (db.mysql()) {
      soci::rowset<soci::row> rs = db.sql().prepare
                                   << "SELECT table_name, column_name, referenced_table_name FROM "
                                      "information_schema.key_column_usage WHERE table_schema = "
                                      "DATABASE() AND referenced_table_schema = DATABASE() AND "
                                      "referenced_table_name IS NOT NULL";
      for (const auto& r : rs) {
        ForeignKey fk{CellText(r, 0), CellText(r, 1), CellText(r, 2)};
        if (tables.count(fk.referenced)) out.push_back(std::move(fk));
      }
      return;
    }
    std::vector<std::string> all;
    soci::rowset<std::string> names = db.sql().prepare
                                      << "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                         "name NOT LIKE 'sqlite_%'";
    for (const auto& n : names) all.push_back(n);
    for (const auto& t : all) {
      soci::rowset<soci::row> rs =
          (db.sql().prepare << "SELECT \"table\", \"from\" FROM pragma_foreign_key_list(:t)",
           soci::use(t));
      for (const auto& r : rs) {
        ForeignKey fk{t, CellText(r, 1), CellText(r, 0)};
        if (tables.count(fk.referenced)) out.push_back(std::move(fk));
      }
    }
  });
  if (!st) return st.error();
  return out;
}

std::vector<std::string> ContactColumns(const Mapping& m) {
  std::vector<std::string> cols{m.id_column};
  for (const auto& [name, f] : m.fields) {
    if (!f.column.empty()) cols.push_back(f.column);
  }
  if (!m.soft_delete.empty()) cols.push_back(m.soft_delete);
  for (const auto& e : m.extra) cols.push_back(e);
  for (const auto& a : m.activity) {
    if (a.child.empty()) cols.push_back(a.column);
  }
  return cols;
}

Result<Mapping> ResolveMapping(Db& db, const Mapping& mapping) {
  Mapping m = mapping;
  std::map<std::string, bool> exists;  // table → present
  auto present = [&](const std::string& table) -> Result<bool> {
    auto it = exists.find(table);
    if (it != exists.end()) return it->second;
    auto cols = ListColumns(db, table);
    if (!cols) return cols.error();
    return exists[table] = !cols->empty();
  };
  std::set<std::string> dropped;
  std::vector<ChildRef> children;
  for (auto& c : m.children) {
    if (c.optional) {
      auto here = present(c.table);
      if (!here) return here.error();
      if (!*here) {
        dropped.insert(c.name);
        continue;
      }
    }
    children.push_back(std::move(c));
  }
  m.children = std::move(children);
  // Grandchildren name their parent; parents come before their own grandchildren only by
  // convention, so repeat until nothing more drops.
  for (bool again = true; again;) {
    again = false;
    std::vector<ChildRef> kept;
    for (auto& g : m.grandchildren) {
      bool drop = dropped.count(g.parent) > 0;
      if (!drop && g.optional) {
        auto here = present(g.table);
        if (!here) return here.error();
        drop = !*here;
      }
      if (drop) {
        again = dropped.insert(g.name).second || again;
        continue;
      }
      kept.push_back(std::move(g));
    }
    m.grandchildren = std::move(kept);
  }
  // Activity sources that read a dropped child go with it. (A job option naming a dropped
  // reference — a prune policy or criterion — then fails as an unknown name.)
  std::erase_if(m.activity, [&](const ActivitySource& a) { return dropped.count(a.child) > 0; });
  return m;
}

Result<SchemaCheck> VerifyMapping(Db& db, const Mapping& mapping) {
  auto resolved = ResolveMapping(db, mapping);
  if (!resolved) return resolved.error();
  const Mapping& m = *resolved;
  SchemaCheck out;
  std::map<std::string, std::set<std::string>> need;  // table → columns
  for (const auto& c : ContactColumns(m)) need[m.contacts_table].insert(c);
  for (const auto& [name, f] : m.fields) {
    if (!f.related) continue;
    const auto& r = *f.related;
    need[r.table].insert(r.column);
    need[r.table].insert(r.key);
    need[r.link_table].insert(r.link_contact);
    need[r.link_table].insert(r.link_target);
    for (const auto& [col, v] : r.where) need[r.link_table].insert(col);
  }
  if (!m.extension_table.empty()) need[m.extension_table].insert(m.extension_id);
  for (const auto& c : m.children) {
    auto& cols = need[c.table];
    cols.insert(c.column);
    cols.insert(c.id_column);
    if (!c.type_column.empty()) cols.insert(c.type_column);
    if (!c.soft_delete.empty()) cols.insert(c.soft_delete);
    for (const auto& u : c.unique_key) cols.insert(u);
  }
  for (const auto& a : m.activity) {
    if (a.child.empty()) continue;
    for (const auto& c : m.children) {
      if (c.name == a.child) need[c.table].insert(a.column);
    }
  }
  if (!m.users_table.empty()) {
    need[m.users_table].insert(m.users_id);
    if (!m.users_name.empty()) need[m.users_table].insert(m.users_name);
    if (!m.users_email.empty()) need[m.users_table].insert(m.users_email);
  }

  for (const auto& [table, cols] : need) {
    auto live = ListColumns(db, table);
    if (!live) return live.error();
    if (live->empty()) {
      out.missing.push_back(fmt::format("table {}", table));
      continue;
    }
    for (const auto& c : cols) {
      if (!live->count(c)) out.missing.push_back(fmt::format("column {}.{}", table, c));
    }
    // Reading the mapped columns proves the SELECT grant on them.
    std::string list;
    for (const auto& c : cols) {
      if (!live->count(c)) continue;
      list += (list.empty() ? "" : ", ") + db.Q(c);
    }
    if (list.empty()) continue;
    Status st = Guard("", [&] {
      std::string sql = fmt::format("SELECT {} FROM {} LIMIT 0", list, db.Q(table));
      soci::rowset<soci::row> rs = db.sql().prepare << sql;
      for (auto it = rs.begin(); it != rs.end(); ++it) {
      }
    });
    if (!st) {
      if (st.error().exit == Exit::kDbUnreachable) return st.error();
      out.grants.push_back(fmt::format("SELECT on {}: {}", table, st.error().message));
    }
    out.checked.push_back(fmt::format("{} ({} columns)", table, cols.size()));
  }
  if (!out.missing.empty() || !out.grants.empty()) {
    std::string msg = fmt::format("the mapping (profile {}) does not match the live schema:", m.profile);
    for (const auto& x : out.missing) msg += "\n  missing " + x;
    for (const auto& x : out.grants) msg += "\n  no grant: " + x;
    return Error::Config(msg);
  }
  return out;
}

}  // namespace crmh::crm
