#include "crm/checkpoints.h"

#include <fmt/format.h>

namespace crmh::crm {
namespace {

const char* kColumns =
    "run_id, job, status, last_key, sets_done, items_done, CAST(started_at AS CHAR), "
    "CAST(updated_at AS CHAR)";

Checkpoint FromRow(const soci::row& r) {
  return {CellText(r, 0), CellText(r, 1), CellText(r, 2), CellText(r, 3),
          CellInt(r, 4),  CellInt(r, 5),  CellText(r, 6), CellText(r, 7)};
}

}  // namespace

Status OpenCheckpoint(Db& db, const std::string& job, const std::string& run_id, SysSeconds now) {
  const std::string t = FormatSqlTime(now);
  return Guard("opening the run's checkpoint", [&] {
    db.sql() << fmt::format("INSERT INTO {} (run_id, job, status, sets_done, items_done, "
                            "started_at, updated_at) VALUES (:r, :j, 'running', 0, 0, :s, :u)",
                            db.State("checkpoints")),
        soci::use(run_id), soci::use(job), soci::use(t), soci::use(t);
  });
}

void AdvanceCheckpoint(Db& db, const std::string& run_id, const std::string& last_key,
                       long long items, SysSeconds now) {
  const std::string t = FormatSqlTime(now);
  soci::statement s =
      (db.sql().prepare << fmt::format("UPDATE {} SET sets_done = sets_done + 1, items_done = "
                                       "items_done + :n, last_key = :k, updated_at = :u WHERE "
                                       "run_id = :r",
                                       db.State("checkpoints")),
       soci::use(items), soci::use(last_key), soci::use(t), soci::use(run_id));
  s.execute(true);
  if (s.get_affected_rows() != 1) {
    throw std::runtime_error(fmt::format("the checkpoint of run {} is missing", run_id));
  }
}

Status CloseCheckpoint(Db& db, const std::string& run_id, const std::string& status,
                       SysSeconds now) {
  const std::string t = FormatSqlTime(now);
  return Guard("closing the run's checkpoint", [&] {
    db.sql() << fmt::format("UPDATE {} SET status = :s, updated_at = :u WHERE run_id = :r",
                            db.State("checkpoints")),
        soci::use(status), soci::use(t), soci::use(run_id);
  });
}

Result<std::vector<Checkpoint>> UnfinishedCheckpoints(Db& db, const std::string& job,
                                                      const std::string& except_run) {
  std::vector<Checkpoint> out;
  Status st = Guard("reading unfinished checkpoints", [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT {} FROM {} WHERE job = :j AND status IN "
                                         "('running', 'stopped') AND run_id <> :r ORDER BY "
                                         "started_at, run_id",
                                         kColumns, db.State("checkpoints")),
         soci::use(job), soci::use(except_run));
    for (const auto& r : rs) out.push_back(FromRow(r));
  });
  if (!st) return st.error();
  return out;
}

Status MarkResumed(Db& db, const std::vector<std::string>& runs, const std::string& run_id,
                   SysSeconds now) {
  const std::string t = FormatSqlTime(now);
  return Guard("marking checkpoints resumed", [&] {
    for (const auto& r : runs) {
      db.sql() << fmt::format("UPDATE {} SET status = 'resumed', resumed_by = :b, updated_at = :u "
                              "WHERE run_id = :r",
                              db.State("checkpoints")),
          soci::use(run_id), soci::use(t), soci::use(r);
    }
  });
}

Result<std::optional<Checkpoint>> ReadCheckpoint(Db& db, const std::string& run_id) {
  std::optional<Checkpoint> out;
  Status st = Guard("reading a checkpoint", [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT {} FROM {} WHERE run_id = :r", kColumns,
                                         db.State("checkpoints")),
         soci::use(run_id));
    for (const auto& r : rs) out = FromRow(r);
  });
  if (!st) return st.error();
  return out;
}

}  // namespace crmh::crm
