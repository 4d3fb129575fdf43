#include "crm/flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace crmh::crm {
namespace {

std::string OpenKey(const std::string& contact, const std::string& field, const std::string& code) {
  return contact + "|" + field + "|" + code;
}

}  // namespace

Result<FlagSyncStats> SyncFlags(Db& db, const std::string& run_id, SysSeconds now,
                                const std::vector<std::string>& fields,
                                const std::vector<FoundFlag>& found) {
  FlagSyncStats stats;
  if (fields.empty()) return stats;
  std::string in;
  for (const auto& f : fields) in += (in.empty() ? "" : ", ") + db.Literal(f);
  Status st = Guard("saving the validation flags", [&] {
    soci::transaction tx(db.sql());
    struct Open {
      long long id;
      std::string detail;
      bool seen = false;
    };
    std::map<std::string, Open> open;
    {
      soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
          "SELECT id, open_key, detail FROM {} WHERE open_key IS NOT NULL AND field IN ({})",
          db.State("flags"), in);
      for (const auto& r : rs) open.emplace(CellText(r, 1), Open{CellInt(r, 0), CellText(r, 2)});
    }
    const std::string ts = FormatSqlTime(now);
    std::set<std::string> done;
    std::vector<const FoundFlag*> fresh;
    std::vector<std::pair<long long, std::string>> new_detail;
    for (const auto& f : found) {
      std::string key = OpenKey(f.contact_id, f.field, f.code);
      if (!done.insert(key).second) continue;
      auto it = open.find(key);
      if (it == open.end()) {
        fresh.push_back(&f);
        continue;
      }
      it->second.seen = true;
      ++stats.kept;
      if (it->second.detail != f.detail) new_detail.emplace_back(it->second.id, f.detail);
    }
    // Clear first, so the bulk "seen" update below touches exactly the flags seen again.
    {
      long long id = 0;
      soci::statement clear =
          (db.sql().prepare << fmt::format("UPDATE {} SET cleared_at = :t, cleared_run = :r, "
                                           "open_key = NULL WHERE id = :id",
                                           db.State("flags")),
           soci::use(ts), soci::use(run_id), soci::use(id));
      for (const auto& [key, o] : open) {
        if (o.seen) continue;
        id = o.id;
        clear.execute(true);
        ++stats.cleared;
      }
    }
    if (stats.kept > 0) {
      db.sql() << fmt::format("UPDATE {} SET last_seen_run = :r, last_seen_at = :t WHERE open_key "
                              "IS NOT NULL AND field IN ({})",
                              db.State("flags"), in),
          soci::use(run_id), soci::use(ts);
    }
    {
      long long id = 0;
      std::string detail;
      soci::statement upd = (db.sql().prepare << fmt::format(
                                 "UPDATE {} SET detail = :d WHERE id = :id", db.State("flags")),
                             soci::use(detail), soci::use(id));
      for (const auto& [i, d] : new_detail) {
        id = i;
        detail = d;
        upd.execute(true);
      }
    }
    {
      std::string contact, field, code, detail, key;
      soci::statement ins =
          (db.sql().prepare << fmt::format(
               "INSERT INTO {} (contact_id, field, code, detail, open_key, first_seen_run, "
               "last_seen_run, opened_at, last_seen_at) VALUES (:c, :f, :code, :d, :k, :r1, :r2, "
               ":t1, :t2)",
               db.State("flags")),
           soci::use(contact), soci::use(field), soci::use(code), soci::use(detail),
           soci::use(key), soci::use(run_id), soci::use(run_id), soci::use(ts), soci::use(ts));
      for (const FoundFlag* f : fresh) {
        contact = f->contact_id;
        field = f->field;
        code = f->code;
        detail = f->detail;
        key = OpenKey(contact, field, code);
        ins.execute(true);
        ++stats.opened;
      }
    }
    tx.commit();
  });
  if (!st) return st.error();
  return stats;
}

Result<std::vector<FlagRow>> ListFlags(Db& db, bool open_only) {
  std::vector<FlagRow> out;
  Status st = Guard("reading the validation flags", [&] {
    soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
        "SELECT id, contact_id, field, code, detail, first_seen_run, last_seen_run, cleared_run, "
        "CAST(opened_at AS CHAR), CAST(last_seen_at AS CHAR), CAST(cleared_at AS CHAR) FROM {}{} "
        "ORDER BY id",
        db.State("flags"), open_only ? " WHERE open_key IS NOT NULL" : "");
    for (const auto& r : rs) {
      FlagRow f;
      f.id = CellInt(r, 0);
      f.contact_id = CellText(r, 1);
      f.field = CellText(r, 2);
      f.code = CellText(r, 3);
      f.detail = CellText(r, 4);
      f.first_seen_run = CellText(r, 5);
      f.last_seen_run = CellText(r, 6);
      f.cleared_run = CellText(r, 7);
      f.opened_at = CellText(r, 8);
      f.last_seen_at = CellText(r, 9);
      f.cleared_at = CellText(r, 10);
      out.push_back(std::move(f));
    }
  });
  if (!st) return st.error();
  return out;
}

Result<long long> ForgetFlags(Db& db, const std::string& contact_id) {
  long long n = 0;
  Status st = Guard("erasing the contact's validation flags", [&] {
    soci::statement del = (db.sql().prepare << fmt::format(
                               "DELETE FROM {} WHERE contact_id = :c", db.State("flags")),
                           soci::use(contact_id));
    del.execute(true);
    n = del.get_affected_rows();
  });
  if (!st) return st.error();
  return n;
}

}  // namespace crmh::crm
