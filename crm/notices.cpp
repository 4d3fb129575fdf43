#include "crm/notices.h"

#include <fmt/format.h>

#include <set>

namespace crmh::crm {
namespace {

std::string OpenKey(const std::string& job, const std::string& contact_id) {
  return job + "|" + contact_id;
}

void Begin(Db& db) { db.sql() << (db.mysql() ? "START TRANSACTION" : "BEGIN IMMEDIATE"); }

// Runs fn inside a transaction: committed if it returns, rolled back if it throws.
Status InTransaction(Db& db, std::string_view what, const std::function<void()>& fn) {
  return Guard(what, [&] {
    Begin(db);
    try {
      fn();
      db.sql() << "COMMIT";
    } catch (...) {
      try {
        db.sql() << "ROLLBACK";
      } catch (...) {
      }
      throw;
    }
  });
}

}  // namespace

Result<std::vector<NoticeRow>> ListNotices(Db& db, const std::string& job, bool open_only) {
  std::vector<NoticeRow> out;
  std::string where = " WHERE 1 = 1";
  if (!job.empty()) where += " AND job = :job";
  if (open_only) where += " AND status = 'open'";
  Status st = Guard("reading the prune notices", [&] {
    const std::string sql = fmt::format(
        "SELECT id, job, contact_id, owner, reasons, CAST(last_activity AS CHAR), noticed_run, "
        "CAST(noticed_at AS CHAR), CAST(prune_after AS CHAR), status, CAST(closed_at AS CHAR), "
        "closed_run, closed_by FROM {}{} ORDER BY id",
        db.State("notices"), where);
    auto read = [&](soci::rowset<soci::row>& rs) {
    for (const auto& r : rs) {
      NoticeRow n;
      n.id = CellInt(r, 0);
      n.job = CellText(r, 1);
      n.contact_id = CellText(r, 2);
      n.owner = CellText(r, 3);
      n.reasons = CellText(r, 4);
      n.last_activity = CellText(r, 5);
      n.noticed_run = CellText(r, 6);
      if (auto t = ParseSqlTime(CellText(r, 7))) n.noticed_at = *t;
      if (auto t = ParseSqlTime(CellText(r, 8))) n.prune_after = *t;
      n.status = CellText(r, 9);
      if (auto t = ParseSqlTime(CellText(r, 10))) n.closed_at = *t;
      n.closed_run = CellText(r, 11);
      n.closed_by = CellText(r, 12);
      out.push_back(std::move(n));
    }
    };
    if (job.empty()) {
      soci::rowset<soci::row> rs = db.sql().prepare << sql;
      read(rs);
    } else {
      soci::rowset<soci::row> rs = (db.sql().prepare << sql, soci::use(job));
      read(rs);
    }
  });
  if (!st) return st.error();
  return out;
}

Result<long long> OpenNotices(Db& db, const std::string& job, const std::string& run_id,
                              SysSeconds now, SysSeconds prune_after,
                              const std::vector<NewNotice>& notices) {
  auto open = ListNotices(db, job, /*open_only=*/true);
  if (!open) return open.error();
  std::set<std::string> have;
  for (const auto& n : *open) have.insert(n.contact_id);
  long long opened = 0;
  const std::string now_s = FormatSqlTime(now), after_s = FormatSqlTime(prune_after);
  Status st = InTransaction(db, "recording prune notices", [&] {
    std::string contact, owner, reasons, last, key;
    soci::indicator owner_ind = soci::i_ok, last_ind = soci::i_ok;
    soci::statement s =
        (db.sql().prepare << fmt::format(
             "INSERT INTO {} (job, contact_id, owner, reasons, last_activity, noticed_run, "
             "noticed_at, prune_after, status, open_key) VALUES (:job, :contact, :owner, "
             ":reasons, :last, :run, :now, :after, 'open', :key)",
             db.State("notices")),
         soci::use(job), soci::use(contact), soci::use(owner, owner_ind), soci::use(reasons),
         soci::use(last, last_ind), soci::use(run_id), soci::use(now_s), soci::use(after_s),
         soci::use(key));
    for (const auto& n : notices) {
      if (!have.insert(n.contact_id).second) continue;
      contact = n.contact_id;
      owner = n.owner;
      owner_ind = n.owner.empty() ? soci::i_null : soci::i_ok;
      reasons = n.reasons.substr(0, 255);
      last = n.last_activity;
      last_ind = n.last_activity.empty() ? soci::i_null : soci::i_ok;
      key = OpenKey(job, n.contact_id);
      s.execute(true);
      ++opened;
    }
  });
  if (!st) return st.error();
  return opened;
}

Result<long long> CloseNotices(Db& db, const std::vector<long long>& ids, const std::string& status,
                               const std::string& run_id, const std::string& by, SysSeconds now) {
  long long closed = 0;
  if (ids.empty()) return closed;
  const std::string now_s = FormatSqlTime(now);
  Status st = InTransaction(db, "closing prune notices", [&] {
    long long id = 0;
    soci::statement s =
        (db.sql().prepare << fmt::format(
             "UPDATE {} SET status = :status, open_key = NULL, closed_at = :now, closed_run = "
             ":run, closed_by = :by WHERE id = :id AND status = 'open'",
             db.State("notices")),
         soci::use(status), soci::use(now_s), soci::use(run_id), soci::use(by), soci::use(id));
    for (long long i : ids) {
      id = i;
      s.execute(true);
      closed += s.get_affected_rows();
    }
  });
  if (!st) return st.error();
  return closed;
}

Result<long long> RescueContact(Db& db, const std::string& contact_id, const std::string& by,
                                SysSeconds now) {
  long long n = 0;
  const std::string now_s = FormatSqlTime(now);
  Status st = InTransaction(db, "rescuing a contact", [&] {
    soci::statement s =
        (db.sql().prepare << fmt::format(
             "UPDATE {} SET status = 'rescued', open_key = NULL, closed_at = :now, closed_by = "
             ":by WHERE contact_id = :c AND status = 'open'",
             db.State("notices")),
         soci::use(now_s), soci::use(by), soci::use(contact_id));
    s.execute(true);
    n = s.get_affected_rows();
  });
  if (!st) return st.error();
  return n;
}

Result<std::vector<std::string>> RescuedSince(Db& db, const std::string& job, SysSeconds since) {
  std::vector<std::string> out;
  const std::string since_s = FormatSqlTime(since);
  Status st = Guard("reading rescued contacts", [&] {
    soci::rowset<std::string> rs =
        (db.sql().prepare << fmt::format("SELECT DISTINCT contact_id FROM {} WHERE job = :job AND "
                                         "status = 'rescued' AND closed_at >= :since",
                                         db.State("notices")),
         soci::use(job), soci::use(since_s));
    for (const auto& c : rs) out.push_back(c);
  });
  if (!st) return st.error();
  return out;
}

Result<long long> ForgetNotices(Db& db, const std::string& contact_id) {
  long long n = 0;
  Status st = Guard("erasing prune notices", [&] {
    soci::statement s = (db.sql().prepare << fmt::format("DELETE FROM {} WHERE contact_id = :c",
                                                         db.State("notices")),
                         soci::use(contact_id));
    s.execute(true);
    n = s.get_affected_rows();
  });
  if (!st) return st.error();
  return n;
}

}  // namespace crmh::crm
