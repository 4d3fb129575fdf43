#include "crm/scores.h"

#include <fmt/format.h>

#include <cmath>

namespace crmh::crm {

namespace {
// Rows per multi-row INSERT of score_records: ~100 bytes each, far below MariaDB's
// max_allowed_packet and SQLite's statement length limit.
constexpr size_t kRecordsPerInsert = 500;
}  // namespace

std::vector<std::string> ScoreTablesV6(Db& db) {
  const StateDdl ddl = StateDdlFor(db);
  const char* ts = ddl.ts;
  const char* engine = ddl.engine;
  const std::string& prefix = db.state_config().table_prefix;
  return {
      // One completeness snapshot per (job, ISO week): the last audit run of the week wins.
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "job VARCHAR(64) NOT NULL,"
                  "week VARCHAR(10) NOT NULL,"
                  "owner VARCHAR(64) NOT NULL,"
                  "field VARCHAR(64) NOT NULL,"
                  "filled BIGINT NOT NULL,"
                  "total BIGINT NOT NULL,"
                  "run_id VARCHAR(64) NOT NULL,"
                  "taken_at {ts} NOT NULL,"
                  "PRIMARY KEY (job, week, owner, field)){engine}",
                  db.State("audit_weeks"), fmt::arg("ts", ts), fmt::arg("engine", engine)),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "job VARCHAR(64) NOT NULL,"
                  "week VARCHAR(10) NOT NULL,"
                  "run_id VARCHAR(64) NOT NULL,"
                  "scored_at {ts} NOT NULL,"
                  "PRIMARY KEY (job, week)){engine}",
                  db.State("score_weeks"), fmt::arg("ts", ts), fmt::arg("engine", engine)),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "job VARCHAR(64) NOT NULL,"
                  "week VARCHAR(10) NOT NULL,"
                  "owner VARCHAR(64) NOT NULL,"
                  "name VARCHAR(255) NULL,"
                  "score_centi BIGINT NOT NULL,"
                  "records BIGINT NOT NULL,"
                  "rank_no INTEGER NOT NULL,"
                  "delta_centi BIGINT NULL,"
                  "streak INTEGER NOT NULL,"
                  "components TEXT NOT NULL,"
                  "badges TEXT NOT NULL,"
                  "PRIMARY KEY (job, week, owner)){engine}",
                  db.State("scores"), fmt::arg("engine", engine)),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "job VARCHAR(64) NOT NULL,"
                  "week VARCHAR(10) NOT NULL,"
                  "contact_id VARCHAR(64) NOT NULL,"
                  "owner VARCHAR(64) NOT NULL,"
                  "completeness_ppm BIGINT NOT NULL,"
                  "flagged INTEGER NOT NULL,"
                  "PRIMARY KEY (job, week, contact_id)){engine}",
                  db.State("score_records"), fmt::arg("engine", engine)),
      fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (job, week)",
                  db.Q(prefix + "scores_job_week"), db.State("scores")),
  };
}

Status SaveAuditWeek(Db& db, const std::string& job, const std::string& week,
                     const std::string& run_id, SysSeconds taken_at,
                     const std::vector<AuditCell>& cells) {
  return Guard("saving the weekly audit snapshot", [&] {
    soci::transaction tx(db.sql());
    db.sql() << fmt::format("DELETE FROM {} WHERE job = :j AND week = :w", db.State("audit_weeks")),
        soci::use(job), soci::use(week);
    std::string owner, field;
    long long filled = 0, total = 0;
    const std::string taken = FormatSqlTime(taken_at);
    soci::statement ins =
        (db.sql().prepare << fmt::format("INSERT INTO {} (job, week, owner, field, filled, total, "
                                         "run_id, taken_at) VALUES (:j, :w, :o, :f, :fi, :t, :r, "
                                         ":ta)",
                                         db.State("audit_weeks")),
         soci::use(job), soci::use(week), soci::use(owner), soci::use(field), soci::use(filled),
         soci::use(total), soci::use(run_id), soci::use(taken));
    for (const auto& c : cells) {
      owner = c.owner;
      field = c.field;
      filled = c.filled;
      total = c.total;
      ins.execute(true);
    }
    tx.commit();
  });
}

namespace {

// The last `n` distinct weeks of `job` in `table` up to `up_to` (inclusive; "" = no bound).
std::vector<std::string> LastWeeks(Db& db, const std::string& table, const std::string& job, int n,
                                   const std::string& up_to) {
  std::vector<std::string> weeks;
  const std::string bound = up_to.empty() ? "9999-W99" : up_to;
  soci::rowset<soci::row> rs =
      (db.sql().prepare << fmt::format("SELECT DISTINCT week FROM {} WHERE job = :j AND week <= :w "
                                       "ORDER BY week DESC LIMIT {}",
                                       db.State(table), n),
       soci::use(job), soci::use(bound));
  for (const auto& r : rs) weeks.push_back(CellText(r, 0));
  return {weeks.rbegin(), weeks.rend()};
}

}  // namespace

Result<std::vector<AuditWeekCell>> AuditWeeks(Db& db, const std::string& job, int weeks,
                                              const std::string& up_to_week) {
  std::vector<AuditWeekCell> out;
  Status st = Guard("reading the weekly audit snapshots", [&] {
    for (const auto& w : LastWeeks(db, "audit_weeks", job, weeks, up_to_week)) {
      soci::rowset<soci::row> rs =
          (db.sql().prepare << fmt::format("SELECT owner, field, filled, total FROM {} WHERE job = "
                                           ":j AND week = :w ORDER BY owner, field",
                                           db.State("audit_weeks")),
           soci::use(job), soci::use(w));
      for (const auto& r : rs) {
        out.push_back({w, CellText(r, 0), CellText(r, 1), CellInt(r, 2), CellInt(r, 3)});
      }
    }
  });
  if (!st) return st.error();
  return out;
}

Status SaveScoreWeek(Db& db, const ScoreWeek& week, const std::vector<ScoreRow>& rows,
                     const std::vector<RecordQuality>& records) {
  // The predecessor's record qualities are what this week was compared against; older ones are
  // never read again.
  auto prev = PreviousScoreWeek(db, week.job, week.week);
  if (!prev) return prev.error();
  return Guard("saving the weekly scores", [&] {
    soci::transaction tx(db.sql());
    for (const char* t : {"score_weeks", "scores", "score_records"}) {
      db.sql() << fmt::format("DELETE FROM {} WHERE job = :j AND week = :w", db.State(t)),
          soci::use(week.job), soci::use(week.week);
    }
    const std::string keep = *prev ? (*prev)->week : week.week;
    db.sql() << fmt::format("DELETE FROM {} WHERE job = :j AND week < :w",
                            db.State("score_records")),
        soci::use(week.job), soci::use(keep);
    const std::string scored = FormatSqlTime(week.scored_at);
    db.sql() << fmt::format("INSERT INTO {} (job, week, run_id, scored_at) VALUES (:j, :w, :r, :s)",
                            db.State("score_weeks")),
        soci::use(week.job), soci::use(week.week), soci::use(week.run_id), soci::use(scored);
    {
      ScoreRow r;
      long long delta = 0;
      soci::indicator delta_ind = soci::i_null;
      soci::statement ins =
          (db.sql().prepare << fmt::format(
               "INSERT INTO {} (job, week, owner, name, score_centi, records, rank_no, "
               "delta_centi, streak, components, badges) VALUES (:j, :w, :o, :n, :s, :rec, :rk, "
               ":d, :st, :c, :b)",
               db.State("scores")),
           soci::use(week.job), soci::use(week.week), soci::use(r.owner), soci::use(r.name),
           soci::use(r.score_centi), soci::use(r.records), soci::use(r.rank),
           soci::use(delta, delta_ind), soci::use(r.streak), soci::use(r.components_json),
           soci::use(r.badges_json));
      for (const auto& row : rows) {
        r = row;
        delta = row.delta_centi.value_or(0);
        delta_ind = row.delta_centi ? soci::i_ok : soci::i_null;
        ins.execute(true);
      }
    }
    {
      // One multi-row INSERT per kRecordsPerInsert records: at 1M contacts a statement per row
      // is a million round trips inside the transaction (MariaDB), this is two thousand.
      const std::string head = fmt::format(
          "INSERT INTO {} (job, week, contact_id, owner, completeness_ppm, flagged) VALUES ",
          db.State("score_records"));
      const std::string key = db.Literal(week.job) + ", " + db.Literal(week.week);
      std::string sql;
      size_t in_stmt = 0;
      for (size_t i = 0; i < records.size(); ++i) {
        const auto& q = records[i];
        sql += in_stmt == 0 ? head : std::string(", ");
        sql += fmt::format("({}, {}, {}, {}, {})", key, db.Literal(q.contact_id),
                           db.Literal(q.owner), std::llround(q.completeness * 1e6),
                           q.flagged ? 1 : 0);
        if (++in_stmt == kRecordsPerInsert || i + 1 == records.size()) {
          db.sql() << sql;
          sql.clear();
          in_stmt = 0;
        }
      }
    }
    tx.commit();
  });
}

Result<std::optional<ScoreWeek>> PreviousScoreWeek(Db& db, const std::string& job,
                                                   const std::string& week) {
  std::optional<ScoreWeek> out;
  Status st = Guard("reading the previous scored week", [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT week, run_id, CAST(scored_at AS CHAR) FROM {} "
                                         "WHERE job = :j AND week < :w ORDER BY week DESC LIMIT 1",
                                         db.State("score_weeks")),
         soci::use(job), soci::use(week));
    for (const auto& r : rs) {
      ScoreWeek w;
      w.job = job;
      w.week = CellText(r, 0);
      w.run_id = CellText(r, 1);
      if (auto t = ParseSqlTime(CellText(r, 2))) w.scored_at = *t;
      out = w;
    }
  });
  if (!st) return st.error();
  return out;
}

Result<std::vector<RecordQuality>> LoadRecordQualities(Db& db, const std::string& job,
                                                       const std::string& week) {
  std::vector<RecordQuality> out;
  Status st = Guard("reading last week's record qualities", [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT contact_id, owner, completeness_ppm, flagged FROM "
                                         "{} WHERE job = :j AND week = :w",
                                         db.State("score_records")),
         soci::use(job), soci::use(week));
    for (const auto& r : rs) {
      out.push_back({CellText(r, 0), CellText(r, 1),
                     static_cast<double>(CellInt(r, 2)) / 1e6, CellInt(r, 3) != 0});
    }
  });
  if (!st) return st.error();
  return out;
}

Result<std::vector<ScoreRow>> LoadScores(Db& db, const std::string& job, const std::string& week) {
  std::vector<ScoreRow> out;
  Status st = Guard("reading the weekly scores", [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT owner, name, score_centi, records, rank_no, "
                                         "delta_centi, streak, components, badges FROM {} WHERE "
                                         "job = :j AND week = :w ORDER BY rank_no, owner",
                                         db.State("scores")),
         soci::use(job), soci::use(week));
    for (const auto& r : rs) {
      ScoreRow s;
      s.owner = CellText(r, 0);
      s.name = CellText(r, 1);
      s.score_centi = CellInt(r, 2);
      s.records = CellInt(r, 3);
      s.rank = static_cast<int>(CellInt(r, 4));
      if (r.get_indicator(5) != soci::i_null) s.delta_centi = CellInt(r, 5);
      s.streak = static_cast<int>(CellInt(r, 6));
      s.components_json = CellText(r, 7);
      s.badges_json = CellText(r, 8);
      out.push_back(std::move(s));
    }
  });
  if (!st) return st.error();
  return out;
}

Result<std::vector<ScoreHistoryRow>> ScoreHistory(Db& db, const std::string& job, int weeks,
                                                  const std::string& up_to_week) {
  std::vector<ScoreHistoryRow> out;
  Status st = Guard("reading the score history", [&] {
    for (const auto& w : LastWeeks(db, "score_weeks", job, weeks, up_to_week)) {
      soci::rowset<soci::row> rs =
          (db.sql().prepare << fmt::format("SELECT owner, score_centi, rank_no FROM {} WHERE job "
                                           "= :j AND week = :w ORDER BY owner",
                                           db.State("scores")),
           soci::use(job), soci::use(w));
      for (const auto& r : rs) {
        out.push_back({w, CellText(r, 0), CellInt(r, 1), static_cast<int>(CellInt(r, 2))});
      }
    }
  });
  if (!st) return st.error();
  return out;
}

}  // namespace crmh::crm
