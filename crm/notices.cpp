#include "crm/notices.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "crm/text_rows.h"

namespace crmh::crm {
namespace {

constexpr size_t kNoticesPerStatement = 500;

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

Result<std::vector<OpenNotice>> ListOpenNotices(Db& db, const std::string& job) {
  std::vector<OpenNotice> out;
  Status st = ForEachTextRow(
      db, "reading the open prune notices",
      fmt::format("SELECT id, contact_id, CAST(noticed_at AS CHAR), CAST(prune_after AS CHAR) "
                  "FROM {} WHERE job = :job AND status = 'open' ORDER BY id",
                  db.State("notices")),
      {{"job", job}}, [&](const TextRow& r) {
        OpenNotice& n = out.emplace_back();
        std::from_chars(r[0].data(), r[0].data() + r[0].size(), n.id);
        n.contact_id = r[1];
        if (auto t = ParseSqlTime(r[2])) n.noticed_at = *t;
        if (auto t = ParseSqlTime(r[3])) n.prune_after = *t;
      });
  if (!st) return st.error();
  return out;
}

Result<long long> OpenNotices(Db& db, const std::string& job, const std::string& run_id,
                              SysSeconds now, SysSeconds prune_after,
                              const std::vector<NewNotice>& notices) {
  auto open = ListOpenNotices(db, job);
  if (!open) return open.error();
  std::set<std::string> have;
  for (const auto& n : *open) have.insert(n.contact_id);
  long long opened = 0;
  const std::string now_s = FormatSqlTime(now), after_s = FormatSqlTime(prune_after);
  // One multi-row INSERT per kNoticesPerStatement notices: a statement per row was 41.5 s for
  // 200k notices at 1M contacts (a round trip each, inside one transaction).
  const std::string head = fmt::format(
      "INSERT INTO {} (job, contact_id, owner, reasons, last_activity, noticed_run, noticed_at, "
      "prune_after, status, open_key) VALUES ",
      db.State("notices"));
  const std::string fixed = fmt::format("{}, {}, {}", db.Literal(run_id), db.Literal(now_s),
                                        db.Literal(after_s));
  Status st = InTransaction(db, "recording prune notices", [&] {
    std::string sql;
    size_t in_stmt = 0;
    auto flush = [&] {
      if (in_stmt == 0) return;
      db.sql() << sql;
      sql.clear();
      in_stmt = 0;
    };
    for (const auto& n : notices) {
      if (!have.insert(n.contact_id).second) continue;
      sql += in_stmt == 0 ? head : std::string(", ");
      sql += fmt::format("({}, {}, {}, {}, {}, {}, 'open', {})", db.Literal(job),
                         db.Literal(n.contact_id), n.owner.empty() ? "NULL" : db.Literal(n.owner),
                         db.Literal(n.reasons.substr(0, 255)),
                         n.last_activity.empty() ? "NULL" : db.Literal(n.last_activity), fixed,
                         db.Literal(OpenKey(job, n.contact_id)));
      ++opened;
      if (++in_stmt == kNoticesPerStatement) flush();
    }
    flush();
  });
  if (!st) return st.error();
  return opened;
}

Result<long long> CloseNotices(Db& db, const std::vector<long long>& ids, const std::string& status,
                               const std::string& run_id, const std::string& by, SysSeconds now) {
  long long closed = 0;
  if (ids.empty()) return closed;
  const std::string now_s = FormatSqlTime(now);
  // Ids in lists of kNoticesPerStatement, one UPDATE each (was one per notice).
  Status st = InTransaction(db, "closing prune notices", [&] {
    for (size_t start = 0; start < ids.size(); start += kNoticesPerStatement) {
      std::string in;
      for (size_t i = start; i < std::min(ids.size(), start + kNoticesPerStatement); ++i) {
        in += (in.empty() ? "" : ", ") + std::to_string(ids[i]);
      }
      soci::statement s =
          (db.sql().prepare << fmt::format(
               "UPDATE {} SET status = :status, open_key = NULL, closed_at = :now, closed_run = "
               ":run, closed_by = :by WHERE id IN ({}) AND status = 'open'",
               db.State("notices"), in),
           soci::use(status), soci::use(now_s), soci::use(run_id), soci::use(by));
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
