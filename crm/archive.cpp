#include "crm/archive.h"

#include <fmt/format.h>

#include <set>

#include "crm/ledger.h"
#include "crm/state.h"

namespace crmh::crm {
namespace {

std::string RawName(const Db& db, const std::string& table) {
  return db.state_config().table_prefix + "ar_" + table;
}

// Columns of a state-side table (the state schema on MySQL); empty if it does not exist.
std::set<std::string> StateColumns(Db& db, const std::string& raw_name) {
  std::set<std::string> have;
  if (db.mysql()) {
    std::string schema = db.state_config().schema;
    soci::rowset<soci::row> rs =
        (db.sql().prepare << "SELECT column_name FROM information_schema.columns WHERE "
                             "table_schema = COALESCE(NULLIF(:s, ''), DATABASE()) AND "
                             "table_name = :t",
         soci::use(schema), soci::use(raw_name));
    for (const auto& r : rs) have.insert(CellText(r, 0));
  } else {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << "SELECT name FROM pragma_table_info(:t)", soci::use(raw_name));
    for (const auto& r : rs) have.insert(CellText(r, 0));
  }
  return have;
}

}  // namespace

std::string ArchiveName(const Db& db, const std::string& table) {
  return db.State("ar_" + table);
}

Status EnsureArchive(Db& db, const std::string& table) {
  auto live = OrderedColumns(db, table);
  if (!live) return live.error();
  if (live->empty()) return Error::Config(fmt::format("table {} does not exist", table));
  return Guard(fmt::format("preparing the archive table for {}", table), [&] {
    std::set<std::string> have = StateColumns(db, RawName(db, table));
    if (have.empty()) {
      if (db.mysql()) {
        // The key is (run, set, op), one archived row per ledger row; archived_at is indexed for
        // retention.
        db.sql() << fmt::format(
            "CREATE TABLE IF NOT EXISTS {} (crmh_run_id VARCHAR(64) NOT NULL DEFAULT '', "
            "crmh_set INT NOT NULL DEFAULT 0, crmh_op INT NOT NULL DEFAULT 0, crmh_archived_at "
            "DATETIME NOT NULL DEFAULT '1970-01-01 00:00:00', PRIMARY KEY (crmh_run_id, crmh_set, "
            "crmh_op), KEY (crmh_archived_at)) ENGINE=InnoDB SELECT * FROM {} WHERE 1 = 0",
            ArchiveName(db, table), db.Q(table));
      } else {
        db.sql() << fmt::format(
            "CREATE TABLE IF NOT EXISTS {} AS SELECT '' AS crmh_run_id, 0 AS crmh_set, 0 AS "
            "crmh_op, '' AS crmh_archived_at, * FROM {} WHERE 0",
            ArchiveName(db, table), db.Q(table));
        db.sql() << fmt::format("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (crmh_run_id, "
                                "crmh_set, crmh_op)",
                                db.Q(RawName(db, table) + "_key"), ArchiveName(db, table));
        db.sql() << fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (crmh_archived_at)",
                                db.Q(RawName(db, table) + "_at"), ArchiveName(db, table));
      }
      return;
    }
    for (const auto& c : *live) {
      if (have.count(c)) continue;
      std::string type = "TEXT";
      if (db.mysql()) {
        db.sql() << "SELECT column_type FROM information_schema.columns WHERE table_schema = "
                    "DATABASE() AND table_name = :t AND column_name = :c",
            soci::use(table), soci::use(c), soci::into(type);
      }
      db.sql() << fmt::format("ALTER TABLE {} ADD COLUMN {} {} NULL", ArchiveName(db, table),
                              db.Q(c), type);
    }
  });
}

Result<std::vector<std::string>> ArchivedTables(Db& db) {
  std::vector<std::string> out;
  const std::string prefix = db.state_config().table_prefix + "ar_";
  Status st = Guard("listing the archive tables", [&] {
    std::string schema = db.state_config().schema;
    const int n = static_cast<int>(prefix.size());
    soci::rowset<std::string> rs =
        db.mysql()
            ? (db.sql().prepare << "SELECT table_name FROM information_schema.tables WHERE "
                                   "table_schema = COALESCE(NULLIF(:s, ''), DATABASE()) AND "
                                   "SUBSTR(table_name, 1, :n) = :p ORDER BY table_name",
               soci::use(schema), soci::use(n), soci::use(prefix))
            : (db.sql().prepare << "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                   "SUBSTR(name, 1, :n) = :p ORDER BY name",
               soci::use(n), soci::use(prefix));
    for (const auto& name : rs) out.push_back(name.substr(prefix.size()));
  });
  if (!st) return st.error();
  return out;
}

Result<long long> PurgeArchivesBefore(Db& db, SysSeconds cutoff) {
  auto tables = ArchivedTables(db);
  if (!tables) return tables.error();
  long long n = 0;
  const std::string cut = FormatSqlTime(cutoff);
  for (const auto& t : *tables) {
    Status st = Guard(fmt::format("purging the archive of {}", t), [&] {
      // An archived row is its run's before-image (crm/ledger.h): it stays while the run's
      // ledger does (a run whose sets span the cutoff stays restorable until it expires whole).
      soci::statement s = (db.sql().prepare << fmt::format(
                               "DELETE FROM {} WHERE crmh_archived_at < :c AND NOT EXISTS (SELECT "
                               "1 FROM {} l WHERE l.run_id = {}.crmh_run_id)",
                               ArchiveName(db, t), db.State("ledger"), ArchiveName(db, t)),
                           soci::use(cut));
      s.execute(true);
      n += s.get_affected_rows();
    });
    if (!st) return st.error();
  }
  return n;
}

Result<long long> EraseArchived(Db& db, const std::string& table, const std::string& column,
                                const std::string& value, const std::string& type_column,
                                const std::string& type_value) {
  auto tables = ArchivedTables(db);
  if (!tables) return tables.error();
  bool found = false;
  for (const auto& t : *tables) found = found || t == table;
  if (!found) return 0LL;
  long long n = 0;
  Status st = Guard(fmt::format("erasing from the archive of {}", table), [&] {
    std::string where = fmt::format("{} = :v", db.Q(column));
    if (!type_column.empty()) {
      where += fmt::format(" AND {} = {}", db.Q(type_column), db.Literal(type_value));
    }
    soci::statement s = (db.sql().prepare << fmt::format("DELETE FROM {} WHERE {}",
                                                         ArchiveName(db, table), where),
                         soci::use(value));
    s.execute(true);
    n = s.get_affected_rows();
  });
  if (!st) return st.error();
  return n;
}

}  // namespace crmh::crm
